"""Reading and writing tidy trial files: :func:`read_trials` and :func:`write_trials`.

:func:`read_trials` reads a file or folder (as tidy trials or through the reader of
its published format, :mod:`cogarb.readers`) and validates it against the trial
schema (:mod:`cogarb.schema`); :func:`write_trials` writes trials atomically as
CSV (optionally gzipped) or parquet.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cogarb import readers
from cogarb._atomic import atomic_path
from cogarb.readers.tables import compound_suffix, read_header, read_table, reading
from cogarb.schema import validate_trials


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


def check_output_path(path: str | os.PathLike) -> Path:
    """The path :func:`write_trials` would write, checked before any work is done.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        For a file type other than .csv, .csv.gz or .parquet, or a path that is a
        folder.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a file name (.csv, .csv.gz or .parquet)")
    if not compound_suffix(path).endswith((".parquet", ".csv", ".csv.gz")):
        raise ValueError(f"{path}: unknown file type (use .csv, .csv.gz or .parquet)")
    return path


def write_trials(trials: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write trials to CSV or parquet (by extension) atomically.

    The data go to a temporary file in the same folder, which is then renamed, so
    an interrupted write never leaves a partial file behind.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trials (any columns; the source file :func:`read_trials` recorded is not
        written).
    path : str or path
        A ``.csv``, ``.csv.gz`` (reproducible bytes: no name or time stamp in the
        gzip header) or ``.parquet`` file.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = check_output_path(path)
    suffix = compound_suffix(path)
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
