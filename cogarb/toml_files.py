"""Reading TOML files: the one reader behind task files and fit specifications.

:func:`read_toml` parses a file and turns every way that can fail (a directory, a
missing or unreadable file, bytes that are not UTF-8, invalid TOML) into one error
naming the file. Each caller words its messages for its own kind of file
(:class:`TomlMessages`), so ``cogarb.tasks`` and ``cogarb.fitspec`` share the
reading and keep their own sentences.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TomlMessages:
    """How :func:`read_toml` words its errors; every template gets ``{path}``.

    Attributes
    ----------
    directory : str
        The path is a directory (raised as the caller's error class).
    missing : str
        The file does not exist (raised as :class:`FileNotFoundError`).
    permission : str
        The file may not be read (the caller's error class).
    not_utf8 : str
        The bytes are not UTF-8 (the caller's error class); also gets ``{offset}``
        (position of the first bad byte), ``{byte}`` (its value, an int) and ``{bad}``
        (the bad byte as a one-byte ``bytes``).
    unreadable : str or None
        Any other ``OSError`` (the caller's error class), also given ``{reason}``
        (the system's reason); ``None`` lets the ``OSError`` through unchanged.
    regular_files_only : bool
        If true, anything that is neither a directory nor a regular file (a pipe,
        a broken link, a missing path) is reported as ``missing`` before reading.
    """

    directory: str
    missing: str
    permission: str
    not_utf8: str
    unreadable: str | None = None
    regular_files_only: bool = False


def read_toml(path: Path, error: type[Exception], messages: TomlMessages) -> dict:
    """Parse the TOML file ``path``; every way it can fail is one error naming the file.

    Parameters
    ----------
    path : pathlib.Path
        The file to read.
    error : type of Exception
        The caller's error class (``TaskSpecError``, ``FitSpecError``), raised with a
        one-line message for a directory, an unreadable file, non-UTF-8 bytes and
        invalid TOML (``"<path>: not valid TOML: <tomllib's reason>"``).
    messages : TomlMessages
        The caller's wording of those errors.

    Returns
    -------
    dict
        The parsed document (empty for an empty file).

    Raises
    ------
    error
        As described above.
    FileNotFoundError
        If the file does not exist, with ``messages.missing``.
    """
    if path.is_dir():
        raise error(messages.directory.format(path=path))
    if messages.regular_files_only and not path.is_file():
        raise FileNotFoundError(messages.missing.format(path=path))
    try:
        with path.open("rb") as f:
            return tomllib.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(messages.missing.format(path=path)) from None
    except PermissionError:
        raise error(messages.permission.format(path=path)) from None
    except OSError as err:
        if messages.unreadable is None:
            raise
        reason = err.strerror or err
        raise error(messages.unreadable.format(path=path, reason=reason)) from None
    except UnicodeDecodeError as err:
        offset = err.start
        raise error(
            messages.not_utf8.format(
                path=path,
                offset=offset,
                byte=err.object[offset],
                bad=err.object[offset : offset + 1],
            )
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: not valid TOML: {err}") from None
