"""Exact evaluation and exact gradients (pgcourse.exact), checked against independent computations.

Properties run on random MDPs drawn by hypothesis (seeds, sizes, gamma; episodic ones with gamma = 1
through n_terminal). The reference values are computed here with an explicit inverse of the full
(I - gamma P_pi) whose terminal rows are zeroed: a different formulation from the package's restricted
linear solves.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgcourse as pg
from tests._strategies import mdp_cases

FAST = settings(max_examples=25, deadline=None)


# --- independent reference computations ----------------------------------------------------------------

def ref_eval(mdp, pi):
    """V, Q, visits by explicit inverses of the full S x S system, terminal rows zeroed."""
    live = (~mdp.terminal).astype(float)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P) * live[:, None]  # no transition out of a terminal state
    r_pi = (pi * mdp.R).sum(axis=1) * live
    M_inv = np.linalg.inv(np.eye(mdp.S) - mdp.gamma * P_pi)
    V = M_inv @ r_pi
    visits = (mdp.mu @ M_inv) * live
    Q = mdp.R + mdp.gamma * np.einsum("sat,t->sa", mdp.P, V)
    return V, Q, visits


def ref_U(mdp, pi):
    return float(mdp.mu @ ref_eval(mdp, pi)[0])


def fd_gradient(mdp, policy, theta, eps=1e-5):
    """Central finite differences of the reference U (not pg.finite_difference_gradient)."""
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        g[i] = (ref_U(mdp, policy.probs(tp)) - ref_U(mdp, policy.probs(tm))) / (2 * eps)
    return g


def rand_pi(rng, S, A, scale=1.0):
    logits = scale * rng.normal(size=(S, A))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- properties on random MDPs ---------------------------------------------------------------------------

@FAST
@given(mdp_cases())
def test_evaluate_matches_independent_inverse(case):
    mdp, rng = case
    pi = rand_pi(rng, mdp.S, mdp.A, scale=2.0)
    ev = pg.evaluate(mdp, pi)
    V, Q, visits = ref_eval(mdp, pi)
    scale = 1.0 + np.abs(V).max()
    np.testing.assert_allclose(ev.V, V, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(ev.Q, Q, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(ev.A, Q - V[:, None], rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(ev.visits, visits, rtol=1e-9, atol=1e-12)
    assert ev.U == pytest.approx(mdp.mu @ V, rel=1e-9, abs=1e-9)
    np.testing.assert_array_equal(ev.pi, pi)


@FAST
@given(mdp_cases())
def test_d_is_a_distribution_and_rho_is_d_pi(case):
    mdp, rng = case
    pi = rand_pi(rng, mdp.S, mdp.A)
    ev = pg.evaluate(mdp, pi)
    assert ev.d.sum() == pytest.approx(1.0, abs=1e-12)
    assert ev.d.min() >= 0
    assert np.all(ev.d[mdp.terminal] == 0) and np.all(ev.visits[mdp.terminal] == 0)
    np.testing.assert_allclose(ev.rho, ev.d[:, None] * pi, atol=1e-15)
    assert ev.rho.sum() == pytest.approx(1.0, abs=1e-12)
    assert ev.effective_horizon == pytest.approx(ev.visits.sum(), rel=1e-12)
    if not mdp.episodic:
        assert ev.effective_horizon == pytest.approx(1.0 / (1.0 - mdp.gamma), rel=1e-9)
        np.testing.assert_allclose(ev.d, (1.0 - mdp.gamma) * ev.visits, atol=1e-12)
    # d is a fixed point of the discounted flow: visits = mu + gamma P_pi^T visits (live states)
    live = ~mdp.terminal
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    flow = mdp.mu + mdp.gamma * ev.visits @ P_pi
    np.testing.assert_allclose(ev.visits[live], flow[live], rtol=1e-9, atol=1e-9)


@FAST
@given(mdp_cases())
def test_U_identities(case):
    """U = mu.V = effective_horizon * sum rho r  (= 1/(1-gamma) sum rho r without terminals); not sum rho Q."""
    mdp, rng = case
    pi = rand_pi(rng, mdp.S, mdp.A)
    ev = pg.evaluate(mdp, pi)
    tol = 1e-9 * (1.0 + abs(ev.U) + ev.effective_horizon)
    assert ev.U == pytest.approx(float(mdp.mu @ ev.V), abs=tol)
    assert ev.U == pytest.approx(ev.effective_horizon * float((ev.rho * mdp.R).sum()), abs=tol)
    if not mdp.episodic and mdp.gamma < 1:
        assert ev.U == pytest.approx(float((ev.rho * mdp.R).sum()) / (1.0 - mdp.gamma), abs=tol)


@FAST
@given(mdp_cases())
def test_bellman_equations(case):
    """V = sum_a pi Q and Q = R + gamma P V, with V = 0 on terminal states."""
    mdp, rng = case
    pi = rand_pi(rng, mdp.S, mdp.A)
    ev = pg.evaluate(mdp, pi)
    tol = 1e-9 * (1.0 + np.abs(ev.V).max())
    np.testing.assert_allclose(ev.V, (pi * ev.Q).sum(axis=1) * ~mdp.terminal, atol=tol)
    np.testing.assert_allclose(ev.Q, mdp.R + mdp.gamma * mdp.P @ ev.V, atol=tol)
    assert np.all(ev.V[mdp.terminal] == 0)
    np.testing.assert_allclose((pi * ev.A).sum(axis=1)[~mdp.terminal], 0.0, atol=tol)


@FAST
@given(mdp_cases())
def test_baseline_leaves_expectation_unchanged(case):
    """E_{d,pi}[score * b(s)] = 0 for any state-only weight, tabular and linear features, any d."""
    mdp, rng = case
    b = rng.normal(size=mdp.S) * 10
    weights = np.repeat(b[:, None], mdp.A, axis=1)
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    lin = pg.SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, 3)))
    for policy, theta in ((tab, rng.normal(size=(mdp.S, mdp.A))), (lin, rng.normal(size=3))):
        np.testing.assert_allclose(pg.score_expectation(mdp, policy, theta, weights), 0.0, atol=1e-10)
        d_any = rng.random(mdp.S)
        np.testing.assert_allclose(pg.score_expectation(mdp, policy, theta, weights, d=d_any), 0.0, atol=1e-10)
        # adding b(s) to any weight leaves the expectation unchanged, and that expectation is not trivially 0
        w = rng.normal(size=weights.shape)
        d = pg.evaluate(mdp, policy.probs(theta)).d
        pi = policy.probs(theta)
        s_idx, a_idx = np.meshgrid(np.arange(mdp.S), np.arange(mdp.A), indexing="ij")
        scores = policy.grad_log_prob(theta, s_idx, a_idx)  # (S, A, *theta.shape)
        expect = np.tensordot(d[:, None] * pi * w, scores, axes=([0, 1], [0, 1]))
        np.testing.assert_allclose(pg.score_expectation(mdp, policy, theta, w), expect, atol=1e-10)
        np.testing.assert_allclose(pg.score_expectation(mdp, policy, theta, w + weights), expect, atol=1e-9)


@FAST
@given(mdp_cases(max_gamma=0.95))
def test_exact_gradient_equals_finite_differences(case):
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    lin = pg.SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, 3)))
    for policy, theta in ((tab, rng.normal(size=(mdp.S, mdp.A))), (lin, rng.normal(size=3))):
        g = pg.policy_gradient(mdp, policy, theta)
        assert g.shape == theta.shape
        fd = fd_gradient(mdp, policy, theta)
        np.testing.assert_allclose(g, fd, rtol=0, atol=1e-6 * (1.0 + np.abs(fd).max()))
        np.testing.assert_allclose(pg.finite_difference_gradient(mdp, policy, theta), fd, atol=1e-9)


@FAST
@given(mdp_cases())
def test_policy_gradient_theorem(case):
    """grad U = effective_horizon * E_{d,pi}[grad log pi Q], the expectation summed here from grad_log_prob."""
    mdp, rng = case
    lin = pg.SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, 2)))
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    for policy, theta in ((tab, rng.normal(size=(mdp.S, mdp.A))), (lin, rng.normal(size=2))):
        pi = policy.probs(theta)
        V, Q, visits = ref_eval(mdp, pi)
        d = visits / visits.sum()
        expect = np.zeros(theta.shape)
        for s in range(mdp.S):
            for a in range(mdp.A):
                expect += d[s] * pi[s, a] * policy.grad_log_prob(theta, np.array(s), np.array(a)) * Q[s, a]
        scale = 1e-9 * (1.0 + np.abs(Q).max()) * visits.sum()
        np.testing.assert_allclose(pg.score_expectation(mdp, policy, theta, Q), expect, atol=scale)
        ev = pg.evaluate(mdp, pi)
        np.testing.assert_allclose(pg.policy_gradient(mdp, policy, theta),
                                   ev.effective_horizon * pg.score_expectation(mdp, policy, theta, ev.Q), atol=scale)
        np.testing.assert_allclose(pg.policy_gradient(mdp, policy, theta), visits.sum() * expect, atol=scale)


@FAST
@given(mdp_cases(max_S=5, max_A=3))
def test_one_hot_features_equal_tabular(case):
    mdp, rng = case
    S, A = mdp.S, mdp.A
    tab = pg.SoftmaxPolicy.tabular(S, A)
    onehot = pg.SoftmaxPolicy(np.eye(S * A).reshape(S, A, S * A))
    theta = rng.normal(size=(S, A))
    np.testing.assert_allclose(onehot.probs(theta.ravel()), tab.probs(theta), atol=1e-15)
    np.testing.assert_allclose(pg.policy_gradient(mdp, onehot, theta.ravel()),
                               pg.policy_gradient(mdp, tab, theta).ravel(), rtol=1e-10, atol=1e-12)
    # the tabular policy's features are one-hot with K = theta.shape = (S, A)
    np.testing.assert_array_equal(tab.features.reshape(S, A, S * A), onehot.features)


@FAST
@given(mdp_cases(max_S=5, max_A=3))
def test_optimal_values_beat_every_policy_and_satisfy_bellman_optimality(case):
    mdp, rng = case
    V_star, pi_star = pg.optimal_values(mdp)
    assert np.all(pi_star.sum(axis=1) == 1) and set(np.unique(pi_star)) <= {0.0, 1.0}
    Q_star = mdp.R + mdp.gamma * mdp.P @ V_star
    tol = 1e-8 * (1 + np.abs(V_star).max())
    live = ~mdp.terminal
    np.testing.assert_allclose(V_star[live], Q_star.max(axis=1)[live], atol=tol)
    for _ in range(5):
        V = ref_eval(mdp, rand_pi(rng, mdp.S, mdp.A, 3.0))[0]
        assert np.all(V <= V_star + tol)


@FAST
@given(mdp_cases(max_S=4, max_A=3, max_gamma=0.95))
def test_natural_gradient_tabular_is_advantage_up_to_state_constant(case):
    """Tabular softmax: F^+ grad U = A(s, a) * effective_horizon + c(s) (Kakade 2001, with our normalisation)."""
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = rng.normal(size=(mdp.S, mdp.A))
    ev = pg.evaluate(mdp, tab.probs(theta))
    ng = pg.natural_gradient(mdp, tab, theta)
    diff = ng - ev.effective_horizon * ev.A
    live = ev.d > 1e-6
    tol = 1e-5 * (1 + np.abs(ev.effective_horizon * ev.A).max())
    np.testing.assert_allclose(diff[live] - diff[live].mean(axis=1, keepdims=True), 0.0, atol=tol)
    F = pg.fisher_matrix(mdp, tab, theta)
    np.testing.assert_allclose(F, F.T, atol=1e-14)
    assert np.linalg.eigvalsh(F).min() > -1e-12


# --- golden cases ----------------------------------------------------------------------------------------

def test_chain_ab_golden_numbers():
    mdp = pg.chain_ab(0.9)
    ev = pg.evaluate(mdp, np.ones((2, 1)))
    np.testing.assert_allclose(ev.d, [0.1, 0.9], atol=1e-12)
    np.testing.assert_allclose(ev.visits, [1.0, 9.0], atol=1e-12)
    np.testing.assert_allclose(ev.V, [9.0, 10.0], atol=1e-12)
    assert ev.U == pytest.approx(9.0, abs=1e-12)
    assert float((ev.rho * ev.Q).sum()) == pytest.approx(9.9, abs=1e-12)  # the notes' slip: not U
    assert ev.effective_horizon * float((ev.rho * mdp.R).sum()) == pytest.approx(9.0, abs=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99])
def test_chain_ab_d_is_one_minus_gamma_gamma(gamma):
    ev = pg.evaluate(pg.chain_ab(gamma), np.ones((2, 1)))
    np.testing.assert_allclose(ev.d, [1 - gamma, gamma], atol=1e-12)
    assert ev.U == pytest.approx(gamma / (1 - gamma), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.999])
def test_constant_reward_gives_c_over_one_minus_gamma(gamma):
    rng = np.random.default_rng(3)
    mdp0 = pg.random_mdp(5, 3, gamma, rng)
    c = -2.5
    mdp = pg.TabularMDP(mdp0.P, np.full((5, 3), c), mdp0.mu, gamma)
    ev = pg.evaluate(mdp, rand_pi(rng, 5, 3))
    np.testing.assert_allclose(ev.V, c / (1 - gamma), rtol=1e-9)
    np.testing.assert_allclose(ev.A, 0.0, atol=1e-9 / (1 - gamma))


def test_one_state_no_termination():
    mdp = pg.TabularMDP(np.ones((1, 2, 1)), [[1.0, 3.0]], [1.0], 0.75)
    ev = pg.evaluate(mdp, [[0.5, 0.5]])
    assert ev.U == pytest.approx(2.0 / 0.25)
    np.testing.assert_allclose(ev.d, [1.0])


def test_gamma_zero_is_one_step():
    rng = np.random.default_rng(5)
    mdp = pg.random_mdp(4, 2, 0.0, rng, n_terminal=1)
    pi = rand_pi(rng, 4, 2)
    ev = pg.evaluate(mdp, pi)
    np.testing.assert_allclose(ev.V[:3], (pi * mdp.R).sum(axis=1)[:3], atol=1e-14)
    np.testing.assert_allclose(ev.d, mdp.mu, atol=1e-14)


# --- gamma = 1 with a policy that never terminates --------------------------------------------------------

def _loop_mdp():
    """0 <-> 1 forever under action 0; action 1 goes to the terminal state 2."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[1, 0, 0] = 1.0
    P[0, 1, 2] = P[1, 1, 2] = 1.0
    P[2, :, 2] = 1.0
    R = np.array([[-1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]])
    return pg.TabularMDP(P, R, [1.0, 0, 0], 1.0, terminal=np.array([False, False, True]))


