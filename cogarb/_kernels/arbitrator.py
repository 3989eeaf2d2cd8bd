"""The arbitrator: a trial-by-trial weight on direct (model-based) control.

Extends the Daw et al. (2011) hybrid (whose per-trial functions it calls) with
reliability-based arbitration after Lee, Shimojo & O'Doherty (2014), a novelty
signal and a cost of direct control under mental load. Full equations, bounds
and defaults: ``paper/models.md`` and ``cogarb.agents.ARBITRATOR``.

Per trial t, before the choice::

    rate_mf_mb = A_mf_mb / (1 + exp(B_mf_mb χ_MF − ζ ν))        MF → MB transition rate
    rate_mb_mf = A_mb_mf / (1 + exp(B_mb_mf χ_MB + ζ ν − c L_t))  MB → MF transition rate
    w* = rate_mf_mb / (rate_mf_mb + rate_mb_mf)                 fixed point
    w_t = w* + (w_{t−1} − w*) exp(−(rate_mf_mb + rate_mb_mf))   exact step of
          dw/dt = rate_mf_mb (1 − w) − rate_mb_mf w over one trial
    Q_MB(a) = T(a) max_b Q2(a, b) + (1 − T(a)) max_b Q2(1 − a, b)
    choices as in the hybrid with w = w_t

after the outcome::

    SPE = 1 − P̂(s2 | a1)                                      state-prediction error
    T(a1) ← T(a1) + η_T (1{s2 = a1} − T(a1))                  (Gläscher et al. 2010)
    surprise = max(0, SPE − Ω_SPE)
    Ω_SPE ← Ω_SPE + η_R (SPE − Ω_SPE);      χ_MB = 1 − Ω_SPE
    δ1, δ2 and the SARSA(λ) update as in the hybrid
    Ω_RPE ← Ω_RPE + η_R (|δ2| − Ω_RPE);     χ_MF = 1 − Ω_RPE
    unfamiliarity = 1 − F(s2);  F(s2) ← F(s2) + κ (1 − F(s2))
    ν ← ν + κ (surprise + unfamiliarity − ν)

T(a) is the learned probability that action a leads to state a. Initial values:
T(a) = p_common (the instructed structure), Ω_SPE = 2 p_common (1 − p_common)
(the expected SPE under it), Ω_RPE = 0.5, ν = 0, F = 1 (known states), w = w0.
On ``new_states`` trials Q2 = 0 and F = 0.

**Missed trials** (replays of observed data pass the masks; see
:mod:`cogarb._kernels.hybrid` for the output codes), exactly as the likelihood
(:mod:`.arbitrator_loglik`):

* *fully missed* (no first-stage choice): nothing happens: no step of w, no
  transition learning, no reliability, familiarity or novelty update (a
  ``new_states`` event on the trial still resets Q2 and F).
* *half-missed* (first-stage choice and transition made, no second-stage
  response): w steps, the first-stage choice is made and the transition
  observed, and the agent learns what it observed, the second-stage state it
  was shown: the transition model T(a1), the state-prediction error's
  reliability Ω_SPE (and so χ_MB), the familiarity F(s2) of the state shown, and
  the novelty ν (driven by the SPE's surprise and that unfamiliarity). Nothing
  that needs the second-stage choice or the reward is applied: no δ1, δ2, no
  value (TD) update, no Ω_RPE update. The perseveration reference becomes a1.
"""

import math

import numpy as np
from numba import njit, prange

from cogarb._kernels.hybrid import N_STATE, logistic, play_trial, skip_trial, td_update

PARAMETER_ORDER = (
    "alpha1", "alpha2", "lambda", "beta1", "beta2", "p",
    "eta_T", "eta_R", "A_mf_mb", "A_mb_mf", "B_mf_mb", "B_mb_mf",
    "kappa", "zeta", "cost", "w0",
)  # fmt: skip

INTERNALS = (
    "q_mf_0", "q_mf_1", "q_mb_0", "q_mb_1",
    "q2_00", "q2_01", "q2_10", "q2_11",
    "w", "prob_choice1", "prob_choice2", "delta1", "delta2",
    "w_star", "chi_mb", "chi_mf", "novelty", "spe", "t_common_0", "t_common_1",
)  # fmt: skip


@njit(cache=True, error_model="numpy")
def arbitration_rates(
    chi_mf, chi_mb, novelty, load, a_mf_mb, a_mb_mf, b_mf_mb, b_mb_mf, zeta, cost
):
    """Transition rates (MF → MB, MB → MF) of the two-state arbitration dynamics.

    Returns (rate_mf_mb, rate_mb_mf, s_mf, s_mb), the rates and their logistic
    factors (rate = A s), which the likelihood's gradient reuses.
    """
    s_mf = logistic(zeta * novelty - b_mf_mb * chi_mf)
    s_mb = logistic(cost * load - b_mb_mf * chi_mb - zeta * novelty)
    return a_mf_mb * s_mf, a_mb_mf * s_mb, s_mf, s_mb


