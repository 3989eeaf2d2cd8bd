"""Behavioural signatures and reductions of the arbitrator (paper/models.md)."""

import math

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.agents import B_RATES

N = 1000


@pytest.fixture(scope="module")
def tasks(repo):
    names = ["otto2013_load", "novelty_reversal", "novelty_new_states", "novelty_reward_reset"]
    return {n: cogarb.load_task(repo / "tasks" / f"{n}.toml") for n in names}


def test_load_lowers_w_and_the_interaction_but_not_the_reward_effect(tasks):
    sims = cogarb.simulate(
        tasks["otto2013_load"], "arbitrator", {}, n_participants=N, seed=1, internals=True
    )
    w = sims.groupby("load")["w"].mean()
    # Measured with the defaults: 0.72 without load, 0.39 under load.
    assert w.loc[1] < w.loc[0] - 0.2
    pooled = cogarb.stay_regression(sims).pooled.set_index(["load", "term"])["estimate"]
    se = cogarb.stay_regression(sims).pooled["se"].max()
    # Measured: interaction 0.23 (no load) vs 0.14 (load), pooled SE 0.008; the
    # reward effect remains (0.24 -> 0.46): load shifts control to the model-free system.
    assert pooled[(0, "reward:transition")] - pooled[(1, "reward:transition")] > 5 * se
    assert pooled[(1, "reward")] > 10 * se
    assert pooled[(1, "reward")] > pooled[(0, "reward")]


@pytest.mark.parametrize(
    "task_name", ["novelty_reversal", "novelty_new_states", "novelty_reward_reset"]
)
def test_w_rises_after_novelty_and_decays_back(tasks, task_name):
    task = tasks[task_name]
    sims = cogarb.simulate(task, "arbitrator", {}, n_participants=N, seed=2, internals=True)
    mean_w = sims.groupby("trial")["w"].mean()
    # Between-participant SD of w is about 0.1, so the SE of a 1000-participant mean
    # is about 0.003: margins of 0.02 are > 6 SE.
    for event in task.events:
        t = event.trial
        before = mean_w.loc[t - 10 : t - 1].mean()
        peak = mean_w.loc[t + 1 : t + 10].max()
        assert peak > before + 0.02, (event, before, peak)
        # 60-90 trials later the model-free system has relearned: back to baseline
        # (measured within 0.01).
        later = mean_w.loc[t + 60 : t + 90].mean()
        assert abs(later - before) < 0.03, (event, before, later)


def test_w_converges_to_the_closed_form_fixed_point(daw2011):
    # With reliabilities frozen (eta_R = 0) and no novelty gain or load, the rates
    # are constant and dw/dt = a (1 - w) - b w has the solution
    # w_t = w* + (w0 - w*) exp(-(a + b) t), w* = a / (a + b).
    params = {"eta_R": 0.0, "zeta": 0.0, "cost": 0.0, "w0": 0.05}
    sims = cogarb.simulate(daw2011, "arbitrator", params, n_participants=2, seed=0, internals=True)
    agent = cogarb.get_agent("arbitrator")
    chi_mb = 1 - 2 * 0.7 * 0.3
    chi_mf = 1 - 0.5
    a = agent.defaults["A_mf_mb"] / (1 + math.exp(B_RATES["B_mf_mb"] * chi_mf))
    b = agent.defaults["A_mb_mf"] / (1 + math.exp(B_RATES["B_mb_mf"] * chi_mb))
    w_star = a / (a + b)
    t = np.arange(1, daw2011.n_trials + 1)  # w is updated once before trial 1's choice
    expected = w_star + (0.05 - w_star) * np.exp(-(a + b) * t)
    for _, one in sims.groupby("participant", observed=True):
        np.testing.assert_allclose(one["w"].to_numpy(), expected, atol=1e-10)
        np.testing.assert_allclose(one["w_star"].to_numpy(), w_star, atol=1e-12)


def test_w_tracks_its_moving_fixed_point_in_a_stationary_task(daw2011):
    sims = cogarb.simulate(daw2011, "arbitrator", {}, n_participants=200, seed=3, internals=True)
    late = sims[sims["trial"] > 100]
    # w relaxes towards the moving target w*_t with time constant 1/(a + b), a few
    # trials, so it is a low-pass-filtered w*. The relaxation is faster when w* is
    # low (the MB -> MF rate is then high), so w sits a little above the mean of
    # w*: measured 0.741 vs 0.712 (difference 0.029) and correlation 0.77 here.
    assert abs(late["w"].mean() - late["w_star"].mean()) < 0.05
    assert np.corrcoef(late["w"], late["w_star"])[0, 1] > 0.6


def test_reduces_to_the_fixed_w_hybrid(daw2011):
    """Reliabilities and novelty held fixed, no load cost: exactly the hybrid."""
    agent = cogarb.get_agent("arbitrator")
    chi_mb, chi_mf = 1 - 2 * 0.7 * 0.3, 0.5
    a = agent.defaults["A_mf_mb"] / (1 + math.exp(B_RATES["B_mf_mb"] * chi_mf))
    b = agent.defaults["A_mb_mf"] / (1 + math.exp(B_RATES["B_mb_mf"] * chi_mb))
    w_star = a / (a + b)
    frozen = {"eta_T": 0.0, "eta_R": 0.0, "zeta": 0.0, "cost": 0.0, "w0": w_star}
    arb = cogarb.simulate(daw2011, "arbitrator", frozen, n_participants=20, seed=4, internals=True)
    hyb = cogarb.simulate(
        daw2011, "hybrid", {"w": w_star}, n_participants=20, seed=4, internals=True
    )
    for column in [
        "choice1",
        "state2",
        "choice2",
        "reward",
        "q_mf_0",
        "q_mb_1",
        "q2_10",
        "w",
        "prob_choice1",
        "prob_choice2",
        "delta1",
        "delta2",
    ]:
        np.testing.assert_allclose(
            arb[column].to_numpy(float),
            hyb[column].to_numpy(float),
            rtol=0,
            atol=1e-10,
            err_msg=column,
        )


def test_hybrid_load_uses_one_weight_per_condition(tasks):
    params = {"w_noload": 0.8, "w_load": 0.1}
    sims = cogarb.simulate(
        tasks["otto2013_load"], "hybrid_load", params, n_participants=3, internals=True
    )
    assert sims.groupby("load")["w"].unique().map(list).to_dict() == {0: [0.8], 1: [0.1]}
    plain = cogarb.simulate(
        tasks["otto2013_load"], "hybrid", {"w": 0.3}, n_participants=3, internals=True
    )
    assert (plain["w"] == 0.3).all()


def test_event_columns_and_reversal_mark_common_correctly(tasks):
    sims = cogarb.simulate(tasks["novelty_reversal"], "arbitrator", {}, n_participants=50)
    assert set(sims.loc[sims["event"] != "", "trial"]) == {101, 201}
    rev = sims["transitions_reversed"].to_numpy(bool)
    assert (
        not rev[sims["trial"] < 101].any()
        and rev[(sims["trial"] >= 101) & (sims["trial"] < 201)].all()
    )
    destination = np.where(rev, 1 - sims["choice1"], sims["choice1"])
    assert ((sims["state2"] == destination) == sims["common"]).all()
    assert abs(sims.loc[rev, "common"].mean() - 0.7) < 0.02
    checked = cogarb.validate_trials(sims)  # reversal-aware consistency check
    assert len(checked) == len(sims)
    stay = cogarb.stay_probabilities(sims)
    assert stay.conditions == ()
    assert isinstance(stay.group, pd.DataFrame)
