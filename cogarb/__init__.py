"""cogarb: amortized (model-free) vs direct (model-based) control in the two-step task.

Simulate participants with Numba, analyse stay behaviour, and fit hierarchical
Bayesian models. Importing cogarb does not import PyMC: the fitting functions
(``build_model``, ``fit``, ``loo``, ``compare``, ``recover``) load it on first use.
"""

from cogarb._version import __version__
from cogarb.agents import AGENTS, Agent, Parameter, get_agent
from cogarb.analysis import StayProbabilities, StayRegression, stay_probabilities, stay_regression
from cogarb.data import TrialDataError, read_trials, validate_trials, write_trials
from cogarb.simulate import simulate
from cogarb.tasks import RewardDrift, Task, TaskSpecError, builtin_tasks, load_task

_LAZY = {
    "build_model": "cogarb.hierarchical",
    "fit": "cogarb.fitting",
    "summary": "cogarb.fitting",
    "compare": "cogarb.comparison",
    "loo": "cogarb.comparison",
    "recover": "cogarb.recovery",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cogarb' has no attribute {name!r}")


__all__ = [
    "AGENTS",
    "Agent",
    "Parameter",
    "RewardDrift",
    "StayProbabilities",
    "StayRegression",
    "Task",
    "TaskSpecError",
    "TrialDataError",
    "__version__",
    "build_model",
    "builtin_tasks",
    "compare",
    "fit",
    "get_agent",
    "load_task",
    "loo",
    "read_trials",
    "recover",
    "simulate",
    "stay_probabilities",
    "stay_regression",
    "summary",
    "validate_trials",
    "write_trials",
]
