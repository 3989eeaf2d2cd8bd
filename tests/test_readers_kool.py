"""The Kool et al. (2016, 2017) reader: Daw and novel paradigm trial tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.readers import infer_format, kool
from cogarb.readers.tables import read_header
from cogarb.schema import TrialDataError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

DAW16_HEADER = (
    "subject,stim_1_left,stim_1_right,rt_1,choice1,stim_2_left,stim_2_right,rt_2,choice2,"
    "win,state2,common,score,practice,ps1a1,ps1a2,ps2a1,ps2a2,trial,time_elapsed"
)
DAW17_HEADER = (
    "subject,stim_1_left,stim_1_right,rt_1,choice1,response1,stim_2_left,stim_2_right,rt_2,"
    "choice2,response2,win,state2,stake,score,practice,ps1a1,ps1a2,ps2a1,ps2a2,trial,"
    "time_elapsed"
)
NOVEL16_HEADER = (
    "subject,state1,stim_left,stim_right,rt1,choice1,rt2,points,state2,score,practice,"
    "rews1,rews2,trial,time_elapsed"
)
NOVEL17_HEADER = (
    "subject,state1,stim_left,stim_right,rt1,choice1,response1,rt2,points,state2,stake,"
    "score,practice,rews1,rews2,trial,time_elapsed"
)


def daw16_row(subject, practice, trial, c1, s2, c2, win, rt1=500, rt2=700, common=None):
    if common is None:
        common = -1 if c1 == -1 else int(c1 == s2)
    probs = "0.3,0.6,0.7,0.4"
    return (
        f"{subject},1,2,{rt1},{c1},2,1,{rt2},{c2},{win},{s2},{common},0,{practice},"
        f"{probs},{trial},1000"
    )


def daw17_row(subject, practice, trial, c1, s2, c2, win, rt1=500, rt2=700, stake=1, resp2=70):
    resp1 = -1 if c1 == -1 else 74
    return (
        f"{subject},1,2,{rt1},{c1},{resp1},2,1,{rt2},{c2},{resp2},{win},{s2},{stake},0,"
        f"{practice},0.3,0.6,0.7,0.4,{trial},1000"
    )


def novel16_row(subject, practice, trial, state1, c1, s2, points, rt1=800, rt2=400):
    stims = "1,2" if state1 == 1 else "3,4"
    return (
        f"{subject},{state1},{stims},{rt1},{c1},{rt2},{points},{s2},0,{practice},-2,3,{trial},1000"
    )


def novel17_row(subject, practice, trial, state1, c1, s2, points, rt2=400, stake=5):
    stims = "1,2" if state1 == 1 else "3,4"
    resp1 = -1 if c1 == -1 else 70
    rt1 = -1 if c1 == -1 else 800
    return (
        f"{subject},{state1},{stims},{rt1},{c1},{resp1},{rt2},{points},{s2},{stake},0,"
        f"{practice},7,2,{trial},1000"
    )


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture
def daw16(tmp_path) -> Path:
    rows = [
        daw16_row("subject_1", 1, 0, 2, 2, 1, 1),  # practice: excluded
        daw16_row("subject_1", 1, 1, 1, 1, 2, 0),  # practice
        daw16_row("subject_1", 0, 0, 1, 1, 2, 1, rt1=1234),  # common, stim 2 in state 1
        daw16_row("subject_2", 1, 0, 1, 1, 1, 1),  # practice of an interleaved participant
        daw16_row("subject_1", 0, 1, 1, 2, 1, 0),  # rare
        daw16_row("subject_2", 0, 0, 2, 2, 2, 1),
        daw16_row("subject_1", 0, 2, -1, -1, -1, -1, rt1=-1, rt2=-1),  # missed stage 1
        daw16_row("subject_1", 0, 3, 2, 1, -1, -1, rt2=-1),  # rare, missed stage 2
        daw16_row("subject_2", 0, 1, 2, 1, 1, 0),
    ]
    return write(tmp_path / "kool2016_daw_trials.csv", DAW16_HEADER, rows)


def test_daw2016_mapping(daw16):
    assert infer_format(daw16, read_header(daw16)) == "kool"
    trials = cogarb.read_trials(daw16)  # format inferred
    assert list(trials["participant"].cat.categories) == ["subject_1", "subject_2"]
    one = trials[trials["participant"] == "subject_1"]
    assert one["trial"].tolist() == [1, 2, 3, 4]  # practice excluded, 1-based
    assert one["choice1"].tolist() == [0, 0, pd.NA, 1]
    assert one["state2"].tolist() == [0, 1, pd.NA, 0]
    assert one["choice2"].tolist() == [1, 0, pd.NA, pd.NA]
    np.testing.assert_array_equal(one["reward"], [1.0, 0.0, np.nan, np.nan])
    assert one["common"].tolist() == [True, False, pd.NA, False]
    assert one["missed"].tolist() == [False, False, True, True]
    np.testing.assert_allclose(one["rt1"], [1.234, 0.5, np.nan, 0.5])
    np.testing.assert_allclose(one["rt2"], [0.7, 0.7, np.nan, np.nan])
    assert one["source_line"].tolist() == [4, 6, 8, 9]
    assert trials["source_file"].iloc[0] == str(daw16)
    two = trials[trials["participant"] == "subject_2"]
    assert two["trial"].tolist() == [1, 2]
    assert two["choice1"].tolist() == [1, 1]
    assert two["common"].tolist() == [True, False]
    # p_reward_<s><a> = ps<s+1>a<a+1>
    row = trials.iloc[0]
    assert (row.p_reward_00, row.p_reward_01, row.p_reward_10, row.p_reward_11) == (
        0.3, 0.6, 0.7, 0.4,
    )  # fmt: skip
    assert "stakes" not in trials.columns
    assert "state1" not in trials.columns


def test_daw2017_missed_second_stage_and_stakes(tmp_path):
    rows = [
        daw17_row("Sub1", 1, 0, 1, 1, 1, 1),
        daw17_row("Sub1", 0, 0, 1, 1, 2, 1, stake=5),
        daw17_row("Sub1", 0, 1, 2, 1, 1, 0),  # rare: common derived from choice1 == state2
        # missed stage 2: choice2 and win are recorded anyway
        daw17_row("Sub1", 0, 2, 2, 2, 1, 1, rt2=-1, resp2=-1),
        daw17_row("Sub1", 0, 3, 2, 2, 2, 1, rt2=-1, resp2=70),  # rt_2 alone flags it
        daw17_row("Sub1", 0, 4, 2, 2, 2, 1, rt2=650, resp2=-1),  # response2 alone
        daw17_row("Sub1", 0, 5, -1, -1, 2, 0, rt1=-1, rt2=-1, resp2=-1),  # missed stage 1
    ]
    path = write(tmp_path / "kool2017_daw_stakes_trials.csv", DAW17_HEADER, rows)
    trials = cogarb.read_trials(path)
    assert trials["trial"].tolist() == [1, 2, 3, 4, 5, 6]
    assert trials["choice1"].tolist() == [0, 1, 1, 1, 1, pd.NA]
    assert trials["state2"].tolist() == [0, 0, 1, 1, 1, pd.NA]
    assert trials["choice2"].tolist() == [1, 0, pd.NA, pd.NA, pd.NA, pd.NA]
    np.testing.assert_array_equal(trials["reward"], [1, 0, np.nan, np.nan, np.nan, np.nan])
    assert trials["common"].tolist() == [True, False, True, True, True, pd.NA]
    assert trials["missed"].tolist() == [False, False, True, True, True, True]
    assert trials["stakes"].tolist() == [5, 1, 1, 1, 1, 1]


def test_novel2016_mapping(tmp_path):
    rows = [
        novel16_row("subject_1", 1, 0, 1, 1, 1, 3),
        novel16_row("subject_1", 0, 0, 1, 1, 1, -2),  # spaceship 1 -> planet 1
        novel16_row("subject_1", 0, 1, 1, 2, 2, 3),  # spaceship 2 -> planet 2
        novel16_row("subject_1", 0, 2, 2, 3, 1, -2),  # spaceship 3 -> planet 1
        novel16_row("subject_1", 0, 3, 2, 4, 2, 3, rt1=2000),  # spaceship 4 -> planet 2
        novel16_row("subject_1", 0, 4, 2, -1, -1, 0, rt1=-1, rt2=-1),  # missed stage 1
        novel16_row("subject_1", 0, 5, 1, 2, 2, 0, rt2=-1),  # no key press on the planet
    ]
    path = write(tmp_path / "kool2016_novel_trials.csv", NOVEL16_HEADER, rows)
    trials = cogarb.read_trials(path)
    assert trials["trial"].tolist() == [1, 2, 3, 4, 5, 6]
    assert trials["state1"].tolist() == [0, 0, 1, 1, 1, 0]
    assert trials["choice1"].tolist() == [0, 1, 0, 1, pd.NA, 1]
    assert trials["state2"].tolist() == [0, 1, 0, 1, pd.NA, 1]
    assert trials["choice2"].isna().all()
    assert not trials["stage2_choice"].any()
    np.testing.assert_array_equal(trials["reward"], [-2, 3, -2, 3, np.nan, np.nan])
    assert trials["common"].tolist() == [True, True, True, True, pd.NA, True]
    assert trials["missed"].tolist() == [False, False, False, False, True, True]
    np.testing.assert_allclose(trials["rt1"], [0.8, 0.8, 0.8, 2.0, np.nan, 0.8])
    np.testing.assert_allclose(trials["rt2"], [0.4, 0.4, 0.4, 0.4, np.nan, np.nan])
    assert trials["reward_state0"].tolist() == [-2] * 6
    assert trials["reward_state1"].tolist() == [3] * 6
    assert "stakes" not in trials.columns
    assert not any(c.startswith("p_reward") for c in trials.columns)


def test_novel2017_stakes_and_subjects_file(tmp_path):
    rows = [
        novel17_row("Sub1", 1, 0, 2, 4, 2, 2, stake=1),
        novel17_row("Sub1", 0, 0, 2, 4, 2, 2),
        novel17_row("Sub1", 0, 1, 1, 1, 1, 7, stake=1),
        novel17_row("Sub2", 0, 0, 1, -1, -1, 0, rt2=-1),
        novel17_row("Sub3", 0, 0, 2, 3, 1, 7),
    ]
    path = write(tmp_path / "kool2017_novel_stakes_trials.csv", NOVEL17_HEADER, rows)
    (tmp_path / "kool2017_novel_stakes_subjects.csv").write_text(
        "subject,age,sex\nSub1,25,f\nSub3,40,m\nSub9,30,f\n"
    )
    trials = cogarb.read_trials(path)
    assert trials["stakes"].tolist() == [5, 1, 5, 5]
    np.testing.assert_array_equal(trials["reward"], [2, 7, np.nan, 7])
    assert trials["age"].tolist() == [25, 25, pd.NA, 40]  # Sub2 has no subinfo: kept
    assert trials["sex"].tolist()[:2] == ["f", "f"]
    assert pd.isna(trials["sex"].iloc[2])
    assert trials["sex"].iloc[3] == "m"


def test_covariates_from_trial_file_without_subjects_file(tmp_path):
    header = DAW16_HEADER + ",age,sex"
    rows = [daw16_row("s1", 0, 0, 1, 1, 1, 1) + ",31,m", daw16_row("s2", 0, 0, 1, 1, 1, 1) + ",,"]
    trials = cogarb.read_trials(write(tmp_path / "daw.csv", header, rows))
    assert trials["age"].tolist() == [31, pd.NA]
    assert trials["sex"].iloc[0] == "m" and pd.isna(trials["sex"].iloc[1])


def test_detect():
    assert kool.detect(Path("x.csv"), DAW16_HEADER.split(","))
    assert kool.detect(Path("x.csv"), DAW17_HEADER.split(","))
    assert kool.detect(Path("x.csv"), NOVEL16_HEADER.split(","))
    assert kool.detect(Path("x.csv"), NOVEL17_HEADER.split(","))
    assert not kool.detect(Path("x"), None)
    assert not kool.detect(Path("x.csv"), ["participant", "trial", "choice1", "state2"])
    assert not kool.detect(Path("x.csv"), ["subjID", "level1_choice", "level2_choice"])


@pytest.mark.parametrize(
    ("header", "row", "column", "value"),
    [
        (DAW16_HEADER, daw16_row("s1", 0, 0, 3, 1, 1, 1), "choice1", "3"),
        (DAW16_HEADER, daw16_row("s1", 0, 0, 1, 0, 1, 1), "state2", "0"),
        (DAW16_HEADER, daw16_row("s1", 0, 0, 1, 1, 1, 2), "win", "2"),
        (DAW16_HEADER, daw16_row("s1", 0, 0, 1, 1, 1, 1, rt1=-5), "rt_1", "-5"),
        (DAW16_HEADER, daw16_row("s1", 2, 0, 1, 1, 1, 1), "practice", "2"),
        (DAW16_HEADER, daw16_row("s1", 0, "x", 1, 1, 1, 1), "trial", "x"),
        (DAW17_HEADER, daw17_row("s1", 0, 0, 1, 1, 1, 1, stake=3), "stake", "3"),
        (DAW17_HEADER, daw17_row("s1", 0, 0, 1, 1, 1, 1, resp2=71), "response2", "71"),
        (NOVEL16_HEADER, novel16_row("s1", 0, 0, 1, 5, 1, 1), "choice1", "5"),
        (NOVEL16_HEADER, novel16_row("s1", 0, 0, 1, 1, 1, 1.5), "points", "1.5"),
        (NOVEL17_HEADER, novel17_row("s1", 0, 0, 3, 1, 1, 1), "state1", "3"),
    ],
)
def test_bad_codes_name_file_row_column_value(tmp_path, header, row, column, value):
    good = daw16_row("s1", 1, 0, 1, 1, 1, 1) if header == DAW16_HEADER else None
    rows = [row] if good is None else [good, row]
    path = write(tmp_path / "bad.csv", header, rows)
    with pytest.raises(TrialDataError) as info:
        cogarb.read_trials(path)
    message = str(info.value)
    assert str(path) in message
    assert f"row {len(rows)}" in message
    assert f"column '{column}'" in message
    assert repr(value) in message
    assert info.value.column == column


def test_novel_spaceship_of_the_other_state(tmp_path):
    rows = [novel16_row("s1", 0, 0, 1, 1, 1, 2), novel16_row("s1", 0, 1, 1, 3, 1, 2)]
    path = write(tmp_path / "novel.csv", NOVEL16_HEADER, rows)
    with pytest.raises(TrialDataError, match=r"row 2, column 'choice1': value '3' is not a spac"):
        cogarb.read_trials(path)


def test_validation_errors_name_the_source_line(tmp_path):
    # raw common = 1 on a transition from stimulus 1 to state 2: inconsistent
    rows = [
        daw16_row("s1", 1, 0, 1, 1, 1, 1),
        daw16_row("s1", 0, 0, 1, 1, 1, 1),
        daw16_row("s1", 0, 1, 1, 2, 1, 1, common=1),
    ]
    path = write(tmp_path / "daw.csv", DAW16_HEADER, rows)
    with pytest.raises(TrialDataError, match=r"daw\.csv, line 4, column 'state2'"):
        cogarb.read_trials(path)
    # novel: a planet that is not the one the spaceship flies to
    rows = [novel16_row("s1", 0, 0, 2, 3, 2, 1)]
    path = write(tmp_path / "novel.csv", NOVEL16_HEADER, rows)
    with pytest.raises(TrialDataError, match=r"novel\.csv, line 2, column 'state2'"):
        cogarb.read_trials(path)
    # trial numbers out of order within a participant
    rows = [daw16_row("s1", 0, 1, 1, 1, 1, 1), daw16_row("s1", 0, 0, 1, 1, 1, 1)]
    path = write(tmp_path / "order.csv", DAW16_HEADER, rows)
    with pytest.raises(TrialDataError, match=r"order\.csv, line 3, column 'trial'"):
        cogarb.read_trials(path)


def test_missing_column(tmp_path):
    header = DAW16_HEADER.replace(",rt_2", "")
    row = daw16_row("s1", 0, 0, 1, 1, 1, 1).split(",")
    del row[7]
    path = write(tmp_path / "daw.csv", header, [",".join(row)])
    with pytest.raises(TrialDataError, match=r"column 'rt_2': is missing"):
        cogarb.read_trials(path, format="kool")


def test_not_a_kool_table(tmp_path):
    path = write(tmp_path / "x.csv", "a,b", ["1,2"])
    with pytest.raises(TrialDataError, match="not a Kool"):
        cogarb.read_trials(path, format="kool")


K16, K17 = "kool2016_tradeoffs", "kool2017_arbitration"
DATASETS = {
    # file: (participants, main trials each, missed stage 1, missed in all, without subinfo)
    f"{K16}/daw paradigm/kool2016_daw_trials.csv": (206, 125, 722, 1000, 0),
    f"{K16}/novel paradigm/kool2016_novel_trials.csv": (200, 125, 1024, 1707, 1),
    f"{K17}/daw_2step_stakes/kool2017_daw_stakes_trials.csv": (100, 200, 294, 823, 0),
    f"{K17}/novel_2step_stakes/kool2017_novel_stakes_trials.csv": (102, 200, 468, 1048, 1),
}


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data (the lab datasets)")
def test_real_datasets():
    for name, (n, per, missed1, missed, no_subinfo) in DATASETS.items():
        trials = cogarb.read_trials(SHARED / name)
        assert trials["participant"].nunique() == n, name
        assert (trials.groupby("participant", observed=True).size() == per).all(), name
        assert trials["choice1"].isna().sum() == missed1, name
        assert trials["missed"].sum() == missed, name
        ages = trials.groupby("participant", observed=True)["age"].first()
        assert ages.isna().sum() == no_subinfo, name
        made = trials["choice1"].notna()
        if "novel" in name:
            # deterministic: action a always leads to planet a
            assert (trials["state2"][made] == trials["choice1"][made]).all(), name
            paid = trials[trials["reward"].notna()]
            payoff = np.where(paid["state2"] == 0, paid["reward_state0"], paid["reward_state1"])
            np.testing.assert_array_equal(paid["reward"], payoff)
        else:
            rate = trials["common"][made].mean()
            assert 0.69 < rate < 0.71, (name, rate)
        if "2017" in name:
            high = (trials["stakes"] == 5).mean()
            assert 0.47 < high < 0.49, (name, high)
