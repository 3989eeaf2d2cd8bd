"""Print a dataset's LOO comparison with each fit's diagnostics, as Markdown.

    python fits/loo_findings.py fits/kool2016_daw
    python fits/loo_findings.py fits/castro_rodrigues2022 --by-chain

Reads ``out/compare.csv`` (written by ``cogarb fit <dataset>/fit.toml`` once every
compared fit is done) and each fit's ``diagnostics.json`` and ``done.json``, and
refuses a comparison or fit that is unfinished or stale (its done marker no longer
matches the fit.toml and data); the table lands in the dataset's README. A fit
counts as converged when R-hat ≤ 1.01 and bulk ESS ≥ 400 for every variable, with no
divergence and no draw at the tree-depth limit (``cogarb.fitting.convergence_problems``).
The comparison leaving out whole participants (``out/compare_by_participant.csv``)
follows the per-trial table.

``--save`` copies the small outputs a quoted number needs into ``<dataset>/results/``
(each compared fit's ``diagnostics.json``, ``summary.csv`` and ``done.json``, both
comparison tables, and ``findings.md``, this script's output), to be committed beside
the README; the posteriors stay in the git-ignored ``out/``.

``--by-chain`` adds each fit's elpd_loo computed from each chain alone (PSIS-LOO on
that chain's draws). When chains have not mixed, this shows how far the comparison
moves with the part of the posterior a chain explored: a difference between fits much
larger than their chains' spread does not hinge on the mixing.
"""

from __future__ import annotations

import argparse
import gc
import json
from pathlib import Path

from cogarb.fitspec import load_fit_spec
from cogarb.fitting import convergence_problems
from cogarb.runs import (
    COMPARE,
    COMPARE_BY_PARTICIPANT,
    DONE,
    finished_fit_path,
    read_comparison,
    read_comparison_by_participant,
    write_text,
)

RESULTS = "results"  # committed beside the README: the small outputs a quoted number needs
RESULT_FILES = ("diagnostics.json", "summary.csv", DONE)


def diagnosis(found: dict) -> str:
    """"converged (...)" or what fails, by the package's one verdict
    (:func:`cogarb.fitting.convergence_problems`)."""
    problems = convergence_problems(found)
    if not problems:
        return f"converged (R-hat ≤ {found['max_rhat']:.3f}, ESS ≥ {found['min_ess_bulk']:.0f})"
    return "; ".join(problems)


def unreliable(found: dict, arviz_warning: bool) -> str:
    """How many trials' Pareto k is too high, from the fit's counts
    (:func:`cogarb.runs.pareto_k_counts`), which set apart the trials whose
    likelihood is the same under every draw (ArviZ's k = inf, yet exact);
    ArviZ's own flag for fits written before the counts."""
    pareto = found.get("pareto_k")
    if not pareto or "error" in pareto:
        return "yes" if arviz_warning else "no"
    too_high = pareto["bad"] + pareto["very_bad"]
    exact = f" ({pareto['exact']} exact)" if pareto.get("exact") else ""
    return f"{too_high} of {pareto['trials']}{exact}"


def finished(dataset: Path) -> dict[str, str]:
    """``{fit: fingerprint}`` of the compared fits as the dataset's fit.toml is now."""
    spec = load_fit_spec(dataset / "fit.toml")
    jobs = {job.name: job for job in spec.fits}
    return {name: spec.fingerprint(jobs[name]) for name in spec.compare}


def table(dataset: Path) -> str:
    out = dataset / "out"
    compare = read_comparison(out, finished(dataset), f"cogarb fit {dataset / 'fit.toml'}")
    lines = [
        "| fit | elpd_loo | difference ± se | p_loo | trials with Pareto k too high | draws "
        "| seconds "
        "| diagnostics |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in compare.iterrows():
        found = json.loads((out / name / "diagnostics.json").read_text())
        done_file = out / name / "done.json"
        seconds = json.loads(done_file.read_text())["seconds"] if done_file.is_file() else None
        difference = "0" if row["elpd_diff"] == 0 else f"{row['elpd_diff']:.1f} ± {row['dse']:.1f}"
        lines.append(
            f"| {name} | {row['elpd_loo']:.1f} | {difference} | {row['p_loo']:.1f} | "
            f"{unreliable(found, row['warning'])} | {found['draws']} | "
            f"{'—' if seconds is None else f'{seconds:.0f}'} | {diagnosis(found)} |"
        )
    by_participant = read_comparison_by_participant(out, finished(dataset))
    if by_participant is not None:
        lines += [
            "",
            "Leaving out one participant at a time:",
            "",
            "| fit | elpd_loo | difference ± se | Pareto k too high |",
            "|---|---|---|---|",
        ]
        for name, row in by_participant.iterrows():
            difference = (
                "0" if row["elpd_diff"] == 0 else f"{row['elpd_diff']:.1f} ± {row['dse']:.1f}"
            )
            lines.append(
                f"| {name} | {row['elpd_loo']:.1f} | {difference} | "
                f"{'yes' if row['warning'] else 'no'} |"
            )
    return "\n".join(lines)


def save_results(dataset: Path, findings: str) -> Path:
    """Copy the compared fits' small outputs and both comparisons into ``results/``."""
    out, results = dataset / "out", dataset / RESULTS
    for name in finished(dataset):
        (results / name).mkdir(parents=True, exist_ok=True)
        for file in RESULT_FILES:
            write_text(results / name / file, (out / name / file).read_text())
    for file in (COMPARE, COMPARE_BY_PARTICIPANT):
        if (out / file).is_file():
            write_text(results / file, (out / file).read_text())
    write_text(results / "findings.md", findings + "\n")
    return results


def by_chain(dataset: Path) -> str:
    """elpd_loo of each compared fit from each of its chains alone, as Markdown."""
    import arviz as az

    import cogarb

    out = dataset / "out"
    rows = {}
    for name, fingerprint in finished(dataset).items():  # one posterior in memory at a time
        idata = az.from_netcdf(finished_fit_path(out / name, fingerprint))
        rows[name] = [
            float(cogarb.loo(idata.sel(chain=[chain]))["elpd_loo"])
            for chain in idata.posterior.chain.values
        ]
        del idata
        gc.collect()
    n_chains = max(len(v) for v in rows.values())
    lines = [
        "| fit | " + " | ".join(f"chain {c + 1}" for c in range(n_chains)) + " | spread |",
        "|---|" + "---|" * (n_chains + 1),
    ]
    for name, values in rows.items():
        cells = " | ".join(f"{v:.1f}" for v in values)
        lines.append(f"| {name} | {cells} | {max(values) - min(values):.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--by-chain", action="store_true", help="add elpd_loo per chain")
    parser.add_argument("--save", action="store_true", help="write <dataset>/results/")
    args = parser.parse_args()
    for path in args.datasets:
        findings = table(path)
        if args.by_chain:
            findings += f"\n\nelpd_loo by chain:\n\n{by_chain(path)}"
        print(f"### {path.name}\n\n{findings}\n")
        if args.save:
            print(f"-> {save_results(path, findings)}/")
