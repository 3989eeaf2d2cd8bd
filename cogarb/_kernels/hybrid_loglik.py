"""Log-likelihood of observed choices under the hybrid, with its exact gradient.

The values are computed by the simulator's own per-trial functions
(:mod:`cogarb._kernels.hybrid`): ``model_based_value``, ``stage1_logit``,
``stage2_logit`` and ``td_update``. Alongside them the kernel carries
**forward-mode sensitivities**: for every quantity x of the value state, the
vector dx/dθ over the kernel parameters θ (``hybrid.PARAMETER_ORDER``), updated
by the chain rule of the same equations. One pass over a participant's trials
gives the log-likelihood of each trial and the gradient of their sum; the cost is
O(n_trials × n_parameters) and no tape is stored.

:func:`stage1_logit_sensitivities`, :func:`stage2_logit_sensitivities` and
:func:`td_update_with_sensitivities` serve agents with more learned state (the
arbitrator): the values' sensitivities span the parameters that drive learning,
the weight's span all parameters. The hybrid's own
:func:`loglik_participant` is leaner: only α1, α2 and λ enter the value recursion,
so only their sensitivities are carried (6 × 3); β1, β2, p and the weights enter
the trial's logits alone and get their gradient terms directly. Its gradient is
the same, bit for bit, as carrying all eight; its per-trial log-likelihood, which
uses one logarithm for both stages, agrees with two :func:`choice_loglik` to ~1e-14
relative.

Per trial t (not missed)::

    ℓ_t = log P(a1_t) + log P(a2_t | s2_t)
    log P(a1 = 1) = log σ(x),  x = β1 [w ΔQ_MB + (1 − w) ΔQ_MF + p s_prev]
    dℓ1/dθ = (1{a1 = 1} − σ(x)) dx/dθ          (same form for stage 2)
    dQ_MF(a1) += α1 (dδ1 + λ dδ2) + (δ1 + λ δ2) dα1 + α1 δ2 dλ
    dQ2(s, a2) += α2 dδ2 + δ2 dα2

with ΔQ = Q(1) − Q(0), ``s_prev`` = +1/−1/0 for a previous first-stage choice
1/0/none. The derivative of ``max`` is taken from its argmax (ties, which happen
at the all-zero start, take the first argument, as ``max`` does).

**Missed trials.** ``missed[t]`` marks a trial with any missing response (the
``missed`` column of :func:`cogarb.validate_trials`); ``stage2_missed[t]`` the
*half-missed* ones among them, whose first-stage choice and transition were
observed but whose second-stage choice was not made.

* Fully missed (``missed`` and not ``stage2_missed``): no likelihood term
  (ℓ_t = 0), no value update, and the perseveration bonus keeps pointing at the
  last choice actually made. Deleting the trial gives the same likelihood. A
  ``new_states`` event on it still resets Q2.
* Half-missed: ℓ_t = log P(a1_t), with its gradient; the perseveration
  reference becomes a1_t; no value (TD) update (there is no second-stage choice
  or reward to learn from). The hybrid learns no transition model, so observing
  the transition changes nothing else. The simulator plays such a trial the same
  way (:mod:`cogarb._kernels.hybrid`).
"""

import math

import numpy as np
from numba import njit

from cogarb._kernels.hybrid import (
    N_STATE,
    PARAMETER_ORDER,
    model_based_value,
    stage1_logit,
    stage2_logit,
    td_update,
)

# Columns of the parameter matrix, by name: the layout is stated once, in
# ``hybrid.PARAMETER_ORDER``.
N_PARAMETERS = len(PARAMETER_ORDER)
ALPHA1 = PARAMETER_ORDER.index("alpha1")
ALPHA2 = PARAMETER_ORDER.index("alpha2")
LAMBDA = PARAMETER_ORDER.index("lambda")
BETA1 = PARAMETER_ORDER.index("beta1")
BETA2 = PARAMETER_ORDER.index("beta2")
PERSEVERATION = PARAMETER_ORDER.index("p")
W_NOLOAD = PARAMETER_ORDER.index("w_noload")
W_LOAD = PARAMETER_ORDER.index("w_load")


