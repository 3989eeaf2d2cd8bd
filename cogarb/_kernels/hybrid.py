"""Per-trial equations of the Daw et al. (2011) hybrid and the simulation loop.

The model-free (w = 0) and model-based (w = 1) agents are the hybrid with w
fixed, so one set of equations serves all three; ``hybrid_load`` (Otto et al.
2013) uses ``w_load`` on trials under load and ``w_noload`` otherwise (the plain
hybrid ties both to ``w``). The value state of one
participant is a float64 array of length 6::

    state = [Q_MF(0), Q_MF(1), Q2(0,0), Q2(0,1), Q2(1,0), Q2(1,1)]

with ``Q2(s, a)`` the second-stage value of action ``a`` in state ``s``. State 0 is
the common destination of first-stage action 0. The functions below are the only
place these equations live: the simulator here and the likelihood kernels call them.

Equations (Daw et al. 2011, Neuron 69:1204, Supplemental Methods):

    Q_MB(a) = P(s_a | a) max_b Q2(s_a, b) + (1 - P(s_a | a)) max_b Q2(1 - s_a, b)
    Q_net(a) = w Q_MB(a) + (1 - w) Q_MF(a),   w = w_load if under load else w_noload
    P(a1 = a) ∝ exp(beta1 [Q_net(a) + p 1{a = previous a1}])
    P(a2 = b | s) ∝ exp(beta2 Q2(s, b))
    delta1 = Q2(s, a2) - Q_MF(a1)            (Q2 before its own update)
    delta2 = r - Q2(s, a2)
    Q_MF(a1) += alpha1 (delta1 + lambda delta2)
    Q2(s, a2) += alpha2 delta2

The hybrid knows the instructed transition matrix and does not learn it: after a
transition reversal its Q_MB is computed with the old one. On ``new_states``
trials the second-stage values restart at 0 (fresh states).

**Missed trials** (a replay of observed data, :mod:`.replay`, passes the
participant's masks; a simulation from scratch misses nothing) are played as the
likelihood (:mod:`.hybrid_loglik`) treats them:

* *fully missed* (``missed`` and not ``stage2_missed``: no first-stage choice):
  no choice, no transition, no learning; the perseveration reference stays at
  the last choice made. Outputs: ``choice1 = state2 = choice2 = MISSING`` (−1),
  ``reward`` NaN, ``common`` false; with ``record`` the internals row is NaN.
  A ``new_states`` event on the trial still resets Q2.
* *half-missed* (``stage2_missed``: first-stage choice and transition made, no
  second-stage response): the first-stage choice and the transition are drawn as
  usual, then the trial stops: ``choice2 = MISSING``, ``reward`` NaN, internals
  ``prob_choice2``, ``delta1``, ``delta2`` NaN. No value (TD) learning; the
  perseveration reference becomes this trial's choice. The hybrid learns no
  transition model, so nothing else changes.
"""

import math

import numpy as np
from numba import njit, prange

# Order of the columns of the parameter matrix the kernels take.
PARAMETER_ORDER = ("alpha1", "alpha2", "lambda", "beta1", "beta2", "p", "w_noload", "w_load")

# Names of the per-trial internals written when ``record`` is true, in column order.
INTERNALS = (
    "q_mf_0", "q_mf_1", "q_mb_0", "q_mb_1",
    "q2_00", "q2_01", "q2_10", "q2_11",
    "w", "prob_choice1", "prob_choice2", "delta1", "delta2",
)  # fmt: skip
N_STATE = 6
# Output code of a choice or state that was not made (missed trials).
MISSING = -1


