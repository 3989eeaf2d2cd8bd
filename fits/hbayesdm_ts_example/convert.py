"""Convert hBayesDM's two-step example data to the tidy schema (trials.csv.gz).

Usage: python fits/hbayesdm_ts_example/convert.py [path/to/ts_exampleData.txt]

The default source is ../shared/data/hbayesdm_ts_example/ts_exampleData.txt beside
the repository; the mapping is :mod:`cogarb.readers` (format "hbayesdm").
"""

import hashlib
import sys
from pathlib import Path

import cogarb

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "shared" / "data" / "hbayesdm_ts_example" / "ts_exampleData.txt"
SHA256 = "d138b5e9546a396d5078f347c827014a30a855c276c8de167eeddf7a586d2c2c"


def main(source: Path = SOURCE) -> None:
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{source}: sha256 {digest} is not the documented {SHA256}")
    trials = cogarb.read_trials(source, format="hbayesdm")
    trials = trials.drop(columns="missed")  # recomputed on reading
    out = cogarb.write_trials(trials, HERE / "trials.csv.gz")
    print(
        f"{source} -> {out}: {trials['participant'].nunique()} participants, {len(trials)} trials"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
