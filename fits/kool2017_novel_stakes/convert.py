"""Convert Kool et al. (2017), novel paradigm with stakes to the tidy schema (trials.csv.gz).

Usage: python fits/kool2017_novel_stakes/convert.py [path/to/kool2017_novel_stakes_trials.csv]

The default source is kool2017_novel_stakes_trials.csv in
../shared/data/kool2017_arbitration/novel_2step_stakes/ beside the repository, with
kool2017_novel_stakes_subjects.csv (age, sex) next to it. The mapping is
:mod:`cogarb.readers.kool` (format "kool"): practice trials excluded, missed trials kept.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _convert import SHARED_DATA, check_sha256, convert, pseudonymise, source_arg

HERE = Path(__file__).resolve().parent
SOURCE = (
    SHARED_DATA / "kool2017_arbitration" / "novel_2step_stakes" / "kool2017_novel_stakes_trials.csv"
)
TRIALS_SHA256 = "17e798f3d5f2cdb653d7a3552676dd4803e494cbc1c0f21b93d24fccb9029c59"
SUBJECTS_SHA256 = "43c2a4d6ad541a23433a2feabe3bbda4f2ef9139e5028162a97c47811d635036"


def main(source: Path = SOURCE) -> None:
    check_sha256(source, TRIALS_SHA256)
    check_sha256(source.with_name(source.name.replace("_trials", "_subjects")), SUBJECTS_SHA256)
    # one participant id in the source looks like an Amazon Mechanical Turk worker id,
    # which can identify a person: our copy replaces such ids by a pseudonym
    convert(source, "kool", HERE / "trials.csv.gz", transform=pseudonymise)


if __name__ == "__main__":
    main(source_arg(SOURCE))
