"""Agents users define: a restriction of a built-in family runs through the public API.

The example is the hybrid with λ fixed at 1 (Kool et al. 2016's models; hBayesDM's
``ts_par6`` has no λ either): the model-free stage-1 value then learns from the
reward itself. Simulation, likelihood, fit, recovery and comparison must treat it
as its own model, never as the built-in hybrid, even when it borrows that name.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.agents import ALPHA1, ALPHA2, BETA1, BETA2, PERSEVERATION, Agent, W
from cogarb.arrays import trial_arrays
from cogarb.fitting import SamplingWarning, posterior_thetas
from cogarb.likelihood import per_trial_loglik
from cogarb.model_spec import model_spec
from cogarb.simulate import parameter_matrix

pytestmark = pytest.mark.filterwarnings("error:Numba will use object mode:UserWarning")

FEW = {"draws": 30, "tune": 30, "chains": 2, "progress": False}
W_SHARED = {"w_noload": "w", "w_load": "w"}


def lambda_one(name="hybrid_lambda1"):
    return Agent(
        name, (ALPHA1, ALPHA2, BETA1, BETA2, PERSEVERATION, W), fixed={"lambda": 1.0},
        shared=W_SHARED, description="the hybrid with lambda = 1",
    )  # fmt: skip


def quietly(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # 60 draws cannot reach ESS 400
        return f(*args, **kwargs)


@pytest.fixture(scope="module")
def trials():
    return cogarb.simulate("daw2011", lambda_one(), {"w": 0.6}, n_participants=5, seed=4)


@pytest.fixture(scope="module")
def custom_fit(trials):
    return quietly(cogarb.fit, trials, lambda_one(), seed=2, posterior_predictive=6, **FEW)


def test_a_restricted_agent_simulates_as_the_hybrid_at_its_fixed_value():
    custom = cogarb.simulate("daw2011", lambda_one(), {"w": 0.6}, n_participants=5, seed=4,
                             internals=True)  # fmt: skip
    hybrid = cogarb.simulate("daw2011", "hybrid", {"w": 0.6, "lambda": 1.0}, n_participants=5,
                             seed=4, internals=True)  # fmt: skip
    pd.testing.assert_frame_equal(custom, hybrid)
    with pytest.raises(ValueError, match=r"unknown parameter 'lambda'.*hybrid_lambda1"):
        cogarb.simulate("daw2011", lambda_one(), {"lambda": 0.5})


def test_its_likelihood_is_the_hybrids_at_lambda_one(trials):
    data = trial_arrays(trials)
    custom, _ = parameter_matrix(lambda_one(), {"w": 0.3, "beta1": 4.0}, 5)
    hybrid, _ = parameter_matrix(cogarb.get_agent("hybrid"), {"w": 0.3, "beta1": 4.0,
                                                              "lambda": 1.0}, 5)  # fmt: skip
    np.testing.assert_array_equal(custom, hybrid)
    ll = per_trial_loglik(lambda_one(), custom, data)
    assert np.isfinite(ll).all() and ll.sum() < 0
    # and lambda matters: the default hybrid (lambda 0.57) gives other values
    default, _ = parameter_matrix(cogarb.get_agent("hybrid"), {"w": 0.3, "beta1": 4.0}, 5)
    assert not np.allclose(per_trial_loglik("hybrid", default, data), ll)


def test_fit_samples_its_own_parameters_and_lambda_stays_fixed(trials, custom_fit):
    posterior = custom_fit.posterior
    assert "lambda" not in posterior and "mu_lambda" not in posterior
    assert {"w", "mu_w", "alpha1", "beta2"} <= set(posterior.data_vars)
    assert posterior.attrs["agent"] == "hybrid_lambda1"
    thetas = posterior_thetas(custom_fit, lambda_one())
    lambda_column = cogarb.get_agent("hybrid").family.column("lambda")
    assert (thetas[..., lambda_column] == 1.0).all()
    # the stored trial log-likelihood is the kernel's at those parameters
    data = trial_arrays(trials)
    expected = per_trial_loglik(lambda_one(), thetas[0, 0], data)[~data.missed]
    np.testing.assert_allclose(custom_fit.log_likelihood["trial"][0, 0], expected, rtol=1e-12)
    assert custom_fit.posterior_predictive["choice1"].shape[-1] == int((~data.missed).sum())


def test_a_custom_agent_under_a_built_in_name_is_not_the_built_in(trials, custom_fit):
    """Same name, other definition: its own compiled model, its own variables."""
    impostor = lambda_one(name="hybrid")
    idata = quietly(cogarb.fit, trials, impostor, seed=2, **FEW)
    assert "lambda" not in idata.posterior
    # the same definition under the same seed gives the same draws as under its own name
    np.testing.assert_array_equal(idata.posterior["w"], custom_fit.posterior["w"])
    built_in = quietly(cogarb.fit, trials, "hybrid", seed=2, **FEW)
    assert "lambda" in built_in.posterior


def test_agents_that_differ_only_in_a_fixed_value_are_different_models(trials, custom_fit):
    """Same name, same free parameters and priors, λ fixed at 0 instead of 1: a cache
    keyed on the name would hand back the λ = 1 model and sample it again."""
    lambda_zero = Agent(
        "hybrid_lambda1", lambda_one().parameters, fixed={"lambda": 0.0}, shared=W_SHARED
    )
    assert (
        model_spec(trials, lambda_zero).cache_key() != model_spec(trials, lambda_one()).cache_key()
    )
    idata = quietly(cogarb.fit, trials, lambda_zero, seed=2, **FEW)
    thetas = posterior_thetas(idata, lambda_zero)
    assert (thetas[..., cogarb.get_agent("hybrid").family.column("lambda")] == 0.0).all()
    data = trial_arrays(trials)
    expected = per_trial_loglik(lambda_zero, thetas[0, 0], data)[~data.missed]
    np.testing.assert_allclose(idata.log_likelihood["trial"][0, 0], expected, rtol=1e-12)
    assert not np.array_equal(idata.posterior["w"], custom_fit.posterior["w"])


def test_recover_and_compare_accept_the_custom_agent(custom_fit):
    result = quietly(cogarb.recover, lambda_one(), "daw2011", 5, seed=5, **FEW)
    assert set(result.summary.index) == set(lambda_one().parameter_names)
    assert "lambda" not in result.trials.columns
    hybrid = quietly(cogarb.fit, result.trials, "hybrid", seed=5, **FEW)
    table = cogarb.compare({"lambda = 1": result.idata, "hybrid": hybrid})
    assert set(table.index) == {"lambda = 1", "hybrid"}


@pytest.mark.parametrize(
    "definition, message",
    [
        (dict(parameters=(ALPHA1, ALPHA2, BETA1, BETA2, PERSEVERATION, W), shared=W_SHARED),
         "leaves kernel parameter 'lambda' undefined"),
        (dict(parameters=(ALPHA1, ALPHA2, BETA1, BETA2, PERSEVERATION, W),
              fixed={"lambda": 1.0, "zeta": 2.0}, shared=W_SHARED),
         "fixed 'zeta' is not a kernel parameter"),
        (dict(parameters=(ALPHA1, ALPHA2, BETA1, BETA2, PERSEVERATION, W, W),
              fixed={"lambda": 1.0}, shared=W_SHARED), "names a parameter twice"),
        (dict(parameters=(ALPHA1,), kernel="hybrid2"), "unknown kernel 'hybrid2'"),
        (dict(parameters=(ALPHA1, ALPHA2, BETA1, BETA2, PERSEVERATION, W),
              fixed={"lambda": float("nan")}, shared=W_SHARED), "is not finite"),
    ],
)  # fmt: skip
def test_a_definition_that_cannot_run_is_refused_when_made(definition, message):
    with pytest.raises(ValueError, match=message):
        Agent("bad", **definition)


def test_a_parameter_transform_must_match_its_bounds():
    with pytest.raises(ValueError, match="logit transform maps onto"):
        cogarb.Parameter("a", 0.0, 2.0, 0.5, "logit", "")
    with pytest.raises(ValueError, match="default 3.0 is not a finite value in"):
        cogarb.Parameter("a", 0.0, 1.0, 3.0, "logit", "")
    with pytest.raises(ValueError, match="transform must be one of"):
        cogarb.Parameter("a", 0.0, 1.0, 0.5, "probit", "")
    beta = cogarb.get_agent("hybrid").parameter("beta1")
    assert beta.inverse(beta.forward(5.19)) == pytest.approx(5.19, rel=1e-15)
