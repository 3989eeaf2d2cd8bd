"""The Feher da Silva & Hare (2020) reader (magic carpet and spaceship experiments)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.readers import feherdasilva2020

SHARED = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "feherdasilva2020_muddled_models"
    / "results"
)

MC_HEADER = (
    "trial,common,reward.1.1,reward.1.2,reward.2.1,reward.2.2,isymbol_lft,isymbol_rgt,"
    "rt1,choice1,final_state,fsymbol_lft,fsymbol_rgt,rt2,choice2,reward,slow\n"
)
MC_ROWS = [
    # common: carpet 2 (on the left) -> mountain 2, lamp 1 (on the right), coin
    "0,1,0.3,0.4,0.5,0.6,2,1,0.5,2,2,2,1,0.7,1,1,0",
    # rare: carpet 1 (on the left) -> mountain 2, lamp 2 (on the right), nothing
    "1,0,0.3,0.4,0.5,0.6,1,2,0.6,1,2,1,2,0.8,2,0,0",
    # stage-1 timeout (the raw common is the transition drawn for no choice)
    "2,1,0.3,0.4,0.5,0.6,1,2,-1,-1,-1,-1,-1,-1,-1,0,1",
    # stage-2 timeout after a common transition: raw reward 0 is no outcome
    "3,1,0.3,0.4,0.5,0.6,2,1,0.9,1,1,1,2,-1,-1,0,1",
    # common: carpet 1 (on the right) -> mountain 1, lamp 1 (on the left), nothing
    "4,1,0.3,0.4,0.5,0.6,2,1,1.2,1,1,1,2,0.4,1,0,0",
]
SS_HEADER = (
    "trial,rwrd_prob0,rwrd_prob1,rwrd_prob2,rwrd_prob3,symbol0,symbol1,common,"
    "choice1,rt1,final_state,choice2,rt2,reward,slow\n"
)
SS_ROWS = [
    # announced spaceship 1 -> planet 1; chose spaceship 1 (target 1); common -> planet 1
    "1,0.11,0.12,0.13,0.14,1,1,1,1,0.3,1,0,0.4,1,0",
    # announced spaceship 1 -> planet 0; chose spaceship 0 (target 1); rare -> planet 0
    "2,0.11,0.12,0.13,0.14,1,0,0,0,0.5,0,1,0.6,0,0",
    # announced spaceship 0 -> planet 0; chose spaceship 0 (target 0); common -> planet 0
    "3,0.11,0.12,0.13,0.14,0,0,1,0,0.2,0,1,0.3,1,0",
    # stage-1 timeout
    "4,0.11,0.12,0.13,0.14,0,1,0,-1,-1,-1,-1,-1,0,1",
    # announced spaceship 0 -> planet 1; chose spaceship 1 (target 0); rare -> planet 1;
    # stage-2 timeout
    "5,0.11,0.12,0.13,0.14,0,1,0,1,0.7,1,-1,-1,0,1",
]


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n".join(rows) + "\n")
    return path


def magic_carpet_folder(root: Path) -> Path:
    choices = root / "magic_carpet" / "choices"
    write(choices / "00007_game.csv", MC_HEADER, MC_ROWS)
    write(choices / "00003_game.csv", MC_HEADER, MC_ROWS[:2])
    # practice file with a code no main-task file may hold: it must not be read
    write(choices / "00007_tutorial.csv", MC_HEADER, [MC_ROWS[0].replace(",2,2,2,1,", ",9,9,9,1,")])
    (choices / "00007_config.txt").write_text("Common transitions: 1 -> blue -> (5, 6); ")
    return choices


def spaceship_folder(root: Path) -> Path:
    choices = root / "spaceship" / "choices"
    write(choices / "00009.csv", SS_HEADER, SS_ROWS)
    write(choices / "00009_practice.csv", SS_HEADER, ["1,0.1,0.1,0.1,0.1,5,5,1,1,0.3,1,0,0.4,1,0"])
    (choices / "00009_info.txt").write_text("{'simultaneous': True}")
    return choices


def values(series: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in series.tolist()]


def test_magic_carpet_mapping(tmp_path):
    path = write(tmp_path / "00007_game.csv", MC_HEADER, MC_ROWS)
    trials = cogarb.read_trials(path)  # format inferred from the header
    assert set(trials["participant"]) == {"00007"}
    assert set(trials["experiment"]) == {"magic_carpet"}
    assert trials["trial"].tolist() == [1, 2, 3, 4, 5]
    assert values(trials["choice1"]) == [1, 0, None, 0, 0]
    assert values(trials["state2"]) == [1, 1, None, 0, 0]
    assert values(trials["choice2"]) == [0, 1, None, None, 0]
    assert values(trials["reward"]) == [1.0, 0.0, None, None, 0.0]
    assert values(trials["common"]) == [True, False, None, True, True]
    assert trials["missed"].tolist() == [False, False, True, True, False]
    assert values(trials["rt1"]) == [0.5, 0.6, None, 0.9, 1.2]  # seconds, -1 -> NaN
    assert values(trials["rt2"]) == [0.7, 0.8, None, None, 0.4]
    assert values(trials["key1"]) == [0, 0, None, 1, 1]
    assert values(trials["key2"]) == [1, 1, None, None, 0]
    probabilities = {"p_reward_00": 0.3, "p_reward_01": 0.4, "p_reward_10": 0.5, "p_reward_11": 0.6}
    for column, p in probabilities.items():  # p_reward_<s><a> = reward.<s+1>.<a+1>
        assert (trials[column] == p).all(), column
    assert trials["source_file"].tolist() == ["00007_game.csv"] * 5
    assert trials["source_line"].tolist() == [2, 3, 4, 5, 6]


def test_spaceship_mapping_recodes_choice1_as_the_targeted_planet(tmp_path):
    path = write(tmp_path / "00009.csv", SS_HEADER, SS_ROWS)
    trials = cogarb.read_trials(path)
    assert set(trials["participant"]) == {"00009"}
    assert set(trials["experiment"]) == {"spaceship"}
    assert trials["trial"].tolist() == [1, 2, 3, 4, 5]
    assert values(trials["choice1"]) == [1, 1, 0, None, 0]
    assert values(trials["key1"]) == [1, 0, 0, None, 1]
    assert values(trials["state2"]) == [1, 0, 0, None, 1]
    assert values(trials["choice2"]) == [0, 1, 1, None, None]
    assert values(trials["key2"]) == [0, 1, 1, None, None]
    assert values(trials["reward"]) == [1.0, 0.0, 1.0, None, None]
    assert values(trials["common"]) == [True, False, True, None, False]
    assert trials["announced_spaceship"].tolist() == [1, 1, 0, 0, 0]
    assert trials["announced_planet"].tolist() == [1, 0, 0, 1, 1]
    assert trials["missed"].tolist() == [False, False, False, True, True]
    assert values(trials["rt1"]) == [0.3, 0.5, 0.2, None, 0.7]
    assert values(trials["rt2"]) == [0.4, 0.6, 0.3, None, None]
    # p_reward_<s><a> = rwrd_prob<2s+a>
    probabilities = {
        "p_reward_00": 0.11,
        "p_reward_01": 0.12,
        "p_reward_10": 0.13,
        "p_reward_11": 0.14,
    }
    for column, p in probabilities.items():
        assert (trials[column] == p).all(), column
    # the recoded task is the Daw form: state2 is choice1's destination on common trials
    done = trials[trials["state2"].notna()]
    assert ((done["state2"] == done["choice1"]) == done["common"]).all()


@pytest.mark.parametrize("experiment", ["magic_carpet", "spaceship"])
def test_folders_skip_practice_files(tmp_path, experiment):
    make = magic_carpet_folder if experiment == "magic_carpet" else spaceship_folder
    choices = make(tmp_path)
    assert feherdasilva2020.detect(choices, None)
    assert feherdasilva2020.detect(choices.parent, None)  # the experiment folder
    for path in (choices, choices.parent):
        trials = cogarb.read_trials(path, format="feherdasilva2020")
        assert set(trials["experiment"]) == {experiment}
        if experiment == "magic_carpet":
            assert list(trials["participant"].cat.categories) == ["00003", "00007"]
            assert trials.groupby("participant", observed=True).size().tolist() == [2, 5]
            assert trials["source_file"].iloc[0] == "00003_game.csv"
        else:
            assert list(trials["participant"].cat.categories) == ["00009"]
            assert len(trials) == 5
    practice = "00007_tutorial.csv" if experiment == "magic_carpet" else "00009_practice.csv"
    with pytest.raises(ValueError, match="practice file"):
        cogarb.read_trials(choices / practice)  # detected by its header, then refused


def test_folder_format_is_inferred(tmp_path):
    trials = cogarb.read_trials(spaceship_folder(tmp_path))
    assert len(trials) == 5


def test_detect(tmp_path):
    assert feherdasilva2020.detect(tmp_path / "a.csv", MC_HEADER.strip().split(","))
    assert feherdasilva2020.detect(tmp_path / "a.csv", SS_HEADER.strip().split(","))
    assert not feherdasilva2020.detect(tmp_path / "a.csv", ["subjID", "level1_choice"])
    assert not feherdasilva2020.detect(tmp_path / "a.csv", [])
    assert not feherdasilva2020.detect(tmp_path, None)  # empty folder
    (tmp_path / "x.csv").write_text("subjID,level1_choice\n1,1\n")
    assert not feherdasilva2020.detect(tmp_path, None)


def test_folder_errors(tmp_path):
    choices = magic_carpet_folder(tmp_path)
    write(choices / "00011.csv", SS_HEADER, SS_ROWS)
    with pytest.raises(ValueError, match="mixes the magic_carpet and spaceship"):
        feherdasilva2020.read(choices)
    (choices / "00011.csv").write_text("a,b\n1,2\n")
    with pytest.raises(cogarb.TrialDataError, match="00011.csv: is neither"):
        feherdasilva2020.read(choices)
    with pytest.raises(ValueError, match="no magic-carpet"):
        feherdasilva2020.read(tmp_path)  # holds the experiment folder, not its files


def replace_field(rows: list[str], row: int, field: int, value: str) -> list[str]:
    rows = list(rows)
    fields = rows[row].split(",")
    fields[field] = value
    rows[row] = ",".join(fields)
    return rows


MC_FIELD = {name: i for i, name in enumerate(MC_HEADER.strip().split(","))}
SS_FIELD = {name: i for i, name in enumerate(SS_HEADER.strip().split(","))}


@pytest.mark.parametrize(
    ("row", "column", "value", "problem"),
    [
        (1, "choice1", "3", "is not 1, 2 or -1"),
        (0, "final_state", "0", "is not 1, 2 or -1"),
        (4, "choice2", "x", "is not a finite number"),
        (1, "common", "1", "inconsistent with choice1 and final_state"),
        (0, "reward", "2", "is not one of 0, 1"),
        (4, "slow", "1", "disagrees with the choices"),
        (3, "rt1", "-0.5", "response time"),
        (3, "rt2", "0.5", "not -1 on a timed-out stage"),
        (2, "final_state", "1", "stage-1 timeout"),
        (1, "trial", "5", "trial numbering"),
        (0, "reward.2.1", "1.5", "probability"),
        (0, "isymbol_rgt", "2", "repeats isymbol_lft"),
    ],
)
def test_magic_carpet_errors_name_file_row_column_value(tmp_path, row, column, value, problem):
    rows = replace_field(MC_ROWS, row, MC_FIELD[column], value)
    path = write(tmp_path / "00007_game.csv", MC_HEADER, rows)
    with pytest.raises(cogarb.TrialDataError, match=problem) as info:
        cogarb.read_trials(path)
    message = str(info.value)
    assert f"00007_game.csv, row {row + 1}, column '{column}': value '{value}'" in message


@pytest.mark.parametrize(
    ("row", "column", "value", "problem", "named"),
    [
        (0, "choice1", "2", "is not 0, 1 or -1", None),
        (1, "symbol0", "2", "is not one of 0, 1", None),
        (2, "final_state", "1", "announcement", None),
        (0, "choice2", "-1", "disagrees with the choices", ("slow", "0")),  # a timeout
        (3, "choice2", "1", "stage 1 timed out", None),
        (0, "rwrd_prob3", "-0.1", "probability", None),
    ],
)
def test_spaceship_errors_name_file_row_column_value(tmp_path, row, column, value, problem, named):
    rows = replace_field(SS_ROWS, row, SS_FIELD[column], value)
    path = write(tmp_path / "00009.csv", SS_HEADER, rows)
    with pytest.raises(cogarb.TrialDataError, match=problem) as info:
        cogarb.read_trials(path)
    column, value = named or (column, value)
    assert f"00009.csv, row {row + 1}, column '{column}': value '{value}'" in str(info.value)


def test_missing_column(tmp_path):
    header = MC_HEADER.replace(",slow", "")
    rows = [r.rsplit(",", 1)[0] for r in MC_ROWS]
    path = write(tmp_path / "00007_game.csv", header, rows)
    with pytest.raises(cogarb.TrialDataError, match="column 'slow'.*missing"):
        cogarb.read_trials(path)


@pytest.mark.skipif(not SHARED.exists(), reason="the shared Feher da Silva & Hare data are absent")
def test_real_data_counts():
    counts = {
        # experiment: participants, rows, completed per participant,
        # stage-1 timeouts, stage-2 timeouts
        "magic_carpet": (24, 4934, 201, 56, 54),
        "spaceship": (21, 5273, 250, 14, 9),
    }
    for experiment, (n, rows, completed, miss1, miss2) in counts.items():
        trials = cogarb.read_trials(SHARED / experiment, format="feherdasilva2020")
        assert trials["participant"].nunique() == n
        assert len(trials) == rows
        per = trials.groupby("participant", observed=True)["missed"]
        assert ((per.size() - per.sum()) == completed).all()
        assert trials["choice1"].isna().sum() == miss1
        assert (trials["choice1"].notna() & trials["choice2"].isna()).sum() == miss2
        assert trials["reward"].isna().sum() == miss1 + miss2
        common = trials["common"].dropna().astype(float)
        assert 0.70 < common.mean() < 0.72
        assert np.isfinite(trials.loc[~trials["missed"], ["rt1", "rt2"]]).all().all()
