"""Convert Kool et al. (2017), Daw paradigm with stakes to the tidy schema (trials.csv.gz).

Usage: python fits/kool2017_daw_stakes/convert.py [path/to/kool2017_daw_stakes_trials.csv]

The default source is kool2017_daw_stakes_trials.csv in
../shared/data/kool2017_arbitration/daw_2step_stakes/ beside the repository, with
kool2017_daw_stakes_subjects.csv (age, sex) next to it. The mapping is
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
    / "daw_2step_stakes"
    / "kool2017_daw_stakes_trials.csv"
)
SHA256 = {
    "_trials.csv": "d0664b9dd875585a5cd63e2018120e698c6a7f2b1b577ac5b637cb8f946e526e",
    "_subjects.csv": "af27a2b0eabc8c0ce84d83c0e1836027a360b9fbd8b2f345d9db39a7494a9d3d",
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
    out = cogarb.write_trials(trials, HERE / "trials.csv.gz")
    print(
        f"{source} -> {out}: {trials['participant'].nunique()} participants, {len(trials)} trials"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
