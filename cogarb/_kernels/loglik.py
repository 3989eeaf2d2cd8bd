"""Cohort-level log-likelihood kernels over ragged, flattened trial arrays.

Participant ``i``'s trials are ``offsets[i]:offsets[i + 1]`` of the flat per-trial
arrays, so participants may have different numbers of trials. ``kind`` selects the
agent family (``HYBRID``, ``ARBITRATOR`` or ``ONE_CHOICE``); the per-participant
equations and their sensitivities live in :mod:`hybrid_loglik`,
:mod:`arbitrator_loglik` and :mod:`one_choice_loglik`. Every family gets the same
flat arrays and uses the ones it needs: ``state1`` and ``reversed_`` only matter to
``ONE_CHOICE`` (tasks without a second-stage choice), ``choice2`` and
``new_states`` only to the other two.

``ONE_CHOICE`` runs with ``STICK_WITHIN_STATE`` (perseveration only towards the
last choice made in the same first-stage state, as in Kool's published code; see
:mod:`cogarb._kernels.one_choice`).
"""

import numpy as np
from numba import njit, prange

from cogarb._kernels import arbitrator_loglik, hybrid_loglik, one_choice_loglik

HYBRID, ARBITRATOR, ONE_CHOICE = 0, 1, 2
STICK_WITHIN_STATE = True


@njit(cache=True, error_model="numpy")
def participant_loglik(
    kind, theta, choice1, state2, choice2, reward, load, new_states, missed, stage2_missed,
    state1, reversed_, p_common, loglik, grad, with_grad,
):  # fmt: skip
    """Dispatch to the agent family's per-participant kernel."""
    if kind == HYBRID:
        hybrid_loglik.loglik_participant(
            theta, choice1, state2, choice2, reward, load, new_states, missed, stage2_missed,
            p_common, loglik, grad, with_grad,
        )  # fmt: skip
    elif kind == ARBITRATOR:
        arbitrator_loglik.loglik_participant(
            theta, choice1, state2, choice2, reward, load, new_states, missed, stage2_missed,
            p_common, loglik, grad, with_grad,
        )  # fmt: skip
    else:
        one_choice_loglik.loglik_participant(
            theta, state1, choice1, state2, reward, load, reversed_, missed, stage2_missed,
            p_common, STICK_WITHIN_STATE, loglik, grad, with_grad,
        )  # fmt: skip


@njit(cache=True, error_model="numpy")
def loglik_cohort(
    kind, thetas, offsets, choice1, state2, choice2, reward, load, new_states, missed,
    stage2_missed, state1, reversed_, p_common, loglik, totals, grads, with_grad,
):  # fmt: skip
    """Log-likelihood of a cohort (serial: it runs inside samplers' own threads).

    Parameters
    ----------
    kind : int, ``HYBRID``, ``ARBITRATOR`` or ``ONE_CHOICE``
    thetas : float64 (n_participants, n_parameters) kernel parameters
    offsets : int64 (n_participants + 1,) trial ranges in the flat arrays
    choice1 ... stage2_missed : flat per-trial arrays (see ``hybrid_loglik``);
        ``load`` is the per-trial condition level selecting ``w_load``; ``missed``
        any missed trial, ``stage2_missed`` the half-missed ones among them
    state1 : int8 (n_trials,) first-stage state (``ONE_CHOICE`` only)
    reversed_ : bool (n_trials,) transitions reversed (``ONE_CHOICE`` only)
    p_common : float
    loglik : float64 (n_trials,) output, per-trial ℓ_t
    totals : float64 (n_participants,) output, Σ_t ℓ_t per participant
    grads : float64 (n_participants, n_parameters) output, d totals[i] / d thetas[i]
    with_grad : bool, compute ``grads``
    """
    for i in range(thetas.shape[0]):
        lo, hi = offsets[i], offsets[i + 1]
        participant_loglik(
            kind, thetas[i], choice1[lo:hi], state2[lo:hi], choice2[lo:hi], reward[lo:hi],
            load[lo:hi], new_states[lo:hi], missed[lo:hi], stage2_missed[lo:hi], state1[lo:hi],
            reversed_[lo:hi], p_common, loglik[lo:hi], grads[i], with_grad,
        )  # fmt: skip
        totals[i] = loglik[lo:hi].sum()


@njit(cache=True, parallel=True, error_model="numpy")
def loglik_draws(
    kind, thetas, offsets, choice1, state2, choice2, reward, load, new_states, missed,
    stage2_missed, state1, reversed_, p_common, loglik,
):  # fmt: skip
    """Per-trial log-likelihood for many posterior draws, in parallel over draws.

    ``thetas`` is (n_draws, n_participants, n_parameters); ``loglik`` (n_draws,
    n_trials) is the output. No gradients.
    """
    n_draws, n_participants, n_parameters = thetas.shape
    for d in prange(n_draws):
        grad = np.zeros(n_parameters)
        for i in range(n_participants):
            lo, hi = offsets[i], offsets[i + 1]
            participant_loglik(
                kind, thetas[d, i], choice1[lo:hi], state2[lo:hi], choice2[lo:hi],
                reward[lo:hi], load[lo:hi], new_states[lo:hi], missed[lo:hi],
                stage2_missed[lo:hi], state1[lo:hi], reversed_[lo:hi], p_common,
                loglik[d, lo:hi], grad, False,
            )  # fmt: skip
