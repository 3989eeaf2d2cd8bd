"""Random schedules of a task: reward walks, load blocks, events, points and blocks.

Each generator takes a :class:`~cogarb.tasks.Task` (and, where it draws, a
``numpy.random.Generator``) and returns the per-trial arrays the simulator's
kernels read; the order of the random draws is stated in each docstring and is
part of the contract (the same seed gives the same trials). The task spec itself,
plain data, lives in :mod:`cogarb.tasks`.
"""

from __future__ import annotations

import numpy as np

from cogarb._kernels.walks import reflected_walks
from cogarb.tasks import Task

__all__ = [
    "block_schedules",
    "event_arrays",
    "load_schedules",
    "points_schedules",
    "reward_schedules",
]


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
    # Events that reset reward probabilities split the walk into segments, each
    # restarting from new values (drawn here, in event order, after the steps).
    starts = [0] + [e.trial - 1 for e in task.events if e.kind in ("reward_reset", "new_states")]
    ends = [*starts[1:], task.n_trials]
    resets = [e for e in task.events if e.kind in ("reward_reset", "new_states")]
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        if k > 0:
            event = resets[k - 1]
            if event.values is not None:
                initial = np.tile(np.asarray(event.values, dtype=float), (n_schedules, 1))
            else:
                initial = rng.uniform(r.lower, r.upper, size=(n_schedules, 4))
        reflected_walks(
            initial, steps[:, start : end - 1], float(r.lower), float(r.upper), out[:, start:end]
        )
    return out.reshape(n_schedules, task.n_trials, 2, 2)


def load_schedules(task: Task, n_participants: int, rng: np.random.Generator) -> np.ndarray:
    """Load indicator per trial: int8 array (1 or n_participants, n_trials).

    Block schedules are shared by all participants (one row); trial-wise
    schedules are drawn per participant. A task without load gives one row of
    zeros.
    """
    load = task.load
    t = np.arange(task.n_trials)
    if load is None:
        return np.zeros((1, task.n_trials), dtype=np.int8)
    if load.mode == "blocks":
        block = (t // load.block_length) % 2
        return ((block == 0) == (load.first == 1)).astype(np.int8)[None, :]
    return (rng.random((n_participants, task.n_trials)) < load.p_load).astype(np.int8)


def event_arrays(task: Task) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-trial event indicators.

    Returns
    -------
    reversed : bool array (n_trials,)
        Whether the transition structure is swapped on each trial (action a
        commonly leads to state 1 - a).
    new_states : bool array (n_trials,)
        True on the first trial of fresh second-stage states.
    kinds : object array (n_trials,)
        The event kind starting on each trial, or "" for none.
    """
    n = task.n_trials
    flips = np.zeros(n, dtype=np.int64)
    new_states = np.zeros(n, dtype=np.bool_)
    kinds = np.full(n, "", dtype=object)
    for event in task.events:
        kinds[event.trial - 1] = event.kind
        if event.kind == "transition_reversal":
            flips[event.trial - 1] = 1
        elif event.kind == "new_states":
            new_states[event.trial - 1] = True
    return (np.cumsum(flips) % 2).astype(np.bool_), new_states, kinds


def points_schedules(task: Task, n_schedules: int, rng: np.random.Generator) -> np.ndarray:
    """Payoffs of the two second-stage states: float64 (n_schedules, n_trials, 2).

    The walk of :class:`~cogarb.tasks.PointsWalk`; draws the initial values (unless
    given), then the steps.
    """
    pts = task.points
    if pts.initial is None:
        start = rng.integers(pts.lower, pts.upper + 1, size=(n_schedules, 2))
    else:
        start = np.tile(np.asarray(pts.initial, dtype=np.int64), (n_schedules, 1))
    steps = np.rint(rng.standard_normal((n_schedules, task.n_trials - 1, 2)) * pts.step_sd)
    out = np.empty((n_schedules, task.n_trials, 2))
    out[:, 0] = start
    for t in range(1, task.n_trials):
        x = out[:, t - 1] + steps[:, t - 1]
        x = np.where(x > pts.upper, 2 * pts.upper - x, x)
        x = np.where(x < pts.lower, 2 * pts.lower - x, x)
        out[:, t] = np.clip(x, pts.lower, pts.upper)
    return out


def block_schedules(
    task: Task, n_schedules: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Reward probabilities and reversals of :class:`~cogarb.tasks.RewardBlocks`.

    Returns (probabilities float64 (n_schedules, n_trials, 2) of reward in each
    second-stage state, reversed bool (n_schedules, n_trials)). Draws, in order:
    the first block's condition, the later blocks' condition offsets, the initial
    transition structure and the reversals at block changes.
    """
    b = task.blocks
    probs = np.asarray(b.reward_probs, dtype=float)
    k = len(probs)
    n_blocks = -(-task.n_trials // b.length)
    first = rng.integers(0, k, size=(n_schedules, 1))
    # each later block: one of the k - 1 other conditions, uniformly
    offsets = rng.integers(1, k, size=(n_schedules, n_blocks - 1))
    condition = (
        first + np.concatenate([np.zeros((n_schedules, 1), int), offsets], 1).cumsum(1)
    ) % k
    start = rng.random((n_schedules, 1)) < 0.5
    flips = rng.random((n_schedules, n_blocks - 1)) < b.p_transition_reversal
    reversed_blocks = (
        start.astype(int) + np.c_[np.zeros((n_schedules, 1), int), flips].cumsum(1)
    ) % 2
    block = np.arange(task.n_trials) // b.length
    return probs[condition[:, block]], reversed_blocks[:, block].astype(np.bool_)
