"""Log-likelihood of observed choices under the arbitrator, with its exact gradient.

Values come from the simulator's per-trial functions (``arbitration_rates``,
``weight_step`` and the hybrid's choice and TD functions); the gradient is carried
forward by the chain rule, as in :mod:`cogarb._kernels.hybrid_loglik`, for every
piece of the arbitrator's state: values Q, weight w, learned transition model T,
reliabilities Ω_SPE and Ω_RPE, familiarity F and novelty ν. Each sensitivity
update below differentiates the line of ``arbitrator.simulate_participant`` it
sits beside, using the values from before that line.

Non-smooth points: ``max(0, SPE − Ω_SPE)`` and ``|δ2|`` take the derivative of the
active branch (0 for the clipped side, sign(δ2) for |δ2|), which is the derivative
everywhere except on a set of measure zero.

**Missed trials** are excluded explicitly: nothing steps or learns (not even w),
the trial adds nothing to the likelihood, and a ``new_states`` event on it still
resets Q2 and familiarity.
"""

import math

import numpy as np
from numba import njit

from cogarb._kernels.arbitrator import arbitration_rates, weight_step
from cogarb._kernels.hybrid import N_STATE, logistic
from cogarb._kernels.hybrid_loglik import stage1_term, stage2_term, td_update_with_sensitivities

N_PARAMETERS = 16
(
    ALPHA1, ALPHA2, LAMBDA, BETA1, BETA2, PERSEVERATION, ETA_T, ETA_R,
    A_MF_MB, A_MB_MF, B_MF_MB, B_MB_MF, KAPPA, ZETA, COST, W0,
) = range(N_PARAMETERS)  # fmt: skip


