"""The paper's figures and numbers: simulate, fit or read fits, and draw.

Each ``figure_*`` function builds one figure of ``paper/paper.md`` and the numbers
its text quotes; nothing here writes files (:func:`cogarb.workflows.make_paper`,
behind ``cogarb figures``, ``cogarb demo`` and ``paper/make_figures.py``, saves the
figures and their numbers and fills the paper's template).

Which real datasets the figures use, and which of their fits they read, is data: the
paper's manifest (``paper/manifest.toml``, read by :func:`load_manifest`), not this
module. Its datasets are folders ``<fits>/<dataset>/`` holding a ``fit.toml``.

Two settings: :data:`QUICK` (small simulated cohorts, short chains and small
subsets of the real datasets, fitted on the spot: minutes) and :data:`FULL`
(larger cohorts, and the real-data panels read from the fits written by
``cogarb fit fits/<dataset>/fit.toml``).

Numbers are keyed ``f<figure>_<what>``; intervals are 95% (effective-sample-size
Wilson intervals for stay probabilities, t-intervals for mean weights over simulated
participants, quantiles of posterior draws).
"""

from __future__ import annotations

import dataclasses
import os
import re
import string
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import cogarb
from cogarb.analysis import (
    predictive_stay_probabilities,
    stay_probabilities,
    stay_regression,
    t_interval,
    weight_timecourse,
)
from cogarb.fitspec import load_fit_spec, read_spec_trials
from cogarb.plots import (
    load_figure,
    model_comparison_figure,
    real_data_figure,
    recovery_figure,
    stay_probability_figure,
    weight_timecourse_figure,
)
from cogarb.toml_files import TomlMessages, read_toml


@dataclass(frozen=True)
class PaperSettings:
    """Sizes of the simulated cohorts and fits behind the figures.

    Attributes
    ----------
    name : str
        ``"quick"`` or ``"full"`` (quoted in the paper).
    simulated_participants : int
        Cohort size of the simulation-only figures (F1, F3).
    fit_participants : int
        Simulated participants fitted in F2 (load) and F4 (recovery).
    draws, tune, chains : int
        Sampler settings of every fit made here.
    real_participants : int or None
        In quick mode, the first N participants of each real dataset are fitted
        here; ``None`` reads the fits of ``fits/`` instead.
    ppc_draws : int
        Posterior draws simulated for the posterior-predictive check (F6).
    seed : int
    """

    name: str
    simulated_participants: int
    fit_participants: int
    draws: int
    tune: int
    chains: int
    real_participants: int | None
    ppc_draws: int
    seed: int = 1


QUICK = PaperSettings("quick", 200, 30, 300, 300, 2, 40, 40)
FULL = PaperSettings("full", 500, 100, 1000, 500, 4, None, 100)


@dataclass
class PaperFigure:
    """One figure: its file stem, the Figure, and the numbers the paper quotes."""

    name: str
    figure: object
    numbers: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


AGENT_LABELS = {
    "mf": "model-free",
    "mb": "model-based",
    "hybrid": "hybrid",
    "arbitrator": "arbitrator",
}
CELL_KEYS = {
    ("rewarded", "common"): "rc",
    ("rewarded", "rare"): "rr",
    ("unrewarded", "common"): "uc",
    ("unrewarded", "rare"): "ur",
}


@dataclass(frozen=True)
class StakesDataset:
    """A dataset of F6's stakes panel (w by stakes).

    Attributes
    ----------
    dataset : str
        Folder of the fits folder (``<fits>/<dataset>/fit.toml``).
    key : str
        Names the paper's numbers (``f6_<key>_...``).
    task : str
        The task's label in the panel.
    agent : str
        Agent fitted in quick mode (with ``w`` by stakes).
    fit : str
        The fit of the dataset's fit.toml read in full mode.
    """

    dataset: str
    key: str
    task: str
    agent: str
    fit: str


@dataclass(frozen=True)
class PaperManifest:
    """The paper's real data: datasets (folders of the fits folder) and fit names.

    Read from ``paper/manifest.toml`` by :func:`load_manifest`; the file's comments
    say what each entry is for.

    Attributes
    ----------
    compared : dict
        ``{dataset: label}`` of F5's model comparisons, in panel order.
    quick_comparison : str
        The dataset of ``compared`` whose compared fits quick mode fits on the spot.
    predictive_dataset, predictive_fit, predictive_agent : str
        F6's posterior-predictive check and covariate slopes: the dataset, the fit
        read in full mode, and the agent fitted in quick mode.
    covariates : tuple of str
        Participant covariates of ``w`` in that fit (one slope each).
    stakes : tuple of StakesDataset
        F6's stakes panel, in order.
    source : Path or None
        The file it was read from.
    """

    compared: Mapping[str, str]
    quick_comparison: str
    predictive_dataset: str
    predictive_fit: str
    predictive_agent: str
    covariates: tuple[str, ...]
    stakes: tuple[StakesDataset, ...]
    source: Path | None = None


