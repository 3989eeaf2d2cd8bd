"""Convert Gillan et al. (2016) Study 2 to the tidy schema (trials.parquet).

Usage: python fits/gillan2016_study2/convert.py [path/to/gillan2016]

The default source is ../shared/data/gillan2016 beside the repository: the raw task
files in ``twostep_data_study2_individual_csv/`` and the questionnaires in
``self_report_study2.csv``. The mapping is :mod:`cogarb.readers.gillan2016`
(format "gillan2016"). Only the 1413 participants retained in the paper are written
(the reader's ``in_paper``), with their questionnaire covariates; ``source_file``,
``source_line`` (paths on the converting machine) and ``in_paper`` (all true) are
dropped. Parquet rather than CSV: gzip cannot exploit the reward walk repeated every
200 rows here (a CSV would be about 11 MB; the parquet file is about 1.4 MB).
"""

import hashlib
import sys
from pathlib import Path

import cogarb

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "shared" / "data" / "gillan2016"
STUDY = 2
# sha256 of the listing "<file name> <sha256 of the file>\n" of the task files, in name order
TASK_FILES_SHA256 = "70e25e67b49511a2059032c9ee98a8bef7967e9e997ce9e00096165027219ada"
SELF_REPORT_SHA256 = "8dbedb39070f647dd7aa918a76cd72bc9686703d03f7139a958161fef8f61c26"
N_PARTICIPANTS, N_TRIALS = 1413, 282_599
DROP = ["missed", "in_paper", "source_file", "source_line"]


def folder_digest(folder: Path) -> str:
    """sha256 of the sorted listing of the folder's .csv files with their sha256."""
    listing = "".join(
        f"{path.name} {hashlib.sha256(path.read_bytes()).hexdigest()}\n"
        for path in sorted(folder.glob("*.csv"))
    )
    return hashlib.sha256(listing.encode()).hexdigest()


def check(name: str, digest: str, expected: str) -> None:
    if digest != expected:
        raise SystemExit(f"{name}: sha256 {digest} is not the documented {expected}")


def main(source: Path = SOURCE) -> None:
    folder = source / f"twostep_data_study{STUDY}_individual_csv"
    report = source / f"self_report_study{STUDY}.csv"
    check(str(folder), folder_digest(folder), TASK_FILES_SHA256)
    check(str(report), hashlib.sha256(report.read_bytes()).hexdigest(), SELF_REPORT_SHA256)
    trials = cogarb.read_trials(folder, format="gillan2016")
    n_all = trials["participant"].nunique()
    trials = trials[trials["in_paper"].to_numpy()].drop(columns=DROP).reset_index(drop=True)
    trials["participant"] = trials["participant"].cat.remove_unused_categories()
    n_participants = trials["participant"].nunique()
    if (n_participants, len(trials)) != (N_PARTICIPANTS, N_TRIALS):
        raise SystemExit(f"{n_participants} participants, {len(trials)} trials: not the expected")
    out = cogarb.write_trials(trials, HERE / "trials.parquet")
    print(
        f"{folder} -> {out}: {n_participants} of {n_all} participants (retained in the "
        f"paper), {len(trials)} trials"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
