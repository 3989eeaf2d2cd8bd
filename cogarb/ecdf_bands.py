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

is the γ at which sample m leaves the band. Because the counts are discrete, many
γ_m tie and a sample's status changes at γ_m with a strictness that depends on
which tail it leaves by, so the paper's α-quantile of γ_1..γ_M can give a band
that the simulated samples leave more often than α at small N. Here γ is instead
the largest value among the γ_m (and the values just below them, where the
outside-rate can step) whose band the M samples leave at most α·M times, judged
by :func:`inside`'s own rule: the band's coverage is then at least 1 − α up to
the Monte Carlo error of M samples, and more than 1 − α where discreteness gives
no γ with exactly α. Nothing here imports more than NumPy and SciPy.
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
    gamma = adjusted_gamma(counts, int(n), z, alpha)
    lower, upper = band_counts(gamma, int(n), z)
    return EcdfBand(n=int(n), alpha=float(alpha), gamma=gamma, z=z, lower=lower / n,
                    upper=upper / n)  # fmt: skip


def band_counts(gamma: float, n: int, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pointwise 1 − γ band as counts: (Bin⁻¹(γ/2; n, z), Bin⁻¹(1 − γ/2; n, z))."""
    return stats.binom.ppf(gamma / 2.0, n, z), stats.binom.ppf(1.0 - gamma / 2.0, n, z)


def within(counts: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Whether each row of ``counts`` lies in [lower, upper] at every point: the one
    rule of :func:`inside` (on ECDF fractions) and of the band's calibration (on
    counts n·F̂, the same comparisons divided by n)."""
    return np.all((lower <= counts) & (counts <= upper), axis=-1)


def adjusted_gamma(counts: np.ndarray, n: int, z: np.ndarray, alpha: float) -> float:
    """The largest γ whose band the simulated ``counts`` (M rows) leave at most α·M
    times (by :func:`within`).

    The outside-rate grows with γ (the band narrows) and changes only at the
    samples' γ_m, so the candidates are the γ_m and the floats just below them,
    searched by bisection.

    Parameters
    ----------
    counts : numpy.ndarray
        (M, K) counts n·F̂_m(z_k) of M uniform samples.
    n : int
    z : numpy.ndarray
        The K points.
    alpha : float

    Returns
    -------
    float
    """
    gammas = tail_probability(counts, n, z[None, :]).min(axis=1)
    candidates = np.unique(np.concatenate([gammas, np.nextafter(gammas, 0.0)]))
    candidates = candidates[candidates > 0.0]
    allowed = np.floor(alpha * counts.shape[0] + 1e-9)

    def outside(gamma: float) -> int:
        return int(np.sum(~within(counts, *band_counts(gamma, n, z))))

    low, high = 0, candidates.size - 1  # candidates[low] is allowed, once checked
    if outside(candidates[low]) > allowed:
        return float(candidates[low])  # no smaller γ to take (not reached for M ≥ 1/α)
    while low < high:
        middle = (low + high + 1) // 2
        if outside(candidates[middle]) <= allowed:
            low = middle
        else:
            high = middle - 1
    return float(candidates[low])


def inside(values: np.ndarray, band: EcdfBand) -> bool:
    """Whether the ECDF of ``values`` lies inside ``band`` at every point."""
    return bool(within(ecdf(values, band.z), band.lower, band.upper))


def max_deviation(values: np.ndarray, z: np.ndarray) -> float:
    """max_k |F̂(z_k) − z_k|: how far the ECDF strays from the uniform's."""
    return float(np.max(np.abs(ecdf(values, z) - z)))
