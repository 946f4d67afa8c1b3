"""The explorers' figures, built once and moved in place (each explorer's `draw` / `update`, see _explorer.py).

Each class draws like its function in `pgcourse.plots` (same look, same course style), keeps its artists, and
has `update(...)` that moves them to new numbers and `artists`, the list of what `update` changes (the explorer
redraws only those, on a background rendered once). Drawing only: every number comes from the caller.
"""
from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.ticker import FuncFormatter, NullLocator

from ..plots import ARROWS, EXACT, EXPECTED, OKABE_ITO, SAMPLED, TERMINAL_NAMES, axes_title, legend_above, text_color


class LiveHeatmap:
    """`grid_heatmap` (and `value_policy_heatmap` when pi is given) that can be updated in place: values (S,)
    of a GridMDP, cell text black or white by contrast, terminal cells hatched grey and labelled, a colorbar.
    vmin/vmax: a fixed colour scale (default: the non-terminal values' range, recomputed on every update,
    so the colorbar is redrawn too). pi (S, 4): the policy as arrows, coloured by contrast with their cell."""

    def __init__(self, ax, mdp, values, *, title=None, fmt="{:.2f}", cmap="viridis", vmin=None, vmax=None,
                 colorbar=True, label=None, text_dy=0.0, pi=None, cax_of=None):
        self.ax, self.mdp, self.fmt = ax, mdp, fmt
        self.fixed = (vmin, vmax)
        self.live = ~np.asarray(mdp.terminal)
        # masked (terminal) cells are transparent in the mesh: their grey hatched square and label, drawn once
        # in the background, show through
        self.cmap = mpl.colormaps[cmap].with_extremes(bad=(0.0, 0.0, 0.0, 0.0))
        # a mesh of cells, not an image: ~20x cheaper to redraw at 2x pixels (no resampling)
        rows, cols = mdp.shape
        self.im = ax.pcolormesh(np.arange(cols + 1) - 0.5, np.arange(rows + 1) - 0.5, self._grid(values),
                                cmap=self.cmap, norm=mpl.colors.Normalize(*self._range(values)))
        ax.set_xlim(-0.5, cols - 0.5)
        ax.set_ylim(rows - 0.5, -0.5)  # row 0 at the top, as imshow draws it
        ax.set_aspect("equal")
        ax.set_facecolor("0.85")  # walls (no state) are grey, as imshow draws their NaN
        self.texts, self.cells = [], []
        for s, (i, j) in enumerate(mdp.cells):
            ch = mdp.layout[i][j]
            if mdp.terminal[s]:
                ax.add_patch(mpl.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="0.85", hatch="//", lw=0,
                                                   edgecolor="0.55", zorder=1.5))
                ax.text(j, i, TERMINAL_NAMES.get(ch, ch), ha="center", va="center", color="k", fontsize=9)
                continue
            self.cells.append((s, "" if ch in ".F" else f" {ch}"))
            self.texts.append(ax.text(j, i + text_dy, "", ha="center", va="center", fontsize=9))
        ax.set_xticks(range(mdp.shape[1]))
        ax.set_yticks(range(mdp.shape[0]))
        ax.set_xlabel("column")
        ax.set_ylabel("row")
        self.quiver = None
        if pi is not None:
            self.quiver = self._arrows(np.asarray(pi, dtype=float))
        self.colorbar = None
        if colorbar:
            self.colorbar = ax.figure.colorbar(self.im, ax=ax if cax_of is None else cax_of, fraction=0.046 if
                                               cax_of is None else 0.03, pad=0.03 if cax_of is None else 0.02)
            if label:
                self.colorbar.set_label(label)
        axes_title(ax, title)
        self.update(values)

    def _grid(self, values):
        g = self.mdp.to_grid(np.where(self.live, np.asarray(values, dtype=float), 0.0))
        g[self.mdp.to_grid((~self.live).astype(float)) == 1.0] = np.nan  # terminal cells: off the colour scale
        return np.ma.masked_invalid(g)

    def _range(self, values):
        shown = np.asarray(values, dtype=float)[self.live]
        lo = float(shown.min()) if self.fixed[0] is None else self.fixed[0]
        hi = float(shown.max()) if self.fixed[1] is None else self.fixed[1]
        return lo, max(hi, lo + 1e-9)

    def _arrows(self, pi):
        x, y, u, v, self._arrow_state = [], [], [], [], []
        for s, (i, j) in enumerate(self.mdp.cells):
            if self.mdp.terminal[s]:
                continue
            for a, (dx, dy) in ARROWS.items():
                if pi[s, a] > 0.05:
                    x.append(j)
                    y.append(i + 0.12)
                    u.append(dx * 0.38 * pi[s, a])
                    v.append(dy * 0.38 * pi[s, a])
                    self._arrow_state.append(s)
        return self.ax.quiver(x, y, u, v, angles="xy", scale_units="xy", scale=1.0, color="k", width=0.012)

    def update(self, values, vmin=None, vmax=None):
        """New values (S,); vmin/vmax: this update's colour scale (default: the fixed one, or the range)."""
        values = np.asarray(values, dtype=float)
        lo, hi = self._range(values)
        lo, hi = (lo if vmin is None else vmin), (hi if vmax is None else vmax)
        self.im.set_array(self._grid(values))
        self.im.set_clim(lo, max(hi, lo + 1e-9))
        rgba = self.cmap(self.im.norm(values))
        for (s, tag), t in zip(self.cells, self.texts, strict=True):
            t.set_text(self.fmt.format(values[s]) + tag)
            t.set_color(text_color(rgba[s]))
        if self.quiver is not None:
            self.quiver.set_color([text_color(rgba[s]) for s in self._arrow_state])
        return self

    @property
    def artists(self) -> list:
        out = [self.im, *self.texts] + ([self.quiver] if self.quiver is not None else [])
        fixed = self.fixed[0] is not None and self.fixed[1] is not None
        # a new colour range changes only the colorbar's ticks: redraw its long axis, not the whole bar
        return out + ([self.colorbar.long_axis] if self.colorbar is not None and not fixed else [])


