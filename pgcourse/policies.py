"""Differentiable policies and their score functions grad_theta log pi_theta(a|s).

Softmax (discrete actions):  pi(a|s) = exp h(s, a) / sum_b exp h(s, b),  h(s, a) = phi(s, a) . theta,
    grad log pi(a|s) = phi(s, a) - sum_b pi(b|s) phi(s, b)
    ("the taken action's features minus the policy-average features"; tabular: e_{s,a} - pi(.|s) e_s).

Gaussian (continuous actions):  a ~ N(mu_theta(s), sigma^2),  mu_theta(s) = phi(s) . theta,
    grad log pi(a|s) = (a - mu_theta(s)) / sigma^2 * phi(s).

Multivariate Gaussian (actions in R^d, learned spread): see `pgcourse.gaussian.MultivariateGaussianPolicy`,
    grad_theta log pi = J(s)^T Sigma^-1 (a - mu(s)) and d log pi / d log sigma_i = (a_i - mu_i)^2 / sigma_i^2 - 1.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_count, as_float_array, as_index_array, as_rng, as_scalar


def softmax(logits: ArrayLike, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax (subtracts the max: logits of size 1e3 give no overflow).
    -inf logits (masked actions) are allowed, NaN, +inf and all -inf along `axis` are not."""
    if isinstance(logits, (str, bytes)) or logits is None:
        raise TypeError(f"logits must be an array of numbers, got {type(logits).__name__}")
    try:
        logits = np.asarray(logits, dtype=float)
    except (TypeError, ValueError) as e:
        raise TypeError(f"logits must be an array of numbers ({e})") from None
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an integer, got {type(axis).__name__}")
    if not -logits.ndim <= axis < logits.ndim:
        raise ValueError(f"axis {axis} is out of range for logits of shape {logits.shape}")
    if logits.shape[axis] == 0:
        raise ValueError(f"logits must have at least one entry along axis {axis}, got shape {logits.shape}")
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise ValueError("logits contains NaN or +inf")
    if np.isneginf(logits).all(axis=axis).any():
        raise ValueError(f"logits: some slice along axis {axis} is entirely -inf (no action has probability > 0)")
    z = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _pair_counts(s: np.ndarray, a: np.ndarray, w: np.ndarray, S: int, A: int, chunk: int = 1 << 16) -> np.ndarray:
    """W (S, A): W[s, a] = sum of w_i over the i with (s_i, a_i) = (s, a), summed in the order of i.

    The same as one np.bincount(s * A + a, weights=w), bit for bit: the flat (n,) arrays go through in
    chunks, each chunk's bincount starting from the running sums (fed in as its first S*A entries), so
    every bin adds its weights in the same order; no (n,) temporary is made (a performance device).
    """
    SA = S * A
    bins = np.arange(SA)
    W = np.zeros(SA)
    idx, wts = np.empty(SA + min(chunk, s.size), dtype=np.intp), np.empty(SA + min(chunk, s.size))
    idx[:SA] = bins
    for k in range(0, s.size, chunk):
        m = min(chunk, s.size - k)
        np.multiply(s[k:k + m], A, out=idx[SA:SA + m])
        idx[SA:SA + m] += a[k:k + m]
        wts[:SA] = W
        wts[SA:SA + m] = w[k:k + m]
        W = np.bincount(idx[:SA + m], weights=wts[:SA + m], minlength=SA)
    return W.reshape(S, A)


