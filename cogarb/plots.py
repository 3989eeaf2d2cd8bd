"""Figure functions (seaborn/matplotlib): take data, return a Figure; never save or show.

All figures use the colour-blind-safe seaborn ``colorblind`` palette and build
``matplotlib.figure.Figure`` objects directly (no pyplot state).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from cogarb.analysis import StayProbabilities

PALETTE = sns.color_palette("colorblind")
TRANSITION_COLOURS = {"common": PALETTE[0], "rare": PALETTE[3]}
AGENT_ORDER = ("mf", "mb", "hybrid", "arbitrator")  # rows of the model-comparison panels


def stay_probability_figure(
    stays: StayProbabilities | Mapping[str, StayProbabilities],
    title: str | None = None,
) -> Figure:
    """Bar plot of P(stay) by previous reward × transition, one panel per entry.

    Parameters
    ----------
    stays : StayProbabilities or mapping of label -> StayProbabilities
        E.g. ``{"model-free": ..., "model-based": ..., "hybrid": ...}``. A table
        split by conditions gets one panel per condition level.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Bars are group means; error bars are the 95% intervals of
        :func:`cogarb.stay_probabilities` (effective-sample-size Wilson intervals).
    """
    if isinstance(stays, StayProbabilities):
        stays = {"": stays}
    panels = []
    for label, stay in stays.items():
        group = stay.group
        if stay.conditions:
            for key, sub in group.groupby(list(stay.conditions), dropna=False):
                key = key if isinstance(key, tuple) else (key,)
                level = ", ".join(f"{c}={v}" for c, v in zip(stay.conditions, key, strict=True))
                panels.append((f"{label}\n{level}" if label else level, sub))
        else:
            panels.append((label, group))
    fig = Figure(figsize=(2.6 * len(panels) + 0.6, 3.2), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, (label, group) in zip(axes, panels, strict=True):
        _stay_bars(ax, group)
        ax.set_title(label)
    axes[0].set_ylabel("P(stay with first-stage choice)")
    axes[-1].legend(title="transition", frameon=False, loc="upper right")
    if title:
        fig.suptitle(title)
    return fig


def weight_timecourse_figure(
    courses: Mapping[str, pd.DataFrame], ylabel: str = "weight on direct control w"
) -> Figure:
    """Mean ``w`` by trial with its 95% band, one line per entry; events marked.

    Parameters
    ----------
    courses : mapping of label -> DataFrame
        Outputs of :func:`cogarb.analysis.weight_timecourse`.
    ylabel : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    for k, (label, course) in enumerate(courses.items()):
        colour = PALETTE[k % len(PALETTE)]
        ax.plot(course["trial"], course["mean"], color=colour, label=label, lw=1.5)
        ax.fill_between(course["trial"], course["ci_low"], course["ci_high"], color=colour,
                        alpha=0.25, lw=0)  # fmt: skip
        if "event" in course.columns:
            for trial in course.loc[course["event"] != "", "trial"]:
                ax.axvline(trial, color=colour, ls=":", lw=1)
    ax.set_xlabel("trial")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize="small")
    sns.despine(ax=ax)
    return fig


