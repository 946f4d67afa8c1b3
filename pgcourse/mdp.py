"""The tabular Markov decision process (S states, A actions) that every exact computation stands on.

Notation (the course's): P[s, a, s'] transitions, R[s, a] expected reward r(s, a), mu start distribution,
gamma discount, terminal states absorbing with zero reward.
"""
from __future__ import annotations

import numpy as np

from ._validate import as_count, as_float_array, as_gamma, as_policy_matrix, as_rng

_TOL = 1e-8


class TabularMDP:
    """A finite MDP (P, R, mu, gamma, terminal).

    P: (S, A, S) with P[s, a, s'] = Pr(s_{t+1} = s' | s_t = s, a_t = a); rows sum to 1.
    R: (S, A) expected reward r(s, a), earned on every transition (also the one entering a terminal state).
    mu: (S,) start distribution. gamma: discount in [0, 1].
    terminal: (S,) bool or None. Terminal states are absorbing and pay 0: an episode ends on entering one.

    gamma = 1 is allowed only for episodic problems; `evaluate` then checks that under the policy every
    non-terminal state can reach a terminal state.
    The arrays are read-only copies: an MDP never changes after construction.
    """

    def __init__(self, P, R, mu, gamma, terminal=None):
        P = as_float_array(P, "P", ndim=3)
        S, A, S2 = P.shape
        if S == 0 or A == 0:
            raise ValueError(f"P must have at least one state and one action, got shape {P.shape}")
        if S2 != S:
            raise ValueError(f"P must have shape (S, A, S), got {P.shape}: last axis {S2} != first axis {S}")
        if P.min() < 0:
            idx = np.unravel_index(np.argmin(P), P.shape)
            raise ValueError(f"P has a negative probability P{tuple(int(i) for i in idx)} = {P.min():.3g}")
        sums = P.sum(axis=2)
        bad = np.abs(sums - 1.0) > 1e-6
        if bad.any():
            s, a = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"P[s, a] must sum to 1 over s': P[{s}, {a}] sums to {sums[s, a]:.6g}")
        R = as_float_array(R, "R", shape=(S, A))
        mu = as_float_array(mu, "mu", shape=(S,))
        if mu.min() < 0:
            raise ValueError(f"mu must be a distribution: it has a negative entry ({mu.min():.3g})")
        if abs(mu.sum() - 1.0) > 1e-6:
            raise ValueError(f"mu must be a distribution: it sums to {mu.sum():.6g}, not 1")
        gamma = as_gamma(gamma)
        if terminal is None:
            term = np.zeros(S, dtype=bool)
        else:
            term = np.asarray(terminal)
            if term.dtype != bool:
                raise TypeError(f"terminal must be a bool array of shape ({S},) or None, got dtype {term.dtype}")
            if term.shape != (S,):
                raise ValueError(f"terminal must have shape ({S},), got {term.shape}")
            for s in np.flatnonzero(term):
                if abs(P[s, :, s] - 1.0).max() > 1e-6:
                    raise ValueError(f"terminal state {s} must be absorbing: P[{s}, a, {s}] must be 1 for every a")
                if np.abs(R[s]).max() > 0:
                    raise ValueError(f"terminal state {s} must pay zero reward: R[{s}] = {R[s]}")
            if term.all():
                raise ValueError("terminal marks every state terminal: there is nothing to act in")
            if mu[~term].sum() <= _TOL:
                raise ValueError("mu puts all its mass on terminal states: every episode would be over at t = 0")
        self._P, self._R, self._mu, self._term = (_frozen(x) for x in (P / sums[..., None], R, mu / mu.sum(), term.copy()))
        self._gamma = gamma

    # read-only views ---------------------------------------------------------------------------------
    P = property(lambda self: self._P, doc="(S, A, S) transition probabilities P[s, a, s'].")
    R = property(lambda self: self._R, doc="(S, A) expected rewards r(s, a).")
    mu = property(lambda self: self._mu, doc="(S,) start distribution.")
    terminal = property(lambda self: self._term, doc="(S,) bool: absorbing, zero-reward states.")
    gamma = property(lambda self: self._gamma, doc="discount factor in [0, 1].")
    S = property(lambda self: self._P.shape[0], doc="number of states.")
    A = property(lambda self: self._P.shape[1], doc="number of actions.")

    @property
    def episodic(self) -> bool:
        """True when the MDP has terminal states."""
        return bool(self._term.any())

    def with_gamma(self, gamma) -> "TabularMDP":
        """The same MDP with another discount."""
        return TabularMDP(self._P, self._R, self._mu, gamma, self._term if self.episodic else None)

    def policy_matrices(self, pi):
        """P_pi (S, S) and r_pi (S,) under the policy pi (S, A):
        P_pi[s, s'] = sum_a pi(a|s) P[s, a, s'],  r_pi[s] = sum_a pi(a|s) r(s, a)."""
        pi = as_policy_matrix(pi, self.S, self.A)
        return np.einsum("sa,sat->st", pi, self._P), np.einsum("sa,sa->s", pi, self._R)

    def __repr__(self) -> str:
        t = f", {int(self._term.sum())} terminal" if self.episodic else ""
        return f"TabularMDP(S={self.S}, A={self.A}, gamma={self._gamma}{t})"


def _frozen(x: np.ndarray) -> np.ndarray:
    x = np.array(x, copy=True)
    x.setflags(write=False)
    return x


def random_mdp(S: int, A: int, gamma: float, rng: np.random.Generator, *, n_terminal: int = 0,
               branching: int | None = None) -> TabularMDP:
    """A random MDP for tests and demonstrations: Dirichlet transitions, N(0, 1) rewards, Dirichlet mu.

    branching: number of possible next states per (s, a) (None: all S). n_terminal: the last n_terminal
    states are terminal (absorbing, zero reward); then every non-terminal (s, a) reaches one of them with
    probability >= 0.05, so the MDP is episodic under every policy and gamma may be 1.
    """
    S = as_count(S, "S")
    A = as_count(A, "A")
    gamma = as_gamma(gamma)
    rng = as_rng(rng)
    n_terminal = as_count(n_terminal, "n_terminal", minimum=0)
    if n_terminal >= S:
        raise ValueError(f"n_terminal must be < S = {S}, got {n_terminal}")
    if gamma == 1.0 and n_terminal == 0:
        raise ValueError("gamma = 1 needs terminal states (n_terminal >= 1)")
    k = S if branching is None else as_count(branching, "branching")
    if k > S:
        raise ValueError(f"branching must be <= S = {S}, got {k}")
    P = np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            nxt = rng.choice(S, size=k, replace=False)
            P[s, a, nxt] = rng.dirichlet(np.ones(k))
    R = rng.normal(size=(S, A))
    mu = rng.dirichlet(np.ones(S))
    terminal = None
    if n_terminal:
        terminal = np.zeros(S, dtype=bool)
        terminal[S - n_terminal:] = True
        live = ~terminal
        # every live (s, a) ends the episode with probability at least 0.05
        P[live] *= 0.95
        exit_p = rng.dirichlet(np.ones(n_terminal), size=(int(live.sum()), A)) * 0.05
        P[np.ix_(live, np.arange(A), terminal)] += exit_p
        P[terminal] = 0.0
        for s in np.flatnonzero(terminal):
            P[s, :, s] = 1.0
        R[terminal] = 0.0
        mu[terminal] = 0.0
        mu /= mu.sum()
    return TabularMDP(P, R, mu, gamma, terminal)
