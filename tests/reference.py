"""Slow, obviously correct plain-Python agents: the reference for the numba kernels.

Written straight from the equations in ``paper/models.md`` with Python floats and
lists, sharing no code with ``cogarb._kernels``. They consume the same uniform
draws as the kernels, so on the same inputs both must agree to rounding error.

Missed trials (``paper/models.md``, "Missed trials"): the simulators take the
observed participant's masks, as a posterior-predictive replay does, and the
log-likelihoods the observed trials:

* fully missed (``missed`` and not ``stage2_missed``): no choice, no term, no
  learning of any kind (the arbitrator's w does not step); the perseveration
  reference stays; a ``new_states`` event still resets Q2 (and familiarity).
* half-missed (``stage2_missed``): the first-stage choice (its term log P(a1))
  and the transition happen; the agent learns only what the transition shows
  (the arbitrator: T(a1), Ω_SPE, familiarity, novelty; the hybrid: nothing); no
  δ1, δ2, no value update, no Ω_RPE; the perseveration reference becomes a1.

Simulated outputs of what did not happen: choices and states −1, reward NaN,
``common`` False; the internals of a fully missed trial are NaN, and a
half-missed trial's ``prob_choice2``, ``delta1``, ``delta2`` are NaN.

The log-likelihoods are written with ``+ - * /``, ``exp``, ``log``, ``max`` and
``abs`` only, so :func:`loglik_and_grad` runs them on forward-mode dual numbers
(``dual.py``) for the exact gradient.
"""

import math

from dual import Dual, exp, gradient, log, value

HYBRID_ORDER = ("alpha1", "alpha2", "lambda", "beta1", "beta2", "p", "w_noload", "w_load")
ARBITRATOR_ORDER = (
    "alpha1", "alpha2", "lambda", "beta1", "beta2", "p",
    "eta_T", "eta_R", "A_mf_mb", "A_mb_mf", "B_mf_mb", "B_mb_mf",
    "kappa", "zeta", "cost", "w0",
)  # fmt: skip
NAN = float("nan")


def softmax2(x0, x1):
    """P(option 1) for logits x0, x1 (direct exponentials, as written in the papers)."""
    m = max(x0, x1)
    e0, e1 = math.exp(x0 - m), math.exp(x1 - m)
    return e1 / (e0 + e1)


def _masks(n, missed, stage2_missed):
    return list(missed or [False] * n), list(stage2_missed or [False] * n)


def _missed_row(columns):
    row = {c: NAN for c in columns}
    row.update(choice1=-1, state2=-1, choice2=-1, reward=NAN, common=False)
    return row


HYBRID_COLUMNS = (
    "q_mf_0", "q_mf_1", "q_mb_0", "q_mb_1", "q2_00", "q2_01", "q2_10", "q2_11", "w",
    "prob_choice1", "prob_choice2", "delta1", "delta2",
)  # fmt: skip
ARBITRATOR_COLUMNS = (
    *HYBRID_COLUMNS, "w_star", "chi_mb", "chi_mf", "novelty", "spe", "t_common_0", "t_common_1",
)  # fmt: skip


