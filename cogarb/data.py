"""The trial schema: validation, reading and (atomic) writing of tidy trial files.

Tidy schema, one row per trial:

============  ========================  =============================================
column        type                      meaning
============  ========================  =============================================
participant   str (categorical)         participant id
trial         int                       1-based trial index within participant
choice1       Int8, <NA> if missed      first-stage action 0/1
state2        Int8, <NA> if none        second-stage state 0/1 (state 0 is the common
                                        destination of action 0)
choice2       Int8, <NA> if missed      second-stage action 0/1
reward        float, NaN if missed      reward (0/1, or points)
common        boolean, <NA> if none     whether the transition was the common one
============  ========================  =============================================

Optional columns with a meaning the validation knows:

- ``transitions_reversed`` (boolean) marks trials on which the transition
  structure is swapped (action a commonly leads to state 1 - a); the
  consistency check of ``state2`` with ``choice1`` and ``common`` honours it.
- ``state1`` (Int8, 0/1) is the first-stage state in tasks with two of them
  (Kool et al. 2016's novel task); absent means one first-stage state.
- ``stage2_choice`` (boolean, default true) is false on trials whose second
  stage offers no choice (Kool's novel task, Akam's task in Castro-Rodrigues et
  al. 2022): ``choice2`` must then be empty, and such a trial is missed when
  ``choice1``, ``state2`` or ``reward`` is missing.
- ``session`` (int) numbers the sessions of a participant; ``trial`` still counts
  on across sessions.
- ``source_file``, ``source_line``: where a reader that combines several files
  found the row; errors then name that file and line instead of the row.

Other optional columns (``load``, ``stakes``, ``rt1``, ``rt2``, ``p_reward_*``,
simulator internals, participant covariates) are kept as they are.
:func:`validate_trials` adds a boolean ``missed`` column: true when the first-
or second-stage choice is missing. Missed trials are kept, never dropped;
likelihoods exclude them explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from cogarb._atomic import atomic_path

REQUIRED_COLUMNS = ("participant", "trial", "choice1", "state2", "choice2", "reward", "common")
BINARY_COLUMNS = ("choice1", "state2", "choice2")
MISSING_TOKENS = frozenset({"", "na", "nan", "<na>", "none", "null"})
TRUE_TOKENS = frozenset({"true", "1", "1.0", "t", "yes"})
FALSE_TOKENS = frozenset({"false", "0", "0.0", "f", "no"})


class TrialDataError(ValueError):
    """Trial data that break the schema. The message names file, row, column and value.

    Attributes
    ----------
    source : str
        The file (or ``"trials"`` for an in-memory DataFrame).
    row : int or None
        1-based data row: the header and blank lines are not counted (in a CSV
        file without blank lines the line number is ``row + 1``).
    column : str or None
    value : object
    """

    def __init__(self, source: str, row: int | None, column: str | None, value, problem: str):
        self.source, self.row, self.column, self.value = source, row, column, value
        where = [source]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        detail = f"value {value!r} {problem}" if value is not None else problem
        super().__init__(": ".join([", ".join(where), detail]))


def _raw(series: pd.Series, i: int):
    value = series.iloc[i]
    return value.item() if isinstance(value, np.generic) else value


def _is_texty(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _missing_text(series: pd.Series) -> np.ndarray:
    return (
        series.isna().to_numpy()
        | series.astype(str).str.strip().str.lower().isin(MISSING_TOKENS).to_numpy()
    )


def _to_float(
    series: pd.Series, column: str, source: str, problem: str = "is not a finite number"
) -> tuple[np.ndarray, np.ndarray]:
    """Numeric values and missing mask of a column; raise ``problem`` on non-numeric entries."""
    if pd.api.types.is_bool_dtype(series.dtype):
        missing = series.isna().to_numpy()
        return series.astype("Float64").to_numpy(float, na_value=np.nan), missing
    if _is_texty(series):
        missing = _missing_text(series)
        text = series.astype(str).str.strip().where(~missing)
        values = pd.to_numeric(text, errors="coerce").to_numpy(float)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(float, na_value=np.nan)
        missing = series.isna().to_numpy()
    bad = ~missing & ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrialDataError(source, i + 1, column, _raw(series, i), problem)
    return values, missing


MAX_INTEGER = 2**53  # larger floats are not exact integers (and overflow int64 beyond 2**63)


def _positive_integers(series: pd.Series, column: str, source: str) -> np.ndarray:
    problem = f"is not a positive integer (up to {MAX_INTEGER})"
    values, missing = _to_float(series, column, source, problem)
    bad = missing | (values < 1) | (values > MAX_INTEGER) | (values != np.round(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrialDataError(source, i + 1, column, _raw(series, i), problem)
    return values.astype(np.int64)


def _to_binary(series: pd.Series, column: str, source: str) -> pd.arrays.IntegerArray:
    problem = "is not 0, 1 or empty (missed)"
    values, missing = _to_float(series, column, source, problem)
    bad = ~missing & (values != 0) & (values != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrialDataError(source, i + 1, column, _raw(series, i), problem)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int8), missing)


def _to_boolean(series: pd.Series, column: str, source: str) -> pd.arrays.BooleanArray:
    if pd.api.types.is_bool_dtype(series.dtype):
        missing = series.isna().to_numpy()
        return pd.arrays.BooleanArray(series.fillna(False).to_numpy(bool), missing)
    text = series.astype(str).str.strip().str.lower()
    missing = series.isna().to_numpy() | text.isin(MISSING_TOKENS).to_numpy()
    true = text.isin(TRUE_TOKENS).to_numpy()
    bad = ~missing & ~true & ~text.isin(FALSE_TOKENS).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrialDataError(
            source, i + 1, column, _raw(series, i), "is not true/false, 1/0 or empty"
        )
    return pd.arrays.BooleanArray(true & ~missing, missing)


def boolean_column(trials: pd.DataFrame, column: str, source: str = "trials") -> np.ndarray:
    """A true/false column (text or typed) as a bool array; empty counts as false.

    Raises
    ------
    TrialDataError
        For a value that is not true/false, 1/0 or empty, naming row and column.
    """
    return _to_boolean(trials[column], column, source).fillna(False).to_numpy(bool)


def validate_trials(trials: pd.DataFrame, source: str | os.PathLike | None = None) -> pd.DataFrame:
    """Check trials against the schema and return a typed copy.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trials in the tidy schema. Columns may be text (as read from a CSV file)
        or typed.
    source : str or path, optional
        Name used in error messages (the file the trials came from).

    Returns
    -------
    pandas.DataFrame
        The trials with typed schema columns (see the module docstring), the other
        columns unchanged, and a boolean ``missed`` column. No row is dropped.

    Raises
    ------
    TrialDataError
        For a missing column, a value that is not a number or is out of range, a
        duplicated or out-of-order (participant, trial), a second-stage state
        inconsistent with the first-stage choice and ``common``, or a missing
        reward on a trial with a second-stage choice. The message names the file,
        the 1-based row, the column and the value.
    """
    name = str(source) if source is not None else "trials"
    try:
        return _validate(trials, name)
    except TrialDataError as err:
        if err.row is None or not {"source_file", "source_line"} <= set(trials.columns):
            raise
        i = err.row - 1
        file, line = trials["source_file"].iloc[i], trials["source_line"].iloc[i]
        problem = str(err).split(": ", 1)[1]
        raise TrialDataError(f"{file}, line {line}", None, err.column, None, problem) from None


def _validate(trials: pd.DataFrame, name: str) -> pd.DataFrame:
    missing_columns = [c for c in REQUIRED_COLUMNS if c not in trials.columns]
    if missing_columns:
        raise TrialDataError(
            name,
            None,
            missing_columns[0],
            None,
            f"required column is missing (columns present: {', '.join(map(str, trials.columns))})",
        )
    if len(trials) == 0:
        raise TrialDataError(name, None, None, None, "no trials")
    out = trials.copy()
    if "missed" in out.columns:
        out = out.drop(columns="missed")  # recomputed below from the choices

    participant = trials["participant"]
    empty = _missing_text(participant) if _is_texty(participant) else participant.isna().to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise TrialDataError(name, i + 1, "participant", _raw(participant, i), "is empty")
    ids = participant.astype(str).str.strip()
    out["participant"] = pd.Categorical(ids, categories=pd.unique(ids))

    out["trial"] = _positive_integers(trials["trial"], "trial", name)

    for column in BINARY_COLUMNS:
        out[column] = _to_binary(trials[column], column, name)
    reward, reward_missing = _to_float(trials["reward"], "reward", name)
    out["reward"] = reward
    out["common"] = _to_boolean(trials["common"], "common", name)

    for column in ("transitions_reversed", "stage2_choice"):
        if column in trials.columns:
            default = column == "stage2_choice"
            out[column] = _to_boolean(trials[column], column, name).fillna(default)
    if "state1" in trials.columns:
        out["state1"] = _to_binary(trials["state1"], "state1", name)
    if "session" in trials.columns:
        out["session"] = _positive_integers(trials["session"], "session", name)
    _type_optional_columns(out)
    _check_order(out, name)
    _check_consistency(out, trials, reward_missing, name)
    c1, s2, c2 = (out[c].isna().to_numpy() for c in BINARY_COLUMNS)
    if "stage2_choice" in out.columns:
        offered = out["stage2_choice"].to_numpy(bool)
        out["missed"] = c1 | s2 | np.where(offered, c2, reward_missing)
    else:
        out["missed"] = c1 | s2 | c2
    return out


KNOWN_COLUMNS = frozenset(
    {*REQUIRED_COLUMNS, "transitions_reversed", "stage2_choice", "state1", "session"}
)


def _type_optional_columns(out: pd.DataFrame) -> None:
    """Give text columns read from CSV their type: numbers, or true/false; else leave them.

    Empty cells and NA tokens become NaN / <NA>; nothing is dropped and a column
    with any other text stays text.
    """
    for column in out.columns:
        if column in KNOWN_COLUMNS or not _is_texty(out[column]):
            continue
        series = out[column]
        missing = _missing_text(series)
        if missing.all():
            continue
        text = series.astype(str).str.strip()
        numbers = pd.to_numeric(text.where(~missing), errors="coerce")
        if not (numbers.isna().to_numpy() & ~missing).any():
            out[column] = numbers.astype(float)
            continue
        lowered = text.str.lower()
        if lowered[~missing].isin({"true", "false"}).all():
            out[column] = pd.array(
                [pd.NA if m else v == "true" for m, v in zip(missing, lowered, strict=True)],
                dtype="boolean",
            )


def _check_order(out: pd.DataFrame, name: str) -> None:
    codes = out["participant"].cat.codes.to_numpy()
    trial = out["trial"].to_numpy()
    order = np.lexsort((np.arange(len(out)), codes))  # rows of each participant, in file order
    same = codes[order][1:] == codes[order][:-1]
    step = trial[order][1:] - trial[order][:-1]
    duplicated = same & (step == 0)
    backwards = same & (step < 0)
    for mask, problem in (
        (duplicated, "duplicates an earlier trial of the same participant"),
        (backwards, "comes after a later trial of the same participant"),
    ):
        if mask.any():
            i = int(order[1:][mask].min())
            raise TrialDataError(name, i + 1, "trial", int(trial[i]), problem)


def _check_consistency(out: pd.DataFrame, raw: pd.DataFrame, reward_missing, name: str) -> None:
    c1 = out["choice1"].to_numpy(dtype=float, na_value=np.nan)
    s2 = out["state2"].to_numpy(dtype=float, na_value=np.nan)
    c2 = out["choice2"].to_numpy(dtype=float, na_value=np.nan)
    common = out["common"].to_numpy(dtype=float, na_value=np.nan)
    if "transitions_reversed" in out.columns:  # action a commonly leads to 1 - a
        reversed_ = out["transitions_reversed"].to_numpy(dtype=bool)
        destination = np.where(reversed_, 1 - c1, c1)
    else:
        destination = c1
    offered = (
        out["stage2_choice"].to_numpy(bool)
        if "stage2_choice" in out.columns
        else np.ones(len(out), bool)
    )
    checks = [
        (np.isnan(c1) & ~np.isnan(s2), "state2", "is given but choice1 is missed"),
        (
            ~offered & ~np.isnan(c2),
            "choice2",
            "is given but stage2_choice is false (the second stage offers no choice)",
        ),
        (~np.isnan(c1) & np.isnan(s2), "state2", "is missing although choice1 was made"),
        (np.isnan(s2) & ~np.isnan(c2), "choice2", "is given but there is no second-stage state"),
        (
            offered & ~np.isnan(c2) & reward_missing,
            "reward",
            "is missing on a trial with a second-stage choice",
        ),
        (~np.isnan(s2) & np.isnan(common), "common", "is missing although a transition happened"),
        (
            ~np.isnan(s2) & ~np.isnan(common) & ((s2 == destination) != (common == 1)),
            "state2",
            "is inconsistent with choice1 and common "
            "(state s is the common destination of action s)",
        ),
    ]
    first = None
    for mask, column, problem in checks:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            if first is None or i < first[0]:
                first = (i, column, problem)
    if first is not None:
        i, column, problem = first
        raise TrialDataError(name, i + 1, column, _raw(raw[column], i), problem)


def _suffixes(path: Path) -> str:
    return "".join(path.suffixes[-2:]).lower()


def read_trials(path: str | os.PathLike, format: str | None = None) -> pd.DataFrame:
    """Read and validate trials from a file or a dataset folder.

    Parameters
    ----------
    path : str or path
        A ``.csv``/``.tsv``/``.txt`` (optionally gzipped) or ``.parquet`` file, or
        a folder for the formats that come as one file per participant.
    format : str, optional
        ``"tidy"`` (the project's schema) or the name of a reader in
        :mod:`cogarb.readers` (``"hbayesdm"``, ``"gillan2016"``, ``"kool"``,
        ``"feherdasilva2020"``, ``"castro_rodrigues2022"``). ``None`` infers it:
        the reader that recognises the file or folder, else tidy.

    Returns
    -------
    pandas.DataFrame
        Validated trials (see :func:`validate_trials`).

    Raises
    ------
    TrialDataError
        On data that break the schema, naming file, row, column and value.
    FileNotFoundError
    ValueError
        For an unknown or ambiguous format or file type.
    """
    from cogarb import readers

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if format is not None and format != "tidy":
        readers.get_reader(format)  # unknown format: fail before reading anything
    header = None if path.is_dir() else read_header(path)
    if format is None:
        format = readers.infer_format(path, header)
    if format == "tidy":
        if path.is_dir():
            raise ValueError(f"{path}: is a folder; tidy trials are one file")
        raw = read_table(path)
    else:
        raw = readers.get_reader(format).read(path)
    return validate_trials(raw, source=path)


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV/TSV/TXT (optionally gzipped) or parquet file as a DataFrame of text columns."""
    path = Path(path)
    suffix = _suffixes(path)
    if suffix.endswith(".parquet"):
        return pd.read_parquet(path)
    if ".csv" in suffix or ".tsv" in suffix or suffix.endswith(".txt"):
        separator = _separator(path)
        _check_field_counts(path, separator)
        try:
            return pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError) as err:
            problem = f"cannot be parsed: {' '.join(str(err).split())}"
            raise TrialDataError(str(path), None, None, None, problem) from None
    raise ValueError(f"{path}: unknown file type (use .csv, .csv.gz, .tsv, .txt or .parquet)")


