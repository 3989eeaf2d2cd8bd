"""The readers' shared column parser: values, missing cells, and where errors point."""

import numpy as np
import pandas as pd
import pytest

from cogarb.readers.columns import Columns, nullable_int8
from cogarb.schema import TrialDataError


def frame(**columns):
    return pd.DataFrame({name: pd.array(values, dtype=str) for name, values in columns.items()})


def test_numbers_read_text_and_mark_missing_cells():
    cols = Columns(frame(x=[" 1", "2.5", "", "NA", "1e3"]), "f.csv")
    values, missing = cols.numbers("x", "is not a number")
    np.testing.assert_array_equal(values, [1.0, 2.5, np.nan, np.nan, 1000.0])
    np.testing.assert_array_equal(missing, [False, False, True, True, False])


@pytest.mark.parametrize(
    ("data", "kwargs", "row", "value"),
    [
        (["1", "x"], {}, 2, "x"),  # not a number
        (["", "x"], {"missing_ok": False}, 1, ""),  # the empty cell comes first
        (["-1", "x"], {"valid": lambda v: v >= 0}, 1, "-1"),  # not valid, before row 2's text
    ],
)
def test_numbers_name_the_first_bad_row(data, kwargs, row, value):
    cols = Columns(frame(x=data), "f.csv")
    with pytest.raises(TrialDataError, match="is bad") as err:
        cols.numbers("x", "is bad", **kwargs)
    assert (err.value.source, err.value.row, err.value.column, err.value.value) == (
        "f.csv", row, "x", value,
    )  # fmt: skip


def test_labels_map_text_case_insensitively():
    cols = Columns(frame(c=["Up", " down ", ""]), "f.csv")
    np.testing.assert_array_equal(cols.labels("c", {"up": 0, "down": 1}), [0.0, 1.0, np.nan])
    with pytest.raises(TrialDataError, match="row 3, column 'c': value '' is not one of up, down"):
        cols.labels("c", {"up": 0, "down": 1}, missing_ok=False)


def test_errors_name_the_rows_given_or_the_file_and_line():
    raw = frame(s=["a", "", "b"])
    with pytest.raises(TrialDataError, match=r"^f\.csv, row 12, column 's': value '' is empty$"):
        Columns(raw, "f.csv", rows=[11, 12, 13]).text("s")
    located = Columns(raw, files=["p.csv", "q.csv", "q.csv"], lines=[4, 5, 6])
    with pytest.raises(TrialDataError, match=r"^q\.csv, line 5, column 's': value '' is empty$"):
        located.text("s")
    with pytest.raises(ValueError, match="both files and lines"):
        Columns(raw, files=["p.csv"] * 3)


def test_typed_values_are_named_as_plain_numbers():
    cols = Columns(pd.DataFrame({"x": [1.0, 7.0]}), "f.parquet")
    with pytest.raises(TrialDataError, match=r"row 2, column 'x': value 7\.0 is not 1"):
        cols.numbers("x", "is not 1", valid=lambda v: v == 1)


def test_nullable_int8():
    codes = nullable_int8(np.array([0.0, 1.0, np.nan]), np.array([False, False, True]))
    assert codes.dtype == "Int8" and codes.tolist() == [0, 1, pd.NA]
    assert nullable_int8(np.array([1, 0])).tolist() == [1, 0]
