"""Feher da Silva & Hare (2020) reader: the "magic carpet" and "spaceship" experiments.

Feher da Silva, C., & Hare, T. A. (2020). Humans primarily use model-based
inference in the two-stage task. *Nature Human Behaviour* 4, 1053–1066.
https://doi.org/10.1038/s41562-020-0905-y — data: GitHub ``carolfs/muddled_models``,
folder ``results/`` (GPL-3.0).

Both experiments store one CSV file per participant in a ``choices/`` folder. This
reader accepts that folder, the experiment folder that contains it
(``results/magic_carpet`` or ``results/spaceship``), or a single main-task file
(``<id>_game.csv`` for the magic carpet, ``<id>.csv`` for the spaceship). The
participant id is the file name up to the first ``.`` or ``_`` (``03187_game.csv`` →
``"03187"``, ids keep their leading zeros). A folder must hold one experiment only.

**Practice trials are excluded**: the ``<id>_tutorial.csv`` (magic carpet) and
``<id>_practice.csv`` (spaceship) files are skipped in a folder, and passing one of
them directly raises ``ValueError``. The other files of the folder (``_config.txt``,
``_info.txt``) are not read. Every main-task row is kept.

**Missed trials.** Each stage had a 2-s response limit; a timeout is coded ``-1``
in ``choice1``/``final_state`` (stage 1) or ``choice2`` (stage 2) and the raw
``reward`` is then 0. Timed-out trials are kept as missed: on a stage-1 timeout
``choice1``, ``state2``, ``choice2``, ``common`` and ``reward`` are empty (the raw
``common`` there is the transition drawn for a choice that was never made); on a
stage-2 timeout ``choice1``, ``state2`` and ``common`` are kept and ``choice2`` and
``reward`` are empty (the raw 0 is not a real outcome). ``trial`` numbers every
row 1, 2, ... in file order, timed-out rows included, so each participant has 201
(magic carpet) or 250 (spaceship) completed trials plus their timeouts. (The
authors drop the timed-out, "slow", trials before fitting; the likelihoods here
skip missed trials instead.)

Columns added to the schema: ``experiment`` (``"magic_carpet"`` or
``"spaceship"``), ``key1``/``key2`` (the side pressed, 0 left / 1 right),
``source_file`` (the file name) and ``source_line`` (its line, the header being
line 1).

Magic carpet (``<id>_game.csv``; a Daw et al. 2011 task: two carpets, two
mountains with two lamps each, 70/30 transitions, drifting reward probabilities):

==========================  =====================================================
tidy column                 from
==========================  =====================================================
participant                 file name ``<id>_game.csv`` → ``<id>``
experiment                  ``"magic_carpet"``
trial                       1-based row order (raw ``trial`` is 0-based and counts
                            timed-out trials too; it must be 0, 1, 2, ...)
choice1                     carpet ``choice1`` − 1 (1/2 → 0/1; −1 → empty)
state2                      mountain ``final_state`` − 1 (carpet c commonly flies to
                            mountain c; −1 → empty)
choice2                     lamp ``choice2`` − 1 (1/2 → 0/1; −1 → empty)
reward                      ``reward`` (1 coin / 0; empty on any timeout)
common                      ``common`` (1/0; checked: equals ``final_state ==
                            choice1``; empty on a stage-1 timeout)
rt1, rt2                    ``rt1``, ``rt2`` (already seconds; −1 → NaN)
key1                        0 if the chosen carpet was on the left
                            (``choice1 == isymbol_lft``), 1 if on the right
key2                        0 if the chosen lamp was on the left
                            (``choice2 == fsymbol_lft``), 1 if on the right
p_reward_<s><a>             ``reward.<s+1>.<a+1>`` (mountain s, lamp a)
==========================  =====================================================

Spaceship (``<id>.csv``). Each trial starts with a flight-board announcement of
one spaceship (``symbol0``, 0/1) and one planet (``symbol1``, 0/1): on a common
transition the announced spaceship flies to the announced planet and the other
spaceship to the other planet, so the transition structure changes from trial to
trial (four initial states). The raw ``choice1`` is the key pressed (0 left, 1
right); the spaceships keep their sides, so it also identifies the spaceship.

**Recoding.** As the authors do for model fitting (``get_spaceship_choice1`` in
their ``analyses_simulations/utils.py``), the first-stage choice is recoded as the
planet *targeted*, i.e. the common destination of the chosen spaceship on this
trial: ``choice1 = symbol1 if key == symbol0 else 1 − symbol1``. Then
``state2 = final_state`` and the raw ``common`` says whether the planet reached
is the targeted one (checked on every trial with a first-stage choice). This
turns the spaceship task into the Daw-task form that cogarb's agents assume
(one first-stage state, action s commonly leads to state s, fixed transition
probabilities). It discards which spaceship was chosen (the key, kept as
``key1``) and the announcement (kept as ``announced_spaceship`` and
``announced_planet``): an agent fitted to the recoded choices learns
model-free values of "aim at planet 0/1" shared across the four announcements,
not values of the spaceships or of each announcement, and its perseveration
repeats the targeted planet, not the spaceship or the key. (The authors' own
hybrid model keeps the announcement, indexing its model-free values by
``2 * symbol0 + symbol1``; reproducing it needs those columns.)

==========================  =====================================================
tidy column                 from
==========================  =====================================================
participant                 file name ``<id>.csv`` → ``<id>``
experiment                  ``"spaceship"``
trial                       1-based row order (raw ``trial`` is 1-based and counts
                            timed-out trials; it must be 1, 2, 3, ...)
choice1                     targeted planet: ``symbol1`` if ``choice1 == symbol0``
                            else ``1 − symbol1`` (raw −1 → empty)
state2                      planet ``final_state`` (0/1; −1 → empty)
choice2                     obelisk ``choice2`` (0 left / 1 right; −1 → empty)
reward                      ``reward`` (1/0; empty on any timeout)
common                      ``common`` (1/0; empty on a stage-1 timeout)
rt1, rt2                    ``rt1``, ``rt2`` (already seconds; −1 → NaN)
key1                        raw ``choice1`` (0 left / 1 right spaceship)
key2                        raw ``choice2`` (the obelisks keep their sides)
announced_spaceship         ``symbol0``
announced_planet            ``symbol1``
p_reward_<s><a>             ``rwrd_prob<2s+a>`` (planet s, obelisk a)
==========================  =====================================================

A raw code out of range, a non-numeric value, trial numbers that skip or repeat,
a ``common``/``slow`` flag inconsistent with the choices, or an RT that is not −1
exactly on the stage's timeouts raise
:class:`~cogarb.schema.TrialDataError` naming the file, the data row (line = row + 1),
the column and the value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cogarb.readers.columns import Columns, nullable_int8
from cogarb.readers.tables import read_header, read_table, reading
from cogarb.schema import TrialDataError

FORMAT = "feherdasilva2020"

MAGIC_CARPET = "magic_carpet"
SPACESHIP = "spaceship"
MAGIC_CARPET_COLUMNS = (
    "trial", "common", "reward.1.1", "reward.1.2", "reward.2.1", "reward.2.2",
    "isymbol_lft", "isymbol_rgt", "rt1", "choice1", "final_state",
    "fsymbol_lft", "fsymbol_rgt", "rt2", "choice2", "reward", "slow",
)  # fmt: skip
SPACESHIP_COLUMNS = (
    "trial", "rwrd_prob0", "rwrd_prob1", "rwrd_prob2", "rwrd_prob3", "symbol0",
    "symbol1", "common", "choice1", "rt1", "final_state", "choice2", "rt2",
    "reward", "slow",
)  # fmt: skip
PRACTICE_SUFFIXES = ("_tutorial", "_practice")
TIMEOUT = -1


def experiment_of(header: list[str] | None) -> str | None:
    """``"magic_carpet"``, ``"spaceship"`` or ``None`` for a file with this header."""
    if not header:
        return None
    columns = set(header)
    if "isymbol_lft" in columns:
        return MAGIC_CARPET
    if {"rwrd_prob0", "symbol0"} <= columns:
        return SPACESHIP
    return None


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def _is_practice(path: Path) -> bool:
    return _stem(path).lower().endswith(PRACTICE_SUFFIXES)


def _is_csv(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and (name.endswith(".csv") or name.endswith(".csv.gz"))


def _choices_folder(folder: Path) -> Path:
    return folder / "choices" if (folder / "choices").is_dir() else folder


def _candidates(folder: Path) -> list[Path]:
    """The main-task CSV files of a ``choices/`` folder (practice files left out)."""
    folder = _choices_folder(folder)
    return sorted(p for p in folder.iterdir() if _is_csv(p) and not _is_practice(p))


def detect(path: Path, header: list[str] | None) -> bool:
    """Whether ``path`` is a magic-carpet or spaceship file, or a folder of them.

    A file is recognised by its header (``isymbol_lft`` for the magic carpet,
    ``rwrd_prob0`` and ``symbol0`` for the spaceship); a folder (``header`` is
    ``None``) by the header of its first main-task CSV file, in the folder itself
    or in its ``choices/`` subfolder.
    """
    path = Path(path)
    if header is not None:
        return experiment_of(header) is not None
    if not path.is_dir():
        return False
    candidates = _candidates(path)
    return bool(candidates) and experiment_of(read_header(candidates[0])) is not None


def read(path: Path) -> pd.DataFrame:
    """Read a magic-carpet or spaceship folder or main-task file as unvalidated tidy trials.

    Parameters
    ----------
    path : pathlib.Path
        A ``choices/`` folder, the experiment folder containing it, or one
        main-task CSV file.

    Returns
    -------
    pandas.DataFrame
        One row per raw row (timeouts kept as missed trials), participants in file
        name order, with the columns listed in the module docstring.

    Raises
    ------
    TrialDataError
        For a file that is not in either format, a missing column, or a raw value
        out of range or inconsistent (naming file, row, column and value).
    ValueError
        For a practice file, a folder without main-task files, or a folder mixing
        the two experiments.
    """
    path = Path(path)
    with reading(path):
        return _read(path)


def _read(path: Path) -> pd.DataFrame:
    if path.is_dir():
        files = _candidates(path)
        if not files:
            raise ValueError(
                f"{path}: no magic-carpet (<id>_game.csv) or spaceship (<id>.csv) files"
            )
    else:
        if _is_practice(path):
            raise ValueError(
                f"{path}: is a practice file (*_tutorial.csv / *_practice.csv), which the "
                f"{FORMAT} reader excludes; pass a main-task file or the choices/ folder"
            )
        files = [path]
    parts = []
    for file in files:
        experiment = experiment_of(read_header(file))
        if experiment is None:
            raise TrialDataError(
                str(file), None, None, None,
                "is neither a magic-carpet nor a spaceship main-task file "
                "(no 'isymbol_lft' or 'rwrd_prob0'/'symbol0' column)",
            )  # fmt: skip
        parts.append(read_file(file, experiment))
    experiments = sorted({part["experiment"].iloc[0] for part in parts if len(part)})
    if len(experiments) > 1:
        raise ValueError(f"{path}: mixes the {' and '.join(experiments)} experiments")
    return pd.concat(parts, ignore_index=True)


def participant_id(path: Path) -> str:
    """The participant id in a file name: ``03187_game.csv`` → ``"03187"``."""
    return _stem(path).split("_")[0]


def read_file(path: Path, experiment: str) -> pd.DataFrame:
    """One participant's main-task file of ``experiment`` as unvalidated tidy trials."""
    path = Path(path)
    raw = read_table(path)
    columns = MAGIC_CARPET_COLUMNS if experiment == MAGIC_CARPET else SPACESHIP_COLUMNS
    absent = [c for c in columns if c not in raw.columns]
    if absent:
        raise TrialDataError(str(path), None, absent[0], None, f"is missing ({experiment} file)")
    parse = Columns(raw, str(path))
    if experiment == MAGIC_CARPET:
        tidy = _magic_carpet(parse)
    else:
        tidy = _spaceship(parse)
    tidy.insert(0, "participant", participant_id(path))
    tidy.insert(1, "experiment", experiment)
    tidy["source_file"] = path.name
    tidy["source_line"] = np.arange(2, len(raw) + 2)
    return tidy


