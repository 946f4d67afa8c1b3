"""The one backward recursion behind returns, n-step and lambda-returns, TD(lambda) traces and GAE.

    y_t = x_t + c_t * y_{t+1},   t = T-1, ..., 0,   y_T = y_end          (along the last axis)

Special cases (N episodes of T steps, mask (N, T) of 0/1, mask_next[:, t] = mask[:, t+1], 0 at t = T-1):
    discounted returns  G_t = r_t + gamma G_{t+1}:           x = r * mask, c = gamma, y_end = 0
                        (bootstrap at a truncated horizon: y_end = V(s_T) for the episodes still running)
    GAE                 A_t = delta_t + gamma lam A_{t+1}:   x = delta, c = gamma * lam * mask_next
                        (the trace is cut where the episode ends, terminated or truncated)
    lambda-return       G^lam_t = r_t + gamma ((1-lam) V(s_{t+1}) + lam G^lam_{t+1}):
                        x = r + gamma (1-lam) V(s_{t+1}) [bootstrapping], c = gamma lam [still running]
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["backward_scan", "scan_blocks"]

_BLOCK_ELEMENTS = 1 << 16


def _row_blocks(N: int, T: int) -> list[tuple[int, int]]:
    """Row ranges [i, j) of about _BLOCK_ELEMENTS entries. Each block is copied time-major, so the loop over t
    reads contiguous rows that stay in the cache (a performance device: the arithmetic, and so every result
    bit, is that of the plain column-by-column loop)."""
    b = max(64, _BLOCK_ELEMENTS // max(T, 1))
    return [(i, min(i + b, N)) for i in range(0, N, b)] or [(0, 0)]


def backward_scan(x: ArrayLike, c: ArrayLike, y_end: ArrayLike = 0.0) -> np.ndarray:
    """y with y_t = x_t + c_t * y_{t+1} along the last axis and y_T = y_end; shape x.shape.

    x: (..., T) floats; c: a scalar or an array broadcastable to x.shape (e.g. (T,) or (..., T));
    y_end: a scalar or (...,) = x.shape[:-1], the value "after the last step" (0: nothing to bootstrap).
    Each step computes c_t * y_{t+1} and then adds x_t (so results equal, bit for bit, those of the plain
    loop `for t in reversed(range(T)): y[..., t] = x[..., t] + c[..., t] * y_next`).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        raise ValueError("x must have a time axis (shape (..., T)), got a scalar")
    lead, T = x.shape[:-1], x.shape[-1]
    c = np.asarray(c, dtype=float)
    try:
        fits = np.broadcast_shapes(c.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"c of shape {c.shape} does not broadcast to x's shape {x.shape}")
    y_end = np.asarray(y_end, dtype=float)
    if y_end.ndim and y_end.shape != lead:
        raise ValueError(f"y_end must be a scalar or have shape {lead} (x.shape[:-1]), got {y_end.shape}")
    N = int(np.prod(lead, dtype=np.int64))
    x2 = x.reshape(N, T)
    scalar_c = c.ndim == 0
    c2 = c if scalar_c else np.broadcast_to(c, x.shape).reshape(N, T)

    def fill(i: int, j: int, xb: np.ndarray, cb: np.ndarray | None) -> None:
        xb[...] = x2[i:j].T
        if cb is not None:
            cb[...] = c2[i:j].T

    y = scan_blocks(N, T, fill, float(c) if scalar_c else None, np.broadcast_to(y_end, lead).reshape(N))
    return y.reshape(x.shape)


BlockFill = Callable[[int, int, np.ndarray, "np.ndarray | None"], None]


def scan_blocks(N: int, T: int, fill: BlockFill, c: float | None = None, y_end: ArrayLike = 0.0,
                out_mask: np.ndarray | None = None) -> np.ndarray:
    """The recursion of `backward_scan` on N rows of T steps whose inputs are written block by block, (N, T).

    fill(i, j, xb, cb) writes rows i..j-1 of x, time-major, into xb (T, j - i), and of c into cb (T, j - i)
    (cb is None when c is the scalar `c`). An estimator that computes its x (e.g. TD errors) block by block
    inside `fill` never builds the (N, T) intermediates: blocks of about 2**16 entries stay in the cache.
    y_end: scalar or (N,); out_mask: optional (N, T), multiplied into y as it is written.
    This is the one loop over t of the package's backward recursions.
    """
    y = np.empty((N, T))
    if T == 0 or N == 0:
        return y
    end = np.broadcast_to(np.asarray(y_end, dtype=float), (N,))
    blocks = _row_blocks(N, T)
    width = blocks[0][1]
    xb_buf = np.empty((T, width))  # reused by every block
    cb_buf = np.empty(width) if c is not None else np.empty((T, width))
    for i, j in blocks:  # on a time-major block of rows
        xb = xb_buf[:, :j - i]
        nxt = end[i:j]
        if c is not None:
            fill(i, j, xb, None)
            tj = cb_buf[:j - i]
            for t in range(T - 1, -1, -1):
                np.multiply(c, nxt, out=tj)
                nxt = np.add(xb[t], tj, out=xb[t])
        else:
            cb = cb_buf[:, :j - i]
            fill(i, j, xb, cb)
            for t in range(T - 1, -1, -1):
                np.multiply(cb[t], nxt, out=cb[t])
                nxt = np.add(xb[t], cb[t], out=xb[t])
        if out_mask is None:
            y[i:j] = xb.T
        else:
            np.multiply(xb.T, out_mask[i:j], out=y[i:j])
    return y
