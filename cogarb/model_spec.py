"""The frozen specification of a hierarchical model: what :func:`cogarb.fit` fits.

:func:`model_spec` validates the trials and every model option once, flattens
the trials (:func:`cogarb.arrays.trial_arrays`), standardises the covariates and
resolves the priors, and returns a :class:`ModelSpec`. The PyMC model is built
from it (:func:`cogarb.hierarchical.model_from_spec`), the compiled-model cache
keys on it (:meth:`ModelSpec.cache_key`) and the fit's outputs are described
from it, so no layer resolves the agent or the options again. This module does
not import PyMC. The model and its default priors are documented in
:mod:`cogarb.hierarchical`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cogarb.agents import Agent, get_agent
from cogarb.arrays import TrialArrays, binary_levels, trial_arrays
from cogarb.schema import TrialDataError, cell_value, file_row, to_numbers, validate_trials

PRIOR_KEYS = ("loc", "scale")


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """Everything a hierarchical model is built from, validated once.

    Attributes
    ----------
    agent : Agent
        The agent (any :class:`~cogarb.agents.Agent`, built-in or user-made).
    trials : pandas.DataFrame
        The validated trials (:func:`cogarb.validate_trials`).
    data : TrialArrays
        The trials flattened for the likelihood.
    condition : (parameter, column) or None
        A within-participant condition effect on ``parameter``.
    levels : list or None
        The condition column's two levels, the reference first.
    covariates : dict
        ``{parameter: (column, ...)}``.
    covariate_columns : tuple of str
        Every covariate column, sorted: the columns of ``covariate_values``.
    covariate_values : numpy.ndarray
        (n_participants, n_covariates), standardised over participants.
    covariate_scaling : dict
        ``{column: (mean, sd)}`` before standardising.
    priors : dict
        ``{parameter: {"loc": (mean, sd), "scale": sd}}``, defaults filled in.
    centred : bool
    """

    agent: Agent
    trials: pd.DataFrame
    data: TrialArrays
    condition: tuple[str, str] | None
    levels: list | None
    covariates: Mapping[str, tuple[str, ...]]
    covariate_columns: tuple[str, ...]
    covariate_values: np.ndarray
    covariate_scaling: Mapping[str, tuple[float, float]]
    priors: Mapping[str, dict]
    centred: bool

    def cache_key(self) -> tuple:
        """What the compiled model depends on beyond the data's values: the agent's
        definition (not its name), the model's structure, its priors and the cohort
        size. Two specs with equal keys can share one compiled model."""
        return (
            self.agent.definition,
            self.condition,
            tuple(sorted(self.covariates.items())),
            tuple(sorted((k, tuple(sorted(v.items()))) for k, v in self.priors.items())),
            self.data.n_participants,
            self.data.p_common,
            self.centred,
        )


def model_spec(
    trials: pd.DataFrame,
    agent: str | Agent = "hybrid",
    conditions: Mapping[str, str] | None = None,
    covariates: Mapping[str, Sequence[str]] | None = None,
    priors: Mapping[str, Mapping] | None = None,
    p_common: float = 0.7,
    reward_scale: float = 1.0,
    centred: bool = False,
) -> ModelSpec:
    """Validate trials and model options into a :class:`ModelSpec`.

    The arguments are those of :func:`cogarb.build_model`.

    Raises
    ------
    ValueError, TrialDataError
        For trials the agent does not model, an unknown parameter or column, a
        condition or covariate the data cannot support, or a bad prior, naming
        what is wrong.
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
    covariates = {k: tuple(v) for k, v in (covariates or {}).items()}
    for name in covariates:
        agent.parameter(name)
    covariate_columns = tuple(sorted({c for cols in covariates.values() for c in cols}))
    x, scaling = covariate_matrix(trials, data.participants, covariate_columns)
    return ModelSpec(
        agent=agent,
        trials=trials,
        data=data,
        condition=condition,
        levels=levels,
        covariates=covariates,
        covariate_columns=covariate_columns,
        covariate_values=x,
        covariate_scaling=scaling,
        priors=resolve_priors(agent, priors),
        centred=centred,
    )


def default_prior(agent: Agent, name: str) -> dict:
    """Default prior of parameter ``name``: ``{"loc": (mean, sd), "scale": sd}``."""
    spec = agent.parameter(name)
    if spec.transform == "logit":
        return {"loc": (0.0, 1.5), "scale": 1.0}
    if spec.transform == "log":
        return {"loc": (math.log(spec.default), 1.0), "scale": 0.5}
    return {"loc": (0.0, 1.0), "scale": 0.5}


def resolve_priors(agent: Agent, priors: Mapping[str, Mapping] | None = None) -> dict[str, dict]:
    """The priors a fit of ``agent`` uses: :func:`default_prior` for every parameter,
    updated by ``priors``.

    Parameters
    ----------
    agent : Agent
    priors : dict, optional
        ``{parameter: {"loc": (mean, sd), "scale": sd}}``; either key may be left out.

    Returns
    -------
    dict
        ``{parameter: {"loc": (mean, sd), "scale": sd}}`` for every parameter of the
        agent, in its order, as floats.

    Raises
    ------
    ValueError
        For an unknown parameter or key, a non-finite mean or a non-positive sd.
    """
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
                f" ({agent.name} already has w_noload and w_load)"
                if {"w_noload", "w_load"} <= set(agent.parameter_names)
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
    a value on every trial (:class:`~cogarb.schema.TrialDataError` naming ``source``,
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
