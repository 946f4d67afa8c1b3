"""Sampled episodes have the real gymnasium env's return distribution, not only its mean.

For each toy-text env the REAL env is rolled out (its own step function and seeded generator, a fixed
stochastic policy, horizon T) and compared with `sample_episodes` on `from_gymnasium(env)` under the same
policy and horizon: the set of rewards observed, and the mean and variance of the discounted return
G_0 = sum_{t<T} gamma^t r_{t+1}, each within 5 standard errors of the difference of two independent
samples, and so is the empirical CDF at the real sample's quartiles. Both sample means are also
compared with the exact U of `evaluate` (the infinite-horizon value; the truncation at T moves E[G_0]
by at most max|r| Pr(alive at T) gamma^T / (1 - gamma), added to the tolerance).
Power: the returns rebuilt from the expected rewards r(s_t, a_t) along the same sampled paths
(what the sampler recorded before) have the right mean, but the same comparison rejects their
distribution wherever the reward of a step is random given (s, a).

Policies: pi = (1 - mix) uniform + mix greedy-optimal, fixed by the MDP, so that every reward value (the
goal of FrozenLake 8x8, Taxi's +20) appears in a few thousand episodes.
The envs are stepped through `env.unwrapped` (the wrappers only check calls and count time steps).
"""
import bisect

import numpy as np
import pytest

import pgcourse as pg
from _stats import assert_within_5_se

gym = pytest.importorskip("gymnasium")

# name: (gymnasium id, make kwargs, gamma, horizon T, episodes, mix of the greedy optimal policy)
CASES = {
    "FrozenLake4x4": ("FrozenLake-v1", {}, 0.99, 100, 4000, 0.8),
    "FrozenLake8x8": ("FrozenLake-v1", {"map_name": "8x8"}, 0.99, 200, 1500, 0.7),
    "CliffWalking": ("CliffWalking-v1", {}, 0.8, 40, 1500, 0.7),
    "CliffWalkingSlippery": ("CliffWalking-v1", {"is_slippery": True}, 0.8, 40, 1500, 0.7),
    "Taxi": ("Taxi-v4", {}, 0.9, 60, 1500, 0.7),  # Taxi-v3 is no longer registered in gymnasium 1.x
}
# rewards whose step reward is random given (s, a): there the expected-reward returns must differ
RANDOM_REWARD = ("FrozenLake4x4", "FrozenLake8x8", "CliffWalkingSlippery")


def _policy(mdp, mix):
    uniform = np.full((mdp.S, mdp.A), 1.0 / mdp.A)
    return uniform if mix == 0 else (1 - mix) * uniform + mix * pg.optimal_values(mdp)[1]


def real_rollouts(env, pi, n, T, gamma, seed):
    """G_0 (n,) and the set of rewards of n episodes of the real env (reset/step), actions a ~ pi(.|s)."""
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(pi, axis=1)
    cdf[:, -1] = np.inf
    cdf = cdf.tolist()  # Python lists and bisect: the env's own step is then most of the time
    G = np.empty(n)
    seen = set()
    env.reset(seed=seed)
    for i in range(n):
        s, _ = env.reset()
        g, disc = 0.0, 1.0
        for u in rng.random(T).tolist():
            a = bisect.bisect_right(cdf[s], u)
            s, r, terminated, truncated, _ = env.step(a)
            seen.add(float(r))
            g += disc * r
            disc *= gamma
            if terminated or truncated:
                break
        G[i] = g
    return G, seen


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    name = request.param
    env_id, kwargs, gamma, T, n, mix = CASES[name]
    env = gym.make(env_id, **kwargs).unwrapped
    mdp = pg.from_gymnasium(env, gamma)
    pi = _policy(mdp, mix)
    G_real, seen_real = real_rollouts(env, pi, n, T, gamma, seed=7)
    ep = pg.sample_episodes(mdp, pi, n, T, np.random.default_rng(8))
    disc = gamma ** np.arange(T)
    G_sampled = (ep.rewards * ep.mask * disc).sum(axis=1)
    G_expected = (mdp.R[ep.states, ep.actions] * ep.mask * disc).sum(axis=1)  # the old smoothed rewards
    return dict(name=name, mdp=mdp, pi=pi, T=T, ep=ep, G_real=G_real, seen_real=seen_real,
                G_sampled=G_sampled, G_expected=G_expected)


def _mean_se(x):
    return x.mean(), x.std(ddof=1) / np.sqrt(x.size)


def _var_se(x):
    """Sample variance and its standard error (of the mean of (x - xbar)^2)."""
    d = (x - x.mean()) ** 2
    return d.mean(), d.std(ddof=1) / np.sqrt(x.size)


def _difference(stat, a, b):
    (ma, sa), (mb, sb) = stat(a), stat(b)
    return ma - mb, np.hypot(sa, sb)


def _z_scores(a, b, reference):
    """{statistic: z} of the two-sample differences a - b: mean, variance, and the empirical CDF at the
    quartiles of `reference` (Pr(G <= q), binomial standard errors)."""
    z = {}
    for stat, what in ((_mean_se, "mean"), (_var_se, "variance")):
        diff, se = _difference(stat, a, b)
        z[what] = diff / se
    for q in np.unique(np.quantile(reference, [0.25, 0.5, 0.75])):
        pa, pb = (a <= q + 1e-9).mean(), (b <= q + 1e-9).mean()
        se = np.sqrt(pa * (1 - pa) / a.size + pb * (1 - pb) / b.size)
        z[f"Pr(G <= {q:.4g})"] = (pa - pb) / se if se > 0 else 0.0
    return z