def _assert_clear_episodic_error(excinfo):
    assert type(excinfo.value) is ValueError, type(excinfo.value)  # LinAlgError subclasses ValueError
    assert "never reach a terminal" in str(excinfo.value) or "no terminal" in str(excinfo.value)


def test_gamma_one_never_terminating_policy_raises_clear_value_error():
    mdp = _loop_mdp()
    with pytest.raises(ValueError) as e:
        pg.evaluate(mdp, [[1.0, 0.0], [1.0, 0.0], [0.5, 0.5]])
    _assert_clear_episodic_error(e)
    assert "[0, 1]" in str(e.value)
    # a policy whose stuck states feed into an exiting state is fine: 1 -> 0 -> terminal
    assert pg.evaluate(mdp, [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]).V[1] == pytest.approx(-1.0)
    # the same goes for the gradient and the objective
    tab = pg.SoftmaxPolicy.tabular(3, 2)
    theta = np.array([[50.0, -1e3], [1e3, -1e3], [0.0, 0.0]])
    with pytest.raises(ValueError) as e:
        pg.policy_gradient(mdp, tab, theta)
    _assert_clear_episodic_error(e)
    # a policy that ends episodes, however rarely, is fine: V = -(1 - q)/q with exit probability q
    q = 1e-3
    ev = pg.evaluate(mdp, [[1 - q, q], [1 - q, q], [0.5, 0.5]])
    assert ev.V[0] == pytest.approx(-(1 - q) / q, rel=1e-9)


