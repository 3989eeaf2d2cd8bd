"""Outputs are checked before any work, and only finished fits are read back.

A fit can take hours: an output folder that cannot take its results must fail
before the model is compiled, in one line naming the folder (issue "Nothing lost,
nothing silently wrong"). These tests stop every command at the compile step
(``cogarb.fitting._compile`` replaced by a function that raises ``_Compiled``), so
a case that got that far is one that *would* have started work.
"""

from __future__ import annotations

import json
import os

import pytest

import cogarb
import cogarb.fitting
import cogarb.runs
from cogarb.cli import main
from cogarb.fitspec import FitSpecError, load_fit_spec
from cogarb.runs import (
    OutputError,
    UnfinishedFitError,
    finished_fit_path,
    is_finished,
    output_folder,
    restore_previous,
    retire_outputs,
    write_done_marker,
)


class _Compiled(Exception):
    """The command reached the compile step: its checks of the output passed."""


@pytest.fixture
def no_compile(monkeypatch):
    def compile_(model, key):
        raise _Compiled

    monkeypatch.setattr(cogarb.fitting, "_compile", compile_)


@pytest.fixture(scope="module")
def trials_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("outputs") / "trials.csv"
    trials = cogarb.simulate("daw2011", "hybrid", n_participants=2, seed=1)
    cogarb.write_trials(trials[trials["trial"] <= 20], path)
    return path


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("cogarb: error: "), err
    return err


def test_fit_reaches_compiling_with_a_good_folder(tmp_path, trials_file, no_compile):
    """The harness itself: a writable --out gets as far as compiling."""
    with pytest.raises(_Compiled):
        main(["fit", str(trials_file), "--out", str(tmp_path / "fit"), "--quiet"])
    assert not (tmp_path / "fit").exists()  # made for the fit, removed when it failed empty


def test_out_naming_a_file_fails_before_compiling(tmp_path, trials_file, no_compile, capsys):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    assert main(["fit", str(trials_file), "--out", str(target), "--quiet"]) == 2
    assert f"{target}: is a file, not a folder" in _one_error_line(capsys)
    assert target.read_text() == "keep me"
    assert main(["fit", str(trials_file), "--out", str(target / "sub"), "--quiet"]) == 2
    assert f"{target}: is a file" in _one_error_line(capsys)


def test_uncreatable_folder_fails_before_compiling(trials_file, no_compile, capsys):
    out = "/proc/cogarb-cannot-be-made-here/fit"  # not creatable, even by root
    assert main(["fit", str(trials_file), "--out", out, "--quiet"]) == 2
    assert "cannot create the folder" in _one_error_line(capsys)


def test_unwritable_folder_fails_before_compiling(
    tmp_path, trials_file, no_compile, monkeypatch, capsys
):
    # root writes into read-only folders, so the refusal is simulated where the test
    # write happens; without root, a real read-only folder is tried as well
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as patched:
        patched.setattr(cogarb.runs.tempfile, "mkstemp", refuse)
        assert main(["fit", str(trials_file), "--out", str(tmp_path / "fit"), "--quiet"]) == 2
    err = _one_error_line(capsys)
    assert f"{tmp_path / 'fit'}: cannot write there (Permission denied)" in err
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        assert main(["fit", str(trials_file), "--out", str(locked), "--quiet"]) == 2
        assert "cannot write there" in _one_error_line(capsys)


def test_too_little_space_fails_before_compiling(
    tmp_path, trials_file, no_compile, monkeypatch, capsys
):
    monkeypatch.setattr(cogarb.runs, "_free_bytes", lambda folder: 2**20)
    assert main(["fit", str(trials_file), "--out", str(tmp_path / "fit"), "--quiet"]) == 2
    err = _one_error_line(capsys)
    assert "1 MB free, but the results need about" in err and str(tmp_path / "fit") in err


