"""Command-line interface: ``cogarb <command>``; one subcommand, one API call.

Errors in user input (bad trial files, task files, parameters or options, output
folders that cannot be written) print one line ``cogarb: error: ...`` and exit
with code 2. An interrupt (Ctrl-C) or SIGTERM prints one line and exits with 130
or 143; whatever it stopped is never left looking finished (see
:mod:`cogarb.runs`).

Heavy modules (numba, pandas, PyMC) are imported only by the commands that need
them: ``cogarb --version`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from cogarb._version import __version__


def _user_errors() -> tuple[type[BaseException], ...]:
    from cogarb.fitspec import FitSpecError
    from cogarb.schema import TrialDataError
    from cogarb.tasks import TaskSpecError

    return (TrialDataError, TaskSpecError, FitSpecError, ValueError, KeyError, OSError)


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


def _integer(low: int, what: str):
    """An argparse type: an integer >= ``low`` and at most fitspec's ``MAX_SEED``."""

    def parse(text: str) -> int:
        from cogarb.fitspec import MAX_SEED

        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= MAX_SEED:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


_seed = _integer(0, "a seed: an integer from 0 to 2**63 - 1")
_positive = _integer(1, "a positive integer")
_count = _integer(0, "an integer >= 0")


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in the one-line form of every other error."""

    def error(self, message: str):
        self.exit(2, f"cogarb: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    from cogarb.agents import AGENTS
    from cogarb.readers import READERS

    parser = _Parser(
        prog="cogarb",
        description="Simulate, analyse and fit amortized vs direct control in the two-step task.",
    )
    parser.add_argument("--version", action="version", version=f"cogarb {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    sim = sub.add_parser(
        "simulate",
        help="simulate a cohort and write its trials",
        description="Simulate a cohort of agents on a task; write tidy trials.",
    )
    sim.add_argument("task", help="task TOML file or built-in name (e.g. tasks/daw2011.toml)")
    sim.add_argument(
        "--agent",
        default="hybrid",
        choices=sorted(AGENTS),
        help="agent to simulate (default: hybrid)",
    )
    sim.add_argument(
        "--participants", type=_positive, default=100, help="cohort size (default: 100)"
    )
    sim.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
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
        type=_count,
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
    recover.add_argument(
        "--participants", type=_positive, default=100, help="cohort size (default 100)"
    )
    recover.add_argument(
        "--seeds", type=_positive, default=None, metavar="K",
        help="K independent cohorts (DIR/cohort_<k>/), with r and coverage per cohort "
        "and their mean and minimum in DIR/recovery_seeds*.csv; --seed seeds their seeds",
    )  # fmt: skip
    _add_fit_arguments(recover)

    sbc = sub.add_parser(
        "sbc",
        help="simulation-based calibration of an agent's hierarchical model",
        description="Draw N data sets from the hierarchical model's prior, simulate, fit "
        "each and rank the true values among the posterior draws (Talts et al. 2018); "
        "write DIR/datasets/<k>.json as each finishes (a rerun resumes), then "
        "DIR/ranks.csv, DIR/summary.csv (simultaneous ECDF band test per parameter, "
        "Säilynoja et al. 2022), DIR/sbc.png/.pdf and DIR/done.json.",
    )
    sbc.add_argument("agent", help="agent to calibrate (e.g. mf, hybrid, hybrid_one_choice)")
    sbc.add_argument("--task", default="daw2011", help="task name or TOML (default: daw2011)")
    sbc.add_argument("--datasets", type=_positive, default=200, help="data sets N (default 200)")
    sbc.add_argument(
        "--participants", type=_integer(2, "an integer >= 2"), default=10,
        help="participants per data set (default 10)",
    )  # fmt: skip
    sbc.add_argument("--draws", type=_positive, default=1000, help="draws per chain (default 1000)")
    sbc.add_argument("--tune", type=_positive, default=1000, help="tuning steps (default 1000)")
    sbc.add_argument("--chains", type=_positive, default=2, help="chains (default 2)")
    sbc.add_argument("--seed", type=_seed, default=0, help="seeds everything (default 0)")
    sbc.add_argument("--out", required=True, help="output folder")

    demo = sub.add_parser(
        "demo",
        help="run the main job on built-in defaults",
        description="Simulate model-free, model-based, hybrid and arbitrator cohorts and "
        "write their trials and stay tables; then make the paper's figures with quick "
        "settings (as `cogarb figures --quick --out DIR/figures`): stay signatures, load, "
        "novelty, parameter recovery, model comparison and real-data fits.",
    )
    demo.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    demo.add_argument("--participants", type=_positive, default=200, help="cohort size per agent")
    demo.add_argument("--seed", type=_seed, default=1)
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
    figures.add_argument(
        "--manifest", default=None,
        help="the paper's datasets and fits (default: paper/manifest.toml beside the fits "
        "folder)",
    )  # fmt: skip
    figures.add_argument("--paper", default=None, help="where to write the paper (DIR/paper.md)")
    figures.add_argument("--seed", type=_seed, default=1)
    return parser


def _add_fit_arguments(parser: argparse.ArgumentParser) -> None:
    from cogarb.agents import AGENTS

    parser.add_argument(
        "--agent", choices=sorted(AGENTS), help="agent (default: hybrid)"
    )  # no argparse default: a fit.toml run can tell that --agent was given
    parser.add_argument("--draws", type=_positive, help="draws per chain (default 1000)")
    parser.add_argument("--tune", type=_positive, help="tuning steps per chain (default 1000)")
    parser.add_argument("--chains", type=_positive, help="chains (default 4)")
    parser.add_argument("--seed", type=_seed, help="random seed (default 0)")
    parser.add_argument(
        "--out",
        help="output folder (required unless TRIALS is a fit.toml; with a fit.toml: "
        "instead of out/ beside it)",
    )
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
    from cogarb.fitspec import SAMPLER_DEFAULTS

    return {k: getattr(args, k) for k in SAMPLER_DEFAULTS if getattr(args, k) is not None}


def _out(args) -> Path:
    if args.out is None:
        raise CliError("--out DIR is required")
    return Path(args.out)


class Terminated(BaseException):
    """SIGTERM arrived: unwind like an interrupt (temporary files are removed)."""


EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shells' convention
EXIT_TERMINATED = 128 + signal.SIGTERM
INTERRUPTED = (
    "nothing unfinished was kept: a fit folder without done.json holds no finished fit, "
    "and a rerun redoes it"
)


def _on_stop_signal(signum, frame):
    """SIGINT/SIGTERM: record the stop (see cogarb._stop) and raise it here and now."""
    from cogarb import _stop

    error = KeyboardInterrupt if signum == signal.SIGINT else Terminated
    _stop.request(error)
    raise error


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv in (["--version"], ["-V"]):  # before importing anything heavy
        print(f"cogarb {__version__}")
        return 0
    from cogarb import _stop

    _stop.clear()
    on_main_thread = threading.current_thread() is threading.main_thread()
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = [signal.signal(s, _on_stop_signal) for s in stops] if on_main_thread else []
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print(f"cogarb: interrupted; {INTERRUPTED}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"cogarb: terminated (SIGTERM); {INTERRUPTED}", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        # the reader of our output went away (`cogarb stay F | head`): say so once, on
        # stderr, and keep Python from failing again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("cogarb: error: output closed early (broken pipe)", file=sys.stderr)
        return 2
    finally:
        for signum, handler in zip(stops, previous, strict=False):
            signal.signal(signum, handler)
        _stop.clear()


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:  # an OSError, but about our reader, not the input: see main
        raise
    except (CliError, *_user_errors()) as err:
        print(f"cogarb: error: {_one_line(err)}", file=sys.stderr)
        return 2


def _one_line(err: BaseException) -> str:
    """The error's message on one line, naming the file for operating-system errors."""
    if isinstance(err, KeyError) and err.args:
        message = f"no such key or column: {err.args[0]!r}"
    elif isinstance(err, OSError) and err.strerror:
        name = err.filename2 or err.filename  # os.replace(temporary, target): the target
        message = f"{name}: {err.strerror}" if name else err.strerror
    else:
        message = str(err)
    return " ".join(message.split())


