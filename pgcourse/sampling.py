"""Batched episode sampler: N episodes at once, a loop over time steps only.

At each step only the episodes still running are advanced: an inverse-CDF draw of the action from
pi(.|s), then of one outcome (s', r), jointly, from p(s', r | s, a) (the MDP's outcome table), so the
recorded reward is the one the agent receives; most FrozenLake episodes end within a few steps.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ._validate import as_count, as_mdp, as_policy_matrix, as_rng
from .mdp import TabularMDP


@dataclass(frozen=True)
class Episodes:
    """A batch of N episodes cut at horizon T; every array is (N, T).

    states[n, t] = s_t, actions[n, t] = a_t, next_states[n, t] = s_{t+1}, rewards[n, t] = r_{t+1}: the
    reward received on that step, drawn with s_{t+1} from p(s', r | s_t, a_t) (its mean is r(s_t, a_t));
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

    def take(self, idx) -> Episodes:
        """The episodes idx of the batch, every field: idx an int array (or int) of episode indices, a slice,
        or a bool mask (N,). Returns a new Episodes (copies) with N' = the number selected, >= 1."""
        N = self.n_episodes
        if isinstance(idx, slice):
            rows = np.arange(N)[idx]
        else:
            if isinstance(idx, (str, bytes)) or idx is None:
                raise TypeError(f"idx must be episode indices, a slice or a bool mask, got {type(idx).__name__}")
            rows = np.asarray(idx)
            if rows.dtype == bool:
                if rows.shape != (N,):
                    raise ValueError(f"idx as a bool mask must have shape ({N},), got {rows.shape}")
                rows = np.flatnonzero(rows)
            elif np.issubdtype(rows.dtype, np.integer):
                rows = rows.reshape(-1)
                if rows.size and (rows.min() < -N or rows.max() >= N):
                    raise ValueError(f"idx holds an episode index outside [-{N}, {N})")
            else:
                raise TypeError(f"idx must hold integer episode indices or bools, got dtype {rows.dtype}")
        if rows.size == 0:
            raise ValueError("idx selects no episode")
        return Episodes(*(getattr(self, f.name).take(rows, axis=0) for f in fields(self)))

    def head(self, n: int) -> Episodes:
        """The first n episodes (1 <= n <= N), every field."""
        n = as_count(n, "n")
        if n > self.n_episodes:
            raise ValueError(f"n must be <= the number of episodes {self.n_episodes}, got {n}")
        return self.take(slice(0, n))

    def __repr__(self) -> str:
        return (f"Episodes(N={self.n_episodes}, T={self.horizon}, mean length={self.lengths.mean():.2f}, "
                f"terminated={int(self.terminated.sum())}, truncated={int(self.truncated.sum())})")


_COLUMNWISE = 9  # tables at most this wide are read column by column


def _cdf_table(cdf: np.ndarray):
    """Compress CDF rows (R, k) for exact inverse-CDF draws; returns (w, support (R, w) or None, cuts).

    A draw from row r with u in [0, 1) is the first j with u < cdf[r, j], or k - 1 if there is none
    (round-off). Entries >= 1 (never <= u) and each row's last entry become +inf, which changes no
    comparison; only positions where the CDF strictly increases can then be drawn, so a row keeps those
    (support, in order; None when that is every position) and their CDF values. The last kept value of
    every row is +inf: when w is small it is dropped and cuts is (w - 1, R), read column by column;
    else cuts is (R, w). (A performance device: the draws equal those of the plain inverse CDF.)
    """
    c = np.array(cdf, dtype=float)
    c[c >= 1.0] = np.inf
    c[:, -1] = np.inf
    inc = np.empty(c.shape, dtype=bool)
    inc[:, 0] = c[:, 0] > 0
    np.greater(c[:, 1:], c[:, :-1], out=inc[:, 1:])
    width = inc.sum(axis=1)
    w = int(width.max())
    if w == c.shape[1]:
        support, vals = None, c
    else:
        r, j = np.nonzero(inc)
        pos = np.arange(r.size) - np.repeat(np.cumsum(width) - width, width)
        support = np.full((c.shape[0], w), c.shape[1] - 1)
        support[r, pos] = j
        vals = np.full((c.shape[0], w), np.inf)
        vals[r, pos] = c[r, j]
    cuts = vals[:, :-1].T if w <= _COLUMNWISE else vals
    return w, support, np.ascontiguousarray(cuts)


def _draw(table, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws from the rows `rows` (n,) of a `_cdf_table`, with uniforms u (n,): (n,) indices."""
    w, support, cuts = table
    if w == 1:
        return support[:, 0].take(rows) if support is not None else np.zeros(rows.shape, dtype=np.intp)
    j = _draw_kept(w, cuts, rows, u)
    return j if support is None else support.ravel().take(rows * w + j)


def _draw_kept(w: int, cuts: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """(n,) positions among the kept columns (0 .. w-1, w >= 2) of the inverse-CDF draws."""
    if w <= _COLUMNWISE:  # count the cuts <= u column by column: no (n, w) temporaries
        j = (cuts[0].take(rows) <= u).astype(np.intp)
        for col in cuts[1:]:
            j += col.take(rows) <= u
        return j
    return (cuts.take(rows, axis=0) > u[:, None]).argmax(axis=1)  # the first cut > u (rows end with +inf)


def _draw_flat(table, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Like `_draw` for a table built by `_outcome_table`: (n,) flat positions rows * w + j into its
    (R, w) next-state and reward arrays."""
    w, _, cuts = table
    return rows if w == 1 else rows * w + _draw_kept(w, cuts, rows, u)


def _outcome_table(mdp: TabularMDP):
    """The outcome table of mdp for joint draws of (s', r) given the row s * A + a:
    (table, next (S*A*w,), reward (S*A*w,)), where table is a `_cdf_table` of the outcome CDFs with its
    support folded into next and reward (position k = row * w + j holds the j-th kept outcome of the row).

    Each row's last outcome takes the CDF to +inf (it absorbs round-off; the padding after it is never
    drawn). Outcomes are ordered by (s', r), so for an MDP with one outcome per s' the draws equal the
    inverse-CDF draws of s' from P[s, a, .] with the same uniforms.
    """
    S, A = mdp.S, mdp.A
    prob = mdp.outcome_prob.reshape(S * A, -1)
    M = prob.shape[1]
    cdf = np.cumsum(prob, axis=1)
    last = np.count_nonzero(prob, axis=1) - 1  # outcomes come first, padding (prob 0) after them
    cdf[np.arange(M) >= last[:, None]] = np.inf
    w, support, cuts = _cdf_table(cdf)
    nxt, rew = mdp.outcome_next.reshape(S * A, M), mdp.outcome_reward.reshape(S * A, M)
    if support is not None:
        nxt, rew = np.take_along_axis(nxt, support, axis=1), np.take_along_axis(rew, support, axis=1)
    return (w, None, cuts), np.ascontiguousarray(nxt).ravel(), np.ascontiguousarray(rew).ravel()


def sample_episodes(mdp: TabularMDP, pi, n_episodes: int, horizon: int, rng) -> Episodes:
    """Sample N = n_episodes episodes of at most T = horizon steps under pi (S, A); s_0 ~ mu.

    An episode ends when it enters a terminal state (terminated) or reaches the horizon (truncated).
    Vectorised over episodes (no Python loop over episodes); rng is a numpy.random.Generator.
    """
    mdp = as_mdp(mdp)
    pi = as_policy_matrix(pi, mdp.S, mdp.A)
    N = as_count(n_episodes, "n_episodes")
    T = as_count(horizon, "horizon")
    rng = as_rng(rng)
    A = mdp.A
    term = mdp.terminal
    pi_table = _cdf_table(np.cumsum(pi, axis=1))
    out_table, out_next, out_reward = _outcome_table(mdp)

    actions = np.zeros((N, T), dtype=np.int64)
    rewards = np.zeros((N, T))
    terminated = np.zeros((N, T), dtype=bool)
    truncated = np.zeros((N, T), dtype=bool)
    flat_actions, flat_rewards = actions.reshape(-1), rewards.reshape(-1)
    length = np.zeros(N, dtype=np.intp)  # real steps of each episode
    steps, moves = [], []  # per step: flat positions n * T + t of the real steps, and s_{t+1} there

    mu_cdf = np.cumsum(mdp.mu)
    mu_cdf[mu_cdf >= 1.0] = np.inf
    mu_cdf[-1] = np.inf
    s0 = np.searchsorted(mu_cdf, rng.random(N), side="right").astype(np.int64, copy=False)
    s = s0.copy()  # the state each episode is in at its end
    idx = np.flatnonzero(~term[s0])  # episodes still running
    cur = s0[idx]  # their current states
    for t in range(T):
        if idx.size == 0:
            break
        a = _draw(pi_table, cur, rng.random(idx.size))
        sa = cur * A + a
        k = _draw_flat(out_table, sa, rng.random(idx.size))  # the outcome (s', r), jointly
        nxt = out_next.take(k)
        at = idx * T + t
        flat_actions[at] = a
        flat_rewards[at] = out_reward.take(k)
        steps.append(at)
        moves.append(nxt)
        ended = term.take(nxt)
        if ended.any():
            done = idx[ended]
            terminated[done, t] = True
            length[done] = t + 1
            s[done] = nxt[ended]
            idx, cur = idx[~ended], nxt[~ended]
        else:
            cur = nxt
    length[idx] = T
    s[idx] = cur
    truncated[idx, T - 1] = True
    # after its end an episode stays in its last state: fill with it, then write the real steps over it
    states = np.repeat(s, T).reshape(N, T)
    next_states = np.repeat(s, T).reshape(N, T)
    if steps:
        at, nxt = np.concatenate(steps), np.concatenate(moves)
        next_states.reshape(-1)[at] = nxt
        k = sum(x.size for x in steps[:T - 1])  # s_{t+1} is also states[:, t + 1] when t + 1 < T
        states.reshape(-1)[at[:k] + 1] = nxt[:k]
    states[:, 0] = s0
    mask = np.less(np.arange(T), length[:, None], out=np.empty((N, T)), casting="unsafe")
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
