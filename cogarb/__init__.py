"""cogarb: amortized (model-free) vs direct (model-based) control in the two-step task.

Simulate participants with Numba, analyse stay behaviour, and fit hierarchical
Bayesian models. Importing cogarb imports nothing heavy: each name loads its
module on first use (the fitting functions ``build_model``, ``fit``, ``loo``,
``compare``, ``recover`` and ``sbc`` load PyMC).
"""

import sys
import types

from cogarb._version import __version__

# Every name is imported on first use (PEP 562), so that ``import cogarb`` (and
# ``cogarb --version``) costs nothing until numba, pandas or PyMC are needed.
_LAZY = {
    "AGENTS": "cogarb.agents",
    "Agent": "cogarb.agents",
    "Parameter": "cogarb.agents",
    "get_agent": "cogarb.agents",
    "StayProbabilities": "cogarb.analysis",
    "StayRegression": "cogarb.analysis",
    "stay_probabilities": "cogarb.analysis",
    "stay_regression": "cogarb.analysis",
    "TrialDataError": "cogarb.schema",
    "read_trials": "cogarb.data",
    "validate_trials": "cogarb.schema",
    "write_trials": "cogarb.data",
    "simulate": "cogarb.simulate",
    "RewardDrift": "cogarb.tasks",
    "Task": "cogarb.tasks",
    "TaskSpecError": "cogarb.tasks",
    "builtin_tasks": "cogarb.tasks",
    "load_task": "cogarb.tasks",
    "build_model": "cogarb.hierarchical",
    "fit": "cogarb.fitting",
    "summary": "cogarb.fitting",
    "compare": "cogarb.comparison",
    "loo": "cogarb.comparison",
    "recover": "cogarb.recovery",
    "sbc": "cogarb.sbc",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'cogarb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


class _Package(types.ModuleType):
    """The package module: a submodule never shadows the function of the same name.

    Importing ``cogarb.simulate`` (the module) binds it as the package's attribute
    ``simulate``, which would hide the function ``cogarb.simulate`` that ``_LAZY``
    names; the function is bound instead.
    """

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
    "sbc",
    "simulate",
    "stay_probabilities",
    "stay_regression",
    "summary",
    "validate_trials",
    "write_trials",
]
