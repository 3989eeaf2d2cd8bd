"""Convert hBayesDM's two-step example data to the tidy schema (trials.csv.gz).

Usage: python fits/hbayesdm_ts_example/convert.py [path/to/ts_exampleData.txt]

The default source is ../shared/data/hbayesdm_ts_example/ts_exampleData.txt beside
the repository; the mapping is :mod:`cogarb.readers` (format "hbayesdm").
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _convert import READER_ONLY, SHARED_DATA, check_sha256, convert, source_arg

HERE = Path(__file__).resolve().parent
SOURCE = SHARED_DATA / "hbayesdm_ts_example" / "ts_exampleData.txt"
SHA256 = "d138b5e9546a396d5078f347c827014a30a855c276c8de167eeddf7a586d2c2c"


def main(source: Path = SOURCE) -> None:
    check_sha256(source, SHA256)
    # the raw level codes repeat choice1/state2/choice2 here (no trial is missed)
    raw_codes = ["level1_choice", "level2_choice"]
    convert(source, "hbayesdm", HERE / "trials.csv.gz", drop=[*READER_ONLY, *raw_codes])


if __name__ == "__main__":
    main(source_arg(SOURCE))
