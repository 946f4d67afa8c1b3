"""Convergence quantities (pgcourse.convergence): gradient domination with the mismatch coefficient, the
regularised optimum, Cen et al.'s linear rate for entropy-regularised NPG, the regularisation bias."""
import numpy as np
import pytest
from hypothesis import given

import pgcourse as pg
from pgcourse import convergence as cv
from tests._strategies import FAST, mdp_cases, unit_rewards


@FAST
@given(mdp_cases(max_S=5, max_A=3, min_A=2))
def test_gradient_domination_holds(case):
    """||grad U|| >= min_s pi(a*|s) / (sqrt(S_live) kappa) (U* - U) at random theta (Mei et al. 2020, Lemma 8,
    in visit counts: valid with terminal states and gamma = 1 too)."""
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = rng.normal(size=(mdp.S, mdp.A)) * 2
    gd = cv.gradient_domination(mdp, tab, theta)
    assert gd["gap"] >= -1e-9 * (1 + abs(gd["gap"]))
    assert gd["grad_norm"] >= gd["bound"] - 1e-10 * (1 + gd["grad_norm"])
    assert gd["kappa"] > 0 and 0 < gd["min_pi_star"] <= 1


@FAST
@given(mdp_cases(max_S=5, max_A=3, episodic=False))
def test_mismatch_coefficient_at_least_one_without_terminals(case):
    mdp, rng = case
    pi = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A).probs(rng.normal(size=(mdp.S, mdp.A)))
    kappa = cv.mismatch_coefficient(mdp, pi)
    assert kappa >= 1 - 1e-12  # both visit vectors sum to 1/(1-gamma)
    assert cv.mismatch_coefficient(mdp, pg.optimal_values(mdp)[1]) == pytest.approx(1.0)


@FAST
@given(mdp_cases(max_S=5, max_A=3, min_A=2))
def test_regularised_optimum(case):
    """Soft Bellman optimality V = tau logsumexp(Q/tau), pi = softmax(Q/tau); the regularised gradient is 0
    there; no random policy has a larger U_tau."""
    mdp, rng = case
    tau = float(rng.choice([0.05, 0.5, 2.0]))
    V, pi = cv.regularised_optimum(mdp, tau)
    ev = pg.evaluate(mdp, pi, tau=tau)
    sc = 1 + np.abs(ev.Q).max()
    np.testing.assert_allclose(ev.V, V, atol=1e-10 * sc)
    live = ~mdp.terminal
    z = ev.Q / tau
    lse = tau * (np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)) + z.max(axis=1))
    np.testing.assert_allclose(V[live], lse[live], atol=1e-9 * sc)
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    g = pg.policy_gradient(mdp, tab, np.log(pi), tau=tau)
    np.testing.assert_allclose(g, 0.0, atol=1e-8 * sc)
    for _ in range(20):
        q = tab.probs(rng.normal(size=(mdp.S, mdp.A)) * 2)
        assert pg.evaluate(mdp, q, tau=tau).U <= ev.U + 1e-10 * sc


@pytest.mark.parametrize("seed", range(6))
def test_regularisation_bias_within_bound(seed):
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(5, 3, 0.9, rng)
    U_star = float(mdp.mu @ pg.optimal_values(mdp)[0])
    for tau in (0.01, 0.1, 1.0):
        _, pi = cv.regularised_optimum(mdp, tau)
        bias = U_star - pg.evaluate(mdp, pi).U
        assert -1e-10 <= bias <= cv.regularisation_bias_bound(mdp, tau) + 1e-10


