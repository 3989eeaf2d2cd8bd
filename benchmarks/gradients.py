"""Cost of one log-likelihood + gradient evaluation per agent: prints one JSON object.

Each agent's kernel runs on a simulated cohort of its own task (the Daw design for
the two-choice agents, Kool's novel task for the one-choice ones), at random
interior parameters, serially on one thread (as inside a sampler's chain). For each
agent: nanoseconds per trial with and without the gradient, and the gradient's
cost relative to the hybrid's, measured in this run.

Usage: python benchmarks/gradients.py [--participants 200] [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the interior parameter draws live with the tests

TASKS = {"two_choice": "daw2011", "one_choice": "kool2016_novel"}


def best_time(f, arguments: tuple, repeat: int) -> float:
    """Smallest time of one call ``f(*arguments)`` over ``repeat`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f(*arguments)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    import numba
    from parameter_draws import interior_values

    numba.set_num_threads(1)  # per_trial_loglik runs draws in parallel: time one thread
    import cogarb
    from cogarb.agents import ONE_CHOICE_AGENTS, kernel_matrix
    from cogarb.arrays import trial_arrays
    from cogarb.likelihood import loglik_and_grad, per_trial_loglik

    figures: dict = {"participants": args.participants}
    for agent in cogarb.AGENTS:
        task = TASKS["one_choice" if agent in ONE_CHOICE_AGENTS else "two_choice"]
        trials = cogarb.simulate(task, agent, n_participants=args.participants, seed=args.seed)
        data = trial_arrays(trials)
        spec = cogarb.get_agent(agent)
        thetas = kernel_matrix(spec, interior_values(agent, args.participants, args.seed))
        loglik_and_grad(agent, thetas, data)  # compile
        per_trial_loglik(agent, thetas, data)
        n_trials = len(data.choice1)
        gradient = best_time(loglik_and_grad, (agent, thetas, data), args.repeats)
        value = best_time(per_trial_loglik, (agent, thetas, data), args.repeats)
        figures[agent] = {
            "task": task,
            "n_trials": n_trials,
            "gradient_ns_per_trial": round(gradient * 1e9 / n_trials, 1),
            "value_ns_per_trial": round(value * 1e9 / n_trials, 1),
        }
    hybrid = figures["hybrid"]["gradient_ns_per_trial"]
    for agent in cogarb.AGENTS:
        figures[agent]["gradient_vs_hybrid"] = round(
            figures[agent]["gradient_ns_per_trial"] / hybrid, 2
        )
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