def hybrid_simulate(
    params, reward_prob, p_common, uniforms, load=None, reversed_=None, new_states=None,
    missed=None, stage2_missed=None,
):  # fmt: skip
    """Simulate one participant of the Daw et al. (2011) hybrid.

    Parameters
    ----------
    params : dict with alpha1, alpha2, lambda, beta1, beta2, p and either w or
        w_noload and w_load
    reward_prob : nested sequence [t][s][a]
    p_common : float
    uniforms : sequence of (u_choice1, u_transition, u_choice2, u_reward) per trial
    load, reversed_, new_states : per-trial sequences (default: none)
    missed, stage2_missed : per-trial masks of a replay (default: nothing missed)

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
    missed, stage2_missed = _masks(n, missed, stage2_missed)
    q_mf = [0.0, 0.0]
    q2 = [[0.0, 0.0], [0.0, 0.0]]
    previous = None
    rows = []
    for t, (u1, ut, u2, ur) in enumerate(uniforms):
        if new_states[t]:
            q2 = [[0.0, 0.0], [0.0, 0.0]]
        if missed[t] and not stage2_missed[t]:
            rows.append(_missed_row(HYBRID_COLUMNS))
            continue
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
        if stage2_missed[t]:  # the trial stops after the transition
            a2, r, p2 = -1, NAN, NAN
        else:
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
        if stage2_missed[t]:
            row["delta1"], row["delta2"] = NAN, NAN
            rows.append(row)
            previous = a1
            continue
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


def arbitrator_simulate(
    params, reward_prob, p_common, uniforms, load, reversed_, new_states, missed=None,
    stage2_missed=None,
):  # fmt: skip
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
    missed, stage2_missed = _masks(len(uniforms), missed, stage2_missed)
    rows = []
    for t, (u1, ut, u2, ur) in enumerate(uniforms):
        if new_states[t]:
            q2 = [[0.0, 0.0], [0.0, 0.0]]
            familiarity = [0.0, 0.0]
        if missed[t] and not stage2_missed[t]:  # nothing happens, w does not step
            rows.append(_missed_row(ARBITRATOR_COLUMNS))
            continue
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
        if stage2_missed[t]:  # the trial stops after the transition
            a2, r, p2 = -1, NAN, NAN
        else:
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
        if stage2_missed[t]:  # no second-stage choice, no reward: nothing value-based
            delta1 = delta2 = NAN
        else:
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


def log_softmax2(x0, x1, choice):
    """log P(choice) of a two-option softmax with logits x0, x1."""
    m = max(x0, x1)
    chosen = x1 if choice == 1 else x0
    return (chosen - m) - log(exp(x0 - m) + exp(x1 - m))


def _logit_pair(values, beta, bonus_choice, pers):
    """Logits beta (Q(a) + pers 1{a = previous}) of actions 0 and 1."""
    return [beta * (values[a] + pers * (1.0 if bonus_choice == a else 0.0)) for a in (0, 1)]


def hybrid_loglik(params, choice1, state2, choice2, reward, p_common, load=None,
                  new_states=None, missed=None, stage2_missed=None):  # fmt: skip
    """Per-trial log P(choice1) + log P(choice2 | state2) of the hybrid on observed data.

    ``params`` maps ``HYBRID_ORDER`` to numbers or Duals. Fully missed trials give
    0, half-missed ones log P(choice1) alone (see the module docstring).
    """
    a1_, a2_, lam = params["alpha1"], params["alpha2"], params["lambda"]
    b1, b2, pers = params["beta1"], params["beta2"], params["p"]
    n = len(choice1)
    load = load or [0] * n
    new_states = new_states or [False] * n
    missed, stage2_missed = _masks(n, missed, stage2_missed)
    q_mf = [0.0, 0.0]
    q2 = [[0.0, 0.0], [0.0, 0.0]]
    previous = None
    out = []
    for t in range(n):
        if new_states[t]:
            q2 = [[0.0, 0.0], [0.0, 0.0]]
        if missed[t] and not stage2_missed[t]:
            out.append(0.0)
            continue
        w = params["w_load"] if load[t] else params["w_noload"]
        a1, s2 = choice1[t], state2[t]
        q_mb = [p_common * max(q2[a]) + (1 - p_common) * max(q2[1 - a]) for a in (0, 1)]
        net = [w * q_mb[a] + (1 - w) * q_mf[a] for a in (0, 1)]
        x = _logit_pair(net, b1, previous, pers)
        ell = log_softmax2(x[0], x[1], a1)
        previous = a1
        if stage2_missed[t]:
            out.append(ell)
            continue
        a2, r = choice2[t], reward[t]
        ell = ell + log_softmax2(b2 * q2[s2][0], b2 * q2[s2][1], a2)
        out.append(ell)
        delta1 = q2[s2][a2] - q_mf[a1]
        delta2 = r - q2[s2][a2]
        q_mf[a1] = q_mf[a1] + a1_ * delta1 + a1_ * lam * delta2
        q2[s2][a2] = q2[s2][a2] + a2_ * delta2
    return out


def arbitrator_loglik(params, choice1, state2, choice2, reward, p_common, load, new_states,
                      missed=None, stage2_missed=None):  # fmt: skip
    """Per-trial log-likelihood of the arbitrator on observed data (as :func:`hybrid_loglik`).

    ``params`` maps ``ARBITRATOR_ORDER`` to numbers or Duals.
    """
    a1_, a2_, lam = params["alpha1"], params["alpha2"], params["lambda"]
    b1, b2, pers = params["beta1"], params["beta2"], params["p"]
    eta_t, eta_r, kappa = params["eta_T"], params["eta_R"], params["kappa"]
    zeta, cost = params["zeta"], params["cost"]
    n = len(choice1)
    missed, stage2_missed = _masks(n, missed, stage2_missed)
    w = params["w0"]
    q_mf = [0.0, 0.0]
    q2 = [[0.0, 0.0], [0.0, 0.0]]
    t_common = [p_common, p_common]
    familiarity = [1.0, 1.0]
    omega_spe = 2 * p_common * (1 - p_common)
    omega_rpe = 0.5
    novelty = 0.0
    previous = None
    out = []
    for t in range(n):
        if new_states[t]:
            q2 = [[0.0, 0.0], [0.0, 0.0]]
            familiarity = [0.0, 0.0]
        if missed[t] and not stage2_missed[t]:
            out.append(0.0)
            continue
        a1, s2 = choice1[t], state2[t]
        chi_mb, chi_mf = 1 - omega_spe, 1 - omega_rpe
        rate_in = params["A_mf_mb"] / (1 + exp(params["B_mf_mb"] * chi_mf - zeta * novelty))
        rate_out = params["A_mb_mf"] / (
            1 + exp(params["B_mb_mf"] * chi_mb + zeta * novelty - cost * load[t])
        )
        w_star = rate_in / (rate_in + rate_out)
        w = w_star + (w - w_star) * exp(-(rate_in + rate_out))
        q_mb = [t_common[a] * max(q2[a]) + (1 - t_common[a]) * max(q2[1 - a]) for a in (0, 1)]
        net = [w * q_mb[a] + (1 - w) * q_mf[a] for a in (0, 1)]
        x = _logit_pair(net, b1, previous, pers)
        ell = log_softmax2(x[0], x[1], a1)
        previous = a1
        if not stage2_missed[t]:
            ell = ell + log_softmax2(b2 * q2[s2][0], b2 * q2[s2][1], choice2[t])
        out.append(ell)
        predicted = t_common[a1] if s2 == a1 else 1 - t_common[a1]
        spe = 1 - predicted
        surprise = max(0.0, spe - omega_spe)
        omega_spe = omega_spe + eta_r * (spe - omega_spe)
        t_common[a1] = t_common[a1] + eta_t * ((1.0 if s2 == a1 else 0.0) - t_common[a1])
        if not stage2_missed[t]:
            a2, r = choice2[t], reward[t]
            delta1 = q2[s2][a2] - q_mf[a1]
            delta2 = r - q2[s2][a2]
            q_mf[a1] = q_mf[a1] + a1_ * delta1 + a1_ * lam * delta2
            q2[s2][a2] = q2[s2][a2] + a2_ * delta2
            omega_rpe = omega_rpe + eta_r * (abs(delta2) - omega_rpe)
        unfamiliarity = 1 - familiarity[s2]
        familiarity[s2] = familiarity[s2] + kappa * (1 - familiarity[s2])
        novelty = novelty + kappa * (surprise + unfamiliarity - novelty)
    return out


def loglik_and_grad(loglik, order, theta, *args, **kwargs):
    """Per-trial values and the gradient of their sum, by dual numbers.

    ``loglik`` is a reference log-likelihood taking a parameter dict first,
    ``order`` the names of ``theta``'s entries. Returns (list of per-trial
    values, list of d Σ ℓ / d theta).
    """
    params = dict(zip(order, Dual.variables([float(v) for v in theta]), strict=True))
    per_trial = loglik(params, *args, **kwargs)
    total = sum(per_trial, 0.0)
    return [value(x) for x in per_trial], gradient(total, len(order))
