"""Regenerate every figure of the paper and paper/paper.md from tasks/ and fits/.

    python paper/make_figures.py           # full: reads the fits under fits/*/out/
    python paper/make_figures.py --quick   # minutes: small cohorts, subsets fitted here

The same as ``cogarb figures --out paper/figures --paper paper/paper.md``: figures F1-F6
as PNG and PDF in paper/figures/, their numbers in paper/figures/numbers.json, and
paper/paper.md filled in from paper/paper_template.md. The real datasets and the fits
the figures read are named in paper/manifest.toml. The full run needs the fits
(``cogarb fit fits/<dataset>/fit.toml``; the Gillan Study 2 fit is written by
``python benchmarks/fit_gillan.py --tune 500 --draws 500 --save
fits/gillan2016_study2/out/hybrid_factors``); a missing one is named with the
command that makes it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cogarb.paper import FIGURES, settings_named
from cogarb.workflows import make_paper

PAPER = Path(__file__).resolve().parent


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cohorts and short fits")
    parser.add_argument(
        "--only", action="append", default=[], choices=list(FIGURES), metavar="FIG",
        help="make only this figure (F1 ... F6; repeatable); numbers.json keeps the others",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    settings = settings_named("quick" if args.quick else "full", seed=args.seed)
    make_paper(
        settings, PAPER / "figures", PAPER.parent / "fits", PAPER / "manifest.toml", args.only,
        template=PAPER / "paper_template.md", paper=PAPER / "paper.md",
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
