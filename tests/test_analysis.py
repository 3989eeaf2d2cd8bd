import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.analysis import TERMS, stay_pairs


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


def synthetic_trials(stays, reward=None, common=None, condition=None) -> pd.DataFrame:
    """Valid tidy trials whose pairs are given: ``stays[i]`` is participant i's stay (bool)
    on trials 2..n; ``reward``/``common`` (same shape plus one trial) default to all 1/True."""
    stays = np.asarray(stays, dtype=bool)
    m, n_trials = stays.shape[0], stays.shape[1] + 1
    switch = np.concatenate([np.zeros((m, 1), bool), ~stays], axis=1)
    choice1 = np.cumsum(switch, axis=1) % 2
    common = np.ones((m, n_trials), bool) if common is None else np.asarray(common, bool)
    reward = np.ones((m, n_trials)) if reward is None else np.asarray(reward, float)
    frame = pd.DataFrame(
        {
            "participant": np.repeat([f"s{i:05d}" for i in range(m)], n_trials),
            "trial": np.tile(np.arange(1, n_trials + 1), m),
            "choice1": choice1.ravel(),
            "state2": np.where(common, choice1, 1 - choice1).ravel(),
            "choice2": np.zeros(m * n_trials, int),
            "reward": reward.ravel(),
            "common": common.ravel(),
        }
    )
    if condition is not None:
        frame["condition"] = np.repeat(condition, n_trials)
    return cogarb.validate_trials(frame)


@pytest.mark.parametrize(
    ("n_stay", "n_eff"),
    [
        ((5, 6, 9), 0.6667 * 0.3333 / (0.04333 / 3)),  # 15.4, inside [m, N] = [3, 30]
        ((5, 5, 6), 30),  # p(1-p)/v = 224 > N: clamped to the 30 pairs
        ((0, 10, 10), 3),  # p(1-p)/v = 1 < m: clamped to the 3 participants
        ((10, 10, 10), 30),  # all stays, s = 0: N
    ],
)
def test_group_interval_is_the_effective_sample_size_wilson_interval(n_stay, n_eff):
    # Three participants, 10 rewarded-common pairs each, staying n_stay times.
    stays = np.zeros((3, 10), bool)
    for i, k in enumerate(n_stay):
        stays[i, :k] = True
    row = cogarb.stay_probabilities(synthetic_trials(stays)).group.iloc[0]
    mean = np.mean(n_stay) / 10
    k = 4.302653**2 / n_eff  # t_{0.975, 2}^2 / n_eff
    centre, half = (mean + k / 2) / (1 + k), np.sqrt(mean * (1 - mean) * k + k**2 / 4) / (1 + k)
    assert row["n_participants"] == 3 and row["mean"] == pytest.approx(mean)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((centre - half, centre + half), 1e-3)


def test_group_interval_agrees_with_the_t_interval_away_from_the_bounds(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=30, seed=0)
    stay = cogarb.stay_probabilities(sims)
    cell = stay.participants.query("previous_reward == 'rewarded' and transition == 'rare'")
    row = stay.group.query("previous_reward == 'rewarded' and transition == 'rare'").iloc[0]
    x = cell["p_stay"].to_numpy()
    half = 2.045230 * x.std(ddof=1) / np.sqrt(30)  # t_{0.975, 29}
    assert row["mean"] == pytest.approx(x.mean())
    # A mean of 0.7 with n_eff ~ 100: the Wilson interval is the t-interval shifted
    # towards 0.5 by k/2 and rescaled by 1/(1+k), k = t^2/n_eff ~ 0.04; 5% of the width.
    assert (row["ci_high"] - row["ci_low"]) / (2 * half) == pytest.approx(1, rel=0.05)
    assert "P(stay)" in str(stay)


