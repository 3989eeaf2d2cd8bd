"""Convert Gillan et al. (2016) Study 1 to the tidy schema (trials.csv.gz).

Usage: python fits/gillan2016_study1/convert.py [path/to/gillan2016]

The default source is ../shared/data/gillan2016 beside the repository: the raw task
files in ``twostep_data_study1_individual_csv/`` and the questionnaires in
``self_report_study1.csv``. The mapping is :mod:`cogarb.readers.gillan2016`
(format "gillan2016"). Only the 548 participants retained in the paper are written
(the reader's ``in_paper``), with their questionnaire covariates; ``source_file``,
``source_line`` (paths on the converting machine) and ``in_paper`` (all true) are
dropped.
"""

import hashlib
import sys
from pathlib import Path

import cogarb

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "shared" / "data" / "gillan2016"
STUDY = 1
# sha256 of the listing "<file name> <sha256 of the file>\n" of the task files, in name order
TASK_FILES_SHA256 = "53da9efb1a8feabdf0435ee9bbb1188e0ce0103b96e7af6fea360ae5165537fc"
SELF_REPORT_SHA256 = "2a10554afcee6ce3c7ff7520fee004ec78dc4adc5f25f5147ccd74d25e475636"
N_PARTICIPANTS, N_TRIALS = 548, 109_600
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
    out = cogarb.write_trials(trials, HERE / "trials.csv.gz")
    print(
        f"{folder} -> {out}: {n_participants} of {n_all} participants (retained in the "
        f"paper), {len(trials)} trials"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
