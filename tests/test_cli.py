import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.cli import main
from cogarb.fitting import SamplingWarning


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"cogarb {cogarb.__version__}\n"
    with pytest.raises(SystemExit) as exit_:  # among other options, argparse answers
        main(["--version", "stay", "x.csv"])
    assert exit_.value.code == 0
    assert cogarb.__version__ in capsys.readouterr().out


def test_version_imports_nothing_heavy():
    """`cogarb --version` answers at once: it imports neither numba, pandas nor PyMC."""
    code = (
        "import sys; from cogarb.cli import main; main(['--version']); "
        "print(sorted(m for m in ('numba', 'pandas', 'pymc', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"cogarb {cogarb.__version__}", "[]"]


@pytest.mark.parametrize(
    "argv", [[], ["simulate"], ["stay"], ["fit"], ["recover"], ["sbc"], ["demo"]]
)
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit):
        main([*argv, "--help"] if argv else ["--help"])
    assert "usage: cogarb" in capsys.readouterr().out


def test_simulate_then_stay(tmp_path, repo, capsys):
    out = tmp_path / "sims.csv"
    argv = [
        "simulate",
        str(repo / "tasks" / "daw2011.toml"),
        "--agent",
        "hybrid",
        "--participants",
        "40",
        "--seed",
        "1",
        "--param",
        "w=0.3",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    sims = pd.read_csv(out)
    assert sims["participant"].nunique() == 40
    assert main(["stay", str(out)]) == 0
    text = capsys.readouterr().out
    for word in ("rewarded", "unrewarded", "common", "rare", "P(stay)", "reward:transition"):
        assert word in text


def test_simulate_parquet_and_internals(tmp_path):
    out = tmp_path / "sims.parquet"
    assert (
        main(
            [
                "simulate",
                "daw2011",
                "--agent",
                "mf",
                "--participants",
                "3",
                "--internals",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    sims = pd.read_parquet(out)
    assert (sims["w"] == 0).all()


def test_bad_trial_file_one_line_exit_2(tmp_path, capsys):
    sims = cogarb.simulate("daw2011", "hybrid", {}, n_participants=2).iloc[:, :7]
    sims = sims.astype({"choice1": object})
    sims.loc[3, "choice1"] = 7
    path = tmp_path / "bad.csv"
    sims.to_csv(path, index=False)
    assert main(["stay", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("cogarb: error:") and "row 4" in err and "'choice1'" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate", "daw2011", "--param", "w=2", "--out", "x.csv"], "'w'"),
        (["simulate", "daw2011", "--param", "zeta=1", "--out", "x.csv"], "unknown parameter"),
        (["simulate", "nowhere.toml", "--out", "x.csv"], "nowhere.toml"),
        (["stay", "missing.csv"], "missing.csv"),
    ],
)
def test_user_errors_exit_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_param_syntax_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "daw2011", "--param", "w", "--out", "x.csv"])
    assert exit_.value.code == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_demo_writes_trials_and_tables(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--participants", "20", "--no-figures"]) == 0
    for name in ("stay_probabilities.csv", "stay_regression.csv", "trials_arbitrator.csv.gz"):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "stay_regression.csv")
    assert set(table["agent"]) == {"mf", "mb", "hybrid", "arbitrator"}
    assert not list(out.glob("**/.*"))  # no temporary file left behind


def test_console_script_runs(tmp_path):
    """The installed entry point (python -m cogarb shares it) runs as a process."""
    result = subprocess.run(
        [sys.executable, "-m", "cogarb", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "cogarb" in result.stdout


def _no_bare_constants(name: str):
    raise AssertionError(f"diagnostics.json holds a bare {name}: not valid JSON")


def test_fit_and_recover_write_results_atomically(tmp_path, capsys):
    trials = cogarb.simulate("daw2011", "hybrid", n_participants=6, seed=2)
    trials = trials[trials["trial"] <= 50]
    path = tmp_path / "trials.csv"
    cogarb.write_trials(trials, path)
    few = ["--draws", "20", "--tune", "20", "--chains", "1", "--quiet"]
    with warnings.catch_warnings():  # the diagnostics block says it instead of a warning
        warnings.simplefilter("error", SamplingWarning)
        code = main(["fit", str(path), "--agent", "hybrid", "--out", str(tmp_path / "fit"), *few])
    assert code == 0
    written = sorted(p.name for p in (tmp_path / "fit").iterdir())
    # nothing hidden; done.json, written last, marks the fit finished
    assert written == ["diagnostics.json", "done.json", "posterior.nc", "summary.csv"]
    text = (tmp_path / "fit" / "diagnostics.json").read_text()
    diagnostics = json.loads(text, parse_constant=_no_bare_constants)  # strict JSON: no NaN
    assert diagnostics["max_rhat"] is None and "one chain" in diagnostics["max_rhat_note"]
    summary = pd.read_csv(tmp_path / "fit" / "summary.csv", index_col=0)
    assert "mu_w" in summary.index
    import arviz as az

    idata = az.from_netcdf(tmp_path / "fit" / "posterior.nc")
    assert idata.log_likelihood["trial"].sizes["obs"] == len(trials)
    out = capsys.readouterr().out
    assert "6 participants, 300 trials (0 missed" in out
    assert "worst R-hat      undefined: R-hat is undefined for one chain" in out
    assert "\nnext: run 2 or more chains (--chains 4)" in out
    # recovery on the same model structure (6 participants of the hybrid)
    with pytest.warns(SamplingWarning):
        code = main(["recover", "--participants", "6", "--out", str(tmp_path / "rec"), *few])
    assert code == 0
    recovery = pd.read_csv(tmp_path / "rec" / "recovery.csv")
    assert set(recovery["parameter"]) == set(cogarb.get_agent("hybrid").parameter_names)
    assert (tmp_path / "rec" / "recovery_summary.csv").is_file()


def test_recover_over_seeds_tables_and_resume(tmp_path, capsys):
    """`recover --seeds K`: K cohorts with their own seeds, r and coverage per cohort
    and parameter, mean and minimum over cohorts; a rerun refits only the cohort
    whose folder is unfinished."""
    out = tmp_path / "seeds"
    argv = ["recover", "--seeds", "2", "--participants", "6", "--out", str(out), "--draws", "20",
            "--tune", "20", "--chains", "1", "--quiet", "--seed", "3"]  # fmt: skip
    with pytest.warns(SamplingWarning):
        assert main(argv) == 0
    per_seed = pd.read_csv(out / "recovery_seeds.csv")
    names = cogarb.get_agent("hybrid").parameter_names
    assert len(per_seed) == 2 * len(names) and set(per_seed["cohort"]) == {0, 1}
    seeds = per_seed.groupby("cohort")["seed"].first()
    assert seeds[0] != seeds[1]
    for cohort in (0, 1):  # each cohort's row is its own folder's recovery summary
        own = pd.read_csv(out / f"cohort_{cohort}" / "recovery_summary.csv", index_col=0)
        mine = per_seed[per_seed["cohort"] == cohort].set_index("parameter")
        assert np.allclose(mine["r"], own.loc[mine.index, "r"])
    summary = pd.read_csv(out / "recovery_seeds_summary.csv", index_col="parameter")
    grouped = per_seed.groupby("parameter")
    assert np.allclose(summary["r_min"], grouped["r"].min()[summary.index])
    assert np.allclose(summary["coverage_mean"], grouped["coverage"].mean()[summary.index])
    assert (summary["cohorts"] == 2).all()
    assert json.loads((out / "done.json").read_text())["seeds"] == list(seeds)
    capsys.readouterr()
    (out / "cohort_1" / "done.json").unlink()  # as if stopped while fitting cohort 1
    with pytest.warns(SamplingWarning):
        assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"cohort 1/2 (seed {seeds[0]}): read back" in printed
    assert f"cohort 2/2 (seed {seeds[1]}): " in printed
    assert f"cohort 2/2 (seed {seeds[1]}): read back" not in printed
    pd.testing.assert_frame_equal(pd.read_csv(out / "recovery_seeds.csv"), per_seed)
    done = json.loads((out / "cohort_0" / "done.json").read_text())
    assert done["settings"]["agent"] == "hybrid" and done["settings"]["n_participants"] == 6
    assert done["settings"]["task"]["name"] == "daw2011"
    assert done["settings"]["sampler"]["seed"] == seeds[0]
    assert done["settings"]["kernels"] and done["settings"]["cogarb"] == cogarb.__version__
    # the same folder with another agent: each cohort is fitted again, never read back
    with pytest.warns(SamplingWarning):
        assert main([*argv, "--agent", "mb"]) == 0
    printed = capsys.readouterr().out
    for k in (1, 2):
        assert f"cohort {k}/2: {out / f'cohort_{k - 1}'}/ holds a fit with other settings " \
            "(agent, agent_definition differ): fitting it again" in printed  # fmt: skip
    assert "read back" not in printed
    again = pd.read_csv(out / "recovery_seeds.csv")
    assert set(again["parameter"]) == set(cogarb.get_agent("mb").parameter_names)
    assert json.loads((out / "done.json").read_text())["settings"]["agent"] == "mb"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--condition", "w"], "PARAM=COLUMN"),
        (["--condition", "w=stakes"], "'stakes' is not in the trials"),
        (["--covariate", "beta1=age"], "'age' is not in the trials"),
    ],
)
def test_fit_option_errors_exit_2(tmp_path, capsys, extra, message):
    path = tmp_path / "trials.csv"
    cogarb.write_trials(cogarb.simulate("daw2011", "hybrid", n_participants=2, seed=2), path)
    assert main(["fit", str(path), "--out", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cogarb: error:") and message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_broken_pipe_is_one_line(tmp_path):
    """`cogarb stay F | head -1`: the reader goes away; one line on stderr, exit 2."""
    path = tmp_path / "trials.csv"
    cogarb.write_trials(cogarb.simulate("daw2011", "hybrid", n_participants=3, seed=1), path)
    process = subprocess.Popen(
        [sys.executable, "-m", "cogarb", "stay", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    process.stdout.readline()  # what `head -1` reads, then it exits
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    lines = err.decode().strip().splitlines()
    assert process.returncode == 2, err
    assert lines == ["cogarb: error: output closed early (broken pipe)"]