def cmd_simulate(args) -> int:
    from cogarb.workflows import simulate_to_file

    start = time.perf_counter()
    trials = simulate_to_file(
        args.task, args.agent, dict(args.param), args.out, n_participants=args.participants,
        seed=args.seed, internals=args.internals,
    )  # fmt: skip
    print(
        f"simulated {args.participants} × {trials['trial'].max()} trials of agent "
        f"'{args.agent}' in {time.perf_counter() - start:.1f} s -> {Path(args.out)}"
    )
    return 0


def cmd_stay(args) -> int:
    import cogarb

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


def cmd_fit(args) -> int:
    from cogarb.workflows import fit_file

    if str(args.trials).endswith(".toml"):
        return _fit_spec(args)
    out = _out(args)
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
    fit_file(
        args.trials, out, args.agent or "hybrid", format=args.format,
        sampler=_sampler_overrides(args), ppc=args.ppc, progress=not args.quiet, **options,
    )  # fmt: skip
    return 0


def _fit_spec(args) -> int:
    """Run every fit of a fit.toml whose output is missing or out of date."""
    from cogarb.fitspec import load_fit_spec
    from cogarb.runs import run_fit_spec

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
        )
        if given
    ]
    if ignored:
        raise CliError(
            f"{ignored[0]} applies to a trials file, not to a fit.toml: {spec.source} names "
            "its fits' agents, options and data format"
        )
    names = [job.name for job in spec.fits]
    unknown = [name for name in args.only if name not in names]
    if unknown:
        raise CliError(f"--only {unknown[0]}: {spec.source} has fits {', '.join(names)}")
    run_fit_spec(
        spec, args.only, _sampler_overrides(args), progress=not args.quiet,
        out=Path(args.out) if args.out else None,
    )  # fmt: skip
    return 0


