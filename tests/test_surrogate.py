"""Surrogate objectives (pgcourse.surrogate): the performance difference lemma, the surrogate's first-order
agreement with U, TRPO's bound, PPO's clipped objective, KL helpers, the KL-constrained step.

Random MDPs with and without terminal states (gamma = 1 episodic wherever the statement is defined);
references are U from `evaluate` and central finite differences.
"""
import numpy as np
import pytest
from hypothesis import given

import pgcourse as pg
from pgcourse import surrogate as sg
from tests._strategies import FAST, mdp_cases, scale_of


def _pair(rng, S, A, spread=None):
    t0 = rng.normal(size=(S, A)) * 2
    spread = rng.choice([0.01, 0.3, 3.0]) if spread is None else spread
    return t0, t0 + spread * rng.normal(size=(S, A))


def _fd(f, theta, eps=1e-6):
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        g[i] = (f(tp) - f(tm)) / (2 * eps)
    return g


@FAST
@given(mdp_cases())
def test_performance_difference_lemma(case):
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    t0, t1 = _pair(rng, mdp.S, mdp.A)
    pi, pi_new = tab.probs(t0), tab.probs(t1)
    ev0, ev1 = pg.evaluate(mdp, pi), pg.evaluate(mdp, pi_new)
    pdl = sg.performance_difference(mdp, pi, pi_new)
    assert abs(pdl - (ev1.U - ev0.U)) <= 1e-10 * max(scale_of(ev0), scale_of(ev1))
    # antisymmetric in meaning: swapping the roles gives U(pi) - U(pi_new)
    assert abs(sg.performance_difference(mdp, pi_new, pi) + pdl) <= 1e-10 * max(scale_of(ev0), scale_of(ev1))
    if mdp.terminal.sum() == 0 and mdp.gamma < 1:
        # = 1/(1-gamma) E_{d^new, pi_new}[A^old]
        alt = (ev1.d @ (pi_new * ev0.A).sum(axis=1)) / (1 - mdp.gamma)
        assert abs(alt - pdl) <= 1e-9 * scale_of(ev0)


def test_performance_difference_order_matters():
    """The old policy's visits in place of the new one's give the surrogate gap, not U(new) - U(old)."""
    rng = np.random.default_rng(0)
    mdp = pg.random_mdp(5, 3, 0.9, rng)
    tab = pg.SoftmaxPolicy.tabular(5, 3)
    t0, t1 = _pair(rng, 5, 3, spread=3.0)
    pi, pi_new = tab.probs(t0), tab.probs(t1)
    wrong = pg.evaluate(mdp, pi).visits @ (pi_new * pg.evaluate(mdp, pi).A).sum(axis=1)
    right = pg.evaluate(mdp, pi_new).U - pg.evaluate(mdp, pi).U
    assert abs(sg.performance_difference(mdp, pi, pi_new) - right) < 1e-10
    assert abs(wrong - right) > 1e-3


@FAST
@given(mdp_cases(max_S=5, max_A=3))
def test_surrogate_matches_value_and_gradient_at_theta_old(case):
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    t0, t1 = _pair(rng, mdp.S, mdp.A)
    ev = pg.evaluate(mdp, tab.probs(t0))
    sc = scale_of(ev)
    assert abs(sg.surrogate_objective(mdp, tab, t0, t0) - ev.U) <= 1e-12 * sc
    g = pg.policy_gradient(mdp, tab, t0)
    fd = _fd(lambda th: sg.surrogate_objective(mdp, tab, t0, th), t0)
    np.testing.assert_allclose(fd, g, atol=1e-6 * sc)
    np.testing.assert_allclose(sg.surrogate_gradient(mdp, tab, t0, t0), g, atol=1e-12 * sc)
    # away from theta_old, surrogate_gradient is the gradient of surrogate_objective (not of U)
    fd1 = _fd(lambda th: sg.surrogate_objective(mdp, tab, t0, th), t1)
    np.testing.assert_allclose(sg.surrogate_gradient(mdp, tab, t0, t1), fd1, atol=1e-6 * sc)


def test_surrogate_with_linear_features():
    rng = np.random.default_rng(5)
    mdp = pg.random_mdp(4, 3, 0.9, rng, n_terminal=1)
    pol = pg.SoftmaxPolicy(rng.normal(size=(4, 3, 2)))
    t0 = rng.normal(size=2)
    fd = _fd(lambda th: sg.surrogate_objective(mdp, pol, t0, th), t0)
    np.testing.assert_allclose(fd, pg.policy_gradient(mdp, pol, t0), atol=1e-7)


