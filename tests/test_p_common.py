"""Two-choice agents at p_common ≠ 0.7: likelihood, gradient and simulation.

Every other test runs at the usual 0.7, so a kernel that hard-codes 0.7 (for the
hybrid's instructed transition matrix, or the arbitrator's initial transition
model T and expected state-prediction error Ω_SPE = 2 p (1 − p)) would pass them.
Here the kernels are checked against the plain-Python references at 0.6 and 0.8
(values and exact dual-number gradients to 1e-10: both compute the same
expressions in a different order, agreeing to ~1e-13), and the check is shown
not to be vacuous: the reference at 0.7 differs from the one at 0.6/0.8 by far
more than the tolerance (for the model-free agent, whose likelihood values do
not depend on the transition probability, through the gradient in w alone).
"""

import dataclasses

import numpy as np
import pytest
import reference
from parameter_draws import interior_values
from test_kernels import check_against_reference

import cogarb
from cogarb.agents import kernel_matrix
from cogarb.arrays import trial_arrays
from cogarb.likelihood import loglik_and_grad, per_trial_loglik

AGENT_TASKS = [
    ("mf", "daw2011"),
    ("mb", "daw2011"),
    ("hybrid", "daw2011"),
    ("hybrid_load", "otto2013_load"),
    ("arbitrator", "novelty_new_states"),
    ("arbitrator", "otto2013_load_trialwise"),
]
P_COMMON = [0.6, 0.8]
TOL = 1e-10


def task_at(name: str, p_common: float):
    return dataclasses.replace(cogarb.load_task(name), p_common=p_common)


def reference_loglik(agent, theta, data, lo, hi, p_common):
    kernel = cogarb.get_agent(agent).kernel
    fn, order = (
        (reference.arbitrator_loglik, reference.ARBITRATOR_ORDER)
        if kernel == "arbitrator"
        else (reference.hybrid_loglik, reference.HYBRID_ORDER)
    )
    return reference.loglik_and_grad(
        fn, order, theta, data.choice1[lo:hi].tolist(), data.state2[lo:hi].tolist(),
        data.choice2[lo:hi].tolist(), data.reward[lo:hi].tolist(), p_common,
        data.condition[lo:hi].tolist(), data.new_states[lo:hi].tolist(),
        data.missed[lo:hi].tolist(), data.stage2_missed[lo:hi].tolist(),
    )  # fmt: skip


@pytest.mark.parametrize("p_common", P_COMMON)
@pytest.mark.parametrize("agent, task", AGENT_TASKS)
def test_likelihood_and_gradient_follow_p_common(agent, task, p_common):
    trials = cogarb.simulate(task_at(task, p_common), agent, n_participants=2, seed=3)
    trials.loc[[20, 21], ["choice2", "reward"]] = None  # half-missed: T still learns
    trials.loc[[40], ["choice1", "state2", "choice2", "reward", "common"]] = None
    data = trial_arrays(cogarb.validate_trials(trials), p_common=p_common)
    assert data.p_common == p_common
    thetas = kernel_matrix(cogarb.get_agent(agent), interior_values(agent, 2, seed=8))
    per_trial = per_trial_loglik(agent, thetas, data)
    _, grads = loglik_and_grad(agent, thetas, data)
    for i in range(2):
        lo, hi = data.offsets[i], data.offsets[i + 1]
        values, grad = reference_loglik(agent, thetas[i], data, lo, hi, p_common)
        np.testing.assert_allclose(per_trial[lo:hi], values, rtol=0, atol=TOL)
        np.testing.assert_allclose(grads[i], grad, rtol=TOL, atol=TOL)
        # a kernel that used 0.7 would miss by this much, ≫ the tolerance
        at_07, grad_07 = reference_loglik(agent, thetas[i], data, lo, hi, 0.7)
        value_gap = np.abs(np.subtract(values, at_07)).max()
        grad_gap = np.abs(np.subtract(grad, grad_07)).max()
        if agent == "mf":  # w = 0: Q_MB enters the gradient (in w) but not the values
            assert value_gap == 0.0 and grad_gap > 1e-4, grad_gap
        else:
            assert value_gap > 1e-4 and grad_gap > 1e-4, (value_gap, grad_gap)


@pytest.mark.parametrize("p_common", P_COMMON)
@pytest.mark.parametrize("agent, task", [("hybrid", "daw2011"), ("arbitrator", "novelty_reversal")])
def test_simulation_follows_p_common(agent, task, p_common):
    """The simulator's transitions and the agent's beliefs use the task's p_common."""
    spec = task_at(task, p_common)
    check_against_reference(spec, agent, {}, n=2, seed=5)
    trials = cogarb.simulate(spec, agent, n_participants=200, seed=1)
    # 200 × 200+ transitions: SD of the common rate ≈ 0.0023, so 0.01 is > 4 SD
    assert abs(trials["common"].mean() - p_common) < 0.01
