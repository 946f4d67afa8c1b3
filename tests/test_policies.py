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
