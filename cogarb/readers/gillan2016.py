"""Gillan et al. (2016) reader: the raw online two-step task files of Study 1 and
Study 2 (Daw et al. 2011 design, Amazon Mechanical Turk), one comma-separated file
per participant, without a header.

Gillan, C. M., Kosinski, M., Whelan, R., Phelps, E. A., & Daw, N. D. (2016).
Characterizing a psychiatric symptom dimension related to deficits in
goal-directed control. *eLife* 5:e11305. https://doi.org/10.7554/eLife.11305

``path`` is a folder of task files (``twostep_data_study1_individual_csv``,
``twostep_data_study2_individual_csv``: every ``*.csv`` file in it, in name
order) or a single task file. A file starts with a preamble (``AgeDropdown,<age>``,
``GenderDropdown,<gender>``, instruction and ``instructionLoop`` lines); the task
trials are exactly the rows with 15 comma-separated fields, in the raw columns
``trial_num, drift_1..drift_4, stage_1_response, stage_1_selected_stimulus,
stage_1_rt, transition, stage_2_response, stage_2_selected_stimulus,
stage_2_state, stage_2_rt, reward, redundant``. Mapping:

==============================  ====================================================
tidy column                     from
==============================  ====================================================
participant                     the file name without ``.csv``
trial                           trial_num
choice1                         stage_1_response: left (stimulus 1) → 0, right
                                (stimulus 2) → 1, -1 → empty (missed);
                                stage_1_selected_stimulus must agree (1/2)
state2                          stage_2_state: 2 → 0, 3 → 1, -1 → empty (stage 1
                                missed). Stimulus 1 commonly leads to state 2, so
                                state 0 is the common destination of action 0
choice2                         stage_2_response: left (stimulus 1) → 0, right
                                (stimulus 2) → 1, -1 → empty (missed);
                                stage_2_selected_stimulus must agree
reward                          reward 0/1; -1 → NaN (either stage missed)
common                          transition: true/false, -1 → empty (stage 1
                                missed); checked against choice1 and state2
rt1, rt2                        stage_1_rt, stage_2_rt in ms / 1000 (seconds);
                                NaN on a missed stage (the raw value is then the
                                ~2500 ms timeout or -1)
p_reward_00, _01, _10, _11      drift_1, drift_2 (state 2 = state 0, options
                                1, 2), drift_3, drift_4 (state 3 = state 1)
source_file, source_line        the task file and its 1-based line
age                             the preamble's ``AgeDropdown``
gender                          the preamble's ``GenderDropdown``, lower-cased
                                (``female``/``male``)
==============================  ====================================================

The ``redundant`` column (always 1) is not read.

**Missed trials** are kept. A first-stage miss (``stage_1_response`` -1) empties
every choice, the state, ``common``, ``reward`` and both RTs. A second-stage-only
miss (``stage_2_response`` -1) keeps ``choice1``, ``state2``, ``common`` and
``rt1`` and empties ``choice2``, ``reward`` and ``rt2``.

**Practice trials** are not in the files (only instruction screens, which the
reader skips with the rest of the preamble); every task trial is read.

**Covariates.** When the folder of task files (for a single file: its folder)
is named ``...study<N>...`` and sits beside ``self_report_study<N>.csv``, the
questionnaire file's columns are merged as participant covariates: ``iq`` and the
totals (``sds_total``, ``stai_total``, ``oci_total``; in Study 2 also
``lsas_total``, ``bis_total``, ``scz_total``, ``aes_total``, ``eat_total``,
``audit_total``) under their own names, and Study 2's factor scores renamed
``Factor1`` → ``anxious_depression``, ``Factor2`` → ``compulsivity`` (compulsive
behaviour and intrusive thought), ``Factor3`` → ``social_withdrawal``. Its
``age`` and ``gender`` (-1 = female, 1 = male) must agree with the task files'
preamble and are not repeated. A boolean ``in_paper`` column is true for the
participants listed in the questionnaire file, the ones retained in the paper
(548 of 649 in Study 1, 1413 of 1712 in Study 2); the excluded participants are
kept, with ``in_paper`` false and empty questionnaire covariates. Without the
questionnaire file there is no ``in_paper`` column.

**Known defect of the published data.** In Study 2, file
``3570Y55XZPJQZPOYLZCOL50WZE6GYI.csv`` (a retained participant) has its trial 1
fused onto a preamble line (line 10 has 17 fields); it is skipped with the
preamble, so this participant has 199 trials numbered 2–200. Trial 1 was a
first-stage miss, so no choice is lost.

Raw values out of range, and lines that are not 15 fields long once the trials
have started, raise :class:`~cogarb.schema.TrialDataError` naming the file, the line
and the raw column.
"""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cogarb.readers.columns import Columns, nullable_int8
from cogarb.readers.tables import read_header, read_text, reading
from cogarb.schema import TrialDataError

