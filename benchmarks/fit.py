"""Benchmark of the hierarchical hybrid fit: prints one JSON object.

(a) the hBayesDM two-step example (11 participants, fits/hbayesdm_ts_example) and
(b) a simulated cohort (default 200 participants × 201 trials of the Daw task).
For each: compile seconds, sampling seconds, the minimum bulk ESS over the group
parameters (``mu_*`` and ``*_scale``), ESS per second of sampling, the cost of one
log-likelihood + gradient evaluation of the whole data set by the numba kernel, and
(on a subset of participants) its ratio to a ``pytensor.scan`` autodiff version of
the same likelihood, both measured in this run.

The hBayesDM example is sampled twice in the same run, with nutpie's diagonal and
its low-rank modified mass matrix (``low_rank_modified_mass_matrix``), and the ratio
of their ESS per second is reported: per-draw efficiency is the lever on small
cohorts (issue: the group means reach few effective draws per draw).

Usage: python benchmarks/fit.py [--draws 1000] [--tune 1000] [--chains 4]
       [--participants 200] [--skip-cohort] [--scan-participants 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the scan reference lives with the tests

STAN_ESS_PER_S = 1.8  # hBayesDM ts_par7 on this machine kind (issue 4), not rerun here


def best_time(f, repeat: int, number: int) -> float:
    """Smallest mean time of ``number`` calls over ``repeat`` rounds (seconds per call)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            f()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def gradient_costs(trials, n_scan: int) -> dict:
    import pytensor
    import pytensor.tensor as pt
    import scan_reference

    import cogarb
    from cogarb.arrays import trial_arrays
    from cogarb.likelihood import loglik_and_grad
    from cogarb.simulate import parameter_matrix

    data = trial_arrays(trials)
    thetas, _ = parameter_matrix(cogarb.get_agent("hybrid"), {}, data.n_participants)
    loglik_and_grad("hybrid", thetas, data)  # compile
    kernel = best_time(lambda: loglik_and_grad("hybrid", thetas, data), 5, 20)

    subset_ids = list(data.participants[:n_scan])
    subset = trial_arrays(trials[trials["participant"].astype(str).isin(subset_ids)])
    x = pt.dmatrix("thetas")
    total = 0.0
    for i in range(subset.n_participants):
        lo, hi = subset.offsets[i], subset.offsets[i + 1]
        total = total + scan_reference.hybrid_loglik_graph(
            x[i], subset.choice1[lo:hi], subset.state2[lo:hi], subset.choice2[lo:hi],
            subset.reward[lo:hi], subset.condition[lo:hi], subset.new_states[lo:hi],
            subset.missed[lo:hi], subset.p_common,
        ).sum()  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scan_fn = pytensor.function([x], [total, pytensor.grad(total, x)])
    sub_thetas = thetas[: subset.n_participants]
    scan_fn(sub_thetas)
    scan = best_time(lambda: scan_fn(sub_thetas), 3, 3)
    kernel_subset = best_time(lambda: loglik_and_grad("hybrid", sub_thetas, subset), 5, 50)
    return {
        "n_trials": len(data.choice1),
        "gradient_us": round(kernel * 1e6, 1),
        "gradient_ns_per_trial": round(kernel * 1e9 / len(data.choice1), 1),
        "scan_subset_participants": subset.n_participants,
        "scan_gradient_us_subset": round(scan * 1e6, 1),
        "kernel_gradient_us_subset": round(kernel_subset * 1e6, 2),
        "gradient_speedup_vs_scan": round(scan / kernel_subset, 1),
    }


def fit_figures(
    trials, draws: int, tune: int, chains: int, seed: int, low_rank: bool = False,
    **model_options,
):  # fmt: skip
    """Compile and sample the hierarchical hybrid; return (figures, InferenceData)."""
    import nutpie

    from cogarb.hierarchical import build_model

    model = build_model(trials, "hybrid", **model_options)
    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    idata = nutpie.sample(
        compiled, draws=draws, tune=tune, chains=chains, seed=seed, progress_bar=False,
        low_rank_modified_mass_matrix=low_rank,
    )  # fmt: skip
    sample_s = time.perf_counter() - start
    return sampling_figures(idata, compile_s, sample_s), idata


def _gradient_evaluations(idata) -> int:
    """Leapfrog steps of all chains, warm-up included (one gradient each)."""
    groups = ["sample_stats", "warmup_sample_stats"]
    return int(sum(idata[g]["n_steps"].sum() for g in groups if g in idata.groups()))


def sampling_figures(idata, compile_s: float, sample_s: float) -> dict:
    """Seconds, ESS/s of the slowest group-level parameter (mean, scale, slope), and more.

    Also the largest group-level R-hat, mean leapfrog steps and divergences.
    """
    import arviz as az

    posterior = idata.posterior
    group = [
        v for v in posterior.data_vars if v.startswith(("mu_", "slope_")) or v.endswith("_scale")
    ]
    ess = az.ess(posterior[group], method="bulk")
    rhat = az.rhat(posterior[group])
    worst = min(group, key=lambda v: float(ess[v]))
    min_ess = float(ess[worst])
    return {
        "compile_s": round(compile_s, 1),
        "sampling_s": round(sample_s, 1),
        "min_bulk_ess_group": round(min_ess),
        "min_bulk_ess_variable": worst,
        "max_rhat_group": round(max(float(rhat[v]) for v in group), 4),
        "ess_per_s": round(min_ess / sample_s, 2),
        "mean_leapfrog_steps": round(float(idata.sample_stats["n_steps"].mean()), 1),
        "gradient_evaluations": _gradient_evaluations(idata),
        "divergences": int(idata.sample_stats["diverging"].sum()),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--scan-participants", type=int, default=5)
    parser.add_argument("--skip-cohort", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    import cogarb

    out = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    example = cogarb.read_trials(REPO / "fits" / "hbayesdm_ts_example" / "trials.csv.gz")
    figures, _ = fit_figures(example, args.draws, args.tune, args.chains, args.seed)
    a = {**gradient_costs(example, args.scan_participants), **figures}
    a["ess_per_s_vs_stan_1.8"] = round(a["ess_per_s"] / STAN_ESS_PER_S, 1)
    out["hbayesdm_example"] = a
    low_rank, _ = fit_figures(example, args.draws, args.tune, args.chains, args.seed, True)
    low_rank["ess_per_s_vs_stan_1.8"] = round(low_rank["ess_per_s"] / STAN_ESS_PER_S, 1)
    low_rank["ess_per_s_vs_diagonal"] = round(low_rank["ess_per_s"] / max(a["ess_per_s"], 1e-9), 2)
    out["hbayesdm_example_low_rank_mass_matrix"] = low_rank
    if not args.skip_cohort:
        # participants differ: draw them from the population the model assumes
        from cogarb.recovery import population

        truth, _ = population("hybrid", args.participants, seed=args.seed)
        cohort = cogarb.simulate("daw2011", "hybrid", truth, seed=args.seed)
        figures, _ = fit_figures(cohort, args.draws, args.tune, args.chains, args.seed)
        out["simulated_cohort"] = {
            "participants": args.participants,
            **gradient_costs(cohort, args.scan_participants),
            **figures,
        }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
