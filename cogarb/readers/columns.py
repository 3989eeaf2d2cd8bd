"""The readers' column parser: raw table columns to text, numbers and codes, with
errors that name where the value came from.

A reader wraps the raw table it read (text columns as
:func:`~cogarb.readers.tables.read_table` returns them, or typed from parquet) in
:class:`Columns` and asks it for each raw column: :meth:`Columns.text`,
:meth:`Columns.numbers` or :meth:`Columns.labels`; the format's own rules (which
codes are allowed, what -1 means) are checks on the result, raised with
:meth:`Columns.refuse`. Every error is a :class:`~cogarb.schema.TrialDataError`
naming the file and data row (or the file and line a row came from), the raw
column and its raw value.

A cell is missing when it is NA or its text is one of
:data:`~cogarb.schema.MISSING_TOKENS` (empty, ``na``, ``nan``, ``<na>``, ``none``,
``null``, in any case), and a number is what :func:`pandas.to_numeric` reads from
the stripped text: the definitions :func:`cogarb.validate_trials` uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from cogarb.schema import TrialDataError, cell_value, missing_text


class Columns:
    """The raw columns of one table, and where each of its rows came from.

    Parameters
    ----------
    frame : pandas.DataFrame
        The raw table, one row per trial.
    source : str
        The file named in errors.
    rows : sequence of int, optional
        The 1-based data row of the file each row of ``frame`` is (default 1, 2,
        ...; a reader that selected rows passes the rows it kept).
    files, lines : sequence, optional
        The file and 1-based line each row came from (both or neither); errors then
        name ``"<file>, line <line>"`` instead of ``source`` and a row.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        source: str = "trials",
        rows: Sequence[int] | None = None,
        files: Sequence | None = None,
        lines: Sequence | None = None,
    ):
        if (files is None) != (lines is None):
            raise ValueError("Columns: give both files and lines, or neither")
        self.frame, self.source = frame, source
        self.rows = np.arange(1, len(frame) + 1) if rows is None else np.asarray(rows)
        self.files = None if files is None else np.asarray(files, dtype=object)
        self.lines = None if lines is None else np.asarray(lines)

    def error(self, i: int, column: str, problem: str) -> TrialDataError:
        """The error for the raw value at position ``i`` of ``column``.

        Parameters
        ----------
        i : int
            0-based position in ``frame``.
        column : str
            The raw column named in the error (its value at ``i`` is quoted).
        problem : str
            What is wrong with the value, e.g. ``"is not one of 1, 2"``.

        Returns
        -------
        TrialDataError
            Naming the file and row (or file and line), the column and the value.
        """
        value = cell_value(self.frame[column], i)
        if self.files is not None:
            where = f"{self.files[i]}, line {self.lines[i]}"
            return TrialDataError(where, None, column, value, problem)
        return TrialDataError(self.source, int(self.rows[i]), column, value, problem)

    def refuse(self, mask: np.ndarray, column: str, problem: str) -> None:
        """Raise :meth:`error` for the first row where ``mask`` is true, if any.

        Raises
        ------
        TrialDataError
        """
        if mask.any():
            raise self.error(int(np.flatnonzero(mask)[0]), column, problem)

    def text(self, column: str) -> pd.Series:
        """A column of identifiers as stripped text; a missing cell is an error.

        Returns
        -------
        pandas.Series of str

        Raises
        ------
        TrialDataError
            ``"is empty"`` for the first missing cell.
        """
        series = self.frame[column]
        text = series.astype(str).str.strip()
        self.refuse(missing_text(series), column, "is empty")
        return text

    def numbers(
        self,
        column: str,
        problem: str,
        missing_ok: bool = True,
        valid: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A column as float64 values and its missing mask.

        Parameters
        ----------
        column : str
        problem : str
            The error for a value that is not a finite number (or not ``valid``).
        missing_ok : bool
            Whether a missing cell is allowed (NaN in ``values``) or an error.
        valid : callable, optional
            ``valid(values)`` is a bool mask of the acceptable values (for example
            ``lambda v: np.isin(v, (1, 2))``); checked in the same pass, so the
            first row that is not a number or not valid is named.

        Returns
        -------
        values : numpy.ndarray of float64, NaN where missing
        missing : numpy.ndarray of bool

        Raises
        ------
        TrialDataError
            With ``problem``, for the first cell that is not missing (or is, without
            ``missing_ok``) and is not a finite (``valid``) number.
        """
        codes, distinct = self._distinct(column)
        missing = missing_text(distinct)
        text = distinct.astype(str).str.strip()
        values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(float)
        values, missing = values[codes], missing[codes]
        good = np.isfinite(values)
        if valid is not None:
            good &= valid(values)
        self.refuse((~missing | (not missing_ok)) & ~good, column, problem)
        return values, missing

    def labels(
        self, column: str, codes: Mapping[str, float], missing_ok: bool = True
    ) -> np.ndarray:
        """A column of text labels as their codes (float64, NaN where missing).

        Parameters
        ----------
        column : str
        codes : mapping of str to number
            The code of each label; labels match stripped and case-insensitively.
        missing_ok : bool
            Whether a missing cell is allowed (NaN) or an unknown label.

        Returns
        -------
        numpy.ndarray of float64

        Raises
        ------
        TrialDataError
            ``"is not one of <labels>"`` for the first unknown label.
        """
        positions, distinct = self._distinct(column)
        lower = distinct.astype(str).str.strip().str.lower()
        missing = missing_text(distinct) if missing_ok else np.zeros(len(distinct), bool)
        mapped = lower.map({str(k).lower(): v for k, v in codes.items()})
        mapped = np.where(missing, np.nan, mapped.to_numpy(float, na_value=np.nan))[positions]
        bad = ~missing[positions] & np.isnan(mapped)
        self.refuse(bad, column, f"is not one of {', '.join(map(str, codes))}")
        return mapped

    def _distinct(self, column: str) -> tuple[np.ndarray, pd.Series]:
        """The column's distinct texts and each row's position among them.

        Raw text columns repeat few values (codes, blocks, ids): each is parsed
        once. Typed columns (from parquet) are parsed value by value.
        """
        series = self.frame[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            try:
                positions, distinct = pd.factorize(series, use_na_sentinel=False)
                return positions, pd.Series(distinct)
            except TypeError:  # unhashable values (lists from a nested parquet column)
                pass
        return np.arange(len(series)), series.reset_index(drop=True)


def nullable_int8(values: np.ndarray, missing: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    """0/1 codes as a nullable Int8 array, ``<NA>`` where ``missing`` (default: none)."""
    missing = np.zeros(len(values), bool) if missing is None else missing
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int8), missing)
