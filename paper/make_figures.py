"""Regenerate every figure of the paper and paper/paper.md from tasks/ and fits/.

    python paper/make_figures.py           # full: reads the fits under fits/*/out/
    python paper/make_figures.py --quick   # minutes: small cohorts, subsets fitted here

The same as ``cogarb figures --out paper/figures --paper paper/paper.md``: figures F1-F6
as PNG and PDF in paper/figures/, their numbers in paper/figures/numbers.json, and
paper/paper.md filled in from paper/paper_template.md. The full run needs the fits
(``cogarb fit fits/<dataset>/fit.toml``; the Gillan Study 2 fit is written by
``python benchmarks/fit_gillan.py --tune 500 --draws 500 --save
fits/gillan2016_study2/out/hybrid_factors``); a missing one is named with the
command that makes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cogarb.cli import main

PAPER = Path(__file__).resolve().parent


def run(argv: list[str]) -> int:
    return main([
        "figures", "--out", str(PAPER / "figures"), "--paper", str(PAPER / "paper.md"),
        "--fits", str(PAPER.parent / "fits"), "--template", str(PAPER / "paper_template.md"),
        *argv,
    ])  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
