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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _convert import SHARED_DATA, check_sha256, convert, folder_sha256, source_arg

HERE = Path(__file__).resolve().parent
SOURCE = SHARED_DATA / "gillan2016"
STUDY = 2
# sha256 of the listing "<file name> <sha256 of the file>\n" of the task files, in name order
TASK_FILES_SHA256 = "70e25e67b49511a2059032c9ee98a8bef7967e9e997ce9e00096165027219ada"
SELF_REPORT_SHA256 = "8dbedb39070f647dd7aa918a76cd72bc9686703d03f7139a958161fef8f61c26"
N_PARTICIPANTS, N_TRIALS = 1413, 282_599


def main(source: Path = SOURCE) -> None:
    folder = source / f"twostep_data_study{STUDY}_individual_csv"
    check_sha256(folder, TASK_FILES_SHA256, folder_sha256(folder, "*.csv", " "))
    check_sha256(source / f"self_report_study{STUDY}.csv", SELF_REPORT_SHA256)
    out = HERE / "trials.parquet"
    convert(folder, "gillan2016", out, keep="in_paper", expect=(N_PARTICIPANTS, N_TRIALS))


if __name__ == "__main__":
    main(source_arg(SOURCE))
