import subprocess
import sys

import pandas as pd
import pytest

import cogarb
from cogarb.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert cogarb.__version__ in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv", [[], ["simulate", "--help"], ["stay", "--help"], ["demo", "--help"]]
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


def test_demo_writes_tables_and_figure(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--participants", "20"]) == 0
    for name in (
        "stay_probabilities.png",
        "stay_probabilities.pdf",
        "stay_probabilities.csv",
        "stay_regression.csv",
        "trials_hybrid.csv.gz",
    ):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob(".*"))  # no temporary file left behind


def test_console_script_runs(tmp_path):
    """The installed entry point (python -m cogarb shares it) runs as a process."""
    result = subprocess.run(
        [sys.executable, "-m", "cogarb", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "cogarb" in result.stdout
