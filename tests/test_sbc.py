"""Simulation-based calibration: the ECDF band, the prior draws, ranks, resuming, CLI.

The fits here are tiny (3 participants × 40 trials of ``mb``, 2 chains × 30 draws):
they test the machinery, not the calibration, which is ``cogarb sbc`` on the
full configuration (paper/sbc/).
"""

import json
import math

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.cli import main
from cogarb.ecdf_bands import ecdf, ecdf_band, inside, max_deviation
from cogarb.model_spec import default_prior
from cogarb.sbc import (
    DatasetResult,
    dataset_generator,
    prior_draw,
    sbc,
    sbc_dataset,
    thinned_indices,
)
from cogarb.workflows import sbc_to_folder

TINY = {"n_participants": 3, "draws": 30, "tune": 30, "chains": 2}
AGENT = "mb"


def inside_fraction(band, samples: np.ndarray) -> float:
    """Fraction of the rows of ``samples`` whose ECDF lies inside ``band`` (by the
    same rule as the SBC summary: :func:`cogarb.ecdf_bands.inside`)."""
    return float(np.mean([inside(row, band) for row in samples]))


@pytest.mark.parametrize("n", [5, 10, 20, 200])
def test_band_has_its_simultaneous_coverage(n):
    """For uniform values the whole ECDF lies in the band with probability ≥ 1 − α,
    and ≈ 1 − α where the counts are not too coarse.

    Measured on R = 2000 fresh seeded samples; the tolerance is 3 binomial sd of the
    measured fraction plus 3 sd of the band's own Monte Carlo error (γ is chosen on
    M = 4000 simulated samples): 3·sqrt(α(1−α)(1/R + 1/M)) ≈ 0.017. γ is the largest
    value whose band the M samples leave at most α·M times (by ``inside``'s rule), so
    coverage below 1 − α − tolerance is a failure at every n. At small n the counts
    are so coarse that no γ gives exactly α, and the coverage can be above 1 − α by
    more than the tolerance (n = 5: 0.97); from n = 20 it is within it both ways.
    (The paper's α-quantile of the γ_m, used before, covered 0.91 at n = 5 and 0.94
    at n = 10: discreteness can make that band cover less, not only more.)
    """
    alpha, r, m = 0.05, 2000, 4000
    band = ecdf_band(n, alpha, n_simulations=m, seed=0)
    assert 0 < band.gamma < alpha  # simultaneous: each point is held at a stricter level
    covered = inside_fraction(band, np.random.default_rng(1).random((r, n)))
    tolerance = 3 * math.sqrt(alpha * (1 - alpha) * (1 / r + 1 / m))
    assert covered >= 1 - alpha - tolerance, covered
    if n >= 20:
        assert covered <= 1 - alpha + tolerance, covered
    # on its own simulation, the band is left at most α·M times
    own = np.random.default_rng(0).random((m, n))
    assert 1 - inside_fraction(band, own) <= alpha


def test_band_rejects_biased_ranks():
    """Ranks of a posterior biased by a quarter of its width: u^0.6 for 200 data sets
    leaves the band almost always (measured: every one of 200 sets), and uniform u
    stays inside in the same comparison."""
    band = ecdf_band(200, 0.05, seed=0)
    rng = np.random.default_rng(2)
    assert inside_fraction(band, rng.random((200, 200)) ** 0.6) <= 0.05
    # too narrow posteriors: ranks pile up at both ends (a ∪ shape)
    u = rng.beta(0.6, 0.6, size=(200, 200))
    assert inside_fraction(band, u) <= 0.05


def test_band_is_seeded_and_helpers():
    first, second = ecdf_band(50, seed=3), ecdf_band(50, seed=3)
    assert first.gamma == second.gamma and np.array_equal(first.lower, second.lower)
    z = np.array([0.25, 0.5, 0.75])
    assert np.array_equal(ecdf(np.array([0.1, 0.3, 0.6, 0.9]), z), [0.25, 0.5, 0.75])
    assert max_deviation(np.array([0.1, 0.2, 0.3, 0.4]), z) == pytest.approx(0.5)
    band = ecdf_band(4)
    assert not inside(np.full(4, 0.01), band)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        ecdf_band(0)