def load_manifest(path: str | os.PathLike) -> PaperManifest:
    """Read the paper's manifest (``paper/manifest.toml``).

    Parameters
    ----------
    path : str or path

    Returns
    -------
    PaperManifest

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        On invalid TOML or a missing or wrongly typed entry; the message names the
        file and the entry.
    """
    source = Path(path)
    raw = read_toml(source, ValueError, _MANIFEST_MESSAGES)

    def entry(table: Mapping, key: str, kind: str, where: str = ""):
        value = table.get(key)
        if not _MANIFEST_KINDS[kind](value):
            raise ValueError(f"{source}: {where}{key} must be {kind}, got {value!r}")
        return value

    comparison = entry(raw, "comparison", "a table")
    compared = {}
    for k, item in enumerate(entry(comparison, "datasets", "a list of tables", "comparison.")):
        where = f"comparison.datasets[{k}]."
        dataset = entry(item, "dataset", "a string", where)
        compared[dataset] = entry(item, "label", "a string", where)
    quick = entry(comparison, "quick", "a string", "comparison.")
    if quick not in compared:
        raise ValueError(f"{source}: comparison.quick is {quick!r}, not one of comparison.datasets")
    predictive = entry(raw, "predictive", "a table")
    stakes = []
    for k, item in enumerate(entry(raw, "stakes", "a list of tables")):
        names = [f.name for f in dataclasses.fields(StakesDataset)]
        stakes.append(StakesDataset(*(entry(item, n, "a string", f"stakes[{k}].") for n in names)))
    return PaperManifest(
        compared=compared,
        quick_comparison=quick,
        predictive_dataset=entry(predictive, "dataset", "a string", "predictive."),
        predictive_fit=entry(predictive, "fit", "a string", "predictive."),
        predictive_agent=entry(predictive, "agent", "a string", "predictive."),
        covariates=tuple(entry(predictive, "covariates", "a list of strings", "predictive.")),
        stakes=tuple(stakes),
        source=source,
    )


_MANIFEST_MESSAGES = TomlMessages(
    directory="{path}: is a folder, not the paper's manifest (a .toml file)",
    missing="{path}: no such file (the paper's manifest)",
    permission="{path}: cannot be read (permission denied)",
    not_utf8="{path}: not UTF-8 text (byte {offset} is {bad!r}); TOML files must be UTF-8",
)
_MANIFEST_KINDS: dict[str, Callable[[object], bool]] = {
    "a string": lambda v: isinstance(v, str) and bool(v.strip()),
    "a table": lambda v: isinstance(v, dict),
    "a list of tables": lambda v: (
        isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)
    ),
    "a list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def as_manifest(manifest: PaperManifest | str | os.PathLike) -> PaperManifest:
    """``manifest`` itself, or the manifest read from that path (:func:`load_manifest`)."""
    return manifest if isinstance(manifest, PaperManifest) else load_manifest(manifest)


def _interval(draws: np.ndarray) -> dict:
    """Mean and 95% quantile interval of posterior draws."""
    draws = np.asarray(draws, dtype=float).ravel()
    low, high = np.quantile(draws, [0.025, 0.975])
    return {"mean": float(draws.mean()), "ci_low": float(low), "ci_high": float(high)}


def _fit_size(idata) -> str:
    """E.g. "4 chains × 500 draws", for the paper's text."""
    sizes = idata.posterior.sizes
    return f"{sizes['chain']} chains × {sizes['draw']} draws"


def fit_verdict(prefix: str, found: Mapping) -> dict:
    """The paper's record of one fit's convergence, keyed ``<prefix>_...``.

    ``<prefix>_converged`` (bool: every threshold of
    :func:`cogarb.fitting.convergence_problems` met), ``<prefix>_problems`` (what
    failed, "" when nothing did) and ``<prefix>_diagnostics`` (the diagnostics
    themselves). The paper quotes a fit's estimates only when it converged: the
    template's ``<!-- if <prefix>_converged -->`` blocks (:func:`render_paper`)
    hold those sentences, and the figure functions leave such a fit's estimates
    out of the figure (saying why in its place).
    """
    from cogarb.fitting import convergence_problems

    problems = convergence_problems(found)
    return {
        f"{prefix}_converged": not problems,
        f"{prefix}_problems": "; ".join(problems),
        f"{prefix}_diagnostics": dict(found),
    }


