"""The trial schema: the columns of tidy trials, :class:`TrialDataError` and validation.

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
or second-stage choice is missing (on trials without a second-stage choice: the
first-stage choice, the second-stage state or the reward). Missed trials are
kept, never dropped; stay analyses leave out their pairs. The likelihoods tell
two kinds apart (``paper/models.md``, "Missed trials"): a *fully missed* trial
(``choice1`` missing, and so ``state2``) has no likelihood term and changes
nothing; a *half-missed* one (``missed`` with ``choice1`` and ``state2`` given:
the second-stage choice, or the reward, missing) keeps log P(choice1) and the
agent learns the transition it saw (:attr:`cogarb.arrays.TrialArrays.stage2_missed`).

This module is the ground floor of the package: it imports only numpy and pandas.
Reading files is :mod:`cogarb.readers.tables`; :func:`cogarb.read_trials` reads
and validates.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("participant", "trial", "choice1", "state2", "choice2", "reward", "common")
BINARY_COLUMNS = ("choice1", "state2", "choice2")
#: P(reward | second-stage state s, action a), as ``p_reward_<s><a>``.
REWARD_PROB_COLUMNS = ("p_reward_00", "p_reward_01", "p_reward_10", "p_reward_11")
#: The payoff of each second-stage state (tasks without a second-stage choice).
PAYOFF_COLUMNS = ("reward_state0", "reward_state1")
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


def missing_text(series: pd.Series) -> np.ndarray:
    """Where a column is missing: NA, or text that is one of ``MISSING_TOKENS``.

    Parameters
    ----------
    series : pandas.Series
        Text as read, or typed values (compared as their text).

    Returns
    -------
    numpy.ndarray of bool
        True for NA values and for cells whose stripped, lower-cased text is an NA
        spelling (empty, ``na``, ``nan``, ``<na>``, ``none``, ``null``).
    """
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
        missing = missing_text(series)
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
NUMBER_COLUMNS = ("rt1", "rt2", *PAYOFF_COLUMNS)


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
    **{c: _to_probability for c in REWARD_PROB_COLUMNS},
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


def refuse_duplicate_columns(columns, name: str) -> None:
    """Each column name once (pandas would rename a second ``reward`` to ``reward.1``).

    Parameters
    ----------
    columns : iterable
        Column names, as written (a file's header) or of a DataFrame.
    name : str
        The file (or ``"trials"``) named in the error.

    Raises
    ------
    TrialDataError
        Naming the first repeated column and how often it appears, with a hint
        when the names are numbers (a file without its header line).
    """
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
    refuse_duplicate_columns(trials.columns, name)
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
    empty = missing_text(participant) if _is_texty(participant) else participant.isna().to_numpy()
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
        missing = missing_text(series)
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
