"""A numba cache that cannot go stale: one cache folder per version of the kernel sources.

Numba's ``cache=True`` keys a compiled kernel on its own file's modification time
and size. A kernel that calls a function defined in another file (the arbitrator
calls the hybrid's ``td_update``; every likelihood calls the per-trial equations)
is *not* recompiled when only that callee changes, so an upgrade or an edit could
silently run the old code (a documented numba limitation).

Here every kernel of :mod:`cogarb._kernels` is cached in a folder named after
:data:`SOURCE_HASH`, a hash of the bytes of all of this package's ``.py`` files
and of the numba version, and the cache index is stamped with the same hash.
Change any kernel file (or numba) and every kernel compiles afresh into a new
folder; the old folder is never read again. The folder sits where numba would
put it: below ``NUMBA_CACHE_DIR`` when that is set, else the package's
``__pycache__`` when writable, else the user-wide cache. Functions outside this
package are cached by numba's own rules.

Importing :mod:`cogarb._kernels` installs the locators (before any kernel is
defined, so every kernel uses them).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
from numba.core import caching

KERNELS_DIR = Path(__file__).resolve().parent


def kernel_source_hash() -> str:
    """Hash of every kernel source file's name and bytes, and of the numba version."""
    digest = hashlib.sha256(f"numba {numba.__version__}".encode())
    for path in sorted(KERNELS_DIR.glob("*.py")):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


SOURCE_HASH = kernel_source_hash()
FOLDER = f"kernels-{SOURCE_HASH}"


class _KeyedBySources:
    """Mixin: only this package's kernels; their folder and stamp are the source hash."""

    def get_source_stamp(self):
        return SOURCE_HASH

    def get_cache_path(self):
        return os.path.join(super().get_cache_path(), FOLDER)

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve().parent != KERNELS_DIR:
            return None
        return super().from_function(py_func, py_file)


class UserProvidedKernelCache(_KeyedBySources, caching.UserProvidedCacheLocator):
    """Below ``NUMBA_CACHE_DIR``, when set."""


class InTreeKernelCache(_KeyedBySources, caching.InTreeCacheLocator):
    """In the package's ``__pycache__``, when writable."""


class UserWideKernelCache(_KeyedBySources, caching.UserWideCacheLocator):
    """In the user-wide cache folder (a read-only install)."""


LOCATORS = (UserProvidedKernelCache, InTreeKernelCache, UserWideKernelCache)


def install() -> None:
    """Put the kernel locators first in numba's list (once)."""
    classes = caching.CacheImpl._locator_classes
    if classes[: len(LOCATORS)] != list(LOCATORS):
        classes[:0] = LOCATORS