def test_prior_draws_follow_the_hyperpriors():
    """loc ~ Normal(mean, sd) and scale ~ HalfNormal(sd) of model_spec.default_prior:
    over 4000 draws the sample mean of loc is within 4 standard errors of the prior
    mean, and scale's mean within 4 se of sd·sqrt(2/π)."""
    agent = cogarb.get_agent("hybrid")
    rng = np.random.default_rng(0)
    draws = [prior_draw(agent, 2, rng)[0] for _ in range(4000)]
    for name in agent.parameter_names:
        prior = default_prior(agent, name)
        (mean, sd), scale_sd = prior["loc"], prior["scale"]
        loc = np.array([d[f"{name}_loc"] for d in draws])
        scale = np.array([d[f"{name}_scale"] for d in draws])
        assert abs(loc.mean() - mean) < 4 * sd / math.sqrt(loc.size), name
        assert abs(loc.std() - sd) < 4 * sd / math.sqrt(2 * loc.size), name
        half_mean = scale_sd * math.sqrt(2 / math.pi)
        assert abs(scale.mean() - half_mean) < 4 * scale_sd / math.sqrt(scale.size), name
        assert (scale >= 0).all()


def test_participants_are_drawn_around_the_group():
    """g(θ_i) = loc + scale z_i: with a tiny scale every participant sits at g⁻¹(loc)."""
    agent = cogarb.get_agent("mb")
    priors = {name: {"scale": 1e-9} for name in agent.parameter_names}
    group, table = prior_draw(agent, 50, np.random.default_rng(4), priors)
    for spec in agent.parameters:
        expected = spec.inverse(group[f"{spec.name}_loc"])
        assert np.allclose(table[spec.name], expected, rtol=1e-6), spec.name


def test_dataset_generator_is_the_spawned_child():
    children = np.random.SeedSequence(7).spawn(5)
    assert dataset_generator(7, 3).random() == np.random.default_rng(children[3]).random()


def test_thinned_indices_follow_the_ess():
    assert len(thinned_indices(1000, 57.9)) == 57  # L = ⌊ESS⌋
    assert len(thinned_indices(1000, 5000.0)) == 99  # at most max_ranks − 1
    assert len(thinned_indices(40, 500.0, max_ranks=100)) == 40  # at most every draw
    assert len(thinned_indices(1000, None)) == 1
    keep = thinned_indices(1000, 10.0)
    assert keep[0] == 0 and keep[-1] == 999 and np.all(np.diff(keep) > 100)


def test_ranks_are_thinned_to_the_smaller_of_bulk_and_tail_ess():
    """Ranks near the tails need independent draws in the tails: L follows the tail ESS
    where it is the smaller. min_ess_tail is ArviZ's tail ESS, minimised over the
    variables (an AR(1) chain with φ = 0.9, and independent draws)."""
    import xarray as xr

    from cogarb.sbc import min_ess_tail, rank_ess

    assert rank_ess(50.0, 20.0) == 20.0 and rank_ess(20.0, 50.0) == 20.0
    assert rank_ess(None, 20.0) == 20.0 and rank_ess(30.0, None) == 30.0
    assert rank_ess(None, None) is None
    rng = np.random.default_rng(0)
    x = np.zeros((2, 1000))
    for t in range(1, 1000):
        x[:, t] = 0.9 * x[:, t - 1] + rng.standard_normal(2)
    posterior = xr.Dataset(
        {"a": (("chain", "draw"), x), "b": (("chain", "draw"), rng.standard_normal((2, 1000)))}
    )
    import arviz as az

    expected = float(min(az.ess(posterior, method="tail")[v] for v in ("a", "b")))
    assert min_ess_tail(posterior) == pytest.approx(expected)


