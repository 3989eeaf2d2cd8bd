"""The paper's figure pipeline: numbers, template, and `cogarb figures --quick`."""

import json
import re
import string
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.analysis import predictive_stay_probabilities, stay_probabilities
from cogarb.fitting import SamplingWarning
from cogarb.paper import (
    FIGURES,
    PaperSettings,
    choose_blocks,
    figure_comparison,
    figure_novelty,
    figure_stay,
    load_manifest,
    make_figures,
    render_paper,
)


@pytest.fixture(scope="module")
def manifest(repo):
    return load_manifest(repo / "paper" / "manifest.toml")


TINY = PaperSettings(
    "tiny",
    simulated_participants=12,
    fit_participants=6,
    draws=20,
    tune=20,
    chains=1,
    real_participants=5,
    ppc_draws=3,
)


def _predictive(trials: pd.DataFrame, draws: list[pd.DataFrame]):
    """An InferenceData whose posterior_predictive holds the given trial tables."""
    import arviz as az
    import xarray as xr

    keep = ~trials["missed"].to_numpy()
    coords = {
        "chain": [0],
        "draw": np.arange(len(draws)),
        "obs": np.arange(int(keep.sum())),
        "participant": ("obs", trials["participant"].astype(str).to_numpy()[keep]),
        "trial": ("obs", trials["trial"].to_numpy()[keep]),
    }
    data = {
        name: xr.DataArray(
            np.stack([d[name].to_numpy()[keep] for d in draws])[None],
            dims=("chain", "draw", "obs"),
            coords=coords,
        )
        for name in ("choice1", "state2", "choice2", "reward", "common")
    }
    return az.InferenceData(posterior_predictive=xr.Dataset(data))


def test_predictive_stays_of_the_observed_data_are_the_observed_stays():
    trials = cogarb.simulate("daw2011", "hybrid", {}, n_participants=6, seed=4)
    trials["missed"] = False
    trials.loc[[5, 17, 300], ["choice1", "state2", "choice2", "reward", "common"]] = np.nan
    trials.loc[[5, 17, 300], "missed"] = True
    trials = cogarb.validate_trials(trials)
    assert trials["missed"].sum() == 3
    observed = stay_probabilities(trials, by=None).group.set_index(
        ["previous_reward", "transition"]
    )
    other = cogarb.simulate("daw2011", "mf", {}, n_participants=6, seed=5)
    predicted = predictive_stay_probabilities(
        trials, _predictive(trials, [trials, trials]), by=None
    )
    predicted = predicted.set_index(["previous_reward", "transition"])
    assert np.allclose(predicted["mean"], observed["mean"], atol=1e-12)
    assert np.allclose(predicted["ci_low"], predicted["ci_high"])  # two identical draws
    # a draw of other choices moves the summary: the draws are really used
    mixed = predictive_stay_probabilities(trials, _predictive(trials, [trials, other]), by=None)
    assert not np.allclose(mixed["mean"], observed["mean"].to_numpy())


def test_predictive_stays_need_matching_trials():
    trials = cogarb.validate_trials(cogarb.simulate("daw2011", "hybrid", {}, n_participants=3))
    idata = _predictive(trials, [trials])
    with pytest.raises(ValueError, match="not in `trials`"):
        predictive_stay_probabilities(trials[trials["trial"] > 5], idata)


def test_render_paper_fills_numbers_and_names_a_missing_one():
    assert render_paper("w = {w:.2f} in {figures}/F1.png", {"w": 0.391, "figures": "f"}) == (
        "w = 0.39 in f/F1.png"
    )
    assert render_paper("L ∈ {{0, 1}}, n = {n}", {"n": 3}) == "L ∈ {0, 1}, n = 3"
    with pytest.raises(KeyError, match=r"\{beta\}"):
        render_paper("{w} and {beta}", {"w": 1})


BLOCKS = """A.
<!-- if fit_converged -->
w = {w:.2f}.
<!-- else -->
not converged ({fit_problems}).
<!-- end -->
B.
<!-- if other_converged -->
x = {x}.
<!-- end -->
C.
"""


