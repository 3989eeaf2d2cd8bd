"""Property-based tests: corrupt valid trial files at random and read them back.

The contract (issue: "never a crash, never a silent drop"): whatever a file
contains, :func:`cogarb.read_trials` either

- raises :class:`~cogarb.TrialDataError` (or a plain ``ValueError``) whose message
  names the file and, when it names a row and a column, names ones the user can
  find in the file holding the value it quotes; ``cogarb stay`` then prints that
  one line, ``cogarb: error: ...``, and exits with code 2 (no traceback); or
- returns as many trials as the file has data rows, every value being what the
  file says, with a trial whose choices are missing flagged ``missed``.

Any other exception (KeyError, IndexError, a pandas error...) fails the test.

Two valid files are corrupted: a tidy CSV (a simulated cohort with a session
column, a second-stage-missed trial and a fully missed trial) and the same trials
in hBayesDM's tab-separated layout (``cogarb/readers/hbayesdm.py``). Examples are
derandomized, so CI runs the same (fast) cases every time.
"""

from __future__ import annotations

import functools
import math
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import cogarb
from cogarb.cli import main
from cogarb.schema import FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS, TrialDataError

REPO = Path(__file__).resolve().parents[1]
N_PARTICIPANTS, N_TRIALS = 3, 8
N_ROWS = N_PARTICIPANTS * N_TRIALS  # data rows of the valid files
BINARY = ("choice1", "state2", "choice2")
TIDY_PROBABILITY = {  # hBayesDM column -> tidy column (cogarb/readers/hbayesdm.py)
    "A1prob": "p_reward_00",
    "A2prob": "p_reward_01",
    "B1prob": "p_reward_10",
    "B2prob": "p_reward_11",
}
PROBABILITIES = tuple(TIDY_PROBABILITY)
FORMATS = ("tidy", "hbayesdm")
FILE_NAMES = {"tidy": "corrupt-trials.csv", "hbayesdm": "corrupt-trials.txt"}
SEPARATORS = {"tidy": ",", "hbayesdm": "\t"}
PARTICIPANT_COLUMN = {"tidy": "participant", "hbayesdm": "subjID"}

