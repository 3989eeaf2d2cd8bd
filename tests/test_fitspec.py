"""fit.toml specifications: parsing with clear errors, and the resumable runner of the CLI."""

import json
import warnings
from contextlib import contextmanager

import pandas as pd
import pytest

import cogarb
from cogarb.cli import main
from cogarb.fitspec import SAMPLER_DEFAULTS, FitSpecError, load_fit_spec
from cogarb.fitting import SamplingWarning

SPEC = """
[data]
path = "trials.csv"
include = "keep"

[sampler]
draws = 20
tune = 20
chains = 1
seed = 3

[[fit]]
name = "hybrid"
agent = "hybrid"

[[fit]]
name = "hybrid_again"
agent = "hybrid"
sampler = { seed = 4 }

[compare]
fits = ["hybrid", "hybrid_again"]
"""


@pytest.fixture
def spec_folder(tmp_path):
    trials = cogarb.simulate("daw2011", "hybrid", n_participants=5, seed=2)
    trials = trials[trials["trial"] <= 40].copy()
    trials["keep"] = trials["participant"].astype(str) != trials["participant"].iloc[0]
    cogarb.write_trials(trials, tmp_path / "trials.csv")
    (tmp_path / "fit.toml").write_text(SPEC)
    return tmp_path


def test_spec_is_parsed_with_defaults_and_overrides(spec_folder):
    spec = load_fit_spec(spec_folder / "fit.toml")
    assert spec.data == (spec_folder / "trials.csv").resolve()
    assert spec.include == "keep" and spec.p_common == 0.7 and spec.reward_scale == 1.0
    assert [job.name for job in spec.fits] == ["hybrid", "hybrid_again"]
    assert spec.fits[0].sampler == {"draws": 20, "tune": 20, "chains": 1, "seed": 3}
    assert spec.fits[1].sampler["seed"] == 4 and spec.fits[1].sampler["draws"] == 20
    assert spec.compare == ("hybrid", "hybrid_again")
    assert spec.out == spec_folder / "out"
    # the fingerprint follows the job and the data
    first = spec.fingerprint(spec.fits[0])
    assert first != spec.fingerprint(spec.fits[1])
    (spec_folder / "trials.csv").write_text((spec_folder / "trials.csv").read_text() + "\n")
    assert spec.fingerprint(spec.fits[0]) != first


@pytest.mark.parametrize(
    "replace, message",
    [
        (('agent = "hybrid"', 'agent = "sarsa"'), "key 'fit[0].agent' must be one of"),
        (("draws = 20", "draws = 0"), "key 'sampler.draws' must be positive"),
        (("draws = 20", 'draws = "many"'), "key 'sampler.draws' must be an integer"),
        (("[compare]", "[compare]\ncolour = 1"), "key 'compare.colour' is not known"),
        (('path = "trials.csv"', 'path = "none.csv"'), "key 'data.path' names"),
        (('name = "hybrid_again"', 'name = "hybrid"'), "key 'fit.name' repeats hybrid"),
        (('fits = ["hybrid", "hybrid_again"]', 'fits = ["mb"]'), "unknown fits: mb"),
        (('name = "hybrid"', 'name = "../x"'), "must be a folder name"),
        (("[data]", "[data]\np_common = 1.5"), "key 'data.p_common' must be a number"),
        (("[[fit]]", "[[fit]]\nconditions = 3"), "key 'fit[0].conditions' must be a table"),
        (("[sampler]", "[sampler"), "not valid TOML"),
        (("[data]", "[data]\nreward_scale = -1"), "key 'data.reward_scale' must be a positive"),
        (("seed = 3", "seed = 3\nlow_rank_mass_matrix = 1"), "must be true or false"),
        (("seed = 3", "seed = 3\nmax_tree_depth = 0"), "must be between 1 and 12, got 0"),
        (("seed = 3", "seed = 3\ntarget_accept = 1"), "at least 0.6 and below 1, got 1"),
        (("seed = 3", "seed = 3\ntarget_accept = 0.5"), "at least 0.6 and below 1, got 0.5"),
        (("seed = 3", 'seed = 3\ntarget_accept = "high"'), "target_accept' must be a number"),
        (("[[fit]]", "[[fit]]\ncentred = 1"), "key 'fit[0].centred' must be true or false"),
        (("seed = 3", "seed = 3\nmax_tree_depth = 7.5"), "max_tree_depth' must be an integer"),
        # wrongly typed values: each names its key (they were tracebacks)
        (('path = "trials.csv"', "path = 5"), "key 'data.path' must be a non-empty string"),
        (('include = "keep"', "include = true"), "key 'data.include' must be a non-empty"),
        (('include = "keep"', 'format = "excel"'), "key 'data.format' must be one of tidy"),
        (("seed = 3", "seed = -1"), "key 'sampler.seed' must be 0 or more, got -1"),
        (("seed = 3", f"seed = {2**63}"), "key 'sampler.seed' must be at most 9223372036854775807"),
        (("sampler = { seed = 4 }", "sampler = 4"), "key 'fit[1].sampler' must be a table"),
        (('fits = ["hybrid", "hybrid_again"]', 'fits = "hybrid"'), "'compare.fits' must be a list"),
        (('name = "hybrid"', 'name = ".."'), "key 'fit[0].name' must be a folder name"),
        (('name = "hybrid"', 'name = "previous"'), "key 'fit[0].name' must be a folder name"),
        (("[data]", "[data]\nreward_scale = inf"), "key 'data.reward_scale' must be a positive"),
    ],
)
def test_bad_specs_name_file_and_key(spec_folder, replace, message, capsys):
    assert replace[0] in SPEC  # the edit applies
    path = spec_folder / "fit.toml"
    path.write_text(SPEC.replace(*replace, 1))
    with pytest.raises(FitSpecError, match="fit.toml") as err:
        load_fit_spec(path)
    assert message in str(err.value)
    # the CLI reports the same line and exits with 2, before any fitting
    assert main(["fit", str(path)]) == 2
    captured = capsys.readouterr().err
    assert captured.startswith("cogarb: error:") and message in captured
    assert len(captured.splitlines()) == 1
    assert not (spec_folder / "out").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b'[data]\npath = "caf\xe9.csv"\n', "not UTF-8 text (byte 18 is b'\\xe9')"),
        (b"data = 5\n", "key 'data' must be a table"),
        (b"sampler = 5\n[data]\npath = 'trials.csv'\n", "key 'sampler' must be a table"),
        (b"fit = 5\n[data]\npath = 'trials.csv'\n", "key 'fit' must list at least one"),
        (b"[data]\npath = 'trials.csv'\nfit = [5]\n", "key 'data.fit' is not known"),
        (b"[data]\npath = 'trials.csv'\n[[fit]]\nagent = 'mf'\n[[fit]]\n", "fit[1].agent"),
    ],
)
def test_unreadable_or_mistyped_files_are_one_line(spec_folder, content, message, capsys):
    path = spec_folder / "fit.toml"
    path.write_bytes(content)
    assert main(["fit", str(path)]) == 2
    captured = capsys.readouterr().err
    assert captured.startswith(f"cogarb: error: {path}") and message in captured
    assert len(captured.splitlines()) == 1


