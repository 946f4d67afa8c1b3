"""Training loops: the recorded curve is the exact U of the iterates, steps are the documented updates,
the same seed gives the same curve, and gradient ascent improves U."""
import numpy as np
import pytest

import pgcourse as pg


@pytest.fixture(scope="module")
def problem():
    mdp = pg.random_mdp(5, 3, 0.9, np.random.default_rng(40), n_terminal=1)
    return mdp, pg.SoftmaxPolicy.tabular(5, 3), np.zeros((5, 3))


@pytest.mark.parametrize("method", ["exact", "natural", "reinforce", "reinforce_baseline", "actor_critic", "gae"])
@pytest.mark.parametrize("critic", ["exact", "td"])
def test_first_step_is_the_documented_update(problem, method, critic):
    mdp, pol, theta0 = problem
    lr = 0.3
    h = pg.train(mdp, pol, theta0, method=method, lr=lr, n_iters=1, n_episodes=20, horizon=30,
                 rng=np.random.default_rng(3),
                 lam=0.8, critic=critic, critic_lr=0.5, critic_sweeps=5)
    assert h.U.shape == (2,) and h.grad_norms.shape == (1,) and h.method == method
    pi = pol.probs(theta0)
    ev = pg.evaluate(mdp, pi)
    if method == "exact":
        g = pg.policy_gradient(mdp, pol, theta0)
    elif method == "natural":
        g = pg.natural_gradient(mdp, pol, theta0)
    else:
        ep = pg.sample_episodes(mdp, pi, 20, 30, np.random.default_rng(3))
        V = ev.V if critic == "exact" else pg.td0_values(ep, mdp.S, mdp.gamma, alpha=0.5, n_sweeps=5)
        if method == "reinforce":
            g = pg.reinforce_gradient(pol, theta0, ep, mdp.gamma)
        elif method == "reinforce_baseline":
            g = pg.reinforce_gradient(pol, theta0, ep, mdp.gamma, baseline=V)
        elif method == "actor_critic":
            g = pg.advantage_gradient(pol, theta0, ep, pg.td_errors(ep, V, mdp.gamma), mdp.gamma)
        else:
            g = pg.advantage_gradient(pol, theta0, ep, pg.gae(ep, V, mdp.gamma, 0.8), mdp.gamma)
    np.testing.assert_allclose(h.theta, theta0 + lr * g, atol=1e-12)
    assert h.grad_norms[0] == pytest.approx(np.linalg.norm(g))
    assert h.U[0] == pytest.approx(ev.U, abs=1e-12)
    assert h.U[1] == pytest.approx(pg.objective(mdp, pol, h.theta), abs=1e-12)


def test_exact_gradient_ascent_improves_monotonically(problem):
    mdp, pol, theta0 = problem
    h = pg.train(mdp, pol, theta0, method="exact", lr=0.5, n_iters=60)
    assert np.all(np.diff(h.U) >= -1e-12)
    V_star, _ = pg.optimal_values(mdp)
    U_star = float(mdp.mu @ V_star)
    assert h.U[0] < h.U[-1] <= U_star + 1e-12
    # the natural gradient gets closer to the optimum in the same number of steps
    hn = pg.train(mdp, pol, theta0, method="natural", lr=0.5, n_iters=60)
    assert U_star - hn.U[-1] < U_star - h.U[-1]


def test_same_seed_same_curve_different_seed_different(problem):
    mdp, pol, theta0 = problem
    kw = dict(method="gae", lr=0.5, n_iters=5, n_episodes=10, horizon=20)
    a = pg.train(mdp, pol, theta0, rng=np.random.default_rng(1), **kw)
    b = pg.train(mdp, pol, theta0, rng=np.random.default_rng(1), **kw)
    c = pg.train(mdp, pol, theta0, rng=np.random.default_rng(2), **kw)
    np.testing.assert_array_equal(a.U, b.U)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.array_equal(a.U, c.U)


def test_sampled_actor_critic_improves_U(problem):
    mdp, pol, theta0 = problem
    h = pg.train(mdp, pol, theta0, method="actor_critic", critic="exact", lr=0.5, n_iters=30, n_episodes=50,
                 horizon=60, rng=np.random.default_rng(0))
    assert h.U[-1] > h.U[0] + 0.5 * (pg.train(mdp, pol, theta0, method="exact", lr=0.5, n_iters=30).U[-1] - h.U[0])


def test_zero_iterations(problem):
    mdp, pol, theta0 = problem
    h = pg.train(mdp, pol, theta0, n_iters=0)
    assert h.U.shape == (1,) and h.grad_norms.shape == (0,)
    np.testing.assert_array_equal(h.theta, theta0)


def test_short_corridor_training_reaches_the_stochastic_optimum():
    mdp = pg.short_corridor()
    pol = pg.short_corridor_policy()
    h = pg.train(mdp, pol, np.zeros(2), method="exact", lr=0.05, n_iters=300)
    assert h.U[-1] == pytest.approx(-(3 + 2 * np.sqrt(2)) * 2, abs=1e-3)
    p = pol.probs(h.theta)[0, 1]
    assert p == pytest.approx(2 - np.sqrt(2), abs=0.01)


def test_the_registry_is_the_list_of_methods(problem, monkeypatch):
    """train looks the method up in GRADIENTS: a new entry is a new method, with no other change."""
    from pgcourse import learning

    assert learning.METHODS == tuple(learning.GRADIENTS)
    assert {m for m, e in learning.GRADIENTS.items() if e.sampled} == {"reinforce", "reinforce_baseline",
                                                                        "actor_critic", "gae"}
    mdp, pol, theta0 = problem
    seen = []

    def half_exact(step):
        seen.append(step)
        return 0.5 * pg.policy_gradient(step.mdp, step.policy, step.theta)

    monkeypatch.setitem(learning.GRADIENTS, "half", learning.GradientMethod(half_exact, sampled=False, critic=False))
    h = pg.train(mdp, pol, theta0, method="half", lr=0.4, n_iters=3)
    e = pg.train(mdp, pol, theta0, method="exact", lr=0.2, n_iters=3)
    np.testing.assert_allclose(h.theta, e.theta, atol=1e-12)
    assert len(seen) == 3 and seen[0].episodes is None and seen[0].V_hat is None


def test_exact_methods_draw_nothing_from_rng(problem):
    mdp, pol, theta0 = problem
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    pg.train(mdp, pol, theta0, method="exact", n_iters=2, rng=rng)
    assert rng.bit_generator.state == state
    with pytest.raises(TypeError, match=r"\brng\b"):
        pg.train(mdp, pol, theta0, method="reinforce", n_iters=1)
