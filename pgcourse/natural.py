"""The natural gradient and the compatible critic, computed as one weighted least-squares problem.

Score features psi(s, a) = grad log pi(a|s) (softmax: phi(s, a) - sum_b pi(b|s) phi(s, b)). The compatible
critic (Sutton, McAllester, Singh & Mansour 2000) is the linear fit of the advantage in those features,

    w = argmin_w  sum_s d(s) sum_a pi(a|s) (psi(s, a) . w - A(s, a))^2     (minimum-norm minimiser),

and because the residual is orthogonal to every psi (the normal equations),

    grad U = sum_s visits(s) sum_a pi(a|s) psi(s, a) A(s, a)
           = sum_s visits(s) sum_a pi(a|s) psi(s, a) (psi(s, a) . w):

the critic psi . w gives the exact gradient although psi . w != Q. The normal equations read F w = grad U / H
with the Fisher matrix F = E_{s~d, a~pi}[psi psi^T] and H = effective_horizon = sum_s visits(s)
(1/(1-gamma) without terminal states), so (Kakade 2001)

    natural_gradient = F^+ grad U = H w.

Tabular softmax: w(s, a) = A(s, a) - mean_b A(s, b) on every state with d(s) > 0 (0 elsewhere), and
theta += eta * natural_gradient is pi_new(a|s) proportional to pi(a|s) exp(eta H A(s, a)) -- Agarwal, Kakade,
Lee & Mahajan's NPG update (2021, JMLR, eq. for the softmax NPG with their eta; H = 1/(1-gamma)).

Numerics. Forming F and solving F x = g squares the condition number: an action with pi(a|s) = 1e-12 has a
Fisher eigenvalue ~1e-12 and is cut off by any sensible rcond, so its update is lost -- the reason the
old implementation left Agarwal et al.'s bound on nearly deterministic policies. Here the weighted
least-squares problem is solved directly, in two steps:
  1. the part of theta that changes no score on a visited state (the null space of the *unweighted*
     action-difference features phi(s, a) - phi(s, 0), which does not depend on pi) is found by an SVD of a
     well-scaled matrix and removed -- this gives the minimum-norm solution without any weight-dependent
     rank decision;
  2. on the rest, the sqrt-weighted design sqrt(d pi) psi has full column rank; it is solved by a QR
     factorisation with its rows sorted by weight, largest first (row-wise stable for weights spread over
     many orders of magnitude), never by normal equations.
Weights are formed in log space (log d + log pi from the logits), so a probability that underflows to 0
still counts; weights below 1e-280 of the largest are raised to that floor.
"""
from __future__ import annotations

import numpy as np

from ._validate import as_mdp, as_scalar, as_softmax_policy
from .exact import evaluate

_LOG_FLOOR = np.log(1e-280)


def _setup(mdp, policy, theta):
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    theta = policy.check_theta(theta)
    return mdp, policy, theta


def _log_softmax(h: np.ndarray) -> np.ndarray:
    z = h - h.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def score_features(policy, theta) -> np.ndarray:
    """psi (S, A, K): psi[s, a] = grad log pi(a|s), theta flattened to K entries."""
    theta = as_softmax_policy(policy).check_theta(theta)
    S, A = policy.S, policy.A
    s_idx, a_idx = np.meshgrid(np.arange(S), np.arange(A), indexing="ij")
    return policy.grad_log_prob(theta, s_idx, a_idx).reshape(S, A, -1)


def fisher_matrix(mdp, policy, theta) -> np.ndarray:
    """F = E_{s~d, a~pi}[psi(s, a) psi(s, a)^T], shape (K, K) with K = theta.size (theta flattened),
    psi = grad log pi. For display and small checks; `natural_gradient` never forms it."""
    mdp, policy, theta = _setup(mdp, policy, theta)
    pi = policy.probs(theta)
    d = evaluate(mdp, pi).d
    psi = score_features(policy, theta)
    return np.einsum("sa,sak,sal->kl", d[:, None] * pi, psi, psi)


