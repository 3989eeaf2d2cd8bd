"""Readers that map the formats of published two-step datasets onto the tidy schema.

Each reader is a module with

- ``FORMAT``: the name passed to :func:`cogarb.read_trials` (``format=...``);
- ``detect(path, header) -> bool``: whether a file (``header`` = its column
  names, or ``None`` for a folder) is in this format; cheap, used to infer the
  format;
- ``read(path) -> pandas.DataFrame``: the trials mapped onto the tidy schema but
  not yet validated (:func:`cogarb.read_trials` validates them). Readers that
  combine several files add ``source_file`` and ``source_line`` columns so that
  validation errors name the original file and line.

Every reader's module docstring states its mapping onto the schema.

Readers share two modules below them: :mod:`cogarb.readers.tables` reads a table
file (text or parquet, errors naming the file) and :mod:`cogarb.readers.columns`
parses its raw columns (errors naming the row or line, column and value). Readers
import these and :mod:`cogarb.schema`, never :mod:`cogarb.data`, which imports them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

READERS = {
    "hbayesdm": "cogarb.readers.hbayesdm",
    "gillan2016": "cogarb.readers.gillan2016",
    "kool": "cogarb.readers.kool",
    "feherdasilva2020": "cogarb.readers.feherdasilva2020",
    "castro_rodrigues2022": "cogarb.readers.castro_rodrigues2022",
}


def available_readers() -> dict[str, ModuleType]:
    """The reader modules that are installed, by format name."""
    found = {}
    for name, module in READERS.items():
        try:
            found[name] = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
    return found


def get_reader(format: str) -> ModuleType:
    """The reader module of ``format``; ``ValueError`` naming the formats if unknown."""
    readers = available_readers()
    if format not in readers:
        known = ", ".join(["tidy", *readers])
        raise ValueError(f"unknown format {format!r} (available: {known})")
    return readers[format]


def infer_format(path: Path, header: list[str] | None) -> str:
    """The one format whose reader recognises ``path``; ``"tidy"`` when none does."""
    matches = [name for name, reader in available_readers().items() if reader.detect(path, header)]
    if len(matches) > 1:
        raise ValueError(f"{path}: the format is ambiguous ({', '.join(matches)}); pass format=...")
    return matches[0] if matches else "tidy"
