"""Gaussian policies on problems with a closed form: a quadratic bandit and a 1-D linear-quadratic regulator.
Closed forms vs central finite differences and vs sampling (within 5 standard errors, fixed seeds)."""
import numpy as np
import pytest

import pgcourse as pg
from _stats import assert_within_5_se


def fd(f, x, eps=1e-5):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.parametrize("theta, sigma", [(0.0, 0.5), (2.5, 1.0), (1.0, 0.1)])
def test_quadratic_bandit(theta, sigma):
    qb = pg.QuadraticBandit(a_star=1.0)
    U = qb.objective([theta], sigma)
    assert U == pytest.approx(-(theta - 1) ** 2 - sigma**2)
    g = qb.gradient([theta])
    assert g.shape == (1,)
    assert g[0] == pytest.approx(fd(lambda t: qb.objective([t], sigma), theta), abs=1e-6)
    pol = pg.GaussianPolicy(sigma)
    rng = np.random.default_rng(7)
    # U by sampling rewards
    a = pol.sample([theta], np.ones((40000, 1)), rng)
    r = qb.reward(a)
    assert_within_5_se(r.mean(), r.std(ddof=1) / np.sqrt(r.size), U, "U")
    # the score-function gradient, with and without a baseline
    for b in (0.0, U):
        samples = qb.score_gradient_samples(pol, [theta], 40000, np.random.default_rng(8), baseline=b)
        assert samples.shape == (40000, 1)
        assert_within_5_se(samples.mean(), samples.std(ddof=1) / np.sqrt(40000), g[0], f"score gradient b={b}")
    var0 = qb.score_gradient_samples(pol, [theta], 40000, np.random.default_rng(9)).var()
    var1 = qb.score_gradient_samples(pol, [theta], 40000, np.random.default_rng(9), baseline=U).var()
    assert var1 < var0


def test_quadratic_bandit_sampled_gradient_can_fail():
    """A wrong score (missing 1/sigma^2) is rejected by the same 5 s.e. criterion."""
    qb = pg.QuadraticBandit(a_star=1.0)
    sigma = 0.5
    pol = pg.GaussianPolicy(sigma)
    s = qb.score_gradient_samples(pol, [0.0], 40000, np.random.default_rng(8)) * sigma**2
    assert abs(s.mean() - qb.gradient([0.0])[0]) > 5 * s.std(ddof=1) / np.sqrt(s.size)


LQ_CASES = [dict(), dict(a=0.9, b=0.5, q=2.0, r=0.1, noise=0.3, x0_std=0.5, gamma=0.95)]


@pytest.mark.parametrize("kw", LQ_CASES)
@pytest.mark.parametrize("theta", [-0.5, -0.2])
def test_linear_quadratic_closed_form_vs_finite_differences(kw, theta):
    lq = pg.LinearQuadratic(**kw)
    sigma = 0.3
    for horizon in (1, 5, 30, None):
        g = lq.gradient([theta], sigma, horizon)
        f = fd(lambda t, h=horizon: lq.objective([t], sigma, h), theta)
        assert g[0] == pytest.approx(f, abs=1e-6 * (1 + abs(f)))
    # the infinite horizon is the limit of the finite ones
    assert lq.objective([theta], sigma, 2000) == pytest.approx(lq.objective([theta], sigma), rel=1e-10)
    # one step: E[r_0] = -(q + r theta^2) x0_std^2 - r sigma^2
    assert lq.objective([theta], sigma, 1) == pytest.approx(-(lq.q + lq.r * theta**2) * lq.x0_std**2 - lq.r * sigma**2)


