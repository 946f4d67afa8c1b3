"""Explorers 04, 08, 09 (and the `_live` helpers they use to redraw less): the axis limits that follow the data
in steps hold every value of every control (nothing drawn off the axes), the axes redrawn only when their key
changes show what a full redraw shows over long sequences of moves (cache hits included), and the texts
that do not change stay out of the moving artists."""
import io

import numpy as np
import pytest

import pgcourse as pg
import pgcourse.widgets as pgw
from pgcourse.widgets import _live
from pgcourse.widgets.parameterisations import histogram_limits

SIGMAS = np.round(np.arange(0.05, 2.0001, 0.05), 2)  # the sigma slider's values


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


@pytest.fixture(scope="module")
def ex04():
    ex = pgw.EXPLORERS["04_parameterisations"]()
    ex.refresh()
    return ex


@pytest.mark.parametrize("baseline", [False, True])
def test_04_histogram_inside_its_limits_for_every_sigma_and_n(ex04, baseline):
    for sigma in SIGMAS:
        for n in (100, 1000, 10000, 100000):
            r = ex04.compute(float(sigma), n, baseline)
            (x0, x1), (y0, y1) = histogram_limits(r["counts"], r["edges"])
            e = r["edges"]
            assert x0 <= e[0] and e[-1] <= x1, (sigma, n, baseline)
            assert (e[-1] - e[0]) >= (x1 - x0) / 3, "the bins fill too little of the x range"
            assert x0 <= r["m"] <= x1 and x0 <= 2.0 <= x1  # the sampled mean and the exact gradient -2(0 - 1)
            assert y0 == 0.0 and r["counts"].max() <= y1 <= 2.0 * 1.05 * max(r["counts"].max(), 1)


def test_04_n_moves_neither_histogram_axis_range(ex04):
    """Bins from the first 10000 draws: the same x range for every N (and the counts scale with N)."""
    edges = {n: tuple(ex04.compute(0.5, n, False)["edges"][[0, -1]]) for n in (100, 3000, 10000, 100000)}
    assert len(set(edges.values())) == 1


def test_04_explorer_shows_the_limits(ex04):
    ex04.refresh(sigma=0.05, n_samples=100000, baseline=False)
    r = ex04.compute(0.05, 100000, False)
    xlim, ylim = histogram_limits(r["counts"], r["edges"])
    ax = ex04.fig.axes[0]
    assert ax.get_xlim() == pytest.approx(xlim) and ax.get_ylim() == pytest.approx(ylim)
    ex04.refresh(**ex04.defaults)


def test_08_components_inside_the_y_range_for_every_estimator_and_n():
    ex = pgw.EXPLORERS["08_putting_it_together"]()
    ex.refresh()
    ax2 = ex.fig.axes[1]
    for name in pg.BUILTIN_ESTIMATORS:
        for n in (10, 13, 31, 50, 100, 316, 1000, 5000):
            ex.refresh(estimator=name, n_episodes=n)
            r = ex.compute(name, n)
            lo, hi = ax2.get_ylim()
            y = np.concatenate([np.ravel(r["g_n"]), np.ravel(r["sc"].mean)])
            assert lo <= y.min() and y.max() <= hi, (name, n)


def _blit_equals_full_redraw(ex, moves):
    for kw in moves:
        ex.refresh(**kw)
        fast = _pixels(ex.png)
        background = ex._background
        ex._background = None
        ex.refresh()
        full = _pixels(ex.png)
        differ = np.any(fast != full, axis=2)
        assert differ.mean() < 1e-4, f"{kw}: {differ.sum()} pixels differ from a full redraw"
        assert background is not None


def test_04_long_walk_blit_equals_full_redraw(ex04):
    """Sigma up and back (the cached axes are hit on the way back), N over decades, the baseline toggled."""
    walk = [0.5, 0.55, 0.6, 0.65, 0.6, 0.55, 0.5, 0.05, 0.1, 2.0]
    moves = [dict(sigma=s) for s in walk] + [dict(n_samples=n) for n in (100, 101, 5000, 100000, 100)]
    moves += [dict(baseline=b) for b in (True, False, True, False)] + [dict(sigma=0.05, baseline=True)]
    ex04.refresh(**ex04.defaults)
    _blit_equals_full_redraw(ex04, moves)
    ex04.refresh(**ex04.defaults)


def test_08_long_walk_blit_equals_full_redraw():
    ex = pgw.EXPLORERS["08_putting_it_together"]()
    ex.refresh()
    names = list(pg.BUILTIN_ESTIMATORS)
    moves = [dict(n_episodes=n) for n in (100, 102, 50, 10, 5000, 100)]
    moves += [dict(estimator=e) for e in names + names[:2]]
    _blit_equals_full_redraw(ex, moves)


def test_09_legend_and_titles_stay_static_and_eps_is_shown():
    ex = pgw.EXPLORERS["09_surrogates_trust_regions"]()
    ex.refresh()
    legend = ex.fig.axes[0].get_legend()
    before = [t.get_text() for t in legend.get_texts()]
    ex.refresh(eps=0.35)
    assert [t.get_text() for t in legend.get_texts()] == before
    assert legend not in ex._moving
    shown = [a.get_text() for a in ex._moving if hasattr(a, "get_text")]
    assert "0.35" in shown


def test_tick_limits_contain_the_range_on_tick_multiples():
    rng = np.random.default_rng(13)
    for _ in range(200):
        lo = rng.normal() * 10.0 ** rng.integers(-4, 5)
        hi = lo + abs(rng.normal()) * 10.0 ** rng.integers(-4, 5) + 1e-6
        for per_tick in (1, 2):
            a, b = _live.tick_limits(lo, hi, per_tick=per_tick)
            assert a <= lo and hi <= b
            assert (b - a) <= 2.5 * (hi - lo) + 1e-12 * abs(lo)  # widened by at most ~one step each side
    with pytest.raises(ValueError, match="lo < hi"):
        _live.tick_limits(1.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        _live.tick_limits(0.0, np.inf)
