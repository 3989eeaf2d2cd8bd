"""The arbitrator's gradient, every one of its 16 kernel parameters, on every task.

For each built-in task with a second-stage choice (daw2011, the load tasks of
Otto et al. 2013, the novelty, reversal and reward-reset tasks: every one that
``cogarb.tasks.builtin_tasks`` lists, so a new task file is covered too), a
seeded simulated cohort with fully and half-missed trials, at three parameter
points: the gradient of each participant's summed log-likelihood with respect to
all 16 kernel parameters (fixed ones included) against central finite
differences, and at one point against the exact gradient of the plain-Python
reference run on dual numbers.

Finite-difference error: with step h the central difference has truncation error
h² |f'''| / 6 and rounding error about ε |f| / h (ε = 2.2e-16). Per participant
|f| ≤ ~300 · 1.4 ≈ 420 (two binary choices per trial, a few hundred trials), so
with h = 1e-6 rounding is ≈ 1e-7 and truncation ≈ 1.7e-13 |f'''|, negligible for
|f'''| ≲ 1e5 (the log-likelihood is a smooth function of bounded logits here:
parameters away from their bounds). ``rtol = atol = 1e-6`` leaves a factor of
about ten. The non-smooth points (max(0, SPE − Ω_SPE), |δ2|, max over Q2) lie on
sets of measure zero that a seeded draw does not hit within ±h.
"""

import numpy as np
import pytest
import reference
from parameter_draws import interior_values
from test_missed_trials import miss

import cogarb
from cogarb._kernels.arbitrator import PARAMETER_ORDER
from cogarb.agents import kernel_matrix
from cogarb.arrays import trial_arrays
from cogarb.likelihood import loglik_and_grad
from cogarb.tasks import builtin_tasks, load_task

TASKS = [name for name in builtin_tasks() if load_task(name).stage2_choice]
STEP = 1e-6
TOL = 1e-6


def test_every_two_choice_task_is_covered():
    expected = {"daw2011", "otto2013_load", "otto2013_load_trialwise", "novelty_new_states",
                "novelty_reversal", "novelty_reward_reset"}  # fmt: skip
    assert expected <= set(TASKS)
    assert len(PARAMETER_ORDER) == 16


def points(n):
    """Three parameter points (n participants each): the defaults and two random
    interior draws, as kernel matrices with all 16 columns."""
    agent = cogarb.get_agent("arbitrator")
    defaults = kernel_matrix(agent, {k: np.full(n, v) for k, v in agent.defaults.items()
                                     if k in agent.parameter_names})  # fmt: skip
    return [defaults] + [
        kernel_matrix(agent, interior_values("arbitrator", n, seed)) for seed in (1, 2)
    ]


@pytest.fixture(scope="module", params=TASKS)
def cohort(request):
    task = request.param
    trials = cogarb.simulate(task, "arbitrator", n_participants=2, seed=17)
    trials, _, _ = miss(trials, seed=3)
    data = trial_arrays(trials)
    assert data.stage2_missed.sum() >= 8 and (data.missed & ~data.stage2_missed).sum() >= 8
    return task, data


def central_differences(thetas, data):
    numeric = np.empty_like(thetas)
    for k in range(thetas.shape[1]):
        up, down = thetas.copy(), thetas.copy()
        up[:, k] += STEP
        down[:, k] -= STEP
        numeric[:, k] = (
            loglik_and_grad("arbitrator", up, data)[0]
            - loglik_and_grad("arbitrator", down, data)[0]
        ) / (2 * STEP)
    return numeric


def test_gradient_matches_central_differences_for_all_16_parameters(cohort):
    task, data = cohort
    moved = np.zeros(len(PARAMETER_ORDER), bool)
    for thetas in points(data.n_participants):
        _, grads = loglik_and_grad("arbitrator", thetas, data)
        numeric = central_differences(thetas, data)
        np.testing.assert_allclose(grads, numeric, rtol=TOL, atol=TOL, err_msg=task)
        moved |= (np.abs(grads) > 1e-3).any(axis=0)
    # not vacuous: every parameter moves the likelihood, except the load cost on a
    # task without load (where the likelihood does not depend on it at all)
    has_load = data.condition.any()
    inert = {name for name, m in zip(PARAMETER_ORDER, moved, strict=True) if not m}
    assert inert == (set() if has_load else {"cost"}), (task, inert)


def test_gradient_equals_the_exact_reference_gradient(cohort):
    task, data = cohort
    thetas = points(data.n_participants)[1]
    _, grads = loglik_and_grad("arbitrator", thetas, data)
    for i in range(data.n_participants):
        lo, hi = data.offsets[i], data.offsets[i + 1]
        _, grad = reference.loglik_and_grad(
            reference.arbitrator_loglik, reference.ARBITRATOR_ORDER, thetas[i],
            data.choice1[lo:hi].tolist(), data.state2[lo:hi].tolist(),
            data.choice2[lo:hi].tolist(), data.reward[lo:hi].tolist(), data.p_common,
            data.condition[lo:hi].tolist(), data.new_states[lo:hi].tolist(),
            data.missed[lo:hi].tolist(), data.stage2_missed[lo:hi].tolist(),
        )  # fmt: skip
        np.testing.assert_allclose(grads[i], grad, rtol=1e-10, atol=1e-10, err_msg=task)