@FAST
@given(mdp_cases(max_gamma=0.99))
def test_trpo_bound_holds_on_random_pairs(case):
    """Schulman et al. 2015, Thm 1: U(new) >= L_old(new) - C max_s KL(old || new), C = 4 eps gamma/(1-gamma)^2,
    eps = max |A^old|; and the tighter TV^2 form. gamma = 1: C = inf, the bound is vacuous."""
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    t0, t1 = _pair(rng, mdp.S, mdp.A)
    U1 = pg.evaluate(mdp, tab.probs(t1)).U
    kl_bound = sg.trpo_lower_bound(mdp, tab, t0, t1, "kl")
    tv_bound = sg.trpo_lower_bound(mdp, tab, t0, t1, "tv")
    if mdp.gamma == 1.0:
        assert kl_bound == -np.inf and sg.trpo_constant(mdp, tab.probs(t0)) == np.inf
        return
    sc = scale_of(pg.evaluate(mdp, tab.probs(t0)))
    assert tv_bound >= kl_bound - 1e-12 * sc  # TV^2 <= KL (Pinsker)
    assert U1 >= tv_bound - 1e-10 * sc
    ev0 = pg.evaluate(mdp, tab.probs(t0))
    C = 4 * np.abs(ev0.A).max() * mdp.gamma / (1 - mdp.gamma) ** 2
    assert sg.trpo_constant(mdp, tab.probs(t0)) == pytest.approx(C, rel=1e-12)


def test_trpo_bound_is_informative_for_small_steps():
    """For a small step the bound's penalty is second order: the bound is above U(old) along the gradient."""
    rng = np.random.default_rng(1)
    mdp = pg.random_mdp(4, 3, 0.5, rng)
    tab = pg.SoftmaxPolicy.tabular(4, 3)
    t0 = rng.normal(size=(4, 3))
    g = pg.policy_gradient(mdp, tab, t0)
    U0 = pg.evaluate(mdp, tab.probs(t0)).U
    t1 = t0 + 1e-3 * g / np.linalg.norm(g)
    assert sg.trpo_lower_bound(mdp, tab, t0, t1) > U0


@FAST
@given(mdp_cases(max_S=5, max_A=3))
def test_clipped_objective(case):
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    t0, t1 = _pair(rng, mdp.S, mdp.A)
    sc = scale_of(pg.evaluate(mdp, tab.probs(t0)))
    L = sg.surrogate_objective(mdp, tab, t0, t1)
    assert sg.clipped_objective(mdp, tab, t0, t1, np.inf) == pytest.approx(L, abs=1e-12 * sc)
    for eps in (0.05, 0.2, 1.0):
        assert sg.clipped_objective(mdp, tab, t0, t1, eps) <= L + 1e-12 * sc
    # ratios all inside [1 - eps, 1 + eps]: equal to the surrogate
    eps = 0.2
    t_in = t0 + 0.02 * rng.uniform(-1, 1, size=t0.shape)
    r = tab.probs(t_in) / tab.probs(t0)
    assert np.all((r > 1 - eps) & (r < 1 + eps))
    assert sg.clipped_objective(mdp, tab, t0, t_in, eps) == pytest.approx(
        sg.surrogate_objective(mdp, tab, t0, t_in), abs=1e-12 * sc)
    # the gradient (away from the kinks) against finite differences
    fd = _fd(lambda th: sg.clipped_objective(mdp, tab, t0, th, eps), t1, eps=1e-7)
    ratio = tab.probs(t1) / tab.probs(t0)
    if np.abs(np.abs(ratio - 1) - eps).min() > 1e-4:
        np.testing.assert_allclose(sg.clipped_gradient(mdp, tab, t0, t1, eps), fd, atol=1e-5 * sc)