FORMAT = "gillan2016"

RAW_COLUMNS = (
    "trial_num",
    "drift_1",
    "drift_2",
    "drift_3",
    "drift_4",
    "stage_1_response",
    "stage_1_selected_stimulus",
    "stage_1_rt",
    "transition",
    "stage_2_response",
    "stage_2_selected_stimulus",
    "stage_2_state",
    "stage_2_rt",
    "reward",
    "redundant",
)
N_FIELDS = len(RAW_COLUMNS)
PREAMBLE_START = "AgeDropdown"
DRIFTS = {"drift_1": "p_reward_00", "drift_2": "p_reward_01",
          "drift_3": "p_reward_10", "drift_4": "p_reward_11"}  # fmt: skip
FACTORS = {"Factor1": "anxious_depression", "Factor2": "compulsivity",
           "Factor3": "social_withdrawal"}  # fmt: skip
ID_COLUMNS = ("subj.x", "subj")
SELF_REPORT_GENDER = {"female": -1, "male": 1}
_MISSING = -1  # integer code of a missed response / state / transition


def _first_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline()
    except OSError:
        return ""


def _task_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())


def detect(path: Path, header: list[str] | None) -> bool:
    """Whether ``path`` is a Gillan et al. (2016) task file or a folder of them.

    A file qualifies when its first line starts with ``AgeDropdown``; a folder when
    the first ``*.csv`` file found in it does (only that one file is opened).
    """
    path = Path(path)
    if path.is_dir():
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.name.lower().endswith(".csv") and entry.is_file():
                    return _first_line(Path(entry.path)).startswith(PREAMBLE_START)
        return False
    if header:
        return str(header[0]).strip() == PREAMBLE_START
    return _first_line(path).startswith(PREAMBLE_START)


def read(path: Path) -> pd.DataFrame:
    """Read Gillan et al. (2016) task files as unvalidated tidy trials.

    Parameters
    ----------
    path : path
        A folder of raw task files (all its ``*.csv`` files are read, in name
        order) or one raw task file. Questionnaire covariates and ``in_paper`` are
        added when ``self_report_study<N>.csv`` lies beside the folder (see the
        module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per task trial, mapped as the module docstring's table says, with
        ``source_file`` and ``source_line``.

    Raises
    ------
    TrialDataError
        For a file that is not a task file, a file without trials, a line that is
        not 15 fields long after the trials started, or a raw value out of range
        or inconsistent (naming file, line, raw column and value).
    """
    path = Path(path)
    with reading(path):
        return _read(path)


def _read(path: Path) -> pd.DataFrame:
    files = _task_files(path) if path.is_dir() else [path]
    if not files:
        raise TrialDataError(str(path), None, None, None, "contains no .csv task files")
    rows: list[list[str]] = []
    lines: list[int] = []
    counts: list[int] = []
    participants: list[dict] = []
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of small lists: the collector would dominate
    try:
        for file in files:
            n_before = len(rows)
            age, gender = _read_file(file, rows, lines)
            counts.append(len(rows) - n_before)
            participants.append({"participant": file.stem, "age": age, "gender": gender})
        file_index = np.repeat(np.arange(len(files)), counts)
        trials = _map_rows(rows, np.asarray(lines, dtype=np.int64), file_index, files)
    finally:
        if collecting:
            gc.enable()
    del rows
    people = pd.DataFrame(participants)
    self_report = _self_report_path(path)
    if self_report is not None:
        people = _merge_self_report(people, self_report)
    covariates = people.drop(columns="participant").iloc[file_index].reset_index(drop=True)
    return pd.concat([trials, covariates], axis=1)


