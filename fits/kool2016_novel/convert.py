"""Convert Kool et al. (2016), novel paradigm to the tidy schema (trials.csv.gz).

Usage: python fits/kool2016_novel/convert.py [path/to/kool2016_novel_trials.csv]

The default source is kool2016_novel_trials.csv in
../shared/data/kool2016_tradeoffs/novel paradigm/ beside the repository, with
kool2016_novel_subjects.csv (age, sex) next to it. The mapping is
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
    / "kool2016_tradeoffs"
    / "novel paradigm"
    / "kool2016_novel_trials.csv"
)
SHA256 = {
    "_trials.csv": "d6cc78ad73918c660596435c30df9b0c0eeb27004b8dfd8521860ee2543cbae8",
    "_subjects.csv": "7c51e5ae38d9ba9b58b9dfca3be8c8b256eebb8cd8950ca4c6840ceb6dc98563",
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
