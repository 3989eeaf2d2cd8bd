"""Hierarchical PyMC models of every agent, non-centred by default.

For each free parameter θ of the agent, with unconstrained transform g (logit for
parameters in [0, 1], log for positive ones, identity for the perseveration
``p``; see :mod:`cogarb.agents`) and participant i::

    g(θ_i) = loc_θ + Σ_c slope_θ,c x̃_i,c + scale_θ z_θ,i,      z_θ,i ~ N(0, 1)

with x̃ the covariates standardised over participants (slopes are per standard
deviation). The centred form (``centred=True``) is the same model written as::

    u_θ,i = g(θ_i) ~ N(loc_θ + Σ_c slope_θ,c x̃_i,c, scale_θ)

It can sample better when each participant has many trials: the data then pin
each g(θ_i), and in the non-centred form
z_θ,i = (g(θ_i) − loc_θ − …) / scale_θ moves with every change of loc_θ and scale_θ,
a narrow, curved posterior that forces small steps. With few trials per
participant the prior dominates g(θ_i), the centred form has the funnel
(Neal 2003) and the non-centred form is the better one (Papaspiliopoulos, Roberts &
Sköld 2007, Statistical Science 22:59; Betancourt & Girolami 2015, arXiv:1312.0906).

A within-participant condition effect on θ (a two-level trial column, e.g. ``load``
or ``stakes``) adds, on trials at the second level::

    g(θ_i, level 2) = g(θ_i) + effect_loc_θ + effect_scale_θ z'_θ,i

Priors (defaults; override per parameter with ``priors``):

==============  ===================================  ======================
transform       loc_θ                                scale_θ
==============  ===================================  ======================
logit           Normal(0, 1.5)                       HalfNormal(1)
log             Normal(log(default), 1)              HalfNormal(0.5)
identity        Normal(0, 1)                         HalfNormal(0.5)
==============  ===================================  ======================

slope ~ Normal(0, 1); effect_loc ~ Normal(0, 1); effect_scale ~ HalfNormal(0.5).
Normal(0, 1.5) on the logit scale puts a nearly flat prior on g⁻¹(loc) in [0, 1].

Named outputs: ``θ`` (dims ``participant``, plus the condition's dim when θ has a
condition effect) on the natural scale, and ``mu_θ`` = g⁻¹(loc_θ (+ effect)), the
group median on the natural scale (at the covariates' mean).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from cogarb.agents import Agent, get_agent
from cogarb.data import TrialDataError, cell_value, file_row, to_numbers, validate_trials
from cogarb.likelihood import (
    DATA_FIELDS,
    TrialArrays,
    binary_levels,
    cohort_loglik_op,
    kernel_thetas,
    trial_arrays,
)

DATA_NAMES = DATA_FIELDS
PRIOR_KEYS = ("loc", "scale")


def default_prior(agent: Agent, name: str) -> dict:
    """Default prior of parameter ``name``: ``{"loc": (mean, sd), "scale": sd}``."""
    spec = agent.parameter(name)
    if spec.transform == "logit":
        return {"loc": (0.0, 1.5), "scale": 1.0}
    if spec.transform == "log":
        return {"loc": (math.log(spec.default), 1.0), "scale": 0.5}
    return {"loc": (0.0, 1.0), "scale": 0.5}


def _priors(agent: Agent, priors: Mapping | None) -> dict[str, dict]:
    out = {name: default_prior(agent, name) for name in agent.parameter_names}
    for name, prior in (priors or {}).items():
        agent.parameter(name)  # raises with the agent's parameter names
        unknown = set(prior) - set(PRIOR_KEYS)
        if unknown:
            raise ValueError(
                f"prior of '{name}' has unknown key(s) {sorted(unknown)} (allowed: loc, scale)"
            )
        merged = {**out[name], **prior}
        mean, sd = merged["loc"]
        if not (math.isfinite(mean) and sd > 0 and merged["scale"] > 0):
            raise ValueError(f"prior of '{name}' needs a finite mean and positive sds: {prior}")
        out[name] = {"loc": (float(mean), float(sd)), "scale": float(merged["scale"])}
    return out


def _condition(agent: Agent, conditions: Mapping[str, str] | None) -> tuple[str, str] | None:
    if not conditions:
        return None
    if len(conditions) > 1:
        raise ValueError(f"one condition effect is supported, got {dict(conditions)}")
    ((name, column),) = conditions.items()
    agent.parameter(name)
    if agent.shared.get("w_noload") != name or agent.shared.get("w_load") != name:
        raise ValueError(
            f"condition effects are supported on the weight 'w' of the hybrids; agent "
            f"'{agent.name}' cannot vary '{name}' by '{column}'"
            + (
                " (hybrid_load already has w_noload and w_load)"
                if agent.name == "hybrid_load"
                else ""
            )
        )
    return name, column


def covariate_matrix(
    trials: pd.DataFrame,
    participants: Sequence[str],
    columns: Sequence[str],
    source: str | None = None,
) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """Per-participant covariates, standardised; also their (mean, sd) for reporting.

    Each covariate must be a numeric trial column constant within participant, with
    a value on every trial (:class:`~cogarb.data.TrialDataError` naming ``source``,
    row, column and value otherwise).
    """
    source = source or trials.attrs.get("source", "trials")
    key = trials["participant"].astype(str)
    out = np.empty((len(participants), len(columns)))
    scaling = {}
    for j, column in enumerate(columns):
        if column not in trials.columns:
            raise ValueError(f"covariate column '{column}' is not in the trials")
        # refuses text, dates and integers a float would round, naming row and value
        numbers, missing = to_numbers(trials[column], column, source)
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise TrialDataError(
                source, file_row(trials, i), column, cell_value(trials[column], i),
                "is missing: a participant covariate needs a value on every trial",
            )  # fmt: skip
        values = pd.Series(numbers, index=trials.index)
        stats = values.groupby(key, sort=False).agg(["nunique", "first"])
        varying = stats.index[stats["nunique"] > 1]
        if len(varying):
            raise ValueError(
                f"covariate '{column}' varies within participant '{varying[0]}'; "
                "participant covariates must be constant over a participant's trials"
            )
        x = stats["first"].reindex(list(participants)).to_numpy(float)
        mean, sd = float(x.mean()), float(x.std())
        if not sd > 0:
            raise ValueError(f"covariate '{column}' does not vary across participants")
        out[:, j] = (x - mean) / sd
        scaling[column] = (mean, sd)
    return out, scaling


def inverse_transform(agent: Agent, name: str, x, xp=pt):
    """Map unconstrained values to the natural scale of parameter ``name``."""
    transform = agent.parameter(name).transform
    if transform == "logit":
        return pm.math.invlogit(x) if xp is pt else 1.0 / (1.0 + np.exp(-x))
    if transform == "log":
        return xp.exp(x)
    return x


def build_model(
    trials: pd.DataFrame,
    agent: str | Agent = "hybrid",
    conditions: Mapping[str, str] | None = None,
    covariates: Mapping[str, Sequence[str]] | None = None,
    priors: Mapping[str, Mapping] | None = None,
    p_common: float = 0.7,
    reward_scale: float = 1.0,
    centred: bool = False,
) -> pm.Model:
    """Build the hierarchical model of ``agent`` for a table of trials.

    Parameters
    ----------
    trials : pandas.DataFrame
        Trials in the tidy schema (see :func:`cogarb.validate_trials`).
    agent : str or Agent
        ``"mf"``, ``"mb"``, ``"hybrid"``, ``"hybrid_load"`` or ``"arbitrator"`` for
        tasks with a second-stage choice; ``"mf_one_choice"``, ``"mb_one_choice"``
        or ``"hybrid_one_choice"`` for tasks without one (``stage2_choice`` false:
        Kool et al. 2016, 2017; Akam et al. 2015). Each refuses the other's data.
    conditions : dict, optional
        ``{"w": column}``: a within-participant effect of a two-level trial column
        (``load``, ``stakes``) on the weight ``w`` of ``hybrid`` or
        ``hybrid_one_choice``.
    covariates : dict, optional
        ``{parameter: [column, ...]}``: participant-level covariates (constant
        within participant) with linear effects on the unconstrained scale.
    priors : dict, optional
        ``{parameter: {"loc": (mean, sd), "scale": sd}}`` overriding the defaults
        of the module docstring, on the unconstrained scale.
    p_common : float
        Instructed probability of the common transition; 1 (deterministic) is
        allowed for tasks without a second-stage choice (Kool's).
    reward_scale : float
        Factor applied to the rewards before the likelihood (default 1): 1/9 for
        Kool et al. (2017)'s points 0..9, 1/5 for Kool et al. (2016)'s −4..+5, so
        that the largest payoff is 1 and β₁'s prior means the same as with 0/1
        rewards (see :mod:`cogarb.likelihood`).
    centred : bool
        Declare each participant's unconstrained parameter with its group
        distribution (``<θ>_u``) instead of the default non-centred ``<θ>_z``: for
        data with many trials per participant (see the module docstring). Condition
        effects stay non-centred.

    Returns
    -------
    pymc.Model
        With free variables ``<θ>_loc``, ``<θ>_scale``, ``<θ>_z`` (``<θ>_u`` when
        centred; and ``slope_<θ>``, ``<θ>_effect_*``), deterministics ``<θ>`` and
        ``mu_<θ>``, and
        a potential ``loglik``. ``model.cogarb`` holds the :class:`TrialArrays`
        and settings used by :func:`cogarb.fit`.
    """
    agent = get_agent(agent)
    if not isinstance(centred, bool):
        raise ValueError(f"centred must be True or False, got {centred!r}")
    trials = validate_trials(trials)
    condition = _condition(agent, conditions)
    levels = binary_levels(trials, condition[1]) if condition else None
    data = trial_arrays(
        trials, condition[1] if condition else None, p_common, validated=True, agent=agent,
        reward_scale=reward_scale,
    )  # fmt: skip
    if agent.name == "hybrid_load" and "load" not in trials.columns:
        raise ValueError("agent 'hybrid_load' needs a 'load' column in the trials")
    covariates = {k: list(v) for k, v in (covariates or {}).items()}
    for name in covariates:
        agent.parameter(name)
    covariate_columns = sorted({c for cols in covariates.values() for c in cols})
    x, scaling = covariate_matrix(trials, data.participants, covariate_columns)
    prior = _priors(agent, priors)

    coords = {"participant": list(data.participants)}
    if condition:
        coords[condition[1]] = [str(level) for level in levels]
    with pm.Model(coords=coords) as model:
        shared = [pm.Data(n, a) for n, a in zip(DATA_NAMES, data.kernel_data(), strict=True)]
        if covariate_columns:
            x = pm.Data("covariates", x)  # data, not constants: compiled models are reused
        natural = {}
        for name in agent.parameter_names:
            natural[name] = _parameter(
                agent, name, prior[name], covariates.get(name, []), covariate_columns, x,
                condition, centred,
            )  # fmt: skip
        thetas = kernel_thetas(agent, natural, condition[0] if condition else None, xp=pt)
        totals, _ = cohort_loglik_op(agent, data.p_common)(thetas, *shared)
        pm.Potential("loglik", totals.sum())
    model.cogarb = {
        "agent": agent.name,
        "data": data,
        "condition": condition,
        "covariates": covariates,
        "covariate_scaling": scaling,
        "priors": prior,
        "trials": trials,
        "reward_scale": data.reward_scale,
        "centred": centred,
    }
    return model


def _parameter(agent, name, prior, own_covariates, all_covariates, x, condition, centred):
    """Declare one parameter's group and participant variables; return its natural value."""
    mean, sd = prior["loc"]
    loc = pm.Normal(f"{name}_loc", mean, sd)
    scale = pm.HalfNormal(f"{name}_scale", prior["scale"])
    if not centred:  # z before the slopes: the variable order of fits made before `centred`
        z = pm.Normal(f"{name}_z", 0.0, 1.0, dims="participant")
    centre = loc
    for column in own_covariates:
        slope = pm.Normal(f"slope_{name}_{column}", 0.0, 1.0)
        centre = centre + slope * x[:, all_covariates.index(column)]
    if centred:
        raw = pm.Normal(f"{name}_u", centre, scale, dims="participant")
    else:
        raw = centre + scale * z
    if condition and condition[0] == name:
        column = condition[1]
        effect_loc = pm.Normal(f"{name}_effect_loc", 0.0, 1.0)
        effect_scale = pm.HalfNormal(f"{name}_effect_scale", 0.5)
        effect_z = pm.Normal(f"{name}_effect_z", 0.0, 1.0, dims="participant")
        levels = pt.stack([raw, raw + effect_loc + effect_scale * effect_z], axis=-1)
        value = pm.Deterministic(
            name, inverse_transform(agent, name, levels), dims=("participant", column)
        )
        pm.Deterministic(
            f"mu_{name}",
            inverse_transform(agent, name, pt.stack([loc, loc + effect_loc])),
            dims=(column,),
        )
        return value
    value = pm.Deterministic(name, inverse_transform(agent, name, raw), dims="participant")
    pm.Deterministic(f"mu_{name}", inverse_transform(agent, name, loc))
    return value


def model_data(model: pm.Model) -> TrialArrays:
    """The :class:`TrialArrays` a model built by :func:`build_model` was built on."""
    try:
        return model.cogarb["data"]
    except AttributeError:
        raise ValueError("this model was not built by cogarb.build_model") from None
