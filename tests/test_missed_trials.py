"""Missed and half-missed trials: likelihood = reference = replay, values and gradients.

A *fully missed* trial (no first-stage choice) has no likelihood term and changes
nothing; a *half-missed* one (first-stage choice and transition observed, second
stage missed) contributes log P(choice1) and the agent learns only what the
transition shows (paper/models.md, "Missed trials"). The kernels are checked
against the plain-Python references (``reference.py``, ``reference_one_choice.py``)
run on dual numbers, which give the exact gradient; both compute the same
floating-point expressions in a different order, so they agree to ~1e-13 and the
1e-10 tolerance has three orders of magnitude of room. The posterior-predictive
replay is checked against the same references and against the likelihood's own
recursion on the replayed data.
"""

import numpy as np
import pandas as pd
import pytest
import reference
import reference_one_choice
from parameter_draws import interior_values

import cogarb
from cogarb._kernels import arbitrator, hybrid, loglik, one_choice, replay
from cogarb.agents import kernel_matrix
from cogarb.analysis import predictive_stay_probabilities
from cogarb.arrays import trial_arrays
from cogarb.fitting import MISSING_CODE, add_posterior_predictive
from cogarb.likelihood import loglik_and_grad, per_trial_loglik

TWO_CHOICE = [
    ("mf", "daw2011"),
    ("hybrid", "novelty_new_states"),
    ("hybrid_load", "otto2013_load"),
    ("arbitrator", "novelty_new_states"),
    ("arbitrator", "novelty_reversal"),
    ("arbitrator", "otto2013_load_trialwise"),
]
ONE_CHOICE = [("hybrid_one_choice", "akam2015"), ("hybrid_one_choice", "kool2016_novel")]
TOL = 1e-10


def miss(trials, seed, one_choice=False, n_each=10):
    """Mark ``n_each`` trials fully missed and ``n_each`` half-missed (seeded), including
    the first trial, a run of consecutive misses of both kinds and, where the task has
    events, the trial of an event."""
    rng = np.random.default_rng(seed)
    trials = trials.copy()
    n = len(trials)
    rows = rng.permutation(np.arange(1, n))
    full = [0, 30, 31, *rows[: n_each - 3]]
    half = [32, 33, *rows[n_each : 2 * n_each - 2]]
    if "event" in trials.columns:
        events = np.flatnonzero(trials["event"].fillna("").astype(str).to_numpy() != "")
        if len(events) >= 2:
            full.append(int(events[0]))
            half.append(int(events[1]))
    half = [r for r in half if r not in full]
    trials.loc[full, ["choice1", "state2", "choice2", "reward", "common"]] = None
    stage2 = ["reward"] if one_choice else ["choice2", "reward"]
    trials.loc[half, stage2] = None
    return cogarb.validate_trials(trials), sorted(full), sorted(half)


def simulated(agent, task, n=3, seed=7):
    return cogarb.simulate(task, agent, n_participants=n, seed=seed)


def thetas_for(agent, n, seed):
    return kernel_matrix(cogarb.get_agent(agent), interior_values(agent, n, seed))


def reference_two_choice(agent, theta, data, lo, hi):
    """Reference per-trial values and gradient of one participant."""
    kernel = cogarb.get_agent(agent).kernel
    fn, order = (
        (reference.arbitrator_loglik, reference.ARBITRATOR_ORDER)
        if kernel == "arbitrator"
        else (reference.hybrid_loglik, reference.HYBRID_ORDER)
    )
    args = (
        data.choice1[lo:hi].tolist(), data.state2[lo:hi].tolist(), data.choice2[lo:hi].tolist(),
        (data.reward[lo:hi] * data.reward_scale).tolist(), data.p_common,
        data.condition[lo:hi].tolist(), data.new_states[lo:hi].tolist(),
        data.missed[lo:hi].tolist(), data.stage2_missed[lo:hi].tolist(),
    )  # fmt: skip
    return reference.loglik_and_grad(fn, order, theta, *args)


