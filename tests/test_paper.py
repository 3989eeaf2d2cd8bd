"""The paper's figure pipeline: numbers, template, and `cogarb figures --quick`."""

import json
import re
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.analysis import predictive_stay_probabilities, stay_probabilities
from cogarb.paper import (
    FIGURES,
    PaperSettings,
    figure_comparison,
    figure_novelty,
    figure_stay,
    make_figures,
    render_paper,
)

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


def _finished_comparison(fits_dir: Path, dataset: str, table: pd.DataFrame) -> None:
    """A dataset folder whose fits and comparison are finished, as `cogarb fit` leaves it."""
    from cogarb.fitspec import load_fit_spec
    from cogarb.runs import write_comparison, write_done_marker

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
        write_done_marker(spec.out / name, fingerprint, 1.0, name)
    write_comparison(spec.out, table, fingerprints)


def test_full_comparison_reads_finished_fits_only_and_names_the_rest(tmp_path):
    table = pd.DataFrame({"elpd_diff": [0.0, 5.0], "dse": [0.0, 2.0]}, index=["hybrid", "mf"])
    _finished_comparison(tmp_path, "kool2016_daw", table)
    _finished_comparison(tmp_path, "kool2016_novel", table)
    _finished_comparison(tmp_path, "kool2017_daw_stakes", table)
    (tmp_path / "kool2016_novel" / "out" / "mf" / "done.json").unlink()  # interrupted refit
    other = cogarb.simulate("daw2011", "mf", n_participants=2, seed=9)  # data changed since
    cogarb.write_trials(other, tmp_path / "kool2017_daw_stakes" / "t.csv")
    full = PaperSettings("full", 10, 10, 10, 10, 1, None, 2)
    made = figure_comparison(full, tmp_path)
    assert made.numbers["f5_datasets"] == 1  # only the comparison whose fits are finished
    assert made.numbers["f5_summary"] == "Kool 2016, Daw task: hybrid first, mf 5.0 ± 2.0 behind"
    for dataset in ("kool2016_novel", "kool2017_daw_stakes"):  # unfinished, stale: not used
        assert any(dataset in note and "compare.csv" in note for note in made.notes), dataset
    assert any("gillan2016_study2" in note for note in made.notes)  # no folder at all
    with pytest.raises(FileNotFoundError, match="no finished model comparison"):
        figure_comparison(full, tmp_path / "empty")


def test_make_figures_checks_names_and_the_fits_folder(tmp_path):
    with pytest.raises(KeyError, match="F9"):
        next(make_figures(TINY, tmp_path, ["F9"]))
    with pytest.raises(FileNotFoundError, match="--fits"):
        next(make_figures(TINY, tmp_path, ["F6"]))


def test_figures_quick_makes_every_figure_and_fills_the_paper(repo, tmp_path, capsys):
    """`cogarb figures --quick` end to end (about 4 minutes): the CI run of issue 6."""
    from cogarb.cli import main

    out = tmp_path / "figs"
    assert main(["figures", "--quick", "--out", str(out), "--fits", str(repo / "fits")]) == 0
    for key in FIGURES:
        for suffix in (".png", ".pdf"):
            (path,) = out.glob(f"{key}_*{suffix}")
            assert path.stat().st_size > 10_000, path
    numbers = json.loads((out / "numbers.json").read_text())
    assert numbers["settings"] == "quick" and numbers["f6_gillan_participants"] == 40
    template = (repo / "paper" / "paper_template.md").read_text()
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    assert fields - {"figures"} <= set(numbers)
    paper = (out / "paper.md").read_text()
    assert not re.search(r"\{[a-z_0-9]+(:[^}]*)?\}", paper) and "](./F6_real_data.png)" in paper
    assert not list(out.glob(".*"))  # no temporary file left behind


def test_full_real_data_figure_names_the_missing_fit_and_its_command(repo, tmp_path):
    import shutil

    from cogarb.paper import figure_real_data

    shutil.copytree(repo / "fits" / "gillan2016_study2", tmp_path / "gillan2016_study2",
                    ignore=shutil.ignore_patterns("out"))  # fmt: skip
    full = PaperSettings("full", 10, 10, 10, 10, 1, None, 2)
    with pytest.raises(FileNotFoundError, match="--only hybrid_factors"):
        figure_real_data(full, tmp_path)


def test_figures_cli_rejects_unknown_figures_and_mixed_settings(tmp_path, capsys):
    from cogarb.cli import main

    assert main(["figures", "--quick", "--out", str(tmp_path), "--only", "f2"]) == 2
    assert "--only f2: the figures are F1, F2" in capsys.readouterr().err
    (tmp_path / "numbers.json").write_text(json.dumps({"settings": "full", "seed": 1}))
    assert main(["figures", "--quick", "--out", str(tmp_path), "--only", "F1"]) == 2
    assert "holds numbers of full settings" in capsys.readouterr().err
    assert not list(tmp_path.glob("F1_*"))  # refused before any work
