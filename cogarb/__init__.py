"""cogarb: amortized (model-free) vs direct (model-based) control in the two-step task.

Simulate participants with Numba, analyse stay behaviour, and fit hierarchical
Bayesian models. Importing cogarb does not import PyMC.
"""

from cogarb._version import __version__
from cogarb.agents import AGENTS, Agent, Parameter, get_agent
from cogarb.analysis import StayProbabilities, StayRegression, stay_probabilities, stay_regression
from cogarb.data import TrialDataError, read_trials, validate_trials, write_trials
from cogarb.simulate import simulate
from cogarb.tasks import RewardDrift, Task, TaskSpecError, builtin_tasks, load_task

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
    "builtin_tasks",
    "get_agent",
    "load_task",
    "read_trials",
    "simulate",
    "stay_probabilities",
    "stay_regression",
    "validate_trials",
    "write_trials",
]