def _verdict_of(prefix: str, idata) -> dict:
    from cogarb.fitting import diagnostics

    return fit_verdict(prefix, diagnostics(idata))


def _withhold(ax, reason: str) -> None:
    """Empty the panel ``ax`` and say in its place why its estimates are not shown."""
    title = ax.get_title()
    reason = reason.replace(" (", "\n(").replace("; ", ";\n")  # short lines: a narrow panel
    ax.cla()
    ax.set_axis_off()
    ax.set_title(title, fontsize="medium")
    ax.text(0.5, 0.5, f"not shown:\n{reason}", ha="center", va="center", wrap=True,
            fontsize="small", color="firebrick", transform=ax.transAxes)  # fmt: skip


def _notice_figure(title: str, reason: str):
    """A figure that only says why its estimates are not shown."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 2.4), layout="constrained")
    ax = figure.subplots()
    ax.set_title(title)
    _withhold(ax, reason)
    return figure


def _unconverged(problems: str) -> str:
    return f"the fit has not converged ({problems})"


def _fit(trials: pd.DataFrame, agent: str, settings: PaperSettings, **options):
    return cogarb.fit(
        trials,
        agent,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        seed=settings.seed,
        progress=False,
        **options,
    )


def _first_participants(trials: pd.DataFrame, n: int | None) -> pd.DataFrame:
    if n is None:
        return trials
    keep = trials["participant"].cat.categories[:n]
    subset = trials[trials["participant"].isin(keep)].copy()
    subset["participant"] = subset["participant"].cat.remove_unused_categories()
    return subset


def _stay_numbers(prefix: str, stays) -> dict:
    return {
        f"{prefix}_{CELL_KEYS[(row.previous_reward, row.transition)]}": float(row.mean)
        for row in stays.group.itertuples()
    }


def figure_stay(settings: PaperSettings) -> PaperFigure:
    """F1: stay probabilities of the four agents on the Daw et al. (2011) task."""
    stays, numbers = {}, {}
    for agent, label in AGENT_LABELS.items():
        trials = cogarb.simulate(
            "daw2011", agent, {}, n_participants=settings.simulated_participants, seed=settings.seed
        )
        stays[label] = stay_probabilities(trials)
        numbers.update(_stay_numbers(f"f1_{agent}", stays[label]))
        pooled = stay_regression(trials).pooled.set_index("term")["estimate"]
        numbers[f"f1_{agent}_reward"] = float(pooled["reward"])
        numbers[f"f1_{agent}_interaction"] = float(pooled["reward:transition"])
    numbers["f1_participants"] = settings.simulated_participants
    return PaperFigure("F1_stay", stay_probability_figure(stays), numbers)


def figure_load(settings: PaperSettings) -> PaperFigure:
    """F2: the arbitrator under load; w simulated and fitted (hybrid, w by load)."""
    n = settings.fit_participants
    trials = cogarb.simulate(
        "otto2013_load", "arbitrator", {}, n_participants=n, seed=settings.seed, internals=True
    )
    stays = stay_probabilities(trials, by="load")
    names = {0: "single task", 1: "dual task"}
    rows, numbers = [], {"f2_participants": n}
    per_participant = trials.groupby(["participant", "load"], observed=True)["w"].mean()
    for level, label in names.items():
        simulated = t_interval(per_participant.xs(level, level="load"))
        simulated = simulated[["mean", "ci_low", "ci_high"]].astype(float).to_dict()
        rows.append({"source": "simulated arbitrator (true w)", "condition": label, **simulated})
        numbers[f"f2_sim_w_{level}"] = simulated["mean"]
    idata = _fit(trials.drop(columns=["w"]), "hybrid", settings, conditions={"w": "load"})
    numbers |= _verdict_of("f2_fit", idata)
    if numbers["f2_fit_converged"]:
        # the mean over participants of each participant's w (comparable with the
        # simulated mean), not mu_w, which is the population median
        low, high = _two_levels(idata.posterior["w"], "load")
        mean_w = idata.posterior["w"].mean("participant")
        for level, label in zip((low, high), names.values(), strict=True):
            fitted = _interval(mean_w.sel(load=level))
            rows.append({"source": "fitted hybrid, w by load", "condition": label, **fitted})
            numbers[f"f2_fit_w_{int(float(level))}"] = fitted["mean"]
        difference = _interval(mean_w.sel(load=high) - mean_w.sel(load=low))
        numbers |= {f"f2_fit_diff_{k}": v for k, v in difference.items()}
    regression = stay_regression(trials, by="load").pooled
    for level in names:
        row = regression[
            (regression["load"] == level) & (regression["term"] == "reward:transition")
        ]
        numbers[f"f2_interaction_{level}"] = float(row["estimate"].iloc[0])
    figure = load_figure(stays, pd.DataFrame(rows))
    if not numbers["f2_fit_converged"]:
        reason = f"fitted hybrid not shown: not converged\n({numbers['f2_fit_problems']})"
        figure.subfigs[1].axes[0].set_xlabel(reason, color="firebrick", fontsize="small", wrap=True)
    return PaperFigure("F2_load", figure, numbers)


def _two_levels(draws, dim: str) -> tuple[str, str]:
    """The (low, high) coordinates of a two-level condition, ordered by value."""
    levels = sorted(draws[dim].to_numpy().tolist(), key=float)
    if len(levels) != 2:
        raise ValueError(f"expected two levels of '{dim}', found {levels}")
    return levels[0], levels[1]


NOVELTY_TASKS = {
    "novelty_reversal": "transition reversal",
    "novelty_new_states": "new states",
    "novelty_reward_reset": "reward reset",
}


def figure_novelty(settings: PaperSettings) -> PaperFigure:
    """F3: the arbitrator's w_t around novelty events (first event ± its window)."""
    courses, numbers = {}, {"f3_participants": settings.simulated_participants}
    for task, label in NOVELTY_TASKS.items():
        trials = cogarb.simulate(
            task,
            "arbitrator",
            {},
            n_participants=settings.simulated_participants,
            seed=settings.seed,
            internals=True,
        )
        course = weight_timecourse(trials)
        courses[label] = course
        event = int(course.loc[course["event"] != "", "trial"].iloc[0])
        mean = course.set_index("trial")["mean"]
        key = task.removeprefix("novelty_")
        numbers[f"f3_{key}_event"] = event
        numbers[f"f3_{key}_before"] = float(mean.loc[event - 10 : event - 1].mean())
        numbers[f"f3_{key}_peak"] = float(mean.loc[event + 1 : event + 10].max())
        numbers[f"f3_{key}_late"] = float(mean.loc[event + 60 : event + 89].mean())
    return PaperFigure("F3_novelty", weight_timecourse_figure(courses), numbers)


