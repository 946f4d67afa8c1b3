"""Policy-gradient training loops: gradient ascent on U(theta) with the exact gradient or a sampled one.

theta_{k+1} = theta_k + lr * g_k, where g_k is
  "exact"      policy_gradient (the true grad U),
  "natural"    natural_gradient (F^+ grad U),
  "reinforce"  reinforce_gradient without baseline,
  "reinforce_baseline"  reinforce_gradient with b = the critic's V,
  "actor_critic"  advantage_gradient with td_errors of the critic's V,
  "gae"        advantage_gradient with gae(lam) of the critic's V.
The critic is "exact" (the true V of the current policy: an oracle, for isolating the estimator's own
variance) or "td" (learned by TD(0) on each batch, warm-started from the previous iteration).
The exact U of every iterate is recorded, so a learning curve is never itself noisy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_count, as_scalar
from .estimators import advantage_gradient, gae, reinforce_gradient, td0_values, td_errors
from .exact import _check_mdp, _check_policy, _check_policy_mdp, evaluate, natural_gradient, policy_gradient
from .sampling import sample_episodes

METHODS = ("exact", "natural", "reinforce", "reinforce_baseline", "actor_critic", "gae")


@dataclass(frozen=True)
class History:
    """U (n_iters + 1,) exact objective of every iterate; theta the final parameters; grad_norms (n_iters,)."""

    U: np.ndarray
    theta: np.ndarray
    grad_norms: np.ndarray
    method: str


def train(mdp, policy, theta0, method: str = "exact", lr: float = 1.0, n_iters: int = 100,
          n_episodes: int = 100, horizon: int = 100, seed: int = 0, lam: float = 0.95,
          critic: str = "td", critic_lr: float = 0.5, critic_sweeps: int = 10) -> History:
    """Run n_iters steps of gradient ascent theta <- theta + lr * g with the gradient `method` (see module).

    Sampled methods draw n_episodes episodes of at most `horizon` steps per iteration from
    np.random.default_rng(seed): the same seed gives the same curve.
    """
    mdp = _check_mdp(mdp)
    policy = _check_policy(policy)
    theta = policy.check_theta(theta0)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if critic not in ("exact", "td"):
        raise ValueError(f"critic must be 'exact' or 'td', got {critic!r}")
    lr = as_scalar(lr, "lr", low=0.0, low_open=True)
    n_iters = as_count(n_iters, "n_iters", minimum=0)
    _check_policy_mdp(mdp, policy)
    n_episodes = as_count(n_episodes, "n_episodes")
    horizon = as_count(horizon, "horizon")
    seed = as_count(seed, "seed", minimum=0)
    lam = as_scalar(lam, "lam", low=0.0, high=1.0)
    critic_lr = as_scalar(critic_lr, "critic_lr", low=0.0, high=1.0, low_open=True)
    critic_sweeps = as_count(critic_sweeps, "critic_sweeps", minimum=0)
    rng = np.random.default_rng(seed)
    gamma = mdp.gamma
    V_hat = np.zeros(mdp.S)
    Us, norms = [], []
    for _ in range(n_iters):
        ev = evaluate(mdp, policy.probs(theta))
        Us.append(ev.U)
        if method == "exact":
            g = policy_gradient(mdp, policy, theta)
        elif method == "natural":
            g = natural_gradient(mdp, policy, theta)
        else:
            ep = sample_episodes(mdp, ev.pi, n_episodes, horizon, rng)
            if method == "reinforce":
                g = reinforce_gradient(policy, theta, ep, gamma)
            else:
                if critic == "exact":
                    V_hat = ev.V
                else:
                    V_hat = td0_values(ep, gamma, mdp.S, alpha=critic_lr, n_sweeps=critic_sweeps, V0=V_hat)
                if method == "reinforce_baseline":
                    g = reinforce_gradient(policy, theta, ep, gamma, baseline=V_hat)
                elif method == "actor_critic":
                    g = advantage_gradient(policy, theta, ep, td_errors(ep, V_hat, gamma), gamma)
                else:
                    g = advantage_gradient(policy, theta, ep, gae(ep, V_hat, gamma, lam), gamma)
        norms.append(float(np.linalg.norm(g)))
        theta = theta + lr * g
    Us.append(evaluate(mdp, policy.probs(theta)).U)
    return History(U=np.array(Us), theta=theta, grad_norms=np.array(norms), method=method)
