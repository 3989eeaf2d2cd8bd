"""Generated inputs for the command-line fuzz suite (tests/test_cli_fuzz.py) and their oracles.

A :class:`Case` is pure data: the files to write (name -> bytes), the command line
and what the file says (its rows, the cell that was corrupted). :func:`run_case`
writes the files into a fresh folder, runs ``cogarb.cli.main`` in-process and
checks the contract of issue 21:

- the command succeeds (exit 0) with every row of the file accounted for (``stay``:
  the trial and missed counts it prints; ``simulate``: participants × n_trials rows
  written; ``fit``: the model handed to the sampler holds every row), and a value
  the file has in a corrupted cell is read as the file says (never recoded); or
- it exits with code 2 and prints exactly one line, ``cogarb: error: ...``, naming
  the file (or the option at fault), and a row, column or value it names is one
  the user can find in the file.

Anything else is a :class:`Failure`: an exception escaping ``main`` (the user would
see a traceback), more than one line (a warning printed before the error), a
message that does not say which input is wrong, a row count or a value that
changed on the way, or an invalid input accepted.

Sampling is replaced by a sentinel (:class:`ReachedSampler`) raised where
``cogarb.fitting`` would compile the model: reaching it proves the data were
accepted, and the model it carries shows what the likelihood would see.
"""

from __future__ import annotations

import ast
import bz2
import contextlib
import copy
import csv
import dataclasses
import datetime as dt
import functools
import gzip
import io
import itertools
import json
import lzma
import math
import os
import re
import shutil
import stat
import sys
import tempfile
import tomllib
import traceback
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import cogarb
import cogarb.agents
from cogarb.cli import main
from cogarb.schema import FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS

REPO = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # root reads and writes anything
N_PARTICIPANTS, N_TRIALS = 3, 8
AGENTS = tuple(cogarb.AGENTS)


# ---------------------------------------------------------------------------
# Cases and outcomes


@dataclass
class Case:
    """One generated input.

    Attributes
    ----------
    family : str
        ``command/kind``, e.g. ``"stay/byte-flip"``; outcomes are counted by command.
    command : str
        ``"stay"``, ``"simulate"``, ``"fit"`` or ``"fit-spec"``.
    files : dict
        File name (relative, may contain ``/``) -> bytes, or ``None`` for a folder.
    target : str
        The file (or folder) the command reads, relative to the case folder.
    args : list of str
        Further arguments; ``{dir}`` is replaced by the case folder.
    cell : tuple, optional
        ``(row, column, value)``: the corrupted cell (0-based data row), whose value
        an accepted file must keep.
    must_succeed : bool
        A valid input: exit 2 is a failure too.
    expect : dict
        Command-specific oracle data (e.g. ``rows`` written by ``simulate``).
    modes : dict
        File name -> chmod mode, applied after writing.
    note : str
        What was done, for the report.
    """

    family: str
    command: str
    files: dict
    target: str
    args: list = field(default_factory=list)
    cell: tuple | None = None
    must_succeed: bool = False
    expect: dict = field(default_factory=dict)
    modes: dict = field(default_factory=dict)
    note: str = ""

    def describe(self) -> str:
        argv = " ".join([self.command.replace("-spec", ""), self.target, *self.args])
        sizes = {
            k: (None if v is None else f"{len(v)} bytes") for k, v in sorted(self.files.items())
        }
        return f"[{self.family}] cogarb {argv}  ({self.note}; files {sizes})"


class Failure(AssertionError):
    """The contract is broken; ``key`` groups failures of the same cause."""

    def __init__(self, key: str, detail: str):
        super().__init__(f"{key}: {detail}")
        self.key, self.detail = key, detail


class ReachedSampler(Exception):
    """Raised in place of compiling/sampling a model: the data were accepted."""

    def __init__(self, spec=None):
        super().__init__("reached the sampler")
        self.spec = spec  # the ModelSpec cogarb.fit built, when the fit got that far


@dataclass
class Result:
    code: int | None
    stdout: str
    stderr: str
    warnings: list
    reached: ReachedSampler | None = None
    fit_calls: list = field(default_factory=list)


FIT_CALLS: list = []  # keyword arguments of every cogarb.fit call (see patch_sampler)


def patch_sampler(monkeypatch) -> None:
    """Stop every fit before compilation: the model goes to a ReachedSampler.

    ``cogarb.fitting._compile`` (the compile step, given the PyMC model) and, in
    case it is renamed, ``nutpie.compile_pymc_model`` and ``nutpie.sample`` raise
    the sentinel, carrying the model specification the fit built (recorded by
    wrapping ``cogarb.fitting.model_spec``); ``cogarb.fit`` is wrapped to record its
    arguments (the CLI looks it up on the package at call time).
    """
    import nutpie

    import cogarb.fitting

    specs = []
    real_model_spec = cogarb.fitting.model_spec

    def recording_model_spec(*args, **kwargs):
        specs[:] = [real_model_spec(*args, **kwargs)]
        return specs[0]

    monkeypatch.setattr(cogarb.fitting, "model_spec", recording_model_spec)

    def stop(*args, **kwargs):
        raise ReachedSampler(specs[0] if specs else None)

    if hasattr(cogarb.fitting, "_compile"):
        monkeypatch.setattr(cogarb.fitting, "_compile", stop)
    monkeypatch.setattr(nutpie, "compile_pymc_model", stop)
    monkeypatch.setattr(nutpie, "sample", stop)
    real_fit = cogarb.fitting.fit

    def recording_fit(trials, agent="hybrid", *args, **kwargs):
        FIT_CALLS.append({"trials": trials, "agent": agent, "args": args, **kwargs})
        return real_fit(trials, agent, *args, **kwargs)

    monkeypatch.setattr(cogarb, "fit", recording_fit)


@contextlib.contextmanager
def _default_warnings():
    """Record warnings as a plain ``python -m cogarb`` run would show them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                         ResourceWarning):  # fmt: skip
            warnings.simplefilter("ignore", category)
        yield caught


def run_cli(argv: list[str]) -> Result:
    """``cogarb.cli.main(argv)`` in-process; an exception escaping it is a Failure."""
    out, err = io.StringIO(), io.StringIO()
    FIT_CALLS.clear()
    reached = None
    with _default_warnings() as caught:
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exit_:  # argparse
                    code = exit_.code
        except ReachedSampler as sentinel:
            code, reached = None, sentinel
        except Exception as error:  # the user would see a traceback
            raise Failure(
                f"traceback {type(error).__name__}{_where(error)}",
                f"{error!s:.300}\n{_short_traceback(error)}",
            ) from None
    return Result(
        code,
        out.getvalue(),
        err.getvalue(),
        [f"{w.category.__name__}: {w.message}" for w in caught],
        reached,
        list(FIT_CALLS),
    )


def _cogarb_frames(error: BaseException):
    frames = traceback.extract_tb(error.__traceback__)
    return [f for f in frames if "/cogarb/" in f.filename and "/tests/" not in f.filename]


def _where(error: BaseException) -> str:
    """`` in cogarb/x.py:function``: the innermost frame of the package."""
    ours = _cogarb_frames(error)
    if not ours:
        return ""
    frame = ours[-1]
    return f" in {frame.filename.split('/cogarb/', 1)[1].join(['cogarb/', ''])}:{frame.name}"


def _short_traceback(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    return "".join(traceback.format_list(frames)).rstrip()


# ---------------------------------------------------------------------------
# The valid trial file


@functools.cache
def base_frame() -> pd.DataFrame:
    """A small cohort of the load task: 3 participants × 8 trials, both load levels.

    Columns beyond the schema: ``load`` (0/1 in blocks of 4), ``stakes`` (1/5),
    ``rt1``, ``age`` (constant per participant, a covariate) and ``p_reward_*``.
    Row 4 misses the second-stage choice, row 11 everything.
    """
    from cogarb.tasks import LoadSchedule

    task = cogarb.load_task(REPO / "tasks" / "otto2013_load.toml")
    task = dataclasses.replace(task, n_trials=N_TRIALS, load=LoadSchedule(block_length=4))
    trials = cogarb.simulate(task, "hybrid", {}, N_PARTICIPANTS, seed=3)
    trials["stakes"] = np.where(trials["trial"] % 2 == 1, 1, 5)
    trials["rt1"] = np.round(0.4 + 0.01 * np.arange(len(trials)), 3)
    trials["age"] = 20 + 3 * trials["participant"].cat.codes.astype(int)
    trials.loc[3, "choice2"] = pd.NA  # second-stage choice missed
    trials.loc[3, "reward"] = np.nan
    trials.loc[10, ["choice1", "state2", "choice2", "common"]] = pd.NA  # fully missed
    trials.loc[10, "reward"] = np.nan
    first = ["participant", "trial", "choice1", "state2", "choice2", "reward", "common", "load",
             "stakes", "rt1", "age"]  # fmt: skip
    return trials[first + [c for c in trials.columns if c not in first]]


@functools.cache
def base_text() -> str:
    return base_frame().to_csv(index=False, lineterminator="\n")


def base_records() -> tuple[list[str], list[list[str]]]:
    header, *rows = (line.split(",") for line in base_text().splitlines())
    return header, rows


def _field(value: str, sep: str) -> str:
    if any(c in value for c in (sep, '"', "\r", "\n")):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(header, rows, sep: str = ",", eol: str = "\n") -> str:
    return "".join(sep.join(_field(v, sep) for v in r) + eol for r in [header, *rows])


# ---------------------------------------------------------------------------
# What a file holds, as a person counting its rows would see it


@dataclass
class Table:
    """Header and data records of a file; ``None`` fields where they cannot be told."""

    header: list
    rows: list  # list of lists (text) or of values (parquet)
    physical_lines: int = 0

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    def index(self, column: str) -> int | None:
        return self.header.index(column) if self.header.count(column) == 1 else None

    def cell(self, row: int, column: str):
        j = self.index(column)
        if j is None or not 0 <= row < len(self.rows) or j >= len(self.rows[row]):
            return None
        return self.rows[row][j]

    def duplicated(self) -> list[str]:
        return sorted({c for c in self.header if self.header.count(c) > 1})

    def column(self, name: str) -> list | None:
        j = self.index(name)
        return None if j is None else [r[j] if j < len(r) else None for r in self.rows]

    def missed(self) -> int | None:
        """Rows with a missing choice or second-stage state (None: cannot tell)."""
        columns = [self.column(c) for c in ("choice1", "state2", "choice2")]
        if any(c is None for c in columns) or "stage2_choice" in self.header:
            return None
        return sum(any(is_missing(c[i]) for c in columns) for i in range(self.n_rows))

    def participants(self) -> int | None:
        ids = self.column("participant")
        if ids is None or any(is_missing(v) for v in ids):
            return None
        return len({str(v).strip() for v in ids})


UNREADABLE = "unreadable"  # the oracle cannot read the file: accepting it is a failure


def _decompress(content: bytes, name: str) -> bytes | str:
    lowered = name.lower()
    try:
        if lowered.endswith(".gz"):
            return gzip.decompress(content)
        if lowered.endswith(".bz2"):
            return bz2.decompress(content)
        if lowered.endswith(".xz"):
            return lzma.decompress(content)
    except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error):
        return UNREADABLE
    if lowered.endswith((".zip", ".zst", ".tar")):
        return UNREADABLE  # not generated as valid archives
    return content


def _decode(data: bytes) -> str:
    """Text for counting records: ASCII separators and quotes are the same in any
    ASCII-compatible encoding, so latin-1 (which never fails) counts as UTF-8 would."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _is_blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def read_table_oracle(content: bytes, name: str) -> Table | str:
    """The records of a file as written (or UNREADABLE)."""
    if name.lower().endswith(".parquet"):
        return _parquet_oracle(content)
    data = _decompress(content, name)
    if data is UNREADABLE:
        return UNREADABLE
    text = _decode(data)
    lowered = name.lower().removesuffix(".gz").removesuffix(".bz2").removesuffix(".xz")
    first = next((line for line in re.split(r"\r\n|\r|\n", text) if line.strip()), "")
    tab = lowered.endswith(".tsv") or (lowered.endswith(".txt") and "\t" in first)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t" if tab else ","))
    except csv.Error:
        return UNREADABLE
    records = [r for r in records if not _is_blank(r)]
    lines = len(re.findall(r"\r\n|\r|\n", text)) + 1
    if not records:
        return Table([], [], lines)
    return Table(records[0], records[1:], lines)