def test_ranks_count_the_thinned_draws_below_the_truth():
    """A posterior of known draws: loc's draws are 0..999 over 2 chains, the truth 250.5;
    with the ESS at 1000 the 99 kept draws are round(k·999/98), and the rank is how
    many of them lie below the truth. Participants' draws are all above theirs."""
    import xarray as xr

    from cogarb.sbc import ranks_of

    agent = cogarb.get_agent("mb")
    names = agent.parameter_names
    values = np.arange(1000.0).reshape(2, 500)
    data = {}
    for name in names:
        data[f"{name}_loc"] = (("chain", "draw"), values)
        data[f"{name}_scale"] = (("chain", "draw"), values + 0.25)
        data[name] = (("chain", "draw", "participant"), np.ones((2, 500, 2)))
    posterior = xr.Dataset(data, coords={"participant": ["P1", "P2"]})
    truth = {f"{n}_{k}": 250.5 for n in names for k in ("loc", "scale")}
    table = pd.DataFrame({"participant": ["P1", "P2"], **{n: [0.5, 0.25] for n in names}})
    ranks = ranks_of(truth, table, posterior, agent, np.random.default_rng(0), 1000.0)
    keep = np.unique(np.round(np.linspace(0, 999, 99)).astype(int))
    expected = {"_loc": int(np.sum(keep < 250.5)), "_scale": int(np.sum(keep + 0.25 < 250.5))}
    assert expected["_loc"] == 25  # 0, 10.3, ..., 247.2: 25 of them below 250.5
    for name in names:
        rows = ranks[ranks["parameter"] == f"{name}_loc"]
        assert rows["rank"].tolist() == [expected["_loc"]] and rows["participant"].tolist() == [""]
        assert ranks.loc[ranks["parameter"] == f"{name}_scale", "rank"].tolist() == [
            expected["_scale"]
        ]
        assert ranks.loc[ranks["parameter"] == name, "rank"].tolist() == [0, 0]
    assert (ranks["n_ranks"] == 100).all()
    # u = (rank + V)/(L + 1) with V ~ U(0, 1) drawn per value: not a fixed midpoint
    fraction = ranks["u"] * ranks["n_ranks"] - ranks["rank"]
    assert fraction.between(0, 1).all() and fraction.nunique() == len(fraction)
    # ties with the truth are broken at random: a truth equal to every draw gets any rank
    tied = ranks_of({k: 1.0 for k in truth}, table.assign(**{n: 1.0 for n in names}),
                    posterior.assign({n: posterior[n] for n in names}), agent,
                    np.random.default_rng(1), 1000.0)  # fmt: skip
    participant_ranks = tied.loc[tied["parameter"].isin(names), "rank"]
    assert participant_ranks.nunique() > 1 and participant_ranks.between(0, 99).all()


@pytest.fixture(scope="module")
def short_task(tmp_path_factory):
    path = tmp_path_factory.mktemp("task") / "short.toml"
    path.write_text(
        'name = "short"\nn_trials = 40\np_common = 0.7\n[rewards]\ndrift_sd = 0.025\n'
        'lower = 0.25\nupper = 0.75\nschedule = "shared"\n'
    )
    return str(path)


@pytest.fixture(scope="module")
def three(short_task):
    return sbc(AGENT, short_task, n_datasets=3, seed=11, **TINY)


def test_sbc_ranks_are_in_range(three):
    ranks = three.ranks
    agent = cogarb.get_agent(AGENT)
    n_params = len(agent.parameter_names)
    # per data set: loc and scale of every parameter, and every participant's value
    assert len(ranks) == 3 * n_params * (2 + TINY["n_participants"])
    assert ranks["rank"].between(0, ranks["n_ranks"] - 1).all()
    assert (ranks["n_ranks"] <= 100).all() and (ranks["n_ranks"] >= 2).all()
    assert ((ranks["u"] > 0) & (ranks["u"] < 1)).all()
    assert (np.floor(ranks["u"] * ranks["n_ranks"]) == ranks["rank"]).all()
    assert list(three.summary.index) == list(three.parameters)
    assert three.summary.loc["beta1_loc", "n"] == 3
    assert three.summary.loc["beta1", "n"] == 3  # tested: one participant per data set
    assert three.summary.loc["beta1", "n_ranked"] == 3 * TINY["n_participants"]
    tested = ranks[ranks["parameter"] == "beta1"].groupby("dataset")["tested"].sum()
    assert (tested == 1).all()
    # L = min(max_ranks − 1, draws, ⌊min(bulk ESS, tail ESS)⌋), at least 1
    found = three.diagnostics
    ess = np.floor(np.minimum(found["min_ess_bulk"], found["min_ess_tail"]))
    n_draws = TINY["draws"] * TINY["chains"]
    assert (found["n_ranks"] - 1 == np.clip(ess, 1, min(99, n_draws))).all()
    assert set(three.diagnostics["dataset"]) == {0, 1, 2}
    assert (three.diagnostics["n_ranks"] == ranks.groupby("dataset")["n_ranks"].first()).all()