def test_paper_blocks_state_a_fits_numbers_only_when_it_converged():
    converged = {"fit_converged": True, "w": 0.391, "other_converged": True, "x": 2}
    assert render_paper(BLOCKS, converged) == "A.\nw = 0.39.\nB.\nx = 2.\nC.\n"
    # the dropped branch's fields need no number: an unconverged fit computes none
    unconverged = {"fit_converged": False, "fit_problems": "max R-hat 1.200"}
    unconverged["other_converged"] = False
    assert render_paper(BLOCKS, unconverged) == "A.\nnot converged (max R-hat 1.200).\nB.\nC.\n"
    with pytest.raises(KeyError, match="<!-- if other_converged -->"):
        choose_blocks(BLOCKS, {"fit_converged": True})
    with pytest.raises(TypeError, match="true/false"):
        choose_blocks(BLOCKS, {"fit_converged": 1, "other_converged": True})
    # a marker the syntax does not take would show both branches: refused, never rendered
    for broken in (BLOCKS.replace("<!-- end -->\nB.", "<!-- end -->B."),
                   BLOCKS.replace("<!-- if other", "<!--  if other"),
                   "<!-- if a -->\n<!-- if b -->\nx\n<!-- end -->\n<!-- end -->\n"):  # fmt: skip
        with pytest.raises(ValueError, match="malformed block marker"):
            choose_blocks(broken, {"fit_converged": True, "other_converged": True, "a": True,
                                   "b": True})  # fmt: skip


GOOD = {"max_rhat": 1.01, "max_rhat_variable": "mu_w", "min_ess_bulk": 400.0,
        "min_ess_bulk_variable": "mu_p", "divergences": 0, "tree_depth_hits": 0,
        "draws": 4000, "chains": 4}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),  # exactly at both thresholds: converged
        ({"max_rhat": 1.0101}, "max R-hat 1.010 > 1.01 (mu_w)"),
        ({"min_ess_bulk": 399.4}, "min bulk ESS 399 < 400 (mu_p)"),
        ({"divergences": 1}, "1 divergent transitions"),
        ({"tree_depth_hits": 3}, "3 of 4000 draws at the tree-depth limit"),
        ({"max_rhat": None, "max_rhat_note": "R-hat is undefined for one chain"},
         "R-hat is undefined for one chain"),
        ({"min_ess_bulk_undefined": ["p_scale"]}, "R-hat and ESS undefined for p_scale"),
    ],
)  # fmt: skip
def test_fit_verdict_applies_every_threshold(change, problem):
    from cogarb.paper import fit_verdict

    verdict = fit_verdict("f9", GOOD | change)
    assert verdict["f9_converged"] is (problem is None)
    assert verdict["f9_problems"] == (problem or "")
    assert verdict["f9_diagnostics"] == GOOD | change


def test_stay_figure_numbers_show_the_published_signatures():
    made = figure_stay(TINY)
    numbers = made.numbers
    # model-free: reward main effect, no interaction; model-based: the crossover
    assert numbers["f1_mf_reward"] > 0.2 and abs(numbers["f1_mf_interaction"]) < 0.15
    assert numbers["f1_mb_interaction"] > 0.2 and numbers["f1_mb_rr"] < numbers["f1_mb_rc"]
    assert len(made.figure.get_axes()) == 4


def test_novelty_numbers_rise_after_new_states():
    numbers = figure_novelty(TINY).numbers
    assert numbers["f3_new_states_event"] == 101
    assert numbers["f3_new_states_peak"] > numbers["f3_new_states_before"] + 0.1


def _finished_comparison(
    fits_dir: Path, dataset: str, table: pd.DataFrame, diagnostics: dict = GOOD,
    by_participant: pd.DataFrame | None = None,
) -> None:  # fmt: skip
    """A dataset folder whose fits and comparison are finished, as `cogarb fit` leaves it."""
    from cogarb.fitspec import load_fit_spec
    from cogarb.runs import write_comparison, write_done_marker, write_json

    folder = fits_dir / dataset
    folder.mkdir(parents=True)
    cogarb.write_trials(cogarb.simulate("daw2011", "mf", n_participants=2), folder / "t.csv")
    fits = "".join(f'[[fit]]\nname = "{n}"\nagent = "{n}"\n' for n in table.index)
    compared = ", ".join(f'"{n}"' for n in table.index)
    (folder / "fit.toml").write_text(
        f'[data]\npath = "t.csv"\n{fits}[compare]\nfits = [{compared}]\n'
    )
    spec = load_fit_spec(folder / "fit.toml")
    fingerprints = {job.name: spec.fingerprint(job) for job in spec.fits}
    for name, fingerprint in fingerprints.items():
        (spec.out / name).mkdir(parents=True)
        (spec.out / name / "posterior.nc").write_text("a posterior")
        write_json(spec.out / name / "diagnostics.json", diagnostics)
        write_done_marker(spec.out / name, fingerprint, 1.0, name)
    write_comparison(spec.out, table, fingerprints, by_participant)


