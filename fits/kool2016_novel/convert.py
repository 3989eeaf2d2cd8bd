"""Convert Kool et al. (2016), novel paradigm to the tidy schema (trials.csv.gz).

Usage: python fits/kool2016_novel/convert.py [path/to/kool2016_novel_trials.csv]

The default source is kool2016_novel_trials.csv in
../shared/data/kool2016_tradeoffs/novel paradigm/ beside the repository, with
kool2016_novel_subjects.csv (age, sex) next to it. The mapping is
:mod:`cogarb.readers.kool` (format "kool"): practice trials excluded, missed trials kept.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _convert import SHARED_DATA, check_sha256, convert, pseudonymise, source_arg

HERE = Path(__file__).resolve().parent
SOURCE = SHARED_DATA / "kool2016_tradeoffs" / "novel paradigm" / "kool2016_novel_trials.csv"
TRIALS_SHA256 = "d6cc78ad73918c660596435c30df9b0c0eeb27004b8dfd8521860ee2543cbae8"
SUBJECTS_SHA256 = "7c51e5ae38d9ba9b58b9dfca3be8c8b256eebb8cd8950ca4c6840ceb6dc98563"


def main(source: Path = SOURCE) -> None:
    check_sha256(source, TRIALS_SHA256)
    check_sha256(source.with_name(source.name.replace("_trials", "_subjects")), SUBJECTS_SHA256)
    # one participant id in the source looks like an Amazon Mechanical Turk worker id,
    # which can identify a person: our copy replaces such ids by a pseudonym
    convert(source, "kool", HERE / "trials.csv.gz", transform=pseudonymise)


if __name__ == "__main__":
    main(source_arg(SOURCE))
