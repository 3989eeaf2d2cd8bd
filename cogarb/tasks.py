"""Task designs: dataclasses and TOML loading (plain data; the random schedules a
task implies are drawn by :mod:`cogarb.schedules`).

A task file (see ``tasks/README.md``) is a TOML document such as::

    name = "daw2011"
    n_trials = 201
    p_common = 0.7

    [rewards]
    drift_sd = 0.025
    lower = 0.25
    upper = 0.75
    schedule = "shared"        # or "per_participant"

Tasks without a second-stage choice (``stage2_choice = false``) take their
rewards from a ``[points]`` table (Kool et al. 2016, 2017: integer payoffs of the
two second-stage states on a bounded random walk) or a ``[blocks]`` table (Akam et
al. 2015: block-wise reward probabilities and transition reversals) instead of
``[rewards]``; ``first_stage_states = 2`` draws one of two first-stage states at
random on each trial (Kool's novel task). See :class:`PointsWalk` and
:class:`RewardBlocks` for the exact schedules.

Unknown keys, wrongly typed and out-of-range values raise :class:`TaskSpecError`
naming the file, the key and the value; so do a file that is not UTF-8 TOML, an
empty file, a directory and an unreadable file (naming the file). Sizes are
bounded: ``n_trials`` and block lengths by :data:`MAX_TRIALS`, point payoffs by
:data:`MAX_POINTS`.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from cogarb.toml_files import TomlMessages, read_toml

SCHEDULES = ("shared", "per_participant")
# At most a million trials per participant: three orders of magnitude beyond the
# longest published data (the mice of Castro-Rodrigues et al. 2022 do tens of
# thousands over all sessions), and small enough that one participant's simulation
# (about 90-250 bytes per trial) fits in memory; a typo such as 2**40 is caught here
# instead of as a MemoryError.
MAX_TRIALS = 10**6
# Point payoffs (Kool et al.: -4..9) beyond a million in size are no plausible design
# and would not survive the int64 draws and float64 rewards of the simulation.
MAX_POINTS = 10**6
# Reward probabilities live in [0, 1]: a step SD beyond the band's width makes every
# trial a fresh draw, and a huge one (1e300) would reflect for ever; larger is a typo.
MAX_DRIFT_SD = 1.0
LOAD_MODES = ("blocks", "trials")
EVENT_KINDS = ("transition_reversal", "reward_reset", "new_states")


class TaskSpecError(ValueError):
    """A task specification (TOML file or arguments) is invalid."""


@dataclass(frozen=True)
class RewardDrift:
    """Drifting reward probabilities of the four second-stage options.

    Each probability follows an independent Gaussian random walk with standard
    deviation ``drift_sd`` per trial, reflected at ``lower`` and ``upper``
    (Daw et al. 2011).

    Attributes
    ----------
    drift_sd : float
        SD of the per-trial Gaussian step.
    lower, upper : float
        Reflecting bounds, ``0 <= lower < upper <= 1``.
    schedule : {"shared", "per_participant"}
        ``"shared"``: one schedule for every participant (Daw 2011, Gillan 2016);
        ``"per_participant"``: an independent schedule per participant.
    initial : tuple of 4 floats or None
        Starting probabilities in the order (state 0 action 0, state 0 action 1,
        state 1 action 0, state 1 action 1); ``None`` draws them uniformly in
        ``[lower, upper]``.
    seed : int or None
        If set, the shared schedule is generated from this seed and is the same
        whatever the simulation seed (a fixed published schedule, say).
    """

    drift_sd: float = 0.025
    lower: float = 0.25
    upper: float = 0.75
    schedule: str = "shared"
    initial: tuple[float, float, float, float] | None = None
    seed: int | None = None


@dataclass(frozen=True)
class LoadSchedule:
    """Which trials are performed under mental load (a concurrent task, Otto et al. 2013).

    Attributes
    ----------
    mode : {"blocks", "trials"}
        ``"blocks"``: alternating blocks of ``block_length`` trials, the first under
        load if ``first == 1`` (Otto 2013 Exp. 1, single- vs dual-task blocks);
        ``"trials"``: each trial independently under load with probability
        ``p_load``, drawn per participant (Exp. 2 style).
    block_length : int
    first : {0, 1}
    p_load : float
    """

    mode: str = "blocks"
    block_length: int = 50
    first: int = 0
    p_load: float = 0.5


@dataclass(frozen=True)
class Event:
    """A novelty event at the start of trial ``trial`` (1-based).

    Kinds:

    ``transition_reversal``
        Common and rare transitions swap from this trial on (action a now
        commonly leads to state 1 - a).
    ``reward_reset``
        The four reward probabilities jump to ``values`` (s0a0, s0a1, s1a0, s1a1)
        or, if not given, to fresh uniform draws in [lower, upper]; they drift
        on from there.
    ``new_states``
        The second stage is replaced by fresh states: agents start them with no
        learned values (Q2 = 0) and no familiarity; their reward probabilities
        are fresh uniform draws.
    """

    trial: int
    kind: str
    values: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class PointsWalk:
    """Integer payoffs (points) of the two second-stage states, drifting (Kool et al. 2016).

    Each state's payoff starts at an integer drawn uniformly in ``[lower, upper]``
    (or ``initial``) and moves on each trial by a Gaussian step of SD ``step_sd``
    rounded to the nearest integer, reflected at the bounds (a value ``x > upper``
    becomes ``2 upper − x``, ``x < lower`` becomes ``2 lower − x``, then clipped).
    Kool et al. (2016, 2017) describe Gaussian random walks with σ = 2 and reflecting
    bounds; the observed step distribution of their data (SD ≈ 2, integer steps) fits
    this walk. The two states' walks are independent.

    Attributes
    ----------
    lower, upper : int
        Bounds (0 and 9 in Kool et al. 2017; −4 and 5 in the 2016 novel task).
    step_sd : float
    schedule : {"shared", "per_participant"}
    initial : tuple of 2 ints or None
    """

    lower: int = 0
    upper: int = 9
    step_sd: float = 2.0
    schedule: str = "per_participant"
    initial: tuple[int, int] | None = None


@dataclass(frozen=True)
class RewardBlocks:
    """Block-wise reward probabilities and transition reversals (Akam et al. 2015).

    A fixed-length approximation of the criterion-based blocks of Akam et al. (2015)
    and Castro-Rodrigues et al. (2022): every block has ``length`` trials; the
    first block's reward condition is drawn uniformly from ``reward_probs``
    (pairs (P(reward | state 0), P(reward | state 1))) and each later block's
    uniformly from the *other* conditions; the transition structure starts
    reversed with probability 0.5 and reverses at each block change with
    probability ``p_transition_reversal``. Defaults: 40 trials (the median reward
    block of Castro-Rodrigues et al.'s data) and 0.4 (their mean transition block,
    112 trials, spans about 2.4 reward blocks of 47 on average).

    Attributes
    ----------
    length : int
    reward_probs : tuple of (float, float)
    p_transition_reversal : float
    schedule : {"shared", "per_participant"}
    """

    length: int = 40
    reward_probs: tuple[tuple[float, float], ...] = ((0.8, 0.2), (0.5, 0.5), (0.2, 0.8))
    p_transition_reversal: float = 0.4
    schedule: str = "per_participant"


@dataclass(frozen=True)
class Task:
    """A two-step task design.

    Attributes
    ----------
    name : str
    n_trials : int
        Trials per participant.
    p_common : float
        Probability of the common transition (action ``a`` leads to state ``a``).
    rewards : RewardDrift
    load : LoadSchedule or None
        Mental-load schedule; ``None`` for no load manipulation.
    events : tuple of Event
        Novelty events, in trial order.
    description : str
    source : pathlib.Path or None
        The TOML file the task was read from.
    stage2_choice : bool
        False for tasks whose second stage offers no choice (then ``points`` or
        ``blocks`` defines the rewards, and ``events`` must be empty).
    first_stage_states : {1, 2}
        2: each trial starts in one of two first-stage states, drawn uniformly at
        random per trial and participant (Kool's novel task; needs
        ``stage2_choice`` false).
    points : PointsWalk or None
    blocks : RewardBlocks or None
    """

    name: str
    n_trials: int = 201
    p_common: float = 0.7
    rewards: RewardDrift = field(default_factory=RewardDrift)
    load: LoadSchedule | None = None
    events: tuple[Event, ...] = ()
    description: str = ""
    source: Path | None = None
    stage2_choice: bool = True
    first_stage_states: int = 1
    points: PointsWalk | None = None
    blocks: RewardBlocks | None = None

    def __post_init__(self) -> None:
        _check_task(self, where=str(self.source) if self.source else "Task")


def _fail(where: str, key: str, message: str) -> TaskSpecError:
    return TaskSpecError(f"{where}: key '{key}': {message}")


def _show(value: object, limit: int = 60) -> str:
    """``repr(value)``, shortened to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_task(task: Task, where: str) -> None:
    for key in ("name", "description"):
        if not isinstance(getattr(task, key), str):
            raise _fail(where, key, f"must be a string, got {_show(getattr(task, key))}")
    if not _is_int(task.n_trials) or not 2 <= task.n_trials <= MAX_TRIALS:
        raise _fail(
            where,
            "n_trials",
            f"must be an integer in [2, {MAX_TRIALS:_}] (trials per participant), "
            f"got {_show(task.n_trials)}",
        )
    if not _is_number(task.p_common) or not 0.0 <= task.p_common <= 1.0:
        raise _fail(
            where, "p_common", f"must be a probability in [0, 1], got {_show(task.p_common)}"
        )
    if not isinstance(task.rewards, RewardDrift):
        raise _fail(where, "rewards", f"must be a RewardDrift, got {_show(task.rewards)}")
    r = task.rewards
    for key in ("drift_sd", "lower", "upper"):
        if not _is_number(getattr(r, key)):
            raise _fail(
                where, f"rewards.{key}", f"must be a finite number, got {_show(getattr(r, key))}"
            )
    if not 0 <= r.drift_sd <= MAX_DRIFT_SD:
        raise _fail(
            where, "rewards.drift_sd", f"must be in [0, {MAX_DRIFT_SD}], got {r.drift_sd!r}"
        )
    if not 0.0 <= r.lower < r.upper <= 1.0:
        raise _fail(
            where,
            "rewards.lower",
            f"need 0 <= lower < upper <= 1, got lower={r.lower!r}, upper={r.upper!r}",
        )
    if r.schedule not in SCHEDULES:
        raise _fail(
            where, "rewards.schedule", f"must be one of {SCHEDULES}, got {_show(r.schedule)}"
        )
    if r.initial is not None:
        if not _is_sequence(r.initial, 4) or not all(_is_number(x) for x in r.initial):
            raise _fail(where, "rewards.initial", f"must be 4 numbers, got {_show(r.initial)}")
        if not all(r.lower <= x <= r.upper for x in r.initial):
            raise _fail(
                where,
                "rewards.initial",
                f"values must lie in [lower, upper] = [{r.lower}, {r.upper}], got {r.initial!r}",
            )
    if r.seed is not None and (not _is_int(r.seed) or r.seed < 0):
        raise _fail(where, "rewards.seed", f"must be a non-negative integer, got {_show(r.seed)}")
    if task.load is not None:
        _check_load(task.load, where)
    _check_one_choice(task, where)
    previous = 0
    for k, event in enumerate(task.events):
        key = f"events[{k}]"
        if not isinstance(event.kind, str) or event.kind not in EVENT_KINDS:
            raise _fail(
                where, f"{key}.kind", f"must be one of {EVENT_KINDS}, got {_show(event.kind)}"
            )
        if not _is_int(event.trial) or not 2 <= event.trial <= task.n_trials:
            raise _fail(
                where,
                f"{key}.trial",
                f"must be an integer in [2, n_trials = {task.n_trials}], got {_show(event.trial)}",
            )
        if event.trial <= previous:
            raise _fail(where, f"{key}.trial", "events must be listed in increasing trial order")
        previous = event.trial
        if event.values is not None:
            if event.kind != "reward_reset":
                raise _fail(where, f"{key}.values", "only reward_reset events take values")
            if not _is_sequence(event.values, 4) or not all(
                _is_number(x) and r.lower <= x <= r.upper for x in event.values
            ):
                raise _fail(
                    where, f"{key}.values",
                    f"must be 4 numbers in [{r.lower}, {r.upper}], got {_show(event.values)}",
                )  # fmt: skip