def _number(parse: Columns, column: str) -> np.ndarray:
    """A required number; empty or not a finite number raises."""
    return parse.numbers(column, "is not a finite number", missing_ok=False)[0]


def _codes(parse: Columns, column: str, allowed: tuple[int, ...], meaning: str = "") -> np.ndarray:
    values = _number(parse, column)
    parse.refuse(~np.isin(values, allowed), column, f"is not {meaning or _one_of(allowed)}")
    return values


def _probability(parse: Columns, column: str) -> np.ndarray:
    values = _number(parse, column)
    parse.refuse((values < 0) | (values > 1), column, "is not a probability in [0, 1]")
    return values


def _seconds(parse: Columns, column: str, timeout: np.ndarray) -> np.ndarray:
    """Response times in seconds: -1 exactly on the stage's timeouts (then NaN)."""
    values = _number(parse, column)
    parse.refuse(~timeout & (values < 0), column, "is not a response time >= 0 (s)")
    parse.refuse(timeout & (values != TIMEOUT), column, "is not -1 on a timed-out stage")
    return np.where(timeout, np.nan, values)


def _check_trials(parse: Columns, first: int) -> None:
    values = _number(parse, "trial")
    expected = np.arange(first, first + len(values))
    parse.refuse(
        values != expected,
        "trial",
        f"breaks the trial numbering (expected {first}, {first + 1}, ... one row per trial)",
    )


