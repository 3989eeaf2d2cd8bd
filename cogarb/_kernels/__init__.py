"""Numba kernels: pure computation on arrays and scalars.

Nothing here validates input, draws random numbers or allocates results for the
caller; the Python layer (``cogarb.simulate`` and friends) does that. Modules here
import only numpy and numba (and the standard library). Their compiled code is
cached in a folder keyed by a hash of all their sources (:mod:`.cache`), so an
edited callee in one file always recompiles its callers in another.
"""

from cogarb._kernels import cache

cache.install()
