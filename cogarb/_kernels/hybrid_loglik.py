"""Log-likelihood of observed choices under the hybrid, with its exact gradient.

The values are computed by the simulator's own per-trial functions
(:mod:`cogarb._kernels.hybrid`): ``model_based_value``, ``stage1_logit``,
``stage2_logit`` and ``td_update``. Alongside them the kernel carries
**forward-mode sensitivities**: for every quantity x of the value state, the
vector dx/dθ over the kernel parameters θ (``hybrid.PARAMETER_ORDER``), updated
by the chain rule of the same equations. One pass over a participant's trials
gives the log-likelihood of each trial and the gradient of their sum; the cost is
O(n_trials × n_parameters) and no tape is stored.

Per trial t (not missed)::

    ℓ_t = log P(a1_t) + log P(a2_t | s2_t)
    log P(a1 = 1) = log σ(x),  x = β1 [w ΔQ_MB + (1 − w) ΔQ_MF + p s_prev]
    dℓ1/dθ = (1{a1 = 1} − σ(x)) dx/dθ          (same form for stage 2)
    dQ_MF(a1) += α1 (dδ1 + λ dδ2) + (δ1 + λ δ2) dα1 + α1 δ2 dλ
    dQ2(s, a2) += α2 dδ2 + δ2 dα2

with ΔQ = Q(1) − Q(0), ``s_prev`` = +1/−1/0 for a previous first-stage choice
1/0/none. The derivative of ``max`` is taken from its argmax (ties, which happen
at the all-zero start, take the first argument, as ``max`` does).

**Missed trials** (``missed[t]``) are excluded explicitly: no value update, no
likelihood term (ℓ_t = 0), and the perseveration bonus keeps pointing at the last
choice actually made. A ``new_states`` event on a missed trial still resets Q2.
"""

import math

import numpy as np
from numba import njit

from cogarb._kernels.hybrid import (
    N_STATE,
    model_based_value,
    stage1_logit,
    stage2_logit,
    td_update,
)

N_PARAMETERS = 8
ALPHA1, ALPHA2, LAMBDA, BETA1, BETA2, PERSEVERATION, W_NOLOAD, W_LOAD = range(N_PARAMETERS)


@njit(cache=True, error_model="numpy")
def choice_term(logit, choice, dlogit, grad, with_grad):
    """log P(choice) for a binary choice with log-odds ``logit`` of option 1.

    Adds d log P / dθ = (1{choice = 1} − σ(logit)) dlogit/dθ to ``grad``.
    """
    # one exp serves both: with x = ±logit signed towards the choice made,
    # log P = log σ(x) and dlog P/dlogit = ±(1 − σ(x))
    x = logit if choice == 1 else -logit
    e = math.exp(-abs(x))
    log_p = -math.log1p(e) if x >= 0.0 else x - math.log1p(e)
    if with_grad:
        miss = e / (1.0 + e) if x >= 0.0 else 1.0 / (1.0 + e)  # 1 − σ(x)
        g = miss if choice == 1 else -miss
        for k in range(grad.shape[0]):
            grad[k] += g * dlogit[k]
    return log_p


@njit(cache=True, error_model="numpy")
def stage1_term(
    state, dstate, t0, t1, dt0, dt1, w, dw, beta1, p, previous, choice1,
    i_beta1, i_p, dlogit, grad, with_grad,
):  # fmt: skip
    """log P(choice1) and its gradient, for any agent mixing MF and MB values.

    ``t0``/``t1`` (with sensitivities ``dt0``/``dt1``) are the believed
    probabilities that action 0/1 leads to its own state, ``w`` (``dw``) the
    weight on model-based values; ``i_beta1``/``i_p`` the parameter indices of
    β1 and p. ``dlogit`` is scratch space of length n_parameters.
    """
    q_mb0 = model_based_value(state, 0, t0)
    q_mb1 = model_based_value(state, 1, t1)
    logit = stage1_logit(state[0], state[1], q_mb0, q_mb1, w, beta1, p, previous)
    if with_grad:
        j0 = 2 if state[2] >= state[3] else 3  # argmax in state 0, as max() picks it
        j1 = 4 if state[4] >= state[5] else 5
        gap = state[j1] - state[j0]
        side = 1.0 if previous == 1 else (-1.0 if previous == 0 else 0.0)
        mb_diff = q_mb1 - q_mb0
        mf_diff = state[1] - state[0]
        inner = w * mb_diff + (1.0 - w) * mf_diff + p * side
        for k in range(dlogit.shape[0]):
            dmb0 = -dt0[k] * gap + t0 * dstate[j0, k] + (1.0 - t0) * dstate[j1, k]
            dmb1 = dt1[k] * gap + t1 * dstate[j1, k] + (1.0 - t1) * dstate[j0, k]
            dinner = (
                dw[k] * (mb_diff - mf_diff)
                + w * (dmb1 - dmb0)
                + (1.0 - w) * (dstate[1, k] - dstate[0, k])
            )
            dlogit[k] = beta1 * dinner
        dlogit[i_beta1] += inner
        dlogit[i_p] += beta1 * side
    return choice_term(logit, choice1, dlogit, grad, with_grad)