class LiveErrorbar:
    """Points y (K,) at x with +- err bars (a Line2D of markers and one LineCollection of bars: cheaper to
    move than an errorbar container). style: the marker style (e.g. SAMPLED)."""

    def __init__(self, ax, x, y, err, label=None, ms=4, **style):
        self.bars = mpl.collections.LineCollection([], colors=style.get("color", "k"), lw=1.0)
        ax.add_collection(self.bars, autolim=False)
        (self.line,) = ax.plot([], [], ls="none", ms=ms, label=label, **style)
        self.update(x, y, err)

    def update(self, x, y, err):
        x, y = np.ravel(x).astype(float), np.ravel(y).astype(float)
        e = np.nan_to_num(np.broadcast_to(np.ravel(err), x.shape).astype(float))
        self.line.set_data(x, y)
        self.bars.set_segments(np.stack([np.c_[x, y - e], np.c_[x, y + e]], axis=1))
        return self

    @property
    def artists(self) -> list:
        return [self.bars, self.line]


class LiveRunningMean:
    """`running_mean` that can be updated in place: the running mean (n, mean, se from pg.running_mean_se) with
    its +- 1.96 se band beside the exact value, log-scale n over xlim. The y range follows the data, so the
    y axis (its ticks) is redrawn on an update unless ylim fixes it."""

    def __init__(self, ax, n, mean, se, exact, label="sampled mean", ylabel="return", title=None, xlim=None,
                 ylim=None):
        self.ax, self.ylim = ax, ylim
        (self.line,) = ax.plot(n, mean, color=OKABE_ITO["blue"], label=label + " +- 1.96 s.e.")
        self.band = ax.fill_between(n, mean - 1.96 * se, mean + 1.96 * se, color=OKABE_ITO["sky"], alpha=0.35, lw=0)
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks and mathtext labels are slow to draw
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
        self.exact = ax.axhline(exact, lw=1.4, label="exact", **EXACT)
        ax.set_xlabel("number of episodes")
        ax.set_ylabel(ylabel)
        if xlim is not None:
            ax.set_xlim(*xlim)
        if ylim is not None:
            ax.set_ylim(*ylim)
        legend_above(ax, title=title)
        self.update(n, mean, se, exact)

    def update(self, n, mean, se, exact):
        lo, hi = mean - 1.96 * se, mean + 1.96 * se
        self.line.set_data(n, mean)
        self.band.set_data(n, lo, hi)
        self.exact.set_ydata([exact, exact])
        if self.ylim is None:
            a, b = min(lo.min(), exact), max(hi.max(), exact)
            pad = 0.05 * (b - a) + 1e-9
            self.ax.set_ylim(a - pad, b + pad)
        return self

    @property
    def artists(self) -> list:
        return ([] if self.ylim is not None else [self.ax.yaxis]) + [self.band, self.line, self.exact]


