"""Trial tables flattened for the likelihood kernels: :class:`TrialArrays`.

:func:`trial_arrays` turns a validated trial table into flat per-trial arrays,
participant ``i`` at ``offsets[i]:offsets[i+1]``, with the per-trial condition
level that switches the kernel's second weight, the task's events and reversals,
and what posterior predictive simulation needs (reward probabilities, payoffs).
Missed trials stay in the arrays: ``missed`` is the schema's column (any
response missing), ``stage2_missed`` marks the *half-missed* trials among them
(first-stage choice and transition observed, second stage not), which keep their
first-stage term in the likelihood; the kernels skip the others. This module imports
NumPy and pandas only; the PyTensor Op that consumes the arrays is in
:mod:`cogarb.likelihood`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cogarb.agents import Agent, check_suits, get_agent
from cogarb.schema import (
    MISSING_TOKENS,
    PAYOFF_COLUMNS,
    REWARD_PROB_COLUMNS,
    TrialDataError,
    cell_value,
    file_row,
    validate_trials,
)


@dataclass(frozen=True)
class TrialArrays:
    """One cohort's trials as flat arrays, participant ``i`` at ``offsets[i]:offsets[i+1]``.

    Attributes
    ----------
    participants : tuple of str
        Participant ids, in the order of the offsets.
    offsets : int64 (n_participants + 1,)
    choice1, state2, choice2 : int8 (n_trials,), 0 where missed (``choice2`` all 0
        on tasks without a second-stage choice)
    reward : float64 (n_trials,), 0 where missed, in the data's units
        (:meth:`kernel_data` multiplies it by ``reward_scale``)
    condition : int8 (n_trials,)
        Per-trial level (0/1) of the column that switches the kernel's ``w_load`` on:
        ``load`` for ``hybrid_load`` and the arbitrator, the conditioning column
        for a condition effect on ``w``, else 0.
    new_states, missed, reversed : bool (n_trials,)
        ``missed`` is the schema's column (:func:`cogarb.validate_trials`): a
        first- or second-stage response is missing.
    p_common : float
    reward_prob : float64 (n_trials, 2, 2) or None
        P(reward | state, action) per trial, when the data carry ``p_reward_*``.
    trial : int64 (n_trials,), the trial numbers
    state1 : int8 (n_trials,)
        First-stage state (0 when the data have no ``state1`` column, or missed).
    one_choice : bool
        The trials have no second-stage choice (``stage2_choice`` false).
    reward_scale : float
        Factor applied to the rewards (see the module docstring).
    payoff : float64 (n_trials, 2) or None
        Tasks without a second-stage choice: per second-stage state, the reward
        (``reward_state0``/``reward_state1`` columns, unscaled) or the reward
        probability (``p_reward_<s>0``, equal to ``p_reward_<s>1``), for posterior
        predictive simulation; ``None`` when the data do not carry them.
    bernoulli : bool
        Whether ``payoff`` holds reward probabilities (else rewards).
    stage2_missed : bool (n_trials,)
        The half-missed trials: ``missed`` but with ``choice1`` and ``state2``
        observed (the second-stage choice, or on tasks without one the reward,
        missing). They contribute log P(choice1) to the likelihood; see
        :mod:`cogarb._kernels.hybrid_loglik`. Default: none.
    """

    participants: tuple[str, ...]
    offsets: np.ndarray
    choice1: np.ndarray
    state2: np.ndarray
    choice2: np.ndarray
    reward: np.ndarray
    condition: np.ndarray
    new_states: np.ndarray
    missed: np.ndarray
    reversed: np.ndarray
    p_common: float
    reward_prob: np.ndarray | None
    trial: np.ndarray
    state1: np.ndarray | None = None
    one_choice: bool = False
    reward_scale: float = 1.0
    payoff: np.ndarray | None = None
    bernoulli: bool = False
    stage2_missed: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.state1 is None:
            object.__setattr__(self, "state1", np.zeros(self.choice1.shape[0], np.int8))
        if self.stage2_missed is None:
            object.__setattr__(self, "stage2_missed", np.zeros(self.choice1.shape[0], bool))

    @property
    def observed(self) -> np.ndarray:
        """bool (n_trials,): the trials with a likelihood term (first-stage choice made).

        Every trial but the fully missed ones: ``~missed | stage2_missed``. These are
        the trials of a fit's ``obs`` dimension (``log_likelihood``,
        ``observed_data``, ``posterior_predictive``).
        """
        return ~self.missed | self.stage2_missed

    @property
    def n_participants(self) -> int:
        return len(self.participants)

    @property
    def participant_index(self) -> np.ndarray:
        """int64 (n_trials,): the participant of each trial."""
        return np.repeat(np.arange(self.n_participants), np.diff(self.offsets))

    def kernel_data(self) -> tuple[np.ndarray, ...]:
        """The per-trial arrays in the kernels' argument order (``DATA_FIELDS``), the
        rewards multiplied by ``reward_scale``."""
        return tuple(
            self.reward * self.reward_scale if name == "reward" else getattr(self, name)
            for name in DATA_FIELDS
        )


# TrialArrays fields passed to the likelihood kernels and the Op, in order.
DATA_FIELDS = (
    "offsets", "choice1", "state2", "choice2", "reward", "condition", "new_states", "missed",
    "stage2_missed", "state1", "reversed",
)  # fmt: skip
# their dtypes (kinds), as the Op checks them
DATA_DTYPES = (
    "int", "int", "int", "int", "float64", "int", "bool", "bool", "bool", "int", "bool",
)  # fmt: skip


def binary_levels(trials: pd.DataFrame, column: str, source: str | None = None) -> list:
    """The two levels of a condition column, sorted; the first is the reference.

    Parameters
    ----------
    trials : pandas.DataFrame
        Validated trials (:func:`cogarb.validate_trials`).
    column : str
        The condition column (``load``, ``stakes`` or any two-level column).
    source : str, optional
        The file the trials came from, named in errors (default: the one
        :func:`cogarb.read_trials` recorded in ``trials.attrs["source"]``).

    Returns
    -------
    list
        The two levels in sort order (numbers by value, text alphabetically).

    Raises
    ------
    ValueError
        When the column is not in the trials.
    TrialDataError
        For a missing value (empty or an NA spelling) on some trial, or a column
        with one level or more than two, naming the column and the row and value
        found.
    """
    if column not in trials.columns:
        raise ValueError(
            f"condition column '{column}' is not in the trials "
            f"(columns: {', '.join(map(str, trials.columns))})"
        )
    source = source or trials.attrs.get("source", "trials")
    values = trials[column]
    missing = values.isna().to_numpy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values.astype(str).str.strip().str.lower()
        missing = missing | text.isin(MISSING_TOKENS).to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise TrialDataError(
            source, file_row(trials, i), column, cell_value(values, i),
            "is missing: a condition column needs one of its two levels on every trial",
        )  # fmt: skip
    found = [_item(v) for v in pd.unique(values)]
    if len(found) == 1:
        raise TrialDataError(
            source, None, column, None,
            f"has one level only ({found[0]!r} on all {len(values)} trials): a condition "
            "effect needs exactly two levels",
        )  # fmt: skip
    if len(found) > 2:
        i = int(np.flatnonzero(~values.isin(found[:2]).to_numpy())[0])
        shown = ", ".join(map(repr, found[:6])) + (", ..." if len(found) > 6 else "")
        raise TrialDataError(
            source, file_row(trials, i), column, cell_value(values, i),
            f"is a third level: the column has {len(found)} levels ({shown}) and a "
            "condition effect needs exactly two levels",
        )  # fmt: skip
    try:
        return sorted(found)
    except TypeError:  # mixed types (a number and a text): sort as text
        return sorted(found, key=str)


def _item(value):
    return value.item() if isinstance(value, np.generic) else value


def _condition_codes(trials: pd.DataFrame, column: str, levels: list) -> np.ndarray:
    """0/1 per trial: whether the condition column is at its second level."""
    return (trials[column] == levels[1]).to_numpy(dtype=bool, na_value=False).astype(np.int8)


def _check_load_levels(trials: pd.DataFrame, agent: Agent) -> None:
    """An agent with one weight per load level (``hybrid_load``) needs trials at both."""
    if "load" not in trials.columns:
        raise ValueError(
            f"agent '{agent.name}' needs a 'load' column in the trials (0/1 or single/dual "
            "on every trial)"
        )
    found = sorted(pd.unique(_load_codes(trials)).tolist())
    if len(found) < 2:
        raise TrialDataError(
            trials.attrs.get("source", "trials"), None, "load", None,
            f"has one level only ({found[0]} on all {len(trials)} trials): agent "
            f"'{agent.name}' fits w_noload and w_load, one weight per load level, and needs "
            "trials at both levels",
        )  # fmt: skip


def _load_codes(trials: pd.DataFrame) -> np.ndarray:
    """The validated ``load`` column (Int8 0/1, no missing value) as int8."""
    load = trials["load"]
    values = load.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrialDataError(
            trials.attrs.get("source", "trials"), file_row(trials, i), "load",
            cell_value(load, i),
            "is not 0 or 1: pass the trials through cogarb.validate_trials first",
        )  # fmt: skip
    return values.astype(np.int8)


def has_stage2_choice(trials: pd.DataFrame) -> bool:
    """Whether the trials have a second-stage choice (``stage2_choice`` true or absent).

    Raises ``ValueError`` for a mixture of trials with and without one.
    """
    if "stage2_choice" not in trials.columns:
        return True
    flags = trials["stage2_choice"].fillna(True).to_numpy(bool)
    if flags.all():
        return True
    if not flags.any():
        return False
    raise ValueError(
        "the trials mix tasks with and without a second-stage choice (stage2_choice true "
        "on some, false on others); fit them separately"
    )


def check_supported_trials(trials: pd.DataFrame, agent: Agent | None = None) -> bool:
    """Refuse data the agent's likelihood does not model (rather than misfit them).

    Returns whether the trials are of a task without a second-stage choice. With
    ``agent`` None, the family is inferred from the data.
    """
    two_choice = has_stage2_choice(trials)
    if agent is not None:
        check_suits(agent, two_choice, "these trials have")
    if two_choice and "state1" in trials.columns and trials["state1"].nunique(dropna=True) > 1:
        raise ValueError(
            "the two-choice likelihood models one first-stage state; these trials have two "
            "(state1) and a second-stage choice, which no agent models"
        )
    return not two_choice


def trial_arrays(
    trials: pd.DataFrame,
    condition: str | None = None,
    p_common: float = 0.7,
    validated: bool = False,
    agent: str | Agent | None = None,
    reward_scale: float = 1.0,
) -> TrialArrays:
    """Flatten a trial table for the likelihood kernels.

    Parameters
    ----------
    trials : DataFrame in the tidy schema (validated here unless ``validated``)
    condition : str, optional
        Two-level column selecting the kernel's second weight (``w_load``) on the
        trials at its second level; without it, ``load`` is used when present.
    p_common : float
        Instructed probability of the common transition: in (0, 1), or in (0, 1]
        for tasks without a second-stage choice (1: deterministic transitions, as in
        Kool's tasks).
    validated : bool
        Skip validation when the caller already ran :func:`validate_trials`.
    agent : str or Agent, optional
        The agent to be fitted: its family must match the data (a
        ``*_one_choice`` agent for trials without a second-stage choice, another
        agent otherwise). Without it, the family follows the data.
    reward_scale : float
        Positive factor applied to the rewards (see the module docstring).
    """
    if not validated:
        trials = validate_trials(trials)
    elif "missed" not in trials.columns:
        raise ValueError(
            "trials passed with validated=True have no 'missed' column: pass them through "
            "cogarb.validate_trials first"
        )
    agent = None if agent is None else get_agent(agent)
    one_choice = check_supported_trials(trials, agent)
    if agent is not None and condition is None and "w_load" in agent.parameter_names:
        _check_load_levels(trials, agent)
    if one_choice:
        if not 0.0 < p_common <= 1.0:
            raise ValueError(f"p_common must lie in (0, 1], got {p_common!r}")
    elif not 0.0 < p_common < 1.0:
        raise ValueError(f"p_common must lie in (0, 1), got {p_common!r}")
    if isinstance(reward_scale, bool) or not (
        isinstance(reward_scale, int | float) and np.isfinite(reward_scale) and reward_scale > 0
    ):
        raise ValueError(f"reward_scale must be a positive number, got {reward_scale!r}")
    if one_choice and p_common == 1.0:
        made = trials["choice1"].notna().to_numpy(bool)  # a transition was made
        rare = made & ~trials["common"].fillna(True).to_numpy(bool)
        if rare.any():
            row = int(np.flatnonzero(rare)[0]) + 1
            raise ValueError(
                f"p_common = 1 (deterministic transitions) but row {row} has a rare "
                "transition (common false); give the task's p_common"
            )
    trials = trials.sort_values(["participant", "trial"], kind="stable")
    participant = trials["participant"].astype(str).to_numpy()
    starts = np.flatnonzero(np.r_[True, participant[1:] != participant[:-1]])
    offsets = np.r_[starts, len(trials)].astype(np.int64)
    missed = trials["missed"].to_numpy(bool)
    # half-missed: the schema forbids a state2 without choice1 and a choice1 without
    # state2, so a missed trial with a first-stage choice has its transition too
    stage2_missed = missed & trials["choice1"].notna().to_numpy(bool)

    def codes(column: str) -> np.ndarray:
        return trials[column].fillna(0).to_numpy(np.int8)

    if condition is not None:
        level = _condition_codes(trials, condition, binary_levels(trials, condition))
    elif "load" in trials.columns:
        level = _load_codes(trials)
    else:
        level = np.zeros(len(trials), np.int8)
    if "event" in trials.columns:
        new_states = (trials["event"].astype("string") == "new_states").fillna(False)
        new_states = new_states.to_numpy(bool)
    else:
        new_states = np.zeros(len(trials), bool)
    if "transitions_reversed" in trials.columns:
        reversed_ = trials["transitions_reversed"].fillna(False).to_numpy(bool)
    else:
        reversed_ = np.zeros(len(trials), bool)
    reward_prob = None
    if all(c in trials.columns for c in REWARD_PROB_COLUMNS):
        probs = trials[list(REWARD_PROB_COLUMNS)].to_numpy(float)
        if np.isfinite(probs).all():
            reward_prob = np.ascontiguousarray(probs.reshape(-1, 2, 2))
    payoff, bernoulli = None, False
    if one_choice:
        payoff, bernoulli = _payoffs(trials, reward_prob)
    state1 = codes("state1") if "state1" in trials.columns else np.zeros(len(trials), np.int8)
    return TrialArrays(
        participants=tuple(participant[starts]),
        offsets=offsets,
        choice1=codes("choice1"),
        state2=codes("state2"),
        choice2=codes("choice2"),
        reward=trials["reward"].fillna(0.0).to_numpy(float),
        condition=level,
        new_states=new_states,
        missed=missed,
        reversed=reversed_,
        p_common=float(p_common),
        reward_prob=reward_prob,
        trial=trials["trial"].to_numpy(np.int64),
        state1=state1,
        one_choice=one_choice,
        reward_scale=float(reward_scale),
        payoff=payoff,
        bernoulli=bernoulli,
        stage2_missed=stage2_missed,
    )


def _payoffs(trials: pd.DataFrame, reward_prob):
    """Per-trial payoff of each second-stage state of a task without a second-stage
    choice: (payoff (n_trials, 2) or None, bernoulli)."""
    if all(c in trials.columns for c in PAYOFF_COLUMNS):
        values = trials[list(PAYOFF_COLUMNS)].to_numpy(float)
        if np.isfinite(values).all():
            return np.ascontiguousarray(values), False
    if reward_prob is not None and np.array_equal(reward_prob[:, :, 0], reward_prob[:, :, 1]):
        return np.ascontiguousarray(reward_prob[:, :, 0]), True
    return None, False
