"""Log-likelihood of first-stage choices on tasks without a second-stage choice.

The values are computed by the simulator's own per-trial functions
(:mod:`cogarb._kernels.one_choice`): ``model_based_value``, ``effective_previous``,
``choice_logit`` and ``td_update``; the log-probability of a binary choice and its
derivative by the hybrid's :func:`cogarb._kernels.hybrid_loglik.choice_loglik`.
Alongside the values the kernel carries **forward-mode sensitivities** of the
values over the parameters (``one_choice.PARAMETER_ORDER``) that enter the
recursion, α1, α2 and λ (``dstate`` is 6 × 3); β1, p and w enter the choice alone
and get their gradient terms directly. ``w`` is ``w_load`` on trials
with ``condition`` 1 and ``w_noload`` otherwise, so ``e_w`` below is the unit
vector of whichever of the two applies on the trial.

Per trial t (not missed), with x the log-odds of action 1::

    ℓ_t = log P(a1_t | s1_t) = log σ(±x)
    x = β1 [w ΔQ_MB + (1 − w) ΔQ_MF(s1) + p s_prev]
    ΔQ_MB = Q_MB(1) − Q_MB(0) = (2 p_common − 1)(Q2(d(1)) − Q2(d(0)))
    dℓ/dθ = (1{a1 = 1} − σ(x)) dx/dθ
    dx/dθ = β1 [w dΔQ_MB + (1 − w) dΔQ_MF]
            + e_β1 [w ΔQ_MB + (1 − w) ΔQ_MF + p s_prev] + e_p β1 s_prev
            + e_w β1 (ΔQ_MB − ΔQ_MF)
    dQ_MF(s1, a1) += α1 (dδ1 + λ dδ2) + (δ1 + λ δ2) e_α1 + α1 δ2 e_λ
    dQ2(s2) += α2 dδ2 + δ2 e_α2

with e_k the k-th unit vector and ``s_prev`` = +1/−1/0 for an effective previous
choice 1/0/none. No ``max`` is involved (there is no second-stage choice), so the
log-likelihood is smooth in θ.

**Missed trials.** ``missed[t]`` marks any missing response (the schema's
``missed``: choice1, state2 or reward missing); ``stage2_missed[t]`` the
half-missed trials among them (choice1 and state2 observed, the reward not
collected).

* Fully missed: excluded: no value update, no likelihood term (ℓ_t = 0), and
  the perseveration bonus keeps pointing at the last choice actually made (and,
  for ``stick_within_state``, at the first-stage state it was made in). Deleting
  such a trial from the data gives the same log-likelihood.
* Half-missed: ℓ_t = log P(a1_t | s1_t) with its gradient, the perseveration
  reference becomes (s1_t, a1_t), and no value update (no reward to learn from;
  no transition model is learned by this family, so the observed transition
  changes nothing else).
The transition and the reward are not modelled (they are observed), so a
deterministic task (``p_common = 1``) needs no special case.
"""

import numpy as np
from numba import njit, prange

from cogarb._kernels.hybrid_loglik import choice_loglik, td_sensitivities
from cogarb._kernels.one_choice import (
    N_STATE,
    PARAMETER_ORDER,
    Q2_OFFSET,
    choice_logit,
    effective_previous,
    model_based_value,
    td_update,
)

# Columns of the parameter matrix, by name: the layout is stated once, in
# ``one_choice.PARAMETER_ORDER``.
N_PARAMETERS = len(PARAMETER_ORDER)
ALPHA1 = PARAMETER_ORDER.index("alpha1")
ALPHA2 = PARAMETER_ORDER.index("alpha2")
LAMBDA = PARAMETER_ORDER.index("lambda")
BETA1 = PARAMETER_ORDER.index("beta1")
PERSEVERATION = PARAMETER_ORDER.index("p")
W_NOLOAD = PARAMETER_ORDER.index("w_noload")
W_LOAD = PARAMETER_ORDER.index("w_load")


