"""The benchmark scripts run (tiny sizes) and print the JSON fields we quote."""

import json
import subprocess
import sys


def test_simulate_benchmark_runs(repo):
    result = subprocess.run(
        [sys.executable, str(repo / "benchmarks" / "simulate.py"), "--participants", "200",
         "--python-participants", "5", "--repeats", "1"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(result.stdout)
    for key in (
        "end_to_end_trials_per_s_1_thread",
        "kernel_trials_per_s_1_thread",
        "plain_python_trials_per_s",
        "ratio_kernel_1_thread_vs_python",
    ):
        assert figures[key] > 0, key


def test_fit_benchmark_runs(repo):
    result = subprocess.run(
        [sys.executable, str(repo / "benchmarks" / "fit.py"), "--draws", "20", "--tune", "20",
         "--chains", "1", "--participants", "3", "--scan-participants", "1"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(result.stdout)
    for part in ("hbayesdm_example", "simulated_cohort"):
        for key in ("compile_s", "sampling_s", "ess_per_s", "gradient_us",
                    "gradient_speedup_vs_scan"):  # fmt: skip
            assert figures[part][key] > 0, (part, key)
    low_rank = figures["hbayesdm_example_low_rank_mass_matrix"]
    assert low_rank["sampling_s"] > 0 and low_rank["ess_per_s_vs_diagonal"] > 0


def test_gillan_scale_benchmark_runs(repo):
    result = subprocess.run(
        [sys.executable, str(repo / "benchmarks" / "fit_gillan.py"), "--participants", "8",
         "--draws", "10", "--tune", "10", "--chains", "1"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(result.stdout)
    assert figures["participants"] == 8 and figures["n_trials"] >= 8 * 199
    for key in ("compile_s", "sampling_s", "ess_per_s", "gradient_ms", "total_minutes"):
        assert figures[key] >= 0, key
    low, high = figures["slope_w_compulsivity"]["ci90"]
    assert low <= figures["slope_w_compulsivity"]["mean"] <= high


def test_gradient_benchmark_runs(repo):
    result = subprocess.run(
        [sys.executable, str(repo / "benchmarks" / "gradients.py"), "--participants", "3",
         "--repeats", "1"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(result.stdout)
    for agent in ("mf", "hybrid", "arbitrator", "hybrid_one_choice"):
        assert figures[agent]["gradient_ns_per_trial"] > 0, agent
        assert figures[agent]["value_ns_per_trial"] > 0, agent
    assert figures["hybrid"]["gradient_vs_hybrid"] == 1.0