def test_full_comparison_reads_finished_fits_only_and_names_the_rest(tmp_path, manifest):
    table = pd.DataFrame({"elpd_diff": [0.0, 5.0], "dse": [0.0, 2.0]}, index=["hybrid", "mf"])
    _finished_comparison(tmp_path, "kool2016_daw", table)  # written before by-participant
    _finished_comparison(tmp_path, "gillan2016_study1", table, by_participant=table)
    reversed_ = pd.DataFrame(
        {"elpd_diff": [0.0, 1.5], "dse": [0.0, 0.9], "warning": [False, False]},
        index=["mf", "hybrid"],
    )
    unreliable = table.assign(warning=[True, False])  # a participant's Pareto k above 0.7
    _finished_comparison(tmp_path, "feherdasilva2020_spaceship", table, by_participant=unreliable)
    _finished_comparison(tmp_path, "hbayesdm_ts_example", table, by_participant=reversed_)
    _finished_comparison(tmp_path, "kool2016_novel", table)
    _finished_comparison(tmp_path, "kool2017_daw_stakes", table)
    unconverged = GOOD | {"max_rhat": 1.8, "divergences": 550}
    _finished_comparison(tmp_path, "castro_rodrigues2022", table, unconverged)
    (tmp_path / "kool2016_novel" / "out" / "mf" / "done.json").unlink()  # interrupted refit
    other = cogarb.simulate("daw2011", "mf", n_participants=2, seed=9)  # data changed since
    cogarb.write_trials(other, tmp_path / "kool2017_daw_stakes" / "t.csv")
    full = PaperSettings("full", 10, 10, 10, 10, 1, None, 2)
    made = figure_comparison(full, tmp_path, manifest)
    assert made.numbers["f5_datasets"] == 4  # only the comparisons whose fits are finished
    assert made.numbers["f5_summary"] == (
        "hBayesDM example: hybrid first, mf 5.0 ± 2.0 behind (leaving out participants: mf "
        "first, hybrid 1.5 ± 0.9 behind); Gillan 2016, study 1: hybrid first, mf 5.0 ± 2.0 "
        "behind (the same order leaving out participants); Kool 2016, Daw task: hybrid first, "
        "mf 5.0 ± 2.0 behind (not checked leaving out participants: rerun the comparison); "
        "Feher da Silva 2020, spaceship: hybrid first, mf 5.0 ± 2.0 behind (not checked "
        "leaving out participants: PSIS-LOO is unreliable there (Pareto k too high); K-fold "
        "cross-validation over participants would check it)"
    )
    # finished and current, but a compared fit has not converged: its ranking is not stated
    assert made.numbers["f5_withheld"] == (
        "Castro-Rodrigues 2022 (hybrid: max R-hat 1.800 > 1.01 (mu_w); 550 divergent "
        "transitions; mf: max R-hat 1.800 > 1.01 (mu_w); 550 divergent transitions)"
    )
    assert "Castro-Rodrigues 2022" not in made.numbers["f5_summary"]
    assert any("Castro-Rodrigues 2022" in note for note in made.notes)
    for dataset in ("kool2016_novel", "kool2017_daw_stakes"):  # unfinished, stale: not used
        assert any(dataset in note and "compare.csv" in note for note in made.notes), dataset
    assert any("gillan2016_study2" in note for note in made.notes)  # no folder at all
    with pytest.raises(FileNotFoundError, match="no finished model comparison"):
        figure_comparison(full, tmp_path / "empty", manifest)


