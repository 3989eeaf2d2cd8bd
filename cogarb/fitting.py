"""Fit hierarchical models with nutpie and return complete ArviZ output.

:func:`fit` builds the model (:func:`cogarb.build_model`), compiles it with
nutpie's numba backend (cached in-process: a second fit of the same agent and
model structure on a cohort of the same size only swaps the data), samples with
a progress bar, then adds

* ``log_likelihood["trial"]``: ℓ_t per posterior draw for every trial with a
  likelihood term (dim ``obs``, with ``participant`` and ``trial`` coordinates),
  computed by the likelihood kernels after sampling. These are the trials with a
  first-stage choice (:attr:`cogarb.arrays.TrialArrays.observed`): the complete
  ones, whose ℓ_t is log P(choice1) + log P(choice2 | state2) (log P(choice1) on
  tasks without a second-stage choice), and the *half-missed* ones (second stage
  missed), whose ℓ_t is log P(choice1) alone. Fully missed trials have no term
  and no ``obs`` entry. Pointwise LOO therefore scores every observed first-stage
  choice;
* ``observed_data``: the observed choices, states and rewards of those trials
  (on half-missed trials ``choice2`` is −1 and ``reward`` NaN: not observed);
* ``posterior_predictive`` on request: choices simulated by the numba simulator on
  the observed task schedule (rewards probabilities, load, reversals, events; for
  tasks without a second-stage choice the observed first-stage states and the
  payoffs of both second-stage states, ``reward_state0``/``reward_state1`` or
  ``p_reward_*``);

and warns, with advice, when R-hat > 1.01, bulk ESS < 400 or there are divergences.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from cogarb import _stop
from cogarb._kernels.hybrid import MISSING
from cogarb.agents import Agent, get_agent, kernel_matrix
from cogarb.arrays import TrialArrays
from cogarb.likelihood import per_trial_loglik
from cogarb.model_spec import ModelSpec, model_spec

RHAT_MAX = 1.01  # Vehtari et al. (2021)
ESS_MIN = 400  # Vehtari et al. (2021): 100 per chain for 4 chains

_COMPILED: dict = {}
PPC_NEEDS_PROBABILITIES = (
    "posterior predictive simulation needs the reward probabilities of every trial "
    "(columns p_reward_00, p_reward_01, p_reward_10, p_reward_11)"
)
PPC_NEEDS_PAYOFFS = (
    "posterior predictive simulation of a task without a second-stage choice needs the "
    "payoff of both second-stage states on every trial: columns reward_state0 and "
    "reward_state1 (points), or p_reward_<s>0 = p_reward_<s>1 (reward probabilities)"
)


def _check_ppc_inputs(data: TrialArrays) -> None:
    if data.one_choice and data.payoff is None:
        raise ValueError(PPC_NEEDS_PAYOFFS)
    if not data.one_choice and data.reward_prob is None:
        raise ValueError(PPC_NEEDS_PROBABILITIES)


class SamplingWarning(UserWarning):
    """The sampler's diagnostics suggest the posterior is not to be trusted yet."""


class IncompleteSamplingError(RuntimeError):
    """The sampler returned fewer chains or draws than asked for: no posterior is returned.

    nutpie stops early when it is interrupted (and, when it catches the interrupt
    itself, returns the draws made so far); :func:`fit` never passes such a
    truncated posterior on as if it were finished.
    """


