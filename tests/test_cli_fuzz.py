"""End-to-end fuzzing of the command line: corrupted inputs of ``stay``, ``simulate``, ``fit``.

The contract (issue 21, "nothing lost, nothing silently wrong"): for any input,
``cogarb.cli.main`` either succeeds with every row accounted for, or exits with
code 2 and prints one line ``cogarb: error: ...`` that names the file (or the
option at fault) and, where it names a row, column or value, names real ones.
Never a traceback, never a silent recode. The inputs, the oracles and the checks
are in ``tests/fuzz_cases.py``; tests/test_validation_properties.py checks cell by
cell what ``read_trials`` makes of a corrupted tidy or hBayesDM file, which this
suite does not repeat: it adds corrupted bytes, compression, encodings, paths,
parquet types, condition columns, task files, fit.toml files and options.

Each test runs a few named cases (those the issue lists) and then derandomized
generated ones, counts the outcomes and fails listing every distinct failure with
its first example, so one run shows all that is wrong. ``fit`` never compiles or
samples: :func:`fuzz_cases.patch_sampler` stops it where the model would be
compiled, and the model it was handed is checked instead.

``pytest -m slow tests/test_cli_fuzz.py -s`` runs COGARB_FUZZ_EXAMPLES (default
10,000) generated cases across the commands, and the named ones, and prints the
count of cases by outcome (about 13 minutes on one core).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import fuzz_cases as fz
import pytest
from fuzz_cases import scripted
from hypothesis import HealthCheck, Phase, given, settings

# Generated cases per command in the default (fast) run: about 20 s in all, the
# named cases included (stay ~70 ms a case, simulate ~20 ms, fit ~0.2 s).
FAST = {"stay": 12, "simulate": 20, "fit": 15, "fit-spec": 12}  # stay, simulate: per group
# Shares of the slow run, so that it takes about 15 minutes on one core.
SLOW_SHARES = {"stay": 0.5, "simulate": 0.3, "fit": 0.12, "fit-spec": 0.08}


def _generated(strategy, n: int, tally: fz.Tally, root: Path) -> None:
    """Run ``n`` derandomized cases drawn from ``strategy`` (no shrinking: all are counted)."""
    if n <= 0:
        return

    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def generated(case):
        tally.run(case, root)

    generated()


def _fuzz(strategy, explicit: list, n: int, tmp_path: Path) -> fz.Tally:
    tally = fz.Tally()
    for case in explicit:
        tally.run(case, tmp_path)
    _generated(strategy, n, tally, tmp_path)
    return tally


def _assert_clean(tally: fz.Tally) -> None:
    if tally.failures:
        pytest.fail(tally.report(), pytrace=False)


# ---------------------------------------------------------------------------
# Named cases (scripted(build, *draws): the draws in the order the builder makes them)

LOAD_VALUES = ["0.5", "2", "256", "-1", "", "single", "dual", "SINGLE", "x", "true", "1.0"]


def stay_explicit() -> list[fz.Case]:
    return [
        fz.valid_stay_case(),
        *(scripted(fz.cell_cases, "load", 5, v) for v in LOAD_VALUES),  # column, row, value
        *(scripted(fz.cell_cases, "stakes", 5, v) for v in ["0.5", "256", "x", "", "single"]),
        scripted(fz.cell_cases, "p_reward_00", 5, "1.5"),
        scripted(fz.cell_cases, "p_reward_11", 6, "-0.1"),
        scripted(fz.cell_cases, "trial", 4, str(2**63)),
        scripted(fz.cell_cases, "trial", 4, str(2**53 + 1)),
        scripted(fz.cell_cases, "choice1", 5, "0.5"),
        scripted(fz.cell_cases, "reward", 5, "inf"),
        scripted(fz.cell_cases, "rt1", 5, "nan"),
        scripted(fz.gzip_cases, False, "valid"),  # crlf, how, ...
        scripted(fz.gzip_cases, True, "two-members"),
        scripted(fz.gzip_cases, False, "truncate", 300),
        scripted(fz.gzip_cases, False, "plain-named-gz"),
        scripted(fz.gzip_cases, False, "bz2"),
        scripted(fz.encoding_cases, "latin1-cell", 2, "participant"),  # how, row, column
        scripted(fz.encoding_cases, "latin1-cell", 5, "load"),
        scripted(fz.encoding_cases, "latin1-header", 0, "load"),
        scripted(fz.encoding_cases, "utf8-cell", 5, "participant"),
        scripted(fz.encoding_cases, "bom", 0, "load"),
        scripted(fz.encoding_cases, "crlf", 0, "load"),
        scripted(fz.encoding_cases, "nul-cell", 5, "rt1"),
        scripted(fz.header_cases, "duplicate-rename", [7, 8]),  # how, (i, j): 'stakes' -> 'load'
        scripted(fz.header_cases, "duplicate-append", [2, 0]),
        scripted(fz.header_cases, "empty-file", [0, 1]),
        scripted(fz.header_cases, "header-only", [0, 1]),
        *(scripted(fz.path_cases, k) for k in ["directory", "missing", "xlsx", "zip", "odd-name"]),
        *([] if fz.IS_ROOT else [scripted(fz.path_cases, "unreadable")]),
        *(
            scripted(fz.parquet_cases, how, 4)
            for how in [  # how, row
                "valid",
                "uint64-trial",
                "huge-trial",
                "int64-2**63",
                "datetime-load",
                "datetime-column",
                "load-256",
                "load-0.5",
                "float16-reward",
            ]
        ),
        scripted(fz.parquet_cases, "truncated", 0, 500),
        scripted(fz.parquet_cases, "flipped", 0, 97, 255),  # how, row, byte, value
        scripted(fz.truncations, 213),  # one participant's two first trials: no pairs
        # a quote opening a field that never closes: pandas says "row 0" (its own count)
        scripted(fz.byte_flips, 2, 1627, b"\x01", 111, b'"'),  # n, then (offset, byte) each
        scripted(fz.parquet_cases, "duplicate-columns", 0, "load"),
    ]


@pytest.mark.parametrize("group", list(fz.STAY_GROUPS))
def test_stay_fuzz(group, tmp_path):
    # `cogarb stay FILE` on corrupted bytes, truncations, compressed files,
    # encodings, odd cells (condition columns, probabilities, huge integers),
    # odd headers, paths and parquet types.
    explicit = [c for c in stay_explicit() if fz.group_of(c) == group]
    _assert_clean(_fuzz(fz.STAY_GROUPS[group], explicit, FAST["stay"], tmp_path))


def _sim(**kwargs):
    return fz.simulate_case(**kwargs)


def simulate_explicit() -> list[fz.Case]:
    return [
        _sim(),
        _sim(base="otto2013_load", agent="hybrid_load", out="out.parquet"),
        _sim(base="kool2016_novel", out="out.csv.gz"),
        _sim(base="akam2015", participants="1"),
        _sim(edits=[("set", "n_trials", 1099511627776)]),
        _sim(edits=[("set", "n_trials", 2**63 - 1)]),
        _sim(edits=[("set", "n_trials", -5)]),
        _sim(edits=[("set", "n_trials", "6")]),
        _sim(edits=[("set", "p_common", math.nan)]),
        _sim(edits=[("set", "p_common", math.inf)]),
        _sim(edits=[("set", "rewards.lower", -0.5)]),
        _sim(edits=[("set", "rewards.seed", True)]),
        _sim(edits=[("set", "rewards", 5)]),
        _sim(edits=[("del", "rewards")]),
        _sim(edits=[("set", "bogus", 1)]),
        _sim(edits=[("set", "description", 5)]),
        _sim(edits=[("set", "events", [{"trial": 3, "kind": "reward_reset", "values": []}])]),
        _sim(edits=[("set", "events", [5])]),
        _sim(base="otto2013_load", edits=[("set", "load.first", True)]),
        _sim(base="otto2013_load", edits=[("set", "load.block_length", 2**63 - 1)]),
        _sim(base="kool2016_novel", edits=[("set", "points.upper", 2**63 - 1)]),
        _sim(base="akam2015", edits=[("set", "blocks.reward_probs", [])]),
        _sim(corruption=lambda text: (text.encode()[:20], "text cut at 20")),
        _sim(corruption=lambda text: (b"# caf\xe9\n" + text.encode(), "latin-1 byte in a comment")),
        _sim(seed="-1"),
        _sim(seed="x"),
        _sim(participants="0"),
        _sim(participants="-1"),
        _sim(params=["w=nan"]),
        _sim(params=["zz=1"]),
        _sim(agent="mf_one_choice"),
        _sim(out="existing-dir.csv"),
        _sim(out="nope/deeper/out.csv"),
        _sim(out="out.xlsx"),
        _sim(out="readonly/out.csv"),  # becomes out.csv under root, which can write anywhere
    ]


@pytest.mark.parametrize("group", list(fz.SIMULATE_GROUPS))
def test_simulate_fuzz(group, tmp_path):
    # `cogarb simulate TASK.toml` with mutated task files (other types, absurd
    # sizes, negative numbers, NaN/inf, removed and unknown keys, invalid TOML,
    # non-UTF-8 bytes) and odd --agent, --participants, --seed, --param and --out.
    explicit = [c for c in simulate_explicit() if fz.group_of(c) == group]
    _assert_clean(_fuzz(fz.SIMULATE_GROUPS[group], explicit, FAST["simulate"], tmp_path))


def _fit(data: fz.Case, agent: str = "hybrid", options=(), out: bool = True) -> fz.Case:
    args = ["--agent", agent, *options] + (["--out", "{dir}/fit-out"] if out else [])
    invalid = "--seed -1" if "-1" in options and "--seed" in options else None
    must = data.must_succeed and not options and out and "one_choice" not in agent
    return fz.Case(f"fit/{data.family.split('/')[1]}", "fit", data.files, data.target, args,
                   cell=data.cell, must_succeed=must, expect={"invalid": invalid},
                   note=data.note)  # fmt: skip


def _cell(column, row, value):
    return scripted(fz.cell_cases, column, row, value)


def fit_explicit() -> list[fz.Case]:
    return [
        _fit(fz.valid_stay_case()),
        _fit(fz.valid_stay_case(), "hybrid_load"),
        _fit(fz.valid_stay_case(), "hybrid", ["--condition", "w=load"]),
        _fit(fz.valid_stay_case(), "hybrid", ["--condition", "w=stakes"]),
        _fit(fz.valid_stay_case(), "hybrid", ["--covariate", "w=age"]),
        *(_fit(_cell("load", 5, v), "hybrid_load") for v in ["0.5", "256", "", "single", "x"]),
        _fit(_cell("load", 5, "256"), "arbitrator"),
        _fit(_cell("stakes", 5, "0.5"), "hybrid", ["--condition", "w=stakes"]),
        _fit(_cell("stakes", 5, ""), "hybrid", ["--condition", "w=stakes"]),
        _fit(fz.valid_stay_case(), "hybrid", ["--condition", "w=nope"]),
        _fit(fz.valid_stay_case(), "hybrid", ["--covariate", "w=rt1"]),
        _fit(fz.valid_stay_case(), "hybrid_one_choice"),
        _fit(fz.valid_stay_case(), "hybrid", ["--seed", "-1"]),
        _fit(fz.valid_stay_case(), "hybrid", ["--draws", "0"]),
        _fit(fz.valid_stay_case(), out=False),
        _fit(scripted(fz.header_cases, "duplicate-rename", [7, 8]), "hybrid_load"),
        _fit(scripted(fz.parquet_cases, "load-256", 5), "hybrid_load"),
        _fit(scripted(fz.parquet_cases, "datetime-load", 5), "hybrid_load"),
        _fit(scripted(fz.gzip_cases, False, "truncate", 300)),
    ]


def test_fit_fuzz(tmp_path, monkeypatch):
    # `cogarb fit FILE --agent A --out DIR`: the data a model is built on are every
    # row of the file, with condition levels as the file codes them.
    fz.patch_sampler(monkeypatch)
    _assert_clean(_fuzz(fz.FAMILIES["fit"], fit_explicit(), FAST["fit"], tmp_path))


def _spec(*edits, corruption=None, args=()):
    return fz.fit_spec_case(list(edits), corruption, args)


def _valid_spec(*edits):
    case = _spec(*edits)
    case.must_succeed = True
    return case


def fit_spec_explicit() -> list[fz.Case]:
    return [
        _spec(),
        _valid_spec(("set", "data.include", "common")),  # fits only the common transitions
        _valid_spec(("set", "data.p_common", 0.5), ("set", "sampler.draws", 5)),
        _spec(("set", "data.path", 5)),
        _spec(("set", "data.path", "missing.csv")),
        _spec(("set", "data.format", 5)),
        _spec(("set", "data.p_common", 1.0)),
        _spec(("set", "data.reward_scale", math.inf)),
        _spec(("set", "sampler", 5)),
        _spec(("set", "fit", 5)),
        _spec(("set", "fit", [5])),
        _spec(("set", "fit[0].name", "..")),
        _spec(("set", "fit[0].name", "a/b")),
        _spec(("set", "sampler.draws", -1)),
        _spec(("set", "sampler.draws", "x")),
        _spec(("set", "sampler.seed", -1)),
        _spec(("set", "compare", 5)),
        _spec(("set", "compare.fits", [5])),
        _spec(("set", "bogus", 1)),
        _spec(("set", "data.bogus", 1)),
        _spec(("set", "fit[0].agent", "hybrid_one_choice")),
        _spec(("set", "fit[0].agent", ["a"])),
        _spec(corruption=lambda text: (text.encode()[:30], "text cut at 30")),
        _spec(
            corruption=lambda text: (b"# caf\xe9\n" + text.encode(), "latin-1 byte in a comment")
        ),
        _spec(args=["--seed", "-1"]),
        _spec(args=["--only", "zz"]),
    ]


def test_fit_spec_fuzz(tmp_path, monkeypatch):
    # `cogarb fit fit.toml` with a mutated copy of fits/hbayesdm_ts_example/fit.toml.
    fz.patch_sampler(monkeypatch)
    _assert_clean(_fuzz(fz.FAMILIES["fit-spec"], fit_spec_explicit(), FAST["fit-spec"], tmp_path))


# ---------------------------------------------------------------------------
# The real executable: what a user sees (warnings included) on two bad inputs


def test_real_command_prints_one_line(tmp_path):
    # In-process runs record warnings; the executable prints them. A latin-1 file
    # and a task file with a bad value: one line each, exit code 2.
    bad_trials = tmp_path / "latin1.csv"
    bad_trials.write_bytes(fz.base_text().replace("p1", "pé", 1).encode("latin-1"))
    bad_task = tmp_path / "task.toml"
    bad_task.write_text('name = "t"\nn_trials = -3\n')
    exe = str(Path(sys.executable).with_name("cogarb"))
    for argv, named in (
        (["stay", str(bad_trials)], bad_trials.name),
        (["simulate", str(bad_task), "--participants", "1", "--out", str(tmp_path / "o.csv")],
         bad_task.name),
    ):  # fmt: skip
        done = subprocess.run([exe, *argv], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("cogarb: error: "), done.stderr
        assert named in lines[0], lines[0]


@pytest.mark.slow
def test_reflected_walk_with_a_huge_drift_does_not_hang(tmp_path):
    # rewards.drift_sd = 1e300 is a finite number >= 0, so the task loads; the
    # reflected walk then reflects for ever (cogarb/_kernels/walks.py). Run in a
    # subprocess: it must finish (either way) within a minute.
    task = tmp_path / "task.toml"
    task.write_text('name = "t"\nn_trials = 3\n[rewards]\ndrift_sd = 1e300\n')
    exe = str(Path(sys.executable).with_name("cogarb"))
    argv = [exe, "simulate", str(task), "--participants", "1", "--out", str(tmp_path / "o.csv")]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("cogarb simulate with rewards.drift_sd = 1e300 hangs (over 60 s)")
    if done.returncode != 0:
        lines = done.stderr.splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert lines[0].startswith("cogarb: error: ") and task.name in lines[0], lines[0]


# ---------------------------------------------------------------------------
# The long run: COGARB_FUZZ_EXAMPLES cases, counted by outcome


@pytest.mark.slow
def test_fuzz_tally(tmp_path, monkeypatch):
    # COGARB_FUZZ_EXAMPLES generated cases (10,000) and the named ones; prints the count by outcome
    # and the distinct failures (also written to COGARB_FUZZ_REPORT if set).
    fz.patch_sampler(monkeypatch)
    total = int(os.environ.get("COGARB_FUZZ_EXAMPLES", "10000"))
    tally = fz.Tally()
    explicit = {"stay": stay_explicit(), "simulate": simulate_explicit(), "fit": fit_explicit(),
                "fit-spec": fit_spec_explicit()}  # fmt: skip
    for command, share in SLOW_SHARES.items():
        for case in explicit[command]:
            tally.run(case, tmp_path)
        _generated(fz.FAMILIES[command], round(total * share), tally, tmp_path)
        fz.print_now(f"after {command}:\n{tally.counts()}")
    report = tally.report()
    fz.print_now(report)
    if os.environ.get("COGARB_FUZZ_REPORT"):
        Path(os.environ["COGARB_FUZZ_REPORT"]).write_text(report + "\n")
    _assert_clean(tally)
