"""Softmax and Gaussian policies: probabilities, score functions vs finite differences, identities."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgcourse as pg

FAST = settings(max_examples=20, deadline=None)


def log_pi_fd(policy, theta, s, a, eps=1e-6):
    """Central finite differences of log pi(a|s) w.r.t. theta."""
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        g[i] = (np.log(policy.probs(tp)[s, a]) - np.log(policy.probs(tm)[s, a])) / (2 * eps)
    return g


def test_softmax_values_and_stability():
    np.testing.assert_allclose(pg.softmax(np.array([0.0, np.log(3.0)])), [0.25, 0.75])
    big = np.array([[1000.0, 999.0, -1000.0], [-1e3, -1e3, -1e3]])
    p = pg.softmax(big, axis=1)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p[0], [np.e / (np.e + 1), 1 / (np.e + 1), 0.0], atol=1e-15)
    np.testing.assert_allclose(p[1], 1 / 3)
    np.testing.assert_allclose(pg.softmax(big.T, axis=0), p.T)
    tab = pg.SoftmaxPolicy.tabular(2, 3)
    np.testing.assert_allclose(tab.probs(big), p)


@FAST
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(1, 4), A=st.integers(1, 4), K=st.integers(1, 4))
def test_scores_equal_finite_differences_of_log_pi(seed, S, A, K):
    rng = np.random.default_rng(seed)
    for policy, theta in ((pg.SoftmaxPolicy.tabular(S, A), rng.normal(size=(S, A))),
                          (pg.SoftmaxPolicy(rng.normal(size=(S, A, K))), rng.normal(size=K))):
        pi = policy.probs(theta)
        np.testing.assert_allclose(pi.sum(axis=1), 1.0, atol=1e-14)
        s = rng.integers(S, size=5)
        a = rng.integers(A, size=5)
        scores = policy.grad_log_prob(theta, s, a)
        assert scores.shape == (5,) + theta.shape
        for i in range(5):
            np.testing.assert_allclose(scores[i], log_pi_fd(policy, theta, s[i], a[i]), atol=1e-7)
        # E_{a ~ pi(.|s)}[score] = 0 for every s
        S_idx, A_idx = np.meshgrid(np.arange(S), np.arange(A), indexing="ij")
        all_scores = policy.grad_log_prob(theta, S_idx, A_idx)
        mean = np.einsum("sa,sa...->s...", pi, all_scores)
        np.testing.assert_allclose(mean, 0.0, atol=1e-12)


@FAST
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(1, 5), A=st.integers(1, 4))
def test_score_sum_equals_sum_of_grad_log_prob(seed, S, A):
    rng = np.random.default_rng(seed)
    shape = (7, 3)
    s = rng.integers(S, size=shape)
    a = rng.integers(A, size=shape)
    w = rng.normal(size=shape)
    for policy, theta in ((pg.SoftmaxPolicy.tabular(S, A), rng.normal(size=(S, A))),
                          (pg.SoftmaxPolicy(rng.normal(size=(S, A, 2))), rng.normal(size=2))):
        scores = policy.grad_log_prob(theta, s, a)
        assert scores.shape == shape + theta.shape
        expect = np.tensordot(w, scores, axes=([0, 1], [0, 1]))
        np.testing.assert_allclose(policy.score_sum(theta, s, a, w), expect, atol=1e-12)


def test_tabular_score_formula():
    """Tabular: grad log pi(a|s) = e_{s,a} - pi(.|s) e_s."""
    tab = pg.SoftmaxPolicy.tabular(3, 2)
    theta = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    pi = tab.probs(theta)
    g = tab.grad_log_prob(theta, np.array(1), np.array(0))
    expect = np.zeros((3, 2))
    expect[1] = -pi[1]
    expect[1, 0] += 1
    np.testing.assert_allclose(g, expect)


def test_one_hot_features_equal_tabular_scores():
    rng = np.random.default_rng(0)
    S, A = 3, 4
    tab = pg.SoftmaxPolicy.tabular(S, A)
    onehot = pg.SoftmaxPolicy(np.eye(S * A).reshape(S, A, S * A))
    theta = rng.normal(size=(S, A))
    s, a = rng.integers(S, size=6), rng.integers(A, size=6)
    np.testing.assert_allclose(onehot.grad_log_prob(theta.ravel(), s, a),
                               tab.grad_log_prob(theta, s, a).reshape(6, -1), atol=1e-15)


def test_zeros_is_uniform_and_theta_is_not_modified():
    lin = pg.SoftmaxPolicy(np.random.default_rng(1).normal(size=(2, 3, 4)))
    np.testing.assert_allclose(lin.probs(lin.zeros()), 1 / 3)
    theta = np.ones(4)
    lin.grad_log_prob(theta, [0], [1])
    np.testing.assert_array_equal(theta, 1.0)
    assert lin.features.flags.writeable is False


# --- Gaussian --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("K", [1, 3])
def test_gaussian_score_equals_finite_differences(K):
    rng = np.random.default_rng(K)
    pol = pg.GaussianPolicy(sigma=0.7, n_features=K)
    theta = rng.normal(size=K)
    phi = rng.normal(size=(5, K))
    acts = rng.normal(size=5)
    g = pol.grad_log_prob(theta, phi, acts)
    assert g.shape == (5, K)
    eps = 1e-6
    for k in range(K):
        e = np.zeros(K)
        e[k] = eps
        fd = (pol.log_prob(theta + e, phi, acts) - pol.log_prob(theta - e, phi, acts)) / (2 * eps)
        np.testing.assert_allclose(g[:, k], fd, atol=1e-7)
    # log_prob is the normal density's log
    m = phi @ theta
    np.testing.assert_allclose(np.exp(pol.log_prob(theta, phi, acts)),
                               np.exp(-0.5 * ((acts - m) / 0.7) ** 2) / (0.7 * np.sqrt(2 * np.pi)))


def test_gaussian_samples_have_the_right_moments():
    pol = pg.GaussianPolicy(sigma=0.5, n_features=2)
    theta = np.array([1.0, -2.0])
    phi = np.tile([0.5, 0.25], (20000, 1))
    a = pol.sample(theta, phi, np.random.default_rng(0))
    n = a.size
    assert abs(a.mean() - 0.0) < 5 * 0.5 / np.sqrt(n)
    assert abs(a.var(ddof=1) - 0.25) < 5 * 0.25 * np.sqrt(2 / (n - 1))
    np.testing.assert_array_equal(a, pol.sample(theta, phi, np.random.default_rng(0)))


# --- multivariate Gaussian: mean Theta phi(s), Sigma = D C D with learned log sigma ------------------------

def _random_correlation(rng, d):
    X = rng.normal(size=(d, d + 2))
    M = X @ X.T
    s = np.sqrt(np.diag(M))
    return M / np.outer(s, s)


@pytest.mark.parametrize("K, d, correlated", [(1, 1, False), (3, 2, False), (2, 3, True), (4, 2, True)])
def test_multivariate_gaussian_score_equals_finite_differences(K, d, correlated):
    rng = np.random.default_rng(10 * K + d)
    C = _random_correlation(rng, d) if correlated else None
    pol = pg.MultivariateGaussianPolicy(K, d, C)
    theta = rng.normal(scale=0.5, size=pol.theta_shape)
    phi = rng.normal(size=(4, K))
    acts = pol.sample(theta, phi, rng)
    g = pol.grad_log_prob(theta, phi, acts)
    assert g.shape == (4, d * K + d)
    for n in range(4):
        fd = pg.numerical_gradient(lambda th, n=n: pol.log_prob(th, phi[n], acts[n]), theta)
        np.testing.assert_allclose(g[n], fd, atol=1e-6)
    # log_prob is the multivariate normal log-density with covariance cov(theta)
    m, Sigma = pol.mean(theta, phi), pol.cov(theta)
    r = acts - m
    ref = -0.5 * np.einsum("ni,ij,nj->n", r, np.linalg.inv(Sigma), r) - 0.5 * np.linalg.slogdet(2 * np.pi * Sigma)[1]
    np.testing.assert_allclose(pol.log_prob(theta, phi, acts), ref)


def test_multivariate_gaussian_score_formulas():
    """grad_W = Sigma^-1 (a - mu) phi^T = J^T Sigma^-1 (a - mu); d/d log sigma = (a - mu)^2 / sigma^2 - 1 (C = I);
    the diagonal-only shortcut (a - mu) / sigma^2 phi^T is wrong once Sigma is correlated."""
    rng = np.random.default_rng(3)
    C = np.array([[1.0, 0.7], [0.7, 1.0]])
    for corr in [None, C]:
        pol = pg.MultivariateGaussianPolicy(3, 2, corr)
        theta = rng.normal(size=pol.theta_shape)
        phi, a = rng.normal(size=3), rng.normal(size=2)
        W, log_std = pol.split(theta)
        np.testing.assert_array_equal(pol.join(W, log_std), theta)
        mu, Sigma = W @ phi, pol.cov(theta)
        v = np.linalg.solve(Sigma, a - mu)
        np.testing.assert_allclose(pol.score_mean(theta, phi, a), np.outer(v, phi))
        J = pol.mean_jacobian(phi)
        assert J.shape == (2, pol.theta_shape[0])
        np.testing.assert_allclose(pol.grad_log_prob(theta, phi, a)[:6], (J.T @ v)[:6])
        np.testing.assert_array_equal((J.T @ v)[6:], 0.0)
        np.testing.assert_allclose(J @ theta, mu)
        sd = np.exp(log_std)
        if corr is None:
            np.testing.assert_allclose(pol.score_log_std(theta, phi, a), (a - mu) ** 2 / sd**2 - 1)
        else:
            naive = np.outer((a - mu) / sd**2, phi)
            assert not np.allclose(naive, pol.score_mean(theta, phi, a), atol=1e-3)
    # d = 1, C = I is the scalar Gaussian with sigma = exp(log_std)
    one = pg.MultivariateGaussianPolicy(2, 1)
    th = np.array([0.3, -0.7, np.log(0.4)])
    phi, a = np.array([[1.0, 2.0]]), np.array([[0.5]])
    ref = pg.GaussianPolicy(0.4, 2)
    np.testing.assert_allclose(one.score_mean(th, phi, a)[:, 0, :], ref.grad_log_prob(th[:2], phi, a[:, 0]))
    np.testing.assert_allclose(one.log_prob(th, phi, a), ref.log_prob(th[:2], phi, a[:, 0]))


@pytest.mark.parametrize("correlated", [False, True])
def test_multivariate_gaussian_score_has_mean_zero_exactly(correlated):
    rng = np.random.default_rng(5)
    pol = pg.MultivariateGaussianPolicy(2, 2, _random_correlation(rng, 2) if correlated else None)
    theta = rng.normal(size=pol.theta_shape)
    phi = rng.normal(size=2)
    f = lambda acts: pol.grad_log_prob(theta, np.broadcast_to(phi, (len(acts), 2)), acts)  # noqa: E731
    E = pg.gaussian_expectation(f, pol.mean(theta, phi), pol.cov(theta), n_nodes=3)
    np.testing.assert_allclose(E, 0.0, atol=1e-12)
    # the Fisher information of log sigma with C = I is 2 I (E[(z^2 - 1)^2] = 2): a non-trivial exact check
    if not correlated:
        g = lambda acts: pol.score_log_std(theta, np.broadcast_to(phi, (len(acts), 2)), acts) ** 2  # noqa: E731
        np.testing.assert_allclose(pg.gaussian_expectation(g, pol.mean(theta, phi), pol.cov(theta), 3), [2.0, 2.0])


def test_multivariate_gaussian_samples_and_bad_input():
    C = np.array([[1.0, -0.5], [-0.5, 1.0]])
    pol = pg.MultivariateGaussianPolicy(1, 2, C)
    theta = pol.join([[1.0], [-2.0]], np.log([0.5, 2.0]))
    a = pol.sample(theta, np.ones((40000, 1)), np.random.default_rng(0))
    assert a.shape == (40000, 2)
    emp = np.cov(a.T)
    np.testing.assert_allclose(a.mean(axis=0), [1.0, -2.0], atol=5 * 2.0 / 200)
    np.testing.assert_allclose(emp, pol.cov(theta), atol=0.06)
    with pytest.raises(ValueError, match="correlation"):
        pg.MultivariateGaussianPolicy(1, 2, [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="correlation"):
        pg.MultivariateGaussianPolicy(1, 2, [[2.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="theta"):
        pol.split(np.zeros(3))
    with pytest.raises(ValueError, match="actions"):
        pol.log_prob(theta, np.ones((3, 1)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="features"):
        pol.mean(theta, np.ones((3, 2)))
    with pytest.raises(TypeError, match="n_features"):
        pg.MultivariateGaussianPolicy("2", 2)
