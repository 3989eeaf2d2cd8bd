"""The work behind ``cogarb simulate``, ``fit``, ``recover``, ``sbc``, ``demo`` and ``figures``.

Each function takes its inputs, does the whole job and writes its outputs, with the
rules of :mod:`cogarb.runs`: the output folder is prepared before any work, files
are written atomically, and a fit's ``done.json`` is written last. Progress lines go
to a ``say`` callback (``print`` by default); the command line only parses its
arguments, calls one of these and prints what it returns. A ``fit.toml`` is run by
:func:`cogarb.runs.run_fit_spec`; the paper's figures are computed by
:mod:`cogarb.paper` and saved by :func:`make_paper`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import cogarb

Say = Callable[[str], object]


def simulate_to_file(
    task,
    agent: str,
    params: Mapping[str, float],
    out: str | os.PathLike,
    n_participants: int = 100,
    seed: int = 0,
    internals: bool = False,
):
    """Simulate a cohort (:func:`cogarb.simulate`) and write its trials to ``out``.

    ``out`` (.csv, .csv.gz or .parquet) and its folder are checked before the
    simulation, so a bad path loses no work.

    Returns
    -------
    pandas.DataFrame
        The simulated trials.
    """
    from cogarb.data import check_output_path
    from cogarb.runs import prepare_output

    out = check_output_path(out)  # before simulating: a bad --out loses no work
    prepare_output(out.parent)
    trials = cogarb.simulate(
        task, agent, dict(params), n_participants=n_participants, seed=seed, internals=internals
    )
    cogarb.write_trials(trials, out)
    return trials


def fit_file(
    source: str | os.PathLike,
    out: str | os.PathLike,
    agent: str = "hybrid",
    *,
    format: str | None = None,
    sampler: Mapping | None = None,
    ppc: int = 0,
    progress: bool = True,
    say: Say = print,
    **model_options,
):
    """Fit the trials of one file into the folder ``out`` (``cogarb fit TRIALS``).

    Writes ``posterior.nc``, ``summary.csv``, ``diagnostics.json`` and, last,
    ``done.json`` (:func:`cogarb.runs.write_fit`). The folder is prepared (created,
    proven writable, space checked) before any work; earlier outputs move to
    ``previous/`` once the model is built.

    Parameters
    ----------
    source : path
        A trial file or dataset folder (:func:`cogarb.read_trials`).
    out : path
    agent : str
    format : str, optional
        The format of ``source`` (default: inferred).
    sampler : dict, optional
        ``draws``, ``tune``, ``chains``, ``seed`` (default: fitspec's
        ``SAMPLER_DEFAULTS``).
    ppc : int
        Posterior-predictive data sets to add (0: none).
    progress : bool
        nutpie's progress bar.
    say : callable
        Receives the line describing the data, and the fit's report.
    **model_options
        ``conditions``, ``covariates``, ``centred`` (see :func:`cogarb.fit`).

    Returns
    -------
    arviz.InferenceData
    """
    from cogarb.fitspec import SAMPLER_DEFAULTS
    from cogarb.runs import (
        describe_missed,
        fit_report,
        naming,
        output_folder,
        posterior_bytes,
        quiet_sampling,
        retire_outputs,
        write_done_marker,
        write_fit,
    )

    out = Path(out)
    trials = cogarb.read_trials(source, format=format)
    sampler = {**SAMPLER_DEFAULTS, **(sampler or {})}
    needed = posterior_bytes(trials, agent, sampler, ppc_draws=ppc)
    with output_folder(out, needed):  # before any work: a fit is never lost to its folder
        say(
            f"{source}: {trials['participant'].nunique()} participants, {len(trials)} "
            f"trials ({describe_missed(trials)}); "
            f"fitting '{agent}'"
        )
        start = time.perf_counter()
        with naming(str(source)), quiet_sampling():  # the report's block says it instead
            idata = cogarb.fit(
                trials, agent, **sampler, posterior_predictive=ppc or False,
                progress=progress, before_compile=lambda: retire_outputs(out),
                **model_options,
            )  # fmt: skip
        written = write_fit(idata, out)
        seconds = time.perf_counter() - start
        write_done_marker(out, None, seconds, agent, trials=str(source))
    say(fit_report(*written, seconds, out))
    return idata


RECOVERY_TABLES = ("recovery.csv", "recovery_summary.csv")


def recover_to_folder(
    out: str | os.PathLike,
    agent: str = "hybrid",
    task: str | cogarb.Task = "daw2011",
    n_participants: int = 100,
    sampler: Mapping | None = None,
    progress: bool = True,
):
    """Parameter recovery (:func:`cogarb.recover`) written into the folder ``out``.

    Writes the fit's files (:func:`cogarb.runs.write_fit`), ``recovery.csv`` (per
    participant), ``recovery_summary.csv`` (per parameter) and, last, ``done.json``.
    The folder is prepared before any work; earlier outputs move to ``previous/``
    once the model is built.

    Parameters
    ----------
    out : path
    agent : str
    task : str or Task
    n_participants : int
    sampler : dict, optional
        ``draws``, ``tune``, ``chains``, ``seed`` (default: fitspec's
        ``SAMPLER_DEFAULTS``).
    progress : bool

    Returns
    -------
    cogarb.recovery.Recovery
    """
    from cogarb.fitspec import SAMPLER_DEFAULTS
    from cogarb.runs import (
        DONE,
        FIT_FILES,
        output_folder,
        retire_outputs,
        write_done_marker,
        write_fit,
    )

    out = Path(out)
    sampler = {**SAMPLER_DEFAULTS, **(sampler or {})}
    loaded = task if isinstance(task, cogarb.Task) else cogarb.load_task(task)
    settings = recovery_settings(agent, loaded, n_participants, sampler)
    start = time.perf_counter()
    with output_folder(out):
        result = cogarb.recover(
            agent, loaded, n_participants, **sampler, progress=progress,
            before_compile=lambda: retire_outputs(out, (*FIT_FILES, *RECOVERY_TABLES, DONE)),
        )  # fmt: skip
        tables = (result.participants, result.summary)
        write_fit(result.idata, out, dict(zip(RECOVERY_TABLES, tables, strict=True)))
        write_done_marker(out, None, time.perf_counter() - start, "recover", seed=sampler["seed"],
                          settings=settings)  # fmt: skip
    return result


def task_record(task: cogarb.Task) -> dict:
    """A loaded task as plain JSON data (every field but ``source``, the file it came
    from), so that an edited task file changes a run's settings."""
    import dataclasses

    record = dataclasses.asdict(task)
    record.pop("source", None)
    return json.loads(json.dumps(record, default=repr))