def _check_one_choice(task: Task, where: str) -> None:
    if not isinstance(task.stage2_choice, bool):
        raise _fail(
            where, "stage2_choice", f"must be true or false, got {_show(task.stage2_choice)}"
        )
    if not _is_int(task.first_stage_states) or task.first_stage_states not in (1, 2):
        raise _fail(
            where, "first_stage_states", f"must be 1 or 2, got {_show(task.first_stage_states)}"
        )
    if task.stage2_choice:
        for key in ("points", "blocks"):
            if getattr(task, key) is not None:
                raise _fail(where, key, "is only for tasks with stage2_choice = false")
        if task.first_stage_states != 1:
            raise _fail(where, "first_stage_states", "2 needs stage2_choice = false")
        return
    if (task.points is None) == (task.blocks is None):
        raise _fail(
            where, "points", "a task with stage2_choice = false needs exactly one of "
            "[points] or [blocks]",
        )  # fmt: skip
    if task.events:
        raise _fail(where, "events", "are not supported for tasks with stage2_choice = false")
    if task.points is not None:
        _check_points(task.points, where)
    if task.blocks is not None:
        _check_blocks(task.blocks, where)


def _check_points(pts: PointsWalk, where: str) -> None:
    for key in ("lower", "upper"):
        value = getattr(pts, key)
        if not _is_int(value) or not -MAX_POINTS <= value <= MAX_POINTS:
            raise _fail(
                where,
                f"points.{key}",
                f"must be an integer in [-{MAX_POINTS:_}, {MAX_POINTS:_}], got {_show(value)}",
            )
    if not pts.lower < pts.upper:
        raise _fail(
            where, "points.lower", f"need lower < upper, got lower={pts.lower}, upper={pts.upper}"
        )
    if not _is_number(pts.step_sd) or pts.step_sd < 0:
        raise _fail(where, "points.step_sd", f"must be a number >= 0, got {_show(pts.step_sd)}")
    if not isinstance(pts.schedule, str) or pts.schedule not in SCHEDULES:
        raise _fail(
            where, "points.schedule", f"must be one of {SCHEDULES}, got {_show(pts.schedule)}"
        )
    if pts.initial is not None and (
        not _is_sequence(pts.initial, 2)
        or not all(_is_int(x) and pts.lower <= x <= pts.upper for x in pts.initial)
    ):
        raise _fail(
            where,
            "points.initial",
            f"must be 2 integers in [lower, upper] = [{pts.lower}, {pts.upper}], "
            f"got {_show(pts.initial)}",
        )


