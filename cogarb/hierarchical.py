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

Priors (defaults, :func:`cogarb.model_spec.default_prior`; override per parameter
with ``priors``):

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

from collections.abc import Mapping, Sequence

import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from cogarb.agents import Agent, kernel_matrix
from cogarb.arrays import DATA_FIELDS
from cogarb.likelihood import cohort_loglik_op
from cogarb.model_spec import ModelSpec, model_spec


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
        a potential ``loglik``.
    """
    spec = model_spec(
        trials, agent, conditions=conditions, covariates=covariates, priors=priors,
        p_common=p_common, reward_scale=reward_scale, centred=centred,
    )  # fmt: skip
    return model_from_spec(spec)


def model_from_spec(spec: ModelSpec) -> pm.Model:
    """Build the PyMC model of a :class:`~cogarb.model_spec.ModelSpec` (see
    :func:`build_model` for its variables)."""
    agent, data, condition = spec.agent, spec.data, spec.condition
    coords = {"participant": list(data.participants)}
    if condition:
        coords[condition[1]] = [str(level) for level in spec.levels]
    with pm.Model(coords=coords) as model:
        shared = [pm.Data(n, a) for n, a in zip(DATA_FIELDS, data.kernel_data(), strict=True)]
        x = spec.covariate_values
        if spec.covariate_columns:
            x = pm.Data("covariates", x)  # data, not constants: compiled models are reused
        natural = {}
        for parameter in agent.parameters:
            natural[parameter.name] = _parameter(
                parameter, spec.priors[parameter.name], spec.covariates.get(parameter.name, ()),
                spec.covariate_columns, x, condition, spec.centred,
            )  # fmt: skip
        thetas = kernel_matrix(agent, natural, condition[0] if condition else None, xp=pt)
        totals, _ = cohort_loglik_op(agent, data.p_common)(thetas, *shared)
        pm.Potential("loglik", totals.sum())
    return model


def _parameter(parameter, prior, own_covariates, all_covariates, x, condition, centred):
    """Declare one parameter's group and participant variables; return its natural value."""
    name = parameter.name
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
        value = pm.Deterministic(name, parameter.inverse(levels, pt), dims=("participant", column))
        pm.Deterministic(
            f"mu_{name}",
            parameter.inverse(pt.stack([loc, loc + effect_loc]), pt),
            dims=(column,),
        )
        return value
    value = pm.Deterministic(name, parameter.inverse(raw, pt), dims="participant")
    pm.Deterministic(f"mu_{name}", parameter.inverse(loc, pt))
    return value