def _read_file(file: Path, rows: list[list[str]], lines: list[int]) -> tuple[float, str | None]:
    """Append the file's trial rows and their line numbers; return (age, gender)."""
    age, gender = np.nan, None
    started = False
    text = read_text(file).splitlines()  # UTF-8, else an error naming line and byte
    if not any(line.strip() for line in text):
        raise TrialDataError(str(file), None, None, None, "is empty (no text)")
    if text[0].split(",")[0].strip() != PREAMBLE_START:
        raise TrialDataError(
            f"{file}, line 1", None, None, None,
            f"is not a Gillan et al. (2016) task file (it does not start with {PREAMBLE_START})",
        )  # fmt: skip
    for number, line in enumerate(text, start=1):
        fields = line.split(",")
        if len(fields) == N_FIELDS:
            started = True
            rows.append(fields)
            lines.append(number)
        elif started and line.strip():
            raise TrialDataError(
                f"{file}, line {number}", None, None, None,
                f"has {len(fields)} fields, not the {N_FIELDS} of a task trial, "
                "after the trials started",
            )  # fmt: skip
        elif fields[0] == PREAMBLE_START and len(fields) >= 2:
            try:
                age = float(fields[1])
            except ValueError:
                raise TrialDataError(
                    f"{file}, line {number}", None, PREAMBLE_START, fields[1],
                    "is not a number (age)",
                ) from None  # fmt: skip
        elif fields[0] == "GenderDropdown" and len(fields) >= 2:
            gender = fields[1].strip().lower() or None
    if not started:
        raise TrialDataError(
            str(file), None, None, None, f"has no task trials (rows with {N_FIELDS} fields)"
        )
    return age, gender


def _columns(rows, lines, file_index, files) -> Columns:
    """The stacked trial rows as raw text columns; errors name the task file and line."""
    # plain Python strings (object): parsing them as pandas' text type costs more than the rest
    frame = pd.DataFrame(np.array(rows, dtype=object), columns=list(RAW_COLUMNS), dtype=object)
    names = np.array([str(f) for f in files], dtype=object)
    return Columns(frame, files=names[file_index], lines=lines)


def _codes(cols: Columns, name: str, mapping: dict[str, int]) -> np.ndarray:
    """Integer codes of a categorical raw column; unknown values raise."""
    return cols.labels(name, mapping, missing_ok=False).astype(np.int64)


def _numbers(cols: Columns, name: str) -> np.ndarray:
    return cols.numbers(name, "is not a finite number", missing_ok=False)[0]


def _map_rows(rows, lines, file_index, files) -> pd.DataFrame:
    cols = _columns(rows, lines, file_index, files)
    m = _MISSING
    trial = _numbers(cols, "trial_num")
    cols.refuse((trial < 1) | (trial != np.round(trial)), "trial_num", "is not a positive integer")
    probabilities = {}
    for name, target in DRIFTS.items():
        p = _numbers(cols, name)
        cols.refuse((p < 0) | (p > 1), name, "is not a probability in [0, 1]")
        probabilities[target] = p

    response1 = _codes(cols, "stage_1_response", {"left": 0, "right": 1, "-1": m})
    stimulus1 = _codes(cols, "stage_1_selected_stimulus", {"1": 0, "2": 1})
    transition = _codes(cols, "transition", {"true": 1, "false": 0, "-1": m})
    response2 = _codes(cols, "stage_2_response", {"left": 0, "right": 1, "-1": m})
    stimulus2 = _codes(cols, "stage_2_selected_stimulus", {"1": 0, "2": 1, "-1": m})
    state = _codes(cols, "stage_2_state", {"2": 0, "3": 1, "-1": m})
    reward = _codes(cols, "reward", {"0": 0, "1": 1, "-1": m})
    rt1, rt2 = _numbers(cols, "stage_1_rt") / 1000.0, _numbers(cols, "stage_2_rt") / 1000.0

    missed1 = response1 == m
    missed2 = ~missed1 & (response2 == m)
    done = ~missed1 & ~missed2
    checks = [
        (~missed1 & (stimulus1 != response1), "stage_1_selected_stimulus",
         "disagrees with stage_1_response (left = stimulus 1, right = stimulus 2)"),
        (missed1 & (transition != m), "transition", "is given but stage 1 was missed"),
        (~missed1 & (transition == m), "transition", "is -1 although stage 1 was answered"),
        (missed1 & (state != m), "stage_2_state", "is given but stage 1 was missed"),
        (~missed1 & (state == m), "stage_2_state", "is -1 although stage 1 was answered"),
        (missed1 & (response2 != m), "stage_2_response", "is given but stage 1 was missed"),
        (~missed1 & (transition != m) & (state != m) & ((state == response1) != (transition == 1)),
         "transition", "is inconsistent with stage_1_response and stage_2_state "
         "(stimulus 1 commonly leads to state 2, stimulus 2 to state 3)"),
        (done & (stimulus2 != response2), "stage_2_selected_stimulus",
         "disagrees with stage_2_response (left = stimulus 1, right = stimulus 2)"),
        (done & (reward == m), "reward", "is -1 (missed) although both stages were answered"),
        (~done & (reward != m), "reward", "is given but a stage was missed"),
    ]  # fmt: skip
    first = None
    for mask, name, problem in checks:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            if first is None or i < first[0]:
                first = (i, name, problem)
    if first is not None:
        raise cols.error(*first)

    return pd.DataFrame(
        {
            "participant": _participants(files, file_index),
            "trial": trial.astype(np.int64),
            "choice1": nullable_int8(response1, missed1),
            "state2": nullable_int8(state, missed1),
            "choice2": nullable_int8(response2, ~done),
            "reward": np.where(done, reward, np.nan).astype(float),
            "common": pd.arrays.BooleanArray(transition == 1, missed1),
            "rt1": np.where(missed1, np.nan, rt1),
            "rt2": np.where(done, rt2, np.nan),
            **probabilities,
            "source_file": pd.Categorical.from_codes(file_index, [str(f) for f in files]),
            "source_line": lines,
        }
    )