def reference_one(theta, data, lo, hi):
    args = (
        data.state1[lo:hi].tolist(), data.choice1[lo:hi].tolist(), data.state2[lo:hi].tolist(),
        (data.reward[lo:hi] * data.reward_scale).tolist(), data.reversed[lo:hi].tolist(),
        data.missed[lo:hi].tolist(), data.p_common, loglik.STICK_WITHIN_STATE,
    )  # fmt: skip
    kwargs = {
        "condition": data.condition[lo:hi].tolist(),
        "stage2_missed": data.stage2_missed[lo:hi].tolist(),
    }
    return reference.loglik_and_grad(
        reference_one_choice.loglik, reference_one_choice.PARAMETERS, theta, *args, **kwargs
    )


def check_against_reference(agent, data, thetas, reference_of):
    per_trial = per_trial_loglik(agent, thetas, data)
    _, grads = loglik_and_grad(agent, thetas, data)
    for i in range(data.n_participants):
        lo, hi = data.offsets[i], data.offsets[i + 1]
        values, grad = reference_of(thetas[i], lo, hi)
        np.testing.assert_allclose(per_trial[lo:hi], values, rtol=0, atol=TOL)
        np.testing.assert_allclose(grads[i], grad, rtol=TOL, atol=TOL)
    return per_trial


@pytest.mark.parametrize("agent, task", TWO_CHOICE)
def test_two_choice_kernels_equal_the_reference_with_both_kinds_of_miss(agent, task):
    trials, full, half = miss(simulated(agent, task), seed=1)
    data = trial_arrays(trials)
    assert data.stage2_missed[half].all() and not data.stage2_missed[full].any()
    assert data.missed[full].all() and data.missed[half].all()  # the schema's meaning
    thetas = thetas_for(agent, data.n_participants, seed=3)
    per_trial = check_against_reference(
        agent, data, thetas, lambda th, lo, hi: reference_two_choice(agent, th, data, lo, hi)
    )
    assert (per_trial[full] == 0).all() and (per_trial[half] < 0).all()


@pytest.mark.parametrize("agent, task", ONE_CHOICE)
def test_one_choice_kernels_equal_the_reference_with_both_kinds_of_miss(agent, task):
    p_common = cogarb.load_task(task).p_common
    trials, full, half = miss(simulated(agent, task), seed=2, one_choice=True)
    data = trial_arrays(trials, p_common=p_common, agent=agent)
    assert data.stage2_missed[half].all() and not data.stage2_missed[full].any()
    thetas = thetas_for(agent, data.n_participants, seed=4)
    per_trial = check_against_reference(
        agent, data, thetas, lambda th, lo, hi: reference_one(th, data, lo, hi)
    )
    assert (per_trial[full] == 0).all() and (per_trial[half] < 0).all()


def test_a_half_missed_trial_is_neither_complete_nor_absent():
    """Its term is log P(choice1) of the complete trial, and what follows differs from
    both the complete and the fully missed trial (it learns no values but sets the
    perseveration reference)."""
    trials = simulated("hybrid", "daw2011", n=1)
    thetas = thetas_for("hybrid", 1, seed=5)
    complete = per_trial_loglik("hybrid", thetas, trial_arrays(trials))
    t = 50
    half = trials.copy()
    half.loc[t, ["choice2", "reward"]] = None
    full = trials.copy()
    full.loc[t, ["choice1", "state2", "choice2", "reward", "common"]] = None
    ll_half = per_trial_loglik("hybrid", thetas, trial_arrays(cogarb.validate_trials(half)))
    ll_full = per_trial_loglik("hybrid", thetas, trial_arrays(cogarb.validate_trials(full)))
    np.testing.assert_array_equal(ll_half[:t], complete[:t])
    assert ll_half[t] > complete[t] and ll_full[t] == 0.0
    assert not np.allclose(ll_half[t + 1 :], complete[t + 1 :])
    assert not np.allclose(ll_half[t + 1 :], ll_full[t + 1 :])


# --- the replay ----------------------------------------------------------------------


def replay_inputs(agent, task, n, seed):
    """Observed data with both kinds of miss, a parameter matrix and uniforms."""
    family = cogarb.get_agent(agent).family
    one = not family.stage2_choice
    trials, full, half = miss(simulated(agent, task, n=n, seed=seed), seed=seed, one_choice=one)
    p_common = cogarb.load_task(task).p_common
    data = trial_arrays(trials, p_common=p_common, agent=agent)
    thetas = thetas_for(agent, n, seed=seed + 1)
    uniforms = np.random.default_rng(seed + 2).random(
        (data.choice1.shape[0], family.uniforms_per_trial)
    )
    return data, thetas, uniforms, full, half


