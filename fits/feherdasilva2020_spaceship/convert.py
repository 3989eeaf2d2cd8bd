"""Convert Feher da Silva & Hare's (2020) spaceship data to the tidy schema (trials.csv.gz).

Usage: python fits/feherdasilva2020_spaceship/convert.py [path/to/spaceship/choices]

The default source is
../shared/data/feherdasilva2020_muddled_models/results/spaceship/choices beside the
repository; the mapping is :mod:`cogarb.readers.feherdasilva2020`. The folder is
checked against a sha256 over its sorted file names and contents.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _convert import SHARED_DATA, check_sha256, convert, folder_sha256, source_arg

HERE = Path(__file__).resolve().parent
SOURCE = SHARED_DATA / "feherdasilva2020_muddled_models" / "results" / "spaceship" / "choices"
SHA256 = "a2569301ee247044b7c20613aa7cb1f532899ec7623792384171d3eafddd22f6"


def main(source: Path = SOURCE) -> None:
    check_sha256(source, SHA256, folder_sha256(source))
    # source_file/source_line (raw file name and line) are kept: see the README
    convert(source, "feherdasilva2020", HERE / "trials.csv.gz", drop=["missed"])


if __name__ == "__main__":
    main(source_arg(SOURCE))
