"""Gaussian policies for vector actions, and exact expectations under a Gaussian (numpy only).

MultivariateGaussianPolicy: a ~ N(mu(s), Sigma) in R^d, mu(s) = W phi(s), Sigma = D C D with
    D = diag(exp(log_std)) learned and C a fixed correlation matrix; theta = concat(W.ravel(), log_std).
    Scores:  grad_theta log pi = J(s)^T Sigma^-1 (a - mu(s))  (J = d mu / d theta, d x P; for the linear
    mean grad_W log pi = Sigma^-1 (a - mu) phi(s)^T), and d log pi / d log sigma_i = z_i (C^-1 z)_i - 1 with
    z = (a - mu) / sigma  (C = I: (a_i - mu_i)^2 / sigma_i^2 - 1, Sutton & Barto, Section 13.7).

gaussian_expectation(f, mean, cov): E_{a ~ N(mean, cov)}[f(a)] by Gauss-Hermite quadrature, exact (to
    rounding) for polynomials of degree <= 2 n_nodes - 1 in each coordinate: Gaussian scores and their
    products with quadratic rewards are such polynomials, so E[score] = 0 and E[r(a) score] = grad U are
    checked exactly, without sampling.

(The scalar `GaussianPolicy` with a fixed sigma, used by `pgcourse.continuous`, is in `pgcourse.policies`.)
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_count, as_float_array, as_rng

__all__ = ["MultivariateGaussianPolicy", "gaussian_expectation"]


def gaussian_expectation(f, mean: ArrayLike, cov: ArrayLike, n_nodes: int = 6) -> np.ndarray:
    """E_{a ~ N(mean, cov)}[f(a)] by tensor-product Gauss-Hermite quadrature:

        E[f(a)] = sum_k w_k f(mean + L x_k),   L L^T = cov,  (x_k, w_k) the n_nodes^d probabilists'
        Hermite nodes and weights (weight exp(-|x|^2 / 2), normalised to sum 1),

    exact up to rounding when f is a polynomial of degree <= 2 n_nodes - 1 in each coordinate of a.
    mean (d,), cov (d, d) symmetric positive definite (d <= 6); f maps actions (M, d) to values (M, ...)
    and is called once; returns an array of shape (...) (a float for scalar values)."""
    if not callable(f):
        raise TypeError(f"f must be a callable taking actions (M, d), got {type(f).__name__}")
    m = as_float_array(mean, "mean", ndim=1)
    d = m.shape[0]
    if not 1 <= d <= 6:
        raise ValueError(f"mean must have 1 to 6 entries (the quadrature has n_nodes^d points), got {d}")
    cov = as_float_array(cov, "cov", shape=(d, d))
    if not np.allclose(cov, cov.T, atol=1e-12):
        raise ValueError("cov must be symmetric")
    try:
        L = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError("cov must be positive definite") from None
    n = as_count(n_nodes, "n_nodes")
    x1, w1 = np.polynomial.hermite_e.hermegauss(n)
    w1 = w1 / w1.sum()
    grids = np.meshgrid(*([x1] * d), indexing="ij")
    X = np.stack([g.ravel() for g in grids], axis=1)                       # (n^d, d)
    Wt = np.prod(np.meshgrid(*([w1] * d), indexing="ij"), axis=0).ravel()  # (n^d,)
    values = np.asarray(f(m + X @ L.T), dtype=float)
    if values.ndim == 0 or values.shape[0] != X.shape[0]:
        raise ValueError(f"f must return one value per action, shape ({X.shape[0]}, ...), got {values.shape}")
    out = np.tensordot(Wt, values, axes=(0, 0))
    return float(out) if np.ndim(out) == 0 else out


class MultivariateGaussianPolicy:
    """Gaussian policy for actions in R^d with a linear mean and a learned spread:

        a ~ N(mu(s), Sigma),   mu(s) = W phi(s)  (W (d, K), phi(s) (K,)),
        Sigma = D C D,  D = diag(sigma),  sigma = exp(log_std)  (log_std (d,)),  C (d, d) a fixed correlation
        matrix (symmetric positive definite, unit diagonal; default the identity: a diagonal Sigma).

    theta is one flat vector, theta = concat(W.ravel(), log_std), shape (P,) = (d K + d,);
    `split(theta)` gives (W, log_std) and `join(W, log_std)` builds theta. With z = D^-1 (a - mu):

        log pi(a|s) = -1/2 z^T C^-1 z - sum_i log sigma_i - 1/2 log det C - d/2 log(2 pi)
        grad_W log pi       = Sigma^-1 (a - mu) phi(s)^T                      (d, K)
                            = J(s)^T Sigma^-1 (a - mu),  J = d mu / d vec(W)  (the general form, J (d, dK))
        d log pi / d log_std_i = z_i (C^-1 z)_i - 1                            (d,);  C = I: z_i^2 - 1

    Both have mean zero under pi: E[a - mu] = 0 and E[z z^T] = C.
    """

    def __init__(self, n_features: int, action_dim: int, correlation: ArrayLike | None = None):
        self.K = as_count(n_features, "n_features")
        self.d = as_count(action_dim, "action_dim")
        if correlation is None:
            C = np.eye(self.d)
        else:
            C = as_float_array(correlation, "correlation", shape=(self.d, self.d)).copy()
            if not np.allclose(C, C.T, atol=1e-12) or not np.allclose(np.diag(C), 1.0, atol=1e-12):
                raise ValueError("correlation must be symmetric with a unit diagonal")
            if np.linalg.eigvalsh(C).min() <= 1e-12:
                raise ValueError("correlation must be positive definite")
        C.setflags(write=False)
        self.correlation = C
        self._C_inv = np.linalg.inv(C)
        self._logdet_C = float(np.linalg.slogdet(C)[1])
        self.theta_shape = (self.d * self.K + self.d,)

    def __repr__(self) -> str:
        kind = "diagonal" if np.array_equal(self.correlation, np.eye(self.d)) else "correlated"
        return f"MultivariateGaussianPolicy(n_features={self.K}, action_dim={self.d}, {kind})"

    # -- parameters ------------------------------------------------------------------------------------
    def check_theta(self, theta: ArrayLike) -> np.ndarray:
        return as_float_array(theta, "theta", shape=self.theta_shape)

    def split(self, theta: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(W (d, K), log_std (d,)) from the flat theta (P,)."""
        th = self.check_theta(theta)
        n = self.d * self.K
        return th[:n].reshape(self.d, self.K), th[n:].copy()

    def join(self, W: ArrayLike, log_std: ArrayLike) -> np.ndarray:
        """The flat theta (P,) = concat(W.ravel(), log_std) from W (d, K) and log_std (d,)."""
        W = as_float_array(W, "W", shape=(self.d, self.K))
        log_std = as_float_array(log_std, "log_std", shape=(self.d,))
        return np.concatenate([W.ravel(), log_std])

    def std(self, theta: ArrayLike) -> np.ndarray:
        """sigma = exp(log_std), (d,)."""
        return np.exp(self.split(theta)[1])

    def cov(self, theta: ArrayLike) -> np.ndarray:
        """Sigma = D C D, (d, d)."""
        sd = self.std(theta)
        return sd[:, None] * self.correlation * sd[None, :]

    def _features(self, features) -> np.ndarray:
        phi = as_float_array(features, "features")
        if phi.ndim == 0 or phi.shape[-1] != self.K:
            raise ValueError(f"features must have shape (..., {self.K}), got {phi.shape}")
        return phi

    def _actions(self, actions, batch: tuple) -> np.ndarray:
        a = as_float_array(actions, "actions")
        if a.shape != batch + (self.d,):
            raise ValueError(f"actions must have shape {batch + (self.d,)} (features' batch shape, then d), "
                             f"got {a.shape}")
        return a

    # -- the distribution ------------------------------------------------------------------------------
    def mean(self, theta: ArrayLike, features: ArrayLike) -> np.ndarray:
        """mu(s) = W phi(s), shape (..., d) for features (..., K)."""
        W, _ = self.split(theta)
        return self._features(features) @ W.T

    def mean_jacobian(self, features: ArrayLike) -> np.ndarray:
        """J(s) = d mu(s) / d theta, shape (..., d, P): J[i, (j, k)] = [i = j] phi_k(s) on the W block, 0 on
        the log_std block (the mean does not depend on the spread)."""
        phi = self._features(features)
        J = np.zeros(phi.shape[:-1] + (self.d, self.d, self.K))
        for i in range(self.d):
            J[..., i, i, :] = phi
        J = J.reshape(phi.shape[:-1] + (self.d, self.d * self.K))
        return np.concatenate([J, np.zeros(phi.shape[:-1] + (self.d, self.d))], axis=-1)

    def sample(self, theta: ArrayLike, features: ArrayLike, rng: np.random.Generator) -> np.ndarray:
        """a = mu(s) + D L eps, L L^T = C, eps ~ N(0, I): shape (..., d)."""
        m = self.mean(theta, features)
        L = np.linalg.cholesky(self.correlation)
        eps = as_rng(rng).standard_normal(m.shape)
        return m + self.std(theta) * (eps @ L.T)

    def _z(self, theta, features, actions):
        m = self.mean(theta, features)
        a = self._actions(actions, m.shape[:-1])
        return (a - m) / self.std(theta)

    def log_prob(self, theta: ArrayLike, features: ArrayLike, actions: ArrayLike) -> np.ndarray:
        """log pi(a|s), shape (...) for features (..., K) and actions (..., d)."""
        z = self._z(theta, features, actions)
        quad = np.einsum("...i,ij,...j->...", z, self._C_inv, z)
        _, log_std = self.split(theta)
        return -0.5 * quad - log_std.sum() - 0.5 * self._logdet_C - 0.5 * self.d * np.log(2 * np.pi)

    # -- scores ----------------------------------------------------------------------------------------
    def score_mean(self, theta: ArrayLike, features: ArrayLike, actions: ArrayLike) -> np.ndarray:
        """grad_W log pi = Sigma^-1 (a - mu) phi(s)^T, shape (..., d, K)."""
        phi = self._features(features)
        m = self.mean(theta, phi)
        a = self._actions(actions, m.shape[:-1])
        v = (a - m) @ np.linalg.inv(self.cov(theta))                 # Sigma^-1 (a - mu) (Sigma symmetric)
        return v[..., :, None] * phi[..., None, :]

    def score_log_std(self, theta: ArrayLike, features: ArrayLike, actions: ArrayLike) -> np.ndarray:
        """d log pi / d log_std_i = z_i (C^-1 z)_i - 1, z = (a - mu) / sigma, shape (..., d)."""
        z = self._z(theta, features, actions)
        return z * (z @ self._C_inv) - 1.0

    def grad_log_prob(self, theta: ArrayLike, features: ArrayLike, actions: ArrayLike) -> np.ndarray:
        """The whole score grad_theta log pi(a|s), shape (..., P) = concat(score_mean.ravel, score_log_std)."""
        sm = self.score_mean(theta, features, actions)
        sl = self.score_log_std(theta, features, actions)
        return np.concatenate([sm.reshape(sm.shape[:-2] + (-1,)), sl], axis=-1)
