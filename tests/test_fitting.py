"""build_model, fit, compare and recover on small cohorts with few draws.

These check structure and wiring, not statistical quality (that is the job of the
slow recovery and Stan cross-check tests): every agent and option runs, the
ArviZ groups are complete and consistent with the likelihood kernels.
"""

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.agents import TWO_CHOICE_AGENTS
from cogarb.arrays import trial_arrays
from cogarb.fitting import (
    _COMPILED,
    SamplingWarning,
    posterior_thetas,
    warn_on_diagnostics,
)
from cogarb.likelihood import per_trial_loglik
from cogarb.model_spec import model_spec
from cogarb.recovery import population

# nutpie compiles every model through PyTensor's numba backend: an Op without a numba
# implementation would fall back to object mode with this warning
pytestmark = pytest.mark.filterwarnings("error:Numba will use object mode:UserWarning")

FEW = {"draws": 30, "tune": 30, "chains": 2, "progress": False}


def cohort(task="otto2013_load", agent="hybrid_load", n=6, n_trials=60, seed=3, half_missed=True):
    trials = cogarb.simulate(task, agent, n_participants=n, seed=seed)
    trials = trials[trials["trial"] <= n_trials].reset_index(drop=True)
    # one participant-level covariate, constant within participant
    score = {p: i - 2.5 for i, p in enumerate(trials["participant"].cat.categories)}
    trials["compulsivity"] = trials["participant"].map(score).astype(float)
    missed = [4, len(trials) * 2 // 3]
    trials.loc[missed, ["choice1", "state2", "choice2", "reward", "common"]] = None
    if half_missed:  # the second stage missed, the first-stage choice made
        trials.loc[[10, len(trials) // 2], ["choice2", "reward"]] = None
    return cogarb.validate_trials(trials)


@pytest.fixture(scope="module")
def trials():
    return cohort()


@pytest.fixture(scope="module")
def full_fit(trials):
    with pytest.warns(SamplingWarning, match="ESS"):  # 60 draws cannot reach ESS 400
        return cogarb.fit(
            trials, "hybrid", conditions={"w": "load"}, covariates={"w": ["compulsivity"]},
            posterior_predictive=10, seed=1, **FEW,
        )  # fmt: skip


@pytest.mark.parametrize("agent", sorted(TWO_CHOICE_AGENTS))  # one-choice: own test file
def test_build_model_names_parameters_and_group_means(trials, agent):
    model = cogarb.build_model(trials, agent)
    spec = cogarb.get_agent(agent)
    for name in spec.parameter_names:
        assert model.named_vars_to_dims[name] == ("participant",)
        assert f"mu_{name}" in model.named_vars
        assert f"{name}_z" in model.named_vars  # non-centred
    assert list(model.coords["participant"]) == list(trials["participant"].cat.categories)
    assert [p.name for p in model.potentials] == ["loglik"]


def test_build_model_condition_and_covariate(trials):
    model = cogarb.build_model(
        trials, "hybrid", conditions={"w": "load"}, covariates={"w": ["compulsivity"]}
    )
    assert model.named_vars_to_dims["w"] == ("participant", "load")
    assert model.named_vars_to_dims["mu_w"] == ("load",)
    assert "slope_w_compulsivity" in model.named_vars
    spec = model_spec(
        trials, "hybrid", conditions={"w": "load"}, covariates={"w": ["compulsivity"]}
    )
    assert spec.covariate_scaling["compulsivity"][1] > 0


@pytest.mark.parametrize(
    "options, message",
    [
        ({"agent": "nobody"}, "unknown agent"),
        ({"conditions": {"beta1": "load"}}, "supported on the weight 'w'"),
        ({"agent": "hybrid_load", "conditions": {"w_load": "load"}}, "already has"),
        ({"conditions": {"w": "trial"}}, "exactly two levels"),
        ({"conditions": {"w": "nope"}}, "not in the trials"),
        ({"covariates": {"w": ["nope"]}}, "not in the trials"),
        ({"covariates": {"w": ["trial"]}}, "varies within participant"),
        ({"covariates": {"omega": ["compulsivity"]}}, "no parameter 'omega'"),
        ({"priors": {"w": {"loc": (0, -1)}}}, "positive sds"),
        ({"priors": {"w": {"mean": 0}}}, "unknown key"),
    ],
)
def test_build_model_rejects_bad_options(trials, options, message):
    with pytest.raises(ValueError, match=message):
        cogarb.build_model(trials, **options)


def test_priors_are_overridable(trials):
    model = cogarb.build_model(trials, "hybrid", priors={"beta1": {"loc": (1.0, 0.1)}})
    spec = model_spec(trials, "hybrid", priors={"beta1": {"loc": (1.0, 0.1)}})
    assert spec.priors["beta1"] == {"loc": (1.0, 0.1), "scale": 0.5}
    mu = model["beta1_loc"].owner.inputs[-2:]
    assert [float(x.eval()) for x in mu] == [1.0, 0.1]


def test_centred_model_is_the_non_centred_model_reparameterised(trials):
    # One distribution, two coordinates: at u = centre + scale * z the centred log
    # density is the non-centred one minus log(scale) per participant and parameter,
    # the Jacobian of z -> u. The likelihood potential is the same in both.
    options = {"covariates": {"w": ["compulsivity"]}, "conditions": {"w": "load"}}
    plain = cogarb.build_model(trials, "hybrid", **options)
    centred = cogarb.build_model(trials, "hybrid", centred=True, **options)
    spec = cogarb.get_agent("hybrid")
    names = spec.parameter_names
    assert all(f"{n}_u" in centred.named_vars and f"{n}_z" not in centred.named_vars for n in names)
    rng = np.random.default_rng(5)
    point = {k: rng.normal(0.0, 0.5, np.shape(v)) for k, v in plain.initial_point().items()}
    x = plain["covariates"].get_value()[:, 0]
    jacobian = 0.0
    moved = {k: v for k, v in point.items() if not k.endswith("_z") or k == "w_effect_z"}
    for name in names:
        scale = np.exp(point[f"{name}_scale_log__"])
        centre = point[f"{name}_loc"] + (point["slope_w_compulsivity"] * x if name == "w" else 0)
        moved[f"{name}_u"] = centre + scale * point[f"{name}_z"]
        jacobian += len(x) * np.log(scale)
    np.testing.assert_allclose(
        centred.compile_logp()(moved), plain.compile_logp()(point) - jacobian, rtol=1e-12
    )

    # and the same natural parameters
    def natural(model, values):
        outs = model.replace_rvs_by_values([model[n] for n in names])
        return model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")(values)

    for a, b in zip(natural(plain, point), natural(centred, moved), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_centred_fit_samples_and_records_it(trials):
    with pytest.warns(SamplingWarning):
        idata = cogarb.fit(trials, "mb", centred=True, draws=20, tune=20, chains=1, progress=False)
    assert "alpha2_u" in idata.posterior and "alpha2_z" not in idata.posterior
    assert idata.posterior.attrs["centred"] == 1
    assert np.isfinite(idata.log_likelihood["trial"]).all()
    with pytest.raises(ValueError, match="centred must be True or False"):
        cogarb.build_model(trials, "mb", centred="yes")
    # the compiled-model cache keeps the two forms apart
    keys = {model_spec(trials, "mb", centred=c).cache_key() for c in (False, True)}
    assert len(keys) == 2


def test_fit_returns_complete_inference_data(full_fit, trials):
    groups = set(full_fit.groups())
    assert {"posterior", "sample_stats", "observed_data", "log_likelihood",
            "posterior_predictive"} <= groups  # fmt: skip
    # the trials with a term: all but the fully missed (half-missed ones included)
    made = trials["choice1"].notna().to_numpy()
    half = trials["missed"].to_numpy()[made]  # half-missed, among those with a term
    n_obs = int(made.sum())
    assert n_obs == len(trials) - 2 and half.sum() == 2
    assert full_fit.log_likelihood["trial"].shape == (2, 30, n_obs)
    assert full_fit.observed_data["choice1"].shape == (n_obs,)
    observed = full_fit.observed_data
    assert (observed["choice2"][half] == -1).all() and np.isnan(observed["reward"][half]).all()
    assert set(np.unique(observed["choice2"][~half])) <= {0, 1}
    assert full_fit.posterior["w"].dims == ("chain", "draw", "participant", "load")
    assert "slope_w_compulsivity" in full_fit.posterior
    assert full_fit.posterior.attrs["agent"] == "hybrid"
    assert full_fit.posterior.attrs["conditions"] == "w~load"
    assert not any(v.endswith("__") for v in full_fit.posterior.data_vars)
    # posterior predictive: 10 draws spread over 2 chains, only observed trials
    ppc = full_fit.posterior_predictive
    assert ppc["choice1"].shape == (2, 5, n_obs)
    assert set(np.unique(ppc["choice1"])) <= {0, 1}
    # the simulated participants miss the second stage where the observed ones did
    assert set(np.unique(ppc["choice2"][..., ~half])) <= {0, 1}
    assert (ppc["choice2"][..., half] == -1).all() and np.isnan(ppc["reward"][..., half]).all()
    # the common-transition rate of the replayed task is the task's 0.7 (5 × 2 × 358
    # transitions: sd ≈ 0.008, so ±0.05 is > 6 sd)
    assert abs(float(ppc["common"].mean()) - 0.7) < 0.05


def test_log_likelihood_matches_the_kernel_on_posterior_draws(full_fit, trials):
    data = trial_arrays(trials, condition="load")
    thetas = posterior_thetas(full_fit, "hybrid", ("w", "load"))
    expected = per_trial_loglik("hybrid", thetas[1, 7], data)[data.observed]
    np.testing.assert_allclose(full_fit.log_likelihood["trial"][1, 7], expected, atol=1e-12)
    # the participant coordinate of each observation follows the data
    participants = full_fit.log_likelihood["participant"].to_numpy()
    kept = trials.loc[trials["choice1"].notna(), "participant"].astype(str).to_numpy()
    assert (participants == kept).all()


@pytest.mark.parametrize("agent", ["mf", "mb", "hybrid_load", "arbitrator"])
def test_every_agent_fits(trials, agent):
    with pytest.warns(SamplingWarning):
        idata = cogarb.fit(trials, agent, draws=20, tune=20, chains=1, progress=False)
    spec = cogarb.get_agent(agent)
    for name in spec.parameter_names:
        values = idata.posterior[name].to_numpy()
        p = spec.parameter(name)
        assert np.isfinite(values).all()
        assert ((values >= p.lower) & (values <= p.upper)).all()
    assert np.isfinite(idata.log_likelihood["trial"]).all()


def test_second_fit_of_the_same_structure_reuses_the_compiled_model(trials):
    # six participants, plain hybrid: the structure test_compare's "plain" fit reuses
    first = cohort(n=6, seed=11).drop(columns="compulsivity")
    second = cohort(n=6, seed=12).drop(columns="compulsivity")
    second["participant"] = second["participant"].cat.rename_categories(lambda p: f"s-{p}")
    with pytest.warns(SamplingWarning):
        a = cogarb.fit(first, "hybrid", draws=20, tune=20, chains=1, progress=False)
    n_compiled = len(_COMPILED)
    with pytest.warns(SamplingWarning):
        b = cogarb.fit(second, "hybrid", draws=20, tune=20, chains=1, progress=False)
    assert len(_COMPILED) == n_compiled  # no new compilation
    assert list(b.posterior["participant"].values) == list(second["participant"].cat.categories)
    # the data were swapped, not reused: the two log-likelihoods differ
    assert not np.allclose(a.log_likelihood["trial"], b.log_likelihood["trial"])
    np.testing.assert_allclose(
        b.log_likelihood["trial"][0, 3],
        per_trial_loglik("hybrid", posterior_thetas(b, "hybrid")[0, 3], trial_arrays(second))[
            trial_arrays(second).observed
        ],
        atol=1e-12,
    )


def test_compare_per_trial_and_per_participant(full_fit, trials):
    with pytest.warns(SamplingWarning):
        plain = cogarb.fit(trials, "hybrid", seed=2, **FEW)
    for by in ("trial", "participant"):
        with pytest.warns(UserWarning):  # Pareto k warnings on such short runs
            table = cogarb.compare({"condition": full_fit, "plain": plain}, by=by)
        assert set(table.index) == {"condition", "plain"}
        assert {"elpd_loo", "p_loo", "weight"} <= set(table.columns)
        # LOOs computed one fit at a time (as `cogarb fit` does) give the same table
        with pytest.warns(UserWarning):
            loos = {"condition": cogarb.loo(full_fit, by), "plain": cogarb.loo(plain, by)}
        pd.testing.assert_frame_equal(cogarb.compare(loos, by=by), table)
        other = "participant" if by == "trial" else "trial"
        with pytest.raises(ValueError, match=f"does not match by='{other}'"):
            cogarb.compare(loos, by=other)
    assert table.loc["plain", "elpd_loo"] == pytest.approx(float(loos["plain"]["elpd_loo"]))
    shorter = plain.copy()  # the same participants, one trial fewer
    shorter.log_likelihood = shorter.log_likelihood.isel(obs=slice(1, None))
    for by in ("trial", "participant"):
        with pytest.raises(ValueError, match="different data"):
            cogarb.compare({"plain": plain, "shorter": shorter}, by=by)
    with pytest.raises(ValueError, match="pointwise"):
        cogarb.compare({"a": loos["plain"].drop("loo_i"), "b": loos["plain"]}, by="participant")
    with pytest.raises(ValueError, match="by must be"):
        cogarb.compare({"a": plain, "b": plain}, by="session")
    with pytest.raises(ValueError, match="at least two"):
        cogarb.compare({"a": plain})


def test_recover_tabulates_truth_against_posterior():
    with pytest.warns(SamplingWarning):
        # six participants: reuses the model compiled by test_every_agent_fits[hybrid_load]
        result = cogarb.recover("hybrid_load", "otto2013_load", 6, seed=4, **FEW)
    names = [*list(cogarb.get_agent("hybrid_load").parameter_names), "w_load-w_noload"]
    assert list(result.summary.index) == names
    assert result.participants.shape[0] == 6 * len(names)
    assert result.summary["r"].between(-1, 1).all()
    assert result.summary["coverage"].between(0, 1).all()
    truth = result.participants.query("parameter == 'beta1'")["true"]
    assert truth.nunique() == 6  # participants differ


def test_population_draws_from_the_given_distribution():
    table, group = population("hybrid", 4000, {"w": (0.3, 0.5)}, seed=0)
    logit_w = np.log(table["w"] / (1 - table["w"]))
    # 4000 draws: the sd of the mean is 0.5/63 ≈ 0.008 and of the sd ≈ 0.006
    assert abs(logit_w.mean() - np.log(0.3 / 0.7)) < 0.04
    assert abs(logit_w.std() - 0.5) < 0.03
    assert group["beta1"] == (5.19, 0.5)
    with pytest.raises(ValueError, match="must lie in"):
        population("hybrid", 10, {"w": (1.5, 0.1)})


def test_fit_rejects_bad_settings_before_sampling(trials):
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        cogarb.fit(trials, "hybrid", draws=0)
    no_probabilities = trials.drop(columns=["p_reward_00"])
    with pytest.raises(ValueError, match="reward probabilities"):
        cogarb.fit(no_probabilities, "hybrid", posterior_predictive=5, **FEW)


def test_diagnostic_warnings_give_advice():
    import arviz as az

    rng = np.random.default_rng(0)
    idata = az.from_dict(
        posterior={"mu_w": rng.normal(size=(2, 50)) + np.array([[0.0], [3.0]])},
        sample_stats={
            "diverging": rng.random((2, 50)) < 0.1,
            "maxdepth_reached": np.arange(100).reshape(2, 50) < 7,
        },
    )
    with pytest.warns(SamplingWarning) as record:
        found = warn_on_diagnostics(idata)
    message = str(record[0].message)
    assert "R-hat" in message and "mu_w" in message and "divergent" in message
    assert "7 of 100 draws at the tree-depth limit" in message
    assert "; next: the chains disagree" in message  # the step to take, most urgent first
    assert found["divergences"] > 0 and found["tree_depth_hits"] == 7


def test_hbayesdm_reader(tmp_path):
    text = (
        "subjID\ttrial\tlevel1_choice\tlevel2_choice\treward\tA1prob\tA2prob\tB1prob\tB2prob\n"
        "7\t1\t1\t2\t1\t0.6\t0.4\t0.3\t0.5\n"
        "7\t2\t2\t3\t0\t0.6\t0.4\t0.3\t0.5\n"
        "7\t3\t2\t1\t1\t0.6\t0.4\t0.3\t0.5\n"
        "7\t4\tNA\tNA\tNA\t0.6\t0.4\t0.3\t0.5\n"
    )
    path = tmp_path / "ts.txt"
    path.write_text(text)
    trials = cogarb.read_trials(path)  # format inferred from the header
    assert trials["choice1"].tolist()[:3] == [0, 1, 1]
    assert trials["state2"].tolist()[:3] == [0, 1, 0]
    assert trials["choice2"].tolist()[:3] == [1, 0, 0]
    assert trials["common"].tolist()[:3] == [True, True, False]
    assert trials["missed"].tolist() == [False, False, False, True]
    assert trials["p_reward_10"].iloc[0] == 0.3
    path.write_text(text.replace("7\t2\t2\t3", "7\t2\t3\t3"))
    with pytest.raises(cogarb.TrialDataError, match=r"row 2, column 'level1_choice'.*'3'"):
        cogarb.read_trials(path, format="hbayesdm")


def test_hbayesdm_reader_agrees_with_the_tidy_file(tmp_path):
    trials = cohort(n=2, n_trials=15, half_missed=False)  # hBayesDM's format has none
    hb = pd.DataFrame(
        {
            "subjID": trials["participant"].astype(str),
            "trial": trials["trial"],
            "level1_choice": trials["choice1"] + 1,
            "level2_choice": trials["state2"] * 2 + trials["choice2"] + 1,
            "reward": trials["reward"],
        }
    )
    hb.to_csv(tmp_path / "hb.txt", sep="\t", index=False, na_rep="NA")
    back = cogarb.read_trials(tmp_path / "hb.txt")
    for column in ("choice1", "state2", "choice2", "common", "missed"):
        assert back[column].tolist() == trials[column].tolist(), column
