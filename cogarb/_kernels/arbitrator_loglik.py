"""Log-likelihood of observed choices under the arbitrator, with its exact gradient.

Values come from the simulator's per-trial functions (``arbitration_rates``,
``weight_step`` and the hybrid's choice and TD functions); the gradient is carried
forward by the chain rule, as in :mod:`cogarb._kernels.hybrid_loglik`, for every
piece of the arbitrator's state: values Q, weight w, learned transition model T,
reliabilities Ω_SPE and Ω_RPE, familiarity F and novelty ν. Each sensitivity
update below differentiates the line of ``arbitrator.simulate_participant`` it
sits beside, using the values from before that line.

Sensitivities are carried only where they can be non-zero. The learned state (Q,
T, Ω_SPE, Ω_RPE, F, ν) depends on the six learning parameters ``LEARNING`` = (α1,
α2, λ, η_T, η_R, κ) alone, so its sensitivities are 6 columns wide (local column c
is parameter ``LEARNING[c]``); the weight w depends on those and on the
arbitration parameters (A, B, ζ, c, w0), so ``dw`` spans all 16; β1, β2 and p
enter the choice logits only. The gradient is that of carrying all 16 columns
everywhere (the columns dropped are identically zero). Both stages' log-probabilities
share one logarithm (``hybrid_loglik.two_choice_loglik``), and the rates' logistic
factors and the weight's decay come from the same calls as the values. Together
these cut the gradient from 4.8× to 3.3× the hybrid's cost per trial
(``benchmarks/gradients.py``).

Non-smooth points: ``max(0, SPE − Ω_SPE)`` and ``|δ2|`` take the derivative of the
active branch (0 for the clipped side, sign(δ2) for |δ2|), which is the derivative
everywhere except on a set of measure zero.

**Missed trials** (``missed`` and ``stage2_missed`` as in
:mod:`cogarb._kernels.hybrid_loglik`):

* fully missed: excluded explicitly: nothing steps or learns (not even w), the
  trial adds nothing to the likelihood, and a ``new_states`` event on it still
  resets Q2 and familiarity;
* half-missed (first-stage choice and transition observed, no second-stage
  choice): w steps, ℓ_t = log P(a1_t) with its gradient, the perseveration
  reference becomes a1_t, and the agent learns what it observed, the
  second-stage state it was shown: T(a1) (with η_T), Ω_SPE (with η_R, hence
  χ_MB), the familiarity F(s2) and the novelty ν (surprise from the SPE, and the
  unfamiliarity of s2), each with its sensitivities. Nothing that needs a2 or the
  reward: no δ1, δ2, no value update, no Ω_RPE update. The simulator does the
  same (:mod:`cogarb._kernels.arbitrator`).
"""

import numpy as np
from numba import njit

from cogarb._kernels.arbitrator import PARAMETER_ORDER, arbitration_rates, weight_step
from cogarb._kernels.hybrid import N_STATE
from cogarb._kernels.hybrid_loglik import (
    choice_loglik,
    stage1_logit_sensitivities,
    stage2_logit_sensitivities,
    td_update_with_sensitivities,
    two_choice_loglik,
)

# Columns of the parameter matrix, by name: the layout is stated once, in
# ``arbitrator.PARAMETER_ORDER``.
N_PARAMETERS = len(PARAMETER_ORDER)
ALPHA1 = PARAMETER_ORDER.index("alpha1")
ALPHA2 = PARAMETER_ORDER.index("alpha2")
LAMBDA = PARAMETER_ORDER.index("lambda")
BETA1 = PARAMETER_ORDER.index("beta1")
BETA2 = PARAMETER_ORDER.index("beta2")
PERSEVERATION = PARAMETER_ORDER.index("p")
ETA_T = PARAMETER_ORDER.index("eta_T")
ETA_R = PARAMETER_ORDER.index("eta_R")
A_MF_MB = PARAMETER_ORDER.index("A_mf_mb")
A_MB_MF = PARAMETER_ORDER.index("A_mb_mf")
B_MF_MB = PARAMETER_ORDER.index("B_mf_mb")
B_MB_MF = PARAMETER_ORDER.index("B_mb_mf")
KAPPA = PARAMETER_ORDER.index("kappa")
ZETA = PARAMETER_ORDER.index("zeta")
COST = PARAMETER_ORDER.index("cost")
W0 = PARAMETER_ORDER.index("w0")
# the parameters the learned state depends on, and their local columns
LEARNING = np.array([ALPHA1, ALPHA2, LAMBDA, ETA_T, ETA_R, KAPPA])
L_ALPHA1, L_ALPHA2, L_LAMBDA, L_ETA_T, L_ETA_R, L_KAPPA = range(LEARNING.shape[0])


