"""Sample-based estimators of returns, advantages and the policy gradient; all vectorised over (N, T).

Conventions (the course's): an episode ends by *termination* (it entered a terminal state: V there is 0,
never bootstrap) or by *truncation* at the horizon (bootstrap from V(s_T)). Traces are cut at either.
Every (N, T) output is 0 where mask is 0.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._recursion import scan_blocks
from ._validate import as_count, as_episodes, as_float_array, as_gamma, as_mask, as_scalar, as_softmax_policy, as_values
from .policies import SoftmaxPolicy
from .sampling import Episodes


def discounted_returns(rewards: ArrayLike, gamma: float, mask: ArrayLike | None = None,
                       bootstrap: ArrayLike | None = None) -> np.ndarray:
    """Reward-to-go G_t = sum_{k>=0} gamma^k r_{t+k} within the episode, shape (N, T).

    rewards: (N, T); mask: (N, T) of 0/1 (None: all steps real); bootstrap: optional (N,) values added as
    gamma^(T-t) * bootstrap[n] to the steps of episodes still running at the horizon (mask[n, T-1] = 1).
    Special cases: gamma = 0 gives G_t = r_t; G_0 is the episode's discounted return.
    Computed by the backward recursion G_t = r_t + gamma G_{t+1} (loop over T, vectorised over N).
    """
    r = as_float_array(rewards, "rewards", ndim=2)
    gamma = as_gamma(gamma)
    m = as_mask(mask, r.shape)
    N, T = r.shape
    end = 0.0
    if bootstrap is not None:
        end = as_float_array(bootstrap, "bootstrap", shape=(N,)) * m[:, T - 1]
    return _discounted_returns(r, gamma, m, end)


def _discounted_returns(r: np.ndarray, gamma: float, m: np.ndarray, end=0.0) -> np.ndarray:
    """discounted_returns without validation: the scan x = r * mask, c = gamma, y_end = end, then masked."""

    def fill(i: int, j: int, xb: np.ndarray, cb: None) -> None:
        np.multiply(r[i:j].T, m[i:j].T, out=xb)

    return scan_blocks(r.shape[0], r.shape[1], fill, gamma, end, out_mask=m)


def td_errors(episodes: Episodes, V: ArrayLike, gamma: float) -> np.ndarray:
    """TD errors delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t), shape (N, T).

    V: (S,) state values (the critic). No bootstrap from a terminal next state; bootstrap at truncation.
    Zero where mask is 0. With the true V, E[delta_t | s_t, a_t] = A(s_t, a_t).
    """
    ep = as_episodes(episodes)
    V = as_values(V, ep)
    gamma = as_gamma(gamma)
    return _td_errors(ep, V, gamma)


def _td_errors(ep: Episodes, V: np.ndarray, gamma: float) -> np.ndarray:
    """td_errors without validation."""
    delta = V.take(ep.next_states)  # in place: (r + gamma boot - V(s)) * mask, the same operations
    np.copyto(delta, 0.0, where=ep.terminated)  # no bootstrap from a terminal next state
    delta *= gamma
    delta += ep.rewards
    delta -= V.take(ep.states)
    delta *= ep.mask
    return delta


def gae(episodes: Episodes, V: ArrayLike, gamma: float, lam: float) -> np.ndarray:
    """Generalised advantage estimate A_t = sum_{l>=0} (gamma lam)^l delta_{t+l}, shape (N, T).

    Backward recursion A_t = delta_t + gamma lam c_t A_{t+1}, where c_t = 0 if the episode ends at step t
    (terminated or truncated): the trace is cut at either, the bootstrap happens inside delta_t.
    lam = 0 is the TD error; lam = 1 is G_t + gamma^(T-t) V(s_T) [truncated only] - V(s_t), the Monte Carlo
    advantage ("lam = 1 is MC" up to that bootstrap at a truncated horizon).
    """
    ep = as_episodes(episodes)
    lam = as_scalar(lam, "lam", low=0.0, high=1.0)
    gamma = as_gamma(gamma)
    V = as_values(V, ep)
    return _gae(ep, V, gamma, lam)


def _gae(ep: Episodes, V: np.ndarray, gamma: float, lam: float) -> np.ndarray:
    """gae without validation: the scan x = delta (td_errors), c = gamma lam mask_next, where
    mask_next[:, t] = mask[:, t + 1] (the next step is real; 0 at t = T - 1). Computed block by block."""
    N, T = ep.states.shape
    gl = gamma * lam
    scratch: list[np.ndarray] = []

    def fill(i: int, j: int, xb: np.ndarray, cb: np.ndarray) -> None:
        if not scratch:  # the first block is the widest: one buffer for all
            scratch.append(np.empty((2, j - i, T)))
        e, v = scratch[0][:, :j - i]
        V.take(ep.next_states[i:j], out=e)  # delta_t by the operations of _td_errors
        np.copyto(e, 0.0, where=ep.terminated[i:j])
        e *= gamma
        e += ep.rewards[i:j]
        e -= V.take(ep.states[i:j], out=v)
        e *= ep.mask[i:j]
        xb[...] = e.T
        np.multiply(ep.mask[i:j, 1:].T, gl, out=cb[:-1])  # c_t = gamma lam mask[:, t + 1]
        cb[-1] = 0.0

    return scan_blocks(N, T, fill)


def advantage_gradient(policy: SoftmaxPolicy, theta: ArrayLike, episodes: Episodes, advantages: ArrayLike,
                       gamma: float) -> np.ndarray:
    """Policy-gradient estimate from per-step weights (advantages, returns, TD errors, GAE), theta's shape:

        g = 1/N sum_n sum_t gamma^t grad log pi(a_t|s_t) advantages[n, t]   (over real steps only).

    advantages: (N, T). With G_t this is REINFORCE; with td_errors the actor-critic estimate; with gae
    the GAE estimate. The gamma^t factor makes it an estimate of grad U (the discounted objective).
    """
    return _advantage_gradient(policy, theta, episodes, advantages, gamma)


def _advantage_gradient(policy, theta, episodes, advantages, gamma, scratch: bool = False) -> np.ndarray:
    """advantage_gradient; scratch=True: `advantages` is the caller's own temporary and is overwritten."""
    ep = as_episodes(episodes)
    gamma = as_gamma(gamma)
    adv = as_float_array(advantages, "advantages", shape=ep.states.shape)
    theta = as_softmax_policy(policy).check_theta(theta)
    w = np.multiply(adv, ep.mask, out=adv if scratch else None)
    w *= gamma ** np.arange(ep.horizon)
    w /= ep.n_episodes
    return policy.score_sum(theta, ep.states, ep.actions, w)


