"""The Castro-Rodrigues et al. (2022) reader: derived CSV and raw logs onto the tidy schema."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.readers import castro_rodrigues2022 as cr
from cogarb.readers.tables import read_header
from cogarb.schema import TrialDataError

SHARED = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "castro-rodrigues2022_explicit_knowledge"
)
GROUP = "OCD_fixed-task_debrief_NY"
HEADER = (
    "group,subject,session,trial,reward_block,transition_block,choice1,second_step,"
    "outcome,rt1_ms,rt2_ms,common"
)


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


# one row per (choice1, second_step, transition_block, reward_block) case
ROWS = [
    f"{GROUP},7,1,1,0,1,up,left,1,1500.5,250.25,1",  # A: up -> left common
    f"{GROUP},7,1,2,0,1,up,right,0,800,300,0",  # A: up -> right rare
    f"{GROUP},7,1,3,1,1,down,right,1,1000,1000,1",  # A: down -> right common
    f"{GROUP},7,1,4,2,1,down,left,0,0.001,2,0",  # A: down -> left rare
    f"{GROUP},7,2,1,2,0,up,right,1,10,20,1",  # B: up -> right common
    f"{GROUP},7,2,2,2,0,up,left,0,10,20,0",  # B: up -> left rare
    f"{GROUP},7,2,3,0,0,down,left,1,10,20,1",  # B: down -> left common
    f"{GROUP},7,2,4,1,0,down,right,0,10,20,0",  # B: down -> right rare
]


def test_csv_mapping_value_by_value(tmp_path):
    path = write_csv(tmp_path / "trials.csv", ROWS)
    t = cogarb.read_trials(path, format="castro_rodrigues2022")
    assert t["participant"].astype(str).tolist() == ["7"] * 8
    assert t["trial"].tolist() == list(range(1, 9))
    assert t["session"].tolist() == [1] * 4 + [2] * 4
    assert t["session_trial"].tolist() == [1, 2, 3, 4] * 2
    assert t["choice1"].tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    assert t["state2"].tolist() == [0, 1, 1, 0, 1, 0, 0, 1]
    assert t["common"].tolist() == [True, False] * 4
    assert t["transitions_reversed"].tolist() == [False] * 4 + [True] * 4
    assert t["choice2"].isna().all()
    assert not t["stage2_choice"].any()
    assert t["reward"].tolist() == [1, 0, 1, 0, 1, 0, 1, 0]
    assert not t["missed"].any()
    # P(reward | state) by reward block, shared by both "actions" of a state
    blocks = [0, 0, 1, 2, 2, 2, 0, 1]
    left = {0: 0.8, 1: 0.5, 2: 0.2}
    right = {0: 0.2, 1: 0.5, 2: 0.8}
    assert t["reward_block"].tolist() == blocks
    for s, p in (("0", left), ("1", right)):
        for a in "01":
            assert t[f"p_reward_{s}{a}"].tolist() == [p[b] for b in blocks]
    np.testing.assert_allclose(t["rt1"].iloc[:4], [1.5005, 0.8, 1.0, 0.000001])
    np.testing.assert_allclose(t["rt2"].iloc[:4], [0.25025, 0.3, 1.0, 0.002])
    assert t["population"].iloc[0] == "OCD"
    assert t["task_version"].iloc[0] == "fixed"
    assert bool(t["debrief"].iloc[0]) is True
    assert t["site"].iloc[0] == "NY"
    assert t["group"].iloc[0] == GROUP


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("healthy-volunteers_changing_no-debrief_LS", ("healthy", "changing", False, "LS")),
        ("healthy-volunteers_changing-task_debrief_LS", ("healthy", "changing", True, "LS")),
        ("healthy-volunteers_slow-paced-task_debrief_LS", ("healthy", "slow_paced", True, "LS")),
        ("mood-and-anxiety_fixed-task_debrief_NY", ("mood_anxiety", "fixed", True, "NY")),
        ("OCD_fixed-task_debrief_LS", ("OCD", "fixed", True, "LS")),
    ],
)
def test_group_covariates(group, expected):
    parsed = cr.parse_group(group)
    assert (parsed["population"], parsed["task_version"], parsed["debrief"], parsed["site"]) == (
        expected
    )


def test_trials_continue_over_sessions_in_order_and_restarts_are_kept(tmp_path):
    rows = [
        f"{GROUP},9,2,1,0,1,up,left,1,1,1,1",
        f"{GROUP},9,2,2,0,1,up,left,1,1,1,1",
        f"{GROUP},9,1,1,0,1,down,right,0,1,1,1",
        f"{GROUP},9,1,2,0,1,down,right,0,1,1,1",
        f"{GROUP},9,1,1,0,1,up,right,0,1,1,0",  # the task restarted within session 1
        f"{GROUP},3,1,1,0,1,up,left,0,1,1,1",
    ]
    t = cogarb.read_trials(write_csv(tmp_path / "t.csv", rows), format="castro_rodrigues2022")
    nine = t[t["participant"] == "9"]
    assert nine["session"].tolist() == [1, 1, 1, 2, 2]
    assert nine["trial"].tolist() == [1, 2, 3, 4, 5]
    assert nine["session_trial"].tolist() == [1, 2, 1, 1, 2]
    assert nine["session_run"].tolist() == [1, 1, 2, 1, 1]
    assert nine["choice1"].tolist() == [1, 1, 0, 0, 0]
    assert nine["source_line"].tolist() == [4, 5, 6, 2, 3]  # CSV lines (header = 1)
    three = t[t["participant"] == "3"]
    assert three["trial"].tolist() == [1]


def test_missed_trials_are_kept(tmp_path):
    rows = [
        f"{GROUP},1,1,1,0,1,up,left,1,1,1,1",
        f"{GROUP},1,1,2,0,1,,,,,,",
        f"{GROUP},1,1,3,0,1,down,right,,5,,1",
    ]
    t = cogarb.read_trials(write_csv(tmp_path / "t.csv", rows), format="castro_rodrigues2022")
    assert len(t) == 3
    assert t["missed"].tolist() == [False, True, True]
    assert t["choice1"].isna().tolist() == [False, True, False]
    assert t["state2"].isna().tolist() == [False, True, False]
    assert t["common"].isna().tolist() == [False, True, False]
    assert np.isnan(t["reward"].iloc[1]) and np.isnan(t["reward"].iloc[2])
    assert np.isnan(t["rt1"].iloc[1]) and t["rt1"].iloc[2] == 0.005


def test_format_is_inferred_from_the_header(tmp_path):
    path = write_csv(tmp_path / "trials.csv", ROWS)
    assert cr.detect(path, read_header(path))
    assert not cr.detect(path, ["subjID", "level1_choice", "level2_choice"])
    t = cogarb.read_trials(path)  # format=None
    assert "session_trial" in t.columns and len(t) == len(ROWS)


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (f"{GROUP},7,1,2,0,1,left,left,1,1,1,1", "choice1", "left"),
        (f"{GROUP},7,1,2,0,1,up,up,1,1,1,1", "second_step", "up"),
        (f"{GROUP},7,1,2,3,1,up,left,1,1,1,1", "reward_block", "3"),
        (f"{GROUP},7,1,2,0,2,up,left,1,1,1,1", "transition_block", "2"),
        (f"{GROUP},7,1,2,0,1,up,left,2,1,1,1", "outcome", "2"),
        (f"{GROUP},7,1,2,0,1,up,left,1,-5,1,1", "rt1_ms", "-5"),
        (f"{GROUP},7,1,2,0,1,up,left,1,1,1,0", "common", "0"),
        (f"{GROUP},7,0,2,0,1,up,left,1,1,1,1", "session", "0"),
        ("OCD_sometask_debrief_NY,7,1,2,0,1,up,left,1,1,1,1", "group", "OCD_sometask_debrief_NY"),
    ],
)
def test_bad_codes_name_file_line_column_and_value(tmp_path, row, column, value):
    path = write_csv(tmp_path / "bad.csv", [ROWS[0], row])
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(path, format="castro_rodrigues2022")
    message = str(err.value)
    assert str(path) in message and "line 3" in message
    assert f"'{column}'" in message and repr(value) in message


def test_subject_in_two_groups_raises(tmp_path):
    other = "OCD_fixed-task_debrief_LS"
    path = write_csv(tmp_path / "t.csv", [ROWS[0], f"{other},7,2,1,0,1,up,left,1,1,1,1"])
    with pytest.raises(TrialDataError, match=r"line 3, column 'group'.*earlier rows"):
        cogarb.read_trials(path, format="castro_rodrigues2022")


def test_missing_column_is_named(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["7,1,1,0,1,up,left"], header="subject,session,trial,"
                     "reward_block,transition_block,choice1,second_step")  # fmt: skip
    with pytest.raises(TrialDataError, match="'group'"):
        cogarb.read_trials(path, format="castro_rodrigues2022")


# --- raw logs -------------------------------------------------------------------------


def log_text(trials, start="Start Reward Block: 0  / Start Transition Block: 1", leading=True):
    """A log: trials = (n, reward_block, transition_block, up/down, left/right, reward)."""
    lines = [""] if leading else []
    lines += [start, " / Transition reversals: 0 "]
    t = 1000.0
    for n, rb, tb, c1, s2, r in trials:
        lines.append(f"{t:.6f} :trial-{n}/RewardBlock:{rb}/TransitionBlock:{tb}")
        lines.append(f"{t + 10:.6f} :ons_ms1")
        if c1:
            lines += [f"{t + 510:.6f} :{c1}", f"{t + 510:.6f} :triggered {c1.capitalize()}"]
            lines.append(f"{t + 600:.6f} :ons_ms2")
            lines.append(f"{t + 700:.6f} :{'up' if s2 == 'left' else 'down'}")  # wrong key
            lines += [f"{t + 850:.6f} :{s2}", f"{t + 850:.6f} :triggered {s2.capitalize()}"]
            lines.append(f"{t + 900:.6f} :{'ons_msReward' if r else 'ons_msNoRwrd'}")
        t += 2000
    return "\n".join(lines) + "\n"


def write_logs(root: Path) -> Path:
    data = root / "data"
    group = data / "healthy-volunteers_changing_no-debrief_LS"
    group.mkdir(parents=True)
    (group / "5_session2_log").write_text(
        log_text([(1, 2, 0, "down", "left", 1), (2, 2, 0, "down", "right", 0)])
    )
    first = log_text([(1, 0, 1, "up", "left", 1)])
    # the task restarted: the new header is glued onto the last outcome event
    restart = log_text([(1, 1, 1, "up", "right", 0), (2, 1, 1, "", "", 0)], leading=False)
    (group / "5_session1_log").write_text(first.rstrip("\n") + restart)
    other = data / "OCD_fixed-task_debrief_LS"
    other.mkdir()
    (other / "12_session1_log").write_text(log_text([(1, 0, 0, "up", "right", 1)]))
    return data


def test_logs_mapping_value_by_value(tmp_path):
    data = write_logs(tmp_path)
    assert cr.detect(data, None)
    assert cr.detect(data / "OCD_fixed-task_debrief_LS", None)
    (tmp_path / "empty").mkdir()
    assert not cr.detect(tmp_path / "empty", None)
    t = cogarb.read_trials(data, format="castro_rodrigues2022")
    assert t["participant"].astype(str).tolist() == ["12", "5", "5", "5", "5", "5"]
    five = t[t["participant"] == "5"]
    assert five["trial"].tolist() == [1, 2, 3, 4, 5]
    assert five["session"].tolist() == [1, 1, 1, 2, 2]
    assert five["session_trial"].tolist() == [1, 1, 2, 1, 2]
    assert five["session_run"].tolist() == [1, 2, 2, 1, 1]
    assert five["choice1"].tolist() == [0, 0, pd.NA, 1, 1]
    assert five["state2"].tolist() == [0, 1, pd.NA, 0, 1]
    assert five["common"].tolist() == [True, False, pd.NA, True, False]
    assert five["transitions_reversed"].tolist() == [False, False, False, True, True]
    assert five["missed"].tolist() == [False, False, True, False, False]
    assert five["reward"].iloc[[0, 1, 3, 4]].tolist() == [1, 0, 1, 0]
    assert five["reward_block"].tolist() == [0, 1, 1, 2, 2]
    assert five["p_reward_00"].tolist() == [0.8, 0.5, 0.5, 0.2, 0.2]
    assert five["p_reward_11"].tolist() == [0.2, 0.5, 0.5, 0.8, 0.8]
    np.testing.assert_allclose(five["rt1"].iloc[[0, 1, 3, 4]], 0.5)
    np.testing.assert_allclose(five["rt2"].iloc[[0, 1, 3, 4]], 0.25)
    assert (five["task_version"] == "changing").all() and not five["debrief"].any()
    twelve = t[t["participant"] == "12"]
    assert twelve["common"].tolist() == [True] and twelve["population"].tolist() == ["OCD"]
    assert str(five["source_file"].iloc[0]).endswith("5_session1_log")
    assert five["source_line"].tolist() == [4, 14, 23, 4, 13]  # the trial-<n> lines


def test_single_log_file_is_inferred(tmp_path):
    data = write_logs(tmp_path)
    path = data / "OCD_fixed-task_debrief_LS" / "12_session1_log"
    assert cr.detect(path, read_header(path))
    t = cogarb.read_trials(path)  # format=None
    assert len(t) == 1 and t["site"].iloc[0] == "LS"
    # a folder name that is not a group leaves the covariates empty
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "12_session1_log").write_text(path.read_text())
    t = cogarb.read_trials(other / "12_session1_log", format="castro_rodrigues2022")
    assert t["population"].isna().all() and t["group"].iloc[0] == "elsewhere"


@pytest.mark.parametrize(
    ("replace", "by", "column", "value"),
    [
        ("ons_msReward", "ons_msJackpot", "event", "ons_msJackpot"),
        ("RewardBlock:0", "RewardBlock:7", "reward_block", "7"),
        ("TransitionBlock:0", "TransitionBlock:x", "transition_block", "x"),
        ("3010.000000 :ons_ms1", "3010.000000 ons_ms1", "event", "3010.000000 ons_ms1"),
    ],
)
def test_bad_log_lines_name_file_line_column_and_value(tmp_path, replace, by, column, value):
    path = tmp_path / "g" / "3_session1_log"
    path.parent.mkdir()
    text = log_text([(1, 0, 0, "up", "right", 1), (2, 0, 0, "up", "right", 1)])
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines, 1) if i > 12 and replace in line)
    lines[number - 1] = lines[number - 1].replace(replace, by)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(path, format="castro_rodrigues2022")
    message = str(err.value)
    assert f"{path}, line {number}" in message
    assert f"'{column}'" in message and repr(value) in message


def test_log_second_choice_in_a_trial_raises(tmp_path):
    path = tmp_path / "g" / "3_session1_log"
    path.parent.mkdir()
    text = log_text([(1, 0, 0, "up", "right", 1)]) + "4000.0 :triggered Down\n"
    path.write_text(text)
    with pytest.raises(TrialDataError, match="second first-step choice"):
        cr.read(path)


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data (the published data)")
def test_real_dataset_counts():
    t = cogarb.read_trials(SHARED / "castro_rodrigues2022_trials.csv.gz")
    assert len(t) == 256_860
    assert t["participant"].nunique() == 224
    assert t.groupby("participant", observed=True)["session"].nunique().eq(4).all()
    assert t.groupby(["participant", "session"], observed=True).ngroups == 896
    assert not t["missed"].any()  # self-paced: no missed trials
    assert t["choice2"].isna().all() and not t["stage2_choice"].any()
    assert (t["session_run"] == 2).sum() == 900  # three logs restarted (300 trials after)
    per_group = t.groupby("group")["participant"].nunique()
    assert per_group["OCD_fixed-task_debrief_NY"] == 30
    assert per_group["healthy-volunteers_slow-paced-task_debrief_LS"] == 20
    common = t.groupby("group")["common"].mean()
    assert common.between(0.79, 0.81).all()
    reward = t.groupby(["reward_block", "state2"])["reward"].mean()
    expected = {(0, 0): 0.8, (0, 1): 0.2, (1, 0): 0.5, (1, 1): 0.5, (2, 0): 0.2, (2, 1): 0.8}
    for key, p in expected.items():
        assert abs(reward[key] - p) < 0.01
    # fixed-task groups keep one transition structure per participant
    fixed = t[t["task_version"] == "fixed"]
    assert fixed.groupby("participant", observed=True)["transition_block"].nunique().eq(1).all()
    assert (t["rt1"] > 0).all() and t["rt1"].median() < 1  # seconds
