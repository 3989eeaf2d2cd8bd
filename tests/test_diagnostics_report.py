"""The diagnostics block `cogarb fit` ends with, and the verdict behind it."""

import numpy as np
import pytest

from cogarb.fitting import convergence_problems, next_step
from cogarb.runs import diagnostics_block, pareto_k_counts

GOOD = {"max_rhat": 1.004, "max_rhat_variable": "mu_w", "min_ess_bulk": 812.0,
        "min_ess_bulk_variable": "mu_beta1", "divergences": 0, "tree_depth_hits": 0,
        "draws": 4000, "chains": 4,
        "pareto_k": {"threshold": 0.7, "good": 2010, "bad": 0, "very_bad": 0,
                     "trials": 2010}}  # fmt: skip


def test_a_converged_fit_reads_ok_on_every_line_and_says_so():
    block = diagnostics_block(GOOD)
    lines = block.splitlines()
    assert lines[0].startswith("diagnostics (to be quoted, a fit needs R-hat ≤ 1.01")
    assert [line.split()[-1] for line in lines[1:5]] == ["ok"] * 4
    assert "1.004 (mu_w)" in lines[1] and "812 (mu_beta1)" in lines[2]
    assert "2010 of 2010 trials ≤ 0.70, 0 above, 0 above 1" in lines[5]
    assert lines[-1] == "next: " + next_step(GOOD) and "converged" in lines[-1]
    assert convergence_problems(GOOD) == []


@pytest.mark.parametrize(
    ("change", "failing_row", "advice"),
    [
        ({"max_rhat": 1.08}, "worst R-hat", "the chains disagree"),
        ({"max_rhat": None, "max_rhat_note": "infinite for 'mu_w'"}, "worst R-hat",
         "the chains disagree"),
        ({"min_ess_bulk": 132.0}, "lowest bulk ESS", "about --draws 4000 per chain"),
        ({"divergences": 12}, "divergences", "target_accept"),
        ({"tree_depth_hits": 2000}, "capped draws", "max_tree_depth"),
        ({"chains": 1, "max_rhat": None, "max_rhat_note": "undefined for one chain"},
         "worst R-hat", "run 2 or more chains"),
    ],
)  # fmt: skip
def test_each_failing_check_is_marked_and_the_next_step_names_its_remedy(
    change, failing_row, advice
):
    found = GOOD | change
    block = diagnostics_block(found)
    failing = [line for line in block.splitlines() if line.endswith("FAILS")]
    assert len(failing) == 1 and failing[0].strip().startswith(failing_row)
    assert advice in block.splitlines()[-1]
    assert convergence_problems(found)


def test_the_longer_run_advised_is_at_least_twice_the_last():
    # 4 chains x 1000 draws: 2000 (the floor); 4 x 2500: 5000
    assert "--tune 2000 --draws 2000" in next_step(GOOD | {"max_rhat": 1.03})
    assert "--draws 5000" in next_step(GOOD | {"max_rhat": 1.013, "draws": 10000})


def test_the_draws_advice_scales_with_the_ess_shortfall():
    # 1000 draws a chain gave ESS 132: 400/132 × 1000 × 1.2 margin = 3636 -> 4000
    assert "--draws 4000" in next_step(GOOD | {"min_ess_bulk": 132.0})
    # 1000 gave ESS 380: 1263 -> 1500
    assert "--draws 1500" in next_step(GOOD | {"min_ess_bulk": 380.0})


def test_unreliable_loo_trials_are_named_once_the_fit_converged():
    found = GOOD | {"pareto_k": {"threshold": 0.7, "good": 2000, "bad": 8, "very_bad": 2,
                                 "trials": 2010}}  # fmt: skip
    assert "PSIS-LOO is unreliable for 10 trials" in next_step(found)
    assert "2000 of 2010 trials ≤ 0.70, 8 above, 2 above 1" in diagnostics_block(found)


def test_pareto_k_counts_cover_every_trial_with_the_sample_size_threshold():
    import arviz as az
    import xarray as xr

    rng = np.random.default_rng(3)
    n_chains, n_draws, n_obs = 2, 50, 40
    loglik = rng.normal(-0.7, 0.05, (n_chains, n_draws, n_obs))
    loglik[:, :, 0] += rng.standard_cauchy((n_chains, n_draws)) * 5  # a heavy-tailed trial
    loglik[:, :, 1:3] = np.log(0.25)  # first trials: nothing learned, the same under every draw
    idata = az.InferenceData(
        posterior=xr.Dataset({"mu": (("chain", "draw"), rng.normal(size=(n_chains, n_draws)))}),
        log_likelihood=xr.Dataset(
            {"trial": (("chain", "draw", "obs"), loglik)},
            coords={"participant": ("obs", np.repeat(["a", "b"], n_obs // 2))},
        ),
    )
    counts = pareto_k_counts(idata)
    # S = 100 draws: min(1 - 1/log10(100), 0.7) = 0.5
    assert counts["threshold"] == 0.5
    assert counts["exact"] == 2  # ArviZ's k = inf there, yet their LOO is exact: not "bad"
    assert counts["good"] + counts["bad"] + counts["very_bad"] + 2 == counts["trials"] == n_obs
    assert counts["bad"] + counts["very_bad"] >= 1  # the heavy-tailed trial
    del idata.log_likelihood
    assert pareto_k_counts(idata) is None


def test_the_fit_line_says_apart_the_half_missed_trials_the_likelihood_keeps():
    import cogarb
    from cogarb.runs import describe_missed

    trials = cogarb.simulate("daw2011", "hybrid", n_participants=2, seed=1)
    assert describe_missed(cogarb.validate_trials(trials)) == (
        "0 missed, excluded from the likelihood"
    )
    trials.loc[[3, 8], ["choice1", "state2", "choice2", "reward", "common"]] = np.nan
    trials.loc[[5], ["choice2", "reward"]] = np.nan  # first-stage choice made, then missed
    assert describe_missed(cogarb.validate_trials(trials)) == (
        "3 missed: 2 excluded from the likelihood, 1 with a first-stage choice only, which it "
        "keeps"
    )


def test_a_failed_loo_is_reported_in_the_block_and_loses_no_fit(monkeypatch, tmp_path):
    import arviz as az

    import cogarb.runs
    from cogarb.runs import write_fit

    def failing(idata):
        raise MemoryError("no room for the pointwise LOO")

    monkeypatch.setattr(cogarb.runs, "pareto_k_counts", failing)
    rng = np.random.default_rng(0)
    idata = az.from_dict(
        posterior={"mu_w": rng.normal(size=(2, 30))},
        sample_stats={"diverging": np.zeros((2, 30), bool)},
    )
    _, found = write_fit(idata, tmp_path)
    assert found["pareto_k"] == {"error": "MemoryError: no room for the pointwise LOO"}
    assert (tmp_path / "posterior.nc").is_file() and (tmp_path / "diagnostics.json").is_file()
    assert "Pareto k         not computed (MemoryError: no room" in diagnostics_block(found)