def _one_of(allowed: tuple[int, ...]) -> str:
    return "one of " + ", ".join(map(str, allowed))


def _stage_checks(
    parse: Columns, choice1: np.ndarray, final_state: np.ndarray, choice2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Timeout consistency; returns the stage-1 and stage-2 timeout masks."""
    miss1 = choice1 == TIMEOUT
    parse.refuse(
        miss1 != (final_state == TIMEOUT),
        "final_state",
        "disagrees with choice1 about a stage-1 timeout (both are -1 or neither)",
    )
    parse.refuse(miss1 & (choice2 != TIMEOUT), "choice2", "is given although stage 1 timed out")
    miss2 = ~miss1 & (choice2 == TIMEOUT)
    slow = _codes(parse, "slow", (0, 1))
    parse.refuse(
        (slow == 1) != (miss1 | miss2),
        "slow",
        "disagrees with the choices (1 exactly when a stage timed out)",
    )
    return miss1, miss2


def _magic_carpet(parse: Columns) -> pd.DataFrame:
    _check_trials(parse, first=0)
    choice1 = _codes(parse, "choice1", (1, 2, TIMEOUT), "1, 2 or -1 (timeout)")
    final_state = _codes(parse, "final_state", (1, 2, TIMEOUT), "1, 2 or -1 (timeout)")
    choice2 = _codes(parse, "choice2", (1, 2, TIMEOUT), "1, 2 or -1 (timeout)")
    common = _codes(parse, "common", (0, 1))
    reward = _codes(parse, "reward", (0, 1))
    miss1, miss2 = _stage_checks(parse, choice1, final_state, choice2)
    left1, right1 = _codes(parse, "isymbol_lft", (1, 2)), _codes(parse, "isymbol_rgt", (1, 2))
    parse.refuse(left1 == right1, "isymbol_rgt", "repeats isymbol_lft")
    second = "1, 2, or -1 when stage 1 timed out"
    left2 = _codes(parse, "fsymbol_lft", (1, 2, TIMEOUT), second)
    right2 = _codes(parse, "fsymbol_rgt", (1, 2, TIMEOUT), second)
    parse.refuse((left2 == TIMEOUT) != miss1, "fsymbol_lft", f"is not {second}")
    parse.refuse((left2 == right2) & ~miss1, "fsymbol_rgt", "repeats fsymbol_lft")
    parse.refuse(
        ~miss1 & ((common == 1) != (final_state == choice1)),
        "common",
        "is inconsistent with choice1 and final_state (common means final_state == choice1)",
    )
    missed = miss1 | miss2
    tidy = pd.DataFrame(
        {
            "trial": np.arange(1, len(choice1) + 1),
            "choice1": np.where(miss1, np.nan, choice1 - 1),
            "state2": np.where(miss1, np.nan, final_state - 1),
            "choice2": np.where(missed, np.nan, choice2 - 1),
            "reward": np.where(missed, np.nan, reward),
            "common": pd.array(np.where(miss1, None, common == 1), dtype="boolean"),
            "rt1": _seconds(parse, "rt1", miss1),
            "rt2": _seconds(parse, "rt2", miss1 | miss2),
            "key1": nullable_int8(choice1 != left1, miss1),
            "key2": nullable_int8(choice2 != left2, missed),
        }
    )
    for s in (0, 1):
        for a in (0, 1):
            tidy[f"p_reward_{s}{a}"] = _probability(parse, f"reward.{s + 1}.{a + 1}")
    return tidy


def _spaceship(parse: Columns) -> pd.DataFrame:
    _check_trials(parse, first=1)
    key1 = _codes(parse, "choice1", (0, 1, TIMEOUT), "0, 1 or -1 (timeout)")
    final_state = _codes(parse, "final_state", (0, 1, TIMEOUT), "0, 1 or -1 (timeout)")
    choice2 = _codes(parse, "choice2", (0, 1, TIMEOUT), "0, 1 or -1 (timeout)")
    symbol0 = _codes(parse, "symbol0", (0, 1))
    symbol1 = _codes(parse, "symbol1", (0, 1))
    common = _codes(parse, "common", (0, 1))
    reward = _codes(parse, "reward", (0, 1))
    miss1, miss2 = _stage_checks(parse, key1, final_state, choice2)
    target = np.where(key1 == symbol0, symbol1, 1 - symbol1)
    parse.refuse(
        ~miss1 & ((final_state == target) != (common == 1)),
        "final_state",
        "is inconsistent with choice1, the announcement (symbol0, symbol1) and common "
        "(a common transition takes the announced spaceship to the announced planet)",
    )
    missed = miss1 | miss2
    tidy = pd.DataFrame(
        {
            "trial": np.arange(1, len(key1) + 1),
            "choice1": np.where(miss1, np.nan, target),
            "state2": np.where(miss1, np.nan, final_state),
            "choice2": np.where(missed, np.nan, choice2),
            "reward": np.where(missed, np.nan, reward),
            "common": pd.array(np.where(miss1, None, common == 1), dtype="boolean"),
            "rt1": _seconds(parse, "rt1", miss1),
            "rt2": _seconds(parse, "rt2", miss1 | miss2),
            "key1": nullable_int8(key1, miss1),
            "key2": nullable_int8(choice2, missed),
            "announced_spaceship": nullable_int8(symbol0),
            "announced_planet": nullable_int8(symbol1),
        }
    )
    for s in (0, 1):
        for a in (0, 1):
            tidy[f"p_reward_{s}{a}"] = _probability(parse, f"rwrd_prob{2 * s + a}")
    return tidy