def figure_recovery(settings: PaperSettings) -> PaperFigure:
    """F4: parameter recovery of the hierarchical hybrid on a simulated cohort."""
    n = settings.fit_participants
    result = cogarb.recover(
        "hybrid",
        "daw2011",
        n,
        seed=settings.seed,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        progress=False,
    )
    numbers = {"f4_participants": n, **_verdict_of("f4_fit", result.idata)}
    if not numbers["f4_fit_converged"]:
        title = f"Recovery of the hierarchical hybrid ({n} participants)"
        figure = _notice_figure(title, _unconverged(numbers["f4_fit_problems"]))
        return PaperFigure("F4_recovery", figure, numbers)
    for name, row in result.summary.iterrows():
        numbers[f"f4_r_{name}"] = float(row["r"])
        numbers[f"f4_coverage_{name}"] = float(row["coverage"])
    table = _with_95_intervals(result.participants, result.idata.posterior)
    figure = recovery_figure(table, interval="95%")
    return PaperFigure("F4_recovery", figure, numbers)


def _with_95_intervals(participants: pd.DataFrame, posterior) -> pd.DataFrame:
    """Recovery table with ``lower``/``upper`` replaced by 95% posterior intervals."""
    table = participants.copy()
    for name, rows in table.groupby("parameter", sort=False).groups.items():
        draws = posterior[name].stack(sample=("chain", "draw")).transpose("participant", "sample")
        values = draws.sel(participant=list(table.loc[rows, "participant"])).to_numpy()
        table.loc[rows, "lower"], table.loc[rows, "upper"] = np.quantile(
            values, [0.025, 0.975], axis=1
        )
    return table


def _spec_subset(fits_dir: Path, dataset: str, settings: PaperSettings):
    spec = load_fit_spec(fits_dir / dataset / "fit.toml")
    trials, _ = read_spec_trials(spec)
    trials = _first_participants(trials, settings.real_participants)
    return spec, trials, {"p_common": spec.p_common, "reward_scale": spec.reward_scale}