def test_a_data_set_is_thinned_to_its_tail_ess(three, short_task, monkeypatch):
    """sbc_dataset thins to the tail ESS when it is the smaller (these tiny fits' tail
    ESS is above their bulk ESS, so it is set here: 3 draws, 4 possible ranks)."""
    import importlib

    sbc_module = importlib.import_module("cogarb.sbc")  # the module, not cogarb.sbc()
    monkeypatch.setattr(sbc_module, "min_ess_tail", lambda posterior: 3.5)
    result = sbc_dataset(AGENT, short_task, 0, seed=11, **TINY)
    assert result.diagnostics["min_ess_tail"] == 3.5 and result.diagnostics["n_ranks"] == 4
    assert (result.ranks["n_ranks"] == 4).all()


def test_sbc_is_reproducible_and_data_sets_independent(three, short_task):
    again = sbc(AGENT, short_task, n_datasets=3, seed=11, **TINY)
    pd.testing.assert_frame_equal(three.ranks, again.ranks)
    # one data set alone is the same as in the full run (what resuming relies on)
    alone = sbc_dataset(AGENT, short_task, 1, seed=11, **TINY)
    pd.testing.assert_frame_equal(
        alone.ranks,
        three.ranks[three.ranks["dataset"] == 1]
        .drop(columns=["dataset", "tested"])
        .reset_index(drop=True),
    )
    other = sbc(AGENT, short_task, n_datasets=1, seed=12, **TINY)
    assert not np.allclose(
        other.ranks["true"], three.ranks.loc[three.ranks["dataset"] == 0, "true"]
    )


def test_dataset_record_round_trips(three, short_task):
    result = sbc_dataset(AGENT, short_task, 0, seed=11, **TINY)
    back = DatasetResult.from_record(json.loads(json.dumps(result.to_record())))
    pd.testing.assert_frame_equal(back.ranks, result.ranks)
    assert back.diagnostics == result.diagnostics


def test_sbc_refuses_bad_inputs(short_task):
    with pytest.raises(ValueError, match="n_datasets must be an integer ≥ 1"):
        sbc(AGENT, short_task, n_datasets=0)
    with pytest.raises(ValueError, match="n_participants must be an integer ≥ 2"):
        sbc(AGENT, short_task, n_datasets=2, n_participants=1)
    with pytest.raises(ValueError, match="sbc draws no covariates"):
        sbc(AGENT, short_task, n_datasets=2, covariates={"beta1": ["age"]})
    with pytest.raises(ValueError, match="unknown agent|no agent|not an agent"):
        sbc("nope", short_task, n_datasets=2)


class Interrupt(Exception):
    pass


