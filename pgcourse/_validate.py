"""Argument checks shared by the package: every public function calls these on entry, so that bad input
raises a ValueError/TypeError naming the argument before any numpy error can surface."""
from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """`x` as a finite float array, checked for ndim and shape (None entries in `shape` match anything)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be an array of numbers ({e})") from None
    _check_shape(arr, name, ndim, shape)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def as_index_array(x, name: str, upper: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """`x` as an int array of indices in [0, upper)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an integer array, got {type(x).__name__}")
    arr = np.asarray(x)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    _check_shape(arr, name, None, shape)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} holds a negative index ({arr.min()})")
    if upper is not None and arr.size and arr.max() >= upper:
        raise ValueError(f"{name} holds index {arr.max()}, but there are only {upper}")
    return arr


def _check_shape(arr: np.ndarray, name: str, ndim: int | None, shape: tuple | None) -> None:
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(w is not None and w != g for w, g in zip(shape, arr.shape)):
            want = "(" + ", ".join("?" if w is None else str(w) for w in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")


def as_gamma(gamma, name: str = "gamma") -> float:
    return as_scalar(gamma, name, low=0.0, high=1.0)


def as_scalar(x, name: str, low: float | None = None, high: float | None = None,
              low_open: bool = False) -> float:
    """A real number in [low, high] (or (low, high] with low_open)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.ndarray)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    if isinstance(x, np.ndarray):
        if x.ndim != 0:
            raise TypeError(f"{name} must be a scalar, got an array of shape {x.shape}")
        x = x.item()
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    if low is not None and (x < low or (low_open and x == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {x}")
    if high is not None and x > high:
        raise ValueError(f"{name} must be <= {high}, got {x}")
    return x


def as_count(n, name: str, minimum: int = 1) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral,)):
        raise TypeError(f"{name} must be an integer, got {type(n).__name__}")
    n = int(n)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return n


def as_rng(rng, name: str = "rng") -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng


def as_policy_matrix(pi, S: int, A: int, name: str = "pi") -> np.ndarray:
    """A (S, A) stochastic matrix: entries >= 0, rows summing to 1."""
    pi = as_float_array(pi, name, shape=(S, A))
    if pi.min() < 0:
        raise ValueError(f"{name} has a negative probability ({pi.min():.3g})")
    bad = np.abs(pi.sum(axis=1) - 1.0) > 1e-8
    if bad.any():
        s = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} rows must sum to 1: row {s} sums to {pi[s].sum():.6g}")
    return pi