def figure_comparison(
    settings: PaperSettings, fits_dir: str | Path, manifest: PaperManifest | str | Path
) -> PaperFigure:
    """F5: LOO model comparison of the manifest's datasets; quick: fitted here on one.

    Full mode reads each dataset's finished ``out/compare.csv`` (one missing,
    unfinished or stale is named in the notes and left out); quick mode fits the
    compared fits of the manifest's ``comparison.quick`` dataset on its first
    participants.
    """
    from cogarb.fitting import diagnostics

    fits_dir, manifest = Path(fits_dir), as_manifest(manifest)
    found, notes = {}, []  # label -> (comparison table, {fit: diagnostics})
    if settings.real_participants is not None:
        quick = manifest.quick_comparison
        spec, trials, options = _spec_subset(fits_dir, quick, settings)
        fits = {
            job.name: _fit(trials, job.agent, settings, **options, **job.model_options())
            for job in spec.fits
            if job.name in spec.compare
        }
        checks = {name: diagnostics(idata) for name, idata in fits.items()}
        with warnings.catch_warnings():  # the tables' `warning` column says it, once
            warnings.simplefilter("ignore", UserWarning)
            by_trial, by_participant = cogarb.compare(fits), cogarb.compare(fits, by="participant")
        found[manifest.compared[quick]] = (by_trial, checks, by_participant)
    else:
        for dataset, label in manifest.compared.items():
            try:
                found[label] = _read_comparison(fits_dir, dataset)
            except FileNotFoundError as err:  # missing, unfinished or stale: said, not used
                notes.append(str(err))
    if not found:
        raise FileNotFoundError(
            f"no finished model comparison under {fits_dir}/*/out/compare.csv "
            "(run `cogarb fit fits/<dataset>/fit.toml`, or make the quick figures: --quick)"
        )
    tables, participant_tables, withheld = {}, {}, []
    for label, (table, checks, by_participant) in found.items():
        verdicts = {name: fit_verdict("fit", check) for name, check in checks.items()}
        failing = [f"{name}: {v['fit_problems']}" for name, v in verdicts.items()
                   if not v["fit_converged"]]  # fmt: skip
        if failing:  # an unconverged fit ranks nothing: the comparison is not stated
            withheld.append(f"{label} ({'; '.join(failing)})")
        else:
            tables[label], participant_tables[label] = table, by_participant
    numbers = {
        "f5_datasets": len(tables),
        "f5_converged": bool(tables),
        "f5_withheld": "; ".join(withheld) or "none",
        "f5_withheld_count": len(withheld),
    }
    notes += [f"comparison not stated, a fit has not converged: {w}" for w in withheld]
    if not tables:
        figure = _notice_figure(
            "Model comparison (PSIS-LOO)",
            f"no comparison whose fits all converged\n({len(withheld)} withheld: see the notes)",
        )
        numbers["f5_summary"] = ""
        return PaperFigure("F5_comparison", figure, numbers, notes)
    for k, (label, table) in enumerate(tables.items()):
        ranked = table.sort_values("elpd_diff")
        numbers[f"f5_{k}_label"] = label
        numbers[f"f5_{k}_best"] = str(ranked.index[0])
        numbers[f"f5_{k}_second"] = str(ranked.index[1])
        numbers[f"f5_{k}_second_diff"] = float(ranked["elpd_diff"].iloc[1])
        numbers[f"f5_{k}_second_dse"] = float(ranked["dse"].iloc[1])
        numbers[f"f5_{k}_by_participant"] = _participant_check(ranked, participant_tables[label])
    numbers["f5_summary"] = "; ".join(
        f"{numbers[f'f5_{k}_label']}: {numbers[f'f5_{k}_best']} first, "
        f"{numbers[f'f5_{k}_second']} {numbers[f'f5_{k}_second_diff']:.1f} ± "
        f"{numbers[f'f5_{k}_second_dse']:.1f} behind ({numbers[f'f5_{k}_by_participant']})"
        for k in range(len(tables))
    )
    return PaperFigure("F5_comparison", model_comparison_figure(tables), numbers, notes)


def _participant_check(ranked: pd.DataFrame, by_participant: pd.DataFrame | None) -> str:
    """Whether leaving out whole participants ranks the agents as leaving out trials does."""
    if by_participant is None:
        return "not checked leaving out participants: rerun the comparison"
    if "warning" in by_participant and by_participant["warning"].astype(bool).any():
        # each participant has their own parameters: leaving one out moves the posterior
        # far, and PSIS cannot estimate that (Pareto k too high)
        return (
            "not checked leaving out participants: PSIS-LOO is unreliable there (Pareto k "
            "too high); K-fold cross-validation over participants would check it"
        )
    order = list(by_participant.sort_values("elpd_diff").index)
    if order == list(ranked.index):
        return "the same order leaving out participants"
    second = by_participant.sort_values("elpd_diff").iloc[1]
    return (
        f"leaving out participants: {order[0]} first, {order[1]} "
        f"{second['elpd_diff']:.1f} ± {second['dse']:.1f} behind"
    )


