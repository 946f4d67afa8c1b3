"""Helpers shared by the statistical tests: random policies and the 5-standard-error criterion."""
import numpy as np


def rand_pi(rng, S, A):
    x = rng.random((S, A)) + 0.2
    return x / x.sum(axis=1, keepdims=True)


def assert_within_5_se(mean, se, exact, what=""):
    mean, se, exact = (np.asarray(x, dtype=float) for x in (mean, se, exact))
    z = np.abs(mean - exact) / np.maximum(se, 1e-300)
    assert np.all(z < 5), f"{what}: |mean - exact| / s.e. = {np.round(z, 2)}"
    return z
