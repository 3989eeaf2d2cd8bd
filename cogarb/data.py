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

``transitions_reversed`` (boolean, optional) marks trials on which the
transition structure is swapped (action a commonly leads to state 1 - a); the
consistency check of ``state2`` with ``choice1`` and ``common`` honours it.

Optional columns (``load``, ``stakes``, ``rt1``, ``rt2``, ``p_reward_*``, simulator
internals, participant covariates) are kept as they are. :func:`validate_trials`
adds a boolean ``missed`` column: true when the first- or second-stage choice is
missing. Missed trials are kept, never dropped; likelihoods exclude them
explicitly.
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
FORMATS = ("tidy", "hbayesdm")


class TrialDataError(ValueError):
    """Trial data that break the schema. The message names file, row, column and value.

    Attributes
    ----------
    source : str
        The file (or ``"trials"`` for an in-memory DataFrame).
    row : int or None
        1-based data row (the header is not counted; for a CSV file the line
        number is ``row + 1``).
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

    trial, trial_missing = _to_float(trials["trial"], "trial", name)
    bad = trial_missing | (trial < 1) | (trial != np.round(trial))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrialDataError(
            name, i + 1, "trial", _raw(trials["trial"], i), "is not a positive integer"
        )
    out["trial"] = trial.astype(np.int64)

    for column in BINARY_COLUMNS:
        out[column] = _to_binary(trials[column], column, name)
    reward, reward_missing = _to_float(trials["reward"], "reward", name)
    out["reward"] = reward
    out["common"] = _to_boolean(trials["common"], "common", name)

    if "transitions_reversed" in trials.columns:
        out["transitions_reversed"] = _to_boolean(
            trials["transitions_reversed"], "transitions_reversed", name
        ).fillna(False)
    _check_order(out, name)
    _check_consistency(out, trials, reward_missing, name)
    c1, s2, c2 = (out[c].isna().to_numpy() for c in BINARY_COLUMNS)
    out["missed"] = c1 | s2 | c2
    return out


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
    checks = [
        (np.isnan(c1) & ~np.isnan(s2), "state2", "is given but choice1 is missed"),
        (~np.isnan(c1) & np.isnan(s2), "state2", "is missing although choice1 was made"),
        (np.isnan(s2) & ~np.isnan(c2), "choice2", "is given but there is no second-stage state"),
        (
            ~np.isnan(c2) & reward_missing,
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
    """Read and validate a trial file.

    Parameters
    ----------
    path : str or path
        A ``.csv``/``.tsv``/``.txt`` (optionally gzipped) or ``.parquet`` file.
    format : {"tidy", "hbayesdm"}, optional
        The file's coding (see :mod:`cogarb.readers` for the hBayesDM mapping).
        ``None`` infers it from the header: hBayesDM when it has ``subjID``,
        ``level1_choice`` and ``level2_choice``, else tidy.

    Returns
    -------
    pandas.DataFrame
        Validated trials (see :func:`validate_trials`).

    Raises
    ------
    TrialDataError
        On data that break the schema, naming file, row, column and value.
    FileNotFoundError
    """
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r} (available: {', '.join(FORMATS)})")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = _suffixes(path)
    if suffix.endswith(".parquet"):
        raw = pd.read_parquet(path)
    elif ".csv" in suffix or ".tsv" in suffix or suffix.endswith(".txt"):
        try:
            raw = pd.read_csv(path, sep=_separator(path), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError) as err:
            raise TrialDataError(str(path), None, None, None, f"cannot be parsed: {err}") from None
    else:
        raise ValueError(f"{path}: unknown file type (use .csv, .csv.gz, .tsv, .txt or .parquet)")
    if format is None:
        from cogarb.readers import looks_like_hbayesdm

        format = "hbayesdm" if looks_like_hbayesdm(raw.columns) else "tidy"
    if format == "hbayesdm":
        from cogarb.readers import hbayesdm_to_tidy

        raw = hbayesdm_to_tidy(raw, source=str(path))
    return validate_trials(raw, source=path)


def _separator(path: Path) -> str:
    """Tab for .tsv and for .txt files whose first line has a tab, else comma."""
    suffix = _suffixes(path)
    if ".tsv" in suffix:
        return "\t"
    if suffix.endswith(".txt"):
        import gzip

        opener = gzip.open if suffix.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            return "\t" if "\t" in handle.readline() else ","
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
            compression = "gzip" if suffix.endswith(".gz") else None
            trials.to_csv(tmp, index=False, compression=compression)
    return path
