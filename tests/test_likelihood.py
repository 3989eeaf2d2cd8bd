"""Likelihood kernels: values, gradients (finite differences and scan autodiff), missed
trials, ragged cohorts, and the PyTensor Op in numba mode without object-mode fallback."""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scan_reference
from parameter_draws import interior_values

import cogarb
from cogarb.agents import kernel_matrix
from cogarb.arrays import trial_arrays
from cogarb.likelihood import (
    CohortLoglik,
    cohort_loglik_op,
    loglik_and_grad,
    per_trial_loglik,
)
from cogarb.simulate import parameter_matrix

AGENT_TASKS = [
    ("mf", "daw2011"),
    ("mb", "daw2011"),
    ("hybrid", "novelty_new_states"),
    ("hybrid_load", "otto2013_load"),
    ("arbitrator", "otto2013_load_trialwise"),
    ("arbitrator", "novelty_new_states"),
    ("arbitrator", "novelty_reversal"),
]


def simulated(agent, task, n=3, seed=5, n_trials=None):
    trials = cogarb.simulate(task, agent, n_participants=n, seed=seed, internals=True)
    if n_trials is not None:
        trials = trials[trials["trial"] <= n_trials].reset_index(drop=True)
    return trials


def interior_thetas(agent, n, seed):
    """Random parameters away from the bounds (all kernel parameters, fixed ones kept)."""
    return kernel_matrix(cogarb.get_agent(agent), interior_values(agent, n, seed))


@pytest.mark.parametrize("agent, task", AGENT_TASKS)
def test_loglik_is_log_of_the_simulators_choice_probabilities(agent, task):
    trials = simulated(agent, task)
    data = trial_arrays(trials)
    thetas, _ = parameter_matrix(cogarb.get_agent(agent), {}, 3)
    expected = np.log(trials["prob_choice1"]) + np.log(trials["prob_choice2"])
    np.testing.assert_allclose(per_trial_loglik(agent, thetas, data), expected, atol=1e-10)
    totals, _ = loglik_and_grad(agent, thetas, data)
    by_participant = expected.groupby(trials["participant"], observed=True).sum()
    np.testing.assert_allclose(totals, by_participant.to_numpy(), atol=1e-9)


@pytest.mark.parametrize("agent, task", AGENT_TASKS)
def test_gradient_matches_central_finite_differences(agent, task):
    trials = simulated(agent, task, n_trials=150)
    trials.loc[[7, 40, 41], ["choice2", "reward"]] = None  # missed at the second stage
    data = trial_arrays(trials)
    thetas = interior_thetas(agent, 3, seed=2)
    _, grads = loglik_and_grad(agent, thetas, data)
    step = 1e-6
    numeric = np.empty_like(thetas)
    for k in range(thetas.shape[1]):
        up, down = thetas.copy(), thetas.copy()
        up[:, k] += step
        down[:, k] -= step
        numeric[:, k] = (
            loglik_and_grad(agent, up, data)[0] - loglik_and_grad(agent, down, data)[0]
        ) / (2 * step)
    # central differences: truncation O(step²·f''') ≈ 1e-10 and rounding
    # O(ε·|f|/step) ≈ 2e-16·300/1e-6 ≈ 6e-8 on log-likelihoods of a few hundred
    np.testing.assert_allclose(grads, numeric, rtol=1e-6, atol=1e-6)
    assert np.abs(grads).max() > 1.0  # the check is not vacuous


@pytest.mark.parametrize(
    "agent, task, build",
    [
        ("hybrid_load", "otto2013_load", scan_reference.hybrid_loglik_graph),
        ("arbitrator", "novelty_new_states", scan_reference.arbitrator_loglik_graph),
    ],
)
def test_gradient_matches_scan_autodiff(agent, task, build):
    trials = simulated(agent, task, n=1, n_trials=120)
    data = trial_arrays(trials)
    theta = interior_thetas(agent, 1, seed=9)
    missed = data.missed.copy()
    missed[[10, 11, 60]] = True  # exclusion must agree as well
    data = type(data)(**{**data.__dict__, "missed": missed})
    x = pt.dvector("theta")
    graph = build(
        x, data.choice1, data.state2, data.choice2, data.reward, data.condition,
        data.new_states, data.missed, data.p_common,
    )  # fmt: skip
    f = pytensor.function([x], [graph, pytensor.grad(graph.sum(), x)])
    per_trial, grad = f(theta[0])
    np.testing.assert_allclose(per_trial_loglik(agent, theta, data), per_trial, atol=1e-10)
    np.testing.assert_allclose(loglik_and_grad(agent, theta, data)[1][0], grad, atol=1e-9)


def test_missed_trial_is_the_same_as_no_trial():
    """Excluding a trial explicitly equals deleting it (no event on it)."""
    trials = simulated("hybrid", "daw2011", n=2, n_trials=80)
    thetas = interior_thetas("hybrid", 2, seed=1)
    marked = trials.copy()
    rows = [10, 11, 95]
    marked.loc[rows, ["choice1", "state2", "choice2", "reward", "common"]] = None
    full = per_trial_loglik("hybrid", thetas, trial_arrays(marked))
    dropped = per_trial_loglik("hybrid", thetas, trial_arrays(trials.drop(index=rows)))
    assert (full[rows] == 0).all()
    np.testing.assert_allclose(np.delete(full, rows), dropped, atol=1e-12)
    # and the missed trials are still there, flagged
    assert trial_arrays(marked).missed[rows].all()


