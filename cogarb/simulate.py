"""Simulate participants: validate, draw random numbers, allocate, call the kernel."""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from cogarb.agents import Agent, check_parameter_value, check_suits, get_agent, kernel_matrix
from cogarb.schedules import (
    block_schedules,
    event_arrays,
    load_schedules,
    points_schedules,
    reward_schedules,
)
from cogarb.schema import REWARD_PROB_COLUMNS
from cogarb.tasks import Task, load_task

# Perseveration of the one-choice agents: only towards the last choice made in the
# same first-stage state (Kool's code; see cogarb._kernels.one_choice).
STICK_WITHIN_STATE = True

# Participants are simulated in chunks of this size; random numbers are drawn chunk
# by chunk in a fixed order, so a seed gives the same cohort whatever the thread
# count. Changing it changes the streams: it is part of the reproducibility contract.
CHUNK = 4096


def simulate(
    task: Task | str | Path,
    agent: str | Agent,
    params: Mapping[str, float] | pd.DataFrame | None = None,
    n_participants: int | None = None,
    seed: int = 0,
    internals: bool = False,
    n_threads: int | None = None,
) -> pd.DataFrame:
    """Simulate a cohort of agents on a two-step task.

    Parameters
    ----------
    task : Task, str or pathlib.Path
        A task, a TOML file, or a built-in task name (``"daw2011"``,
        ``"kool2016_novel"``, ``"akam2015"``).
    agent : str or Agent
        ``"mf"``, ``"mb"``, ``"hybrid"``, ``"hybrid_load"``, ``"arbitrator"`` or an
        :class:`~cogarb.agents.Agent`; on tasks without a second-stage choice
        (``stage2_choice = false``) ``"mf_one_choice"``, ``"mb_one_choice"`` or
        ``"hybrid_one_choice"``.
    params : dict or pandas.DataFrame, optional
        A dict of scalars shared by all participants, or a DataFrame with one row
        per participant whose columns are parameter names (and optionally
        ``participant`` for the ids). Parameters not given take the agent's defaults.
    n_participants : int, optional
        Cohort size. Defaults to ``len(params)`` for a DataFrame, else 1. A cohort
        whose trials would not fit in the available memory (see
        :func:`memory_needed`) is refused before anything is allocated.
    seed : int
        Seed (a non-negative integer) of the ``numpy.random.Generator`` that
        draws every random number (reward schedules, then per chunk of
        participants the uniform draws that decide choices, transitions and
        rewards).
    internals : bool
        Also return per-trial values, prediction errors, the weight ``w`` and the
        probability of each observed choice; for the arbitrator also ``w_star``,
        the reliabilities ``chi_mb`` and ``chi_mf``, ``novelty``, ``spe`` and the
        learned transition model (columns named in the kernel's ``INTERNALS``).
    n_threads : int, optional
        Threads for the kernel (default: numba's default). The output is
        identical whatever the value.

    Returns
    -------
    pandas.DataFrame
        One row per trial in the tidy schema: ``participant`` (categorical of
        str), ``trial`` (1-based), ``choice1``, ``state2``, ``choice2`` (Int8),
        ``reward`` (float), ``common`` (boolean), the reward probabilities
        ``p_reward_<state><action>``; ``load`` (Int8) for tasks with a load
        schedule; ``event`` (the novelty event starting on each trial, "" for
        none) and ``transitions_reversed`` (boolean) for tasks with events; and,
        with ``internals=True``, the internals.

        On tasks without a second-stage choice: ``state1``, ``choice1``,
        ``state2``, ``choice2`` (empty), ``stage2_choice`` (false), ``reward``,
        ``common``, then ``reward_state0``/``reward_state1`` (points tasks) or
        ``p_reward_*`` (P(reward | state s) in ``p_reward_s0`` and ``p_reward_s1``)
        and ``transitions_reversed`` (block tasks), ``load`` with a load schedule
        (it switches the kernel's ``w_load``), and the internals on request. Random
        numbers: load schedules, then per chunk the first-stage states, the
        reward schedules (unless shared, drawn once first) and the uniforms. The
        agents learn from the rewards as given (points, for a ``[points]`` task),
        so a fit of these trials uses ``reward_scale=1``.

    Raises
    ------
    ValueError
        For a bad seed, cohort size or parameter (naming it and its value), an
        agent that does not run on the task, or a cohort too large for memory.
    """
    task = task if isinstance(task, Task) else load_task(task)
    agent = get_agent(agent)
    _check_seed(seed)
    check_suits(agent, task.stage2_choice, f"task '{task.name}' has")
    n = _cohort_size(params, n_participants)
    _check_memory(task, agent, n, internals)
    thetas, ids = parameter_matrix(agent, params, n)
    family, n_trials = agent.family, task.n_trials
    rng = np.random.default_rng(seed)
    schedules = _TaskSchedules(task, n, rng)
    out = schedules.allocate()
    n_internals = len(family.internals) if internals else 0
    out["internals"] = np.empty((n, n_trials if internals else 0, n_internals))
    with _threads(n_threads):
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            inputs = schedules.draw_chunk(start, stop, out)
            uniforms = rng.random((stop - start, n_trials, family.uniforms_per_trial))
            schedules.run_chunk(family, thetas[start:stop], inputs, uniforms, out, start, stop,
                                internals)  # fmt: skip
    columns = {
        "participant": pd.Categorical.from_codes(np.repeat(np.arange(n), n_trials), ids),
        "trial": np.tile(np.arange(1, n_trials + 1, dtype=np.int64), n),
        **schedules.columns(out),
    }
    if internals:
        flat = out["internals"].reshape(n * n_trials, n_internals)
        for k, name in enumerate(family.internals):
            columns[name] = flat[:, k]
    frame = pd.DataFrame(columns, copy=False)
    if task.stage2_choice:
        return frame
    order = ["participant", "trial", "state1", "choice1", "state2", "choice2"]
    order += ["stage2_choice", "reward", "common", *REWARD_PROB_COLUMNS]
    return frame[[c for c in order if c in frame] + [c for c in frame if c not in order]]


