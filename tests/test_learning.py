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


def test_env_step_draws_p_of_s_prime_and_r():
    """Frequencies of (s', r) from env_step match p(s', r | s, a); the mean reward is R[s, a]."""
    mdp = pg.frozen_lake(0.9)
    rng = np.random.default_rng(0)
    s, a, n = 14, 2, 6000  # next to the goal: pays 1 on entering it, 0 otherwise
    draws = [pg.env_step(mdp, s, a, rng) for _ in range(n)]
    nxt = np.array([d[0] for d in draws])
    r = np.array([d[1] for d in draws])
    assert set(np.unique(r)) <= {0.0, 1.0}
    freq = np.bincount(nxt, minlength=mdp.S) / n
    se = np.sqrt(mdp.P[s, a] * (1 - mdp.P[s, a]) / n) + 1e-12
    assert np.all(np.abs(freq - mdp.P[s, a]) < 4.5 * se)
    assert abs(r.mean() - mdp.R[s, a]) < 4.5 * r.std() / np.sqrt(n)
    assert all(d[2] == mdp.terminal[d[0]] for d in draws)


def test_env_step_bad_input():
    mdp = pg.frozen_lake(0.9)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="terminal"):
        pg.env_step(mdp, int(np.flatnonzero(mdp.terminal)[0]), 0, rng)
    with pytest.raises(ValueError, match="a must"):
        pg.env_step(mdp, 0, 4, rng)
    with pytest.raises(TypeError, match="s must"):
        pg.env_step(mdp, 0.5, 0, rng)


def test_mc_critic_update_lr_one_is_mc_values_and_small_steps_converge(problem):
    mdp, pol, theta0 = problem
    ep = pg.sample_episodes(mdp, pol.probs(theta0), 300, 40, np.random.default_rng(7))
    V0 = np.random.default_rng(8).normal(size=mdp.S)
    target = pg.mc_values(ep, mdp.S, mdp.gamma)
    visited = np.bincount(ep.states[ep.mask > 0], minlength=mdp.S) > 0
    V1 = pg.mc_critic_update(V0, ep, mdp.gamma, 1.0)
    assert np.allclose(V1[visited], target[visited]) and np.array_equal(V1[~visited], V0[~visited])
    V = V0
    for _ in range(200):  # V <- V + lr (target - V) on the visited states: geometric convergence
        V = pg.mc_critic_update(V, ep, mdp.gamma, 0.1)
    assert np.allclose(V[visited], target[visited], atol=1e-8)
    half = pg.mc_critic_update(V0, ep, mdp.gamma, 0.5)
    assert np.allclose(half[visited], (0.5 * V0 + 0.5 * target)[visited])
    with pytest.raises(ValueError, match="lr"):
        pg.mc_critic_update(V0, ep, mdp.gamma, 0.0)
    with pytest.raises(ValueError, match="V"):
        pg.mc_critic_update(V0[:2], ep, mdp.gamma, 0.5)


def test_train_with_mc_critic_is_reinforce_with_a_learned_baseline(problem):
    mdp, pol, theta0 = problem
    h = pg.train(mdp, pol, theta0, method="reinforce_baseline", lr=0.3, n_iters=2, n_episodes=20, horizon=30,
                 rng=np.random.default_rng(3), critic="mc", critic_lr=0.5)
    rng = np.random.default_rng(3)
    theta, V = theta0, np.zeros(mdp.S)
    for _ in range(2):
        ep = pg.sample_episodes(mdp, pol.probs(theta), 20, 30, rng)
        V = pg.mc_critic_update(V, ep, mdp.gamma, 0.5)
        theta = theta + 0.3 * pg.reinforce_gradient(pol, theta, ep, mdp.gamma, baseline=V)
    assert np.allclose(h.theta, theta)