def _parquet_oracle(content: bytes) -> Table | str:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(content))
    except Exception:
        return UNREADABLE
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else []
    if not columns:
        rows = [[] for _ in range(table.num_rows)]
    return Table(list(table.schema.names), rows, table.num_rows + 1)


# ---------------------------------------------------------------------------
# What a correct reader makes of one value


INVALID = object()  # must be refused
SKIP = object()  # no firm rule: either outcome, any reading
NA = object()  # missing


def is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in MISSING_TOKENS
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value):
    """A finite float, or INVALID."""
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        x = float(value)
        if isinstance(value, int | np.integer) and abs(int(value)) > 2**53:
            return INVALID  # not exactly representable: a reader must not round it
        return x if math.isfinite(x) else INVALID
    if isinstance(value, str):
        t = value.strip()
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", t):
            return INVALID  # 'inf', '1_0', '0x1', full-width digits...
        x = float(t)
        if math.isfinite(x) and re.fullmatch(r"[+-]?\d+", t) and abs(int(t)) > 2**53:
            return INVALID
        return x if math.isfinite(x) else INVALID
    return INVALID  # dates, bytes...


LOAD_CODES = {"single": 0, "dual": 1}


def load_code(value):
    """The documented codings of ``load``: 0/1, true/false (data.py's spellings), single/dual."""
    if is_missing(value):
        return NA
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, str):
        t = value.strip().lower()
        if t in LOAD_CODES:
            return LOAD_CODES[t]
        if t in TRUE_TOKENS:
            return 1
        if t in FALSE_TOKENS:
            return 0
    x = _number(value)
    return int(x) if x in (0.0, 1.0) else INVALID


def expected_value(column: str, value):
    """The reading of ``value`` in ``column``: a value, NA, INVALID or SKIP."""
    missing = is_missing(value)
    if column == "participant":
        if missing:
            return INVALID
        return value.strip() if isinstance(value, str) else SKIP
    if column in ("trial", "session"):
        x = INVALID if missing else _number(value)
        if isinstance(value, bool | np.bool_):
            return SKIP
        return INVALID if x is INVALID or x < 1 or x != int(x) else int(x)
    if column in ("choice1", "state2", "choice2", "state1"):
        if missing:
            return NA
        x = _number(value)
        return x if x in (0.0, 1.0) else INVALID
    if column == "reward":
        return NA if missing else _number(value)
    if column == "common":
        if missing:
            return NA
        if isinstance(value, bool | np.bool_):
            return bool(value)
        t = str(value).strip().lower()
        return True if t in TRUE_TOKENS else False if t in FALSE_TOKENS else INVALID
    if column == "load":
        return load_code(value)
    if column.startswith("p_reward_"):
        if missing:
            return NA
        x = _number(value)
        return x if x is not INVALID and 0.0 <= x <= 1.0 else INVALID
    if column == "stakes":  # no documented coding: kept as the file says
        if missing:
            return NA
        x = _number(value)
        return x if x is not INVALID else (value.strip() if isinstance(value, str) else SKIP)
    return SKIP


def same(read, expected) -> bool:
    """A value read equals the expected one (numbers as numbers, NA as NA)."""
    if expected is NA:
        return is_missing(read)
    if is_missing(read):
        return False
    if isinstance(expected, bool):
        return isinstance(read, bool | np.bool_) and bool(read) == expected
    if isinstance(expected, float | int) and not isinstance(expected, bool):
        try:
            return float(read) == float(expected)
        except (TypeError, ValueError):
            return False
    return str(read).strip() == str(expected).strip()


def _value_in_message(message: str):
    """The Python literal after ``value `` in a message (None if there is none)."""
    start = message.find("value ")
    if start < 0:
        return None
    rest = message[start + len("value ") :]
    for end in range(1, min(len(rest), 400) + 1):
        if end < len(rest) and rest[end] not in " :,;)":
            continue
        try:
            return ("found", ast.literal_eval(rest[:end]))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
    return None


def _loosely_same(quoted, cell) -> bool:
    if is_missing(quoted) and is_missing(cell):
        return True
    if str(quoted).strip() == str(cell).strip():
        return True
    try:
        return float(quoted) == float(cell)
    except (TypeError, ValueError, OverflowError):
        return False


def check_error(result: Result, case: Case, tokens: list[str], table) -> None:
    """Exit 2 with one line ``cogarb: error: ...`` naming an input; its row/column are real."""
    lines = result.stderr.splitlines()
    if result.code != 2:
        raise Failure(f"exit code {result.code}", f"stderr {result.stderr!r:.300}")
    if "Traceback" in result.stderr:
        raise Failure("traceback printed", result.stderr[-600:])
    if lines and lines[0].startswith("usage:"):
        raise Failure(
            "argparse usage message instead of one line",
            f"{len(lines)} lines, last {lines[-1]!r}",
        )
    if len(lines) != 1 or result.warnings:
        raise Failure(
            "not one line on stderr",
            f"{len(lines)} lines {result.stderr!r:.400}, warnings {result.warnings!r:.400}",
        )
    line = lines[0]
    if not line.startswith("cogarb: error: "):
        raise Failure("stderr does not start with 'cogarb: error: '", repr(line))
    if not any(_names(line, t) for t in tokens):
        shape = _shape(line)
        raise Failure(f"error names neither the file nor the option at fault: {shape[:60]}", line)
    if isinstance(table, Table):
        _check_location(line, tokens, table)


def _names(line: str, token: str) -> bool:
    """``token`` appears in ``line`` as itself (``out.csv`` is not named by ``.out.csv.x1``)."""
    return bool(token) and re.search(rf"(?<![\w.]){re.escape(token)}(?!\w)", line) is not None


def _shape(message: str) -> str:
    """The message with paths, numbers and quoted values blanked (to group failures)."""
    text = re.sub(r"/[^\s:,']*", "PATH", message)
    text = re.sub(r"'[^']*'", "'…'", text)
    return re.sub(r"\d+", "N", text)[:200]


def _check_location(line: str, tokens: list[str], table: Table) -> None:
    text = line
    for token in sorted((t for t in tokens if "/" in t), key=len, reverse=True):
        text = text.replace(token, "FILE")
    row = re.search(r"\brow (\d+)\b", text)
    column = re.search(r"column '([^']*)'", text)
    if row and not 1 <= int(row.group(1)) <= table.n_rows:
        raise Failure("error names a row the file does not have", f"{line} ({table.n_rows} rows)")
    found = re.search(r"\bline (\d+)\b", text)
    if found and not 1 <= int(found.group(1)) <= table.physical_lines + 1:
        raise Failure("error names a line the file does not have", line)
    if column is None:
        return
    name = column.group(1)
    if name not in table.header:
        if row:
            raise Failure(
                "error names a column the file does not have",
                f"{line} (columns {table.header})",
            )
        return  # e.g. a required column that is missing
    if not row or table.index(name) is None:
        return
    quoted = _value_in_message(text[column.end() :])
    cell = table.cell(int(row.group(1)) - 1, name)
    if quoted is not None and cell is not None and not _loosely_same(quoted[1], cell):
        raise Failure(
            "error quotes a value that is not in the named cell",
            f"{line} (the cell holds {cell!r})",
        )


