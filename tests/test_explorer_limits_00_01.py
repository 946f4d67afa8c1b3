"""Explorers 00 and 01 draw on fixed (or stepped) scales and blit back what a move did not change
(`_live.CachedGroup`): every value a control reaches lies inside the scales, a group is redrawn exactly when
what it shows changes, and the trimmed episode batches give the numbers of the full ones."""
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pgcourse as pg
import pgcourse.widgets as pgw
from pgcourse.widgets import _live, mdps
from tests._strategies import FAST, mdp_cases

NAMES = ["00_welcome_mdps", "01_objective_and_dpi"]


@pytest.fixture(scope="module")
def explorers():
    out = {}
    for name in NAMES:
        ex = pgw.EXPLORERS[name]()
        ex.refresh()
        out[name] = ex
    return out


def _slider_values(control):
    import ipywidgets as W
    if isinstance(control, W.FloatLogSlider):
        return sorted({int(round(v)) for v in 10.0 ** np.arange(control.min, control.max + 1e-9, control.step)})
    return [round(float(v), 6) for v in np.arange(control.min, control.max + 1e-9 * control.step, control.step)]


def test_00_every_gamma_and_slip_stays_on_the_colour_scale_and_the_return_axis(explorers):
    """V in [-1, 1] (the heatmap's fixed colour scale) for every (gamma, slip) of the sliders, and the sampled
    returns, their running mean and V(start) inside the fixed return axis, for every slip at both ends of
    gamma with every episode."""
    ex = explorers["00_welcome_mdps"]
    c = ex.make_controls()
    gammas, slips = _slider_values(c["gamma"]), _slider_values(c["slip"])
    pi = pg.demo_grid_policy()
    for g in gammas:
        for s in slips:
            mdp = pg.gridworld(gamma=g, slip=s)
            V = pg.evaluate(mdp, pi).V[~mdp.terminal]
            assert np.all(np.abs(V) <= 1.0), (g, s, np.abs(V).max())
    (curve,) = [ax for ax in ex.fig.axes if ax.get_xscale() == "log"]  # the running mean's axes
    lo, hi = curve.get_ylim()
    assert (lo, hi) == (-1.1, 1.1)
    for g in (gammas[0], gammas[-1]):
        for s in slips:
            r = ex.compute(gamma=g, slip=s, n_episodes=5000)
            n, mean, _se = r["running"]
            assert n.max() == 5000 and lo < mean.min() and mean.max() < hi and lo < r["U"] < hi, (g, s)


@pytest.mark.parametrize("gamma, n", [(0.0, 10), (0.0, 20000), (0.37, 63), (0.9, 2000), (0.9, 10),
                                      (0.96, 2047), (0.96, 13), (0.99, 20000), (0.99, 10)])
def test_01_the_colour_scale_holds_both_panels_and_follows_the_data(explorers, gamma, n):
    """After any move both meshes and the colorbar share one scale [0, vmax], vmax a nice number with every
    exact and sampled frequency under it and the largest at least 3/4 of it (the scale is not flattened)."""
    ex = explorers["01_objective_and_dpi"]
    for params in ({"gamma": gamma}, {"n_episodes": n}, {"gamma": 0.5}, {"gamma": gamma, "n_episodes": n}):
        ex.refresh(**params)
        r = ex.compute(**ex.params)
        meshes = [m for ax in ex.fig.axes[:2] for m in ax.collections if isinstance(m, mpl_quadmesh())]
        assert len(meshes) == 2 and meshes[0].colorbar is not None
        vmax = _live.nice_ceiling(r["vmax"])
        for m in meshes:
            assert m.norm.vmin == 0.0 and m.norm.vmax == vmax
            assert m.colorbar is None or m.colorbar.norm.vmax == vmax
        top = max(r["d"].max(), r["d_hat"].max())
        assert top <= vmax and top >= 0.75 * vmax - 1e-12
        shown = [np.ma.compressed(m.get_array()) for m in meshes]
        assert np.allclose(np.sort(shown[0]), np.sort(r["d"][~r["mdp"].terminal]))
        assert np.allclose(np.sort(shown[1]), np.sort(r["d_hat"][~r["mdp"].terminal]))
    ex.refresh(**ex.defaults)


def mpl_quadmesh():
    from matplotlib.collections import QuadMesh
    return QuadMesh


@given(st.floats(1e-9, 1e9))
@FAST
def test_nice_ceiling_is_a_nice_number_at_most_a_third_above(x):
    c = _live.nice_ceiling(x)
    assert x <= c <= 4 / 3 * x * (1 + 1e-12)
    mantissa = c / 10.0 ** np.floor(np.log10(c) + 1e-12)
    assert any(np.isclose(mantissa, m) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8))
    assert _live.nice_ceiling(c) == c
    assert _live.nice_ceiling(x * 0.999) <= c


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_nice_ceiling_rejects_what_has_no_ceiling(bad):
    with pytest.raises(ValueError, match="x must be positive"):
        _live.nice_ceiling(bad)


@pytest.mark.parametrize("name", NAMES)
def test_groups_come_first_cover_their_members_and_do_not_overlap(explorers, name):
    ex = explorers[name]
    ex.refresh(**ex.defaults)
    renderer = ex.fig.canvas.get_renderer()
    groups = [a for a in ex._moving if isinstance(a, _live.CachedGroup)]
    assert groups and ex._moving[:len(groups)] == groups, f"{name}: groups must be drawn first"
    regions = [g.region(renderer) for g in groups]
    for i, a in enumerate(regions):
        for b in regions[i + 1:]:
            assert min(a.x1, b.x1) <= max(a.x0, b.x0) or min(a.y1, b.y1) <= max(a.y0, b.y0), \
                f"{name}: two groups' regions overlap"
        for m in groups[i].members:
            bb = m.get_tightbbox(renderer) if hasattr(m, "get_tightbbox") else m.get_window_extent(renderer)
            if bb is None or bb.width <= 0:
                continue
            assert a.x0 <= bb.x0 and bb.x1 <= a.x1 and a.y0 <= bb.y0 and bb.y1 <= a.y1, \
                f"{name}: a {type(m).__name__} of a group draws outside its region"