def cmd_recover(args) -> int:
    import pandas as pd

    from cogarb.workflows import recover_seeds_to_folder, recover_to_folder

    out = _out(args)
    start = time.perf_counter()
    if args.seeds is not None:
        seeds = recover_seeds_to_folder(
            out, args.agent or "hybrid", args.task, args.participants, args.seeds,
            _sampler_overrides(args), progress=not args.quiet,
        )  # fmt: skip
        with pd.option_context("display.width", 120, "display.max_columns", 12):
            print(seeds.summary.round(3))
        print(f"{time.perf_counter() - start:.0f} s -> {out}/")
        return 0
    result = recover_to_folder(
        out, args.agent or "hybrid", args.task, args.participants, _sampler_overrides(args),
        progress=not args.quiet,
    )  # fmt: skip
    with pd.option_context("display.width", 120, "display.max_columns", 12):
        print(result.summary.round(3))
    print(f"{time.perf_counter() - start:.0f} s -> {out}/")
    return 0


def cmd_sbc(args) -> int:
    import pandas as pd

    from cogarb.agents import AGENTS
    from cogarb.workflows import sbc_to_folder

    if args.agent not in AGENTS:
        raise CliError(f"unknown agent {args.agent!r}: the agents are {', '.join(sorted(AGENTS))}")
    start = time.perf_counter()
    result = sbc_to_folder(
        args.out, args.agent, args.task, args.datasets, args.participants, args.seed,
        args.draws, args.tune, args.chains,
        say=lambda line: print(line, flush=True),
    )  # fmt: skip
    from cogarb.sbc import band_line

    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(result.summary.round(3))
    print(f"{band_line(result)}; {time.perf_counter() - start:.0f} s -> {args.out}/")
    return 0


def _paper_inputs(args) -> tuple[Path, Path, Path]:
    """The fits folder, and the paper's manifest and template (in paper/ beside it)."""
    fits = Path(args.fits)
    paper = fits.parent / "paper"
    manifest = getattr(args, "manifest", None) or paper / "manifest.toml"
    template = getattr(args, "template", None) or paper / "paper_template.md"
    return fits, Path(manifest), Path(template)


def cmd_demo(args) -> int:
    from cogarb.workflows import run_demo

    fits, manifest, template = _paper_inputs(args)
    run_demo(
        args.out, args.participants, args.seed, figures=not args.no_figures, fits_dir=fits,
        manifest=manifest, template=template,
    )  # fmt: skip
    return 0


def cmd_figures(args) -> int:
    from cogarb.paper import FIGURES, settings_named
    from cogarb.workflows import make_paper

    unknown = [k for k in args.only if k not in FIGURES]
    if unknown:
        raise CliError(f"--only {unknown[0]}: the figures are {', '.join(FIGURES)}")
    fits, manifest, template = _paper_inputs(args)
    settings = settings_named("quick" if args.quick else "full", seed=args.seed)
    make_paper(settings, args.out, fits, manifest, args.only, template, args.paper)
    return 0


COMMANDS = {
    "simulate": cmd_simulate,
    "stay": cmd_stay,
    "fit": cmd_fit,
    "recover": cmd_recover,
    "sbc": cmd_sbc,
    "demo": cmd_demo,
    "figures": cmd_figures,
}

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
