"""The baselines the package is compared with, written plainly and checked to compute the same thing.

- `gym_step_loop`: gymnasium's FrozenLake-v1 stepped one transition at a time with random actions
  (`env.action_space.sample()`), resetting when an episode ends: what the batched sampler replaces.
- `bare_vectorised_loop`: the sampler's work with nothing recorded: N episodes advanced together by an
  inverse-CDF draw of a_t ~ pi(.|s_t) and s_{t+1} ~ P[s_t, a_t, .], only the running ones, no arrays
  kept. Two variants: the textbook draw (gather the CDF rows, compare, count) and the sampler's own
  draw routine (`pgcourse.sampling._draw`), the tighter floor.
- `gae_double_loop`: GAE by a Python double loop over (n, t) on Python lists (faster than indexing numpy
  arrays element by element, so the stricter baseline).
- `reinforce_per_episode`: REINFORCE with a Python loop over episodes and numpy inside each episode;
  `reinforce_per_episode_textbook` computes the returns with a Python loop over t, as textbooks write it.
"""
from __future__ import annotations

import numpy as np

from pgcourse.sampling import _cdf_table, _draw


def gym_step_loop(env, n_steps: int, seed: int = 0) -> int:
    """Step `env` n_steps times with random actions, resetting at the end of each episode; returns the
    number of steps taken (= n_steps)."""
    env.reset(seed=seed)
    env.action_space.seed(seed)
    sample, step, reset = env.action_space.sample, env.step, env.reset
    for _ in range(n_steps):
        _, _, terminated, truncated, _ = step(sample())
        if terminated or truncated:
            reset()
    return n_steps


def bare_vectorised_loop(mdp, pi, n_episodes: int, horizon: int, rng) -> int:
    """Advance N episodes under pi with textbook inverse-CDF draws; returns the number of steps taken.

    Uses the generator exactly as pg.sample_episodes does, so with the same seed it takes the same steps."""
    pi_cdf = np.cumsum(pi, axis=1)
    P_cdf = np.cumsum(mdp.P, axis=2)
    term = mdp.terminal
    s = np.minimum((np.cumsum(mdp.mu)[None, :] <= rng.random(n_episodes)[:, None]).sum(axis=1), mdp.S - 1)
    cur = s[~term[s]]
    steps = 0
    for _ in range(horizon):
        if cur.size == 0:
            break
        steps += cur.size
        a = np.minimum((pi_cdf[cur] <= rng.random(cur.size)[:, None]).sum(axis=1), mdp.A - 1)
        nxt = np.minimum((P_cdf[cur, a] <= rng.random(cur.size)[:, None]).sum(axis=1), mdp.S - 1)
        cur = nxt[~term[nxt]]
    return steps


def bare_loop_sampler_draws(mdp, pi, n_episodes: int, horizon: int, rng) -> int:
    """The same loop with the sampler's own compressed-CDF draw routine (the floor of its inner loop)."""
    S, A = mdp.S, mdp.A
    pi_table = _cdf_table(np.cumsum(pi, axis=1))
    P_table = _cdf_table(np.cumsum(mdp.P, axis=2).reshape(S * A, S))
    mu_cdf = np.cumsum(mdp.mu)
    mu_cdf[mu_cdf >= 1.0] = np.inf
    mu_cdf[-1] = np.inf
    term = mdp.terminal
    s = np.searchsorted(mu_cdf, rng.random(n_episodes), side="right")
    cur = s[~term[s]]
    steps = 0
    for _ in range(horizon):
        if cur.size == 0:
            break
        steps += cur.size
        a = _draw(pi_table, cur, rng.random(cur.size))
        nxt = _draw(P_table, cur * A + a, rng.random(cur.size))
        cur = nxt[~term.take(nxt)]
    return steps


def gae_double_loop(episodes, V, gamma: float, lam: float, n: int) -> np.ndarray:
    """GAE of the first n episodes, (n, T), by a Python double loop over (episode, t), backwards in t."""
    states = episodes.states[:n].tolist()
    nexts = episodes.next_states[:n].tolist()
    rewards = episodes.rewards[:n].tolist()
    masks = episodes.mask[:n].tolist()
    terms = episodes.terminated[:n].tolist()
    values = V.tolist()
    out = []
    for s, s1, r, m, term in zip(states, nexts, rewards, masks, terms, strict=True):
        T = len(s)
        adv = [0.0] * T
        nxt = 0.0
        for t in range(T - 1, -1, -1):
            boot = 0.0 if term[t] else values[s1[t]]
            delta = (r[t] + gamma * boot - values[s[t]]) * m[t]
            cont = m[t + 1] if t + 1 < T else 0.0
            nxt = delta + gamma * lam * cont * nxt
            adv[t] = nxt
        out.append(adv)
    return np.array(out)


def reinforce_per_episode(pi: np.ndarray, episodes, gamma: float, n: int) -> np.ndarray:
    """REINFORCE (tabular softmax, no baseline) from the first n episodes, (S, A): a Python loop over
    episodes, numpy inside each: G by a discounted-sum matrix, scores by bincount."""
    S, A = pi.shape
    T = episodes.horizon
    k = np.arange(T)
    disc = gamma ** k
    D = np.triu(gamma ** np.maximum(k[None, :] - k[:, None], 0))  # G = D @ r within an episode
    lengths = episodes.lengths[:n]
    grad = np.zeros((S, A))
    for i in range(n):
        L = lengths[i]
        r, s, a = episodes.rewards[i, :L], episodes.states[i, :L], episodes.actions[i, :L]
        w = disc[:L] * (D[:L, :L] @ r)
        grad += np.bincount(s * A + a, weights=w, minlength=S * A).reshape(S, A)
        grad -= np.bincount(s, weights=w, minlength=S)[:, None] * pi
    return grad / n


def reinforce_per_episode_textbook(pi: np.ndarray, episodes, gamma: float, n: int) -> np.ndarray:
    """The same, with the returns of each episode by a Python loop over t (G = r + gamma G, backwards)."""
    S, A = pi.shape
    lengths = episodes.lengths[:n]
    grad = np.zeros((S, A))
    for i in range(n):
        L = lengths[i]
        G, g = [0.0] * L, 0.0
        for t, r in zip(range(L - 1, -1, -1), reversed(episodes.rewards[i, :L].tolist()), strict=True):
            g = r + gamma * g
            G[t] = g
        s, a = episodes.states[i, :L], episodes.actions[i, :L]
        w = gamma ** np.arange(L) * np.array(G)
        score = -pi[s]
        score[np.arange(L), a] += 1.0
        np.add.at(grad, s, w[:, None] * score)
    return grad / n
