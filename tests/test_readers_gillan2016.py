"""The Gillan et al. (2016) reader (format "gillan2016") on synthetic raw files."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb import TrialDataError
from cogarb.readers import gillan2016
from cogarb.readers.tables import read_header

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "gillan2016"
PREAMBLE = [
    "{pid},INSTRUCT,twostep_instruct_1,15204",
    "",
    "instructionLoop",
    "{pid},INSTRUCT,twostep_instruct_9,44895",
]
DRIFTS = "0.11,0.22,0.33,0.44"

# trial_num, drifts, stage_1_response, stage_1_selected_stimulus, stage_1_rt, transition,
# stage_2_response, stage_2_selected_stimulus, stage_2_state, stage_2_rt, reward, redundant
TRIALS = [
    f"1,{DRIFTS},left,1,500,true,right,2,2,700,1,1",  # action 0 -> state 0 (common)
    f"2,{DRIFTS},right,2,1234,true,left,1,3,300,0,1",  # action 1 -> state 1 (common)
    f"3,{DRIFTS},left,1,400,false,left,1,3,650,1,1",  # action 0 -> state 1 (rare)
    f"4,{DRIFTS},-1,2,2500,-1,-1,-1,-1,-1,-1,1",  # stage 1 missed
    f"5,{DRIFTS},right,2,450,false,-1,2,2,2501,-1,1",  # stage 2 missed
    "6,0.9,0.8,0.7,0.6,right,2,380,false,right,2,2,420,0,1",
]


def write_task(folder: Path, pid: str, trials=TRIALS, age="34", gender="Female", preamble=None):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"AgeDropdown,{age}", f"GenderDropdown,{gender}"]
    lines += [line.format(pid=pid) for line in (PREAMBLE if preamble is None else preamble)]
    path = folder / f"{pid}.csv"
    path.write_text("\n".join([*lines, *trials]) + "\n")
    return path


def first_line_of_trials(preamble=PREAMBLE) -> int:
    return 2 + len(preamble) + 1


def test_mapping_value_by_value(tmp_path):
    path = write_task(tmp_path / "raw", "A1B2")
    raw = gillan2016.read(path)
    t = cogarb.validate_trials(raw)
    assert list(t["participant"].astype(str).unique()) == ["A1B2"]
    assert t["trial"].tolist() == [1, 2, 3, 4, 5, 6]
    assert t["choice1"].tolist() == [0, 1, 0, pd.NA, 1, 1]
    assert t["state2"].tolist() == [0, 1, 1, pd.NA, 0, 0]
    assert t["choice2"].tolist() == [1, 0, 0, pd.NA, pd.NA, 1]
    np.testing.assert_array_equal(t["reward"], [1, 0, 1, np.nan, np.nan, 0])
    assert t["common"].tolist() == [True, True, False, pd.NA, False, False]
    assert t["missed"].tolist() == [False, False, False, True, True, False]
    # RTs in seconds, NaN on the missed stage (raw values are the timeout there)
    np.testing.assert_allclose(t["rt1"], [0.5, 1.234, 0.4, np.nan, 0.45, 0.38])
    np.testing.assert_allclose(t["rt2"], [0.7, 0.3, 0.65, np.nan, np.nan, 0.42])
    # drift_1..4 -> p_reward_00, _01, _10, _11
    expected = {"p_reward_00": (0.11, 0.9), "p_reward_01": (0.22, 0.8),
                "p_reward_10": (0.33, 0.7), "p_reward_11": (0.44, 0.6)}  # fmt: skip
    for column, (first, last) in expected.items():
        assert t[column].iloc[0] == first and t[column].iloc[-1] == last
    start = first_line_of_trials()
    assert t["source_line"].tolist() == list(range(start, start + 6))
    assert set(t["source_file"].astype(str)) == {str(path)}
    assert t["age"].tolist() == [34.0] * 6 and set(t["gender"]) == {"female"}
    assert "in_paper" not in t.columns  # no questionnaire file beside the folder
    assert "redundant" not in t.columns


def test_common_matches_the_transition_structure(tmp_path):
    t = cogarb.read_trials(write_task(tmp_path / "raw", "p"), format="gillan2016")
    made = t["state2"].notna()
    expected = t.loc[made, "choice1"] == t.loc[made, "state2"]
    assert (t.loc[made, "common"] == expected).all()


def test_preamble_variants_are_skipped(tmp_path):
    # Study 2 style: no instruction rows; plus a line fused with a trial (17 fields)
    preamble = ["", "instructionLoop", "", "Equity,Equity,31,0.1,0.2,0.3,0.4,-1,2,2515,-1,-1,-1,"
                "-1,-1,-1,1"]  # fmt: skip
    path = write_task(tmp_path / "raw", "p", trials=TRIALS[1:], preamble=preamble)
    t = cogarb.read_trials(path, format="gillan2016")
    assert t["trial"].tolist() == [2, 3, 4, 5, 6]
    assert t["source_line"].iloc[0] == 2 + len(preamble) + 1


def test_format_inference_on_a_file(tmp_path):
    path = write_task(tmp_path / "raw", "p")
    assert gillan2016.detect(path, read_header(path))
    t = cogarb.read_trials(path)  # format=None
    assert len(t) == 6 and t["missed"].sum() == 2


def test_detect_is_false_for_other_files(tmp_path):
    tidy = tmp_path / "tidy.csv"
    tidy.write_text("participant,trial,choice1,state2,choice2,reward,common\np,1,0,0,1,1,true\n")
    assert not gillan2016.detect(tidy, read_header(tidy))
    assert not gillan2016.detect(tmp_path, None)  # a folder with no task file
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not gillan2016.detect(empty, None)


def test_detect_a_folder(tmp_path):
    folder = tmp_path / "raw"
    write_task(folder, "p")
    assert gillan2016.detect(folder, None)


def test_format_inference_on_a_folder(tmp_path):
    folder = tmp_path / "raw"
    write_task(folder, "p1")
    write_task(folder, "p2")
    t = cogarb.read_trials(folder)  # format=None
    assert t["participant"].astype(str).unique().tolist() == ["p1", "p2"]


def write_study(tmp_path: Path, study: int = 2) -> Path:
    folder = tmp_path / f"twostep_data_study{study}_individual_csv"
    write_task(folder, "kept", age="41", gender="Male")
    write_task(folder, "excluded", age="25", gender="Female")
    (tmp_path / f"self_report_study{study}.csv").write_text(
        '"","subj","age","iq","gender","sds_total","oci_total","Factor1","Factor2","Factor3"\n'
        '"1","kept",41,99.5,1,47,12,0.25,-1.5,0.75\n'
    )
    return folder


def test_folder_with_questionnaires(tmp_path):
    folder = write_study(tmp_path)
    t = cogarb.read_trials(folder, format="gillan2016")
    assert t["participant"].astype(str).unique().tolist() == ["excluded", "kept"]  # name order
    kept, excluded = t[t["participant"] == "kept"], t[t["participant"] == "excluded"]
    assert kept["in_paper"].all() and not excluded["in_paper"].any()
    row = kept.iloc[0]
    assert (row["age"], row["gender"], row["iq"]) == (41.0, "male", 99.5)
    assert (row["sds_total"], row["oci_total"]) == (47, 12)
    assert (row["anxious_depression"], row["compulsivity"], row["social_withdrawal"]) == (
        0.25, -1.5, 0.75,
    )  # fmt: skip
    assert not {"Factor1", "Factor2", "Factor3", "subj", "Unnamed: 0"} & set(t.columns)
    assert str(t["sds_total"].dtype) == "Int64"
    assert excluded["sds_total"].isna().all() and excluded["compulsivity"].isna().all()
    assert excluded["age"].iloc[0] == 25.0  # from the task file, for everyone
    assert len(t) == 12 and t["missed"].sum() == 4  # excluded participants are kept


def test_single_file_gets_the_questionnaires(tmp_path):
    folder = write_study(tmp_path, study=1)
    t = cogarb.read_trials(folder / "kept.csv", format="gillan2016")
    assert t["in_paper"].all() and (t["compulsivity"] == -1.5).all()


def test_study1_id_column(tmp_path):
    folder = tmp_path / "twostep_data_study1_individual_csv"
    write_task(folder, "10555972")
    (tmp_path / "self_report_study1.csv").write_text(
        '"","subj.x","age","iq","gender","sds_total","stai_total","oci_total"\n'
        '"1","10555972",34,86.5,-1,47,55,14\n'
    )
    t = gillan2016.read(folder)
    assert t["in_paper"].all() and (t["stai_total"] == 55).all()
    assert t["participant"].astype(str).iloc[0] == "10555972"


def test_questionnaire_disagreeing_with_the_task_file(tmp_path):
    folder = write_study(tmp_path)
    report = tmp_path / "self_report_study2.csv"
    report.write_text(report.read_text().replace('"1","kept",41,', '"1","kept",42,'))
    with pytest.raises(TrialDataError, match=r"self_report_study2\.csv.*row 1.*'age'.*42"):
        gillan2016.read(folder)


def test_questionnaire_without_an_id_column(tmp_path):
    folder = write_study(tmp_path)
    (tmp_path / "self_report_study2.csv").write_text("id,age\nkept,41\n")
    with pytest.raises(TrialDataError, match=r"self_report_study2\.csv.*no participant column"):
        gillan2016.read(folder)


def replace_trial(index: int, line: str) -> list[str]:
    return [*TRIALS[:index], line, *TRIALS[index + 1 :]]


@pytest.mark.parametrize(
    "index, line, column, value",
    [
        (1, f"2,{DRIFTS},up,2,1234,true,left,1,3,300,0,1", "stage_1_response", "up"),
        (1, f"2,{DRIFTS},right,3,1234,true,left,1,3,300,0,1", "stage_1_selected_stimulus", "3"),
        (1, f"2,{DRIFTS},right,1,1234,true,left,1,3,300,0,1", "stage_1_selected_stimulus", "1"),
        (1, f"2,{DRIFTS},right,2,1234,true,left,1,4,300,0,1", "stage_2_state", "4"),
        (1, f"2,{DRIFTS},right,2,1234,maybe,left,1,3,300,0,1", "transition", "maybe"),
        (1, f"2,{DRIFTS},right,2,1234,false,left,1,3,300,0,1", "transition", "false"),
        (1, f"2,{DRIFTS},right,2,1234,true,left,2,3,300,0,1", "stage_2_selected_stimulus", "2"),
        (1, f"2,{DRIFTS},right,2,1234,true,left,1,3,300,2,1", "reward", "2"),
        (1, f"2,{DRIFTS},right,2,1234,true,left,1,3,300,-1,1", "reward", "-1"),
        (3, f"4,{DRIFTS},-1,2,2500,-1,-1,-1,3,-1,-1,1", "stage_2_state", "3"),
        (4, f"5,{DRIFTS},right,2,450,false,-1,2,2,2501,0,1", "reward", "0"),
        (1, f"2,{DRIFTS},right,2,fast,true,left,1,3,300,0,1", "stage_1_rt", "fast"),
        (1, "2,1.5,0.2,0.3,0.4,right,2,1234,true,left,1,3,300,0,1", "drift_1", "1.5"),
        (1, f"0,{DRIFTS},right,2,1234,true,left,1,3,300,0,1", "trial_num", "0"),
    ],
)
def test_bad_raw_values_name_file_line_column_and_value(tmp_path, index, line, column, value):
    path = write_task(tmp_path / "raw", "p", trials=replace_trial(index, line))
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(path, format="gillan2016")
    message = str(err.value)
    assert str(path) in message
    assert f"line {first_line_of_trials() + index}" in message
    assert f"column '{column}'" in message and repr(value) in message


def test_out_of_order_trials_name_the_raw_line(tmp_path):
    trials = replace_trial(2, TRIALS[2].replace("3,", "1,", 1))
    path = write_task(tmp_path / "raw", "p", trials=trials)
    with pytest.raises(TrialDataError, match=rf"p\.csv, line {first_line_of_trials() + 2}"):
        cogarb.read_trials(path, format="gillan2016")


def test_short_line_after_the_trials_started(tmp_path):
    path = write_task(tmp_path / "raw", "p", trials=[*TRIALS[:2], "3,0.1,left", *TRIALS[3:]])
    with pytest.raises(
        TrialDataError, match=rf"p\.csv, line {first_line_of_trials() + 2}.*3 fields"
    ):
        gillan2016.read(path)


def test_files_that_are_not_task_files(tmp_path):
    folder = tmp_path / "raw"
    write_task(folder, "a")
    (folder / "b.csv").write_text("participant,trial\n")
    with pytest.raises(TrialDataError, match=r"b\.csv, line 1.*not a Gillan"):
        gillan2016.read(folder)
    no_trials = tmp_path / "no_trials.csv"
    no_trials.write_text("AgeDropdown,30\nGenderDropdown,Male\n\ninstructionLoop\n")
    with pytest.raises(TrialDataError, match=r"no_trials\.csv.*no task trials"):
        gillan2016.read(no_trials)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TrialDataError, match="no .csv task files"):
        gillan2016.read(empty)


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/gillan2016")
@pytest.mark.parametrize(
    "study, n_files, n_trials, n_retained, missed1, missed2",
    [(1, 649, 129_800, 548, 1402, 421), (2, 1712, 342_399, 1413, 5549, 1458)],
)
def test_real_data_counts(study, n_files, n_trials, n_retained, missed1, missed2):
    t = cogarb.read_trials(
        SHARED / f"twostep_data_study{study}_individual_csv", format="gillan2016"
    )
    assert t["participant"].nunique() == n_files and len(t) == n_trials
    per = t.groupby("participant", observed=True)
    assert per["in_paper"].first().sum() == n_retained
    assert per["compulsivity" if study == 2 else "oci_total"].first().notna().sum() == n_retained
    assert t["choice1"].isna().sum() == missed1
    assert (t["choice1"].notna() & t["choice2"].isna()).sum() == missed2
    assert t["missed"].sum() == missed1 + missed2
    assert 0.69 < t["common"].mean() < 0.71
    # the reward walk is one fixed sequence, the same for every participant
    assert (per["p_reward_00"].nunique() <= 200).all()
    assert t.groupby("trial")[["p_reward_00", "p_reward_11"]].nunique().max().max() == 1
    if study == 2:  # the file with trial 1 fused onto a preamble line
        odd = t[t["participant"] == "3570Y55XZPJQZPOYLZCOL50WZE6GYI"]
        assert len(odd) == 199 and odd["trial"].iloc[0] == 2 and odd["in_paper"].all()
