"""Scale benchmark: the hierarchical hybrid on Gillan et al. (2016) Study 2; prints JSON.

1,413 participants × 200 trials (fits/gillan2016_study2, committed in the repo), w
regressed on the three transdiagnostic factors with age and IQ (standardised), 2
chains × 300 tune + 600 draws with nutpie's low-rank modified mass matrix by default
(as fit.toml). Prints compile and sampling seconds, the minimum bulk ESS of the group
parameters, ESS per second, the gradient cost and the number of gradients, and the
posterior of the slope of w (logit scale) on compulsivity — Gillan et al.'s headline
effect, expected negative.

Usage: python benchmarks/fit_gillan.py [--draws 600] [--tune 300] [--chains 2]
       [--no-low-rank]      (nutpie's diagonal mass matrix instead)
       [--participants N]   (N: the first N participants, for a quicker look)
       [--save DIR]         (write posterior.nc, summary.csv, diagnostics.json to DIR;
                             fits/gillan2016_study2/out/hybrid_factors is where the
                             paper figures look for it)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from fit import sampling_figures

REPO = Path(__file__).resolve().parents[1]
COVARIATES = ["compulsivity", "anxious_depression", "social_withdrawal", "age", "iq"]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=600)
    parser.add_argument("--tune", type=int, default=300)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--low-rank", action=argparse.BooleanOptionalAction, default=True,
        help="nutpie's low-rank modified mass matrix (fewer draws for the same ESS)",
    )  # fmt: skip
    parser.add_argument(
        "--save", type=Path, default=None,
        help="also write the fit as `cogarb fit` does (posterior.nc, summary.csv, ...) here",
    )  # fmt: skip
    args = parser.parse_args(argv)

    import numpy as np

    import cogarb
    from cogarb.arrays import trial_arrays
    from cogarb.fitspec import FitJob
    from cogarb.likelihood import loglik_and_grad
    from cogarb.simulate import parameter_matrix

    trials = cogarb.read_trials(REPO / "fits" / "gillan2016_study2" / "trials.parquet")
    if args.participants is not None:
        keep = trials["participant"].cat.categories[: args.participants]
        trials = trials[trials["participant"].isin(keep)].copy()
        trials["participant"] = trials["participant"].cat.remove_unused_categories()
    data = trial_arrays(trials)
    thetas, _ = parameter_matrix(cogarb.get_agent("hybrid"), {}, data.n_participants)
    loglik_and_grad("hybrid", thetas, data)  # compile
    start = time.perf_counter()
    for _ in range(10):
        loglik_and_grad("hybrid", thetas, data)
    gradient_s = (time.perf_counter() - start) / 10

    sampler = _sampler_settings(args)
    idata = cogarb.fit(
        trials, "hybrid", **FitJob("hybrid_factors", "hybrid", sampler=sampler).sampler_arguments(),
        covariates={"w": COVARIATES}, log_likelihood=False, progress=False,
    )  # fmt: skip
    attrs = idata.posterior.attrs
    figures = sampling_figures(idata, attrs["compile_seconds"], attrs["sampling_seconds"])
    if args.save is not None:
        from cogarb.runs import output_folder, retire_outputs, write_fit

        with output_folder(args.save):
            retire_outputs(Path(args.save))  # an earlier fit's done.json never vouches for this
            write_fit(idata, args.save)
        _mark_done_if_same_as_fit_toml(args, sampler, attrs)
    out = {
        "participants": data.n_participants,
        "n_trials": len(data.choice1),
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "low_rank_mass_matrix": args.low_rank,
        "gradient_ms": round(gradient_s * 1e3, 2),
        "gradient_ns_per_trial": round(gradient_s * 1e9 / len(data.choice1), 1),
        **figures,
        "total_minutes": round((figures["compile_s"] + figures["sampling_s"]) / 60, 1),
    }
    for name in COVARIATES:
        draws = idata.posterior[f"slope_w_{name}"].to_numpy().ravel()
        out[f"slope_w_{name}"] = {
            "mean": round(float(draws.mean()), 3),
            "ci90": [round(float(q), 3) for q in np.quantile(draws, [0.05, 0.95])],
            "p_negative": round(float((draws < 0).mean()), 3),
        }
    print(json.dumps(out))
    return out


def _sampler_settings(args) -> dict:
    """This run's sampler settings as a fit.toml job holds them (switches only when on)."""
    sampler = {"draws": args.draws, "tune": args.tune, "chains": args.chains, "seed": args.seed}
    if args.low_rank:
        sampler["low_rank_mass_matrix"] = True
    return sampler


def _mark_done_if_same_as_fit_toml(args, sampler: dict, attrs) -> None:
    """Write done.json when this run is fit.toml's `hybrid_factors` fit, saved in its place.

    Then `cogarb fit fits/gillan2016_study2/fit.toml` skips it instead of redoing an
    hour of sampling. Any difference (a subset, other sampler settings, another
    folder) leaves no marker, and `cogarb fit` refits.
    """
    from cogarb.fitspec import load_fit_spec
    from cogarb.runs import write_done_marker

    spec = load_fit_spec(REPO / "fits" / "gillan2016_study2" / "fit.toml")
    job = next(j for j in spec.fits if j.name == "hybrid_factors")
    same = (
        args.participants is None
        and job.sampler == sampler
        and job.model_options() == {"covariates": {"w": COVARIATES}}
        and Path(args.save).resolve() == (spec.out / job.name).resolve()
    )
    if same:
        seconds = attrs["compile_seconds"] + attrs["sampling_seconds"]
        write_done_marker(spec.out / job.name, spec.fingerprint(job), seconds, job.name)


if __name__ == "__main__":
    main()