@njit(cache=True, error_model="numpy")
def stage1_logit_sensitivities(
    state, dstate, t0, t1, dt0, dt1, w, dw, beta1, p, previous,
    columns, i_beta1, i_p, dlogit, with_grad,
):  # fmt: skip
    """Log-odds of first-stage action 1, for any agent mixing MF and MB values.

    ``t0``/``t1`` are the believed probabilities that action 0/1 leads to its own
    state, ``w`` the weight on model-based values; ``i_beta1``/``i_p`` the parameter
    indices of β1 and p. With ``with_grad`` it writes d logit / dθ into ``dlogit``.
    Sensitivities are sparse where the agent's learning is: ``dstate``, ``dt0`` and
    ``dt1`` hold the derivatives with respect to the parameters ``columns`` only
    (column c is parameter ``columns[c]``; every other parameter leaves the values
    and the transition model alone), while ``dw`` and ``dlogit`` span all parameters.
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
        for k in range(dlogit.shape[0]):  # through w alone
            dlogit[k] = beta1 * (dw[k] * (mb_diff - mf_diff))
        for c in range(columns.shape[0]):  # and through the learned values
            k = columns[c]
            dmb0 = -dt0[c] * gap + t0 * dstate[j0, c] + (1.0 - t0) * dstate[j1, c]
            dmb1 = dt1[c] * gap + t1 * dstate[j1, c] + (1.0 - t1) * dstate[j0, c]
            dinner = (
                dw[k] * (mb_diff - mf_diff)
                + w * (dmb1 - dmb0)
                + (1.0 - w) * (dstate[1, c] - dstate[0, c])
            )
            dlogit[k] = beta1 * dinner
        dlogit[i_beta1] += inner
        dlogit[i_p] += beta1 * side
    return logit


@njit(cache=True, error_model="numpy")
def stage2_logit_sensitivities(state, dstate, state2, beta2, columns, i_beta2, dlogit, with_grad):
    """Log-odds of second-stage action 1 in ``state2`` (``i_beta2``: index of β2).

    With ``with_grad`` it writes d logit / dθ into ``dlogit`` at the parameters
    ``columns`` (``dstate``'s, as in :func:`stage1_logit_sensitivities`) and
    ``i_beta2``; the other entries of ``dlogit`` are left as they are (zero).
    """
    logit = stage2_logit(state, state2, beta2)
    if with_grad:
        hi, lo = 3 + 2 * state2, 2 + 2 * state2
        for c in range(columns.shape[0]):
            dlogit[columns[c]] = beta2 * (dstate[hi, c] - dstate[lo, c])
        dlogit[i_beta2] = state[hi] - state[lo]
    return logit


@njit(cache=True, error_model="numpy", inline="always")
def td_sensitivities(
    state, dstate, i, k, reward, alpha1, alpha2, lam, i_alpha1, i_alpha2, i_lambda
):  # fmt: skip
    """Sensitivities of the SARSA(λ) update of value ``i`` (first stage) from ``k``.

    Called before the update itself, with ``state`` the values before it:
    δ₁ = Q[k] − Q[i], δ₂ = r − Q[k]; Q[i] += α₁(δ₁ + λδ₂), Q[k] += α₂δ₂, so
    dQ[i] += α₁(dδ₁ + λ dδ₂) + 1{α₁}(δ₁ + λδ₂) + 1{λ} α₁δ₂ and
    dQ[k] += α₂ dδ₂ + 1{α₂} δ₂. Every kernel's gradient uses this one recursion.
    """
    delta1 = state[k] - state[i]
    delta2 = reward - state[k]
    for j in range(dstate.shape[1]):
        ddelta1 = dstate[k, j] - dstate[i, j]
        ddelta2 = -dstate[k, j]
        dstate[i, j] += alpha1 * (ddelta1 + lam * ddelta2)
        dstate[k, j] += alpha2 * ddelta2
    dstate[i, i_alpha1] += delta1 + lam * delta2
    dstate[i, i_lambda] += alpha1 * delta2
    dstate[k, i_alpha2] += delta2


@njit(cache=True, error_model="numpy")
def td_update_with_sensitivities(
    state, dstate, choice1, state2, choice2, reward, alpha1, alpha2, lam,
    i_alpha1, i_alpha2, i_lambda, with_grad,
):  # fmt: skip
    """``td_update`` plus the matching update of the sensitivities ``dstate``."""
    if with_grad:
        k = 2 + 2 * state2 + choice2
        td_sensitivities(
            state, dstate, choice1, k, reward, alpha1, alpha2, lam, i_alpha1, i_alpha2, i_lambda
        )
    return td_update(state, choice1, state2, choice2, reward, alpha1, alpha2, lam)


@njit(cache=True, error_model="numpy", inline="always")
def _log1p_fast(y):
    """log1p(y) for y ≥ 0, to within 1.2e-14 relative error.

    ``log(1 + y)`` costs a third of ``log1p``; rounding 1 + y moves the result by at
    most 2^−53 (absolute), which is under 1.2e-14 of log1p(y) once y ≥ 0.01.
    """
    if y >= 0.01:
        return math.log(1.0 + y)
    return math.log1p(y)


@njit(cache=True, error_model="numpy", inline="always")
def choice_loglik(logit, choice):
    """log P(choice) of a binary choice with log-odds ``logit`` of option 1, and
    d log P / d logit = 1{choice = 1} − σ(logit).

    With x = ±logit signed towards the choice made, log P = log σ(x) =
    min(x, 0) − log1p(e^−|x|), and one exponential serves the value and the
    derivative ±(1 − σ(x)).
    """
    x = logit if choice == 1 else -logit
    e = math.exp(-abs(x))
    log_p = min(x, 0.0) - _log1p_fast(e)
    miss = (e if x >= 0.0 else 1.0) / (1.0 + e)  # 1 − σ(x)
    return log_p, (miss if choice == 1 else -miss)


@njit(cache=True, error_model="numpy", inline="always")
def two_choice_loglik(logit1, choice1, logit2, choice2):
    """log P(choice1) + log P(choice2) of one trial, and d ℓ / d logit of each stage.

    Returns (ℓ, g1, g2). log P = min(x, 0) − log1p(e^−|x|) with x the logit signed
    towards the choice made (as in :func:`choice_loglik`); one logarithm serves both
    stages: log1p(e1) + log1p(e2) = log1p(y), y = e1 + e2 + e1 e2. The result is
    within ~1e-14 relative of two :func:`choice_loglik` calls. g = ±(1 − σ(x)),
    signed towards choice 1.
    """
    x1 = logit1 if choice1 == 1 else -logit1
    x2 = logit2 if choice2 == 1 else -logit2
    e1 = math.exp(-abs(x1))
    e2 = math.exp(-abs(x2))
    y = e1 + e2 + e1 * e2
    loglik = (min(x1, 0.0) + min(x2, 0.0)) - _log1p_fast(y)
    # 1 − σ(x) = e / (1 + e) if x ≥ 0 else 1 / (1 + e)
    miss1 = (e1 if x1 >= 0.0 else 1.0) / (1.0 + e1)
    miss2 = (e2 if x2 >= 0.0 else 1.0) / (1.0 + e2)
    g1 = miss1 if choice1 == 1 else -miss1
    g2 = miss2 if choice2 == 1 else -miss2
    return loglik, g1, g2


@njit(cache=True, error_model="numpy", inline="always")
def _recursion_dlogits(dstate, c, j0, j1, t_common, w, beta1, hi, lo, beta2):
    """d logit1 / dθ_c and d logit2 / dθ_c for recursion parameter column ``c``."""
    d_j0, d_j1 = dstate[j0, c], dstate[j1, c]
    dmb0 = t_common * d_j0 + (1.0 - t_common) * d_j1
    dmb1 = t_common * d_j1 + (1.0 - t_common) * d_j0
    dinner = w * (dmb1 - dmb0) + (1.0 - w) * (dstate[1, c] - dstate[0, c])
    return beta1 * dinner, beta2 * (dstate[hi, c] - dstate[lo, c])


@njit(cache=True, error_model="numpy")
def loglik_participant(
    theta, choice1, state2, choice2, reward, load, new_states, missed, stage2_missed,
    p_common, loglik, grad, with_grad,
):  # fmt: skip
    """Per-trial log-likelihood of one participant's choices under the hybrid.

    Parameters
    ----------
    theta : float64 (8,) kernel parameters in ``hybrid.PARAMETER_ORDER``
    choice1, state2, choice2 : int8 (n_trials,) observed codes (any value on missed trials)
    reward : float64 (n_trials,)
    load : int8 (n_trials,) 1 on trials under load (selects ``w_load``)
    new_states, missed, stage2_missed : bool (n_trials,) (see the module docstring)
    p_common : float, the instructed common-transition probability
    loglik : float64 (n_trials,) output, ℓ_t (0 on fully missed trials, log P(a1)
        on half-missed ones)
    grad : float64 (8,) output, d Σ_t ℓ_t / dθ (written only if ``with_grad``)

    Only α1, α2 and λ enter the value recursion, so the sensitivities of the value
    state are carried for those three (``dstate`` is 6 × 3); β1, β2, p and the two
    weights enter the trial's logits only, and their gradient terms are added per
    trial directly. This is the arithmetic of :func:`stage1_logit_sensitivities`,
    :func:`stage2_logit_sensitivities` and :func:`td_update_with_sensitivities`
    (which the arbitrator uses) with their identically-zero columns dropped, and the
    same gradient up to rounding. ℓ_t takes one logarithm for both stages
    (:func:`two_choice_loglik`), within ~1e-14 relative of two :func:`choice_loglik`.
    """
    alpha1, alpha2, lam, beta1, beta2, p = (
        theta[0],
        theta[1],
        theta[2],
        theta[3],
        theta[4],
        theta[5],
    )
    w_noload, w_load = theta[W_NOLOAD], theta[W_LOAD]
    t_common = p_common  # instructed, the same for both actions, not a parameter
    state = np.zeros(N_STATE)
    # d state / d (α1, α2, λ): columns ALPHA1, ALPHA2, LAMBDA (= 0, 1, 2)
    dstate = np.zeros((N_STATE, 3))
    g_a1 = g_a2 = g_lam = g_beta1 = g_beta2 = g_p = g_w_noload = g_w_load = 0.0
    previous = -1
    for t in range(choice1.shape[0]):
        if new_states[t]:
            state[2:] = 0.0
            if with_grad:
                dstate[2:, :] = 0.0
        stage2 = not stage2_missed[t]
        if missed[t] and stage2:
            loglik[t] = 0.0
            continue
        under_load = load[t] != 0
        w = w_load if under_load else w_noload
        a1, s2 = choice1[t], state2[t]
        a2 = choice2[t] if stage2 else 0  # a half-missed trial's a2 is never read
        q_mb0 = model_based_value(state, 0, t_common)
        q_mb1 = model_based_value(state, 1, t_common)
        logit1 = stage1_logit(state[0], state[1], q_mb0, q_mb1, w, beta1, p, previous)
        if stage2:
            logit2 = stage2_logit(state, s2, beta2)
            loglik[t], g1, g2 = two_choice_loglik(logit1, a1, logit2, a2)
        else:  # half-missed: the first stage's term alone, and no stage-2 gradient
            loglik[t], g1 = choice_loglik(logit1, a1)
            g2 = 0.0
        k = 2 + 2 * s2 + a2
        if with_grad:
            # stage 1 (as stage1_logit_sensitivities): d logit1 / dθ
            j0 = 2 if state[2] >= state[3] else 3  # argmax in state 0, as max() picks it
            j1 = 4 if state[4] >= state[5] else 5
            side = 1.0 if previous == 1 else (-1.0 if previous == 0 else 0.0)
            mb_diff = q_mb1 - q_mb0
            mf_diff = state[1] - state[0]
            inner = w * mb_diff + (1.0 - w) * mf_diff + p * side
            # stage 2 (as stage2_logit_sensitivities)
            hi, lo = 3 + 2 * s2, 2 + 2 * s2
            # recursion parameters: grad += g1 dlogit1 + g2 dlogit2, in that order
            dl1_0, dl2_0 = _recursion_dlogits(dstate, 0, j0, j1, t_common, w, beta1, hi, lo, beta2)
            dl1_1, dl2_1 = _recursion_dlogits(dstate, 1, j0, j1, t_common, w, beta1, hi, lo, beta2)
            dl1_2, dl2_2 = _recursion_dlogits(dstate, 2, j0, j1, t_common, w, beta1, hi, lo, beta2)
            g_a1 = (g_a1 + g1 * dl1_0) + g2 * dl2_0
            g_a2 = (g_a2 + g1 * dl1_1) + g2 * dl2_1
            g_lam = (g_lam + g1 * dl1_2) + g2 * dl2_2
            # choice-only parameters: their d logit is a single term
            g_beta1 += g1 * inner
            g_p += g1 * (beta1 * side)
            if under_load:
                g_w_load += g1 * (beta1 * (mb_diff - mf_diff))
            else:
                g_w_noload += g1 * (beta1 * (mb_diff - mf_diff))
            g_beta2 += g2 * (state[hi] - state[lo])
            if stage2:
                td_sensitivities(
                    state, dstate, a1, k, reward[t], alpha1, alpha2, lam, ALPHA1, ALPHA2, LAMBDA
                )
        if stage2:
            td_update(state, a1, s2, a2, reward[t], alpha1, alpha2, lam)
        previous = a1
    if with_grad:
        grad[ALPHA1] = g_a1
        grad[ALPHA2] = g_a2
        grad[LAMBDA] = g_lam
        grad[BETA1] = g_beta1
        grad[BETA2] = g_beta2
        grad[PERSEVERATION] = g_p
        grad[W_NOLOAD] = g_w_noload
        grad[W_LOAD] = g_w_load
