"""Argument checks shared by the package: every public function calls these on entry, so that bad input
raises a ValueError/TypeError naming the argument before any numpy error can surface."""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # for annotations only: these modules import this one
    from .mdp import TabularMDP
    from .policies import GaussianPolicy, SoftmaxPolicy
    from .sampling import Episodes


def as_float_array(x: ArrayLike, name: str, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
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


def as_index_array(x: ArrayLike, name: str, upper: int | None = None, shape: tuple | None = None) -> np.ndarray:
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
        if arr.ndim != len(shape) or any(w is not None and w != g for w, g in zip(shape, arr.shape, strict=True)):
            want = "(" + ", ".join("?" if w is None else str(w) for w in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")


def as_gamma(gamma: float, name: str = "gamma") -> float:
    return as_scalar(gamma, name, low=0.0, high=1.0)


def as_scalar(x: float, name: str, low: float | None = None, high: float | None = None,
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


def as_count(n: int, name: str, minimum: int = 1) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral,)):
        raise TypeError(f"{name} must be an integer, got {type(n).__name__}")
    n = int(n)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return n


def as_rng(rng: np.random.Generator, name: str = "rng") -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng


def as_policy_matrix(pi: ArrayLike, S: int, A: int, name: str = "pi") -> np.ndarray:
    """A (S, A) stochastic matrix: entries >= 0, rows summing to 1."""
    pi = as_float_array(pi, name, shape=(S, A))
    if pi.min() < 0:
        raise ValueError(f"{name} has a negative probability ({pi.min():.3g})")
    bad = np.abs(pi.sum(axis=1) - 1.0) > 1e-8
    if bad.any():
        s = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} rows must sum to 1: row {s} sums to {pi[s].sum():.6g}")
    return pi


# ---- the package's own objects (imported lazily: mdp, policies and sampling import this module) ----

def as_mdp(mdp: TabularMDP, name: str = "mdp") -> TabularMDP:
    """`mdp` itself if it is a TabularMDP, else TypeError."""
    from .mdp import TabularMDP
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"{name} must be a TabularMDP, got {type(mdp).__name__}")
    return mdp


def as_softmax_policy(policy: SoftmaxPolicy, mdp: TabularMDP | None = None, name: str = "policy") -> SoftmaxPolicy:
    """`policy` itself if it is a SoftmaxPolicy (for mdp's S and A when mdp is given), else TypeError/ValueError."""
    from .policies import SoftmaxPolicy
    if not isinstance(policy, SoftmaxPolicy):
        raise TypeError(f"{name} must be a SoftmaxPolicy, got {type(policy).__name__}")
    if mdp is not None and (policy.S, policy.A) != (mdp.S, mdp.A):
        raise ValueError(f"{name} is for S={policy.S}, A={policy.A} but mdp has S={mdp.S}, A={mdp.A}")
    return policy


def as_policy(policy: SoftmaxPolicy | GaussianPolicy, name: str = "policy") -> SoftmaxPolicy | GaussianPolicy:
    """`policy` itself if it is one of the package's policies (SoftmaxPolicy, GaussianPolicy), else TypeError."""
    from .policies import GaussianPolicy, SoftmaxPolicy
    if not isinstance(policy, (SoftmaxPolicy, GaussianPolicy)):
        raise TypeError(f"{name} must be a SoftmaxPolicy or GaussianPolicy, got {type(policy).__name__}")
    return policy


def as_gaussian_policy(policy: GaussianPolicy, n_features: int | None = None,
                       name: str = "policy") -> GaussianPolicy:
    """`policy` itself if it is a GaussianPolicy (with n_features features when given), else TypeError."""
    from .policies import GaussianPolicy
    if not isinstance(policy, GaussianPolicy) or (n_features is not None and policy.K != n_features):
        want = "" if n_features is None else f" with n_features={n_features}"
        got = type(policy).__name__ if not isinstance(policy, GaussianPolicy) else f"n_features={policy.K}"
        raise TypeError(f"{name} must be a GaussianPolicy{want}, got {got}")
    return policy


def as_episodes(episodes: Episodes, name: str = "episodes") -> Episodes:
    """`episodes` itself if it is an Episodes batch (from sample_episodes), else TypeError."""
    from .sampling import Episodes
    if not isinstance(episodes, Episodes):
        raise TypeError(f"{name} must be an Episodes batch (from sample_episodes), got {type(episodes).__name__}")
    return episodes


def as_values(V: ArrayLike, episodes: Episodes, name: str = "V") -> np.ndarray:
    """State values (S,) as a finite float array long enough for every state the episodes visit."""
    V = as_float_array(V, name, ndim=1)
    top = int(max(episodes.states.max(), episodes.next_states.max())) if episodes.states.size else -1
    if V.shape[0] <= top:
        raise ValueError(f"{name} has {V.shape[0]} entries but the episodes visit state {top}")
    return V


def as_mask(mask: ArrayLike | None, shape: tuple, name: str = "mask") -> np.ndarray:
    """A 0/1 float mask of the given shape; None means every step is real (all ones)."""
    if mask is None:
        return np.ones(shape)
    m = as_float_array(mask, name, shape=shape)
    if not np.all((m == 0) | (m == 1)):
        raise ValueError(f"{name} must hold only 0.0 and 1.0")
    return m


def check_episodic(mdp: TabularMDP, pi: np.ndarray) -> None:
    """For gamma = 1: raise ValueError unless every non-terminal state can reach a terminal state under pi.

    Decided by reachability in the graph s -> s' with P_pi[s, s'] > 0 (backward search from the terminal
    states), not by a failed solve."""
    term = mdp.terminal
    if not term.any():
        raise ValueError("gamma = 1 needs an episodic MDP: this one has no terminal state, so returns are infinite")
    P_pi = np.einsum("sa,sat->st", pi, mdp.P) > 0
    reach = term.copy()
    frontier = term.copy()
    while frontier.any():
        new = P_pi[:, frontier].any(axis=1) & ~reach
        reach |= new
        frontier = new
    stuck = np.flatnonzero(~reach)
    if stuck.size:
        raise ValueError(
            f"gamma = 1 but under this policy state(s) {stuck[:10].tolist()} can never reach a terminal state: "
            "the expected return is undefined (infinite). Use gamma < 1 or a policy that ends episodes.")
