"""The trial schema's condition, probability and numeric columns, and file-level problems.

Each bad input must give one error naming the file (and row, column and value when
there is one), never a traceback, a silent recode or a dropped trial; each
documented coding must give the documented codes with every row kept.
"""

from __future__ import annotations

import builtins
import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.arrays import binary_levels, trial_arrays
from cogarb.cli import main
from cogarb.readers.tables import read_header, read_table
from cogarb.schema import TrialDataError

N_PARTICIPANTS, N_TRIALS = 2, 10
ROW = 4  # 0-based row that the corruptions hit (row 5 in messages)


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    """Valid trials as text (as read from a CSV file), with load, stakes and p_reward_*."""
    sims = cogarb.simulate("daw2011", "hybrid", {}, n_participants=N_PARTICIPANTS, seed=3)
    sims = sims[sims["trial"] <= N_TRIALS].reset_index(drop=True)
    sims["load"] = (sims["trial"] % 3 == 0).astype(int)
    sims["stakes"] = np.where(sims["trial"] % 2 == 0, 5, 1)
    return sims.astype(str).replace({"<NA>": ""})


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "trials.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _with(base: pd.DataFrame, column: str, values) -> pd.DataFrame:
    frame = base.copy()
    frame[column] = values
    return frame


def _set_cell(base: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    frame = base.copy()
    frame.loc[ROW, column] = value
    return frame


def _assert_cell_error(err: TrialDataError, path, column: str, value, row: int = ROW + 1):
    msg = str(err)
    assert str(path) in msg, msg
    assert f"row {row}" in msg and f"column '{column}'" in msg and repr(value) in msg, msg
    assert (err.row, err.column, err.value) == (row, column, value)


# ---------------------------------------------------------------------------
# load: two documented codings, typed Int8 0/1

LOAD = np.array([0, 0, 1, 0, 0, 1, 0, 0, 1, 0] * N_PARTICIPANTS)  # (trial % 3 == 0)


@pytest.mark.parametrize(
    "coding",
    [
        {0: "0", 1: "1"},
        {0: "0.0", 1: "1.0"},
        {0: "false", 1: "true"},
        {0: "False", 1: "TRUE"},
        {0: "single", 1: "dual"},
        {0: " Single", 1: "DUAL "},
    ],
)
def test_load_text_codings_give_0_1(tmp_path, base, coding):
    path = _write(tmp_path, _with(base, "load", [coding[v] for v in LOAD]))
    trials = cogarb.read_trials(path)
    assert len(trials) == len(base)  # every row kept
    assert trials["load"].dtype == "Int8"
    np.testing.assert_array_equal(trials["load"].to_numpy(int), LOAD)
    np.testing.assert_array_equal(trial_arrays(trials, validated=True).condition, LOAD)


@pytest.mark.parametrize(
    "values",
    [LOAD, LOAD.astype(float), LOAD.astype(bool), pd.array(LOAD, dtype="Int8")],
    ids=["int", "float", "bool", "Int8"],
)
def test_load_typed_codings_give_0_1(base, values):
    trials = cogarb.validate_trials(_with(base, "load", values))
    assert trials["load"].dtype == "Int8"
    np.testing.assert_array_equal(trial_arrays(trials).condition, LOAD)


@pytest.mark.parametrize("value", ["0.5", "256", "2", "-1", "heavy", "1e3", "yes"])
def test_bad_load_names_file_row_column_value(tmp_path, base, value):
    path = _write(tmp_path, _set_cell(base, "load", value))
    with pytest.raises(TrialDataError, match="is not a load level") as err:
        cogarb.read_trials(path)
    _assert_cell_error(err.value, path, "load", value)


@pytest.mark.parametrize("value", ["", "NA", "nan"])
def test_missing_load_is_an_error_not_load_0(tmp_path, base, value):
    path = _write(tmp_path, _set_cell(base, "load", value))
    with pytest.raises(TrialDataError, match="is missing: the load condition") as err:
        cogarb.read_trials(path)
    _assert_cell_error(err.value, path, "load", value)


def test_typed_missing_load_is_an_error(base):
    values = pd.array(LOAD, dtype="Int8")
    values[ROW] = pd.NA
    with pytest.raises(TrialDataError, match=f"row {ROW + 1}, column 'load'.*is missing"):
        cogarb.validate_trials(_with(base, "load", values))


def test_one_load_level_validates_but_hybrid_load_needs_both(base):
    trials = cogarb.validate_trials(_with(base, "load", "0"))
    assert (trials["load"] == 0).all()
    trial_arrays(trials, agent="arbitrator")  # load is an input of the arbitrator: fine
    with pytest.raises(TrialDataError) as err:
        trial_arrays(trials, agent="hybrid_load")
    msg = str(err.value)
    assert "column 'load'" in msg and "one level only (0 on all 20 trials)" in msg, msg
    assert "w_noload and w_load" in msg


def test_hybrid_load_without_a_load_column(base):
    with pytest.raises(ValueError, match="agent 'hybrid_load' needs a 'load' column"):
        trial_arrays(base.drop(columns="load"), agent="hybrid_load")


# ---------------------------------------------------------------------------
# stakes: two levels, numbers kept, low/high -> 0/1

STAKES = np.tile(np.where(np.arange(1, N_TRIALS + 1) % 2 == 0, 5, 1), N_PARTICIPANTS)


def test_stakes_numbers_are_kept(tmp_path, base):
    trials = cogarb.read_trials(_write(tmp_path, base))
    assert trials["stakes"].dtype == float  # text numbers, as read
    np.testing.assert_array_equal(trials["stakes"], STAKES)
    typed = cogarb.validate_trials(_with(base, "stakes", STAKES))
    assert typed["stakes"].dtype == np.int64  # typed numbers keep their type
    data = trial_arrays(trials, condition="stakes")
    np.testing.assert_array_equal(data.condition, STAKES == 5)  # 1 is the reference


def test_stakes_labels_low_high_give_0_1(tmp_path, base):
    labels = np.where(STAKES == 5, "High", "low")
    trials = cogarb.read_trials(_write(tmp_path, _with(base, "stakes", labels)))
    np.testing.assert_array_equal(trials["stakes"], (STAKES == 5).astype(int))
    assert binary_levels(trials, "stakes") == [0, 1]  # low is the reference


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is missing: the stakes condition"),
        ("NA", "is missing: the stakes condition"),
        ("3", "is a third level"),
        ("x5", "is not a stakes level"),
        ("high", "is a label, but other rows give numbers"),
    ],
)
def test_bad_stakes_name_file_row_column_value(tmp_path, base, value, problem):
    path = _write(tmp_path, _set_cell(base, "stakes", value))
    with pytest.raises(TrialDataError, match=problem) as err:
        cogarb.read_trials(path)
    _assert_cell_error(err.value, path, "stakes", value)


