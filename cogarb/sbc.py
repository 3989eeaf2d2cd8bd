"""Simulation-based calibration of the hierarchical models (Talts et al. 2018).

For each data set k = 0..N−1, with its own ``numpy.random.Generator`` (child k of
``SeedSequence(seed)``, so a data set's draws do not depend on N or on the others):

1. the group parameters from the fitted model's own hyperpriors (those
   :func:`cogarb.model_spec.default_prior` gives, or ``priors``):
   loc_θ ~ Normal(mean, sd), scale_θ ~ HalfNormal(sd);
2. the participants: g(θ_i) = loc_θ + scale_θ z_θ,i with z_θ,i ~ N(0, 1);
3. the trials: :func:`cogarb.simulate` on the task;
4. the fit: :func:`cogarb.fit` with the same priors;
5. the rank of each true value among L posterior draws thinned to be roughly
   independent: L = min(``max_ranks`` − 1, total draws, ⌊minimum ESS of the fit⌋),
   the minimum over the bulk and the tail ESS of every variable (ranks near the
   tails need the tails' draws to be independent too), the draws evenly spaced
   over the chains laid end to end. Because L varies between data sets, each
   rank r (of L + 1 possible) is also given as a randomised fractional rank
   u = (r + V)/(L + 1), V ~ U(0, 1), which is exactly uniform on (0, 1) when the
   model is calibrated, whatever L (Modrák et al. 2023, Bayesian Analysis,
   doi:10.1214/23-BA1404, on SBC with varying ranks). Ties with the true value
   are broken at random.

Ranked are the group parameters ``<θ>_loc`` and ``<θ>_scale`` and each participant's
θ_i (parameter ``<θ>``, one row per participant). The uniformity test of each is the
simultaneous 1 − α ECDF band of Säilynoja, Bürkner & Vehtari (2022)
(:mod:`cogarb.ecdf_bands`) for N values, one per data set. For a participant
parameter θ the tested value of data set k is that of its participant k mod n
(n participants per data set): the participants of a data set are exchangeable,
so these N values are independent and uniform under calibration and the test is
exact. (The n values of one data set share its group parameters and data, so
their pooled ECDF is not that of n·N independent values, and testing it against
the band for N values almost never fails, even for a clearly biased posterior.)
The pooled ranks stay in ``ranks`` (column ``tested`` marks the tested ones).

An agent with P parameters has M = 3P tests at 1 − α each, so under calibration
about α·M of them are outside their band (about one of the hybrid's 21 at
α = 0.05): :attr:`SBCResult.expected_outside` and :func:`band_line` say so, and
one parameter outside its band is no evidence of miscalibration on its own.

Everything is reproduced by one ``seed``: the data sets, the sampler's seeds and
the tie-breaks. The band's own simulation is seeded by ``band_seed``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cogarb.agents import Agent, get_agent
from cogarb.ecdf_bands import DEFAULT_ALPHA, EcdfBand, ecdf_band, inside, max_deviation
from cogarb.model_spec import resolve_priors
from cogarb.simulate import participant_ids, simulate
from cogarb.tasks import Task, load_task

if TYPE_CHECKING:
    import xarray as xr

MAX_RANKS = 100  # L + 1 ≤ 100 possible ranks per data set
SEED_BOUND = 2**32  # the simulation's and the sampler's seeds are drawn below this
DIAGNOSTICS = ("max_rhat", "min_ess_bulk", "divergences", "tree_depth_hits")
DRAWS, TUNE, CHAINS = 1000, 1000, 2  # the published configuration (paper/sbc/README.md)
# How ranks are made; part of a run's settings, so records ranked another way are refused.
RANK_METHOD = "thinned to min(bulk ESS, tail ESS); randomised fractional ranks; v2"
REFUSED_OPTIONS = ("conditions", "covariates")


@dataclass(frozen=True)
class DatasetResult:
    """One calibration data set: its ranks and its fit's diagnostics.

    Attributes
    ----------
    dataset : int
    ranks : pandas.DataFrame
        One row per ranked value: ``parameter``, ``participant`` (empty for group
        parameters), ``true``, ``rank`` (0..L), ``n_ranks`` (L + 1) and ``u``.
    diagnostics : dict
        ``max_rhat``, ``min_ess_bulk``, ``divergences``, ``tree_depth_hits`` and
        ``min_ess_tail`` of the fit, and ``n_ranks``.
    seconds : float
        Simulation and fit.
    """

    dataset: int
    ranks: pd.DataFrame
    diagnostics: dict
    seconds: float

    def to_record(self) -> dict:
        """A JSON-safe dict (:meth:`from_record` reads it back)."""
        return {
            "dataset": self.dataset,
            "seconds": round(self.seconds, 2),
            "diagnostics": self.diagnostics,
            "ranks": self.ranks.to_dict(orient="list"),
        }

    @classmethod
    def from_record(cls, record: Mapping) -> DatasetResult:
        """The :class:`DatasetResult` of a :meth:`to_record` dict."""
        ranks = pd.DataFrame(record["ranks"], columns=RANK_COLUMNS)
        return cls(
            dataset=int(record["dataset"]),
            ranks=ranks.astype({"rank": int, "n_ranks": int, "true": float, "u": float}),
            diagnostics=dict(record["diagnostics"]),
            seconds=float(record["seconds"]),
        )


RANK_COLUMNS = ("parameter", "participant", "true", "rank", "n_ranks", "u")


@dataclass(frozen=True)
class SBCResult:
    """Result of :func:`sbc`.

    Attributes
    ----------
    ranks : pandas.DataFrame
        ``dataset``, ``parameter``, ``participant``, ``true``, ``rank``, ``n_ranks``,
        ``u`` and ``tested`` (whether the value enters its parameter's band test: every
        group value, and participant k mod n of data set k).
    diagnostics : pandas.DataFrame
        One row per data set: ``dataset``, ``max_rhat``, ``min_ess_bulk``,
        ``divergences``, ``tree_depth_hits``, ``min_ess_tail``, ``n_ranks``, ``seconds``.
    summary : pandas.DataFrame
        One row per parameter (index): ``level`` (group or participants), ``n``
        (tested values: one per data set), ``n_ranked`` (all ranked values; n·N for
        participants), ``inside_band`` and ``max_deviation`` (max |F̂(z) − z| of the
        tested values).
    band : EcdfBand
        The simultaneous 1 − α band for N data sets.
    parameters : tuple of str
        The ranked parameters, in the agent's order.
    """

    ranks: pd.DataFrame
    diagnostics: pd.DataFrame
    summary: pd.DataFrame
    band: EcdfBand = field(repr=False)
    parameters: tuple[str, ...]

    @property
    def expected_outside(self) -> float:
        """α·M: how many of the M band tests are outside under calibration, on average."""
        return self.band.alpha * len(self.summary)


def band_line(result: SBCResult) -> str:
    """One sentence: how many parameters are inside the band, and how many outside
    are expected under calibration (M tests at 1 − α each).

    Parameters
    ----------
    result : SBCResult

    Returns
    -------
    str
    """
    inside_count, tests = int(result.summary["inside_band"].sum()), len(result.summary)
    level = f"{1 - result.band.alpha:.0%}"
    return (
        f"{inside_count} of {tests} parameters inside the {level} band; with {tests} tests "
        f"at {level} each, about {result.expected_outside:.1f} outside are expected under "
        "calibration"
    )


def dataset_generator(seed: int, dataset: int) -> np.random.Generator:
    """The Generator of data set ``dataset`` of a run seeded by ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed.
    dataset : int
        The data set's index k ≥ 0.

    Returns
    -------
    numpy.random.Generator
        Seeded by child k of ``SeedSequence(seed)`` (the same as
        ``SeedSequence(seed).spawn(n)[k]`` for any n > k), so a data set's draws do
        not depend on how many data sets are run.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(dataset,)))