def test_read_only_dataset_folder_suggests_out(tmp_path, trials_file, monkeypatch, capsys):
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "trials.csv").write_bytes(trials_file.read_bytes())
    (folder / "fit.toml").write_text(
        '[data]\npath = "trials.csv"\n[[fit]]\nname = "hybrid"\nagent = "hybrid"\n'
    )

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    reached = []
    monkeypatch.setattr(cogarb, "fit", lambda *a, **k: reached.append(1) or _raise(_Compiled))
    with monkeypatch.context() as patched:
        patched.setattr(cogarb.runs.tempfile, "mkstemp", refuse)
        assert main(["fit", str(folder / "fit.toml"), "--quiet"]) == 2
    err = _one_error_line(capsys)
    assert str(folder / "out") in err and "give --out DIR" in err
    assert not reached  # refused before the data were read or a model built
    # --out puts a fit.toml's results elsewhere
    with pytest.raises(_Compiled):
        main(["fit", str(folder / "fit.toml"), "--quiet", "--out", str(tmp_path / "elsewhere")])
    assert (tmp_path / "elsewhere").is_dir() and reached == [1]


def _raise(error):
    raise error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seed", "-1"], "argument --seed: expected a seed"),
        (["--seed", "1.5"], "argument --seed: expected a seed"),
        (["--seed", str(2**64)], "argument --seed: expected a seed"),
        (["--draws", "0"], "argument --draws: expected a positive integer"),
        (["--chains", "-2"], "argument --chains: expected a positive integer"),
        (["--tune", "many"], "argument --tune: expected a positive integer"),
        (["--ppc", "-1"], "argument --ppc: expected an integer >= 0"),
    ],
)
def test_option_values_are_refused_by_the_parser(argv, message, tmp_path, trials_file, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", str(trials_file), "--out", str(tmp_path / "o"), *argv])
    assert exit_.value.code == 2
    assert message in _one_error_line(capsys)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "a\\\\b", "previous", ""])
def test_fit_names_are_safe_folder_names(name, tmp_path, trials_file):
    (tmp_path / "trials.csv").write_bytes(trials_file.read_bytes())
    (tmp_path / "fit.toml").write_text(
        f'[data]\npath = "trials.csv"\n[[fit]]\nname = "{name}"\nagent = "hybrid"\n'
    )
    with pytest.raises(FitSpecError, match=r"fit\[0\]\.name"):
        load_fit_spec(tmp_path / "fit.toml")


def _fit_set(folder, label: str, fingerprint: str | None = "old") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("posterior.nc", "summary.csv", "diagnostics.json"):
        (folder / name).write_text(f"{label} {name}")
    if fingerprint is not None:
        write_done_marker(folder, fingerprint, 1.0, label)


def test_a_finished_set_moves_aside_whole_and_leftovers_are_dropped(tmp_path):
    out = tmp_path / "fit"
    _fit_set(out, "A")
    (out / "notes.txt").write_text("the user's")
    with output_folder(out):
        assert (out / "done.json").exists()  # preparing the folder moves nothing yet
    retire_outputs(out)
    assert not (out / "done.json").exists() and not (out / "posterior.nc").exists()
    assert (out / "previous" / "posterior.nc").read_text() == "A posterior.nc"
    assert is_finished(out / "previous", "old")  # the whole set, with its marker
    assert (out / "notes.txt").read_text() == "the user's"  # not ours: left alone
    # an interrupted run's leftovers (no done.json) never replace the finished set
    _fit_set(out, "B", fingerprint=None)
    retire_outputs(out)
    assert not (out / "posterior.nc").exists()
    assert (out / "previous" / "posterior.nc").read_text() == "A posterior.nc"
    # a newer finished set replaces the older one entirely: never a mixture
    _fit_set(out, "C", fingerprint="new")
    (out / "summary.csv").unlink()
    retire_outputs(out)
    assert (out / "previous" / "posterior.nc").read_text() == "C posterior.nc"
    assert not (out / "previous" / "summary.csv").exists()


def test_a_finished_fit_in_previous_is_restored_not_refitted(tmp_path):
    out = tmp_path / "fit"
    _fit_set(out, "quick look", fingerprint="draws=50")
    _fit_set(out / "previous", "A", fingerprint="the file's")
    assert not restore_previous(out, "another")
    assert restore_previous(out, "the file's")
    assert is_finished(out, "the file's") and (out / "posterior.nc").read_text() == "A posterior.nc"
    assert is_finished(out / "previous", "draws=50")  # the quick look kept in its place
    assert not (out / ".restoring").exists()


