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


def hybrid_simulate(params, reward_prob, p_common, uniforms):
    """Simulate one participant of the Daw et al. (2011) hybrid.

    Parameters
    ----------
    params : dict with alpha1, alpha2, lambda, beta1, beta2, p, w
    reward_prob : nested sequence [t][s][a]
    p_common : float
    uniforms : sequence of (u_choice1, u_transition, u_choice2, u_reward) per trial

    Returns
    -------
    list of dict, one per trial, with choices, outcome and internals.
    """
    a1_, a2_, lam = params["alpha1"], params["alpha2"], params["lambda"]
    b1, b2, pers, w = params["beta1"], params["beta2"], params["p"], params["w"]
    q_mf = [0.0, 0.0]
    q2 = [[0.0, 0.0], [0.0, 0.0]]
    previous = None
    rows = []
    for t, (u1, ut, u2, ur) in enumerate(uniforms):
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
        s2 = a1 if common else 1 - a1
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
