import numpy as np
import pandas as pd
import pytest

import cogarb
from cogarb.schema import TrialDataError


@pytest.fixture
def sims(daw2011):
    return cogarb.simulate(daw2011, "hybrid", {}, n_participants=3, seed=0).iloc[:, :7]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_round_trip(tmp_path, sims, suffix):
    path = cogarb.write_trials(sims, tmp_path / f"t{suffix}")
    back = cogarb.read_trials(path)
    pd.testing.assert_frame_equal(back.drop(columns="missed"), sims, check_categorical=False)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def _corrupt(tmp_path, sims, row, column, value):
    df = sims.astype({c: object for c in sims.columns})
    df.loc[row, column] = value
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("choice1", 3, "is not 0, 1 or empty"),
        ("choice2", "left", "is not 0, 1 or empty"),
        ("reward", "lots", "is not a finite number"),
        ("trial", 0, "is not a positive integer"),
        ("trial", 2.5, "is not a positive integer"),
        ("common", "maybe", "is not true/false"),
        ("participant", "", "is empty"),
    ],
)
def test_bad_values_name_file_row_column_value(tmp_path, sims, column, value, problem):
    path = _corrupt(tmp_path, sims, 7, column, value)
    with pytest.raises(TrialDataError) as err:
        cogarb.read_trials(path)
    msg = str(err.value)
    assert str(path) in msg and "row 8" in msg and f"column '{column}'" in msg and problem in msg
    assert err.value.row == 8 and err.value.column == column


def test_inconsistent_state(tmp_path, sims):
    row = sims.index[sims["common"]][0]
    flipped = 1 - int(sims.loc[row, "state2"])
    path = _corrupt(tmp_path, sims, row, "state2", flipped)
    with pytest.raises(TrialDataError, match=f"row {row + 1}, column 'state2'.*inconsistent"):
        cogarb.read_trials(path)


def test_duplicate_and_out_of_order_trials(sims):
    dup = sims.copy()
    dup.loc[5, "trial"] = 5
    with pytest.raises(TrialDataError, match="row 6, column 'trial': value 5 duplicates"):
        cogarb.validate_trials(dup)
    swapped = sims.copy()
    swapped.loc[[3, 4], "trial"] = [5, 4]
    with pytest.raises(TrialDataError, match="row 5, column 'trial': value 4 comes after"):
        cogarb.validate_trials(swapped)


def test_missing_column(sims):
    with pytest.raises(TrialDataError, match="column 'common': required column is missing"):
        cogarb.validate_trials(sims.drop(columns="common"))


def test_missed_trials_are_kept_and_flagged(sims):
    df = sims.astype({"choice2": "Int8"}).copy()
    df.loc[10, ["choice2"]] = pd.NA
    df.loc[10, "reward"] = np.nan
    df.loc[20, ["choice1", "state2", "choice2"]] = pd.NA
    df.loc[20, ["reward"]] = np.nan
    df["common"] = df["common"].astype("boolean")
    df.loc[20, "common"] = pd.NA
    checked = cogarb.validate_trials(df)
    assert len(checked) == len(df)
    assert checked["missed"].sum() == 2
    assert checked.loc[[10, 20], "missed"].all()


def test_reward_required_when_second_choice_made(sims):
    df = sims.copy()
    df.loc[4, "reward"] = np.nan
    with pytest.raises(TrialDataError, match="row 5, column 'reward'.*second-stage choice"):
        cogarb.validate_trials(df)


def test_unknown_file_type(tmp_path, sims):
    with pytest.raises(ValueError, match="unknown file type"):
        cogarb.write_trials(sims, tmp_path / "t.xlsx")
    with pytest.raises(FileNotFoundError):
        cogarb.read_trials(tmp_path / "nope.csv")


def test_interrupted_write_leaves_old_file_and_no_temporary(tmp_path, sims):
    from cogarb._atomic import atomic_path

    path = cogarb.write_trials(sims, tmp_path / "t.csv")
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="interrupted"), atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write("partial")
        raise RuntimeError("interrupted")
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_optional_columns_get_their_type_and_gzip_bytes_are_reproducible(tmp_path):
    trials = cogarb.simulate("daw2011", "hybrid", n_participants=2, seed=5)
    trials["score"] = np.where(trials["trial"] % 7 == 0, np.nan, trials["trial"] * 0.5)
    trials["flag"] = pd.array([pd.NA if t % 5 == 0 else t % 2 == 0 for t in trials["trial"]])
    trials["site"] = "LS"
    first, second = tmp_path / "a.csv.gz", tmp_path / "b" / "a.csv.gz"
    second.parent.mkdir()
    cogarb.write_trials(trials, first)
    cogarb.write_trials(trials, second)  # another temporary file name, another time
    assert first.read_bytes() == second.read_bytes()
    back = cogarb.read_trials(first)
    assert (
        back["score"].dtype == float
        and back["score"].isna().sum() == (trials["trial"] % 7 == 0).sum()
    )
    np.testing.assert_array_equal(back["score"].to_numpy(), trials["score"].to_numpy())
    assert (
        back["flag"].dtype == "boolean" and back["flag"].isna().sum() == trials["flag"].isna().sum()
    )
    assert (back["site"] == "LS").all()  # text stays text


def _cogarb_imports(path):
    """The cogarb modules a source file imports (at any depth), from its syntax tree."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in names if n == "cogarb" or n.startswith("cogarb.")}


def test_layers_schema_below_readers_below_data():
    """The schema imports no cogarb module, the readers never import cogarb.data (which
    imports them), so no import runs back up a layer."""
    from pathlib import Path

    package = Path(cogarb.__file__).parent
    assert _cogarb_imports(package / "schema.py") == set()
    for reader in sorted((package / "readers").glob("*.py")):
        imports = _cogarb_imports(reader)
        assert not {n for n in imports if n.startswith("cogarb.data")}, reader.name
        assert imports <= {"cogarb.readers", "cogarb.schema"} | {
            n for n in imports if n.startswith(("cogarb.readers.", "cogarb.schema."))
        }, (reader.name, imports)