def _read_comparison(fits_dir: Path, dataset: str) -> tuple[pd.DataFrame, dict, object]:
    """A dataset's ``compare.csv``, only while every compared fit is finished and
    current; the ``diagnostics.json`` of each compared fit; and the comparison by
    participant (None when the comparison predates it)."""
    from cogarb.runs import read_comparison, read_comparison_by_participant, read_diagnostics

    spec = load_fit_spec(fits_dir / dataset / "fit.toml")
    jobs = {job.name: job for job in spec.fits}
    fingerprints = {name: spec.fingerprint(jobs[name]) for name in spec.compare}
    table = read_comparison(spec.out, fingerprints, f"cogarb fit {spec.source}")
    checks = {name: read_diagnostics(spec.out / name) for name in spec.compare}
    return table, checks, read_comparison_by_participant(spec.out, fingerprints)


def _read_fit(fits_dir: Path, dataset: str, name: str):
    """A finished fit of ``fits/<dataset>/fit.toml``: its done marker must match the
    fit.toml and data as they are now (:func:`cogarb.runs.finished_fit_path`)."""
    from cogarb.fitting import import_arviz
    from cogarb.runs import finished_fit_path

    az = import_arviz()

    spec = load_fit_spec(fits_dir / dataset / "fit.toml")
    job = next((job for job in spec.fits if job.name == name), None)
    if job is None:
        raise FileNotFoundError(f"{spec.source} has no fit named {name!r}")
    how = f"cogarb fit {spec.source} --only {name}` first, or make the quick figures: `--quick"
    path = finished_fit_path(spec.out / name, spec.fingerprint(job), how)
    return az.from_netcdf(path)


