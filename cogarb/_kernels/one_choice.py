"""Two-step tasks whose second stage offers no choice: per-trial equations and simulation.

Two tasks share these kernels:

* the "novel" task of Kool, Cushman & Gershman (2016) and Kool, Gershman & Cushman
  (2017): two first-stage states, each with two actions; action ``a`` in either
  state leads deterministically (``p_common = 1``) to second-stage state
  ("planet") ``a``, whose current payoff in points is the reward;
* Akam's task (Akam et al. 2015; Castro-Rodrigues et al. 2022): one first-stage
  state; action ``a`` leads to state ``a`` with probability ``p_common`` (0.8) and
  the structure reverses in blocks (``reversed_``: action ``a`` then commonly
  leads to ``1 − a``); Bernoulli rewards.

The hybrid of Daw et al. (2011) without the second-stage choice, as adapted by
Kool et al. (2016). The value state of one participant is a float64 array of
length 6::

    state = [Q_MF(0, 0), Q_MF(0, 1), Q_MF(1, 0), Q_MF(1, 1), Q2(0), Q2(1)]

with ``Q_MF(s1, a)`` the model-free value of action ``a`` in first-stage state
``s1`` and ``Q2(s)`` the value of second-stage state ``s``, all 0 at the start
(Kool's code initialises both at 0), no decay. Equations::

    d(a) = 1 − a if reversed_t else a            common destination of action a
    Q_MB(a) = p_common Q2(d(a)) + (1 − p_common) Q2(1 − d(a))
    Q_net(s1, a) = w Q_MB(a) + (1 − w) Q_MF(s1, a)
    P(a1 = a | s1) ∝ exp(β1 [Q_net(s1, a) + p 1{a = a_prev}])
    δ1 = Q2(s2) − Q_MF(s1, a1)               (Q2 before its own update)
    δ2 = r − Q2(s2)
    Q_MF(s1, a1) += α1 (δ1 + λ δ2)
    Q2(s2) += α2 δ2

The agent knows the structure on every trial (the instructed ``p_common`` and the
per-trial ``reversed_`` flag); it learns no transition model. Perseveration is
inside β1 and uses the hybrid's own :func:`cogarb._kernels.hybrid.stage1_logit`.

**Which previous choice is "the same".** Actions are indexed by their common
destination: action ``a`` in state 0 and action ``a`` in state 1 both lead to
planet ``a``. With ``stick_within_state`` false, ``a_prev`` is the last action
made whatever its first-stage state (stickiness to a destination). With
``stick_within_state`` true, the bonus applies only when the current first-stage
state is the one of the last choice (stickiness to the very stimulus: Kool's
``MB_MF_novel_rllik.m`` keeps ``M(s1, a) = 1`` for the last choice and adds
``st · M(s1_t, :)``, so after a trial in the other state there is no bonus). With
one first-stage state (Akam's task) both are the same.

**Condition effect on w.** As in the hybrid's kernel (:mod:`cogarb._kernels.hybrid`),
θ carries two weights: ``w = w_load`` on trials whose int8 ``condition`` is 1 and
``w = w_noload`` otherwise. The names are the hybrid's; the condition can be any
two-level trial column (the stakes of Kool et al. 2017: low stakes → level 0,
high stakes → level 1). The agents of :mod:`cogarb.agents` tie both to one ``w``
unless a condition effect is fitted.

Rewards are used as given (the caller scales points).

**Missed trials** (a replay passes the observed participant's masks; a
simulation from scratch misses nothing), as the likelihood
(:mod:`.one_choice_loglik`) treats them:

* fully missed (no first-stage choice): no choice, no learning, the
  perseveration reference unchanged. Outputs ``choice1 = state2 = MISSING`` (−1),
  ``reward`` NaN, ``common`` false, internals NaN.
* half-missed (``stage2_missed``: choice and transition made, the reward not
  collected): the choice and transition are drawn as usual, then the trial
  stops: ``reward`` NaN, internals ``delta1``/``delta2`` NaN, no value update (no
  transition model is learned here, so there is nothing else to learn); the
  perseveration reference becomes this choice (in this first-stage state).
"""

import numpy as np
from numba import njit, prange

from cogarb._kernels.hybrid import MISSING, logistic, stage1_logit, transition

