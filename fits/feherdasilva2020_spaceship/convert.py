"""Convert Feher da Silva & Hare's (2020) spaceship data to the tidy schema (trials.csv.gz).

Usage: python fits/feherdasilva2020_spaceship/convert.py [path/to/spaceship/choices]

The default source is
../shared/data/feherdasilva2020_muddled_models/results/spaceship/choices beside the
repository; the mapping is :mod:`cogarb.readers.feherdasilva2020`. The folder is
checked against a sha256 over its sorted file names and contents.
"""

import hashlib
import sys
from pathlib import Path

import cogarb

HERE = Path(__file__).resolve().parent
DATASET = HERE.parents[2] / "shared" / "data" / "feherdasilva2020_muddled_models"
SOURCE = DATASET / "results" / "spaceship" / "choices"
SHA256 = "a2569301ee247044b7c20613aa7cb1f532899ec7623792384171d3eafddd22f6"


def folder_sha256(folder: Path) -> str:
    """sha256 over ``name NUL sha256(content) LF`` of every file, in name order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        content = hashlib.sha256(path.read_bytes()).hexdigest()
        digest.update(f"{path.name}\0{content}\n".encode())
    return digest.hexdigest()


def main(source: Path = SOURCE) -> None:
    digest = folder_sha256(source)
    if digest != SHA256:
        raise SystemExit(f"{source}: sha256 {digest} is not the documented {SHA256}")
    trials = cogarb.read_trials(source, format="feherdasilva2020")
    trials = trials.drop(columns="missed")  # recomputed on reading
    out = cogarb.write_trials(trials, HERE / "trials.csv.gz")
    print(
        f"{source} -> {out}: {trials['participant'].nunique()} participants, {len(trials)} trials"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