def test_gamma_one_without_terminal_states_raises():
    P = np.ones((2, 1, 2)) / 2
    mdp = pg.TabularMDP(P, [[1.0], [0.0]], [1.0, 0.0], 1.0)
    with pytest.raises(ValueError) as e:
        pg.evaluate(mdp, np.ones((2, 1)))
    _assert_clear_episodic_error(e)


def test_gamma_one_unreachable_stuck_state_is_still_detected():
    """A looping state that mu never reaches still makes V undefined there: detected by structure."""
    P = np.zeros((4, 1, 4))
    P[0, 0, 3] = 1.0
    P[1, 0, 2] = P[2, 0, 1] = 1.0
    P[3, 0, 3] = 1.0
    mdp = pg.TabularMDP(P, np.zeros((4, 1)), [1.0, 0, 0, 0], 1.0, terminal=np.array([False, False, False, True]))
    with pytest.raises(ValueError) as e:
        pg.evaluate(mdp, np.ones((4, 1)))
    _assert_clear_episodic_error(e)


def test_policy_matrices():
    rng = np.random.default_rng(0)
    mdp = pg.random_mdp(4, 3, 0.9, rng)
    pi = rand_pi(rng, 4, 3)
    P_pi, r_pi = mdp.policy_matrices(pi)
    for s in range(4):
        assert r_pi[s] == pytest.approx(sum(pi[s, a] * mdp.R[s, a] for a in range(3)))
        np.testing.assert_allclose(P_pi[s], sum(pi[s, a] * mdp.P[s, a] for a in range(3)))


