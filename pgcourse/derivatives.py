"""Numerical derivatives, to check the course's closed forms (numpy only).

numerical_gradient(f, theta): central differences of a scalar function of an array,
    grad f(theta)[i] ~ (f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps),     shape theta.shape,
with error O(eps^2) for smooth f. Notebook 02 differentiates one factor of a product at a time with it
(the other factors frozen at theta_0), which is how the terms of the policy gradient theorem are checked.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_float_array, as_scalar

__all__ = ["numerical_gradient"]


def numerical_gradient(f: Callable[[np.ndarray], float], theta: ArrayLike, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of a scalar function f at theta, shape theta.shape:

        g[i] = (f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps)      for every index i of theta.

    f takes an array of theta's shape and returns one real number (a 0-d or size-1 array is accepted).
    2 * theta.size evaluations of f; f is never called with theta itself modified in place."""
    if not callable(f):
        raise TypeError(f"f must be a callable taking theta, got {type(f).__name__}")
    theta = as_float_array(theta, "theta")
    if theta.size == 0:
        raise ValueError("theta must hold at least one number")
    eps = as_scalar(eps, "eps", low=0.0, low_open=True)
    g = np.zeros(theta.shape)
    for i in np.ndindex(theta.shape):
        e = np.zeros(theta.shape)
        e[i] = eps
        up, down = _scalar(f(theta + e)), _scalar(f(theta - e))
        g[i] = (up - down) / (2 * eps)
    return g


def _scalar(value) -> float:
    v = np.asarray(value, dtype=float)
    if v.size != 1:
        raise ValueError(f"f must return one number, got an array of shape {v.shape}")
    out = float(v.reshape(()))
    if not np.isfinite(out):
        raise ValueError(f"f returned a non-finite value ({out}) near theta")
    return out
