"""Simulate agents on an observed task schedule: posterior predictive draws.

Each simulated participant faces the observed participant's reward probabilities,
load/condition levels, transition reversals and new-state events, trial by trial,
over the same flat ragged arrays the likelihood uses. On tasks without a
second-stage choice (:func:`replay_draws_one_choice`) they face the observed
first-stage states and the observed payoffs of both second-stage states.

The observed participant's missed trials are replayed as the likelihood treats
them (``missed``, ``stage2_missed``; see :mod:`cogarb._kernels.hybrid`): on a
fully missed trial the simulated participant makes no choice and learns nothing
(outputs ``MISSING`` = −1 for choices and states, NaN reward, ``common`` false);
on a half-missed trial it makes its first-stage choice, gets its transition,
learns what the likelihood learns from it, and stops (``choice2`` ``MISSING``,
NaN reward).
"""

import numpy as np
from numba import njit, prange

from cogarb._kernels import arbitrator, hybrid, one_choice
from cogarb._kernels.loglik import HYBRID


@njit(cache=True, parallel=True, error_model="numpy")
def replay_draws(
    kind, thetas, offsets, reward_prob, condition, reversed_, new_states, missed,
    stage2_missed, p_common, uniforms, choice1, state2, choice2, reward, common,
):  # fmt: skip
    """Simulate every participant once per draw.

    Parameters
    ----------
    kind : int, ``loglik.HYBRID`` or ``loglik.ARBITRATOR``
    thetas : float64 (n_draws, n_participants, P) kernel parameters
    offsets : int64 (n_participants + 1,)
    reward_prob : float64 (n_trials, 2, 2)
    condition : int8 (n_trials,) load level
    reversed_, new_states : bool (n_trials,)
    missed, stage2_missed : bool (n_trials,) the observed missed and half-missed trials
    p_common : float
    uniforms : float64 (n_draws, n_trials, 4)
    choice1, state2, choice2 : int8 (n_draws, n_trials) outputs
    reward : float64 (n_draws, n_trials) output
    common : bool (n_draws, n_trials) output
    """
    n_draws, n_participants = thetas.shape[0], thetas.shape[1]
    for d in prange(n_draws):
        internals = np.empty((1, 1))
        for i in range(n_participants):
            lo, hi = offsets[i], offsets[i + 1]
            args = (
                thetas[d, i], reward_prob[lo:hi], condition[lo:hi], reversed_[lo:hi],
                new_states[lo:hi], missed[lo:hi], stage2_missed[lo:hi], p_common,
                uniforms[d, lo:hi], choice1[d, lo:hi],
                state2[d, lo:hi], choice2[d, lo:hi], reward[d, lo:hi], common[d, lo:hi],
                internals, False,
            )  # fmt: skip
            if kind == HYBRID:
                hybrid.simulate_participant(*args)
            else:
                arbitrator.simulate_participant(*args)


@njit(cache=True, parallel=True, error_model="numpy")
def replay_draws_one_choice(
    thetas, offsets, state1, condition, payoff, bernoulli, reversed_, missed, stage2_missed,
    p_common, stick_within_state, uniforms, choice1, state2, reward, common,
):  # fmt: skip
    """Simulate every participant once per draw on a task without a second-stage choice.

    Parameters
    ----------
    thetas : float64 (n_draws, n_participants, 7) kernel parameters
        (``one_choice.PARAMETER_ORDER``)
    offsets : int64 (n_participants + 1,)
    state1 : int8 (n_trials,) observed first-stage states
    condition : int8 (n_trials,) 1 where ``w_load`` applies
    payoff : float64 (n_trials, 2) per second-stage state: reward probability
        (``bernoulli``) or reward
    bernoulli : bool
    reversed_ : bool (n_trials,)
    missed, stage2_missed : bool (n_trials,) the observed missed and half-missed trials
    p_common : float
    stick_within_state : bool
    uniforms : float64 (n_draws, n_trials, 3)
    choice1, state2 : int8 (n_draws, n_trials) outputs
    reward : float64 (n_draws, n_trials) output
    common : bool (n_draws, n_trials) output
    """
    n_draws, n_participants = thetas.shape[0], thetas.shape[1]
    for d in prange(n_draws):
        internals = np.empty((1, 1))
        for i in range(n_participants):
            lo, hi = offsets[i], offsets[i + 1]
            one_choice.simulate_participant(
                thetas[d, i], state1[lo:hi], condition[lo:hi], payoff[lo:hi], bernoulli,
                reversed_[lo:hi], missed[lo:hi], stage2_missed[lo:hi], p_common,
                stick_within_state, uniforms[d, lo:hi],
                choice1[d, lo:hi], state2[d, lo:hi], reward[d, lo:hi], common[d, lo:hi],
                internals, False,
            )  # fmt: skip