class SoftmaxPolicy:
    """Linear-feature softmax policy: features (S, A, K), logits h = features @ theta, theta (K,).

    `SoftmaxPolicy.tabular(S, A)` has one logit per state-action: theta (S, A), h(s, a) = theta[s, a].
    """

    def __init__(self, features: ArrayLike):
        phi = as_float_array(features, "features", ndim=3)
        S, A, K = phi.shape
        if min(S, A, K) == 0:
            raise ValueError(f"features must have S, A, K >= 1, got shape {phi.shape}")
        phi.setflags(write=False)
        self._phi = phi
        self._tabular = False
        self.S, self.A = S, A
        self.theta_shape: tuple = (K,)

    @classmethod
    def tabular(cls, S: int, A: int) -> SoftmaxPolicy:
        """One logit per (s, a): theta (S, A). Equivalent to one-hot features, without building them."""
        S = as_count(S, "S")
        A = as_count(A, "A")
        self = cls.__new__(cls)
        self._phi = None
        self._tabular = True
        self.S, self.A = S, A
        self.theta_shape = (S, A)
        return self

    @property
    def is_tabular(self) -> bool:
        return self._tabular

    @property
    def features(self) -> np.ndarray:
        """(S, A, *theta_shape) features: (S, A, K), or one-hot (S, A, S, A) for the tabular policy."""
        if self._tabular:
            return np.eye(self.S * self.A).reshape(self.S, self.A, self.S, self.A)
        return self._phi

    def __repr__(self) -> str:
        kind = "tabular" if self._tabular else f"K={self.theta_shape[0]}"
        return f"SoftmaxPolicy(S={self.S}, A={self.A}, {kind})"

    def check_theta(self, theta: ArrayLike) -> np.ndarray:
        return as_float_array(theta, "theta", shape=self.theta_shape).copy()

    def zeros(self) -> np.ndarray:
        """theta = 0: the uniform policy."""
        return np.zeros(self.theta_shape)

    def logits(self, theta: ArrayLike) -> np.ndarray:
        """h (S, A)."""
        theta = self.check_theta(theta)
        return theta if self._tabular else self._phi @ theta

    def probs(self, theta: ArrayLike) -> np.ndarray:
        """pi (S, A), rows summing to 1."""
        return softmax(self.logits(theta), axis=1)

    def grad_log_prob(self, theta: ArrayLike, states: ArrayLike, actions: ArrayLike) -> np.ndarray:
        """Score grad_theta log pi(a|s) for each (s, a) pair: shape (*states.shape, *theta.shape).

        Materialises one theta-sized array per pair: for sums over many samples use `score_sum`.
        """
        theta = self.check_theta(theta)
        s = as_index_array(states, "states", self.S)
        a = as_index_array(actions, "actions", self.A, shape=s.shape)
        pi = self.probs(theta)
        if self._tabular:
            out = np.zeros(s.shape + (self.S, self.A))
            flat = out.reshape(-1, self.S, self.A)
            i = np.arange(flat.shape[0])
            sf, af = s.ravel(), a.ravel()
            flat[i, sf, :] -= pi[sf]
            flat[i, sf, af] += 1.0
            return out
        phibar = np.einsum("sa,sak->sk", pi, self._phi)
        return self._phi[s, a] - phibar[s]

    def score_sum(self, theta: ArrayLike, states: ArrayLike, actions: ArrayLike, weights: ArrayLike) -> np.ndarray:
        """sum_i weights_i * grad log pi(a_i|s_i), shape theta.shape, without materialising the scores.

        Counts W[s, a] = sum of weights where (s_i, a_i) = (s, a); then the sum is
        contract(W - W.sum(1) * pi), which is O(#samples + S A K) memory and time.
        """
        theta = self.check_theta(theta)
        s = as_index_array(states, "states", self.S)
        a = as_index_array(actions, "actions", self.A, shape=s.shape)
        w = as_float_array(weights, "weights", shape=s.shape)
        W = _pair_counts(s.ravel(), a.ravel(), w.ravel(), self.S, self.A)
        return self.contract(W - W.sum(axis=1, keepdims=True) * self.probs(theta))

    def contract(self, C: np.ndarray) -> np.ndarray:
        """sum_{s,a} C[s, a] phi(s, a): maps an (S, A) array of per-(s, a) coefficients to theta's shape
        (identity for the tabular policy)."""
        C = as_float_array(C, "C", shape=(self.S, self.A))
        return C.copy() if self._tabular else np.einsum("sa,sak->k", C, self._phi)


class GaussianPolicy:
    """Gaussian policy for 1-D continuous actions: a ~ N(phi(s) . theta, sigma^2), theta (K,).

    The caller passes the state features phi(s) of shape (..., K) (a constant feature 1 for a bandit,
    phi(x) = x for a linear controller u = theta x). sigma is fixed (not learned).
    """

    def __init__(self, sigma: float, n_features: int = 1):
        self.sigma = as_scalar(sigma, "sigma", low=0.0, low_open=True)
        self.K = as_count(n_features, "n_features")
        self.theta_shape = (self.K,)

    def __repr__(self) -> str:
        return f"GaussianPolicy(sigma={self.sigma}, n_features={self.K})"

    def check_theta(self, theta: ArrayLike) -> np.ndarray:
        return as_float_array(theta, "theta", shape=self.theta_shape)

    def _features(self, features) -> np.ndarray:
        phi = as_float_array(features, "features")
        if phi.ndim == 0 or phi.shape[-1] != self.K:
            raise ValueError(f"features must have shape (..., {self.K}), got {phi.shape}")
        return phi

    def mean(self, theta: ArrayLike, features: ArrayLike) -> np.ndarray:
        """mu_theta(s) = phi(s) . theta, shape features.shape[:-1]."""
        return self._features(features) @ self.check_theta(theta)

    def sample(self, theta: ArrayLike, features: ArrayLike, rng: np.random.Generator) -> np.ndarray:
        """a ~ N(mu_theta(s), sigma^2), shape features.shape[:-1]."""
        m = self.mean(theta, features)
        return m + self.sigma * as_rng(rng).standard_normal(m.shape)

    def log_prob(self, theta: ArrayLike, features: ArrayLike, actions: ArrayLike) -> np.ndarray:
        m = self.mean(theta, features)
        a = as_float_array(actions, "actions", shape=m.shape)
        return -0.5 * ((a - m) / self.sigma) ** 2 - np.log(self.sigma * np.sqrt(2 * np.pi))

    def grad_log_prob(self, theta: ArrayLike, features: ArrayLike, actions: ArrayLike) -> np.ndarray:
        """(a - mu_theta(s)) / sigma^2 * phi(s), shape (..., K)."""
        phi = self._features(features)
        m = phi @ self.check_theta(theta)
        a = as_float_array(actions, "actions", shape=m.shape)
        return ((a - m) / self.sigma**2)[..., None] * phi
