"""Numba kernels: pure computation on arrays and scalars.

Nothing here validates input, draws random numbers or allocates results for the
caller; the Python layer (``cogarb.simulate`` and friends) does that. Modules here
import only numpy and numba.
"""