def test_make_figures_checks_names_and_the_fits_folder(tmp_path, manifest):
    with pytest.raises(KeyError, match="F9"):
        next(make_figures(TINY, tmp_path, ["F9"], manifest))
    with pytest.raises(FileNotFoundError, match="--fits"):
        next(make_figures(TINY, tmp_path, ["F6"], manifest))
    message = f"{tmp_path}/ has no gillan2016_study2/fit.toml: run from the repository root"
    with pytest.raises(FileNotFoundError, match=re.escape(message)):
        next(make_figures(TINY, tmp_path, ["F5"], manifest))
    # the real-data figures need the manifest: a missing file is named, with the way out
    with pytest.raises(FileNotFoundError, match=r"nowhere\.toml: no such file.*--fits"):
        next(make_figures(TINY, tmp_path, ["F6"], tmp_path / "nowhere.toml"))
    with pytest.raises(FileNotFoundError, match="manifest"):
        next(make_figures(TINY, tmp_path, ["F5"]))
    assert next(make_figures(TINY, None, ["F3"])).name == "F3_novelty"  # none needed


def test_the_manifest_names_the_papers_datasets_and_fits(repo, manifest):
    assert manifest.quick_comparison == "hbayesdm_ts_example"
    assert list(manifest.compared)[:3] == [
        "hbayesdm_ts_example",
        "gillan2016_study1",
        "gillan2016_study2",
    ]
    assert manifest.compared["kool2016_daw"] == "Kool 2016, Daw task"
    assert (manifest.predictive_dataset, manifest.predictive_fit) == (
        "gillan2016_study2",
        "hybrid_factors",
    )
    assert [(s.dataset, s.key, s.fit) for s in manifest.stakes] == [
        ("kool2017_novel_stakes", "novel", "hybrid_stakes"),
        ("kool2017_daw_stakes", "daw", "hybrid_stakes"),
    ]
    for dataset in [*manifest.compared, manifest.predictive_dataset]:  # every folder exists
        assert (repo / "fits" / dataset / "fit.toml").is_file(), dataset
    from cogarb.fitspec import load_fit_spec

    named = [(manifest.predictive_dataset, manifest.predictive_fit)]
    named += [(s.dataset, s.fit) for s in manifest.stakes]
    for dataset, fit in named:  # and every fit it names is a fit of that folder's fit.toml
        spec = load_fit_spec(repo / "fits" / dataset / "fit.toml")
        assert fit in [job.name for job in spec.fits], (dataset, fit)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('quick = "hbayesdm_ts_example"', 'quick = "nope"'),
         "comparison.quick is 'nope', not one of comparison.datasets"),
        (lambda t: t.replace('fit = "hybrid_factors"\n', ""), "predictive.fit must be a string"),
        (lambda t: t.replace('key = "daw"', "key = 3"), r"stakes\[1\]\.key must be a string"),
        (lambda t: t.replace("[predictive]", "[predictive"), "not valid TOML"),
        (lambda t: t.replace('covariates = ["compulsivity"', 'covariates = [1, "compulsivity"'),
         "predictive.covariates must be a list of strings"),
    ],
)  # fmt: skip
def test_manifest_errors_name_the_file_and_entry(repo, tmp_path, edit, message):
    text = (repo / "paper" / "manifest.toml").read_text()
    path = tmp_path / "manifest.toml"
    path.write_text(edit(text))
    with pytest.raises(ValueError, match=message) as error:
        load_manifest(path)
    assert str(path) in str(error.value)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_manifest(tmp_path / "missing.toml")


def test_make_paper_saves_figures_and_numbers_and_keeps_the_others(tmp_path):
    """F3 alone (simulation only), twice: numbers.json keeps what --only leaves out."""
    from cogarb.workflows import make_paper

    said = []
    numbers = make_paper(TINY, tmp_path, only=["F3"], say=said.append)
    assert said[0] == f"making figures F3 (tiny settings) in {tmp_path}/"
    assert said[1].startswith("  F3_novelty.png/.pdf: ") and said[-1].endswith(f"-> {tmp_path}/")
    for suffix in (".png", ".pdf"):
        assert (tmp_path / f"F3_novelty{suffix}").stat().st_size > 10_000
    assert json.loads((tmp_path / "numbers.json").read_text()) == json.loads(
        json.dumps(numbers, default=float)
    )
    assert numbers["f3_new_states_event"] == 101 and numbers["settings"] == "tiny"
    kept = {**numbers, "f1_participants": 12}  # as if F1 had been made earlier
    (tmp_path / "numbers.json").write_text(json.dumps(kept))
    again = make_paper(TINY, tmp_path, only=["F3"], say=said.append)
    assert again["f1_participants"] == 12
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    with pytest.raises(ValueError, match="unknown figure 'F9'"):
        make_paper(TINY, tmp_path, only=["F9"])