class _TaskSchedules:
    """What a task gives the simulator: schedules drawn up front, per-chunk draws,
    the kernel call and the task's output columns.

    Random numbers, in order: the load schedules, the schedules shared by all
    participants (reward probabilities from their own seed when the task gives
    one), then per chunk the first-stage states (one-choice tasks with two),
    the chunk's own schedules, and the uniforms (drawn by the driver).
    """

    def __init__(self, task: Task, n: int, rng: np.random.Generator):
        self.task, self.n, self.rng = task, n, rng
        load = load_schedules(task, n, rng)
        if task.stage2_choice:
            self.load = load
            self.load_index = np.zeros(n, dtype=np.int64) if load.shape[0] == 1 else np.arange(n)
            self.reversed, self.new_states, self.event_kinds = event_arrays(task)
            self.shared = task.rewards.schedule == "shared"
            if self.shared:
                schedule_rng = (
                    rng if task.rewards.seed is None else np.random.default_rng(task.rewards.seed)
                )
                self.shared_schedule = reward_schedules(task, 1, schedule_rng)
        else:
            self.load = np.broadcast_to(load, (n, task.n_trials)) if load.shape[0] == 1 else load
            self.shared = (task.points or task.blocks).schedule == "shared"
            if self.shared:
                self.shared_payoff = self._payoffs(1)

    def _payoffs(self, m: int):
        """(payoff (m, n_trials, 2), reversed (m, n_trials)) of a task without a
        second-stage choice."""
        if self.task.points is not None:
            payoff = points_schedules(self.task, m, self.rng)
            return payoff, np.zeros((m, self.task.n_trials), dtype=np.bool_)
        return block_schedules(self.task, m, self.rng)

    def allocate(self) -> dict[str, np.ndarray]:
        shape = (self.n, self.task.n_trials)
        out = {
            "choice1": np.empty(shape, dtype=np.int8),
            "state2": np.empty(shape, dtype=np.int8),
            "reward": np.empty(shape),
            "common": np.empty(shape, dtype=np.bool_),
        }
        if self.task.stage2_choice:
            out["choice2"] = np.empty(shape, dtype=np.int8)
            out["reward_prob"] = np.empty((*shape, 2, 2))
        else:
            out["state1"] = np.empty(shape, dtype=np.int8)
            out["payoff"] = np.empty((*shape, 2))
            out["reversed"] = np.empty(shape, dtype=np.bool_)
        return out

    def draw_chunk(self, start: int, stop: int, out: dict) -> tuple:
        """The chunk's random schedules (drawn before its uniforms)."""
        m, task = stop - start, self.task
        if task.stage2_choice:
            if self.shared:
                return self.shared_schedule, np.zeros(m, dtype=np.int64)
            return reward_schedules(task, m, self.rng), np.arange(m)
        if task.first_stage_states == 2:
            out["state1"][start:stop] = self.rng.integers(0, 2, size=(m, task.n_trials))
        else:
            out["state1"][start:stop] = 0
        payoff, reversed_ = self.shared_payoff if self.shared else self._payoffs(m)
        out["payoff"][start:stop], out["reversed"][start:stop] = payoff, reversed_
        return ()

    def run_chunk(self, family, thetas, inputs, uniforms, out, start, stop, internals) -> None:
        """Call the family's simulation kernel on participants ``start:stop``."""
        task, c = self.task, slice(start, stop)
        if task.stage2_choice:
            schedules, index = inputs
            family.simulate_cohort(
                thetas, schedules, index, self.load, self.load_index[c], self.reversed,
                self.new_states, float(task.p_common), uniforms, out["choice1"][c],
                out["state2"][c], out["choice2"][c], out["reward"][c], out["common"][c],
                out["internals"][c], internals,
            )  # fmt: skip
            out["reward_prob"][c] = schedules[index]
            return
        family.simulate_cohort(
            thetas, out["state1"][c], np.ascontiguousarray(self.load[c]), out["payoff"][c],
            task.blocks is not None, out["reversed"][c], float(task.p_common),
            STICK_WITHIN_STATE, uniforms, out["choice1"][c], out["state2"][c], out["reward"][c],
            out["common"][c], out["internals"][c], internals,
        )  # fmt: skip

    def columns(self, out: dict) -> dict:
        """The task's trial columns after ``participant`` and ``trial``."""
        task, size = self.task, self.n * self.task.n_trials
        if task.stage2_choice:
            columns = {
                "choice1": _int8(out["choice1"]),
                "state2": _int8(out["state2"]),
                "choice2": _int8(out["choice2"]),
                "reward": out["reward"].ravel(),
                "common": _boolean(out["common"]),
            }
            flat_prob = out["reward_prob"].reshape(size, 4)
            for k, name in enumerate(REWARD_PROB_COLUMNS):
                columns[name] = flat_prob[:, k]
            if task.load is not None:
                columns["load"] = _int8(self.load[self.load_index])
            if task.events:
                columns["event"] = np.tile(self.event_kinds, self.n)
                columns["transitions_reversed"] = np.tile(self.reversed, self.n)
            return columns
        columns = {
            "state1": _int8(out["state1"]),
            "choice1": _int8(out["choice1"]),
            "state2": _int8(out["state2"]),
            "choice2": pd.arrays.IntegerArray(np.zeros(size, np.int8), np.ones(size, np.bool_)),
            "stage2_choice": pd.arrays.BooleanArray(np.zeros(size, np.bool_), np.zeros(size, bool)),
            "reward": out["reward"].ravel(),
            "common": _boolean(out["common"]),
        }
        flat = out["payoff"].reshape(size, 2)
        if task.points is not None:
            columns["reward_state0"] = flat[:, 0]
            columns["reward_state1"] = flat[:, 1]
        else:
            for s in (0, 1):
                columns[f"p_reward_{s}0"] = flat[:, s]
                columns[f"p_reward_{s}1"] = flat[:, s]
            columns["transitions_reversed"] = _boolean(out["reversed"])
        if task.load is not None:
            columns["load"] = _int8(np.ascontiguousarray(self.load))
        return columns


