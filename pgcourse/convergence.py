"""Convergence of exact policy-gradient methods on tabular MDPs: the quantities the theorems are stated in.

- Gradient domination for the tabular softmax (Mei, Xiao, Szepesvari & Schuurmans 2020, Lemma 8; Agarwal,
  Kakade, Lee & Mahajan 2021): with a*(s) an optimal action,
      ||grad U(theta)||_2 >= min_s pi_theta(a*(s)|s) / (sqrt(S_live) * kappa) * (U* - U(theta)),
      kappa = max_s visits^{pi*}(s) / visits^{pi_theta}(s)   (the distribution-mismatch coefficient;
      = max_s d^{pi*}(s) / d^{pi_theta}(s) without terminal states),
  so every stationary point is optimal, but the bound weakens where pi(a*|s) is small (the plateaus).
- NPG (Agarwal et al. 2021, Theorem 16): tabular softmax, theta_0 = 0, theta_{k+1} = theta_k + eta F^+ grad U
  (= `natural_gradient`), gamma < 1, no terminal states, rewards in [r_min, r_max]:
      U* - U_T <= log|A| / (eta T) + (r_max - r_min) / ((1-gamma)^2 T)   for every T >= 1,
  (the theorem is stated for r in [0, 1]; shifting rewards leaves A and the iterates unchanged, scaling them
  by c is the same as scaling eta by c), and U_k is non-decreasing.
- Entropy regularisation (Cen, Cheng, Chen, Wei & Chi 2021, Theorem 1): with tau > 0 and 0 < eta <= (1-gamma)/tau,
  theta_{k+1} = theta_k + eta F^+ grad U_tau (`natural_gradient(..., tau=tau)`) satisfies
      ||Q*_tau - Q_tau^{(k+1)}||_inf <= C1 gamma (1 - eta tau)^k,
      ||log pi*_tau - log pi^{(k+1)}||_inf <= 2 C1 / tau (1 - eta tau)^k,
      C1 = ||Q*_tau - Q_tau^{(0)}||_inf + 2 tau (1 - eta tau / (1-gamma)) ||log pi*_tau - log pi^{(0)}||_inf:
  a linear rate, against O(1/k) without regularisation; the price is the bias
      0 <= U* - U(pi*_tau) <= tau log|A| / (1-gamma).
"""
from __future__ import annotations

import numpy as np

from ._validate import as_count, as_mdp, as_policy_matrix, as_scalar, as_softmax_policy
from .exact import evaluate, optimal_values, policy_gradient


def _discounted_only(mdp, what: str):
    if mdp.terminal.any() or mdp.gamma >= 1.0:
        raise ValueError(f"{what} is stated for discounted MDPs (gamma < 1) without terminal states; "
                         f"this mdp has gamma = {mdp.gamma} and {int(mdp.terminal.sum())} terminal state(s)")


def npg_bound(mdp, eta, T) -> np.ndarray:
    """Agarwal et al.'s Theorem 16 bound on U* - U_T for NPG from the uniform policy (module docstring):
    log|A| / (eta T) + (r_max - r_min) / ((1-gamma)^2 T), with r_min, r_max the extreme rewards R[s, a].
    T: a positive integer or an array of them; returns an array of T's shape."""
    mdp = as_mdp(mdp)
    _discounted_only(mdp, "Agarwal et al.'s NPG bound")
    eta = as_scalar(eta, "eta", low=0.0, low_open=True)
    T = np.asarray(T)
    if T.dtype.kind not in "iu" or (T < 1).any():
        raise ValueError("T must be a positive integer or an array of them")
    r_range = float(mdp.R.max() - mdp.R.min())
    return np.log(mdp.A) / (eta * T) + r_range / ((1.0 - mdp.gamma) ** 2 * T)


def _ascent_iterates(direction, mdp, policy, theta0, eta, n_iters, tau) -> np.ndarray:
    """theta_0 .. theta_n of theta_{k+1} = theta_k + eta direction(mdp, policy, theta_k, tau=tau), validated once."""
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    theta = policy.check_theta(theta0)
    eta = as_scalar(eta, "eta", low=0.0, low_open=True)
    n = as_count(n_iters, "n_iters", minimum=0)
    tau = as_scalar(tau, "tau", low=0.0)
    out = np.empty((n + 1,) + theta.shape)
    out[0] = theta
    for k in range(n):
        theta = theta + eta * direction(mdp, policy, theta, tau=tau)
        out[k + 1] = theta
    return out


