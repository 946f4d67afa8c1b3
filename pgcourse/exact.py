"""Exact policy evaluation and exact policy gradients by linear algebra (no sampling, no iteration).

For a policy pi (S, A) on a TabularMDP, with P_pi[s, s'] = sum_a pi(a|s) P[s, a, s'] and
r_pi[s] = sum_a pi(a|s) r(s, a), restricted to the non-terminal states N:

    V_N      = (I - gamma P_pi,NN)^-1 r_pi,N            (Bellman equation; V = 0 on terminal states)
    Q(s, a)  = r(s, a) + gamma sum_s' P[s, a, s'] V(s')
    visits_N = mu_N^T (I - gamma P_pi,NN)^-1             (discounted expected visit counts)
    d        = visits / sum(visits)                      (discounted state distribution d^pi)
    rho      = d[:, None] * pi                           (occupancy measure)

Without terminal states and gamma < 1, sum(visits) = 1/(1-gamma), so d = (1-gamma) visits and

    U = mu . V = 1/(1-gamma) sum_{s,a} rho(s, a) r(s, a)     (NOT sum rho * Q).

Entropy regularisation (tau > 0 in evaluate, policy_gradient, objective): every step pays
r(s, a) - tau log pi(a|s), i.e. r_pi gains tau H(pi(.|s)); visits, d and rho are unchanged.

Each inverse above is a `numpy.linalg.solve`, never an explicit inverse.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_count, as_float_array, as_mdp, as_policy_matrix, as_scalar, as_softmax_policy, check_episodic
from .mdp import TabularMDP
from .policies import SoftmaxPolicy


@dataclass(frozen=True)
class Evaluation:
    """Exact quantities of a policy on an MDP (see the module docstring for the equations).

    V (S,), Q (S, A), A (S, A) = Q - V, U = mu . V, visits (S,) discounted expected visit counts
    (0 on terminal states), d (S,) = visits / sum(visits), rho (S, A) = d * pi, pi (S, A) the policy,
    effective_horizon = sum(visits) (= 1/(1-gamma) without terminal states), so that
    U = effective_horizon * sum_{s,a} rho(s, a) r(s, a). tau: the entropy weight the values were computed with.
    """

    V: np.ndarray
    Q: np.ndarray
    A: np.ndarray
    U: float
    visits: np.ndarray
    d: np.ndarray
    rho: np.ndarray
    pi: np.ndarray
    effective_horizon: float
    tau: float = 0.0


def evaluate(mdp: TabularMDP, pi: ArrayLike, tau: float = 0.0) -> Evaluation:
    """Exact V, Q, A, U, visits, d, rho of the policy pi (S, A) by two linear solves.

    tau > 0: the entropy-regularised values, every step paying r(s, a) - tau log pi(a|s) (0 log 0 = 0):
        V_tau = (I - gamma P_pi,NN)^-1 (r_pi + tau H_pi)_N,  H_pi(s) = -sum_a pi(a|s) log pi(a|s),
        Q_tau(s, a) = r(s, a) + gamma sum_s' P[s, a, s'] V_tau(s'),  A = Q_tau - V_tau,  U_tau = mu . V_tau,
    so V_tau(s) = sum_a pi(a|s) (Q_tau(s, a) - tau log pi(a|s)); visits, d, rho do not depend on tau.
    gamma = 1 is allowed for episodic MDPs where every non-terminal state reaches a terminal state under pi
    (else ValueError). Special cases: one state, no termination: V = r_pi / (1 - gamma), d = 1;
    gamma = 0: V = r_pi, d = mu restricted to non-terminal states.
    """
    mdp = as_mdp(mdp)
    pi = as_policy_matrix(pi, mdp.S, mdp.A)
    tau = as_scalar(tau, "tau", low=0.0)
    if mdp.gamma == 1.0:
        check_episodic(mdp, pi)
    return _evaluate(mdp, pi, tau)


def _xlogx(p: np.ndarray) -> np.ndarray:
    """p log p elementwise, with 0 log 0 = 0."""
    out = np.zeros_like(p)
    np.log(p, out=out, where=p > 0)
    out *= p
    return out


def _evaluate(mdp: TabularMDP, pi: np.ndarray, tau: float = 0.0) -> Evaluation:
    """evaluate without validation (mdp a TabularMDP, pi a checked (S, A) policy, episodic if gamma = 1)."""
    gamma = mdp.gamma
    live = ~mdp.terminal
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    if tau:
        r_pi -= tau * _xlogx(pi).sum(axis=1)  # + tau H_pi(s)
    # M = I - gamma P_pi,NN, built in place: 0.0 - x and (0.0 - x) + 1.0 round exactly as eye - x does
    M = P_pi if live.all() else P_pi[np.ix_(live, live)]  # our own temporary: overwritten
    np.multiply(M, gamma, out=M)
    np.subtract(0.0, M, out=M)
    M.flat[::M.shape[0] + 1] += 1.0
    V = np.zeros(mdp.S)
    visits = np.zeros(mdp.S)
    # two solves, M V = r and M^T visits = mu (numpy exposes no LU factorisation to reuse for both)
    V[live] = np.linalg.solve(M, r_pi[live])
    visits[live] = np.linalg.solve(M.T, mdp.mu[live])
    Q = mdp.R + gamma * mdp.P @ V
    H = float(visits.sum())
    d = visits / H
    return Evaluation(V=V, Q=Q, A=Q - V[:, None], U=float(mdp.mu @ V), visits=visits, d=d,
                      rho=d[:, None] * pi, pi=pi, effective_horizon=H, tau=tau)


def _check_args(mdp: TabularMDP, policy: SoftmaxPolicy,
                theta: ArrayLike) -> tuple[TabularMDP, SoftmaxPolicy, np.ndarray]:
    """(mdp, policy, theta) validated: a TabularMDP, a SoftmaxPolicy for its S and A, theta of its shape."""
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    return mdp, policy, policy.check_theta(theta)


def _probs(mdp: TabularMDP, policy: SoftmaxPolicy, theta: np.ndarray) -> np.ndarray:
    """pi_theta (S, A), checked episodic when gamma = 1."""
    pi = policy.probs(theta)
    if mdp.gamma == 1.0:
        check_episodic(mdp, pi)
    return pi


def policy_gradient(mdp: TabularMDP, policy: SoftmaxPolicy, theta: ArrayLike, tau: float = 0.0) -> np.ndarray:
    """Exact gradient of U (U_tau for tau > 0) at theta, same shape as theta:

        grad U = sum_s visits(s) sum_a grad pi(a|s) Q(s, a)
               = effective_horizon * E_{s~d, a~pi}[grad log pi(a|s) Q(s, a)]
               ( = 1/(1-gamma) E_{s~d, a~pi}[grad log pi(a|s) Q(s, a)] without terminal states);
        grad U_tau = sum_s visits(s) sum_a grad pi(a|s) (Q_tau(s, a) - tau log pi(a|s))   (see `evaluate`).

    For a softmax policy grad pi(a|s) = pi(a|s) (phi(s, a) - sum_b pi(b|s) phi(s, b)), so
    grad U = sum_{s,a} visits(s) pi(a|s) A(s, a) phi(s, a); tabular: grad U[s, a] = visits(s) pi(a|s) A(s, a)
    (with tau: A(s, a) - tau log pi(a|s) in place of A(s, a)).
    """
    mdp, policy, theta = _check_args(mdp, policy, theta)
    tau = as_scalar(tau, "tau", low=0.0)
    return _policy_gradient(mdp, policy, theta, tau)


def _policy_gradient(mdp: TabularMDP, policy: SoftmaxPolicy, theta: np.ndarray, tau: float = 0.0) -> np.ndarray:
    """policy_gradient without validation."""
    ev = _evaluate(mdp, _probs(mdp, policy, theta), tau)
    C = ev.visits[:, None] * ev.pi * ev.A
    if tau:
        C -= tau * ev.visits[:, None] * _xlogx(ev.pi)  # pi (A - tau log pi), 0 log 0 = 0
    return policy.contract(C)


def score_expectation(mdp: TabularMDP, policy: SoftmaxPolicy, theta: ArrayLike, weights: ArrayLike,
                      d: ArrayLike | None = None) -> np.ndarray:
    """E_{s~d, a~pi}[grad log pi(a|s) weights(s, a)] computed exactly (a sum over all (s, a)).

    weights: (S, A), e.g. Q, A, or a baseline b(s) broadcast over actions. d: (S,) state weights,
    default the policy's own d^pi. With weights = Q this is the policy-gradient-theorem expectation:
    grad U = effective_horizon * score_expectation(mdp, policy, theta, Q).
    """
    mdp, policy, theta = _check_args(mdp, policy, theta)
    w = as_float_array(weights, "weights", shape=(mdp.S, mdp.A))
    pi = policy.probs(theta)
    if d is None:
        if mdp.gamma == 1.0:
            check_episodic(mdp, pi)
        d = _evaluate(mdp, pi).d
    else:
        d = as_float_array(d, "d", shape=(mdp.S,))
    # sum_a pi (phi_a - phibar) w_a = contract(pi * (w - sum_b pi_b w_b))
    wbar = (pi * w).sum(axis=1, keepdims=True)
    return policy.contract(d[:, None] * pi * (w - wbar))


def objective(mdp: TabularMDP, policy: SoftmaxPolicy, theta: ArrayLike, tau: float = 0.0) -> float:
    """U(theta) = mu . V^{pi_theta} (U_tau = mu . V_tau for tau > 0, see `evaluate`)."""
    mdp, policy, theta = _check_args(mdp, policy, theta)
    return _objective(mdp, policy, theta, as_scalar(tau, "tau", low=0.0))


def _objective(mdp: TabularMDP, policy: SoftmaxPolicy, theta: np.ndarray, tau: float = 0.0) -> float:
    """objective without validation."""
    return _evaluate(mdp, _probs(mdp, policy, theta), tau).U


def finite_difference_gradient(mdp: TabularMDP, policy: SoftmaxPolicy, theta: ArrayLike, eps: float = 1e-5,
                               tau: float = 0.0) -> np.ndarray:
    """Central finite differences of U (U_tau): (U(theta + eps e_i) - U(theta - eps e_i)) / (2 eps), per
    coordinate. Validates once; the 2 theta.size evaluations run unvalidated."""
    mdp, policy, theta = _check_args(mdp, policy, theta)
    eps = as_scalar(eps, "eps", low=0.0, low_open=True)
    tau = as_scalar(tau, "tau", low=0.0)
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        g[i] = (_objective(mdp, policy, tp, tau) - _objective(mdp, policy, tm, tau)) / (2 * eps)
    return g


def optimal_values(mdp: TabularMDP) -> tuple[np.ndarray, np.ndarray]:
    """(V*, pi*) by policy iteration (exact evaluation each step; finite, no tolerance), for measuring
    sub-optimality U* - U(theta). pi* is deterministic (S, A) one-hot."""
    mdp = as_mdp(mdp)
    # start from a policy that ends episodes when gamma = 1: the uniform one does on episodic MDPs
    pi = np.full((mdp.S, mdp.A), 1.0 / mdp.A)
    for _ in range(10 * mdp.S * mdp.A + 10):
        ev = evaluate(mdp, pi)
        best = ev.Q.argmax(axis=1)
        cur = pi.argmax(axis=1)
        keep = np.isclose(ev.Q[np.arange(mdp.S), cur], ev.Q[np.arange(mdp.S), best], rtol=0, atol=1e-12)
        best = np.where(keep & (pi.max(axis=1) == 1.0), cur, best)
        new = np.zeros_like(pi)
        new[np.arange(mdp.S), best] = 1.0
        if np.array_equal(new, pi):
            return ev.V, pi
        pi = new
    raise RuntimeError("policy iteration did not converge")  # pragma: no cover - finite for finite MDPs


# ---- exact expectations of the sampled estimators (TD errors, GAE, their gradient estimates) ----

def expected_td_error(mdp: TabularMDP, V_hat: ArrayLike) -> np.ndarray:
    """Exact E[delta_t | s_t = s, a_t = a] for the critic V_hat (S,), shape (S, A):

        E[delta | s, a] = r(s, a) + gamma sum_s' P[s, a, s'] V_hat(s') [s' not terminal] - V_hat(s).

    No bootstrap from a terminal next state (as in `td_errors`); rows of terminal states are 0 (never a real
    step). With the true V this is Q - V = A; with V_hat = V + e it is A + gamma P e - e."""
    mdp = as_mdp(mdp)
    return _expected_td_error(mdp, as_float_array(V_hat, "V_hat", shape=(mdp.S,)))


def _expected_td_error(mdp: TabularMDP, V_hat: np.ndarray) -> np.ndarray:
    """expected_td_error without validation."""
    Vl = V_hat * ~mdp.terminal
    D = mdp.R + mdp.gamma * mdp.P @ Vl - Vl[:, None]
    D[mdp.terminal] = 0.0
    return D


def pair_chain(mdp: TabularMDP, pi: ArrayLike) -> np.ndarray:
    """The state-action chain of the episode while it runs, (S*A, S*A):
    M[(s, a), (s', a')] = P[s, a, s'] [s' not terminal] pi(a'|s'). (M^l w)(s, a) = E[w(s_{t+l}, a_{t+l}) ;
    still running at t+l | s_t = s, a_t = a]."""
    mdp = as_mdp(mdp)
    return _pair_chain(mdp, as_policy_matrix(pi, mdp.S, mdp.A))


def _pair_chain(mdp: TabularMDP, pi: np.ndarray) -> np.ndarray:
    """pair_chain without validation."""
    M = (mdp.P * ~mdp.terminal)[:, :, :, None] * pi[None, None, :, :]
    return M.reshape(mdp.S * mdp.A, mdp.S * mdp.A)


def expected_gae(mdp: TabularMDP, pi: ArrayLike, V_hat: ArrayLike, lam: float,
                 n_steps: int | None = None) -> np.ndarray:
    """Exact A_lam(s, a) = E[sum_l (gamma lam)^l delta_{t+l} | s_t = s, a_t = a] for the critic V_hat, (S, A).

    With D = expected_td_error(mdp, V_hat) and M = pair_chain(mdp, pi):
        n_steps None (no horizon): A_lam = sum_{l>=0} (gamma lam M)^l D = (I - gamma lam M)^-1 D  (a solve);
        n_steps = k (k steps left before the horizon): A_lam = sum_{l<k} (gamma lam M)^l D, the last delta
        bootstrapping V_hat at the horizon. True V: D = A and M A = 0, so A_lam = A for every lam.
        V_hat = V + e, lam = 1, no horizon: A_1 = A - e(s) (the error becomes a baseline)."""
    mdp = as_mdp(mdp)
    lam = as_scalar(lam, "lam", low=0.0, high=1.0)
    D = expected_td_error(mdp, V_hat).ravel()
    pi = as_policy_matrix(pi, mdp.S, mdp.A)
    M = _pair_chain(mdp, pi)
    c = mdp.gamma * lam
    if n_steps is None:
        if c == 1.0:  # the series is finite only if every state ends its episode under pi
            check_episodic(mdp, pi)
        return np.linalg.solve(np.eye(D.size) - c * M, D).reshape(mdp.S, mdp.A)
    k = as_count(n_steps, "n_steps")
    x, term = D.copy(), D.copy()
    for _ in range(k - 1):
        term = c * (M @ term)
        x += term
    return x.reshape(mdp.S, mdp.A)


def alive_distributions(mdp: TabularMDP, pi: ArrayLike, horizon: int) -> np.ndarray:
    """p (T, S): p[t, s] = Pr(s_t = s and the episode still running at t), s_0 ~ mu, t < T = horizon.
    p[t+1] = (p[t] P_pi) restricted to non-terminal states."""
    mdp = as_mdp(mdp)
    return _alive_distributions(mdp, as_policy_matrix(pi, mdp.S, mdp.A), as_count(horizon, "horizon"))


def _alive_distributions(mdp: TabularMDP, pi: np.ndarray, T: int) -> np.ndarray:
    """alive_distributions without validation."""
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    live = ~mdp.terminal
    p = np.zeros((T, mdp.S))
    p[0] = mdp.mu * live
    for t in range(1, T):
        p[t] = (p[t - 1] @ P_pi) * live
    return p


def expected_gradient_estimate(mdp: TabularMDP, policy: SoftmaxPolicy, theta: ArrayLike, V_hat: ArrayLike,
                               lam: float, horizon: int) -> np.ndarray:
    """Exact expectation of the GAE gradient estimate on episodes cut at T = horizon, theta's shape:

        E[1/N sum_n sum_{t<T} gamma^t grad log pi(a_t|s_t) A^GAE_t]
            = sum_{t<T} gamma^t sum_{s,a} p_t(s) pi(a|s) grad log pi(a|s) A_lam^{(T-t)}(s, a),

    p = alive_distributions, A_lam^{(k)} = expected_gae(..., n_steps=k). lam = 0: actor-critic (TD errors);
    V_hat = 0, lam = 1: REINFORCE (G_t, no bootstrap; any baseline b(s) leaves the expectation unchanged).
    With the true V every lam gives sum_{t<T} gamma^t E[grad log pi A], which tends to grad U as T grows.
    One case of `expected_gradient_estimates`."""
    lam = as_scalar(lam, "lam", low=0.0, high=1.0)
    V_hat = as_float_array(V_hat, "V_hat", shape=(as_mdp(mdp).S,))
    return expected_gradient_estimates(mdp, policy, theta, V_hat[None], [lam], horizon)[0, 0]


def expected_gradient_estimates(mdp: TabularMDP, policy: SoftmaxPolicy, theta: ArrayLike, V_hats: ArrayLike,
                                lams: ArrayLike, horizon: int) -> np.ndarray:
    """`expected_gradient_estimate` for K critics V_hats (K, S) and L values lams (L,) at once: (L, K,
    *theta.shape). One backward recursion A^{(k+1)} = D + gamma lam M A^{(k)} over the (s, a) pairs runs for
    every (lambda, critic) column together (D, the expected TD errors, is affine in V_hat)."""
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    pi = policy.probs(policy.check_theta(theta))
    T = as_count(horizon, "horizon")
    lams = as_float_array(lams, "lams", ndim=1)
    if lams.size == 0 or lams.min() < 0.0 or lams.max() > 1.0:
        raise ValueError(f"lams must be a non-empty list of values in [0, 1], got {lams}")
    V_hats = as_float_array(V_hats, "V_hats", ndim=2)
    if V_hats.shape[1] != mdp.S or V_hats.shape[0] == 0:
        raise ValueError(f"V_hats must have shape (K, S) = (K, {mdp.S}) with K >= 1, got {V_hats.shape}")
    S, nA, K, L = mdp.S, mdp.A, V_hats.shape[0], lams.size
    p = _alive_distributions(mdp, pi, T)
    D = np.stack([_expected_td_error(mdp, V).ravel() for V in V_hats], axis=1)   # (S A, K)
    M = _pair_chain(mdp, pi)
    c = np.repeat(mdp.gamma * lams, K)                                           # columns (lambda, critic)
    Dk = np.tile(D, (1, L))
    Ak = Dk.copy()  # k = 1 step left: t = T - 1
    C = np.zeros((S, nA, K * L))
    pi3 = pi[:, :, None]
    for t in range(T - 1, -1, -1):
        W = Ak.reshape(S, nA, K * L)
        C += mdp.gamma ** t * p[t][:, None, None] * pi3 * (W - (pi3 * W).sum(axis=1, keepdims=True))
        Ak = Dk + c * (M @ Ak)
    return np.array([policy.contract(C[:, :, j]) for j in range(K * L)]).reshape(L, K, *np.shape(theta))