def _boolean(values: np.ndarray) -> pd.arrays.BooleanArray:
    flat = values.ravel()
    return pd.arrays.BooleanArray(flat, np.zeros(flat.shape, dtype=np.bool_))


def _check_seed(seed: object) -> None:
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _cohort_size(params: object, n_participants: object) -> int:
    """The number of participants, ``n_participants`` checked."""
    if n_participants is not None and (
        not isinstance(n_participants, numbers.Integral)
        or isinstance(n_participants, bool)
        or n_participants < 1
    ):
        raise ValueError(f"n_participants must be a positive integer, got {n_participants!r}")
    if isinstance(params, pd.DataFrame):
        return len(params) if n_participants is None else int(n_participants)
    return 1 if n_participants is None else int(n_participants)


def memory_needed(task: Task, agent: str | Agent, n_participants: int, internals: bool) -> int:
    """Bytes a simulation holds at its peak: an estimate, within -10% / +50% of the measured one.

    The output columns for every participant (per trial: the participant code
    and the int64 index it is built from, ``trial``, the Int8 and boolean columns
    with their masks, rewards, reward probabilities or payoffs, ``load``, the
    event columns and, with ``internals``, 8 bytes per internal), about 200
    bytes per participant (id, parameters), plus the working arrays of one chunk
    of :data:`CHUNK` participants: uniforms, reward probabilities, per-participant
    schedules and event columns under construction. The working-array sizes were
    measured with :mod:`tracemalloc` (``tests/test_simulate.py`` checks the
    estimate against the measured peak for every kind of task).
    """
    family = get_agent(agent).family
    code = np.min_scalar_type(max(n_participants - 1, 0)).itemsize
    per_trial = code + 8 + 8 + 8 + 2  # participant code + int64 index, trial, reward, common
    if task.stage2_choice:
        per_trial += 3 * 2 + 4 * 8  # choice1, state2, choice2 (Int8); p_reward_*
        per_trial += 9 if task.events else 0  # event (object), transitions_reversed
        working = 44 + (32 if task.rewards.schedule == "per_participant" else 0)
        working += 64 if task.events else 0
    else:
        per_trial += 5 * 2  # state1, choice1, state2, choice2, stage2_choice
        # payoffs, or P(reward) per state (the four p_reward_* columns view these two)
        per_trial += 16 if task.points is not None else 16 + 2  # + transitions_reversed
        working = 24
    per_trial += 2 if task.load is not None else 0
    per_trial += 8 * len(family.internals) if internals else 0
    n_trials = task.n_trials
    return n_participants * (n_trials * per_trial + 200) + min(n_participants, CHUNK) * (
        n_trials * working
    )