def replay_participant(agent, theta, data, uniforms, lo, hi):
    """The replay's per-participant kernel, recording its internals."""
    family = cogarb.get_agent(agent).family
    m = hi - lo
    out = {
        "choice1": np.empty(m, np.int8), "state2": np.empty(m, np.int8),
        "choice2": np.empty(m, np.int8), "reward": np.empty(m), "common": np.empty(m, bool),
    }  # fmt: skip
    internals = np.empty((m, len(family.internals)))
    masks = (data.missed[lo:hi], data.stage2_missed[lo:hi])
    if family.stage2_choice:
        simulate = arbitrator if family.name == "arbitrator" else hybrid
        simulate.simulate_participant(
            theta, data.reward_prob[lo:hi], data.condition[lo:hi], data.reversed[lo:hi],
            data.new_states[lo:hi], *masks, data.p_common, uniforms[lo:hi], out["choice1"],
            out["state2"], out["choice2"], out["reward"], out["common"], internals, True,
        )  # fmt: skip
    else:
        del out["choice2"]
        payoff = data.payoff if data.bernoulli else data.payoff * data.reward_scale
        one_choice.simulate_participant(
            theta, data.state1[lo:hi], data.condition[lo:hi], payoff[lo:hi], data.bernoulli,
            data.reversed[lo:hi], *masks, data.p_common, loglik.STICK_WITHIN_STATE,
            uniforms[lo:hi], out["choice1"], out["state2"], out["reward"], out["common"],
            internals, True,
        )  # fmt: skip
    return out, dict(zip(family.internals, internals.T, strict=True))


def reference_replay(agent, theta, data, uniforms, lo, hi):
    family = cogarb.get_agent(agent).family
    params = dict(zip(family.parameter_order, theta.tolist(), strict=True))
    masks = {"missed": data.missed[lo:hi].tolist(),
             "stage2_missed": data.stage2_missed[lo:hi].tolist()}  # fmt: skip
    if family.name == "one_choice":
        payoff = data.payoff if data.bernoulli else data.payoff * data.reward_scale
        return reference_one_choice.simulate(
            params, data.state1[lo:hi].tolist(), payoff[lo:hi].tolist(), data.bernoulli,
            data.reversed[lo:hi].tolist(), data.p_common, loglik.STICK_WITHIN_STATE,
            uniforms[lo:hi].tolist(), condition=data.condition[lo:hi].tolist(), **masks,
        )  # fmt: skip
    simulate = (
        reference.arbitrator_simulate if family.name == "arbitrator" else reference.hybrid_simulate
    )
    return simulate(
        params, data.reward_prob[lo:hi].tolist(), data.p_common, uniforms[lo:hi].tolist(),
        data.condition[lo:hi].tolist(), data.reversed[lo:hi].tolist(),
        data.new_states[lo:hi].tolist(), **masks,
    )  # fmt: skip


REPLAYS = [
    ("hybrid", "novelty_new_states"),
    ("hybrid_load", "otto2013_load"),
    ("arbitrator", "novelty_new_states"),
    ("arbitrator", "novelty_reversal"),
    ("hybrid_one_choice", "akam2015"),
    ("hybrid_one_choice", "kool2016_novel"),
]


