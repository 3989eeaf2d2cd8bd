"""Agents, likelihood, fits and simulation of tasks without a second-stage choice.

Kool et al. (2016)'s novel task and Kool et al. (2017)'s stakes task (two first-stage
states, deterministic transitions, points) and Akam et al. (2015)'s task (one
first-stage state, 80/20 transitions reversing in blocks): the likelihood equals the
simulator's choice probabilities, the PyTensor Op's gradient matches finite
differences in numba mode, short fits of every one-choice agent on a subset of the
committed Kool 2017 data give the expected variables, and the two agent families
refuse each other's data with a message naming the right agents.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
from parameter_draws import interior_values

import cogarb
from cogarb.agents import kernel_matrix
from cogarb.arrays import trial_arrays
from cogarb.fitting import SamplingWarning
from cogarb.likelihood import (
    cohort_loglik_op,
    loglik_and_grad,
    per_trial_loglik,
)
from cogarb.simulate import parameter_matrix

pytestmark = pytest.mark.filterwarnings("error:Numba will use object mode:UserWarning")

ROOT = Path(__file__).resolve().parent.parent
KOOL2017 = ROOT / "fits" / "kool2017_novel_stakes" / "trials.csv.gz"
KOOL2016 = ROOT / "fits" / "kool2016_novel" / "trials.csv.gz"
CASTRO = ROOT / "fits" / "castro_rodrigues2022" / "trials.csv.gz"
ONE_CHOICE = ("mf_one_choice", "mb_one_choice", "hybrid_one_choice")
TASKS = {"kool2016_novel": 1.0, "akam2015": 0.8}
FEW = {"draws": 30, "tune": 30, "chains": 2, "progress": False}


@pytest.fixture(scope="module")
def kool2017():
    """Six participants of Kool et al. (2017), their first 80 trials (with misses)."""
    trials = cogarb.read_trials(KOOL2017)
    keep = trials["participant"].isin(trials["participant"].cat.categories[:6])
    trials = trials[keep & (trials["trial"] <= 80)].reset_index(drop=True)
    trials["participant"] = trials["participant"].cat.remove_unused_categories()
    return trials


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("agent", ONE_CHOICE)
def test_loglik_equals_the_simulators_choice_probabilities(agent, task):
    params = pd.DataFrame(interior_values(agent, 3, seed=1))
    trials = cogarb.simulate(task, agent, params, seed=2, internals=True)
    assert not trials["stage2_choice"].any() and trials["choice2"].isna().all()
    assert set(trials["state1"].unique()) == ({0, 1} if task == "kool2016_novel" else {0})
    validated = cogarb.validate_trials(trials)
    assert not validated["missed"].any()
    data = trial_arrays(validated, p_common=TASKS[task], agent=agent)
    thetas, _ = parameter_matrix(cogarb.get_agent(agent), params, None)
    loglik = per_trial_loglik(agent, thetas, data)
    np.testing.assert_allclose(loglik, np.log(trials["prob_choice1"]), rtol=0, atol=1e-10)


def test_simulated_tasks_follow_their_designs():
    kool = cogarb.simulate("kool2016_novel", "hybrid_one_choice", n_participants=20, seed=3)
    assert kool["common"].all() and kool["reward"].between(-4, 5).all()
    assert (kool["reward"] % 1 == 0).all()
    assert (kool["state2"] == kool["choice1"]).all()  # deterministic transitions
    chosen = np.where(kool["state2"] == 0, kool["reward_state0"], kool["reward_state1"])
    np.testing.assert_array_equal(kool["reward"], chosen)
    steps = kool.groupby("participant", observed=True)["reward_state0"].diff().dropna()
    assert 1.5 < steps.std() < 2.5
    assert 0.4 < kool["state1"].mean() < 0.6
    akam = cogarb.simulate("akam2015", "hybrid_one_choice", n_participants=20, seed=4)
    assert 0.77 < akam["common"].mean() < 0.83
    destination = np.where(akam["transitions_reversed"], 1 - akam["choice1"], akam["choice1"])
    np.testing.assert_array_equal(akam["common"], akam["state2"] == destination)
    assert set(akam["p_reward_00"].unique()) == {0.2, 0.5, 0.8}
    np.testing.assert_array_equal(akam["p_reward_00"] + akam["p_reward_10"], 1.0)
    per_block = akam.groupby([akam["participant"], (akam["trial"] - 1) // 40], observed=True)
    assert (per_block["p_reward_00"].nunique() == 1).all()
    assert (per_block["transitions_reversed"].nunique() == 1).all()


def test_op_gradient_matches_finite_differences_in_numba_mode():
    agent = "hybrid_one_choice"
    trials = cogarb.simulate("akam2015", agent, n_participants=3, seed=5)
    trials = trials[trials["trial"] <= 80].reset_index(drop=True)
    trials["stakes"] = np.where(trials["trial"] % 3 == 0, 5, 1)
    data = trial_arrays(trials, condition="stakes", p_common=0.8, agent=agent)
    values = interior_values(agent, 3, seed=6)
    values["w"] = np.column_stack([values["w"], values["w"][::-1]])
    thetas = kernel_matrix(cogarb.get_agent(agent), values, condition_parameter="w")
    x = pt.dmatrix("thetas")
    totals, _ = cohort_loglik_op(agent, data.p_common)(x, *data.kernel_data())
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*object mode.*")
        f = pytensor.function([x], [totals.sum(), pytensor.grad(totals.sum(), x)], mode="NUMBA")
    value, grad = f(thetas)
    expected, _ = loglik_and_grad(agent, thetas, data)
    np.testing.assert_allclose(value, expected.sum(), atol=1e-10)
    step = 1e-6
    numeric = np.empty_like(thetas)
    for i in range(thetas.shape[0]):
        for k in range(thetas.shape[1]):
            up, down = thetas.copy(), thetas.copy()
            up[i, k] += step
            down[i, k] -= step
            numeric[i, k] = (f(up)[0] - f(down)[0]) / (2 * step)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)
    assert (np.abs(grad) > 1e-4).all()  # both weights, every parameter: not vacuous


@pytest.mark.parametrize("agent", ONE_CHOICE)
def test_short_fit_on_kool2017_with_stakes(kool2017, agent):
    conditions = {"w": "stakes"} if agent == "hybrid_one_choice" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # 60 draws: ESS is low
        idata = cogarb.fit(
            kool2017, agent, conditions=conditions, p_common=1.0, reward_scale=1 / 9,
            posterior_predictive=4, seed=1, **FEW,
        )  # fmt: skip
    spec = cogarb.get_agent(agent)
    posterior = idata.posterior
    assert "beta2" not in posterior
    for name in spec.parameter_names:
        dims = ("chain", "draw", "participant") + (("stakes",) if name == "w" else ())
        assert posterior[name].dims == dims
        assert np.isfinite(posterior[name]).all()
    if agent == "hybrid_one_choice":
        assert list(posterior["stakes"].values) == ["1.0", "5.0"]
        assert posterior["mu_w"].dims == ("chain", "draw", "stakes")
        assert "w_effect_loc" in posterior
    else:
        assert "w" not in posterior
    # every trial with a first-stage choice has a term: the complete ones and the
    # half-missed ones (reward not collected), whose term is log P(choice1)
    made = kool2017["choice1"].notna()
    half = kool2017["missed"] & made
    n_obs = int(made.sum())
    assert half.any() and (~made).any() and n_obs < len(kool2017)
    loglik = idata.log_likelihood["trial"]
    assert loglik.shape == (2, 30, n_obs) and (loglik < 0).all()
    observed = idata.observed_data
    assert set(observed.data_vars) == {"state1", "choice1", "state2", "reward"}
    np.testing.assert_array_equal(
        observed["reward"], kool2017.loc[made, "reward"].to_numpy()
    )  # in points, not scaled; NaN where the reward was not collected
    ppc = idata.posterior_predictive
    assert set(ppc.data_vars) == {"choice1", "state2", "reward", "common"}
    # the simulated participants miss the rewards the observed ones missed
    reward_missed = half[made].to_numpy()
    assert ppc["common"].all() and ppc["reward"][..., ~reward_missed].isin(np.arange(10)).all()
    assert np.isnan(ppc["reward"][..., reward_missed]).all()
    assert posterior.attrs["agent"] == agent
    assert posterior.attrs["reward_scale"] == pytest.approx(1 / 9)
    # the stored log-likelihood is the kernels' for the same draws
    data = trial_arrays(
        kool2017, "stakes" if conditions else None, 1.0, agent=agent, reward_scale=1 / 9
    )
    draw = {n: posterior[n].values[0, 0] for n in spec.parameter_names}
    thetas = kernel_matrix(spec, draw, "w" if conditions else None)
    expected = per_trial_loglik(agent, thetas, data)[data.observed]
    np.testing.assert_allclose(loglik.values[0, 0], expected, atol=1e-10)


def test_reward_scale_changes_beta1_only_by_its_unit(kool2017):
    """Scaling the points by c is the same as beta1 · c with p / c (p is inside beta1)."""
    agent = "hybrid_one_choice"
    spec = cogarb.get_agent(agent)
    values = interior_values(agent, 6, seed=7)
    raw = trial_arrays(kool2017, p_common=1.0, agent=agent)
    scaled = trial_arrays(kool2017, p_common=1.0, agent=agent, reward_scale=1 / 9)
    np.testing.assert_array_equal(scaled.reward, raw.reward)  # kept in points
    np.testing.assert_allclose(scaled.kernel_data()[4] * 9, raw.kernel_data()[4])
    a = per_trial_loglik(agent, kernel_matrix(spec, values), scaled)
    unscaled = {**values, "beta1": values["beta1"] / 9, "p": values["p"] * 9}
    b = per_trial_loglik(agent, kernel_matrix(spec, unscaled), raw)
    np.testing.assert_allclose(a, b, atol=1e-10)
    with pytest.raises(ValueError, match="reward_scale must be a positive"):
        trial_arrays(kool2017, p_common=1.0, agent=agent, reward_scale=0)


def test_real_akam_and_kool2016_subsets_have_finite_likelihoods():
    castro = cogarb.read_trials(CASTRO)
    reversing = castro.groupby("participant", observed=True)["transitions_reversed"].any()
    ids = list(reversing[reversing].index[:2])  # participants with transition reversals
    castro = castro[castro["participant"].isin(ids)]
    data = trial_arrays(castro, p_common=0.8, agent="hybrid_one_choice")
    assert data.bernoulli and data.payoff.shape == (len(castro), 2) and data.reversed.any()
    thetas, _ = parameter_matrix(cogarb.get_agent("hybrid_one_choice"), {}, 2)
    assert np.isfinite(per_trial_loglik("hybrid_one_choice", thetas, data)).all()
    kool = cogarb.read_trials(KOOL2016)
    kool = kool[kool["participant"].isin(kool["participant"].cat.categories[:2])]
    data = trial_arrays(kool, p_common=1.0, agent="mb_one_choice", reward_scale=1 / 5)
    assert set(np.unique(data.state1)) == {0, 1} and not data.bernoulli
    thetas, _ = parameter_matrix(cogarb.get_agent("mb_one_choice"), {}, 2)
    assert np.isfinite(per_trial_loglik("mb_one_choice", thetas, data)).all()


@pytest.mark.parametrize("agent", ["hybrid", "mf", "mb", "hybrid_load", "arbitrator"])
def test_two_choice_agents_refuse_one_choice_data(kool2017, agent):
    with pytest.raises(ValueError, match="use 'mf_one_choice', 'mb_one_choice'"):
        cogarb.build_model(kool2017, agent, p_common=0.7)


@pytest.mark.parametrize("agent", ONE_CHOICE)
def test_one_choice_agents_refuse_two_choice_data(agent):
    trials = cogarb.simulate("daw2011", "hybrid", n_participants=2, seed=8)
    with pytest.raises(ValueError, match="have one .*use 'mf', 'mb', 'hybrid'"):
        cogarb.build_model(trials, agent)
    data = trial_arrays(trials)
    thetas = kernel_matrix(cogarb.get_agent(agent), interior_values(agent, 2, seed=9))
    with pytest.raises(ValueError, match="have one .*use 'mf', 'mb', 'hybrid'"):
        per_trial_loglik(agent, thetas, data)


def test_other_data_errors(kool2017):
    with pytest.raises(ValueError, match=r"p_common must lie in \(0, 1\)"):
        trial_arrays(cogarb.simulate("daw2011", "mf", seed=1), p_common=1.0)
    mixed = kool2017.copy()
    mixed["stage2_choice"] = (mixed["trial"] > 3) & ~mixed["missed"]
    mixed.loc[mixed["stage2_choice"], "choice2"] = 0
    with pytest.raises(ValueError, match="mix tasks with and without"):
        trial_arrays(mixed, p_common=1.0)
    akam = cogarb.simulate("akam2015", "mf_one_choice", n_participants=2, seed=10)
    with pytest.raises(ValueError, match="rare transition"):
        trial_arrays(akam, p_common=1.0, agent="mf_one_choice")
    no_payoffs = kool2017.drop(columns=["reward_state0", "reward_state1"])
    with pytest.raises(ValueError, match="reward_state0 and reward_state1"):
        cogarb.fit(no_payoffs, "mb_one_choice", p_common=1.0, posterior_predictive=True, **FEW)
    with pytest.raises(ValueError, match="has no parameter 'w'"):
        cogarb.build_model(kool2017, "mf_one_choice", conditions={"w": "stakes"}, p_common=1.0)
    with pytest.raises(ValueError, match="supported on the weight 'w'"):
        cogarb.build_model(
            kool2017, "hybrid_one_choice", conditions={"beta1": "stakes"}, p_common=1.0
        )


def test_recovery_runs_for_a_one_choice_agent():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        result = cogarb.recover("mb_one_choice", "akam2015", n_participants=4, seed=2, **FEW)
    assert set(result.summary.index) == {"alpha2", "beta1", "p"}
    assert result.idata.posterior.attrs["p_common"] == 0.8
    assert not result.trials["stage2_choice"].any()
