"""Task TOML files: every bad file, key or value is one TaskSpecError naming file, key, value."""

import os
import pathlib

import pytest

import cogarb
from cogarb.tasks import MAX_POINTS, MAX_TRIALS

ONE_CHOICE = "stage2_choice = false\n"


def write(tmp_path, body: str | bytes, name: str = "task.toml") -> pathlib.Path:
    path = tmp_path / name
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body)
    return path


@pytest.mark.parametrize(
    ("body", "key", "value"),
    [
        # absurd sizes and wrong types of n_trials
        ("n_trials = 1099511627776\n", "n_trials", "1099511627776"),  # 2**40
        (f"n_trials = {MAX_TRIALS + 1}\n", "n_trials", str(MAX_TRIALS + 1)),
        ("n_trials = -5\n", "n_trials", "-5"),
        ("n_trials = 0\n", "n_trials", "0"),
        ("n_trials = 200.0\n", "n_trials", "200.0"),
        ("n_trials = true\n", "n_trials", "True"),
        ("n_trials = '201'\n", "n_trials", "'201'"),
        ("n_trials = nan\n", "n_trials", "nan"),
        ("n_trials = [201]\n", "n_trials", "[201]"),
        ("n_trials = 1979-05-27\n", "n_trials", "datetime.date(1979, 5, 27)"),
        # top-level scalars
        ("p_common = 1.5\n", "p_common", "1.5"),
        ("p_common = -0.1\n", "p_common", "-0.1"),
        ("p_common = nan\n", "p_common", "nan"),
        ("p_common = inf\n", "p_common", "inf"),
        ("p_common = '0.7'\n", "p_common", "'0.7'"),
        ("p_common = true\n", "p_common", "True"),
        ("[p_common]\nx = 1\n", "p_common", "{'x': 1}"),
        ("name = 3\n", "name", "3"),
        ("description = ['a']\n", "description", "['a']"),
        ("stage2_choice = 'no'\n", "stage2_choice", "'no'"),
        ("stage2_choice = 0\n", "stage2_choice", "0"),
        ("first_stage_states = 3\n", "first_stage_states", "3"),
        ("first_stage_states = 1.0\n", "first_stage_states", "1.0"),
        # [rewards]
        ("rewards = 3\n", "rewards", "3"),
        ("rewards = [0.1]\n", "rewards", "[0.1]"),
        ("[rewards]\ndrift_sd = nan\n", "rewards.drift_sd", "nan"),
        ("[rewards]\ndrift_sd = -inf\n", "rewards.drift_sd", "-inf"),
        ("[rewards]\ndrift_sd = '0.1'\n", "rewards.drift_sd", "'0.1'"),
        ("[rewards]\nupper = inf\n", "rewards.upper", "inf"),
        ("[rewards]\nlower = -0.5\n", "rewards.lower", "lower=-0.5"),
        ("[rewards]\nupper = 1.5\n", "rewards.lower", "upper=1.5"),
        ("[rewards]\nschedule = 3\n", "rewards.schedule", "3"),
        ("[rewards]\nschedule = ['shared']\n", "rewards.schedule", "['shared']"),
        ("[rewards]\ninitial = 'abcd'\n", "rewards.initial", "'abcd'"),
        ("[rewards]\ninitial = 0.5\n", "rewards.initial", "0.5"),
        ("[rewards]\ninitial = []\n", "rewards.initial", "()"),
        ("[rewards]\ninitial = [0.5, 0.5, 0.5, 0.5, 0.5]\n", "rewards.initial", "0.5, 0.5)"),
        ("[rewards]\ninitial = [[0.5], 0.5, 0.5, 0.5]\n", "rewards.initial", "([0.5],"),
        ("[rewards]\ninitial = [nan, 0.5, 0.5, 0.5]\n", "rewards.initial", "(nan,"),
        ("[rewards]\ninitial = [1.5, 0.5, 0.5, 0.5]\n", "rewards.initial", "(1.5,"),
        ("[rewards]\nseed = -1\n", "rewards.seed", "-1"),
        ("[rewards]\nseed = 1.5\n", "rewards.seed", "1.5"),
        ("[rewards]\nseed = true\n", "rewards.seed", "True"),
        ("[rewards]\nseed = '7'\n", "rewards.seed", "'7'"),
        # [load]
        ("load = 3\n", "load", "3"),
        ("[load]\nmode = 3\n", "load.mode", "3"),
        ("[load]\nmode = ['blocks']\n", "load.mode", "['blocks']"),
        ("[load]\nblock_length = 1099511627776\n", "load.block_length", "1099511627776"),
        ("[load]\nblock_length = 0\n", "load.block_length", "0"),
        ("[load]\nblock_length = 2.5\n", "load.block_length", "2.5"),
        ("[load]\nfirst = 1.0\n", "load.first", "1.0"),
        ("[load]\nfirst = true\n", "load.first", "True"),
        ("[load]\np_load = nan\n", "load.p_load", "nan"),
        ("[load]\np_load = 1.01\n", "load.p_load", "1.01"),
        # [[events]]
        ("events = 3\n", "events", "3"),
        ("events = [1, 2]\n", "events[0]", "1"),
        ("[[events]]\ntrial = '5'\nkind = 'new_states'\n", "events[0].trial", "'5'"),
        ("[[events]]\ntrial = 5.0\nkind = 'new_states'\n", "events[0].trial", "5.0"),
        ("[[events]]\ntrial = 1\nkind = 'new_states'\n", "events[0].trial", "1"),
        ("[[events]]\ntrial = 5\nkind = 3\n", "events[0].kind", "3"),
        ("[[events]]\ntrial = 5\nkind = ['new_states']\n", "events[0].kind", "['new_states']"),
        ("[[events]]\ntrial = 5\nkind = 'reward_reset'\nvalues = 'a'\n", "events[0].values", "'a'"),
        ("[[events]]\ntrial = 5\nkind = 'reward_reset'\nvalues = []\n", "events[0].values", "()"),
        (
            "[[events]]\ntrial = 5\nkind = 'reward_reset'\nvalues = [0.5]\n",
            "events[0].values",
            "(0.5,)",
        ),
        (
            "[[events]]\ntrial = 5\nkind = 'reward_reset'\nvalues = [inf, 0.5, 0.5, 0.5]\n",
            "events[0].values",
            "(inf,",
        ),
        # [points]
        (ONE_CHOICE + "points = 3\n", "points", "3"),
        (ONE_CHOICE + "[points]\nlower = 0.5\n", "points.lower", "0.5"),
        (ONE_CHOICE + "[points]\nupper = '9'\n", "points.upper", "'9'"),
        (ONE_CHOICE + f"[points]\nupper = {MAX_POINTS + 1}\n", "points.upper", str(MAX_POINTS + 1)),
        (ONE_CHOICE + "[points]\nlower = -1099511627776\n", "points.lower", "-1099511627776"),
        (ONE_CHOICE + "[points]\nlower = 9\nupper = 0\n", "points.lower", "lower=9"),
        (ONE_CHOICE + "[points]\nstep_sd = nan\n", "points.step_sd", "nan"),
        (ONE_CHOICE + "[points]\nstep_sd = -1\n", "points.step_sd", "-1"),
        (ONE_CHOICE + "[points]\nschedule = 3\n", "points.schedule", "3"),
        (ONE_CHOICE + "[points]\ninitial = [1]\n", "points.initial", "(1,)"),
        (ONE_CHOICE + "[points]\ninitial = 'ab'\n", "points.initial", "'ab'"),
        (ONE_CHOICE + "[points]\ninitial = [1.5, 2]\n", "points.initial", "(1.5, 2)"),
        # [blocks]
        (ONE_CHOICE + "blocks = 'x'\n", "blocks", "'x'"),
        (ONE_CHOICE + "[blocks]\nlength = 2.5\n", "blocks.length", "2.5"),
        (ONE_CHOICE + "[blocks]\nlength = 1099511627776\n", "blocks.length", "1099511627776"),
        (ONE_CHOICE + "[blocks]\nreward_probs = 'a'\n", "blocks.reward_probs", "'a'"),
        (ONE_CHOICE + "[blocks]\nreward_probs = [0.5, 0.5]\n", "blocks.reward_probs", "[0.5, 0.5]"),
        (
            ONE_CHOICE + "[blocks]\nreward_probs = [[0.5], [0.2, 0.3]]\n",
            "blocks.reward_probs",
            "((0.5,), (0.2, 0.3))",
        ),
        (
            ONE_CHOICE + "[blocks]\nreward_probs = [[nan, 0.5], [0.2, 0.3]]\n",
            "blocks.reward_probs",
            "(nan, 0.5)",
        ),
        (
            ONE_CHOICE + "[blocks]\nreward_probs = [[1.5, 0.5], [0.2, 0.3]]\n",
            "blocks.reward_probs",
            "(1.5, 0.5)",
        ),
        (
            ONE_CHOICE + "[blocks]\np_transition_reversal = nan\n",
            "blocks.p_transition_reversal",
            "nan",
        ),
        (ONE_CHOICE + "[blocks]\np_transition_reversal = 2\n", "blocks.p_transition_reversal", "2"),
        (ONE_CHOICE + "[blocks]\nschedule = [3]\n", "blocks.schedule", "[3]"),
    ],
)
def test_bad_values_name_file_key_and_value(tmp_path, body, key, value):
    path = write(tmp_path, body)
    with pytest.raises(cogarb.TaskSpecError) as err:
        cogarb.load_task(path)
    message = str(err.value)
    assert message.startswith(f"{path}: key '{key}': ")
    assert value in message.split(": ", 2)[2]


