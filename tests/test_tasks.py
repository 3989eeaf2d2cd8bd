import dataclasses

import numpy as np
import pytest

import cogarb
from cogarb.schedules import reward_schedules
from cogarb.schema import REWARD_PROB_COLUMNS


def test_daw2011_matches_the_paper(daw2011):
    assert daw2011.n_trials == 201
    assert daw2011.p_common == 0.7
    assert daw2011.rewards.drift_sd == 0.025
    assert (daw2011.rewards.lower, daw2011.rewards.upper) == (0.25, 0.75)
    assert daw2011.rewards.schedule == "shared"


def test_builtin_name_loads_the_same_task(daw2011):
    assert "daw2011" in cogarb.builtin_tasks()
    builtin = cogarb.load_task("daw2011")
    assert dataclasses.replace(builtin, source=None) == dataclasses.replace(daw2011, source=None)


def test_unknown_name_lists_builtins():
    with pytest.raises(FileNotFoundError, match="daw2011"):
        cogarb.load_task("no_such_task")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("n_trials = 201\nspeed = 3\n", "'speed'"),
        ("[rewards]\ndrift = 0.1\n", "'rewards.drift'"),
        ("p_common = 1.5\n", "'p_common'"),
        ("n_trials = 1\n", "'n_trials'"),
        ("n_trials = 20.5\n", "'n_trials'"),
        ("[rewards]\nlower = 0.8\nupper = 0.2\n", "'rewards.lower'"),
        ("[rewards]\ndrift_sd = -1\n", "'rewards.drift_sd'"),
        ("[rewards]\nschedule = 'sometimes'\n", "'rewards.schedule'"),
        ("[rewards]\ninitial = [0.5, 0.5]\n", "'rewards.initial'"),
        ("[rewards]\ninitial = [0.9, 0.5, 0.5, 0.5]\n", "'rewards.initial'"),
        ("rewards = 3\n", "'rewards'"),
    ],
)
def test_bad_keys_name_key_and_file(tmp_path, body, key):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(cogarb.TaskSpecError) as err:
        cogarb.load_task(path)
    assert key in str(err.value)
    assert str(path) in str(err.value)


def test_invalid_toml_names_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("n_trials = = 3")
    with pytest.raises(cogarb.TaskSpecError, match="broken.toml"):
        cogarb.load_task(path)


@pytest.mark.parametrize("schedule", ["shared", "per_participant"])
def test_reward_probabilities_stay_in_bounds_and_drift(daw2011, schedule):
    task = dataclasses.replace(
        daw2011, rewards=dataclasses.replace(daw2011.rewards, schedule=schedule)
    )
    sims = cogarb.simulate(task, "hybrid", {}, n_participants=50, seed=2)
    probs = sims[list(REWARD_PROB_COLUMNS)].to_numpy()
    assert probs.min() >= 0.25 and probs.max() <= 0.75
    walk = reward_schedules(task, 200, np.random.default_rng(0))
    steps = np.diff(walk, axis=1).ravel()
    # Reflection only ever shortens a step, so |step| <= |Gaussian step|; away from the
    # bounds steps are the raw N(0, 0.025^2) draws: their SD is within 5% of 0.025.
    inside = (walk[:, 1:] > 0.3).ravel() & (walk[:, 1:] < 0.7).ravel()
    assert abs(steps[inside].std() / 0.025 - 1) < 0.05
    n_schedules = sims.groupby("participant", observed=True)["p_reward_00"].first().nunique()
    assert n_schedules == (1 if schedule == "shared" else 50)


def test_fixed_schedule_seed_and_initial(daw2011):
    rewards = dataclasses.replace(daw2011.rewards, seed=7, initial=(0.3, 0.4, 0.5, 0.6))
    task = dataclasses.replace(daw2011, rewards=rewards)
    a = cogarb.simulate(task, "mf", {}, n_participants=2, seed=1)
    b = cogarb.simulate(task, "mf", {}, n_participants=2, seed=2)
    np.testing.assert_array_equal(a["p_reward_10"], b["p_reward_10"])
    first = a.iloc[0]
    assert (first.p_reward_00, first.p_reward_01, first.p_reward_10, first.p_reward_11) == (
        0.3,
        0.4,
        0.5,
        0.6,
    )


def test_common_transition_frequency(daw2011):
    # 10^5 trials: the SD of the observed frequency is sqrt(.7*.3/1e5) = 0.00145, so
    # a 0.005 tolerance is 3.4 SD.
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=500, seed=3)
    assert len(sims) >= 100_000
    assert abs(sims["common"].mean() - 0.70) < 0.005
    # the transition follows the first-stage choice: state s is action s's common destination
    assert ((sims["state2"] == sims["choice1"]) == sims["common"]).all()


def test_load_and_event_tasks(repo):
    load = cogarb.load_task(repo / "tasks" / "otto2013_load.toml")
    assert load.load.mode == "blocks" and load.load.block_length == 50
    trialwise = cogarb.load_task(repo / "tasks" / "otto2013_load_trialwise.toml")
    sims = cogarb.simulate(trialwise, "hybrid", {}, n_participants=100, seed=0)
    # 20,000 Bernoulli(0.5) draws: SD of the mean 0.0035; tolerance 0.02 is > 5 SD
    assert abs(sims["load"].mean() - 0.5) < 0.02
    blocks = cogarb.simulate(load, "hybrid", {}, n_participants=2)
    first = blocks[blocks["participant"] == "p1"]
    assert first["load"].tolist() == [0] * 50 + [1] * 50 + [0] * 50 + [1] * 50
    reset = cogarb.load_task(repo / "tasks" / "novelty_reward_reset.toml")
    sims = cogarb.simulate(reset, "mf", {}, n_participants=1)
    assert sims.loc[99, "p_reward_00"] == 0.8 and sims.loc[100, "p_reward_00"] == 0.2


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("[load]\nmode = 'sometimes'\n", "'load.mode'"),
        ("[load]\nblock = 5\n", "'load.block'"),
        ("[load]\np_load = 2\n", "'load.p_load'"),
        ("[[events]]\ntrial = 10\nkind = 'earthquake'\n", "'events[0].kind'"),
        ("[[events]]\ntrial = 1000\nkind = 'new_states'\n", "'events[0].trial'"),
        ("[[events]]\nkind = 'new_states'\n", "'events[0].trial'"),
        (
            "[[events]]\ntrial = 50\nkind = 'new_states'\n[[events]]\ntrial = 20\n"
            "kind = 'new_states'\n",
            "'events[1].trial'",
        ),
        (
            "[[events]]\ntrial = 50\nkind = 'new_states'\nvalues = [0.5, 0.5, 0.5, 0.5]\n",
            "'events[0].values'",
        ),
        (
            "[[events]]\ntrial = 50\nkind = 'reward_reset'\nvalues = [0.9, 0.5, 0.5, 0.5]\n",
            "'events[0].values'",
        ),
        ("[[events]]\ntrial = 50\nkind = 'new_states'\ncolour = 'red'\n", "'events[0].colour'"),
    ],
)
def test_bad_load_and_event_keys(tmp_path, body, key):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(cogarb.TaskSpecError) as err:
        cogarb.load_task(path)
    assert key in str(err.value) and str(path) in str(err.value)
