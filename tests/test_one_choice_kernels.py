"""Kernels for two-step tasks without a second-stage choice (Kool et al. 2016's novel
task, Akam's task in Castro-Rodrigues et al. 2022) against the plain-Python reference:
simulation on the same uniforms, log-likelihood with missed trials, the gradient
against central finite differences, reversals, deterministic transitions, ragged
cohorts and nopython compilation."""

import inspect

import numpy as np
import pytest
import reference_one_choice as ref

from cogarb._kernels import one_choice, one_choice_loglik

N_TRIALS = 200
COLUMNS = ["choice1", "state2", "reward", "common", *one_choice.INTERNALS]

PARAMS = [
    {"alpha1": 0.54, "alpha2": 0.42, "lambda": 0.57, "beta1": 5.19, "p": 0.11, "w": 0.39},
    {"alpha1": 0.9, "alpha2": 0.1, "lambda": 0.0, "beta1": 12.0, "p": -0.4, "w": 0.7},
    {"alpha1": 0.3, "alpha2": 0.6, "lambda": 1.0, "beta1": 3.0, "p": 0.5, "w": 0.0},
    {"alpha1": 0.2, "alpha2": 0.8, "lambda": 0.4, "beta1": 4.0, "p": 0.2, "w": 1.0},
]


def kool_task(n, n_trials, rng, scale=1 / 9):
    """Two first-stage states at random, deterministic transitions, points payoffs
    (an integer random walk in 0..9, scaled by ``scale``)."""
    state1 = rng.integers(0, 2, (n, n_trials)).astype(np.int8)
    points = np.empty((n, n_trials, 2))
    points[:, 0] = rng.integers(0, 10, (n, 2))
    for t in range(1, n_trials):
        step = points[:, t - 1] + rng.integers(-2, 3, (n, 2))
        points[:, t] = np.where(step > 9, 18 - step, np.where(step < 0, -step, step))
    reversed_ = np.zeros((n, n_trials), dtype=np.bool_)
    condition = rng.integers(0, 2, (n, n_trials)).astype(np.int8)  # stakes, say
    return dict(
        state1=state1, condition=condition, payoff=points * scale, bernoulli=False,
        reversed_=reversed_, p_common=1.0,
    )  # fmt: skip


