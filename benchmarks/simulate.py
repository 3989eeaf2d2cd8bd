"""Simulation throughput of the hybrid agent; prints JSON.

Measures agent-trials per second on N participants × 201 trials of the Daw 2011
task: end to end (``cogarb.simulate`` returning the DataFrame) and kernel only
(pre-drawn random numbers, preallocated outputs), single-threaded and on all
cores, plus the plain-Python reference loop (``tests/reference.py``) on a subset,
all in the same run. Compare ratios, not absolute times: machines are shared.

Usage: python benchmarks/simulate.py [--participants 100000] [--python-participants 200]
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np

import cogarb
from cogarb._kernels import hybrid
from cogarb.schedules import reward_schedules
from cogarb.simulate import parameter_matrix

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import reference


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--python-participants", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    task = cogarb.load_task("daw2011")
    n, n_trials = args.participants, task.n_trials
    trials = n * n_trials
    all_threads = numba.config.NUMBA_NUM_THREADS
    cogarb.simulate(task, "hybrid", {}, n_participants=10, internals=True)  # load/compile

    e2e = {}
    for threads in (1, all_threads):
        seconds = best_of(
            lambda threads=threads: cogarb.simulate(
                task, "hybrid", {}, n_participants=n, seed=1, n_threads=threads
            ),
            args.repeats,
        )
        e2e[threads] = trials / seconds

    thetas, _ = parameter_matrix(cogarb.get_agent("hybrid"), {}, n)
    rng = np.random.default_rng(1)
    schedule = reward_schedules(task, 1, rng)
    uniforms = rng.random((n, n_trials, 4))
    outs = [np.empty((n, n_trials), dtype=np.int8) for _ in range(3)]
    reward, common = np.empty((n, n_trials)), np.empty((n, n_trials), dtype=np.bool_)
    internals = np.empty((n, 0, 0))
    index = np.zeros(n, dtype=np.int64)
    no_load = np.zeros((1, n_trials), dtype=np.int8)
    no_events = np.zeros(n_trials, dtype=np.bool_)

    def kernel():
        hybrid.simulate_cohort(thetas, schedule, index, no_load, index, no_events, no_events,
                               task.p_common, uniforms, *outs, reward, common, internals,
                               False)  # fmt: skip

    kernel_rate = {}
    for threads in (1, all_threads):
        numba.set_num_threads(threads)
        kernel_rate[threads] = trials / best_of(kernel, args.repeats)
    numba.set_num_threads(all_threads)

    m = args.python_participants
    params = {**cogarb.get_agent("hybrid").defaults}
    sched = schedule[0].tolist()
    u = uniforms[:m].tolist()
    start = time.perf_counter()
    for i in range(m):
        reference.hybrid_simulate(params, sched, task.p_common, u[i])
    python_rate = m * n_trials / (time.perf_counter() - start)

    print(json.dumps({
        "benchmark": "simulate hybrid, daw2011",
        "participants": n,
        "trials_per_participant": n_trials,
        "threads_all": all_threads,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "end_to_end_trials_per_s_1_thread": round(e2e[1]),
        "end_to_end_trials_per_s_all_threads": round(e2e[all_threads]),
        "kernel_trials_per_s_1_thread": round(kernel_rate[1]),
        "kernel_trials_per_s_all_threads": round(kernel_rate[all_threads]),
        "plain_python_trials_per_s": round(python_rate),
        "ratio_end_to_end_1_thread_vs_python": round(e2e[1] / python_rate, 1),
        "ratio_kernel_1_thread_vs_python": round(kernel_rate[1] / python_rate, 1),
        "targets": {"end_to_end_1_thread_trials_per_s": 5_000_000, "ratio_vs_python": 200},
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
