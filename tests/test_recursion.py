"""The one backward recursion y_t = x_t + c_t y_{t+1}: against a plain loop, and every estimator built on it
reduces to it with the inputs its docstring names."""
import numpy as np
import pytest
from _stats import rand_pi

import pgcourse as pg
from pgcourse._recursion import _row_blocks, backward_scan


def loop_scan(x, c, y_end):
    x = np.asarray(x, dtype=float)
    c = np.broadcast_to(np.asarray(c, dtype=float), x.shape)
    y = np.empty_like(x)
    nxt = np.broadcast_to(np.asarray(y_end, dtype=float), x.shape[:-1]).copy()
    for t in range(x.shape[-1] - 1, -1, -1):
        nxt = x[..., t] + c[..., t] * nxt
        y[..., t] = nxt
    return y


@pytest.mark.parametrize("seed", range(6))
def test_matches_plain_loop(seed):
    rng = np.random.default_rng(seed)
    lead = tuple(int(k) for k in rng.integers(1, 5, size=seed % 3))
    T = int(rng.integers(1, 30))
    x = rng.normal(size=lead + (T,))
    for c in (float(rng.uniform(-1, 1)), rng.uniform(-1, 1, size=(T,)), rng.uniform(-1, 1, size=lead + (T,))):
        for y_end in (0.0, float(rng.normal()), rng.normal(size=lead)):
            np.testing.assert_array_equal(backward_scan(x, c, y_end), loop_scan(x, c, y_end))


def test_many_blocks_match_plain_loop():
    rng = np.random.default_rng(7)
    T = 37
    N = 3 * _row_blocks(10 ** 6, T)[0][1] + 5  # several blocks and a ragged last one
    assert len(_row_blocks(N, T)) == 4
    x, c, y_end = rng.normal(size=(N, T)), rng.uniform(0, 1, size=(N, T)), rng.normal(size=N)
    np.testing.assert_array_equal(backward_scan(x, c, y_end), loop_scan(x, c, y_end))
    np.testing.assert_array_equal(backward_scan(x, 0.9, y_end), loop_scan(x, 0.9, y_end))


def test_special_values():
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(backward_scan(x, 0.0), x)  # c = 0: y = x
    np.testing.assert_array_equal(backward_scan(x, 1.0), [[6.0, 5.0, 3.0]])  # c = 1: suffix sums
    np.testing.assert_array_equal(backward_scan(x, 1.0, 10.0), [[16.0, 15.0, 13.0]])
    assert backward_scan(np.zeros((2, 0)), 0.5).shape == (2, 0)


def test_bad_shapes():
    with pytest.raises(ValueError, match="c of shape"):
        backward_scan(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="y_end"):
        backward_scan(np.zeros((2, 3)), 0.5, np.zeros(3))
    with pytest.raises(ValueError, match="time axis"):
        backward_scan(1.0, 0.5)


def _episodes(seed, n_terminal=1, N=300, T=12):
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(5, 3, 0.9, rng, n_terminal=n_terminal)
    ep = pg.sample_episodes(mdp, rand_pi(rng, 5, 3), N, T, rng)
    return ep, rng.normal(size=5)


def _mask_next(mask):
    out = np.zeros_like(mask)
    out[:, :-1] = mask[:, 1:]
    return out


@pytest.mark.parametrize("seed", range(3))
def test_discounted_returns_is_the_scan(seed):
    ep, V = _episodes(seed)
    g = 0.93
    np.testing.assert_array_equal(pg.discounted_returns(ep.rewards, g, ep.mask),
                                  backward_scan(ep.rewards * ep.mask, g) * ep.mask)
    boot = V[ep.next_states[:, -1]]
    np.testing.assert_array_equal(pg.discounted_returns(ep.rewards, g, ep.mask, bootstrap=boot),
                                  backward_scan(ep.rewards * ep.mask, g, boot * ep.mask[:, -1]) * ep.mask)


@pytest.mark.parametrize("seed", range(3))
def test_gae_is_the_scan(seed):
    ep, V = _episodes(seed)
    g, lam = 0.93, 0.7
    delta = pg.td_errors(ep, V, g)
    np.testing.assert_array_equal(pg.gae(ep, V, g, lam), backward_scan(delta, g * lam * _mask_next(ep.mask)))