def per_episode_gradients(policy: SoftmaxPolicy, theta: ArrayLike, episodes: Episodes, advantages: ArrayLike,
                          gamma: float) -> np.ndarray:
    """Per-episode policy-gradient estimates, shape (N, *theta.shape):

        g_n = sum_t gamma^t grad log pi(a_t|s_t) advantages[n, t]     (over episode n's real steps).

    Their mean over n is `advantage_gradient(policy, theta, episodes, advantages, gamma)`; their spread is the
    estimator's noise (standard errors, variance per episode). advantages: (N, T), e.g. G_t, G_t - b(s_t),
    td_errors, gae. Softmax: g_n = contract(W_n - W_n.sum(actions) pi), W_n[s, a] the weighted counts of (s, a).
    """
    ep = as_episodes(episodes)
    gamma = as_gamma(gamma)
    policy = as_softmax_policy(policy)
    theta = policy.check_theta(theta)
    N, T = ep.states.shape
    S, A = policy.S, policy.A
    if max(ep.states.max(), ep.next_states.max()) >= S or ep.actions.max() >= A:
        raise ValueError(f"episodes hold states/actions outside the policy's S = {S}, A = {A}")
    w = as_float_array(advantages, "advantages", shape=(N, T)) * ep.mask * gamma ** np.arange(T)
    idx = (np.arange(N)[:, None] * (S * A) + ep.states * A + ep.actions).ravel()
    W = np.bincount(idx, weights=w.ravel(), minlength=N * S * A).reshape(N, S, A)
    C = W - W.sum(axis=2, keepdims=True) * policy.probs(theta)[None]
    return C if policy.is_tabular else np.einsum("nsa,sak->nk", C, policy.features)


def reinforce_gradient(policy: SoftmaxPolicy, theta: ArrayLike, episodes: Episodes, gamma: float,
                       baseline: ArrayLike | None = None) -> np.ndarray:
    """REINFORCE: g = 1/N sum_n sum_t gamma^t grad log pi(a_t|s_t) (G_t - b(s_t)), theta's shape.

    baseline: (S,) state-dependent b(s), or None (b = 0). Unbiased for the gradient of the objective cut
    at the horizon, for any b(s) (E_a[grad log pi(a|s)] b(s) = 0); b = V lowers its variance.
    """
    ep = as_episodes(episodes)
    gamma = as_gamma(gamma)
    G = _discounted_returns(ep.rewards, gamma, ep.mask)
    if baseline is not None:
        b = as_float_array(baseline, "baseline", ndim=1)
        policy_S = getattr(policy, "S", None)
        if policy_S is not None and b.shape[0] != policy_S:
            raise ValueError(f"baseline must have shape ({policy_S},) (one value per state), got {b.shape}")
        G -= b[ep.states]
    return _advantage_gradient(policy, theta, ep, G, gamma, scratch=True)  # G is ours: weights in place