def test_ragged_cohort_equals_participants_alone():
    trials = simulated("arbitrator", "novelty_reversal", n=3, n_trials=120)
    trials = trials[~((trials["participant"] == trials["participant"].iloc[0])
                      & (trials["trial"] > 70))]  # fmt: skip
    data = trial_arrays(trials)
    assert list(np.diff(data.offsets)) == [70, 120, 120]
    thetas = interior_thetas("arbitrator", 3, seed=4)
    totals, grads = loglik_and_grad("arbitrator", thetas, data)
    for i, pid in enumerate(data.participants):
        alone = trial_arrays(trials[trials["participant"] == pid])
        t, g = loglik_and_grad("arbitrator", thetas[i : i + 1], alone)
        np.testing.assert_allclose(totals[i], t[0], atol=1e-12)
        np.testing.assert_allclose(grads[i], g[0], atol=1e-12)


def test_op_in_numba_mode_has_no_object_mode_fallback():
    trials = simulated("hybrid", "daw2011", n=3, n_trials=60)
    data = trial_arrays(trials)
    thetas = interior_thetas("hybrid", 3, seed=3)
    x = pt.dmatrix("thetas")
    totals, _ = cohort_loglik_op("hybrid", data.p_common)(x, *data.kernel_data())
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*object mode.*")
        f = pytensor.function([x], [totals.sum(), pytensor.grad(totals.sum(), x)], mode="NUMBA")
    value, grad = f(thetas)
    expected_totals, expected_grads = loglik_and_grad("hybrid", thetas, data)
    np.testing.assert_allclose(value, expected_totals.sum(), atol=1e-10)
    np.testing.assert_allclose(grad, expected_grads, atol=1e-10)
    ops = [node.op for node in f.maker.fgraph.apply_nodes]
    assert sum(isinstance(op, CohortLoglik) for op in ops) == 1  # value and gradient: one call


def test_numba_cache_key_changes_with_the_kernel_source(tmp_path, monkeypatch):
    # PyTensor's on-disk cache of compiled graphs is keyed on the Op's props plus
    # the salt; without the salt, a graph compiled before a kernel edit ran the old
    # kernel. The salt is one hash of the kernel sources, the one the numba cache is
    # keyed on (cache.SOURCE_HASH), and of likelihood.py (the Op's numba wrapper).
    import shutil
    from pathlib import Path

    from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key

    from cogarb import likelihood
    from cogarb._kernels import cache

    op = cohort_loglik_op("hybrid", 0.7)
    _, key = numba_funcify_and_cache_key(op)
    monkeypatch.setattr(likelihood, "_KERNEL_SOURCE_SALT", likelihood._KERNEL_SOURCE_SALT + 1)
    _, key_after_edit = numba_funcify_and_cache_key(op)
    assert key != key_after_edit
    monkeypatch.undo()
    op_source = Path(likelihood.__file__).read_bytes()
    salt = likelihood.source_salt(cache.SOURCE_HASH, op_source)
    assert salt == likelihood._KERNEL_SOURCE_SALT
    # an edit of likelihood.py changes the salt
    assert likelihood.source_salt(cache.SOURCE_HASH, op_source + b"\n# edited\n") != salt
    # and an edit of any one kernel file changes the kernel hash, hence the salt
    copy = tmp_path / "_kernels"
    shutil.copytree(cache.KERNELS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "KERNELS_DIR", copy)
    assert cache.kernel_source_hash() == cache.SOURCE_HASH
    for path in sorted(copy.glob("*.py")):
        original = path.read_bytes()
        path.write_bytes(original + b"\n# edited\n")
        edited = cache.kernel_source_hash()
        path.write_bytes(original)
        assert edited != cache.SOURCE_HASH, path.name
        assert likelihood.source_salt(edited, op_source) != salt, path.name


def test_op_rejects_wrong_data_types():
    op = cohort_loglik_op("hybrid", 0.7)
    data = [np.zeros(2, np.int64)] + [np.zeros(1, np.int8)] * 3 + [np.zeros(1)] * 2
    with pytest.raises(TypeError, match="CohortLoglik data"):
        op(pt.dmatrix(), *data, np.zeros(1, bool), np.zeros(1, bool), np.zeros(1, bool))


def test_kernel_matrix_fills_fixed_and_shared_parameters():
    mb = cogarb.get_agent("mb")
    values = {"alpha2": [0.3], "beta1": [2.0], "beta2": [3.0], "p": [0.1]}
    row = kernel_matrix(mb, values)[0]
    assert row.tolist() == [0.0, 0.3, 0.0, 2.0, 3.0, 0.1, 1.0, 1.0]
    hybrid = cogarb.get_agent("hybrid")
    values = {n: [0.5] for n in hybrid.parameter_names} | {"w": [[0.2, 0.8]]}
    row = kernel_matrix(hybrid, values, condition_parameter="w")[0]
    assert row[6:].tolist() == [0.2, 0.8]
    with pytest.raises(ValueError, match="no value"):
        kernel_matrix(hybrid, {"w": [0.3]})


def test_wrong_parameter_matrix_shape_is_an_error():
    data = trial_arrays(simulated("hybrid", "daw2011", n=2, n_trials=20))
    with pytest.raises(ValueError, match="needs"):
        per_trial_loglik("hybrid", np.zeros((3, 8)), data)