@njit(cache=True, error_model="numpy")
def logistic(x):
    """1 / (1 + exp(-x)), safe for large |x|."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, error_model="numpy")
def model_based_value(state, action, p_common):
    """Q_MB(action) from the second-stage values and the transition probability.

    ``p_common`` is P(common destination | action); the common destination of
    action ``a`` is state ``a``.
    """
    best0 = max(state[2], state[3])
    best1 = max(state[4], state[5])
    if action == 0:
        return p_common * best0 + (1.0 - p_common) * best1
    return p_common * best1 + (1.0 - p_common) * best0


@njit(cache=True, error_model="numpy")
def stage1_logit(q_mf0, q_mf1, q_mb0, q_mb1, w, beta1, p, previous_choice1):
    """Log-odds of first-stage action 1 over action 0.

    ``previous_choice1`` is -1 when there is no previous choice (first trial).
    """
    diff = w * (q_mb1 - q_mb0) + (1.0 - w) * (q_mf1 - q_mf0)
    if previous_choice1 == 1:
        diff += p
    elif previous_choice1 == 0:
        diff -= p
    return beta1 * diff


@njit(cache=True, error_model="numpy")
def stage2_logit(state, state2, beta2):
    """Log-odds of second-stage action 1 over action 0 in ``state2``."""
    return beta2 * (state[3 + 2 * state2] - state[2 + 2 * state2])


@njit(cache=True, error_model="numpy")
def td_update(state, choice1, state2, choice2, reward, alpha1, alpha2, lam):
    """SARSA(lambda) update of ``state`` in place; returns (delta1, delta2)."""
    k = 2 + 2 * state2 + choice2
    delta1 = state[k] - state[choice1]
    delta2 = reward - state[k]
    state[choice1] += alpha1 * (delta1 + lam * delta2)
    state[k] += alpha2 * delta2
    return delta1, delta2


@njit(cache=True, error_model="numpy")
def transition(choice1, is_common, reversed_):
    """Second-stage state reached: the common destination of ``choice1`` is
    ``choice1``, or ``1 - choice1`` while transitions are reversed."""
    destination = 1 - choice1 if reversed_ else choice1
    return destination if is_common else 1 - destination


@njit(cache=True, error_model="numpy")
def skip_trial(t, choice1, state2, choice2, reward, common, internals, record):
    """Write the outputs of a fully missed trial ``t`` (see the module docstring)."""
    choice1[t] = MISSING
    state2[t] = MISSING
    choice2[t] = MISSING
    reward[t] = np.nan
    common[t] = False
    if record:
        internals[t, :] = np.nan


@njit(cache=True, error_model="numpy")
def play_trial(
    state, t_common0, t_common1, w, beta1, beta2, p, previous, reversed_t, p_common,
    u, reward_prob_t, t, choice1, state2, choice2, reward, common, internals, record,
    stage2=True,
):  # fmt: skip
    """Choose, transit and get rewarded on trial ``t``; write the outputs.

    ``t_common0``/``t_common1`` are the probabilities, as the agent believes them,
    that action 0/1 leads to its own state (the instructed ``p_common`` for the
    hybrid, the learned transition model for the arbitrator); ``p_common`` is the
    task's. ``u`` holds the trial's four uniform draws. With ``record``, writes
    internals columns 0-10 (values before the choice, ``w``, choice
    probabilities). With ``stage2`` false (a half-missed trial) the trial stops
    after the transition: ``choice2`` is ``MISSING``, the reward NaN. Returns
    (choice1, state2, choice2, reward).
    """
    q_mb0 = model_based_value(state, 0, t_common0)
    q_mb1 = model_based_value(state, 1, t_common1)
    p1 = logistic(stage1_logit(state[0], state[1], q_mb0, q_mb1, w, beta1, p, previous))
    a1 = 1 if u[0] < p1 else 0
    is_common = u[1] < p_common
    s2 = transition(a1, is_common, reversed_t)
    if stage2:
        p2 = logistic(stage2_logit(state, s2, beta2))
        a2 = 1 if u[2] < p2 else 0
        r = 1.0 if u[3] < reward_prob_t[s2, a2] else 0.0
        prob2 = p2 if a2 == 1 else 1.0 - p2
    else:
        a2, r, prob2 = MISSING, np.nan, np.nan
    choice1[t] = a1
    state2[t] = s2
    choice2[t] = a2
    reward[t] = r
    common[t] = is_common
    if record:
        internals[t, 0] = state[0]
        internals[t, 1] = state[1]
        internals[t, 2] = q_mb0
        internals[t, 3] = q_mb1
        for j in range(4):
            internals[t, 4 + j] = state[2 + j]
        internals[t, 8] = w
        internals[t, 9] = p1 if a1 == 1 else 1.0 - p1
        internals[t, 10] = prob2
    return a1, s2, a2, r


@njit(cache=True, error_model="numpy")
def simulate_participant(
    theta, reward_prob, load, reversed_, new_states, missed, stage2_missed, p_common,
    uniforms, choice1, state2, choice2, reward, common, internals, record,
):  # fmt: skip
    """Simulate one participant of the hybrid agent.

    Parameters
    ----------
    theta : float64 (8,) parameters in ``PARAMETER_ORDER``
    reward_prob : float64 (n_trials, 2, 2) P(reward | state, action) per trial
    load : int8 (n_trials,) 1 on trials under load
    reversed_ : bool (n_trials,) transition structure swapped
    new_states : bool (n_trials,) fresh second-stage states from this trial on
    missed, stage2_missed : bool (n_trials,) the observed participant's missed and
        half-missed trials (see the module docstring); all false to simulate
    p_common : float
    uniforms : float64 (n_trials, 4) U(0, 1) draws for choice 1, transition,
        choice 2 and reward; an event happens when its draw is below its probability
    choice1, state2, choice2 : int8 (n_trials,) outputs (``MISSING`` where not made)
    reward : float64 (n_trials,) output
    common : bool (n_trials,) output
    internals : float64 (n_trials, len(INTERNALS)) output, written if ``record``
    """
    alpha1, alpha2, lam, beta1, beta2, p = (
        theta[0],
        theta[1],
        theta[2],
        theta[3],
        theta[4],
        theta[5],
    )
    state = np.zeros(N_STATE)
    previous = -1
    for t in range(uniforms.shape[0]):
        if new_states[t]:
            state[2:] = 0.0
        stage2 = not stage2_missed[t]
        if missed[t] and stage2:
            skip_trial(t, choice1, state2, choice2, reward, common, internals, record)
            continue
        w = theta[7] if load[t] else theta[6]
        a1, s2, a2, r = play_trial(
            state, p_common, p_common, w, beta1, beta2, p, previous, reversed_[t], p_common,
            uniforms[t], reward_prob[t], t, choice1, state2, choice2, reward, common,
            internals, record, stage2,
        )  # fmt: skip
        if stage2:
            d1, d2 = td_update(state, a1, s2, a2, r, alpha1, alpha2, lam)
        else:
            d1 = d2 = np.nan
        if record:
            internals[t, 11] = d1
            internals[t, 12] = d2
        previous = a1


@njit(cache=True, parallel=True, error_model="numpy")
def simulate_cohort(
    thetas, reward_prob, schedule_index, load, load_index, reversed_, new_states,
    p_common, uniforms, choice1, state2, choice2, reward, common, internals, record,
):  # fmt: skip
    """Simulate ``thetas.shape[0]`` participants in parallel.

    ``reward_prob[schedule_index[i]]`` is participant ``i``'s reward schedule and
    ``load[load_index[i]]`` their load schedule; all per-trial outputs have a
    leading participant axis. Every random number comes in ``uniforms`` so the
    result does not depend on the number of threads. Nothing is missed.
    """
    no_miss = np.zeros(uniforms.shape[1], np.bool_)
    for i in prange(thetas.shape[0]):
        simulate_participant(
            thetas[i], reward_prob[schedule_index[i]], load[load_index[i]], reversed_,
            new_states, no_miss, no_miss, p_common, uniforms[i],
            choice1[i], state2[i], choice2[i], reward[i], common[i], internals[i], record,
        )  # fmt: skip