def test_long_values_are_shortened(tmp_path):
    path = write(tmp_path, f"n_trials = {list(range(1000))}\n")
    with pytest.raises(cogarb.TaskSpecError, match=r"got \[0, 1, 2, .*\.\.\.$") as err:
        cogarb.load_task(path)
    assert len(str(err.value)) < len(str(path)) + 200


def test_the_largest_allowed_task_loads(tmp_path):
    task = cogarb.load_task(write(tmp_path, f"n_trials = {MAX_TRIALS}\n"))
    assert task.n_trials == MAX_TRIALS


def test_n_trials_bound_also_guards_tasks_built_in_python(daw2011):
    import dataclasses

    with pytest.raises(cogarb.TaskSpecError, match=r"'n_trials'.*got 1099511627776"):
        dataclasses.replace(daw2011, n_trials=2**40)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "the task file is empty (no keys)"),
        ("# only a comment\n\n", "the task file is empty (no keys)"),
        (b'name = "\xff\xfe"\n', "not UTF-8 text (byte 0xff at offset 8)"),
        (b"\xef\xbb\xbfname = 1 = 2", "not valid TOML"),
        ("n_trials = = 3", "not valid TOML"),
    ],
)
def test_unreadable_contents_name_the_file(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(cogarb.TaskSpecError) as err:
        cogarb.load_task(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_a_directory_is_not_a_task_file(tmp_path):
    folder = tmp_path / "design.toml"
    folder.mkdir()
    for given in (folder, str(folder), str(tmp_path)):
        with pytest.raises(cogarb.TaskSpecError, match="is a directory, not a task file") as err:
            cogarb.load_task(given)
        assert str(err.value).startswith(str(given))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no task file '{tmp_path / 'nope.toml'}'"):
        cogarb.load_task(tmp_path / "nope.toml")


def test_a_file_without_permission_is_named(tmp_path, monkeypatch):
    path = write(tmp_path, "n_trials = 201\n")
    real_open = pathlib.Path.open

    def denied(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", denied)
    with pytest.raises(cogarb.TaskSpecError, match="cannot read the task file: permission denied"):
        cogarb.load_task(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_named(tmp_path):
    path = write(tmp_path, "n_trials = 201\n")
    path.chmod(0)
    with pytest.raises(cogarb.TaskSpecError, match=f"{path}: cannot read the task file"):
        cogarb.load_task(path)


def test_every_builtin_task_still_loads():
    for name in cogarb.builtin_tasks():
        assert cogarb.load_task(name).name == name


def test_cli_prints_one_line_for_a_bad_task_file(tmp_path, capsys):
    from cogarb.cli import main

    path = write(tmp_path, "n_trials = 1099511627776\n")
    assert (
        main(["simulate", str(path), "--participants", "2", "--out", str(tmp_path / "s.csv")]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"cogarb: error: {path}: key 'n_trials'")
    assert not (tmp_path / "s.csv").exists()


def test_a_drift_wider_than_the_probability_band_is_refused(tmp_path):
    """drift_sd = 1e300 passed the old check (finite, >= 0) and reflected for ever."""
    path = tmp_path / "wild.toml"
    path.write_text("n_trials = 10\n[rewards]\ndrift_sd = 1e300\n")
    with pytest.raises(
        cogarb.TaskSpecError, match=r"rewards\.drift_sd.*must be in \[0, 1.0\], got 1e\+300"
    ):
        cogarb.load_task(path)