def _open_text(path: Path):
    import gzip

    if _suffixes(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _check_field_counts(path: Path, separator: str) -> None:
    """Every data row has as many fields as the header (pandas would pad short rows).

    Rows are counted as pandas counts them: blank lines are skipped and the
    header is not a row.
    """
    import csv

    with _open_text(path) as handle:
        blank = lambda r: not r or (len(r) == 1 and not r[0].strip())  # noqa: E731
        rows = (r for r in csv.reader(handle, delimiter=separator) if not blank(r))
        header = next(rows, None)
        if header is None:
            return
        for row_number, fields in enumerate(rows, start=1):
            if len(fields) != len(header):
                raise TrialDataError(
                    str(path), row_number, None, None,
                    f"has {len(fields)} fields, the header has {len(header)}",
                )  # fmt: skip


def read_header(path: str | os.PathLike) -> list[str]:
    """The column names of a table file (without reading its rows)."""
    path = Path(path)
    if _suffixes(path).endswith(".parquet"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    try:
        return list(pd.read_csv(path, sep=_separator(path), dtype=str, nrows=0).columns)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return []


def _separator(path: Path) -> str:
    """Tab for .tsv and for .txt files whose first line has a tab, else comma."""
    suffix = _suffixes(path)
    if ".tsv" in suffix:
        return "\t"
    if suffix.endswith(".txt"):
        with _open_text(path) as handle:
            first = next((line for line in handle if line.strip()), "")
            return "\t" if "\t" in first else ","
    return ","


def write_trials(trials: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write trials to CSV or parquet (by extension) atomically.

    The data go to a temporary file in the same folder, which is then renamed, so
    an interrupted write never leaves a partial file behind.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    suffix = _suffixes(path)
    if not (suffix.endswith(".parquet") or ".csv" in suffix):
        raise ValueError(f"{path}: unknown file type (use .csv, .csv.gz or .parquet)")
    with atomic_path(path) as tmp:
        if suffix.endswith(".parquet"):
            trials.to_parquet(tmp, index=False)
        else:
            if suffix.endswith(".gz"):
                _write_gzip_csv(trials, tmp)
            else:
                trials.to_csv(tmp, index=False)
    return path


def _write_gzip_csv(trials: pd.DataFrame, path) -> None:
    """Gzipped CSV whose bytes depend on the trials only (no file name, no time stamp)."""
    import gzip
    import io

    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        with io.TextIOWrapper(gz, encoding="utf-8", newline="") as text:
            trials.to_csv(text, index=False)
