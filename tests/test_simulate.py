import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.data import REQUIRED_COLUMNS


def test_schema_and_dtypes(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=3, seed=0)
    assert list(sims.columns[: len(REQUIRED_COLUMNS)]) == list(REQUIRED_COLUMNS)
    assert len(sims) == 3 * 201
    assert str(sims["choice1"].dtype) == "Int8"
    assert sims["trial"].tolist()[:3] == [1, 2, 3]
    assert list(sims["participant"].cat.categories) == ["p1", "p2", "p3"]
    # The output passes the schema validation unchanged
    checked = cogarb.validate_trials(sims)
    assert not checked["missed"].any()


def test_params_dataframe_one_row_per_participant(daw2011):
    params = pd.DataFrame({"participant": ["a", "b"], "w": [0.0, 1.0], "beta1": [2.0, 8.0]})
    sims = cogarb.simulate(daw2011, "hybrid", params, seed=0, internals=True)
    assert list(sims["participant"].cat.categories) == ["a", "b"]
    w = sims.groupby("participant", observed=True)["w"].first()
    assert w.to_dict() == {"a": 0.0, "b": 1.0}


def test_default_params_are_daw_medians(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, seed=0, internals=True)
    assert sims["participant"].nunique() == 1
    assert (sims["w"] == 0.39).all()
    agent = cogarb.get_agent("hybrid")
    assert agent.defaults == {
        "alpha1": 0.54,
        "alpha2": 0.42,
        "lambda": 0.57,
        "beta1": 5.19,
        "beta2": 3.69,
        "p": 0.11,
        "w": 0.39,
    }


def test_mf_and_mb_fix_w(daw2011):
    mf = cogarb.simulate(daw2011, "mf", {}, n_participants=2, seed=0, internals=True)
    mb = cogarb.simulate(daw2011, "mb", {}, n_participants=2, seed=0, internals=True)
    assert (mf["w"] == 0).all() and (mb["w"] == 1).all()
    assert "alpha1" not in cogarb.get_agent("mb").parameter_names


@pytest.mark.parametrize(
    ("agent", "params", "message"),
    [
        ("hybrid", {"w": 1.5}, "'w'.*\\[0.0, 1.0\\]"),
        ("hybrid", {"beta1": -1.0}, "'beta1'"),
        ("hybrid", {"omega": 1.0}, "unknown parameter 'omega'"),
        ("mf", {"w": 0.5}, "fixed by this agent"),
        ("mb", {"alpha1": 0.5}, "fixed by this agent"),
        ("hybrid", {"alpha1": float("nan")}, "finite"),
        ("robot", {}, "unknown agent 'robot'"),
    ],
)
def test_bad_parameters_are_rejected(daw2011, agent, params, message):
    with pytest.raises(ValueError, match=message):
        cogarb.simulate(daw2011, agent, params, n_participants=2)


def test_bad_dataframe_row_is_named(daw2011):
    params = pd.DataFrame({"w": [0.2, 0.3, 2.0]})
    with pytest.raises(ValueError, match="row 2, column 'w'"):
        cogarb.simulate(daw2011, "hybrid", params)
    with pytest.raises(ValueError, match="n_participants=5 but params has 3 rows"):
        cogarb.simulate(daw2011, "hybrid", pd.DataFrame({"w": [0.1] * 3}), n_participants=5)


def test_bad_thread_count(daw2011):
    with pytest.raises(ValueError, match="n_threads"):
        cogarb.simulate(daw2011, "hybrid", {}, n_threads=0)


def test_internals_probabilities_give_the_choice_likelihood(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=1, seed=4, internals=True)
    # The first trial has no learned values: both choices are coin flips.
    assert sims["prob_choice1"].iloc[0] == 0.5 and sims["prob_choice2"].iloc[0] == 0.5
    assert ((sims["prob_choice1"] > 0) & (sims["prob_choice1"] < 1)).all()
    # delta2 is the reward minus the value that the next trial's Q2 entry moved from
    row = sims.iloc[10]
    q_before = row[f"q2_{row.state2}{row.choice2}"]
    assert np.isclose(row.delta2, row.reward - q_before, atol=1e-12)