@njit(cache=True, error_model="numpy")
def loglik_participant(
    theta, choice1, state2, choice2, reward, load, new_states, missed, p_common,
    loglik, grad, with_grad,
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
    state = np.zeros(N_STATE)
    dstate = np.zeros((N_STATE, n))
    t_common = np.full(2, p_common)
    dt_common = np.zeros((2, n))
    familiarity = np.ones(2)
    dfamiliarity = np.zeros((2, n))
    omega_spe = 2.0 * p_common * (1.0 - p_common)
    domega_spe = np.zeros(n)
    omega_rpe = 0.5
    domega_rpe = np.zeros(n)
    novelty = 0.0
    dnovelty = np.zeros(n)
    w = theta[W0]
    dw = np.zeros(n)
    dw[W0] = 1.0
    dlogit = np.zeros(n)
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
        if missed[t]:
            loglik[t] = 0.0
            continue
        a1, s2, a2, r = choice1[t], state2[t], choice2[t], reward[t]
        # arbitration: rates, fixed point and the exact weight step
        chi_mb, chi_mf = 1.0 - omega_spe, 1.0 - omega_rpe
        rate_mf_mb, rate_mb_mf = arbitration_rates(
            chi_mf, chi_mb, novelty, load[t], a_mf_mb, a_mb_mf, b_mf_mb, b_mb_mf, zeta, cost
        )
        w_new, w_star = weight_step(w, rate_mf_mb, rate_mb_mf)
        total = rate_mf_mb + rate_mb_mf
        if with_grad and total > 0.0:
            s_mf = logistic(zeta * novelty - b_mf_mb * chi_mf)
            s_mb = logistic(cost * load[t] - b_mb_mf * chi_mb - zeta * novelty)
            for k in range(n):
                # dχ = −dΩ
                du_mf = zeta * dnovelty[k] + b_mf_mb * domega_rpe[k]
                du_mb = b_mb_mf * domega_spe[k] - zeta * dnovelty[k]
                drate_mf_mb[k] = a_mf_mb * s_mf * (1.0 - s_mf) * du_mf
                drate_mb_mf[k] = a_mb_mf * s_mb * (1.0 - s_mb) * du_mb
            drate_mf_mb[A_MF_MB] += s_mf
            drate_mf_mb[ZETA] += a_mf_mb * s_mf * (1.0 - s_mf) * novelty
            drate_mf_mb[B_MF_MB] -= a_mf_mb * s_mf * (1.0 - s_mf) * chi_mf
            drate_mb_mf[A_MB_MF] += s_mb
            drate_mb_mf[COST] += a_mb_mf * s_mb * (1.0 - s_mb) * load[t]
            drate_mb_mf[B_MB_MF] -= a_mb_mf * s_mb * (1.0 - s_mb) * chi_mb
            drate_mb_mf[ZETA] -= a_mb_mf * s_mb * (1.0 - s_mb) * novelty
            decay = math.exp(-total)
            for k in range(n):
                dtotal = drate_mf_mb[k] + drate_mb_mf[k]
                dw_star = (drate_mf_mb[k] - w_star * dtotal) / total
                dw[k] = dw_star + (dw[k] - dw_star) * decay - (w - w_star) * decay * dtotal
        w = w_new
        # choices
        loglik[t] = stage1_term(
            state, dstate, t_common[0], t_common[1], dt_common[0], dt_common[1], w, dw,
            beta1, p, previous, a1, BETA1, PERSEVERATION, dlogit, grad, with_grad,
        ) + stage2_term(state, dstate, s2, a2, beta2, BETA2, dlogit, grad, with_grad)  # fmt: skip
        # transition model and model-based reliability
        to_destination = s2 == a1
        spe = 1.0 - t_common[a1] if to_destination else t_common[a1]
        surprise_active = spe - omega_spe > 0.0
        surprise = spe - omega_spe if surprise_active else 0.0
        target = 1.0 if to_destination else 0.0
        if with_grad:
            for k in range(n):
                dspe = -dt_common[a1, k] if to_destination else dt_common[a1, k]
                dsurprise = dspe - domega_spe[k] if surprise_active else 0.0
                # ν's sensitivity needs dsurprise before Ω_SPE moves: keep it in dlogit
                dlogit[k] = dsurprise
                domega_spe[k] += eta_r * (dspe - domega_spe[k])
                dt_common[a1, k] -= eta_t * dt_common[a1, k]
            domega_spe[ETA_R] += spe - omega_spe
            dt_common[a1, ETA_T] += target - t_common[a1]
        omega_spe += eta_r * (spe - omega_spe)
        t_common[a1] += eta_t * (target - t_common[a1])
        # values and model-free reliability
        k2 = 2 + 2 * s2 + a2
        if with_grad:
            sign_delta2 = 1.0 if r - state[k2] >= 0.0 else -1.0
            for k in range(n):
                # δ2 = r − Q2(s2, a2) before the update: its sensitivity is −dQ2
                domega_rpe[k] += eta_r * (-sign_delta2 * dstate[k2, k] - domega_rpe[k])
        _d1, d2 = td_update_with_sensitivities(
            state, dstate, a1, s2, a2, r, alpha1, alpha2, lam, ALPHA1, ALPHA2, LAMBDA, with_grad
        )
        if with_grad:
            domega_rpe[ETA_R] += abs(d2) - omega_rpe
        omega_rpe += eta_r * (abs(d2) - omega_rpe)
        # novelty
        unfamiliarity = 1.0 - familiarity[s2]
        if with_grad:
            for k in range(n):
                dunfamiliarity = -dfamiliarity[s2, k]
                dfamiliarity[s2, k] -= kappa * dfamiliarity[s2, k]
                dnovelty[k] += kappa * (dlogit[k] + dunfamiliarity - dnovelty[k])
            dfamiliarity[s2, KAPPA] += 1.0 - familiarity[s2]
            dnovelty[KAPPA] += surprise + unfamiliarity - novelty
        familiarity[s2] += kappa * (1.0 - familiarity[s2])
        novelty += kappa * (surprise + unfamiliarity - novelty)
        previous = a1