def recovery_settings(agent: str, task: cogarb.Task, n_participants: int, sampler: Mapping) -> dict:
    """Everything a recovery cohort's result depends on, as JSON data: the agent's
    name and definition, the task as loaded, the cohort size, the sampler (with its
    seed), cogarb's version and the kernel-source hash.

    Parameters
    ----------
    agent : str
    task : Task
    n_participants : int
    sampler : dict
        ``draws``, ``tune``, ``chains``, ``seed`` and any further sampler options.

    Returns
    -------
    dict
    """
    from cogarb._kernels import cache as kernel_cache

    spec = cogarb.get_agent(agent)
    record = {
        "agent": spec.name, "agent_definition": repr(spec.definition), "task": task_record(task),
        "n_participants": n_participants, "sampler": dict(sampler),
        "cogarb": cogarb.__version__, "kernels": kernel_cache.SOURCE_HASH,
    }  # fmt: skip
    return json.loads(json.dumps(record, default=repr))


def recover_seeds_to_folder(
    out: str | os.PathLike,
    agent: str = "hybrid",
    task: str | cogarb.Task = "daw2011",
    n_participants: int = 100,
    n_seeds: int = 5,
    sampler: Mapping | None = None,
    progress: bool = True,
    say: Say = print,
):
    """Recovery over ``n_seeds`` independent cohorts (:func:`cogarb.recovery.recover_seeds`)
    written into the folder ``out``.

    Cohort k goes to ``out/cohort_<k>/`` (the files of :func:`recover_to_folder`).
    A cohort whose folder is finished with the same settings (:func:`recovery_settings`
    in its ``done.json``: agent, task as loaded, cohort size, sampler and seed,
    cogarb's version and kernel-source hash) is read back, not refitted, so an
    interrupted run resumes; a finished cohort of any other settings is fitted
    again, and a line says which settings differ. Then ``out/recovery_seeds.csv`` (r
    and coverage per cohort and parameter), ``out/recovery_seeds_summary.csv`` (mean
    and minimum over cohorts) and, last, ``out/done.json`` (with the settings).

    Parameters
    ----------
    out : path
    agent : str
    task : str or Task
    n_participants : int
    n_seeds : int
    sampler : dict, optional
        ``draws``, ``tune``, ``chains`` and ``seed``, which seeds the cohorts' seeds
        (:func:`cogarb.recovery.cohort_seeds`).
    progress : bool
    say : callable
        Receives one line per cohort, and one per cohort fitted again because its
        folder held other settings.

    Returns
    -------
    cogarb.recovery.SeedRecovery
    """
    import pandas as pd

    from cogarb.fitspec import SAMPLER_DEFAULTS
    from cogarb.recovery import cohort_seeds, seed_tables
    from cogarb.runs import DONE, done_record, prepare_output, write_done_marker, write_text

    out = Path(out)
    sampler = {**SAMPLER_DEFAULTS, **(sampler or {})}
    seeds = cohort_seeds(sampler["seed"], n_seeds)
    cogarb.get_agent(agent)  # an unknown agent or task fails before any folder is made
    loaded = task if isinstance(task, cogarb.Task) else cogarb.load_task(task)
    prepare_output(out)
    (out / DONE).unlink(missing_ok=True)
    start = time.perf_counter()
    summaries = {}
    for cohort, seed in enumerate(seeds):
        folder = out / f"cohort_{cohort}"
        cohort_sampler = {**sampler, "seed": seed}
        wanted = recovery_settings(agent, loaded, n_participants, cohort_sampler)
        record = done_record(folder)
        began = time.perf_counter()
        if record is not None and record.get("job") == "recover" \
                and record.get("settings") == wanted:  # fmt: skip
            table = pd.read_csv(folder / RECOVERY_TABLES[1], index_col="parameter")
            how = "read back"
        else:
            if record is not None:
                earlier = record.get("settings") or {}
                changed = sorted(k for k in wanted if earlier.get(k) != wanted[k])
                say(f"cohort {cohort + 1}/{n_seeds}: {folder}/ holds a fit with other settings "
                    f"({', '.join(changed)} differ): fitting it again")  # fmt: skip
            result = recover_to_folder(
                folder, agent, loaded, n_participants, cohort_sampler, progress
            )
            table, how = result.summary, f"{time.perf_counter() - began:.0f} s"
        summaries[cohort] = (seed, table)
        say(f"cohort {cohort + 1}/{n_seeds} (seed {seed}): {how}")
    result = seed_tables(summaries)
    write_text(out / "recovery_seeds.csv", result.per_seed.to_csv(index=False))
    write_text(out / "recovery_seeds_summary.csv", result.summary.to_csv())
    settings = recovery_settings(agent, loaded, n_participants, sampler)
    write_done_marker(out, None, time.perf_counter() - start, "recover_seeds", seeds=seeds,
                      settings=settings)  # fmt: skip
    return result