@pytest.mark.parametrize(
    ("mu", "kappa"),
    [(0.8, 10.0), (0.97, 20.0)],  # mid-range; near the bound, where the t-interval fails
)
def test_group_interval_covers_the_population_mean_at_the_nominal_rate(mu, kappa):
    # 1,000 cohorts of 10 participants with P(stay) ~ Beta(mu kappa, (1 - mu) kappa), 40
    # pairs each; one condition per cohort. Measured with 2,000 cohorts: coverage 0.950
    # (mu 0.8) and 0.947 (mu 0.97); the old t-interval gave 0.932 and 0.876. With 1,000
    # cohorts the SD of the observed coverage is 0.007, so [0.92, 0.985] is > 3.9 SD from
    # the measured values while excluding the t-interval's 0.876 near the bound (6 SD) and
    # an interval so wide it always covers.
    rng = np.random.default_rng(11)
    reps, m, n_pairs = 1000, 10, 40
    p = rng.beta(mu * kappa, (1 - mu) * kappa, size=reps * m)
    stays = rng.random((reps * m, n_pairs)) < p[:, None]
    trials = synthetic_trials(stays, condition=np.repeat(np.arange(reps), m))
    group = cogarb.stay_probabilities(trials, by="condition").group
    assert len(group) == reps and (group["n_participants"] == m).all()
    coverage = ((group["ci_low"] <= mu) & (mu <= group["ci_high"])).mean()
    assert 0.92 <= coverage <= 0.985


@pytest.mark.parametrize(
    ("stays", "low", "high"),
    [
        # all stays: n_eff = N = 20 pairs, lower bound N / (N + t^2), t = t_{0.975, 1}
        (np.ones((2, 10), bool), 20 / (20 + 12.7062**2), 1.0),
        (np.zeros((2, 10), bool), 0.0, 12.7062**2 / (20 + 12.7062**2)),  # all switches
        (np.array([[True] * 10, [False] * 10]), None, None),  # p = 1 and 0: widest
        (np.ones((40, 3), bool), 120 / (120 + 2.022691**2), 1.0),  # many, all stay
    ],
)
def test_group_interval_stays_in_the_unit_interval_for_extreme_data(stays, low, high):
    row = cogarb.stay_probabilities(synthetic_trials(stays)).group.iloc[0]
    assert 0.0 <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= 1.0
    if low is not None:
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-5)
    assert row["ci_high"] > row["ci_low"]  # never a zero-width claim of certainty


def test_two_participant_intervals_stay_in_the_unit_interval(daw2011):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=2, seed=1)
    group = cogarb.stay_probabilities(sims).group
    assert ((group["ci_low"] >= 0) & (group["ci_high"] <= 1)).all()
    assert ((group["ci_low"] <= group["mean"]) & (group["mean"] <= group["ci_high"])).all()


def test_one_participant_has_no_group_interval():
    row = cogarb.stay_probabilities(synthetic_trials(np.ones((1, 5), bool))).group.iloc[0]
    assert row["n_participants"] == 1 and row["mean"] == 1.0
    assert np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])


def test_pairs_are_never_bridged_over_gaps_in_trial_numbers():
    trials = tiny_trials()
    trials = trials[trials["trial"] != 4]  # trial 4 absent, not missed: 3 and 5 are no pair
    assert stay_pairs(trials)["trial"].tolist() == [2, 3, 6]
    shifted = tiny_trials().assign(trial=lambda d: d["trial"] * 2)  # 2, 4, ..., 12
    assert stay_pairs(shifted).empty


@pytest.mark.parametrize("analysis", [cogarb.stay_probabilities, cogarb.stay_regression])
def test_trials_without_consecutive_pairs_say_so(daw2011, analysis, tmp_path):
    sims = cogarb.simulate(daw2011, "hybrid", {}, n_participants=2, seed=1)
    even = sims[sims["trial"] % 2 == 0]
    with pytest.raises(ValueError, match="no pairs of consecutive trials") as err:
        analysis(even)
    assert "200 trials of 2 participants" in str(err.value)
    assert "participant 'p1' has trials 2, 4, 6, ..." in str(err.value)
    # every other trial missed: trials are consecutive, but no two with choices are
    path = tmp_path / "even.csv"
    even.to_csv(path, index=False)
    with pytest.raises(ValueError) as err:
        analysis(cogarb.read_trials(path))
    assert str(err.value).startswith(f"{path}: no pairs of consecutive trials")
    missed = tiny_trials()
    missed.loc[missed["trial"] % 2 == 1, ["choice1", "state2", "choice2", "common"]] = pd.NA
    missed.loc[missed["trial"] % 2 == 1, "reward"] = np.nan
    with pytest.raises(ValueError, match="no pairs of consecutive.*4 of 6 trials are missed"):
        analysis(cogarb.validate_trials(missed))


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