@njit(cache=True, error_model="numpy")
def weight_step(w, rate_mf_mb, rate_mb_mf):
    """One trial of dw/dt = rate_mf_mb (1 − w) − rate_mb_mf w, solved exactly.

    Returns (new w, fixed point w*, decay exp(−(rate_mf_mb + rate_mb_mf))). With
    both rates zero, w stays where it is.
    """
    total = rate_mf_mb + rate_mb_mf
    if total <= 0.0:
        return w, w, 1.0
    w_star = rate_mf_mb / total
    decay = math.exp(-total)
    return w_star + (w - w_star) * decay, w_star, decay


@njit(cache=True, error_model="numpy")
def simulate_participant(
    theta, reward_prob, load, reversed_, new_states, missed, stage2_missed, p_common,
    uniforms, choice1, state2, choice2, reward, common, internals, record,
):  # fmt: skip
    """Simulate one participant of the arbitrator (arguments as the hybrid's)."""
    alpha1, alpha2, lam, beta1, beta2, p = (
        theta[0],
        theta[1],
        theta[2],
        theta[3],
        theta[4],
        theta[5],
    )
    eta_t, eta_r, a_mf_mb, a_mb_mf, b_mf_mb, b_mb_mf = (
        theta[6], theta[7], theta[8], theta[9], theta[10], theta[11]
    )  # fmt: skip
    kappa, zeta, cost, w = theta[12], theta[13], theta[14], theta[15]
    state = np.zeros(N_STATE)
    t_common = np.full(2, p_common)
    familiarity = np.ones(2)
    omega_spe = 2.0 * p_common * (1.0 - p_common)
    omega_rpe = 0.5
    novelty = 0.0
    previous = -1
    for t in range(uniforms.shape[0]):
        if new_states[t]:
            state[2:] = 0.0
            familiarity[:] = 0.0
        stage2 = not stage2_missed[t]
        if missed[t] and stage2:
            skip_trial(t, choice1, state2, choice2, reward, common, internals, record)
            continue
        chi_mb, chi_mf = 1.0 - omega_spe, 1.0 - omega_rpe
        rate_mf_mb, rate_mb_mf, _s_mf, _s_mb = arbitration_rates(
            chi_mf, chi_mb, novelty, load[t], a_mf_mb, a_mb_mf, b_mf_mb, b_mb_mf, zeta, cost
        )
        w, w_star, _decay = weight_step(w, rate_mf_mb, rate_mb_mf)
        a1, s2, a2, r = play_trial(
            state, t_common[0], t_common[1], w, beta1, beta2, p, previous, reversed_[t],
            p_common, uniforms[t], reward_prob[t], t, choice1, state2, choice2, reward, common,
            internals, record, stage2,
        )  # fmt: skip
        if record:
            internals[t, 13] = w_star
            internals[t, 14] = chi_mb
            internals[t, 15] = chi_mf
            internals[t, 16] = novelty
            internals[t, 18] = t_common[0]
            internals[t, 19] = t_common[1]
        # transition model and model-based reliability
        to_destination = s2 == a1
        spe = 1.0 - t_common[a1] if to_destination else t_common[a1]
        surprise = max(0.0, spe - omega_spe)
        omega_spe += eta_r * (spe - omega_spe)
        target = 1.0 if to_destination else 0.0
        t_common[a1] += eta_t * (target - t_common[a1])
        # values and model-free reliability: only with a second-stage choice and reward
        if stage2:
            d1, d2 = td_update(state, a1, s2, a2, r, alpha1, alpha2, lam)
            omega_rpe += eta_r * (abs(d2) - omega_rpe)
        else:
            d1 = d2 = np.nan
        # novelty
        unfamiliarity = 1.0 - familiarity[s2]
        familiarity[s2] += kappa * (1.0 - familiarity[s2])
        novelty += kappa * (surprise + unfamiliarity - novelty)
        if record:
            internals[t, 11] = d1
            internals[t, 12] = d2
            internals[t, 17] = spe
        previous = a1


@njit(cache=True, parallel=True, error_model="numpy")
def simulate_cohort(
    thetas, reward_prob, schedule_index, load, load_index, reversed_, new_states,
    p_common, uniforms, choice1, state2, choice2, reward, common, internals, record,
):  # fmt: skip
    """Simulate ``thetas.shape[0]`` arbitrators in parallel (arguments as the hybrid's)."""
    no_miss = np.zeros(uniforms.shape[1], np.bool_)
    for i in prange(thetas.shape[0]):
        simulate_participant(
            thetas[i], reward_prob[schedule_index[i]], load[load_index[i]], reversed_,
            new_states, no_miss, no_miss, p_common, uniforms[i],
            choice1[i], state2[i], choice2[i], reward[i], common[i], internals[i], record,
        )  # fmt: skip