# Order of the columns of the parameter matrix the kernels take.
PARAMETER_ORDER = ("alpha1", "alpha2", "lambda", "beta1", "p", "w_noload", "w_load")

# Names of the per-trial internals written when ``record`` is true, in column order:
# values before the choice (Q_MF of the current first-stage state), the probability
# of the choice made, and the prediction errors of the update.
INTERNALS = (
    "q_mf_0", "q_mf_1", "q_mb_0", "q_mb_1", "q2_0", "q2_1",
    "prob_choice1", "delta1", "delta2",
)  # fmt: skip
N_STATE = 6
Q2_OFFSET = 4  # state[Q2_OFFSET + s] is Q2(s)
N_UNIFORMS = 3  # per trial: choice, transition, reward


@njit(cache=True, error_model="numpy")
def model_based_value(state, action, p_common, reversed_):
    """Q_MB(action): the known transition structure applied to the Q2 values.

    The common destination of ``action`` is ``action``, or ``1 − action`` while
    transitions are reversed; it is reached with probability ``p_common``.
    """
    destination = 1 - action if reversed_ else action
    return (
        p_common * state[Q2_OFFSET + destination]
        + (1.0 - p_common) * state[Q2_OFFSET + 1 - destination]
    )


@njit(cache=True, error_model="numpy")
def effective_previous(previous_state1, previous_choice1, state1, stick_within_state):
    """The previous choice the perseveration bonus points at, or -1 for none.

    ``previous_choice1`` is -1 before the first choice; with
    ``stick_within_state`` a previous choice made in another first-stage state
    gives no bonus.
    """
    if previous_choice1 < 0:
        return -1
    if stick_within_state and previous_state1 != state1:
        return -1
    return previous_choice1


@njit(cache=True, error_model="numpy")
def choice_logit(state, state1, q_mb0, q_mb1, w, beta1, p, previous):
    """Log-odds of first-stage action 1 over action 0 in first-stage state ``state1``.

    ``previous`` is the effective previous choice (see :func:`effective_previous`).
    """
    return stage1_logit(
        state[2 * state1], state[2 * state1 + 1], q_mb0, q_mb1, w, beta1, p, previous
    )


@njit(cache=True, error_model="numpy")
def td_update(state, state1, choice1, state2, reward, alpha1, alpha2, lam):
    """SARSA(lambda) update of ``state`` in place; returns (delta1, delta2)."""
    i = 2 * state1 + choice1
    k = Q2_OFFSET + state2
    delta1 = state[k] - state[i]
    delta2 = reward - state[k]
    state[i] += alpha1 * (delta1 + lam * delta2)
    state[k] += alpha2 * delta2
    return delta1, delta2


@njit(cache=True, error_model="numpy")
def play_trial(
    state, state1_t, w, beta1, p, previous, reversed_t, p_common, u, payoff_t, bernoulli,
    t, choice1, state2, reward, common, internals, record, stage2,
):  # fmt: skip
    """Choose, transit and get rewarded on trial ``t``; write the outputs.

    ``previous`` is the effective previous choice; ``u`` holds the trial's three
    uniform draws (choice, transition, reward). ``payoff_t[s]`` is the reward
    probability of state ``s`` if ``bernoulli``, else its payoff. With
    ``record``, writes internals columns 0-6. With ``stage2`` false (a half-missed
    trial) no reward is collected (NaN). Returns (choice1, state2, reward).
    """
    q_mb0 = model_based_value(state, 0, p_common, reversed_t)
    q_mb1 = model_based_value(state, 1, p_common, reversed_t)
    p1 = logistic(choice_logit(state, state1_t, q_mb0, q_mb1, w, beta1, p, previous))
    a1 = 1 if u[0] < p1 else 0
    is_common = u[1] < p_common
    s2 = transition(a1, is_common, reversed_t)
    if not stage2:
        r = np.nan
    elif bernoulli:
        r = 1.0 if u[2] < payoff_t[s2] else 0.0
    else:
        r = payoff_t[s2]
    choice1[t] = a1
    state2[t] = s2
    reward[t] = r
    common[t] = is_common
    if record:
        internals[t, 0] = state[2 * state1_t]
        internals[t, 1] = state[2 * state1_t + 1]
        internals[t, 2] = q_mb0
        internals[t, 3] = q_mb1
        internals[t, 4] = state[Q2_OFFSET]
        internals[t, 5] = state[Q2_OFFSET + 1]
        internals[t, 6] = p1 if a1 == 1 else 1.0 - p1
    return a1, s2, r