# Derandomized: CI runs the same examples every time, in about 25 s for the file
# (each example writes a file, reads it, and runs the CLI on a rejected one).
# capsys and tmp_path are function-scoped, shared by the examples of a test: each
# example overwrites its file and drains capsys before it runs the CLI.
_SETTINGS = dict(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CELLS = settings(max_examples=60, **_SETTINGS)  # one cell: many columns x values
PROPERTY = settings(max_examples=25, **_SETTINGS)  # line-level: small spaces


# ---------------------------------------------------------------------------
# The valid files


@functools.cache
def _base_trials() -> pd.DataFrame:
    """A small simulated cohort in the tidy schema, with missed trials and sessions."""
    trials = cogarb.simulate(REPO / "tasks" / "daw2011.toml", "hybrid", {}, N_PARTICIPANTS, seed=0)
    trials = trials[trials["trial"] <= N_TRIALS].reset_index(drop=True)
    trials["session"] = np.where(trials["trial"] <= N_TRIALS // 2, 1, 2)
    trials["transitions_reversed"] = False
    trials.loc[3, ["choice2"]] = pd.NA  # second-stage choice missed
    trials.loc[3, "reward"] = np.nan
    trials.loc[10, ["choice1", "state2", "choice2", "common"]] = pd.NA  # fully missed
    trials.loc[10, "reward"] = np.nan
    # Columns the validation does not know (p_reward_*) last, as simulate writes them.
    free = [c for c in trials.columns if c.startswith("p_reward")]
    return trials[[c for c in trials.columns if c not in free] + free]


@functools.cache
def _base_text(fmt: str) -> str:
    """The valid file's text (one record a line, no quoting needed)."""
    trials = _base_trials()
    if fmt == "tidy":
        return trials.to_csv(index=False, lineterminator="\n")
    ids = {p: str(i + 1) for i, p in enumerate(trials["participant"].cat.categories)}
    c1, s2, c2 = (trials[c].astype(float).to_numpy() for c in BINARY)
    missed = np.isnan(c1) | np.isnan(s2) | np.isnan(c2)  # hBayesDM has no partly missed trial

    def code(values):
        return ["NA" if m else str(int(v)) for v, m in zip(values, missed, strict=True)]

    raw = pd.DataFrame(
        {
            "subjID": trials["participant"].map(ids).astype(str),
            "trial": trials["trial"].astype(str),
            "level1_choice": code(c1 + 1),
            "level2_choice": code(2 * s2 + c2 + 1),
            "reward": [
                "NA" if m else repr(r) for r, m in zip(trials["reward"], missed, strict=True)
            ],
        }
    )
    for column, tidy in TIDY_PROBABILITY.items():
        raw[column] = trials[tidy].map(repr)
    return raw.to_csv(index=False, sep="\t", lineterminator="\n")


def _base_records(fmt: str) -> tuple[list[str], list[list[str]]]:
    header, *rows = (line.split(SEPARATORS[fmt]) for line in _base_text(fmt).splitlines())
    return header, rows


@functools.cache
def _base_output(fmt: str, tmp_dir: Path) -> pd.DataFrame:
    path = tmp_dir / f"base-{fmt}{Path(FILE_NAMES[fmt]).suffix}"
    path.write_text(_base_text(fmt), encoding="utf-8")
    return cogarb.read_trials(path)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("base")


def _field(value: str, sep: str) -> str:
    """A CSV field holding exactly ``value`` (quoted when it has to be)."""
    if any(c in value for c in (sep, '"', "\r", "\n")):
        return '"' + value.replace('"', '""') + '"'
    return value


def _write(path: Path, header: list[str], rows: list[list[str]], sep: str) -> Path:
    lines = [sep.join(_field(v, sep) for v in record) for record in [header, *rows]]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _text(path: Path) -> str:
    """A file's text as written: no newline translation (a quoted \\r stays \\r)."""
    return path.read_bytes().decode("utf-8", errors="replace")


def _records(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and data records of a file as a person counting fields would read it.

    Blank lines are no records (pandas skips them too); the separator is a tab for
    a ``.txt`` file whose first line has one, else a comma (as documented).
    """
    import csv
    import io

    first = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first else ","
    records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep) if r]
    return (records[0], records[1:]) if records else ([], [])


# ---------------------------------------------------------------------------
# What a reader must make of one cell (the oracle for accepted files)

INVALID = object()


def _number(text: str):
    try:
        value = float(text)
    except ValueError:
        return INVALID
    return value if math.isfinite(value) else INVALID


def _reading(column: str, text: str):
    """The value a correct reader gives ``text`` in ``column``; INVALID if it must refuse it.

    Empty and the usual NA spellings mean missing. Codes must be in range; trial and
    session positive integers; reward any finite number (points are allowed);
    ``common`` and ``transitions_reversed`` true/false spellings; hBayesDM codes
    1/2 and 1..4. Columns the schema does not know are kept as text.
    """
    t = text.strip()
    missing = t.lower() in MISSING_TOKENS
    if column in ("participant", "subjID"):
        return INVALID if missing else t
    if column in ("trial", "session"):
        value = INVALID if missing else _number(t)
        if value is INVALID or value < 1 or value != int(value):
            return INVALID
        return int(value)
    if column in BINARY or column in ("level1_choice", "level2_choice"):
        allowed = {"level1_choice": (1, 2), "level2_choice": (1, 2, 3, 4)}.get(column, (0, 1))
        value = pd.NA if missing else _number(t)
        return value if value is pd.NA or value in allowed else INVALID
    if column in ("reward", *PROBABILITIES):
        return np.nan if missing else _number(t)
    if column in ("common", "transitions_reversed"):
        if missing:
            return pd.NA if column == "common" else False
        return True if t.lower() in TRUE_TOKENS else False if t.lower() in FALSE_TOKENS else INVALID
    return text


def _is_missing(value) -> bool:
    if isinstance(value, str):  # text kept as read: an NA spelling is missing
        return value.strip().lower() in MISSING_TOKENS
    return value is None or bool(pd.isna(value))


def _same(a, b) -> bool:
    """Equal values, NA equal to NA (or its spellings), numbers compared as numbers."""
    a_na, b_na = _is_missing(a), _is_missing(b)
    if a_na or b_na:
        return a_na and b_na
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return bool(a) == bool(b) and type(a) is not str and type(b) is not str
    if str(a) == str(b):
        return True
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)
    return x == y or math.isclose(x, y, rel_tol=1e-12)


def _row(frame: pd.DataFrame, i: int) -> dict:
    return {c: frame[c].iloc[i] for c in frame.columns}


def _diff(out: dict, expected: dict) -> dict:
    return {c: (out.get(c), v) for c, v in expected.items() if not _same(out.get(c), v)}


def _check_missed_flag(out: pd.DataFrame) -> None:
    # A trial with a missing choice or second-stage state must be flagged, and only it.
    missing = out["choice1"].isna() | out["state2"].isna() | out["choice2"].isna()
    assert (out["missed"].to_numpy(bool) == missing.to_numpy(bool)).all()


def _check_unchanged(out: pd.DataFrame, base: pd.DataFrame, rows, skip=()) -> None:
    """``rows`` of ``out`` equal the same rows of ``base``, but for columns ``skip``."""
    for i in rows:
        expected = {c: v for c, v in _row(base, i).items() if c not in skip}
        assert not _diff(_row(out, i), expected), (
            f"row {i + 1} changed: {_diff(_row(out, i), expected)}"
        )


# ---------------------------------------------------------------------------
# Reading a corrupted file: the outcome and the checks shared by all properties


def _read(path: Path):
    """``(frame, None)`` or ``(None, error)``; any other exception fails the test."""
    try:
        return cogarb.read_trials(path), None
    except TrialDataError as err:
        return None, err
    except Exception as err:  # anything but a clean error is a bug
        if type(err) is ValueError:  # documented: unknown/ambiguous format or file type
            return None, err
        pytest.fail(
            f"read_trials({path.name}) crashed with {type(err).__name__}: {err}\n"
            f"{traceback.format_exc()}\nfile:\n{path.read_text(errors='replace')[:2000]}"
        )


def _check_error(err: ValueError, path: Path, header_must_have_column: bool = True) -> None:
    """The message names the file; a named row and column hold the quoted value."""
    msg = str(err)
    assert str(path) in msg, f"error does not name the file: {msg}"
    if not isinstance(err, TrialDataError):
        return
    if err.row is not None:
        assert f"row {err.row}" in msg
    if err.column is not None:
        assert f"column '{err.column}'" in msg
    if err.row is None or err.column is None:
        return
    # The user looks up the row and column the error names: they must exist and
    # hold the value it quotes, or the message sends them to the wrong place.
    header, records = _records(_text(path))
    if header_must_have_column:
        assert err.column in header, f"{msg}: the file has no column {err.column!r} ({header})"
    assert 1 <= err.row <= len(records), f"{msg}: the file has {len(records)} data rows"
    if err.column in header and err.value is not None:
        record = records[err.row - 1]
        j = header.index(err.column)
        found = record[j] if j < len(record) else None
        assert _same(err.value, found) or (found is None and err.value == ""), (
            f"{msg}: but row {err.row} has {found!r} in column {err.column!r}"
        )


def _check_cli(path: Path, capsys) -> None:
    """``cogarb stay`` fails on a rejected file in one line, exit code 2, no traceback."""
    capsys.readouterr()
    try:
        code = main(["stay", str(path)])
    except Exception as err:
        pytest.fail(f"cogarb stay {path.name} raised {type(err).__name__}: {err}")
    out, errtext = capsys.readouterr()
    assert "Traceback" not in out + errtext
    assert code == 2 and out == ""
    assert errtext.startswith("cogarb: error: ") and str(path) in errtext
    assert errtext.endswith("\n") and errtext.count("\n") == 1, f"not one line: {errtext!r}"


def _outcome(path: Path, capsys, header_must_have_column: bool = True):
    out, err = _read(path)
    if err is not None:
        _check_error(err, path, header_must_have_column)
        _check_cli(path, capsys)  # the CLI's analysis of accepted files is not validation
    else:
        _check_missed_flag(out)
    return out, err


def _order_problems(header, rows, fmt) -> set[int]:
    """1-based rows whose trial does not increase over the same participant's previous row."""
    p, t = header.index(PARTICIPANT_COLUMN[fmt]), header.index("trial")
    last, bad = {}, set()
    for i, record in enumerate(rows):
        trial = float(record[t])
        if record[p] in last and trial <= last[record[p]]:
            bad.add(i + 1)
        last[record[p]] = trial
    return bad


# ---------------------------------------------------------------------------
# Strategies: the values put into one cell

MISSING = st.sampled_from(["", "NaN", "nan", "NA", "<NA>", "None", "null", " ", " nan "])
JUNK = st.sampled_from(
    ["x", "left", "N/A", "#N/A", "-", "inf", "-inf", "-nan", "1e999", "0x1", "1,0", "1;0", "1 1",
     "--1", "2020-01-01", '"', "'", "\t", "TRUE?", "yes please", "1\n0", "\x00", "\\N"]
) | st.text(st.characters(codec="utf-8"), min_size=1, max_size=6)  # fmt: skip
OUT_OF_RANGE = st.sampled_from(["-1", "2", "3", "5", "-0.0001", "1.0001", "0"]) | st.integers(
    -(10**6), 10**6
).map(str)
FRACTION = st.sampled_from(["0.5", ".5", "1.5", "0.999999"]) | st.floats(0.001, 0.999).map(repr)
HUGE = st.sampled_from(
    ["1e308", "1" + "0" * 25, "9223372036854775807", "9223372036854775808", "-9223372036854775809",
     "1e19", "18446744073709551616", "4294967297", "2147483648"]
) | st.integers(2**53, 2**100).map(str)  # fmt: skip
UNICODE = st.sampled_from(
    ["１", "٠", "۱", "½", "Ⅰ", "𝟙", "1\u00a0", "\ufeff1", "1\u200b", "é", "∞", "−1", "真", "🙂",
     "ｔｒｕｅ", "Ｔrue", "İ"]
) | st.text(st.characters(min_codepoint=128, codec="utf-8"), min_size=1, max_size=4)  # fmt: skip
VALUES = st.one_of(MISSING, JUNK, OUT_OF_RANGE, FRACTION, HUGE, UNICODE)


@st.composite
def cell_corruptions(draw, fmt: str):
    header, rows = _base_records(fmt)
    column = draw(st.sampled_from(header))
    row = draw(st.integers(0, len(rows) - 1))
    value = draw(VALUES.filter(lambda v: v != rows[row][header.index(column)]))
    return row, column, value


# ---------------------------------------------------------------------------
# Properties


@pytest.mark.parametrize("fmt", FORMATS)
def test_valid_files_are_read_whole(fmt, base_dir, capsys):
    # The uncorrupted files are valid: every row comes back, the missed ones flagged.
    out = _base_output(fmt, base_dir)
    assert len(out) == N_PARTICIPANTS * N_TRIALS
    assert out["missed"].sum() == 2
    path = base_dir / f"base-{fmt}{Path(FILE_NAMES[fmt]).suffix}"
    assert main(["stay", str(path)]) == 0
    capsys.readouterr()


def _assert_error_at_cell(err, row: int, column: str, id_column: str) -> None:
    """A rejection of a one-cell corruption names a row and column, at that cell.

    A corrupted trial number may instead be reported on the next row (whose trial
    then goes backwards), and a corrupted participant id on any row of the
    participant it now names.
    """
    assert isinstance(err, TrialDataError), err
    assert err.row is not None and err.column is not None, err
    if column == "trial":
        assert err.row in (row + 1, row + 2), err
    elif column != id_column:
        assert err.row == row + 1, err


@CELLS
@given(corruption=cell_corruptions("tidy"))
@example(corruption=(4, "trial", "1" + "0" * 25))  # int64 overflow
@example(corruption=(7, "trial", "1e19"))  # last trial of a participant, past int64
@example(corruption=(5, "choice1", "2"))
@example(corruption=(5, "state2", ""))
@example(corruption=(5, "reward", "lots"))
@example(corruption=(10, "choice1", "1"))  # choice on the fully missed trial
def test_cell_corruption_tidy(corruption, tmp_path, base_dir, capsys):
    # One cell replaced by junk, an out-of-range or huge number, a fraction, NaN or
    # unicode. The rest of the file is valid, so an error must be about the row of
    # that cell (or, for a trial number, the next row, whose trial then goes
    # backwards; for a participant id, any row of the participant it now names).
    # If accepted, every row is there, the cell reads as the file says, and
    # nothing else changed.
    row, column, value = corruption
    header, rows = _base_records("tidy")
    rows[row][header.index(column)] = value
    path = _write(tmp_path / FILE_NAMES["tidy"], header, rows, ",")
    out, err = _outcome(path, capsys)
    if err is not None:
        _assert_error_at_cell(err, row, column, id_column="participant")
        return
    base = _base_output("tidy", base_dir)
    assert len(out) == len(rows)  # no silent drop
    _check_unchanged(out, base, [i for i in range(len(rows)) if i != row], skip=("participant",))
    expected = _reading(column, value)
    assert expected is not INVALID, f"accepted {value!r} in column {column!r}"
    assert _same(out[column].iloc[row], expected), (
        f"row {row + 1}, column {column!r}: file says {value!r}, read {out[column].iloc[row]!r}"
    )
    _check_unchanged(out, base, [row], skip=(column, "missed"))
    assert list(out["participant"].astype(str)) == [
        value.strip() if (i == row and column == "participant") else str(p)
        for i, p in enumerate(base["participant"])
    ]


@CELLS
@given(corruption=cell_corruptions("hbayesdm"))
@example(corruption=(5, "level2_choice", "NA"))  # documented: makes the trial missed
@example(corruption=(5, "A1prob", "junk"))
@example(corruption=(5, "subjID", ""))
@example(corruption=(5, "level1_choice", "3"))
def test_cell_corruption_hbayesdm(corruption, tmp_path, base_dir, capsys):
    # The same property for the hBayesDM reader, which maps raw codes onto the
    # schema: its errors must name the hBayesDM file's own columns (the user has
    # no 'state2' or 'participant' column to look up), and an empty or NA choice
    # code makes the trial missed (its docstring).
    row, column, value = corruption
    header, rows = _base_records("hbayesdm")
    rows[row][header.index(column)] = value
    path = _write(tmp_path / FILE_NAMES["hbayesdm"], header, rows, "\t")
    out, err = _outcome(path, capsys)
    if err is not None:
        _assert_error_at_cell(err, row, column, id_column="subjID")
        return
    base = _base_output("hbayesdm", base_dir)
    assert len(out) == len(rows)  # no silent drop
    _check_unchanged(out, base, [i for i in range(len(rows)) if i != row], skip=("participant",))
    reading = {c: _reading(c, v) for c, v in zip(header, rows[row], strict=True)}
    assert reading[column] is not INVALID, f"accepted {value!r} in column {column!r}"
    expected = {
        "participant": reading["subjID"],
        "trial": reading["trial"],
        "reward": reading["reward"],
        **{tidy: reading[column] for column, tidy in TIDY_PROBABILITY.items()},
    }
    level1, level2 = reading["level1_choice"], reading["level2_choice"]
    if level1 is pd.NA or level2 is pd.NA:
        expected["missed"] = True
    else:
        choice1, state2 = level1 - 1, float(level2 >= 3)
        expected.update(
            choice1=choice1, state2=state2, choice2=(level2 - 1) % 2, common=choice1 == state2
        )
        expected["missed"] = False
    assert not _diff(_row(out, row), expected), _diff(_row(out, row), expected)


@PROPERTY
@given(fmt=st.sampled_from(FORMATS), column=st.integers(0, 100))
def test_deleted_column(fmt, column, tmp_path, base_dir, capsys):
    # A required column removed is reported by name (no row: it is the whole
    # column); an optional one removed leaves every trial as it was.
    header, rows = _base_records(fmt)
    j = column % len(header)
    name = header[j]
    path = _write(
        tmp_path / FILE_NAMES[fmt],
        header[:j] + header[j + 1 :],
        [r[:j] + r[j + 1 :] for r in rows],
        SEPARATORS[fmt],
    )
    out, err = _outcome(path, capsys)
    if fmt == "tidy":
        optional = name.startswith("p_reward") or name in ("session", "transitions_reversed")
    else:
        optional = name in PROBABILITIES
    if not optional:
        assert isinstance(err, TrialDataError) and err.row is None, err
        assert "missing" in str(err)
        return
    assert err is None, err
    assert len(out) == len(rows)
    gone = TIDY_PROBABILITY.get(name, name)
    assert gone not in out.columns
    _check_unchanged(out, _base_output(fmt, base_dir), range(len(rows)), skip=(gone,))


@PROPERTY
@given(fmt=st.sampled_from(FORMATS), row=st.integers(0, N_ROWS - 1), before=st.integers(0, N_ROWS))
def test_duplicated_row(fmt, row, before, tmp_path, capsys):
    # A row copied elsewhere duplicates a (participant, trial): always an error,
    # on the trial column of a row whose trial does not increase.
    header, rows = _base_records(fmt)
    rows.insert(before, list(rows[row]))
    path = _write(tmp_path / FILE_NAMES[fmt], header, rows, SEPARATORS[fmt])
    _, err = _outcome(path, capsys)
    assert isinstance(err, TrialDataError), "a duplicated trial was accepted"
    assert err.column == "trial" and err.row in _order_problems(header, rows, fmt), err


@PROPERTY
@given(
    fmt=st.sampled_from(FORMATS),
    pair=st.lists(st.integers(0, N_ROWS - 1), min_size=2, max_size=2, unique=True),
)
def test_swapped_rows(fmt, pair, tmp_path, base_dir, capsys):
    # Two rows swapped: rejected (on the trial column of a row that goes
    # backwards) exactly when a participant's trials are no longer increasing;
    # otherwise (rows of different participants) the same trials come back.
    header, rows = _base_records(fmt)
    i, j = pair
    rows[i], rows[j] = rows[j], rows[i]
    path = _write(tmp_path / FILE_NAMES[fmt], header, rows, SEPARATORS[fmt])
    out, err = _outcome(path, capsys)
    problems = _order_problems(header, rows, fmt)
    if problems:
        assert isinstance(err, TrialDataError), "trials out of order were accepted"
        assert err.column == "trial" and err.row in problems, err
        return
    assert err is None, err
    order = list(range(len(rows)))
    order[i], order[j] = order[j], order[i]
    base = _base_output(fmt, base_dir)
    _check_unchanged(out, base.iloc[order].reset_index(drop=True), range(len(rows)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_deleted_header(fmt, tmp_path, capsys):
    # Without the header the first trial is taken for column names: the required
    # columns are then missing, which must be said (never the trials misread).
    path = tmp_path / FILE_NAMES[fmt]
    path.write_text(_base_text(fmt).split("\n", 1)[1], encoding="utf-8")
    _, err = _outcome(path, capsys)
    assert isinstance(err, TrialDataError) and "missing" in str(err), err


@PROPERTY
@given(fmt=st.sampled_from(FORMATS), line=st.integers(0, N_ROWS), removed=st.integers(0, 10_000))
@example(fmt="tidy", line=N_ROWS, removed=25)  # the last line cut inside p_reward_10
@example(fmt="hbayesdm", line=N_ROWS, removed=40)  # cut inside B1prob
def test_truncated_file(fmt, line, removed, tmp_path, base_dir, capsys):
    # The file ends in the middle of a line (an interrupted copy): the rows before
    # it are intact, the last one lost its tail. Rejected, or the last row comes
    # back as the file now says: the fields it still has unchanged but for a
    # shortened last one (a shorter number is indistinguishable from a valid one),
    # or flagged missed. Fields cut off must not be silently filled in with NaN.
    lines = _base_text(fmt).splitlines()
    cut = len(lines[line]) - 1 - removed % (len(lines[line]) - 1)  # 1 .. len - 1
    path = tmp_path / FILE_NAMES[fmt]
    path.write_text("".join(s + "\n" for s in lines[:line]) + lines[line][:cut], encoding="utf-8")
    out, err = _outcome(path, capsys, header_must_have_column=line > 0)
    if line == 0:
        assert err is not None, "a file with a truncated header and no rows was accepted"
        return
    if err is not None:
        if isinstance(err, TrialDataError) and err.row is not None:
            assert err.row == line, err
        return
    base = _base_output(fmt, base_dir)
    assert len(out) == line  # no silent drop
    _check_unchanged(out, base, range(line - 1))
    header, records = _records(_text(path))
    assert len(records[-1]) == len(header), f"row {line} has {len(records[-1])} fields: accepted"
    last = TIDY_PROBABILITY.get(header[-1], header[-1])  # the shortened field's column
    if not out["missed"].iloc[line - 1]:
        _check_unchanged(out, base, [line - 1], skip=(last,))
    assert _same(out[last].iloc[line - 1], _reading(header[-1], records[-1][-1]))


@PROPERTY
@given(
    fmt=st.sampled_from(FORMATS),
    before=st.integers(0, N_ROWS + 1),
    blank=st.sampled_from(["", "\r", "\r\n"]),
)
def test_blank_line(fmt, before, blank, tmp_path, base_dir, capsys):
    # A blank line holds no trial: the trials come back unchanged (or the file is
    # rejected with a clear error, e.g. a blank first line of a .txt file hides
    # its tab separator).
    lines = _base_text(fmt).splitlines()
    lines.insert(before, blank)
    path = tmp_path / FILE_NAMES[fmt]
    path.write_text("".join(s + "\n" for s in lines), encoding="utf-8")
    out, err = _outcome(path, capsys)
    if err is None:
        assert len(out) == N_ROWS
        _check_unchanged(out, _base_output(fmt, base_dir), range(N_ROWS))


@PROPERTY
@given(fmt=st.sampled_from(FORMATS), before=st.integers(0, N_ROWS))
@example(fmt="hbayesdm", before=0)
def test_record_of_empty_fields(fmt, before, tmp_path, capsys):
    # A line of separators only is a record with every field empty: a trial with
    # no participant, which must be reported at its row (never skipped).
    header, rows = _base_records(fmt)
    rows.insert(before, [""] * len(header))
    path = _write(tmp_path / FILE_NAMES[fmt], header, rows, SEPARATORS[fmt])
    _, err = _outcome(path, capsys)
    assert isinstance(err, TrialDataError) and err.row == before + 1, err


@PROPERTY
@given(
    fmt=st.sampled_from(FORMATS),
    line=st.integers(0, N_ROWS),
    other=st.sampled_from([",", ";", "\t", "|", " "]),
)
def test_changed_delimiter_of_one_line(fmt, line, other, tmp_path, capsys):
    # One line written with another separator reads as a single field: its trial
    # is lost, so the file must be rejected, at that row for a data line.
    lines = _base_text(fmt).splitlines()
    sep = SEPARATORS[fmt]
    lines[line] = lines[line].replace(sep, ";" if other == sep else other)
    path = tmp_path / FILE_NAMES[fmt]
    path.write_text("".join(s + "\n" for s in lines), encoding="utf-8")
    _, err = _outcome(path, capsys, header_must_have_column=line > 0)
    assert err is not None, "a line with another separator was accepted"
    if line > 0 and isinstance(err, TrialDataError) and err.row is not None:
        assert err.row == line, err


@PROPERTY
@given(fmt=st.sampled_from(FORMATS), line=st.integers(1, N_ROWS))
@example(fmt="tidy", line=1)  # pandas takes the first column for an index
@example(fmt="tidy", line=2)  # pandas' own message, which ends in a newline
def test_extra_field_on_one_line(fmt, line, tmp_path, capsys):
    # A line with one field more than the header (a stray separator) cannot be
    # matched to the columns: rejected, at that line, never read shifted.
    lines = _base_text(fmt).splitlines()
    lines[line] += SEPARATORS[fmt] + "x"
    path = tmp_path / FILE_NAMES[fmt]
    path.write_text("".join(s + "\n" for s in lines), encoding="utf-8")
    _, err = _outcome(path, capsys)
    assert err is not None, "a line with an extra field was accepted"
    if isinstance(err, TrialDataError) and err.row is not None:
        assert err.row == line, err
    else:
        assert f"line {line + 1}" in str(err), err  # the parser's line, header counted