@njit(cache=True, error_model="numpy")
def choice_term_one_stage(
    state, dstate, state1, w, w_index, beta1, p, previous, reversed_, p_common, choice1,
    grad, with_grad,
):  # fmt: skip
    """log P(choice1 | state1), adding its gradient to ``grad`` if ``with_grad``.

    ``previous`` is the effective previous choice; ``w_index`` is the column of θ
    the trial's ``w`` comes from (``W_NOLOAD`` or ``W_LOAD``). ``dstate`` holds the
    values' sensitivities to α1, α2 and λ (columns ``ALPHA1``, ``ALPHA2``,
    ``LAMBDA`` = 0, 1, 2); β1, p and w get their terms directly.
    """
    q_mb0 = model_based_value(state, 0, p_common, reversed_)
    q_mb1 = model_based_value(state, 1, p_common, reversed_)
    logit = choice_logit(state, state1, q_mb0, q_mb1, w, beta1, p, previous)
    log_p, g = choice_loglik(logit, choice1)
    if with_grad:
        d0 = Q2_OFFSET + (1 if reversed_ else 0)  # Q2 index of the destination of action 0
        d1 = Q2_OFFSET + (0 if reversed_ else 1)
        i0, i1 = 2 * state1, 2 * state1 + 1
        side = 1.0 if previous == 1 else (-1.0 if previous == 0 else 0.0)
        mb_diff = q_mb1 - q_mb0
        mf_diff = state[i1] - state[i0]
        inner = w * mb_diff + (1.0 - w) * mf_diff + p * side
        for k in range(dstate.shape[1]):  # the recursion parameters
            dmb0 = p_common * dstate[d0, k] + (1.0 - p_common) * dstate[d1, k]
            dmb1 = p_common * dstate[d1, k] + (1.0 - p_common) * dstate[d0, k]
            dinner = w * (dmb1 - dmb0) + (1.0 - w) * (dstate[i1, k] - dstate[i0, k])
            grad[k] += g * (beta1 * dinner)
        grad[BETA1] += g * inner
        grad[PERSEVERATION] += g * (beta1 * side)
        grad[w_index] += g * (beta1 * (mb_diff - mf_diff))
    return log_p


@njit(cache=True, error_model="numpy")
def td_update_with_sensitivities(
    state, dstate, state1, choice1, state2, reward, alpha1, alpha2, lam, with_grad
):
    """``one_choice.td_update`` plus the matching update of the sensitivities."""
    if with_grad:
        i = 2 * state1 + choice1
        k = Q2_OFFSET + state2
        td_sensitivities(state, dstate, i, k, reward, alpha1, alpha2, lam, ALPHA1, ALPHA2, LAMBDA)
    return td_update(state, state1, choice1, state2, reward, alpha1, alpha2, lam)


