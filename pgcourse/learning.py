"""Policy-gradient training loops: gradient ascent on U(theta) with the exact gradient or a sampled one.

theta_{k+1} = theta_k + lr * g_k, where g_k comes from the method named in GRADIENTS (the registry):
  "exact"      policy_gradient (the true grad U),
  "natural"    natural_gradient (F^+ grad U),
  "reinforce"  reinforce_gradient without baseline,
  "reinforce_baseline"  reinforce_gradient with b = the critic's V,
  "actor_critic"  advantage_gradient with td_errors of the critic's V,
  "gae"        advantage_gradient with gae(lam) of the critic's V.
The critic is "exact" (the true V of the current policy: an oracle, for isolating the estimator's own
variance), "td" (learned by TD(0) on each batch, warm-started from the previous iteration) or "mc"
(learned by Monte Carlo regression, `mc_critic_update`, warm-started: with "reinforce_baseline" this is
REINFORCE with a learned baseline).
`env_step` draws one transition (s', r) from p(s', r | s, a), for online (step-by-step) learning loops.
The exact U of every iterate is recorded, so a learning curve is never itself noisy.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_count, as_episodes, as_gamma, as_mdp, as_rng, as_scalar, as_softmax_policy, as_values
from .estimators import advantage_gradient, discounted_returns, gae, reinforce_gradient, td0_values, td_errors
from .exact import Evaluation, evaluate, policy_gradient
from .mdp import TabularMDP
from .policies import SoftmaxPolicy
from .sampling import Episodes, sample_episodes


@dataclass(frozen=True)
class History:
    """U (n_iters + 1,) exact objective of every iterate; theta the final parameters; grad_norms (n_iters,)."""

    U: np.ndarray
    theta: np.ndarray
    grad_norms: np.ndarray
    method: str


@dataclass(frozen=True)
class Step:
    """What a gradient method sees at one iterate: the problem, theta, its exact evaluation `ev`, and for the
    sampled methods the batch `episodes` and the critic's values `V_hat` (S,) (None for exact methods)."""

    mdp: TabularMDP
    policy: SoftmaxPolicy
    theta: np.ndarray
    ev: Evaluation
    episodes: Episodes | None = None
    V_hat: np.ndarray | None = None
    lam: float = 0.95


@dataclass(frozen=True)
class GradientMethod:
    """A registry entry: `gradient(step) -> g` (theta's shape); `sampled`: draws episodes each iteration;
    `critic`: needs the critic's V_hat."""

    gradient: Callable[[Step], np.ndarray]
    sampled: bool
    critic: bool


def _natural_gradient(mdp: TabularMDP, policy: SoftmaxPolicy, theta: np.ndarray) -> np.ndarray:
    from . import natural_gradient  # the package's natural gradient, wherever its module is (exact or natural)
    return natural_gradient(mdp, policy, theta)


GRADIENTS: dict[str, GradientMethod] = {
    "exact": GradientMethod(lambda s: policy_gradient(s.mdp, s.policy, s.theta), sampled=False, critic=False),
    "natural": GradientMethod(lambda s: _natural_gradient(s.mdp, s.policy, s.theta), sampled=False, critic=False),
    "reinforce": GradientMethod(lambda s: reinforce_gradient(s.policy, s.theta, s.episodes, s.mdp.gamma),
                                sampled=True, critic=False),
    "reinforce_baseline": GradientMethod(
        lambda s: reinforce_gradient(s.policy, s.theta, s.episodes, s.mdp.gamma, baseline=s.V_hat),
        sampled=True, critic=True),
    "actor_critic": GradientMethod(
        lambda s: advantage_gradient(s.policy, s.theta, s.episodes, td_errors(s.episodes, s.V_hat, s.mdp.gamma),
                                     s.mdp.gamma),
        sampled=True, critic=True),
    "gae": GradientMethod(
        lambda s: advantage_gradient(s.policy, s.theta, s.episodes, gae(s.episodes, s.V_hat, s.mdp.gamma, s.lam),
                                     s.mdp.gamma),
        sampled=True, critic=True),
}
METHODS = tuple(GRADIENTS)


def env_step(mdp: TabularMDP, s: int, a: int, rng: np.random.Generator) -> tuple[int, float, bool]:
    """One transition from state s with action a: (s', r, terminated), (s', r) drawn jointly from
    p(s', r | s, a) (the reward the agent receives; its mean is mdp.R[s, a]); terminated = s' is terminal."""
    mdp = as_mdp(mdp)
    rng = as_rng(rng)
    s, a = _as_index(s, mdp.S, "s"), _as_index(a, mdp.A, "a")
    if mdp.terminal[s]:
        raise ValueError(f"s = {s} is a terminal state: the episode is over there")
    prob = mdp.outcome_prob[s, a]
    k = min(int(np.searchsorted(np.cumsum(prob), rng.random() * prob.sum(), side="right")), prob.size - 1)
    while prob[k] == 0.0:  # round-off at the top of the CDF: take the last outcome with mass
        k -= 1
    s_next = int(mdp.outcome_next[s, a, k])
    return s_next, float(mdp.outcome_reward[s, a, k]), bool(mdp.terminal[s_next])


