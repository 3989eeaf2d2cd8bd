"""Convert Kool et al. (2017), Daw paradigm with stakes to the tidy schema (trials.csv.gz).

Usage: python fits/kool2017_daw_stakes/convert.py [path/to/kool2017_daw_stakes_trials.csv]

The default source is kool2017_daw_stakes_trials.csv in
../shared/data/kool2017_arbitration/daw_2step_stakes/ beside the repository, with
kool2017_daw_stakes_subjects.csv (age, sex) next to it. The mapping is
:mod:`cogarb.readers.kool` (format "kool"): practice trials excluded, missed trials kept.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _convert import SHARED_DATA, check_sha256, convert, source_arg

HERE = Path(__file__).resolve().parent
SOURCE = (
    SHARED_DATA / "kool2017_arbitration" / "daw_2step_stakes" / "kool2017_daw_stakes_trials.csv"
)
TRIALS_SHA256 = "d0664b9dd875585a5cd63e2018120e698c6a7f2b1b577ac5b637cb8f946e526e"
SUBJECTS_SHA256 = "af27a2b0eabc8c0ce84d83c0e1836027a360b9fbd8b2f345d9db39a7494a9d3d"


def main(source: Path = SOURCE) -> None:
    check_sha256(source, TRIALS_SHA256)
    check_sha256(source.with_name(source.name.replace("_trials", "_subjects")), SUBJECTS_SHA256)
    convert(source, "kool", HERE / "trials.csv.gz")


if __name__ == "__main__":
    main(source_arg(SOURCE))
