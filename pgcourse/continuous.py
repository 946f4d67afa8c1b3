"""Continuous-action problems with closed-form objective and gradient, to check Gaussian score functions.

QuadraticBandit: one state, a ~ N(theta, sigma^2), r(a) = -(a - a_star)^2.
    U(theta) = -(theta - a_star)^2 - sigma^2,   dU/dtheta = -2 (theta - a_star).

LinearQuadratic (1-D LQR): x_{t+1} = a x_t + b u_t + w_t, w_t ~ N(0, noise^2), x_0 ~ N(0, x0_std^2);
    u_t ~ N(theta x_t, sigma^2) (GaussianPolicy with feature phi(x) = x); r_t = -(q x_t^2 + r u_t^2).
    With c = a + b theta and m_t = E[x_t^2]: m_{t+1} = c^2 m_t + b^2 sigma^2 + noise^2, and
    E[r_t] = -(q + r theta^2) m_t - r sigma^2, so U = sum_t gamma^t E[r_t] in closed form (finite horizon
    by the recursion, infinite horizon by a geometric series when gamma c^2 < 1), and its derivative too.

Exact Gaussian expectations (Gauss-Hermite quadrature) and the vector-action Gaussian policy live in
`pgcourse.gaussian`.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_count, as_float_array, as_gamma, as_gaussian_policy, as_rng, as_scalar
from .policies import GaussianPolicy


def _scalar_theta(theta) -> float:
    t = as_float_array(theta, "theta")
    if t.size != 1:
        raise ValueError(f"theta must hold one number (shape (1,)), got shape {t.shape}")
    return float(t.ravel()[0])


class QuadraticBandit:
    """One-step problem: reward -(a - a_star)^2 for a continuous action a."""

    def __init__(self, a_star: float = 1.0):
        self.a_star = as_scalar(a_star, "a_star")

    def reward(self, actions: ArrayLike) -> np.ndarray:
        a = as_float_array(actions, "actions")
        return -(a - self.a_star) ** 2

    def objective(self, theta: ArrayLike, sigma: float) -> float:
        """U = E[r(a)], a ~ N(theta, sigma^2): -(theta - a_star)^2 - sigma^2."""
        return -(_scalar_theta(theta) - self.a_star) ** 2 - as_scalar(sigma, "sigma", low=0.0) ** 2

    def gradient(self, theta: ArrayLike, sigma: float | None = None) -> np.ndarray:
        """dU/dtheta = -2 (theta - a_star), shape (1,) (independent of sigma)."""
        return np.array([-2.0 * (_scalar_theta(theta) - self.a_star)])

    def score_gradient_samples(self, policy: GaussianPolicy, theta: ArrayLike, n: int, rng: np.random.Generator,
                               baseline: float = 0.0) -> np.ndarray:
        """n single-sample score-function estimates (r(a) - baseline) (a - theta)/sigma^2, shape (n, 1);
        their mean estimates `gradient(theta)`."""
        policy = as_gaussian_policy(policy)
        n = as_count(n, "n")
        phi = np.ones((n, 1))
        a = policy.sample(theta, phi, as_rng(rng))
        b = as_scalar(baseline, "baseline")
        return (self.reward(a) - b)[:, None] * policy.grad_log_prob(theta, phi, a)


class LinearQuadratic:
    """1-D linear-quadratic regulator with a linear Gaussian policy u ~ N(theta x, sigma^2)."""

    def __init__(self, a: float = 1.0, b: float = 1.0, q: float = 1.0, r: float = 0.5, noise: float = 0.1,
                 x0_std: float = 1.0, gamma: float = 0.9):
        self.a = as_scalar(a, "a")
        self.b = as_scalar(b, "b")
        self.q = as_scalar(q, "q", low=0.0)
        self.r = as_scalar(r, "r", low=0.0)
        self.noise = as_scalar(noise, "noise", low=0.0)
        self.x0_std = as_scalar(x0_std, "x0_std", low=0.0)
        self.gamma = as_gamma(gamma)

    def _moments(self, theta, sigma, horizon):
        """U and dU/dtheta by the second-moment recursion (forward-mode derivative alongside)."""
        th = _scalar_theta(theta)
        sigma = as_scalar(sigma, "sigma", low=0.0, low_open=True)
        c = self.a + self.b * th
        n2 = self.b**2 * sigma**2 + self.noise**2
        k = self.q + self.r * th**2
        g = self.gamma
        if horizon is None:
            if g == 1.0 or g * c**2 >= 1.0:
                raise ValueError(f"the infinite-horizon objective diverges: gamma c^2 = {g * c * c:.3g} >= 1 "
                                 f"(c = a + b theta = {c:.3g}); give a horizon or a stabilising theta")
            denom = 1.0 - g * c**2
            M = (self.x0_std**2 + g * n2 / (1.0 - g)) / denom          # sum_t gamma^t m_t
            dM = M * 2.0 * g * c * self.b / denom
            U = -k * M - self.r * sigma**2 / (1.0 - g)
            dU = -2.0 * self.r * th * M - k * dM
            return U, dU
        T = as_count(horizon, "horizon")
        m, dm = self.x0_std**2, 0.0
        U = dU = 0.0
        for t in range(T):
            U += g**t * (-k * m - self.r * sigma**2)
            dU += g**t * (-2.0 * self.r * th * m - k * dm)
            m, dm = c**2 * m + n2, 2.0 * c * self.b * m + c**2 * dm
        return U, dU

    def objective(self, theta: ArrayLike, sigma: float, horizon: int | None = None) -> float:
        """U(theta) = E[sum_{t<T} gamma^t r_t] exactly (horizon None: T = infinity)."""
        return float(self._moments(theta, sigma, horizon)[0])

    def gradient(self, theta: ArrayLike, sigma: float, horizon: int | None = None) -> np.ndarray:
        """dU/dtheta exactly, shape (1,)."""
        return np.array([self._moments(theta, sigma, horizon)[1]])

    def rollout(self, policy: GaussianPolicy, theta: ArrayLike, n_episodes: int, horizon: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample N episodes of T steps (vectorised over episodes): returns states x (N, T), actions u (N, T),
        rewards (N, T)."""
        policy = as_gaussian_policy(policy, n_features=1)  # u ~ N(theta x, sigma^2)
        N = as_count(n_episodes, "n_episodes")
        T = as_count(horizon, "horizon")
        rng = as_rng(rng)
        x = self.x0_std * rng.standard_normal(N)
        xs, us, rs = (np.zeros((N, T)) for _ in range(3))
        for t in range(T):
            u = policy.sample(theta, x[:, None], rng)
            xs[:, t], us[:, t] = x, u
            rs[:, t] = -(self.q * x**2 + self.r * u**2)
            x = self.a * x + self.b * u + self.noise * rng.standard_normal(N)
        return xs, us, rs

    def reinforce_gradient(self, policy: GaussianPolicy, theta: ArrayLike, n_episodes: int, horizon: int,
                           rng: np.random.Generator) -> np.ndarray:
        """REINFORCE estimate of dU/dtheta for the T-step objective: mean_n sum_t gamma^t score_t G_t, (1,)."""
        from .estimators import discounted_returns
        xs, us, rs = self.rollout(policy, theta, n_episodes, horizon, rng)
        G = discounted_returns(rs, self.gamma)
        score = policy.grad_log_prob(theta, xs[..., None], us)[..., 0]
        disc = self.gamma ** np.arange(xs.shape[1])
        return np.array([(disc * score * G).sum(axis=1).mean()])