def n_step_advantages(episodes: Episodes, V: ArrayLike, gamma: float, n: int) -> np.ndarray:
    """n-step advantage estimates, shape (N, T):

        A^(n)_t = sum_{k<m} gamma^k r_{t+k} + gamma^m V(s_{t+m}) [unless the episode terminated] - V(s_t),
        m = min(n, steps left in the episode),

    so there is no bootstrap past a termination, and where the horizon truncates the episode within n steps
    the bootstrap is from V of the last next state. By telescoping, A^(n)_t = sum_{l<n} gamma^l delta_{t+l}
    (delta = td_errors, 0 after the episode's end). n = 1 is `td_errors`; n >= T is `gae(lam=1)`; and
        gae(lam) = sum_{n=1}^{T-1} (1 - lam) lam^(n-1) A^(n) + lam^(T-1) A^(T)   (T = the horizon)
    (the lambda-return mix; A^(n) = A^(T) for n >= T). Zero where mask is 0.
    """
    ep = as_episodes(episodes)
    V = as_values(V, ep)
    gamma = as_gamma(gamma)
    n = as_count(n, "n")
    T = ep.horizon
    if n >= T:  # every window reaches the episode's end: the lam = 1 trace (bit for bit gae(lam=1))
        return _gae(ep, V, gamma, 1.0)
    delta = _td_errors(ep, V, gamma)
    adv = delta.copy()
    for k in range(1, n):  # the window sum_{l<n} gamma^l delta_{t+l} (delta is 0 past the end)
        adv[:, :T - k] += gamma ** k * delta[:, k:]
    return adv


def mc_values(episodes: Episodes, S: int, gamma: float) -> np.ndarray:
    """Every-visit Monte Carlo estimate of V: the average of G_t over the real steps with s_t = s, (S,):

        V_hat(s) = sum_{n,t: s_t = s} G_t / #{n, t: s_t = s}      (G = discounted_returns).

    States never visited get 0. Unbiased only for episodes that terminated (a truncated G_t is cut short)."""
    ep = as_episodes(episodes)
    S = as_count(S, "S")
    gamma = as_gamma(gamma)
    G = _discounted_returns(ep.rewards, gamma, ep.mask)
    s = ep.states.ravel()
    if s.max() >= S:
        raise ValueError(f"S = {S} but the episodes visit state {s.max()}")
    tot = np.bincount(s, weights=G.ravel(), minlength=S)
    cnt = np.bincount(s, weights=ep.mask.ravel(), minlength=S)
    return np.divide(tot, cnt, out=np.zeros(S), where=cnt > 0)


def td0_values(episodes: Episodes, S: int, gamma: float, alpha: float = 0.5, n_sweeps: int = 50,
               V0: ArrayLike | None = None) -> np.ndarray:
    """Learn V by TD(0) on a fixed batch: each sweep moves V(s) by alpha times the mean TD error of the
    steps taken from s (a batch, vectorised form of V(s_t) <- V(s_t) + alpha delta_t), (S,).
    Converges to the certainty-equivalence solution of the batch as n_sweeps grows."""
    ep = as_episodes(episodes)
    gamma = as_gamma(gamma)
    S = as_count(S, "S")
    top = int(max(ep.states.max(), ep.next_states.max()))
    if top >= S:
        raise ValueError(f"S = {S} but the episodes visit state {top}")
    alpha = as_scalar(alpha, "alpha", low=0.0, high=1.0, low_open=True)
    n_sweeps = as_count(n_sweeps, "n_sweeps", minimum=0)
    V = np.zeros(S) if V0 is None else as_float_array(V0, "V0", shape=(S,)).copy()
    s = ep.states.ravel()
    cnt = np.bincount(s, weights=ep.mask.ravel(), minlength=S)
    for _ in range(n_sweeps):
        delta = _td_errors(ep, V, gamma).ravel()
        V += alpha * np.divide(np.bincount(s, weights=delta, minlength=S), cnt, out=np.zeros(S), where=cnt > 0)
    return V
