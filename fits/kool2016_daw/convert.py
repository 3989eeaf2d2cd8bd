"""Convert Kool et al. (2016), Daw paradigm to the tidy schema (trials.csv.gz).

Usage: python fits/kool2016_daw/convert.py [path/to/kool2016_daw_trials.csv]

The default source is kool2016_daw_trials.csv in
../shared/data/kool2016_tradeoffs/daw paradigm/ beside the repository, with
kool2016_daw_subjects.csv (age, sex) next to it. The mapping is
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
    / "daw paradigm"
    / "kool2016_daw_trials.csv"
)
SHA256 = {
    "_trials.csv": "67f27f4a633e42001f5276084a4e6928c682cbc20d5252e26fdfb68343951a28",
    "_subjects.csv": "5dcc88bc08727c074b25fc25f982641c5264241cfe9c4b1bd78e9a428ac7f174",
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