# --- entropy regularisation: every step pays r(s, a) - tau log pi(a|s) --------------------------------------

def ref_eval_tau(mdp, pi, tau):
    """V_tau, Q_tau, U_tau by an explicit inverse, with the entropy bonus folded into the reward (0 log 0 = 0)."""
    live = (~mdp.terminal).astype(float)
    logpi = np.log(np.where(pi > 0, pi, 1.0))
    P_pi = np.einsum("sa,sat->st", pi, mdp.P) * live[:, None]
    r_pi = (pi * (mdp.R - tau * logpi)).sum(axis=1) * live
    V = np.linalg.inv(np.eye(mdp.S) - mdp.gamma * P_pi) @ r_pi
    Q = mdp.R + mdp.gamma * np.einsum("sat,t->sa", mdp.P, V)
    return V, Q, float(mdp.mu @ V)


def fd_gradient_tau(mdp, policy, theta, tau, eps=1e-5):
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        g[i] = (ref_eval_tau(mdp, policy.probs(tp), tau)[2] - ref_eval_tau(mdp, policy.probs(tm), tau)[2]) / (2 * eps)
    return g


@FAST
@given(mdp_cases(), st.floats(0.0, 2.0))
def test_regularised_evaluation_matches_reference(case, tau):
    mdp, rng = case
    pi = rand_pi(rng, mdp.S, mdp.A)
    ev = pg.evaluate(mdp, pi, tau=tau)
    V, Q, U = ref_eval_tau(mdp, pi, tau)
    scale = 1e-9 * (1.0 + np.abs(V).max())
    np.testing.assert_allclose(ev.V, V, atol=scale)
    np.testing.assert_allclose(ev.Q, Q, atol=scale)
    np.testing.assert_allclose(ev.A, ev.Q - ev.V[:, None], atol=0)
    assert ev.U == pytest.approx(U, abs=scale) and ev.tau == tau
    # soft Bellman: V_tau(s) = sum_a pi (Q_tau - tau log pi) on the non-terminal states
    live = ~mdp.terminal
    soft = (pi * (ev.Q - tau * np.log(pi))).sum(axis=1)
    np.testing.assert_allclose(ev.V[live], soft[live], atol=scale)
    # visits, d, rho do not depend on tau; U_tau - U = tau * sum_s visits(s) H(pi(.|s))
    ev0 = pg.evaluate(mdp, pi)
    np.testing.assert_array_equal(ev.visits, ev0.visits)
    H = -(pi * np.log(pi)).sum(axis=1)
    assert ev.U - ev0.U == pytest.approx(tau * ev0.visits @ H, abs=scale)


