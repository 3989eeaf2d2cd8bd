"""Convert Kool et al. (2017), novel paradigm with stakes to the tidy schema (trials.csv.gz).

Usage: python fits/kool2017_novel_stakes/convert.py [path/to/kool2017_novel_stakes_trials.csv]

The default source is kool2017_novel_stakes_trials.csv in
../shared/data/kool2017_arbitration/novel_2step_stakes/ beside the repository, with
kool2017_novel_stakes_subjects.csv (age, sex) next to it. The mapping is
:mod:`cogarb.readers.kool` (format "kool"): practice trials excluded, missed trials kept.
"""

import hashlib
import sys
from pathlib import Path

import cogarb

HERE = Path(__file__).resolve().parent
SOURCE = (
    HERE.parents[2]
    / "shared"
    / "data"
    / "kool2017_arbitration"
    / "novel_2step_stakes"
    / "kool2017_novel_stakes_trials.csv"
)
SHA256 = {
    "_trials.csv": "17e798f3d5f2cdb653d7a3552676dd4803e494cbc1c0f21b93d24fccb9029c59",
    "_subjects.csv": "43c2a4d6ad541a23433a2feabe3bbda4f2ef9139e5028162a97c47811d635036",
}


def main(source: Path = SOURCE) -> None:
    for suffix, expected in SHA256.items():
        path = source.with_name(source.name.replace("_trials.csv", suffix))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != expected:
            raise SystemExit(f"{path}: sha256 {digest} is not the documented {expected}")
    trials = cogarb.read_trials(source, format="kool")
    # missed is recomputed on reading; source_file/source_line only name the source's lines
    trials = trials.drop(columns=["missed", "source_file", "source_line"])
    # one participant id in the source looks like an Amazon Mechanical Turk worker id,
    # which can identify a person: our copy replaces such ids by a pseudonym
    worker = trials["participant"].astype(str).str.fullmatch(r"A[0-9A-Z]{11,14}")
    pseudonyms = {
        p: f"anonymous_{i + 1}" for i, p in enumerate(trials.loc[worker, "participant"].unique())
    }
    trials["participant"] = trials["participant"].astype(str).replace(pseudonyms)
    out = cogarb.write_trials(trials, HERE / "trials.csv.gz")
    print(
        f"{source} -> {out}: {trials['participant'].nunique()} participants, {len(trials)} trials"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