def test_only_finished_fits_with_matching_fingerprints_are_read(tmp_path):
    out = tmp_path / "fit"
    with pytest.raises(UnfinishedFitError, match="no done.json"):
        finished_fit_path(out, "abc")
    out.mkdir()
    (out / "posterior.nc").write_text("draws")
    with pytest.raises(UnfinishedFitError, match="no done.json"):
        finished_fit_path(out, "abc", "cogarb fit x/fit.toml")
    write_done_marker(out, "abc", 1.0, "hybrid")
    assert finished_fit_path(out, "abc") == out / "posterior.nc"
    with pytest.raises(UnfinishedFitError, match="stale"):
        finished_fit_path(out, "another fingerprint")
    (out / "done.json").write_text("{not json")
    with pytest.raises(UnfinishedFitError, match="no done.json"):
        finished_fit_path(out, "abc")


def test_done_marker_is_strict_json(tmp_path):
    with pytest.raises(ValueError, match="JSON compliant"):
        write_done_marker(tmp_path, "abc", float("nan"), "hybrid")
    assert not (tmp_path / "done.json").exists()
    write_done_marker(tmp_path, None, 2.0, "hybrid")
    assert json.loads((tmp_path / "done.json").read_text())["seconds"] == 2.0


def test_output_error_is_an_os_error():
    assert issubclass(OutputError, OSError)  # callers catching OSError see it


def test_diagnostics_of_one_chain_are_null_with_a_reason_not_nan():
    import arviz as az
    import numpy as np

    from cogarb.fitting import diagnostics
    from cogarb.runs import diagnostics_block

    draws = np.random.default_rng(0).normal(size=(1, 50))
    stats = {"diverging": np.zeros((1, 50), bool)}
    found = diagnostics(az.from_dict(posterior={"mu_w": draws}, sample_stats=stats))
    assert found["max_rhat"] is None and "one chain" in found["max_rhat_note"]
    assert found["min_ess_bulk"] > 0 and found["chains"] == 1
    json.dumps(found, allow_nan=False)  # valid JSON
    assert "worst R-hat      undefined: R-hat is undefined for one chain" in diagnostics_block(
        found
    )
    # two chains: a number again; a variable that never varies: null and named
    two = az.from_dict(
        posterior={"mu_w": np.vstack([draws, draws + 0.1]), "fixed": np.ones((2, 50))},
        sample_stats={"diverging": np.zeros((2, 50), bool)},
    )
    found = diagnostics(two)  # the constant variable hides nothing: mu_w's R-hat is worst
    assert found["max_rhat"] > 1.01 and found["max_rhat_variable"] == "mu_w"
    assert found["max_rhat_undefined"] == ["fixed"] and "fixed" in found["max_rhat_note"]
    json.dumps(found, allow_nan=False)
    stuck = az.from_dict(  # chains stuck at different values: R-hat is infinite
        posterior={"mu_w": np.vstack([np.zeros(50), np.ones(50)])},
        sample_stats={"diverging": np.zeros((2, 50), bool)},
    )
    found = diagnostics(stuck)
    assert found["max_rhat"] is None and "infinite" in found.get("max_rhat_note", "")
    json.dumps(found, allow_nan=False)
    found = diagnostics(
        az.from_dict(
            posterior={"mu_w": np.vstack([draws, draws + 0.1])},
            sample_stats={"diverging": np.zeros((2, 50), bool)},
        )
    )
    assert found["max_rhat"] > 1.0 and found["max_rhat_variable"] == "mu_w"


def test_a_bad_option_leaves_the_finished_fit_in_place(tmp_path, trials_file, capsys):
    """Earlier results move aside only once the model is built: a typo loses nothing."""
    out = tmp_path / "fit"
    _fit_set(out, "A", fingerprint=None)
    write_done_marker(out, None, 1.0, "hybrid")
    argv = ["fit", str(trials_file), "--out", str(out), "--condition", "w=lod", "--quiet"]
    assert main(argv) == 2
    assert "'lod' is not in the trials" in _one_error_line(capsys)
    assert is_finished(out) and not (out / "previous").exists()