def test_linear_quadratic_second_moment_recursion_by_simulation():
    """U(theta) for T = 10 vs the mean of sampled discounted returns; dU vs REINFORCE, within 5 s.e."""
    lq = pg.LinearQuadratic()
    pol = pg.GaussianPolicy(0.3)
    theta, T, N = -0.2, 10, 20000
    xs, us, rs = lq.rollout(pol, [theta], N, T, np.random.default_rng(1))
    assert xs.shape == us.shape == rs.shape == (N, T)
    np.testing.assert_allclose(rs, -(lq.q * xs**2 + lq.r * us**2))
    disc = lq.gamma ** np.arange(T)
    G0 = (rs * disc).sum(axis=1)
    assert_within_5_se(G0.mean(), G0.std(ddof=1) / np.sqrt(N), lq.objective([theta], 0.3, T), "U")
    # per-episode REINFORCE samples: sum_t gamma^t score_t G_t
    G = np.cumsum((rs * disc)[:, ::-1], axis=1)[:, ::-1] / disc
    score = (us - theta * xs) / 0.3**2 * xs
    samples = (disc * score * G).sum(axis=1)
    est = lq.reinforce_gradient(pol, [theta], N, T, np.random.default_rng(1))
    assert est[0] == pytest.approx(samples.mean(), rel=1e-10)
    exact = lq.gradient([theta], 0.3, T)[0]
    assert_within_5_se(samples.mean(), samples.std(ddof=1) / np.sqrt(N), exact, "REINFORCE")
    assert abs(exact) > 5 * samples.std(ddof=1) / np.sqrt(N)  # the gradient is resolved: not trivially 0


def test_linear_quadratic_diverging_infinite_horizon_raises():
    lq = pg.LinearQuadratic(a=1.2, b=1.0, gamma=0.99)
    with pytest.raises(ValueError, match="diverges"):
        lq.objective([0.5], 0.3)
    assert np.isfinite(lq.objective([0.5], 0.3, horizon=20))
    with pytest.raises(ValueError, match="diverges"):
        pg.LinearQuadratic(gamma=1.0).objective([-1.0], 0.3)


# ---- Gauss-Hermite expectations ----

def test_gaussian_expectation_moments_exact():
    rng = np.random.default_rng(0)
    m = np.array([0.5, -1.0])
    X = rng.normal(size=(2, 2))
    S = X @ X.T + 0.5 * np.eye(2)
    assert pg.gaussian_expectation(lambda a: np.ones(len(a)), m, S) == pytest.approx(1.0)
    np.testing.assert_allclose(pg.gaussian_expectation(lambda a: a, m, S, n_nodes=2), m)
    second = pg.gaussian_expectation(lambda a: a[:, :, None] * a[:, None, :], m, S, n_nodes=2)
    np.testing.assert_allclose(second, S + np.outer(m, m))
    # 1-D fourth central moment 3 sigma^4 needs 3 nodes; 2 nodes get it wrong (degree 4 > 2*2 - 1)
    f = lambda a: (a[:, 0] - 1.0) ** 4  # noqa: E731
    assert pg.gaussian_expectation(f, [1.0], [[4.0]], n_nodes=3) == pytest.approx(48.0)
    assert pg.gaussian_expectation(f, [1.0], [[4.0]], n_nodes=2) != pytest.approx(48.0)


def test_gaussian_expectation_gives_the_bandit_gradient_exactly():
    """E[r(a) score] = dU/dtheta on the quadratic bandit, by quadrature (no sampling)."""
    bandit = pg.QuadraticBandit(a_star=1.0)
    for theta, sigma in [(0.0, 0.5), (2.0, 0.1), (-1.0, 1.5)]:
        pol = pg.GaussianPolicy(sigma)
        f = lambda a, pol=pol, theta=theta: bandit.reward(a[:, 0])[:, None] * pol.grad_log_prob(  # noqa: E731
            [theta], np.ones((len(a), 1)), a[:, 0])
        g = pg.gaussian_expectation(f, [theta], [[sigma**2]], n_nodes=3)
        np.testing.assert_allclose(g, bandit.gradient([theta]), atol=1e-10)


def test_gaussian_expectation_bad_input():
    with pytest.raises(TypeError, match="f"):
        pg.gaussian_expectation(3.0, [0.0], [[1.0]])
    with pytest.raises(ValueError, match="cov"):
        pg.gaussian_expectation(lambda a: a, [0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="cov"):
        pg.gaussian_expectation(lambda a: a, [0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="f must return"):
        pg.gaussian_expectation(lambda a: 1.0, [0.0], [[1.0]])
    with pytest.raises(ValueError, match="n_nodes"):
        pg.gaussian_expectation(lambda a: a, [0.0], [[1.0]], n_nodes=0)