@njit(cache=True, error_model="numpy")
def loglik_participant(
    theta, choice1, state2, choice2, reward, load, new_states, missed, stage2_missed,
    p_common, loglik, grad, with_grad,
):  # fmt: skip
    """Per-trial log-likelihood of one participant under the arbitrator.

    Arguments as :func:`cogarb._kernels.hybrid_loglik.loglik_participant`, with
    ``theta`` (16,) in ``arbitrator.PARAMETER_ORDER`` and ``load`` entering the
    MB → MF rate.
    """
    alpha1, alpha2, lam, beta1, beta2, p = (
        theta[0],
        theta[1],
        theta[2],
        theta[3],
        theta[4],
        theta[5],
    )
    eta_t, eta_r, a_mf_mb, a_mb_mf = theta[ETA_T], theta[ETA_R], theta[A_MF_MB], theta[A_MB_MF]
    b_mf_mb, b_mb_mf, kappa = theta[B_MF_MB], theta[B_MB_MF], theta[KAPPA]
    zeta, cost = theta[ZETA], theta[COST]
    n = N_PARAMETERS
    learning = LEARNING
    m = learning.shape[0]
    # learned state, with sensitivities over the learning parameters (m columns)
    state = np.zeros(N_STATE)
    dstate = np.zeros((N_STATE, m))
    t_common = np.full(2, p_common)
    dt_common = np.zeros((2, m))
    familiarity = np.ones(2)
    dfamiliarity = np.zeros((2, m))
    omega_spe = 2.0 * p_common * (1.0 - p_common)
    domega_spe = np.zeros(m)
    omega_rpe = 0.5
    domega_rpe = np.zeros(m)
    novelty = 0.0
    dnovelty = np.zeros(m)
    dsurprise = np.zeros(m)
    # the weight and the rates, with sensitivities over all parameters
    w = theta[W0]
    dw = np.zeros(n)
    dw[W0] = 1.0
    dlogit1 = np.zeros(n)
    dlogit2 = np.zeros(n)  # non-zero at the learning parameters and β2 only
    drate_mf_mb = np.zeros(n)
    drate_mb_mf = np.zeros(n)
    grad[:] = 0.0
    previous = -1
    for t in range(choice1.shape[0]):
        if new_states[t]:
            state[2:] = 0.0
            dstate[2:, :] = 0.0
            familiarity[:] = 0.0
            dfamiliarity[:, :] = 0.0
        stage2 = not stage2_missed[t]
        if missed[t] and stage2:
            loglik[t] = 0.0
            continue
        a1, s2, a2, r = choice1[t], state2[t], choice2[t], reward[t]
        # arbitration: rates, fixed point and the exact weight step
        chi_mb, chi_mf = 1.0 - omega_spe, 1.0 - omega_rpe
        rate_mf_mb, rate_mb_mf, s_mf, s_mb = arbitration_rates(
            chi_mf, chi_mb, novelty, load[t], a_mf_mb, a_mb_mf, b_mf_mb, b_mb_mf, zeta, cost
        )
        w_new, w_star, decay = weight_step(w, rate_mf_mb, rate_mb_mf)
        total = rate_mf_mb + rate_mb_mf
        if with_grad and total > 0.0:
            drate_mf_mb[:] = 0.0
            drate_mb_mf[:] = 0.0
            ds_mf = a_mf_mb * s_mf * (1.0 - s_mf)  # d rate / d its logistic's argument
            ds_mb = a_mb_mf * s_mb * (1.0 - s_mb)
            for c in range(m):
                k = learning[c]
                # dχ = −dΩ
                drate_mf_mb[k] = ds_mf * (zeta * dnovelty[c] + b_mf_mb * domega_rpe[c])
                drate_mb_mf[k] = ds_mb * (b_mb_mf * domega_spe[c] - zeta * dnovelty[c])
            drate_mf_mb[A_MF_MB] += s_mf
            drate_mf_mb[ZETA] += ds_mf * novelty
            drate_mf_mb[B_MF_MB] -= ds_mf * chi_mf
            drate_mb_mf[A_MB_MF] += s_mb
            drate_mb_mf[COST] += ds_mb * load[t]
            drate_mb_mf[B_MB_MF] -= ds_mb * chi_mb
            drate_mb_mf[ZETA] -= ds_mb * novelty
            inv_total = 1.0 / total
            spread = (w - w_star) * decay
            for k in range(n):
                dtotal = drate_mf_mb[k] + drate_mb_mf[k]
                dw_star = (drate_mf_mb[k] - w_star * dtotal) * inv_total
                dw[k] = dw_star + (dw[k] - dw_star) * decay - spread * dtotal
        w = w_new
        # choices
        logit1 = stage1_logit_sensitivities(
            state, dstate, t_common[0], t_common[1], dt_common[0], dt_common[1], w, dw,
            beta1, p, previous, learning, BETA1, PERSEVERATION, dlogit1, with_grad,
        )  # fmt: skip
        if stage2:
            logit2 = stage2_logit_sensitivities(
                state, dstate, s2, beta2, learning, BETA2, dlogit2, with_grad
            )
            loglik[t], g1, g2 = two_choice_loglik(logit1, a1, logit2, a2)
            if with_grad:
                for k in range(n):
                    grad[k] += g1 * dlogit1[k] + g2 * dlogit2[k]
        else:  # half-missed: the first stage's term alone
            loglik[t], g1 = choice_loglik(logit1, a1)
            if with_grad:
                for k in range(n):
                    grad[k] += g1 * dlogit1[k]
        # transition model and model-based reliability
        to_destination = s2 == a1
        spe = 1.0 - t_common[a1] if to_destination else t_common[a1]
        surprise_active = spe - omega_spe > 0.0
        surprise = spe - omega_spe if surprise_active else 0.0
        target = 1.0 if to_destination else 0.0
        if with_grad:
            for c in range(m):
                dspe = -dt_common[a1, c] if to_destination else dt_common[a1, c]
                # ν's sensitivity needs dsurprise before Ω_SPE moves
                dsurprise[c] = dspe - domega_spe[c] if surprise_active else 0.0
                domega_spe[c] += eta_r * (dspe - domega_spe[c])
                dt_common[a1, c] -= eta_t * dt_common[a1, c]
            domega_spe[L_ETA_R] += spe - omega_spe
            dt_common[a1, L_ETA_T] += target - t_common[a1]
        omega_spe += eta_r * (spe - omega_spe)
        t_common[a1] += eta_t * (target - t_common[a1])
        # values and model-free reliability: only with a second-stage choice and reward
        if stage2:
            k2 = 2 + 2 * s2 + a2
            if with_grad:
                sign_delta2 = 1.0 if r - state[k2] >= 0.0 else -1.0
                for c in range(m):
                    # δ2 = r − Q2(s2, a2) before the update: its sensitivity is −dQ2
                    domega_rpe[c] += eta_r * (-sign_delta2 * dstate[k2, c] - domega_rpe[c])
            _d1, d2 = td_update_with_sensitivities(
                state, dstate, a1, s2, a2, r, alpha1, alpha2, lam,
                L_ALPHA1, L_ALPHA2, L_LAMBDA, with_grad,
            )  # fmt: skip
            if with_grad:
                domega_rpe[L_ETA_R] += abs(d2) - omega_rpe
            omega_rpe += eta_r * (abs(d2) - omega_rpe)
        # novelty
        unfamiliarity = 1.0 - familiarity[s2]
        if with_grad:
            for c in range(m):
                dunfamiliarity = -dfamiliarity[s2, c]
                dfamiliarity[s2, c] -= kappa * dfamiliarity[s2, c]
                dnovelty[c] += kappa * (dsurprise[c] + dunfamiliarity - dnovelty[c])
            dfamiliarity[s2, L_KAPPA] += 1.0 - familiarity[s2]
            dnovelty[L_KAPPA] += surprise + unfamiliarity - novelty
        familiarity[s2] += kappa * (1.0 - familiarity[s2])
        novelty += kappa * (surprise + unfamiliarity - novelty)
        previous = a1
