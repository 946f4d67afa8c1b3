"""pgcourse.derivatives.numerical_gradient and the notebook-02/03 helpers of pgcourse.analysis
(variance_minimising_baseline, z_scores): golden cases, identities on random MDPs, bad input."""
import numpy as np
import pytest

import pgcourse as pg

# ---- numerical_gradient ----

def test_numerical_gradient_golden_and_shape():
    theta = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    A = np.arange(6.0).reshape(2, 3)
    g = pg.numerical_gradient(lambda th: (A * th**2).sum() + np.sin(th[0, 0]), theta)
    assert g.shape == theta.shape
    exact = 2 * A * theta
    exact[0, 0] += np.cos(1.0)
    np.testing.assert_allclose(g, exact, atol=1e-7)
    np.testing.assert_array_equal(theta[0], [1.0, -2.0, 0.5])  # not modified


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numerical_gradient_of_the_objective_is_the_policy_gradient(seed):
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(4, 3, 0.9, rng, n_terminal=1)
    policy = pg.SoftmaxPolicy.tabular(4, 3)
    theta = rng.normal(size=(4, 3))
    g = pg.numerical_gradient(lambda th: pg.objective(mdp, policy, th), theta)
    np.testing.assert_allclose(g, pg.policy_gradient(mdp, policy, theta), atol=1e-7)


def test_numerical_gradient_bad_input():
    with pytest.raises(TypeError, match="f must be a callable"):
        pg.numerical_gradient(3.0, [1.0])
    with pytest.raises(ValueError, match="one number"):
        pg.numerical_gradient(lambda th: th, np.zeros(2))
    with pytest.raises(ValueError, match="eps"):
        pg.numerical_gradient(lambda th: th.sum(), np.zeros(2), eps=0.0)
    with pytest.raises(ValueError, match="non-finite"):
        with np.errstate(divide="ignore", invalid="ignore"):
            pg.numerical_gradient(lambda th: np.log(th.sum()), np.zeros(1))
    with pytest.raises(TypeError, match="theta"):
        pg.numerical_gradient(lambda th: 0.0, "abc")


# ---- variance_minimising_baseline ----

def _step_variance(pi_s, score_s, Q_s, b):
    """tr Cov over a ~ pi(.|s) of score(s, a) (Q(s, a) - b): the one-step variance b* minimises."""
    g = score_s * (Q_s - b)[:, None]
    m = pi_s @ g
    return pi_s @ (g**2).sum(axis=1) - m @ m


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_variance_minimising_baseline_minimises_the_step_variance(seed):
    rng = np.random.default_rng(seed)
    S, A = 4, 3
    features = rng.normal(size=(S, A, 5)) if seed % 2 else None
    policy = pg.SoftmaxPolicy(features) if seed % 2 else pg.SoftmaxPolicy.tabular(S, A)
    theta = rng.normal(size=policy.theta_shape)
    Q = rng.normal(size=(S, A)) + 2.0
    b = pg.variance_minimising_baseline(policy, theta, Q)
    assert b.shape == (S,)
    pi = policy.probs(theta)
    s_idx, a_idx = np.meshgrid(np.arange(S), np.arange(A), indexing="ij")
    score = policy.grad_log_prob(theta, s_idx, a_idx).reshape(S, A, -1)
    for s in range(S):
        v = lambda x, s=s: _step_variance(pi[s], score[s], Q[s], x)  # noqa: E731
        grid = np.linspace(b[s] - 3, b[s] + 3, 601)
        assert v(b[s]) <= min(v(x) for x in grid) + 1e-12
        # the derivative of the (quadratic) variance vanishes at b*
        assert abs(v(b[s] + 1e-4) - v(b[s] - 1e-4)) < 1e-9
    # it is a weighted average of Q(s, .), different from V = sum_a pi Q in general
    assert np.all((b >= Q.min(axis=1) - 1e-12) & (b <= Q.max(axis=1) + 1e-12))
    assert not np.allclose(b, (pi * Q).sum(axis=1))


def test_variance_minimising_baseline_golden_two_actions():
    """Tabular, two actions: |score(s, a)|^2 = 2 (1 - pi_a)^2, so b* = (pi_0 pi_1^2 Q_0 + pi_1 pi_0^2 Q_1) /
    (pi_0 pi_1^2 + pi_1 pi_0^2) = pi_1 Q_0 + pi_0 Q_1: the weights are swapped relative to V."""
    policy = pg.SoftmaxPolicy.tabular(1, 2)
    theta = np.array([[np.log(0.8), np.log(0.2)]])
    Q = np.array([[1.0, 5.0]])
    b = pg.variance_minimising_baseline(policy, theta, Q)
    assert b[0] == pytest.approx(0.2 * 1.0 + 0.8 * 5.0)
    assert (policy.probs(theta) * Q).sum() == pytest.approx(1.8)


def test_variance_minimising_baseline_deterministic_state_and_bad_input():
    policy = pg.SoftmaxPolicy.tabular(2, 2)
    theta = np.array([[0.0, 0.0], [800.0, 0.0]])  # state 1: pi = (1, 0) to rounding, score 0
    Q = np.array([[1.0, 3.0], [2.0, 7.0]])
    b = pg.variance_minimising_baseline(policy, theta, Q)
    assert b[0] == pytest.approx(2.0) and b[1] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="Q"):
        pg.variance_minimising_baseline(policy, theta, np.zeros((2, 3)))
    with pytest.raises(TypeError, match="policy"):
        pg.variance_minimising_baseline(pg.GaussianPolicy(1.0), theta, Q)


# ---- z_scores ----

def test_z_scores_golden_and_calibration():
    x = np.array([[1.0, 0.0], [3.0, 0.0], [5.0, 0.0]])
    z = pg.z_scores(x, [1.0, 0.0])
    assert z[0] == pytest.approx((3.0 - 1.0) / (2.0 / np.sqrt(3)))
    assert z[1] == 0.0
    assert pg.z_scores(x, [1.0, 1.0])[1] == -np.inf
    # unbiased samples: z is about N(0, 1) across many components
    z = pg.z_scores(np.random.default_rng(0).normal(2.0, 3.0, size=(200, 2000)), np.full(2000, 2.0))
    assert abs(z.mean()) < 0.1 and abs(z.std() - 1.0) < 0.06
    with pytest.raises(ValueError, match="exact"):
        pg.z_scores(x, [1.0, 2.0, 3.0])