def _check_blocks(b: RewardBlocks, where: str) -> None:
    if not _is_int(b.length) or not 1 <= b.length <= MAX_TRIALS:
        raise _fail(
            where,
            "blocks.length",
            f"must be an integer in [1, {MAX_TRIALS:_}], got {_show(b.length)}",
        )
    pairs = b.reward_probs
    if (
        not isinstance(pairs, tuple | list)
        or len(pairs) < 2
        or not all(
            _is_sequence(pair, 2) and all(_is_number(x) and 0.0 <= x <= 1.0 for x in pair)
            for pair in pairs
        )
    ):
        raise _fail(
            where,
            "blocks.reward_probs",
            f"must be at least 2 pairs [p0, p1] of probabilities in [0, 1], got {_show(pairs)}",
        )
    p = b.p_transition_reversal
    if not _is_number(p) or not 0 <= p <= 1:
        raise _fail(
            where,
            "blocks.p_transition_reversal",
            f"must be a probability in [0, 1], got {_show(p)}",
        )
    if not isinstance(b.schedule, str) or b.schedule not in SCHEDULES:
        raise _fail(
            where, "blocks.schedule", f"must be one of {SCHEDULES}, got {_show(b.schedule)}"
        )


def _check_load(load: LoadSchedule, where: str) -> None:
    if not isinstance(load.mode, str) or load.mode not in LOAD_MODES:
        raise _fail(where, "load.mode", f"must be one of {LOAD_MODES}, got {_show(load.mode)}")
    if not _is_int(load.block_length) or not 1 <= load.block_length <= MAX_TRIALS:
        raise _fail(
            where,
            "load.block_length",
            f"must be an integer in [1, {MAX_TRIALS:_}], got {_show(load.block_length)}",
        )
    if not _is_int(load.first) or load.first not in (0, 1):
        raise _fail(where, "load.first", f"must be 0 or 1, got {_show(load.first)}")
    if not _is_number(load.p_load) or not 0.0 <= load.p_load <= 1.0:
        raise _fail(
            where, "load.p_load", f"must be a probability in [0, 1], got {_show(load.p_load)}"
        )


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_sequence(x: object, length: int) -> bool:
    return isinstance(x, tuple | list) and len(x) == length


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


