"""Agent specifications: parameter names, bounds, transforms and defaults (plain data).

Three agents of Daw et al. (2011) share one set of equations (see
``paper/models.md`` and :mod:`cogarb._kernels.hybrid`):

``hybrid``
    Model-free SARSA(λ) and model-based values mixed with weight ``w``.
    Parameters ``alpha1, alpha2, lambda, beta1, beta2, p, w``.
``mf``
    Pure model-free SARSA(λ): the hybrid with ``w = 0``.
``mb``
    Pure model-based: the hybrid with ``w = 1``; ``alpha1`` and ``lambda`` then have
    no effect on choices and are not parameters of this agent.

Three more run on tasks whose second stage offers no choice (Kool et al. 2016's
"novel" task, Kool et al. 2017's stakes task, Akam et al. 2015's task; kernel
family ``"one_choice"``, :mod:`cogarb._kernels.one_choice`): the same equations
without β₂ and with second-stage states valued directly (``Q2(s)``):

``hybrid_one_choice``
    Parameters ``alpha1, alpha2, lambda, beta1, p, w``.
``mf_one_choice``
    The former with ``w = 0``.
``mb_one_choice``
    The former with ``w = 1``; ``alpha1`` and ``lambda`` are not parameters.

Their perseveration applies only towards the last choice made in the *same*
first-stage state, as in Kool's published code (``MB_MF_novel_rllik.m``); see
:mod:`cogarb._kernels.one_choice`. With one first-stage state (Akam's task) this
is ordinary perseveration.

Defaults are the medians of Daw et al. (2011, Table 1): β₁ 5.19, β₂ 3.69,
α₁ 0.54, α₂ 0.42, λ 0.57, p 0.11, w 0.39, so ``params={}`` simulates a typical
participant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from cogarb._kernels.families import FAMILIES, KernelFamily

TRANSFORMS = ("logit", "log", "identity")


class UnknownParameterError(KeyError, ValueError):
    """A parameter name the agent does not have (a ``KeyError`` and a ``ValueError``)."""


@dataclass(frozen=True)
class Parameter:
    """One free parameter of an agent.

    Attributes
    ----------
    name : str
    lower, upper : float
        Bounds of the natural scale (``±inf`` for none).
    default : float
        Value used when the caller gives none.
    transform : {"logit", "log", "identity"}
        Map from the natural scale to the unconstrained one used for fitting.
    description : str
    """

    name: str
    lower: float
    upper: float
    default: float
    transform: str
    description: str

    def __post_init__(self) -> None:
        if self.transform not in TRANSFORMS:
            raise ValueError(
                f"parameter '{self.name}': transform must be one of {TRANSFORMS}, "
                f"got {self.transform!r}"
            )
        bounds = {"logit": (0.0, 1.0), "log": (0.0, math.inf), "identity": (-math.inf, math.inf)}
        if (self.lower, self.upper) != bounds[self.transform]:
            raise ValueError(
                f"parameter '{self.name}': the {self.transform} transform maps onto "
                f"{list(bounds[self.transform])}, but its bounds are {[self.lower, self.upper]}"
            )
        if not (math.isfinite(self.default) and self.lower <= self.default <= self.upper):
            raise ValueError(
                f"parameter '{self.name}': default {self.default!r} is not a finite value in "
                f"[{self.lower}, {self.upper}]"
            )

    def forward(self, x: float) -> float:
        """Natural scale → unconstrained, of one value: logit(x), log(x) or x."""
        if self.transform == "logit":
            return math.log(x / (1.0 - x))
        if self.transform == "log":
            return math.log(x)
        return x

    def inverse(self, x, xp=np):
        """Unconstrained → natural scale: 1 / (1 + exp(−x)), exp(x) or x.

        ``xp`` is ``numpy`` for arrays, or ``pytensor.tensor`` for symbolic values
        (whose ``sigmoid`` is the logistic).
        """
        if self.transform == "logit":
            return 1.0 / (1.0 + np.exp(-x)) if xp is np else xp.sigmoid(x)
        if self.transform == "log":
            return xp.exp(x)
        return x


@dataclass(frozen=True)
class Agent:
    """An agent: its free parameters, fixed values and the kernel that runs it.

    Attributes
    ----------
    name : str
    parameters : tuple of Parameter
        Free parameters, in a fixed order.
    fixed : dict
        Kernel parameters held constant (``{"w_noload": 0.0, ...}`` for the
        model-free agent).
    shared : dict
        Kernel parameters that copy a free parameter (the hybrid's ``w`` serves as
        both ``w_noload`` and ``w_load``).
    kernel : str
        Which kernel family computes the agent (``"hybrid"``, ``"arbitrator"`` or
        ``"one_choice"``, the last for tasks without a second-stage choice); its
        record is :attr:`family`.
    description : str

    Every kernel parameter of the family must be free, fixed or shared with a free
    parameter, and every free parameter must be a kernel parameter (or the source
    of a shared one): a definition that breaks this is refused when it is made.

    Examples
    --------
    The hybrid with λ fixed at 1 (as in Kool et al. 2016's models)::

        from cogarb.agents import ALPHA1, ALPHA2, BETA1, BETA2, PERSEVERATION, W, Agent
        hybrid_lambda1 = Agent(
            "hybrid_lambda1", (ALPHA1, ALPHA2, BETA1, BETA2, PERSEVERATION, W),
            fixed={"lambda": 1.0}, shared={"w_noload": "w", "w_load": "w"},
        )
    """

    name: str
    parameters: tuple[Parameter, ...]
    fixed: Mapping[str, float] = field(default_factory=dict)
    shared: Mapping[str, str] = field(default_factory=dict)
    kernel: str = "hybrid"
    description: str = ""

    def __post_init__(self) -> None:
        if self.kernel not in FAMILIES:
            raise ValueError(
                f"agent '{self.name}' has unknown kernel '{self.kernel}' "
                f"(kernel families: {', '.join(FAMILIES)})"
            )
        order = FAMILIES[self.kernel].parameter_order
        names = self.parameter_names
        if len(set(names)) != len(names):
            raise ValueError(f"agent '{self.name}' names a parameter twice: {names}")
        for name in order:
            source = self.shared.get(name, name)
            if source not in self.fixed and source not in names:
                raise ValueError(
                    f"agent '{self.name}' leaves kernel parameter '{name}' undefined: "
                    "make it a parameter, fix it (fixed={...}) or share it (shared={...})"
                )
        for name in names:
            if name not in order and name not in self.shared.values():
                raise ValueError(
                    f"agent '{self.name}': parameter '{name}' is not a parameter of the "
                    f"'{self.kernel}' kernel ({', '.join(order)})"
                )
        for name, value in self.fixed.items():
            if name not in order or name in names:
                raise ValueError(
                    f"agent '{self.name}': fixed '{name}' is not a kernel parameter it leaves free"
                )
            if not math.isfinite(value):
                raise ValueError(f"agent '{self.name}': fixed '{name}' = {value!r} is not finite")

    @property
    def family(self) -> KernelFamily:
        """The record of the agent's kernel family (parameter layout, entry points)."""
        return FAMILIES[self.kernel]

    @property
    def definition(self) -> tuple:
        """Everything that defines the agent's model, as a hashable value (its name,
        free parameters, fixed and shared values, kernel): two agents with the same
        definition are the same model."""
        return (
            self.name,
            self.parameters,
            tuple(sorted(self.fixed.items())),
            tuple(sorted(self.shared.items())),
            self.kernel,
        )

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.parameters}

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise UnknownParameterError(
            f"agent '{self.name}' has no parameter '{name}' "
            f"(parameters: {', '.join(self.parameter_names)})"
        )