def test_resume_after_an_interruption_gives_the_same_result(tmp_path, short_task):
    """A run stopped after its first data set resumes with the other two only, and its
    files equal those of a run that was never interrupted."""
    whole = tmp_path / "whole"
    sbc_to_folder(whole, AGENT, short_task, 3, seed=11, say=lambda line: None, **TINY)

    def stop_after_first(line):
        if line.startswith("dataset 1/3"):
            raise Interrupt

    part = tmp_path / "part"
    with pytest.raises(Interrupt):
        sbc_to_folder(part, AGENT, short_task, 3, seed=11, say=stop_after_first, **TINY)
    assert [p.name for p in (part / "datasets").iterdir()] == ["0000.json"]
    assert not (part / "done.json").exists()
    lines = []
    sbc_to_folder(part, AGENT, short_task, 3, seed=11, say=lines.append, **TINY)
    assert lines[0].startswith("1 of 3 data sets already done")
    assert [line.split(":")[0] for line in lines[1:]] == ["dataset 2/3", "dataset 3/3"]
    for name in ("ranks.csv", "summary.csv"):
        assert (part / name).read_text() == (whole / name).read_text(), name
    diagnostics = pd.read_csv(part / "diagnostics.csv").drop(columns="seconds")
    expected = pd.read_csv(whole / "diagnostics.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(diagnostics, expected)
    assert json.loads((part / "done.json").read_text())["datasets"] == 3
    # a data set fitted by other kernel sources is fitted again, not mixed in
    record = json.loads((part / "datasets" / "0001.json").read_text())
    (part / "datasets" / "0001.json").write_text(json.dumps(record | {"kernels": "older"}))
    lines = []
    sbc_to_folder(part, AGENT, short_task, 3, seed=11, say=lines.append, **TINY)
    assert lines[:2] == [
        f"2 of 3 data sets already done in {part / 'datasets'}/",
        f"1 data sets in {part / 'datasets'}/ were fitted with other kernel sources: fitting "
        "them again",
    ]
    assert lines[2].startswith("dataset 2/3") and len(lines) == 3
    refitted = json.loads((part / "datasets" / "0001.json").read_text())
    for fitted in (refitted, record):
        fitted.pop("seconds")  # the one thing a refit may change
    assert refitted == record  # the same data set again, with today's kernel hash
    # other settings in the same folder are refused before any work
    with pytest.raises(ValueError, match="other settings .*seed"):
        sbc_to_folder(part, AGENT, short_task, 3, seed=12, say=lines.append, **TINY)


def test_settings_guard_the_task_file_priors_and_version(tmp_path, short_task):
    """settings.json holds the task as loaded, the resolved hyperpriors, the rank method
    and cogarb's version: an edited task TOML at the same path, or other priors, is
    refused as other settings, before any work."""
    from cogarb.sbc import RANK_METHOD, hyperpriors

    task = tmp_path / "task.toml"
    task.write_text(open(short_task).read())
    out = tmp_path / "run"
    sbc_to_folder(out, AGENT, str(task), 1, seed=11, say=lambda line: None, **TINY)
    settings = json.loads((out / "settings.json").read_text())
    assert settings["cogarb"] == cogarb.__version__ and settings["ranks"] == RANK_METHOD
    assert settings["task_spec"]["n_trials"] == 40 and "source" not in settings["task_spec"]
    expected = json.loads(json.dumps(hyperpriors(cogarb.get_agent(AGENT))))
    assert settings["hyperpriors"] == expected
    before = sorted(p.name for p in out.iterdir())
    task.write_text(task.read_text().replace("drift_sd = 0.025", "drift_sd = 0.05"))
    with pytest.raises(ValueError, match=r"other settings \(task_spec differ\)"):
        sbc_to_folder(out, AGENT, str(task), 1, seed=11, say=lambda line: None, **TINY)
    task.write_text(open(short_task).read())
    with pytest.raises(ValueError, match=r"other settings \(fit_options, hyperpriors differ\)"):
        sbc_to_folder(out, AGENT, str(task), 1, seed=11, say=lambda line: None,
                      priors={"beta1": {"scale": 0.3}}, **TINY)  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == before  # nothing was touched
    with pytest.raises(ValueError, match="unknown key"):  # the fit's own prior validation
        sbc_to_folder(tmp_path / "bad", AGENT, str(task), 1, say=print,
                      priors={"beta1": {"sd": 0.3}}, **TINY)  # fmt: skip


def test_cli_sbc_end_to_end(tmp_path, short_task, capsys):
    out = tmp_path / "sbc"
    argv = ["sbc", AGENT, "--task", short_task, "--datasets", "2", "--participants", "3",
            "--draws", "30", "--tune", "30", "--seed", "11", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "dataset 1/2:" in printed and "dataset 2/2:" in printed
    # mb: 4 parameters, 12 tests at 95% each
    assert "of 12 parameters inside the 95% band; with 12 tests at 95% each, about 0.6 " \
        "outside are expected under calibration; " in printed  # fmt: skip
    done = json.loads((out / "done.json").read_text())
    assert done["expected_outside"] == pytest.approx(0.6) and done["parameters"] == 12
    for name in ("ranks.csv", "diagnostics.csv", "summary.csv", "sbc.png", "sbc.pdf",
                 "done.json", "settings.json", "datasets/0001.json"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob("**/.*"))  # no temporary file left behind
    summary = pd.read_csv(out / "summary.csv", index_col="parameter")
    assert set(summary.index) == {
        f"{n}{s}" for n in cogarb.get_agent(AGENT).parameter_names for s in ("_loc", "_scale", "")
    }
    assert main(argv) == 0  # a rerun reads every data set back
    assert "2 of 2 data sets already done" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["nope"], "unknown agent 'nope'"),
        (["mb", "--datasets", "0"], "--datasets"),
        (["mb", "--participants", "1"], "--participants"),
    ],
)
def test_cli_sbc_errors_exit_2(tmp_path, capsys, extra, message):
    try:
        code = main(["sbc", *extra, "--out", str(tmp_path / "o")])
    except SystemExit as exit_:  # argparse's own checks
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("cogarb: error:") and message in err
    assert not (tmp_path / "o").exists()


