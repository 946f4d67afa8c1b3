"""The fixed axes of the explorers of notebooks 02, 03 and 06 (fixed so that a move redraws only the data): over
the values their controls reach, every number drawn lies inside them (nothing clipped off), and some value
reaches near their edge (the range is not so loose that it flattens the data)."""
import ipywidgets as W
import numpy as np
import pytest

import pgcourse as pg
import pgcourse.widgets as pgw


def _values(control):
    """The values a control reaches: a slider's grid from its min to its max (both ends), a dropdown's options;
    a log slider's counts as the explorer receives them (int(round(value)))."""
    if isinstance(control, W.Dropdown):
        return [o[1] if isinstance(o, tuple) else o for o in control.options]
    if isinstance(control, W.FloatLogSlider):
        v = 10.0 ** np.append(np.arange(control.min, control.max, control.step), control.max)
        return sorted({int(round(x)) for x in v})
    return [float(x) for x in np.append(np.arange(control.min, control.max, control.step), control.max)]


def _inside(values, lim, what):
    v = np.ravel(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    lo, hi = sorted(lim)
    assert v.size and v.min() >= lo and v.max() <= hi, f"{what}: data [{v.min():.4f}, {v.max():.4f}] outside {lim}"
    return v.min(), v.max()


def _reaches(extremes, lim, what, share=0.8):
    lo, hi = sorted(lim)
    seen = max(e[1] for e in extremes) - min(e[0] for e in extremes)
    assert seen >= share * (hi - lo), f"{what}: the data span {seen:.4f} of the fixed range {hi - lo:.4f}"


@pytest.fixture(scope="module")
def td():
    ex = pgw.td_critic_explorer()
    ex.refresh()
    return ex


def _td_shown(ex, c, n, live):
    r = ex.compute(c, n)
    y, e = r["mean"][live], 2 * np.nan_to_num(r["se"][live])
    return np.concatenate([np.ravel(y - e), np.ravel(y + e), np.ravel(r["exact_d"][live])]), \
        np.concatenate([np.ravel(r["g_ac"]), np.ravel(r["g_hat"])])


def test_06_every_critic_error_and_n_is_inside_the_fixed_axes(td):
    controls = td.make_controls()
    cs, ns = _values(controls["critic_error"]), _values(controls["n_episodes"])
    ax1, ax2 = td.fig.axes[:2]
    live = ~pg.td_demo_problem()[0].terminal
    # every critic error at the ends of N and the default; every N (all up to 1000, then every 8th) at the
    # ends of the critic error and at the default
    moves = [(c, n) for c in cs for n in (ns[0], 2000, ns[-1])]
    moves += [(c, n) for c in (cs[0], 0.5, cs[-1]) for n in [m for m in ns if m <= 1000] + ns[::8] + [ns[-1]]]
    left, right = [], []
    for c, n in moves:
        a, b = _td_shown(td, c, n, live)
        left.append(_inside(a, ax1.get_ylim(), f"06 left, critic error {c}, N {n}"))
        right.append(_inside(b, ax2.get_ylim(), f"06 right, critic error {c}, N {n}"))
    _reaches(left, ax1.get_ylim(), "06 left")
    _reaches(right, ax2.get_ylim(), "06 right")


def test_06_the_line_y_equals_a_spans_the_left_panel(td):
    ax1 = td.fig.axes[0]
    diag = ax1.lines[0]
    assert np.allclose(diag.get_xdata(), ax1.get_xlim()) and np.allclose(diag.get_ydata(), diag.get_xdata())
    mdp, policy, theta, _ = pg.td_demo_problem()
    A = pg.evaluate(mdp, policy.probs(theta)).A[~mdp.terminal]
    _inside(A, ax1.get_xlim(), "06 left, x = A")


def test_03_the_histogram_axes_hold_every_baseline_and_n():
    ex = pgw.baseline_explorer()
    ex.refresh()
    controls = ex.make_controls()
    ax2 = ex.fig.axes[1]
    j = int(np.argmax(np.abs(ex.data["exact"])))
    tops, lines = [], []
    for b in _values(controls["baseline"]):
        for n in _values(controls["n_episodes"]):
            r = ex.compute(b, n)
            assert np.isclose(r["frac"].sum() * n, np.round(r["frac"].sum() * n))  # counts / N
            tops.append(_inside([0.0, r["frac"].max()], ax2.get_ylim(), f"03 histogram, {b}, N {n}"))
            lines.append(_inside([r["mean_j"], ex.data["exact"][j], ex.data["expected"][b][j]], ax2.get_xlim(),
                                 f"03 histogram's lines, {b}, N {n}"))
        # every estimate of the n_max episodes inside the bins but the outer 0.5% on each side
        x = ex.data["samples"][b][:, j]
        assert np.mean((x >= ax2.get_xlim()[0]) & (x <= ax2.get_xlim()[1])) >= 0.99 - 1e-9
    _reaches(tops, ax2.get_ylim(), "03 histogram height", share=0.9)


def test_02_every_theta_and_n_is_inside_the_fixed_axis():
    ex = pgw.gradient_explorer()
    ex.refresh()
    controls = ex.make_controls()
    ax = ex.fig.axes[0]
    live = np.flatnonzero(~pg.gradient_demo_problem()[0].terminal)
    ns = _values(controls["n_episodes"])
    seen = []
    for v in _values(controls["theta_scale"]):
        for n in sorted(set(ns[:20] + ns[::6] + [ns[-1]])):
            r = ex.compute(round(v, 6), n)
            m, e = r["est"][live], 1.96 * r["se"][live]
            seen.append(_inside(np.concatenate([r["exact"][live], m - e, m + e]), ax.get_ylim(),
                                f"02, theta scale {v}, N {n}"))
    _reaches(seen, ax.get_ylim(), "02")
