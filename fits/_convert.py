"""Steps shared by the ``fits/<dataset>/convert.py`` scripts.

Each script converts one dataset from ``../shared/data`` (beside the repository) to
the tidy schema: it checks the sha256 of its source files against the documented
digests (:func:`check_sha256`, :func:`file_sha256`, :func:`folder_sha256`), reads
them with :func:`cogarb.read_trials` in its reader's format, and writes
``fits/<dataset>/trials.*`` with :func:`cogarb.write_trials` (:func:`convert`,
:func:`write_tidy`). A script imports this module with::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from _convert import ...  # noqa: E402
"""

import hashlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

import cogarb

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""``../shared/data`` beside the repository, where the raw datasets are."""

READER_ONLY = ("missed", "source_file", "source_line")
"""Reader columns not written: ``missed`` is recomputed on reading, and
``source_file``/``source_line`` only name paths and lines on the converting machine."""


def file_sha256(path: Path) -> str:
    """Hexadecimal sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def folder_sha256(folder: Path, pattern: str = "*", sep: str = "\0") -> str:
    """sha256 of a folder's listing ``name SEP sha256(content) LF``, in name order.

    Parameters
    ----------
    folder : pathlib.Path
        The folder (not searched recursively).
    pattern : str
        Glob pattern of the files listed (default all files).
    sep : str
        Separator between a file's name and its digest in the listing.
    """
    listing = "".join(
        f"{path.name}{sep}{file_sha256(path)}\n"
        for path in sorted(p for p in Path(folder).glob(pattern) if p.is_file())
    )
    return hashlib.sha256(listing.encode()).hexdigest()


def check_sha256(path: Path, expected: str, digest: str | None = None) -> None:
    """Stop with a clear message unless ``path`` has the documented sha256.

    Parameters
    ----------
    path : pathlib.Path
        The source file, or a folder when ``digest`` is given.
    expected : str
        The documented hexadecimal digest.
    digest : str, optional
        The digest already computed (e.g. :func:`folder_sha256`); by default
        :func:`file_sha256` of ``path``.

    Raises
    ------
    SystemExit
        When the digest differs: the source is not the documented one.
    """
    if digest is None:
        digest = file_sha256(path)
    if digest != expected:
        raise SystemExit(f"{path}: sha256 {digest} is not the documented {expected}")


def write_tidy(
    trials: pd.DataFrame, out: Path, drop: Sequence[str] = READER_ONLY
) -> tuple[pd.DataFrame, Path]:
    """Drop the reader-only columns present (default :data:`READER_ONLY`), write the trials.

    Returns
    -------
    tuple of pandas.DataFrame and pathlib.Path
        The trials as written and the path written.
    """
    trials = trials.drop(columns=[c for c in drop if c in trials.columns])
    return trials, cogarb.write_trials(trials, out)


def keep_flagged(trials: pd.DataFrame, column: str) -> pd.DataFrame:
    """Keep the rows whose boolean ``column`` is true, then drop that column.

    Unused participant categories are removed, so that the participants written
    are only those kept.
    """
    kept = trials[trials[column].to_numpy()].drop(columns=column).reset_index(drop=True)
    if isinstance(kept["participant"].dtype, pd.CategoricalDtype):
        kept["participant"] = kept["participant"].cat.remove_unused_categories()
    return kept


def pseudonymise(trials: pd.DataFrame, pattern: str = r"A[0-9A-Z]{11,14}") -> pd.DataFrame:
    """Replace participant ids matching ``pattern`` by ``anonymous_1``, ``anonymous_2``, ...

    The default pattern matches Amazon Mechanical Turk worker ids, which can identify
    a person; pseudonyms are numbered in order of first appearance. The participant
    column becomes str.
    """
    participant = trials["participant"].astype(str)
    matching = participant[participant.str.fullmatch(pattern)].unique()
    pseudonyms = {p: f"anonymous_{i + 1}" for i, p in enumerate(matching)}
    return trials.assign(participant=participant.replace(pseudonyms))


def convert(
    source: Path,
    format: str,
    out: Path,
    transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    keep: str | None = None,
    expect: tuple[int, int] | None = None,
    drop: Sequence[str] = READER_ONLY,
) -> pd.DataFrame:
    """Read ``source`` in ``format``, transform, write to ``out`` and print a summary.

    Parameters
    ----------
    source : pathlib.Path
        File or folder read by :func:`cogarb.read_trials`.
    format : str
        The reader's format name.
    out : pathlib.Path
        Output file (``.csv.gz`` or ``.parquet``).
    transform : callable, optional
        Dataset-specific step applied to the trials read (e.g. pseudonymisation).
    keep : str, optional
        A boolean column of the reader: only its true rows are written
        (:func:`keep_flagged`), and the column is dropped.
    expect : tuple of int, optional
        Expected (participants, trials) written; stops with a message otherwise.
    drop : sequence of str
        Reader columns not written (those absent are ignored); see :func:`write_tidy`.

    Returns
    -------
    pandas.DataFrame
        The trials written.
    """
    trials = cogarb.read_trials(source, format=format)
    n_read = trials["participant"].nunique()
    if transform is not None:
        trials = transform(trials)
    if keep is not None:
        trials = keep_flagged(trials, keep)
    n_participants = trials["participant"].nunique()
    if expect is not None and (n_participants, len(trials)) != expect:
        raise SystemExit(
            f"{source}: {n_participants} participants, {len(trials)} trials, "
            f"not the expected {expect[0]} participants, {expect[1]} trials"
        )
    trials, out = write_tidy(trials, out, drop)
    kept = f" of {n_read}" if n_participants != n_read else ""
    print(
        f"{source} -> {out}: {n_participants}{kept} participants, {len(trials)} trials, "
        f"{out.stat().st_size / 1e6:.1f} MB"
    )
    return trials


def source_arg(default: Path) -> Path:
    """The source path given as the script's first argument, else ``default``."""
    return Path(sys.argv[1]) if len(sys.argv) > 1 else default
