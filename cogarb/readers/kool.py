"""Kool et al. reader: the trial tables of Kool, Cushman & Gershman (2016) and Kool,
Gershman & Cushman (2017), as CSV with a header, one row per trial and all subjects
in one file (the derived ``kool2016_*_trials.csv`` / ``kool2017_*_trials.csv``, a
value-for-value copy of the authors' ``data.mat`` cell arrays).

Two task variants are recognised by their columns:

- the **Daw paradigm** (``ps1a1`` and ``win``): Daw et al.'s (2011) two-step task,
  70/30 transitions, two stimuli per stage, 0/1 rewards with drifting probabilities;
- the **novel paradigm** (``rews1`` and ``points``): two first-stage states with a
  pair of spaceships each, deterministic transitions to two planets, no
  second-stage choice, rewards in points (a drifting integer payoff per planet).

The 2017 files add ``stake`` (1 or 5, trial-wise low/high stakes); the 2016 Daw
file has a ``common`` column, which the 2017 one lacks.

Daw paradigm mapping:

============================  ===============================================
tidy column                   from
============================  ===============================================
participant                   subject
trial                         trial + 1 (main trials; ``trial`` is 0-based and
                              restarts after the practice trials)
choice1                       choice1 − 1 (stimulus 1/2 → 0/1; −1 → empty)
state2                        state2 − 1 (1/2 → 0/1; −1 → empty); stimulus 1
                              commonly leads to state 1, so state s is the
                              common destination of action s
choice2                       choice2 − 1 (stimulus 1/2 → 0/1); empty when
                              choice2 = −1, rt_2 = −1 or response2 = −1
reward                        win (0/1); empty when the second stage was missed
common                        common (1/0; −1 → empty) when the column is
                              there (2016), else choice1 = state2 (2017)
stakes                        stake (1/5; 2017 only)
rt1, rt2                      rt_1, rt_2 / 1000 (ms → seconds; −1 → empty)
p_reward_00, _01, _10, _11    ps1a1, ps1a2, ps2a1, ps2a2 (reward probability
                              of stimulus a in second-stage state s)
============================  ===============================================

Novel paradigm mapping:

============================  ===============================================
tidy column                   from
============================  ===============================================
participant                   subject
trial                         trial + 1 (main trials)
state1                        state1 − 1 (1/2 → 0/1)
choice1                       spaceship within the state: 1, 3 → 0; 2, 4 → 1
                              (state 1 offers spaceships 1/2, state 2 offers
                              3/4; −1 → empty)
state2                        state2 − 1 (planet 1/2 → 0/1; −1 → empty);
                              spaceships 1 and 3 fly to planet 1, 2 and 4 to
                              planet 2, so action a always leads to state a
choice2                       empty (no second-stage choice)
stage2_choice                 false
reward                        points (2016: −4..+5, 2017: 0..9; not multiplied
                              by the stake); empty when the first stage or the
                              second-stage key press (rt2 = −1) was missed
common                        true (deterministic transitions); empty when the
                              first stage was missed
stakes                        stake (1/5; 2017 only)
rt1, rt2                      rt1, rt2 / 1000 (ms → seconds; −1 → empty)
reward_state0, reward_state1  rews1, rews2 (current payoff of planet 1 and 2)
============================  ===============================================

Participant covariates ``age`` and ``sex``: when the matching subjects file
(``<name>_subjects.csv`` beside ``<name>_trials.csv``, the authors' ``subinfo.mat``)
exists, they are taken from it; otherwise from the trial file's own ``age`` and
``sex`` columns, if any. Participants without an entry keep empty covariates.

**Missed trials** (a response code of −1: the response deadline passed) are kept
with empty choices: a missed first stage empties choice1, state2, choice2 and
reward; a missed second stage (Daw paradigm) empties choice2 and reward (in the
2017 Daw file, which records a ``choice2`` and a ``win`` even then, a missed
second stage is recognised by ``rt_2 = −1`` or ``response2 = −1``); in the novel
paradigm a missed second-stage key press (``rt2 = −1``, 0 points given) empties
the reward, which makes the trial missed (``stage2_choice`` is false).

**Practice trials** (``practice = 1``: the first 25 trials of each participant,
before the main task) are excluded; ``trial`` numbers the main trials only.

Rows are returned grouped by participant in order of first appearance (two pairs
of participants are interleaved in the Daw files), each with ``source_file`` and
``source_line`` (1-based line of the CSV file, the header being line 1), so that
validation errors name the original line. Response codes out of range raise
:class:`cogarb.TrialDataError` naming the file, the data row (the header not
counted), the column and the value.

Citations:

- Kool, W., Cushman, F. A., & Gershman, S. J. (2016). When does model-based control
  pay off? *PLoS Computational Biology* 12(8), e1005090.
  https://doi.org/10.1371/journal.pcbi.1005090 (data: github.com/wkool/tradeoffs)
- Kool, W., Gershman, S. J., & Cushman, F. A. (2017). Cost-benefit arbitration
  between multiple reinforcement-learning systems. *Psychological Science* 28(9),
  1321-1333. https://doi.org/10.1177/0956797617708288
  (data: github.com/wkool/arbitration)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cogarb.readers.columns import Columns
from cogarb.readers.tables import read_table
from cogarb.schema import TrialDataError, missing_text

FORMAT = "kool"

DAW_COLUMNS = (
    "subject", "practice", "trial", "choice1", "state2", "choice2", "win",
    "rt_1", "rt_2", "ps1a1", "ps1a2", "ps2a1", "ps2a2",
)  # fmt: skip
NOVEL_COLUMNS = (
    "subject", "practice", "trial", "state1", "choice1", "state2", "points",
    "rt1", "rt2", "rews1", "rews2",
)  # fmt: skip
DAW_PROBABILITIES = {
    "ps1a1": "p_reward_00",
    "ps1a2": "p_reward_01",
    "ps2a1": "p_reward_10",
    "ps2a2": "p_reward_11",
}
COVARIATES = ("age", "sex")
STAKES = (1, 5)


def variant(header: list[str] | None) -> str | None:
    """``"daw"`` or ``"novel"`` for a header in one of the Kool formats, else ``None``."""
    columns = set(header or ())
    if {"subject", "practice", "ps1a1", "win"} <= columns:
        return "daw"
    if {"subject", "practice", "rews1", "points"} <= columns:
        return "novel"
    return None


def detect(path: Path, header: list[str] | None) -> bool:
    """Whether a file with this header is a Kool et al. trial table (Daw or novel paradigm).

    Parameters
    ----------
    path : pathlib.Path
        The file (unused: the header decides).
    header : list of str or None
        The file's column names; ``None`` for a folder (never this format).

    Returns
    -------
    bool
    """
    return variant(header) is not None


def read(path: Path) -> pd.DataFrame:
    """Read a Kool et al. trial table as unvalidated tidy trials.

    Parameters
    ----------
    path : pathlib.Path
        A ``kool2016_*_trials.csv`` or ``kool2017_*_trials.csv`` file (or any CSV
        with these columns). A ``*_subjects.csv`` beside it provides the
        covariates ``age`` and ``sex``.

    Returns
    -------
    pandas.DataFrame
        Main-task trials in the tidy schema (see the module docstring), not yet
        validated, with ``source_file`` and ``source_line`` columns.

    Raises
    ------
    TrialDataError
        For a missing column or a value out of range, naming the file, row,
        column and value.
    """
    path = Path(path)
    raw = read_table(path)
    trials = kool_to_tidy(raw, source=str(path))
    subjects = subjects_file(path)
    if subjects is not None:
        trials = _merge_subjects(trials, subjects)
    return trials


def subjects_file(path: Path) -> Path | None:
    """The subjects file that belongs to a trial file (``*_trials.csv`` → ``*_subjects.csv``)."""
    path = Path(path)
    if "_trials." not in path.name:
        return None
    candidate = path.with_name(path.name.replace("_trials.", "_subjects.", 1))
    return candidate if candidate.is_file() else None


def kool_to_tidy(raw: pd.DataFrame, source: str = "trials") -> pd.DataFrame:
    """Map a Kool et al. trial table (all columns as read, as text) onto the tidy schema.

    Parameters
    ----------
    raw : pandas.DataFrame
        The table as read by :func:`cogarb.readers.tables.read_table`, practice included.
    source : str
        Name of the file, used in error messages and ``source_file``.

    Returns
    -------
    pandas.DataFrame
        Unvalidated tidy trials of the main task.

    Raises
    ------
    TrialDataError
        For an unknown format, a missing column or a value out of range.
    """
    kind = variant(list(raw.columns))
    if kind is None:
        raise TrialDataError(
            source, None, None, None,
            "is not a Kool et al. trial table (expected the columns ps1a1 and win of the "
            "Daw paradigm or rews1 and points of the novel paradigm)",
        )  # fmt: skip
    required = DAW_COLUMNS if kind == "daw" else NOVEL_COLUMNS
    absent = [c for c in required if c not in raw.columns]
    if absent:
        raise TrialDataError(
            source, None, absent[0], None, f"is missing (Kool et al. {kind} paradigm format)"
        )
    practice = _codes(Columns(raw, source), "practice", (0, 1))
    main = np.flatnonzero(practice == 0)
    if len(main) == 0:
        raise TrialDataError(source, None, "practice", None, "no main-task trials (practice = 0)")
    col = Columns(raw.iloc[main].reset_index(drop=True), source, rows=main + 1)

    participant = col.text("subject").to_numpy()
    trial = _number(col, "trial", integer=True, minimum=0) + 1
    tidy = {"participant": participant, "trial": trial.astype(np.int64)}
    if kind == "daw":
        tidy.update(_daw(col))
    else:
        tidy.update(_novel(col))
    if "stake" in raw.columns:
        tidy["stakes"] = _codes(col, "stake", STAKES, missed=False).astype(np.int64)
    tidy["rt1"] = _rt(col, "rt_1" if kind == "daw" else "rt1")
    tidy["rt2"] = _rt(col, "rt_2" if kind == "daw" else "rt2")
    if kind == "daw":
        for column, target in DAW_PROBABILITIES.items():
            tidy[target] = _number(col, column, minimum=0, maximum=1)
    else:
        tidy["reward_state0"] = _number(col, "rews1", integer=True).astype(np.int64)
        tidy["reward_state1"] = _number(col, "rews2", integer=True).astype(np.int64)
    out = pd.DataFrame(tidy)
    for column in COVARIATES:
        if column in raw.columns:
            out[column] = _covariate(raw[column].iloc[main].reset_index(drop=True), column)
    out["source_file"] = source
    out["source_line"] = main + 2  # header = line 1
    # group the (occasionally interleaved) participants, keeping the order within each
    order = pd.Categorical(participant, categories=pd.unique(participant)).codes
    return out.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


def _daw(col: Columns) -> dict:
    stimulus1 = _codes(col, "choice1", (1, 2))
    planet = _codes(col, "state2", (1, 2))
    stimulus2 = _codes(col, "choice2", (1, 2))
    win = _codes(col, "win", (0, 1))
    missed2 = np.isnan(_rt(col, "rt_2")) | np.isnan(planet) | np.isnan(stimulus2)
    if "response2" in col.frame.columns:
        missed2 |= np.isnan(_codes(col, "response2", (70, 74)))
    choice1 = stimulus1 - 1
    state2 = planet - 1
    if "common" in col.frame.columns:
        common_code = _codes(col, "common", (0, 1))
    else:
        common_code = np.where(np.isnan(state2), np.nan, (choice1 == state2).astype(float))
    return {
        "choice1": choice1,
        "state2": state2,
        "choice2": np.where(missed2, np.nan, stimulus2 - 1),
        "reward": np.where(missed2, np.nan, win),
        "common": _boolean(common_code),
    }


def _novel(col: Columns) -> dict:
    state1 = _codes(col, "state1", (1, 2), missed=False)
    spaceship = _codes(col, "choice1", (1, 2, 3, 4))
    offered = np.where(state1 == 1, spaceship <= 2, spaceship >= 3)
    bad = ~np.isnan(spaceship) & ~offered
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise col.error(
            i, "choice1",
            f"is not a spaceship of first-stage state {int(state1[i])} (state 1 offers "
            "spaceships 1/2, state 2 offers 3/4)",
        )  # fmt: skip
    planet = _codes(col, "state2", (1, 2))
    points = _number(col, "points", integer=True)
    rt2 = _rt(col, "rt2")
    missed1 = np.isnan(spaceship)
    n = len(spaceship)
    return {
        "state1": state1 - 1,
        "choice1": (spaceship - 1) % 2,
        "state2": planet - 1,
        "choice2": np.full(n, np.nan),
        "stage2_choice": np.zeros(n, bool),
        "reward": np.where(missed1 | np.isnan(rt2), np.nan, points),
        "common": _boolean(np.where(missed1, np.nan, 1.0)),
    }


def _boolean(codes: np.ndarray) -> pd.arrays.BooleanArray:
    missing = np.isnan(codes)
    return pd.arrays.BooleanArray(np.where(missing, 0, codes).astype(bool), missing)


def _covariate(series: pd.Series, column: str) -> pd.Series:
    """A covariate as read (text): integral numbers as Int64, other numbers as float, or text."""
    text = series.astype(str).str.strip()
    missing = missing_text(series)
    values = pd.to_numeric(text.where(~missing), errors="coerce")
    if (values.notna() | missing).all() and not missing.all():
        if (values.dropna() == values.dropna().round()).all():
            return values.astype("Int64")
        return values.astype(float)
    return text.where(~missing).astype(object).rename(column)


def _merge_subjects(trials: pd.DataFrame, path: Path) -> pd.DataFrame:
    subjects = read_table(path)
    source = str(path)
    if "subject" not in subjects.columns:
        raise TrialDataError(source, None, "subject", None, "is missing (Kool subjects file)")
    ids = subjects["subject"].astype(str).str.strip()
    duplicated = ids.duplicated().to_numpy()
    if duplicated.any():
        i = int(np.flatnonzero(duplicated)[0])
        raise TrialDataError(source, i + 1, "subject", ids.iloc[i], "is listed twice")
    present = [c for c in COVARIATES if c in subjects.columns]
    out = trials.drop(columns=[c for c in present if c in trials.columns])
    position = list(out.columns).index("source_file")
    for column in reversed(present):
        values = _covariate(subjects[column], column).set_axis(ids.to_numpy())
        out.insert(position, column, values.reindex(out["participant"].to_numpy()).array)
    return out


def _codes(col: Columns, column: str, allowed: tuple[int, ...], missed: bool = True) -> np.ndarray:
    """Integer codes as float; with ``missed``, −1 and empty give NaN."""
    problem = f"is not one of {', '.join(map(str, allowed))}" + (
        " or -1 (missed)" if missed else ""
    )
    values, missing = col.numbers(column, problem)
    if missed:
        missing = missing | (values == -1)
    else:
        col.refuse(missing, column, problem)
    col.refuse(~missing & ~np.isin(values, allowed), column, problem)
    return np.where(missing, np.nan, values)


def _number(
    col: Columns,
    column: str,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> np.ndarray:
    """A required number (not empty), optionally an integer within bounds."""
    kind = "an integer" if integer else "a number"
    bounds = ""
    if minimum is not None and maximum is not None:
        bounds = f" in [{minimum:g}, {maximum:g}]"
    elif minimum is not None:
        bounds = f" >= {minimum:g}"
    problem = f"is not {kind}{bounds}"
    values, missing = col.numbers(column, problem)
    bad = missing.copy()
    if integer:
        bad |= values != np.round(values)
    if minimum is not None:
        bad |= values < minimum
    if maximum is not None:
        bad |= values > maximum
    col.refuse(bad, column, problem)
    return values


def _rt(col: Columns, column: str) -> np.ndarray:
    """A response time in ms as seconds; −1 (missed) and empty give NaN."""
    problem = "is not a response time in ms (>= 0, or -1 if missed)"
    values, missing = col.numbers(column, problem)
    missing = missing | (values == -1)
    col.refuse(~missing & (values < 0), column, problem)
    return np.where(missing, np.nan, values / 1000.0)