def _participants(files: list[Path], file_index: np.ndarray) -> pd.Categorical | np.ndarray:
    stems = [file.stem for file in files]
    if len(set(stems)) == len(stems):
        return pd.Categorical.from_codes(file_index, stems)
    return np.array(stems, dtype=object)[file_index]


def _self_report_path(path: Path) -> Path | None:
    """``self_report_study<N>.csv`` beside the task folder, if the folder names study N."""
    folder = path if path.is_dir() else path.parent
    match = re.search(r"study(\d+)", folder.name)
    if match is None:
        return None
    candidate = folder.parent / f"self_report_study{match.group(1)}.csv"
    return candidate if candidate.is_file() else None


def _merge_self_report(people: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Add the questionnaire covariates and ``in_paper`` to one row per participant."""
    header = read_header(path)  # as written: pandas would rename a repeated column
    repeated = [c for c in header if c.strip() and header.count(c) > 1]
    if repeated:
        raise TrialDataError(
            str(path), None, repeated[0], None,
            f"appears {header.count(repeated[0])} times in the header: each column needs its "
            "own name",
        )  # fmt: skip
    ids = [c for c in ID_COLUMNS if c in header]
    if not ids:
        raise TrialDataError(
            str(path), None, None, None,
            f"has no participant column ({' or '.join(ID_COLUMNS)})",
        )  # fmt: skip
    with reading(path):
        report = pd.read_csv(path, dtype={ids[0]: str}, encoding="utf-8")
    report = report.drop(columns=[c for c in report.columns if c.startswith("Unnamed")])
    report = report.rename(columns={ids[0]: "participant", **FACTORS})
    report["participant"] = report["participant"].str.strip()
    duplicated = report["participant"].duplicated().to_numpy()
    if duplicated.any():
        i = int(np.flatnonzero(duplicated)[0])
        raise TrialDataError(
            str(path), i + 1, ids[0], report["participant"].iloc[i], "is listed twice"
        )
    raw = people.set_index("participant")
    here = report["participant"].isin(raw.index).to_numpy()
    if "age" in report.columns:
        age = raw["age"].reindex(report["participant"]).to_numpy(float)
        given = pd.to_numeric(report["age"], errors="coerce").to_numpy(float)  # text: NaN
        bad = here & (given != age)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise TrialDataError(
                str(path), i + 1, "age", report["age"].iloc[i],
                f"disagrees with the task file's AgeDropdown {age[i]:g}",
            )  # fmt: skip
    if "gender" in report.columns:
        coded = raw["gender"].map(SELF_REPORT_GENDER).reindex(report["participant"]).to_numpy()
        given = pd.to_numeric(report["gender"], errors="coerce").to_numpy(float)
        bad = here & (given != coded.astype(float))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise TrialDataError(
                str(path), i + 1, "gender", report["gender"].iloc[i],
                f"disagrees with the task file's GenderDropdown "
                f"{raw['gender'].get(report['participant'].iloc[i])!r} "
                "(-1 = female, 1 = male)",
            )  # fmt: skip
    report = report.drop(columns=[c for c in ("age", "gender") if c in report.columns])
    for column in report.columns.drop("participant"):
        values = report[column]  # integer totals stay integers despite excluded participants
        if pd.api.types.is_integer_dtype(values):
            report[column] = values.astype("Int64")
    out = people.merge(report, on="participant", how="left", validate="one_to_one")
    out["in_paper"] = out["participant"].isin(report["participant"]).to_numpy()
    return out