@pytest.mark.parametrize("agent, task", REPLAYS)
def test_replay_equals_the_reference_and_the_likelihood_on_the_replayed_data(agent, task):
    data, thetas, uniforms, _, _ = replay_inputs(agent, task, n=2, seed=11)
    family = cogarb.get_agent(agent).family
    for i in range(data.n_participants):
        lo, hi = data.offsets[i], data.offsets[i + 1]
        out, internals = replay_participant(agent, thetas[i], data, uniforms, lo, hi)
        expected = reference_replay(agent, thetas[i], data, uniforms, lo, hi)
        for name, have in {**out, **internals}.items():
            want = np.array([row[name] for row in expected], dtype=float)
            np.testing.assert_allclose(have.astype(float), want, rtol=0, atol=TOL, err_msg=name)
        # what the simulated participant missed is coded as missing
        full_i, half_i = data.missed[lo:hi] & ~data.stage2_missed[lo:hi], data.stage2_missed[lo:hi]
        assert (out["choice1"][full_i] == MISSING_CODE).all()
        assert (out["state2"][full_i] == MISSING_CODE).all()
        assert np.isnan(out["reward"][full_i | half_i]).all()
        assert np.isnan(internals["prob_choice1"][full_i]).all()
        assert set(np.unique(out["choice1"][~full_i])) <= {0, 1}
        if family.stage2_choice:
            assert (out["choice2"][full_i | half_i] == MISSING_CODE).all()
        assert np.isfinite(out["reward"][~(full_i | half_i)]).all()
        # the likelihood's recursion on the replayed data (with its −1 and NaN codes)
        # gives the probabilities the simulator chose with, trial by trial
        p1 = internals["prob_choice1"]
        p2 = internals["prob_choice2"] if family.stage2_choice else np.ones(hi - lo)
        want = np.where(full_i, 0.0, np.log(p1) + np.where(half_i, 0.0, np.log(p2)))
        got = replayed_loglik(family, thetas[i], data, out, lo, hi)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
        assert (got[half_i] < 0).all()


def replayed_loglik(family, theta, data, out, lo, hi):
    """The likelihood kernel of ``family`` on one participant's replayed choices."""
    m = hi - lo
    ll, totals, grads = np.empty(m), np.empty(1), np.empty((1, theta.shape[0]))
    choice2 = out.get("choice2", np.zeros(m, np.int8))
    reward = out["reward"]  # the replay's rewards are already scaled (kernel units)
    loglik.loglik_cohort(
        family.kind, theta[None], np.array([0, m], np.int64), out["choice1"], out["state2"],
        choice2, reward, data.condition[lo:hi], data.new_states[lo:hi], data.missed[lo:hi],
        data.stage2_missed[lo:hi], data.state1[lo:hi], data.reversed[lo:hi], data.p_common,
        ll, totals, grads, True,
    )  # fmt: skip
    assert np.isfinite(grads).all()
    return ll


@pytest.mark.parametrize("agent, task", REPLAYS)
def test_the_cohort_replay_kernel_is_the_per_participant_replay(agent, task):
    data, thetas, uniforms, _, _ = replay_inputs(agent, task, n=3, seed=21)
    family = cogarb.get_agent(agent).family
    n = data.choice1.shape[0]
    names = ["choice1", "state2", "choice2", "reward", "common"]
    if not family.stage2_choice:
        names.remove("choice2")
    dtypes = {"reward": float, "common": bool}
    outs = {k: np.empty((1, n), dtypes.get(k, np.int8)) for k in names}
    masks = (data.missed, data.stage2_missed)
    if family.stage2_choice:
        replay.replay_draws(
            family.kind, thetas[None], data.offsets, data.reward_prob, data.condition,
            data.reversed, data.new_states, *masks, data.p_common, uniforms[None],
            *outs.values(),
        )  # fmt: skip
    else:
        payoff = data.payoff if data.bernoulli else data.payoff * data.reward_scale
        replay.replay_draws_one_choice(
            thetas[None], data.offsets, data.state1, data.condition, payoff, data.bernoulli,
            data.reversed, *masks, data.p_common, loglik.STICK_WITHIN_STATE, uniforms[None],
            *outs.values(),
        )  # fmt: skip
    for i in range(data.n_participants):
        lo, hi = data.offsets[i], data.offsets[i + 1]
        alone, _ = replay_participant(agent, thetas[i], data, uniforms, lo, hi)
        for k in names:
            np.testing.assert_array_equal(outs[k][0, lo:hi], alone[k], err_msg=k)


