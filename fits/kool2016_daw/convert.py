"""Convert Kool et al. (2016), Daw paradigm to the tidy schema (trials.csv.gz).

Usage: python fits/kool2016_daw/convert.py [path/to/kool2016_daw_trials.csv]

The default source is kool2016_daw_trials.csv in
../shared/data/kool2016_tradeoffs/daw paradigm/ beside the repository, with
kool2016_daw_subjects.csv (age, sex) next to it. The mapping is
:mod:`cogarb.readers.kool` (format "kool"): practice trials excluded, missed trials kept.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _convert import SHARED_DATA, check_sha256, convert, source_arg

HERE = Path(__file__).resolve().parent
SOURCE = SHARED_DATA / "kool2016_tradeoffs" / "daw paradigm" / "kool2016_daw_trials.csv"
TRIALS_SHA256 = "67f27f4a633e42001f5276084a4e6928c682cbc20d5252e26fdfb68343951a28"
SUBJECTS_SHA256 = "5dcc88bc08727c074b25fc25f982641c5264241cfe9c4b1bd78e9a428ac7f174"


def main(source: Path = SOURCE) -> None:
    check_sha256(source, TRIALS_SHA256)
    check_sha256(source.with_name(source.name.replace("_trials", "_subjects")), SUBJECTS_SHA256)
    convert(source, "kool", HERE / "trials.csv.gz")


if __name__ == "__main__":
    main(source_arg(SOURCE))