@FAST
@given(mdp_cases(max_S=4, max_A=3, min_A=2))
def test_clipped_objective_max(case):
    """The returned maximiser attains the returned value; no random policy beats it; closed form when the
    positive-advantage caps fit: U_old + eps sum_s visits sum_a pi_old |A|."""
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    t0 = rng.normal(size=(mdp.S, mdp.A))
    pi0 = tab.probs(t0)
    ev = pg.evaluate(mdp, pi0)
    for eps in (0.1, 0.3):
        value, pi = sg.clipped_objective_max(mdp, pi0, eps)
        np.testing.assert_allclose(pi.sum(axis=1), 1.0, atol=1e-12)
        assert pi.min() >= 0

        def clipped(p, eps=eps):
            return ev.U + ev.visits @ sg._clipped_terms(pi0, p, ev.A, eps).sum(axis=1)

        sc = scale_of(ev)
        assert clipped(pi) == pytest.approx(value, abs=1e-10 * sc)
        for q in rng.dirichlet(np.full(mdp.A, 0.5), size=(200, mdp.S)):
            assert clipped(q) <= value + 1e-10 * sc
        if ((1 + eps) * (pi0 * (ev.A > 0)).sum(axis=1) <= 1).all():
            assert value == pytest.approx(ev.U + eps * ev.visits @ (pi0 * np.abs(ev.A)).sum(axis=1), abs=1e-10 * sc)


@FAST
@given(mdp_cases(max_S=5, max_A=3))
def test_greedy_policy_is_the_surrogate_maximiser_and_improves(case):
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    pi = tab.probs(rng.normal(size=(mdp.S, mdp.A)))
    ev = pg.evaluate(mdp, pi)
    g = sg.greedy_policy(mdp, pi)
    sc = scale_of(ev)

    def L(p):
        return ev.U + ev.visits @ (p * ev.A).sum(axis=1)

    for q in rng.dirichlet(np.ones(mdp.A), size=(50, mdp.S)):
        assert L(q) <= L(g) + 1e-10 * sc
    assert pg.evaluate(mdp, g).U >= ev.U - 1e-10 * sc


@FAST
@given(mdp_cases(max_S=5, max_A=3, min_A=2))
def test_kl_helpers(case):
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    t0, t1 = _pair(rng, mdp.S, mdp.A)
    p, q = tab.probs(t0), tab.probs(t1)
    kl = sg.kl_divergence(p, q)
    assert kl.shape == (mdp.S,) and kl.min() >= 0
    np.testing.assert_allclose(sg.kl_divergence(p, p), 0.0, atol=1e-15)
    ref = (p * (np.log(p) - np.log(q))).sum(axis=1)
    np.testing.assert_allclose(kl, np.maximum(ref, 0), rtol=1e-9, atol=1e-15)
    live = ~mdp.terminal
    assert sg.max_kl(mdp, p, q) == pytest.approx(kl[live].max())
    tv = 0.5 * np.abs(p - q).sum(axis=1)
    assert sg.max_tv(mdp, p, q) == pytest.approx(tv[live].max())
    assert np.all(tv ** 2 <= kl + 1e-15)  # Pinsker: TV <= sqrt(KL / 2)
    assert sg.mean_kl(mdp, p, q) == pytest.approx(pg.evaluate(mdp, p).d @ kl)


def test_kl_with_zero_probabilities():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    q = np.array([[0.5, 0.5], [1.0, 0.0]])
    kl = sg.kl_divergence(p, q)
    assert kl[0] == pytest.approx(np.log(2)) and kl[1] == np.inf


@pytest.mark.parametrize("seed", range(5))
def test_kl_constrained_step(seed):
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(5, 3, 0.9, rng)
    tab = pg.SoftmaxPolicy.tabular(5, 3)
    t0 = rng.normal(size=(5, 3))
    U0 = pg.evaluate(mdp, tab.probs(t0)).U
    for delta in (1e-3, 1e-2, 0.1):
        t1, info = sg.kl_constrained_step(mdp, tab, t0, delta)
        assert info["mean_kl"] <= delta
        assert sg.mean_kl(mdp, tab.probs(t0), tab.probs(t1)) == pytest.approx(info["mean_kl"])
        assert info["surrogate"] > U0
        if delta <= 1e-2:
            assert info["U"] > U0