def _as_index(x, n: int, name: str) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an integer index, got {type(x).__name__}")
    if not 0 <= x < n:
        raise ValueError(f"{name} must be in [0, {n}), got {x}")
    return int(x)


def mc_critic_update(V: ArrayLike, episodes: Episodes, gamma: float, lr: float) -> np.ndarray:
    """One Monte Carlo regression step of a tabular critic on a batch, (S,) (S = len(V)):

        V(s) <- V(s) + lr * (1/N(s)) sum_{n,t: s_t = s} (G_t - V(s)),   N(s) = #{real steps with s_t = s},

    a step of size lr on (1/2) mean_s-visits (G_t - V(s_t))^2; lr = 1 gives the batch's every-visit average
    `mc_values` at the visited states; unvisited states keep their value. lr in (0, 1]."""
    ep = as_episodes(episodes)
    gamma = as_gamma(gamma)
    lr = as_scalar(lr, "lr", low=0.0, high=1.0, low_open=True)
    V = as_values(V, ep).copy()
    S = V.size
    s = ep.states.ravel()
    G = discounted_returns(ep.rewards, gamma, ep.mask)
    err = ((G - V[ep.states]) * ep.mask).ravel()
    cnt = np.bincount(s, weights=ep.mask.ravel(), minlength=S)
    return V + lr * np.divide(np.bincount(s, weights=err, minlength=S), cnt, out=np.zeros(S), where=cnt > 0)


def train(mdp: TabularMDP, policy: SoftmaxPolicy, theta0: ArrayLike, method: str = "exact", lr: float = 1.0,
          n_iters: int = 100, n_episodes: int = 100, horizon: int = 100,
          rng: np.random.Generator | None = None, lam: float = 0.95, critic: str = "td", critic_lr: float = 0.5,
          critic_sweeps: int = 10) -> History:
    """Run n_iters steps of gradient ascent theta <- theta + lr * g with the gradient `method` (see GRADIENTS).

    Sampled methods draw n_episodes episodes of at most `horizon` steps per iteration from `rng`, a
    numpy.random.Generator (required for them; unused by "exact" and "natural"):
    `rng=np.random.default_rng(seed)` gives the same curve for the same seed.
    """
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    theta = policy.check_theta(theta0)
    if method not in GRADIENTS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    entry = GRADIENTS[method]
    if critic not in ("exact", "td", "mc"):
        raise ValueError(f"critic must be 'exact', 'td' or 'mc', got {critic!r}")
    lr = as_scalar(lr, "lr", low=0.0, low_open=True)
    n_iters = as_count(n_iters, "n_iters", minimum=0)
    n_episodes = as_count(n_episodes, "n_episodes")
    horizon = as_count(horizon, "horizon")
    if entry.sampled or rng is not None:
        rng = as_rng(rng)
    lam = as_scalar(lam, "lam", low=0.0, high=1.0)
    critic_lr = as_scalar(critic_lr, "critic_lr", low=0.0, high=1.0, low_open=True)
    critic_sweeps = as_count(critic_sweeps, "critic_sweeps", minimum=0)
    V_hat = np.zeros(mdp.S)
    Us, norms = [], []
    for _ in range(n_iters):
        ev = evaluate(mdp, policy.probs(theta))
        Us.append(ev.U)
        ep = None
        if entry.sampled:
            ep = sample_episodes(mdp, ev.pi, n_episodes, horizon, rng)
            if entry.critic:
                if critic == "exact":
                    V_hat = ev.V
                elif critic == "mc":
                    V_hat = mc_critic_update(V_hat, ep, mdp.gamma, critic_lr)
                else:
                    V_hat = td0_values(ep, mdp.S, mdp.gamma, alpha=critic_lr, n_sweeps=critic_sweeps, V0=V_hat)
        g = entry.gradient(Step(mdp, policy, theta, ev, ep, V_hat if entry.critic else None, lam))
        norms.append(float(np.linalg.norm(g)))
        theta = theta + lr * g
    Us.append(evaluate(mdp, policy.probs(theta)).U)
    return History(U=np.array(Us), theta=theta, grad_norms=np.array(norms), method=method)

