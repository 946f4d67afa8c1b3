"""group_cosines: the per-group cosines whose mean is score_estimator's cos@n, and their bad input."""
import numpy as np
import pytest

import pgcourse as pg
from pgcourse.analysis import group_cosines


def test_mean_is_score_estimator_cosine_and_values_are_cosines():
    mdp = pg.random_mdp(4, 3, 0.9, np.random.default_rng(1), n_terminal=1)
    pol = pg.SoftmaxPolicy.tabular(4, 3)
    theta = np.random.default_rng(2).normal(size=(4, 3))
    ep = pg.sample_episodes(mdp, pol.probs(theta), 600, 30, np.random.default_rng(3))
    grad = pg.policy_gradient(mdp, pol, theta)
    sc = pg.score_estimator("REINFORCE", pg.BUILTIN_ESTIMATORS["REINFORCE"], pol, theta, ep, np.zeros(4),
                            mdp.gamma, grad, batch_sizes=(10, 100))
    for n in (10, 100):
        c = group_cosines(sc.samples, grad, n)
        assert c.shape == (600 // n,) and np.all(np.abs(c) <= 1 + 1e-12)
        assert np.isclose(c.mean(), sc.cosine[n])
        j = 1
        g = sc.samples[j * n:(j + 1) * n].mean(axis=0).ravel()
        assert np.isclose(c[j], g @ grad.ravel() / np.linalg.norm(g) / np.linalg.norm(grad))


def test_exact_direction_gives_one_and_bad_input():
    x = np.tile([1.0, 2.0], (6, 1))
    assert np.allclose(group_cosines(x, [2.0, 4.0], 3), 1.0)
    assert np.allclose(group_cosines(x, [-1.0, -2.0], 2), -1.0)
    with pytest.raises(ValueError, match="n"):
        group_cosines(x, [1.0, 2.0], 7)
    with pytest.raises(ValueError, match="exact"):
        group_cosines(x, [1.0, 2.0, 3.0], 2)