def test_sbc_figure_has_a_panel_per_parameter(three):
    from cogarb.plots import sbc_ecdf_difference

    figure = sbc_ecdf_difference(three)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(visible) == len(three.parameters)
    assert {ax.get_title().split()[0] for ax in visible} == set(three.parameters)


def test_recover_seeds_tables_each_cohort(short_task):
    """recover_seeds: one recover() per spawned seed; the table holds each cohort's own
    r and coverage, and the summary their mean and minimum."""
    from cogarb.recovery import cohort_seeds, recover, recover_seeds

    seeds = cohort_seeds(5, 2)
    assert seeds == cohort_seeds(5, 2) and len(set(seeds)) == 2
    assert all(0 <= s < 2**62 for s in seeds)
    options = {"draws": 30, "tune": 30, "chains": 2, "progress": False}
    result = recover_seeds("mb", short_task, 3, n_seeds=2, seed=5, **options)
    assert result.per_seed["seed"].unique().tolist() == seeds
    second = recover("mb", short_task, 3, seed=seeds[1], **options).summary
    mine = result.per_seed[result.per_seed["cohort"] == 1].set_index("parameter")
    assert np.allclose(mine["r"], second.loc[mine.index, "r"])
    assert np.allclose(mine["coverage"], second.loc[mine.index, "coverage"])
    by = result.per_seed.groupby("parameter")
    assert np.allclose(result.summary["r_mean"], by["r"].mean()[result.summary.index])
    assert np.allclose(result.summary["coverage_min"], by["coverage"].min()[result.summary.index])
    with pytest.raises(ValueError, match="number of seeds"):
        cohort_seeds(0, 0)


def synthetic_results(agent, n_datasets, n_participants, draw):
    """DatasetResults of ``agent`` with u = ``draw(key, participant_index, dataset)``
    (``participant_index`` None for group parameters)."""
    results = []
    for k in range(n_datasets):
        rows = []
        for name in agent.parameter_names:
            for key in (f"{name}_loc", f"{name}_scale"):
                u = draw(key, None, k)
                rows.append((key, "", 0.0, int(u * 100), 100, u))
            for i in range(n_participants):
                u = draw(name, i, k)
                rows.append((name, f"P{i}", 0.0, int(u * 100), 100, u))
        ranks = pd.DataFrame(rows, columns=["parameter", "participant", "true", "rank",
                                            "n_ranks", "u"])  # fmt: skip
        found = {"max_rhat": 1.0, "min_ess_bulk": 500.0, "divergences": 0, "tree_depth_hits": 0,
                 "min_ess_tail": 400.0, "n_ranks": 100}  # fmt: skip
        results.append(DatasetResult(k, ranks, found, 1.0))
    return results