def available_memory() -> int | None:
    """Bytes of memory this process may still use, or None if the system does not say.

    Linux's ``MemAvailable`` (else ``SC_AVPHYS_PAGES``), capped by the memory limit
    of the process's cgroup (containers, batch jobs) less its current usage.
    """
    available = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            return None
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = int(Path(limit_file).read_text().strip())
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):  # absent, or "max" (no limit)
            continue
        available = min(available, max(limit - usage, 0))
    return available


def _format_bytes(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _check_memory(task: Task, agent: Agent, n: int, internals: bool) -> None:
    needed = memory_needed(task, agent, n, internals)
    available = available_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"simulating {n:,} participants × {task.n_trials:,} trials of task '{task.name}' "
            f"needs about {_format_bytes(needed)} of memory "
            f"({needed / (n * task.n_trials):.0f} bytes per trial"
            f"{', with internals' if internals else ''}), more than the "
            f"{_format_bytes(available)} available: simulate fewer participants (several "
            "cohorts with different seeds if you need more)"
        )


def _int8(values: np.ndarray) -> pd.arrays.IntegerArray:
    flat = values.ravel()
    return pd.arrays.IntegerArray(flat, np.zeros(flat.shape, dtype=np.bool_))


@contextmanager
def _threads(n_threads: int | None):
    if n_threads is None:
        yield
        return
    if (
        not isinstance(n_threads, int)
        or isinstance(n_threads, bool)
        or not 1 <= n_threads <= numba.config.NUMBA_NUM_THREADS
    ):
        raise ValueError(
            f"n_threads must be an integer in [1, {numba.config.NUMBA_NUM_THREADS}], "
            f"got {n_threads!r}"
        )
    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def participant_ids(n: int) -> list[str]:
    """Default participant ids: ``p1``... zero-padded to equal width (``p001``...)."""
    width = len(str(n))
    return [f"p{i + 1:0{width}d}" for i in range(n)]


