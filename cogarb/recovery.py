"""Parameter recovery: simulate a cohort with known parameters, fit it, compare.

Participant parameters are drawn from the hierarchical model's own population
distribution, g(θ_i) = g(median_θ) + sd_θ z_i with z_i ~ N(0, 1) and g the
parameter's transform, so the truth is a draw from the model being fitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cogarb.agents import Agent, check_parameter_value, get_agent
from cogarb.simulate import participant_ids, simulate
from cogarb.tasks import Task, load_task

# Default spread (sd on the unconstrained scale) of simulated participants, chosen
# so that the population spans the range of individual estimates usually reported
# for the two-step task: with the Daw et al. (2011) medians, interquartile ranges of
# about 0.25-0.55 for w, 3.7-7.3 for beta1, 2.6-5.2 for beta2 and 0.01-0.21 for p.
DEFAULT_SD = {"logit": 1.0, "log": 0.5, "identity": 0.15}
INTERVAL = 0.90


@dataclass(frozen=True)
class Recovery:
    """Result of :func:`recover`.

    Attributes
    ----------
    participants : pandas.DataFrame
        One row per participant and parameter: ``true``, posterior ``mean``,
        ``lower`` and ``upper`` (90% central interval) and ``covered``.
    summary : pandas.DataFrame
        One row per parameter: Pearson ``r`` (true vs posterior mean), ``coverage``
        of the 90% intervals, the population median ``group_true``, this sample's
        median on the unconstrained scale ``sample_median`` (g⁻¹ of the mean of g(θ_i)),
        and the posterior of ``mu_θ``: ``group_mean``, ``group_lower``, ``group_upper``
        (90%) and ``group_covered`` (of ``group_true``).
    idata : arviz.InferenceData
        The fit.
    trials : pandas.DataFrame
        The simulated trials.
    """

    participants: pd.DataFrame
    summary: pd.DataFrame
    idata: object
    trials: pd.DataFrame


def population(
    agent: str | Agent,
    n_participants: int,
    group_params: Mapping[str, tuple[float, float]] | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, tuple[float, float]]]:
    """Draw participant parameters from the population distribution.

    ``group_params[name] = (median, sd)``: the median on the natural scale and the
    sd on the unconstrained scale; missing entries use the agent's default and
    ``DEFAULT_SD``. Returns (one row per participant, the (median, sd) used).
    """
    agent = get_agent(agent)
    if not isinstance(n_participants, int) or n_participants < 2:
        raise ValueError(f"n_participants must be an integer ≥ 2, got {n_participants!r}")
    group = {}
    for spec in agent.parameters:
        median, sd = (group_params or {}).get(spec.name, (spec.default, DEFAULT_SD[spec.transform]))
        check_parameter_value(agent, spec.name, float(median))
        if not sd >= 0:
            raise ValueError(f"sd of '{spec.name}' must be ≥ 0, got {sd!r}")
        group[spec.name] = (float(median), float(sd))
    for name in set(group_params or {}) - set(group):
        agent.parameter(name)  # raises, naming the agent's parameters
    rng = np.random.default_rng(seed)
    table = {"participant": participant_ids(n_participants)}
    for name, (median, sd) in group.items():
        spec = agent.parameter(name)
        z = rng.standard_normal(n_participants)
        table[name] = spec.inverse(spec.forward(median) + sd * z)
    return pd.DataFrame(table), group


def recover(
    agent: str | Agent = "hybrid",
    task: str | Task = "daw2011",
    n_participants: int = 100,
    group_params: Mapping[str, tuple[float, float]] | None = None,
    seed: int = 0,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    progress: bool = True,
    **fit_options,
) -> Recovery:
    """Simulate ``n_participants`` of ``agent`` on ``task``, fit them, compare.

    Parameters
    ----------
    agent : str or Agent
        A built-in agent's name or any :class:`~cogarb.agents.Agent`.
    task : str or Task
        A built-in task name, a TOML path or a :class:`~cogarb.tasks.Task`.
    n_participants : int
    group_params : dict, optional
        ``{name: (median, sd)}`` of the population (see :func:`population`).
    seed : int
        Seeds the population, the simulation and the sampler.
    draws, tune, chains, progress, **fit_options
        Passed to :func:`cogarb.fit`; ``p_common`` defaults to the task's. The
        simulated agents learn from rewards as the task gives them (points for
        ``kool2016_novel``), so keep ``reward_scale`` at its default 1 here.

    Returns
    -------
    Recovery
    """
    from cogarb.fitting import fit

    spec = get_agent(agent)
    task = task if isinstance(task, Task) else load_task(task)
    truth, group = population(spec, n_participants, group_params, seed)
    trials = simulate(task, spec, truth, seed=seed + 1)
    # fit with the task's own transition probability (0.8 for akam2015, 1 for Kool's)
    fit_options.setdefault("p_common", task.p_common)
    idata = fit(
        trials, spec, draws=draws, tune=tune, chains=chains, seed=seed, progress=progress,
        **fit_options,
    )  # fmt: skip
    return Recovery(*recovery_tables(idata, spec, truth, group), idata=idata, trials=trials)


def recovery_tables(idata, agent: Agent, truth: pd.DataFrame, group: Mapping) -> tuple:
    """(participants, summary) tables comparing a fit with the true parameters."""
    tail = (1.0 - INTERVAL) / 2.0
    posterior = idata.posterior
    draws = {
        name: posterior[name].stack(sample=("chain", "draw")).transpose("participant", "sample")
        for name in agent.parameter_names
    }
    if {"w_noload", "w_load"} <= set(draws):  # the load effect itself
        draws["w_load-w_noload"] = draws["w_load"] - draws["w_noload"]
        truth = truth.assign(**{"w_load-w_noload": truth["w_load"] - truth["w_noload"]})
    rows, summary = [], []
    for name, values in draws.items():
        values = values.sel(participant=list(truth["participant"])).to_numpy()
        true = truth[name].to_numpy(float)
        mean = values.mean(axis=1)
        lower, upper = np.quantile(values, [tail, 1.0 - tail], axis=1)
        covered = (lower <= true) & (true <= upper)
        rows.append(
            pd.DataFrame(
                {
                    "participant": truth["participant"],
                    "parameter": name,
                    "true": true,
                    "mean": mean,
                    "lower": lower,
                    "upper": upper,
                    "covered": covered,
                }
            )
        )
        entry = {
            "parameter": name,
            "r": float(np.corrcoef(true, mean)[0, 1]),
            "coverage": float(covered.mean()),
        }
        if name in group:
            # the population median, and this sample's median g⁻¹(mean g(θ_i))
            spec = agent.parameter(name)
            sample_truth = spec.inverse(np.mean([spec.forward(v) for v in true]))
            mu = posterior[f"mu_{name}"].to_numpy().ravel()
            low, high = np.quantile(mu, [tail, 1.0 - tail])
            entry.update(
                group_true=group[name][0],
                sample_median=float(sample_truth),
                group_mean=float(mu.mean()),
                group_lower=float(low),
                group_upper=float(high),
                group_covered=bool(low <= group[name][0] <= high),
            )
        summary.append(entry)
    return pd.concat(rows, ignore_index=True), pd.DataFrame(summary).set_index("parameter")


@dataclass(frozen=True)
class SeedRecovery:
    """Result of :func:`recover_seeds`: recovery of K independent cohorts.

    Attributes
    ----------
    per_seed : pandas.DataFrame
        One row per cohort and parameter: ``cohort``, ``seed``, ``parameter``,
        ``r`` and ``coverage`` (of the 90% intervals).
    summary : pandas.DataFrame
        One row per parameter (index): ``r_mean``, ``r_min``, ``coverage_mean``,
        ``coverage_min`` over the cohorts, and ``cohorts``.
    """

    per_seed: pd.DataFrame
    summary: pd.DataFrame


def cohort_seeds(seed: int, n_cohorts: int) -> list[int]:
    """The seeds of ``n_cohorts`` independent cohorts: the first 62 bits of child k of
    ``SeedSequence(seed)`` (so no cohort's streams overlap another's, as seeds
    s and s + 1 would: :func:`recover` uses both)."""
    if not isinstance(n_cohorts, int) or isinstance(n_cohorts, bool) or n_cohorts < 1:
        raise ValueError(f"the number of seeds must be an integer ≥ 1, got {n_cohorts!r}")
    return [
        int(np.random.SeedSequence(seed, spawn_key=(k,)).generate_state(1, np.uint64)[0] >> 2)
        for k in range(n_cohorts)
    ]


def seed_tables(summaries: Mapping[int, tuple[int, pd.DataFrame]]) -> SeedRecovery:
    """Combine ``{cohort: (seed, Recovery.summary)}`` into a :class:`SeedRecovery`."""
    rows = [
        {"cohort": cohort, "seed": seed, "parameter": name,
         "r": float(table.loc[name, "r"]), "coverage": float(table.loc[name, "coverage"])}
        for cohort, (seed, table) in sorted(summaries.items())
        for name in table.index
    ]  # fmt: skip
    per_seed = pd.DataFrame(rows, columns=["cohort", "seed", "parameter", "r", "coverage"])
    grouped = per_seed.groupby("parameter", sort=False)
    summary = pd.DataFrame(
        {
            "r_mean": grouped["r"].mean(),
            "r_min": grouped["r"].min(),
            "coverage_mean": grouped["coverage"].mean(),
            "coverage_min": grouped["coverage"].min(),
            "cohorts": grouped.size(),
        }
    )
    return SeedRecovery(per_seed, summary)


def recover_seeds(
    agent: str | Agent = "hybrid",
    task: str | Task = "daw2011",
    n_participants: int = 100,
    n_seeds: int = 5,
    seed: int = 0,
    **recover_options,
) -> SeedRecovery:
    """:func:`recover` for ``n_seeds`` independent cohorts (seeds :func:`cohort_seeds`).

    Parameters
    ----------
    agent, task, n_participants
        As :func:`recover`.
    n_seeds : int
        K, the number of cohorts.
    seed : int
        Seeds the cohorts' seeds.
    **recover_options
        Further arguments of :func:`recover` (``draws``, ``tune``, ``chains``...).

    Returns
    -------
    SeedRecovery
    """
    summaries = {}
    for cohort, cohort_seed in enumerate(cohort_seeds(seed, n_seeds)):
        result = recover(agent, task, n_participants, seed=cohort_seed, **recover_options)
        summaries[cohort] = (cohort_seed, result.summary)
    return seed_tables(summaries)