# ---------------------------------------------------------------------------
# any condition column (conditions={"w": column}): two levels, none missing


@pytest.mark.parametrize("value", ["", "NA", " null "])
def test_condition_with_a_missing_value(base, value):
    # "a" and "" would be two levels: the missing one must not become a condition level
    column = np.where(np.arange(len(base)) % 2 == 0, "a", "b").astype(object)
    column[ROW] = value
    trials = cogarb.validate_trials(_with(base, "group", column))
    with pytest.raises(TrialDataError) as err:
        trial_arrays(trials, condition="group")
    _assert_cell_error(err.value, "trials", "group", value)
    assert "is missing" in str(err.value)


def test_condition_with_a_missing_value_and_one_other_level(base):
    column = np.full(len(base), "a", dtype=object)
    column[ROW] = ""
    trials = cogarb.validate_trials(_with(base, "group", column))
    with pytest.raises(TrialDataError, match=f"row {ROW + 1}, column 'group'.*is missing"):
        binary_levels(trials, "group")


def test_numeric_condition_with_nan(base):
    values = np.where(np.arange(len(base)) % 2 == 0, 1.0, 2.0)
    values[ROW] = np.nan
    trials = cogarb.validate_trials(_with(base, "dose", values))
    with pytest.raises(TrialDataError, match=f"row {ROW + 1}, column 'dose'.*is missing"):
        binary_levels(trials, "dose")


