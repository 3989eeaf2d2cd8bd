"""Hashes of what the package produces, to prove a refactor changed nothing; prints JSON.

For every built-in agent on a task it runs on: the SHA-256 of the simulated trials
(every column's values and dtype, two seeds, with and without internals); for a
few small fits: the SHA-256 of the posterior draws, the trial log-likelihood and
the posterior predictive draws (same seed, same settings); and the fingerprint
of every fit named in ``fits/*/fit.toml``. Run it before and after a change and
compare the two outputs: any differing key is a changed behaviour.

It uses the public API only, so the same script runs on both trees.

Usage: python benchmarks/snapshot.py [--no-fits] > snapshot.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import cogarb

REPO = Path(__file__).resolve().parents[1]

SIMULATIONS = {
    "mf": "daw2011",
    "mb": "daw2011",
    "hybrid": "daw2011",
    "hybrid_load": "otto2013_load",
    "arbitrator": "novelty_new_states",
    "mf_one_choice": "kool2016_novel",
    "mb_one_choice": "akam2015",
    "hybrid_one_choice": "kool2016_novel",
}


def frame_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's column names, dtypes and values, in order."""
    digest = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        digest.update(f"{name}:{column.dtype}".encode())
        digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def dataset_hash(dataset) -> str:
    digest = hashlib.sha256()
    for name in sorted(dataset.data_vars):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(dataset[name].to_numpy()).tobytes())
    return digest.hexdigest()


def simulation_hashes() -> dict:
    out = {}
    for agent, task in SIMULATIONS.items():
        for seed in (0, 7):
            for internals in (False, True):
                trials = cogarb.simulate(task, agent, n_participants=5, seed=seed,
                                         internals=internals)  # fmt: skip
                out[f"{agent}/{task}/seed{seed}/internals{int(internals)}"] = frame_hash(trials)
    return out


def fit_hashes() -> dict:
    """Posterior, log-likelihood and predictive draws of three small fits."""
    out = {}
    cases = {
        "hybrid_covariate": (
            "daw2011", "hybrid", {"covariates": {"w": ["age"]}}, True,
        ),
        "arbitrator": ("daw2011", "arbitrator", {}, True),
        "hybrid_one_choice_stakes": (
            "kool2016_novel", "hybrid_one_choice", {"conditions": {"w": "half"}}, True,
        ),
    }  # fmt: skip
    for name, (task, agent, options, ppc) in cases.items():
        trials = cogarb.simulate(task, agent, n_participants=6, seed=3)
        trials["age"] = trials["participant"].cat.codes.astype(float) * 3.0 + 20.0
        trials["half"] = (trials["trial"] > trials["trial"].max() // 2).astype(int)
        p_common = cogarb.load_task(task).p_common
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = cogarb.fit(
                trials, agent, draws=30, tune=30, chains=2, seed=11, progress=False,
                posterior_predictive=ppc, p_common=p_common, **options,
            )  # fmt: skip
        out[f"{name}/posterior"] = dataset_hash(idata.posterior)
        out[f"{name}/log_likelihood"] = dataset_hash(idata.log_likelihood)
        out[f"{name}/posterior_predictive"] = dataset_hash(idata.posterior_predictive)
        out[f"{name}/observed_data"] = dataset_hash(idata.observed_data)
    return out


def fingerprints() -> dict:
    from cogarb.fitspec import load_fit_spec

    out = {}
    for path in sorted((REPO / "fits").glob("*/fit.toml")):
        spec = load_fit_spec(path)
        for job in spec.fits:
            out[f"{path.parent.name}/{job.name}"] = spec.fingerprint(job)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-fits", action="store_true", help="skip the (slow) fits")
    args = parser.parse_args()
    result = {"simulate": simulation_hashes(), "fingerprints": fingerprints()}
    if not args.no_fits:
        result["fit"] = fit_hashes()
    print(json.dumps(result, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
