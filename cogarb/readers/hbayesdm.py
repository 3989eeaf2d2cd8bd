"""hBayesDM reader: the format of hBayesDM's ``ts_par*`` models (Ahn et al. 2017), one
tab-separated row per trial with columns ``subjID, trial, level1_choice,
level2_choice, reward`` and, optionally, the reward probabilities ``A1prob,
A2prob, B1prob, B2prob``. Mapping:

============================  ===============================================
tidy column                   from
============================  ===============================================
participant                   subjID
trial                         trial
choice1                       level1_choice − 1 (1/2 → 0/1)
state2                        0 if level2_choice ∈ {1, 2} (state A), else 1
choice2                       (level2_choice − 1) mod 2 (1, 3 → 0; 2, 4 → 1)
reward                        reward
common                        choice1 = state2 (option 1 commonly leads to A)
p_reward_00, _01, _10, _11    A1prob, A2prob, B1prob, B2prob
============================  ===============================================

An empty or NA ``level1_choice`` or ``level2_choice`` makes the whole trial missed
(kept): the second-stage state is coded only through ``level2_choice``, so without
it the transition is unknown. The raw ``level1_choice`` and ``level2_choice`` are
kept as columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cogarb.readers.columns import Columns
from cogarb.readers.tables import read_table
from cogarb.schema import TrialDataError

HBAYESDM_COLUMNS = ("subjID", "trial", "level1_choice", "level2_choice", "reward")
HBAYESDM_PROBABILITIES = {
    "A1prob": "p_reward_00",
    "A2prob": "p_reward_01",
    "B1prob": "p_reward_10",
    "B2prob": "p_reward_11",
}


def looks_like_hbayesdm(columns) -> bool:
    """Whether a header is hBayesDM's two-step format."""
    return {"subjID", "level1_choice", "level2_choice"} <= set(columns)


def _codes(cols: Columns, column: str, allowed: tuple[int, ...]) -> np.ndarray:
    """Integer codes of ``column`` as float (NaN where missing); bad codes raise."""
    problem = f"is not one of {', '.join(map(str, allowed))} or empty (missed)"
    return cols.numbers(column, problem, valid=lambda v: np.isin(v, allowed))[0]


FORMAT = "hbayesdm"


def detect(path: Path, header: list[str]) -> bool:
    """Whether a file with this header is in hBayesDM's two-step format."""
    return header is not None and looks_like_hbayesdm(header)


def read(path: Path) -> pd.DataFrame:
    """Read an hBayesDM two-step file (tab- or comma-separated) as unvalidated tidy trials."""
    return hbayesdm_to_tidy(read_table(path), source=str(path))


def hbayesdm_to_tidy(raw: pd.DataFrame, source: str = "trials") -> pd.DataFrame:
    """Map an hBayesDM two-step table (all columns as read) onto the tidy schema.

    The result still needs :func:`cogarb.validate_trials`, which checks the trial
    order, duplicates and the remaining values.
    """
    absent = [c for c in HBAYESDM_COLUMNS if c not in raw.columns]
    if absent:
        raise TrialDataError(source, None, absent[0], None, "is missing (hBayesDM format)")
    cols = Columns(raw, source)
    subject = cols.text("subjID")
    level1 = _codes(cols, "level1_choice", (1, 2))
    level2 = _codes(cols, "level2_choice", (1, 2, 3, 4))
    # the second-stage state is coded only through level2_choice: without it the
    # transition is unknown, so the whole trial is missed (raw codes are kept)
    missed = np.isnan(level1) | np.isnan(level2)
    choice1 = np.where(missed, np.nan, level1 - 1)
    state2 = np.where(missed, np.nan, (level2 >= 3).astype(float))
    choice2 = np.where(missed, np.nan, (level2 - 1) % 2)
    common = np.where(missed, np.nan, (choice1 == state2).astype(float))
    tidy = pd.DataFrame(
        {
            "participant": subject,
            "trial": raw["trial"],
            "choice1": choice1,
            "state2": state2,
            "choice2": np.where(missed, np.nan, choice2),
            "reward": raw["reward"],
            "common": pd.array(
                [pd.NA if np.isnan(c) else bool(c) for c in common], dtype="boolean"
            ),
        }
    )
    for column, target in HBAYESDM_PROBABILITIES.items():
        if column in raw.columns:
            tidy[target] = cols.numbers(
                column,
                "is not a probability in [0, 1] or empty",
                valid=lambda v: (v >= 0) & (v <= 1),
            )[0]
    tidy["level1_choice"] = raw["level1_choice"].to_numpy()
    tidy["level2_choice"] = raw["level2_choice"].to_numpy()
    return tidy
