"""Fit outputs on disk: where a fit is written, how it is marked finished, how it is read back.

A fit's folder holds ``posterior.nc``, ``summary.csv``, ``diagnostics.json`` (and
any extra tables) and, written last, ``done.json``: the marker that the fit
finished. A folder without it, or whose marker's fingerprint differs from the
current ``fit.toml``'s, holds no finished fit, and no reader here returns one.

The rules that keep anything from being lost or silently stale:

* :func:`output_folder` creates the folder, proves it writable and checks the free
  space *before* any work (compiling, sampling);
* :func:`retire_outputs` moves a finished earlier set into ``previous/`` (marker
  first) once the run's inputs are known to be good, and deletes an interrupted
  run's leftovers, so an interrupted refit never leaves old results looking
  finished;
* every file is written atomically (a temporary file renamed into place), and
  ``done.json`` last;
* a comparison (``compare.csv``) records the fingerprints of the fits it compares
  in ``compare.done.json``; :func:`read_comparison` accepts it only while each
  fit's own marker still matches.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from cogarb._atomic import atomic_path

DONE = "done.json"
PREVIOUS = "previous"
FIT_FILES = ("posterior.nc", "summary.csv", "diagnostics.json")
COMPARE = "compare.csv"  # PSIS-LOO leaving out one trial at a time
COMPARE_BY_PARTICIPANT = "compare_by_participant.csv"  # ... one participant at a time
COMPARE_DONE = "compare.done.json"
COMPARISON_FILES = (COMPARE_DONE, COMPARE, COMPARE_BY_PARTICIPANT)  # the marker first
# Free space asked for beyond the estimate of what a fit writes: netCDF headers,
# the temporary copy of a file being replaced, summary tables.
SPACE_MARGIN_BYTES = 16 * 2**20


class OutputError(OSError):
    """An output folder that cannot hold the results; raised before any work is done."""


class UnfinishedFitError(FileNotFoundError):
    """A fit folder without a matching done marker: it holds no finished fit."""


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


@contextmanager
def output_folder(
    out: str | os.PathLike,
    needed_bytes: int = 0,
    hint: str = "choose another folder with --out",
) -> Iterator[Path]:
    """Make ``out`` ready for a run's results, before the run does any work.

    Creates the folder (and its parents), makes and removes a test file in it and
    checks that ``needed_bytes`` plus a margin are free. If the block raises, the
    folders this call created are removed again when still empty. Earlier results
    in the folder are left alone here: :func:`retire_outputs` moves them aside once
    the run's inputs are known to be good (see ``before_compile`` of
    :func:`cogarb.fit`).

    Raises
    ------
    OutputError
        Naming the folder and the problem (a file in its place, no permission, a
        read-only file system, too little space), with ``hint``.
    """
    out = Path(out)
    created = prepare_output(out, needed_bytes, hint)
    try:
        yield out
    except BaseException:
        _remove_empty(created)
        raise


def prepare_output(
    out: str | os.PathLike, needed_bytes: int = 0, hint: str = "choose another folder with --out"
) -> list[Path]:
    """Create ``out``, prove it writable and check its free space; return the folders made.

    :func:`output_folder` without the clean-up: for commands whose outputs are
    written straight after (and left, if the command fails, to be seen).

    Raises
    ------
    OutputError
        As :func:`output_folder`.
    """
    out = Path(out)
    created = _make_folders(out, hint)
    try:
        _probe(out, hint)
        free = _free_bytes(out)
        if needed_bytes and free < needed_bytes + SPACE_MARGIN_BYTES:
            raise OutputError(
                f"{out}: {free / 2**20:,.0f} MB free, but the results need about "
                f"{(needed_bytes + SPACE_MARGIN_BYTES) / 2**20:,.0f} MB; free some space or "
                f"{hint}"
            )
    except OutputError:
        _remove_empty(created)
        raise
    return created


def _remove_empty(created: list[Path]) -> None:
    for folder in reversed(created):  # deepest first
        try:
            folder.rmdir()  # only if still empty
        except OSError:
            break


def _make_folders(out: Path, hint: str) -> list[Path]:
    missing = [p for p in (out, *out.parents) if not p.exists()][::-1]
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            raise OutputError(f"{path}: is a file, not a folder; {hint}")
        if path.exists():
            break
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{out}: cannot create the folder ({err.strerror}); {hint}") from None
    return missing


def _probe(out: Path, hint: str) -> None:
    try:
        fd, name = tempfile.mkstemp(dir=out, prefix=".cogarb-write-test-")
        try:
            os.write(fd, b"x")
        finally:
            os.close(fd)
            os.unlink(name)
    except OSError as err:
        raise OutputError(f"{out}: cannot write there ({err.strerror}); {hint}") from None


def retire_outputs(out: Path, names: tuple[str, ...] = (*FIT_FILES, DONE)) -> list[str]:
    """Clear the files ``names`` of an earlier run out of ``out`` before a new run writes.

    A finished set (its marker, ``done.json`` or ``compare.done.json``, among
    ``names``) moves as a whole into ``out/previous/``, marker first, replacing the
    set an older run left there: at no moment do old results look finished beside
    new ones, and ``previous/`` always holds one finished set, never a mixture. An
    unfinished set (no marker: an interrupted run's leftovers, never a result) is
    deleted. Returns the names moved.
    """
    present = [name for name in names if (out / name).exists()]
    markers = [name for name in (DONE, COMPARE_DONE) if name in names]
    if not any(name in present for name in markers):
        for name in present:
            (out / name).unlink()
        return []
    previous = out / PREVIOUS
    _clear(previous, names, markers)
    previous.mkdir(exist_ok=True)
    ordered = [*(m for m in markers if m in present), *(n for n in present if n not in markers)]
    for name in ordered:
        os.replace(out / name, previous / name)
    return ordered


def _clear(folder: Path, names: tuple[str, ...], markers: list[str]) -> None:
    """Remove the files ``names`` from ``folder``, its markers first."""
    for name in [*markers, *(n for n in names if n not in markers)]:
        (folder / name).unlink(missing_ok=True)


def restore_previous(
    out: Path, fingerprint: str, names: tuple[str, ...] = (*FIT_FILES, DONE)
) -> bool:
    """Bring a finished fit with ``fingerprint`` back from ``out/previous/``, if there is one.

    After a quick look with other settings (``--draws 50``), rerunning with the
    file's settings finds the fit they made in ``previous/`` instead of fitting
    again. The quick look's own finished set takes its place there. Returns whether
    a fit was restored.
    """
    previous = out / PREVIOUS
    if not is_finished(previous, fingerprint):
        return False
    restoring = out / ".restoring"
    shutil.rmtree(restoring, ignore_errors=True)
    os.replace(previous, restoring)
    retire_outputs(out, names)  # the current set: finished into previous/, leftovers deleted
    for name in [*(n for n in names if n != DONE), DONE]:  # the marker last into place
        if (restoring / name).exists():
            os.replace(restoring / name, out / name)
    restoring.rmdir()
    return True


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def write_json(path: Path, record: Mapping) -> None:
    """Write strict JSON (no bare NaN: a non-finite number is an error) atomically."""
    write_text(path, json.dumps(record, indent=2, allow_nan=False) + "\n")


def pareto_k_counts(idata) -> dict | None:
    """Pareto k of the per-trial PSIS-LOO (Vehtari et al. 2017; 2024), counted by band.

    ``good``: k ≤ ``threshold`` = min(1 − 1/log10(S), 0.7) for S posterior draws,
    where the PSIS estimate of that trial's left-out density is reliable; ``bad``:
    threshold < k ≤ 1; ``very_bad``: k > 1. ``exact``: trials whose log-likelihood
    is the same under every draw (a participant's first trial, before anything is
    learned): their left-out density needs no importance weights and is exact, while
    ArviZ reports k = ∞ for them. None for a fit without a ``log_likelihood`` group.
    """
    import numpy as np

    from cogarb.comparison import loo

    if "log_likelihood" not in idata.groups():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the counts below say it
        k = np.asarray(loo(idata).pareto_k, dtype=float).ravel()
    pointwise = idata.log_likelihood["trial"]
    spread = pointwise.max(("chain", "draw")) - pointwise.min(("chain", "draw"))
    exact = np.asarray(spread, dtype=float).ravel() == 0.0
    posterior = idata.posterior
    n_samples = int(posterior.sizes["chain"] * posterior.sizes["draw"])
    threshold = min(1 - 1 / np.log10(n_samples), 0.7) if n_samples > 10 else 0.7
    k = k[~exact]
    return {
        "threshold": round(float(threshold), 4),
        "good": int((k <= threshold).sum()),
        "bad": int(((k > threshold) & (k <= 1)).sum()),
        "very_bad": int((k > 1).sum()),
        "exact": int(exact.sum()),
        "trials": int(exact.size),
    }


def read_diagnostics(out: Path) -> dict:
    """The ``diagnostics.json`` of the fit folder ``out`` (:class:`UnfinishedFitError` if
    it is missing or unreadable)."""
    try:
        found = json.loads((out / "diagnostics.json").read_text())
    except (OSError, ValueError) as err:
        raise UnfinishedFitError(f"{out}/diagnostics.json: cannot be read ({err})") from None
    if not isinstance(found, dict):
        raise UnfinishedFitError(f"{out}/diagnostics.json: not a JSON object")
    return found


def write_fit(idata, out: str | os.PathLike, extra_tables: Mapping | None = None):
    """Write a fit's files into ``out``: posterior.nc, summary.csv, diagnostics.json.

    Every file is written atomically; ``extra_tables`` maps file names to
    DataFrames. The caller marks the fit finished afterwards with
    :func:`write_done_marker`.

    Returns
    -------
    (pandas.DataFrame, dict)
        The summary table and the diagnostics written (for :func:`fit_report`,
        which would otherwise compute them again).
    """
    from cogarb.fitting import diagnostics, summary

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "posterior.nc") as tmp:
        idata.to_netcdf(str(tmp))
    table, found = summary(idata), diagnostics(idata)
    try:  # the fit is written already: a failing LOO must not lose it
        found["pareto_k"] = pareto_k_counts(idata)
    except Exception as err:
        found["pareto_k"] = {"error": f"{type(err).__name__}: {err}"}
    write_text(out / "summary.csv", table.to_csv())
    write_json(out / "diagnostics.json", found)
    for name, extra in (extra_tables or {}).items():
        write_text(out / name, extra.to_csv(index=name != "recovery.csv"))
    return table, found


def write_done_marker(
    out: Path, fingerprint: str | None, seconds: float, job: str, **details
) -> None:
    """Write ``out/done.json``, last: the fit in ``out`` is finished (and matches
    ``fingerprint``, for fits of a fit.toml)."""
    from cogarb import _stop

    _stop.check()  # never mark a fit finished after a stop was asked for
    record = {"fingerprint": fingerprint, "seconds": round(seconds, 1), "job": job, **details}
    write_json(out / DONE, record)


def done_record(out: Path) -> dict | None:
    """The done marker of the fit folder ``out``, or None when there is none (or unreadable)."""
    try:
        record = json.loads((out / DONE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def is_finished(out: Path, fingerprint: str | None = None) -> bool:
    """Whether ``out`` holds a finished fit (with ``fingerprint``, when given)."""
    record = done_record(out)
    if record is None or not (out / "posterior.nc").is_file():
        return False
    return fingerprint is None or record.get("fingerprint") == fingerprint


def finished_fit_path(out: Path, fingerprint: str | None = None, how_to_fit: str = "") -> Path:
    """``out/posterior.nc`` of a finished fit; :class:`UnfinishedFitError` otherwise.

    Parameters
    ----------
    out : Path
        The fit's folder.
    fingerprint : str, optional
        The fingerprint the fit must have been made with (the current fit.toml's).
    how_to_fit : str
        The command that makes the fit, for the message.
    """
    if is_finished(out, fingerprint):
        return out / "posterior.nc"
    record = done_record(out)
    if record is None:
        problem = "holds no finished fit (no done.json: never run, or interrupted)"
    elif not (out / "posterior.nc").is_file():
        problem = "has a done.json but no posterior.nc"
    else:
        problem = "holds a fit of other data or settings than the fit.toml's now (stale)"
    hint = f": run `{how_to_fit}`" if how_to_fit else ""
    raise UnfinishedFitError(f"{out}/ {problem}{hint}")


def write_comparison(
    out: Path, table, fingerprints: Mapping[str, str], by_participant=None
) -> None:
    """Write ``compare.csv`` (and ``compare_by_participant.csv``, when given), then
    ``compare.done.json`` (the compared fits' fingerprints)."""
    write_text(out / COMPARE, table.to_csv())
    if by_participant is not None:
        write_text(out / COMPARE_BY_PARTICIPANT, by_participant.to_csv())
    write_json(out / COMPARE_DONE, {"fits": dict(fingerprints)})


def comparison_is_current(out: Path, fingerprints: Mapping[str, str]) -> bool:
    """Whether ``out/compare.csv`` compares exactly these fits, each still finished."""
    try:
        record = json.loads((out / COMPARE_DONE).read_text())
    except (OSError, ValueError):
        return False
    if not (out / COMPARE).is_file() or record.get("fits") != dict(fingerprints):
        return False
    return all(is_finished(out / name, fp) for name, fp in fingerprints.items())


def read_comparison(out: Path, fingerprints: Mapping[str, str], how_to_fit: str = ""):
    """``out/compare.csv`` as a DataFrame, if it is current (:func:`comparison_is_current`).

    Raises
    ------
    UnfinishedFitError
        When the comparison is missing, or any compared fit was refitted, interrupted
        or is stale since.
    """
    import pandas as pd

    if not comparison_is_current(out, fingerprints):
        hint = f": run `{how_to_fit}`" if how_to_fit else ""
        raise UnfinishedFitError(
            f"{out / COMPARE}: missing, or not the comparison of the finished fits "
            f"{', '.join(fingerprints)}{hint}"
        )
    return pd.read_csv(out / COMPARE, index_col=0)


def read_comparison_by_participant(out: Path, fingerprints: Mapping[str, str]):
    """``out/compare_by_participant.csv`` when the comparison is current and has one
    (comparisons written before it existed have not), else None."""
    import pandas as pd

    if not comparison_is_current(out, fingerprints) or not (out / COMPARE_BY_PARTICIPANT).is_file():
        return None
    return pd.read_csv(out / COMPARE_BY_PARTICIPANT, index_col=0)


def describe_missed(trials) -> str:
    """ "N missed, excluded from the likelihood", saying apart the half-missed trials
    (first-stage choice made, second stage missed) whose first-stage choice it keeps."""
    missed = trials["missed"].to_numpy(bool)
    half = int((missed & trials["choice1"].notna().to_numpy(bool)).sum())
    if not half:
        return f"{int(missed.sum())} missed, excluded from the likelihood"
    return (
        f"{int(missed.sum())} missed: {int(missed.sum()) - half} excluded from the likelihood, "
        f"{half} with a first-stage choice only, which it keeps"
    )


def posterior_bytes(
    trials, agent: str, sampler: Mapping, log_likelihood: bool = True, ppc_draws: int = 0
) -> int:
    """Rough size of a fit's posterior.nc, for the free-space check before the fit.

    float64 draws (``chains × draws`` of ``sampler``) of the participant parameters
    (×2 with a condition) and of the trial log-likelihood, and int8/float64
    predictive choices.
    """
    from cogarb.agents import get_agent

    n_draws = sampler["chains"] * sampler["draws"]
    n_trials = int(trials["choice1"].notna().sum())  # every trial with a first-stage choice
    n_parameters = len(get_agent(agent).parameter_names)
    size = n_draws * trials["participant"].nunique() * n_parameters * 2 * 8
    if log_likelihood:
        size += n_draws * n_trials * 8
    size += ppc_draws * n_trials * (4 + 8 + 1)
    return int(size)


def needs_log_likelihood(spec, job) -> bool:
    """Trial-level log-likelihoods only for fits that are compared (or when none is named).

    They take chains × draws × trials floats: 4.5 GB for Gillan Study 2, which is
    not worth writing for a fit that answers a covariate question.
    """
    return not spec.compare or job.name in spec.compare


def run_fit_spec(
    spec, only=(), sampler_overrides: Mapping | None = None, progress: bool = True,
    out: Path | None = None, say=print,
) -> dict[str, str]:  # fmt: skip
    """Run every fit of a fit.toml whose output is missing or out of date; then compare.

    Parameters
    ----------
    spec : FitSpec
    only : sequence of str
        Run only these fits (finished ones are still reported and compared).
    sampler_overrides : dict, optional
        Sampler settings replacing the file's (they change the fingerprint).
    progress : bool
        nutpie's progress bar.
    out : Path, optional
        Output folder instead of ``out/`` beside the fit.toml.
    say : callable
        Receives each line of the report.

    Returns
    -------
    dict
        ``{fit name: fingerprint}`` of the fits that are finished now.

    Each fit's folder is prepared (:func:`output_folder`: created, proven writable,
    space checked) before its model is built; once the model is built (the data and
    options are valid) and before it is compiled, the fit's earlier outputs move to
    ``previous/`` (:func:`retire_outputs`), and a fit in the comparison also moves
    the ``compare.csv`` that depended on it. The fit's ``done.json`` is written
    last. A finished fit of the current settings found in ``previous/`` (left there
    by a quick look with ``--draws``) is restored instead of fitted again.
    """
    import dataclasses
    import time

    import cogarb
    from cogarb.fitspec import read_spec_trials

    out = Path(out) if out is not None else spec.out
    hint = (
        "give --out DIR to write this fit.toml's results elsewhere"
        if out == spec.out
        else "choose another folder with --out"
    )
    trials = None
    finished = {}
    for job in spec.fits:
        if sampler_overrides:
            job = dataclasses.replace(job, sampler={**job.sampler, **sampler_overrides})
        folder = out / job.name
        fingerprint = spec.fingerprint(job)
        if is_finished(folder, fingerprint) or restore_previous(folder, fingerprint):
            say(f"{job.name}: up to date in {folder}/ (skipped)")
            finished[job.name] = fingerprint
            continue
        if only and job.name not in only:
            continue
        if trials is None:
            prepare_output(out, hint=hint)  # fail before the data are read
            trials, n_outside = read_spec_trials(spec)
            check_spec_against_trials(spec, trials)
            say(
                f"{spec.data.name}: {trials['participant'].nunique()} participants, "
                f"{len(trials)} trials ({describe_missed(trials)})"
                + (
                    f"; {n_outside} rows outside '{spec.include}' not fitted"
                    if spec.include
                    else ""
                )
            )

        def retire(folder=folder, compared=job.name in spec.compare):
            """Once the model is built (data and options valid), before compiling."""
            retire_outputs(folder)
            if compared:
                retire_outputs(out, COMPARISON_FILES)

        needed = posterior_bytes(trials, job.agent, job.sampler, needs_log_likelihood(spec, job))
        with output_folder(folder, needed, hint=hint):
            say(f"{job.name}: fitting '{job.agent}' {job.model_options() or ''}".rstrip())
            start = time.perf_counter()
            with naming(f"{spec.source}, fit '{job.name}' on {spec.data.name}"), quiet_sampling():
                idata = cogarb.fit(
                    trials, job.agent, **job.sampler_arguments(), p_common=spec.p_common,
                    reward_scale=spec.reward_scale,
                    log_likelihood=needs_log_likelihood(spec, job), progress=progress,
                    before_compile=retire, **job.model_options(),
                )  # fmt: skip
            written = write_fit(idata, folder)
            seconds = time.perf_counter() - start
            write_done_marker(folder, fingerprint, seconds, job.name)  # last: marks completion
        say(fit_report(*written, seconds, folder))
        finished[job.name] = fingerprint
    waiting = [name for name in spec.compare if name not in finished]
    if spec.compare and waiting:
        say(f"comparison waits for the fits {', '.join(waiting)}")
    elif spec.compare:
        compared = {name: finished[name] for name in spec.compare}
        if comparison_is_current(out, compared):
            say(f"comparison: up to date in {out / COMPARE} (skipped)")
        else:
            say(str(compare_fits(out, compared, say)))
    return finished


@contextmanager
def quiet_sampling() -> Iterator[None]:
    """Hold back :class:`~cogarb.fitting.SamplingWarning` while a run fits: the run
    reports the same diagnostics in its block (:func:`diagnostics_block`) instead."""
    from cogarb.fitting import SamplingWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        yield


@contextmanager
def naming(where: str) -> Iterator[None]:
    """Prefix ``where`` (the file, the fit) to a ``ValueError`` that does not name it.

    The model's checks (an agent that does not fit the task, a condition column
    with one level) know the trials, not the file or fit.toml they came from.
    :class:`~cogarb.schema.TrialDataError` and the fit.toml's own errors name their
    file already and pass unchanged.
    """
    from cogarb.fitspec import FitSpecError
    from cogarb.schema import TrialDataError

    try:
        yield
    except (TrialDataError, FitSpecError):
        raise
    except ValueError as err:
        raise FitSpecError(f"{where}: {err}") from None


def check_spec_against_trials(spec, trials) -> None:
    """Refuse, naming the fit.toml key, settings the data rule out (before any fit).

    ``data.p_common = 1`` (deterministic transitions) suits only tasks without a
    second-stage choice: with one, the rare transitions the task design has would
    have probability 0.
    """
    from cogarb.arrays import has_stage2_choice
    from cogarb.fitspec import FitSpecError

    if spec.p_common == 1.0 and has_stage2_choice(trials):
        raise FitSpecError(
            f"{spec.source}: key 'data.p_common' is 1 (deterministic transitions), but "
            f"{spec.data.name} has a second-stage choice: give the task's common-transition "
            "probability, in (0, 1)"
        )


def compare_fits(out: Path, fingerprints: Mapping[str, str], say=print):
    """LOO of each finished fit in ``fingerprints``, one at a time, into ``out/compare.csv``
    (leaving out one trial) and ``out/compare_by_participant.csv`` (one participant).

    A fit's trial log-likelihood is loaded only while its own LOOs are computed (2.7 GB
    for one fit of Gillan Study 2), so the comparison needs memory for one fit, not all.
    Trials within a participant are dependent, so the per-trial ranking is checked by
    the per-participant one (``cogarb.compare(..., by="participant")``); both are
    written, and the trial table returned.
    """
    import gc

    import cogarb
    from cogarb.fitting import import_arviz

    az = import_arviz()

    retire_outputs(out, COMPARISON_FILES)
    loos, loos_by_participant = {}, {}
    for name, fingerprint in fingerprints.items():
        say(f"{name}: PSIS-LOO by trial and by participant")
        idata = az.from_netcdf(finished_fit_path(out / name, fingerprint))  # lazy: read on use
        with warnings.catch_warnings():  # the tables' `warning` column says it, once
            warnings.simplefilter("ignore", UserWarning)
            loos[name] = cogarb.loo(idata)
            loos_by_participant[name] = cogarb.loo(idata, by="participant")
        del idata
        gc.collect()
    table = cogarb.compare(loos)
    by_participant = cogarb.compare(loos_by_participant, by="participant")
    write_comparison(out, table, fingerprints, by_participant)
    say(f"leaving out one participant at a time:\n{by_participant}")
    return table


def fit_report(table, found: Mapping, seconds: float, out: Path) -> str:
    """The group-level summary ``table`` and the diagnostics block of ``found`` (as
    :func:`write_fit` returns them), as ``cogarb fit`` prints."""
    import pandas as pd

    columns = ["mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "r_hat"]
    with pd.option_context("display.width", 120, "display.max_columns", 12):
        text = str(table[columns].round(3))
    return f"{text}\n{diagnostics_block(found)}\n{seconds:.0f} s -> {out}/"


def diagnostics_block(found: Mapping) -> str:
    """The diagnostics of a fit as ``cogarb fit`` ends: one line per check, then what to do.

    The checks are those of :func:`cogarb.fitting.convergence_problems` (worst R-hat, lowest bulk
    ESS, divergent transitions, draws at the tree-depth limit), each marked ``ok`` or
    ``FAILS``, and the Pareto k counts of the per-trial PSIS-LOO when the fit has a
    log-likelihood (:func:`pareto_k_counts`). The last line, ``next:``, is the one
    step to take (:func:`cogarb.fitting.next_step`).
    """
    from cogarb.fitting import ESS_MIN, RHAT_MAX, next_step

    def mark(ok: bool) -> str:
        return "ok" if ok else "FAILS"

    rhat, ess = found.get("max_rhat"), found.get("min_ess_bulk")
    rhat_text = (
        f"{rhat:.3f} ({found['max_rhat_variable']})"
        if rhat is not None
        else f"undefined: {found.get('max_rhat_note', '')}"
    )
    ess_text = (
        f"{ess:.0f} ({found['min_ess_bulk_variable']})"
        if ess is not None
        else f"undefined: {found.get('min_ess_bulk_note', '')}"
    )
    draws, divergences, capped = found["draws"], found["divergences"], found["tree_depth_hits"]
    rows = [
        ("worst R-hat", rhat_text, rhat is not None and rhat <= RHAT_MAX),
        ("lowest bulk ESS", ess_text, ess is not None and ess >= ESS_MIN),
        ("divergences", f"{divergences} of {draws} draws", divergences == 0),
        ("capped draws", f"{capped} of {draws} at the tree-depth limit", capped == 0),
    ]
    lines = [
        f"diagnostics (to be quoted, a fit needs R-hat ≤ {RHAT_MAX}, bulk ESS ≥ {ESS_MIN}, "
        "no divergences, no capped draws):"
    ]
    lines += [f"  {name:<16} {value:<44} {mark(ok)}" for name, value, ok in rows]
    pareto = found.get("pareto_k")
    if pareto and "error" in pareto:
        lines.append(f"  {'Pareto k':<16} not computed ({pareto['error']})")
    elif pareto:
        exact = pareto.get("exact", 0)
        lines.append(
            f"  {'Pareto k':<16} {pareto['good']} of {pareto['trials']} trials ≤ "
            f"{pareto['threshold']:.2f}, {pareto['bad']} above, {pareto['very_bad']} above 1"
            + (f", {exact} exact (the same likelihood under every draw)" if exact else "")
        )
    lines.append(f"next: {next_step(found)}")
    return "\n".join(lines)