def test_a_folder_named_like_a_fit_toml_is_one_line(spec_folder, capsys):
    (spec_folder / "x.toml").mkdir()
    assert main(["fit", str(spec_folder / "x.toml")]) == 2
    assert "is a folder, not a fit.toml file" in capsys.readouterr().err


def test_nutpie_options_reach_nutpie_and_leave_other_fingerprints_alone(spec_folder):
    path = spec_folder / "fit.toml"
    before = load_fit_spec(path)
    path.write_text(
        SPEC.replace(
            "sampler = { seed = 4 }",
            "sampler = { low_rank_mass_matrix = true, max_tree_depth = 6, target_accept = 0.95 }",
        )
    )
    spec = load_fit_spec(path)
    # a fit that never names the switch has the same sampler and fingerprint as before
    assert spec.fits[0].sampler == before.fits[0].sampler
    assert spec.fingerprint(spec.fits[0]) == before.fingerprint(before.fits[0])
    assert "sampler_options" not in spec.fits[0].sampler_arguments()
    assert spec.fits[1].sampler_arguments() == {
        "draws": 20, "tune": 20, "chains": 1, "seed": 3,
        "sampler_options": {
            "low_rank_modified_mass_matrix": True, "maxdepth": 6, "target_accept": 0.95,
        },
    }  # fmt: skip


def test_centred_reaches_the_model_and_only_its_fit_changes_fingerprint(spec_folder, capsys):
    path = spec_folder / "fit.toml"
    before = load_fit_spec(path)
    text = SPEC.replace(
        'name = "hybrid"\nagent = "hybrid"', 'name = "hybrid"\nagent = "hybrid"\ncentred = false'
    )
    text = text.replace('agent = "hybrid"\nsampler', 'agent = "hybrid"\ncentred = true\nsampler')
    path.write_text(text)
    spec = load_fit_spec(path)
    # `centred = false` is the default: same fingerprint as a spec that never names it
    assert spec.fingerprint(spec.fits[0]) == before.fingerprint(before.fits[0])
    assert "centred" not in spec.fits[0].model_options()
    assert spec.fits[1].model_options() == {"centred": True}
    assert spec.fingerprint(spec.fits[1]) != before.fingerprint(before.fits[1])
    # model options belong in the fit.toml: the command line refuses them beside one
    for flag in (["--centred"], ["--ppc", "5"], ["--agent", "mb"], ["--format", "tidy"]):
        assert main(["fit", str(path), *flag]) == 2
        message = f"{flag[0]} applies to a trials file, not to a fit.toml"
        assert message in capsys.readouterr().err
    assert not (spec_folder / "out").exists()


