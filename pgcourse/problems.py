"""The course's worked examples: the fixed problems (MDP, policy, parameters, a wrong critic) that the
notebooks and their explorers compute on, defined once so that a notebook cell and its explorer show the
same numbers (numpy only)."""
from __future__ import annotations

import numpy as np

from ._validate import as_count, as_mdp, as_scalar
from .envs import frozen_lake, gridworld
from .estimators import td0_values
from .exact import evaluate, optimal_values, policy_gradient
from .mdp import TabularMDP, random_mdp
from .policies import SoftmaxPolicy
from .sampling import sample_episodes

__all__ = [
    "critic_error_direction",
    "demo_grid_policy",
    "frozen_lake_lab",
    "gradient_demo_problem",
    "reward_shifted",
    "td_demo_problem",
]


def demo_grid_policy() -> np.ndarray:
    """The running grid policy pi (S, 4) of notebooks 00-01: 70% the optimal action of the default
    gridworld (gamma 0.95, slip 0.1), 30% uniform. Fixed, so that changing gamma or slip changes V, not pi."""
    base = gridworld()
    _, pistar = optimal_values(base)
    return 0.7 * pistar + 0.3 / base.A


def gradient_demo_problem():
    """(mdp, policy, direction) of notebook 02: a random 5-state MDP (one terminal state, gamma 0.9,
    seed 3), a tabular softmax policy, and a fixed random direction in theta space (seed 4), theta (5, 2)."""
    mdp = random_mdp(5, 2, 0.9, np.random.default_rng(3), n_terminal=1)
    policy = SoftmaxPolicy.tabular(mdp.S, mdp.A)
    direction = np.random.default_rng(4).normal(size=policy.theta_shape)
    return mdp, policy, direction


def reward_shifted(mdp, shift: float) -> TabularMDP:
    """The same MDP with r(s, a) + shift on every non-terminal state (terminal states keep 0): a common
    offset in the rewards, which a baseline b(s) is there to remove. Without terminal states it moves every
    V(s) by shift / (1 - gamma) and leaves A(s, a) unchanged; in an episodic MDP it also pays for staying
    alive, so A changes too."""
    mdp = as_mdp(mdp)
    shift = as_scalar(shift, "shift")
    live = ~mdp.terminal
    return TabularMDP(mdp.P, mdp.R + shift * live[:, None], mdp.mu, mdp.gamma,
                      mdp.terminal if mdp.episodic else None)


def td_demo_problem():
    """(mdp, policy, theta, horizon) of notebooks 06-07: random_mdp(6, 3, gamma 0.95, rng 1, one terminal
    state, branching 3), episodes last ~17 steps and a few per cent are still running at the horizon
    T = 60 (truncated); a tabular softmax policy with theta (6, 3) = 0.5 * N(0, 1) draws (rng 1)."""
    mdp = random_mdp(6, 3, 0.95, np.random.default_rng(1), n_terminal=1, branching=3)
    policy = SoftmaxPolicy.tabular(6, 3)
    theta = 0.5 * np.random.default_rng(1).normal(size=(6, 3))
    return mdp, policy, theta, 60


def critic_error_direction(mdp, seed: int = 7) -> np.ndarray:
    """A fixed critic-error direction e (S,): N(0, 1) draws (rng seed) scaled to root-mean-square 1 over
    the non-terminal states, 0 on terminal states. A wrong critic is V_hat = V + size * e."""
    mdp = as_mdp(mdp)
    e = np.random.default_rng(seed).normal(size=mdp.S) * ~mdp.terminal
    return e / np.sqrt((e[~mdp.terminal] ** 2).mean())


def frozen_lake_lab(gamma: float = 0.99, n_episodes: int = 10000, horizon: int = 100, critic_episodes: int = 200,
                    seed: int = 0) -> dict:
    """The estimator lab of notebook 08: FrozenLake 4x4 (pg.frozen_lake(gamma)), a tabular softmax policy
    that prefers down and right a little (theta[:, down] = theta[:, right] = 0.5), a critic V_td learned by
    TD(0) (alpha 0.5, 200 sweeps) on a small batch of critic_episodes, then a big batch of n_episodes for
    scoring (one rng, seed). Returns a dict: mdp, policy, theta, pi, ev, grad (exact), episodes, V_td, horizon."""
    n_episodes, critic_episodes = as_count(n_episodes, "n_episodes"), as_count(critic_episodes, "critic_episodes")
    mdp = frozen_lake(gamma)
    policy = SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = np.zeros((mdp.S, mdp.A))
    theta[:, [1, 2]] = 0.5
    pi = policy.probs(theta)
    rng = np.random.default_rng(seed)
    critic_batch = sample_episodes(mdp, pi, critic_episodes, horizon, rng)
    V_td = td0_values(critic_batch, S=mdp.S, gamma=gamma, alpha=0.5, n_sweeps=200)
    episodes = sample_episodes(mdp, pi, n_episodes, horizon, rng)
    return {"mdp": mdp, "policy": policy, "theta": theta, "pi": pi, "ev": evaluate(mdp, pi),
            "grad": policy_gradient(mdp, policy, theta), "episodes": episodes, "V_td": V_td, "horizon": horizon}
