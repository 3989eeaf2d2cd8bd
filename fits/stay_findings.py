"""Stay-regression findings of a fits/ dataset, printed as Markdown for its README.

Usage: python fits/stay_findings.py fits/<dataset>/<trials file> [--covariates a b c]
       [--by column]

Prints the stay regression ``stay ~ reward × transition`` (±1 coding; pooled and
the mean of per-participant coefficients) and, with ``--covariates``, an ordinary
least-squares regression of each participant's coefficients on the standardised
covariates (the two-stage summary-statistics approach; Gillan et al. 2016 fitted a
mixed-effects model instead, which pools more strongly, so our standard errors are
larger and our slopes are on the coefficient scale of single participants).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd

import cogarb


def ols(y: np.ndarray, x: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Slopes, standard errors, t and two-sided normal p of y ~ 1 + x (x standardised)."""
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = len(y) - design.shape[1]
    sigma2 = resid @ resid / dof
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
    t = coef / se
    p = [math.erfc(abs(v) / math.sqrt(2)) for v in t]
    return pd.DataFrame(
        {"slope": coef, "se": se, "t": t, "p": p}, index=["intercept", *names]
    ).iloc[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trials")
    parser.add_argument("--covariates", nargs="*", default=[])
    parser.add_argument("--by", default=None, help="condition column to split by")
    args = parser.parse_args()
    trials = cogarb.read_trials(args.trials)
    for column in args.covariates:  # text categories (e.g. gender) become 0/1 codes
        if not pd.api.types.is_numeric_dtype(trials[column]):
            levels = sorted(trials[column].dropna().unique())
            if len(levels) != 2:
                raise SystemExit(f"covariate {column} is text with levels {levels}")
            trials[column] = (trials[column] == levels[1]).astype(float)
            print(f"{column}: {levels[0]} = 0, {levels[1]} = 1")
    regression = cogarb.stay_regression(trials, by=args.by)
    fmt = {"float_format": lambda v: f"{v:.3f}", "index": False}
    print("### Stay regression, pooled (fixed effect)\n\n```")
    print(regression.pooled.to_string(**fmt))
    print("```\n\n### Mean of per-participant coefficients (95% t-interval)\n\n```")
    print(regression.group.to_string(**fmt))
    print("```")
    if not args.covariates:
        return
    per = regression.participants.set_index("participant")
    covariates = trials.groupby("participant", observed=True)[args.covariates].first()
    table = per.join(covariates, how="inner").dropna()
    x = table[args.covariates].to_numpy(float)
    x = (x - x.mean(0)) / x.std(0)
    print(
        f"\n### Per-participant coefficients on standardised covariates "
        f"({len(table)} participants with all four cells and all covariates)\n"
    )
    for term in ("reward", "reward:transition"):
        print(f"`{term}`:\n\n```")
        print(
            ols(table[term].to_numpy(float), x, args.covariates).to_string(
                float_format=lambda v: f"{v:.4f}"
            )
        )
        print("```\n")


if __name__ == "__main__":
    main()
