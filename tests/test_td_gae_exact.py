"""Exact TD/GAE expectations (pgcourse.analysis; notebooks 06-08) against identities and sampling."""
import numpy as np
import pytest

import pgcourse as pg


@pytest.fixture(scope="module")
def problem():
    mdp, policy, theta, T = pg.td_demo_problem()
    pi = policy.probs(theta)
    return mdp, policy, theta, T, pi, pg.evaluate(mdp, pi)


def test_expected_td_error_true_V_is_A(problem):
    mdp, _, _, _, _, ev = problem
    assert np.allclose(pg.expected_td_error(mdp, ev.V), ev.A)


def test_expected_td_error_bias_formula(problem):
    mdp, _, _, _, _, ev = problem
    e = pg.critic_error_direction(mdp)
    live = ~mdp.terminal
    bias = pg.expected_td_error(mdp, ev.V + e) - ev.A
    assert np.allclose(bias[live], (mdp.gamma * mdp.P @ e - e[:, None])[live])


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.9, 1.0])
def test_expected_gae_true_V_is_A_for_every_lambda(problem, lam):
    mdp, _, _, _, pi, ev = problem
    assert np.allclose(pg.expected_gae(mdp, pi, ev.V, lam), ev.A)
    assert np.allclose(pg.expected_gae(mdp, pi, ev.V, lam, n_steps=7), ev.A)


def test_expected_gae_lambda_one_is_A_minus_error(problem):
    mdp, _, _, _, pi, ev = problem
    e = pg.critic_error_direction(mdp)
    live = ~mdp.terminal
    assert np.allclose(pg.expected_gae(mdp, pi, ev.V + e, 1.0)[live], (ev.A - e[:, None])[live])


def test_finite_steps_tend_to_infinite_sum(problem):
    mdp, _, _, _, pi, ev = problem
    V_hat = ev.V + pg.critic_error_direction(mdp)
    assert np.allclose(pg.expected_gae(mdp, pi, V_hat, 0.8, n_steps=2000), pg.expected_gae(mdp, pi, V_hat, 0.8))
    assert np.allclose(pg.expected_gae(mdp, pi, V_hat, 0.8, n_steps=1), pg.expected_td_error(mdp, V_hat))


@pytest.mark.parametrize("V_kind,lam", [("zero", 1.0), ("true", 0.0), ("true", 0.7)])
def test_expected_gradient_estimate_long_horizon_is_grad_U(problem, V_kind, lam):
    mdp, policy, theta, _, _, ev = problem
    V = np.zeros(mdp.S) if V_kind == "zero" else ev.V
    assert np.allclose(pg.expected_gradient_estimate(mdp, policy, theta, V, lam, 3000),
                       pg.policy_gradient(mdp, policy, theta))


@pytest.mark.parametrize("lam", [0.0, 0.9])
def test_expected_gradient_estimate_matches_sampling(problem, lam):
    mdp, policy, theta, _, pi, ev = problem
    T = 8  # short horizon: many truncated episodes
    V_hat = ev.V + 0.5 * pg.critic_error_direction(mdp)
    ep = pg.sample_episodes(mdp, pi, 20000, T, np.random.default_rng(5))
    g = pg.per_episode_gradients(policy, theta, ep, pg.gae(ep, V_hat, mdp.gamma, lam), mdp.gamma)
    assert np.allclose(g.mean(0),
                       pg.advantage_gradient(policy, theta, ep, pg.gae(ep, V_hat, mdp.gamma, lam), mdp.gamma))
    Eg = pg.expected_gradient_estimate(mdp, policy, theta, V_hat, lam, T)
    se = g.std(0, ddof=1) / np.sqrt(len(g))
    live = ~mdp.terminal
    assert np.all(np.abs(g.mean(0) - Eg)[live] < 5 * se[live] + 1e-12)


def test_td0_converges_to_empirical_fixed_point(problem):
    mdp, _, _, T, pi, _ = problem
    ep = pg.sample_episodes(mdp, pi, 300, T, np.random.default_rng(2))
    V = pg.td0_values(ep, mdp.S, mdp.gamma, alpha=1.0, n_sweeps=400)
    assert np.allclose(V, pg.td_fixed_point(ep, S=mdp.S, gamma=mdp.gamma), atol=1e-8)


def test_score_estimator_rejects_bad_shapes(problem):
    mdp, policy, theta, T, pi, ev = problem
    ep = pg.sample_episodes(mdp, pi, 50, T, np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        pg.score_estimator("bad", lambda e, V, g: np.zeros(3), policy, theta, ep, ev.V, mdp.gamma, ev.A)


def _expected_gradient_by_definition(mdp, policy, theta, V_hat, lam, T):
    """sum_{t<T} gamma^t sum_{s,a} p_t(s) pi(a|s) grad log pi(a|s) A_lam^{(T-t)}(s, a), term by term."""
    pi = policy.probs(theta)
    p = pg.alive_distributions(mdp, pi, T)
    s_idx, a_idx = np.meshgrid(np.arange(mdp.S), np.arange(mdp.A), indexing="ij")
    score = policy.grad_log_prob(theta, s_idx, a_idx).reshape(mdp.S, mdp.A, *np.shape(theta))
    g = np.zeros(np.shape(theta))
    for t in range(T):
        A_k = pg.expected_gae(mdp, pi, V_hat, lam, n_steps=T - t)
        g += mdp.gamma ** t * np.tensordot(p[t][:, None] * pi * A_k, score, axes=([0, 1], [0, 1]))
    return g


def test_expected_gradient_estimates_batch_is_each_case_by_definition(problem):
    """(L, K) critics x lambdas at once (pg.exact.expected_gradient_estimates) equal the definition per case."""
    mdp, policy, theta, _, _, ev = problem
    rng = np.random.default_rng(3)
    V_hats = np.stack([ev.V, ev.V + pg.critic_error_direction(mdp), rng.normal(size=mdp.S)])
    lams, T = [0.0, 0.5, 1.0], 6
    E = pg.exact.expected_gradient_estimates(mdp, policy, theta, V_hats, lams, T)
    assert E.shape == (3, 3, *np.shape(theta))
    for i, lam in enumerate(lams):
        for k, V in enumerate(V_hats):
            ref = _expected_gradient_by_definition(mdp, policy, theta, V, lam, T)
            assert np.allclose(E[i, k], ref, rtol=1e-10, atol=1e-12), (lam, k)
            assert np.allclose(pg.expected_gradient_estimate(mdp, policy, theta, V, lam, T), ref, rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("bad", [dict(lams=[]), dict(lams=[1.5]), dict(V_hats=np.zeros((2, 1))),
                                 dict(V_hats=np.zeros(3))])
def test_expected_gradient_estimates_rejects_bad_input(problem, bad):
    mdp, policy, theta, _, _, ev = problem
    args = dict(V_hats=ev.V[None], lams=[0.5]) | bad
    with pytest.raises(ValueError, match="lams|V_hats"):
        pg.exact.expected_gradient_estimates(mdp, policy, theta, args["V_hats"], args["lams"], 5)