def test_a_replay_without_misses_is_the_simulation(daw2011):
    """No mask set: the replay kernel is the simulator (simulations do not change)."""
    trials = cogarb.simulate(daw2011, "arbitrator", n_participants=2, seed=4, internals=True)
    data = trial_arrays(trials)
    assert not data.missed.any()
    thetas = thetas_for("arbitrator", 2, seed=6)
    uniforms = np.random.default_rng(8).random((data.choice1.shape[0], 4))
    for i in range(2):
        lo, hi = data.offsets[i], data.offsets[i + 1]
        out, _ = replay_participant("arbitrator", thetas[i], data, uniforms, lo, hi)
        m = hi - lo
        cohort = {k: np.empty((1, m), v.dtype) for k, v in out.items()}
        arbitrator.simulate_cohort(
            thetas[i : i + 1], data.reward_prob[None, lo:hi], np.zeros(1, np.int64),
            data.condition[None, lo:hi], np.zeros(1, np.int64), data.reversed[lo:hi],
            data.new_states[lo:hi], data.p_common, uniforms[None, lo:hi], cohort["choice1"],
            cohort["state2"], cohort["choice2"], cohort["reward"], cohort["common"],
            np.empty((1, m, len(arbitrator.INTERNALS))), True,
        )  # fmt: skip
        for k in out:
            np.testing.assert_array_equal(cohort[k][0], out[k], err_msg=k)


# --- posterior predictive and its stay analysis ---------------------------------------


def fake_posterior(agent, n_participants, seed, draws=3):
    """An InferenceData with a posterior of ``draws`` draws in one chain."""
    import arviz as az

    values = interior_values(agent, n_participants * draws, seed)
    posterior = {k: v.reshape(1, draws, n_participants) for k, v in values.items()}
    return az.from_dict(posterior=posterior)


def test_posterior_predictive_misses_what_the_participant_missed():
    trials, full, _ = miss(simulated("hybrid", "daw2011", n=3, seed=3), seed=5)
    data = trial_arrays(trials)
    idata = fake_posterior("hybrid", 3, seed=9)
    add_posterior_predictive(idata, "hybrid", data, seed=4)
    ppc = idata.posterior_predictive
    kept = data.observed
    assert ppc.sizes["obs"] == kept.sum() == len(trials) - len(full)
    is_half = data.stage2_missed[kept]
    assert (ppc["choice2"].values[..., is_half] == MISSING_CODE).all()
    assert np.isnan(ppc["reward"].values[..., is_half]).all()
    assert set(np.unique(ppc["choice2"].values[..., ~is_half])) <= {0, 1}
    assert np.isfinite(ppc["reward"].values[..., ~is_half]).all()
    # the stay analysis reads the codes as missing: pairs form as in the observed data
    table = predictive_stay_probabilities(trials, idata)
    assert (table["n_draws"] == 3).all()
    assert table["mean"].between(0, 1).all()


def test_predictive_stay_probabilities_of_the_observed_data_are_the_observed_ones():
    """A 'posterior predictive' that replays the observed data (with its −1 and NaN
    codes on half-missed trials) gives exactly the observed stay probabilities."""
    import xarray as xr

    trials, _, _ = miss(simulated("hybrid", "daw2011", n=4, seed=8), seed=6)
    data = trial_arrays(trials)
    idata = fake_posterior("hybrid", 4, seed=1, draws=1)
    add_posterior_predictive(idata, "hybrid", data, seed=0)
    kept = data.observed
    is_half = data.stage2_missed[kept]
    observed = {
        "choice1": data.choice1[kept], "state2": data.state2[kept],
        "choice2": np.where(is_half, MISSING_CODE, data.choice2[kept]).astype(np.int8),
        "reward": np.where(is_half, np.nan, data.reward[kept]),
        "common": trials["common"].to_numpy(dtype=bool, na_value=False)[kept],
    }  # fmt: skip
    ppc = idata.posterior_predictive
    replaced = xr.Dataset(
        {k: (("chain", "draw", "obs"), v[None, None]) for k, v in observed.items()},
        coords=ppc.coords,
    )
    del idata.posterior_predictive
    idata.add_groups(posterior_predictive=replaced)
    table = predictive_stay_probabilities(trials, idata)
    group = cogarb.stay_probabilities(trials).group
    keys = ["previous_reward", "transition"]
    merged = pd.merge(table, group, on=keys, suffixes=("_ppc", "_obs"))
    assert len(merged) == 4
    np.testing.assert_allclose(merged["mean_ppc"], merged["mean_obs"], rtol=0, atol=1e-12)
