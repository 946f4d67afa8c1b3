"""Random test problems shared by the checkers (role 1, trusted): MDPs, policies, episode batches, critics.

Every draw comes from the generator passed in, so a checker's cases are a function of its seed.
"""
from __future__ import annotations

import numpy as np

from ..mdp import TabularMDP, random_mdp
from ..policies import SoftmaxPolicy, softmax
from ..sampling import Episodes, sample_episodes

BOOT_TERMINAL = ("bootstrapping from a terminal state: after termination the future is worth 0, whatever "
                 "V holds there (here V(terminal) is not 0). Use (1 - terminated_t).")
NO_BOOT_TRUNC = ("no bootstrap on truncation: an episode cut at the horizon did not end, its future is "
                 "worth V(s_{t+1}); only termination drops that term.")
STABLE = ("softmax unstable for large logits: exp(1000) overflows to inf and inf/inf is NaN. Subtract each "
          "row's largest logit before exponentiating (it cancels in the ratio).")


def mdp(rng, *, S=None, A=None, gamma=None, n_terminal=0) -> TabularMDP:
    """A random MDP with S in 4..6, A in {2, 3}, gamma in {0.7, 0.8, 0.9} unless given."""
    S = int(rng.integers(4, 7)) if S is None else S
    A = (2 if S % 2 == 0 else 3) if A is None else A
    gamma = float(rng.choice([0.7, 0.8, 0.9])) if gamma is None else gamma
    return random_mdp(S, A, gamma, rng, n_terminal=n_terminal)


def pi(rng, S, A) -> np.ndarray:
    """A random stochastic policy pi (S, A)."""
    return softmax(rng.normal(size=(S, A)), axis=1)


def describe(m: TabularMDP) -> str:
    t = f", {int(m.terminal.sum())} terminal state" if m.episodic else ""
    return f"random MDP with S={m.S}, A={m.A}, gamma={m.gamma:g}{t}"


def copy_episodes(ep: Episodes) -> Episodes:
    return Episodes(**{k: np.array(getattr(ep, k)) for k in ep.__dataclass_fields__})


def reorder(ep: Episodes, order) -> Episodes:
    return Episodes(**{k: np.array(getattr(ep, k))[order] for k in ep.__dataclass_fields__})


def episodes(rng, m, p, N, T):
    """A batch with both endings (so that each typical mistake changes the answer), or None when ten draws
    on this MDP fail to give one (then the caller draws another MDP)."""
    for _ in range(10):
        ep = sample_episodes(m, p, N, T, rng)
        if ep.truncated.any() and ep.terminated.any():
            return ep
    return None


def critic(rng, S) -> np.ndarray:
    """A critic with nonzero values everywhere, terminal states included (to expose bootstrapping from them)."""
    return rng.normal(size=S) + np.sign(rng.normal(size=S)) * 0.5


def td_case(rng, N=40, T=12):
    """(mdp, pi, episodes, V, description) with an episodic MDP and both endings in the batch."""
    ep = None
    while ep is None:
        m = mdp(rng, gamma=float(rng.choice([0.8, 0.9])), n_terminal=1)
        p = pi(rng, m.S, m.A)
        ep = episodes(rng, m, p, N, T)
    return m, p, ep, critic(rng, m.S), f"{describe(m)}, N={N} episodes, T={T}, V nonzero everywhere"


def pg_case(rng, tabular: bool, N=30, T=15):
    """(mdp, policy, theta, episodes, description) for the REINFORCE checkers."""
    ep = None
    while ep is None:
        m = mdp(rng, gamma=0.9, n_terminal=1)
        if tabular:
            pol = SoftmaxPolicy.tabular(m.S, m.A)
            theta = rng.normal(size=(m.S, m.A))
        else:
            K = 4
            pol = SoftmaxPolicy(rng.normal(size=(m.S, m.A, K)))
            theta = rng.normal(size=K)
        ep = episodes(rng, m, pol.probs(theta), N, T)
    kind = "tabular" if tabular else f"linear (K={pol.theta_shape[0]})"
    return m, pol, theta, ep, f"{describe(m)}, {kind} softmax, N={N} episodes, T={T}"