def recovery_figure(
    recovery: pd.DataFrame, title: str | None = None, interval: str = "90%"
) -> Figure:
    """True against estimated parameters, one panel per parameter, with Pearson r.

    Parameters
    ----------
    recovery : DataFrame
        :attr:`cogarb.recovery.Recovery.participants`: columns ``parameter``,
        ``true``, ``mean``, ``lower``, ``upper``.
    title : str, optional
    interval : str
        What ``lower`` and ``upper`` are, for the axis label (the recovery
        tables hold 90% intervals, the level of their coverage).

    Returns
    -------
    matplotlib.figure.Figure
        Points are posterior means with their intervals; the dashed line is identity.
    """
    names = list(dict.fromkeys(recovery["parameter"]))
    columns = min(4, len(names))
    rows = -(-len(names) // columns)
    fig = Figure(figsize=(2.6 * columns, 2.5 * rows + 0.3), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        sub = recovery[recovery["parameter"] == name]
        errors = np.vstack([sub["mean"] - sub["lower"], sub["upper"] - sub["mean"]])
        ax.errorbar(sub["true"], sub["mean"], yerr=errors, fmt="o", ms=3, lw=0.6,
                    color=PALETTE[0], ecolor=PALETTE[7], alpha=0.8)  # fmt: skip
        low = float(min(sub["true"].min(), sub["lower"].min()))
        high = float(max(sub["true"].max(), sub["upper"].max()))
        ax.plot([low, high], [low, high], ls="--", color="0.4", lw=1)
        r = float(np.corrcoef(sub["true"], sub["mean"])[0, 1])
        ax.set_title(f"{name}   r = {r:.2f}")
        ax.set_xlabel("true value")
        ax.set_ylabel(f"posterior mean ({interval} interval)")
        sns.despine(ax=ax)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


def _interval_rows(ax, table: pd.DataFrame, colour_by: str | None = None) -> None:
    """Points with 95% intervals, one row per table row, labelled by ``label``."""
    ys = np.arange(len(table))[::-1]
    levels = list(dict.fromkeys(table[colour_by])) if colour_by else [None]
    for y, (_, row) in zip(ys, table.iterrows(), strict=True):
        colour = PALETTE[levels.index(row[colour_by]) % len(PALETTE)] if colour_by else PALETTE[0]
        ax.errorbar(
            row["mean"],
            y,
            xerr=[[row["mean"] - row["ci_low"]], [row["ci_high"] - row["mean"]]],
            fmt="o",
            color=colour,
            ms=5,
            capsize=3,
        )
    ax.set_yticks(ys, table["label"])


def load_figure(stays: StayProbabilities, weights: pd.DataFrame) -> Figure:
    """Stay patterns under single vs dual task, and the weight on direct control.

    Parameters
    ----------
    stays : StayProbabilities
        Split by the ``load`` condition (one panel per level).
    weights : DataFrame
        Columns ``source`` (e.g. "simulated arbitrator", "fitted hybrid_load"),
        ``condition`` (e.g. "single task"), ``mean``, ``ci_low``, ``ci_high``
        (95% intervals).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[2, 1.1])
    levels = list(dict.fromkeys(stays.group["load"]))
    axes = left.subplots(1, len(levels), sharey=True, squeeze=False)[0]
    names = {0: "single task", 1: "dual task (load)"}
    for ax, level in zip(axes, levels, strict=True):
        group = stays.group[stays.group["load"] == level]
        _stay_bars(ax, group)
        ax.set_title(names.get(level, f"load = {level}"))
    axes[0].set_ylabel("P(stay with first-stage choice)")
    axes[-1].legend(title="transition", frameon=False, loc="upper right")
    ax = right.subplots()
    conditions = list(dict.fromkeys(weights["condition"]))
    sources = list(dict.fromkeys(weights["source"]))
    offset = 0.12
    for k, source in enumerate(sources):
        sub = weights[weights["source"] == source].set_index("condition").loc[conditions]
        xs = np.arange(len(conditions)) + (k - (len(sources) - 1) / 2) * 2 * offset
        ax.errorbar(
            xs,
            sub["mean"],
            yerr=[sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]],
            fmt="o-",
            color=PALETTE[k + 1],
            capsize=3,
            label=source,
        )
    ax.set_xticks(np.arange(len(conditions)), conditions)
    ax.set_xlim(-0.5, len(conditions) - 0.5)
    ax.set_ylim(0, 1)
    ax.set_ylabel("weight on direct control w")
    ax.legend(frameon=False, fontsize="small")
    sns.despine(ax=ax)
    return fig


def _stay_bars(ax, group: pd.DataFrame, width: float = 0.38) -> None:
    """Bars of P(stay) with 95% intervals: rewarded/unrewarded × common/rare."""
    rows = group.set_index(["previous_reward", "transition"])
    for j, transition in enumerate(("common", "rare")):
        xs, means, errs = [], [], []
        for k, reward in enumerate(("rewarded", "unrewarded")):
            if (reward, transition) not in rows.index:
                continue
            r = rows.loc[(reward, transition)]
            xs.append(k + (j - 0.5) * width)
            means.append(r["mean"])
            errs.append([r["mean"] - r["ci_low"], r["ci_high"] - r["mean"]])
        errs = np.nan_to_num(np.array(errs).T) if errs else None
        ax.bar(
            xs,
            means,
            width,
            yerr=errs,
            capsize=3,
            label=transition,
            color=TRANSITION_COLOURS[transition],
        )
    ax.set_xticks([0, 1], ["rewarded", "unrewarded"])
    ax.set_xlabel("previous outcome")
    ax.set_ylim(min(0.4, float(group["ci_low"].min()) - 0.05), 1.0)
    sns.despine(ax=ax)


def model_comparison_figure(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """ELPD (LOO) of each agent relative to the best, one panel per dataset.

    Parameters
    ----------
    tables : mapping of dataset label -> DataFrame
        Outputs of :func:`cogarb.compare` (index: agent; columns ``elpd_diff``,
        ``dse``). Rows follow :data:`AGENT_ORDER`, then any other fits.

    Returns
    -------
    matplotlib.figure.Figure
        Points are the expected log predictive density relative to the best agent
        (0 = best); bars are 95% intervals (± 1.96 standard errors of the
        difference).
    """
    found = list(dict.fromkeys(a for table in tables.values() for a in table.index))
    agents = [a for a in AGENT_ORDER if a in found] + [a for a in found if a not in AGENT_ORDER]
    columns = min(3, len(tables))
    rows = -(-len(tables) // columns)
    fig = Figure(
        figsize=(3.4 * columns, 0.45 * len(agents) * rows + 1.1 * rows), layout="constrained"
    )
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, (label, table) in zip(axes, tables.items(), strict=False):
        table = table.reindex([a for a in agents if a in table.index])
        rows_ = pd.DataFrame(
            {
                "label": table.index,
                "mean": -table["elpd_diff"].to_numpy(),
                "ci_low": -(table["elpd_diff"] + 1.96 * table["dse"]).to_numpy(),
                "ci_high": -(table["elpd_diff"] - 1.96 * table["dse"]).to_numpy(),
            }
        )
        _interval_rows(ax, rows_)
        ax.axvline(0, color="0.5", lw=1, ls=":")
        ax.set_title(label, fontsize="medium")
        ax.set_xlabel("ELPD difference from best (log units)")
        sns.despine(ax=ax)
    for ax in axes[len(tables) :]:
        ax.set_visible(False)
    return fig


def real_data_figure(
    observed: StayProbabilities,
    predicted: pd.DataFrame,
    slopes: pd.DataFrame,
    stakes: pd.DataFrame,
    titles: tuple[str, str, str] = (
        "observed (bars) vs predicted",
        "covariate effects on w",
        "stakes",
    ),
) -> Figure:
    """Real data: predictive check, a covariate effect on w, a condition effect on w.

    Parameters
    ----------
    observed : StayProbabilities
        Observed stay probabilities (e.g. Gillan et al. 2016).
    predicted : DataFrame
        Posterior-predictive stay probabilities: ``previous_reward``,
        ``transition``, ``mean``, ``ci_low``, ``ci_high`` (95% over draws).
    slopes : DataFrame
        ``label``, ``mean``, ``ci_low``, ``ci_high``: posterior slopes of logit w
        on standardised covariates.
    stakes : DataFrame
        ``label`` (e.g. "novel task, high stakes"), ``task``, ``mean``,
        ``ci_low``, ``ci_high``: group w per condition.
    titles : three str
        Panel titles (name the datasets).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    ax_ppc, ax_slope, ax_stakes = fig.subplots(1, 3, width_ratios=[1.1, 1, 1])
    _stay_bars(ax_ppc, observed.group)
    rows = predicted.set_index(["previous_reward", "transition"])
    for j, transition in enumerate(("common", "rare")):
        for k, reward in enumerate(("rewarded", "unrewarded")):
            if (reward, transition) not in rows.index:
                continue
            r = rows.loc[(reward, transition)]
            ax_ppc.errorbar(
                k + (j - 0.5) * 0.38 + 0.09,  # beside the bar's own interval
                r["mean"],
                yerr=[[r["mean"] - r["ci_low"]], [r["ci_high"] - r["mean"]]],
                fmt="D",
                color="black",
                ms=4,
                capsize=2,
                label="posterior predictive" if j == k == 0 else None,
            )
    ax_ppc.set_ylabel("P(stay with first-stage choice)")
    ax_ppc.legend(frameon=False, fontsize="small", loc="upper right")
    ax_ppc.set_title(titles[0], fontsize="medium")
    _interval_rows(ax_slope, slopes)
    ax_slope.axvline(0, color="0.5", lw=1, ls=":")
    ax_slope.set_xlabel("slope of logit w per sd of covariate")
    ax_slope.set_title(titles[1], fontsize="medium")
    sns.despine(ax=ax_slope)
    _interval_rows(ax_stakes, stakes, colour_by="task")
    ax_stakes.set_xlim(0, 1)
    ax_stakes.set_xlabel("group weight on direct control w")
    ax_stakes.set_title(titles[2], fontsize="medium")
    sns.despine(ax=ax_stakes)
    return fig


def sbc_ecdf_difference(result, columns: int = 3, title: str | None = None) -> Figure:
    """ECDF difference plot of a simulation-based calibration (Säilynoja et al. 2022).

    One panel per ranked parameter: F̂(z) − z, the ECDF of the fractional ranks u
    minus the uniform's, with the simultaneous 1 − α band of N data sets shaded.
    A calibrated parameter's line stays inside the band; a line above it near
    z = 0.5 means true values below the posterior's middle too often (the
    posterior is biased up), a ∪ or ∩ shape means too narrow or too wide posteriors.

    A participant parameter's panel draws the ECDF of all its ranked values (n per
    data set, pooled): a descriptive line, smoother than the band is for. Its
    colour and "(outside)" follow ``result.summary["inside_band"]``, the test of one
    participant per data set (:func:`cogarb.sbc.sbc_result`); say so in ``title``.
    With M panels at 1 − α each, about α·M are outside under calibration.

    Parameters
    ----------
    result : cogarb.sbc.SBCResult
        Its ``ranks`` (columns ``parameter`` and ``u``), ``summary``, ``band`` and
        ``parameters``. (Not annotated: this module is on a floor below
        :mod:`cogarb.sbc`, and importing it for the hint would run up the floors.)
    columns : int
        Panels per row.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from cogarb.ecdf_bands import ecdf

    band, names = result.band, list(result.parameters)
    columns = min(columns, len(names))
    rows = -(-len(names) // columns)
    fig = Figure(figsize=(2.5 * columns, 1.9 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False, sharex=True).ravel()
    z = np.concatenate([[0.0], band.z, [1.0]])
    lower = np.concatenate([[0.0], band.lower - band.z, [0.0]])
    upper = np.concatenate([[0.0], band.upper - band.z, [0.0]])
    for ax, name in zip(axes, names, strict=False):
        u = result.ranks.loc[result.ranks["parameter"] == name, "u"].to_numpy()
        difference = np.concatenate([[0.0], ecdf(u, band.z) - band.z, [0.0]])
        ok = bool(result.summary.loc[name, "inside_band"])
        ax.fill_between(z, lower, upper, color=PALETTE[7], alpha=0.3, lw=0)
        ax.axhline(0.0, color="0.5", lw=0.6)
        ax.plot(z, difference, color=PALETTE[0] if ok else PALETTE[3], lw=1.2)
        ax.set_title(name if ok else f"{name} (outside)", fontsize=9)
        sns.despine(ax=ax)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    for i, ax in enumerate(axes[: len(names)]):
        if i + columns >= len(names):  # the lowest panel of its column
            ax.set_xlabel("fractional rank z")
            ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[::columns]:
        ax.set_ylabel("ECDF − z")
    fig.suptitle(
        title or f"SBC: {band.n} data sets, {1 - band.alpha:.0%} simultaneous band", fontsize=10
    )
    return fig