def test_a_group_redraws_exactly_when_its_key_changes_or_the_figure_is_redrawn(explorers):
    """00's heatmap: an N move blits it back (no cell text is drawn); a gamma move draws the texts of exactly
    the cells whose text or colour changed (CachedCells); a full redraw draws every text again."""
    ex = explorers["00_welcome_mdps"]
    ex.refresh(**ex.defaults)
    group = ex._moving[0]
    (cells,) = group.members
    assert isinstance(group, _live.CachedGroup) and isinstance(cells, _live.CachedCells)
    texts = cells.heat.texts
    drawn = []
    def counted(f, k):
        return lambda renderer: (drawn.append(k), f(renderer))
    for k, t in enumerate(texts):
        t.draw = counted(t.draw, k)

    def look():
        faces = cells.heat.im.get_facecolor()
        cols = cells.heat.mdp.shape[1]
        return [(t.get_text(), t.get_color(), tuple(faces[i * cols + j]))
                for (s, _), t in zip(cells.heat.cells, texts, strict=True) for i, j in [cells.heat.mdp.cells[s]]]
    try:
        ex.refresh(n_episodes=1200)
        assert not drawn, "an N move redrew the heatmap"
        for g in (0.9, 0.91, 0.5):
            before = look()
            ex.refresh(gamma=g)
            after = look()
            changed = [k for k, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
            assert changed and sorted(drawn) == changed, (g, drawn, changed)
            drawn.clear()
        ex.refresh(n_episodes=1000)
        assert not drawn
        ex._background = None  # a full redraw: new background, the cached pixels are forgotten
        ex.refresh()
        assert sorted(drawn) == list(range(len(texts)))
    finally:
        for t in texts:
            del t.draw
        ex.refresh(**ex.defaults)


def test_every_cell_text_lies_inside_its_cached_cell(explorers):
    """The pixels CachedCells keeps per cell (inside the cell, off its edges) hold the cell's whole text."""
    for name in NAMES:
        ex = explorers[name]
        ex.refresh(gamma=0.5)
        renderer = ex.fig.canvas.get_renderer()
        found = [a for g in ex._moving for a in ([g] + list(getattr(g, "members", [])))
                 if isinstance(a, _live.CachedCells)]
        assert found, name
        for cells in found:
            for (s, _), t in zip(cells.heat.cells, cells.heat.texts, strict=True):
                for text in (t.get_text(), "-0.888 S"):  # now, and the widest it may print
                    t.set_text(text)
                    bb, box = t.get_window_extent(renderer), cells.cell_box(s)
                    assert box.x0 <= bb.x0 and bb.x1 <= box.x1 and box.y0 <= bb.y0 and bb.y1 <= box.y1, (name, s)
        ex.refresh(**ex.defaults)  # a gamma move: the update sets every text again


@given(mdp_cases(max_S=6, max_A=3, episodic=True), st.integers(1, 12), st.integers(1, 40))
@FAST
def test_trimmed_episodes_are_the_same_batch(case, horizon, n):
    """Cut after the longest episode (none cut when one ran to the horizon) and taken as views, a batch gives
    every field of head(n) on the kept steps, padding on the cut ones, and the same estimates."""
    mdp, rng = case
    pi = np.full((mdp.S, mdp.A), 1.0 / mdp.A)
    ep = pg.sample_episodes(mdp, pi, 40, horizon, rng)
    n = min(n, ep.n_episodes)
    short = mdps._trimmed(ep)
    T = short.horizon
    assert T == ep.lengths.max() and (T == horizon or not ep.truncated.any())
    assert not ep.mask[:, T:].any()
    head, got = ep.head(n), mdps._head(short, n)
    for f in fields(ep):
        assert np.array_equal(getattr(got, f.name), getattr(head, f.name)[:, :T]), f.name
    g = min(mdp.gamma, 0.99)
    assert np.array_equal(pg.visitation_frequencies(got, mdp.S, g), pg.visitation_frequencies(head, mdp.S, g))
    assert np.array_equal(pg.discounted_returns(got.rewards, g, got.mask)[:, 0],
                          pg.discounted_returns(head.rewards, g, head.mask)[:, 0])


@pytest.mark.parametrize("name", NAMES)
def test_many_moves_in_a_row_still_show_what_a_full_redraw_shows(name):
    """Cached pixels kept over several moves of every control in turn (no full redraw in between, unlike
    test_widgets_retained) equal the figure redrawn from scratch at the end."""
    import io

    from PIL import Image

    from benchmarks.explorers import _moves

    def pixels(png):
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))

    ex = pgw.EXPLORERS[name]()
    ex.refresh()
    controls = ex.make_controls()
    for k, c in controls.items():
        c.value = ex.params.get(k, c.value)
    plans = {k: _moves(c, 4) for k, c in controls.items()}
    for step in range(4):
        for k, c in controls.items():
            v = plans[k][step]
            ex.refresh(**{k: int(round(v)) if getattr(c, "_pg_integer", False) else v})
    fast = pixels(ex.png)
    ex._background = None
    ex.refresh()
    assert np.array_equal(fast, pixels(ex.png)), f"{name}: {np.any(fast != pixels(ex.png), axis=2).sum()} px differ"