_TOP_KEYS = {
    "name", "description", "n_trials", "p_common", "rewards", "load", "events",
    "stage2_choice", "first_stage_states", "points", "blocks",
}  # fmt: skip
_POINTS_KEYS = {"lower", "upper", "step_sd", "schedule", "initial"}
_BLOCKS_KEYS = {"length", "reward_probs", "p_transition_reversal", "schedule"}
_REWARD_KEYS = {"drift_sd", "lower", "upper", "schedule", "initial", "seed"}
_LOAD_KEYS = {"mode", "block_length", "first", "p_load"}
_EVENT_KEYS = {"trial", "kind", "values"}


def _check_keys(table: dict, allowed: set[str], prefix: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            raise TaskSpecError(
                f"{where}: unknown key '{prefix}{key}' (allowed: {', '.join(sorted(allowed))})"
            )


def _table(spec: dict, key: str, allowed: set[str], where: str) -> dict:
    """The sub-table ``spec[key]`` ({} if absent), its keys checked."""
    table = spec.get(key, {})
    if not isinstance(table, dict):
        raise _fail(where, key, f"must be a table ([{key}]), got {_show(table)}")
    _check_keys(table, allowed, f"{key}.", where)
    return dict(table)


def _as_tuple(table: dict, key: str, prefix: str, what: str, where: str) -> None:
    """Replace the TOML array ``table[key]`` by a tuple (checked later for length and type)."""
    if key in table:
        if not isinstance(table[key], list):
            raise _fail(
                where, f"{prefix}{key}", f"must be a list of {what}, got {_show(table[key])}"
            )
        table[key] = tuple(table[key])


def task_from_dict(spec: dict, source: Path | None = None) -> Task:
    """Build a :class:`Task` from a parsed TOML table, checking every key."""
    where = str(source) if source else "task spec"
    _check_keys(spec, _TOP_KEYS, "", where)
    rewards_spec = _table(spec, "rewards", _REWARD_KEYS, where)
    _as_tuple(rewards_spec, "initial", "rewards.", "4 numbers", where)
    load = None
    if "load" in spec:
        load = LoadSchedule(**_table(spec, "load", _LOAD_KEYS, where))
    events = []
    raw_events = spec.get("events", [])
    if not isinstance(raw_events, list):
        raise _fail(
            where, "events", f"must be an array of tables ([[events]]), got {_show(raw_events)}"
        )
    for k, event in enumerate(raw_events):
        if not isinstance(event, dict):
            raise _fail(where, f"events[{k}]", f"must be a table, got {_show(event)}")
        _check_keys(event, _EVENT_KEYS, f"events[{k}].", where)
        for required in ("trial", "kind"):
            if required not in event:
                raise _fail(where, f"events[{k}].{required}", "is required")
        event = dict(event)
        _as_tuple(event, "values", f"events[{k}].", "4 numbers", where)
        events.append(Event(event["trial"], event["kind"], event.get("values")))
    points = blocks = None
    if "points" in spec:
        table = _table(spec, "points", _POINTS_KEYS, where)
        _as_tuple(table, "initial", "points.", "2 integers", where)
        points = PointsWalk(**table)
    if "blocks" in spec:
        table = _table(spec, "blocks", _BLOCKS_KEYS, where)
        if "reward_probs" in table:
            pairs = table["reward_probs"]
            if not isinstance(pairs, list) or not all(isinstance(x, list) for x in pairs):
                raise _fail(
                    where,
                    "blocks.reward_probs",
                    f"must be a list of [p0, p1] pairs, got {_show(pairs)}",
                )
            table["reward_probs"] = tuple(tuple(x) for x in pairs)
        blocks = RewardBlocks(**table)
    return Task(
        name=spec.get("name", source.stem if source else "task"),
        n_trials=spec.get("n_trials", 201),
        p_common=spec.get("p_common", 0.7),
        rewards=RewardDrift(**rewards_spec),
        load=load,
        events=tuple(events),
        description=spec.get("description", ""),
        source=source,
        stage2_choice=spec.get("stage2_choice", True),
        first_stage_states=spec.get("first_stage_states", 1),
        points=points,
        blocks=blocks,
    )


def builtin_tasks() -> list[str]:
    """Names of the task designs shipped with cogarb (``load_task(name)`` loads them)."""
    return sorted(p.stem for p in _builtin_dir().iterdir() if p.name.endswith(".toml"))


def _builtin_dir():
    try:
        return resources.files("cogarb._task_files")
    except ModuleNotFoundError:  # running from a source checkout that is not installed
        return Path(__file__).resolve().parent.parent / "tasks"


_TASK_FILE_MESSAGES = TomlMessages(
    directory="{path}: is a directory, not a task file (give a .toml file)",
    missing="no task file '{path}'",
    permission="{path}: cannot read the task file: permission denied",
    not_utf8="{path}: not UTF-8 text (byte 0x{byte:02x} at offset {offset}); "
    "TOML files must be UTF-8",
    unreadable="{path}: cannot read the task file: {reason}",
)


def load_task(path: str | Path) -> Task:
    """Read a task design from a TOML file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TOML file, or the name of a built-in task (``"daw2011"``; see
        :func:`builtin_tasks`).

    Returns
    -------
    Task

    Raises
    ------
    TaskSpecError
        On unknown keys, wrong types or out-of-range values, naming file, key
        and value; on a file that is a directory, unreadable, not UTF-8, not
        TOML or empty, naming the file.
    FileNotFoundError
        If the file does not exist and is not a built-in task name.
    """
    p = Path(path)
    if not p.exists() and p.suffix == "" and isinstance(path, str):
        candidate = _builtin_dir() / f"{path}.toml"
        if candidate.is_file():
            with candidate.open("rb") as f:
                return task_from_dict(tomllib.load(f), source=Path(str(candidate)))
        raise FileNotFoundError(
            f"no task file '{path}' and no built-in task of that name "
            f"(built-in: {', '.join(builtin_tasks())})"
        )
    spec = read_toml(p, TaskSpecError, _TASK_FILE_MESSAGES)
    if not spec:
        raise TaskSpecError(
            f"{p}: the task file is empty (no keys): write the design's keys, such as "
            "name, n_trials and p_common (see tasks/README.md)"
        )
    return task_from_dict(spec, source=p)
