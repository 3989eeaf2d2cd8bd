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

================  =====================  ===========================================
column            type                   accepted values
================  =====================  ===========================================
load              Int8 0/1, no missing   0/1 (also 0.0/1.0, true/false) or the
                                         labels single/dual (case-insensitive:
                                         single → 0, dual → 1); 1 switches the
                                         kernels' ``w_load`` on
stakes            number, no missing     at most two levels: numbers as given
                                         (Kool et al. 2017: 1/5; the lower is
                                         the reference level) or the labels
                                         low/high (→ 0/1)
p_reward_<s><a>   float, NaN if empty    P(reward | state s, action a) in [0, 1]
rt1, rt2          number, NaN if empty   response times (s); finite
reward_state0,    number, NaN if empty   payoff of each second-stage state (tasks
reward_state1                            without a second-stage choice); finite
================  =====================  ===========================================

A file where every trial has the same ``load`` is valid; fitting ``hybrid_load``
(or a condition effect on any column) needs both levels. A condition column
(``conditions={"w": column}``) must have exactly two levels and no missing value;
the first level in sort order is the reference.

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

Other optional columns (simulator internals, participant covariates) are kept as
they are; text columns that are all numbers become float (but integers beyond
±2**53, which a float would round, stay text). Numbers never silently change:
integers beyond ±2**53 and date/time columns are errors in every column above.
Column names must be distinct (in a file's header too).
:func:`validate_trials` adds a boolean ``missed`` column: true when the first-
or second-stage choice is missing. Missed trials are kept, never dropped;
likelihoods exclude them explicitly.

Files: text files must be UTF-8 (a byte-order mark is fine); a file that is
empty, not UTF-8, a corrupt or truncated gzip or parquet file, unreadable or a
folder gives one :class:`TrialDataError` naming it (and, for text that is not
UTF-8, the line and byte offset).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
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


def cell_value(series: pd.Series, i: int):
    """The value at position ``i`` as a plain Python object (for error messages)."""
    value = series.iloc[i]
    return value.item() if isinstance(value, np.generic) else value


def _is_texty(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _missing_text(series: pd.Series) -> np.ndarray:
    return (
        series.isna().to_numpy()
        | series.astype(str).str.strip().str.lower().isin(MISSING_TOKENS).to_numpy()
    )


MAX_INTEGER = 2**53  # larger integers are not all exact as floats (and overflow int64 beyond 2**63)
BEYOND_EXACT = f"is an integer beyond ±2**53 = {MAX_INTEGER}, which a float cannot hold exactly"
_INTEGER_TEXT = r"[+-]?\d+"


def _is_datetime(series: pd.Series) -> bool:
    dtype = series.dtype
    return (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
    )


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _refuse_datetime(series: pd.Series, column: str, source: str) -> None:
    """A date/time column is no number (its float values would be nanoseconds)."""
    if _is_datetime(series):
        present = ~series.isna().to_numpy()
        i = _first(present) if present.any() else 0
        value = series.iloc[i]
        problem = f"is a date/time (dtype {series.dtype}), not a number"
        raise TrialDataError(source, i + 1, column, str(value), problem)


def _inexact_integers(series: pd.Series) -> np.ndarray:
    """Where a typed integer column holds a value beyond ±2**53 (rounded as a float)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_integer_dtype(dtype):
        return np.zeros(len(series), bool)
    numpy_dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype))
    if numpy_dtype.itemsize < 8:
        return np.zeros(len(series), bool)
    values = series.to_numpy(numpy_dtype, na_value=0)
    if numpy_dtype.kind == "u":
        return values > MAX_INTEGER
    return (values > MAX_INTEGER) | (values < -MAX_INTEGER)


def _inexact_integer_text(text: pd.Series, values: np.ndarray) -> np.ndarray:
    """Where a text column holds an integer literal beyond ±2**53 (rounded as a float)."""
    bad = np.zeros(len(text), bool)
    candidates = np.flatnonzero(np.abs(np.nan_to_num(values)) >= MAX_INTEGER)
    for i in candidates:
        t = text.iloc[i]
        if re.fullmatch(_INTEGER_TEXT, t) and abs(int(t)) > MAX_INTEGER:
            bad[i] = True
    return bad


def _to_float(
    series: pd.Series,
    column: str,
    source: str,
    problem: str = "is not a finite number",
    inexact: str = BEYOND_EXACT,
) -> tuple[np.ndarray, np.ndarray]:
    """Numeric values and missing mask of a column; raise ``problem`` on non-numeric entries.

    Dates and times, and integers a float does not hold exactly (beyond ±2**53,
    typed or written out), raise rather than being converted.
    """
    _refuse_datetime(series, column, source)
    if pd.api.types.is_bool_dtype(series.dtype):
        missing = series.isna().to_numpy()
        return series.astype("Float64").to_numpy(float, na_value=np.nan), missing
    if _is_texty(series):
        missing = _missing_text(series)
        text = series.astype(str).str.strip()
        values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(float)
        rounded = _inexact_integer_text(text, values)
    else:
        rounded = _inexact_integers(series)
        values = pd.to_numeric(series, errors="coerce").to_numpy(float, na_value=np.nan)
        missing = series.isna().to_numpy()
    bad = ~missing & ~np.isfinite(values)
    if bad.any() or rounded.any():
        i = min(_first(m) for m in (bad, rounded) if m.any())
        raise TrialDataError(
            source, i + 1, column, cell_value(series, i), problem if bad[i] else inexact
        )
    return values, missing


def file_row(trials: pd.DataFrame, i: int) -> int:
    """The 1-based row of the file that position ``i`` came from: read_trials numbers its
    rows 0, 1, ... and selecting trials (``include``) keeps those labels."""
    label = trials.index[i]
    return int(label) + 1 if isinstance(label, int | np.integer) else i + 1


def to_numbers(
    series: pd.Series, column: str, source: str = "trials"
) -> tuple[np.ndarray, np.ndarray]:
    """A column as float64 values and its missing mask, refusing what would be recoded.

    Parameters
    ----------
    series : pandas.Series
        Text (as read from a CSV file) or typed values.
    column, source : str
        Column and file named in errors.

    Returns
    -------
    values : numpy.ndarray of float64, NaN where missing
    missing : numpy.ndarray of bool
        Empty cells and the NA spellings of ``MISSING_TOKENS``.

    Raises
    ------
    TrialDataError
        For text that is not a finite number, a date/time column, or an integer
        beyond ±2**53 (which a float would round), naming row, column and value.
    """
    return _to_float(series, column, source)


def _positive_integers(series: pd.Series, column: str, source: str) -> np.ndarray:
    problem = f"is not a positive integer (up to {MAX_INTEGER})"
    values, missing = _to_float(series, column, source, problem, inexact=problem)
    bad = missing | (values < 1) | (values > MAX_INTEGER) | (values != np.round(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrialDataError(source, i + 1, column, cell_value(series, i), problem)
    return values.astype(np.int64)


def _to_binary(series: pd.Series, column: str, source: str) -> pd.arrays.IntegerArray:
    problem = "is not 0, 1 or empty (missed)"
    values, missing = _to_float(series, column, source, problem)
    bad = ~missing & (values != 0) & (values != 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrialDataError(source, i + 1, column, cell_value(series, i), problem)
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
            source, i + 1, column, cell_value(series, i), "is not true/false, 1/0 or empty"
        )
    return pd.arrays.BooleanArray(true & ~missing, missing)


LOAD_LABELS = {"single": 0, "dual": 1}  # the load condition's documented text labels
STAKES_LABELS = {"low": 0, "high": 1}
PROBABILITY_COLUMNS = ("p_reward_00", "p_reward_01", "p_reward_10", "p_reward_11")
NUMBER_COLUMNS = ("rt1", "rt2", "reward_state0", "reward_state1")


def _refuse_missing(missing: np.ndarray, series: pd.Series, column: str, source: str, what: str):
    if missing.any():
        i = _first(missing)
        problem = f"is missing: {what} needs a value on every trial"
        raise TrialDataError(source, i + 1, column, cell_value(series, i), problem)


def _to_load(series: pd.Series, column: str, source: str) -> pd.arrays.IntegerArray:
    """The load condition as Int8 0/1 (0/1, true/false or single/dual); no missing value."""
    problem = "is not a load level (0/1, true/false, or single/dual)"
    _refuse_datetime(series, column, source)
    text = series.astype(str).str.strip().str.lower()
    missing = series.isna().to_numpy() | text.isin(MISSING_TOKENS).to_numpy()
    _refuse_missing(missing, series, column, source, "the load condition (0/1 or single/dual)")
    labels = {**LOAD_LABELS, "true": 1, "false": 0}
    codes = text.map(labels)
    unlabelled = codes.isna().to_numpy()
    if unlabelled.any():  # numbers written otherwise (1.00, 1e0) or typed
        numbers = pd.to_numeric(text.where(unlabelled), errors="coerce")
        codes = codes.fillna(numbers)
    values = codes.to_numpy(float, na_value=np.nan)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        i = _first(bad)
        raise TrialDataError(source, i + 1, column, cell_value(series, i), problem)
    return pd.arrays.IntegerArray(values.astype(np.int8), np.zeros(len(values), bool))


def _to_stakes(series: pd.Series, column: str, source: str):
    """Stakes: numbers as given (at most two levels) or low/high as 0/1; no missing value."""
    text = series.astype(str).str.strip().str.lower()
    missing = series.isna().to_numpy() | text.isin(MISSING_TOKENS).to_numpy()
    _refuse_missing(missing, series, column, source, "the stakes condition")
    labelled = text.isin(STAKES_LABELS).to_numpy()
    if labelled.all():
        values = text.map(STAKES_LABELS).to_numpy(np.int64)
    elif labelled.any():
        i = _first(labelled)
        raise TrialDataError(
            source, i + 1, column, cell_value(series, i),
            "is a label, but other rows give numbers: stakes are numbers (e.g. 1/5) "
            "or the labels low/high throughout",
        )  # fmt: skip
    else:
        problem = "is not a stakes level (a number, or low/high)"
        numbers, _ = _to_float(series, column, source, problem)
        typed = pd.api.types.is_numeric_dtype(series.dtype)
        values = series.to_numpy() if typed and not pd.api.types.is_bool_dtype(series) else numbers
    _at_most_two_levels(values, series, column, source)
    return values


def _at_most_two_levels(values: np.ndarray, series: pd.Series, column: str, source: str) -> None:
    levels = pd.unique(values)
    if len(levels) > 2:
        i = _first(~np.isin(values, levels[:2]))
        raise TrialDataError(
            source, i + 1, column, cell_value(series, i),
            f"is a third level (the rows before have {_raw_level(levels[0])} and "
            f"{_raw_level(levels[1])}): a condition has two levels",
        )  # fmt: skip


def _raw_level(value):
    return value.item() if isinstance(value, np.generic) else value


def _to_probability(series: pd.Series, column: str, source: str) -> np.ndarray:
    problem = "is not a probability in [0, 1] or empty"
    values, missing = _to_float(series, column, source, problem)
    bad = ~missing & ((values < 0) | (values > 1))
    if bad.any():
        i = _first(bad)
        raise TrialDataError(source, i + 1, column, cell_value(series, i), problem)
    return values


def _to_number(series: pd.Series, column: str, source: str):
    """A numeric optional column: typed numbers kept, text as float; empty allowed."""
    values, _ = _to_float(series, column, source, "is not a finite number or empty")
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series):
        return series
    return values


OPTIONAL_CONVERTERS = {
    "load": _to_load,
    "stakes": _to_stakes,
    **{c: _to_probability for c in PROBABILITY_COLUMNS},
    **{c: _to_number for c in NUMBER_COLUMNS},
}


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
    name = str(source) if source is not None else trials.attrs.get("source", "trials")
    try:
        out = _validate(trials, name)
        out.attrs["source"] = name  # later errors (fitting options) name the file too
        return out
    except TrialDataError as err:
        if err.row is None or not {"source_file", "source_line"} <= set(trials.columns):
            raise
        i = err.row - 1
        file, line = trials["source_file"].iloc[i], trials["source_line"].iloc[i]
        problem = str(err).split(": ", 1)[1]
        raise TrialDataError(f"{file}, line {line}", None, err.column, None, problem) from None


def _refuse_duplicate_columns(columns, name: str) -> None:
    """Each column name once (pandas would rename a second ``reward`` to ``reward.1``)."""
    names = pd.Index(columns)
    duplicated = names.duplicated()
    if duplicated.any():
        column = names[duplicated][0]
        numbers = pd.to_numeric(pd.Series(names.astype(str)), errors="coerce").notna().any()
        hint = (
            "; the header has numbers for names: is the header line missing? The first "
            "line must name the columns"
            if numbers
            else ": each column needs its own name (rename or remove the copies)"
        )
        raise TrialDataError(
            name, None, str(column), None,
            f"appears {int((names == column).sum())} times in the header{hint}",
        )  # fmt: skip


def _validate(trials: pd.DataFrame, name: str) -> pd.DataFrame:
    _refuse_duplicate_columns(trials.columns, name)
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
        raise TrialDataError(name, i + 1, "participant", cell_value(participant, i), "is empty")
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
    for column, convert in OPTIONAL_CONVERTERS.items():
        if column in trials.columns:
            out[column] = convert(trials[column], column, name)
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
    {*REQUIRED_COLUMNS, "transitions_reversed", "stage2_choice", "state1", "session",
     *OPTIONAL_CONVERTERS}
)  # fmt: skip


def _type_optional_columns(out: pd.DataFrame) -> None:
    """Give text columns read from CSV their type: numbers, or true/false; else leave them.

    Empty cells and NA tokens become NaN / <NA>; nothing is dropped and a column
    with any other text stays text, as does one holding an integer beyond ±2**53
    (an id a float would round).
    """
    for column in out.columns:
        if column in KNOWN_COLUMNS or not _is_texty(out[column]):
            continue
        series = out[column]
        missing = _missing_text(series)
        if missing.all():
            continue
        text = series.astype(str).str.strip()
        numbers = pd.to_numeric(text.where(~missing), errors="coerce").astype(float)
        if not (numbers.isna().to_numpy() & ~missing).any():
            if not _inexact_integer_text(text, numbers.to_numpy()).any():
                out[column] = numbers
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
        raise TrialDataError(name, i + 1, column, cell_value(raw[column], i), problem)


def _suffixes(path: Path) -> str:
    return "".join(path.suffixes[-2:]).lower()


def read_trials(path: str | os.PathLike, format: str | None = None) -> pd.DataFrame:
    """Read and validate trials from a file or a dataset folder.

    Parameters
    ----------
    path : str or path
        A ``.csv``/``.tsv``/``.txt`` (optionally gzipped) or ``.parquet`` file, or
        a folder for the formats that come as one file per participant. Text files
        must be UTF-8 (a byte-order mark is allowed).
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
        On data that break the schema, naming file, row, column and value; and on
        a file that cannot be read (permission denied, empty, not UTF-8 text,
        corrupt or truncated gzip or parquet, a folder where a file is expected),
        naming the file.
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
    with reading(path):
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


@contextmanager
def reading(path: str | os.PathLike) -> Iterator[None]:
    """Turn the errors of reading ``path`` into one error that names the file.

    Wrap the code that opens, decompresses, decodes or parses a file (or lists a
    folder) in ``with reading(path):``. Errors that carry a file name (permission
    denied on a file inside a folder) name that file.

    Raises
    ------
    TrialDataError
        For permission denied, a folder where a file is expected (or the other way
        round), a corrupt or truncated gzip or parquet file, text that is not
        UTF-8 (naming the line and byte offset), an empty file or one that cannot
        be parsed.
    FileNotFoundError
        For a missing file, naming it.
    """
    try:
        yield
    except TrialDataError:
        raise
    except Exception as err:  # mapped below, or re-raised as it is
        mapped = _file_error(Path(path), err)
        if mapped is None:
            raise
        raise mapped from None


def _file_error(path: Path, err: Exception) -> Exception | None:
    """The one-line error for an exception raised while reading ``path`` (None: not ours)."""
    import csv
    import gzip
    import zlib

    filename = getattr(err, "filename", None) if isinstance(err, OSError) else None
    name = str(filename) if filename else str(path)

    def fail(problem: str) -> TrialDataError:
        return TrialDataError(name, None, None, None, problem)

    if isinstance(err, gzip.BadGzipFile | EOFError | zlib.error):
        return fail(f"is not a readable gzip file (corrupt or truncated: {_one_line(err)})")
    if isinstance(err, OSError) and err.errno is None:
        return None  # raised by our code with its own message (not by the system)
    if isinstance(err, FileNotFoundError):
        return FileNotFoundError(f"{name}: no such file or folder")
    if isinstance(err, PermissionError):
        return fail("cannot be read: permission denied")
    if isinstance(err, IsADirectoryError):
        return fail("is a folder, not a file")
    if isinstance(err, NotADirectoryError):
        return fail("is not a folder (a file is in the way)")
    if isinstance(err, UnicodeDecodeError):
        return _not_utf8(path)
    if isinstance(err, pd.errors.EmptyDataError):
        return fail("is empty (no header line)")
    if isinstance(err, pd.errors.ParserError | csv.Error):
        # pandas counts "row 0" from the header line: say which line of the file it is
        message = re.sub(r"\brow (\d+)", lambda m: f"line {int(m[1]) + 1}", _one_line(err))
        return fail(f"cannot be parsed: {message}")
    if _is_arrow_error(err):
        return fail(f"is not a readable parquet file (corrupt, truncated or not parquet: "
                    f"{_one_line(err)})")  # fmt: skip
    if isinstance(err, OSError):
        return fail(f"cannot be read: {err.strerror or _one_line(err)}")
    return None


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def _is_arrow_error(err: Exception) -> bool:
    import sys

    pyarrow = sys.modules.get("pyarrow")
    return pyarrow is not None and isinstance(err, pyarrow.ArrowException)


def _not_utf8(path: Path) -> TrialDataError:
    """Where a file stops being UTF-8: line and byte offset of the first bad byte."""
    gzipped = _suffixes(path).endswith(".gz")
    try:
        data = _uncompressed_bytes(path) if path.is_file() else b""
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        where = " of the uncompressed text" if gzipped else ""
        return TrialDataError(
            f"{path}, line {line}", None, None, None,
            f"is not UTF-8 text: byte 0x{data[err.start]:02x} at byte offset {err.start}"
            f"{where}; re-save the file as UTF-8",
        )  # fmt: skip
    except (OSError, EOFError):
        pass
    return TrialDataError(str(path), None, None, None, "is not UTF-8 text; re-save it as UTF-8")


def _uncompressed_bytes(path: Path) -> bytes:
    import gzip

    data = path.read_bytes()
    return gzip.decompress(data) if _suffixes(path).endswith(".gz") else data


def read_text(path: str | os.PathLike) -> str:
    """A UTF-8 text file's content (gunzipped for ``.gz``; a byte-order mark dropped).

    Lines keep their line endings (no newline translation).

    Raises
    ------
    TrialDataError
        For text that is not UTF-8 (naming line and byte offset), permission
        denied, a folder, or a corrupt or truncated gzip file.
    FileNotFoundError
    """
    path = Path(path)
    with reading(path), _open_text(path) as handle:
        return handle.read()


def _check_is_file(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise TrialDataError(str(path), None, None, None, "is a folder, not a file")
    if path.stat().st_size == 0:
        raise TrialDataError(str(path), None, None, None, "is empty (0 bytes)")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV/TSV/TXT (optionally gzipped) or parquet file as a DataFrame of text columns.

    Parquet files keep their column types.

    Raises
    ------
    TrialDataError
        For a file that cannot be read (see :func:`reading`), is empty, has two
        columns of the same name, or a row whose field count differs from the
        header's.
    FileNotFoundError
    ValueError
        For an unknown file type.
    """
    path = Path(path)
    suffix = _suffixes(path)
    with reading(path):
        _check_is_file(path)
        if suffix.endswith(".parquet"):
            return _read_parquet(path)
        if _is_text_table(suffix):
            separator = _separator(path)
            _check_field_counts(path, separator)
            return pd.read_csv(
                path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8",
                compression="gzip" if suffix.endswith(".gz") else None,
            )  # fmt: skip  # pandas drops a byte-order mark; never guess a compression
    raise ValueError(f"{path}: unknown file type (use .csv, .csv.gz, .tsv, .txt or .parquet)")


@contextmanager
def _parquet(path: Path) -> Iterator[None]:
    """pyarrow reports a corrupt file as a plain OSError without errno (e.g. "Couldn't
    deserialize thrift"): name the file and say it is not readable parquet."""
    try:
        yield
    except OSError as err:
        if err.errno is not None:
            raise  # the system's: permission, missing file, ... (see reading)
        raise TrialDataError(
            str(path), None, None, None,
            f"is not a readable parquet file (corrupt, truncated or not parquet: "
            f"{_one_line(err)})",
        ) from None  # fmt: skip


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    with open(path, "rb") as handle, _parquet(path):
        _refuse_duplicate_columns(pq.read_schema(handle).names, str(path))
        handle.seek(0)
        return pd.read_parquet(handle)


def _open_text(path: Path):
    """A text file (gunzipped for ``.gz``) decoded strictly as UTF-8, BOM dropped."""
    import gzip

    if _suffixes(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def _check_field_counts(path: Path, separator: str) -> None:
    """A header without repeated names, and every data row as many fields as the header.

    pandas would rename a second ``reward`` to ``reward.1`` and pad short rows.
    Rows are counted as pandas counts them: blank lines are skipped and the
    header is not a row. Unnamed (empty) header fields may repeat: pandas
    numbers them.
    """
    import csv

    with _open_text(path) as handle:
        rows = (r for r in csv.reader(handle, delimiter=separator) if not _blank(r))
        header = next(rows, None)
        if header is None:
            raise TrialDataError(str(path), None, None, None, "is empty (no header line)")
        _refuse_duplicate_columns([c for c in header if c.strip()], str(path))
        for row_number, fields in enumerate(rows, start=1):
            if len(fields) != len(header):
                raise TrialDataError(
                    str(path), row_number, None, None,
                    f"has {len(fields)} fields, the header has {len(header)}",
                )  # fmt: skip


TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def _is_text_table(suffix: str) -> bool:
    """Whether the (last two) suffixes name a text table: .csv, .tsv or .txt, gzipped or not.

    Other compressions (``.csv.zip``, ``.csv.bz2``) are refused as unknown file types
    rather than left for pandas to guess from the name.
    """
    return suffix.endswith(TABLE_SUFFIXES) or suffix.endswith(
        tuple(s + ".gz" for s in TABLE_SUFFIXES)
    )


def read_header(path: str | os.PathLike) -> list[str]:
    """The column names of a table file (without reading its rows), as written.

    For a file of another type (no ``.csv``/``.tsv``/``.txt``/``.parquet``
    suffix) that is blank or not UTF-8 text, ``[]``: it has no header to
    recognise a format by.

    Raises
    ------
    TrialDataError
        For a table file that cannot be read (see :func:`reading`) or has no
        header line, and for an empty (0-byte) file.
    """
    import csv

    path = Path(path)
    suffix = _suffixes(path)
    with reading(path):
        _check_is_file(path)
        if suffix.endswith(".parquet"):
            import pyarrow.parquet as pq

            with open(path, "rb") as handle, _parquet(path):
                return list(pq.read_schema(handle).names)
        table = _is_text_table(suffix)
        try:
            with _open_text(path) as handle:
                rows = csv.reader(handle, delimiter=_separator(path))
                header = next((r for r in rows if not _blank(r)), None)
        except (UnicodeDecodeError, csv.Error):
            if table:
                raise
            return []
        if header is None and table:
            raise TrialDataError(str(path), None, None, None, "is empty (no header line)")
        return header or []


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


def check_output_path(path: str | os.PathLike) -> Path:
    """The path :func:`write_trials` would write, checked before any work is done.

    Raises
    ------
    ValueError
        For a file type other than .csv, .csv.gz or .parquet, or a path that is a
        folder.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a file name (.csv, .csv.gz or .parquet)")
    if not _suffixes(path).endswith((".parquet", ".csv", ".csv.gz")):
        raise ValueError(f"{path}: unknown file type (use .csv, .csv.gz or .parquet)")
    return path


def write_trials(trials: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write trials to CSV or parquet (by extension) atomically.

    The data go to a temporary file in the same folder, which is then renamed, so
    an interrupted write never leaves a partial file behind.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = check_output_path(path)
    suffix = _suffixes(path)
    trials = trials.copy(deep=False)
    trials.attrs = {}  # parquet would keep the source file read_trials recorded
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
