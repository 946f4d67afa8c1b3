"""The natural gradient and the compatible critic (pgcourse.natural).

The central property: iterating theta += eta * natural_gradient with exact gradients from the uniform policy
is monotone in U and stays within Agarwal et al.'s (2021, Thm 16) bound for every T, on many random MDPs and
step sizes eta in {0.1, 1, 10} -- the Fisher-matrix least squares the package used before failed it (it cut
the update of nearly-deterministic actions). References here are independent: closed forms, the normal
equations, a pseudo-inverse of F on well-conditioned policies, finite differences.
"""
import numpy as np
import pytest
from hypothesis import given

import pgcourse as pg
from pgcourse import convergence, natural
from tests._strategies import FAST, mdp_cases, unit_rewards


def _U(mdp, policy, theta):
    return pg.evaluate(mdp, policy.probs(theta)).U


# --- NPG: monotone and within the bound ------------------------------------------------------------------

NPG_CASES = [(seed, eta) for seed in range(12) for eta in (0.1, 1.0, 10.0)]


@pytest.mark.parametrize("seed,eta", NPG_CASES)
def test_npg_is_monotone_and_within_agarwal_bound(seed, eta):
    rng = np.random.default_rng(1000 + seed)
    S, A = int(rng.integers(4, 7)), int(rng.integers(2, 5))
    gamma = float(rng.choice([0.8, 0.9, 0.95]))
    mdp = unit_rewards(pg.random_mdp(S, A, gamma, rng, branching=int(rng.integers(1, S + 1))))
    tab = pg.SoftmaxPolicy.tabular(S, A)
    T = 150
    thetas = convergence.npg_iterates(mdp, tab, tab.zeros(), eta, T)
    U = np.array([_U(mdp, tab, th) for th in thetas])
    U_star = float(mdp.mu @ pg.optimal_values(mdp)[0])
    k = np.arange(1, T + 1)
    bound = np.log(A) / (eta * k) + 1.0 / ((1 - gamma) ** 2 * k)  # rewards in [0, 1]
    np.testing.assert_allclose(convergence.npg_bound(mdp, eta, k), bound, rtol=1e-12)
    tol = 1e-12 * (1 + abs(U_star))
    assert np.diff(U).min() >= -tol, f"U fell by {-np.diff(U).min():.3g} at step {np.diff(U).argmin()}"
    excess = (U_star - U[1:]) - bound
    assert excess.max() <= tol, f"left the bound by {excess.max():.3g} at T = {excess.argmax() + 1}"


@pytest.mark.parametrize("seed", range(6))
def test_npg_bound_with_unscaled_rewards(seed):
    """Rewards N(0, 1): the bound with (r_max - r_min) in place of 1 holds (shift/scale invariance)."""
    rng = np.random.default_rng(2000 + seed)
    mdp = pg.random_mdp(5, 3, 0.9, rng)
    tab = pg.SoftmaxPolicy.tabular(5, 3)
    thetas = convergence.npg_iterates(mdp, tab, tab.zeros(), 1.0, 80)
    U = np.array([_U(mdp, tab, th) for th in thetas])
    U_star = float(mdp.mu @ pg.optimal_values(mdp)[0])
    assert np.all(U_star - U[1:] <= convergence.npg_bound(mdp, 1.0, np.arange(1, 81)) + 1e-12)


@pytest.mark.parametrize("seed,eta", [(s, e) for s in range(4) for e in (0.1, 1.0, 10.0)])
def test_npg_is_monotone_with_terminal_states(seed, eta):
    """Episodic MDPs (gamma = 1 and gamma < 1): the multiplicative update never lowers U."""
    rng = np.random.default_rng(3000 + seed)
    gamma = 1.0 if seed % 2 == 0 else 0.9
    mdp = pg.random_mdp(5, 3, gamma, rng, n_terminal=1)
    tab = pg.SoftmaxPolicy.tabular(5, 3)
    U = np.array([_U(mdp, tab, th) for th in convergence.npg_iterates(mdp, tab, tab.zeros(), eta, 60)])
    assert np.diff(U).min() >= -1e-12 * (1 + np.abs(U).max())