_UNIT = dict(lower=0.0, upper=1.0, transform="logit")
_POSITIVE = dict(lower=0.0, upper=math.inf, transform="log")

ALPHA1 = Parameter("alpha1", default=0.54, description="stage-1 model-free learning rate", **_UNIT)
ALPHA2 = Parameter("alpha2", default=0.42, description="stage-2 learning rate", **_UNIT)
LAMBDA = Parameter(
    "lambda", default=0.57, description="eligibility trace: stage-2 RPE passed to stage 1", **_UNIT
)
BETA1 = Parameter("beta1", default=5.19, description="stage-1 inverse temperature", **_POSITIVE)
BETA2 = Parameter("beta2", default=3.69, description="stage-2 inverse temperature", **_POSITIVE)
PERSEVERATION = Parameter(
    "p",
    lower=-math.inf,
    upper=math.inf,
    default=0.11,
    transform="identity",
    description="perseveration: bonus (inside beta1) for repeating the previous stage-1 choice",
)
W = Parameter("w", default=0.39, description="weight on model-based (direct) control", **_UNIT)

W_NOLOAD = Parameter(
    "w_noload", default=0.39, description="weight on model-based control without load", **_UNIT
)
W_LOAD = Parameter(
    "w_load", default=0.2, description="weight on model-based control under load", **_UNIT
)

