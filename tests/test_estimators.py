"""Estimators: vectorised functions vs plain Python reference loops (one episode at a time), the GAE limits,
and sampled means vs exact values (within 5 standard errors, fixed seeds).

Truncation bias in the statistical tests: the REINFORCE checks use gamma = 0.9 cut at T = 250, where the
gradient of the tail of the objective is bounded by max|r| * 2 * sum_{t >= T} (t + 1) gamma^t
< max|r| * 2 * (T + 11) * gamma^T / (1 - gamma)^2 < 2e-7 max|r|, far below the standard errors (> 1e-3).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgcourse as pg
from _stats import assert_within_5_se, rand_pi

# --- plain Python references, one episode and one step at a time -----------------------------------------

def ref_returns(rewards, gamma, mask):
    N, T = rewards.shape
    G = np.zeros((N, T))
    for n in range(N):
        for t in range(T):
            if mask[n, t]:
                G[n, t] = sum(gamma ** (k - t) * rewards[n, k] for k in range(t, T) if mask[n, k])
    return G


def ref_td(ep, V, gamma):
    N, T = ep.states.shape
    out = np.zeros((N, T))
    for n in range(N):
        for t in range(T):
            if ep.mask[n, t]:
                nxt = 0.0 if ep.terminated[n, t] else V[ep.next_states[n, t]]
                out[n, t] = ep.rewards[n, t] + gamma * nxt - V[ep.states[n, t]]
    return out


def ref_gae(ep, V, gamma, lam):
    delta = ref_td(ep, V, gamma)
    N, T = delta.shape
    out = np.zeros((N, T))
    for n in range(N):
        L = int(ep.mask[n].sum())
        for t in range(L):
            out[n, t] = sum((gamma * lam) ** k * delta[n, t + k] for k in range(L - t))
    return out


def ref_reinforce(policy, theta, ep, gamma, baseline=None):
    G = ref_returns(ep.rewards, gamma, ep.mask)
    g = np.zeros(np.shape(theta))
    N, T = ep.states.shape
    for n in range(N):
        for t in range(T):
            if ep.mask[n, t]:
                s, a = ep.states[n, t], ep.actions[n, t]
                b = 0.0 if baseline is None else baseline[s]
                g += gamma ** t * policy.grad_log_prob(theta, np.array(s), np.array(a)) * (G[n, t] - b)
    return g / N


def small_batch(seed, S=5, A=3, gamma=0.9, N=40, T=8):
    """A batch that mixes terminated and truncated episodes."""
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(S, A, gamma, rng, n_terminal=1)
    # exit with probability 0.15 per step, so that both endings occur in a short horizon
    P = mdp.P.copy()
    P[:-1, :, -1] = 0.0
    P[:-1] *= 0.85 / P[:-1].sum(axis=2, keepdims=True)
    P[:-1, :, -1] = 0.15
    mdp = pg.TabularMDP(P, mdp.R, mdp.mu, gamma, mdp.terminal)
    pi = rand_pi(rng, S, A)
    ep = pg.sample_episodes(mdp, pi, N, T, np.random.default_rng(seed + 1))
    return mdp, pi, ep, rng


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), gamma=st.one_of(st.just(1.0), st.floats(0.0, 1.0)),
       lam=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0)))
def test_vectorised_equals_reference_loops(seed, gamma, lam):
    mdp, pi, ep, rng = small_batch(seed, gamma=gamma, N=25)
    V = rng.normal(size=mdp.S) * 3
    V[mdp.terminal] = rng.normal()  # a critic need not know V(terminal) = 0: it must never be used
    tol = dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(pg.discounted_returns(ep.rewards, gamma, ep.mask),
                               ref_returns(ep.rewards, gamma, ep.mask), **tol)
    np.testing.assert_allclose(pg.td_errors(ep, V, gamma), ref_td(ep, V, gamma), **tol)
    np.testing.assert_allclose(pg.gae(ep, V, gamma, lam), ref_gae(ep, V, gamma, lam), **tol)
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = rng.normal(size=(mdp.S, mdp.A))
    lin = pg.SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, 3)))
    for policy, th in ((tab, theta), (lin, rng.normal(size=3))):
        np.testing.assert_allclose(pg.reinforce_gradient(policy, th, ep, gamma), ref_reinforce(policy, th, ep, gamma),
                                   **tol)
        np.testing.assert_allclose(pg.reinforce_gradient(policy, th, ep, gamma, baseline=V),
                                   ref_reinforce(policy, th, ep, gamma, V), **tol)
        adv = rng.normal(size=ep.states.shape)
        expect = np.zeros(th.shape)
        for n, t in zip(*np.nonzero(ep.mask), strict=True):
            expect += gamma ** t * adv[n, t] * policy.grad_log_prob(th, ep.states[n, t], ep.actions[n, t])
        np.testing.assert_allclose(pg.advantage_gradient(policy, th, ep, adv, gamma), expect / ep.n_episodes, **tol)


def test_small_batches_mix_terminated_and_truncated():
    for seed in range(10):
        ep = small_batch(seed)[2]
        assert ep.terminated.any() and ep.truncated.any(), seed


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), gamma=st.floats(0.0, 1.0))
def test_gae_limits(seed, gamma):
    """GAE(0) = TD error; GAE(1) = G_t - V(s_t) + gamma^(T-t) V(s_T) on truncated episodes only."""
    mdp, pi, ep, rng = small_batch(seed, gamma=gamma)
    V = rng.normal(size=mdp.S)
    np.testing.assert_allclose(pg.gae(ep, V, gamma, 0.0), pg.td_errors(ep, V, gamma), atol=1e-12)
    G = ref_returns(ep.rewards, gamma, ep.mask)
    T = ep.horizon
    t = np.arange(T)
    boot = np.where(ep.truncated[:, -1:], gamma ** (T - t) * V[ep.next_states[:, -1:]], 0.0)
    expect = (G - V[ep.states] + boot) * ep.mask
    np.testing.assert_allclose(pg.gae(ep, V, gamma, 1.0), expect, atol=1e-10)
    # discounted_returns' bootstrap argument gives the same truncated-horizon correction
    Gb = pg.discounted_returns(ep.rewards, gamma, ep.mask,
                               bootstrap=np.where(ep.truncated[:, -1], V[ep.next_states[:, -1]], 0))
    np.testing.assert_allclose(Gb - V[ep.states] * ep.mask, expect, atol=1e-10)


def test_returns_special_cases():
    r = np.array([[1.0, 2.0, 3.0, 4.0]])
    m = np.array([[1.0, 1.0, 1.0, 0.0]])
    np.testing.assert_allclose(pg.discounted_returns(r, 0.5, m), [[1 + 1 + 0.75, 2 + 1.5, 3, 0]])
    np.testing.assert_allclose(pg.discounted_returns(r, 0.0, m), r * m)
    np.testing.assert_allclose(pg.discounted_returns(r, 1.0), [[10, 9, 7, 4]])
    np.testing.assert_allclose(pg.discounted_returns(r, 1.0, m, bootstrap=[100.0]), [[6, 5, 3, 0]])
    np.testing.assert_allclose(pg.discounted_returns(r, 0.5, bootstrap=[16.0]),
                               [[1 + 1 + .75 + .5 + 1, 2 + 1.5 + 1 + 2, 3 + 2 + 4, 4 + 8]])


# --- sampled means vs exact ------------------------------------------------------------------------------

def test_td_error_given_s_a_is_the_advantage_with_the_true_V():
    """E[delta_t | s_t, a_t] = A(s, a) with the true V; a wrong V gives a detectably biased estimate."""
    rng = np.random.default_rng(21)
    mdp = pg.random_mdp(5, 3, 0.9, rng, n_terminal=1)
    pi = rand_pi(rng, 5, 3)
    ev = pg.evaluate(mdp, pi)
    ep = pg.sample_episodes(mdp, pi, 3000, 40, np.random.default_rng(22))

    def per_sa(delta):
        real = ep.mask == 1
        s, a, x = ep.states[real], ep.actions[real], delta[real]
        mean, se, cnt = np.zeros((5, 3)), np.zeros((5, 3)), np.zeros((5, 3))
        for i in range(5):
            for j in range(3):
                xs = x[(s == i) & (a == j)]
                cnt[i, j] = xs.size
                if xs.size > 1:
                    mean[i, j], se[i, j] = xs.mean(), xs.std(ddof=1) / np.sqrt(xs.size)
        return mean, se, cnt

    mean, se, cnt = per_sa(pg.td_errors(ep, ev.V, mdp.gamma))
    live = ~mdp.terminal
    assert cnt[live].min() >= 200
    assert_within_5_se(mean[live], se[live], ev.A[live], "E[delta | s, a]")
    V_wrong = ev.V + rng.normal(size=5) * 0.5 * ~mdp.terminal
    mean_w, se_w, _ = per_sa(pg.td_errors(ep, V_wrong, mdp.gamma))
    assert np.max(np.abs(mean_w[live] - ev.A[live]) / se_w[live]) > 5, "a learned (wrong) V is biased"


def _reinforce_samples(policy, theta, ep, gamma, baseline=None, discount_scores=True):
    """Per-episode REINFORCE gradients (N, S, A) for the tabular policy, built from counts (not score_sum)."""
    N, T = ep.states.shape
    G = ref_returns_fast(ep.rewards, gamma, ep.mask)
    b = 0.0 if baseline is None else baseline[ep.states]
    w = (G - b) * ep.mask * (gamma ** np.arange(T) if discount_scores else 1.0)
    W = np.zeros((N, policy.S, policy.A))
    np.add.at(W, (np.repeat(np.arange(N), T), ep.states.ravel(), ep.actions.ravel()), w.ravel())
    return W - W.sum(axis=2, keepdims=True) * policy.probs(theta)[None]


def ref_returns_fast(rewards, gamma, mask):
    """G_t as a discounted matrix product (T x T upper-triangular weights): a third way to compute returns."""
    T = rewards.shape[1]
    k = np.arange(T)
    Wt = np.where(k[None, :] >= k[:, None], gamma ** np.maximum(k[None, :] - k[:, None], 0), 0.0)
    return (rewards * mask) @ Wt.T * mask


@pytest.fixture(scope="module")
def reinforce_case():
    rng = np.random.default_rng(31)
    mdp = pg.random_mdp(4, 3, 0.9, rng, n_terminal=1)
    tab = pg.SoftmaxPolicy.tabular(4, 3)
    theta = rng.normal(size=(4, 3))
    ev = pg.evaluate(mdp, tab.probs(theta))
    ep = pg.sample_episodes(mdp, ev.pi, 6000, 250, np.random.default_rng(32))
    return mdp, tab, theta, ev, ep


@pytest.mark.parametrize("with_baseline", [False, True])
def test_reinforce_gradient_is_unbiased(reinforce_case, with_baseline):
    mdp, tab, theta, ev, ep = reinforce_case
    b = ev.V if with_baseline else None
    samples = _reinforce_samples(tab, theta, ep, mdp.gamma, b)
    g = pg.reinforce_gradient(tab, theta, ep, mdp.gamma, baseline=b)
    np.testing.assert_allclose(g, samples.mean(axis=0), atol=1e-10)
    se = samples.std(axis=0, ddof=1) / np.sqrt(ep.n_episodes)
    exact = pg.policy_gradient(mdp, tab, theta)
    live = ~mdp.terminal
    assert_within_5_se(g[live], se[live], exact[live], "REINFORCE")
    # power: dropping the gamma^t factor on the scores is a detectable bias
    wrong = _reinforce_samples(tab, theta, ep, mdp.gamma, b, discount_scores=False).mean(axis=0)
    assert np.max(np.abs(wrong[live] - exact[live]) / se[live]) > 5


def test_baseline_lowers_the_variance(reinforce_case):
    """b = V lowers the variance here (on this MDP by a factor ~2; not a theorem for every MDP)."""
    mdp, tab, theta, ev, ep = reinforce_case
    var0 = _reinforce_samples(tab, theta, ep, mdp.gamma).var(axis=0).sum()
    var1 = _reinforce_samples(tab, theta, ep, mdp.gamma, ev.V).var(axis=0).sum()
    assert var1 < 0.8 * var0


def test_gae_gradient_with_true_V_and_lambda_one_is_unbiased(reinforce_case):
    """advantage_gradient with GAE(lam = 1) and the true V equals REINFORCE with baseline V here
    (no truncated episode remains at T = 250 for this seed), so it is unbiased too."""
    mdp, tab, theta, ev, ep = reinforce_case
    assert not ep.truncated.any()
    g_gae = pg.advantage_gradient(tab, theta, ep, pg.gae(ep, ev.V, mdp.gamma, 1.0), mdp.gamma)
    np.testing.assert_allclose(g_gae, pg.reinforce_gradient(tab, theta, ep, mdp.gamma, baseline=ev.V), atol=1e-10)


def test_mc_values_and_td0_values_reference():
    mdp, pi, ep, rng = small_batch(7, N=200, T=30)
    G = ref_returns(ep.rewards, mdp.gamma, ep.mask)
    expect = np.zeros(mdp.S)
    for s in range(mdp.S):
        sel = (ep.states == s) & (ep.mask == 1)
        expect[s] = G[sel].mean() if sel.any() else 0.0
    np.testing.assert_allclose(pg.mc_values(ep, mdp.S, mdp.gamma), expect, atol=1e-12)
    # batch TD(0) converges to the certainty-equivalence solution of the batch's empirical model
    real = ep.mask == 1
    s, s2, r, done = ep.states[real], ep.next_states[real], ep.rewards[real], ep.terminated[real]
    S = mdp.S
    cnt = np.bincount(s, minlength=S).astype(float)
    P_hat = np.zeros((S, S))
    np.add.at(P_hat, (s[~done], s2[~done]), 1.0)
    seen = cnt > 0
    P_hat[seen] /= cnt[seen, None]
    r_hat = np.divide(np.bincount(s, weights=r, minlength=S), cnt, out=np.zeros(S), where=seen)
    V_ce = np.zeros(S)
    V_ce[seen] = np.linalg.solve(np.eye(seen.sum()) - mdp.gamma * P_hat[np.ix_(seen, seen)], r_hat[seen])
    V_td = pg.td0_values(ep, S, mdp.gamma, alpha=0.5, n_sweeps=1500)
    np.testing.assert_allclose(V_td[seen], V_ce[seen], atol=1e-9)
    # one sweep moves V(s) by alpha times the mean TD error of the steps taken from s
    V0 = rng.normal(size=S)
    delta = ref_td(ep, V0, mdp.gamma)
    expect = V0.copy()
    for x in range(S):
        sel = (ep.states == x) & (ep.mask == 1)
        if sel.any():
            expect[x] += 0.3 * delta[sel].mean()
    np.testing.assert_allclose(pg.td0_values(ep, S, mdp.gamma, alpha=0.3, n_sweeps=1, V0=V0), expect, atol=1e-12)
    np.testing.assert_array_equal(pg.td0_values(ep, S, mdp.gamma, n_sweeps=0, V0=V0), V0)


@pytest.mark.parametrize("linear", [False, True])
def test_per_episode_gradients_average_to_advantage_gradient(linear):
    """Identity: mean_n g_n = advantage_gradient, and each g_n is the one-episode advantage_gradient."""
    rng = np.random.default_rng(11)
    mdp = pg.random_mdp(5, 3, 0.9, rng, n_terminal=1)
    policy = pg.SoftmaxPolicy(rng.normal(size=(5, 3, 4))) if linear else pg.SoftmaxPolicy.tabular(5, 3)
    theta = rng.normal(size=policy.theta_shape)
    ep = pg.sample_episodes(mdp, policy.probs(theta), 40, 12, np.random.default_rng(3))
    adv = pg.gae(ep, rng.normal(size=5), mdp.gamma, 0.7)
    g = pg.per_episode_gradients(policy, theta, ep, adv, mdp.gamma)
    assert g.shape == (40,) + policy.theta_shape
    assert np.allclose(g.mean(axis=0), pg.advantage_gradient(policy, theta, ep, adv, mdp.gamma))
    one = pg.Episodes(*(x[7:8] for x in (ep.states, ep.actions, ep.rewards, ep.next_states, ep.mask,
                                          ep.terminated, ep.truncated)))
    assert np.allclose(g[7], pg.advantage_gradient(policy, theta, one, adv[7:8], mdp.gamma))


# --- n-step advantages and the lambda-return mix ------------------------------------------------------------

def ref_n_step(ep, V, gamma, n):
    """The definition, one step at a time: sum_{k<m} gamma^k r_{t+k} + gamma^m V(s_{t+m}) - V(s_t), m = min(n,
    steps left); no bootstrap after a termination, the last next state's V after a truncation."""
    N, T = ep.states.shape
    out = np.zeros((N, T))
    for i in range(N):
        L = int(ep.mask[i].sum())
        for t in range(L):
            m = min(n, L - t)
            G = sum(gamma ** k * ep.rewards[i, t + k] for k in range(m))
            last = t + m - 1
            if not ep.terminated[i, last]:
                G += gamma ** m * V[ep.next_states[i, last]]
            out[i, t] = G - V[ep.states[i, t]]
    return out


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), gamma=st.one_of(st.just(1.0), st.floats(0.0, 1.0)), n=st.integers(1, 11))
def test_n_step_advantages_match_the_definition(seed, gamma, n):
    mdp, pi, ep, rng = small_batch(seed % 1000, N=30, T=8)
    assert ep.terminated.any() and ep.truncated.any()
    V = rng.normal(size=mdp.S)
    np.testing.assert_allclose(pg.n_step_advantages(ep, V, gamma, n), ref_n_step(ep, V, gamma, n), atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_n_step_limits(seed):
    mdp, pi, ep, rng = small_batch(seed, N=60, T=10)
    V = rng.normal(size=mdp.S)
    g = 0.9
    np.testing.assert_array_equal(pg.n_step_advantages(ep, V, g, 1), pg.td_errors(ep, V, g))
    for n in (10, 11, 1000):  # n >= T
        np.testing.assert_array_equal(pg.n_step_advantages(ep, V, g, n), pg.gae(ep, V, g, 1.0))
    assert np.all(pg.n_step_advantages(ep, V, g, 3)[ep.mask == 0] == 0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lam", [0.0, 0.3, 0.95, 1.0])
def test_gae_is_the_lambda_mix_of_n_step_advantages(seed, lam):
    """gae(lam) = sum_{n=1}^{T-1} (1 - lam) lam^(n-1) A^(n) + lam^(T-1) A^(T) on a horizon-T batch, and per step
    with M = steps left: sum_{n<M} (1 - lam) lam^(n-1) A^(n)_t + lam^(M-1) A^(M)_t (A^(n) = A^(M) for n >= M)."""
    rng = np.random.default_rng(seed)
    mdp, pi, ep, _ = small_batch(seed, N=80, T=int(rng.integers(2, 13)))
    assert ep.terminated.any() and ep.truncated.any()
    V = rng.normal(size=mdp.S)
    g = float(rng.uniform(0.5, 1.0))
    T = ep.horizon
    A = {n: pg.n_step_advantages(ep, V, g, n) for n in range(1, T + 1)}
    mix = sum((1 - lam) * lam ** (n - 1) * A[n] for n in range(1, T)) + lam ** (T - 1) * A[T]
    np.testing.assert_allclose(mix, pg.gae(ep, V, g, lam), rtol=0, atol=1e-10)
    left = (ep.mask[:, ::-1].cumsum(axis=1)[:, ::-1] * ep.mask).astype(int)  # M = steps left, 0 after the end
    per_step = np.zeros(ep.states.shape)
    for (i, t), M in np.ndenumerate(left):
        if M:
            per_step[i, t] = (sum((1 - lam) * lam ** (n - 1) * A[n][i, t] for n in range(1, M))
                              + lam ** (M - 1) * A[M][i, t])
    np.testing.assert_allclose(per_step, pg.gae(ep, V, g, lam), rtol=0, atol=1e-10)