def test_condition_levels_found_are_named(base):
    one = cogarb.validate_trials(_with(base, "group", "a"))
    with pytest.raises(TrialDataError, match=r"column 'group': has one level only \('a' on all"):
        binary_levels(one, "group")
    column = np.where(np.arange(len(base)) < 3, "a", "b").astype(object)
    column[ROW] = "c"
    three = cogarb.validate_trials(_with(base, "group", column))
    with pytest.raises(TrialDataError) as err:
        binary_levels(three, "group")
    _assert_cell_error(err.value, "trials", "group", "c")
    assert "3 levels ('a', 'b', 'c')" in str(err.value)


def test_mixed_type_levels_sort_as_text(base):
    column = pd.Series([1 if i % 2 == 0 else "b" for i in range(len(base))], dtype=object)
    trials = cogarb.validate_trials(base).assign(group=column.to_numpy())
    assert binary_levels(trials, "group") == [1, "b"]


# ---------------------------------------------------------------------------
# p_reward_*: probabilities in [0, 1] or empty


@pytest.mark.parametrize("value", ["1.5", "-0.1", "abc", "inf", "1e999", "2020-01-01"])
def test_bad_reward_probability(tmp_path, base, value):
    path = _write(tmp_path, _set_cell(base, "p_reward_10", value))
    with pytest.raises(TrialDataError, match=r"is not a probability in \[0, 1\]") as err:
        cogarb.read_trials(path)
    _assert_cell_error(err.value, path, "p_reward_10", value)


def test_empty_reward_probability_is_kept_missing(tmp_path, base):
    trials = cogarb.read_trials(_write(tmp_path, _set_cell(base, "p_reward_01", "")))
    assert len(trials) == len(base) and trials["p_reward_01"].dtype == float
    assert np.isnan(trials["p_reward_01"].iloc[ROW])
    assert trials["p_reward_01"].isna().sum() == 1
    assert trial_arrays(trials).reward_prob is None  # not all probabilities known


# ---------------------------------------------------------------------------
# duplicate column names


def test_duplicate_column_in_a_csv_header(tmp_path, base):
    path = tmp_path / "dup.csv"
    text = base.to_csv(index=False).replace("common", "reward", 1)
    path.write_text(text)
    with pytest.raises(TrialDataError, match="column 'reward': appears 2 times in the header"):
        cogarb.read_trials(path)
    with pytest.raises(TrialDataError, match="appears 2 times"):
        read_table(path)
    assert read_header(path).count("reward") == 2  # as written, not renamed


def test_header_less_file_is_said_to_miss_its_header(tmp_path, base):
    path = tmp_path / "noheader.csv"
    path.write_text(base.to_csv(index=False).split("\n", 1)[1])
    with pytest.raises(TrialDataError, match="is the header line missing"):
        cogarb.read_trials(path)


def test_duplicate_column_in_a_dataframe(base):
    frame = pd.concat([base, base[["reward"]]], axis=1)
    with pytest.raises(TrialDataError, match="trials, column 'reward': appears 2 times"):
        cogarb.validate_trials(frame)


def test_duplicate_column_in_parquet(tmp_path, base):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(base, preserve_index=False)
    path = tmp_path / "dup.parquet"
    columns, names = [*table.columns, table.column("trial")], [*table.column_names, "trial"]
    pq.write_table(pa.table(columns, names), path)
    with pytest.raises(TrialDataError, match=f"{path}, column 'trial': appears 2 times"):
        cogarb.read_trials(path)


def test_unnamed_header_fields_may_repeat(tmp_path, base):
    # Trailing separators (spreadsheet exports) give empty names: pandas numbers them.
    path = tmp_path / "trailing.csv"
    lines = base.to_csv(index=False).splitlines()
    path.write_text("".join(line + ",,\n" for line in lines))
    assert len(cogarb.read_trials(path)) == len(base)


# ---------------------------------------------------------------------------
# integers a float cannot hold, and dates


def _parquet(tmp_path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path, index=False)
    return path


def _typed(base) -> pd.DataFrame:
    return cogarb.validate_trials(base).drop(columns="missed")