def parameter_matrix(
    agent: Agent,
    params: Mapping[str, float] | pd.DataFrame | None,
    n_participants: int | None,
) -> tuple[np.ndarray, list[str]]:
    """Validate ``params`` and expand them to the kernel's parameter matrix.

    Returns
    -------
    thetas : numpy.ndarray
        float64 (n_participants, n_kernel_parameters), columns in
        ``agent.family.parameter_order`` (:func:`~cogarb.agents.kernel_matrix`), fixed
        values filled in.
    ids : list of str
        Participant ids.

    Raises
    ------
    ValueError
        Naming the parameter (and, for a DataFrame, the row) and the value: an
        unknown or fixed parameter, a value that is not a number, not finite or
        outside the parameter's bounds, a dict value that is not a single
        number, duplicated columns or ids, or a row count that is not
        ``n_participants``.
    TypeError
        If ``params`` is neither a mapping nor a DataFrame.
    """
    params = {} if params is None else params
    if isinstance(params, pd.DataFrame):
        n, ids, given = _dataframe_parameters(params, n_participants)
    elif isinstance(params, Mapping):
        n = _cohort_size(params, n_participants)
        ids = participant_ids(n)
        given = dict(params)
    else:
        raise TypeError(f"params must be a dict or a DataFrame, got {type(params).__name__}")

    for name in given:
        if name not in agent.parameter_names:
            fixed = name in agent.fixed or f"{name}_noload" in agent.fixed
            hint = " (fixed by this agent)" if fixed else ""
            raise ValueError(
                f"unknown parameter '{name}' for agent '{agent.name}'{hint} "
                f"(parameters: {', '.join(agent.parameter_names)})"
            )
    values = {}
    for spec in agent.parameters:
        name = spec.name
        if name in given and isinstance(params, pd.DataFrame):
            values[name] = _checked_column(agent, name, given[name])
        elif name in given:
            value = _scalar(agent, name, given[name])
            check_parameter_value(agent, name, value)
            values[name] = np.full(n, value)
        else:
            values[name] = np.full(n, spec.default)
    return kernel_matrix(agent, values), ids


def _dataframe_parameters(
    params: pd.DataFrame, n_participants: int | None
) -> tuple[int, list[str], dict[str, np.ndarray]]:
    """(n, ids, {name: float values}) of a params DataFrame, one row per participant."""
    n = len(params)
    if n == 0:
        raise ValueError("params DataFrame has no rows")
    if n_participants is not None and _cohort_size(params, n_participants) != n:
        raise ValueError(
            f"n_participants={n_participants} but params has {n} rows (one per participant)"
        )
    duplicated = params.columns[params.columns.duplicated()]
    if len(duplicated):
        raise ValueError(f"params has duplicated columns: {', '.join(map(str, duplicated))}")
    if "participant" in params.columns:
        ids = [str(x) for x in params["participant"]]
        if len(set(ids)) != n:
            raise ValueError("params column 'participant' has duplicated ids")
    else:
        ids = participant_ids(n)
    given = {c: _numeric_column(params, c) for c in params.columns if c != "participant"}
    return n, ids, given


def _numeric_column(params: pd.DataFrame, column: str) -> np.ndarray:
    """The column as float64 (missing values NaN); a value that is no number is an error."""
    series = params[column].reset_index(drop=True)
    if pd.api.types.is_bool_dtype(series.dtype):
        not_number = series.notna()
    else:
        numeric = pd.to_numeric(series, errors="coerce")
        is_bool = series.map(lambda v: isinstance(v, bool | np.bool_)).astype(bool)
        not_number = (numeric.isna() & series.notna()) | is_bool
    if not_number.any():
        row = int(np.flatnonzero(not_number.to_numpy())[0])
        raise ValueError(
            f"params row {row}, column '{column}': value {_plain(series.iloc[row])!r} "
            "is not a number"
        )
    return series.to_numpy(dtype=float, na_value=np.nan)


def _checked_column(agent: Agent, name: str, values: np.ndarray) -> np.ndarray:
    spec = agent.parameter(name)
    bad = ~np.isfinite(values) | (values < spec.lower) | (values > spec.upper)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"params row {row}, column '{name}': value {_plain(values[row])!r} is outside "
            f"[{spec.lower}, {spec.upper}] or not finite"
        )
    return values


def _plain(value: object) -> object:
    """A numpy scalar as the Python value (for messages: ``nan``, not ``np.float64(nan)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _scalar(agent: Agent, name: str, value: object) -> float:
    """A dict value as a float: one number shared by all participants."""
    if (isinstance(value, np.ndarray) and value.ndim == 0) or isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    text = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    if np.ndim(value) > 0:
        raise ValueError(
            f"params['{name}'] must be one number shared by all participants, got {text}; "
            "for one value per participant pass a DataFrame with a row per participant"
        )
    raise ValueError(f"parameter '{name}' of agent '{agent.name}' must be a number, got {text}")


__all__ = [
    "available_memory",
    "memory_needed",
    "parameter_matrix",
    "participant_ids",
    "simulate",
]