def test_sampler_defaults_apply_without_a_sampler_table(spec_folder):
    path = spec_folder / "fit.toml"
    path.write_text('[data]\npath = "trials.csv"\n[[fit]]\nagent = "mb"\n')
    spec = load_fit_spec(path)
    assert spec.fits[0].name == "mb" and spec.fits[0].sampler == SAMPLER_DEFAULTS


@contextmanager
def no_sampling_warning():
    """Fail on a SamplingWarning: `cogarb fit` reports the diagnostics in its block."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplingWarning)
        yield


def test_runner_fits_skips_finished_work_and_redoes_interrupted(spec_folder, capsys):
    spec = spec_folder / "fit.toml"
    out = spec_folder / "out"
    with no_sampling_warning():
        assert main(["fit", str(spec), "--quiet"]) == 0
    printed = capsys.readouterr().out
    # one diagnostics block per fit instead of a warning: 20 draws cannot reach ESS 400
    assert printed.count("diagnostics (to be quoted") == 2 and printed.count("\nnext: ") == 2
    # the participant outside `include` is reported, not silently dropped
    assert "4 participants, 160 trials" in printed and "40 rows outside 'keep'" in printed
    for name in ("hybrid", "hybrid_again"):
        names = sorted(p.name for p in (out / name).iterdir())
        assert names == ["diagnostics.json", "done.json", "posterior.nc", "summary.csv"]
    assert "elpd" in (out / "compare.csv").read_text()
    stamp = (out / "hybrid" / "posterior.nc").stat().st_mtime_ns

    # a rerun of finished work does nothing
    assert main(["fit", str(spec), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("(skipped)") == 3 and "comparison: up to date" in printed
    assert (out / "hybrid" / "posterior.nc").stat().st_mtime_ns == stamp

    # an interrupted fit (no completion marker) is redone; the finished one is not
    (out / "hybrid_again" / "done.json").unlink()
    with no_sampling_warning():
        assert main(["fit", str(spec), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "hybrid: up to date" in printed and "hybrid_again: fitting 'hybrid'" in printed
    assert json.loads((out / "hybrid_again" / "done.json").read_text())["job"] == "hybrid_again"
    assert (out / "hybrid" / "posterior.nc").stat().st_mtime_ns == stamp

    # --only runs the named fit; the comparison waits for the other one
    (out / "hybrid_again" / "done.json").unlink()
    (out / "compare.csv").unlink()
    with no_sampling_warning():
        assert main(["fit", str(spec), "--quiet", "--only", "hybrid", "--draws", "21"]) == 0
    printed = capsys.readouterr().out
    assert "hybrid: fitting" in printed and "hybrid_again: fitting" not in printed
    assert "comparison waits for the fits hybrid_again" in printed
    assert not (out / "compare.csv").exists()
    assert main(["fit", str(spec), "--only", "nope"]) == 2
    assert "--only nope" in capsys.readouterr().err

    # a sampler setting given on the command line changes the fit, so it runs again
    with no_sampling_warning():
        assert main(["fit", str(spec), "--quiet", "--draws", "25"]) == 0
    summary = pd.read_csv(out / "hybrid" / "summary.csv", index_col=0)
    assert "mu_w" in summary.index
    assert (out / "hybrid" / "posterior.nc").stat().st_mtime_ns != stamp


def test_naming_a_fit_in_compare_refits_it_with_log_likelihoods(spec_folder):
    """A fit outside [compare] is written without trial log-likelihoods; comparing it
    later must change its fingerprint (refit), not skip it and fail in the LOO."""
    path = spec_folder / "fit.toml"
    both = load_fit_spec(path)
    path.write_text(SPEC.replace('fits = ["hybrid", "hybrid_again"]', 'fits = ["hybrid"]'))
    one = load_fit_spec(path)
    assert one.fingerprint(one.fits[0]) == both.fingerprint(both.fits[0])  # still compared
    assert one.fingerprint(one.fits[1]) != both.fingerprint(both.fits[1])
    path.write_text(SPEC.replace('[compare]\nfits = ["hybrid", "hybrid_again"]\n', ""))
    none = load_fit_spec(path)  # no [compare]: every fit keeps its log-likelihood
    assert none.fingerprint(none.fits[1]) == both.fingerprint(both.fits[1])


def test_the_fingerprint_follows_the_kernel_sources(spec_folder, monkeypatch):
    """A fit made by other kernel code (an edit, an upgrade) is out of date."""
    from cogarb._kernels import cache

    spec = load_fit_spec(spec_folder / "fit.toml")
    before = spec.fingerprint(spec.fits[0])
    monkeypatch.setattr(cache, "SOURCE_HASH", "other kernels")
    assert spec.fingerprint(spec.fits[0]) != before