def test_npg_escapes_a_nearly_deterministic_policy():
    """Start where the best action has probability ~1e-40 (logit -92): the exact NPG update restores it.
    A Fisher-matrix pseudo-inverse with rcond = 1e-10 drops that direction and stays stuck."""
    mdp = unit_rewards(pg.random_mdp(4, 3, 0.9, np.random.default_rng(7)))
    tab = pg.SoftmaxPolicy.tabular(4, 3)
    _, pi_star = pg.optimal_values(mdp)
    theta = np.where(pi_star > 0, -92.0, 0.0)
    ng = natural.natural_gradient(mdp, tab, theta)
    ev = pg.evaluate(mdp, tab.probs(theta))
    expected = ev.effective_horizon * (ev.A - ev.A.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(ng, expected, rtol=1e-12, atol=1e-12)
    F = natural.fisher_matrix(mdp, tab, theta)
    old = np.linalg.lstsq(F, pg.policy_gradient(mdp, tab, theta).ravel(), rcond=1e-10)[0].reshape(4, 3)
    assert np.abs(old - expected)[pi_star > 0].max() > 1.0  # what the old computation lost
    U = [_U(mdp, tab, th) for th in convergence.npg_iterates(mdp, tab, theta, 10.0, 40)]
    U_star = float(mdp.mu @ pg.optimal_values(mdp)[0])
    assert U_star - U[-1] < 1e-9 * (U_star - U[0])


# --- the natural gradient and the critic: definitions -------------------------------------------------------

@FAST
@given(mdp_cases(max_S=5, max_A=3, min_A=2))
def test_tabular_natural_gradient_solves_the_fisher_system_with_minimum_norm(case):
    """F n = grad U (normal equations), n in the row space of F (per-state sums 0, 0 on unvisited states),
    n = H (A - mean_a A): every definition of the pseudo-inverse solution at once."""
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = rng.normal(size=(mdp.S, mdp.A)) * 2
    n = pg.natural_gradient(mdp, tab, theta)
    ev = pg.evaluate(mdp, tab.probs(theta))
    g = pg.policy_gradient(mdp, tab, theta)
    F = pg.fisher_matrix(mdp, tab, theta)
    scale = 1 + np.abs(g).max() + ev.effective_horizon * np.abs(ev.A).max()
    np.testing.assert_allclose(F @ n.ravel(), g.ravel(), atol=1e-10 * scale)
    live = ev.d > 0
    np.testing.assert_allclose(n[live].sum(axis=1), 0.0, atol=1e-10 * scale)
    np.testing.assert_array_equal(n[~live], 0.0)
    np.testing.assert_allclose(n[live], (ev.effective_horizon * (ev.A - ev.A.mean(axis=1, keepdims=True)))[live],
                               atol=1e-12 * scale)
    np.testing.assert_allclose(F, F.T, atol=1e-14)
    assert np.linalg.eigvalsh(F).min() > -1e-12


@FAST
@given(mdp_cases(max_S=5, max_A=3, min_A=2))
def test_one_hot_features_give_the_tabular_answer(case):
    """The general weighted least-squares path on one-hot features agrees with the tabular closed form."""
    mdp, rng = case
    S, A = mdp.S, mdp.A
    tab = pg.SoftmaxPolicy.tabular(S, A)
    lin = pg.SoftmaxPolicy(np.eye(S * A).reshape(S, A, S * A))
    theta = rng.normal(size=(S, A)) * 3
    a = pg.natural_gradient(mdp, tab, theta)
    b = pg.natural_gradient(mdp, lin, theta.ravel()).reshape(S, A)
    np.testing.assert_allclose(b, a, atol=1e-8 * (1 + np.abs(a).max()))


def _random_features(rng, S, A, K):
    return rng.normal(size=(S, A, K))


@FAST
@given(mdp_cases(max_S=6, max_A=4, min_A=2))
def test_compatible_critic_gives_the_exact_gradient(case):
    """Sutton et al. (2000): grad U = sum_s visits sum_a pi psi (psi . w) although psi . w != A; and
    w = natural_gradient / effective_horizon (Kakade 2001); w is orthogonal to the score null space."""
    mdp, rng = case
    S, A = mdp.S, mdp.A
    K = int(rng.integers(1, max(2, S * (A - 1))))
    pol = pg.SoftmaxPolicy(_random_features(rng, S, A, K))
    theta = rng.normal(size=K)
    w = pg.compatible_critic(mdp, pol, theta)
    ev = pg.evaluate(mdp, pol.probs(theta))
    psi = natural.score_features(pol, theta)
    fit = psi @ w
    rebuilt = np.einsum("s,sa,sak,sa->k", ev.visits, ev.pi, psi, fit)
    g = pg.policy_gradient(mdp, pol, theta)
    np.testing.assert_allclose(rebuilt, g, atol=1e-9 * (1 + np.abs(g).max()))
    np.testing.assert_allclose(pg.natural_gradient(mdp, pol, theta), ev.effective_horizon * w,
                               atol=1e-12 * (1 + ev.effective_horizon * np.abs(w).max()))
    # the residual is orthogonal to every compatible feature under d pi (normal equations)
    resid = np.einsum("sa,sak,sa->k", ev.d[:, None] * ev.pi, psi, fit - ev.A)
    np.testing.assert_allclose(resid, 0.0, atol=1e-9 * (1 + np.abs(ev.A).max()))
    # against a reference: pseudo-inverse of F (fine here, the policy is far from deterministic)
    F = pg.fisher_matrix(mdp, pol, theta)
    ref = np.linalg.pinv(F, rcond=1e-10) @ (g / ev.effective_horizon)
    np.testing.assert_allclose(w, ref, atol=1e-6 * (1 + np.abs(ref).max()))


def test_a_critic_in_other_features_biases_the_gradient():
    """The theorem needs compatible features: fitting A with features unrelated to the score (here the state
    one-hot, which psi . w can never produce) gives a different, biased direction."""
    rng = np.random.default_rng(3)
    mdp = pg.random_mdp(5, 3, 0.9, rng)
    tab = pg.SoftmaxPolicy.tabular(5, 3)
    theta = rng.normal(size=(5, 3))
    ev = pg.evaluate(mdp, tab.probs(theta))
    w = pg.compatible_critic(mdp, tab, theta)
    psi = natural.score_features(tab, theta)
    assert np.abs(psi @ w.ravel() - ev.A).max() < 1e-10  # tabular: the fit is exact ...
    assert np.abs(psi @ w.ravel() - ev.Q).max() > 0.1   # ... of A, not of Q


@FAST
@given(mdp_cases(max_S=5, max_A=3, min_A=2, episodic=False, max_gamma=0.95))
def test_entropy_regularised_natural_gradient_is_cen_update(case):
    """tau > 0: F n_tau = grad U_tau, and the tabular update is Cen et al.'s
    theta <- (1 - eta tau/(1-gamma)) theta + eta/(1-gamma) Q_tau up to per-state constants."""
    mdp, rng = case
    tau, eta = 0.3, 0.1
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = rng.normal(size=(mdp.S, mdp.A))
    n = pg.natural_gradient(mdp, tab, theta, tau=tau)
    g = pg.policy_gradient(mdp, tab, theta, tau=tau)
    F = pg.fisher_matrix(mdp, tab, theta)
    np.testing.assert_allclose(F @ n.ravel(), g.ravel(), atol=1e-9 * (1 + np.abs(g).max()))
    ev = pg.evaluate(mdp, tab.probs(theta), tau=tau)
    cen = (1 - eta * tau / (1 - mdp.gamma)) * theta + eta / (1 - mdp.gamma) * ev.Q
    diff = theta + eta * n - cen
    np.testing.assert_allclose(diff - diff.mean(axis=1, keepdims=True), 0.0, atol=1e-9 * (1 + np.abs(cen).max()))


def test_large_logits_give_finite_natural_gradient():
    mdp = pg.random_mdp(4, 3, 0.9, np.random.default_rng(0))
    tab = pg.SoftmaxPolicy.tabular(4, 3)
    theta = np.random.default_rng(1).normal(size=(4, 3)) * 1e3  # probabilities underflow to 0
    n = pg.natural_gradient(mdp, tab, theta)
    assert np.isfinite(n).all()
    lin = pg.SoftmaxPolicy(np.random.default_rng(2).normal(size=(4, 3, 3)))
    assert np.isfinite(pg.natural_gradient(mdp, lin, np.full(3, 300.0))).all()


def test_single_action_and_unvisited_states():
    mdp = pg.random_mdp(3, 1, 0.9, np.random.default_rng(0))
    tab = pg.SoftmaxPolicy.tabular(3, 1)
    np.testing.assert_array_equal(pg.natural_gradient(mdp, tab, tab.zeros()), 0.0)
    # a state mu never starts in and nothing reaches: visits 0, natural gradient 0 there
    P = np.zeros((3, 2, 3))
    P[:, :, 0] = 1.0
    P[1, 1] = [0, 1, 0]
    mdp = pg.TabularMDP(P, np.arange(6.0).reshape(3, 2), np.array([1.0, 0, 0]), 0.9)
    n = pg.natural_gradient(mdp, pg.SoftmaxPolicy.tabular(3, 2), np.zeros((3, 2)))
    np.testing.assert_array_equal(n[1:], 0.0)


@pytest.mark.parametrize("fn", [natural.natural_gradient, natural.compatible_critic])
def test_bad_input(fn):
    mdp = pg.random_mdp(3, 2, 0.9, np.random.default_rng(0))
    tab = pg.SoftmaxPolicy.tabular(3, 2)
    with pytest.raises(TypeError, match="mdp"):
        fn("mdp", tab, tab.zeros())
    with pytest.raises(TypeError, match="policy"):
        fn(mdp, "policy", tab.zeros())
    with pytest.raises(ValueError, match="theta"):
        fn(mdp, tab, np.zeros(3))
    with pytest.raises(ValueError, match="rcond"):
        fn(mdp, tab, tab.zeros(), rcond=-1.0)
    with pytest.raises(ValueError, match="tau"):
        fn(mdp, tab, tab.zeros(), tau=-0.1)
    with pytest.raises(ValueError, match="policy"):
        fn(mdp, pg.SoftmaxPolicy.tabular(4, 2), np.zeros((4, 2)))