def data_range(*arrays, pad=0.05, include=()):
    """(lo, hi) around every finite value of the arrays (and `include`), padded by `pad` of the span."""
    vals = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays] + [np.ravel(include)])
    vals = vals[np.isfinite(vals)]
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
    d = pad * (hi - lo) + 1e-9
    return lo - d, hi + d


class LiveGradientBars:
    """`gradient_bars` that can be updated in place: the exact gradient (dark grey bars) beside the sampled
    estimate (blue, hatched, +- 1.96 se error bars), per component. The y range follows the data (the y axis
    and every bar are redrawn on an update)."""

    def __init__(self, ax, exact, sampled, se, labels=None, title="gradient components"):
        self.ax = ax
        exact = np.ravel(exact)
        x = np.arange(exact.size)
        self.exact = ax.bar(x - 0.2, exact, width=0.4, label="exact grad U", color="0.35")
        self.sampled = ax.bar(x + 0.2, np.ravel(sampled), width=0.4, label="sampled, +- 1.96 s.e.",
                              color=OKABE_ITO["sky"], hatch="///", edgecolor=OKABE_ITO["blue"], lw=0)
        self.err = mpl.collections.LineCollection([], colors="k", lw=1.0)
        ax.add_collection(self.err, autolim=False)
        self.x = x + 0.2
        self.zero = ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks(x)
        ax.set_xticklabels(labels if labels is not None else [str(i) for i in x])
        ax.set_xlim(-0.7, exact.size - 0.3)
        ax.set_xlabel("component of theta (state, action)")
        ax.set_ylabel("dU / dtheta")
        legend_above(ax, title=title)
        self.update(exact, sampled, se)

    def update(self, exact, sampled, se):
        exact, sampled, e = np.ravel(exact), np.ravel(sampled), 1.96 * np.ravel(se)
        for r, h in zip(self.exact.patches, exact, strict=True):
            r.set_height(h)
        for r, h in zip(self.sampled.patches, sampled, strict=True):
            r.set_height(h)
        self.err.set_segments(np.stack([np.c_[self.x, sampled - e], np.c_[self.x, sampled + e]], axis=1))
        self.ax.set_ylim(*data_range(exact, sampled - e, sampled + e, include=0.0))
        return self

    @property
    def artists(self) -> list:
        return [self.ax.yaxis, self.zero, *self.exact.patches, *self.sampled.patches, self.err]


class LiveComponents:
    """`gradient_components` that can be updated in place: the exact gradient (grey bars), optionally the exact
    expectation of an estimator (diamonds) and a sampled mean +- 2 s.e. (circles with bars), per component.
    ylim: a fixed y range; default: the data's, recomputed on every update (the y axis is then redrawn)."""

    def __init__(self, ax, exact, sampled_mean=None, sampled_se=None, labels=None, title=None, expected=None,
                 ylim=None):
        self.ax, self.ylim = ax, ylim
        exact = np.asarray(exact, dtype=float).ravel()
        self.k = k = np.arange(exact.size)
        self.bars = ax.vlines(k, 0.0, exact, colors="0.72", lw=min(18.0, 220.0 / max(exact.size, 1)),
                              label="exact grad U")
        self.expected = None
        if expected is not None:
            (self.expected,) = ax.plot(k, np.ravel(expected), ls="none", ms=6, label="E[estimator] (exact)",
                                       **EXPECTED)
        self.sampled = None
        if sampled_mean is not None:
            self.sampled = LiveErrorbar(ax, k, sampled_mean, 0.0, label="sampled mean +- 2 s.e.", **SAMPLED)
        self.zero = ax.axhline(0.0, color="k", lw=0.6)
        ax.set_xticks(k)
        if labels is not None:
            ax.set_xticklabels(labels, rotation=90 if len(labels) > 8 else 0)
        ax.set_xlim(-0.7, exact.size - 0.3)
        ax.set_xlabel("gradient component (s, a)")
        ax.set_ylabel("dU / dtheta")
        if ylim is not None:
            ax.set_ylim(*ylim)
        legend_above(ax, title=title)
        self.update(exact, sampled_mean, sampled_se, expected)

    def update(self, exact, sampled_mean=None, sampled_se=None, expected=None):
        exact = np.asarray(exact, dtype=float).ravel()
        self.bars.set_segments(np.stack([np.c_[self.k, 0.0 * exact], np.c_[self.k, exact]], axis=1))
        shown = [exact, [0.0]]
        if self.expected is not None and expected is not None:
            self.expected.set_ydata(np.ravel(expected))
            shown.append(np.ravel(expected))
        if self.sampled is not None and sampled_mean is not None:
            m = np.ravel(sampled_mean)
            se = np.zeros_like(m) if sampled_se is None else np.ravel(sampled_se)
            self.sampled.update(self.k, m, 2 * se)
            shown += [m - 2 * se, m + 2 * se]
        if self.ylim is None:
            self.ax.set_ylim(*data_range(*shown))
        return self

    @property
    def artists(self) -> list:
        out = [] if self.ylim is not None else [self.ax.yaxis]
        out += [self.bars, self.zero] + ([self.expected] if self.expected is not None else [])
        return out + (self.sampled.artists if self.sampled is not None else [])


