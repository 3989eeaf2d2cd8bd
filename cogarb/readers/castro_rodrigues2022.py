"""Castro-Rodrigues et al. (2022) reader: Akam's two-step task (up/down, then left/right).

Castro-Rodrigues, P., Akam, T., Snorasson, I., Camacho, M., Paixão, V., Maia, A.,
Barahona-Corrêa, J. B., Dayan, P., Simpson, H. B., Costa, R. M., & Oliveira-Maia,
A. J. (2022). Explicit knowledge of task structure is a primary determinant of human
model-based action. *Nature Human Behaviour* 6(8), 1126–1141.
https://doi.org/10.1038/s41562-022-01346-2 — data: GitHub
``ThomasAkam/Two-step_explicit_knowledge``, folder ``data/`` (no licence stated).

The first step is a choice between *up* and *down*; the transition leads with
probability 0.8 to the common and 0.2 to the rare one of two second-step states,
*left* and *right*, where the participant presses the key of the state shown (no
second-step choice) and is rewarded with the probability of that state in the
current reward block. In transition block 1 ("A") up → left and down → right are
common; in block 0 ("B") up → right and down → left. Fixed-task groups keep one
structure per participant (counterbalanced), the "changing" groups see reversals.

Two inputs are read:

- the derived per-trial CSV (``castro_rodrigues2022_trials.csv.gz``, one row per
  trial with columns ``group, subject, session, trial, reward_block,
  transition_block, choice1, second_step, outcome, rt1_ms, rt2_ms, common, ...``),
  recognised by the columns ``reward_block``, ``transition_block`` and
  ``second_step``;
- the original logs ``data/<group>/<subject>_session<k>_log`` (``<time ms>
  :<event>`` lines): the ``data/`` folder, one group folder, or one log file.
  The group is the name of the folder that holds the log.

Mapping:

=========================  =====================================================
tidy column                from
=========================  =====================================================
participant                subject
session                    session (1–4)
trial                      1, 2, … over the participant's sessions in order
                           (within a session in file/log order)
session_trial              trial (the trial number within the session's log)
session_run                1; 2 for the trials after the task was restarted
                           within one log (``trial`` starts again at 1; three
                           logs: subject 187 session 2 after 40 trials, 46
                           session 1 and 101 session 2 after 10 trials). Both
                           runs are kept
choice1                    choice1 / ``triggered Up|Down``: up → 0, down → 1
state2                     second_step / ``triggered Left|Right``: left → 0,
                           right → 1 (state s is the common destination of
                           action s in transition block A)
choice2                    empty (no second-step choice)
stage2_choice              false
reward                     outcome / ``ons_msReward`` → 1, ``ons_msNoRwrd`` → 0
transitions_reversed       transition_block = 0 (block B: action a commonly
                           leads to state 1 − a)
common                     state2 = (1 − choice1 if reversed else choice1); the
                           CSV's own ``common`` column, when present, must agree
p_reward_00, p_reward_01   P(reward | left) of the reward block: 0.8 / 0.5 / 0.2
p_reward_10, p_reward_11   P(reward | right): 0.2 / 0.5 / 0.8 (reward_block
                           0 / 1 / 2; both actions of a state share it)
reward_block               reward_block / ``RewardBlock:`` (0 left good,
                           1 neutral, 2 right good)
transition_block           transition_block / ``TransitionBlock:`` (1 A, 0 B)
rt1, rt2                   rt1_ms / 1000, rt2_ms / 1000 (seconds, rounded to
                           1 µs); from the logs: choice time − stimulus onset
group                      group (the group folder's name)
population                 from the group: ``healthy`` (healthy-volunteers),
                           ``OCD``, ``mood_anxiety`` (mood-and-anxiety)
task_version               ``fixed`` (fixed-task), ``changing`` (changing-task,
                           changing), ``slow_paced`` (slow-paced-task)
debrief                    true for ``debrief``, false for ``no-debrief``
site                       ``LS`` (Lisbon) or ``NY`` (New York)
source_file, source_line   the CSV file and its line (header = line 1), or the
                           log file and the line of its ``trial-<n>`` event
=========================  =====================================================

Missed trials: the task is self-paced and the published data contain none. An
empty ``choice1``/``second_step``/``outcome`` in the CSV, or a log trial cut short
before its choice, state or outcome event, gives a trial kept with empty values
(missed). Practice trials are not in the data; no trial is dropped. Unknown codes
(choice1 not up/down, a block code out of range, an unknown log event, ...) raise
:class:`~cogarb.schema.TrialDataError` naming file, row or line, column and value.
In the CSV, a group name not of the form ``<population>_<task>_<debrief>_<site>``
raises; for logs, a folder name that is not a group name leaves the covariates
empty.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path

import numpy as np
import pandas as pd

from cogarb.readers.columns import Columns
from cogarb.readers.tables import read_table, read_text, reading
from cogarb.schema import TrialDataError

FORMAT = "castro_rodrigues2022"

CSV_COLUMNS = (
    "group",
    "subject",
    "session",
    "trial",
    "reward_block",
    "transition_block",
    "choice1",
    "second_step",
    "outcome",
)
CHOICE1_CODES = {"up": 0, "down": 1}
STATE2_CODES = {"left": 0, "right": 1}
REWARD_BLOCK_CODES = {"0": 0, "1": 1, "2": 2}
TRANSITION_BLOCK_CODES = {"0": 0, "1": 1}
OUTCOME_CODES = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}
#: P(reward | left), P(reward | right) by reward block.
REWARD_PROBABILITIES = {0: (0.8, 0.2), 1: (0.5, 0.5), 2: (0.2, 0.8)}

POPULATIONS = {"healthy-volunteers": "healthy", "OCD": "OCD", "mood-and-anxiety": "mood_anxiety"}
TASK_VERSIONS = {
    "fixed-task": "fixed",
    "changing-task": "changing",
    "changing": "changing",
    "slow-paced-task": "slow_paced",
}
DEBRIEF = {"debrief": True, "no-debrief": False}
SITES = ("LS", "NY")
GROUP_PATTERN = re.compile(
    rf"^({'|'.join(map(re.escape, POPULATIONS))})_({'|'.join(map(re.escape, TASK_VERSIONS))})"
    rf"_({'|'.join(DEBRIEF)})_({'|'.join(SITES)})$"
)
LOG_NAME = re.compile(r"^(?P<subject>.+)_session(?P<session>\d+)_log$")
LOG_GLOBS = ("*_session*_log", "*/*_session*_log")
_HEADER_START = "Start Reward Block"
_EVENT = re.compile(r"^(?P<time>-?\d+(?:\.\d*)?)\s*:(?P<event>.*)$")
_TRIAL = re.compile(
    r"^trial-(?P<trial>\S+?)/RewardBlock:(?P<reward>\S*)/TransitionBlock:(?P<tr>\S*)$"
)
_KEYS = frozenset({"up", "down", "left", "right", "end", "shift", "control"})


def parse_group(group: str) -> dict | None:
    """The covariates encoded in a group folder name, or ``None`` if it is not one.

    Parameters
    ----------
    group : str
        E.g. ``"OCD_fixed-task_debrief_NY"``.

    Returns
    -------
    dict or None
        ``population``, ``task_version``, ``debrief`` and ``site``.
    """
    match = GROUP_PATTERN.match(group.strip())
    if match is None:
        return None
    population, task, debrief, site = match.groups()
    return {
        "population": POPULATIONS[population],
        "task_version": TASK_VERSIONS[task],
        "debrief": DEBRIEF[debrief],
        "site": site,
    }


def _is_log(path: Path) -> bool:
    return LOG_NAME.match(path.name) is not None


def detect(path: Path, header: list[str] | None) -> bool:
    """Whether ``path`` is the derived CSV, a log file, or a folder of logs.

    Parameters
    ----------
    path : pathlib.Path
        A file or folder.
    header : list of str or None
        The file's column names; ``None`` for a folder.

    Returns
    -------
    bool
    """
    path = Path(path)
    if header is None:
        return path.is_dir() and any(next(path.glob(g), None) is not None for g in LOG_GLOBS)
    if {"reward_block", "transition_block", "second_step"} <= set(header):
        return True
    return _is_log(path) and bool(header) and str(header[0]).strip().startswith(_HEADER_START)


def read(path: Path) -> pd.DataFrame:
    """Read the derived CSV, a log file or a folder of logs as unvalidated tidy trials.

    Parameters
    ----------
    path : pathlib.Path
        ``castro_rodrigues2022_trials.csv.gz`` (or any table with its columns),
        one ``<subject>_session<k>_log`` file, a group folder of logs, or the
        ``data/`` folder of group folders.

    Returns
    -------
    pandas.DataFrame
        One row per trial in the tidy schema (see the module docstring), with
        ``source_file`` and ``source_line``.

    Raises
    ------
    TrialDataError
        For a missing column, an unknown code or log event, naming file, row or
        line, column and value.
    FileNotFoundError
        For a folder without log files.
    """
    path = Path(path)
    with reading(path):
        return _read(path)


def _read(path: Path) -> pd.DataFrame:
    if path.is_dir():
        files = log_files(path)
        if not files:
            raise FileNotFoundError(f"{path}: no <subject>_session<k>_log files")
        return logs_to_tidy(files, strict_group=False)
    if _is_log(path):
        return logs_to_tidy([path], strict_group=False)
    raw = read_table(path)
    raw["source_file"] = str(path)
    raw["source_line"] = np.arange(2, len(raw) + 2)
    return castro_rodrigues_to_tidy(raw, source=str(path))


def log_files(folder: Path) -> list[Path]:
    """The log files in ``folder`` and in its subfolders (one level down), sorted.

    The files ``LOG_GLOBS`` match, but a folder that cannot be listed raises
    instead of being skipped (``Path.glob`` skips it silently, which would drop
    its participants).

    Raises
    ------
    PermissionError
        For a folder that cannot be listed (named in the error).
    """
    pattern = LOG_GLOBS[0]
    found = []
    for entry in Path(folder).iterdir():
        if entry.is_dir():
            found += [f for f in entry.iterdir() if fnmatchcase(f.name, pattern) and f.is_file()]
        elif fnmatchcase(entry.name, pattern) and entry.is_file():
            found.append(entry)
    return sorted(found)


def read_log(path: Path) -> pd.DataFrame:
    """One log file as raw per-trial rows (the derived CSV's columns, as text).

    Parameters
    ----------
    path : pathlib.Path
        A ``<subject>_session<k>_log`` file; its folder's name is the group.

    Returns
    -------
    pandas.DataFrame
        Columns ``group, subject, session, trial, reward_block, transition_block,
        choice1, second_step, outcome, rt1_ms, rt2_ms, source_file,
        source_line``; empty strings where an event is absent.

    Raises
    ------
    TrialDataError
        For a line that is not a header or a ``<time> :<event>`` line, an unknown
        event, an event outside a trial, or a second choice in one trial.
    """
    path = Path(path)
    name = LOG_NAME.match(path.name)
    if name is None:
        raise TrialDataError(str(path), None, None, None, "is not named <subject>_session<k>_log")
    lines = read_text(path).splitlines()  # UTF-8, else an error naming line and byte
    if not any(line.strip() for line in lines):  # a header-only log is a session without trials
        raise TrialDataError(str(path), None, None, None, "is empty (no text)")
    rows: list[dict] = []
    trial: dict | None = None

    def fail(number: int, column: str, value, problem: str):
        return TrialDataError(f"{path}, line {number}", None, column, value, problem)

    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text.startswith(_HEADER_START) or text.startswith("/ Transition reversals"):
            trial = None  # a (re)start of the task ends the previous trial
            continue
        # a restart glues its header onto the last event ("ons_msRewardStart Reward ...")
        glued = text.find(_HEADER_START) > 0
        if glued:
            text = text[: text.find(_HEADER_START)].strip()
        if not text:
            continue
        match = _EVENT.match(text)
        if match is None:
            raise fail(number, "event", line, "is not a '<time in ms> :<event>' line")
        time, event = float(match["time"]), match["event"].strip()
        if event.startswith("trial-"):
            head = _TRIAL.match(event)
            if head is None:
                raise fail(
                    number, "event", event,
                    "is not 'trial-<n>/RewardBlock:<r>/TransitionBlock:<b>'",
                )  # fmt: skip
            trial = {
                "trial": head["trial"],
                "reward_block": head["reward"],
                "transition_block": head["tr"],
                "source_line": number,
            }
            rows.append(trial)
        elif event in _KEYS:
            pass  # any key press; the ones that count follow as "triggered ..." events
        elif trial is None:
            raise fail(number, "event", event, "comes outside a trial (before trial-<n>)")
        elif event == "ons_ms1":
            trial.setdefault("t_step1_on", time)
        elif event in ("triggered Up", "triggered Down"):
            if "choice1" in trial:
                raise fail(number, "event", event, "is a second first-step choice in one trial")
            trial["choice1"], trial["t_choice1"] = event.split()[1].lower(), time
        elif event == "ons_ms2":
            trial.setdefault("t_step2_on", time)
        elif event in ("triggered Left", "triggered Right"):
            if "second_step" in trial:
                raise fail(number, "event", event, "is a second second-step response in one trial")
            trial["second_step"], trial["t_choice2"] = event.split()[1].lower(), time
        elif event in ("ons_msReward", "ons_msNoRwrd"):
            if "outcome" in trial:
                raise fail(number, "event", event, "is a second outcome in one trial")
            trial["outcome"] = "1" if event == "ons_msReward" else "0"
        else:
            raise fail(number, "event", event, "is not a known event")
        if glued:
            trial = None
    frame = pd.DataFrame(
        rows,
        columns=[
            "trial", "reward_block", "transition_block", "source_line", "t_step1_on",
            "choice1", "t_choice1", "t_step2_on", "second_step", "t_choice2", "outcome",
        ],
    )  # fmt: skip
    rt1 = frame["t_choice1"].astype(float) - frame["t_step1_on"].astype(float)
    rt2 = frame["t_choice2"].astype(float) - frame["t_step2_on"].astype(float)
    out = pd.DataFrame(
        {
            "group": path.resolve().parent.name,
            "subject": name["subject"],
            "session": name["session"],
            "trial": frame["trial"],
            "reward_block": frame["reward_block"],
            "transition_block": frame["transition_block"],
            "choice1": frame["choice1"].fillna(""),
            "second_step": frame["second_step"].fillna(""),
            "outcome": frame["outcome"].fillna(""),
            "rt1_ms": rt1.map(lambda v: "" if np.isnan(v) else repr(v)),
            "rt2_ms": rt2.map(lambda v: "" if np.isnan(v) else repr(v)),
            "source_file": str(path),
            "source_line": frame["source_line"].astype(np.int64),
        }
    )
    return out


def logs_to_tidy(files: list[Path], strict_group: bool = False) -> pd.DataFrame:
    """Several log files as unvalidated tidy trials.

    Parameters
    ----------
    files : list of pathlib.Path
        ``<subject>_session<k>_log`` files, in any order.
    strict_group : bool
        Raise if a folder name is not a group name (default: covariates empty).

    Returns
    -------
    pandas.DataFrame
    """
    frames = [read_log(Path(f)) for f in files]
    frames = [f for f in frames if len(f)]
    if not frames:
        raise TrialDataError(", ".join(map(str, files)), None, None, None, "contain no trials")
    raw = pd.concat(frames, ignore_index=True)
    key = raw["subject"].map(lambda s: (0, int(s), "") if s.isdigit() else (1, 0, s))
    order = sorted(range(len(raw)), key=lambda i: (raw["group"].iat[i], key.iat[i]))
    raw = raw.iloc[order].reset_index(drop=True)  # sessions are sorted later
    return castro_rodrigues_to_tidy(raw, source="logs", strict_group=strict_group)


def castro_rodrigues_to_tidy(
    raw: pd.DataFrame, source: str = "trials", strict_group: bool = True
) -> pd.DataFrame:
    """Map per-trial rows in the derived CSV's columns onto the tidy schema.

    Parameters
    ----------
    raw : pandas.DataFrame
        Columns as in the derived CSV (text or numbers); optional ``rt1_ms``,
        ``rt2_ms``, ``common`` (checked against the codes), ``source_file`` and
        ``source_line`` (then errors name them).
    source : str
        Name used in error messages without ``source_file``.
    strict_group : bool
        Raise for a group that is not ``<population>_<task>_<debrief>_<site>``;
        otherwise leave its covariates empty.

    Returns
    -------
    pandas.DataFrame
        Unvalidated tidy trials, sorted by participant (first appearance) and
        session, keeping the order of rows within a session.

    Raises
    ------
    TrialDataError
    """
    absent = [c for c in CSV_COLUMNS if c not in raw.columns]
    if absent:
        raise TrialDataError(
            source, None, absent[0], None, "is missing (Castro-Rodrigues et al. 2022 format)"
        )
    located = {"source_file", "source_line"} <= set(raw.columns)
    if located:
        cols = Columns(raw, source, files=raw["source_file"], lines=raw["source_line"])
    else:
        cols = Columns(raw, source)

    participant = cols.text("subject")
    session = _positive_int(cols, "session")
    session_trial = _positive_int(cols, "trial")
    choice1 = cols.labels("choice1", CHOICE1_CODES)
    state2 = cols.labels("second_step", STATE2_CODES)
    reward = cols.labels("outcome", OUTCOME_CODES)
    reward_block = cols.labels("reward_block", REWARD_BLOCK_CODES)
    transition_block = cols.labels("transition_block", TRANSITION_BLOCK_CODES)
    for column, values in (("reward_block", reward_block), ("transition_block", transition_block)):
        cols.refuse(np.isnan(values), column, "is empty")
    reversed_ = transition_block == 0
    transition = ~np.isnan(choice1) & ~np.isnan(state2)
    destination = np.where(reversed_, 1 - choice1, choice1)
    common = np.where(transition, (state2 == destination).astype(float), np.nan)
    if "common" in raw.columns:
        given = cols.labels("common", {"0": 0.0, "1": 1.0, "false": 0.0, "true": 1.0})
        bad = transition & ~np.isnan(given) & (given != common)
        cols.refuse(bad, "common", "disagrees with choice1, second_step and transition_block")

    group = raw["group"].astype(str).str.strip()
    covariates = {}
    for name in pd.unique(group):
        parsed = parse_group(name)
        if parsed is None and strict_group:
            i = int(np.flatnonzero((group == name).to_numpy())[0])
            raise cols.error(
                i, "group",
                "is not <healthy-volunteers|OCD|mood-and-anxiety>_<fixed-task|changing-task|"
                "changing|slow-paced-task>_<debrief|no-debrief>_<LS|NY>",
            )  # fmt: skip
        covariates[name] = parsed or {}
    first_group = pd.Series(group.to_numpy()).groupby(participant.to_numpy(), sort=False)
    changed = (group.to_numpy() != first_group.transform("first").to_numpy()).nonzero()[0]
    if len(changed):
        i = int(changed[0])
        raise cols.error(
            i, "group",
            f"differs from the group of subject {participant.iloc[i]}'s earlier rows",
        )  # fmt: skip

    block = np.nan_to_num(reward_block).astype(int)
    p_left = np.array([REWARD_PROBABILITIES[b][0] for b in range(3)])[block]
    p_right = np.array([REWARD_PROBABILITIES[b][1] for b in range(3)])[block]

    def column(key: str, dtype: str) -> pd.array:
        return pd.array([covariates[g].get(key) for g in group], dtype=dtype)

    tidy = pd.DataFrame(
        {
            "participant": participant,
            "session": session,
            "session_trial": session_trial,
            "choice1": pd.array(choice1, dtype="Float64").astype("Int8"),
            "state2": pd.array(state2, dtype="Float64").astype("Int8"),
            "choice2": pd.array([pd.NA] * len(raw), dtype="Int8"),
            "stage2_choice": False,
            "reward": reward,
            "common": pd.array(common, dtype="Float64").astype("boolean"),
            "transitions_reversed": reversed_,
            "p_reward_00": p_left,
            "p_reward_01": p_left,
            "p_reward_10": p_right,
            "p_reward_11": p_right,
            "reward_block": block.astype(np.int8),
            "transition_block": transition_block.astype(np.int8),
            "rt1": _seconds(cols, "rt1_ms"),
            "rt2": _seconds(cols, "rt2_ms"),
            "group": group,
            "population": column("population", "string"),
            "task_version": column("task_version", "string"),
            "debrief": column("debrief", "boolean"),
            "site": column("site", "string"),
        }
    )
    if located:
        tidy["source_file"] = raw["source_file"].to_numpy()
        tidy["source_line"] = raw["source_line"].to_numpy()
    # sessions in order, rows of a session in file order
    first = pd.Categorical(participant, categories=pd.unique(participant)).codes
    order = np.lexsort((np.arange(len(tidy)), session, first))
    tidy = tidy.iloc[order].reset_index(drop=True)
    keys = tidy[["participant", "session"]]
    restart = (tidy["session_trial"].diff() <= 0) & keys.eq(keys.shift()).all(axis=1)
    tidy.insert(
        3,
        "session_run",
        restart.astype(int).groupby([tidy["participant"], tidy["session"]]).cumsum() + 1,
    )
    tidy.insert(1, "trial", tidy.groupby("participant", sort=False).cumcount() + 1)
    return tidy


def _positive_int(cols: Columns, column: str) -> np.ndarray:
    def positive_int(v):
        return (v >= 1) & (v == np.round(v))

    problem = "is not a positive integer"
    return cols.numbers(column, problem, missing_ok=False, valid=positive_int)[0].astype(np.int64)


def _seconds(cols: Columns, column: str) -> np.ndarray:
    """A time in ms as seconds (rounded to 1 µs); NaN where empty or the column is absent."""
    if column not in cols.frame.columns:
        return np.full(len(cols.frame), np.nan)
    problem = "is not a non-negative time in ms"
    values = cols.numbers(column, problem, valid=lambda v: v >= 0)[0]
    return np.round(values / 1000.0, 6)