SBC_TABLES = ("ranks.csv", "diagnostics.csv", "summary.csv")


def sbc_to_folder(
    out: str | os.PathLike,
    agent: str,
    task: str | os.PathLike = "daw2011",
    n_datasets: int = 200,
    n_participants: int = 10,
    seed: int = 0,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    max_ranks: int | None = None,
    say: Say = print,
    **fit_options,
):
    """Simulation-based calibration (:func:`cogarb.sbc`) written into the folder ``out``.

    Each data set's ranks and diagnostics are written, atomically, to
    ``out/datasets/<k>.json`` as soon as it is done; a rerun with the same settings
    reads those back and runs only the missing data sets (more data sets than before
    may be asked for). Then ``out/ranks.csv``, ``out/diagnostics.csv`` (per data
    set), ``out/summary.csv`` (per parameter: inside the band, max deviation),
    ``out/sbc.png`` and ``.pdf`` (:func:`cogarb.plots.sbc_ecdf_difference`) and, last,
    ``out/done.json`` (parameters inside the band, and ``expected_outside`` = α·M, the
    number outside expected under calibration).

    What is guarded: the settings, in ``out/settings.json``, are the arguments, the
    task as loaded (every field of its TOML, so an edited task file counts), the
    resolved hyperpriors, the rank method (:data:`cogarb.sbc.RANK_METHOD`) and
    cogarb's version; a folder holding a run with other settings is refused before
    any work. Each data set's record carries the hash of the kernel sources that
    fitted it (:data:`cogarb._kernels.cache.SOURCE_HASH`); a record of other
    kernels is fitted again (and said so). Not guarded: edits to the Python code
    outside ``cogarb/_kernels/`` (PyMC model, sampler wrapper, ranking) that leave
    the version string as it is, and other versions of the installed libraries
    (PyMC, nutpie, NumPy).

    Parameters
    ----------
    out : path
    agent : str
    task : str
        A built-in task name or a TOML path.
    n_datasets, n_participants, seed, draws, tune, chains, max_ranks, **fit_options
        As :func:`cogarb.sbc`.
    say : callable
        Receives one line per data set (index, seconds, diagnostics).

    Returns
    -------
    cogarb.sbc.SBCResult

    Raises
    ------
    ValueError
        For bad sizes, an unknown agent or task, or a folder with other settings.
    """
    from cogarb._kernels import cache as kernel_cache
    from cogarb.plots import sbc_ecdf_difference
    from cogarb.runs import DONE, prepare_output, write_done_marker, write_json, write_text
    from cogarb.sbc import (
        MAX_RANKS,
        RANK_METHOD,
        DatasetResult,
        check_options,
        check_sizes,
        hyperpriors,
        sbc_dataset,
        sbc_result,
    )

    out = Path(out)
    max_ranks = MAX_RANKS if max_ranks is None else max_ranks
    check_sizes(n_datasets, n_participants, max_ranks)
    check_options(fit_options)
    for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    spec = cogarb.get_agent(agent)
    loaded = cogarb.load_task(task)
    settings = {
        "agent": spec.name, "task": str(task), "n_participants": n_participants,
        "seed": seed, "draws": draws, "tune": tune, "chains": chains,
        "max_ranks": max_ranks, "fit_options": fit_options,
        "task_spec": task_record(loaded),
        "hyperpriors": hyperpriors(spec, fit_options.get("priors")),
        "ranks": RANK_METHOD, "cogarb": cogarb.__version__,
    }  # fmt: skip
    settings = json.loads(json.dumps(settings, default=repr))
    prepare_output(out)
    settings_path, folder = out / "settings.json", out / "datasets"
    if settings_path.is_file():
        earlier = json.loads(settings_path.read_text())
        if earlier != settings:
            changed = sorted(k for k in settings if earlier.get(k) != settings[k])
            raise ValueError(
                f"{out} holds an SBC run with other settings ({', '.join(changed)} differ): "
                "use another --out, or the same settings to resume it"
            )
    else:
        write_json(settings_path, settings)
    (out / DONE).unlink(missing_ok=True)
    start = time.perf_counter()
    results, stale = {}, 0
    for k in range(n_datasets):
        path = folder / f"{k:04d}.json"
        if path.is_file():
            record = json.loads(path.read_text())
            if record.get("kernels") != kernel_cache.SOURCE_HASH:
                stale += 1  # fitted by other kernel sources: fitted again, never mixed in
                continue
            results[k] = DatasetResult.from_record(record)
    if results:
        say(f"{len(results)} of {n_datasets} data sets already done in {folder}/")
    if stale:
        say(f"{stale} data sets in {folder}/ were fitted with other kernel sources: fitting "
            "them again")  # fmt: skip
    for k in range(n_datasets):
        if k in results:
            continue
        result = sbc_dataset(
            spec, loaded, k, n_participants, seed, draws, tune, chains, max_ranks, **fit_options
        )
        write_json(folder / f"{k:04d}.json",
                   result.to_record() | {"kernels": kernel_cache.SOURCE_HASH})  # fmt: skip
        results[k] = result
        found = result.diagnostics
        rhat = "n/a" if found["max_rhat"] is None else f"{found['max_rhat']:.3f}"
        ess = "n/a" if found["min_ess_bulk"] is None else f"{found['min_ess_bulk']:.0f}"
        tail = "n/a" if found["min_ess_tail"] is None else f"{found['min_ess_tail']:.0f}"
        say(
            f"dataset {k + 1}/{n_datasets}: {result.seconds:.1f} s, max R-hat {rhat}, "
            f"min bulk ESS {ess}, min tail ESS {tail}, {found['divergences']} divergences, "
            f"{found['tree_depth_hits']} depth hits, {found['n_ranks']} ranks"
        )
    result = sbc_result(results.values(), spec)
    for name, table in zip(SBC_TABLES, (result.ranks, result.diagnostics), strict=False):
        write_text(out / name, table.to_csv(index=False))
    write_text(out / SBC_TABLES[2], result.summary.to_csv())
    title = (
        f"SBC of {spec.name} on {task}: {n_datasets} data sets, "
        f"{1 - result.band.alpha:.0%} band for each parameter\n"
        "participants' panels: ECDF of all participants pooled (descriptive); "
        "their test and 'outside' use participant k mod n of data set k"
    )
    save_figure(sbc_ecdf_difference(result, title=title), out / "sbc")
    write_done_marker(
        out, None, time.perf_counter() - start, "sbc", datasets=n_datasets,
        inside_band=int(result.summary["inside_band"].sum()), parameters=len(result.summary),
        alpha=result.band.alpha, expected_outside=round(result.expected_outside, 3),
    )  # fmt: skip
    return result


