"""The figure standards (issue 13), checked on every notebook explorer's default figure: crisp (2x pixels
for the CSS size), text >= 10 CSS px, nothing clipped, legends off the data, a colorbar for every heatmap,
cell text that contrasts with its cell, colours from the colour-blind-safe palette (or greys)."""
import io

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import QuadMesh
from matplotlib.image import AxesImage

import pgcourse.plots as pgp
import pgcourse.widgets as pgw

COURSE = sorted(pgw.EXPLORERS)


@pytest.fixture(scope="module", params=COURSE)
def drawn(request):
    ex = pgw.EXPLORERS[request.param]()
    ex.refresh()
    FigureCanvasAgg(ex.fig)
    with pgp.styled():
        ex.fig.canvas.draw()
    return request.param, ex, ex.fig.canvas.get_renderer()


def _texts(fig):
    """The texts that are drawn: visible, non-empty, and for tick labels only those of ticks in view."""
    hidden = set()
    for ax in fig.axes:
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = sorted(lim)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - 1e-9 * (hi - lo) <= tick.get_loc() <= hi + 1e-9 * (hi - lo):
                    hidden.update({id(tick.label1), id(tick.label2)})
    return [t for t in fig.findobj(mpl.text.Text)
            if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def test_png_has_twice_the_pixels_of_its_css_size(drawn):
    from PIL import Image
    name, ex, _ = drawn
    w, h = ex.css_size
    img = Image.open(io.BytesIO(ex.png))
    assert img.size == (w * pgp.PIXEL_RATIO, h * pgp.PIXEL_RATIO), name


def test_text_is_at_least_10_css_px(drawn):
    name, ex, _ = drawn
    small = [(t.get_text(), t.get_fontsize()) for t in _texts(ex.fig) if t.get_fontsize() * pgp.CSS_DPI / 72 < 9.99]
    assert not small, f"{name}: text under 10 CSS px: {small[:5]}"


def test_nothing_is_clipped(drawn):
    name, ex, renderer = drawn
    W, H = ex.fig.bbox.width, ex.fig.bbox.height
    out = []
    for t in _texts(ex.fig):
        bb = t.get_window_extent(renderer)
        if bb.x0 < -1 or bb.y0 < -1 or bb.x1 > W + 1 or bb.y1 > H + 1:
            out.append(t.get_text())
    assert not out, f"{name}: text outside the figure: {out[:5]}"


def test_legends_sit_off_the_data(drawn):
    name, ex, renderer = drawn
    for ax in ex.fig.axes:
        leg = ax.get_legend()
        if leg is not None:
            assert leg.get_window_extent(renderer).y0 >= ax.get_window_extent(renderer).y1 - 1, \
                f"{name}: a legend overlaps its axes"


def _heatmaps(ax):
    """An Axes' heatmaps: images, or meshes of cells (the explorers' grids)."""
    return [im for im in ax.get_images() if isinstance(im, AxesImage)] + \
        [c for c in ax.collections if isinstance(c, QuadMesh)]


def _images(fig):
    return [im for ax in fig.axes for im in _heatmaps(ax)]


def test_every_heatmap_has_a_colorbar(drawn):
    name, ex, _ = drawn
    bars = [im.colorbar for im in _images(ex.fig) if im.colorbar is not None]
    for im in _images(ex.fig):
        assert any(cb.mappable.norm.vmin == im.norm.vmin and cb.mappable.norm.vmax == im.norm.vmax
                   and cb.mappable.get_cmap().name == im.get_cmap().name for cb in bars), \
            f"{name}: a heatmap without a colorbar for its colour scale"


def _luminance(rgb):
    c = np.asarray(rgb[:3], dtype=float)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def test_cell_text_contrasts_with_its_cell(drawn):
    """WCAG contrast ratio >= 4.5 between each number written on a heatmap cell and that cell's colour."""
    name, ex, _ = drawn
    for ax in ex.fig.axes:
        for im in _heatmaps(ax):
            A = np.ma.masked_invalid(np.ma.asarray(im.get_array(), dtype=float).filled(np.nan))
            for t in ax.texts:
                x, y = t.get_position()
                i, j = int(round(y)), int(round(x))
                if not (0 <= i < A.shape[0] and 0 <= j < A.shape[1]) or np.ma.is_masked(A[i, j]):
                    continue  # terminal cells and walls: black text on light grey
                cell = im.get_cmap()(im.norm(A[i, j]))
                text = mpl.colors.to_rgba(t.get_color())
                hi, lo = sorted([_luminance(cell), _luminance(text)], reverse=True)
                assert (hi + 0.05) / (lo + 0.05) >= 4.5, f"{name}: text {t.get_text()!r} on a cell of colour {cell}"


def test_colours_are_colour_blind_safe(drawn):
    """Every line and marker colour is from the Okabe-Ito palette or a grey."""
    name, ex, _ = drawn
    palette = {mpl.colors.to_hex(c) for c in pgp.OKABE_ITO.values()}
    for line in ex.fig.findobj(mpl.lines.Line2D):
        if not line.get_visible() or len(line.get_xdata()) == 0:
            continue
        for c in (line.get_color(), line.get_markerfacecolor()):
            if isinstance(c, str) and c in ("none", "None"):
                continue
            with pgp.styled():  # "C0" means the course palette's first colour
                r, g, b, _ = mpl.colors.to_rgba(c)
            assert mpl.colors.to_hex((r, g, b)) in palette or abs(r - g) < 1e-6 and abs(g - b) < 1e-6, \
                f"{name}: line colour {c} is neither Okabe-Ito nor grey"


def test_terminal_cells_stay_out_of_the_colour_scale():
    """05's pits (terminal, V = 0) must not take the colour of the best cells: they are masked (hatched grey)."""
    import matplotlib.figure

    import pgcourse as pg
    mdp = pg.gridworld(step_reward=-0.02)
    V = pg.evaluate(mdp, np.full((mdp.S, mdp.A), 0.25)).V
    fig = matplotlib.figure.Figure()
    im = pgp.grid_heatmap(fig.subplots(), mdp, V)
    A = np.ma.masked_invalid(np.asarray(im.get_array(), dtype=float))
    term = mdp.to_grid(mdp.terminal.astype(float)) == 1.0
    assert term.any() and np.ma.getmaskarray(A)[term].all()
    assert im.norm.vmax == pytest.approx(V[~mdp.terminal].max())


def test_a_redraw_runs_no_layout_engine(drawn):
    """The layout is computed once; the explorer's own figure has no layout engine (one pass per redraw
    would cost a third of a slider's 150 ms budget)."""
    name, ex, _ = drawn
    ex.refresh()
    assert ex.fig.get_layout_engine() is None, name