def npg_iterates(mdp, policy, theta0, eta, n_iters, tau: float = 0.0) -> np.ndarray:
    """theta_0 .. theta_n (n_iters + 1, *theta.shape) of theta_{k+1} = theta_k + eta natural_gradient(theta_k)
    (with entropy weight tau: F^+ grad U_tau, Cen et al.'s regularised NPG)."""
    from .natural import natural_gradient
    return _ascent_iterates(natural_gradient, mdp, policy, theta0, eta, n_iters, tau)


def pg_iterates(mdp, policy, theta0, eta, n_iters, tau: float = 0.0) -> np.ndarray:
    """theta_0 .. theta_n (n_iters + 1, *theta.shape) of exact softmax policy-gradient ascent,
    theta_{k+1} = theta_k + eta grad U_tau(theta_k) (`policy_gradient(..., tau)`; tau = 0: grad U)."""
    return _ascent_iterates(policy_gradient, mdp, policy, theta0, eta, n_iters, tau)


def objective_curve(mdp, policy, thetas, tau: float = 0.0) -> np.ndarray:
    """U_tau(theta_k) for each row of thetas (n, *theta.shape) -> (n,) (tau = 0: U)."""
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    tau = as_scalar(tau, "tau", low=0.0)
    return np.array([evaluate(mdp, policy.probs(th), tau=tau).U for th in np.asarray(thetas)])


def bandit_pg_curve(rewards, theta0, eta, n_iters) -> np.ndarray:
    """U_k = pi_k . r, k = 0..n_iters, of exact softmax policy-gradient ascent on a one-state bandit with mean
    rewards r (A,): grad U(theta)_a = pi_a (r_a - pi . r) (the tabular `policy_gradient` with one state and
    gamma = 0, written out so that 10^5 iterations take a fraction of a second). theta0 (A,) -> (n_iters + 1,),
    or several starts at once, theta0 (m, A) -> (n_iters + 1, m). Mei et al. (2020): U* - U_k = O(1/k), with
    a constant that grows as pi_0(a*) shrinks -- the plateau."""
    from ._validate import as_float_array
    r = as_float_array(rewards, "rewards", ndim=1)
    th = as_float_array(theta0, "theta0")
    if th.shape[-1:] != r.shape or th.ndim > 2:
        raise ValueError(f"theta0 must have shape ({r.size},) or (m, {r.size}), got {th.shape}")
    theta = np.atleast_2d(th).copy()
    eta = as_scalar(eta, "eta", low=0.0, low_open=True)
    n = as_count(n_iters, "n_iters", minimum=0)
    U = np.empty((n + 1, theta.shape[0]))
    for k in range(n + 1):
        z = np.exp(theta - theta.max(axis=1, keepdims=True))
        pi = z / z.sum(axis=1, keepdims=True)
        U[k] = pi @ r
        theta += eta * pi * (r - U[k][:, None])
    return U[:, 0] if th.ndim == 1 else U


def chain_mdp(n: int, n_actions: int = 3, gamma: float = 0.9):
    """A chain where exploration is hard, in the spirit of Li et al. (2021): states 0 .. n-1, start in 0;
    action 0 moves one state right (in the last state it stays and pays 1), every other action returns to
    state 0 and pays 0. U* = gamma^(n-1) / (1-gamma); under the uniform policy the last state is reached with
    probability (1/n_actions)^(n-1) per attempt, so the mismatch coefficient grows like n_actions^(n-1)."""
    from .mdp import TabularMDP
    n = as_count(n, "n")
    A = as_count(n_actions, "n_actions", minimum=2)
    P = np.zeros((n, A, n))
    R = np.zeros((n, A))
    P[np.arange(n), 0, np.minimum(np.arange(n) + 1, n - 1)] = 1.0
    P[:, 1:, 0] = 1.0
    R[n - 1, 0] = 1.0
    mu = np.zeros(n)
    mu[0] = 1.0
    return TabularMDP(P, R, mu, gamma)


def mismatch_coefficient(mdp, pi, pi_star=None) -> float:
    """kappa = max_s visits^{pi*}(s) / visits^{pi}(s) over non-terminal states (inf where pi never visits a
    state pi* does): the distribution-mismatch coefficient of the gradient-domination bound. pi_star
    defaults to `optimal_values(mdp)[1]`."""
    mdp = as_mdp(mdp)
    pi = as_policy_matrix(pi, mdp.S, mdp.A, "pi")
    pi_star = optimal_values(mdp)[1] if pi_star is None else as_policy_matrix(pi_star, mdp.S, mdp.A, "pi_star")
    v_star, v = evaluate(mdp, pi_star).visits, evaluate(mdp, pi).visits
    live = ~mdp.terminal
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(v_star[live] > 0, v_star[live] / v[live], 0.0)
    return float(ratio.max())


