"""Estimator design with exact answers: linear critics (compatible or not), the sampled compatible critic,
and the gamma^t-dropped direction most libraries compute.

- A linear critic f = Phi v fitted to A under d pi (weighted least squares, as `compatible_critic`) and the
  gradient it implies, g_f = sum_s visits(s) sum_a pi(a|s) psi(s, a) f(s, a). With Phi = psi (the compatible
  features) g_f = grad U exactly (Sutton et al. 2000); with other features g_f - grad U is the critic's bias.
- The sampled compatible critic: the same least-squares fit on sampled (s_t, a_t) with weights gamma^t
  (which reproduce d) and an advantage estimate as the target; times effective_horizon it estimates the
  natural gradient.
- The dropped-discount direction (Nota & Thomas 2020): E[sum_t psi(s_t, a_t) A(s_t, a_t)] without gamma^t,
  = sum_s eta(s) sum_a pi psi A with eta the *undiscounted* expected visits (for a horizon T,
  eta = sum_{t<T} p_t). It is not grad U, and not the gradient of any function: its Jacobian is not
  symmetric (`jacobian_asymmetry`).
"""
from __future__ import annotations

import numpy as np

from ._validate import as_count, as_episodes, as_float_array, as_mdp, as_scalar, as_softmax_policy, check_episodic
from .exact import alive_distributions, evaluate
from .natural import score_features


def _setup(mdp, policy, theta):
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    return mdp, policy, policy.check_theta(theta)


def linear_critic(mdp, policy, theta, features, rcond: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """(v (M,), f (S, A)): the minimum-norm weighted least-squares fit of A by features (S, A, M),
    min_v sum_s d(s) sum_a pi(a|s) (features(s, a) . v - A(s, a))^2, and the fitted critic f = features . v."""
    mdp, policy, theta = _setup(mdp, policy, theta)
    Phi = as_float_array(features, "features", ndim=3)
    if Phi.shape[:2] != (mdp.S, mdp.A):
        raise ValueError(f"features must have shape ({mdp.S}, {mdp.A}, M), got {Phi.shape}")
    rcond = as_scalar(rcond, "rcond", low=0.0)
    ev = evaluate(mdp, policy.probs(theta))
    sw = np.sqrt(ev.d[:, None] * ev.pi).ravel()
    X = Phi.reshape(-1, Phi.shape[2]) * sw[:, None]
    v = np.linalg.lstsq(X, ev.A.ravel() * sw, rcond=rcond)[0]
    return v, Phi @ v


def critic_gradient(mdp, policy, theta, critic) -> np.ndarray:
    """g_f = sum_s visits(s) sum_a pi(a|s) psi(s, a) f(s, a) for a critic f (S, A), theta's shape: the exact
    expectation of the actor-critic update with that critic. f = A (or Q) gives grad U."""
    mdp, policy, theta = _setup(mdp, policy, theta)
    f = as_float_array(critic, "critic", shape=(mdp.S, mdp.A))
    ev = evaluate(mdp, policy.probs(theta))
    W = ev.visits[:, None] * ev.pi * (f - (ev.pi * f).sum(axis=1, keepdims=True))
    return policy.contract(W)


def sampled_compatible_critic(policy, theta, episodes, advantages, gamma, rcond: float = 1e-10) -> np.ndarray:
    """w (theta's shape) fitted on samples: min_w sum_{n,t} gamma^t mask (psi(s_t, a_t) . w - advantages_t)^2
    (minimum norm). The gamma^t weights make the sample distribution d (up to normalisation), so for many
    episodes and unbiased advantages this tends to `compatible_critic`; effective_horizon * w estimates the
    natural gradient. advantages (N, T)."""
    policy = as_softmax_policy(policy)
    theta = policy.check_theta(theta)
    ep = as_episodes(episodes)
    adv = as_float_array(advantages, "advantages", shape=ep.states.shape)
    gamma = as_scalar(gamma, "gamma", low=0.0, high=1.0)
    rcond = as_scalar(rcond, "rcond", low=0.0)
    psi = score_features(policy, theta)                     # (S, A, K)
    wts = ep.mask * gamma ** np.arange(ep.states.shape[1])
    keep = wts > 0
    sw = np.sqrt(wts[keep])
    X = psi[ep.states[keep], ep.actions[keep]] * sw[:, None]
    w = np.linalg.lstsq(X, adv[keep] * sw, rcond=rcond)[0]
    return w.reshape(theta.shape)


def undiscounted_visits(mdp, pi, horizon=None) -> np.ndarray:
    """eta (S,): expected number of steps spent in each non-terminal state, no discount:
    horizon None: mu^T (I - P_pi,NN)^-1 (needs every state to reach a terminal state under pi, else
    ValueError); horizon T: sum_{t<T} Pr(s_t = s, still running) (`alive_distributions`)."""
    mdp = as_mdp(mdp)
    pi = np.asarray(pi, dtype=float)
    if horizon is not None:
        return alive_distributions(mdp, pi, as_count(horizon, "horizon")).sum(axis=0)
    check_episodic(mdp, pi)
    live = ~mdp.terminal
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)[np.ix_(live, live)]
    eta = np.zeros(mdp.S)
    eta[live] = np.linalg.solve(np.eye(live.sum()) - P_pi.T, mdp.mu[live])
    return eta


def dropped_discount_direction(mdp, policy, theta, horizon=None) -> np.ndarray:
    """E[sum_t psi(s_t, a_t) A(s_t, a_t)] without the gamma^t (Nota & Thomas 2020), theta's shape:
    sum_s eta(s) sum_a pi(a|s) psi(s, a) A(s, a), eta = `undiscounted_visits` (A of the discounted problem).
    Episodic MDPs (horizon None) or any MDP with a horizon T. Equals grad U when gamma = 1."""
    mdp, policy, theta = _setup(mdp, policy, theta)
    ev = evaluate(mdp, policy.probs(theta))
    eta = undiscounted_visits(mdp, ev.pi, horizon)
    return policy.contract(eta[:, None] * ev.pi * ev.A)


def jacobian_asymmetry(field, theta, eps: float = 1e-5) -> float:
    """||J - J^T||_F / ||J||_F for the central-difference Jacobian J of a vector field theta -> field(theta)
    (theta flattened). 0 (to finite-difference accuracy) for a gradient field, whose Jacobian is a Hessian."""
    theta = np.asarray(theta, dtype=float)
    K = theta.size
    J = np.zeros((K, K))
    for i in range(K):
        e = np.zeros(K)
        e[i] = eps
        J[:, i] = (np.ravel(field((theta.ravel() + e).reshape(theta.shape)))
                   - np.ravel(field((theta.ravel() - e).reshape(theta.shape)))) / (2 * eps)
    return float(np.linalg.norm(J - J.T) / np.linalg.norm(J))
