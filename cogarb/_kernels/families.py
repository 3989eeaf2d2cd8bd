"""One record per kernel family: its parameter layout and its entry points.

A *kernel family* is one set of per-trial equations with its simulation, likelihood
and replay kernels. Every agent runs on one family (:attr:`cogarb.Agent.family`);
everything the Python layer needs to know about a family is in its
:class:`KernelFamily` record, so that no module keeps a table of its own:

``HYBRID``
    Daw et al. (2011)'s hybrid (:mod:`.hybrid`, :mod:`.hybrid_loglik`); the
    model-free and model-based agents are restrictions of it.
``ARBITRATOR``
    Trial-by-trial arbitration between the two systems (:mod:`.arbitrator`,
    :mod:`.arbitrator_loglik`).
``ONE_CHOICE``
    The hybrid on tasks without a second-stage choice (:mod:`.one_choice`,
    :mod:`.one_choice_loglik`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cogarb._kernels import arbitrator, hybrid, loglik, one_choice, replay


@dataclass(frozen=True, eq=False)
class KernelFamily:
    """A kernel family: parameter layout, random numbers per trial and entry points.

    Attributes
    ----------
    name : str
        ``"hybrid"``, ``"arbitrator"`` or ``"one_choice"`` (what
        :attr:`cogarb.Agent.kernel` names).
    kind : int
        The family's code in the likelihood kernels' dispatch (:mod:`.loglik`).
    parameter_order : tuple of str
        Columns of the kernel parameter matrix (n_participants, P).
    internals : tuple of str
        Columns of the per-trial internals a simulation records on request.
    uniforms_per_trial : int
        Uniform random numbers the simulator draws per participant and trial.
    stage2_choice : bool
        Whether the family models a second-stage choice (the tasks it runs on).
    simulate_cohort : callable
        The simulation kernel (its arguments: the family's module).
    replay_draws : callable
        The posterior predictive kernel (:mod:`.replay`).
    """

    name: str
    kind: int
    parameter_order: tuple[str, ...]
    internals: tuple[str, ...]
    uniforms_per_trial: int
    stage2_choice: bool
    simulate_cohort: Callable
    replay_draws: Callable

    @property
    def n_parameters(self) -> int:
        return len(self.parameter_order)

    def column(self, name: str) -> int:
        """The column of kernel parameter ``name`` in the parameter matrix."""
        return self.parameter_order.index(name)

    def __repr__(self) -> str:
        return f"KernelFamily({self.name!r})"


HYBRID = KernelFamily(
    name="hybrid",
    kind=loglik.HYBRID,
    parameter_order=hybrid.PARAMETER_ORDER,
    internals=hybrid.INTERNALS,
    uniforms_per_trial=4,  # first-stage choice, transition, second-stage choice, reward
    stage2_choice=True,
    simulate_cohort=hybrid.simulate_cohort,
    replay_draws=replay.replay_draws,
)
ARBITRATOR = KernelFamily(
    name="arbitrator",
    kind=loglik.ARBITRATOR,
    parameter_order=arbitrator.PARAMETER_ORDER,
    internals=arbitrator.INTERNALS,
    uniforms_per_trial=4,
    stage2_choice=True,
    simulate_cohort=arbitrator.simulate_cohort,
    replay_draws=replay.replay_draws,
)
ONE_CHOICE = KernelFamily(
    name="one_choice",
    kind=loglik.ONE_CHOICE,
    parameter_order=one_choice.PARAMETER_ORDER,
    internals=one_choice.INTERNALS,
    uniforms_per_trial=one_choice.N_UNIFORMS,
    stage2_choice=False,
    simulate_cohort=one_choice.simulate_cohort,
    replay_draws=replay.replay_draws_one_choice,
)

FAMILIES: dict[str, KernelFamily] = {f.name: f for f in (HYBRID, ARBITRATOR, ONE_CHOICE)}
