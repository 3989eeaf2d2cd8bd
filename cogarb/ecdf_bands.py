"""Simultaneous confidence bands for the ECDF of uniform values (Säilynoja et al. 2022).

Säilynoja, Bürkner & Vehtari (2022), "Graphical test for discrete uniformity and
its applications in goodness-of-fit evaluation and multiple sample comparison",
Statistics and Computing 32:32 (arXiv:2103.10522). For N values u_1..u_N that are
uniform on (0, 1), N·F̂(z) at a point z is Binomial(N, z). A pointwise 1 − γ band at
the evaluation points z_1 < … < z_K is::

    [Bin⁻¹(γ/2; N, z_k) / N,  Bin⁻¹(1 − γ/2; N, z_k) / N]

and the band holds the whole ECDF with probability 1 − α when γ is adjusted for
the K points at once. :func:`ecdf_band` finds γ by the paper's simulation method:
for M seeded samples of N uniforms, the smallest two-sided binomial tail
probability over the points,

    γ_m = 2 min_k min{ Bin(N F̂_m(z_k); N, z_k), 1 − Bin(N F̂_m(z_k) − 1; N, z_k) },

is the γ at which sample m would just leave the band; the adjusted γ is the
α-quantile of γ_1..γ_M. Nothing here imports more than NumPy and SciPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

DEFAULT_ALPHA = 0.05
DEFAULT_SIMULATIONS = 4000
MAX_POINTS = 100


@dataclass(frozen=True)
class EcdfBand:
    """A simultaneous 1 − α band for the ECDF of ``n`` uniform values.

    Attributes
    ----------
    n : int
        Number of values the band is for.
    alpha : float
        1 − simultaneous coverage.
    gamma : float
        The adjusted pointwise level (γ ≤ α).
    z : numpy.ndarray
        The K evaluation points in (0, 1).
    lower, upper : numpy.ndarray
        The band at ``z``, as ECDF values (fractions of ``n``).
    """

    n: int
    alpha: float
    gamma: float
    z: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def evaluation_points(n: int, n_points: int | None = None) -> np.ndarray:
    """The points z_k = k/K, k = 1..K−1, with K = min(n, 100) by default, and at
    least 2 (the ECDF at 0 and 1 is fixed, so those are left out)."""
    k = n_points if n_points is not None else max(2, min(n, MAX_POINTS))
    if not isinstance(k, int | np.integer) or k < 2:
        raise ValueError(f"n_points must be an integer ≥ 2, got {k!r}")
    return np.arange(1, k) / k


def ecdf(values: np.ndarray, z: np.ndarray) -> np.ndarray:
    """F̂(z_k): the fraction of ``values`` that are ≤ z_k."""
    values = np.sort(np.asarray(values, dtype=float).ravel())
    return np.searchsorted(values, z, side="right") / values.size


def tail_probability(counts: np.ndarray, n: int, z: np.ndarray) -> np.ndarray:
    """2 min{Bin(c; n, z), 1 − Bin(c − 1; n, z)} for counts c at each point (capped at 1)."""
    low = stats.binom.cdf(counts, n, z)
    high = stats.binom.sf(counts - 1, n, z)
    return np.minimum(1.0, 2.0 * np.minimum(low, high))


def ecdf_band(
    n: int,
    alpha: float = DEFAULT_ALPHA,
    n_points: int | None = None,
    n_simulations: int = DEFAULT_SIMULATIONS,
    seed: int = 0,
) -> EcdfBand:
    """The simultaneous 1 − ``alpha`` ECDF band for ``n`` uniform values.

    Parameters
    ----------
    n : int
        Number of values (e.g. SBC data sets).
    alpha : float
        1 − the simultaneous coverage, in (0, 1).
    n_points : int, optional
        K: the band is evaluated at k/K, k = 1..K−1 (default min(n, 100)).
    n_simulations : int
        M, the uniform samples the adjusted γ is estimated from.
    seed : int
        Seeds the M samples: the same arguments give the same band.

    Returns
    -------
    EcdfBand
    """
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not isinstance(n_simulations, int) or n_simulations < 1:
        raise ValueError(f"n_simulations must be a positive integer, got {n_simulations!r}")
    z = evaluation_points(int(n), n_points)
    rng = np.random.default_rng(seed)
    samples = np.sort(rng.random((n_simulations, n)), axis=1)
    counts = np.stack([np.searchsorted(row, z, side="right") for row in samples])
    gammas = tail_probability(counts, n, z[None, :]).min(axis=1)
    gamma = float(np.quantile(gammas, alpha, method="lower"))
    lower = stats.binom.ppf(gamma / 2.0, n, z) / n
    upper = stats.binom.ppf(1.0 - gamma / 2.0, n, z) / n
    return EcdfBand(n=int(n), alpha=float(alpha), gamma=gamma, z=z, lower=lower, upper=upper)


def inside(values: np.ndarray, band: EcdfBand) -> bool:
    """Whether the ECDF of ``values`` lies inside ``band`` at every point."""
    f = ecdf(values, band.z)
    return bool(np.all((band.lower <= f) & (f <= band.upper)))


def max_deviation(values: np.ndarray, z: np.ndarray) -> float:
    """max_k |F̂(z_k) − z_k|: how far the ECDF strays from the uniform's."""
    return float(np.max(np.abs(ecdf(values, z) - z)))