def hyperpriors(agent: Agent, priors: Mapping[str, Mapping] | None = None) -> dict[str, dict]:
    """The fitted model's hyperpriors, which the data sets are drawn from.

    Parameters
    ----------
    agent : Agent
    priors : dict, optional
        ``{θ: {"loc": (mean, sd), "scale": sd}}`` overrides, as :func:`cogarb.fit` takes.

    Returns
    -------
    dict
        ``{θ: {"loc": (mean, sd), "scale": sd}}`` for every parameter
        (:func:`cogarb.model_spec.resolve_priors`: the fit's own resolution).

    Raises
    ------
    ValueError
        For an unknown parameter or key, or a bad prior.
    """
    return resolve_priors(agent, priors)


def prior_draw(
    agent: str | Agent,
    n_participants: int,
    rng: np.random.Generator,
    priors: Mapping[str, Mapping] | None = None,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Group and participant parameters drawn from the hierarchical prior.

    Draws, in the agent's parameter order, loc_θ then scale_θ for every θ, then
    z_θ (n values) for every θ.

    Returns
    -------
    (dict, pandas.DataFrame)
        ``{"<θ>_loc": ..., "<θ>_scale": ...}`` and one row per participant
        (``participant`` and one column per parameter, natural scale).
    """
    agent = get_agent(agent)
    group = {}
    for name, prior in hyperpriors(agent, priors).items():
        mean, sd = prior["loc"]
        group[f"{name}_loc"] = float(mean + sd * rng.standard_normal())
        group[f"{name}_scale"] = float(abs(prior["scale"] * rng.standard_normal()))
    table = {"participant": participant_ids(n_participants)}
    for spec in agent.parameters:
        z = rng.standard_normal(n_participants)
        raw = group[f"{spec.name}_loc"] + group[f"{spec.name}_scale"] * z
        table[spec.name] = spec.inverse(raw)
    return group, pd.DataFrame(table)


def thinned_indices(n_draws: int, ess: float | None, max_ranks: int = MAX_RANKS) -> np.ndarray:
    """The indices of the draws a true value is ranked among.

    Parameters
    ----------
    n_draws : int
        Draws of all chains together.
    ess : float or None
        The fit's smallest effective sample size (None or non-finite counts as 1).
    max_ranks : int
        At most this many possible ranks, L + 1.

    Returns
    -------
    numpy.ndarray
        L evenly spaced indices into 0..n_draws − 1, L = min(max_ranks − 1, n_draws,
        ⌊ess⌋) and at least 1.
    """
    ess = 1.0 if ess is None or not np.isfinite(ess) else ess
    n = int(max(1, min(max_ranks - 1, n_draws, np.floor(ess))))
    return np.unique(np.round(np.linspace(0, n_draws - 1, n)).astype(int))


def ranks_of(
    truth: Mapping[str, float],
    participants: pd.DataFrame,
    posterior: xr.Dataset,
    agent: Agent,
    rng: np.random.Generator,
    ess: float | None,
    max_ranks: int = MAX_RANKS,
) -> pd.DataFrame:
    """The ranks of the true values among a posterior's thinned draws.

    Parameters
    ----------
    truth : dict
        ``{"<θ>_loc": ..., "<θ>_scale": ...}`` (:func:`prior_draw`).
    participants : pandas.DataFrame
        ``participant`` and one column per parameter: the true values.
    posterior : xarray.Dataset
        The fit's posterior (dimensions ``chain``, ``draw`` and, for participant
        parameters, ``participant``).
    agent : Agent
    rng : numpy.random.Generator
        Breaks ties and draws the fractional parts V.
    ess : float or None
        The ESS the draws are thinned to (:func:`thinned_indices`).
    max_ranks : int

    Returns
    -------
    pandas.DataFrame
        :data:`RANK_COLUMNS`: per agent parameter, ``<θ>_loc``, ``<θ>_scale``, then
        one row per participant.
    """
    n_draws = int(posterior.sizes["chain"] * posterior.sizes["draw"])
    keep = thinned_indices(n_draws, ess, max_ranks)
    rows = []  # (parameter, participant, true, draws)
    for spec in agent.parameters:
        for key in (f"{spec.name}_loc", f"{spec.name}_scale"):
            draws = posterior[key].stack(sample=("chain", "draw")).to_numpy()
            rows.append((key, "", truth[key], draws[keep]))
        values = posterior[spec.name].stack(sample=("chain", "draw")).transpose("participant", ...)
        for pid, true in zip(participants["participant"], participants[spec.name], strict=True):
            rows.append((spec.name, pid, float(true), values.sel(participant=pid).to_numpy()[keep]))
    n_ranks = keep.size + 1
    less = np.array([np.sum(d < t) for _, _, t, d in rows])
    ties = np.array([np.sum(d == t) for _, _, t, d in rows])
    rank = less + rng.integers(0, ties + 1)  # a tie is broken at random
    u = (rank + rng.random(rank.size)) / n_ranks
    return pd.DataFrame(
        {
            "parameter": [r[0] for r in rows],
            "participant": [r[1] for r in rows],
            "true": [float(r[2]) for r in rows],
            "rank": rank.astype(int),
            "n_ranks": n_ranks,
            "u": u,
        }
    )


def min_ess_tail(posterior: xr.Dataset) -> float | None:
    """The smallest tail ESS over every variable of ``posterior`` (None if undefined)."""
    from cogarb.fitting import import_arviz

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant draws: NaN
        ess = import_arviz().ess(posterior, method="tail")
    values = np.concatenate([np.asarray(ess[v].values, float).ravel() for v in ess.data_vars])
    values = values[np.isfinite(values)]
    return float(values.min()) if values.size else None


def rank_ess(bulk: float | None, tail: float | None) -> float | None:
    """The ESS the draws are thinned to: the smaller of the bulk and the tail ESS (the
    one that is defined, or None when neither is).

    Parameters
    ----------
    bulk, tail : float or None
        The fit's smallest bulk and tail ESS.

    Returns
    -------
    float or None
    """
    return min((e for e in (bulk, tail) if e is not None), default=None)


def check_options(fit_options: Mapping) -> None:
    """Refuse fit options SBC cannot draw from the prior.

    Parameters
    ----------
    fit_options : dict
        Options of :func:`cogarb.fit`.

    Raises
    ------
    ValueError
        For non-empty ``conditions`` or ``covariates``: the data sets are drawn
        from the model without them.
    """
    for key in REFUSED_OPTIONS:
        if fit_options.get(key):
            raise ValueError(
                f"sbc draws no {key}: the calibration is of the model without them "
                f"(got {key}={fit_options[key]!r})"
            )


def sbc_dataset(
    agent: str | Agent,
    task: str | Task,
    dataset: int,
    n_participants: int = 10,
    seed: int = 0,
    draws: int = DRAWS,
    tune: int = TUNE,
    chains: int = CHAINS,
    max_ranks: int = MAX_RANKS,
    **fit_options,
) -> DatasetResult:
    """Draw, simulate, fit and rank data set ``dataset`` of :func:`sbc`.

    The arguments are those of :func:`sbc`; the result depends only on them (not on
    which other data sets were run), so an interrupted run can be resumed.
    """
    from cogarb.fitting import SamplingWarning, diagnostics, fit

    agent = get_agent(agent)
    task = task if isinstance(task, Task) else load_task(task)
    check_options(fit_options)
    start = time.perf_counter()
    rng = dataset_generator(seed, dataset)
    truth, participants = prior_draw(agent, n_participants, rng, fit_options.get("priors"))
    sim_seed, fit_seed = (int(s) for s in rng.integers(0, SEED_BOUND, size=2))
    trials = simulate(task, agent, participants, seed=sim_seed)
    fit_options = {"p_common": task.p_common, "progress": False, **fit_options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # recorded in the diagnostics
        idata = fit(
            trials, agent, draws=draws, tune=tune, chains=chains, seed=fit_seed,
            log_likelihood=False, **fit_options,
        )  # fmt: skip
    found = diagnostics(idata)
    tail = min_ess_tail(idata.posterior)
    ranks = ranks_of(truth, participants, idata.posterior, agent, rng,
                     rank_ess(found["min_ess_bulk"], tail), max_ranks)  # fmt: skip
    record = {key: found[key] for key in DIAGNOSTICS} | {
        "min_ess_tail": tail, "n_ranks": int(ranks["n_ranks"].iat[0]),
    }  # fmt: skip
    return DatasetResult(dataset, ranks, record, time.perf_counter() - start)


def sbc_result(
    datasets: Iterable[DatasetResult],
    agent: str | Agent,
    alpha: float = DEFAULT_ALPHA,
    band_seed: int = 0,
) -> SBCResult:
    """Combine data sets into an :class:`SBCResult`, with the band test per parameter.

    Parameters
    ----------
    datasets : iterable of DatasetResult
        In any order (sorted by data set).
    agent : str or Agent
    alpha : float
        1 − the band's simultaneous coverage.
    band_seed : int
        Seeds the band's simulation (:func:`cogarb.ecdf_bands.ecdf_band`).

    Returns
    -------
    SBCResult
        Each group parameter is tested on its N values; each participant parameter
        on one value per data set, participant k mod n of data set k (module
        docstring).
    """
    agent = get_agent(agent)
    datasets = sorted(datasets, key=lambda d: d.dataset)
    if not datasets:
        raise ValueError("no data sets to combine")
    ranks = pd.concat([d.ranks.assign(dataset=d.dataset) for d in datasets], ignore_index=True)[
        ["dataset", *RANK_COLUMNS]
    ]
    ranks["tested"] = tested_rows(ranks)
    diagnostics = pd.DataFrame(
        [{"dataset": d.dataset, **d.diagnostics, "seconds": d.seconds} for d in datasets]
    )
    band = ecdf_band(len(datasets), alpha, seed=band_seed)
    parameters = tuple(
        name
        for spec in agent.parameters
        for name in (f"{spec.name}_loc", f"{spec.name}_scale", spec.name)
    )
    rows = []
    for name in parameters:
        mine = ranks["parameter"] == name
        u = ranks.loc[mine & ranks["tested"], "u"].to_numpy()
        rows.append(
            {
                "parameter": name,
                "level": "group" if name.endswith(("_loc", "_scale")) else "participants",
                "n": int(u.size),
                "n_ranked": int(mine.sum()),
                "inside_band": inside(u, band),
                "max_deviation": max_deviation(u, band.z),
            }
        )
    summary = pd.DataFrame(rows).set_index("parameter")
    return SBCResult(ranks, diagnostics, summary, band, parameters)


def tested_rows(ranks: pd.DataFrame) -> np.ndarray:
    """Which rows of a rank table enter the band tests: every group value, and of each
    participant parameter in data set k the value of its participant k mod n (the
    n participants in the order ranked).

    Parameters
    ----------
    ranks : pandas.DataFrame
        ``dataset``, ``parameter``, ``participant`` (empty for group parameters).

    Returns
    -------
    numpy.ndarray of bool
    """
    by = ranks.groupby(["dataset", "parameter"], sort=False)
    position, size = by.cumcount().to_numpy(), by["u"].transform("size").to_numpy()
    group = (ranks["participant"] == "").to_numpy()
    return group | (position == ranks["dataset"].to_numpy() % size)


def sbc(
    agent: str | Agent,
    task: str | Task = "daw2011",
    n_datasets: int = 200,
    n_participants: int = 10,
    seed: int = 0,
    draws: int = DRAWS,
    tune: int = TUNE,
    chains: int = CHAINS,
    max_ranks: int = MAX_RANKS,
    alpha: float = DEFAULT_ALPHA,
    datasets: Sequence[int] | None = None,
    **fit_options,
) -> SBCResult:
    """Simulation-based calibration of ``agent``'s hierarchical model on ``task``.

    Parameters
    ----------
    agent : str or Agent
        A built-in agent's name or any :class:`~cogarb.agents.Agent`.
    task : str or Task
        The task the data sets are simulated on (a built-in name, a TOML path or a
        :class:`~cogarb.tasks.Task`).
    n_datasets : int
        N, the number of data sets (the issue's calibration uses 200).
    n_participants : int
        Participants per data set (≥ 2).
    seed : int
        Seeds everything (see the module docstring).
    draws, tune, chains : int
        Passed to :func:`cogarb.fit`; the defaults 1000, 1000 and 2 are the published
        configuration (``cogarb sbc``, paper/sbc/README.md).
    max_ranks : int
        At most this many possible ranks (L + 1) per data set.
    alpha : float
        1 − the band's simultaneous coverage.
    datasets : sequence of int, optional
        Run only these data sets of 0..N−1 (the band is then for their number).
    **fit_options
        Further options of :func:`cogarb.fit` (``priors``, ``p_common``, which
        defaults to the task's, ``centred``, ``sampler_options``...); data sets are
        drawn from the same ``priors``. Conditions and covariates are refused.

    Returns
    -------
    SBCResult

    Raises
    ------
    ValueError
        For ``n_datasets`` < 1, ``n_participants`` < 2, ``max_ranks`` < 2, an
        unknown agent or parameter, conditions or covariates.
    """
    agent = get_agent(agent)
    check_sizes(n_datasets, n_participants, max_ranks)
    check_options(fit_options)
    task = task if isinstance(task, Task) else load_task(task)
    indices = range(n_datasets) if datasets is None else datasets
    options = (n_participants, seed, draws, tune, chains, max_ranks)
    results = [sbc_dataset(agent, task, k, *options, **fit_options) for k in indices]
    return sbc_result(results, agent, alpha)


def check_sizes(n_datasets: int, n_participants: int, max_ranks: int = MAX_RANKS) -> None:
    """Raise ValueError for n_datasets < 1, n_participants < 2 or max_ranks < 2."""
    for name, value, low in (
        ("n_datasets", n_datasets, 1),
        ("n_participants", n_participants, 2),
        ("max_ranks", max_ranks, 2),
    ):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer ≥ {low}, got {value!r}")