def regression_trials(seed, n=3, n_trials=60, p_common=0.7, p_reward=0.5, condition=None):
    rng = np.random.default_rng(seed)
    stays = rng.random((n, n_trials - 1)) < 0.7
    common = rng.random((n, n_trials)) < p_common
    reward = (rng.random((n, n_trials)) < p_reward).astype(float)
    return synthetic_trials(stays, reward, common, condition)


@pytest.mark.parametrize(
    ("p_common", "p_reward", "missing"),
    [
        (1.0, 0.5, "no rare transitions"),
        (0.0, 0.5, "no common transitions"),
        (0.7, 1.0, "no unrewarded trials"),
        (0.7, 0.0, "no rewarded trials"),
        (1.0, 1.0, "no rare transitions and no unrewarded trials"),
    ],
)
def test_a_singular_stay_regression_says_why(p_common, p_reward, missing):
    reg = cogarb.stay_regression(regression_trials(0, p_common=p_common, p_reward=p_reward))
    expected = f"stay regression cannot be estimated: {missing} among the 177 trial pairs"
    assert reg.reason == expected
    assert str(reg) == expected  # what `cogarb stay` prints: the reason, no table of NaNs
    assert reg.pooled["estimate"].isna().all()
    assert reg.participants[list(TERMS)].isna().all(axis=None)
    assert reg.group_reason == (
        "group table: no mean: 0 of 3 participants have pairs in all four cells "
        "(an interval needs 2)"
    )


def test_a_single_empty_cell_is_named():
    trials = regression_trials(1)
    rare = trials["common"] == False  # noqa: E712 (nullable boolean)
    trials.loc[rare, "reward"] = 1.0  # no unrewarded rare trials
    reg = cogarb.stay_regression(trials)
    assert reg.reason == (
        "stay regression cannot be estimated: no pairs after unrewarded rare trials "
        "among the 177 trial pairs"
    )


def test_deterministic_transitions_of_kools_novel_task_say_why():
    trials = cogarb.simulate("kool2016_novel", "hybrid_one_choice", n_participants=3, seed=1)
    reg = cogarb.stay_regression(trials)
    assert str(reg) == (
        "stay regression cannot be estimated: no rare transitions among the 372 trial pairs"
    )
    stays = str(cogarb.stay_probabilities(trials))
    assert stays.endswith("no pairs after rewarded rare, unrewarded rare trials")


def test_each_condition_says_why_it_cannot_be_estimated():
    fine = regression_trials(2, condition=["a"] * 3)
    rare_free = regression_trials(3, p_common=1.0, condition=["b"] * 3)
    rare_free["participant"] = rare_free["participant"].astype(str) + "b"
    reg = cogarb.stay_regression(pd.concat([fine, rare_free], ignore_index=True))
    assert reg.conditions == ("condition",)
    assert reg.reason == (
        "stay regression cannot be estimated for condition=b: no rare transitions among the "
        "177 trial pairs"
    )
    pooled = reg.pooled.set_index("condition")
    assert pooled.loc["a", "estimate"].notna().all() and pooled.loc["b", "estimate"].isna().all()
    text = str(reg)
    assert "reward:transition" in text and text.endswith(reg.reason) and "NaN" not in text
    assert reg.group_reason.startswith("group table: no mean for condition=b: 0 of 3")


def test_estimable_regression_has_no_reason(daw2011):
    reg = cogarb.stay_regression(cogarb.simulate(daw2011, "hybrid", {}, n_participants=3, seed=0))
    assert reg.reason is None and reg.group_reason is None
    assert str(reg).splitlines()[0].split() == ["term", "estimate", "se", "z", "ci_low", "ci_high"]
    one = cogarb.stay_regression(regression_trials(4, n=1))
    assert one.reason is None and one.pooled["estimate"].notna().all()
    assert one.group_reason == (
        "group table: no interval: 1 of 1 participants have pairs in all four cells "
        "(an interval needs 2)"
    )
