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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _convert import SHARED_DATA, check_sha256, convert, folder_sha256, source_arg

HERE = Path(__file__).resolve().parent
SOURCE = SHARED_DATA / "gillan2016"
STUDY = 1
# sha256 of the listing "<file name> <sha256 of the file>\n" of the task files, in name order
TASK_FILES_SHA256 = "53da9efb1a8feabdf0435ee9bbb1188e0ce0103b96e7af6fea360ae5165537fc"
SELF_REPORT_SHA256 = "2a10554afcee6ce3c7ff7520fee004ec78dc4adc5f25f5147ccd74d25e475636"
N_PARTICIPANTS, N_TRIALS = 548, 109_600


def main(source: Path = SOURCE) -> None:
    folder = source / f"twostep_data_study{STUDY}_individual_csv"
    check_sha256(folder, TASK_FILES_SHA256, folder_sha256(folder, "*.csv", " "))
    check_sha256(source / f"self_report_study{STUDY}.csv", SELF_REPORT_SHA256)
    out = HERE / "trials.csv.gz"
    convert(folder, "gillan2016", out, keep="in_paper", expect=(N_PARTICIPANTS, N_TRIALS))


if __name__ == "__main__":
    main(source_arg(SOURCE))
