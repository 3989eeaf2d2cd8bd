"""Trial log-likelihoods: flat trial arrays, a NumPy entry point and a PyTensor Op.

The likelihood of agent ``a`` for participant ``i`` is the product over their
non-missed trials of P(first-stage choice) × P(second-stage choice | state), with
the agent's values updated by the same per-trial numba functions the simulator
uses (:mod:`cogarb._kernels.hybrid_loglik`, :mod:`cogarb._kernels.arbitrator_loglik`).
On tasks without a second-stage choice (``stage2_choice`` false: Kool et al.
2016's novel task, Kool et al. 2017, Akam et al. 2015) only the agents of the
``"one_choice"`` family apply (``mf_one_choice``, ``mb_one_choice``,
``hybrid_one_choice``; :mod:`cogarb._kernels.one_choice_loglik`), and the
likelihood is the product of P(first-stage choice | first-stage state). Each
family refuses the other's data.

**Reward scaling.** The kernels use ``reward × reward_scale``. Points (Kool's
tasks: 0..9 in 2017, −4..+5 in 2016) would otherwise make β₁ depend on the
points' unit; ``reward_scale`` = 1/9 (2017) or 1/5 (2016) puts the largest payoff
at 1, as for Bernoulli rewards, so that the β₁ prior of :mod:`cogarb.hierarchical`
has the same meaning. The default is 1 (rewards as given).

Missed trials (the ``missed`` column of :func:`cogarb.validate_trials`) are kept in
the arrays and excluded explicitly by the kernels: no update and no likelihood
term.

:class:`CohortLoglik` is a PyTensor ``Op`` whose value and gradient come from one
kernel call (forward-mode sensitivities), registered with PyTensor's numba
backend so that nutpie compiles it into its logp function with no object-mode
fallback. Importing this module imports PyTensor but not PyMC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import (
    numba_njit,
    register_funcify_default_op_cache_key,
)

from cogarb._kernels import loglik as _loglik
from cogarb.agents import Agent, get_agent, kernel_parameter_order
from cogarb.data import MISSING_TOKENS, TrialDataError, cell_value, file_row, validate_trials
from cogarb.simulate import REWARD_PROB_COLUMNS

KINDS = {
    "hybrid": _loglik.HYBRID,
    "arbitrator": _loglik.ARBITRATOR,
    "one_choice": _loglik.ONE_CHOICE,
}
ONE_CHOICE_KIND = "one_choice"
PAYOFF_COLUMNS = ("reward_state0", "reward_state1")


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

    def __post_init__(self) -> None:
        if self.state1 is None:
            object.__setattr__(self, "state1", np.zeros(self.choice1.shape[0], np.int8))

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
    "state1", "reversed",
)  # fmt: skip
_DATA_DTYPES = ("int", "int", "int", "int", "float64", "int", "bool", "bool", "int", "bool")


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


def _check_supported_task(trials: pd.DataFrame, agent: Agent | None = None) -> bool:
    """Refuse data the agent's likelihood does not model (rather than misfit them).

    Returns whether the trials are of a task without a second-stage choice. With
    ``agent`` None, the family is inferred from the data.
    """
    two_choice = has_stage2_choice(trials)
    if agent is not None and agent.kernel == ONE_CHOICE_KIND and two_choice:
        raise ValueError(
            f"agent '{agent.name}' models tasks without a second-stage choice; these trials "
            "have one (stage2_choice true or absent): use 'mf', 'mb', 'hybrid', "
            "'hybrid_load' or 'arbitrator'"
        )
    if agent is not None and agent.kernel != ONE_CHOICE_KIND and not two_choice:
        raise ValueError(
            f"agent '{agent.name}' models a second-stage choice on every trial; these trials "
            "have none (stage2_choice false: Kool's novel task, Akam's task): use "
            "'mf_one_choice', 'mb_one_choice' or 'hybrid_one_choice'"
        )
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
    one_choice = _check_supported_task(trials, agent)
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
        rare = ~trials["missed"].to_numpy(bool) & ~trials["common"].fillna(True).to_numpy(bool)
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


def kernel_thetas(agent: Agent, values: Mapping, condition_parameter: str | None = None, xp=np):
    """Stack natural-scale parameter values into the kernel's parameter matrix.

    ``values[name]`` has shape (..., n_participants), or (..., n_participants, 2)
    for ``condition_parameter`` (its two condition levels: the first feeds the
    kernel's ``w_noload``, the second its ``w_load``). Fixed and shared kernel
    parameters are filled in. ``xp`` is ``numpy`` for arrays or
    ``pytensor.tensor`` for symbolic values. Returns (..., n_participants,
    n_kernel_parameters).
    """
    order = kernel_parameter_order(agent)
    if xp is np:
        values = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    missing = [n for n in agent.parameter_names if n not in values]
    if missing:
        raise ValueError(f"no value for parameter(s) {missing} of agent '{agent.name}'")
    reference = values[agent.parameter_names[0]]
    if agent.parameter_names[0] == condition_parameter:
        reference = reference[..., 0]
    columns = []
    for name in order:
        source = agent.shared.get(name, name)
        if source in agent.fixed or source not in values:
            columns.append(xp.full_like(reference, float(agent.fixed[name]), dtype="float64"))
            continue
        value = values[source]
        if source == condition_parameter:
            value = value[..., 1] if name == "w_load" else value[..., 0]
        columns.append(value)
    stacked = xp.stack(columns, axis=-1)
    return np.ascontiguousarray(stacked, dtype=float) if xp is np else stacked


def per_trial_loglik(agent: str | Agent, thetas: np.ndarray, data: TrialArrays) -> np.ndarray:
    """Per-trial log-likelihood ℓ_t for one or many parameter sets.

    Parameters
    ----------
    agent : agent name or :class:`~cogarb.agents.Agent`
    thetas : float64 (n_participants, P) or (n_draws, n_participants, P) kernel parameters
    data : :class:`TrialArrays`

    Returns
    -------
    numpy.ndarray, (n_trials,) or (n_draws, n_trials); 0 on missed trials.
    """
    agent = get_agent(agent)
    thetas = np.ascontiguousarray(thetas, dtype=float)
    single = thetas.ndim == 2
    if single:
        thetas = thetas[None]
    _check_thetas(agent, thetas[0], data)
    out = np.empty((thetas.shape[0], data.choice1.shape[0]))
    _loglik.loglik_draws(KINDS[agent.kernel], thetas, *data.kernel_data(), data.p_common, out)
    return out[0] if single else out


def loglik_and_grad(
    agent: str | Agent, thetas: np.ndarray, data: TrialArrays
) -> tuple[np.ndarray, np.ndarray]:
    """Per-participant log-likelihood and its gradient w.r.t. the kernel parameters.

    Returns (totals (n_participants,), grads (n_participants, P)).
    """
    agent = get_agent(agent)
    thetas = np.ascontiguousarray(thetas, dtype=float)
    _check_thetas(agent, thetas, data)
    loglik = np.empty(data.choice1.shape[0])
    totals = np.empty(thetas.shape[0])
    grads = np.empty_like(thetas)
    _loglik.loglik_cohort(
        KINDS[agent.kernel], thetas, *data.kernel_data(), data.p_common, loglik, totals,
        grads, True,
    )  # fmt: skip
    return totals, grads


def _check_thetas(agent: Agent, thetas: np.ndarray, data: TrialArrays) -> None:
    if (agent.kernel == ONE_CHOICE_KIND) != data.one_choice:
        raise ValueError(
            f"agent '{agent.name}' does not model these trials: "
            + (
                "they have no second-stage choice; use a *_one_choice agent"
                if data.one_choice
                else "they have a second-stage choice; use mf, mb, hybrid, hybrid_load or "
                "arbitrator"
            )
        )
    expected = (data.n_participants, len(kernel_parameter_order(agent)))
    if thetas.shape != expected:
        raise ValueError(
            f"parameter matrix has shape {thetas.shape}; agent '{agent.name}' on "
            f"{data.n_participants} participants needs {expected}"
        )


class CohortLoglik(Op):
    """PyTensor Op: kernel parameters (n, P) → per-participant log-likelihood (n,).

    Inputs: ``thetas`` and the flat trial arrays of :class:`TrialArrays` in
    ``DATA_FIELDS`` order (offsets, choice1, state2, choice2, reward, condition,
    new_states, missed, state1, reversed). Outputs:
    the per-participant log-likelihood and its gradient (n, P), both from one
    kernel call; :meth:`L_op` uses the second output, so a graph asking for the
    value and the gradient (as NUTS does) runs the kernel once.
    """

    __props__ = ("kind", "p_common")

    def __init__(self, kind: int, p_common: float):
        self.kind = int(kind)
        self.p_common = float(p_common)

    def make_node(self, thetas, *data):
        thetas = pt.as_tensor_variable(thetas, dtype="float64")
        if len(data) != len(_DATA_DTYPES):
            raise TypeError(
                f"CohortLoglik data must be {len(_DATA_DTYPES)} arrays ({', '.join(DATA_FIELDS)}), "
                f"got {len(data)}"
            )
        data = [pt.as_tensor_variable(x) for x in data]
        for x, kind in zip(data, _DATA_DTYPES, strict=True):
            if not x.dtype.startswith(kind) or x.ndim != 1:
                raise TypeError(f"CohortLoglik data must be 1-d {kind}, got {x.type}")
        outputs = [pt.dvector(), pt.dmatrix()]
        return Apply(self, [thetas, *data], outputs)

    def perform(self, node, inputs, output_storage):
        totals, grads = _cohort_loglik(self.kind, self.p_common, *inputs)
        output_storage[0][0] = totals
        output_storage[1][0] = grads

    def infer_shape(self, fgraph, node, input_shapes):
        n, p = input_shapes[0]
        return [(n,), (n, p)]

    def L_op(self, inputs, outputs, output_grads):
        g_totals, g_grads = output_grads
        if not isinstance(g_grads.type, DisconnectedType):
            raise NotImplementedError("second derivatives of CohortLoglik are not implemented")
        g_thetas = g_totals[:, None] * outputs[1]
        return [g_thetas] + [DisconnectedType()() for _ in inputs[1:]]

    def connection_pattern(self, node):
        return [[True, True]] + [[False, False] for _ in node.inputs[1:]]


def _cohort_loglik(
    kind, p_common, thetas, offsets, c1, s2, c2, reward, condition, ns, missed, s1, rev
):  # fmt: skip
    thetas = np.ascontiguousarray(thetas)
    loglik = np.empty(c1.shape[0])
    totals = np.empty(thetas.shape[0])
    grads = np.empty_like(thetas)
    _loglik.loglik_cohort(
        kind, thetas, offsets, c1, s2, c2, reward, condition, ns, missed, s1, rev, p_common,
        loglik, totals, grads, True,
    )  # fmt: skip
    return totals, grads


def _kernel_sources() -> list[Path]:
    return [*sorted(Path(_loglik.__file__).parent.glob("*.py")), Path(__file__)]


def _source_salt(paths) -> int:
    """A hash of the files' bytes, as an integer cache-key salt."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return int.from_bytes(digest.digest()[:7], "little")


# PyTensor caches a compiled graph on disk under a key made of each Op's props; numba
# does not notice that a kernel called from it has changed. Without this salt, a graph
# compiled before a kernel edit kept running the old kernel (measured: nutpie sampled
# with the kernel from before the 2.4x gradient speed-up, 4.8 instead of 1.7 ms per
# gradient on 200 Gillan participants).
_KERNEL_SOURCE_SALT = _source_salt(_kernel_sources())


@register_funcify_default_op_cache_key(CohortLoglik)
def _numba_funcify_cohort_loglik(op, node=None, **kwargs):
    kind, p_common = op.kind, op.p_common
    kernel = _loglik.loglik_cohort

    @numba_njit
    def cohort_loglik(thetas, offsets, c1, s2, c2, reward, condition, ns, missed, s1, rev):
        thetas = np.ascontiguousarray(thetas)
        loglik = np.empty(c1.shape[0])
        totals = np.empty(thetas.shape[0])
        grads = np.empty_like(thetas)
        kernel(
            kind, thetas, offsets, c1, s2, c2, reward, condition, ns, missed, s1, rev,
            p_common, loglik, totals, grads, True,
        )  # fmt: skip
        return totals, grads

    return cohort_loglik, _KERNEL_SOURCE_SALT  # an edited kernel is recompiled


def cohort_loglik_op(agent: str | Agent, p_common: float) -> CohortLoglik:
    """The :class:`CohortLoglik` Op for an agent's kernel family."""
    return CohortLoglik(KINDS[get_agent(agent).kernel], p_common)