@njit(cache=True, error_model="numpy")
def simulate_participant(
    theta, state1, condition, payoff, bernoulli, reversed_, missed, stage2_missed, p_common,
    stick_within_state, uniforms, choice1, state2, reward, common, internals, record,
):  # fmt: skip
    """Simulate one participant on a task without a second-stage choice.

    Parameters
    ----------
    theta : float64 (7,) parameters in ``PARAMETER_ORDER``
    state1 : int8 (n_trials,) first-stage state of each trial (all 0 for one state)
    condition : int8 (n_trials,) 1 where ``w_load`` applies, else 0 (``w_noload``)
    payoff : float64 (n_trials, 2) per second-stage state: the reward probability
        (``bernoulli`` true) or the reward itself, e.g. points (``bernoulli`` false)
    bernoulli : bool
    reversed_ : bool (n_trials,) transition structure swapped
    missed, stage2_missed : bool (n_trials,) the observed participant's missed and
        half-missed trials (see the module docstring); all false to simulate
    p_common : float, P(common destination | action); 1 for deterministic tasks
    stick_within_state : bool, perseveration only towards a choice made in the
        same first-stage state (see the module docstring)
    uniforms : float64 (n_trials, 3) U(0, 1) draws for the choice, the transition
        and the reward (unused if not ``bernoulli``); an event happens when its
        draw is below its probability
    choice1, state2 : int8 (n_trials,) outputs
    reward : float64 (n_trials,) output
    common : bool (n_trials,) output
    internals : float64 (n_trials, len(INTERNALS)) output, written if ``record``
    """
    alpha1, alpha2, lam, beta1, p = theta[0], theta[1], theta[2], theta[3], theta[4]
    state = np.zeros(N_STATE)
    previous_state1 = -1
    previous_choice1 = -1
    for t in range(uniforms.shape[0]):
        stage2 = not stage2_missed[t]
        if missed[t] and stage2:
            choice1[t] = MISSING
            state2[t] = MISSING
            reward[t] = np.nan
            common[t] = False
            if record:
                internals[t, :] = np.nan
            continue
        s1 = state1[t]
        w = theta[6] if condition[t] else theta[5]
        previous = effective_previous(previous_state1, previous_choice1, s1, stick_within_state)
        a1, s2, r = play_trial(
            state, s1, w, beta1, p, previous, reversed_[t], p_common, uniforms[t],
            payoff[t], bernoulli, t, choice1, state2, reward, common, internals, record, stage2,
        )  # fmt: skip
        if stage2:
            d1, d2 = td_update(state, s1, a1, s2, r, alpha1, alpha2, lam)
        else:
            d1 = d2 = np.nan
        if record:
            internals[t, 7] = d1
            internals[t, 8] = d2
        previous_state1 = s1
        previous_choice1 = a1


@njit(cache=True, parallel=True, error_model="numpy")
def simulate_cohort(
    thetas, state1, condition, payoff, bernoulli, reversed_, p_common, stick_within_state, uniforms,
    choice1, state2, reward, common, internals, record,
):  # fmt: skip
    """Simulate ``thetas.shape[0]`` participants in parallel.

    Every per-trial array has a leading participant axis: ``state1`` and
    ``condition`` int8 (n, n_trials), ``payoff`` float64 (n, n_trials, 2), ``reversed_`` bool (n,
    n_trials), ``uniforms`` float64 (n, n_trials, 3) and the outputs as in
    :func:`simulate_participant` (``internals`` (n, n_trials or 0,
    len(INTERNALS))). Schedules shared by all participants can be passed as
    ``numpy.broadcast_to`` views. Every random number comes in ``uniforms``, so the
    result does not depend on the number of threads. Nothing is missed.
    """
    no_miss = np.zeros(uniforms.shape[1], np.bool_)
    for i in prange(thetas.shape[0]):
        simulate_participant(
            thetas[i], state1[i], condition[i], payoff[i], bernoulli, reversed_[i], no_miss,
            no_miss, p_common, stick_within_state, uniforms[i], choice1[i], state2[i],
            reward[i], common[i], internals[i], record,
        )  # fmt: skip
