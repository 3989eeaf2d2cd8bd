"""Reading table files: text (CSV/TSV/TXT, optionally gzipped) and parquet, with errors
that name the file.

Text files must be UTF-8 (a byte-order mark is fine); a file that is empty, not
UTF-8, a corrupt or truncated gzip or parquet file, unreadable or a folder gives
one :class:`~cogarb.schema.TrialDataError` naming it (and, for text that is not
UTF-8, the line and byte offset). Text tables are read as text columns, nothing
converted (the readers and :func:`cogarb.validate_trials` give the columns their
types); a header must name each column once, and every data row must have as
many fields as the header.

Every reader and :func:`cogarb.read_trials` read files through this module.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from cogarb.schema import TrialDataError, refuse_duplicate_columns


def compound_suffix(path: str | os.PathLike) -> str:
    """The last two suffixes of ``path``, lower-cased (``".csv.gz"``, ``".parquet"``)."""
    return "".join(Path(path).suffixes[-2:]).lower()


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
    gzipped = compound_suffix(path).endswith(".gz")
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
    return gzip.decompress(data) if compound_suffix(path).endswith(".gz") else data


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
    suffix = compound_suffix(path)
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
        refuse_duplicate_columns(pq.read_schema(handle).names, str(path))
        handle.seek(0)
        return pd.read_parquet(handle)


def _open_text(path: Path):
    """A text file (gunzipped for ``.gz``) decoded strictly as UTF-8, BOM dropped."""
    import gzip

    if compound_suffix(path).endswith(".gz"):
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
        refuse_duplicate_columns([c for c in header if c.strip()], str(path))
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
    suffix = compound_suffix(path)
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
    suffix = compound_suffix(path)
    if ".tsv" in suffix:
        return "\t"
    if suffix.endswith(".txt"):
        with _open_text(path) as handle:
            first = next((line for line in handle if line.strip()), "")
            return "\t" if "\t" in first else ","
    return ","
