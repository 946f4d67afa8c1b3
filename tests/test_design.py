"""Estimator design (pgcourse.design): linear critics, the sampled compatible critic, the dropped-discount
direction and its non-symmetric Jacobian."""
import numpy as np
import pytest
from hypothesis import given

import pgcourse as pg
from pgcourse import design, natural
from tests._strategies import FAST, mdp_cases


@FAST
@given(mdp_cases(max_S=5, max_A=3, min_A=2))
def test_compatible_features_give_grad_U_and_others_do_not(case):
    mdp, rng = case
    K = 2
    pol = pg.SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, K)))
    theta = rng.normal(size=K)
    g = pg.policy_gradient(mdp, pol, theta)
    psi = natural.score_features(pol, theta)
    v, f = design.linear_critic(mdp, pol, theta, psi)
    np.testing.assert_allclose(design.critic_gradient(mdp, pol, theta, f), g, atol=1e-9 * (1 + np.abs(g).max()))
    np.testing.assert_allclose(v, pg.compatible_critic(mdp, pol, theta), atol=1e-8 * (1 + np.abs(v).max()))
    ev = pg.evaluate(mdp, pol.probs(theta))
    np.testing.assert_allclose(design.critic_gradient(mdp, pol, theta, ev.A), g, atol=1e-10 * (1 + np.abs(g).max()))
    np.testing.assert_allclose(design.critic_gradient(mdp, pol, theta, ev.Q), g, atol=1e-10 * (1 + np.abs(g).max()))


def test_a_non_compatible_critic_is_biased():
    rng = np.random.default_rng(0)
    mdp = pg.random_mdp(5, 3, 0.9, rng)
    pol = pg.SoftmaxPolicy(rng.normal(size=(5, 3, 2)))
    theta = rng.normal(size=2)
    g = pg.policy_gradient(mdp, pol, theta)
    _, f = design.linear_critic(mdp, pol, theta, rng.normal(size=(5, 3, 2)))
    assert np.linalg.norm(design.critic_gradient(mdp, pol, theta, f) - g) > 0.05 * np.linalg.norm(g)


def test_sampled_compatible_critic_tends_to_exact():
    rng = np.random.default_rng(1)
    mdp = pg.random_mdp(4, 3, 0.8, rng, reward_noise=0.5)
    tab = pg.SoftmaxPolicy.tabular(4, 3)
    theta = rng.normal(size=(4, 3))
    ev = pg.evaluate(mdp, tab.probs(theta))
    w = pg.compatible_critic(mdp, tab, theta)
    errs = []
    for N in (200, 20000):
        ep = pg.sample_episodes(mdp, ev.pi, N, 80, np.random.default_rng(N))
        G = pg.discounted_returns(ep.rewards, mdp.gamma, ep.mask)
        ws = design.sampled_compatible_critic(tab, theta, ep, (G - ev.V[ep.states]) * ep.mask, mdp.gamma)
        errs.append(np.abs(ws - w).max())
    assert errs[1] < errs[0] and errs[1] < 0.1 * np.abs(w).max()


@pytest.mark.parametrize("seed", range(4))
def test_dropped_discount_direction(seed):
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(5, 3, 0.9, rng, n_terminal=1)
    tab = pg.SoftmaxPolicy.tabular(5, 3)
    theta = rng.normal(size=(5, 3))
    pi = tab.probs(theta)
    eta = design.undiscounted_visits(mdp, pi)
    np.testing.assert_allclose(eta, design.undiscounted_visits(mdp, pi, horizon=2000), rtol=1e-8, atol=1e-10)
    drop = design.dropped_discount_direction(mdp, tab, theta)
    g = pg.policy_gradient(mdp, tab, theta)
    assert np.linalg.norm(drop - g) > 1e-3 * np.linalg.norm(g)
    # gamma = 1: it is the gradient
    mdp1 = pg.TabularMDP(mdp.P, mdp.R, mdp.mu, 1.0, terminal=mdp.terminal)
    np.testing.assert_allclose(design.dropped_discount_direction(mdp1, tab, theta),
                               pg.policy_gradient(mdp1, tab, theta), atol=1e-9)
    # not a gradient field: asymmetric Jacobian; the true gradient's is symmetric
    assert design.jacobian_asymmetry(lambda th: design.dropped_discount_direction(mdp, tab, th), theta) > 1e-3
    assert design.jacobian_asymmetry(lambda th: pg.policy_gradient(mdp, tab, th), theta) < 1e-6


def test_sampled_dropped_direction_matches_exact():
    from tests._stats import assert_within_5_se
    rng = np.random.default_rng(3)
    mdp = pg.random_mdp(4, 2, 0.9, rng, n_terminal=1, reward_noise=0.5)
    tab = pg.SoftmaxPolicy.tabular(4, 2)
    theta = rng.normal(size=(4, 2))
    ev = pg.evaluate(mdp, tab.probs(theta))
    T = 100
    ep = pg.sample_episodes(mdp, ev.pi, 6000, T, np.random.default_rng(4))
    G = pg.discounted_returns(ep.rewards, mdp.gamma, ep.mask)
    x = pg.per_episode_gradients(tab, theta, ep, (G - ev.V[ep.states]) * ep.mask, 1.0)  # no gamma^t
    m, se = pg.mean_se(x)
    assert_within_5_se(m, se, design.dropped_discount_direction(mdp, tab, theta, horizon=T), "dropped")