def figure_real_data(
    settings: PaperSettings, fits_dir: str | Path, manifest: PaperManifest | str | Path
) -> PaperFigure:
    """F6: predictive check and covariate slopes (Gillan 2016); w by stakes (Kool 2017).

    The datasets and fits are the manifest's ``predictive`` and ``stakes`` entries:
    read from their finished fits in full mode, fitted here on the first participants
    in quick mode.
    """
    from cogarb.arrays import trial_arrays
    from cogarb.fitting import add_posterior_predictive

    fits_dir, manifest = Path(fits_dir), as_manifest(manifest)
    quick = settings.real_participants is not None
    dataset, agent = manifest.predictive_dataset, manifest.predictive_agent
    spec, trials, options = _spec_subset(fits_dir, dataset, settings)
    covariates = {"w": list(manifest.covariates)}
    if quick:
        idata = _fit(
            trials, agent, settings, covariates=covariates, log_likelihood=False, **options
        )
    else:
        idata = _read_fit(fits_dir, dataset, manifest.predictive_fit)
    data = trial_arrays(trials, p_common=spec.p_common, agent=agent)
    fitted_ids = [str(p) for p in idata.posterior["participant"].to_numpy()]
    if fitted_ids != [str(p) for p in data.participants]:
        raise ValueError(
            f"the {dataset} fit has {len(fitted_ids)} participants, not the "
            f"{len(data.participants)} of {spec.data}: refit it on the whole dataset"
        )
    observed = stay_probabilities(trials, by=None)
    numbers = {
        "f6_gillan_participants": trials["participant"].nunique(),
        "f6_gillan_fit": _fit_size(idata),
        **_verdict_of("f6_gillan", idata),
    }
    numbers |= _stay_numbers("f6_observed", observed)
    predicted = pd.DataFrame(columns=["previous_reward", "transition", "mean", "ci_low", "ci_high"])
    slopes = []
    if numbers["f6_gillan_converged"]:
        add_posterior_predictive(idata, agent, data, None, settings.ppc_draws, settings.seed)
        predicted = predictive_stay_probabilities(trials, idata, by=None)
        sizes = idata.posterior_predictive.sizes
        numbers["f6_ppc_draws"] = int(sizes["chain"]) * int(sizes["draw"])
        for row in predicted.itertuples():
            cell = CELL_KEYS[(row.previous_reward, row.transition)]
            numbers[f"f6_predicted_{cell}"] = row.mean
        for name in manifest.covariates:
            draws = idata.posterior[f"slope_w_{name}"].to_numpy()
            slopes.append({"label": name.replace("_", " "), **_interval(draws)})
            numbers |= {f"f6_slope_{name}_{k}": v for k, v in _interval(draws).items()}
            numbers[f"f6_slope_{name}_p_negative"] = float((draws < 0).mean())
    stakes = []
    for entry in manifest.stakes:
        if quick:
            _, subset, options = _spec_subset(fits_dir, entry.dataset, settings)
            fitted = _fit(
                subset, entry.agent, settings, conditions={"w": "stakes"}, log_likelihood=False,
                **options,
            )  # fmt: skip
        else:
            fitted = _read_fit(fits_dir, entry.dataset, entry.fit)
        key, task = entry.key, entry.task
        numbers[f"f6_{key}_participants"] = int(fitted.posterior.sizes["participant"])
        numbers[f"f6_{key}_fit"] = _fit_size(fitted)
        numbers |= _verdict_of(f"f6_{key}", fitted)
        if not numbers[f"f6_{key}_converged"]:
            continue
        mu_w = fitted.posterior["mu_w"]
        low, high = _two_levels(mu_w, "stakes")
        for level, name in ((low, "low"), (high, "high")):
            interval = _interval(mu_w.sel(stakes=level))
            stakes.append({"label": f"{task}, {name} stakes", "task": task, **interval})
            numbers[f"f6_{key}_w_{name}"] = interval["mean"]
        difference = _interval(mu_w.sel(stakes=high) - mu_w.sel(stakes=low))
        numbers |= {f"f6_{key}_diff_{k}": v for k, v in difference.items()}
    titles = (
        "Gillan 2016 study 2: observed (bars)\nvs posterior predictive",
        "Gillan 2016 study 2: effects on logit w",
        "Kool 2017: w by stakes",
    )
    stakes_rows = pd.DataFrame(stakes, columns=["label", "task", "mean", "ci_low", "ci_high"])
    slope_rows = pd.DataFrame(slopes, columns=["label", "mean", "ci_low", "ci_high"])
    figure = real_data_figure(observed, predicted, slope_rows, stakes_rows, titles)
    ax_ppc, ax_slope, ax_stakes = figure.axes[:3]
    if not numbers["f6_gillan_converged"]:
        reason = _unconverged(numbers["f6_gillan_problems"])
        ax_ppc.set_xlabel(f"posterior predictive not shown:\n{reason}", color="firebrick",
                          fontsize="small", wrap=True)  # fmt: skip
        _withhold(ax_slope, reason)
    unconverged = [e for e in manifest.stakes if not numbers[f"f6_{e.key}_converged"]]
    if unconverged:
        reasons = "\n".join(f"{e.task}: {_unconverged(numbers[f'f6_{e.key}_problems'])}"
                             for e in unconverged)  # fmt: skip
        if stakes_rows.empty:
            _withhold(ax_stakes, reasons)
        else:
            ax_stakes.set_xlabel(f"group w; not shown:\n{reasons}", fontsize="small", wrap=True)
    return PaperFigure("F6_real_data", figure, numbers)


FIGURES: dict[str, Callable[..., PaperFigure]] = {
    "F1": figure_stay,
    "F2": figure_load,
    "F3": figure_novelty,
    "F4": figure_recovery,
    "F5": figure_comparison,
    "F6": figure_real_data,
}
NEEDS_FITS = {"F5", "F6"}


def make_figures(
    settings: PaperSettings,
    fits_dir: str | Path | None = None,
    only: Sequence[str] | None = None,
    manifest: PaperManifest | str | Path | None = None,
) -> Iterator[PaperFigure]:
    """Build the paper's figures one at a time (a generator, so callers can save each).

    Parameters
    ----------
    settings : PaperSettings
        :data:`QUICK` or :data:`FULL` (or your own).
    fits_dir : path, optional
        The fits folder (the repository's ``fits/``): the real data, and in full mode
        the fits, of figures F5 and F6, which need it.
    only : sequence of str, optional
        Figure keys (``"F1"`` … ``"F6"``); default all.
    manifest : PaperManifest or path, optional
        The paper's manifest (``paper/manifest.toml``): required for F5 and F6.

    Raises
    ------
    KeyError
        Naming an unknown figure.
    FileNotFoundError
        When F5 or F6 is asked for and the manifest, or the fits folder's dataset
        of F6, is not there.
    """
    unknown = sorted(set(only or []) - set(FIGURES))
    if unknown:
        raise KeyError(f"unknown figure {unknown[0]!r}; figures are {', '.join(FIGURES)}")
    keys = [k for k in FIGURES if not only or k in only]
    if NEEDS_FITS & set(keys):
        manifest = _real_data_manifest(fits_dir, manifest)
        fits_dir = Path(fits_dir)
    for key in keys:
        function = FIGURES[key]
        yield function(settings, fits_dir, manifest) if key in NEEDS_FITS else function(settings)


