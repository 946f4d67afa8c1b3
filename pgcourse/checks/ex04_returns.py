"""ex04_returns: discounted returns for one episode, a masked batch and a stream of episodes (Part I)."""
from __future__ import annotations

import numpy as np

from .._recursion import backward_scan
from ..estimators import discounted_returns
from ._core import checker, compare_case

_RETURNS = ("discounted_returns", "gae", "mc_values")


def _returns_1d(r, gamma):
    """G_t = r_t + gamma G_{t+1} (one episode)."""
    return backward_scan(np.asarray(r, dtype=float), gamma)


def _stream_returns(r, dones, gamma):
    """G_t = r_t + gamma (1 - done_t) G_{t+1} (a stream of episodes)."""
    return backward_scan(np.asarray(r, dtype=float), gamma * (1.0 - np.asarray(dones, dtype=float)))


@checker("ex04_returns", 1, function="episode_returns", forbid=_RETURNS, reference=_returns_1d,
         summary="G_t matches for 3 episodes.")
def check_episode_returns(rng):
    """student_fn(rewards (T,), gamma) -> G (T,), G_t = sum_k gamma^k r_{t+k}."""
    for gamma in (0.9, 0.5, 0.99):
        T = int(rng.integers(6, 12))
        r = rng.normal(size=T)
        exp = _returns_1d(r, gamma)
        disc = gamma ** np.arange(T)
        yield compare_case((r, gamma), exp, "G", [
            (_returns_1d(r, 1.0), "gamma is missing: G_t = r_t + gamma r_{t+1} + gamma^2 r_{t+2} + ..."),
            (np.full(T, exp[0]), "G_0 used instead of G_t: each G_t sums only the rewards from t on."),
            (np.cumsum(disc * r), ("that is the discounted sum of the past rewards; the return G_t sums the "
                                  "future: r_t + gamma r_{t+1} + ...")),
            (np.cumsum((disc * r)[::-1])[::-1], ("discounted from the episode start: G_t discounts relative "
                                                "to t, gamma^k r_{t+k}, not gamma^(t+k).")),
            (np.append(exp[1:], 0.0), "off by one: G_t includes r_t itself."),
            (np.append(exp[1:] * gamma, 0.0), "off by one: G_t starts with r_t (undiscounted)."),
        ], shape_hints={(): "Return one G_t per time step, shape (T,)."},
            generic_hint="Hint: go backwards, G_t = r_t + gamma G_{t+1}.", where=f"T={T} rewards, gamma={gamma}")


def _ragged_batch(rng, N, T):
    """rewards (N, T) with junk after each episode's end and the mask; some episodes reach T."""
    lengths = rng.integers(1, T + 1, size=N)
    lengths[0] = T
    lengths[1] = max(1, T // 2)
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(float)
    rewards = rng.normal(size=(N, T))
    return rewards, mask


@checker("ex04_returns", 2, function="batch_returns", forbid=_RETURNS,
         summary="G matches on 2 ragged batches (junk padding ignored, each row its own episode).")
def check_batch_returns(rng):
    """student_fn(rewards (N, T), gamma, mask (N, T)) -> G (N, T), G_t within each episode, 0 where mask is 0.
    Entries of rewards where mask is 0 are padding and may hold anything."""
    for gamma in (0.9, 0.8):
        N, T = int(rng.integers(4, 8)), int(rng.integers(5, 9))
        r, m = _ragged_batch(rng, N, T)
        exp = discounted_returns(r, gamma, m)
        flat = _returns_1d((r * m).ravel(), gamma).reshape(N, T) * m
        disc = gamma ** np.arange(T)
        yield compare_case((r, gamma, m), exp, "G", [
            (discounted_returns(r, gamma), ("mask ignored: the steps where mask is 0 are padding (here they "
                                           "hold junk rewards): they must not count, and G must be 0 there.")),
            (discounted_returns(r, gamma) * m, ("you masked the output but not the rewards: junk after an "
                                               "episode's end flows back into G_t. Mask the rewards first.")),
            (flat, ("returns not reset between episodes: your sum runs on from the end of one row into the "
                   "next episode. Each row is its own episode.")),
            (discounted_returns(r, 1.0, m), "gamma is missing."),
            (np.repeat(exp[:, :1], T, axis=1) * m, "G_0 used instead of G_t: each G_t sums the rewards from t on."),
            (np.cumsum((disc * r * m)[:, ::-1], axis=1)[:, ::-1], ("discounted from the episode start: "
                                                                  "G_t = sum_k gamma^k r_{t+k}.")),
        ], shape_hints={(N,): "Return one G_t per step, shape (N, T).", (T, N): "It looks transposed: (N, T)."},
            generic_hint="Hint: loop backwards over t only, vectorised over the N episodes.",
            where=f"N={N} episodes, T={T}, gamma={gamma}, junk rewards after each episode's end")


@checker("ex04_returns", 3, function="stream_returns", forbid=_RETURNS,
         summary="G matches on 2 streams of back-to-back episodes.")
def check_stream_returns(rng):
    """student_fn(rewards (T,), dones (T,) bool, gamma) -> G (T,): one stream of several episodes back to back;
    dones[t] is True when the episode ends after step t (the next reward belongs to a new episode)."""
    for gamma in (0.9, 0.7):
        T = int(rng.integers(12, 20))
        r = rng.normal(size=T)
        dones = rng.random(T) < 0.25
        dones[[2, T - 5]] = True
        dones[T - 1] = bool(rng.integers(2))
        exp = _stream_returns(r, dones, gamma)
        late = np.zeros(T, dtype=bool)
        late[1:] = dones[:-1]
        yield compare_case((r, dones, gamma), exp, "G", [
            (_returns_1d(r, gamma), ("returns not reset between episodes: where dones[t] is True the next "
                                    "reward belongs to a new episode, so G_t = r_t there.")),
            (_stream_returns(r, late, gamma), "reset one step late: at a step with dones[t] True, G_t = r_t."),
            (_stream_returns(np.where(dones, 0.0, r), dones, gamma), ("the last reward of an episode counts: "
                                                                     "G_t = r_t where dones[t].")),
            (_stream_returns(r, dones, 1.0), "gamma is missing."),
        ], generic_hint="Hint: backwards, G_t = r_t + gamma (1 - done_t) G_{t+1}.",
            where=f"a stream of {int(dones[:-1].sum()) + 1} episodes, T={T} steps, gamma={gamma}")
