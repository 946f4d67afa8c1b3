"""Explorers 07, 10 and 11 fix (or step) their axis limits so that a move redraws few artists: whatever the
controls, every drawn point stays inside its axes (nothing is clipped off a fixed axis)."""
import itertools

import numpy as np
import pytest

import pgcourse.widgets as pgw
from pgcourse.widgets.convergence import LRS_10, METHODS_10, TAUS_10
from pgcourse.widgets.critics import CRITICS_11, K_CHOICES_11


def _outside(fig) -> list:
    """(axes index, label, how many) of every line with finite data outside its axes' limits."""
    out = []
    for i, ax in enumerate(fig.axes):
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        for line in ax.lines:
            if not line.get_visible():
                continue
            x, y = (np.asarray(v, dtype=float) for v in (line.get_xdata(), line.get_ydata()))
            if x.size == 0:
                continue
            tr = line.get_transform()
            check_x = tr in (ax.transData, ax.get_xaxis_transform())   # axhline: x in axes coordinates
            check_y = tr in (ax.transData, ax.get_yaxis_transform())   # axvline: y in axes coordinates
            bad = np.zeros(x.shape, dtype=bool)
            if check_x:
                bad |= np.isfinite(x) & ((x < x0) | (x > x1))
            if check_y:
                bad |= np.isfinite(y) & ((y < y0) | (y > y1))
            if bad.any():
                out.append((i, line.get_label(), int(bad.sum())))
    return out


def test_10_every_run_of_the_controls_lies_inside_the_fixed_axes():
    ex = pgw.EXPLORERS["10_convergence"]()
    ex.refresh()
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes]
    for method, lr, tau in itertools.product(METHODS_10, LRS_10, TAUS_10):
        ex.refresh(method=method, lr=lr, tau=tau)
        assert not _outside(ex.fig), (method, lr, tau, _outside(ex.fig))
        assert [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes] == limits, "an axis moved"


def test_11_every_critic_lies_inside_the_fixed_axes():
    ex = pgw.EXPLORERS["11_function_approximation"]()
    ex.refresh()
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes]
    for critic, k in itertools.product(CRITICS_11, K_CHOICES_11):
        ex.refresh(critic=critic, k=k)
        assert not _outside(ex.fig), (critic, k, _outside(ex.fig))
        assert [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes] == limits, "an axis moved"


@pytest.mark.parametrize("kw", [dict(gamma=0.5, critic_error=0.0, lam=0.0), dict(gamma=0.99, critic_error=2.0, lam=0.0),
                                dict(gamma=0.99, critic_error=0.0, lam=1.0),
                                dict(gamma=0.7, critic_error=1.3, lam=0.45)])
def test_07_the_stepped_axes_hold_the_data(kw):
    ex = pgw.EXPLORERS["07_gae"]()
    ex.refresh(**kw)
    assert not _outside(ex.fig), (kw, _outside(ex.fig))