def gradient_domination(mdp, policy, theta) -> dict:
    """The two sides of the gradient-domination inequality at theta (module docstring), tabular softmax:
    dict(grad_norm=||grad U||_2, bound=min_s pi(a*|s) / (sqrt(S_live) kappa) (U* - U), gap=U* - U,
    kappa=mismatch coefficient, min_pi_star=min over non-terminal s of pi(a*(s)|s))."""
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    theta = policy.check_theta(theta)
    V_star, pi_star = optimal_values(mdp)
    pi = policy.probs(theta)
    ev = evaluate(mdp, pi)
    live = ~mdp.terminal
    kappa = mismatch_coefficient(mdp, pi, pi_star)
    c = float((pi * pi_star).sum(axis=1)[live].min())
    gap = float(mdp.mu @ V_star - ev.U)
    g = policy_gradient(mdp, policy, theta)
    bound = c / (np.sqrt(live.sum()) * kappa) * gap
    return dict(grad_norm=float(np.linalg.norm(g)), bound=float(bound), gap=gap, kappa=kappa, min_pi_star=c)


def regularised_optimum(mdp, tau, max_iters: int = 200):
    """(V*_tau (S,), pi*_tau (S, A)): the optimum of U_tau (every step pays r - tau log pi), tau > 0.

    pi*_tau = softmax(Q*_tau / tau) with V*_tau(s) = tau log sum_a exp(Q*_tau(s, a) / tau). Computed by soft
    policy iteration, pi <- softmax(Q_tau^pi / tau) with exact evaluation, which is Newton's method on the soft
    Bellman equation (quadratic convergence near the solution); stops when V no longer moves (1e-13 relative).
    """
    mdp = as_mdp(mdp)
    tau = as_scalar(tau, "tau", low=0.0, low_open=True)
    pi = np.full((mdp.S, mdp.A), 1.0 / mdp.A)
    V_old = None
    for _ in range(as_count(max_iters, "max_iters")):
        ev = evaluate(mdp, pi, tau=tau)
        z = ev.Q / tau
        z = z - z.max(axis=1, keepdims=True)
        pi = np.exp(z)
        pi /= pi.sum(axis=1, keepdims=True)
        if V_old is not None and np.abs(ev.V - V_old).max() <= 1e-13 * (1.0 + np.abs(ev.V).max()):
            return evaluate(mdp, pi, tau=tau).V, pi
        V_old = ev.V
    raise RuntimeError("soft policy iteration did not settle")  # pragma: no cover


def cen_bound(mdp, tau, eta, k, Q0, log_pi0, Q_star, log_pi_star) -> tuple[np.ndarray, np.ndarray]:
    """Cen et al.'s (2021) Theorem 1 bounds after k + 1 iterations, k an int or array (module docstring):
    (C1 gamma (1 - eta tau)^k on ||Q*_tau - Q_tau^{(k+1)}||_inf, 2 C1 / tau (1 - eta tau)^k on
    ||log pi*_tau - log pi^{(k+1)}||_inf). Needs 0 < eta <= (1-gamma)/tau, gamma < 1."""
    mdp = as_mdp(mdp)
    _discounted_only(mdp, "Cen et al.'s bound")
    tau = as_scalar(tau, "tau", low=0.0, low_open=True)
    eta = as_scalar(eta, "eta", low=0.0, low_open=True)
    if eta > (1.0 - mdp.gamma) / tau * (1 + 1e-12):
        raise ValueError(f"eta must be <= (1-gamma)/tau = {(1.0 - mdp.gamma) / tau:.6g}, got {eta}")
    k = np.asarray(k, dtype=float)
    C1 = (np.abs(np.asarray(Q_star) - Q0).max()
          + 2 * tau * (1 - eta * tau / (1 - mdp.gamma)) * np.abs(np.asarray(log_pi_star) - log_pi0).max())
    rate = (1.0 - eta * tau) ** k
    return C1 * mdp.gamma * rate, 2 * C1 / tau * rate


def regularisation_bias_bound(mdp, tau) -> float:
    """tau log|A| / (1-gamma): U* - U(pi*_tau) is at most this (entropy is between 0 and log|A| per step)."""
    mdp = as_mdp(mdp)
    _discounted_only(mdp, "the regularisation-bias bound")
    tau = as_scalar(tau, "tau", low=0.0)
    return tau * np.log(mdp.A) / (1.0 - mdp.gamma)
