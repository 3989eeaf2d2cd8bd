"""Reflected Gaussian random walks for drifting reward probabilities."""

from numba import njit


@njit(cache=True)
def reflect(x, lower, upper):
    """Reflect ``x`` into ``[lower, upper]`` (repeatedly, for steps wider than the band)."""
    while x < lower or x > upper:
        if x > upper:
            x = 2.0 * upper - x
        else:
            x = 2.0 * lower - x
    return x


@njit(cache=True)
def reflected_walks(initial, increments, lower, upper, out):
    """Fill ``out[i, t, k]`` with reflected random walks.

    ``out[i, 0, k] = initial[i, k]`` and
    ``out[i, t + 1, k] = reflect(out[i, t, k] + increments[i, t, k])``.

    Parameters
    ----------
    initial : float64 array (n, k)
    increments : float64 array (n, n_trials - 1, k), already scaled by the drift SD
    lower, upper : float
    out : float64 array (n, n_trials, k), written in place
    """
    n, n_trials, k = out.shape
    for i in range(n):
        for j in range(k):
            x = initial[i, j]
            out[i, 0, j] = x
            for t in range(n_trials - 1):
                x = reflect(x + increments[i, t, j], lower, upper)
                out[i, t + 1, j] = x
