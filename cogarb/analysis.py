"""Stay behaviour: stay probabilities and the stay regression.

A *pair* is two consecutive trials ``t-1, t`` of one participant (trial numbers
differing by one) where both first-stage choices were made and trial ``t-1`` has
a reward and a transition. The participant *stays* when ``choice1[t] ==
choice1[t-1]``. Pairs are classified by the previous reward (rewarded /
unrewarded) and the previous transition (common / rare). A missed trial breaks
its pairs, and so does a gap in the trial numbers (trials 3 and 5 with no trial
4 are not a pair): pairs are never bridged over. :func:`stay_probabilities` and
:func:`stay_regression` raise ``ValueError`` when the trials hold no pair at all.

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


def t_interval(values: pd.Series) -> pd.Series:
    """Mean of ``values`` with its 95% Student-t interval (missing values dropped).

    Parameters
    ----------
    values : pandas.Series
        One value per unit (e.g. a participant's mean weight ``w``).

    Returns
    -------
    pandas.Series
        ``n_participants`` (the number of values used), ``mean``, ``ci_low`` and
        ``ci_high``: ``mean ± t(0.975, n - 1) · sd / √n``. The bounds are NaN with
        fewer than two values, and every field but ``n_participants`` with none.
    """
    x = values.dropna().to_numpy(dtype=float)
    n = len(x)
    mean = x.mean() if n else np.nan
    half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
    return pd.Series(
        {"n_participants": n, "mean": mean, "ci_low": mean - half, "ci_high": mean + half}
    )


def _proportion_interval(cell: pd.DataFrame) -> pd.Series:
    """Mean of per-participant proportions with a 95% effective-sample-size Wilson interval.

    See :func:`stay_probabilities` for the method. ``cell`` has one row per
    participant with ``p_stay`` and ``n_pairs``.
    """
    p = cell["p_stay"].to_numpy(dtype=float)
    m, total = len(p), float(cell["n_pairs"].sum())
    mean = p.mean()
    low = high = np.nan
    if m > 1:
        variance = p.var(ddof=1) / m
        n_eff = mean * (1 - mean) / variance if variance > 0 else np.inf
        n_eff = min(max(n_eff, m), total)
        k = stats.t.ppf(0.975, m - 1) ** 2 / n_eff
        centre = (mean + k / 2) / (1 + k)
        half = np.sqrt(mean * (1 - mean) * k + k * k / 4) / (1 + k)
        # The score interval contains the mean (at 0 or 1, an end): only rounding moves it
        low, high = max(min(centre - half, mean), 0.0), min(max(centre + half, mean), 1.0)
    return pd.Series({"n_participants": m, "mean": mean, "ci_low": low, "ci_high": high})


def _require_pairs(trials: pd.DataFrame, pairs: pd.DataFrame) -> None:
    """Raise ``ValueError`` saying why there is no pair of consecutive trials.

    The message starts with the file that :func:`cogarb.validate_trials` recorded in
    ``trials.attrs["source"]``, if any.
    """
    if len(pairs):
        return
    t = trials.sort_values(["participant", "trial"], kind="stable")
    n_participants = t["participant"].nunique()
    same = t["participant"].to_numpy()[1:] == t["participant"].to_numpy()[:-1]
    steps = np.diff(t["trial"].to_numpy())[same]
    n_missed = int(t["choice1"].isna().sum())
    why = []
    if len(t) == 0:
        why.append("there are no trials")
    elif not (steps == 1).any():
        first = t["participant"].iloc[0]
        numbers = t.loc[t["participant"] == first, "trial"].to_numpy()
        shown = ", ".join(str(v) for v in numbers[:3]) + (", ..." if len(numbers) > 3 else "")
        why.append(
            "no participant has two trials numbered t-1 and t "
            f"(participant '{first}' has trials {shown})"
        )
    else:
        why.append(
            "of every two trials t-1, t one is missed (or trial t-1 has no reward or "
            f"transition); {n_missed} of {len(t)} trials are missed"
        )
    source = trials.attrs.get("source")  # the file, as validate_trials records it
    raise ValueError(
        (f"{source}: " if source else "")
        + "no pairs of consecutive trials (trial t-1 and t of the same participant, both with "
        f"a first-stage choice) in {len(t)} trials of {n_participants} "
        f"participant{'' if n_participants == 1 else 's'}: "
        f"{why[0]}; stay analyses need them"
    )


def _absent_cells(group: pd.DataFrame, conditions: tuple[str, ...]) -> list[str]:
    """Lines naming the previous-outcome × transition cells with no pairs."""
    lines = []
    keyed = group.groupby(list(conditions), dropna=False) if conditions else [((), group)]
    for key, frame in keyed:
        present = set(zip(frame["previous_reward"], frame["transition"], strict=True))
        absent = [f"{r} {t}" for r, t in _CELLS if (r, t) not in present]
        if absent:
            where = _where(conditions, key)
            lines.append(f"no pairs after {', '.join(absent)} trials{where}")
    return lines


def _where(conditions: tuple[str, ...] | list[str], key) -> str:
    if not conditions:
        return ""
    key = key if isinstance(key, tuple) else (key,)
    return " for " + ", ".join(f"{c}={v}" for c, v in zip(conditions, key, strict=True))


@dataclass(frozen=True)
class StayProbabilities:
    """Stay probabilities by previous reward × transition.

    Attributes
    ----------
    participants : pandas.DataFrame
        Per participant and cell: ``n_pairs``, ``n_stay``, ``p_stay``.
    group : pandas.DataFrame
        Per cell: ``n_participants``, ``mean`` of the participants' ``p_stay`` and
        its 95% interval ``ci_low``, ``ci_high`` (see :func:`stay_probabilities`),
        always inside [0, 1]. A cell without pairs has no row.
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
        text = table.to_string(index=False, float_format=lambda x: f"{x:.3f}")
        return "\n".join([text, *_absent_cells(self.group, self.conditions)])


def stay_probabilities(
    trials: pd.DataFrame, by: str | list[str] | None = "auto"
) -> StayProbabilities:
    """P(stay) after rewarded/unrewarded × common/rare trials.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trials in the tidy schema (see :mod:`cogarb.schema`).
    by : "auto", str, list of str or None
        Condition columns to split by; ``"auto"`` uses those of ``load``,
        ``stakes``, ``condition`` that are present.

    Returns
    -------
    StayProbabilities
        Per-participant and group tables; the group mean is the mean over
        participants of their stay probabilities, with a 95% interval.

    Raises
    ------
    ValueError
        If the trials hold no pair of consecutive trials (see the module docstring).

    Notes
    -----
    The group interval is a Wilson score interval (Wilson 1927) for the mean
    ``p`` of the ``m`` participants' proportions, with the sample size replaced
    by the effective sample size ``n_eff = p (1 - p) / v`` (Kish 1965; Korn &
    Graubard 1998), ``v = s^2 / m`` the squared standard error of the mean, and
    ``t_{0.975, m-1}`` in place of the normal quantile (Korn & Graubard's
    degrees-of-freedom correction)::

        k = t^2 / n_eff
        ci = (p + k/2 ± sqrt(p (1 - p) k + k^2 / 4)) / (1 + k)

    ``n_eff`` is clamped to ``[m, N]``, ``N`` the cell's pairs over all
    participants: both bounds hold for the true effective size (a variable in
    [0, 1] with mean p has variance at most p (1 - p), so ``n_eff >= m``;
    binomial noise alone gives ``n_eff = N``), and the clamp fixes ``n_eff = N``
    when every participant has the same proportion (``s = 0``; all stays, say).
    The interval lies in [0, 1] by construction. Where the t-interval
    ``p ± t s / sqrt(m)`` is inside (0, 1) and ``n_eff`` is large the two agree
    closely; near 0 or 1 the t-interval leaves [0, 1] and undercovers badly
    (in our simulations 21-75% coverage of a population mean of 0.99 with 2-10
    participants), the Wilson form much less so (Franco, Little, Louis & Slud
    2019 recommend it for clustered proportions). A cell with one participant
    has no interval (NaN).

    Wilson, E. B. (1927). JASA 22, 209-212. Korn, E. L. & Graubard, B. I.
    (1998). Survey Methodology 24, 193-201. Franco, C., Little, R. J. A.,
    Louis, T. A. & Slud, E. V. (2019). J. Survey Stat. Methodol. 7, 334-364.
    """
    conditions = _conditions(trials, by)
    pairs = stay_pairs(trials, conditions)
    _require_pairs(trials, pairs)
    per = _cell_counts(pairs, ["participant", *conditions])
    per["p_stay"] = per["n_stay"] / per["n_pairs"]
    group = (
        per.groupby([*conditions, "previous_reward", "transition"], observed=True, dropna=False)[
            ["p_stay", "n_pairs"]
        ]
        .apply(_proportion_interval)
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
        (``intercept``, ``reward``, ``transition``, ``reward:transition``); NaN
        for a participant without pairs in all four cells.
    group : pandas.DataFrame
        Per term: mean of the participants' coefficients and its 95% t-interval
        (the summary-statistics approach to random effects); ``n_participants``
        counts the participants with coefficients.
    pooled : pandas.DataFrame
        Per term: the coefficient fitted to all pairs pooled, its standard
        error, z and 95% interval (fixed effect; ignores between-participant
        variation). NaN where the regression cannot be estimated (see ``reason``).
    conditions : tuple of str
    reason : str or None
        Why the pooled regression (of some condition) cannot be estimated, e.g.
        ``"stay regression cannot be estimated: no rare transitions among the
        372 trial pairs"``; None when every pooled fit is estimable.
    group_reason : str or None
        Why the group table has no mean or no interval for some condition
        (fewer than two participants with coefficients); None otherwise.
    """

    participants: pd.DataFrame
    group: pd.DataFrame
    pooled: pd.DataFrame
    conditions: tuple[str, ...]
    reason: str | None = None
    group_reason: str | None = None

    def __str__(self) -> str:
        table = self.pooled.dropna(subset=["estimate"])
        lines = []
        if len(table):
            lines.append(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        if self.reason:
            lines.append(self.reason)
        return "\n".join(lines)


def _missing_cells(n_pairs: np.ndarray) -> str | None:
    """Why the saturated design of one unit is singular, or None if it is of full rank.

    ``n_pairs`` holds the unit's pair counts in ``_CELLS`` order. The design
    ``[1, reward, transition, reward × transition]`` has one distinct row per
    cell with pairs, and the four ±1 rows are linearly independent, so its rank
    is the number of cells with pairs: it is singular exactly when a cell is empty.
    """
    total = int(n_pairs.sum())
    if total == 0:
        return "no trial pairs"
    present = n_pairs > 0
    if present.all():
        return None
    level = {
        "rare transitions": present[1] | present[3],
        "common transitions": present[0] | present[2],
        "unrewarded trials": present[2] | present[3],
        "rewarded trials": present[0] | present[1],
    }
    parts = [f"no {name}" for name, seen in level.items() if not seen]
    if not parts:  # every level occurs, but not in every combination
        missing = [cell for cell, seen in zip(_CELLS, present, strict=True) if not seen]
        parts = [f"no pairs after {r} {t} trials" for r, t in missing]
    return f"{' and '.join(parts)} among the {total} trial pairs"


def _coefficients(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Saturated-model coefficients, standard errors and ``reason`` from cell counts."""
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
    # dropna=False also makes combinations of keys that never occur (participant p in a
    # condition p never saw): they have no pairs and are no unit
    real = n.sum(axis=1) > 0
    wide, n, s = wide[real], n[real], s[real]
    reasons = [_missing_cells(row) for row in n]
    singular = np.array([r is not None for r in reasons], dtype=bool)
    # Empirical log-odds with a 0.5 continuity correction (Haldane-Anscombe)
    logit = np.log(s + 0.5) - np.log(n - s + 0.5)
    var = 1.0 / (s + 0.5) + 1.0 / (n - s + 0.5)
    coef = logit @ _CONTRASTS.T
    se = np.sqrt(var @ (_CONTRASTS.T**2))
    coef[singular] = np.nan
    se[singular] = np.nan
    out = wide.index.to_frame(index=False)
    for k, term in enumerate(TERMS):
        out[term] = coef[:, k]
        out[f"se_{term}"] = se[:, k]
    out["reason"] = reasons
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
    coefficients of participants who always stay (or switch) in a cell finite
    (perfect separation, where maximum likelihood has no finite solution);
    standard errors are the delta-method ones, ``sqrt(sum_cells (1/(s+.5) +
    1/(n-s+.5)) / 16)``.

    An empty cell makes the design matrix singular (its rank is the number of
    cells with pairs) and the coefficients unidentifiable: a participant with
    one gets NaN coefficients, and a pooled fit with one (a task without rare
    transitions, such as Kool et al.'s deterministic novel task; or no
    unrewarded trials) gets NaN estimates and a ``reason`` naming the missing
    cells, which the string form prints instead of the table.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trials in the tidy schema.
    by : "auto", str, list of str or None
        Condition columns to split by (see :func:`stay_probabilities`).

    Returns
    -------
    StayRegression

    Raises
    ------
    ValueError
        If the trials hold no pair of consecutive trials.
    """
    conditions = _conditions(trials, by)
    pairs = stay_pairs(trials, conditions)
    _require_pairs(trials, pairs)
    per = _coefficients(
        _cell_counts(pairs, ["participant", *conditions]), ["participant", *conditions]
    )
    group, group_reason = _group_coefficients(per, conditions)

    pairs = pairs.assign(_all="all")
    keys = [*conditions] if conditions else ["_all"]
    pooled_wide = _coefficients(_cell_counts(pairs, keys), keys)
    rows, reasons = [], []
    for row in pooled_wide.to_dict("records"):
        if isinstance(row["reason"], str):
            key = tuple(row[c] for c in conditions)
            reasons.append(f"cannot be estimated{_where(conditions, key)}: {row['reason']}")
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
    reason = "stay regression " + "; ".join(reasons) if reasons else None
    participants = per[["participant", *conditions, *TERMS]]
    return StayRegression(
        participants, group, pd.DataFrame(rows), tuple(conditions), reason, group_reason
    )


def _group_coefficients(
    per: pd.DataFrame, conditions: list[str]
) -> tuple[pd.DataFrame, str | None]:
    """Mean of participants' coefficients with t-intervals, and why some are missing."""
    rows, reasons = [], []
    for key, frame in per.groupby(conditions, dropna=False) if conditions else [((), per)]:
        key = key if isinstance(key, tuple) else (key,)
        n_ok = int(frame["reason"].isna().sum())
        if n_ok < 2:
            reasons.append(
                f"{'no mean' if n_ok == 0 else 'no interval'}{_where(conditions, key)}: "
                f"{n_ok} of {len(frame)} participants have pairs in all four cells "
                "(an interval needs 2)"
            )
        for term in TERMS:
            rows.append(
                {
                    **dict(zip(conditions, key, strict=True)),
                    "term": term,
                    **t_interval(frame[term]).to_dict(),
                }
            )
    group = pd.DataFrame(rows)
    group["n_participants"] = group["n_participants"].astype(int)
    reason = "group table: " + "; ".join(reasons) if reasons else None
    return group, reason


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
    transitions of the trials with a first-stage choice (its ``obs``); fully missed
    trials stay missed, and on half-missed trials (second stage missed) the
    simulated participant missed the second stage too (``reward`` NaN, so the trial
    starts no pair; its ``choice2`` code −1 is never read by the stay analysis), so
    pairs are formed exactly as in the observed data. The group table of
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