class LiveHistogram:
    """`estimate_histogram` that can be updated in place, from counts already binned (np.histogram): the
    histogram with the sampled mean (solid), the exact value (dashed black) and the exact expectation of the
    estimator (dotted) as vertical lines. Both axes follow the data (redrawn on an update)."""

    def __init__(self, ax, counts, edges, mean, exact=None, expected=None, title=None,
                 xlabel="per-sample estimate", ylabel="count"):
        self.ax = ax
        self.stairs = ax.stairs(counts, edges, fill=True, color=OKABE_ITO["sky"], alpha=0.6)
        self.mean = ax.axvline(mean, color=OKABE_ITO["blue"], lw=2, label="sampled mean")
        self.exact = None if exact is None else ax.axvline(exact, lw=1.5, label="exact", **EXACT)
        self.expected = None if expected is None else ax.axvline(expected, color=OKABE_ITO["vermillion"], ls=":",
                                                                 lw=2, label="E[estimator]")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        legend_above(ax, title=title)
        self.update(counts, edges, mean, exact, expected)

    def update(self, counts, edges, mean, exact=None, expected=None):
        self.stairs.set_data(counts, edges)
        self.mean.set_xdata([mean, mean])
        if self.exact is not None:
            self.exact.set_xdata([exact, exact])
        if self.expected is not None:
            self.expected.set_xdata([expected, expected])
        self.ax.set_xlim(edges[0], edges[-1])
        self.ax.set_ylim(0.0, 1.05 * max(float(np.max(counts)), 1.0))
        return self

    @property
    def artists(self) -> list:
        return [self.ax.xaxis, self.ax.yaxis, self.stairs, self.mean] + [a for a in (self.exact, self.expected)
                                                                         if a is not None]


def title_of(ax):
    """The Text of an Axes' title as `pgcourse.plots` placed it: the left title above a legend
    (`legend_above`), else the centred one; set its text to retitle the Axes without moving it."""
    left = ax._left_title  # matplotlib's Text for set_title(loc="left")
    return left if left.get_text() else ax.title


def suffix_text(text, s: str = "", gap_pt: float = 3.0):
    """A Text drawn right after `text` (e.g. a title) on its baseline, in its font and colour: the part of a
    title that changes, so that a move redraws a few characters, not the whole title (each glyph costs
    ~0.15 ms to rasterise at 2x pixels). Returns the Annotation; set_text it in the update, list it as moving."""
    return text.axes.annotate(s, xy=(1.0, 0.0), xycoords=text, xytext=(gap_pt, 0.0), textcoords="offset points",
                              ha="left", va="bottom", fontproperties=text.get_fontproperties(),
                              color=text.get_color())


def axis_label_apart(axis, widest: str = "0"):
    """Draw `axis`'s label as a Text of its own, where matplotlib puts it for tick labels as wide as `widest`
    (a y axis; an x axis's tick labels are one line tall), and empty the Axis's label: a moving Axis then
    redraws only its ticks (a 30-character label costs ~5 ms on every draw), and the label stays in the
    background. Call in the explorer's `draw`, after the label is set. Returns the Text."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path
    name = axis.axis_name
    rc = mpl.rcParams
    label = axis.label
    tick = FontProperties(size=rc[f"{name}tick.labelsize"])
    off = rc[f"{name}tick.major.size"] + rc[f"{name}tick.major.pad"] + rc["axes.labelpad"]
    kw = {"fontproperties": label.get_fontproperties(), "color": label.get_color(), "annotation_clip": False}
    if name == "x":
        h = text_to_path.get_text_width_height_descent("lp", tick, False)[1]
        out = axis.axes.annotate(label.get_text(), xy=(0.5, 0.0), xycoords="axes fraction", xytext=(0.0, -off - h),
                                 textcoords="offset points", ha="center", va="top", **kw)
    else:
        w = text_to_path.get_text_width_height_descent(widest, tick, False)[0]
        out = axis.axes.annotate(label.get_text(), xy=(0.0, 0.5), xycoords="axes fraction", xytext=(-off - w, 0.0),
                                 textcoords="offset points", ha="right", va="center", rotation=90, **kw)
    axis.set_label_text("")
    axis.set_label_coords(0.5, 0.5)  # an empty label placed by hand: the Axis does not measure its ticks for it
    return out


TICK_STEPS = (1, 2, 2.5, 5, 10)
"""Round tick steps (times a power of ten): matplotlib's default for a linear axis."""


