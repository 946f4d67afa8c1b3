"""The one backward recursion y_t = x_t + c_t y_{t+1}: against a plain loop, and every estimator built on it
reduces to it with the inputs its docstring names."""
import numpy as np
import pytest

import pgcourse as pg
from _stats import rand_pi
from pgcourse._recursion import backward_scan, scan_blocks


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
    N = 6000  # blocks of about 2**16 entries: several of them, and a ragged last one
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


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n", [1, 2, 5, 12, 40])
def test_n_step_advantages_are_the_scan_differenced(seed, n):
    """A^(n)_t = D_t - gamma^n D_{t+n} with D = the lam = 1 trace backward_scan(delta, gamma mask_next)."""
    ep, V = _episodes(seed)
    g = 0.93
    D = backward_scan(pg.td_errors(ep, V, g), g * _mask_next(ep.mask))
    shifted = np.zeros_like(D)
    shifted[:, :D.shape[1] - n] = D[:, n:]
    np.testing.assert_allclose(pg.n_step_advantages(ep, V, g, n), D - g ** n * shifted, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("lam", [0.0, 0.6, 1.0])
def test_lambda_return_is_the_scan(seed, lam):
    """G^lam_t = r_t + gamma [(1 - lam) V(s_{t+1}) + lam G^lam_{t+1}] inside the episode, r_t + gamma V(s_{t+1})
    [not terminated] at its last step: the scan with x = r + gamma V(s') w, c = gamma lam mask_next, where
    w = (1 - lam) if the next step is real, else 1 - terminated. And gae = G^lam - V(s_t) on the real steps."""
    ep, V = _episodes(seed)
    g = 0.93
    nxt = _mask_next(ep.mask)
    w = np.where(nxt == 1, 1 - lam, 1.0 - ep.terminated)
    G_lam = backward_scan((ep.rewards + g * V[ep.next_states] * w) * ep.mask, g * lam * nxt)
    np.testing.assert_allclose((G_lam - V[ep.states]) * ep.mask, pg.gae(ep, V, g, lam), rtol=0, atol=1e-12)


@pytest.mark.parametrize("scalar_c", [True, False])
def test_scan_blocks_with_inputs_written_per_block(scalar_c):
    """scan_blocks fills x and c block by block (time-major) and masks the output as it is written."""
    rng = np.random.default_rng(11)
    N, T = 5000, 29  # several blocks
    x, c = rng.normal(size=(N, T)), rng.uniform(0, 1, size=(N, T))
    y_end, mask = rng.normal(size=N), (rng.random((N, T)) < 0.8).astype(float)
    seen = []

    def fill(i, j, xb, cb):
        seen.append((i, j))
        assert xb.shape == (T, j - i) and (cb is None) == scalar_c
        xb[...] = x[i:j].T
        if cb is not None:
            cb[...] = c[i:j].T

    cc = 0.7 if scalar_c else c
    y = scan_blocks(N, T, fill, 0.7 if scalar_c else None, y_end, out_mask=mask)
    np.testing.assert_array_equal(y, loop_scan(x, cc, y_end) * mask)
    assert len(seen) > 1 and seen[0][0] == 0 and seen[-1][1] == N
    assert all(a[1] == b[0] for a, b in zip(seen[:-1], seen[1:], strict=True))  # the rows, in order, once each