@pytest.mark.parametrize(
    ("column", "dtype", "value"),
    [
        ("trial", "int64", 2**53 + 1),
        ("trial", "uint64", 2**64 - 1),
        ("choice1", "int64", 2**62),
        ("reward", "int64", -(2**53) - 1),
        ("session", "int64", 2**60),
        ("stakes", "int64", 2**53 + 1),
        ("rt1", "uint64", 2**63),
    ],
)
def test_integers_beyond_2_53_are_an_error_not_a_rounding(tmp_path, base, column, dtype, value):
    frame = _typed(base)
    values = np.ones(len(frame), dtype=dtype)
    if column == "trial":
        values = np.tile(np.arange(1, N_TRIALS + 1), N_PARTICIPANTS).astype(dtype)
    values[ROW] = value
    frame[column] = values
    path = _parquet(tmp_path, frame)
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(path)
    _assert_cell_error(err.value, path, column, value)


@pytest.mark.parametrize("column", ["trial", "session"])
def test_integer_text_beyond_2_53_is_an_error(tmp_path, base, column):
    frame = base.copy()
    frame[column] = "1" if column == "session" else frame[column]
    frame.loc[ROW, column] = str(2**53 + 1)  # float(...) == 2**53: rounded without a word
    path = _write(tmp_path, frame)
    with pytest.raises(TrialDataError, match="positive integer") as err:
        cogarb.read_trials(path)
    _assert_cell_error(err.value, path, column, str(2**53 + 1))


def test_exact_large_integers_are_accepted(base):
    frame = _typed(base)
    frame["session"] = np.int64(2**53)  # exactly representable
    assert (cogarb.validate_trials(frame)["session"] == 2**53).all()


def test_unknown_column_of_huge_integer_ids_stays_text(tmp_path, base):
    ids = [str(2**60 + i) for i in range(len(base))]
    trials = cogarb.read_trials(_write(tmp_path, _with(base, "device_id", ids)))
    assert list(trials["device_id"]) == ids  # not rounded to float


@pytest.mark.parametrize("column", ["reward", "trial", "choice1", "rt1", "p_reward_00", "load"])
@pytest.mark.parametrize("kind", ["datetime", "timedelta"])
def test_dates_are_not_numbers(tmp_path, base, column, kind):
    frame = _typed(base)
    stamps = pd.to_datetime(np.arange(len(frame)), unit="s")
    frame[column] = stamps if kind == "datetime" else stamps - stamps[0]
    path = _parquet(tmp_path, frame)
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(path)
    msg = str(err.value)
    assert str(path) in msg and f"column '{column}'" in msg and "row 1" in msg, msg
    assert "date/time" in msg or "is not a load level" in msg, msg


# ---------------------------------------------------------------------------
# file-level problems: one error naming the file