def tick_limits(lo: float, hi: float, nbins: int = 4, per_tick: int = 1) -> tuple[float, float]:
    """[lo, hi] widened to multiples of 1/per_tick of the round tick step matplotlib's MaxNLocator(nbins,
    TICK_STEPS) picks for it: axis limits that follow the data in steps, so that they change on few moves of
    a control (an Axis redrawn only when they change: see CachedGroup), and the ticks fit them."""
    from matplotlib.ticker import MaxNLocator
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got lo={lo}, hi={hi}")
    ticks = MaxNLocator(nbins=nbins, steps=TICK_STEPS).tick_values(lo, hi)
    step = float(ticks[1] - ticks[0]) / per_tick
    return float(step * np.floor(lo / step + 1e-9)), float(step * np.ceil(hi / step - 1e-9))


class CachedGroup(mpl.artist.Artist):
    """Moving artists that change together, redrawn only when `key` changes: otherwise the pixels of their last
    draw are put back (a blit of one region, ~0.2 ms, instead of e.g. 11 cell texts, ~15 ms). E.g. a heatmap
    that only gamma moves, in an explorer whose N slider moves only a curve.

    members: the artists (they stay in their Axes; the group is not added to the figure: list the group in
    the explorer's `moving` in their place). cover: Axes (their bbox) or artists (their tight bbox) whose union
    holds every pixel the members draw (default: the members). Call `set_key(key)` in every update with what
    the members' look depends on (e.g. (gamma, vmax)); key None redraws every time. A full redraw of the
    figure (a new background) forgets the pixels.

    The pixels are copied right after the members are drawn on the background, so list groups FIRST in
    `moving`, and let no two groups' cover overlap (a later moving artist may draw over a group)."""

    def __init__(self, members, cover=None, pad: float = 2.0):
        super().__init__()
        self.members = list(members)
        self.cover = list(cover) if cover is not None else self.members
        self.pad, self.key = pad, None
        self._drawn = None  # (key, renderer, pixels)
        fig = self.members[0].figure
        while getattr(fig, "figure", fig) is not fig:  # a SubFigure's own figure (matplotlib < 3.10 has no root=)
            fig = fig.figure
        self.figure_of = fig
        self.figure_of.canvas.mpl_connect("draw_event", self._forget)  # the callbacks survive a canvas switch

    def _forget(self, _event=None):
        self._drawn = None

    def set_key(self, key) -> None:
        self.key = key

    def set_animated(self, b):
        super().set_animated(b)
        for a in self.members:
            a.set_animated(b)

    def region(self, renderer):
        """The display-pixel Bbox the members cover (padded, inside the figure)."""
        boxes = []
        for c in self.cover:
            if isinstance(c, mpl.axes.Axes):
                boxes.append(c.bbox)
            else:
                bb = c.get_tightbbox(renderer) if hasattr(c, "get_tightbbox") else None
                boxes.append(bb if bb is not None else c.get_window_extent(renderer))
        bb = mpl.transforms.Bbox.union([b for b in boxes if b is not None and b.width >= 0]).padded(self.pad)
        return mpl.transforms.Bbox.intersection(bb, self.figure_of.bbox)

    def draw(self, renderer):
        d = self._drawn
        if d is not None and self.key is not None and d[0] == self.key and d[1] is renderer:
            renderer.restore_region(d[2])
            return
        for a in self.members:
            a.draw(renderer)
        self._drawn = (self.key, renderer, renderer.copy_from_bbox(self.region(renderer)))


