"""pgcourse.analysis and pgcourse.problems: golden cases, identities against the exact machinery and
properties on random MDPs."""
import numpy as np
import pytest

import pgcourse as pg


def _batch(seed=0, n=400, T=12, S=5, A=3, gamma=0.9):
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(S, A, gamma, rng, n_terminal=1)
    policy = pg.SoftmaxPolicy.tabular(S, A)
    theta = rng.normal(size=(S, A))
    ep = pg.sample_episodes(mdp, policy.probs(theta), n, T, rng)
    return mdp, policy, theta, ep


# ---- sample statistics ----

def test_mean_se_golden_and_shapes():
    m, se = pg.mean_se([1.0, 2.0, 3.0, 4.0])
    assert m == pytest.approx(2.5)
    assert se == pytest.approx(np.sqrt(5.0 / 3.0) / 2.0)  # sample variance 5/3, N = 4
    x = np.random.default_rng(0).normal(size=(50, 3, 2))
    m, se = pg.mean_se(x)
    assert m.shape == se.shape == (3, 2)
    assert np.allclose(se, x.std(axis=0, ddof=1) / np.sqrt(50))


def test_mean_se_bad_input():
    with pytest.raises(ValueError, match="samples"):
        pg.mean_se([1.0])
    with pytest.raises(ValueError, match="samples"):
        pg.mean_se([1.0, np.nan])


def test_total_variance_is_trace_of_covariance():
    g = np.random.default_rng(1).normal(size=(200, 4)) * [1.0, 2.0, 0.5, 3.0]
    assert pg.total_variance(g) == pytest.approx(np.trace(np.cov(g.T)))
    assert pg.total_variance(g.reshape(200, 2, 2)) == pytest.approx(pg.total_variance(g))
    with pytest.raises(ValueError, match="samples"):
        pg.total_variance(np.ones((1, 3)))


