"""The pytensor.scan likelihood graphs against the plain-Python simulators in reference.py."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import reference
import scan_reference
from pytensor.compile.mode import Mode

N_TRIALS = 60
P_COMMON = 0.7
HYBRID_THETA = {
    "alpha1": 0.45, "alpha2": 0.6, "lambda": 0.55, "beta1": 3.2, "beta2": 2.7, "p": 0.25,
    "w_noload": 0.65, "w_load": 0.3,
}  # fmt: skip
ARBITRATOR_THETA = {
    "alpha1": 0.45, "alpha2": 0.6, "lambda": 0.55, "beta1": 3.2, "beta2": 2.7, "p": 0.25,
    "eta_T": 0.3, "eta_R": 0.2, "A_mf_mb": 0.8, "A_mb_mf": 0.6, "B_mf_mb": 2.5,
    "B_mb_mf": 1.5, "kappa": 0.35, "zeta": 1.2, "cost": 1.8, "w0": 0.4,
}  # fmt: skip
# no graph rewrites: the graphs compile several times faster (results agree to rounding)
FAST_COMPILE = Mode(linker="cvm", optimizer=None)
GRAPHS = {
    "hybrid": (scan_reference.hybrid_loglik_graph, HYBRID_THETA),
    "arbitrator": (scan_reference.arbitrator_loglik_graph, ARBITRATOR_THETA),
}


def theta_vector(agent):
    names = (
        scan_reference.HYBRID_PARAMETERS
        if agent == "hybrid"
        else scan_reference.ARBITRATOR_PARAMETERS
    )
    return np.array([GRAPHS[agent][1][k] for k in names])


def simulate(agent, seed=11):
    """One simulated participant: (data dict of numpy arrays, per-trial reference rows)."""
    rng = np.random.default_rng(seed)
    uniforms = rng.uniform(size=(N_TRIALS, 4)).tolist()
    reward_prob = rng.uniform(0.25, 0.75, size=(N_TRIALS, 2, 2)).tolist()
    load = [int((t // 10) % 2) for t in range(N_TRIALS)]
    reversed_ = [40 <= t < 50 for t in range(N_TRIALS)]
    new_states = [t == 30 for t in range(N_TRIALS)]
    params = GRAPHS[agent][1]
    if agent == "hybrid":
        rows = reference.hybrid_simulate(
            params, reward_prob, P_COMMON, uniforms, load, reversed_, new_states
        )
    else:
        rows = reference.arbitrator_simulate(
            params, reward_prob, P_COMMON, uniforms, load, reversed_, new_states
        )
    data = {
        "choice1": np.array([r["choice1"] for r in rows], dtype=np.int8),
        "state2": np.array([r["state2"] for r in rows], dtype=np.int8),
        "choice2": np.array([r["choice2"] for r in rows], dtype=np.int8),
        "reward": np.array([r["reward"] for r in rows]),
        "load": np.array(load, dtype=np.int8),
        "new_states": np.array(new_states),
        "missed": np.zeros(N_TRIALS, dtype=bool),
    }
    return data, rows


def per_trial(agent, data):
    """Evaluate the scan graph's per-trial loglik at the test parameters."""
    graph = GRAPHS[agent][0]
    theta = pt.dvector("theta")
    out = graph(
        theta,
        data["choice1"],
        data["state2"],
        data["choice2"],
        data["reward"],
        data["load"],
        data["new_states"],
        data["missed"],
        P_COMMON,
    )
    return pytensor.function([theta], out, mode=FAST_COMPILE)(theta_vector(agent))


@pytest.mark.parametrize("agent", ["hybrid", "arbitrator"])
def test_per_trial_loglik_matches_reference(agent):
    data, rows = simulate(agent)
    expected = [np.log(r["prob_choice1"]) + np.log(r["prob_choice2"]) for r in rows]
    got = per_trial(agent, data)
    assert got.shape == (N_TRIALS,)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    # both first-stage options and both loads actually occur
    assert 0 < data["choice1"].sum() < N_TRIALS and 0 < data["load"].sum() < N_TRIALS


@pytest.mark.parametrize("agent", ["hybrid", "arbitrator"])
def test_missed_trials(agent):
    data, _ = simulate(agent)
    full = per_trial(agent, data)
    missed_at = [17, 18, 30, 44]  # trial 30 also carries the new_states event
    kept = np.setdiff1d(np.arange(N_TRIALS), missed_at)
    missed = data.copy()
    missed["missed"] = np.isin(np.arange(N_TRIALS), missed_at)
    # junk on missed trials must not matter (nor produce NaN)
    for key, junk in (("choice1", 0), ("state2", 1), ("choice2", 0)):
        missed[key] = data[key].copy()
        missed[key][missed_at] = junk
    missed["reward"] = data["reward"].copy()
    missed["reward"][missed_at] = np.nan
    got = per_trial(agent, missed)
    assert np.all(np.isfinite(got))
    np.testing.assert_array_equal(got[: missed_at[0]], full[: missed_at[0]])
    np.testing.assert_array_equal(got[missed_at], 0.0)
    # a missed trial is as if it were absent, except that its new_states reset applies
    # (here: moved to the next kept trial)
    dropped = {k: v[kept] for k, v in data.items()}
    dropped["new_states"] = np.isin(kept, [31])
    np.testing.assert_allclose(got[kept], per_trial(agent, dropped), rtol=0, atol=1e-12)


@pytest.mark.parametrize("agent", ["hybrid", "arbitrator"])
def test_gradient_matches_finite_differences(agent):
    data, _ = simulate(agent)
    data["missed"][[5, 33]] = True
    fn = scan_reference.compile_loglik_and_grad(agent, data, P_COMMON, mode=FAST_COMPILE)
    theta = theta_vector(agent)
    total, grad = fn(theta)
    assert grad.shape == theta.shape and np.isfinite(total)
    h = 1e-6
    fd = np.empty_like(theta)
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        fd[i] = (fn(up)[0] - fn(down)[0]) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=0)