HYBRID = Agent(
    "hybrid",
    (ALPHA1, ALPHA2, LAMBDA, BETA1, BETA2, PERSEVERATION, W),
    shared={"w_noload": "w", "w_load": "w"},
    description="Daw et al. (2011) hybrid of model-free SARSA(λ) and model-based control",
)
MODEL_FREE = Agent(
    "mf",
    (ALPHA1, ALPHA2, LAMBDA, BETA1, BETA2, PERSEVERATION),
    fixed={"w_noload": 0.0, "w_load": 0.0},
    description="model-free SARSA(λ) (the hybrid with w = 0)",
)
MODEL_BASED = Agent(
    "mb",
    (ALPHA2, BETA1, BETA2, PERSEVERATION),
    fixed={"w_noload": 1.0, "w_load": 1.0, "alpha1": 0.0, "lambda": 0.0},
    description="model-based planning over the known transition matrix (the hybrid with w = 1)",
)
HYBRID_LOAD = Agent(
    "hybrid_load",
    (ALPHA1, ALPHA2, LAMBDA, BETA1, BETA2, PERSEVERATION, W_NOLOAD, W_LOAD),
    description="hybrid with one weight per load condition (Otto et al. 2013)",
)

# Arbitrator (see cogarb._kernels.arbitrator and paper/models.md). Defaults: the
# hybrid's learning and choice parameters at Daw's medians; arbitration
# parameters chosen so that simulate(task, "arbitrator", {}) shows the signatures
# of paper/models.md (w ≈ 0.5 at rest, lower under load, rising after novelty).
ETA_T = Parameter("eta_T", default=0.2, description="transition-model learning rate", **_UNIT)
ETA_R = Parameter(
    "eta_R", default=0.1, description="reliability learning rate (running |PE| averages)", **_UNIT
)
A_MF_MB = Parameter(
    "A_mf_mb", default=1.0, description="amplitude of the MF → MB transition rate", **_POSITIVE
)
A_MB_MF = Parameter(
    "A_mb_mf", default=2.0, description="amplitude of the MB → MF transition rate", **_POSITIVE
)
KAPPA = Parameter(
    "kappa",
    default=0.3,
    description="novelty rate: familiarity learning and novelty decay",
    **_UNIT,
)
ZETA = Parameter("zeta", default=10.0, description="novelty gain on the MF → MB rate", **_POSITIVE)
COST = Parameter(
    "cost", default=2.0, description="cost of direct control under load (MB → MF rate)", **_POSITIVE
)
W0 = Parameter("w0", default=0.5, description="weight on direct control before trial 1", **_UNIT)
# Slopes of the rates on reliability, fixed as in Lee et al. (2014), whose fits tie
# B to A by a boundary condition rather than fitting it.
B_RATES = {"B_mf_mb": 5.0, "B_mb_mf": 5.0}

ARBITRATOR = Agent(
    "arbitrator",
    (
        ALPHA1,
        ALPHA2,
        LAMBDA,
        BETA1,
        BETA2,
        PERSEVERATION,
        ETA_T,
        ETA_R,
        A_MF_MB,
        A_MB_MF,
        KAPPA,
        ZETA,
        COST,
        W0,
    ),
    fixed=B_RATES,
    kernel="arbitrator",
    description="reliability-, novelty- and load-driven arbitration between MF and MB control",
)

# Tasks without a second-stage choice (Kool et al. 2016, 2017; Akam et al. 2015): the
# same parameter specifications, transforms and priors, no beta2.
HYBRID_ONE_CHOICE = Agent(
    "hybrid_one_choice",
    (ALPHA1, ALPHA2, LAMBDA, BETA1, PERSEVERATION, W),
    shared={"w_noload": "w", "w_load": "w"},
    kernel="one_choice",
    description="hybrid without a second-stage choice (Kool et al. 2016; Akam et al. 2015)",
)
MODEL_FREE_ONE_CHOICE = Agent(
    "mf_one_choice",
    (ALPHA1, ALPHA2, LAMBDA, BETA1, PERSEVERATION),
    fixed={"w_noload": 0.0, "w_load": 0.0},
    kernel="one_choice",
    description="model-free SARSA(λ) without a second-stage choice (w = 0)",
)
MODEL_BASED_ONE_CHOICE = Agent(
    "mb_one_choice",
    (ALPHA2, BETA1, PERSEVERATION),
    fixed={"w_noload": 1.0, "w_load": 1.0, "alpha1": 0.0, "lambda": 0.0},
    kernel="one_choice",
    description="model-based planning without a second-stage choice (w = 1)",
)