@FAST
@given(mdp_cases())
def test_tau_zero_is_the_unregularised_result_bit_for_bit(case):
    mdp, rng = case
    pi = rand_pi(rng, mdp.S, mdp.A)
    a, b = pg.evaluate(mdp, pi), pg.evaluate(mdp, pi, tau=0.0)
    for f in ("V", "Q", "A", "visits", "d", "rho"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = rng.normal(size=(mdp.S, mdp.A))
    np.testing.assert_array_equal(pg.policy_gradient(mdp, tab, theta), pg.policy_gradient(mdp, tab, theta, tau=0))


def test_zero_probabilities_count_as_zero_entropy():
    """0 log 0 = 0: a policy with pi(a|s) = 0 is evaluated as on its support (no NaN)."""
    rng = np.random.default_rng(5)
    mdp = pg.random_mdp(4, 3, 0.9, rng, n_terminal=1)
    pi = rand_pi(rng, 4, 3)
    pi[:, 2] = 0.0
    pi /= pi.sum(axis=1, keepdims=True)
    ev = pg.evaluate(mdp, pi, tau=0.7)
    assert np.all(np.isfinite(ev.V)) and np.all(np.isfinite(ev.Q))
    np.testing.assert_allclose(ev.V, ref_eval_tau(mdp, pi, 0.7)[0], atol=1e-10)
    # against an MDP whose rewards carry the bonus: r'(s, a) = r(s, a) - tau log pi(a|s) (0 where pi = 0)
    logpi = np.log(np.where(pi > 0, pi, 1.0))
    R2 = np.where(mdp.terminal[:, None], 0.0, mdp.R - 0.7 * logpi)
    np.testing.assert_allclose(pg.evaluate(pg.TabularMDP(mdp.P, R2, mdp.mu, mdp.gamma, mdp.terminal), pi).V,
                               ev.V, atol=1e-10)


@FAST
@given(mdp_cases(max_gamma=0.95), st.floats(0.01, 1.5))
def test_regularised_gradient_equals_finite_differences(case, tau):
    """Tabular and linear features; discounted, and episodic with gamma possibly 1."""
    mdp, rng = case
    tab = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    lin = pg.SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, 3)))
    for policy, theta in ((tab, rng.normal(size=(mdp.S, mdp.A))), (lin, rng.normal(size=3))):
        g = pg.policy_gradient(mdp, policy, theta, tau=tau)
        assert g.shape == theta.shape
        fd = fd_gradient_tau(mdp, policy, theta, tau)
        np.testing.assert_allclose(g, fd, rtol=0, atol=1e-6 * (1.0 + np.abs(fd).max()))
        np.testing.assert_allclose(pg.finite_difference_gradient(mdp, policy, theta, tau=tau), fd, atol=1e-8)
        assert pg.objective(mdp, policy, theta, tau=tau) == pytest.approx(
            ref_eval_tau(mdp, policy.probs(theta), tau)[2], abs=1e-9 * (1 + abs(fd).max()))


