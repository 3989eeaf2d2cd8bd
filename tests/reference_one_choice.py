"""Plain-Python reference for two-step tasks without a second-stage choice.

Written from the equations (Kool, Cushman & Gershman 2016; Akam, Costa & Dayan
2015) with Python floats, lists and dicts, sharing no code with
``cogarb._kernels.one_choice``. The transition matrix is built explicitly as
T[a][s] and the choice probability is a two-option softmax with direct
exponentials, as the papers write them. The simulator consumes the same uniform
draws as the kernel (choice, transition, reward per trial).

The weight ``w`` is ``w_load`` on trials whose ``condition`` is 1 and
``w_noload`` otherwise (a single ``w`` in ``params`` serves for both).

Missed trials, as in ``reference.py``: a fully missed trial (``missed`` and not
``stage2_missed``) changes nothing; a half-missed one (choice and transition
made, the reward not collected) gives log P(choice1), makes that choice the
perseveration reference and learns nothing. Written with ``exp``/``log`` from
``dual.py``, so the log-likelihood runs on dual numbers for its exact gradient.
"""

from dual import exp, log

NAN = float("nan")

PARAMETERS = ("alpha1", "alpha2", "lambda", "beta1", "p", "w_noload", "w_load")


def softmax_probs(logits):
    """Softmax over a list of logits (shifted by their maximum)."""
    m = max(logits)
    e = [exp(x - m) for x in logits]
    total = e[0] + e[1]
    return [v / total for v in e]


def log_softmax(logits, k):
    """log of the softmax probability of option ``k``."""
    m = max(logits)
    return (logits[k] - m) - log(exp(logits[0] - m) + exp(logits[1] - m))


def transition_matrix(p_common, reversed_):
    """T[a][s] = P(second-stage state s | first-stage action a)."""
    T = [[p_common, 1 - p_common], [1 - p_common, p_common]]
    if reversed_:
        T = [[T[a][1 - s] for s in (0, 1)] for a in (0, 1)]
    return T


class Agent:
    """The hybrid without a second-stage choice, one participant."""

    def __init__(self, params, p_common, stick_within_state):
        self.params = dict(params)
        self.p_common = p_common
        self.stick_within_state = stick_within_state
        self.q_mf = {(s1, a): 0.0 for s1 in (0, 1) for a in (0, 1)}
        self.q2 = {0: 0.0, 1: 0.0}
        self.last = None  # (state1, choice1) of the last choice made

    def model_based(self, reversed_):
        T = transition_matrix(self.p_common, reversed_)
        return [sum(T[a][s] * self.q2[s] for s in (0, 1)) for a in (0, 1)]

    def weight(self, condition):
        if "w" in self.params:
            return self.params["w"]
        return self.params["w_load"] if condition else self.params["w_noload"]

    def choice_logits(self, state1, reversed_, condition=0):
        """The logits of a1 = 0, 1 in ``state1``, with Q_MB."""
        w, beta1, pers = self.weight(condition), self.params["beta1"], self.params["p"]
        q_mb = self.model_based(reversed_)
        bonus = [0.0, 0.0]
        if self.last is not None:
            last_state1, last_choice1 = self.last
            if not (self.stick_within_state and last_state1 != state1):
                bonus[last_choice1] = 1.0
        logits = [
            beta1 * (w * q_mb[a] + (1 - w) * self.q_mf[(state1, a)] + pers * bonus[a])
            for a in (0, 1)
        ]
        return logits, q_mb

    def choice_probs(self, state1, reversed_, condition=0):
        """P(a1 = 0), P(a1 = 1) in ``state1``, with Q_MB."""
        logits, q_mb = self.choice_logits(state1, reversed_, condition)
        return softmax_probs(logits), q_mb

    def learn(self, state1, choice1, state2, reward):
        alpha1, alpha2 = self.params["alpha1"], self.params["alpha2"]
        lam = self.params["lambda"]
        delta1 = self.q2[state2] - self.q_mf[(state1, choice1)]
        delta2 = reward - self.q2[state2]
        self.q_mf[(state1, choice1)] = (
            self.q_mf[(state1, choice1)] + alpha1 * delta1 + alpha1 * lam * delta2
        )
        self.q2[state2] = self.q2[state2] + alpha2 * delta2
        self.last = (state1, choice1)
        return delta1, delta2


def simulate(params, state1, payoff, bernoulli, reversed_, p_common, stick_within_state, uniforms,
             condition=None, missed=None, stage2_missed=None):  # fmt: skip
    """Simulate one participant; returns a list of dicts, one per trial.

    ``missed``/``stage2_missed`` are a replay's masks (see the module docstring).
    """
    agent = Agent(params, p_common, stick_within_state)
    condition = condition or [0] * len(uniforms)
    missed = missed or [False] * len(uniforms)
    stage2_missed = stage2_missed or [False] * len(uniforms)
    rows = []
    for t, (u_choice, u_transition, u_reward) in enumerate(uniforms):
        if missed[t] and not stage2_missed[t]:
            row = {c: NAN for c in ("q_mf_0", "q_mf_1", "q_mb_0", "q_mb_1", "q2_0", "q2_1",
                                    "prob_choice1", "delta1", "delta2")}  # fmt: skip
            row.update(choice1=-1, state2=-1, reward=NAN, common=False)
            rows.append(row)
            continue
        s1 = state1[t]
        probs, q_mb = agent.choice_probs(s1, reversed_[t], condition[t])
        a1 = 1 if u_choice < probs[1] else 0
        # the common destination of a1 is a1, or 1 - a1 under reversed transitions;
        # it is reached when the transition draw is below p_common
        destination = 1 - a1 if reversed_[t] else a1
        common = u_transition < p_common
        s2 = destination if common else 1 - destination
        if stage2_missed[t]:
            r = NAN  # the reward was not collected
        elif bernoulli:
            r = 1.0 if u_reward < payoff[t][s2] else 0.0
        else:
            r = payoff[t][s2]
        row = dict(
            choice1=a1,
            state2=s2,
            reward=r,
            common=common,
            q_mf_0=agent.q_mf[(s1, 0)],
            q_mf_1=agent.q_mf[(s1, 1)],
            q_mb_0=q_mb[0],
            q_mb_1=q_mb[1],
            q2_0=agent.q2[0],
            q2_1=agent.q2[1],
            prob_choice1=probs[a1],
        )
        if stage2_missed[t]:
            row["delta1"], row["delta2"] = NAN, NAN
            agent.last = (s1, a1)
        else:
            row["delta1"], row["delta2"] = agent.learn(s1, a1, s2, r)
        rows.append(row)
    return rows


def loglik(params, state1, choice1, state2, reward, reversed_, missed, p_common,
           stick_within_state, condition=None, stage2_missed=None):  # fmt: skip
    """Per-trial log P(choice1): 0 on fully missed trials, which change nothing;
    half-missed ones (``stage2_missed``) keep their term and learn nothing."""
    agent = Agent(params, p_common, stick_within_state)
    condition = condition or [0] * len(choice1)
    stage2_missed = stage2_missed or [False] * len(choice1)
    out = []
    for t in range(len(choice1)):
        if missed[t] and not stage2_missed[t]:
            out.append(0.0)
            continue
        logits, _ = agent.choice_logits(state1[t], reversed_[t], condition[t])
        out.append(log_softmax(logits, choice1[t]))
        if stage2_missed[t]:
            agent.last = (state1[t], choice1[t])
        else:
            agent.learn(state1[t], choice1[t], state2[t], reward[t])
    return out