def test_bad_input():
    mdp = pg.random_mdp(3, 2, 0.9, np.random.default_rng(0))
    tab = pg.SoftmaxPolicy.tabular(3, 2)
    z = tab.zeros()
    with pytest.raises(ValueError, match="pi_new"):
        sg.performance_difference(mdp, np.full((3, 2), 0.5), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\bpi\b"):
        sg.performance_difference(mdp, np.ones((2, 2)), np.full((3, 2), 0.5))
    with pytest.raises(TypeError, match="mdp"):
        sg.performance_difference(None, np.full((3, 2), 0.5), np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="theta_old"):
        sg.surrogate_objective(mdp, tab, np.zeros(3), z)
    with pytest.raises(ValueError, match="theta"):
        sg.surrogate_objective(mdp, tab, z, np.zeros(3))
    with pytest.raises(TypeError, match="policy"):
        sg.surrogate_objective(mdp, None, z, z)
    for bad in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="eps"):
            sg.clipped_objective(mdp, tab, z, z, bad)
    with pytest.raises(TypeError, match="eps"):
        sg.clipped_objective(mdp, tab, z, z, "0.2")
    with pytest.raises(ValueError, match="divergence"):
        sg.trpo_lower_bound(mdp, tab, z, z, "js")
    with pytest.raises(ValueError, match="max_mean_kl"):
        sg.kl_constrained_step(mdp, tab, z, 0.0)


@pytest.mark.parametrize("n_terminal,gamma", [(0, 0.9), (1, 1.0)])
def test_sampled_surrogate_estimates(n_terminal, gamma):
    """From the old policy's episodes (realised rewards): with G_t - V(s_t) the unclipped estimate is unbiased
    for L_old - U_old; with the exact A^old(s_t, a_t) the clipped one is unbiased for the exact clipped objective."""
    from tests._stats import assert_within_5_se
    rng = np.random.default_rng(11)
    mdp = pg.random_mdp(5, 3, gamma, rng, n_terminal=n_terminal, reward_noise=1.0)
    tab = pg.SoftmaxPolicy.tabular(5, 3)
    t0, t1 = _pair(rng, 5, 3, spread=0.5)
    ev = pg.evaluate(mdp, tab.probs(t0))
    ep = pg.sample_episodes(mdp, tab.probs(t0), 8000, 150, np.random.default_rng(12))
    G = pg.discounted_returns(ep.rewards, gamma, ep.mask)
    adv = (G - ev.V[ep.states]) * ep.mask
    x = sg.surrogate_estimates(tab, t0, t1, ep, adv, gamma)
    assert_within_5_se(*pg.mean_se(x), sg.surrogate_objective(mdp, tab, t0, t1) - ev.U, "surrogate")
    x = sg.surrogate_estimates(tab, t0, t1, ep, ev.A[ep.states, ep.actions], gamma, eps=0.2)
    assert_within_5_se(*pg.mean_se(x), sg.clipped_objective(mdp, tab, t0, t1, 0.2) - ev.U, "clipped")


def test_step_to_kl_and_line_profile():
    rng = np.random.default_rng(4)
    mdp = pg.random_mdp(4, 3, 0.9, rng)
    tab = pg.SoftmaxPolicy.tabular(4, 3)
    t0 = rng.normal(size=(4, 3))
    d = pg.policy_gradient(mdp, tab, t0)
    t = sg.step_to_kl(mdp, tab, t0, d, 0.01)
    assert sg.mean_kl(mdp, tab.probs(t0), tab.probs(t0 + t * d)) == pytest.approx(0.01, rel=1e-6)
    steps = np.array([0.0, 0.5 * t, t])
    prof = sg.line_profile(mdp, tab, t0, d, steps, eps_values=[0.2, np.inf])
    for i, s in enumerate(steps):
        th = t0 + s * d
        assert prof["U"][i] == pytest.approx(pg.evaluate(mdp, tab.probs(th)).U, abs=1e-12)
        assert prof["L"][i] == pytest.approx(sg.surrogate_objective(mdp, tab, t0, th), abs=1e-12)
        assert prof["bound"][i] == pytest.approx(sg.trpo_lower_bound(mdp, tab, t0, th), abs=1e-10)
        assert prof["bound_tv"][i] == pytest.approx(sg.trpo_lower_bound(mdp, tab, t0, th, "tv"), abs=1e-10)
        assert prof["clipped"][0.2][i] == pytest.approx(sg.clipped_objective(mdp, tab, t0, th, 0.2), abs=1e-12)
    np.testing.assert_allclose(prof["clipped"][np.inf], prof["L"], atol=1e-12)
    assert prof["mean_kl"][-1] == pytest.approx(0.01, rel=1e-6)
