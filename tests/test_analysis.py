import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.analysis import stay_pairs


def tiny_trials():
    """Participant 'a': hand-checkable stay pairs, one missed trial (trial 4)."""
    rows = [
        # trial, choice1, state2, choice2, reward, common
        (1, 0, 0, 0, 1.0, True),  # rewarded common
        (2, 0, 1, 1, 0.0, False),  # stay after rewarded-common; unrewarded rare
        (3, 1, 1, 0, 1.0, True),  # switch after unrewarded-rare; rewarded common
        (4, None, None, None, np.nan, None),  # missed: breaks pairs (3,4) and (4,5)
        (5, 1, 0, 0, 0.0, False),  # unrewarded rare
        (6, 1, 1, 1, 1.0, True),  # stay after unrewarded-rare
    ]
    df = pd.DataFrame(rows, columns=["trial", "choice1", "state2", "choice2", "reward", "common"])
    df.insert(0, "participant", "a")
    return cogarb.validate_trials(df)


def test_pairs_by_hand():
    pairs = stay_pairs(tiny_trials())
    assert pairs["trial"].tolist() == [2, 3, 6]
    assert pairs["stay"].tolist() == [True, False, True]
    assert pairs["previous_reward"].tolist() == ["rewarded", "unrewarded", "unrewarded"]
    assert pairs["transition"].tolist() == ["common", "rare", "rare"]


def test_stay_probabilities_by_hand():
    per = cogarb.stay_probabilities(tiny_trials()).participants.set_index(
        ["previous_reward", "transition"]
    )
    assert per.loc[("unrewarded", "rare"), "n_pairs"] == 2
    assert per.loc[("unrewarded", "rare"), "p_stay"] == 0.5
    assert per.loc[("rewarded", "common"), "p_stay"] == 1.0


def test_group_interval_is_a_t_interval(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=30, seed=0)
    stay = cogarb.stay_probabilities(sims)
    cell = stay.participants.query("previous_reward == 'rewarded' and transition == 'rare'")
    row = stay.group.query("previous_reward == 'rewarded' and transition == 'rare'").iloc[0]
    x = cell["p_stay"].to_numpy()
    half = 2.045230 * x.std(ddof=1) / np.sqrt(30)  # t_{0.975, 29}
    assert row["mean"] == pytest.approx(x.mean())
    assert row["ci_high"] - row["mean"] == pytest.approx(half, rel=1e-5)
    assert "P(stay)" in str(stay)


def _newton_logistic(X, y):
    """Plain maximum-likelihood logistic regression (Newton-Raphson), for reference."""
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ beta))
        grad = X.T @ (y - p)
        hess = X.T @ (X * (p * (1 - p))[:, None])
        beta += np.linalg.solve(hess, grad)
    return beta, np.sqrt(np.diag(np.linalg.inv(hess)))


def test_closed_form_regression_equals_maximum_likelihood(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=400, seed=9)
    pairs = stay_pairs(sims)
    r = np.where(pairs["previous_reward"] == "rewarded", 1.0, -1.0)
    t = np.where(pairs["transition"] == "common", 1.0, -1.0)
    X = np.column_stack([np.ones_like(r), r, t, r * t])
    beta, se = _newton_logistic(X, pairs["stay"].to_numpy(float))
    pooled = cogarb.stay_regression(sims).pooled.set_index("term")
    # The 0.5 continuity correction moves each cell's log-odds by O(1/n_cell); with
    # >= 15,000 pairs per cell that is < 1e-3 of a coefficient.
    np.testing.assert_allclose(pooled["estimate"].to_numpy(), beta, atol=2e-3)
    np.testing.assert_allclose(pooled["se"].to_numpy(), se, rtol=1e-2)


def test_participant_with_empty_cell_gets_nan():
    reg = cogarb.stay_regression(tiny_trials())
    assert reg.participants[["reward", "reward:transition"]].isna().all(axis=None)


def test_conditions_split_tables(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=20, seed=0)
    sims["stakes"] = np.where(sims["trial"] % 2 == 0, 5, 1)
    stay = cogarb.stay_probabilities(sims)
    assert stay.conditions == ("stakes",)
    assert set(stay.group["stakes"]) == {1, 5}
    assert len(stay.group) == 8
    reg = cogarb.stay_regression(sims)
    assert set(reg.pooled["stakes"]) == {1, 5}
    assert len(cogarb.stay_probabilities(sims, by=None).group) == 4
    with pytest.raises(KeyError, match="nope"):
        cogarb.stay_probabilities(sims, by="nope")


def test_point_rewards_are_split_at_participant_mean(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=5, seed=0)
    binary = stay_pairs(sims)["previous_reward"]
    sims["reward"] = sims["reward"] * 4 + 2  # points 2 or 6: above the mean iff rewarded
    assert stay_pairs(sims)["previous_reward"].equals(binary)
