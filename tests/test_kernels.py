"""Numba kernels against the plain-Python reference agents, on the same random numbers."""

import numpy as np
import pytest
import reference

import cogarb
from cogarb._kernels import walks
from cogarb.schedules import event_arrays, load_schedules, reward_schedules
from cogarb.simulate import CHUNK

PARAMS = [
    {},  # Daw 2011 medians
    {"w": 0.0, "lambda": 1.0},
    {"w": 1.0},
    {"alpha1": 0.9, "alpha2": 0.1, "lambda": 0.0, "beta1": 12.0, "beta2": 0.5, "p": -0.4, "w": 0.7},
]


def rebuild_inputs(task, n, seed):
    """The random inputs exactly as simulate() draws them (a single chunk)."""
    rng = np.random.default_rng(seed)
    load = load_schedules(task, n, rng)
    if task.rewards.schedule == "shared":
        schedules = np.repeat(reward_schedules(task, 1, rng), n, axis=0)
    else:
        schedules = reward_schedules(task, n, rng)
    uniforms = rng.random((n, task.n_trials, 4))
    load = np.repeat(load, n, axis=0) if load.shape[0] == 1 else load
    reversed_, new_states, _ = event_arrays(task)
    return load, schedules, uniforms, reversed_, new_states


def check_against_reference(task, agent, params, n=3, seed=11):
    agent_spec = cogarb.get_agent(agent)
    params = {k: v for k, v in params.items() if k in agent_spec.parameter_names}
    sims = cogarb.simulate(task, agent, params, n_participants=n, seed=seed, internals=True)
    load, schedules, uniforms, reversed_, new_states = rebuild_inputs(task, n, seed)
    full = {**agent_spec.defaults, **params, **agent_spec.fixed}
    columns = [*"choice1 state2 choice2 reward common".split(), *agent_spec.family.internals]
    for i, (_, got) in enumerate(sims.groupby("participant", observed=True)):
        args = (
            full,
            schedules[i].tolist(),
            task.p_common,
            uniforms[i].tolist(),
            load[i].tolist(),
            reversed_.tolist(),
            new_states.tolist(),
        )
        if agent_spec.kernel == "arbitrator":
            expected = reference.arbitrator_simulate(*args)
        else:
            expected = reference.hybrid_simulate(*args)
        for col in columns:
            want = np.array([row[col] for row in expected], dtype=float)
            have = got[col].to_numpy(dtype=float)
            np.testing.assert_allclose(have, want, rtol=0, atol=1e-10, err_msg=col)


@pytest.mark.parametrize("agent", ["mf", "mb", "hybrid"])
@pytest.mark.parametrize("params", PARAMS)
def test_simulate_matches_reference(daw2011, agent, params):
    check_against_reference(daw2011, agent, params)


TASK_VARIANTS = [
    "otto2013_load",
    "otto2013_load_trialwise",
    "novelty_reversal",
    "novelty_new_states",
    "novelty_reward_reset",
]


@pytest.mark.parametrize("task_name", TASK_VARIANTS)
@pytest.mark.parametrize("agent", ["hybrid", "hybrid_load", "arbitrator"])
def test_task_variants_match_reference(repo, task_name, agent):
    task = cogarb.load_task(repo / "tasks" / f"{task_name}.toml")
    check_against_reference(task, agent, {})


ARBITRATOR_PARAMS = [
    {
        "eta_T": 0.5,
        "eta_R": 0.3,
        "A_mf_mb": 4.0,
        "A_mb_mf": 0.5,
        "kappa": 0.9,
        "zeta": 2.0,
        "cost": 5.0,
        "w0": 0.1,
    },
    {"eta_T": 0.0, "eta_R": 0.0, "zeta": 0.0, "cost": 0.0},
]


@pytest.mark.parametrize("params", ARBITRATOR_PARAMS)
def test_arbitrator_parameters_match_reference(repo, params):
    task = cogarb.load_task(repo / "tasks" / "otto2013_load_trialwise.toml")
    check_against_reference(task, "arbitrator", params)


def test_reflected_walk_matches_reference():
    rng = np.random.default_rng(3)
    initial = rng.uniform(0.25, 0.75, size=(2, 4))
    steps = rng.standard_normal((2, 500, 4)) * 0.2  # large steps: multiple reflections
    out = np.empty((2, 501, 4))
    walks.reflected_walks(initial, steps, 0.25, 0.75, out)
    for i in range(2):
        for k in range(4):
            want = reference.reflected_walk(initial[i, k], steps[i, :, k].tolist(), 0.25, 0.75)
            np.testing.assert_allclose(out[i, :, k], want, rtol=0, atol=1e-10)
    assert out.min() >= 0.25 and out.max() <= 0.75


def test_same_seed_same_output_whatever_the_threads(daw2011):
    import numba

    n = CHUNK + 50  # crosses a chunk boundary
    one = cogarb.simulate(daw2011, "hybrid", {}, n_participants=n, seed=5, n_threads=1)
    many = cogarb.simulate(
        daw2011, "hybrid", {}, n_participants=n, seed=5, n_threads=numba.config.NUMBA_NUM_THREADS
    )
    again = cogarb.simulate(daw2011, "hybrid", {}, n_participants=n, seed=5)
    from pandas.testing import assert_frame_equal

    assert_frame_equal(one, many)
    assert_frame_equal(one, again)
    different = cogarb.simulate(daw2011, "hybrid", {}, n_participants=n, seed=6)
    assert not different["choice1"].equals(one["choice1"])


def test_no_object_mode_fallback():
    """Every kernel compiled in nopython mode (an object-mode fallback would show here)."""
    import inspect

    from cogarb._kernels import arbitrator as a
    from cogarb._kernels import hybrid as h
    from cogarb._kernels import walks as w

    dispatchers = [
        obj
        for mod in (h, w, a)
        for _, obj in inspect.getmembers(mod)
        if hasattr(obj, "nopython_signatures")
    ]
    assert len(dispatchers) >= 7
    for d in dispatchers:
        assert d.targetoptions.get("nopython", True) is not False, d
        cache_kind = type(d._cache).__name__
        assert cache_kind != "NullCache", f"{d.py_func.__name__} is not cache=True"
        for sig in d.signatures:
            cres = d.overloads[sig]
            assert not cres.objectmode, f"{d.py_func.__name__}{sig} fell back to object mode"