def _gzip(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def _file_cases(base: pd.DataFrame) -> dict:
    text = base.to_csv(index=False)
    gz = _gzip(text)
    parquet = _typed(base)
    return {
        "empty.csv": (b"", "is empty (0 bytes)"),
        "empty.csv.gz": (b"", "is empty (0 bytes)"),
        "empty-text.csv.gz": (_gzip(""), "is empty (no header line)"),
        "blank.csv": (b"\n\n  \n", "is empty (no header line)"),
        "header.csv": (text.split("\n")[0].encode() + b"\n", "no trials"),
        "truncated.csv.gz": (gz[: len(gz) // 2], "is not a readable gzip file"),
        "corrupt.csv.gz": (gz[:20] + b"\x00garbage" * 40, "is not a readable gzip file"),
        "plain.csv.gz": (text.encode(), "is not a readable gzip file"),
        "truncated.parquet": (parquet, "is not a readable parquet file"),
        "corrupt.parquet": (b"PAR1" + b"x" * 500, "is not a readable parquet file"),
        "empty.parquet": (b"", "is empty (0 bytes)"),
    }


@pytest.mark.parametrize(
    "name",
    ["empty.csv", "empty.csv.gz", "empty-text.csv.gz", "blank.csv", "header.csv",
     "truncated.csv.gz", "corrupt.csv.gz", "plain.csv.gz", "truncated.parquet",
     "corrupt.parquet", "empty.parquet"],
)  # fmt: skip
def test_unreadable_files_give_one_error_naming_the_file(tmp_path, base, name, capsys):
    content, problem = _file_cases(base)[name]
    path = tmp_path / name
    if isinstance(content, pd.DataFrame):
        content.to_parquet(path, index=False)
        content = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(content)
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(path)
    assert str(err.value).startswith(f"{path}: ") and problem in str(err.value), err.value
    _assert_cli_error(path, problem, capsys)


def _assert_cli_error(path: Path, problem: str, capsys) -> None:
    capsys.readouterr()
    assert main(["stay", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("cogarb: error: ") and err.count("\n") == 1, err
    assert str(path) in err and problem in err and "Traceback" not in err


def _latin1(base: pd.DataFrame) -> tuple[bytes, int, int]:
    """The CSV with an ISO-8859-1 'é' in a participant id: (bytes, line, byte offset)."""
    frame = base.copy()
    frame["participant"] = frame["participant"].str.replace("p2", "pé2")
    data = frame.to_csv(index=False).encode("latin-1")
    offset = data.index(b"\xe9")
    return data, data.count(b"\n", 0, offset) + 1, offset


@pytest.mark.parametrize("name", ["latin1.csv", "latin1.csv.gz", "latin1.txt"])
def test_non_utf8_names_file_line_and_byte(tmp_path, base, name, capsys):
    data, line, offset = _latin1(base)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}, line {line}: is not UTF-8 text: byte 0xe9 at byte offset "
                          f"{offset}"), msg  # fmt: skip
    assert "re-save the file as UTF-8" in msg
    _assert_cli_error(path, "is not UTF-8", capsys)


def test_utf8_with_a_byte_order_mark_is_read(tmp_path, base):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + base.to_csv(index=False).encode())
    trials = cogarb.read_trials(path)
    assert len(trials) == len(base) and trials.columns[0] == "participant"


def test_utf8_text_beyond_ascii_is_read(tmp_path, base):
    frame = base.copy()
    frame["participant"] = frame["participant"].str.replace("p2", "pé2")
    trials = cogarb.read_trials(_write(tmp_path, frame))
    assert "pé2" in set(trials["participant"])


@pytest.fixture
def deny(monkeypatch):
    """Make opening the given paths fail as on a file without read permission.

    (The tests run as root here, for whom chmod 000 does not deny reading.)
    """
    denied: set[str] = set()
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, str | os.PathLike) and os.path.abspath(file) in denied:
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    return lambda path: denied.add(os.path.abspath(path))


@pytest.mark.parametrize("name", ["trials.csv", "trials.csv.gz", "trials.txt", "trials.parquet"])
def test_permission_denied_names_the_file(tmp_path, base, name, deny):
    path = tmp_path / name
    if name.endswith(".txt"):
        _write(tmp_path, base, name)
    else:
        cogarb.write_trials(_typed(base), path)
    deny(path)
    with pytest.raises(TrialDataError, match="cannot be read: permission denied") as err:
        cogarb.read_trials(path)
    assert str(err.value) == f"{path}: cannot be read: permission denied"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_permission_denied_on_a_real_file(tmp_path, base):
    path = _write(tmp_path, base)
    path.chmod(0)
    with pytest.raises(TrialDataError, match="cannot be read: permission denied"):
        cogarb.read_trials(path)


def test_folder_where_a_file_is_expected(tmp_path):
    folder = tmp_path / "trials.csv"
    folder.mkdir()
    with pytest.raises(ValueError, match=f"{folder}: is a folder"):
        cogarb.read_trials(folder)
    for fmt in ("kool", "hbayesdm"):
        with pytest.raises(TrialDataError, match=f"{folder}: is a folder, not a file"):
            cogarb.read_trials(folder, format=fmt)
    with pytest.raises(TrialDataError, match="is a folder, not a file"):
        read_table(folder)


# ---------------------------------------------------------------------------
# the readers' entry points: the same file-level problems


def _reader_file(tmp_path: Path, fmt: str) -> Path:
    """A file name the reader accepts (its content is what the test writes)."""
    names = {
        "hbayesdm": "ts.txt",
        "kool": "kool_trials.csv",
        "gillan2016": "3570Y55.csv",
        "feherdasilva2020": "03187_game.csv",
        "castro_rodrigues2022": "12_session1_log",
    }
    return tmp_path / names[fmt]


READERS = ("hbayesdm", "kool", "gillan2016", "feherdasilva2020", "castro_rodrigues2022")


def _entry_points(fmt: str):
    """``read_trials(path, format=fmt)`` and the reader's own ``read(path)``."""
    from cogarb.readers import get_reader

    return [lambda path: cogarb.read_trials(path, format=fmt), get_reader(fmt).read]


@pytest.mark.parametrize("fmt", READERS)
def test_reader_on_a_non_utf8_file(tmp_path, fmt):
    path = _reader_file(tmp_path, fmt)
    path.write_bytes(b"subject,trial\n1,caf\xe9\n")
    for read in _entry_points(fmt):
        with pytest.raises(TrialDataError) as err:
            read(path)
        assert str(err.value).startswith(f"{path}, line 2: is not UTF-8 text: byte 0xe9"), err.value


@pytest.mark.parametrize("fmt", READERS)
@pytest.mark.parametrize("content", [b"", b"\n \n"], ids=["0 bytes", "blank lines"])
def test_reader_on_an_empty_file(tmp_path, fmt, content):
    path = _reader_file(tmp_path, fmt)
    path.write_bytes(content)
    for read in _entry_points(fmt):
        with pytest.raises(TrialDataError, match="is empty") as err:
            read(path)
        assert str(err.value).startswith(f"{path}: is empty"), err.value


@pytest.mark.parametrize("fmt", READERS)
def test_reader_on_a_file_without_permission(tmp_path, fmt, deny):
    path = _reader_file(tmp_path, fmt)
    path.write_text("subject,trial\n1,1\n")
    deny(path)
    for read in _entry_points(fmt):
        with pytest.raises(TrialDataError) as err:
            read(path)
        assert str(err.value) == f"{path}: cannot be read: permission denied"


@pytest.mark.parametrize("fmt", ["gillan2016", "feherdasilva2020", "castro_rodrigues2022"])
def test_folder_reader_on_an_unreadable_file_in_the_folder(tmp_path, fmt):
    # The folder readers list a folder; a file in it that cannot be read is named.
    folder = tmp_path / "group"
    folder.mkdir()
    path = _reader_file(folder, fmt)
    path.write_bytes(b"AgeDropdown,3\xe9\n" if fmt == "gillan2016" else b"x\xe9\n")
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(tmp_path if fmt == "castro_rodrigues2022" else folder, format=fmt)
    assert str(err.value).startswith(f"{path}, line 1: is not UTF-8 text"), err.value


def test_castro_unreadable_group_folder_is_named_not_skipped(tmp_path, monkeypatch):
    # glob() skips a folder it cannot list, which would drop its participants silently.
    from cogarb.readers import castro_rodrigues2022 as cr

    good, bad = tmp_path / "OCD_fixed-task_debrief_NY", tmp_path / "OCD_fixed-task_debrief_LS"
    for folder in (good, bad):
        folder.mkdir()
        (folder / "12_session1_log").write_text("Start Reward Block\n")
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self == bad:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(PermissionError):
        cr.log_files(tmp_path)
    with pytest.raises(TrialDataError, match=f"{bad}: cannot be read: permission denied"):
        cogarb.read_trials(tmp_path, format="castro_rodrigues2022")


def test_castro_log_files_match_the_globs(tmp_path):
    from cogarb.readers import castro_rodrigues2022 as cr

    group = tmp_path / "OCD_fixed-task_debrief_NY"
    group.mkdir()
    for name in ("1_session1_log", "2_session2_log", "3_session1_log.txt", "notes.txt"):
        (group / name).write_text("")
    (tmp_path / "4_session1_log").write_text("")
    expected = sorted(
        {f for g in cr.LOG_GLOBS for f in tmp_path.glob(g) if f.is_file()}
    )  # what the reader globbed before
    assert cr.log_files(tmp_path) == expected and len(expected) == 3


# ---------------------------------------------------------------------------
# messages that say what is wrong


def test_trial_arrays_on_unvalidated_trials_says_so(base):
    with pytest.raises(ValueError, match="no 'missed' column: pass them through"):
        trial_arrays(base, validated=True)


def test_condition_column_not_in_the_trials(base):
    with pytest.raises(ValueError, match="condition column 'dose' is not in the trials"):
        binary_levels(cogarb.validate_trials(base), "dose")


@pytest.mark.parametrize(
    ("fmt", "problem"),
    [
        ("hbayesdm", "is a folder, not a file"),
        ("kool", "is a folder, not a file"),
        ("gillan2016", "contains no .csv task files"),
        ("feherdasilva2020", "no magic-carpet (<id>_game.csv) or spaceship (<id>.csv) files"),
        ("castro_rodrigues2022", "no <subject>_session<k>_log files"),
    ],
)
def test_reader_on_an_empty_folder_keeps_its_own_message(tmp_path, fmt, problem):
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises((TrialDataError, ValueError, FileNotFoundError)) as err:
        cogarb.read_trials(folder, format=fmt)
    assert str(err.value) == f"{folder}: {problem}"


@pytest.mark.parametrize("fmt", READERS)
def test_reader_on_a_tidy_file_names_it(tmp_path, base, fmt):
    path = _write(tmp_path, base, "03187_game.csv")  # a name every file reader accepts
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(path, format=fmt)
    assert str(err.value).startswith(str(path)), err.value


def test_trial_arrays_refuses_load_that_skipped_validation(base):
    # validated=True trusts the caller; load outside 0/1 must still not be recoded
    trials = cogarb.validate_trials(base)
    trials["load"] = trials["load"].astype(float)
    trials.loc[ROW, "load"] = np.nan
    with pytest.raises(TrialDataError, match=f"row {ROW + 1}, column 'load'.*is not 0 or 1"):
        trial_arrays(trials, validated=True)


def _gillan_study(tmp_path: Path, report: str) -> Path:
    """One Gillan et al. (2016) task file (Study 1 layout) and its questionnaire file."""
    folder = tmp_path / "twostep_data_study1_individual_csv"
    folder.mkdir()
    trial = "1,0.1,0.2,0.3,0.4,left,1,500,true,right,2,2,700,1,1"  # 15 fields
    (folder / "10555972.csv").write_text(f"AgeDropdown,34\nGenderDropdown,Female\n{trial}\n")
    (tmp_path / "self_report_study1.csv").write_text(report)
    return folder


@pytest.mark.parametrize(
    ("report", "match"),
    [
        ('"","subj.x","age","gender"\n"1","10555972","abc",-1\n',
         r"row 1, column 'age': value 'abc' disagrees with the task file's AgeDropdown 34"),
        ('"","subj.x","age","gender"\n"1","10555972",34,"f"\n',
         r"row 1, column 'gender': value 'f' disagrees with the task file's GenderDropdown"),
        ('"","subj.x","iq","iq"\n"1","10555972",90,91\n',
         r"column 'iq': appears 2 times in the header"),
    ],
)  # fmt: skip
def test_gillan_questionnaire_problems_name_file_row_column(tmp_path, report, match):
    folder = _gillan_study(tmp_path, report)
    with pytest.raises(TrialDataError, match=match) as err:
        cogarb.read_trials(folder, format="gillan2016")
    assert str(err.value).startswith(str(tmp_path / "self_report_study1.csv")), err.value


def test_condition_errors_name_the_file_row_after_selection_and_sorting(tmp_path):
    """Rows are the file's rows even after `include` drops some and trials are sorted."""
    from cogarb.arrays import binary_levels

    trials = cogarb.simulate("daw2011", "hybrid", n_participants=2, seed=1)
    trials["cond"] = "a"
    trials.loc[trials.index[::2], "cond"] = "b"
    trials.loc[300, "cond"] = ""  # file row 301
    path = tmp_path / "t.csv"
    cogarb.write_trials(trials, path)
    read = cogarb.read_trials(path)
    kept = read[read["trial"] > 50].sort_values(["trial", "participant"])
    with pytest.raises(TrialDataError, match=r"t\.csv, row 301, column 'cond'"):
        binary_levels(kept, "cond")