@njit(cache=True, error_model="numpy")
def stage2_term(state, dstate, state2, choice2, beta2, i_beta2, dlogit, grad, with_grad):
    """log P(choice2 | state2) and its gradient (``i_beta2``: index of β2)."""
    logit = stage2_logit(state, state2, beta2)
    if with_grad:
        hi, lo = 3 + 2 * state2, 2 + 2 * state2
        for k in range(dlogit.shape[0]):
            dlogit[k] = beta2 * (dstate[hi, k] - dstate[lo, k])
        dlogit[i_beta2] += state[hi] - state[lo]
    return choice_term(logit, choice2, dlogit, grad, with_grad)


@njit(cache=True, error_model="numpy")
def td_update_with_sensitivities(
    state, dstate, choice1, state2, choice2, reward, alpha1, alpha2, lam,
    i_alpha1, i_alpha2, i_lambda, with_grad,
):  # fmt: skip
    """``td_update`` plus the matching update of the sensitivities ``dstate``."""
    k = 2 + 2 * state2 + choice2
    if with_grad:
        delta1 = state[k] - state[choice1]
        delta2 = reward - state[k]
        for j in range(dstate.shape[1]):
            ddelta1 = dstate[k, j] - dstate[choice1, j]
            ddelta2 = -dstate[k, j]
            dstate[choice1, j] += alpha1 * (ddelta1 + lam * ddelta2)
            dstate[k, j] += alpha2 * ddelta2
        dstate[choice1, i_alpha1] += delta1 + lam * delta2
        dstate[choice1, i_lambda] += alpha1 * delta2
        dstate[k, i_alpha2] += delta2
    return td_update(state, choice1, state2, choice2, reward, alpha1, alpha2, lam)


@njit(cache=True, error_model="numpy")
def loglik_participant(
    theta, choice1, state2, choice2, reward, load, new_states, missed, p_common,
    loglik, grad, with_grad,
):  # fmt: skip
    """Per-trial log-likelihood of one participant's choices under the hybrid.

    Parameters
    ----------
    theta : float64 (8,) kernel parameters in ``hybrid.PARAMETER_ORDER``
    choice1, state2, choice2 : int8 (n_trials,) observed codes (any value on missed trials)
    reward : float64 (n_trials,)
    load : int8 (n_trials,) 1 on trials under load (selects ``w_load``)
    new_states, missed : bool (n_trials,)
    p_common : float, the instructed common-transition probability
    loglik : float64 (n_trials,) output, ℓ_t (0 on missed trials)
    grad : float64 (8,) output, d Σ_t ℓ_t / dθ (written only if ``with_grad``)
    """
    alpha1, alpha2, lam, beta1, beta2, p = (
        theta[0],
        theta[1],
        theta[2],
        theta[3],
        theta[4],
        theta[5],
    )
    state = np.zeros(N_STATE)
    dstate = np.zeros((N_STATE, N_PARAMETERS))
    dt = np.zeros(N_PARAMETERS)  # the instructed transition model does not depend on θ
    dw_noload = np.zeros(N_PARAMETERS)
    dw_noload[W_NOLOAD] = 1.0
    dw_load = np.zeros(N_PARAMETERS)
    dw_load[W_LOAD] = 1.0
    dlogit = np.zeros(N_PARAMETERS)
    grad[:] = 0.0
    previous = -1
    for t in range(choice1.shape[0]):
        if new_states[t]:
            state[2:] = 0.0
            dstate[2:, :] = 0.0
        if missed[t]:
            loglik[t] = 0.0
            continue
        under_load = load[t] != 0
        w = theta[W_LOAD] if under_load else theta[W_NOLOAD]
        dw = dw_load if under_load else dw_noload
        a1, s2, a2 = choice1[t], state2[t], choice2[t]
        loglik[t] = stage1_term(
            state, dstate, p_common, p_common, dt, dt, w, dw, beta1, p, previous, a1,
            BETA1, PERSEVERATION, dlogit, grad, with_grad,
        ) + stage2_term(state, dstate, s2, a2, beta2, BETA2, dlogit, grad, with_grad)  # fmt: skip
        td_update_with_sensitivities(
            state, dstate, a1, s2, a2, reward[t], alpha1, alpha2, lam,
            ALPHA1, ALPHA2, LAMBDA, with_grad,
        )  # fmt: skip
        previous = a1
