"""Batched episode sampler: N episodes at once, a loop over time steps only.

At each step only the episodes still running are advanced (an inverse-CDF draw of the action from
pi(.|s) and of the next state from P[s, a, .]); most FrozenLake episodes end within a few steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_count, as_policy_matrix, as_rng
from .exact import _check_mdp
from .mdp import TabularMDP


@dataclass(frozen=True)
class Episodes:
    """A batch of N episodes cut at horizon T; every array is (N, T).

    states[n, t], actions[n, t], rewards[n, t] = r(s_t, a_t), next_states[n, t] = s_{t+1};
    mask[n, t] = 1.0 for a real step, 0.0 after the episode has ended;
    terminated[n, t] True where step t entered a terminal state (no bootstrap: V(terminal) = 0);
    truncated[n, t] True at the last step t = T - 1 of an episode still running at the horizon
    (bootstrap from V(next_state)). Never both. After the end: states = next_states = the last state,
    actions 0, rewards 0, mask 0.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    mask: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray

    @property
    def n_episodes(self) -> int:
        return self.states.shape[0]

    @property
    def horizon(self) -> int:
        return self.states.shape[1]

    @property
    def lengths(self) -> np.ndarray:
        """(N,) number of real steps of each episode."""
        return self.mask.sum(axis=1).astype(int)

    def __repr__(self) -> str:
        return (f"Episodes(N={self.n_episodes}, T={self.horizon}, mean length={self.lengths.mean():.2f}, "
                f"terminated={int(self.terminated.sum())}, truncated={int(self.truncated.sum())})")


def _draw(cdf_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse CDF: the first index j with u < cdf[j], for each row (clipped against round-off)."""
    return np.minimum((cdf_rows <= u[:, None]).sum(axis=1), cdf_rows.shape[1] - 1)


def sample_episodes(mdp: TabularMDP, pi, n_episodes: int, horizon: int, rng) -> Episodes:
    """Sample N = n_episodes episodes of at most T = horizon steps under pi (S, A); s_0 ~ mu.

    An episode ends when it enters a terminal state (terminated) or reaches the horizon (truncated).
    Vectorised over episodes (no Python loop over episodes); rng is a numpy.random.Generator.
    """
    mdp = _check_mdp(mdp)
    pi = as_policy_matrix(pi, mdp.S, mdp.A)
    N = as_count(n_episodes, "n_episodes")
    T = as_count(horizon, "horizon")
    rng = as_rng(rng)
    term = mdp.terminal
    pi_cdf = np.cumsum(pi, axis=1)
    P_cdf = np.cumsum(mdp.P, axis=2)
    R = mdp.R

    states = np.empty((N, T), dtype=np.int64)
    actions = np.zeros((N, T), dtype=np.int64)
    rewards = np.zeros((N, T))
    next_states = np.empty((N, T), dtype=np.int64)
    mask = np.zeros((N, T))
    terminated = np.zeros((N, T), dtype=bool)
    truncated = np.zeros((N, T), dtype=bool)

    s = _draw(np.cumsum(mdp.mu)[None, :], rng.random(N))
    idx = np.flatnonzero(~term[s])  # episodes still running
    for t in range(T):
        states[:, t] = s
        next_states[:, t] = s
        if idx.size == 0:
            continue
        cur = s[idx]
        a = _draw(pi_cdf[cur], rng.random(idx.size))
        nxt = _draw(P_cdf[cur, a], rng.random(idx.size))
        actions[idx, t] = a
        rewards[idx, t] = R[cur, a]
        next_states[idx, t] = nxt
        mask[idx, t] = 1.0
        ended = term[nxt]
        terminated[idx, t] = ended
        s[idx] = nxt
        idx = idx[~ended]
    truncated[idx, T - 1] = True
    return Episodes(states, actions, rewards, next_states, mask, terminated, truncated)


def visitation_frequencies(episodes: Episodes, S: int, gamma: float | None = None) -> np.ndarray:
    """(S,) state frequencies over the real steps, discounted by gamma^t if gamma is given, normalised to
    sum 1. With gamma and long enough episodes this estimates d^pi (evaluate(...).d)."""
    from ._validate import as_gamma
    S = as_count(S, "S")
    if not isinstance(episodes, Episodes):
        raise TypeError(f"episodes must be Episodes, got {type(episodes).__name__}")
    w = episodes.mask.copy()
    if gamma is not None:
        w *= as_gamma(gamma) ** np.arange(episodes.horizon)
    counts = np.bincount(episodes.states.ravel(), weights=w.ravel(), minlength=S)
    if counts.size > S:
        raise ValueError(f"S = {S} but episodes visit state {counts.size - 1}")
    return counts / counts.sum()
