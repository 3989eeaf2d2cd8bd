"""Trial log-likelihoods: a NumPy entry point and a PyTensor Op.

The likelihood of agent ``a`` for participant ``i`` is the product over their
non-missed trials of P(first-stage choice) × P(second-stage choice | state), with
the agent's values updated by the same per-trial numba functions the simulator
uses (:mod:`cogarb._kernels.hybrid_loglik`, :mod:`cogarb._kernels.arbitrator_loglik`).
On tasks without a second-stage choice (``stage2_choice`` false: Kool et al.
2016's novel task, Kool et al. 2017, Akam et al. 2015) only the agents of the
``"one_choice"`` family apply (``mf_one_choice``, ``mb_one_choice``,
``hybrid_one_choice``; :mod:`cogarb._kernels.one_choice_loglik`), and the
likelihood is the product of P(first-stage choice | first-stage state). Each
family refuses the other's data.

**Reward scaling.** The kernels use ``reward × reward_scale``. Points (Kool's
tasks: 0..9 in 2017, −4..+5 in 2016) would otherwise make β₁ depend on the
points' unit; ``reward_scale`` = 1/9 (2017) or 1/5 (2016) puts the largest payoff
at 1, as for Bernoulli rewards, so that the β₁ prior of :mod:`cogarb.hierarchical`
has the same meaning. The default is 1 (rewards as given).

The trials come flattened by :func:`cogarb.arrays.trial_arrays`. Missed trials
(the ``missed`` column of :func:`cogarb.validate_trials`) are kept in the arrays.
A fully missed trial (no first-stage choice) is excluded explicitly by the
kernels: no update and no likelihood term. A *half-missed* trial
(``TrialArrays.stage2_missed``: first-stage choice and transition observed, the
second stage missed) contributes log P(first-stage choice), and the agent learns
only what it observed, the transition (the arbitrator's transition model,
Ω_SPE, familiarity and novelty; nothing for the hybrid families); see
:mod:`cogarb._kernels.hybrid_loglik` and ``paper/models.md``.

:class:`CohortLoglik` is a PyTensor ``Op`` whose value and gradient come from one
kernel call (forward-mode sensitivities), registered with PyTensor's numba
backend so that nutpie compiles it into its logp function with no object-mode
fallback. Importing this module imports PyTensor but not PyMC.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import (
    numba_njit,
    register_funcify_default_op_cache_key,
)

from cogarb._kernels import cache as kernel_cache
from cogarb._kernels import loglik as _loglik
from cogarb.agents import Agent, check_suits, get_agent
from cogarb.arrays import DATA_DTYPES, DATA_FIELDS, TrialArrays


def per_trial_loglik(agent: str | Agent, thetas: np.ndarray, data: TrialArrays) -> np.ndarray:
    """Per-trial log-likelihood ℓ_t for one or many parameter sets.

    Parameters
    ----------
    agent : agent name or :class:`~cogarb.agents.Agent`
    thetas : float64 (n_participants, P) or (n_draws, n_participants, P) kernel parameters
    data : :class:`TrialArrays`

    Returns
    -------
    numpy.ndarray, (n_trials,) or (n_draws, n_trials); 0 on fully missed trials,
    log P(first-stage choice) on half-missed ones.
    """
    agent = get_agent(agent)
    thetas = np.ascontiguousarray(thetas, dtype=float)
    single = thetas.ndim == 2
    if single:
        thetas = thetas[None]
    _check_thetas(agent, thetas[0], data)
    out = np.empty((thetas.shape[0], data.choice1.shape[0]))
    _loglik.loglik_draws(agent.family.kind, thetas, *data.kernel_data(), data.p_common, out)
    return out[0] if single else out


def loglik_and_grad(
    agent: str | Agent, thetas: np.ndarray, data: TrialArrays
) -> tuple[np.ndarray, np.ndarray]:
    """Per-participant log-likelihood and its gradient w.r.t. the kernel parameters.

    Returns (totals (n_participants,), grads (n_participants, P)).
    """
    agent = get_agent(agent)
    thetas = np.ascontiguousarray(thetas, dtype=float)
    _check_thetas(agent, thetas, data)
    loglik = np.empty(data.choice1.shape[0])
    totals = np.empty(thetas.shape[0])
    grads = np.empty_like(thetas)
    _loglik.loglik_cohort(
        agent.family.kind, thetas, *data.kernel_data(), data.p_common, loglik, totals,
        grads, True,
    )  # fmt: skip
    return totals, grads


def _check_thetas(agent: Agent, thetas: np.ndarray, data: TrialArrays) -> None:
    check_suits(agent, not data.one_choice, "these trials have")
    expected = (data.n_participants, agent.family.n_parameters)
    if thetas.shape != expected:
        raise ValueError(
            f"parameter matrix has shape {thetas.shape}; agent '{agent.name}' on "
            f"{data.n_participants} participants needs {expected}"
        )


class CohortLoglik(Op):
    """PyTensor Op: kernel parameters (n, P) → per-participant log-likelihood (n,).

    Inputs: ``thetas`` and the flat trial arrays of :class:`TrialArrays` in
    ``DATA_FIELDS`` order (offsets, choice1, state2, choice2, reward, condition,
    new_states, missed, stage2_missed, state1, reversed). Outputs:
    the per-participant log-likelihood and its gradient (n, P), both from one
    kernel call; :meth:`L_op` uses the second output, so a graph asking for the
    value and the gradient (as NUTS does) runs the kernel once.
    """

    __props__ = ("kind", "p_common")

    def __init__(self, kind: int, p_common: float):
        self.kind = int(kind)
        self.p_common = float(p_common)

    def make_node(self, thetas, *data):
        thetas = pt.as_tensor_variable(thetas, dtype="float64")
        if len(data) != len(DATA_DTYPES):
            raise TypeError(
                f"CohortLoglik data must be {len(DATA_DTYPES)} arrays ({', '.join(DATA_FIELDS)}), "
                f"got {len(data)}"
            )
        data = [pt.as_tensor_variable(x) for x in data]
        for x, kind in zip(data, DATA_DTYPES, strict=True):
            if not x.dtype.startswith(kind) or x.ndim != 1:
                raise TypeError(f"CohortLoglik data must be 1-d {kind}, got {x.type}")
        outputs = [pt.dvector(), pt.dmatrix()]
        return Apply(self, [thetas, *data], outputs)

    def perform(self, node, inputs, output_storage):
        totals, grads = _cohort_loglik(self.kind, self.p_common, *inputs)
        output_storage[0][0] = totals
        output_storage[1][0] = grads

    def infer_shape(self, fgraph, node, input_shapes):
        n, p = input_shapes[0]
        return [(n,), (n, p)]

    def L_op(self, inputs, outputs, output_grads):
        g_totals, g_grads = output_grads
        if not isinstance(g_grads.type, DisconnectedType):
            raise NotImplementedError("second derivatives of CohortLoglik are not implemented")
        g_thetas = g_totals[:, None] * outputs[1]
        return [g_thetas] + [DisconnectedType()() for _ in inputs[1:]]

    def connection_pattern(self, node):
        return [[True, True]] + [[False, False] for _ in node.inputs[1:]]


def _cohort_loglik(
    kind, p_common, thetas, offsets, c1, s2, c2, reward, condition, ns, missed, s2_missed, s1,
    rev,
):  # fmt: skip
    thetas = np.ascontiguousarray(thetas)
    loglik = np.empty(c1.shape[0])
    totals = np.empty(thetas.shape[0])
    grads = np.empty_like(thetas)
    _loglik.loglik_cohort(
        kind, thetas, offsets, c1, s2, c2, reward, condition, ns, missed, s2_missed, s1, rev,
        p_common, loglik, totals, grads, True,
    )  # fmt: skip
    return totals, grads


def source_salt(kernel_hash: str, op_source: bytes) -> int:
    """The PyTensor cache-key salt: one hash of the kernel sources and this Op's code.

    Parameters
    ----------
    kernel_hash : str
        The hash of every kernel source of the package (and of numba's version),
        :data:`cogarb._kernels.cache.SOURCE_HASH`, the same that keys the numba cache.
    op_source : bytes
        The source of this module, which holds the Op's numba wrapper.

    Returns
    -------
    int
        A 56-bit integer salt.
    """
    digest = hashlib.sha256(kernel_hash.encode() + b"\0" + op_source)
    return int.from_bytes(digest.digest()[:7], "little")


# PyTensor caches a compiled graph on disk under a key made of each Op's props; numba
# does not notice that a kernel called from it has changed. Without this salt, a graph
# compiled before a kernel edit kept running the old kernel (measured: nutpie sampled
# with the kernel from before the 2.4x gradient speed-up, 4.8 instead of 1.7 ms per
# gradient on 200 Gillan participants). The kernels' part is the hash the numba cache
# is keyed on (computed once, at import of cogarb._kernels), so both caches follow the
# same sources.
_KERNEL_SOURCE_SALT = source_salt(kernel_cache.SOURCE_HASH, Path(__file__).read_bytes())


@register_funcify_default_op_cache_key(CohortLoglik)
def _numba_funcify_cohort_loglik(op, node=None, **kwargs):
    kind, p_common = op.kind, op.p_common
    kernel = _loglik.loglik_cohort

    @numba_njit
    def cohort_loglik(
        thetas, offsets, c1, s2, c2, reward, condition, ns, missed, s2_missed, s1, rev
    ):  # fmt: skip
        thetas = np.ascontiguousarray(thetas)
        loglik = np.empty(c1.shape[0])
        totals = np.empty(thetas.shape[0])
        grads = np.empty_like(thetas)
        kernel(
            kind, thetas, offsets, c1, s2, c2, reward, condition, ns, missed, s2_missed, s1,
            rev, p_common, loglik, totals, grads, True,
        )  # fmt: skip
        return totals, grads

    return cohort_loglik, _KERNEL_SOURCE_SALT  # an edited kernel is recompiled


def cohort_loglik_op(agent: str | Agent, p_common: float) -> CohortLoglik:
    """The :class:`CohortLoglik` Op for an agent's kernel family."""
    return CohortLoglik(get_agent(agent).family.kind, p_common)