def save_figure(figure, path: str | Path) -> None:
    """Save a matplotlib ``figure`` as ``path`` with suffix .png and .pdf (150 dpi), each
    written atomically (a temporary file renamed into place)."""
    from cogarb._atomic import atomic_path

    path = Path(path)
    for suffix in (".png", ".pdf"):
        with atomic_path(path.with_suffix(suffix)) as tmp:
            figure.savefig(tmp, dpi=150)


def make_paper(
    settings,
    out: str | Path,
    fits_dir: str | Path | None = None,
    manifest=None,
    only: Sequence[str] = (),
    template: str | Path | None = None,
    paper: str | Path | None = None,
    skip_real: bool = False,
    say: Say = print,
) -> dict:
    """Make and save the paper's figures and their numbers; fill in the paper.

    Writes ``out/<figure>.png`` and ``.pdf`` for each figure, ``out/numbers.json``
    (rewritten after every figure, so an interrupted run keeps the numbers of those
    it made), and, given a template, the paper with its numbers filled in. The
    output folder is prepared first (:func:`cogarb.runs.prepare_output`).

    Parameters
    ----------
    settings : cogarb.paper.PaperSettings
        The sizes of the simulations and fits (``cogarb.paper.QUICK``, ``FULL``).
    out : path
        Folder of the figures and ``numbers.json``.
    fits_dir : path, optional
        The fits folder (see :func:`cogarb.paper.make_figures`); required unless F5
        and F6 are left out.
    manifest : cogarb.paper.PaperManifest or path, optional
        The paper's manifest (``paper/manifest.toml``); required unless F5 and F6 are left out.
    only : sequence of str
        Make only these figures; ``numbers.json`` keeps the other figures' numbers
        from the last run, which must have used the same settings and seed.
    template : path, optional
        The paper's template (``paper/paper_template.md``); no paper is written
        without one, when the file does not exist, or with ``skip_real``.
    paper : path, optional
        Where to write the paper (default ``out/paper.md``).
    skip_real : bool
        Leave out the real-data figures F5 and F6 (and the paper).
    say : callable
        Receives each progress line.

    Returns
    -------
    dict
        The numbers written to ``numbers.json``.

    Raises
    ------
    ValueError
        For an unknown figure in ``only``, or a ``numbers.json`` in ``out`` made
        with other settings or another seed when ``only`` is given (before any work).
    """
    from cogarb.paper import FIGURES, NEEDS_FITS, make_figures, render_paper
    from cogarb.runs import prepare_output, quiet_sampling, write_text

    out = Path(out)
    unknown = [k for k in only if k not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure {unknown[0]!r}: the figures are {', '.join(FIGURES)}")
    prepare_output(out)
    keys = [k for k in FIGURES if (not only or k in only) and not (skip_real and k in NEEDS_FITS)]
    numbers_path = out / "numbers.json"
    numbers = {}
    if only and numbers_path.is_file():  # the other figures' numbers are kept from the last run
        numbers = json.loads(numbers_path.read_text())
        made_with = (numbers.get("settings"), numbers.get("seed"))
        if made_with != (settings.name, settings.seed):
            raise ValueError(
                f"{numbers_path} holds numbers of {made_with[0]} settings, seed {made_with[1]}: "
                "remake every figure (no --only) or use another --out"
            )
    numbers |= {"settings": settings.name, "seed": settings.seed, "draws": settings.draws,
                "tune": settings.tune, "chains": settings.chains}  # fmt: skip
    say(f"making figures {', '.join(keys)} ({settings.name} settings) in {out}/")
    start = time.perf_counter()
    figures = make_figures(settings, fits_dir, keys, manifest)
    for key in keys:
        began = time.perf_counter()
        with quiet_sampling():  # each fit's verdict is said below, once
            made = next(figures)
        save_figure(made.figure, out / made.name)
        seconds = time.perf_counter() - began
        numbers |= made.numbers | {f"{key.lower()}_seconds": round(seconds, 1)}
        # after every figure: an interrupted run keeps the numbers of those it made
        write_text(numbers_path, json.dumps(numbers, indent=2, default=float) + "\n")
        say(f"  {made.name}.png/.pdf: {seconds:.0f} s")
        for note in made.notes:
            say(f"    note: {note}")
        for name, value in made.numbers.items():  # the fits the paper does not quote
            fit = name.removesuffix("_converged")
            if value is False and f"{fit}_problems" in made.numbers:
                problems = made.numbers[f"{fit}_problems"]
                say(f"    note: fit {fit} has not converged ({problems}): not quoted")
    if template is not None and Path(template).is_file() and not skip_real:
        paper = Path(paper) if paper else out / "paper.md"
        figure_dir = os.path.relpath(out, paper.parent)
        text = render_paper(Path(template).read_text(), numbers | {"figures": figure_dir})
        write_text(paper, text)
        say(f"  {paper}: the paper, numbers filled in from this run")
    say(f"{time.perf_counter() - start:.0f} s -> {out}/")
    return numbers


DEMO_AGENTS = {
    "mf": "model-free",
    "mb": "model-based",
    "hybrid": "hybrid (Daw 2011 medians)",
    "arbitrator": "arbitrator (defaults)",
}


def run_demo(
    out: str | os.PathLike,
    n_participants: int = 200,
    seed: int = 1,
    *,
    figures: bool = True,
    fits_dir: str | os.PathLike | None = None,
    manifest=None,
    template: str | os.PathLike | None = None,
    say: Say = print,
) -> None:
    """The main job on built-in defaults (``cogarb demo``).

    Simulates the four agents of :data:`DEMO_AGENTS` on the Daw et al. (2011) task and
    writes ``out/trials_<agent>.csv.gz``, ``out/stay_probabilities.csv`` and
    ``out/stay_regression.csv``, saying each agent's stay table; then, with
    ``figures``, makes the paper's figures with quick settings in ``out/figures``
    (:func:`make_paper`). Figures F5 and F6 (and the paper) are left out,
    with a note, when the fits folder or the manifest is not there.

    Parameters
    ----------
    out : path
    n_participants : int
        Cohort size per agent.
    seed : int
    figures : bool
    fits_dir : path, optional
        The fits folder (the repository's ``fits/``).
    manifest : PaperManifest or path, optional
        The paper's manifest (``paper/manifest.toml``).
    template : path, optional
        The paper's template; the paper is written to ``out/figures/paper.md``.
    say : callable
        Receives each line of the report.
    """
    import pandas as pd

    from cogarb.runs import prepare_output, write_text

    out = Path(out)
    prepare_output(out)
    task = cogarb.load_task("daw2011")
    groups, regressions = [], []
    for agent, label in DEMO_AGENTS.items():
        trials = cogarb.simulate(task, agent, {}, n_participants=n_participants, seed=seed)
        cogarb.write_trials(trials, out / f"trials_{agent}.csv.gz")
        stays = cogarb.stay_probabilities(trials)
        groups.append(stays.group.assign(agent=agent))
        regressions.append(cogarb.stay_regression(trials).pooled.assign(agent=agent))
        say(f"\n== {label}: {n_participants} participants × {task.n_trials} trials")
        say(str(stays))
    write_text(out / "stay_probabilities.csv", pd.concat(groups).to_csv(index=False))
    write_text(out / "stay_regression.csv", pd.concat(regressions).to_csv(index=False))
    if figures:
        from cogarb.paper import settings_named

        missing = _missing_real_data(fits_dir, manifest)
        if missing:
            say(f"\n{missing}")
        say("\n== the paper's figures, quick settings (fits compile in about 20 s each)")
        make_paper(
            settings_named("quick", seed=seed), out / "figures", fits_dir, manifest,
            template=template, skip_real=missing is not None, say=say,
        )  # fmt: skip
    say(f"\nwrote trials, tables and figures (.png/.pdf) to {out}/")


def _missing_real_data(fits_dir, manifest) -> str | None:
    """Why the demo cannot make figures F5 and F6, or None when it can."""
    from cogarb.paper import PaperManifest, as_manifest

    hint = "(run from the repository root for figures F5 and F6)"
    if fits_dir is None or manifest is None:
        return f"no fits folder or manifest given {hint}"
    fits_dir = Path(fits_dir)
    if not fits_dir.is_dir():
        return f"{fits_dir}/ not found {hint}"
    if not isinstance(manifest, PaperManifest) and not Path(manifest).is_file():
        return f"{manifest} not found {hint}"
    if not (fits_dir / as_manifest(manifest).quick_comparison / "fit.toml").is_file():
        return f"{fits_dir}/ not found {hint}"
    return None