def _weighted_fit(policy, theta, d: np.ndarray, A_target: np.ndarray, rcond: float) -> np.ndarray:
    """Minimum-norm argmin_w sum_s d(s) sum_a pi(a|s) (psi(s, a) . w - A_target(s, a))^2, w flattened (K,)."""
    S, A = policy.S, policy.A
    h = policy.logits(theta)
    log_pi = _log_softmax(h)
    pi = np.exp(log_pi)
    live = d > 0
    if policy.is_tabular:
        # the same problem in closed form: per visited state, min_w sum_a pi_a (w_a - pi.w - y_a)^2 has the
        # residual pi.y in every action at w = y + c 1 (the least possible: sum_a pi_a r_a = -pi.y for any w);
        # the minimum norm takes c = -mean(y). Weights d(s) pi(a|s) > 0 do not change it.
        w = np.where(live[:, None], A_target - A_target.mean(axis=1, keepdims=True), 0.0)
        return w.ravel()
    phi = policy.features.reshape(S, A, -1)
    K = phi.shape[2]
    if not live.any() or A == 1:
        return np.zeros(K)
    # 1. the null space of the scores on visited states: directions along which phi(s, a) . w is constant
    #    in a for every visited s; it depends on the features only, not on pi
    diff = (phi[live, 1:, :] - phi[live, :1, :]).reshape(-1, K)
    _, sv, Vt = np.linalg.svd(diff, full_matrices=False)
    rank = int((sv > rcond * max(sv[0], 1e-300)).sum()) if sv.size else 0
    if rank == 0:
        return np.zeros(K)
    B = Vt[:rank].T  # (K, rank), orthonormal basis of the row space
    # 2. sqrt-weighted design in the basis B: rows sqrt(d pi) psi B, sorted by weight, largest first
    #    psi(s, a) = sum_b pi(b|s) (phi(s, a) - phi(s, b)): no cancellation in 1 - pi(a|s) for a likely action
    phiL = phi[live]
    psiB = np.einsum("sb,sabk,kr->sar", pi[live], phiL[:, :, None, :] - phiL[:, None, :, :], B)
    log_w = np.log(d[live])[:, None] + log_pi[live]
    log_w = np.maximum(log_w - log_w.max(), _LOG_FLOOR)
    sw = np.exp(0.5 * log_w).ravel()
    X = psiB.reshape(-1, rank) * sw[:, None]
    y = A_target[live].ravel() * sw
    z = np.linalg.lstsq(X, y, rcond=rcond)[0]
    return B @ z


def _soft_advantage(mdp, policy, theta, tau):
    """(evaluation, target): A for tau = 0; the soft advantage A_tau - tau log pi (sum_a pi * it = 0) else."""
    ev = evaluate(mdp, policy.probs(theta), tau=tau)
    if not tau:
        return ev, ev.A
    return ev, ev.A - tau * _log_softmax(policy.logits(theta))


def compatible_critic(mdp, policy, theta, rcond: float = 1e-10, tau: float = 0.0) -> np.ndarray:
    """w (theta's shape): the minimum-norm minimiser of sum_s d(s) sum_a pi(a|s) (psi(s, a) . w - A(s, a))^2,
    psi = grad log pi (the compatible features), d = evaluate(...).d.

    Then grad U = sum_s visits(s) sum_a pi(a|s) psi(s, a) (psi(s, a) . w)  (Sutton et al. 2000) and
    w = natural_gradient / effective_horizon (Kakade 2001). Solved as a weighted least-squares problem
    (module docstring), not through the Fisher matrix. rcond: relative singular-value cutoff for the null
    space of the (unweighted, pi-independent) action-difference features and of the sqrt-weighted design.
    tau > 0: the entropy-regularised problem, A replaced by the soft advantage A_tau(s, a) - tau log pi(a|s)
    (`evaluate(..., tau)`), so that grad U_tau takes the place of grad U.
    """
    mdp, policy, theta = _setup(mdp, policy, theta)
    rcond = as_scalar(rcond, "rcond", low=0.0)
    tau = as_scalar(tau, "tau", low=0.0)
    ev, target = _soft_advantage(mdp, policy, theta, tau)
    return _weighted_fit(policy, theta, ev.d, target, rcond).reshape(theta.shape)


def natural_gradient(mdp, policy, theta, rcond: float = 1e-10, tau: float = 0.0) -> np.ndarray:
    """F^+ grad U (theta's shape) = effective_horizon * compatible_critic(mdp, policy, theta), with
    F = E_{s~d, a~pi}[psi psi^T], psi = grad log pi, d normalised (the module docstring has the derivation).

    Tabular softmax: natural_gradient(s, a) = H (A(s, a) - mean_b A(s, b)) on visited states, H = sum(visits)
    = 1/(1-gamma) without terminal states. Then theta_{k+1} = theta_k + eta * natural_gradient(theta_k) is
    the NPG of Agarwal et al. (2021) with their step size eta: pi_{k+1}(a|s) proportional to
    pi_k(a|s) exp(eta A_k(s, a) / (1-gamma)), and from theta_0 = 0 (uniform) their Theorem 16 gives, for rewards
    in [0, 1] and every T >= 1 and any start distribution,  U* - U_T <= log|A| / (eta T) + 1 / ((1-gamma)^2 T),
    with U_k non-decreasing in k (see `pgcourse.convergence.npg_bound` for rewards in another range).
    The solve never forms F (that would square the condition number; see the module docstring).
    tau > 0: F^+ grad U_tau; tabular, theta + eta * it is Cen et al.'s (2021) entropy-regularised NPG,
    pi_new proportional to pi^(1 - eta tau H) exp(eta H Q_tau) (see `compatible_critic`).
    rcond: relative singular-value cutoff in the least-squares problems (general features only).
    """
    mdp, policy, theta = _setup(mdp, policy, theta)
    rcond = as_scalar(rcond, "rcond", low=0.0)
    tau = as_scalar(tau, "tau", low=0.0)
    ev, target = _soft_advantage(mdp, policy, theta, tau)
    w = _weighted_fit(policy, theta, ev.d, target, rcond)
    return (ev.effective_horizon * w).reshape(theta.shape)
