"""Random agent parameters for likelihood and fitting tests."""

import numpy as np

import cogarb


def interior_values(agent: str, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` random values of every free parameter of ``agent``, away from the bounds.

    Probabilities in [0.15, 0.85], positive parameters within ±40% of their default,
    unbounded ones in [−0.3, 0.3]: regions where finite differences are well behaved.
    """
    spec = cogarb.get_agent(agent)
    rng = np.random.default_rng(seed)
    values = {}
    for p in spec.parameters:
        if p.transform == "logit":
            values[p.name] = rng.uniform(0.15, 0.85, n)
        elif p.transform == "log":
            values[p.name] = p.default * rng.uniform(0.6, 1.4, n)
        else:
            values[p.name] = rng.uniform(-0.3, 0.3, n)
    return values