@FAST
@given(mdp_cases(), st.floats(0.01, 1.5))
def test_regularised_gradient_is_the_documented_sum(case, tau):
    """grad U_tau = sum_s visits(s) sum_a grad pi(a|s) (Q_tau(s, a) - tau log pi(a|s)), grad pi = pi grad log pi."""
    mdp, rng = case
    lin = pg.SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, 2)))
    theta = rng.normal(size=2)
    pi = lin.probs(theta)
    ev = pg.evaluate(mdp, pi, tau=tau)
    expect = np.zeros(2)
    for s in range(mdp.S):
        for a in range(mdp.A):
            score = lin.grad_log_prob(theta, np.array(s), np.array(a))
            expect += ev.visits[s] * pi[s, a] * score * (ev.Q[s, a] - tau * np.log(pi[s, a]))
    scale = 1e-9 * (1.0 + np.abs(ev.Q).max()) * ev.effective_horizon
    np.testing.assert_allclose(pg.policy_gradient(mdp, lin, theta, tau=tau), expect, atol=scale)


def test_regularised_gamma_one_never_ending_policy_still_raises():
    mdp = pg.short_corridor()
    with pytest.raises(ValueError, match="never reach a terminal"):
        pg.policy_gradient(mdp, pg.short_corridor_policy(), np.array([0.0, 800.0]), tau=0.1)
