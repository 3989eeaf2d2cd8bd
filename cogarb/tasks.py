"""Task designs: dataclasses, TOML loading and reward schedules.

A task file (see ``tasks/README.md``) is a TOML document such as::

    name = "daw2011"
    n_trials = 201
    p_common = 0.7

    [rewards]
    drift_sd = 0.025
    lower = 0.25
    upper = 0.75
    schedule = "shared"        # or "per_participant"

Unknown keys and out-of-range values raise :class:`TaskSpecError` naming the key
and the file.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from cogarb._kernels.walks import reflected_walks

SCHEDULES = ("shared", "per_participant")


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
    description : str
    source : pathlib.Path or None
        The TOML file the task was read from.
    """

    name: str
    n_trials: int = 201
    p_common: float = 0.7
    rewards: RewardDrift = field(default_factory=RewardDrift)
    description: str = ""
    source: Path | None = None

    def __post_init__(self) -> None:
        _check_task(self, where=str(self.source) if self.source else "Task")


def _fail(where: str, key: str, message: str) -> TaskSpecError:
    return TaskSpecError(f"{where}: key '{key}': {message}")


def _check_task(task: Task, where: str) -> None:
    if not isinstance(task.n_trials, int) or isinstance(task.n_trials, bool) or task.n_trials < 2:
        raise _fail(where, "n_trials", f"must be an integer >= 2, got {task.n_trials!r}")
    if not _is_number(task.p_common) or not 0.0 <= task.p_common <= 1.0:
        raise _fail(where, "p_common", f"must be a probability in [0, 1], got {task.p_common!r}")
    r = task.rewards
    for key in ("drift_sd", "lower", "upper"):
        if not _is_number(getattr(r, key)):
            raise _fail(where, f"rewards.{key}", f"must be a number, got {getattr(r, key)!r}")
    if r.drift_sd < 0:
        raise _fail(where, "rewards.drift_sd", f"must be >= 0, got {r.drift_sd!r}")
    if not 0.0 <= r.lower < r.upper <= 1.0:
        raise _fail(
            where,
            "rewards.lower",
            f"need 0 <= lower < upper <= 1, got lower={r.lower!r}, upper={r.upper!r}",
        )
    if r.schedule not in SCHEDULES:
        raise _fail(where, "rewards.schedule", f"must be one of {SCHEDULES}, got {r.schedule!r}")
    if r.initial is not None:
        if len(r.initial) != 4 or not all(_is_number(x) for x in r.initial):
            raise _fail(where, "rewards.initial", f"must be 4 numbers, got {r.initial!r}")
        if not all(r.lower <= x <= r.upper for x in r.initial):
            raise _fail(
                where,
                "rewards.initial",
                f"values must lie in [lower, upper] = [{r.lower}, {r.upper}], got {r.initial!r}",
            )
    if r.seed is not None and (not isinstance(r.seed, int) or r.seed < 0):
        raise _fail(where, "rewards.seed", f"must be a non-negative integer, got {r.seed!r}")


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


_TOP_KEYS = {"name", "description", "n_trials", "p_common", "rewards"}
_REWARD_KEYS = {"drift_sd", "lower", "upper", "schedule", "initial", "seed"}


def _check_keys(table: dict, allowed: set[str], prefix: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            raise TaskSpecError(
                f"{where}: unknown key '{prefix}{key}' (allowed: {', '.join(sorted(allowed))})"
            )


def task_from_dict(spec: dict, source: Path | None = None) -> Task:
    """Build a :class:`Task` from a parsed TOML table, checking every key."""
    where = str(source) if source else "task spec"
    _check_keys(spec, _TOP_KEYS, "", where)
    rewards_spec = spec.get("rewards", {})
    if not isinstance(rewards_spec, dict):
        raise _fail(where, "rewards", "must be a table")
    _check_keys(rewards_spec, _REWARD_KEYS, "rewards.", where)
    if "initial" in rewards_spec:
        if not isinstance(rewards_spec["initial"], list):
            raise _fail(where, "rewards.initial", "must be a list of 4 numbers")
        rewards_spec = {**rewards_spec, "initial": tuple(rewards_spec["initial"])}
    name = spec.get("name", source.stem if source else "task")
    if not isinstance(name, str):
        raise _fail(where, "name", f"must be a string, got {name!r}")
    return Task(
        name=name,
        n_trials=spec.get("n_trials", 201),
        p_common=spec.get("p_common", 0.7),
        rewards=RewardDrift(**rewards_spec),
        description=spec.get("description", ""),
        source=source,
    )


def builtin_tasks() -> list[str]:
    """Names of the task designs shipped with cogarb (``load_task(name)`` loads them)."""
    return sorted(p.stem for p in _builtin_dir().iterdir() if p.name.endswith(".toml"))


def _builtin_dir():
    try:
        return resources.files("cogarb._task_files")
    except ModuleNotFoundError:  # running from a source checkout that is not installed
        return Path(__file__).resolve().parent.parent / "tasks"


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
        On unknown keys, wrong types or out-of-range values, naming key and file.
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
    try:
        with p.open("rb") as f:
            spec = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise TaskSpecError(f"{p}: not valid TOML: {err}") from None
    return task_from_dict(spec, source=p)


def reward_schedules(task: Task, n_schedules: int, rng: np.random.Generator) -> np.ndarray:
    """Draw reward-probability schedules.

    Parameters
    ----------
    task : Task
    n_schedules : int
        Number of independent schedules.
    rng : numpy.random.Generator
        Used for the initial values (unless ``task.rewards.initial`` is set) and the
        Gaussian steps, in that order.

    Returns
    -------
    numpy.ndarray
        float64 array (n_schedules, n_trials, 2, 2): ``[i, t, s, a]`` is P(reward)
        of action ``a`` in second-stage state ``s`` on trial ``t``.
    """
    r = task.rewards
    if r.initial is None:
        initial = rng.uniform(r.lower, r.upper, size=(n_schedules, 4))
    else:
        initial = np.tile(np.asarray(r.initial, dtype=float), (n_schedules, 1))
    steps = rng.standard_normal((n_schedules, task.n_trials - 1, 4)) * r.drift_sd
    out = np.empty((n_schedules, task.n_trials, 4))
    reflected_walks(initial, steps, float(r.lower), float(r.upper), out)
    return out.reshape(n_schedules, task.n_trials, 2, 2)