@pytest.mark.parametrize("seed,frac", [(s, f) for s in range(4) for f in (1.0, 0.5)])
def test_entropy_npg_linear_rate_within_cen_bound(seed, frac):
    """Cen et al. 2021, Thm 1: ||Q*_tau - Q^(k+1)||_inf <= C1 gamma (1 - eta tau)^k, and the same for log pi
    with 2 C1 / tau, for eta = frac (1-gamma)/tau."""
    rng = np.random.default_rng(100 + seed)
    mdp = unit_rewards(pg.random_mdp(5, 3, 0.9, rng))
    tau = 0.1
    eta = frac * (1 - mdp.gamma) / tau
    tab = pg.SoftmaxPolicy.tabular(5, 3)
    _, pi_star = cv.regularised_optimum(mdp, tau)
    Q_star = pg.evaluate(mdp, pi_star, tau=tau).Q
    thetas = cv.npg_iterates(mdp, tab, tab.zeros(), eta, 40, tau=tau)
    pis = [tab.probs(t) for t in thetas]
    Qerr = np.array([np.abs(Q_star - pg.evaluate(mdp, p, tau=tau).Q).max() for p in pis])
    Lerr = np.array([np.abs(np.log(pi_star) - np.log(p)).max() for p in pis])
    k = np.arange(40)
    bQ, bL = cv.cen_bound(mdp, tau, eta, k, pg.evaluate(mdp, pis[0], tau=tau).Q, np.log(pis[0]), Q_star,
                          np.log(pi_star))
    assert np.all(Qerr[1:] <= bQ + 1e-10)
    assert np.all(Lerr[1:] <= bL + 1e-10)
    assert Qerr[-1] < 1e-3 * Qerr[0]  # and it is fast


def test_bounds_refuse_episodic_mdps():
    mdp = pg.random_mdp(4, 2, 1.0, np.random.default_rng(0), n_terminal=1)
    with pytest.raises(ValueError, match="terminal"):
        cv.npg_bound(mdp, 1.0, 10)
    with pytest.raises(ValueError, match="terminal"):
        cv.regularisation_bias_bound(mdp, 0.1)
    disc = pg.random_mdp(4, 2, 0.9, np.random.default_rng(0))
    with pytest.raises(ValueError, match="T"):
        cv.npg_bound(disc, 1.0, 0)
    with pytest.raises(ValueError, match="eta"):
        cv.cen_bound(disc, 0.1, 2.0, 1, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="tau"):
        cv.regularised_optimum(disc, 0.0)


def test_pg_iterates_and_objective_curve():
    mdp = pg.random_mdp(4, 2, 0.9, np.random.default_rng(0))
    tab = pg.SoftmaxPolicy.tabular(4, 2)
    th = cv.pg_iterates(mdp, tab, tab.zeros(), 0.5, 3, tau=0.1)
    step = tab.zeros() + 0.5 * pg.policy_gradient(mdp, tab, tab.zeros(), tau=0.1)
    np.testing.assert_allclose(th[1], step, atol=1e-14)
    U = cv.objective_curve(mdp, tab, th, tau=0.1)
    assert U.shape == (4,) and U[0] == pytest.approx(pg.evaluate(mdp, np.full((4, 2), 0.5), tau=0.1).U)


@pytest.mark.parametrize("n", [2, 4, 6])
def test_chain_mdp(n):
    mdp = cv.chain_mdp(n, 3, 0.9)
    V_star, _ = pg.optimal_values(mdp)
    assert mdp.mu @ V_star == pytest.approx(0.9 ** (n - 1) / 0.1)
    uniform = np.full((n, 3), 1 / 3)
    assert cv.mismatch_coefficient(mdp, uniform) == pytest.approx(3.0 ** (n - 1), rel=1e-9)


def test_bandit_pg_curve_matches_the_tabular_gradient():
    r = np.array([1.0, 0.9, 0.0])
    band = pg.TabularMDP(np.ones((1, 3, 1)), r[None, :], np.ones(1), 0.0)
    tab = pg.SoftmaxPolicy.tabular(1, 3)
    th0 = np.array([0.0, 3.0, -1.0])
    U = cv.bandit_pg_curve(r, th0, 0.7, 5)
    ref = cv.objective_curve(band, tab, cv.pg_iterates(band, tab, th0[None, :], 0.7, 5))
    np.testing.assert_allclose(U, ref, atol=1e-14)
    assert np.all(np.diff(cv.bandit_pg_curve(r, th0, 0.7, 2000)) >= -1e-15)