# ---------------------------------------------------------------------------
# Running a case


def _materialise(case: Case, folder: Path) -> None:
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir(exist_ok=True)
        else:
            path.write_bytes(content)
    if case.expect.get("link"):  # a symbolic link to a file that is not there
        (folder / case.target).symlink_to(folder / "gone.csv")
    for name, mode in case.modes.items():
        os.chmod(folder / name, mode)


def _cleanup(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        with contextlib.suppress(OSError):
            if not path.is_symlink():
                os.chmod(path, stat.S_IRWXU | (path.stat().st_mode & 0o777))
    shutil.rmtree(folder, ignore_errors=True)


def run_case(case: Case, root: Path) -> str:
    """Run one case in a fresh folder under ``root``; the outcome, or raise Failure."""
    folder = Path(tempfile.mkdtemp(dir=root))
    try:
        _materialise(case, folder)
        args = [a.replace("{dir}", str(folder)) for a in case.args]
        target = str(folder / case.target)
        command = "fit" if case.command == "fit-spec" else case.command
        result = run_cli([command, target, *args])
        return CHECKS[case.command](case, folder, result, args)
    finally:
        _cleanup(folder)


def _tokens(case: Case, folder: Path, args: list[str]) -> list[str]:
    """Words that name the input at fault: the file, or an option given."""
    target = folder / case.target
    tokens = [str(target), target.name]
    options = [a for a in args if a.startswith("--")]
    tokens += options
    for flag, value in itertools.pairwise(args):
        if flag in ("--param", "--condition", "--covariate"):
            tokens.append(f"'{value.partition('=')[0].strip()}'")
            tokens.append(f"'{value.partition('=')[2].strip()}'")
        if flag == "--agent":
            tokens.append(f"'{value}'")
        if flag == "--out":
            tokens += [value, Path(value).name]
    if case.command == "fit" and "--out" not in args:
        tokens.append("--out")  # required: its absence is the fault
    return [t for t in tokens if t not in ("''", "")]


def _table_of(case: Case):
    content = case.files.get(case.target)
    if content is None:
        return None
    return read_table_oracle(content, case.target)


STAY_COUNTS = re.compile(r"(\d+) participants, (\d+) trials \((\d+) missed")


def check_stay(case: Case, folder: Path, result: Result, args: list[str]) -> str:
    table = _table_of(case)
    if result.code != 0:
        if case.must_succeed:
            raise Failure("a valid file was rejected", f"{result.stderr!r:.400}")
        check_error(result, case, _tokens(case, folder, args), table)
        return "exit 2"
    if table is None or table is UNREADABLE:
        raise Failure("accepted a file that cannot be read", result.stdout[:200])
    counts = STAY_COUNTS.search(result.stdout)
    if counts is None:
        raise Failure("stay printed no trial count", result.stdout[:300])
    _check_accepted(case, folder / case.target, table, *map(int, counts.groups()))
    return "succeeded"


def _check_accepted(case: Case, path: Path, table: Table, n_ids, n_rows, n_missed) -> None:
    if table.duplicated():
        raise Failure(
            "accepted a file with duplicate column names",
            f"{table.duplicated()} (which one holds the data?)",
        )
    if n_rows != table.n_rows:
        raise Failure("trial count is not the file's data rows", f"{n_rows} != {table.n_rows}")
    missed = table.missed()
    if missed is not None and n_missed != missed:
        raise Failure("missed count is not the file's", f"{n_missed} != {missed}")
    ids = table.participants()
    if ids is not None and n_ids != ids:
        raise Failure("participant count is not the file's", f"{n_ids} != {ids}")
    if case.cell is not None:
        _check_cell(case, path)


def _check_cell(case: Case, path: Path) -> None:
    row, column, value = case.cell
    expected = expected_value(column, value)
    if expected is SKIP:
        return
    if expected is INVALID:
        raise Failure(
            f"accepted an invalid value in column '{column}'",
            f"{value!r} at row {row + 1}",
        )
    frame = cogarb.read_trials(path)
    read = frame[column].iloc[row] if column in frame.columns else None
    if column == "load" and isinstance(read, str):
        read = load_code(read)
    if not same(read, expected):
        raise Failure(
            f"column '{column}': value read is not the file's",
            f"file {value!r} -> read {read!r} (expected {expected!r})",
        )


# ---------------------------------------------------------------------------
# simulate


def check_simulate(case: Case, folder: Path, result: Result, args: list[str]) -> str:
    if result.code != 0:
        if case.must_succeed:
            raise Failure("a valid simulation was rejected", f"{result.stderr!r:.400}")
        check_error(result, case, _tokens(case, folder, args), None)
        return "exit 2"
    invalid = case.expect.get("invalid")
    if invalid:
        raise Failure(f"accepted {invalid.split(':')[0]}", invalid)
    out = Path(args[args.index("--out") + 1])
    if not out.is_file():
        raise Failure("exit 0 but no output file", str(out))
    written = _read_written(out)
    rows = case.expect.get("rows")
    if rows is not None and len(written) != rows:
        raise Failure("simulate wrote the wrong number of rows", f"{len(written)} != {rows}")
    try:  # what simulate writes, read_trials reads back whole
        again = cogarb.read_trials(out)
    except Exception as error:  # any refusal breaks the round trip
        raise Failure(
            f"read_trials refuses what simulate wrote ({type(error).__name__})", f"{error!s:.300}"
        ) from None
    if len(again) != len(written) or int(again["missed"].sum()) != 0:
        raise Failure("read_trials reads back other rows than simulate wrote", f"{len(again)}")
    return "succeeded"


def _read_written(out: Path) -> pd.DataFrame:
    name = out.name.lower()
    if name.endswith(".parquet"):
        return pd.read_parquet(out)
    return pd.read_csv(out)


# ---------------------------------------------------------------------------
# fit


def check_fit(case: Case, folder: Path, result: Result, args: list[str]) -> str:
    table = _table_of(case)
    if result.reached is None:
        if result.code == 0:
            raise Failure("fit exited 0 without sampling", result.stdout[:300])
        if case.must_succeed:
            raise Failure("a valid fit was rejected", f"{result.stderr!r:.400}")
        check_error(result, case, _tokens(case, folder, args), table)
        return "exit 2"
    if not isinstance(table, Table):
        raise Failure("a file that cannot be read reached the sampler", case.target)
    invalid = case.expect.get("invalid")
    if invalid:
        raise Failure(f"reached the sampler with {invalid.split(':')[0]}", invalid)
    _check_fit_call(result)
    data = _model_data(result)
    n_ids = len(data.participants) if data is not None else None
    if data is not None:
        n_rows, n_missed = len(data.missed), int(data.missed.sum())
    else:  # the compile step was renamed: the trials cogarb.fit was given
        trials = result.fit_calls[-1]["trials"]
        n_rows, n_missed = len(trials), int(trials["missed"].sum())
    _check_accepted(case, folder / case.target, table, n_ids or table.participants(), n_rows,
                    n_missed)  # fmt: skip
    if data is not None:
        _check_condition(case, args, table, data, result)
    return "reached sampler"


def _model_data(result: Result):
    spec = result.reached.spec
    return None if spec is None else spec.data


def _check_fit_call(result: Result) -> None:
    if not result.fit_calls:
        return
    call = result.fit_calls[-1]
    for name in ("draws", "tune", "chains"):
        value = call.get(name)
        if value is not None and not (isinstance(value, int) and value >= 1):
            raise Failure(f"reached the sampler with {name} = {value!r}", "not a positive integer")
    seed = call.get("seed")
    if seed is not None and not (isinstance(seed, int) and 0 <= seed < 2**64):
        raise Failure(f"reached the sampler with seed {seed!r}", "nutpie takes a u64")


def _row_keys(data) -> list[tuple[str, int]]:
    participant = np.repeat(np.arange(len(data.participants)), np.diff(data.offsets))
    return [(data.participants[p], int(t)) for p, t in zip(participant, data.trial, strict=True)]


def _file_rows(table: Table) -> dict:
    ids, trials = table.column("participant"), table.column("trial")
    rows = {}
    for i, (p, t) in enumerate(zip(ids or [], trials or [], strict=True)):
        with contextlib.suppress(TypeError, ValueError):
            rows[(str(p).strip(), int(float(t)))] = i
    return rows


def _check_condition(case: Case, args: list[str], table: Table, data, result: Result) -> None:
    """The condition level the likelihood sees on each row is the file's value, coded."""
    agent = result.fit_calls[-1]["agent"] if result.fit_calls else "hybrid"
    options = result.fit_calls[-1] if result.fit_calls else {}
    conditions = options.get("conditions") or {}
    if conditions:
        column = next(iter(conditions.values()))
        code = _levels_coder(table.column(column), column)
    elif agent in ("hybrid_load", "arbitrator") and "load" in table.header:
        column, code = "load", load_code
    else:
        return
    values = table.column(column)
    if values is None:
        return
    rows = _file_rows(table)
    for k, key in enumerate(_row_keys(data)):
        i = rows.get(key)
        if i is None or data.missed[k]:
            continue
        expected = code(values[i])
        if expected is NA:
            raise Failure(
                f"empty '{column}' reached the likelihood as a level",
                f"row {i + 1}: {values[i]!r} -> level {int(data.condition[k])}",
            )
        if expected is INVALID or expected != int(data.condition[k]):
            raise Failure(
                f"column '{column}' recoded on the way to the likelihood",
                f"row {i + 1}: file {values[i]!r} -> level {int(data.condition[k])}",
            )


def _levels_coder(values, column: str):
    """Level 0/1 of each value of a two-level column, sorted as the file's values sort."""
    if values is None:
        return lambda v: SKIP
    if column == "load":
        return load_code

    def norm(v):
        x = _number(v)
        return x if x is not INVALID else str(v).strip()

    present = sorted(
        {norm(v) for v in values if not is_missing(v)}, key=lambda x: (str(type(x)), x)
    )
    return lambda v: NA if is_missing(v) else (present.index(norm(v)) if len(present) == 2
                                              else INVALID)  # fmt: skip


def check_fit_spec(case: Case, folder: Path, result: Result, args: list[str]) -> str:
    data_name = case.expect.get("data", "trials.csv.gz")
    table = read_table_oracle(case.files[data_name], data_name) if data_name in case.files else None
    tokens = [*_tokens(case, folder, args), str(folder / data_name), data_name]
    if result.reached is None:
        if result.code == 0 and case.expect.get("fits_run", True):
            raise Failure("fit.toml run exited 0 without sampling", result.stdout[-300:])
        if result.code == 0:
            return "succeeded"
        if case.must_succeed:
            raise Failure("a valid fit.toml was rejected", f"{result.stderr!r:.400}")
        check_error(result, case, tokens, None)
        return "exit 2"
    invalid = case.expect.get("invalid")
    if invalid:
        raise Failure(f"reached the sampler with {invalid.split(':')[0]}", invalid)
    _check_fit_call(result)
    names = re.findall(r"^(.+?): fitting '", result.stdout, flags=re.M)
    if names and (names[-1] in (".", "..") or "/" in names[-1] or not names[-1].strip()):
        raise Failure("fit name that is not a folder name accepted", repr(names[-1]))
    call = result.fit_calls[-1] if result.fit_calls else {}
    p_common, scale = call.get("p_common", 0.7), call.get("reward_scale", 1.0)
    if not (isinstance(p_common, float) and 0 < p_common < 1):
        raise Failure("reached the sampler with p_common", repr(p_common))
    if not (math.isfinite(scale) and scale > 0):
        raise Failure("reached the sampler with reward_scale", repr(scale))
    if isinstance(table, Table) and data_name == case.expect.get("data", "trials.csv.gz"):
        include = case.expect.get("include")
        expected = table.n_rows
        if include is not None:
            flags = table.column(include) or []
            expected = sum(str(v).strip().lower() in TRUE_TOKENS for v in flags)
        data = _model_data(result)
        n_rows = len(data.missed) if data is not None else len(call["trials"])
        if n_rows != expected:
            raise Failure("fit data are not the file's rows", f"{n_rows} != {expected}")
    return "reached sampler"


CHECKS = {"stay": check_stay, "simulate": check_simulate, "fit": check_fit,
          "fit-spec": check_fit_spec}  # fmt: skip


# ---------------------------------------------------------------------------
# Strategies: trial files


SPECIAL_BYTES = [b"\x00", b"\xe9", b"\xff", b"\xc3", b"\r", b"\n", b",", b'"', b" ", b"\t",
                 b"0", b"1", b"9", b"x", b"-", b".", b"e", b";"]  # fmt: skip
VALUES = [
    # text, floats, huge integers, NaN/inf, booleans
    "x", "abc", "1,0", "0.5", "1.5", "2.0", "3.0", "-0", "1e0", "0x1", " 1 ", "1 1",
    str(2**63), str(2**53 + 1), str(2**64), str(2**63 - 1), "1e19", "1e308", "1e999",
    "nan", "NaN", "NA", "", " ", "inf", "-inf", "Infinity", "True", "false", "TRUE", "yes",
    # condition values
    "2", "256", "-1", "single", "dual", "SINGLE", "Dual", "0", "1",
    # probabilities
    "-0.1", "1.0000001", "0.999",
    # odd characters
    "１", "é", "\u00a0", "\x00", '"', "2020-01-01",
]  # fmt: skip
CONDITION_VALUES = ["0.5", "2", "256", "-1", "", "single", "dual", "SINGLE", "x", "0", "1",
                    "true", "False", "1.0", "nan", "inf", "5", "yes"]  # fmt: skip


def _stay_case(family, content: bytes, name="trials.csv", **kw) -> Case:
    return Case(family=family, command="stay", files={name: content}, target=name, **kw)


def byte_flips(draw) -> Case:
    data = bytearray(base_text().encode())
    n = draw(st.integers(1, 3))
    done = []
    for _ in range(n):
        i = draw(st.integers(0, len(data) - 1))
        new = draw(st.sampled_from(SPECIAL_BYTES) | st.integers(0, 255).map(lambda b: bytes([b])))
        data[i : i + 1] = new
        done.append(f"{i}:{new!r}")
    return _stay_case("stay/byte-flip", bytes(data), note="bytes " + ", ".join(done))


def truncations(draw) -> Case:
    data = base_text().encode()
    cut = draw(st.integers(0, len(data)))
    return _stay_case("stay/truncated", data[:cut], note=f"cut at byte {cut} of {len(data)}")


def gzip_cases(draw) -> Case:
    text = base_text()
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = gzip.compress(text.encode(), mtime=0)
    how = draw(st.sampled_from(["valid", "flip", "truncate", "garbage-after", "two-members",
                                "plain-named-gz", "gz-named-csv", "bz2", "xz"]))  # fmt: skip
    name, note = "trials.csv.gz", how
    if how == "flip":
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
        note += f" byte {i}"
    elif how == "truncate":
        cut = draw(st.integers(0, len(data) - 1))
        data, note = data[:cut], f"truncated at {cut} of {len(data)}"
    elif how == "garbage-after":
        data += draw(st.sampled_from([b"\x00", b"garbage", b"\x1f\x8b"]))
    elif how == "two-members":  # valid gzip: the second member continues the text
        lines = text.splitlines(keepends=True)
        data = gzip.compress("".join(lines[:9]).encode(), mtime=0) + gzip.compress(
            "".join(lines[9:]).encode(), mtime=0
        )
    elif how == "plain-named-gz":
        data = text.encode()
    elif how == "gz-named-csv":
        name = "trials.csv"
    elif how == "bz2":
        data, name = bz2.compress(text.encode()), "trials.csv.bz2"
    elif how == "xz":
        data, name = lzma.compress(text.encode()), "trials.csv.xz"
    must = how in ("valid", "two-members")
    return _stay_case("stay/compressed", data, name=name, must_succeed=must, note=note)


def encoding_cases(draw) -> Case:
    header, rows = base_records()
    how = draw(st.sampled_from(["latin1-cell", "latin1-header", "utf8-cell", "bom", "bom-crlf",
                                "crlf", "cr-only", "nul-cell", "utf16", "mixed-endings",
                                "utf8-header"]))  # fmt: skip
    row = draw(st.integers(0, len(rows) - 1))
    column = draw(st.sampled_from(["participant", "load", "stakes", "rt1", "age", "reward"]))
    j = header.index(column)
    cell, must, eol = None, False, "\n"
    if how in ("latin1-cell", "utf8-cell", "nul-cell"):
        value = {"latin1-cell": "1é", "utf8-cell": "josé", "nul-cell": "1\x00"}[how]
        rows[row][j] = value
        cell = (row, column, value)
        must = how == "utf8-cell" and column == "participant"  # an id; rt1 must be a number
        if column == "participant":
            cell = (row, column, value) if how != "latin1-cell" else None
    if how in ("latin1-header", "utf8-header"):
        header[j] = header[j] + "é" if column not in ("participant", "reward") else header[j]
        if column in ("participant", "reward"):
            header.append("comentário")
            rows = [[*r, "1"] for r in rows]
        must = how == "utf8-header" and column in ("participant", "reward")
    if how in ("crlf", "bom-crlf"):
        eol = "\r\n"
    if how == "cr-only":
        eol = "\r"
    text = csv_text(header, rows, eol=eol)
    if how == "mixed-endings":
        lines = text.splitlines(keepends=True)
        text = "".join(s.replace("\n", "\r\n") if k % 2 else s for k, s in enumerate(lines))
    if how in ("latin1-cell", "latin1-header"):
        data = text.encode("latin-1")
    elif how == "utf16":
        data = text.encode("utf-16")
    else:
        data = text.encode("utf-8")
    if how.startswith("bom"):
        data = b"\xef\xbb\xbf" + data
    must = must or how in ("bom", "bom-crlf", "crlf", "mixed-endings")
    note = f"{how}, row {row + 1}, column {column}"
    return _stay_case("stay/encoding", data, cell=cell, must_succeed=must, note=note)


def cell_cases(draw, columns=None, values=None) -> Case:
    header, rows = base_records()
    column = draw(st.sampled_from(columns or header))
    row = draw(st.integers(0, len(rows) - 1))
    pool = values or (CONDITION_VALUES if column in ("load", "stakes") else VALUES)
    value = draw(st.sampled_from(pool))
    rows[row][header.index(column)] = value
    data = csv_text(header, rows).encode()
    note = f"row {row + 1}, column {column} = {value!r}"
    return _stay_case("stay/cell", data, cell=(row, column, value), note=note)


def header_cases(draw) -> Case:
    header, rows = base_records()
    how = draw(st.sampled_from(["duplicate-rename", "duplicate-append", "empty-file",
                                "header-only", "header-blank-lines", "whitespace-only",
                                "newlines-only", "header-no-newline", "empty-name",
                                "columns-permuted", "extra-column"]))  # fmt: skip
    i, j = draw(st.lists(st.integers(0, len(header) - 1), min_size=2, max_size=2, unique=True))
    must = False
    if how == "duplicate-rename":
        header[j] = header[i]
    elif how == "duplicate-append":
        header.append(header[i])
        rows = [[*r, r[i]] for r in rows]
    elif how == "empty-name":
        header.append("")
        rows = [[*r, "1"] for r in rows]
    elif how == "columns-permuted":  # column order does not matter
        order = draw(st.permutations(range(len(header))))
        header, rows = [header[k] for k in order], [[r[k] for k in order] for r in rows]
        must = True
    elif how == "extra-column":
        header.append("notes")
        rows = [[*r, draw(st.sampled_from(["", "x", "1", "a b", "é"]))] for r in rows]
        must = True
    text = csv_text(header, rows)
    special = {
        "empty-file": "",
        "header-only": csv_text(header, []),
        "header-blank-lines": csv_text(header, []) + "\n\n\n",
        "whitespace-only": "   \n \t \n",
        "newlines-only": "\n\n",
        "header-no-newline": ",".join(header),
    }
    data = special.get(how, text).encode()
    return _stay_case("stay/header", data, must_succeed=must, note=f"{how} ({header[i]})")


PATH_KINDS = ["directory", "empty-folder", "missing", "unreadable", "xlsx", "no-suffix",
              "upper-CSV", "tsv-with-commas", "txt", "json", "odd-name", "dangling-link",
              "zip"]  # fmt: skip


def path_cases(draw) -> Case:
    kinds = [k for k in PATH_KINDS if not (IS_ROOT and k == "unreadable")]
    how = draw(st.sampled_from(kinds))
    data = base_text().encode()
    files = {"trials.csv": data}
    target, must, modes = "trials.csv", False, {}
    if how == "directory":
        files = {"trials.csv": None, "trials.csv/inner.csv": data}
    elif how == "empty-folder":
        files, target = {"trials": None}, "trials"
    elif how == "missing":
        target = "nope.csv"
    elif how == "unreadable":
        modes = {"trials.csv": 0}
    elif how == "dangling-link":
        files, target = {}, "link.csv"
    else:
        target = {"xlsx": "trials.xlsx", "no-suffix": "trials", "upper-CSV": "TRIALS.CSV",
                  "tsv-with-commas": "trials.tsv", "txt": "trials.txt", "json": "trials.json",
                  "odd-name": "tri als é (1).csv", "zip": "trials.csv.zip"}[how]  # fmt: skip
        files = {target: data}
        must = how in ("odd-name", "txt", "upper-CSV")
    case = Case("stay/path", "stay", files, target, must_succeed=must, modes=modes, note=how)
    if how == "dangling-link":
        case.expect["link"] = True
    return case


PARQUET_KINDS = ["valid", "uint64-trial", "huge-trial", "int64-2**63", "float-trial",
                 "string-trial", "datetime-column", "datetime-load", "datetime-reward",
                 "timedelta-column", "bool-choice", "float-choice", "load-0.5", "load-256",
                 "load-uint8-255", "load-text-single", "load-bool", "load-int16--1",
                 "p-reward-1.5", "categorical-participant", "int-participant",
                 "duplicate-columns", "truncated", "flipped", "empty-table", "no-columns",
                 "null-column", "decimal-reward", "float16-reward", "binary-participant",
                 "nested-column"]  # fmt: skip


def parquet_cases(draw) -> Case:
    import pyarrow as pa
    import pyarrow.parquet as pq

    how = draw(st.sampled_from(PARQUET_KINDS))
    frame = base_frame().copy()
    row = draw(st.integers(0, len(frame) - 1))
    cell, must = None, how in ("valid", "categorical-participant", "int-participant",
                               "bool-choice", "load-bool", "null-column")  # fmt: skip
    table = None
    if how == "uint64-trial":
        frame["trial"] = frame["trial"].astype("uint64")
        must = True
    elif how in ("huge-trial", "int64-2**63"):
        value = 2**53 + 1 if how == "huge-trial" else 2**63 - 1
        frame.loc[row, "trial"] = value
        cell = (row, "trial", value)
    elif how == "float-trial":
        frame["trial"] = frame["trial"].astype(float)
        frame.loc[row, "trial"] = 1.5
        cell = (row, "trial", 1.5)
    elif how == "string-trial":
        frame["trial"] = frame["trial"].astype(str)
        frame.loc[row, "trial"] = "x"
        cell = (row, "trial", "x")
    elif how == "datetime-column":
        frame["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(frame.index, "s")
        must = True
    elif how in ("datetime-load", "datetime-reward"):
        column = how.split("-")[1]
        frame[column] = pd.Timestamp("2020-01-01") + pd.to_timedelta(frame.index, "D")
        cell = (row, column, dt.datetime(2020, 1, 1))
    elif how == "timedelta-column":
        frame["rt1"] = pd.to_timedelta(frame["rt1"], "s")
    elif how == "bool-choice":
        frame["choice1"] = frame["choice1"].astype("boolean")
    elif how == "float-choice":
        frame["choice1"] = frame["choice1"].astype(float)
        frame.loc[row, "choice1"] = 0.5
        cell = (row, "choice1", 0.5)
    elif how.startswith("load-"):
        value = {"load-0.5": 0.5, "load-256": 256, "load-uint8-255": 255, "load-int16--1": -1,
                 "load-text-single": "single", "load-bool": True}[how]  # fmt: skip
        dtype = {"load-0.5": float, "load-256": "int16", "load-uint8-255": "uint8",
                 "load-int16--1": "int16", "load-text-single": object,
                 "load-bool": "boolean"}[how]  # fmt: skip
        if how == "load-bool":
            frame["load"] = frame["load"].astype("boolean")
        else:
            frame["load"] = frame["load"].astype(float if dtype is float else "int64")
            frame["load"] = (
                frame["load"].astype(dtype)
                if dtype is not object
                else frame["load"].map({0: "single", 1: "dual"})
            )
            frame.loc[row, "load"] = value
            cell = (row, "load", value)
            must = how == "load-text-single"
    elif how == "p-reward-1.5":
        frame.loc[row, "p_reward_00"] = 1.5
        cell = (row, "p_reward_00", 1.5)
    elif how == "categorical-participant":
        frame["participant"] = frame["participant"].astype("category")
    elif how == "int-participant":
        frame["participant"] = frame["participant"].cat.codes.astype("int64") + 1
    elif how == "null-column":
        frame["notes"] = None
    elif how == "decimal-reward":
        import decimal

        frame["reward"] = [None if pd.isna(r) else decimal.Decimal(str(r)) for r in frame.reward]
        must = True
    elif how == "float16-reward":
        frame["reward"] = frame["reward"].astype("float16")
        must = True
    elif how == "binary-participant":
        frame["participant"] = [str(p).encode() for p in frame["participant"]]
    elif how == "nested-column":
        frame["extra"] = [[1, 2]] * len(frame)
    elif how == "duplicate-columns":
        column = draw(st.sampled_from(list(frame.columns)))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.append_column(column, table.column(column))
    elif how == "empty-table":
        frame = frame.iloc[:0]
    elif how == "no-columns":
        table = pa.table({})
    buffer = io.BytesIO()
    if table is None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, buffer)
    data = buffer.getvalue()
    note = how
    if how == "truncated":
        cut = draw(st.integers(0, len(data) - 1))
        data, note = data[:cut], f"truncated at byte {cut} of {len(data)}"
    elif how == "flipped":
        i, byte = draw(st.integers(0, len(data) - 1)), draw(st.integers(0, 255))
        data, note = data[:i] + bytes([byte]) + data[i + 1 :], f"byte {i} set to {byte}"
    return _stay_case("stay/parquet", data, name="trials.parquet", cell=cell, must_succeed=must,
                      note=note)  # fmt: skip


def valid_stay_case() -> Case:
    return _stay_case("stay/valid", base_text().encode(), must_succeed=True, note="valid file")


def scripted(build, *values, **kwargs) -> Case:
    """The case ``build`` makes when its draws return ``values``, in order (explicit cases)."""
    given = iter(values)
    return build(lambda strategy: next(given), **kwargs)


C = st.composite
# Groups of stay cases (one fast test each); a case's group is its family's kind.
STAY_GROUPS = {
    "bytes": st.one_of(C(byte_flips)(), C(truncations)()),
    "compressed": C(gzip_cases)(),
    "encoding": C(encoding_cases)(),
    "cell": st.one_of(C(cell_cases)(), C(cell_cases)(columns=["load", "stakes"])),
    "header": C(header_cases)(),
    "path": C(path_cases)(),
    "parquet": C(parquet_cases)(),
}
STAY_KINDS = {"byte-flip": "bytes", "truncated": "bytes", "valid": "cell"}


def group_of(case: Case) -> str:
    """The fast test a case belongs to: ``stay`` and ``simulate`` cases come in groups."""
    kind = case.family.split("/", 1)[1]
    if case.command == "stay":
        return STAY_KINDS.get(kind, kind)
    if case.command == "simulate":
        return SIMULATE_KINDS.get(kind, kind)
    return case.command


# ---------------------------------------------------------------------------
# Strategies: TOML documents


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def toml_dumps(doc: dict, prefix: str = "") -> str:
    """A TOML document for ``doc`` (tables as sections, lists of tables as [[...]])."""

    def is_table_list(v):
        return isinstance(v, list) and v and all(isinstance(x, dict) for x in v)

    out = [f"{_toml_key(k)} = {toml_value(v)}\n" for k, v in doc.items()
           if not isinstance(v, dict) and not is_table_list(v)]  # fmt: skip
    for k, v in doc.items():
        name = prefix + _toml_key(k)
        if isinstance(v, dict):
            out.append(f"\n[{name}]\n" + toml_dumps(v, name + "."))
        elif is_table_list(v):
            for item in v:
                out.append(f"\n[[{name}]]\n" + toml_dumps(item, name + "."))
    return "".join(out)


def _parts(path: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]


def set_path(doc: dict, path: str, value) -> bool:
    *parents, last = _parts(path)
    node = doc
    for part in parents:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.setdefault(part, {})
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
    if (isinstance(node, dict) and isinstance(last, str)) or (
        isinstance(node, list) and isinstance(last, int) and last < len(node)
    ):
        node[last] = copy.deepcopy(value)  # the palettes' lists are shared
        return True
    return False


def delete_path(doc: dict, path: str) -> bool:
    *parents, last = _parts(path)
    node = doc
    for part in parents:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    return False


def get_path(doc, path: str, default=None):
    node = doc
    for part in _parts(path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return default
    return node


TOML_VALUES = [
    -1, 0, 1, 2, 3, 5, 50, 2**40, 2**63 - 1, -(2**63), 1099511627776,
    0.0, 0.5, 1.0, 1.5, -0.1, 0.25, 0.75, 1e-300, math.nan, math.inf, -math.inf, 2.5,
    "x", "", "shared", "per_participant", "blocks", "trials", "transition_reversal",
    "reward_reset", "new_states", "hybrid", "mf", "..", ".", "a/b",
    True, False, [], [0.5, 0.5, 0.5, 0.5], [0.3, 0.4, 0.5, 0.6], [1, 2], [[0.8, 0.2], [0.2, 0.8]],
    ["a"], [0.5, 0.5, 0.5], {}, {"mode": "blocks"}, dt.date(2020, 1, 1),
    dt.datetime(1979, 5, 27, 7, 32),
]  # fmt: skip


def _text_corruption(draw, text: str) -> tuple[bytes, str]:
    data = text.encode()
    how = draw(st.sampled_from(["truncate", "garbage", "latin1", "bom", "nul", "crlf",
                                "duplicate-key", "unclosed"]))  # fmt: skip
    if how == "truncate":
        cut = draw(st.integers(0, len(data)))
        return data[:cut], f"text cut at {cut}"
    if how == "garbage":
        i = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from([b"=", b"[", b"]", b'"', b"\xff", b"= =", b"\n[x", b"{"]))
        return data[:i] + junk + data[i:], f"{junk!r} at {i}"
    if how == "latin1":
        where = draw(st.sampled_from(["comment", "string"]))
        if where == "comment":
            return b"# caf\xe9\n" + data, "latin-1 byte in a comment"
        return data.replace(b'"', b'"\xe9', 1), "latin-1 byte in a string"
    if how == "bom":
        return b"\xef\xbb\xbf" + data, "UTF-8 BOM"
    if how == "nul":
        i = draw(st.integers(0, len(data)))
        return data[:i] + b"\x00" + data[i:], f"NUL at {i}"
    if how == "crlf":
        return data.replace(b"\n", b"\r\n"), "CRLF (valid TOML)"
    if how == "duplicate-key":
        first = text.splitlines()[0] if text else "a = 1"
        return (first + "\n" + text).encode(), "first line repeated"
    return data + b'\nx = "', "unclosed string"


# ---------------------------------------------------------------------------
# simulate: task files and options


TASK_BASES = {
    "daw2011": ("tasks/daw2011.toml", ("mf", "mb", "hybrid", "hybrid_load", "arbitrator")),
    "otto2013_load": ("tasks/otto2013_load.toml", ("hybrid", "hybrid_load", "arbitrator")),
    "kool2016_novel": ("tasks/kool2016_novel.toml", ("mf_one_choice", "hybrid_one_choice")),
    "akam2015": ("tasks/akam2015.toml", ("mb_one_choice", "hybrid_one_choice")),
}
TASK_PATHS = [
    "name", "description", "n_trials", "p_common", "stage2_choice", "first_stage_states",
    "rewards", "rewards.drift_sd", "rewards.lower", "rewards.upper", "rewards.schedule",
    "rewards.initial", "rewards.seed", "load", "load.mode", "load.block_length", "load.first",
    "load.p_load", "events", "events[0]", "events[0].trial", "events[0].kind", "events[0].values",
    "points", "points.lower", "points.upper", "points.step_sd", "points.schedule",
    "points.initial", "blocks", "blocks.length", "blocks.reward_probs",
    "blocks.p_transition_reversal", "blocks.schedule",
]  # fmt: skip
# A reflected walk with a step far wider than its band reflects for ever (one reflection
# moves it by the band's width, see cogarb/_kernels/walks.py): such drift_sd values hang
# the process, so they are tried only in a subprocess with a timeout (test_cli_fuzz.py).
HANGS = {"rewards.drift_sd": 1e3}


@functools.cache
def task_doc(base: str) -> dict:
    return tomllib.loads((REPO / TASK_BASES[base][0]).read_text())


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _prob(x) -> bool:
    return _is_number(x) and 0 <= x <= 1


def task_problem(doc) -> str | None:
    """Why a task document is invalid (tasks/README.md, cogarb/tasks.py), or None.

    Conservative: it names only problems a correct loader must refuse.
    """
    if not isinstance(doc, dict):
        return "a document that is not a table"
    known = {"name", "description", "n_trials", "p_common", "rewards", "load", "events",
             "stage2_choice", "first_stage_states", "points", "blocks"}  # fmt: skip
    for key in doc:
        if key not in known:
            return f"unknown key '{key}'"
    checks = [
        ("name", lambda v: isinstance(v, str)),
        ("description", lambda v: isinstance(v, str)),
        ("n_trials", lambda v: _is_int(v) and 2 <= v),
        ("p_common", _prob),
        ("stage2_choice", lambda v: isinstance(v, bool)),
        ("first_stage_states", lambda v: _is_int(v) and v in (1, 2)),
    ]
    for key, ok in checks:
        if key in doc and not ok(doc[key]):
            return f"key '{key}' = {doc[key]!r}"
    n_trials = doc.get("n_trials", 201)
    two_choice = doc.get("stage2_choice", True)
    for table in ("rewards", "load", "points", "blocks"):
        if table in doc and not isinstance(doc[table], dict):
            return f"key '{table}' = {doc[table]!r} (not a table)"
    problem = _rewards_problem(doc.get("rewards", {})) or _load_problem(doc.get("load"))
    if problem:
        return problem
    if two_choice and ("points" in doc or "blocks" in doc):
        return "points/blocks on a task with a second-stage choice"
    if not two_choice and ("points" in doc) == ("blocks" in doc):
        return "stage2_choice = false without exactly one of points/blocks"
    if "points" in doc:
        problem = _points_problem(doc["points"])
    if "blocks" in doc:
        problem = problem or _blocks_problem(doc["blocks"])
    if problem:
        return problem
    if two_choice and doc.get("first_stage_states", 1) == 2:
        return "first_stage_states = 2 with a second-stage choice"
    return _events_problem(doc.get("events", []), n_trials, doc.get("rewards", {}), two_choice)


def _rewards_problem(r: dict) -> str | None:
    known = {"drift_sd", "lower", "upper", "schedule", "initial", "seed"}
    for key in r:
        if key not in known:
            return f"unknown key 'rewards.{key}'"
    lower, upper = r.get("lower", 0.25), r.get("upper", 0.75)
    if "drift_sd" in r and not (_is_number(r["drift_sd"]) and r["drift_sd"] >= 0):
        return f"key 'rewards.drift_sd' = {r['drift_sd']!r}"
    if not (_is_number(lower) and _is_number(upper) and 0 <= lower < upper <= 1):
        return f"key 'rewards.lower/upper' = {lower!r}, {upper!r}"
    if r.get("schedule", "shared") not in ("shared", "per_participant"):
        return f"key 'rewards.schedule' = {r['schedule']!r}"
    if "initial" in r:
        v = r["initial"]
        if not (isinstance(v, list) and len(v) == 4 and all(_is_number(x) for x in v)
                and all(lower <= x <= upper for x in v)):  # fmt: skip
            return f"key 'rewards.initial' = {v!r}"
    if "seed" in r and not (_is_int(r["seed"]) and r["seed"] >= 0):
        return f"key 'rewards.seed' = {r['seed']!r}"
    return None


def _load_problem(load) -> str | None:
    if load is None:
        return None
    known = {"mode", "block_length", "first", "p_load"}
    for key in load:
        if key not in known:
            return f"unknown key 'load.{key}'"
    checks = [
        ("mode", lambda v: v in ("blocks", "trials")),
        ("block_length", lambda v: _is_int(v) and v >= 1),
        ("first", lambda v: _is_int(v) and v in (0, 1)),
        ("p_load", _prob),
    ]
    for key, ok in checks:
        if key in load and not ok(load[key]):
            return f"key 'load.{key}' = {load[key]!r}"
    return None


def _points_problem(p: dict) -> str | None:
    for key in p:
        if key not in {"lower", "upper", "step_sd", "schedule", "initial"}:
            return f"unknown key 'points.{key}'"
    lower, upper = p.get("lower", 0), p.get("upper", 9)
    if not (_is_int(lower) and _is_int(upper) and lower < upper):
        return f"key 'points.lower/upper' = {lower!r}, {upper!r}"
    if "step_sd" in p and not (_is_number(p["step_sd"]) and p["step_sd"] >= 0):
        return f"key 'points.step_sd' = {p['step_sd']!r}"
    if p.get("schedule", "per_participant") not in ("shared", "per_participant"):
        return f"key 'points.schedule' = {p['schedule']!r}"
    if "initial" in p:
        v = p["initial"]
        if not (isinstance(v, list) and len(v) == 2
                and all(_is_int(x) and lower <= x <= upper for x in v)):  # fmt: skip
            return f"key 'points.initial' = {v!r}"
    return None


def _blocks_problem(b: dict) -> str | None:
    for key in b:
        if key not in {"length", "reward_probs", "p_transition_reversal", "schedule"}:
            return f"unknown key 'blocks.{key}'"
    if "length" in b and not (_is_int(b["length"]) and b["length"] >= 1):
        return f"key 'blocks.length' = {b['length']!r}"
    if "reward_probs" in b:
        v = b["reward_probs"]
        pairs = isinstance(v, list) and len(v) >= 2
        if not (pairs and all(isinstance(p, list) and len(p) == 2 for p in v)) or not all(
            _prob(x) for p in v for x in p
        ):
            return f"key 'blocks.reward_probs' = {v!r}"
    if "p_transition_reversal" in b and not _prob(b["p_transition_reversal"]):
        return f"key 'blocks.p_transition_reversal' = {b['p_transition_reversal']!r}"
    if b.get("schedule", "per_participant") not in ("shared", "per_participant"):
        return f"key 'blocks.schedule' = {b['schedule']!r}"
    return None


def _events_problem(events, n_trials, rewards, two_choice) -> str | None:
    if not isinstance(events, list):
        return f"key 'events' = {events!r}"
    if events and not two_choice:
        return "events on a task without a second-stage choice"
    lower, upper = rewards.get("lower", 0.25), rewards.get("upper", 0.75)
    previous = 0
    for k, e in enumerate(events):
        if not isinstance(e, dict) or "trial" not in e or "kind" not in e:
            return f"key 'events[{k}]' = {e!r}"
        for key in e:
            if key not in {"trial", "kind", "values"}:
                return f"unknown key 'events[{k}].{key}'"
        if e["kind"] not in ("transition_reversal", "reward_reset", "new_states"):
            return f"key 'events[{k}].kind' = {e['kind']!r}"
        t = e["trial"]
        if not (_is_int(t) and _is_int(n_trials) and 2 <= t <= n_trials and t > previous):
            return f"key 'events[{k}].trial' = {t!r}"
        previous = t
        if "values" in e:
            v = e["values"]
            if e["kind"] != "reward_reset" or not (
                isinstance(v, list) and len(v) == 4
                and all(_is_number(x) and lower <= x <= upper for x in v)):  # fmt: skip
                return f"key 'events[{k}].values' = {v!r}"
    return None


SIM_OUTS = ["out.csv", "out.csv.gz", "out.parquet", "out.xlsx", "out", "out.txt", "out.CSV",
            "existing-dir.csv", "nope/deeper/out.csv", "readonly/out.csv"]  # fmt: skip
SEEDS = ["0", "1", "-1", "18446744073709551616", "x", "1e3", "-0"]
PARTICIPANTS = ["1", "2", "0", "-1", "x", "1.5", ""]
PARAMS = [[], ["w=0.5"], ["w=2"], ["w=nan"], ["w=inf"], ["zz=1"], ["=1"], ["w="],
          ["beta1=-1"], ["w=-0"], ["alpha1=1e-320"], ["w=0.3", "w=0.6"], ["w=1e400"],
          ["beta1=nan"]]  # fmt: skip


def _mutations(draw, paths: list[str], values: list) -> list[tuple]:
    """Up to two edits of a document: ("set", path, value), ("del", path) or ("unknown", path)."""
    edits = []
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(["set", "set", "del", "unknown"]))
        path = draw(st.sampled_from(paths))
        if op == "set":
            value = draw(st.sampled_from(values))
            if path in HANGS and _is_number(value) and value > HANGS[path]:
                value = 0.5
            if path == "events":
                value = draw(st.sampled_from([[{"trial": 3, "kind": "transition_reversal"}],
                                              [{"trial": 3, "kind": "reward_reset",
                                                "values": []}], value]))  # fmt: skip
            edits.append(("set", path, value))
        elif op == "unknown":
            where = path.rsplit(".", 1)[0] if "." in path else ""
            edits.append(("set", f"{where}.bogus" if where else "bogus", 1))
        else:
            edits.append(("del", path))
    return edits