def test_cosine_golden():
    u = np.array([1.0, -2.0, 3.0])
    assert pg.cosine(u, 2 * u) == pytest.approx(1.0)
    assert pg.cosine(u, -u) == pytest.approx(-1.0)
    assert pg.cosine([1.0, 0.0], [0.0, 5.0]) == pytest.approx(0.0)
    assert pg.cosine(u, np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        pg.cosine(u, np.ones(2))


def test_per_pair_means_against_a_loop():
    mdp, _, _, ep = _batch()
    x = np.random.default_rng(2).normal(size=ep.states.shape)
    for where in (None, np.arange(ep.horizon)[None, :] == 0):
        mean, se, cnt = pg.per_pair_means(ep, x, mdp.S, mdp.A, where=where)
        vals = {}
        for n in range(ep.n_episodes):
            for t in range(ep.horizon):
                if ep.mask[n, t] and (where is None or where[0, t]):
                    vals.setdefault((ep.states[n, t], ep.actions[n, t]), []).append(x[n, t])
        assert cnt.sum() == sum(len(v) for v in vals.values())
        for (s, a), v in vals.items():
            assert mean[s, a] == pytest.approx(np.mean(v))
            assert cnt[s, a] == len(v)
            if len(v) > 1:
                assert se[s, a] == pytest.approx(np.std(v, ddof=1) / np.sqrt(len(v)))
        unseen = cnt == 0
        assert np.isnan(mean[unseen]).all()


def test_per_pair_means_bad_input():
    mdp, _, _, ep = _batch()
    with pytest.raises(ValueError, match="values"):
        pg.per_pair_means(ep, np.zeros(3), mdp.S, mdp.A)
    with pytest.raises(TypeError, match="episodes"):
        pg.per_pair_means("not episodes", np.zeros(3), mdp.S, mdp.A)


# ---- td_fixed_point ----

def _residuals(ep, V, gamma, boot_terminal=False, boot_trunc=True):
    """Sum over the real steps from each state of r + gamma b V(s') - V(s), b per the flags."""
    real = ep.mask > 0
    boot = np.ones_like(ep.terminated) if boot_terminal else ~ep.terminated
    if not boot_trunc:
        boot = boot & ~ep.truncated
    d = ep.rewards + gamma * boot * V[ep.next_states] - V[ep.states]
    return np.bincount(ep.states[real], weights=d[real], minlength=V.size)


@pytest.mark.parametrize("seed", range(4))
def test_td_fixed_point_is_where_batch_td0_converges(seed):
    mdp, _, _, ep = _batch(seed, n=60, T=8)
    V = pg.td_fixed_point(ep, S=mdp.S, gamma=mdp.gamma)
    assert np.allclose(_residuals(ep, V, mdp.gamma), 0.0, atol=1e-9)
    V_td = pg.td0_values(ep, S=mdp.S, gamma=mdp.gamma, alpha=0.5, n_sweeps=3000)
    assert np.allclose(V_td, V, atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_td_fixed_point_mistake_variants_and_V0(seed):
    mdp, _, _, ep = _batch(seed, n=40, T=6)
    assert ep.truncated.any() and ep.terminated.any()
    V0 = np.random.default_rng(seed).normal(size=mdp.S)
    for bt, btr in [(True, True), (False, False), (True, False)]:
        V = pg.td_fixed_point(ep, S=mdp.S, gamma=mdp.gamma, V0=V0, bootstrap_terminal=bt, bootstrap_truncated=btr)
        assert np.allclose(_residuals(ep, V, mdp.gamma, bt, btr), 0.0, atol=1e-9)
    right = pg.td_fixed_point(ep, S=mdp.S, gamma=mdp.gamma, V0=V0)
    wrong = pg.td_fixed_point(ep, S=mdp.S, gamma=mdp.gamma, V0=V0, bootstrap_truncated=False)
    assert not np.allclose(right, wrong)
    seen = np.bincount(ep.states[ep.mask > 0], minlength=mdp.S) > 0
    assert np.array_equal(right[~seen], V0[~seen])


def test_td_fixed_point_bad_input():
    mdp, _, _, ep = _batch()
    with pytest.raises(ValueError, match="S"):
        pg.td_fixed_point(ep, S=2, gamma=0.9)
    with pytest.raises(ValueError, match="gamma"):
        pg.td_fixed_point(ep, S=mdp.S, gamma=1.5)
    with pytest.raises(ValueError, match="V0"):
        pg.td_fixed_point(ep, S=mdp.S, gamma=0.9, V0=np.zeros(2))


# ---- exact targets ----

@pytest.mark.parametrize("seed", range(3))
def test_truncated_values(seed):
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(5, 2, 0.8, rng, n_terminal=1)
    pi = pg.softmax(rng.normal(size=(5, 2)))
    ev = pg.evaluate(mdp, pi)
    assert np.array_equal(pg.truncated_values(mdp, pi, 0), np.zeros(5))
    _, r_pi = mdp.policy_matrices(pi)
    assert np.allclose(pg.truncated_values(mdp, pi, 1), r_pi * ~mdp.terminal)
    assert np.allclose(pg.truncated_values(mdp, pi, 400), ev.V, atol=1e-10)
    # V_k converges monotonically in the sup norm at rate gamma
    errs = [np.abs(pg.truncated_values(mdp, pi, k) - ev.V).max() for k in range(1, 8)]
    assert all(b <= mdp.gamma * a + 1e-12 for a, b in zip(errs[:-1], errs[1:], strict=True))


@pytest.mark.parametrize("theta,sigma", [(0.0, 0.5), (0.3, 1.7), (-1.0, 0.05)])
@pytest.mark.parametrize("centred", [False, True])
def test_bandit_score_variance_by_exact_quadrature(theta, sigma, centred):
    """Gauss-Hermite quadrature with 20 nodes integrates the degree-6 polynomial in z exactly."""
    z, w = np.polynomial.hermite_e.hermegauss(20)
    w = w / w.sum()
    a = theta + sigma * z
    U = -(theta - 1.0) ** 2 - sigma**2
    g = (-(a - 1.0) ** 2 - (U if centred else 0.0)) * (a - theta) / sigma**2
    mean = w @ g
    assert mean == pytest.approx(-2 * (theta - 1.0))
    assert pg.bandit_score_variance(theta, sigma, 1.0, centred=centred) == pytest.approx(w @ (g - mean) ** 2)
    with pytest.raises(ValueError, match="sigma"):
        pg.bandit_score_variance(theta, 0.0)


def test_mc_action_values_against_a_loop():
    mdp, _, _, ep = _batch(3, n=100)
    Q, cnt = pg.mc_action_values(ep, S=mdp.S, A=mdp.A, gamma=mdp.gamma)
    G = pg.discounted_returns(ep.rewards, mdp.gamma, ep.mask)
    mean, _, c2 = pg.per_pair_means(ep, G, mdp.S, mdp.A)
    assert np.array_equal(cnt, c2)
    assert np.allclose(Q[cnt > 0], mean[cnt > 0])
    assert np.all(Q[cnt == 0] == 0)


# ---- estimator scores ----

def test_score_estimator_reinforce_matches_the_estimators():
    mdp, policy, theta, ep = _batch(4, n=300)
    grad = pg.policy_gradient(mdp, policy, theta)
    ev = pg.evaluate(mdp, policy.probs(theta))
    sc = pg.score_estimator("REINFORCE", pg.BUILTIN_ESTIMATORS["REINFORCE"], policy, theta, ep, ev.V, mdp.gamma,
                            grad, batch_sizes=(10, 100))
    assert np.allclose(sc.mean, pg.reinforce_gradient(policy, theta, ep, mdp.gamma))
    assert sc.samples.shape == (300, *theta.shape)
    assert sc.bias_norm == pytest.approx(np.linalg.norm(sc.mean - grad))
    assert sc.variance == pytest.approx(pg.total_variance(sc.samples))
    assert sc.noise_floor == pytest.approx(np.sqrt(sc.variance / 300))
    assert set(sc.cosine) == {10, 100} and all(-1 <= c <= 1 for c in sc.cosine.values())
    b = pg.score_estimator("b", pg.BUILTIN_ESTIMATORS["REINFORCE+baseline"], policy, theta, ep, ev.V, mdp.gamma, grad)
    assert np.allclose(b.mean, pg.reinforce_gradient(policy, theta, ep, mdp.gamma, baseline=ev.V))
    table = pg.score_table([sc, b]).splitlines()
    assert len(table) == 3 and table[0].startswith("estimator") and table[2].startswith("b ")


def test_score_estimator_bad_estimators():
    mdp, policy, theta, ep = _batch()
    grad = pg.policy_gradient(mdp, policy, theta)
    with pytest.raises(ValueError, match="shape"):
        pg.score_estimator("bad", lambda e, V, g: np.zeros(3), policy, theta, ep, np.zeros(mdp.S), 0.9, grad)
    with pytest.raises(ValueError, match="NaN"):
        pg.score_estimator("nan", lambda e, V, g: np.full(e.states.shape, np.nan), policy, theta, ep,
                           np.zeros(mdp.S), 0.9, grad)


def test_gae_bias_variance_identities():
    mdp, policy, theta, T = pg.td_demo_problem()
    pi = policy.probs(theta)
    ev = pg.evaluate(mdp, pi)
    ep = pg.sample_episodes(mdp, pi, 200, T, np.random.default_rng(0))
    lams = np.array([0.0, 0.5, 1.0])
    V_hat = ev.V + 0.5 * pg.critic_error_direction(mdp)
    Eg, bias2, var = pg.gae_bias_variance(mdp, policy, theta, V_hat, lams, ep, T)
    grad = pg.policy_gradient(mdp, policy, theta)
    assert Eg.shape == (3, *theta.shape) and bias2.shape == var.shape == (3,)
    for i, lam in enumerate(lams):
        assert np.allclose(Eg[i], pg.expected_gradient_estimate(mdp, policy, theta, V_hat, lam, T))
        assert bias2[i] == pytest.approx(((Eg[i] - grad) ** 2).sum())
        g = pg.per_episode_gradients(policy, theta, ep, pg.gae(ep, V_hat, mdp.gamma, lam), mdp.gamma)
        assert var[i] == pytest.approx(pg.total_variance(g))
    # a wrong critic biases TD (lambda = 0) more than Monte Carlo (lambda = 1)
    assert bias2[0] > bias2[2]


# ---- problems ----

@pytest.mark.parametrize("seed", range(3))
def test_reward_shifted(seed):
    rng = np.random.default_rng(seed)
    pi = pg.softmax(rng.normal(size=(5, 3)))
    cont = pg.random_mdp(5, 3, 0.9, rng)  # no terminal state: V moves by shift / (1 - gamma), A stays
    a, b = pg.evaluate(cont, pi), pg.evaluate(pg.reward_shifted(cont, 2.0), pi)
    assert np.allclose(b.V, a.V + 2.0 / (1 - 0.9))
    assert np.allclose(a.A, b.A)
    epi = pg.random_mdp(5, 3, 0.9, rng, n_terminal=1)
    shifted = pg.reward_shifted(epi, 2.0)
    assert np.all(shifted.R[epi.terminal] == 0)
    assert np.allclose(shifted.R[~epi.terminal], epi.R[~epi.terminal] + 2.0)
    with pytest.raises(TypeError, match="mdp"):
        pg.reward_shifted("mdp", 1.0)


def test_critic_error_direction():
    mdp, *_ = pg.td_demo_problem()
    e = pg.critic_error_direction(mdp)
    assert np.all(e[mdp.terminal] == 0)
    assert np.sqrt((e[~mdp.terminal] ** 2).mean()) == pytest.approx(1.0)
    assert not np.allclose(e, pg.critic_error_direction(mdp, seed=8))


def test_demo_problems_are_fixed():
    assert np.array_equal(pg.demo_grid_policy(), pg.demo_grid_policy())
    assert np.allclose(pg.demo_grid_policy().sum(axis=1), 1.0)
    m1, _, d1 = pg.gradient_demo_problem()
    m2, _, d2 = pg.gradient_demo_problem()
    assert np.array_equal(d1, d2) and np.array_equal(m1.P, m2.P)


def test_running_mean_se_matches_prefix_statistics():
    x = np.random.default_rng(5).exponential(size=300)
    n, m, se = pg.running_mean_se(x)
    for k in (1, 7, 300):
        assert m[k - 1] == pytest.approx(x[:k].mean())
        assert se[k - 1] == pytest.approx(x[:k].std() / np.sqrt(k))
    n2, m2, se2 = pg.running_mean_se(x, n_points=20)
    assert n2[0] == 1 and n2[-1] == 300 and len(n2) <= 20
    assert np.allclose(m2, m[n2 - 1]) and np.allclose(se2, se[n2 - 1])
    with pytest.raises(ValueError, match="samples"):
        pg.running_mean_se(np.ones((2, 2)))


def test_total_variation_golden():
    assert pg.total_variation([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]) == pytest.approx(0.5)
    assert pg.total_variation([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1.0)
    p = np.random.default_rng(0).dirichlet(np.ones(6))
    assert pg.total_variation(p, p) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        pg.total_variation([1.0], [0.5, 0.5])


def test_builtin_expectation_is_unbiased_for_the_sampled_estimators():
    """On FrozenLake's lab the sampled mean of each built-in estimator is within 5 s.e. of its exact E[g]."""
    lab = pg.frozen_lake_lab(n_episodes=4000, seed=1)
    for name, est in pg.BUILTIN_ESTIMATORS.items():
        sc = pg.score_estimator(name, est, lab["policy"], lab["theta"], lab["episodes"], lab["V_td"],
                                lab["mdp"].gamma, lab["grad"], batch_sizes=(10,))
        Eg = pg.builtin_expectation(name, lab["mdp"], lab["policy"], lab["theta"], lab["V_td"], lab["horizon"])
        _, se = pg.mean_se(sc.samples)
        assert np.all(np.abs(sc.mean - Eg) <= 5 * se + 1e-12), name
    assert pg.builtin_expectation("3-step", lab["mdp"], lab["policy"], lab["theta"], lab["V_td"], 100) is None
