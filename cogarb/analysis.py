"""Stay behaviour: stay probabilities and the stay regression.

A *pair* is two consecutive trials ``t-1, t`` of one participant (trial numbers
differing by one) where both first-stage choices were made and trial ``t-1`` has
a reward and a transition. The participant *stays* when ``choice1[t] ==
choice1[t-1]``. Pairs are classified by the previous reward (rewarded /
unrewarded) and the previous transition (common / rare). A missed trial breaks
its pairs; it is never bridged over.

Rewards are coded *rewarded* when ``reward == 1`` for 0/1 rewards; for point
rewards, when the reward exceeds the participant's mean reward.

Condition columns (``load``, ``stakes``, ``condition``) present in the trials
split every table; a pair takes the condition of its current trial ``t``, the
trial whose choice it describes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONDITION_COLUMNS = ("load", "stakes", "condition")
TERMS = ("intercept", "reward", "transition", "reward:transition")
_CELLS = [("rewarded", "common"), ("rewarded", "rare"), ("unrewarded", "common"),
          ("unrewarded", "rare")]  # fmt: skip
# Contrast of each coefficient over the cells' log-odds, in _CELLS order, with
# reward and transition coded +1 (rewarded, common) / -1 (unrewarded, rare).
_CONTRASTS = np.array([
    [1, 1, 1, 1],      # intercept
    [1, 1, -1, -1],    # reward
    [1, -1, 1, -1],    # transition
    [1, -1, -1, 1],    # reward:transition
]) / 4.0  # fmt: skip


def _conditions(trials: pd.DataFrame, by) -> list[str]:
    if by == "auto":
        return [c for c in CONDITION_COLUMNS if c in trials.columns]
    by = [by] if isinstance(by, str) else list(by or [])
    for c in by:
        if c not in trials.columns:
            raise KeyError(f"condition column '{c}' not in trials")
    return by


def stay_pairs(trials: pd.DataFrame, by: str | list[str] | None = "auto") -> pd.DataFrame:
    """One row per pair of consecutive trials (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Columns ``participant``, the condition columns, ``trial`` (the current
        trial), ``previous_reward`` ("rewarded"/"unrewarded"), ``transition``
        ("common"/"rare") and ``stay`` (bool).
    """
    conditions = _conditions(trials, by)
    t = trials.sort_values(["participant", "trial"], kind="stable")
    pid = t["participant"].to_numpy()
    trial = t["trial"].to_numpy()
    choice1 = t["choice1"].to_numpy(dtype=float, na_value=np.nan)
    reward = t["reward"].to_numpy(dtype=float, na_value=np.nan)
    common = t["common"].to_numpy(dtype=float, na_value=np.nan)
    rewarded = _rewarded(t["participant"], reward)

    prev, cur = np.arange(len(t) - 1), np.arange(1, len(t))
    ok = (
        (pid[prev] == pid[cur])
        & (trial[cur] - trial[prev] == 1)
        & ~np.isnan(choice1[prev])
        & ~np.isnan(choice1[cur])
        & ~np.isnan(reward[prev])
        & ~np.isnan(common[prev])
    )
    prev, cur = prev[ok], cur[ok]
    pairs = pd.DataFrame(
        {
            "participant": t["participant"].to_numpy()[cur],
            **{c: t[c].to_numpy()[cur] for c in conditions},
            "trial": trial[cur],
            "previous_reward": np.where(rewarded[prev], "rewarded", "unrewarded"),
            "transition": np.where(common[prev] == 1, "common", "rare"),
            "stay": choice1[cur] == choice1[prev],
        }
    )
    if isinstance(trials["participant"].dtype, pd.CategoricalDtype):
        pairs["participant"] = pd.Categorical(
            pairs["participant"], categories=trials["participant"].cat.categories
        )
    return pairs


def _rewarded(participant: pd.Series, reward: np.ndarray) -> np.ndarray:
    valid = reward[~np.isnan(reward)]
    if np.isin(valid, (0.0, 1.0)).all():
        return reward == 1.0
    mean = pd.Series(reward).groupby(participant.to_numpy()).transform("mean").to_numpy()
    return reward > mean


def _cell_counts(pairs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return (
        pairs.groupby([*keys, "previous_reward", "transition"], observed=True, dropna=False)["stay"]
        .agg(n_pairs="size", n_stay="sum")
        .reset_index()
    )


def _t_interval(values: pd.Series) -> pd.Series:
    x = values.dropna().to_numpy(dtype=float)
    n = len(x)
    mean = x.mean() if n else np.nan
    half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
    return pd.Series(
        {"n_participants": n, "mean": mean, "ci_low": mean - half, "ci_high": mean + half}
    )


@dataclass(frozen=True)
class StayProbabilities:
    """Stay probabilities by previous reward × transition.

    Attributes
    ----------
    participants : pandas.DataFrame
        Per participant and cell: ``n_pairs``, ``n_stay``, ``p_stay``.
    group : pandas.DataFrame
        Per cell: ``n_participants``, ``mean`` of the participants' ``p_stay`` and
        its 95% t-interval ``ci_low``, ``ci_high``.
    conditions : tuple of str
        Condition columns that split the tables.
    """

    participants: pd.DataFrame
    group: pd.DataFrame
    conditions: tuple[str, ...]

    def __str__(self) -> str:
        table = self.group.copy()
        table["95% CI"] = [
            f"[{lo:.3f}, {hi:.3f}]"
            for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
        ]
        table = table.drop(columns=["ci_low", "ci_high"]).rename(columns={"mean": "P(stay)"})
        return table.to_string(index=False, float_format=lambda x: f"{x:.3f}")


def stay_probabilities(
    trials: pd.DataFrame, by: str | list[str] | None = "auto"
) -> StayProbabilities:
    """P(stay) after rewarded/unrewarded × common/rare trials.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trials in the tidy schema (see :mod:`cogarb.data`).
    by : "auto", str, list of str or None
        Condition columns to split by; ``"auto"`` uses those of ``load``,
        ``stakes``, ``condition`` that are present.

    Returns
    -------
    StayProbabilities
        Per-participant and group tables; the group mean is the mean over
        participants of their stay probabilities, with a 95% t-interval.
    """
    conditions = _conditions(trials, by)
    pairs = stay_pairs(trials, conditions)
    per = _cell_counts(pairs, ["participant", *conditions])
    per["p_stay"] = per["n_stay"] / per["n_pairs"]
    group = (
        per.groupby([*conditions, "previous_reward", "transition"], observed=True, dropna=False)[
            "p_stay"
        ]
        .apply(_t_interval)
        .unstack()
        .reset_index()
    )
    group["n_participants"] = group["n_participants"].astype(int)
    return StayProbabilities(per, group, tuple(conditions))


@dataclass(frozen=True)
class StayRegression:
    """Logistic regression of stay on previous reward × transition.

    Attributes
    ----------
    participants : pandas.DataFrame
        One row per participant (and condition): the four coefficients
        (``intercept``, ``reward``, ``transition``, ``reward:transition``).
    group : pandas.DataFrame
        Per term: mean of the participants' coefficients and its 95% t-interval
        (the summary-statistics approach to random effects).
    pooled : pandas.DataFrame
        Per term: the coefficient fitted to all pairs pooled, its standard
        error, z and 95% interval (fixed effect; ignores between-participant
        variation).
    conditions : tuple of str
    """

    participants: pd.DataFrame
    group: pd.DataFrame
    pooled: pd.DataFrame
    conditions: tuple[str, ...]

    def __str__(self) -> str:
        return self.pooled.to_string(index=False, float_format=lambda x: f"{x:.3f}")


def _coefficients(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Saturated-model coefficients and standard errors from cell counts."""
    wide = counts.pivot_table(
        index=keys,
        columns=["previous_reward", "transition"],
        values=["n_pairs", "n_stay"],
        observed=True,
        dropna=False,
    )
    n = np.stack(
        [wide["n_pairs"].get(c, pd.Series(np.nan, wide.index)).to_numpy(float) for c in _CELLS],
        axis=1,
    )
    s = np.stack(
        [wide["n_stay"].get(c, pd.Series(np.nan, wide.index)).to_numpy(float) for c in _CELLS],
        axis=1,
    )
    n = np.nan_to_num(n)
    s = np.nan_to_num(s)
    empty = (n == 0).any(axis=1)
    # Empirical log-odds with a 0.5 continuity correction (Haldane-Anscombe)
    logit = np.log(s + 0.5) - np.log(n - s + 0.5)
    var = 1.0 / (s + 0.5) + 1.0 / (n - s + 0.5)
    coef = logit @ _CONTRASTS.T
    se = np.sqrt(var @ (_CONTRASTS.T**2))
    coef[empty] = np.nan
    se[empty] = np.nan
    out = wide.index.to_frame(index=False)
    for k, term in enumerate(TERMS):
        out[term] = coef[:, k]
        out[f"se_{term}"] = se[:, k]
    return out


def stay_regression(trials: pd.DataFrame, by: str | list[str] | None = "auto") -> StayRegression:
    """Logistic regression ``stay ~ reward * transition`` per participant and pooled.

    Reward is coded +1 rewarded / -1 unrewarded and transition +1 common / -1 rare
    (Daw et al. 2011; Gillan et al. 2016). With two binary predictors and their
    interaction the model is saturated, so its maximum-likelihood coefficients are
    linear contrasts of the four cells' log-odds of staying::

        intercept         = (L_rc + L_rr + L_uc + L_ur) / 4
        reward            = (L_rc + L_rr - L_uc - L_ur) / 4
        transition        = (L_rc - L_rr + L_uc - L_ur) / 4
        reward:transition = (L_rc - L_rr - L_uc + L_ur) / 4

    (r/u rewarded/unrewarded, c/r common/rare). We compute them in closed form
    with 0.5 added to stay and switch counts of every cell, which keeps the
    coefficients of participants who always stay (or switch) in a cell finite;
    standard errors are the delta-method ones, ``sqrt(sum_cells (1/(s+.5) +
    1/(n-s+.5)) / 16)``. A participant with an empty cell gets NaN coefficients.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trials in the tidy schema.
    by : "auto", str, list of str or None
        Condition columns to split by (see :func:`stay_probabilities`).

    Returns
    -------
    StayRegression
    """
    conditions = _conditions(trials, by)
    pairs = stay_pairs(trials, conditions)
    per = _coefficients(
        _cell_counts(pairs, ["participant", *conditions]), ["participant", *conditions]
    )
    rows = []
    for key, frame in per.groupby(conditions, dropna=False) if conditions else [((), per)]:
        key = key if isinstance(key, tuple) else (key,)
        for term in TERMS:
            rows.append(
                {
                    **dict(zip(conditions, key, strict=True)),
                    "term": term,
                    **_t_interval(frame[term]).to_dict(),
                }
            )
    group = pd.DataFrame(rows)
    group["n_participants"] = group["n_participants"].astype(int)

    pairs = pairs.assign(_all="all")
    keys = [*conditions] if conditions else ["_all"]
    pooled_wide = _coefficients(_cell_counts(pairs, keys), keys)
    rows = []
    for row in pooled_wide.to_dict("records"):
        for term in TERMS:
            est, se = row[term], row[f"se_{term}"]
            rows.append(
                {
                    **{c: row[c] for c in conditions},
                    "term": term,
                    "estimate": est,
                    "se": se,
                    "z": est / se,
                    "ci_low": est - 1.959964 * se,
                    "ci_high": est + 1.959964 * se,
                }
            )
    participants = per[["participant", *conditions, *TERMS]]
    return StayRegression(participants, group, pd.DataFrame(rows), tuple(conditions))


def weight_timecourse(trials: pd.DataFrame, column: str = "w") -> pd.DataFrame:
    """Mean of a per-trial internal (default the weight ``w``) over participants, by trial.

    Parameters
    ----------
    trials : pandas.DataFrame
        Simulated trials with ``internals=True``.
    column : str

    Returns
    -------
    pandas.DataFrame
        Columns ``trial``, ``n_participants``, ``mean``, ``ci_low``, ``ci_high``
        (95% t-interval over participants) and, if present, ``event``.
    """
    if column not in trials.columns:
        raise KeyError(f"column '{column}' not in trials (simulate with internals=True)")
    grouped = trials.groupby("trial")[column]
    n = grouped.count()
    mean = grouped.mean()
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * grouped.std(ddof=1) / np.sqrt(n)
    out = pd.DataFrame({"n_participants": n, "mean": mean, "ci_low": mean - half,
                        "ci_high": mean + half}).reset_index()  # fmt: skip
    if "event" in trials.columns:
        out["event"] = trials.groupby("trial")["event"].first().to_numpy()
    return out


def predictive_stay_probabilities(
    trials: pd.DataFrame, idata, by: str | list[str] | None = "auto"
) -> pd.DataFrame:
    """Stay probabilities of posterior-predictive data sets, summarised over draws.

    Each posterior-predictive draw (see :func:`cogarb.fit` with
    ``posterior_predictive``) replaces the observed choices, states, rewards and
    transitions of the non-missed trials; missed trials stay missed, so pairs are
    formed exactly as in the observed data. The group table of
    :func:`stay_probabilities` is computed for every draw.

    Parameters
    ----------
    trials : pandas.DataFrame
        The fitted trials (tidy schema).
    idata : arviz.InferenceData
        With a ``posterior_predictive`` group.
    by : "auto", str, list of str or None
        Condition columns, as in :func:`stay_probabilities`.

    Returns
    -------
    pandas.DataFrame
        Per cell: ``mean`` over draws of the group P(stay), its 95% interval
        ``ci_low``, ``ci_high`` (2.5% and 97.5% quantiles over draws) and
        ``n_draws``.
    """
    if "posterior_predictive" not in idata.groups():
        raise ValueError("idata has no posterior_predictive group: fit with posterior_predictive")
    predictive = idata.posterior_predictive
    keys = pd.MultiIndex.from_arrays(
        [predictive["participant"].to_numpy().astype(str), predictive["trial"].to_numpy()]
    )
    base = trials.reset_index(drop=True)
    rows = pd.MultiIndex.from_arrays(
        [base["participant"].astype(str).to_numpy(), base["trial"].to_numpy()]
    ).get_indexer(keys)
    if (rows < 0).any():
        raise ValueError("posterior-predictive trials are not in `trials`: pass the fitted trials")
    names = [n for n in ("choice1", "state2", "choice2", "reward", "common") if n in predictive]
    stacked = {
        n: predictive[n].stack(sample=("chain", "draw")).transpose("sample", "obs").to_numpy()
        for n in names
    }
    tables = []
    for k in range(stacked[names[0]].shape[0]):
        simulated = base.copy()
        for name in names:
            column = simulated[name].copy()  # keeps its dtype (nullable where trials are missed)
            column.iloc[rows] = stacked[name][k]
            simulated[name] = column
        tables.append(stay_probabilities(simulated, by).group.assign(draw=k))
    draws = pd.concat(tables)
    keys_ = [
        c for c in draws.columns if c not in ("mean", "ci_low", "ci_high", "n_participants", "draw")
    ]
    summary = draws.groupby(keys_, observed=True, dropna=False)["mean"].agg(
        mean="mean",
        ci_low=lambda x: x.quantile(0.025),
        ci_high=lambda x: x.quantile(0.975),
        n_draws="count",
    )
    return summary.reset_index()