def _real_data_manifest(fits_dir, manifest) -> PaperManifest:
    """The manifest of figures F5 and F6, once it and the fits folder are known to be there."""
    where = "run from the repository root or pass --fits PATH/TO/fits"
    if fits_dir is None or manifest is None:
        raise FileNotFoundError(
            "figures F5 and F6 need the fits folder and the paper's manifest (its datasets)"
        )
    fits_dir = Path(fits_dir)
    if not isinstance(manifest, PaperManifest) and not Path(manifest).is_file():
        raise FileNotFoundError(
            f"{manifest}: no such file (the paper's manifest, naming the real datasets of "
            f"figures F5 and F6): {where}"
        )
    manifest = as_manifest(manifest)
    dataset = manifest.predictive_dataset
    if not (fits_dir / dataset / "fit.toml").is_file():
        raise FileNotFoundError(
            f"{fits_dir}/ has no {dataset}/fit.toml: {where} (figures F5 and F6 use its real "
            "datasets)"
        )
    return manifest


_NO_MARKER = r"(?:(?!<!--\s*(?:if|else|end)\b).)*?"  # text holding no block marker
_BLOCK = re.compile(
    rf"<!-- if (?P<key>[a-z_0-9]+) -->\n(?P<then>{_NO_MARKER})"
    rf"(?:<!-- else -->\n(?P<otherwise>{_NO_MARKER}))?<!-- end -->\n",
    re.DOTALL,
)


_MARKER = re.compile(r"<!--\s*(if|else|end)\b[^>]*-->")


def choose_blocks(template: str, numbers: Mapping[str, object]) -> str:
    """Keep the branch of each ``<!-- if key -->`` … ``<!-- else -->`` … ``<!-- end -->``
    block of ``template`` that ``numbers[key]`` (a bool) selects; the ``else`` part is
    optional. Each marker stands on a line of its own; blocks do not nest.

    This is how the paper states a fit's estimates only when the fit converged
    (``key`` = ``<prefix>_converged``, see :func:`fit_verdict`).

    Raises
    ------
    KeyError
        When a block's key is not in ``numbers``.
    TypeError
        When its value is not a bool.
    ValueError
        When a marker is left over (malformed, or nested): it would show both branches.
    """

    def choose(match: re.Match) -> str:
        key = match["key"]
        if key not in numbers:
            raise KeyError(f"the paper template's block <!-- if {key} --> has no such number")
        if not isinstance(numbers[key], bool):
            raise TypeError(
                f"the paper template's block <!-- if {key} --> needs a true/false number, "
                f"not {numbers[key]!r}"
            )
        return match["then"] if numbers[key] else match["otherwise"] or ""

    chosen = _BLOCK.sub(choose, template)
    leftover = _MARKER.search(chosen)
    if leftover:  # a marker the block syntax did not take: both branches would show
        line = chosen[: leftover.start()].count("\n") + 1
        raise ValueError(
            f"the paper template has a malformed block marker {leftover[0]!r} (line {line} "
            "after the blocks were chosen): each of <!-- if key -->, <!-- else -->, "
            "<!-- end --> stands alone on its line, and blocks do not nest"
        )
    return chosen


def render_paper(template: str, numbers: Mapping[str, object]) -> str:
    """Fill ``{name}`` / ``{name:.2f}`` fields of the paper's template from ``numbers``,
    after choosing its conditional blocks (:func:`choose_blocks`): only the fields of
    the chosen branches need numbers.

    Raises
    ------
    KeyError
        Naming the first field of the template with no number.
    """
    template = choose_blocks(template, numbers)
    missing = [
        name
        for _, name, _, _ in string.Formatter().parse(template)
        if name is not None and name.split(".")[0].split("[")[0] not in numbers
    ]
    if missing:
        raise KeyError(f"the paper template quotes {{{missing[0]}}}, which no figure computed")
    return template.format_map(dict(numbers))


def settings_named(name: str, **overrides) -> PaperSettings:
    """:data:`QUICK` or :data:`FULL` by name, with fields overridden (e.g. ``seed``)."""
    base = {"quick": QUICK, "full": FULL}[name]
    return dataclasses.replace(base, **overrides)
