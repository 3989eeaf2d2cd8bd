"""Convert Castro-Rodrigues et al. (2022)'s trials to the tidy schema (trials.csv.gz).

Usage: python fits/castro_rodrigues2022/convert.py [path/to/castro_rodrigues2022_trials.csv.gz]

The default source is
../shared/data/castro-rodrigues2022_explicit_knowledge/castro_rodrigues2022_trials.csv.gz
beside the repository (the per-trial table derived from the authors' logs); the
mapping is :mod:`cogarb.readers.castro_rodrigues2022` (format "castro_rodrigues2022").
The reader's bookkeeping columns ``source_file``/``source_line`` and the recomputed
``missed`` are not written.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _convert import SHARED_DATA, check_sha256, convert, source_arg

HERE = Path(__file__).resolve().parent
SOURCE = (
    SHARED_DATA / "castro-rodrigues2022_explicit_knowledge" / "castro_rodrigues2022_trials.csv.gz"
)
SHA256 = "6dab961d814222d1986db55b619bcfb186197254b90c4e15d0df150b92274c7b"


def main(source: Path = SOURCE) -> None:
    check_sha256(source, SHA256)
    trials = convert(source, "castro_rodrigues2022", HERE / "trials.csv.gz")
    common = trials.groupby("group")["common"].mean()
    print("P(common) by group:\n" + common.round(4).to_string())
    reward = trials.groupby(["reward_block", "state2"])["reward"].mean().unstack()
    print("P(reward | reward_block, state2 (0 left, 1 right)):\n" + reward.round(4).to_string())


if __name__ == "__main__":
    main(source_arg(SOURCE))
