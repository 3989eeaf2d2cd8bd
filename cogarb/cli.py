"""Command-line interface: ``cogarb <command>``; one subcommand, one API call.

Errors in user input (bad trial files, task files or parameters) print one line
``cogarb: error: ...`` and exit with code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import cogarb
import cogarb.data
from cogarb._atomic import atomic_path
from cogarb.data import TrialDataError
from cogarb.fitspec import SAMPLER_DEFAULTS, FitSpecError
from cogarb.readers import READERS
from cogarb.tasks import TaskSpecError

USER_ERRORS = (TrialDataError, TaskSpecError, FitSpecError, FileNotFoundError, ValueError, KeyError)


class CliError(Exception):
    """An error to report to the user in one line (exit code 2)."""


def _parse_param(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"value of {name!r} is not a number: {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cogarb",
        description="Simulate, analyse and fit amortized vs direct control in the two-step task.",
    )
    parser.add_argument("--version", action="version", version=f"cogarb {cogarb.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser(
        "simulate",
        help="simulate a cohort and write its trials",
        description="Simulate a cohort of agents on a task; write tidy trials.",
    )
    sim.add_argument("task", help="task TOML file or built-in name (e.g. tasks/daw2011.toml)")
    sim.add_argument(
        "--agent",
        default="hybrid",
        choices=sorted(cogarb.AGENTS),
        help="agent to simulate (default: hybrid)",
    )
    sim.add_argument("--participants", type=int, default=100, help="cohort size (default: 100)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    sim.add_argument(
        "--param",
        type=_parse_param,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter for every participant; repeatable",
    )
    sim.add_argument(
        "--internals",
        action="store_true",
        help="also write values, prediction errors and w per trial",
    )
    sim.add_argument("--out", required=True, help="output file (.csv, .csv.gz or .parquet)")

    stay = sub.add_parser(
        "stay",
        help="print stay probabilities and the stay regression",
        description="Print P(stay) by previous reward × transition (split by "
        "load/stakes/condition when present) and the stay regression.",
    )
    stay.add_argument("trials", help="trial file in the tidy schema (.csv, .csv.gz, .parquet)")

    fit = sub.add_parser(
        "fit",
        help="fit a hierarchical model to a trial file",
        description="Fit the hierarchical Bayesian model of an agent with nutpie; write "
        "DIR/posterior.nc (ArviZ InferenceData), DIR/summary.csv and DIR/diagnostics.json.",
    )
    fit.add_argument(
        "trials",
        help="trial file or dataset folder (tidy .csv/.csv.gz/.parquet, or a format of "
        "cogarb.readers), or a fits/<dataset>/fit.toml",
    )
    fit.add_argument(
        "--format", choices=("tidy", *READERS), help="format of TRIALS (default: infer)"
    )
    _add_fit_arguments(fit)
    fit.add_argument(
        "--condition",
        metavar="PARAM=COLUMN",
        help="within-participant effect of a two-level column on a parameter (e.g. w=load)",
    )
    fit.add_argument(
        "--covariate",
        action="append",
        default=[],
        metavar="PARAM=COLUMN",
        help="participant covariate with a linear effect on a parameter; repeatable",
    )
    fit.add_argument(
        "--centred",
        action="store_true",
        help="centred participant level, for data that pin each participant's parameters "
        "(many trials per participant; see the README)",
    )
    fit.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="with a fit.toml: run only the fit of this name (repeatable)",
    )
    fit.add_argument(
        "--ppc",
        type=int,
        default=0,
        metavar="N",
        help="add N posterior-predictive data sets simulated on the observed schedule",
    )

    recover = sub.add_parser(
        "recover",
        help="parameter recovery: simulate a cohort, fit it, compare",
        description="Simulate participants with parameters drawn from the population, fit "
        "them and write DIR/recovery.csv (per participant), DIR/summary.csv (r, 90%% "
        "coverage per parameter) and DIR/posterior.nc.",
    )
    recover.add_argument("--task", default="daw2011", help="task name or TOML (default: daw2011)")
    recover.add_argument("--participants", type=int, default=100, help="cohort size (default 100)")
    _add_fit_arguments(recover)

    demo = sub.add_parser(
        "demo",
        help="run the main job on built-in defaults",
        description="Simulate model-free, model-based, hybrid and arbitrator cohorts and "
        "write their trials and stay tables; then make the paper's figures with quick "
        "settings (as `cogarb figures --quick --out DIR/figures`): stay signatures, load, "
        "novelty, parameter recovery, model comparison and real-data fits.",
    )
    demo.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    demo.add_argument("--participants", type=int, default=200, help="cohort size per agent")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--fits", default="fits", help="the fits/ folder (default: ./fits)")
    demo.add_argument(
        "--no-figures", action="store_true", help="only simulate; skip the paper's figures"
    )
    figures = sub.add_parser(
        "figures",
        help="regenerate every figure of the paper",
        description="Make the paper's figures F1-F6 (PNG and PDF), DIR/numbers.json and "
        "the paper with its numbers filled in. --quick: small simulated cohorts, short "
        "chains and subsets of the real datasets fitted on the spot (minutes); without "
        "it, larger cohorts and the real-data panels read from the fits that "
        "`cogarb fit fits/<dataset>/fit.toml` wrote.",
    )
    figures.add_argument("--out", required=True, help="output folder for figures and numbers")
    figures.add_argument("--quick", action="store_true", help="small cohorts and short fits")
    figures.add_argument("--fits", default="fits", help="the fits/ folder (default: ./fits)")
    figures.add_argument(
        "--only", action="append", default=[], metavar="FIG",
        help="make only this figure (F1 ... F6; repeatable); numbers.json keeps the others",
    )  # fmt: skip
    figures.add_argument(
        "--template", default=None,
        help="paper template (default: paper/paper_template.md beside the fits folder)",
    )  # fmt: skip
    figures.add_argument("--paper", default=None, help="where to write the paper (DIR/paper.md)")
    figures.add_argument("--seed", type=int, default=1)
    return parser


def _add_fit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--agent", choices=sorted(cogarb.AGENTS), help="agent (default: hybrid)"
    )  # no argparse default: a fit.toml run can tell that --agent was given
    parser.add_argument("--draws", type=int, help="draws per chain (default 1000)")
    parser.add_argument("--tune", type=int, help="tuning steps per chain (default 1000)")
    parser.add_argument("--chains", type=int, help="chains (default 4)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--out", help="output folder (required unless TRIALS is a fit.toml)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _pairs(texts: Sequence[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for text in texts:
        name, sep, column = text.partition("=")
        if not sep or not name or not column:
            raise CliError(f"{what} must be PARAM=COLUMN, got {text!r}")
        pairs.append((name.strip(), column.strip()))
    return pairs


def _sampler_overrides(args) -> dict:
    """The sampler settings given on the command line (the others keep their defaults)."""
    return {k: getattr(args, k) for k in SAMPLER_DEFAULTS if getattr(args, k) is not None}


def _sampler_args(args) -> dict:
    return {**SAMPLER_DEFAULTS, **_sampler_overrides(args)}


def _out(args) -> Path:
    if args.out is None:
        raise CliError("--out DIR is required")
    return Path(args.out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (CliError, *USER_ERRORS) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"cogarb: error: {message}", file=sys.stderr)
        return 2


def _atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def _save_figure(fig, path: Path) -> None:
    for suffix in (".png", ".pdf"):
        with atomic_path(path.with_suffix(suffix)) as tmp:
            fig.savefig(tmp, dpi=150)


def cmd_simulate(args) -> int:
    params = dict(args.param)
    start = time.perf_counter()
    trials = cogarb.simulate(
        args.task,
        args.agent,
        params,
        n_participants=args.participants,
        seed=args.seed,
        internals=args.internals,
    )
    out = cogarb.write_trials(trials, args.out)
    print(
        f"simulated {args.participants} × {trials['trial'].max()} trials of agent "
        f"'{args.agent}' in {time.perf_counter() - start:.1f} s -> {out}"
    )
    return 0


def cmd_stay(args) -> int:
    trials = cogarb.read_trials(args.trials)
    n_missed = int(trials["missed"].sum())
    print(
        f"{args.trials}: {trials['participant'].nunique()} participants, {len(trials)} trials "
        f"({n_missed} missed, excluded from pairs)"
    )
    print("\nP(stay) by previous outcome and transition (mean over participants, 95% CI):")
    print(cogarb.stay_probabilities(trials))
    print("\nLogistic regression stay ~ reward × transition (±1 coding, pooled):")
    print(cogarb.stay_regression(trials))
    return 0


def write_fit(idata, out: Path, extra_tables: dict | None = None) -> None:
    """Write a fit as ``cogarb fit`` does: posterior.nc, summary.csv, diagnostics.json.

    Every file is written atomically; ``extra_tables`` maps file names to DataFrames.
    """
    import json

    from cogarb.fitting import diagnostics, summary

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "posterior.nc") as tmp:
        idata.to_netcdf(str(tmp))
    _atomic_write_text(out / "summary.csv", summary(idata).to_csv())
    _atomic_write_text(out / "diagnostics.json", json.dumps(diagnostics(idata), indent=2) + "\n")
    for name, table in (extra_tables or {}).items():
        _atomic_write_text(out / name, table.to_csv(index=name != "recovery.csv"))


def _report(idata, seconds: float, out: Path) -> None:
    import pandas as pd

    from cogarb.fitting import diagnostics, summary

    with pd.option_context("display.width", 120, "display.max_columns", 12):
        print(summary(idata)[["mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "r_hat"]].round(3))
    found = diagnostics(idata)
    print(
        f"max R-hat {found['max_rhat']:.3f} ({found['max_rhat_variable']}), min bulk ESS "
        f"{found['min_ess_bulk']:.0f} ({found['min_ess_bulk_variable']}), "
        f"{found['divergences']} divergences, {found['tree_depth_hits']} draws at the depth "
        f"limit; {seconds:.0f} s -> {out}/"
    )


def cmd_fit(args) -> int:
    if str(args.trials).endswith(".toml"):
        return _fit_spec(args)
    out = _out(args)
    trials = cogarb.read_trials(args.trials, format=args.format)
    options = {}
    if args.condition:
        options["conditions"] = dict(_pairs([args.condition], "--condition"))
    covariates: dict[str, list[str]] = {}
    for name, column in _pairs(args.covariate, "--covariate"):
        covariates.setdefault(name, []).append(column)
    if covariates:
        options["covariates"] = covariates
    if args.centred:
        options["centred"] = True
    print(
        f"{args.trials}: {trials['participant'].nunique()} participants, {len(trials)} trials "
        f"({int(trials['missed'].sum())} missed, excluded from the likelihood); "
        f"fitting '{args.agent or 'hybrid'}'"
    )
    start = time.perf_counter()
    idata = cogarb.fit(
        trials, args.agent or "hybrid", **_sampler_args(args),
        posterior_predictive=args.ppc or False,
        progress=not args.quiet, **options,
    )  # fmt: skip
    write_fit(idata, out)
    _report(idata, time.perf_counter() - start, out)
    return 0


def _spec_trials(spec):
    from cogarb.fitspec import read_spec_trials

    trials, n_outside = read_spec_trials(spec)
    print(
        f"{spec.data.name}: {trials['participant'].nunique()} participants, {len(trials)} "
        f"trials ({int(trials['missed'].sum())} missed, excluded from the likelihood)"
        + (f"; {n_outside} rows outside '{spec.include}' not fitted" if spec.include else "")
    )
    return trials


def _fit_spec(args) -> int:
    """Run every fit of a fit.toml whose output is missing or out of date."""
    import json

    from cogarb.fitspec import load_fit_spec

    spec = load_fit_spec(args.trials)
    ignored = [
        flag
        for flag, given in (
            ("--condition", args.condition),
            ("--covariate", args.covariate),
            ("--centred", args.centred),
            ("--ppc", args.ppc),
            ("--agent", args.agent),
            ("--format", args.format),
            ("--out", args.out),
        )
        if given
    ]
    if ignored:
        raise CliError(
            f"{ignored[0]} applies to a trials file, not to a fit.toml: {spec.source} names "
            "its fits' agents, options, data format and output folder (out/ beside it)"
        )
    names = [job.name for job in spec.fits]
    unknown = [name for name in args.only if name not in names]
    if unknown:
        raise CliError(f"--only {unknown[0]}: {spec.source} has fits {', '.join(names)}")
    overrides = _sampler_overrides(args)
    trials = None
    done = set()
    for job in spec.fits:
        if overrides:
            job = dataclasses.replace(job, sampler={**job.sampler, **overrides})
        out = spec.out / job.name
        marker = out / "done.json"
        fingerprint = spec.fingerprint(job)
        if marker.is_file() and json.loads(marker.read_text()).get("fingerprint") == fingerprint:
            print(f"{job.name}: up to date in {out}/ (skipped)")
            done.add(job.name)
            continue
        if args.only and job.name not in args.only:
            continue
        marker.unlink(missing_ok=True)  # a stale or interrupted fit is redone from scratch
        if trials is None:
            trials = _spec_trials(spec)
        print(f"{job.name}: fitting '{job.agent}' {job.model_options() or ''}".rstrip())
        start = time.perf_counter()
        idata = cogarb.fit(
            trials, job.agent, **job.sampler_arguments(), p_common=spec.p_common,
            reward_scale=spec.reward_scale, log_likelihood=_needs_log_likelihood(spec, job),
            progress=not args.quiet, **job.model_options(),
        )  # fmt: skip
        write_fit(idata, out)
        seconds = time.perf_counter() - start
        _report(idata, seconds, out)
        write_done_marker(out, fingerprint, seconds, job.name)  # last: marks completion
        done.add(job.name)
    waiting = [name for name in spec.compare if name not in done]
    if spec.compare and waiting:
        print(f"comparison waits for the fits {', '.join(waiting)}")
    elif spec.compare:
        _compare_spec(spec)
    return 0


def write_done_marker(out: Path, fingerprint: str, seconds: float, job: str) -> None:
    """Write ``out/done.json``: the fit in ``out`` is finished and matches ``fingerprint``."""
    import json

    record = {"fingerprint": fingerprint, "seconds": round(seconds, 1), "job": job}
    _atomic_write_text(out / "done.json", json.dumps(record, indent=2) + "\n")


def _needs_log_likelihood(spec, job) -> bool:
    """Trial-level log-likelihoods only for fits that are compared (or when none is named).

    They take chains × draws × trials floats: 4.5 GB for Gillan Study 2, which is
    not worth writing for a fit that answers a covariate question.
    """
    return not spec.compare or job.name in spec.compare


def _compare_spec(spec) -> None:
    """LOO of each compared fit, one at a time, then their table in ``out/compare.csv``.

    A fit's trial log-likelihood is loaded only while its own LOO is computed (2.7 GB
    for one fit of Gillan Study 2), so the comparison needs memory for one fit, not all.
    """
    import gc

    import arviz as az

    loos = {}
    for name in spec.compare:
        print(f"{name}: PSIS-LOO")
        idata = az.from_netcdf(spec.out / name / "posterior.nc")  # lazy: read on use
        loos[name] = cogarb.loo(idata)
        del idata
        gc.collect()
    table = cogarb.compare(loos)
    _atomic_write_text(spec.out / "compare.csv", table.to_csv())
    print(table)


def cmd_recover(args) -> int:
    out = _out(args)
    start = time.perf_counter()
    result = cogarb.recover(
        args.agent or "hybrid", args.task, args.participants, **_sampler_args(args),
        progress=not args.quiet,
    )  # fmt: skip
    write_fit(
        result.idata,
        out,
        {"recovery.csv": result.participants, "recovery_summary.csv": result.summary},
    )
    import pandas as pd

    with pd.option_context("display.width", 120, "display.max_columns", 12):
        print(result.summary.round(3))
    print(f"{time.perf_counter() - start:.0f} s -> {out}/")
    return 0


def cmd_demo(args) -> int:
    import pandas as pd

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    task = cogarb.load_task("daw2011")
    labels = {"mf": "model-free", "mb": "model-based", "hybrid": "hybrid (Daw 2011 medians)",
              "arbitrator": "arbitrator (defaults)"}  # fmt: skip
    groups, regressions = [], []
    for agent, label in labels.items():
        trials = cogarb.simulate(task, agent, {}, n_participants=args.participants, seed=args.seed)
        cogarb.write_trials(trials, out / f"trials_{agent}.csv.gz")
        stays = cogarb.stay_probabilities(trials)
        groups.append(stays.group.assign(agent=agent))
        regressions.append(cogarb.stay_regression(trials).pooled.assign(agent=agent))
        print(f"\n== {label}: {args.participants} participants × {task.n_trials} trials")
        print(stays)
    _atomic_write_text(out / "stay_probabilities.csv", pd.concat(groups).to_csv(index=False))
    _atomic_write_text(out / "stay_regression.csv", pd.concat(regressions).to_csv(index=False))
    if not args.no_figures:
        from cogarb.paper import settings_named

        fits = Path(args.fits)
        skip_real = not (fits / "hbayesdm_ts_example" / "fit.toml").is_file()
        if skip_real:
            print(f"\n{fits}/ not found (run from the repository root for figures F5 and F6)")
        print("\n== the paper's figures, quick settings (fits compile in about 20 s each)")
        make_paper_figures(settings_named("quick", seed=args.seed), out / "figures", fits,
                           skip_real=skip_real)  # fmt: skip
    print(f"\nwrote trials, tables and figures (.png/.pdf) to {out}/")
    return 0


def cmd_figures(args) -> int:
    from cogarb.paper import settings_named

    settings = settings_named("quick" if args.quick else "full", seed=args.seed)
    make_paper_figures(
        settings, Path(args.out), Path(args.fits), args.only, args.template, args.paper
    )
    return 0


def make_paper_figures(
    settings, out: Path, fits: Path, only=(), template=None, paper=None, skip_real=False
) -> dict:
    """Make, save and report the paper's figures; fill the paper template if found."""
    import json

    from cogarb.paper import FIGURES, NEEDS_FITS, make_figures, render_paper

    unknown = [k for k in only if k not in FIGURES]
    if unknown:
        raise CliError(f"--only {unknown[0]}: the figures are {', '.join(FIGURES)}")
    out.mkdir(parents=True, exist_ok=True)
    keys = [k for k in FIGURES if (not only or k in only) and not (skip_real and k in NEEDS_FITS)]
    numbers_path = out / "numbers.json"
    numbers = {}
    if only and numbers_path.is_file():  # the other figures' numbers are kept from the last run
        numbers = json.loads(numbers_path.read_text())
        made_with = (numbers.get("settings"), numbers.get("seed"))
        if made_with != (settings.name, settings.seed):
            raise CliError(
                f"{numbers_path} holds numbers of {made_with[0]} settings, seed {made_with[1]}: "
                "remake every figure (no --only) or use another --out"
            )
    numbers |= {"settings": settings.name, "seed": settings.seed, "draws": settings.draws,
                "tune": settings.tune, "chains": settings.chains}  # fmt: skip
    print(f"making figures {', '.join(keys)} ({settings.name} settings) in {out}/")
    start = time.perf_counter()
    figures = make_figures(settings, fits, keys)
    for key in keys:
        began = time.perf_counter()
        made = next(figures)
        _save_figure(made.figure, out / made.name)
        seconds = time.perf_counter() - began
        numbers |= made.numbers | {f"{key.lower()}_seconds": round(seconds, 1)}
        # after every figure: an interrupted run keeps the numbers of those it made
        _atomic_write_text(numbers_path, json.dumps(numbers, indent=2, default=float) + "\n")
        print(f"  {made.name}.png/.pdf: {seconds:.0f} s")
        for note in made.notes:
            print(f"    note: {note}")
    template = Path(template) if template else fits.parent / "paper" / "paper_template.md"
    if template.is_file() and not skip_real:
        paper = Path(paper) if paper else out / "paper.md"
        figure_dir = os.path.relpath(out, paper.parent)
        text = render_paper(template.read_text(), numbers | {"figures": figure_dir})
        _atomic_write_text(paper, text)
        print(f"  {paper}: the paper, numbers filled in from this run")
    print(f"{time.perf_counter() - start:.0f} s -> {out}/")
    return numbers


COMMANDS = {
    "simulate": cmd_simulate,
    "stay": cmd_stay,
    "fit": cmd_fit,
    "recover": cmd_recover,
    "demo": cmd_demo,
    "figures": cmd_figures,
}

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