# Agents of the two-step task with a second-stage choice.
TWO_CHOICE_AGENTS: dict[str, Agent] = {
    a.name: a for a in (MODEL_FREE, MODEL_BASED, HYBRID, HYBRID_LOAD, ARBITRATOR)
}
# Agents of tasks without a second-stage choice (kernel family "one_choice").
ONE_CHOICE_AGENTS: dict[str, Agent] = {
    a.name: a for a in (MODEL_FREE_ONE_CHOICE, MODEL_BASED_ONE_CHOICE, HYBRID_ONE_CHOICE)
}
# Every agent, by name.
AGENTS: dict[str, Agent] = {**TWO_CHOICE_AGENTS, **ONE_CHOICE_AGENTS}


def get_agent(agent: str | Agent) -> Agent:
    """Return the :class:`Agent` for a name (``"mf"``, ``"hybrid_one_choice"``...) or agent.

    Looks in :data:`AGENTS` (the :data:`TWO_CHOICE_AGENTS` and the
    :data:`ONE_CHOICE_AGENTS`).
    """
    if isinstance(agent, Agent):
        return agent
    try:
        return AGENTS[agent]
    except (KeyError, TypeError):
        raise ValueError(f"unknown agent {agent!r} (available: {', '.join(AGENTS)})") from None


def kernel_matrix(agent: Agent, values: Mapping, condition_parameter: str | None = None, xp=np):
    """Stack an agent's natural-scale parameter values into its kernel's parameter matrix.

    The one map from named values to kernel columns, used by simulation and by the
    likelihood alike. ``values[name]`` has shape (..., n_participants), or
    (..., n_participants, 2) for ``condition_parameter`` (its two condition
    levels: the first feeds the kernel's ``w_noload``, the second its
    ``w_load``). Fixed and shared kernel parameters are filled in. ``xp`` is
    ``numpy`` for arrays or ``pytensor.tensor`` for symbolic values.

    Returns
    -------
    (..., n_participants, P) in ``agent.family.parameter_order``: float64 for NumPy
    (C-contiguous), a tensor for PyTensor.
    """
    order = agent.family.parameter_order
    if xp is np:
        values = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    missing = [n for n in agent.parameter_names if n not in values]
    if missing:
        raise ValueError(f"no value for parameter(s) {missing} of agent '{agent.name}'")
    reference = values[agent.parameter_names[0]]
    if agent.parameter_names[0] == condition_parameter:
        reference = reference[..., 0]
    columns = []
    for name in order:
        source = agent.shared.get(name, name)
        if source in agent.fixed or source not in values:
            columns.append(xp.full_like(reference, float(agent.fixed[name]), dtype="float64"))
            continue
        value = values[source]
        if source == condition_parameter:
            value = value[..., 1] if name == "w_load" else value[..., 0]
        columns.append(value)
    stacked = xp.stack(columns, axis=-1)
    return np.ascontiguousarray(stacked, dtype=float) if xp is np else stacked


def check_suits(agent: Agent, stage2_choice: bool, what: str) -> None:
    """Refuse to run ``agent`` on a task or trials it does not model.

    Parameters
    ----------
    agent : Agent
    stage2_choice : bool
        Whether the task (or the trials) has a second-stage choice.
    what : str
        The task or trials with their verb, as the message names them
        (``"task 'daw2011' has"``, ``"these trials have"``).

    Raises
    ------
    ValueError
        Naming the agent, ``what`` and the agents that do suit it.
    """
    if agent.family.stage2_choice == stage2_choice:
        return
    suited = ", ".join(
        f"'{a.name}'" for a in AGENTS.values() if a.family.stage2_choice == stage2_choice
    )
    if stage2_choice:
        raise ValueError(
            f"agent '{agent.name}' models tasks without a second-stage choice; {what} "
            f"one (stage2_choice true or absent): use {suited}"
        )
    raise ValueError(
        f"agent '{agent.name}' models a second-stage choice on every trial; {what} "
        f"none (stage2_choice false: Kool's novel task, Akam's task): use {suited}"
    )


def check_parameter_value(agent: Agent, name: str, value: float) -> None:
    """Raise ``ValueError`` if ``value`` is not finite or outside the bounds of ``name``."""
    spec = agent.parameter(name)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(
            f"parameter '{name}' of agent '{agent.name}' must be finite, got {value!r}"
        )
    if not spec.lower <= value <= spec.upper:
        raise ValueError(
            f"parameter '{name}' of agent '{agent.name}' must lie in "
            f"[{spec.lower}, {spec.upper}], got {value!r}"
        )