def import_arviz():
    """``arviz``, imported without its refactor notice (a FutureWarning on import)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz


def _compile(model, key):
    import nutpie

    names = [v.name for v in model.free_RVs] + [v.name for v in model.deterministics]
    if key in _COMPILED:
        cached = _COMPILED[key]
        data = {name: value.get_value() for name, value in _shared_data(model).items()}
        compiled = cached.with_data(**data)
    else:
        compiled = nutpie.compile_pymc_model(model, var_names=names)
        _COMPILED[key] = compiled
    coords = {**compiled.coords}
    for name, values in model.coords.items():
        coords[name] = pd.Index(values)
    return dataclasses.replace(compiled, _coords=coords)  # this cohort's ids


def _shared_data(model) -> dict:
    from pytensor.compile.sharedvalue import SharedVariable

    return {v.name: v for v in model.named_vars.values() if isinstance(v, SharedVariable)}


def fit(
    trials: pd.DataFrame,
    agent: str | Agent = "hybrid",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    posterior_predictive: bool | int = False,
    log_likelihood: bool = True,
    progress: bool = True,
    cores: int | None = None,
    sampler_options: Mapping | None = None,
    before_compile: Callable[[], None] | None = None,
    **model_options,
):
    """Sample the hierarchical model of ``agent`` on ``trials`` with nutpie.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trials in the tidy schema.
    agent : str or Agent
        ``"mf"``, ``"mb"``, ``"hybrid"``, ``"hybrid_load"`` or ``"arbitrator"``; for
        tasks without a second-stage choice ``"mf_one_choice"``,
        ``"mb_one_choice"`` or ``"hybrid_one_choice"``; or any
        :class:`~cogarb.agents.Agent`, such as a restriction of a built-in one (the
        README shows the hybrid with λ fixed at 1).
    draws, tune, chains : int
        Posterior draws and tuning steps per chain, and the number of chains.
    seed : int
        Seeds the sampler and the posterior predictive simulation.
    posterior_predictive : bool or int
        Add simulated choices: ``True`` for one simulated data set per draw, an
        integer for that many draws (spread evenly over the chains).
    log_likelihood : bool
        Add the trial-level log-likelihood (needed by :func:`cogarb.compare`).
    progress : bool
        Show nutpie's progress bar.
    cores : int, optional
        Chains run in parallel on this many threads (default: all CPUs).
    sampler_options : dict, optional
        Extra keyword arguments of :func:`nutpie.sample`, e.g.
        ``{"low_rank_modified_mass_matrix": True}`` (fewer leapfrog steps per draw on
        correlated posteriors) or ``{"target_accept": 0.9}`` (fewer divergences).
    before_compile : callable, optional
        Called without arguments once the model is built (so the data and options
        are valid) and before it is compiled: the command line moves a fit's
        earlier outputs aside here, so that a typo in an option loses nothing.
    **model_options
        ``conditions``, ``covariates``, ``priors``, ``p_common``, ``reward_scale``,
        ``centred``: see :func:`cogarb.build_model`.

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior``, ``sample_stats``, ``observed_data``,
        ``log_likelihood`` (unless disabled), ``posterior_predictive`` (on request).
        ``posterior.attrs`` record the agent, the model options, and the seconds
        spent compiling (near zero when the compiled model was cached) and sampling.
    """
    from cogarb.hierarchical import model_from_spec

    for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    spec = model_spec(trials, agent, **model_options)
    model = model_from_spec(spec)
    if posterior_predictive:
        _check_ppc_inputs(spec.data)  # before, not after, a long sampling run
    if before_compile is not None:
        before_compile()
    start = time.perf_counter()
    compiled = _compile(model, spec.cache_key())
    compile_seconds = time.perf_counter() - start
    _stop.check()  # a stop lost inside the compiler's C code is raised here
    start = time.perf_counter()
    idata = _sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        cores=cores or min(chains, os.cpu_count() or 1),
        progress_bar=progress,
        **dict(sampler_options or {}),
    )
    sampling_seconds = time.perf_counter() - start
    # nutpie also stores the unconstrained copies (``*_log__``) of bounded variables
    unconstrained = [v for v in idata.posterior.data_vars if v.endswith("__")]
    idata.posterior = idata.posterior.drop_vars(unconstrained)
    agent, data = spec.agent, spec.data
    _add_observed(idata, data)
    if log_likelihood:
        _add_log_likelihood(idata, agent, data, spec.condition)
    if posterior_predictive:
        n = None if posterior_predictive is True else int(posterior_predictive)
        add_posterior_predictive(idata, agent, data, spec.condition, n, seed)
    idata.posterior.attrs.update(_attrs(spec))
    idata.posterior.attrs["compile_seconds"] = round(compile_seconds, 2)
    idata.posterior.attrs["sampling_seconds"] = round(sampling_seconds, 2)
    _stop.check()
    warn_on_diagnostics(idata)
    return idata


def _sample(compiled, draws: int, chains: int, **options):
    """Run nutpie to the end, or raise: never a posterior with fewer draws than asked.

    nutpie's blocking ``sample`` catches KeyboardInterrupt and returns the draws made
    so far (and fails with an IndexError when interrupted while tuning). Here the
    sampler runs in the background and any interrupt or signal handler's exception
    while waiting cancels it and propagates unchanged.
    """
    import nutpie

    sampler = nutpie.sample(compiled, draws=draws, chains=chains, blocking=False, **options)
    try:
        idata = sampler.wait()
        _stop.check()
    except BaseException:
        sampler.cancel()
        raise
    check_complete(idata, draws, chains)
    return idata


def check_complete(idata, draws: int, chains: int) -> None:
    """Raise :class:`IncompleteSamplingError` unless the posterior has every draw asked for."""
    posterior = getattr(idata, "posterior", None)
    got = (0, 0) if posterior is None else (posterior.sizes["chain"], posterior.sizes["draw"])
    if got != (chains, draws):
        raise IncompleteSamplingError(
            f"the sampler returned {got[0]} chain(s) × {got[1]} draws instead of {chains} × "
            f"{draws} (interrupted?): no posterior is returned"
        )


def _attrs(spec: ModelSpec) -> dict:
    from cogarb._version import __version__

    condition = spec.condition
    return {
        "cogarb_version": __version__,
        "agent": spec.agent.name,
        "conditions": f"{condition[0]}~{condition[1]}" if condition else "",
        "covariates": ";".join(f"{k}~{'+'.join(v)}" for k, v in spec.covariates.items()),
        "p_common": spec.data.p_common,
        "reward_scale": spec.data.reward_scale,
        "centred": int(spec.centred),  # netCDF attributes cannot be booleans
    }


# Code of a choice or state that was not made, in ``observed_data`` and
# ``posterior_predictive`` (−1, the kernels' code; rewards not collected are NaN).
MISSING_CODE = MISSING


def _obs_coords(data: TrialArrays) -> dict:
    keep = data.observed
    participants = np.asarray(data.participants, dtype=object)
    return {
        "obs": np.arange(int(keep.sum())),
        "participant": ("obs", participants[data.participant_index[keep]]),
        "trial": ("obs", data.trial[keep]),
    }


def _add_observed(idata, data: TrialArrays) -> None:
    import xarray as xr

    keep = data.observed
    coords = _obs_coords(data)
    names = ("state1", "choice1", "state2") if data.one_choice else ("choice1", "state2", "choice2")
    values = {name: getattr(data, name)[keep] for name in (*names, "reward")}
    half = data.stage2_missed[keep]  # the second stage was not observed
    values["reward"] = np.where(half, np.nan, values["reward"])
    if not data.one_choice:
        values["choice2"] = np.where(half, MISSING_CODE, values["choice2"]).astype(np.int8)
    observed = xr.Dataset(
        {name: xr.DataArray(v, dims="obs", coords=coords) for name, v in values.items()}
    )
    idata.add_groups(observed_data=observed)


def posterior_thetas(idata, agent: str | Agent, condition=None) -> np.ndarray:
    """Kernel parameter matrices of every posterior draw: (chain, draw, n, P)."""
    agent = get_agent(agent)
    values = {name: idata.posterior[name].values for name in agent.parameter_names}
    return kernel_matrix(agent, values, condition[0] if condition else None)


def _add_log_likelihood(idata, agent: Agent, data: TrialArrays, condition) -> None:
    import xarray as xr

    thetas = posterior_thetas(idata, agent, condition)
    chains, draws = thetas.shape[:2]
    keep = data.observed
    loglik = per_trial_loglik(agent, thetas.reshape(chains * draws, *thetas.shape[2:]), data)
    loglik = loglik[:, keep].reshape(chains, draws, -1)
    coords = {"chain": idata.posterior.chain, "draw": idata.posterior.draw, **_obs_coords(data)}
    array = xr.DataArray(loglik, dims=("chain", "draw", "obs"), coords=coords)
    idata.add_groups(log_likelihood=xr.Dataset({"trial": array}))


def add_posterior_predictive(
    idata, agent: str | Agent, data: TrialArrays, condition=None, n_draws: int | None = None, seed=0
) -> None:
    """Add ``posterior_predictive`` choices simulated on the observed task schedule.

    ``n_draws`` posterior draws (default all), thinned evenly within each chain, each
    simulate every participant once. Needs per-trial reward probabilities
    (``p_reward_*`` columns) in the data, or for tasks without a second-stage
    choice the payoffs of both second-stage states (``reward_state0`` and
    ``reward_state1``, or ``p_reward_*``). Simulated rewards are in the data's own
    units (not multiplied by ``reward_scale``).

    The simulated participants miss what the observed ones missed, as the
    likelihood treats it: on a fully missed trial no choice and no learning (the
    trial is not in ``obs``); on a half-missed trial the first-stage choice and
    the transition are simulated, and ``choice2`` is ``MISSING_CODE`` (−1) and
    ``reward`` NaN.
    """
    import xarray as xr

    from cogarb._kernels.loglik import STICK_WITHIN_STATE

    agent = get_agent(agent)
    _check_ppc_inputs(data)
    thetas = posterior_thetas(idata, agent, condition)
    chains, draws = thetas.shape[:2]
    per_chain = draws if n_draws is None else max(1, min(draws, -(-n_draws // chains)))
    picked = np.unique(np.linspace(0, draws - 1, per_chain).round().astype(int))
    thetas = np.ascontiguousarray(thetas[:, picked].reshape(-1, *thetas.shape[2:]))
    n_sim, n_trials = thetas.shape[0], data.choice1.shape[0]
    uniforms = np.random.default_rng(seed).random(
        (n_sim, n_trials, agent.family.uniforms_per_trial)
    )
    if data.one_choice:
        out = {
            "choice1": np.empty((n_sim, n_trials), np.int8),
            "state2": np.empty((n_sim, n_trials), np.int8),
            "reward": np.empty((n_sim, n_trials)),
            "common": np.empty((n_sim, n_trials), bool),
        }
        payoff = data.payoff if data.bernoulli else data.payoff * data.reward_scale
        agent.family.replay_draws(
            thetas, data.offsets, data.state1, data.condition, payoff, data.bernoulli,
            data.reversed, data.missed, data.stage2_missed, data.p_common, STICK_WITHIN_STATE,
            uniforms, *out.values(),
        )  # fmt: skip
        if not data.bernoulli:  # the agents learnt from scaled points: report points
            state2 = np.maximum(out["state2"], 0)  # MISSING_CODE on fully missed trials
            points = np.take_along_axis(data.payoff, state2.T, axis=1).T
            out["reward"] = np.where(np.isnan(out["reward"]), np.nan, points)
    else:
        out = {
            "choice1": np.empty((n_sim, n_trials), np.int8),
            "state2": np.empty((n_sim, n_trials), np.int8),
            "choice2": np.empty((n_sim, n_trials), np.int8),
            "reward": np.empty((n_sim, n_trials)),
            "common": np.empty((n_sim, n_trials), bool),
        }
        agent.family.replay_draws(
            agent.family.kind, thetas, data.offsets, data.reward_prob,
            data.condition, data.reversed, data.new_states, data.missed, data.stage2_missed,
            data.p_common, uniforms, *out.values(),
        )  # fmt: skip
    keep = data.observed
    coords = {
        "chain": idata.posterior.chain.values,
        "draw": idata.posterior.draw.values[picked],
        **_obs_coords(data),
    }
    dataset = xr.Dataset(
        {
            name: xr.DataArray(
                values[:, keep].reshape(chains, len(picked), -1),
                dims=("chain", "draw", "obs"),
                coords=coords,
            )
            for name, values in out.items()
        }
    )
    idata.add_groups(posterior_predictive=dataset)


def diagnostics(idata) -> dict:
    """Worst R-hat, smallest bulk ESS (with their variables), divergences and depth hits.

    ``tree_depth_hits`` counts the draws whose NUTS trajectory stopped at the
    sampler's depth limit (nutpie's ``maxdepth_reached``; 0 when not recorded).
    Such draws are valid but the sampler moved less far than it wanted to: bulk ESS
    falls, and a limit set low to bound a fit's time shows up here.

    Every value is JSON-safe. The worst values are over the variables where they
    are defined: variables whose draws never vary (NaN) are listed in
    ``max_rhat_undefined`` / ``min_ess_bulk_undefined``. R-hat is ``None`` for a
    single chain, or when infinite (chains stuck at different values); a
    ``max_rhat_note`` / ``min_ess_bulk_note`` says why.
    """
    az = import_arviz()
    posterior = idata.posterior
    n_chains = int(posterior.sizes["chain"])
    found = {}
    if n_chains < 2:
        found |= {"max_rhat": None, "max_rhat_variable": None,
                  "max_rhat_note": "R-hat is undefined for one chain: run two or more chains "
                                   "to check convergence"}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant draws: NaN, reported
        if n_chains >= 2:
            found |= _extreme(az.rhat(posterior), "max_rhat", max)
        found |= _extreme(az.ess(posterior, method="bulk"), "min_ess_bulk", min)
    return found | {
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "tree_depth_hits": int(idata.sample_stats.get("maxdepth_reached", np.int64(0)).sum()),
        "draws": int(n_chains * posterior.sizes["draw"]),
        "chains": n_chains,
    }


def _extreme(values, key: str, pick) -> dict:
    """``{key: worst finite value, key_variable: its variable}``, and where some
    variables' values are undefined (NaN: draws that never vary) or infinite (R-hat
    of chains stuck apart), ``key_undefined`` listing them and ``key_note`` saying so.

    An undefined variable never hides another's bad value; an infinite R-hat is the
    worst of all and is reported as ``None`` (JSON has no infinity) with its note.
    """
    worst, worst_variable, undefined, infinite = None, None, [], []
    for variable in values.data_vars:
        array = np.asarray(values[variable].values, dtype=float).ravel()
        if np.isnan(array).any():
            undefined.append(variable)
        if np.isinf(array).any():
            infinite.append(variable)
        finite = array[np.isfinite(array)]
        if finite.size and (worst is None or pick(worst, pick(finite)) != worst):
            worst, worst_variable = float(pick(finite)), variable
    found = {key: worst, f"{key}_variable": worst_variable}
    notes = []
    if infinite:
        found |= {key: None, f"{key}_variable": infinite[0]}
        notes.append(f"infinite for '{infinite[0]}' (chains stuck at different values)")
    if undefined:
        found[f"{key}_undefined"] = undefined
        notes.append(f"undefined for '{undefined[0]}' (its draws do not vary)")
    if notes:
        found[f"{key}_note"] = "; ".join(notes)
    return found


def convergence_problems(found: Mapping) -> list[str]:
    """What keeps a fit's diagnostics ``found`` (:func:`cogarb.fitting.diagnostics`)
    from the thresholds a quoted number needs; empty when it meets them all.

    The thresholds: R-hat ≤ ``RHAT_MAX`` (1.01) and bulk ESS ≥ ``ESS_MIN`` (400) for
    every variable (Vehtari et al. 2021), no divergent transition and no draw at the
    tree-depth limit. R-hat is undefined for one chain and ESS for draws that never
    vary: both are problems, since neither shows convergence.
    """
    problems = []
    rhat, ess = found.get("max_rhat"), found.get("min_ess_bulk")
    if rhat is None:
        problems.append(found.get("max_rhat_note") or "R-hat undefined")
    elif not rhat <= RHAT_MAX:
        problems.append(f"max R-hat {rhat:.3f} > {RHAT_MAX} ({found['max_rhat_variable']})")
    if ess is None:
        problems.append(f"bulk ESS {found.get('min_ess_bulk_note') or 'undefined'}")
    elif not ess >= ESS_MIN:
        problems.append(f"min bulk ESS {ess:.0f} < {ESS_MIN} ({found['min_ess_bulk_variable']})")
    undefined = sorted(
        {*found.get("max_rhat_undefined", ()), *found.get("min_ess_bulk_undefined", ())}
    )
    if undefined and rhat is not None and ess is not None:
        problems.append(f"R-hat and ESS undefined for {', '.join(undefined)}")
    if found.get("divergences"):
        problems.append(f"{found['divergences']} divergent transitions")  # of all draws
    if found.get("tree_depth_hits"):
        problems.append(
            f"{found['tree_depth_hits']} of {found['draws']} draws at the tree-depth limit"
        )
    return problems


def next_step(found: Mapping) -> str:
    """The one thing to do next about a fit with diagnostics ``found``, most urgent first."""
    problems = convergence_problems(found)
    rhat, ess = found.get("max_rhat"), found.get("min_ess_bulk")
    if found["chains"] < 2:
        return "run 2 or more chains (--chains 4): one chain cannot show convergence"
    if rhat is None or any(p.startswith("max R-hat") for p in problems):
        longer = max(2000, 2 * (found["draws"] // found["chains"]))  # at least twice as long
        return (
            f"the chains disagree: run longer (--tune {longer} --draws {longer}); if R-hat stays "
            "high, check the data and simplify the model"
        )
    if found["divergences"]:
        return (
            "divergent transitions bias the estimates: raise the target acceptance rate "
            "(sampler.target_accept = 0.95 in the fit.toml; sampler_options={'target_accept': "
            "0.95} in cogarb.fit) or tighten the *_scale priors; do not quote this fit"
        )
    if found["tree_depth_hits"]:
        return (
            "draws stopped at the tree-depth limit: raise sampler.max_tree_depth in the "
            "fit.toml (or set sampler.low_rank_mass_matrix = true)"
        )
    if ess is None or ess < ESS_MIN:
        per_chain = found["draws"] // found["chains"]
        needed = per_chain * ESS_MIN / ess if ess else 2 * per_chain
        suggest = int(math.ceil(needed * 1.2 / 500) * 500)  # 20% margin, in steps of 500
        return f"draw more: about --draws {suggest} per chain for a bulk ESS of {ESS_MIN}"
    if problems:  # variables whose draws never vary
        return f"check the model: {problems[0]}"
    pareto = found.get("pareto_k")
    if pareto and pareto.get("bad", 0) + pareto.get("very_bad", 0):
        return (
            "converged; PSIS-LOO is unreliable for "
            f"{pareto['bad'] + pareto['very_bad']} trials (Pareto k too high): compare "
            "these fits by K-fold cross-validation over participants, not by PSIS-LOO"
        )
    return "converged: these estimates meet the thresholds to be quoted (diagnostics.json)"


def warn_on_diagnostics(idata) -> dict:
    """Warn (:class:`SamplingWarning`) when the diagnostics miss a threshold
    (:func:`convergence_problems`), with the step to take (:func:`next_step`);
    return the diagnostics."""
    found = diagnostics(idata)
    problems = convergence_problems(found)
    if problems:
        warnings.warn(f"{'; '.join(problems)}; next: {next_step(found)}", SamplingWarning,
                      stacklevel=3)  # fmt: skip
    return found


def summary(idata, var_names: Sequence[str] | None = None) -> pd.DataFrame:
    """ArviZ summary of the group means ``mu_*``, scales, slopes and effects by default."""
    az = import_arviz()
    if var_names is None:
        var_names = [
            v
            for v in idata.posterior.data_vars
            if v.startswith(("mu_", "slope_")) or v.endswith(("_scale", "_effect_loc"))
        ]
    return az.summary(idata, var_names=list(var_names), round_to="none")