def _edited(doc: dict, edits) -> tuple[dict, list[str]]:
    doc = copy.deepcopy(doc)
    notes = []
    for edit in edits:
        if edit[0] == "set" and set_path(doc, edit[1], edit[2]):
            notes.append(f"{edit[1]} = {edit[2]!r}")
        elif edit[0] == "del" and delete_path(doc, edit[1]):
            notes.append(f"del {edit[1]}")
    return doc, notes


def _document(doc: dict, problem_of, corruption) -> tuple[bytes, str | None, str | None]:
    """The bytes of ``doc`` (corrupted by ``corruption(text)`` if given) and its problem."""
    text = toml_dumps(doc)
    if corruption is None:
        return text.encode(), problem_of(doc), None
    data, note = corruption(text)
    try:
        problem = problem_of(tomllib.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        problem = None  # invalid TOML: refused anyway
    return data, problem, note


def simulate_case(
    base: str = "daw2011",
    n_trials: int = 6,
    edits=(),
    corruption=None,
    agent: str | None = None,
    participants: str = "2",
    seed: str = "0",
    params=(),
    out: str = "out.csv",
    internals: bool = False,
) -> Case:
    """``cogarb simulate task.toml ...`` on a base task with ``edits`` (see _mutations)."""
    doc = dict(task_doc(base), n_trials=n_trials)
    if "load" in doc:
        doc["load"] = dict(doc["load"], block_length=3)
    doc, notes = _edited(doc, edits)
    data, problem, note = _document(doc, task_problem, corruption)
    notes += [note] if note else []
    agents = TASK_BASES[base][1]
    agent = agent or agents[0]
    if IS_ROOT and out.startswith("readonly"):
        out = "out.csv"
    files, modes = {"task.toml": data}, {}
    if out == "existing-dir.csv":
        files["existing-dir.csv"] = None
    if out.startswith("readonly"):
        files["readonly"] = None
        modes["readonly"] = 0o555
    args = ["--agent", agent, "--participants", participants, "--seed", seed]
    for p in params:
        args += ["--param", p]
    args += ["--internals"] * internals + ["--out", "{dir}/" + out]
    invalid = problem and f"invalid task: {problem}"
    invalid = invalid or _option_problem(participants, seed, params, agent)
    rows = None
    if note is None and participants.isdigit() and _is_int(doc.get("n_trials", 201)):
        rows = int(participants) * doc.get("n_trials", 201)
    fine = not invalid and not edits and note is None and not params and agent in agents
    fine = fine and int(seed) < 2**63  # larger seeds: numpy takes them, a CLI may refuse them
    fine = fine and out in ("out.csv", "out.parquet", "out.csv.gz")
    note = f"{base}: " + ("; ".join(notes) or "unchanged")
    focus = "task" if edits or corruption else "out" if out != "out.csv" else "options"
    focus = "none" if fine else focus
    return Case(f"simulate/{focus}", "simulate", files, "task.toml", args, must_succeed=fine,
                expect={"invalid": invalid, "rows": rows}, modes=modes, note=note)  # fmt: skip


SIMULATE_FOCUS = ("none", "valid-edit", "task", "task", "task", "agent", "participants", "seed",
                  "param", "out")  # fmt: skip
VALID_TASK_EDITS = [
    ("set", "p_common", 0.8), ("set", "rewards.drift_sd", 0.05), ("del", "description"),
    ("set", "rewards.schedule", "per_participant"), ("set", "rewards.initial", [0.5] * 4),
    ("set", "events", [{"trial": 2, "kind": "transition_reversal"}]), ("set", "rewards.seed", 3),
    ("set", "events", [{"trial": 2, "kind": "reward_reset", "values": [0.3, 0.4, 0.5, 0.6]}]),
    ("set", "events", [{"trial": 2, "kind": "new_states"}]), ("set", "name", "é"),
]  # fmt: skip
SIMULATE_KINDS = {"none": "task", "valid-edit": "task", "agent": "options",
                  "participants": "options", "seed": "options", "param": "options"}  # fmt: skip


def simulate_cases(draw, focus=SIMULATE_FOCUS) -> Case:
    """One input at fault at a time (or none): the task file, or one option."""
    base = draw(st.sampled_from(list(TASK_BASES)))
    agents = TASK_BASES[base][1]
    focus = draw(st.sampled_from(focus))
    kwargs = {"agent": draw(st.sampled_from(agents)), "out": "out.csv"}
    if focus == "valid-edit":  # edits that keep the task valid: it must simulate
        kwargs["edits"] = draw(st.lists(st.sampled_from(VALID_TASK_EDITS), max_size=2))
        kwargs["agent"] = draw(st.sampled_from(TASK_BASES["daw2011"][1]))
        base = draw(st.sampled_from(["daw2011", "otto2013_load"]))
    elif focus == "task":
        kwargs["edits"] = _mutations(draw, TASK_PATHS, TOML_VALUES)
        if draw(st.integers(0, 4)) == 0:
            kwargs["corruption"] = functools.partial(_text_corruption, draw)
    elif focus == "agent":
        kwargs["agent"] = draw(st.sampled_from([*AGENTS, "bogus"]))
    elif focus == "participants":
        kwargs["participants"] = draw(st.sampled_from(PARTICIPANTS))
    elif focus == "seed":
        kwargs["seed"] = draw(st.sampled_from(SEEDS))
    elif focus == "param":
        kwargs["params"] = draw(st.sampled_from(PARAMS))
    elif focus == "out":
        kwargs["out"] = draw(st.sampled_from(SIM_OUTS))
    else:
        kwargs["out"] = draw(st.sampled_from(["out.csv", "out.csv.gz", "out.parquet"]))
        kwargs["participants"] = draw(st.sampled_from(["1", "2", "3"]))
    case = simulate_case(
        base, n_trials=draw(st.integers(2, 12)), internals=draw(st.integers(0, 4)) == 0, **kwargs
    )
    case.family = f"simulate/{focus}"
    case.must_succeed = case.must_succeed or focus == "valid-edit"
    return case


def _option_problem(participants, seed, params, agent) -> str | None:
    if not participants.isdigit() or int(participants) < 1:
        return f"--participants {participants!r}"
    if not re.fullmatch(r"-?\d+", seed) or int(seed) < 0:
        return f"--seed {seed!r}"
    for p in params:
        name, _, value = p.partition("=")
        try:
            x = float(value)
        except ValueError:
            return f"--param {p!r}"
        if not name or not math.isfinite(x):
            return f"--param {p!r}"
    if agent not in AGENTS:
        return f"--agent {agent!r}"
    names = cogarb.agents.get_agent(agent).parameter_names
    unknown = [p for p in params if p.partition("=")[0].strip() not in names]
    return f"--param {unknown[0]!r} (agent {agent} has {', '.join(names)})" if unknown else None


# ---------------------------------------------------------------------------
# fit FILE --agent A --out DIR


FIT_OPTIONS = [
    [], [], ["--condition", "w=load"], ["--condition", "w=stakes"], ["--condition", "w=nope"],
    ["--condition", "beta1=load"], ["--condition", "w"], ["--condition", "w=rt1"],
    ["--covariate", "w=age"], ["--covariate", "w=rt1"], ["--covariate", "zz=age"],
    ["--covariate", "w=nope"], ["--format", "hbayesdm"], ["--format", "tidy"],
    ["--format", "kool"], ["--draws", "0"], ["--draws", "-1"], ["--seed", "-1"],
    ["--chains", "0"], ["--tune", "-5"], ["--centred"], ["--ppc", "-1"], ["--ppc", "2"],
    ["--seed", "18446744073709551616"], ["--draws", "x"],
]  # fmt: skip
FIT_AGENTS = ["hybrid", "mf", "mb", "hybrid_load", "arbitrator", "hybrid_one_choice"]


def fit_cases(draw) -> Case:
    source = draw(st.sampled_from(["valid", "valid", "valid", "cell", "cell", "condition",
                                   "condition", "header", "bytes", "parquet"]))  # fmt: skip
    if source == "valid":
        data = valid_stay_case()
    elif source == "cell":
        data = cell_cases(draw)
    elif source == "condition":
        data = cell_cases(draw, ["load", "stakes", "age"], [*CONDITION_VALUES, "25", "x"])
    elif source == "header":
        data = header_cases(draw)
    elif source == "bytes":
        data = byte_flips(draw)
    else:
        data = parquet_cases(draw)
    agent = draw(st.sampled_from(FIT_AGENTS))
    options = draw(st.sampled_from([[]]) | st.sampled_from(FIT_OPTIONS))
    args = ["--agent", agent, *options]
    if draw(st.integers(0, 9)):
        args += ["--out", "{dir}/fit-out"]
    invalid = None
    if "--seed" in options and options[options.index("--seed") + 1].startswith("-"):
        invalid = "--seed -1"
    must = data.must_succeed and not options and "--out" in args
    must = must and agent in ("hybrid", "mf", "mb", "arbitrator", "hybrid_load")
    return Case(f"fit/{data.family.split('/')[1]}", "fit", data.files, data.target, args,
                cell=data.cell, must_succeed=must, expect={"invalid": invalid},
                note=f"{data.note}; {' '.join(options)}")  # fmt: skip


# ---------------------------------------------------------------------------
# fit fit.toml


FIT_SPEC = REPO / "fits" / "hbayesdm_ts_example" / "fit.toml"
FIT_SPEC_DATA = REPO / "fits" / "hbayesdm_ts_example" / "trials.csv.gz"
SPEC_PATHS = [
    "data", "data.path", "data.format", "data.include", "data.p_common", "data.reward_scale",
    "sampler", "sampler.draws", "sampler.tune", "sampler.chains", "sampler.seed",
    "sampler.low_rank_mass_matrix", "sampler.max_tree_depth", "fit", "fit[0]", "fit[0].name",
    "fit[0].agent", "fit[0].conditions", "fit[0].covariates", "fit[0].centred",
    "fit[0].sampler", "fit[0].sampler.draws", "fit[0].sampler.seed", "fit[1].name",
    "compare", "compare.fits",
]  # fmt: skip
SPEC_VALUES = [*TOML_VALUES, "trials.csv.gz", "missing.csv", "fit.toml", "common", "reward",
               "tidy", "hbayesdm", ["mf"], ["x"], [5], {"w": "load"}, {"w": 5}, {"zz": "x"},
               {"w": "common"}, {"draws": 5}, [{"name": "a", "agent": "mf"}]]  # fmt: skip
SPEC_ARGS = [[], [], [], ["--only", "mf"], ["--only", "zz"], ["--draws", "-1"],
             ["--seed", "-1"], ["--agent", "mf"], ["--quiet"], ["--draws", "3"]]  # fmt: skip


@functools.cache
def spec_base() -> tuple[dict, bytes]:
    return tomllib.loads(FIT_SPEC.read_text()), FIT_SPEC_DATA.read_bytes()


def spec_problem(doc: dict) -> str | None:
    """Values a fit.toml loader must refuse (cogarb/fitspec.py's docstring)."""
    fits = doc.get("fit")
    if isinstance(fits, list):
        for k, job in enumerate(fits):
            name = job.get("name", job.get("agent")) if isinstance(job, dict) else None
            if isinstance(name, str) and (name in (".", "..") or "/" in name):
                return f"fit[{k}].name = {name!r}"
    sampler = doc.get("sampler", {})
    if isinstance(sampler, dict) and _is_int(sampler.get("seed")) and sampler["seed"] < 0:
        return f"sampler.seed = {sampler['seed']!r}"
    return None


def fit_spec_case(edits=(), corruption=None, args=()) -> Case:
    """``cogarb fit fit.toml ...`` on a copy of fits/hbayesdm_ts_example with ``edits``."""
    base, data = spec_base()
    doc, notes = _edited(base, edits)
    content, problem, note = _document(doc, spec_problem, corruption)
    notes += [note] if note else []
    args = list(args)
    if "--seed" in args and args[args.index("--seed") + 1].startswith("-"):
        problem = problem or "--seed -1"
    include = get_path(doc, "data.include")
    must = not notes and args in ([], ["--quiet"], ["--draws", "3"], ["--only", "mf"])
    return Case("fit-spec/toml", "fit-spec", {"fit.toml": content, "trials.csv.gz": data},
                "fit.toml", args, must_succeed=must,
                expect={"invalid": problem,
                        "include": include if isinstance(include, str) else None},
                note="; ".join(notes) or "unchanged")  # fmt: skip


# Edits that keep a fit.toml valid: the fit must then reach the sampler.
VALID_SPEC_EDITS = [
    ("set", "sampler.draws", 5), ("set", "sampler.seed", 0), ("set", "data.p_common", 0.5),
    ("set", "data.reward_scale", 0.5), ("set", "data.include", "common"),
    ("set", "fit[0].sampler", {"seed": 3}), ("set", "fit[0].centred", True),
    ("set", "fit[0].sampler", {"draws": 5}), ("del", "compare"), ("del", "sampler"),
    ("set", "data.format", "tidy"), ("set", "sampler.max_tree_depth", 6),
    ("set", "sampler.low_rank_mass_matrix", True), ("set", "fit[0].covariates", {}),
    ("set", "fit[0].conditions", {}), ("set", "fit[0].agent", "hybrid"),
]  # fmt: skip


def fit_spec_cases(draw) -> Case:
    if draw(st.integers(0, 2)) == 0:
        edits = draw(st.lists(st.sampled_from(VALID_SPEC_EDITS), max_size=2))
        case = fit_spec_case(edits, None, [])
        case.must_succeed = True
        return case
    edits = _mutations(draw, SPEC_PATHS, SPEC_VALUES)
    corruption = None
    if draw(st.integers(0, 7)) == 0:
        corruption = functools.partial(_text_corruption, draw)
    return fit_spec_case(edits, corruption, draw(st.sampled_from(SPEC_ARGS)))


SIMULATE_GROUPS = {
    "task": C(simulate_cases)(focus=("none", "valid-edit", "task", "task")),
    "options": C(simulate_cases)(focus=("agent", "participants", "seed", "param")),
    "out": C(simulate_cases)(focus=("out",)),
}
FAMILIES = {
    "stay": st.one_of(*STAY_GROUPS.values()),
    "simulate": C(simulate_cases)(),
    "fit": C(fit_cases)(),
    "fit-spec": C(fit_spec_cases)(),
}


# ---------------------------------------------------------------------------
# Counting outcomes


@dataclass
class Tally:
    """Outcomes by command, and the distinct failures with their first example."""

    outcomes: Counter = field(default_factory=Counter)
    failures: dict = field(default_factory=dict)

    def run(self, case: Case, root: Path) -> None:
        try:
            outcome = run_case(case, root)
        except Failure as failure:
            self.outcomes[(case.command, "failed")] += 1
            key = (case.command, failure.key)
            count, first, detail = self.failures.get(key, (0, case, failure.detail))
            self.failures[key] = (count + 1, first, detail)
            return
        self.outcomes[(case.command, outcome)] += 1

    def total(self) -> int:
        return sum(self.outcomes.values())

    def counts(self) -> str:
        commands = sorted({c for c, _ in self.outcomes})
        lines = []
        for command in commands:
            parts = {o: n for (c, o), n in sorted(self.outcomes.items()) if c == command}
            lines.append(f"  {command:9s} " + ", ".join(f"{o}: {n}" for o, n in parts.items()))
        by_outcome = Counter()
        for (_, outcome), n in self.outcomes.items():
            by_outcome["succeeded" if outcome in ("succeeded", "reached sampler") else outcome] += n
        lines.append(
            f"  total     {self.total()} cases: succeeded {by_outcome['succeeded']}, "
            f"exit 2 {by_outcome['exit 2']}, failed {by_outcome['failed']}"
        )
        return "\n".join(lines)

    def report(self) -> str:
        lines = ["outcomes:", self.counts(), f"{len(self.failures)} distinct failures:"]
        for (command, key), (count, case, detail) in sorted(self.failures.items()):
            lines.append(f"- {command}: {key} ({count}×)\n    {case.describe()}\n    {detail}")
        return "\n".join(lines)


def print_now(text: str) -> None:
    sys.__stdout__.write(text + "\n")
    sys.__stdout__.flush()