def test_reward_values_are_the_envs(case):
    ep, mdp = case["ep"], case["mdp"]
    sampled = set(np.unique(ep.rewards[ep.mask == 1]).tolist())
    assert sampled == case["seen_real"]
    if case["name"].startswith("FrozenLake"):
        assert sampled == {0.0, 1.0}  # never 1/3: that is r(s, a) next to the goal
        assert np.isclose(mdp.R, 1 / 3).any()
    # every sampled step is one of the outcomes of its (s, a), with the reward of that outcome
    real = ep.mask == 1
    s, a, s2, r = ep.states[real], ep.actions[real], ep.next_states[real], ep.rewards[real]
    match = (mdp.outcome_next[s, a] == s2[:, None]) & (mdp.outcome_reward[s, a] == r[:, None]) \
        & (mdp.outcome_prob[s, a] > 0)
    assert match.any(axis=1).all()


def test_return_distribution_matches_the_real_env(case):
    for what, (diff, se) in (("mean", _difference(_mean_se, case["G_sampled"], case["G_real"])),
                             ("variance", _difference(_var_se, case["G_sampled"], case["G_real"]))):
        assert_within_5_se(diff, se, 0.0, f"{case['name']}: sampled - real {what} of G_0")
    z = _z_scores(case["G_sampled"], case["G_real"], case["G_real"])
    assert max(abs(v) for v in z.values()) < 5, f"{case['name']}: {z}"


def test_exact_U_matches_both_sample_means(case):
    mdp, pi, T = case["mdp"], case["pi"], case["T"]
    U = pg.evaluate(mdp, pi).U
    # Pr(alive at T), exactly: the start distribution pushed T steps, terminal states dropped
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    x = mdp.mu * ~mdp.terminal
    for _ in range(T):
        x = (x @ P_pi) * ~mdp.terminal
    r_max = np.abs(mdp.outcome_reward).max()
    bias = r_max * x.sum() * mdp.gamma ** T / (1 - mdp.gamma)
    for key in ("G_real", "G_sampled", "G_expected"):
        mean, se = _mean_se(case[key])
        z = max(abs(mean - U) - bias, 0.0) / se
        assert z < 5, f"{case['name']} {key}: |mean - U| = {abs(mean - U):.4g} (bias bound {bias:.2g}, se {se:.2g})"


def test_expected_rewards_would_fail_the_comparison_where_the_reward_is_random(case):
    """The power of the comparison: returns of expected rewards r(s_t, a_t) along the same sampled paths
    (the sampler's old output) have the right mean, but their distribution is rejected where a step's
    reward is random given (s, a)."""
    z = _z_scores(case["G_expected"], case["G_real"], case["G_real"])
    if case["name"] in RANDOM_REWARD:
        assert max(abs(v) for v in z.values()) > 5, f"{case['name']}: expected-reward returns not rejected: {z}"
    else:  # the reward is a function of (s, a): the two are the same numbers
        np.testing.assert_allclose(case["G_expected"], case["G_sampled"], rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_outcome_lists_are_gymnasiums(name):
    """mdp.outcomes(s, a) is env.unwrapped.P[s][a] without the terminated flag, equal (s', r) merged, for
    every non-terminal state; a terminal state has the single outcome (itself, 0)."""
    env_id, kwargs, gamma, *_ = CASES[name]
    env = gym.make(env_id, **kwargs).unwrapped
    mdp = pg.from_gymnasium(env, gamma)
    for s in range(mdp.S):
        for a in range(mdp.A):
            got = mdp.outcomes(s, a)
            if mdp.terminal[s]:
                assert got == [(1.0, s, 0.0)]
                continue
            want = {}
            for p, s2, r, _ in env.P[s][a]:
                if p > 0:
                    want[(int(s2), float(r))] = want.get((int(s2), float(r)), 0.0) + p
            assert [(s2, r) for _, s2, r in got] == sorted(want)
            np.testing.assert_allclose([p for p, _, _ in got], [want[k] for k in sorted(want)], rtol=1e-12)
    terminal_entered = {int(s2) for s in env.P for a in env.P[s] for _, s2, _, done in env.P[s][a] if done}
    assert set(np.flatnonzero(mdp.terminal).tolist()) == terminal_entered


def test_slippery_cliff_pays_differently_on_the_same_next_state():
    env = gym.make("CliffWalking-v1", is_slippery=True).unwrapped
    mdp = pg.from_gymnasium(env, 0.9)
    assert mdp.outcomes(37, 3) == [(pytest.approx(1 / 3), 25, -1.0), (pytest.approx(1 / 3), 36, -100.0),
                                   (pytest.approx(1 / 3), 36, -1.0)]
    assert mdp.P[37, 3, 36] == pytest.approx(2 / 3)
    assert mdp.R[37, 3] == pytest.approx(-34.0)


def test_fickle_taxi_is_refused():
    env = gym.make("Taxi-v4", fickle_passenger=True)
    with pytest.raises(ValueError, match="fickle_passenger"):
        pg.from_gymnasium(env, 0.9)
