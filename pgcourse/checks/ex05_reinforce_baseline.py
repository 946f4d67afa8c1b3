"""ex05_reinforce_baseline: REINFORCE, a state baseline, REINFORCE with a baseline (Part I)."""
from __future__ import annotations

import numpy as np

from ..estimators import discounted_returns, mc_values, reinforce_gradient
from . import _problems as pr
from ._core import checker, compare_case

_ESTIMATORS = ("reinforce_gradient", "advantage_gradient", "per_episode_gradients")


def _weighted(pol, theta, ep, W):
    return pol.score_sum(theta, ep.states, ep.actions, W)


@checker("ex05_reinforce_baseline", 1, function="reinforce_gradient", forbid=_ESTIMATORS,
         summary="the REINFORCE estimate matches for a tabular and a linear softmax policy.")
def check_reinforce_gradient(rng):
    """student_fn(policy, theta, episodes, gamma) -> 1/N sum_n sum_t gamma^t grad log pi(a_t|s_t) G_t."""
    for tabular in (True, False):
        mdp, pol, theta, ep, where = pr.pg_case(rng, tabular)
        g = mdp.gamma
        N, T = ep.states.shape
        m = ep.mask
        disc = g ** np.arange(T)
        G = discounted_returns(ep.rewards, g, m)
        exp = reinforce_gradient(pol, theta, ep, g)
        yield compare_case((pol, theta, ep, g), exp, "gradient", [
            (_weighted(pol, theta, ep, G[:, :1] * m / N), ("G_0 used instead of G_t, and gamma^t missing: "
             "weight the score at step t by gamma^t G_t (the rewards before t do not depend on a_t).")),
            (_weighted(pol, theta, ep, G * m / N), ("gamma^t missing: the discounted objective weights step t "
             "by gamma^t (G_t only discounts from t on).")),
            (_weighted(pol, theta, ep, disc * G[:, :1] * m / N), ("G_0 used instead of G_t: the action at "
             "step t only affects the rewards from t on, use the reward-to-go G_t.")),
            (N * exp, "you summed over episodes: take the mean (divide by N)."),
            (_weighted(pol, theta, ep, disc * G * m / m.sum()), ("divide by the number of episodes N, not by the "
                                                                "number of steps.")),
            (_weighted(pol, theta, ep, disc * discounted_returns(ep.rewards, 1.0, m) * m / N),
             "gamma is missing inside G_t."),
        ], shape_hints={(N, T): "Sum over steps and average over episodes: the result has theta's shape."},
            generic_hint="Hint: pg.discounted_returns and policy.grad_log_prob (or policy.score_sum) help.",
            where=where)


@checker("ex05_reinforce_baseline", 2, function="state_baseline", forbid=("mc_values", "td0_values"),
         summary="the state baseline (empirical V) matches on 2 batches.")
def check_state_baseline(rng):
    """student_fn(episodes, gamma, S) -> b (S,): the average of G_t over the real steps with s_t = s
    (0 for states never visited)."""
    for _ in range(2):
        mdp, _, _, ep, where = pr.pg_case(rng, True)
        g, S, A = mdp.gamma, mdp.S, mdp.A
        m = ep.mask
        G = discounted_returns(ep.rewards, g, m)
        s = ep.states.ravel()
        cnt = np.bincount(s, weights=m.ravel(), minlength=S)
        safe = np.maximum(cnt, 1)
        exp = mc_values(ep, S=S, gamma=g)
        s0 = ep.states[:, 0]
        c0 = np.bincount(s0, minlength=S)
        yield compare_case((ep, g, S), exp, "baseline", [
            (np.bincount(s, weights=(G[:, :1] * m).ravel(), minlength=S) / safe,
             "G_0 used instead of G_t: each visit to s counts with the return from that visit on."),
            (np.bincount(s0, weights=G[:, 0], minlength=S) / np.maximum(c0, 1),
             "you averaged only the start states' returns G_0: average G_t over every visit to s."),
            (np.bincount(s, weights=G.ravel(), minlength=S), "you summed G_t: take the mean over the visits."),
            (mc_values(ep, S=S, gamma=1.0), "gamma is missing in G_t."),
        ], shape_hints={(S, A): "baseline depending on the action: a baseline must be a function of the "
                                "state only, shape (S,). A b(s, a) biases the gradient estimate, since "
                                "E_a[grad log pi(a|s) b(s, a)] is not 0 in general.",
                        (S, 1): "Return a flat (S,) array."},
            nan_hint="States never visited (here: the terminal state) give 0/0: set their baseline to 0.",
            where=where)


@checker("ex05_reinforce_baseline", 3, function="reinforce_with_baseline", forbid=_ESTIMATORS,
         summary="REINFORCE with a state baseline matches for a tabular and a linear softmax policy.")
def check_reinforce_with_baseline(rng):
    """student_fn(policy, theta, episodes, gamma, baseline (S,)) ->
    1/N sum_n sum_t gamma^t grad log pi(a_t|s_t) (G_t - b(s_t)) over the real steps."""
    for tabular in (True, False):
        mdp, pol, theta, ep, where = pr.pg_case(rng, tabular)
        g = mdp.gamma
        N, T = ep.states.shape
        m = ep.mask
        disc = g ** np.arange(T)
        G = discounted_returns(ep.rewards, g, m)
        b = pr.critic(rng, mdp.S)
        bs = b[ep.states]
        exp = reinforce_gradient(pol, theta, ep, g, baseline=b)
        yield compare_case((pol, theta, ep, g, b), exp, "gradient", [
            (_weighted(pol, theta, ep, disc * (G - bs) / N), ("mask ignored: the padding steps after an "
             "episode's end (mask 0) must not contribute; there G_t = 0 but b(s_t) is not.")),
            (_weighted(pol, theta, ep, (disc * G - bs) * m / N), "apply gamma^t to (G_t - b(s_t)) as a whole."),
            (_weighted(pol, theta, ep, (G - bs) * m / N), "gamma^t missing: weight step t by gamma^t."),
            (_weighted(pol, theta, ep, disc * (G[:, :1] - bs) * m / N), "G_0 used instead of G_t."),
            (reinforce_gradient(pol, theta, ep, g), "the baseline is ignored: subtract b(s_t) from G_t."),
            (_weighted(pol, theta, ep, disc * (G + bs) * m / N), "subtract the baseline, do not add it."),
            (N * exp, "you summed over episodes: take the mean (divide by N)."),
        ], generic_hint="Hint: the weight of step t is gamma^t (G_t - b(s_t)) on the real steps (mask 1).",
            where=where)