class KeyedCachedGroup(CachedGroup):
    """A CachedGroup that keeps the pixels of its last `maxkeys` keys, not only the last one: a control that
    goes back and forth (a toggle, a slider stepped back) finds its look drawn already. Same use as
    CachedGroup (list it first in `moving`, `set_key` in every update)."""

    def __init__(self, members, cover=None, pad: float = 2.0, maxkeys: int = 8):
        super().__init__(members, cover, pad)
        self.maxkeys = int(maxkeys)
        self._pixels: dict = {}  # key -> (renderer, pixels), oldest first

    def _forget(self, _event=None):
        super()._forget(_event)
        self._pixels = {}

    def draw(self, renderer):
        hit = self._pixels.get(self.key) if self.key is not None else None
        if hit is not None and hit[0] is renderer:
            renderer.restore_region(hit[1])
            return
        for a in self.members:
            a.draw(renderer)
        if self.key is not None:
            self._pixels.pop(self.key, None)
            self._pixels[self.key] = (renderer, renderer.copy_from_bbox(self.region(renderer)))
            while len(self._pixels) > self.maxkeys:
                self._pixels.pop(next(iter(self._pixels)))


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is >= x > 0: a colour or axis
    limit that follows the data in steps (at most a third above it), so it changes on few moves."""
    x = float(x)
    if not x > 0 or not np.isfinite(x):
        raise ValueError(f"x must be positive and finite, got {x}")
    e = 10.0 ** np.floor(np.log10(x))
    for m in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if m * e >= x * (1 - 1e-12):
            return float(round(m * e, 12))
    return float(10 * e)


class CachedCells(mpl.artist.Artist):
    """A `LiveHeatmap`'s moving artists (mesh, cell texts, arrows) as ONE moving artist that redraws only the
    texts of the cells whose text, text colour or cell colour changed since its last draw, and puts back the
    pixels of the others (a cell's text costs ~1 ms to rasterise at 2x; a small step of a control changes the
    printed digits of a few cells). List it in `moving` in place of `heat.artists` (the heatmap needs a fixed
    colorbar or none). Each cell's pixels are taken inside the cell, `pad` px off its edges, after the mesh
    and the text are drawn: the mesh is opaque and a cell's interior is its flat colour, so a put-back cell is
    the cell drawn again. A full redraw of the figure forgets them."""

    def __init__(self, heat: LiveHeatmap, pad: float = 2.0):
        super().__init__()
        if heat.colorbar is not None and not (heat.fixed[0] is not None and heat.fixed[1] is not None):
            raise ValueError("heat: CachedCells needs a heatmap with a fixed colour scale or without a colorbar")
        self.heat, self.pad = heat, pad
        self.members = [heat.im, *heat.texts] + ([heat.quiver] if heat.quiver is not None else [])
        self._cells: dict = {}  # text index -> (key, pixels)
        self._renderer = None
        self.set_figure(heat.ax.figure)  # not added to it: a CachedGroup of it finds the figure here
        heat.ax.figure.canvas.mpl_connect("draw_event", self._forget)

    def _forget(self, _event=None):
        self._cells = {}

    def set_animated(self, b):
        super().set_animated(b)
        for a in self.members:
            a.set_animated(b)

    def cell_box(self, s):
        """The display-pixel Bbox inside state s's cell (pad px off its edges)."""
        i, j = self.heat.mdp.cells[s]
        corners = self.heat.ax.transData.transform([(j - 0.5, i - 0.5), (j + 0.5, i + 0.5)])
        return mpl.transforms.Bbox.from_extents(*corners.min(axis=0), *corners.max(axis=0)).padded(-self.pad)

    def draw(self, renderer):
        heat = self.heat
        if renderer is not self._renderer:
            self._cells, self._renderer = {}, renderer
        heat.im.draw(renderer)
        faces = heat.im.get_facecolor()  # (rows * cols, 4), row-major: the colours just drawn
        cols = heat.mdp.shape[1]
        for k, ((s, _tag), t) in enumerate(zip(heat.cells, heat.texts, strict=True)):
            i, j = heat.mdp.cells[s]
            key = (t.get_text(), mpl.colors.to_rgba(t.get_color()), tuple(faces[i * cols + j]))
            cached = self._cells.get(k)
            if cached is not None and cached[0] == key:
                renderer.restore_region(cached[1])
            else:
                t.draw(renderer)
                self._cells[k] = (key, renderer.copy_from_bbox(self.cell_box(s)))
        if heat.quiver is not None:
            heat.quiver.draw(renderer)  # over the cells: the arrows are not in their pixels
