"""Slow, obviously correct plain-Python agents: the reference for the numba kernels.

Written straight from the equations in ``paper/models.md`` with Python floats and
lists, sharing no code with ``cogarb._kernels``. They consume the same uniform
draws as the kernels, so on the same inputs both must agree to rounding error.
"""

import math


def softmax2(x0, x1):
    """P(option 1) for logits x0, x1 (direct exponentials, as written in the papers)."""
    m = max(x0, x1)
    e0, e1 = math.exp(x0 - m), math.exp(x1 - m)
    return e1 / (e0 + e1)


def hybrid_simulate(
    params, reward_prob, p_common, uniforms, load=None, reversed_=None, new_states=None
):
    """Simulate one participant of the Daw et al. (2011) hybrid.

    Parameters
    ----------
    params : dict with alpha1, alpha2, lambda, beta1, beta2, p and either w or
        w_noload and w_load
    reward_prob : nested sequence [t][s][a]
    p_common : float
    uniforms : sequence of (u_choice1, u_transition, u_choice2, u_reward) per trial
    load, reversed_, new_states : per-trial sequences (default: none)

    Returns
    -------
    list of dict, one per trial, with choices, outcome and internals.
    """
    a1_, a2_, lam = params["alpha1"], params["alpha2"], params["lambda"]
    b1, b2, pers = params["beta1"], params["beta2"], params["p"]
    w_noload = params.get("w_noload", params.get("w"))
    w_load = params.get("w_load", params.get("w"))
    n = len(uniforms)
    load = load or [0] * n
    reversed_ = reversed_ or [False] * n
    new_states = new_states or [False] * n
    q_mf = [0.0, 0.0]
    q2 = [[0.0, 0.0], [0.0, 0.0]]
    previous = None
    rows = []
    for t, (u1, ut, u2, ur) in enumerate(uniforms):
        if new_states[t]:
            q2 = [[0.0, 0.0], [0.0, 0.0]]
        w = w_load if load[t] else w_noload
        # model-based values: expected best second-stage value under the transition matrix
        q_mb = []
        for a in (0, 1):
            common_state, rare_state = a, 1 - a
            q_mb.append(p_common * max(q2[common_state]) + (1 - p_common) * max(q2[rare_state]))
        net = [w * q_mb[a] + (1 - w) * q_mf[a] for a in (0, 1)]
        rep = [1.0 if previous == a else 0.0 for a in (0, 1)]
        p1 = softmax2(b1 * (net[0] + pers * rep[0]), b1 * (net[1] + pers * rep[1]))
        a1 = 1 if u1 < p1 else 0
        common = ut < p_common
        destination = 1 - a1 if reversed_[t] else a1
        s2 = destination if common else 1 - destination
        p2 = softmax2(b2 * q2[s2][0], b2 * q2[s2][1])
        a2 = 1 if u2 < p2 else 0
        r = 1.0 if ur < reward_prob[t][s2][a2] else 0.0
        row = dict(
            choice1=a1,
            state2=s2,
            choice2=a2,
            reward=r,
            common=common,
            q_mf_0=q_mf[0],
            q_mf_1=q_mf[1],
            q_mb_0=q_mb[0],
            q_mb_1=q_mb[1],
            q2_00=q2[0][0],
            q2_01=q2[0][1],
            q2_10=q2[1][0],
            q2_11=q2[1][1],
            w=w,
            prob_choice1=p1 if a1 == 1 else 1 - p1,
            prob_choice2=p2 if a2 == 1 else 1 - p2,
        )
        delta1 = q2[s2][a2] - q_mf[a1]
        delta2 = r - q2[s2][a2]
        q_mf[a1] = q_mf[a1] + a1_ * delta1 + a1_ * lam * delta2
        q2[s2][a2] = q2[s2][a2] + a2_ * delta2
        row["delta1"], row["delta2"] = delta1, delta2
        rows.append(row)
        previous = a1
    return rows


def reflected_walk(initial, steps, lower, upper):
    """One reflected Gaussian random walk: list of values, one per trial."""
    x = initial
    out = [x]
    for step in steps:
        x = x + step
        while x < lower or x > upper:
            x = 2 * upper - x if x > upper else 2 * lower - x
        out.append(x)
    return out


def logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def arbitrator_simulate(params, reward_prob, p_common, uniforms, load, reversed_, new_states):
    """Simulate one arbitrator, written out from the equations of paper/models.md."""
    a1_, a2_, lam = params["alpha1"], params["alpha2"], params["lambda"]
    b1, b2, pers = params["beta1"], params["beta2"], params["p"]
    eta_t, eta_r, kappa = params["eta_T"], params["eta_R"], params["kappa"]
    zeta, cost = params["zeta"], params["cost"]
    w = params["w0"]
    q_mf = [0.0, 0.0]
    q2 = [[0.0, 0.0], [0.0, 0.0]]
    t_common = [p_common, p_common]  # learned P(state a | action a)
    familiarity = [1.0, 1.0]
    omega_spe = 2 * p_common * (1 - p_common)
    omega_rpe = 0.5
    novelty = 0.0
    previous = None
    rows = []
    for t, (u1, ut, u2, ur) in enumerate(uniforms):
        if new_states[t]:
            q2 = [[0.0, 0.0], [0.0, 0.0]]
            familiarity = [0.0, 0.0]
        chi_mb, chi_mf = 1 - omega_spe, 1 - omega_rpe
        rate_in = params["A_mf_mb"] / (1 + math.exp(params["B_mf_mb"] * chi_mf - zeta * novelty))
        rate_out = params["A_mb_mf"] / (
            1 + math.exp(params["B_mb_mf"] * chi_mb + zeta * novelty - cost * load[t])
        )
        w_star = rate_in / (rate_in + rate_out)
        w = w_star + (w - w_star) * math.exp(-(rate_in + rate_out))
        q_mb = [t_common[a] * max(q2[a]) + (1 - t_common[a]) * max(q2[1 - a]) for a in (0, 1)]
        net = [w * q_mb[a] + (1 - w) * q_mf[a] for a in (0, 1)]
        rep = [1.0 if previous == a else 0.0 for a in (0, 1)]
        p1 = softmax2(b1 * (net[0] + pers * rep[0]), b1 * (net[1] + pers * rep[1]))
        a1 = 1 if u1 < p1 else 0
        common = ut < p_common
        destination = 1 - a1 if reversed_[t] else a1
        s2 = destination if common else 1 - destination
        p2 = softmax2(b2 * q2[s2][0], b2 * q2[s2][1])
        a2 = 1 if u2 < p2 else 0
        r = 1.0 if ur < reward_prob[t][s2][a2] else 0.0
        row = dict(
            choice1=a1, state2=s2, choice2=a2, reward=r, common=common,
            q_mf_0=q_mf[0], q_mf_1=q_mf[1], q_mb_0=q_mb[0], q_mb_1=q_mb[1],
            q2_00=q2[0][0], q2_01=q2[0][1], q2_10=q2[1][0], q2_11=q2[1][1], w=w,
            prob_choice1=p1 if a1 == 1 else 1 - p1, prob_choice2=p2 if a2 == 1 else 1 - p2,
            w_star=w_star, chi_mb=chi_mb, chi_mf=chi_mf, novelty=novelty,
            t_common_0=t_common[0], t_common_1=t_common[1],
        )  # fmt: skip
        # Gläscher (2010) state-prediction error and transition learning
        predicted = t_common[a1] if s2 == a1 else 1 - t_common[a1]
        spe = 1 - predicted
        surprise = max(0.0, spe - omega_spe)
        omega_spe = omega_spe + eta_r * (spe - omega_spe)
        t_common[a1] = t_common[a1] + eta_t * ((1.0 if s2 == a1 else 0.0) - t_common[a1])
        delta1 = q2[s2][a2] - q_mf[a1]
        delta2 = r - q2[s2][a2]
        q_mf[a1] = q_mf[a1] + a1_ * delta1 + a1_ * lam * delta2
        q2[s2][a2] = q2[s2][a2] + a2_ * delta2
        omega_rpe = omega_rpe + eta_r * (abs(delta2) - omega_rpe)
        unfamiliarity = 1 - familiarity[s2]
        familiarity[s2] = familiarity[s2] + kappa * (1 - familiarity[s2])
        novelty = novelty + kappa * (surprise + unfamiliarity - novelty)
        row.update(delta1=delta1, delta2=delta2, spe=spe)
        rows.append(row)
        previous = a1
    return rows