def test_figures_quick_makes_every_figure_and_fills_the_paper(repo, tmp_path, capsys):
    """`cogarb figures --quick` end to end (about 4 minutes): the CI run of issue 6."""
    from cogarb.cli import main

    out = tmp_path / "figs"
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplingWarning)
        code = main(["figures", "--quick", "--out", str(out), "--fits", str(repo / "fits")])
    assert code == 0
    for key in FIGURES:
        for suffix in (".png", ".pdf"):
            (path,) = out.glob(f"{key}_*{suffix}")
            assert path.stat().st_size > 10_000, path
    numbers = json.loads((out / "numbers.json").read_text())
    assert numbers["settings"] == "quick" and numbers["f6_gillan_participants"] == 40
    template = choose_blocks((repo / "paper" / "paper_template.md").read_text(), numbers)
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    assert fields - {"figures"} <= set(numbers)
    paper = (out / "paper.md").read_text()
    assert not re.search(r"\{[a-z_0-9]+(:[^}]*)?\}", paper) and "](./F6_real_data.png)" in paper
    assert "<!-- if" not in paper and "<!-- end -->" not in paper
    # quick fits (2 chains × 300 draws) cannot reach a bulk ESS of 400: none is quoted
    for prefix in ("f2_fit", "f4_fit", "f6_gillan", "f6_novel", "f6_daw"):
        assert numbers[f"{prefix}_converged"] is False, prefix
        assert numbers[f"{prefix}_problems"] in paper, prefix
    assert numbers["f5_converged"] is False and "No model comparison is stated" in paper
    printed = capsys.readouterr().out  # each unconverged fit said once, not as warnings
    assert "    note: fit f4_fit has not converged (" in printed
    assert not {"f2_fit_w_0", "f4_r_w", "f6_slope_compulsivity_mean", "f6_novel_w_low"} & set(
        numbers
    )
    assert not list(out.glob(".*"))  # no temporary file left behind


def test_full_real_data_figure_names_the_missing_fit_and_its_command(repo, tmp_path, manifest):
    import shutil

    from cogarb.paper import figure_real_data

    shutil.copytree(repo / "fits" / "gillan2016_study2", tmp_path / "gillan2016_study2",
                    ignore=shutil.ignore_patterns("out"))  # fmt: skip
    full = PaperSettings("full", 10, 10, 10, 10, 1, None, 2)
    with pytest.raises(FileNotFoundError, match="--only hybrid_factors"):
        figure_real_data(full, tmp_path, manifest)


def test_figures_cli_rejects_unknown_figures_and_mixed_settings(tmp_path, capsys):
    from cogarb.cli import main

    assert main(["figures", "--quick", "--out", str(tmp_path), "--only", "f2"]) == 2
    assert "--only f2: the figures are F1, F2" in capsys.readouterr().err
    (tmp_path / "numbers.json").write_text(json.dumps({"settings": "full", "seed": 1}))
    assert main(["figures", "--quick", "--out", str(tmp_path), "--only", "F1"]) == 2
    assert "holds numbers of full settings" in capsys.readouterr().err
    assert not list(tmp_path.glob("F1_*"))  # refused before any work


def test_a_converged_recovery_fit_is_quoted_and_an_unconverged_one_is_not(monkeypatch):
    """The same tiny fit, judged converged (thresholds patched) and as it is."""
    import cogarb.fitting
    from cogarb.paper import figure_recovery

    unconverged = figure_recovery(TINY)  # 1 chain × 20 draws: R-hat undefined, ESS tiny
    assert unconverged.numbers["f4_fit_converged"] is False
    assert "f4_r_w" not in unconverged.numbers
    assert len(unconverged.figure.get_axes()) == 1  # the notice alone, no estimates
    monkeypatch.setattr(cogarb.fitting, "convergence_problems", lambda found: [])
    converged = figure_recovery(TINY)
    assert converged.numbers["f4_fit_converged"] is True
    assert -1 <= converged.numbers["f4_r_w"] <= 1
    assert len(converged.figure.get_axes()) >= 7  # one panel per parameter