def akam_task(n, n_trials, rng, block=40):
    """One first-stage state, p_common 0.8, transition reversals and reward blocks."""
    state1 = np.zeros((n, n_trials), dtype=np.int8)
    blocks = np.arange(n_trials) // block
    reversed_ = np.broadcast_to((blocks % 2 == 1), (n, n_trials)).copy()
    good = rng.integers(0, 2, (n, blocks.max() + 1))[:, blocks]  # better state per block
    payoff = np.stack([np.where(good == 0, 0.8, 0.2), np.where(good == 1, 0.8, 0.2)], axis=-1)
    condition = np.broadcast_to((np.arange(n_trials) // 25) % 2, (n, n_trials)).astype(np.int8)
    return dict(
        state1=state1, condition=condition, payoff=payoff, bernoulli=True,
        reversed_=reversed_, p_common=0.8,
    )  # fmt: skip


TASKS = {"kool": kool_task, "akam": akam_task}


def theta_row(params):
    """Kernel parameters; a single ``w`` serves both condition levels."""
    return np.array(
        [params.get(k, params.get("w")) for k in one_choice.PARAMETER_ORDER], dtype=float
    )


def simulate(task, thetas, uniforms, stick_within_state, record=True):
    n, n_trials = task["state1"].shape
    out = dict(
        choice1=np.empty((n, n_trials), np.int8),
        state2=np.empty((n, n_trials), np.int8),
        reward=np.empty((n, n_trials)),
        common=np.empty((n, n_trials), np.bool_),
        internals=np.empty((n, n_trials if record else 0, len(one_choice.INTERNALS))),
    )
    one_choice.simulate_cohort(
        thetas, task["state1"], task["condition"], task["payoff"], task["bernoulli"],
        task["reversed_"],
        task["p_common"], stick_within_state, uniforms,
        out["choice1"], out["state2"], out["reward"], out["common"], out["internals"], record,
    )  # fmt: skip
    return out


def simulated(task_name, thetas, stick_within_state=False, seed=0, n_trials=N_TRIALS):
    rng = np.random.default_rng(seed)
    n = thetas.shape[0]
    task = TASKS[task_name](n, n_trials, rng)
    uniforms = rng.random((n, n_trials, one_choice.N_UNIFORMS))
    return task, uniforms, simulate(task, thetas, uniforms, stick_within_state)


def interior_thetas(n, seed):
    rng = np.random.default_rng(seed)
    return np.column_stack([
        rng.uniform(0.15, 0.85, n),  # alpha1
        rng.uniform(0.15, 0.85, n),  # alpha2
        rng.uniform(0.15, 0.85, n),  # lambda
        rng.uniform(2.0, 6.0, n),  # beta1
        rng.uniform(-0.3, 0.3, n),  # p
        rng.uniform(0.15, 0.85, n),  # w_noload
        rng.uniform(0.15, 0.85, n),  # w_load
    ])  # fmt: skip


def flat_data(task, sim, missed=None, stage2_missed=None):
    """Flat per-trial arrays and offsets for the cohort kernels."""
    n, n_trials = task["state1"].shape
    if missed is None:
        missed = np.zeros((n, n_trials), dtype=np.bool_)
    if stage2_missed is None:
        stage2_missed = np.zeros((n, n_trials), dtype=np.bool_)
    return dict(
        offsets=np.arange(n + 1, dtype=np.int64) * n_trials,
        state1=task["state1"].ravel(),
        choice1=sim["choice1"].ravel(),
        state2=sim["state2"].ravel(),
        reward=sim["reward"].ravel(),
        condition=np.ascontiguousarray(task["condition"]).ravel(),
        reversed_=task["reversed_"].ravel(),
        missed=missed.ravel(),
        stage2_missed=stage2_missed.ravel(),
    )


def cohort(thetas, data, p_common, stick_within_state, with_grad=True):
    n_total = data["choice1"].shape[0]
    loglik = np.full(n_total, np.nan)
    totals = np.empty(thetas.shape[0])
    grads = np.zeros_like(thetas)
    one_choice_loglik.loglik_cohort(
        thetas, data["offsets"], data["state1"], data["choice1"], data["state2"],
        data["reward"], data["condition"], data["reversed_"], data["missed"],
        data["stage2_missed"], p_common, stick_within_state, loglik, totals, grads, with_grad,
    )  # fmt: skip
    return loglik, totals, grads


def with_missed(task, sim, rows, seed=3):
    """Mark ``rows`` (per participant) missed and scribble over their codes."""
    rng = np.random.default_rng(seed)
    missed = np.zeros(task["state1"].shape, dtype=np.bool_)
    missed[:, rows] = True
    sim = {k: v.copy() for k, v in sim.items()}
    sim["choice1"][missed] = rng.integers(0, 2, missed.sum())  # any code: never read
    sim["state2"][missed] = rng.integers(0, 2, missed.sum())
    sim["reward"][missed] = np.nan
    return sim, missed


@pytest.mark.parametrize("stick_within_state", [False, True])
@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("task_name", sorted(TASKS))
def test_simulation_matches_reference(task_name, params, stick_within_state):
    thetas = np.tile(theta_row(params), (2, 1))
    task, uniforms, sim = simulated(task_name, thetas, stick_within_state, seed=7)
    for i in range(2):
        expected = ref.simulate(
            params, task["state1"][i].tolist(), task["payoff"][i].tolist(), task["bernoulli"],
            task["reversed_"][i].tolist(), task["p_common"], stick_within_state,
            uniforms[i].tolist(), task["condition"][i].tolist(),
        )  # fmt: skip
        for k, col in enumerate(COLUMNS):
            want = np.array([row[col] for row in expected], dtype=float)
            if col in one_choice.INTERNALS:
                have = sim["internals"][i, :, one_choice.INTERNALS.index(col)]
            else:
                have = sim[col][i].astype(float)
            np.testing.assert_allclose(have, want, rtol=0, atol=1e-10, err_msg=f"{col} ({k})")
        # both actions are chosen, rewards vary: the comparison is not vacuous
        assert 0 < sim["choice1"][i].mean() < 1
        assert np.unique(sim["reward"][i]).size > 1


@pytest.mark.parametrize("stick_within_state", [False, True])
@pytest.mark.parametrize("task_name", sorted(TASKS))
def test_loglik_matches_reference_with_missed_trials(task_name, stick_within_state):
    thetas = interior_thetas(3, seed=1)
    task, _, sim = simulated(task_name, thetas, stick_within_state, seed=2)
    rows = [0, 5, 6, 7, 50, 51, 120, 199]
    sim, missed = with_missed(task, sim, rows)
    data = flat_data(task, sim, missed)
    loglik, totals, _ = cohort(thetas, data, task["p_common"], stick_within_state)
    per_participant = loglik.reshape(3, N_TRIALS)
    for i in range(3):
        params = dict(zip(ref.PARAMETERS, thetas[i], strict=True))
        want = ref.loglik(
            params, task["state1"][i].tolist(), sim["choice1"][i].tolist(),
            sim["state2"][i].tolist(), sim["reward"][i].tolist(),
            task["reversed_"][i].tolist(), missed[i].tolist(), task["p_common"],
            stick_within_state, task["condition"][i].tolist(),
        )  # fmt: skip
        np.testing.assert_allclose(per_participant[i], want, rtol=0, atol=1e-10)
        np.testing.assert_allclose(totals[i], sum(want), rtol=0, atol=1e-9)
    assert (per_participant[:, rows] == 0).all()
    assert np.isfinite(totals).all() and (totals < -10).all()


@pytest.mark.parametrize("task_name", sorted(TASKS))
def test_loglik_is_log_of_the_simulators_choice_probabilities(task_name):
    thetas = np.stack([theta_row(p) for p in PARAMS])
    task, _, sim = simulated(task_name, thetas, seed=4)
    loglik, _, _ = cohort(thetas, flat_data(task, sim), task["p_common"], False)
    prob = sim["internals"][:, :, one_choice.INTERNALS.index("prob_choice1")]
    np.testing.assert_allclose(loglik, np.log(prob).ravel(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("stick_within_state", [False, True])
@pytest.mark.parametrize("task_name", sorted(TASKS))
def test_gradient_matches_central_finite_differences(task_name, stick_within_state):
    thetas = interior_thetas(3, seed=5)
    task, _, sim = simulated(task_name, thetas, stick_within_state, seed=6, n_trials=150)
    sim, missed = with_missed(task, sim, [3, 40, 41])
    data = flat_data(task, sim, missed)
    p_common = task["p_common"]
    _, totals, grads = cohort(thetas, data, p_common, stick_within_state)
    step = 1e-6
    numeric = np.empty_like(thetas)
    for k in range(thetas.shape[1]):
        up, down = thetas.copy(), thetas.copy()
        up[:, k] += step
        down[:, k] -= step
        f_up = cohort(up, data, p_common, stick_within_state, with_grad=False)[1]
        f_down = cohort(down, data, p_common, stick_within_state, with_grad=False)[1]
        numeric[:, k] = (f_up - f_down) / (2 * step)
    # truncation O(step²) and rounding O(ε |f| / step) ≈ 2e-16 · 100 / 1e-6 ≈ 2e-8
    np.testing.assert_allclose(grads, numeric, rtol=1e-6, atol=1e-6)
    assert (np.abs(grads) > 1e-3).all()  # every parameter matters: not vacuous
    # the gradient does not change the value
    np.testing.assert_array_equal(
        totals, cohort(thetas, data, p_common, stick_within_state, with_grad=False)[1]
    )


@pytest.mark.parametrize("stick_within_state", [False, True])
@pytest.mark.parametrize("task_name", sorted(TASKS))
def test_missed_trial_is_the_same_as_no_trial(task_name, stick_within_state):
    """Excluding a trial explicitly equals deleting it; the perseveration bonus then
    points at the last choice made (and its first-stage state)."""
    thetas = interior_thetas(2, seed=8)
    task, _, sim = simulated(task_name, thetas, stick_within_state, seed=9, n_trials=80)
    rows = [0, 10, 11, 12, 79]
    marked, missed = with_missed(task, sim, rows)
    full, totals, grads = cohort(
        thetas, flat_data(task, marked, missed), task["p_common"], stick_within_state
    )
    keep = np.setdiff1d(np.arange(80), rows)
    dropped_task = {k: (v[:, keep] if isinstance(v, np.ndarray) else v) for k, v in task.items()}
    dropped_sim = {k: v[:, keep] for k, v in sim.items() if k != "internals"}
    dropped, d_totals, d_grads = cohort(
        thetas, flat_data(dropped_task, dropped_sim), task["p_common"], stick_within_state
    )
    full = full.reshape(2, 80)
    assert (full[:, rows] == 0).all()
    np.testing.assert_allclose(full[:, keep].ravel(), dropped, rtol=0, atol=1e-12)
    np.testing.assert_allclose(totals, d_totals, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grads, d_grads, rtol=0, atol=1e-12)


def one_participant_loglik(theta, state1, choice1, state2, reward, reversed_, p_common,
                           stick_within_state=False):  # fmt: skip
    n = len(choice1)
    loglik, grad = np.empty(n), np.empty(7)
    total = one_choice_loglik.loglik_participant(
        theta, np.array(state1, np.int8), np.array(choice1, np.int8),
        np.array(state2, np.int8), np.array(reward, float), np.zeros(n, np.int8),
        np.array(reversed_, np.bool_),
        np.zeros(n, np.bool_), np.zeros(n, np.bool_), p_common, stick_within_state, loglik,
        grad, True,
    )  # fmt: skip
    return total, loglik, grad


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("p_common", [0.8, 1.0])
def test_reversal_swaps_the_model_based_values(p_common):
    """By hand: after one rewarded visit to state 0, a model-based agent (w = 1,
    p = 0) prefers the action whose common destination is state 0: action 0,
    or action 1 on a reversed trial."""
    alpha2, beta1 = 0.5, 2.0
    theta = np.array([0.3, alpha2, 0.6, beta1, 0.0, 1.0, 1.0])
    q2_0 = alpha2 * 1.0  # Q2(0) after r = 1; Q2(1) = 0
    gap = (2 * p_common - 1) * q2_0  # |Q_MB(0) − Q_MB(1)|
    for reversed_second, sign in [(False, -1.0), (True, 1.0)]:
        _, loglik, grad = one_participant_loglik(
            theta, [0, 0], [0, 1], [0, 0], [1.0, 0.0], [False, reversed_second], p_common
        )
        np.testing.assert_allclose(loglik[0], np.log(0.5), atol=1e-15)
        np.testing.assert_allclose(loglik[1], np.log(sigmoid(sign * beta1 * gap)), atol=1e-14)
        # d/dβ1 of log σ(x) = (1 − σ(x)) x / β1, summed with the first trial's (x = 0)
        x = sign * beta1 * gap
        np.testing.assert_allclose(grad[3], (1 - sigmoid(x)) * x / beta1, atol=1e-14)
    # and the simulator transits by the reversed structure
    task, _, sim = simulated("akam", interior_thetas(3, seed=0), seed=1)
    destination = np.where(task["reversed_"], 1 - sim["choice1"], sim["choice1"])
    assert task["reversed_"].any() and (~task["reversed_"]).any()
    np.testing.assert_array_equal(sim["common"], sim["state2"] == destination)
    np.testing.assert_allclose(sim["common"].mean(), 0.8, atol=0.03)


def test_deterministic_transitions_have_no_log_zero():
    """p_common = 1 (Kool): every transition common, finite log-likelihood and gradient
    even with large payoffs, extreme parameters and reversed trials."""
    rng = np.random.default_rng(12)
    thetas = np.array([
        [0.5, 0.5, 0.5, 3.0, 0.2, 0.5, 0.3],
        [1.0, 1.0, 1.0, 40.0, 2.0, 1.0, 0.0],  # bounds of the unit parameters, huge β1
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    ])  # fmt: skip
    task = kool_task(3, 100, rng, scale=1.0)  # raw points 0..9
    task["reversed_"][:, 50:] = True
    uniforms = rng.random((3, 100, one_choice.N_UNIFORMS))
    sim = simulate(task, thetas, uniforms, False)
    assert sim["common"].all()
    np.testing.assert_array_equal(
        sim["state2"], np.where(task["reversed_"], 1 - sim["choice1"], sim["choice1"])
    )
    np.testing.assert_array_equal(
        sim["reward"], np.take_along_axis(task["payoff"], sim["state2"][..., None], 2)[..., 0]
    )
    data = flat_data(task, sim)
    loglik, totals, grads = cohort(thetas, data, 1.0, False)
    assert np.isfinite(loglik).all() and np.isfinite(grads).all()
    np.testing.assert_allclose(totals[2], 100 * np.log(0.5), atol=1e-10)  # β1 = 0
    # a choice against a huge log-odds is a large negative number, not -inf
    flipped = dict(data, choice1=(1 - data["choice1"]).astype(np.int8))
    loglik, _, grads = cohort(thetas, flipped, 1.0, False)
    assert np.isfinite(loglik).all() and np.isfinite(grads).all()
    assert loglik.min() < -50


@pytest.mark.parametrize("task_name", sorted(TASKS))
def test_stickiness_modes(task_name):
    """With one first-stage state the two perseveration conventions coincide; with
    two they differ exactly on trials after a choice in the other state."""
    thetas = interior_thetas(2, seed=13)
    thetas[:, 4] = 0.8
    task, _, sim = simulated(task_name, thetas, seed=14)
    data = flat_data(task, sim)
    across, _, _ = cohort(thetas, data, task["p_common"], False)
    within, _, _ = cohort(thetas, data, task["p_common"], True)
    state1 = task["state1"]
    switched = np.zeros_like(state1, dtype=np.bool_)
    switched[:, 1:] = state1[:, 1:] != state1[:, :-1]
    same = np.isclose(across, within, rtol=0, atol=1e-13).reshape(state1.shape)
    if task_name == "akam":
        assert same.all()
    else:
        # the first trial differing is the first one after a switch of state
        first = np.argmax(~same, axis=1)
        assert (~same).any(axis=1).all()
        assert switched[np.arange(2), first].all()


def test_ragged_cohort_and_draws_equal_participants_alone():
    thetas = interior_thetas(3, seed=15)
    task, _, sim = simulated("kool", thetas, seed=16)
    data = flat_data(task, sim)
    lengths = [70, 200, 130]
    keep = np.concatenate(
        [np.arange(i * N_TRIALS, i * N_TRIALS + m) for i, m in enumerate(lengths)]
    )
    ragged = {k: v[keep] for k, v in data.items() if k != "offsets"}
    ragged["offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    loglik, totals, grads = cohort(thetas, ragged, 1.0, True)
    for i, m in enumerate(lengths):
        lo = i * N_TRIALS
        alone = {k: v[lo : lo + m] for k, v in data.items() if k != "offsets"}
        alone["offsets"] = np.array([0, m], dtype=np.int64)
        ll, t, g = cohort(thetas[i : i + 1], alone, 1.0, True)
        lo_r = ragged["offsets"][i]
        np.testing.assert_allclose(loglik[lo_r : lo_r + m], ll, rtol=0, atol=1e-12)
        np.testing.assert_allclose(totals[i], t[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(grads[i], g[0], rtol=0, atol=1e-12)
    draws = np.stack([thetas, interior_thetas(3, seed=17)])
    out = np.empty((2, keep.size))
    one_choice_loglik.loglik_draws(
        draws, ragged["offsets"], ragged["state1"], ragged["choice1"], ragged["state2"],
        ragged["reward"], ragged["condition"], ragged["reversed_"], ragged["missed"],
        ragged["stage2_missed"], 1.0, True, out,
    )  # fmt: skip
    for d in range(2):
        np.testing.assert_allclose(out[d], cohort(draws[d], ragged, 1.0, True)[0], atol=1e-12)


def test_shared_schedules_can_be_broadcast_views():
    """A schedule shared by all participants may be a zero-copy broadcast view."""
    thetas = interior_thetas(4, seed=18)
    rng = np.random.default_rng(19)
    one = akam_task(1, 100, rng)
    uniforms = rng.random((4, 100, one_choice.N_UNIFORMS))
    views = {
        k: (np.broadcast_to(v, (4, *v.shape[1:])) if isinstance(v, np.ndarray) else v)
        for k, v in one.items()
    }
    copies = {k: (np.ascontiguousarray(v) if isinstance(v, np.ndarray) else v)
              for k, v in views.items()}  # fmt: skip
    a = simulate(views, thetas, uniforms, False)
    b = simulate(copies, thetas, uniforms, False)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_no_object_mode_fallback():
    """Every kernel compiled in nopython mode, with an on-disk cache."""
    thetas = interior_thetas(2, seed=20)
    task, _, sim = simulated("akam", thetas, seed=21, n_trials=20)
    data = flat_data(task, sim)
    cohort(thetas, data, 0.8, False)
    one_choice_loglik.loglik_draws(
        thetas[None], data["offsets"], data["state1"], data["choice1"], data["state2"],
        data["reward"], data["condition"], data["reversed_"], data["missed"],
        data["stage2_missed"], 0.8, False, np.empty((1, 40)),
    )  # fmt: skip
    dispatchers = [
        obj
        for mod in (one_choice, one_choice_loglik)
        for _, obj in inspect.getmembers(mod)
        if hasattr(obj, "nopython_signatures") and obj.py_func.__module__ == mod.__name__
    ]
    assert len(dispatchers) >= 12
    compiled = 0
    for d in dispatchers:
        assert d.targetoptions.get("nopython", True) is not False, d
        assert type(d._cache).__name__ != "NullCache", f"{d.py_func.__name__} is not cache=True"
        for sig in d.signatures:
            compiled += 1
            assert not d.overloads[sig].objectmode, f"{d.py_func.__name__}{sig} object mode"
    assert compiled >= 3  # at least the entry points called above (callees may load from cache)


@pytest.mark.parametrize("task_name", sorted(TASKS))
def test_condition_selects_the_weight(task_name):
    """w_load acts only on trials with condition 1, w_noload only on the others: with
    equal weights the condition is irrelevant, and each weight's gradient is the sum
    of the choice terms of its own trials."""
    thetas = interior_thetas(2, seed=22)
    thetas[:, 6] = thetas[:, 5]
    task, _, sim = simulated(task_name, thetas, seed=23)
    data = flat_data(task, sim)
    none = dict(data, condition=np.zeros_like(data["condition"]))
    a, _, grads_a = cohort(thetas, data, task["p_common"], True)
    b, _, grads_b = cohort(thetas, none, task["p_common"], True)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grads_a[:, :5], grads_b[:, :5], rtol=0, atol=1e-10)
    # the weights' gradients split the single-w gradient between the two levels
    np.testing.assert_allclose(grads_a[:, 5] + grads_a[:, 6], grads_b[:, 5], atol=1e-10)
    assert (grads_b[:, 6] == 0).all() and (np.abs(grads_a[:, 6]) > 1e-3).all()
    # all trials at level 1: only w_load matters
    ones = dict(data, condition=np.ones_like(data["condition"]))
    changed = thetas.copy()
    changed[:, 5] = 0.01
    np.testing.assert_array_equal(
        cohort(changed, ones, task["p_common"], True)[0],
        cohort(thetas, ones, task["p_common"], True)[0],
    )
