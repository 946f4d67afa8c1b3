"""The tabular Markov decision process (S states, A actions) that every exact computation stands on.

Notation (the course's, and Sutton & Barto's four-argument dynamics): p(s', r | s, a) is the probability
of moving to s' and receiving reward r; P[s, a, s'] = sum_r p(s', r | s, a) its transitions and
R[s, a] = r(s, a) = E[r | s, a] its expected reward (all the exact machinery needs); mu the start
distribution, gamma the discount, terminal states absorbing with zero reward. The sampler draws (s', r)
jointly from the outcome table, so a sampled reward is one the agent can actually receive.
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

from ._validate import (
    as_count,
    as_float_array,
    as_gamma,
    as_policy_matrix,
    as_rng,
    as_scalar,
)

_TOL = 1e-8
_SUM_TOL = 1e-6  # probabilities summing to within this of 1 are accepted (and renormalised)


class TabularMDP:
    """A finite MDP with dynamics p(s', r | s, a), start distribution mu, discount gamma, terminal states.

    TabularMDP(P, R, mu, gamma, terminal=None):
    P: (S, A, S) with P[s, a, s'] = Pr(s_{t+1} = s' | s_t = s, a_t = a); rows sum to 1.
    R: (S, A) reward r(s, a) paid on every step from (s, a) whatever the outcome, or
       (S, A, S) reward r(s, a, s') paid on the step from (s, a) to s' (entries where P = 0 are ignored).
    mu: (S,) start distribution. gamma: discount in [0, 1].
    terminal: (S,) bool or None. Terminal states are absorbing and pay 0: an episode ends on entering one
    (the step that enters it pays its reward as usual).
    `TabularMDP.from_outcomes(S, A, outcomes, mu, gamma, terminal)` builds one from a list of
    (prob, next_state, reward) outcomes per (s, a), when two outcomes share s' but pay differently.

    Fields (read-only arrays; an MDP never changes after construction):
    P (S, A, S) = sum_r p(s', r | s, a); R (S, A) expected reward r(s, a) = sum_{s', r} p(s', r | s, a) r;
    mu (S,); terminal (S,) bool; gamma; S; A.
    The outcome table, each (s, a) padded with probability-0 entries to M = the largest number of outcomes
    of any (s, a) (built on first use):
    outcome_next (S, A, M) int s', outcome_prob (S, A, M) p(s', r | s, a), outcome_reward (S, A, M) r.
    Outcomes of each (s, a) come first, ordered by (s', r); a terminal state has the single outcome
    (itself, reward 0).

    gamma = 1 is allowed only for episodic problems; `evaluate` then checks that under the policy every
    non-terminal state can reach a terminal state.
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
        bad = np.abs(sums - 1.0) > _SUM_TOL
        if bad.any():
            s, a = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"P[s, a] must sum to 1 over s': P[{s}, {a}] sums to {sums[s, a]:.6g}")
        R = as_float_array(R, "R")
        if R.shape not in ((S, A), (S, A, S)):
            raise ValueError(f"R must have shape (S, A) = ({S}, {A}) or (S, A, S) = ({S}, {A}, {S}), got {R.shape}")
        P = P / sums[..., None]
        if R.ndim == 2:
            R_exp = R_out = R
        else:
            R_out = np.where(P > 0, R, 0.0)  # rewards of impossible transitions play no part
            R_exp = np.einsum("sat,sat->sa", P, R_out)
        mu = _as_start_distribution(mu, S)
        gamma = as_gamma(gamma)
        term = _terminal_array(terminal, S)
        for s in np.flatnonzero(term):
            if abs(P[s, :, s] - 1.0).max() > 1e-6:
                raise ValueError(f"terminal state {s} must be absorbing: P[{s}, a, {s}] must be 1 for every a")
            if np.abs(R_out[s]).max() > 0:
                raise ValueError(f"terminal state {s} must pay zero reward: R[{s}] = {R_out[s]}")
        _check_something_to_do(mu, term)
        self._set(P, R_exp, mu, gamma, term, rewards_by_outcome=None if R.ndim == 2 else R_out)

    @classmethod
    def from_outcomes(cls, S, A, outcomes, mu, gamma, terminal=None) -> TabularMDP:
        """A TabularMDP from its outcome lists: outcomes[s][a] is a list of (prob, next_state, reward),
        the four-argument dynamics p(s', r | s, a) (gymnasium's `env.unwrapped.P` table without its
        `terminated` flag). Several entries may share next_state and pay differently; entries with equal
        (next_state, reward) are merged (their probabilities added), zero-probability entries dropped,
        and each list's probabilities, which must sum to 1, renormalised.
        outcomes: a sequence (or dict keyed 0..S-1) of S sequences of A lists. mu, gamma, terminal as for
        TabularMDP; a terminal state's outcomes must all be (prob, itself, 0).
        """
        S = as_count(S, "S")
        A = as_count(A, "A")
        rows = _outcome_rows(outcomes, S, A)
        mu = _as_start_distribution(mu, S)
        gamma = as_gamma(gamma)
        term = _terminal_array(terminal, S)
        for s in np.flatnonzero(term):
            for a in range(A):
                if any(nxt != s or r != 0.0 for nxt, r, _ in rows[s][a]):
                    raise ValueError(f"terminal state {s} must be absorbing with zero reward: outcomes[{s}][{a}] "
                                     f"must be [(1.0, {s}, 0.0)], got {_show(rows[s][a])}")
        _check_something_to_do(mu, term)
        arrays = _pack(rows, S, A)
        nxt, prob, rew = arrays
        P = np.zeros((S, A, S))
        si, ai = np.indices(nxt.shape[:2])
        for m in range(nxt.shape[2]):
            np.add.at(P, (si, ai, nxt[:, :, m]), prob[:, :, m])
        R_exp = (prob * rew).sum(axis=2)
        mdp = cls.__new__(cls)
        mdp._set(P, R_exp, mu, gamma, term, outcomes=arrays)
        return mdp

    def _set(self, P, R, mu, gamma, term, outcomes=None, rewards_by_outcome=None) -> None:
        """Store the fields. outcomes: the (next, prob, reward) arrays, or None to build them from P and
        rewards_by_outcome (S, A, S) (None: R) when first asked for."""
        self._P, self._R, self._mu, self._term = (_frozen(x) for x in (P, R, mu, term))
        self._gamma = gamma
        self._outcomes = None if outcomes is None else tuple(_frozen(x) for x in outcomes)
        self._R3 = None if rewards_by_outcome is None else _frozen(rewards_by_outcome)

    # read-only views ---------------------------------------------------------------------------------
    P = property(lambda self: self._P, doc="(S, A, S) transition probabilities P[s, a, s'].")
    R = property(lambda self: self._R, doc="(S, A) expected rewards r(s, a) = E[r | s, a].")
    mu = property(lambda self: self._mu, doc="(S,) start distribution.")
    terminal = property(lambda self: self._term, doc="(S,) bool: absorbing, zero-reward states.")
    gamma = property(lambda self: self._gamma, doc="discount factor in [0, 1].")
    S = property(lambda self: self._P.shape[0], doc="number of states.")
    A = property(lambda self: self._P.shape[1], doc="number of actions.")
    outcome_next = property(lambda self: self._outcome_arrays()[0],
                            doc="(S, A, M) int: next state s' of each outcome (padding: a valid index).")
    outcome_prob = property(lambda self: self._outcome_arrays()[1],
                            doc="(S, A, M): probability p(s', r | s, a) of each outcome (padding: 0).")
    outcome_reward = property(lambda self: self._outcome_arrays()[2],
                              doc="(S, A, M): reward r received with each outcome (padding: 0).")

    def _outcome_arrays(self):
        if self._outcomes is None:
            R = self._R if self._R3 is None else self._R3
            self._outcomes = tuple(_frozen(x) for x in _outcomes_from_matrices(self._P, R))
            self._R3 = None
        return self._outcomes

    def outcomes(self, s: int, a: int) -> list[tuple[float, int, float]]:
        """The outcomes of (s, a) as a list of (prob, next_state, reward), ordered by (next_state, reward)."""
        s = _as_index(s, "s", self.S)
        a = _as_index(a, "a", self.A)
        nxt, prob, rew = (x[s, a] for x in self._outcome_arrays())
        return [(float(p), int(n), float(r)) for p, n, r in zip(prob, nxt, rew, strict=True) if p > 0]

    @property
    def episodic(self) -> bool:
        """True when the MDP has terminal states."""
        return bool(self._term.any())

    def with_gamma(self, gamma) -> TabularMDP:
        """The same MDP (same outcomes, same subclass and layout) with another discount."""
        other = copy.copy(self)
        other._gamma = as_gamma(gamma)
        return other

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


def _as_index(i, name: str, upper: int) -> int:
    if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral):
        raise TypeError(f"{name} must be an integer index, got {type(i).__name__}")
    if not 0 <= int(i) < upper:
        raise ValueError(f"{name} must be in [0, {upper}), got {int(i)}")
    return int(i)


def _terminal_array(terminal, S: int) -> np.ndarray:
    if terminal is None:
        return np.zeros(S, dtype=bool)
    term = np.asarray(terminal)
    if term.dtype != bool:
        raise TypeError(f"terminal must be a bool array of shape ({S},) or None, got dtype {term.dtype}")
    if term.shape != (S,):
        raise ValueError(f"terminal must have shape ({S},), got {term.shape}")
    return term.copy()


def _as_start_distribution(mu, S: int) -> np.ndarray:
    mu = as_float_array(mu, "mu", shape=(S,))
    if mu.min() < 0:
        raise ValueError(f"mu must be a distribution: it has a negative entry ({mu.min():.3g})")
    if abs(mu.sum() - 1.0) > _SUM_TOL:
        raise ValueError(f"mu must be a distribution: it sums to {mu.sum():.6g}, not 1")
    return mu / mu.sum()


def _check_something_to_do(mu: np.ndarray, term: np.ndarray) -> None:
    if term.any():
        if term.all():
            raise ValueError("terminal marks every state terminal: there is nothing to act in")
        if mu[~term].sum() <= _TOL:
            raise ValueError("mu puts all its mass on terminal states: every episode would be over at t = 0")


def _outcomes_from_matrices(P: np.ndarray, R: np.ndarray):
    """The outcome table of P (S, A, S) (normalised) and R (S, A) or (S, A, S): one outcome per s' with
    P[s, a, s'] > 0, in increasing s', paying R[s, a] or R[s, a, s']."""
    S, A, _ = P.shape
    s_i, a_i, nxt = np.nonzero(P > 0)  # in C order: by (s, a), then increasing s'
    count = np.zeros(S * A, dtype=np.intp)
    np.add.at(count, s_i * A + a_i, 1)
    start = np.cumsum(count) - count
    pos = np.arange(nxt.size) - start[s_i * A + a_i]
    M = int(count.max())
    out_next = np.repeat(nxt[start], M).reshape(S, A, M)  # padding: the first outcome's s'
    out_prob = np.zeros((S, A, M))
    out_reward = np.zeros((S, A, M))
    out_next[s_i, a_i, pos] = nxt
    out_prob[s_i, a_i, pos] = P[s_i, a_i, nxt]
    out_reward[s_i, a_i, pos] = R[s_i, a_i] if R.ndim == 2 else R[s_i, a_i, nxt]
    return out_next, out_prob, out_reward


def _show(row) -> str:
    return "[" + ", ".join(f"({p:.3g}, {n}, {r:.3g})" for n, r, p in row) + "]"


def _outcome_rows(outcomes, S: int, A: int):
    """Validated, merged outcome lists: rows[s][a] = [(next_state, reward, prob), ...] sorted by
    (next_state, reward), probabilities > 0 and summing to 1."""
    if isinstance(outcomes, (str, bytes)) or not hasattr(outcomes, "__getitem__"):
        raise TypeError("outcomes must be a sequence (or dict) of S lists of A outcome lists, "
                        f"got {type(outcomes).__name__}")
    try:
        n = len(outcomes)
    except TypeError:
        raise TypeError(f"outcomes must be a sequence of S = {S} entries, got {type(outcomes).__name__}") from None
    if n != S:
        raise ValueError(f"outcomes must have S = {S} entries (one per state), got {n}")
    rows = []
    for s in range(S):
        try:
            per_state = outcomes[s]
        except (KeyError, IndexError):
            raise ValueError(f"outcomes has no entry for state {s}") from None
        if isinstance(per_state, (str, bytes)) or not hasattr(per_state, "__len__"):
            raise TypeError(f"outcomes[{s}] must hold A = {A} outcome lists, got {type(per_state).__name__}")
        if len(per_state) != A:
            raise ValueError(f"outcomes[{s}] must have A = {A} entries (one per action), got {len(per_state)}")
        rows.append([_merged(per_state[a], f"outcomes[{s}][{a}]", S) for a in range(A)])
    return rows


def _merged(entries, name: str, S: int):
    if isinstance(entries, (str, bytes)) or not hasattr(entries, "__iter__"):
        raise TypeError(f"{name} must be a list of (prob, next_state, reward), got {type(entries).__name__}")
    merged: dict = {}
    total = 0.0
    for k, entry in enumerate(entries):
        where = f"{name}[{k}]"
        if isinstance(entry, (str, bytes)) or not hasattr(entry, "__len__") or len(entry) != 3:
            raise TypeError(f"{where} must be a (prob, next_state, reward) triple, got {entry!r}")
        prob, nxt, reward = entry
        if isinstance(prob, (bool, np.bool_)) or not isinstance(prob, numbers.Real):
            raise TypeError(f"{where}: prob must be a real number, got {type(prob).__name__}")
        if isinstance(nxt, (bool, np.bool_)) or not isinstance(nxt, numbers.Integral):
            raise TypeError(f"{where}: next_state must be an integer, got {type(nxt).__name__}")
        if isinstance(reward, (bool, np.bool_)) or not isinstance(reward, numbers.Real):
            raise TypeError(f"{where}: reward must be a real number, got {type(reward).__name__}")
        prob, nxt, reward = float(prob), int(nxt), float(reward)
        if not np.isfinite(prob) or prob < 0:
            raise ValueError(f"{where}: prob must be a finite number >= 0, got {prob}")
        if not 0 <= nxt < S:
            raise ValueError(f"{where}: next_state must be in [0, {S}), got {nxt}")
        if not np.isfinite(reward):
            raise ValueError(f"{where}: reward must be finite, got {reward}")
        total += prob
        if prob > 0:
            merged[(nxt, reward)] = merged.get((nxt, reward), 0.0) + prob
    if abs(total - 1.0) > _SUM_TOL:
        raise ValueError(f"{name}: the probabilities must sum to 1, they sum to {total:.6g}")
    return [(nxt, r, p / total) for (nxt, r), p in sorted(merged.items())]


def _pack(rows, S: int, A: int):
    """rows[s][a] = [(next_state, reward, prob), ...] as padded (S, A, M) arrays next, prob, reward."""
    M = max(len(row) for per_state in rows for row in per_state)
    out_next = np.zeros((S, A, M), dtype=np.int64)
    out_prob = np.zeros((S, A, M))
    out_reward = np.zeros((S, A, M))
    for s, per_state in enumerate(rows):
        for a, row in enumerate(per_state):
            k = len(row)
            out_next[s, a, :k] = [n for n, _, _ in row]
            out_next[s, a, k:] = row[0][0]
            out_reward[s, a, :k] = [r for _, r, _ in row]
            out_prob[s, a, :k] = [p for _, _, p in row]
    return out_next, out_prob, out_reward


def random_mdp(S: int, A: int, gamma: float, rng: np.random.Generator, *, n_terminal: int = 0,
               branching: int | None = None, reward_noise: float = 0.0) -> TabularMDP:
    """A random MDP for tests and demonstrations: Dirichlet transitions, N(0, 1) rewards, Dirichlet mu.

    branching: number of possible next states per (s, a) (None: all S). n_terminal: the last n_terminal
    states are terminal (absorbing, zero reward); then every non-terminal (s, a) reaches one of them with
    probability >= 0.05, so the MDP is episodic under every policy and gamma may be 1.
    reward_noise: with sigma = reward_noise > 0 the reward depends on the outcome,
    r(s, a, s') = R[s, a] + sigma (z[s, a, s'] - sum_s'' P[s, a, s''] z[s, a, s'']), z ~ N(0, 1), so the
    expected reward is still R[s, a] (up to rounding). z is drawn after everything else: the P, R and mu of
    a seeded call do not depend on reward_noise (and reward_noise = 0 draws nothing more).
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
    sigma = as_scalar(reward_noise, "reward_noise", low=0.0)
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
    if sigma > 0:
        z = rng.normal(size=(S, A, S))
        z -= np.einsum("sat,sat->sa", P, z)[:, :, None]
        R = R[:, :, None] + sigma * z
        if terminal is not None:
            R[terminal] = 0.0
    return TabularMDP(P, R, mu, gamma, terminal)
