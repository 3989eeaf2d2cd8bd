"""Per-trial log-likelihood of the hybrid and the arbitrator as ``pytensor.scan`` graphs.

An independent autodiff reference for gradient tests and benchmarks: written from the
equations in the docstrings of ``cogarb._kernels.hybrid`` / ``cogarb._kernels.arbitrator``
(with the observed choices in place of sampled ones) and sharing no code with
``cogarb._kernels``. Only numpy and pytensor are used.

Data-dependent selections (which action, which second-stage state) are written as
products with 0/1 indicators, which are exact in floating point, so the graphs have no
integer indexing and the gradient flows through plain arithmetic.

Missed trials (``missed[t]`` true) contribute 0 and change nothing, except that the
``new_states`` reset (Q2 = 0, and for the arbitrator familiarity = 0) still applies. The
"previous first-stage choice" stays the last non-missed one. The choice, state and reward
entries of missed trials are ignored (replaced by 0 before building the graph), so any
value there, NaN included, is harmless.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt

HYBRID_PARAMETERS = ("alpha1", "alpha2", "lambda", "beta1", "beta2", "p", "w_noload", "w_load")
ARBITRATOR_PARAMETERS = (
    "alpha1", "alpha2", "lambda", "beta1", "beta2", "p",
    "eta_T", "eta_R", "A_mf_mb", "A_mb_mf", "B_mf_mb", "B_mb_mf",
    "kappa", "zeta", "cost", "w0",
)  # fmt: skip


def _sequences(choice1, state2, choice2, reward, load, new_states, missed):
    """Per-trial data as float64 constants, entries of missed trials zeroed."""
    missed = np.asarray(missed, dtype=bool)

    def clean(x):
        x = np.asarray(x, dtype=np.float64)
        return np.where(missed, 0.0, np.nan_to_num(x))

    arrays = (
        clean(choice1),
        clean(state2),
        clean(choice2),
        clean(reward),
        np.asarray(load, dtype=np.float64),
        np.asarray(new_states, dtype=np.float64),
        missed.astype(np.float64),
    )
    return [pt.constant(a) for a in arrays]


def _log_sigmoid(x):
    """log(1 / (1 + exp(-x))), stable for large |x|."""
    return -pt.softplus(-x)


def _stage_terms(q_mf, q2, t0, t1, w, beta1, beta2, p, prev_sign, c1, s2, c2):
    """Log-probabilities of the two observed choices and the selectors used by the update.

    ``t0``/``t1``: believed P(state a | action a) for a = 0/1. ``prev_sign``: +1 / -1 if
    the previous first-stage choice was 1 / 0, 0 before the first choice.
    """
    best0 = pt.maximum(q2[0], q2[1])
    best1 = pt.maximum(q2[2], q2[3])
    q_mb0 = t0 * best0 + (1.0 - t0) * best1
    q_mb1 = t1 * best1 + (1.0 - t1) * best0
    logit1 = beta1 * (w * (q_mb1 - q_mb0) + (1.0 - w) * (q_mf[1] - q_mf[0]) + p * prev_sign)
    sign1 = 2.0 * c1 - 1.0
    ll1 = _log_sigmoid(sign1 * logit1)
    q2_s_0 = (1.0 - s2) * q2[0] + s2 * q2[2]
    q2_s_1 = (1.0 - s2) * q2[1] + s2 * q2[3]
    logit2 = beta2 * (q2_s_1 - q2_s_0)
    ll2 = _log_sigmoid((2.0 * c2 - 1.0) * logit2)
    m1 = pt.stack([1.0 - c1, c1])  # one-hot of choice1
    m2 = pt.stack([(1.0 - s2) * (1.0 - c2), (1.0 - s2) * c2, s2 * (1.0 - c2), s2 * c2])
    return ll1 + ll2, sign1, m1, m2


def _td(q_mf, q2, m1, m2, r, alpha1, alpha2, lam):
    """SARSA(lambda) update; returns (new q_mf, new q2, delta1, delta2)."""
    q2_k = pt.sum(m2 * q2)
    delta1 = q2_k - pt.sum(m1 * q_mf)
    delta2 = r - q2_k
    q_mf_new = q_mf + m1 * (alpha1 * (delta1 + lam * delta2))
    q2_new = q2 + m2 * (alpha2 * delta2)
    return q_mf_new, q2_new, delta1, delta2


def hybrid_loglik_graph(
    theta, choice1, state2, choice2, reward, load, new_states, missed, p_common
):
    """Per-trial log P(choice1) + log P(choice2 | state2) of the hybrid (0 on missed trials).

    theta: pytensor float64 vector (8,) in ``HYBRID_PARAMETERS`` order. The other
    arguments are numpy arrays of one participant's trials; ``p_common`` a float.
    Returns a pytensor float64 vector (n_trials,).
    """
    p_common = float(p_common)
    seqs = _sequences(choice1, state2, choice2, reward, load, new_states, missed)
    alpha1, alpha2, lam, beta1, beta2, p, w_noload, w_load = (theta[i] for i in range(8))

    def step(c1, s2, c2, r, ld, new, miss, q_mf, q2, prev_sign):
        q2 = q2 * (1.0 - new)
        w = ld * w_load + (1.0 - ld) * w_noload
        ll, sign1, m1, m2 = _stage_terms(
            q_mf, q2, p_common, p_common, w, beta1, beta2, p, prev_sign, c1, s2, c2
        )
        q_mf_new, q2_new, _, _ = _td(q_mf, q2, m1, m2, r, alpha1, alpha2, lam)
        skip = pt.gt(miss, 0.5)
        return (
            pt.switch(skip, q_mf, q_mf_new),
            pt.switch(skip, q2, q2_new),
            pt.switch(skip, prev_sign, sign1),
            pt.switch(skip, 0.0, ll),
        )

    zeros2 = pt.zeros((2,), dtype="float64")
    zeros4 = pt.zeros((4,), dtype="float64")
    outputs = pytensor.scan(
        step,
        sequences=seqs,
        outputs_info=[zeros2, zeros4, pt.constant(0.0, dtype="float64"), None],
        return_list=True,
        return_updates=False,
    )
    return outputs[-1]


def arbitrator_loglik_graph(
    theta, choice1, state2, choice2, reward, load, new_states, missed, p_common
):
    """Per-trial log P(choice1) + log P(choice2 | state2) of the arbitrator (0 on missed).

    theta: pytensor float64 vector (16,) in ``ARBITRATOR_PARAMETERS`` order; other
    arguments as for ``hybrid_loglik_graph``.
    """
    p_common = float(p_common)
    seqs = _sequences(choice1, state2, choice2, reward, load, new_states, missed)
    alpha1, alpha2, lam, beta1, beta2, p = (theta[i] for i in range(6))
    eta_t, eta_r, a_mf_mb, a_mb_mf, b_mf_mb, b_mb_mf = (theta[i] for i in range(6, 12))
    kappa, zeta, cost, w0 = (theta[i] for i in range(12, 16))

    def step(
        c1, s2, c2, r, ld, new, miss,
        q_mf, q2, prev_sign, w, t_common, familiarity, omega_spe, omega_rpe, novelty,
    ):  # fmt: skip
        q2 = q2 * (1.0 - new)
        familiarity = familiarity * (1.0 - new)
        # arbitration: rates and exact weight step
        chi_mb, chi_mf = 1.0 - omega_spe, 1.0 - omega_rpe
        rate_in = a_mf_mb * pt.sigmoid(zeta * novelty - b_mf_mb * chi_mf)
        rate_out = a_mb_mf * pt.sigmoid(cost * ld - b_mb_mf * chi_mb - zeta * novelty)
        total = rate_in + rate_out
        w_star = rate_in / total
        w_new = w_star + (w - w_star) * pt.exp(-total)
        # choices
        ll, sign1, m1, m2 = _stage_terms(
            q_mf, q2, t_common[0], t_common[1], w_new, beta1, beta2, p, prev_sign, c1, s2, c2
        )
        # transition model and model-based reliability
        to_destination = c1 * s2 + (1.0 - c1) * (1.0 - s2)
        t_a1 = pt.sum(m1 * t_common)
        spe = to_destination * (1.0 - t_a1) + (1.0 - to_destination) * t_a1
        surprise = pt.maximum(0.0, spe - omega_spe)
        omega_spe_new = omega_spe + eta_r * (spe - omega_spe)
        t_common_new = t_common + m1 * (eta_t * (to_destination - t_a1))
        # values and model-free reliability
        q_mf_new, q2_new, _, delta2 = _td(q_mf, q2, m1, m2, r, alpha1, alpha2, lam)
        omega_rpe_new = omega_rpe + eta_r * (pt.abs(delta2) - omega_rpe)
        # novelty
        ms2 = pt.stack([1.0 - s2, s2])
        f_s2 = pt.sum(ms2 * familiarity)
        unfamiliarity = 1.0 - f_s2
        familiarity_new = familiarity + ms2 * (kappa * (1.0 - f_s2))
        novelty_new = novelty + kappa * (surprise + unfamiliarity - novelty)
        skip = pt.gt(miss, 0.5)
        return (
            pt.switch(skip, q_mf, q_mf_new),
            pt.switch(skip, q2, q2_new),
            pt.switch(skip, prev_sign, sign1),
            pt.switch(skip, w, w_new),
            pt.switch(skip, t_common, t_common_new),
            pt.switch(skip, familiarity, familiarity_new),
            pt.switch(skip, omega_spe, omega_spe_new),
            pt.switch(skip, omega_rpe, omega_rpe_new),
            pt.switch(skip, novelty, novelty_new),
            pt.switch(skip, 0.0, ll),
        )

    def scalar(x):
        return pt.constant(x, dtype="float64")

    outputs_info = [
        pt.zeros((2,), dtype="float64"),  # Q_MF
        pt.zeros((4,), dtype="float64"),  # Q2(0,0), Q2(0,1), Q2(1,0), Q2(1,1)
        scalar(0.0),  # sign of the previous choice1
        pt.as_tensor_variable(w0).astype("float64"),  # w
        pt.constant(np.full(2, p_common), dtype="float64"),  # T(0), T(1)
        pt.ones((2,), dtype="float64"),  # familiarity
        scalar(2.0 * p_common * (1.0 - p_common)),  # Omega_SPE
        scalar(0.5),  # Omega_RPE
        scalar(0.0),  # novelty
        None,
    ]
    outputs = pytensor.scan(
        step,
        sequences=seqs,
        outputs_info=outputs_info,
        return_list=True,
        return_updates=False,
    )
    return outputs[-1]


_GRAPHS = {"hybrid": hybrid_loglik_graph, "arbitrator": arbitrator_loglik_graph}


def compile_loglik_and_grad(agent_kernel, data, p_common, *, mode=None):
    """Compile theta (numpy float64) -> [summed loglik (0-d array), gradient wrt theta].

    ``agent_kernel`` is "hybrid" or "arbitrator"; ``data`` a dict with numpy arrays
    choice1, state2, choice2, reward, load, new_states, missed (load / new_states /
    missed default to all zeros / False when absent). The gradient is
    ``pytensor.grad`` through the scan. ``mode`` is passed to ``pytensor.function``
    (None: pytensor's default, fully rewritten; tests use a cheaper one to compile
    faster). Returns the ``pytensor`` Function.
    """
    graph = _GRAPHS[agent_kernel]
    n = len(data["choice1"])
    theta = pt.dvector("theta")
    loglik = graph(
        theta,
        data["choice1"],
        data["state2"],
        data["choice2"],
        data["reward"],
        data.get("load", np.zeros(n, dtype=np.int8)),
        data.get("new_states", np.zeros(n, dtype=bool)),
        data.get("missed", np.zeros(n, dtype=bool)),
        p_common,
    )
    total = loglik.sum()
    grad = pytensor.grad(total, theta)
    return pytensor.function([theta], [total, grad], mode=mode)
