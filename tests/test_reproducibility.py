"""One seed reproduces a cohort, release after release: the random streams are pinned.

``simulate`` documents the order in which its random numbers are drawn (load
schedules, shared schedules, then per chunk of participants the first-stage
states, the chunk's schedules and the uniforms). Changing that order, the number
of uniforms per trial or any draw silently changes every published simulation,
so the observable trials of a few cohorts are pinned here as SHA-256 digests.

The digests were computed at commit 9bd56dd, before the simulator was reorganised
into one driver over kernel-family records, and reproduced unchanged after it
(``benchmarks/snapshot.py`` compares every agent, two seeds, with and without
internals). Only columns that do not depend on floating-point rounding inside the
kernels are hashed: choices, states, transitions and rewards (integers, booleans,
0/1 or points) and the reward probabilities or payoffs (drawn by NumPy). A
deliberate change to the streams must update these digests and say so in the
changelog.
"""

import hashlib

import numpy as np
import pandas as pd
import pytest

import cogarb

PINNED = {
    ("mf", "daw2011", 0): "b850b97522c93897b9060505c0d5a74e3810044688c9d2c29f3cb00d20a944f7",
    ("hybrid", "daw2011", 7): "c92420271ef2818481783bd1299355c79e408ee7ef532f787d2e103ceb54d312",
    (
        "hybrid_load",
        "otto2013_load",
        0,
    ): "ce72849a7e226135c1427b45ba30c490ea39f53a8f5e41702566ab7ec5d7ade2",
    (
        "arbitrator",
        "novelty_new_states",
        7,
    ): "3100f2da7b042e626b051f47c118bade85150600c1df358e98597f327598b977",
    (
        "arbitrator",
        "novelty_reversal",
        0,
    ): "7864c71bbd332353d8d7ff8e93b9f6f51843a685f9fed6ce788f20d70d14057b",
    (
        "mf_one_choice",
        "kool2016_novel",
        0,
    ): "ae8bf5ad3408c785d852d748e13048dbcaac7012f86e6daa5313ff4f567db6f7",
    (
        "hybrid_one_choice",
        "kool2016_novel",
        7,
    ): "dc7e73829565850a29301f2ff6f98f8c001cd32c2299dcc75474b50b98798b2b",
    (
        "mb_one_choice",
        "akam2015",
        0,
    ): "887a692c1b8ad974f667906277bfaa8236b32af2f966e527753123d5cf96b471",
}


def trials_digest(trials) -> str:
    """SHA-256 of the trials' observable columns, as plain NumPy values in order."""
    digest = hashlib.sha256()
    for name in trials.columns:
        if name.startswith(("q_", "prob_", "delta", "w", "chi", "novelty", "spe", "t_common")):
            continue  # internals (not requested here) would depend on rounding
        column = trials[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            values = column.to_numpy(dtype=float, na_value=np.nan)
        else:  # participant ids, event names
            values = column.astype(str).to_numpy().astype("U")
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("agent, task, seed", list(PINNED))
def test_a_seed_gives_the_pinned_cohort(agent, task, seed):
    trials = cogarb.simulate(task, agent, n_participants=5, seed=seed)
    assert trials_digest(trials) == PINNED[(agent, task, seed)]