@njit(cache=True, error_model="numpy")
def loglik_participant(
    theta, state1, choice1, state2, reward, condition, reversed_, missed, stage2_missed,
    p_common, stick_within_state, loglik, grad, with_grad,
):  # fmt: skip
    """Per-trial log-likelihood of one participant's first-stage choices.

    Parameters
    ----------
    theta : float64 (7,) parameters in ``one_choice.PARAMETER_ORDER``
    state1, choice1, state2 : int8 (n_trials,) observed codes (any value on missed
        trials); ``state2`` is the second-stage state reached (state s is the
        common destination of action s when not reversed)
    reward : float64 (n_trials,) as used by the update (points already scaled)
    condition : int8 (n_trials,) 1 where ``w_load`` applies, else 0 (``w_noload``)
    reversed_, missed, stage2_missed : bool (n_trials,) (see the module docstring)
    p_common : float, the instructed common-transition probability (1 for Kool)
    stick_within_state : bool, see :mod:`cogarb._kernels.one_choice`
    loglik : float64 (n_trials,) output, ℓ_t (0 on fully missed trials)
    grad : float64 (7,) output, d Σ_t ℓ_t / dθ (written only if ``with_grad``)

    Returns
    -------
    float, Σ_t ℓ_t
    """
    alpha1, alpha2, lam, beta1, p = theta[0], theta[1], theta[2], theta[3], theta[4]
    state = np.zeros(N_STATE)
    dstate = np.zeros((N_STATE, 3))  # d state / d (α1, α2, λ)
    if with_grad:
        grad[:] = 0.0
    previous_state1 = -1
    previous_choice1 = -1
    total = 0.0
    for t in range(choice1.shape[0]):
        stage2 = not stage2_missed[t]
        if missed[t] and stage2:
            loglik[t] = 0.0
            continue
        s1, a1 = state1[t], choice1[t]
        w_index = W_LOAD if condition[t] else W_NOLOAD
        previous = effective_previous(previous_state1, previous_choice1, s1, stick_within_state)
        loglik[t] = choice_term_one_stage(
            state, dstate, s1, theta[w_index], w_index, beta1, p, previous, reversed_[t],
            p_common, a1, grad, with_grad,
        )  # fmt: skip
        total += loglik[t]
        if stage2:
            td_update_with_sensitivities(
                state, dstate, s1, a1, state2[t], reward[t], alpha1, alpha2, lam, with_grad
            )
        previous_state1 = s1
        previous_choice1 = a1
    return total


@njit(cache=True, error_model="numpy")
def loglik_cohort(
    thetas, offsets, state1, choice1, state2, reward, condition, reversed_, missed,
    stage2_missed, p_common, stick_within_state, loglik, totals, grads, with_grad,
):  # fmt: skip
    """Log-likelihood of a cohort (serial: it runs inside samplers' own threads).

    Parameters
    ----------
    thetas : float64 (n_participants, 7) parameters
    offsets : int64 (n_participants + 1,) participant i's trials are
        ``offsets[i]:offsets[i + 1]`` of the flat per-trial arrays
    state1 ... stage2_missed : flat per-trial arrays (see :func:`loglik_participant`)
    p_common : float
    stick_within_state : bool
    loglik : float64 (n_trials,) output, per-trial ℓ_t
    totals : float64 (n_participants,) output, Σ_t ℓ_t per participant
    grads : float64 (n_participants, 7) output, d totals[i] / d thetas[i]
    with_grad : bool, compute ``grads``
    """
    for i in range(thetas.shape[0]):
        lo, hi = offsets[i], offsets[i + 1]
        totals[i] = loglik_participant(
            thetas[i], state1[lo:hi], choice1[lo:hi], state2[lo:hi], reward[lo:hi],
            condition[lo:hi], reversed_[lo:hi], missed[lo:hi], stage2_missed[lo:hi], p_common,
            stick_within_state, loglik[lo:hi], grads[i], with_grad,
        )  # fmt: skip


@njit(cache=True, parallel=True, error_model="numpy")
def loglik_draws(
    thetas, offsets, state1, choice1, state2, reward, condition, reversed_, missed,
    stage2_missed, p_common, stick_within_state, loglik,
):  # fmt: skip
    """Per-trial log-likelihood for many posterior draws, in parallel over draws.

    ``thetas`` is (n_draws, n_participants, 7); ``loglik`` (n_draws, n_trials) is
    the output. No gradients.
    """
    n_draws, n_participants, n_parameters = thetas.shape
    for d in prange(n_draws):
        grad = np.zeros(n_parameters)
        for i in range(n_participants):
            lo, hi = offsets[i], offsets[i + 1]
            loglik_participant(
                thetas[d, i], state1[lo:hi], choice1[lo:hi], state2[lo:hi], reward[lo:hi],
                condition[lo:hi], reversed_[lo:hi], missed[lo:hi], stage2_missed[lo:hi],
                p_common, stick_within_state, loglik[d, lo:hi], grad, False,
            )  # fmt: skip