def test_summary_flags_the_miscalibrated_parameter():
    """sbc_result on 200 synthetic data sets of mb: uniform u everywhere but beta1_loc,
    whose u are biased (u^0.6). beta1_loc is outside the band. Each of the 11
    calibrated parameters is an exact test of N = 200 independent uniform values (a
    participant parameter's values are one participant per data set), inside with
    probability ≥ 0.95 (test_band_has_its_simultaneous_coverage; measured 0.948 at
    n = 200, within its Monte Carlo error); the 11 are independent here, so fewer
    than 9 of them inside has probability ≈ 1.5-1.7% (binomial, 11 × 0.95-0.948)."""
    from cogarb.sbc import sbc_result

    agent = cogarb.get_agent("mb")
    rng = np.random.default_rng(0)
    results = synthetic_results(
        agent, 200, 4, lambda key, i, k: rng.random() ** (0.6 if key == "beta1_loc" else 1.0)
    )
    result = sbc_result(reversed(results), agent)  # any order: sorted by data set
    summary = result.summary
    assert result.band.n == 200 and list(result.diagnostics["dataset"]) == list(range(200))
    assert not summary.loc["beta1_loc", "inside_band"]
    assert summary.loc["beta1_loc", "max_deviation"] > 0.15  # expected max |z^(1/0.6) − z| ≈ 0.19
    calibrated = summary.drop(index="beta1_loc")
    assert calibrated["inside_band"].sum() >= 9
    # every test is of one value per data set; the pooled participants are counted apart
    assert (summary["n"] == 200).all()
    assert (summary.loc[list(agent.parameter_names), "n_ranked"] == 800).all()
    assert (summary.loc[["alpha2_loc", "p_scale"], "n_ranked"] == 200).all()


def test_participants_are_tested_one_per_data_set():
    """The band test of a participant parameter uses participant k mod n of data set
    k: here those values are the uniform grid (k + 0.5)/N, reordered, and every other
    participant's value is 0.999, so the pooled ECDF (3/4 of it at 0.999) is far
    outside the band while the tested values are inside with maximum deviation
    0.5/N."""
    from cogarb.sbc import sbc_result

    agent = cogarb.get_agent("mb")
    n_datasets, n = 40, 4
    grid = (np.random.default_rng(3).permutation(n_datasets) + 0.5) / n_datasets

    def draw(key, i, k):
        if i is None:
            return grid[k]
        return grid[k] if i == k % n else 0.999

    result = sbc_result(synthetic_results(agent, n_datasets, n, draw), agent)
    for name in agent.parameter_names:
        row = result.summary.loc[name]
        assert row["inside_band"] and row["n"] == n_datasets, name
        assert row["max_deviation"] == pytest.approx(max_deviation(grid, result.band.z)), name
        tested = result.ranks[(result.ranks["parameter"] == name) & result.ranks["tested"]]
        assert (tested["participant"] == [f"P{k % n}" for k in range(n_datasets)]).all()
        assert not inside(result.ranks.loc[result.ranks["parameter"] == name, "u"],
                          result.band)  # the pooled ECDF: kept for the figure only  # fmt: skip
    assert result.ranks.loc[result.ranks["participant"] == "", "tested"].all()


def test_multiplicity_is_stated():
    """M tests at 1 − α each: about α·M outside under calibration (mb: 12 tests, 0.6)."""
    from cogarb.sbc import band_line, sbc_result

    agent = cogarb.get_agent("mb")
    rng = np.random.default_rng(5)
    result = sbc_result(synthetic_results(agent, 30, 3, lambda *_: rng.random()), agent)
    assert result.expected_outside == pytest.approx(0.05 * 12)
    inside_count = int(result.summary["inside_band"].sum())
    assert band_line(result) == (
        f"{inside_count} of 12 parameters inside the 95% band; with 12 tests at 95% each, "
        "about 0.6 outside are expected under calibration"
    )
    hybrid = cogarb.get_agent("hybrid")
    result = sbc_result(synthetic_results(hybrid, 30, 2, lambda *_: rng.random()), hybrid, 0.1)
    assert result.expected_outside == pytest.approx(0.1 * 3 * len(hybrid.parameter_names))
