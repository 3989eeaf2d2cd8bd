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
        Bars are group means; error bars are 95% t-intervals over participants.
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
    width = 0.38
    for ax, (label, group) in zip(axes, panels, strict=True):
        for j, transition in enumerate(("common", "rare")):
            rows = group.set_index(["previous_reward", "transition"])
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
        ax.set_title(label)
        sns.despine(ax=ax)
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


def recovery_figure(recovery: pd.DataFrame, title: str | None = None) -> Figure:
    """True against estimated parameters, one panel per parameter, with Pearson r.

    Parameters
    ----------
    recovery : DataFrame
        :attr:`cogarb.recovery.Recovery.participants`: columns ``parameter``,
        ``true``, ``mean``, ``lower``, ``upper``.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Points are posterior means with 90% intervals; the dashed line is identity.
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
        ax.set_ylabel("posterior mean (90% interval)")
        sns.despine(ax=ax)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig
