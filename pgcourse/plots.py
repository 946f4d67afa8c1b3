"""The course's figures: drawing only (every number drawn is computed by the caller with `pgcourse`). Each
function draws onto a given Axes (or Figure) and returns it, so the notebooks and the explorers in
`pgcourse.widgets` share them.

One course style (`style()`, or `styled()` as a context; the explorers use it):
- figures are shown at their size, figsize * CSS_DPI CSS px, rendered with PIXEL_RATIO x pixels (crisp on
  HiDPI screens); `show(fig, alt)` displays a figure that way with its one-line description (alt text);
- text >= 10 CSS px (9 pt at 80 CSS px per inch, for tick labels and legends; 10 pt elsewhere);
- the Okabe-Ito colour-blind-safe palette, and every series told apart by line style or marker as well as
  colour (`SERIES`; the roles EXACT, SAMPLED, EXPECTED keep one look across the course);
- legends above the axes, off the data (`legend_above`); titles name what the legend names, not colours;
- a colorbar on every heatmap, cell text black or white by the cell's luminance, terminal cells drawn apart
  (hatched grey, labelled) so that they never take the colour of the best or worst cells.
"""
from __future__ import annotations

import base64
import io
import struct
import zlib
from contextlib import contextmanager

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.ticker import FuncFormatter, NullLocator

CSS_DPI = 80
"""CSS px per inch of figure: a figure of width w inches is shown w * CSS_DPI px wide (9 in -> 720 px)."""
PIXEL_RATIO = 2
"""Pixels rendered per CSS px (2 = crisp on HiDPI screens and when zoomed to 200 %)."""

OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
             "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000"}
"""Okabe & Ito's palette, distinguishable with every common colour-vision deficiency."""

SERIES = [
    {"color": OKABE_ITO["blue"], "ls": "-", "marker": "o"},
    {"color": OKABE_ITO["orange"], "ls": "--", "marker": "s"},
    {"color": OKABE_ITO["green"], "ls": "-.", "marker": "^"},
    {"color": OKABE_ITO["vermillion"], "ls": ":", "marker": "D"},
    {"color": OKABE_ITO["purple"], "ls": (0, (5, 1, 1, 1, 1, 1)), "marker": "v"},
    {"color": OKABE_ITO["sky"], "ls": (0, (1, 1)), "marker": "P"},
]
"""The n-th series of a figure: colour, line style and marker all differ, so no meaning rests on hue."""

EXACT = {"color": OKABE_ITO["black"], "ls": "--"}
"""An exact value (a reference): black, dashed."""
SAMPLED = {"color": OKABE_ITO["blue"], "marker": "o"}
"""A sampled estimate: blue circles (with error bars where there is an s.e.)."""
EXPECTED = {"color": OKABE_ITO["vermillion"], "marker": "D"}
"""The exact expectation of an estimator (differs from the exact value when the estimator is biased)."""

TERMINAL_NAMES = {"H": "pit", "G": "goal"}

STYLE = {
    "figure.dpi": CSS_DPI,
    "savefig.dpi": CSS_DPI * PIXEL_RATIO,
    "figure.constrained_layout.use": True,
    "font.size": 10.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 10.0,
    "xtick.labelsize": 9.0,
    "ytick.labelsize": 9.0,
    "legend.fontsize": 9.0,
    "legend.frameon": False,
    "axes.prop_cycle": cycler(color=[s["color"] for s in SERIES]) + cycler(linestyle=[s["ls"] for s in SERIES]),
    "image.cmap": "viridis",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "errorbar.capsize": 2.0,
}
"""The course's matplotlib settings (rcParams)."""


def style() -> None:
    """Use the course style for every figure from now on (a notebook's first cell calls this)."""
    mpl.rcParams.update(STYLE)


@contextmanager
def styled():
    """The course style for the figures drawn and saved inside the `with` block only."""
    with mpl.rc_context(STYLE):
        yield


# ---- showing a figure ------------------------------------------------------------------------------------

def png_bytes(fig) -> bytes:
    """The figure as a PNG with PIXEL_RATIO x pixels for its CSS size (fast zlib level, no timestamp)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CSS_DPI * PIXEL_RATIO, metadata={"Software": None},
                pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def png_rgba(rgba) -> bytes:
    """An (H, W, 4) uint8 RGBA buffer (canvas.buffer_rgba()) as a PNG encoded for speed (no row filter, zlib
    level 1: ~2x faster than PIL; a live explorer's redraw. The copy stored in a notebook: `compact_png`)."""
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] != 4 or a.dtype != np.uint8:
        raise ValueError(f"rgba must be an (H, W, 4) uint8 array, got {a.shape} {a.dtype}")
    h, w, _ = a.shape
    raw = np.empty((h, 4 * w + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter type None on every row
    raw[:, 1:] = a.reshape(h, 4 * w)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.data, 1))
            + chunk(b"IEND", b""))


def img_html(png: bytes, css_size: tuple[int, int], alt: str, cls: str = "pg-figure", data: str = "") -> str:
    """<img> of a PNG (embedded as a data URI) at its CSS size, with alt text (and data: extra attributes)."""
    import html
    w, h = css_size
    b64 = base64.b64encode(png).decode("ascii")
    return (f"<img class='{cls}' src='data:image/png;base64,{b64}' width='{w}' height='{h}'"
            f" alt='{html.escape(alt, quote=True)}'{data}>")


def compact_png(png: bytes) -> bytes:
    """The same image as a 256-colour palette PNG, about 4x smaller: for figures stored in a notebook (a live
    explorer's redraws skip this step to stay fast)."""
    from PIL import Image
    img = Image.open(io.BytesIO(png)).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    img.save(buf, format="png", compress_level=9)
    return buf.getvalue()


class FigureOutput:
    """A rendered figure for IPython's display, one output: text/html, an <img> of the PNG (2x pixels) at its
    CSS size with alt text (what JupyterLab and a static site show); image/png with width, height and alt in
    its metadata (for tools that take images); text/plain, the alt text (what nbval compares; image bytes are
    not compared, and tests/nbval_sanitize.cfg blanks the data URI inside the HTML)."""

    def __init__(self, png: bytes, css_size: tuple[int, int], alt: str):
        self.png, self.css_size, self.alt = png, css_size, str(alt)

    def _repr_mimebundle_(self, include=None, exclude=None):
        w, h = self.css_size
        data = {"text/html": img_html(self.png, self.css_size, self.alt),
                "image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": f"[figure: {self.alt}]"}
        return data, {"image/png": {"width": w, "height": h, "alt": self.alt}}


def css_size(fig) -> tuple[int, int]:
    """(width, height) of a figure on the page, CSS px."""
    w, h = fig.get_size_inches()
    return round(w * CSS_DPI), round(h * CSS_DPI)


def show(fig, alt: str) -> None:
    """Display a matplotlib figure crisply at its CSS size with a one-line description `alt`, and close it:
    the one way the notebooks show a figure."""
    from IPython.display import display
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must be a one-line description of the figure")
    out = FigureOutput(compact_png(png_bytes(fig)), css_size(fig), alt)
    import matplotlib.pyplot as plt
    plt.close(fig)
    display(out)


# ---- shared pieces ---------------------------------------------------------------------------------------

def series(i: int) -> dict:
    """Style of the i-th series (colour, line style, marker), cycling through SERIES."""
    return dict(SERIES[i % len(SERIES)])


def _width_chars(ax) -> int:
    """About how many 9 pt legend characters fit across the axes' slot of the figure."""
    fig_w = ax.figure.get_size_inches()[0] * 72.0
    spec = ax.get_subplotspec()
    frac = 1.0
    if spec is not None:
        gs = spec.get_gridspec()
        ratios = np.asarray(gs.get_width_ratios() or [1.0] * gs.ncols, dtype=float)
        frac = ratios[spec.colspan].sum() / ratios.sum()
    return int(fig_w * frac / 5.3) - 12


def legend_above(ax, ncols: int | None = None, title: str | None = None, width: int | None = None, **kw):
    """A legend in rows above the axes (off the data), with the axes title above it. ncols: entries per row;
    by default as many (up to 3) as fit in `width` characters (default: what the axes' slot holds)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        axes_title(ax, title)
        return None
    n = len(handles)
    width = width or _width_chars(ax)
    if ncols is None:
        ncols = 1
        for k in (3, 2):
            rows = [labels[i:i + k] for i in range(0, n, k)]
            if k <= n and all(sum(len(t) + 6 for t in r) <= width for r in rows):
                ncols = k
                break
    rows = -(-n // ncols)
    leg = ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncols=ncols, borderaxespad=0.0,
                    handlelength=2.2, columnspacing=1.0, handletextpad=0.5, **kw)
    if title:
        ax.set_title(title, pad=6 + 14.0 * rows, y=1.0, loc="left")
    return leg


def axes_title(ax, title):
    if title:
        ax.set_title(title, y=1.0)  # an explicit y skips matplotlib's costly automatic title placement


def text_color(rgba) -> str:
    """Black or white, whichever contrasts more with a cell of colour rgba (WCAG relative luminance)."""
    c = np.asarray(rgba[:3], dtype=float)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lum = float(lin @ [0.2126, 0.7152, 0.0722])
    return "k" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "w"


# ---- gridworld heatmaps ----------------------------------------------------------------------------------

def grid_heatmap(ax, mdp, values, title=None, fmt="{:.2f}", cmap="viridis", vmin=None, vmax=None, colorbar=True,
                 label=None, text_dy=0.0):
    """Draw (S,) values of a GridMDP on its grid, one number per cell in black or white by contrast, with a
    colorbar (label: what the colours mean). Terminal cells are hatched grey and labelled (pit, goal), outside
    the colour scale, which spans the non-terminal cells (or vmin..vmax). Returns the image."""
    values = np.asarray(values, dtype=float)
    live = ~mdp.terminal
    shown = np.where(live, values, np.nan)
    g = mdp.to_grid(np.where(live, values, 0.0))
    g[mdp.to_grid(mdp.terminal.astype(float)) == 1.0] = np.nan  # terminal cells: outside the colour scale
    lo = float(np.nanmin(shown)) if vmin is None else vmin
    hi = float(np.nanmax(shown)) if vmax is None else vmax
    if hi <= lo:
        hi = lo + 1e-9
    cm = mpl.colormaps[cmap].with_extremes(bad="0.85")
    norm = mpl.colors.Normalize(lo, hi)
    im = ax.imshow(g, cmap=cm, norm=norm)
    for s, (i, j) in enumerate(mdp.cells):
        ch = mdp.layout[i][j]
        if mdp.terminal[s]:
            ax.add_patch(mpl.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//", lw=0,
                                               edgecolor="0.55"))
            ax.text(j, i, TERMINAL_NAMES.get(ch, ch), ha="center", va="center", color="k", fontsize=9)
            continue
        tag = "" if ch in ".F" else f" {ch}"
        ax.text(j, i + text_dy, fmt.format(values[s]) + tag, ha="center", va="center", fontsize=9,
                color=text_color(cm(norm(values[s]))))
    ax.set_xticks(range(mdp.shape[1]))
    ax.set_yticks(range(mdp.shape[0]))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if colorbar:
        cb = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        if label:
            cb.set_label(label)
    axes_title(ax, title)
    return im


ARROWS = {0: (-1.0, 0.0), 1: (0.0, 1.0), 2: (1.0, 0.0), 3: (0.0, -1.0)}  # grid action -> (dx, drow)


def policy_arrows(ax, mdp, pi, colors=None, scale=0.38):
    """Draw a grid policy pi (S, 4) as arrows from each non-terminal cell's centre, length proportional to
    pi(a|s) (actions left, down, right, up). colors: one colour per state (default black)."""
    pi = np.asarray(pi, dtype=float)
    x, y, u, v, c = [], [], [], [], []
    for s, (i, j) in enumerate(mdp.cells):
        if mdp.terminal[s]:
            continue
        for a, (dx, dy) in ARROWS.items():
            if pi[s, a] > 0.05:
                x.append(j)
                y.append(i + 0.12)
                u.append(dx * scale * pi[s, a])
                v.append(dy * scale * pi[s, a])
                c.append("k" if colors is None else colors[s])
    ax.quiver(x, y, u, v, angles="xy", scale_units="xy", scale=1.0, color=c, width=0.012)
    return ax


def value_policy_heatmap(ax, mdp, V, pi, title="V and the policy", colorbar=True):
    """V (S,) of a GridMDP as a heatmap (numbers at the cell top, colorbar "V(s)") with the policy pi (S, 4)
    as arrows, each in black or white by contrast with its cell."""
    im = grid_heatmap(ax, mdp, V, title=title, colorbar=colorbar, label="V(s)", text_dy=-0.3)
    cm, norm = im.get_cmap(), im.norm
    colors = [text_color(cm(norm(v))) for v in np.asarray(V, dtype=float)]
    policy_arrows(ax, mdp, pi, colors=colors)
    return im


def visitation_pair(fig, mdp, d_exact, d_sampled, n_episodes, gridspec_kw=None):
    """Two heatmaps side by side on a GridMDP, on one colour scale with one colorbar: exact d^pi and the
    sampled discounted visitation frequencies. Returns the two Axes."""
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw=gridspec_kw)
    vmax = float(max(np.max(d_exact), np.max(d_sampled)))
    im = grid_heatmap(ax1, mdp, d_exact, fmt="{:.3f}", vmin=0, vmax=vmax, colorbar=False, title="exact $d^\\pi$")
    grid_heatmap(ax2, mdp, d_sampled, fmt="{:.3f}", vmin=0, vmax=vmax, colorbar=False,
                 title=f"sampled frequencies, N = {n_episodes}")
    ax2.set_ylabel("")
    cb = fig.colorbar(im, ax=[ax1, ax2], fraction=0.03, pad=0.02)
    cb.set_label("discounted state frequency")
    return ax1, ax2


# ---- gradients -------------------------------------------------------------------------------------------

def gradient_bars(ax, exact, sampled, se=None, labels=None, title="gradient components"):
    """Grouped bars per component: the exact gradient (dark grey) beside the sampled estimate (blue, hatched,
    +- 1.96 se error bars)."""
    exact = np.ravel(exact)
    sampled = np.ravel(sampled)
    x = np.arange(exact.size)
    ax.bar(x - 0.2, exact, width=0.4, label="exact grad U", color="0.35")
    ax.bar(x + 0.2, sampled, width=0.4, label="sampled, +- 1.96 s.e.", color=OKABE_ITO["sky"], hatch="///",
           edgecolor=OKABE_ITO["blue"], lw=0, yerr=None if se is None else 1.96 * np.ravel(se))
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(x)
    ax.set_xticklabels(labels if labels is not None else [str(i) for i in x])
    ax.set_xlabel("component of theta (state, action)")
    ax.set_ylabel("dU / dtheta")
    legend_above(ax, title=title)
    return ax


def gradient_components(ax, exact, sampled_mean=None, sampled_se=None, labels=None, title=None,
                        expected=None, legend=True):
    """Gradient components (K,): the exact gradient (grey bars), optionally the exact expectation of an
    estimator (`expected`, diamonds: differs from the gradient when the estimator is biased) and a sampled mean
    with +-2 standard errors (circles with error bars). labels: K tick labels."""
    exact = np.asarray(exact, dtype=float).ravel()
    k = np.arange(exact.size)
    # bars drawn as one LineCollection of thick vertical lines: ~K times cheaper to redraw than K bar patches
    ax.vlines(k, 0.0, exact, colors="0.72", lw=min(18.0, 220.0 / max(exact.size, 1)), label="exact grad U")
    if expected is not None:
        ax.plot(k, np.asarray(expected, dtype=float).ravel(), ls="none", ms=6, label="E[estimator] (exact)",
                **EXPECTED)
    if sampled_mean is not None:
        se = np.zeros_like(exact) if sampled_se is None else np.asarray(sampled_se, dtype=float).ravel()
        ax.errorbar(k, np.asarray(sampled_mean, dtype=float).ravel(), yerr=2 * se, ls="none", ms=4,
                    label="sampled mean +- 2 s.e.", **SAMPLED)
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xticks(k)
    if labels is not None:
        ax.set_xticklabels(labels, rotation=90 if len(labels) > 8 else 0)
    ax.set_xlabel("gradient component (s, a)")
    ax.set_ylabel("dU / dtheta")
    if legend:
        legend_above(ax, title=title)
    else:
        axes_title(ax, title)
    return ax


def gradient_markers(ax, grads: dict, title="gradient components"):
    """Flattened gradients {label: array} as markers, one column per component: the first (the reference) as
    wide black dashes, the others as distinct markers. Cheap to render, so a slider stays fast."""
    labels = list(grads)
    K = np.ravel(grads[labels[0]]).size
    x = np.arange(K)
    ax.plot(x, np.ravel(grads[labels[0]]), "_", color="k", ms=14, mew=2, label=labels[0])
    for i, lab in enumerate(labels[1:]):
        st = series(i)
        ax.plot(x, np.ravel(grads[lab]), ls="none", marker="ox+"[i % 3], color=st["color"], ms=6, mew=1.5, label=lab)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("component of theta (s, a), flattened")
    ax.set_ylabel("dU / dtheta")
    ax.locator_params(nbins=5)
    legend_above(ax, title=title)
    return ax


def component_scatter(ax, exact, estimates: dict, title="estimate vs exact, per component"):
    """Scatter of each estimate's components against the exact gradient's, with the line y = x."""
    x = np.ravel(exact)
    lo, hi = x.min(), x.max()
    for i, (lab, g) in enumerate(estimates.items()):
        y = np.ravel(g)
        lo, hi = min(lo, y.min()), max(hi, y.max())
        st = series(i)
        ax.plot(x, y, ls="none", marker=st["marker"], color=st["color"], ms=4, alpha=0.85, label=lab)
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, label="y = x (exact)")
    ax.set_xlabel("exact grad U component")
    ax.set_ylabel("estimated component")
    ax.locator_params(nbins=4)
    legend_above(ax, title=title)
    return ax


# ---- values and returns ----------------------------------------------------------------------------------

def corridor_values(ax, p, v, p_star, v_star, sampled=None):
    """The short corridor's v(start) against p = Pr(right): exact curve, the optimum (p*, v*), and optional
    sampled points sampled = (p_values, means, standard errors)."""
    ax.plot(p, v, color="k", label="exact $v(s_0)$")
    ax.plot([p_star], [v_star], ls="none", marker="*", ms=12, color=OKABE_ITO["vermillion"],
            label=f"optimum p = {p_star:.3f}, v = {v_star:.3f}")
    if sampled is not None:
        ps, ms, ses = sampled
        ax.errorbar(ps, ms, yerr=1.96 * np.asarray(ses), ls="none", ms=5, label="sampled mean return +- 1.96 s.e.",
                    **SAMPLED)
    ax.set_xlabel("p = probability of 'right'")
    ax.set_ylabel("value of the start state")
    legend_above(ax, title="short corridor (Sutton & Barto, Example 13.1)")
    return ax


def running_mean(ax, n, mean, se, exact, label="sampled mean", ylabel="return", title=None):
    """A running mean m_n of n samples with a +- 1.96 se band (pg.running_mean_se gives n, mean, se) beside the
    exact value (dashed horizontal line); log-scale n."""
    ax.plot(n, mean, color=OKABE_ITO["blue"], label=label + " +- 1.96 s.e.")
    ax.fill_between(n, mean - 1.96 * se, mean + 1.96 * se, color=OKABE_ITO["sky"], alpha=0.35, lw=0)
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks and mathtext labels are slow to draw
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
    ax.axhline(exact, lw=1.4, label="exact", **EXACT)
    ax.set_xlabel("number of episodes")
    ax.set_ylabel(ylabel)
    legend_above(ax, title=title)
    return ax


# ---- distributions of estimates ----------------------------------------------------------------------------

def estimate_histogram(ax, samples, exact=None, expected=None, bins=60, title=None, xlabel="per-sample estimate",
                       clip=(0.5, 99.5), legend=True):
    """Histogram of per-sample (per-episode) estimates of one number, with the sampled mean (solid), the exact
    value (dashed black) and (if given) the exact expectation of the estimator (dotted) as vertical lines. The x
    range is clipped to the `clip` percentiles so that a heavy tail does not squash the picture."""
    x = np.asarray(samples, dtype=float).ravel()
    lo, hi = np.percentile(x, clip)
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
    ax.stairs(counts, edges, fill=True, color=OKABE_ITO["sky"], alpha=0.6)  # one artist: faster than bars
    ax.axvline(x.mean(), color=OKABE_ITO["blue"], lw=2, label=f"sampled mean {x.mean():.3f}")
    if exact is not None:
        ax.axvline(exact, lw=1.5, label=f"exact {exact:.3f}", **EXACT)
    if expected is not None:
        ax.axvline(expected, color=OKABE_ITO["vermillion"], ls=":", lw=2, label=f"E[estimator] {expected:.3f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    if legend:
        legend_above(ax, title=title)
    else:
        axes_title(ax, title)
    return ax


def variance_vs_sigma(ax, sigmas, var_plain, var_centred, sigma=None, sampled=None):
    """Exact variance of one score-function estimate against sigma on log-log axes: b = 0 (solid) and b = U
    (dashed), with the current sigma and its sampled variance marked. Drawn as log10 values on linear axes
    with a few fixed ticks (log axes cost ~50 ms more per redraw)."""
    lsig = np.log10(np.asarray(sigmas, dtype=float))
    ax.plot(lsig, np.log10(var_plain), "k-", lw=1.4, label="exact, b = 0")
    ax.plot(lsig, np.log10(var_centred), "k--", lw=1.4, label="exact, b = U")
    if sigma is not None:
        ax.axvline(np.log10(sigma), color=OKABE_ITO["blue"], lw=0.6)
        if sampled is not None:
            ax.plot([np.log10(sigma)], [np.log10(sampled)], ls="none", ms=7, label="sampled", **SAMPLED)
    ax.set_xticks(np.log10([0.02, 0.1, 0.5, 2.0]), ["0.02", "0.1", "0.5", "2"])
    ax.set_yticks(np.arange(0, 5), ["1", "10", "100", "1e3", "1e4"])
    ax.set_xlabel("sigma (log scale)")
    ax.set_ylabel("Var of one estimate (log scale)")
    legend_above(ax, title="variance of one estimate")
    return ax


def pair_scatter(ax, exact_A, sampled, se, exact_hat=None, title=None):
    """Per-(s, a) sampled means (with +-2 s.e. bars) against the exact advantage A; optional exact
    E[delta | s, a] of a wrong critic as crosses. All inputs (S, A) or flat arrays of the same size."""
    x, y, e = np.ravel(exact_A), np.ravel(sampled), np.ravel(se)
    lo, hi = float(np.nanmin([x.min(), np.nanmin(y)])), float(np.nanmax([x.max(), np.nanmax(y)]))
    if exact_hat is not None:
        h = np.ravel(exact_hat)
        lo, hi = min(lo, float(h.min())), max(hi, float(h.max()))
    pad = 0.05 * (hi - lo + 1e-9)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.55", lw=1, label="y = A (unbiased)")
    if exact_hat is not None:
        ax.plot(x, h, ls="none", marker="x", ms=7, mew=1.5, color=OKABE_ITO["vermillion"],
                label="exact E[delta | s, a], this critic")
    ax.errorbar(x, y, yerr=2 * np.nan_to_num(e), ls="none", ms=4, label="sampled mean +- 2 s.e.", **SAMPLED)
    ax.set_xlabel("exact advantage A(s, a)")
    ax.set_ylabel("E[delta | s, a]")
    ax.locator_params(nbins=5)
    legend_above(ax, title=title)
    return ax


# ---- curves ----------------------------------------------------------------------------------------------

def learning_curves(ax, curves, x=None, xlabel="iteration", title=None, optimum=None, ylabel="exact U(theta_k)",
                    first_color=0, legend=True):
    """Learning curves: curves {label: (n_iters + 1,) or (n_runs, n_iters + 1) array of exact U}. Several runs
    are drawn faintly with their mean bold. x: {label: x values} or one array for all (default: iterations).
    Series styles SERIES[first_color], SERIES[first_color + 1], ... in the order of `curves`; optimum: U*,
    a dotted black line."""
    for i, (label, U) in enumerate(curves.items()):
        U = np.atleast_2d(np.asarray(U, dtype=float))
        xs = (x.get(label) if isinstance(x, dict) else x)
        xs = np.arange(U.shape[1]) if xs is None else np.asarray(xs)
        st = series(first_color + i)
        if U.shape[0] > 1:
            for u in U:
                ax.plot(xs, u, color=st["color"], ls="-", lw=0.6, alpha=0.35)
        ax.plot(xs, U.mean(axis=0), color=st["color"], ls=st["ls"], lw=2,
                label=label + (f" (mean of {U.shape[0]})" if U.shape[0] > 1 else ""))
    if optimum is not None:
        ax.axhline(optimum, color="k", ls=":", lw=1.2, label="optimal U*")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        legend_above(ax, title=title)
    else:
        axes_title(ax, title)
    return ax


def td_convergence(ax, errors: dict, title="TD(0): critic error vs sweeps"):
    """errors {label: (n_sweeps + 1,) max-norm error |V_k - V|}; log scale."""
    for i, (lab, err) in enumerate(errors.items()):
        st = series(i)
        ax.semilogy(np.arange(len(err)), err, color=st["color"], ls=st["ls"], label=lab)
    ax.set_xlabel("TD(0) sweep over the batch")
    ax.set_ylabel("max_s |V_k(s) - V(s)|")
    legend_above(ax, title=title)
    return ax


def suboptimality(ax, curves: dict, U_star, title="sub-optimality U* - U(theta_k)"):
    """curves {label: (n_iters + 1,) exact U}: U* - U on a log scale."""
    for i, (lab, U) in enumerate(curves.items()):
        st = series(i)
        ax.semilogy(np.arange(len(U)), np.maximum(U_star - np.asarray(U), 1e-16), color=st["color"], ls=st["ls"],
                    label=lab)
    ax.set_xlabel("iteration k")
    ax.set_ylabel("U* - U(theta_k)")
    legend_above(ax, title=title)
    return ax


def bias_variance(ax, lams, bias2, var, current=None, title="bias-variance trade-off"):
    """Exact bias^2, measured variance and their sum (MSE) against lambda; current = (lam, bias2, var) marked."""
    lams, bias2, var = (np.asarray(x, dtype=float) for x in (lams, bias2, var))
    for i, (y, lab) in enumerate([(bias2, "bias^2 (exact)"), (var, "variance (measured)")]):
        st = series(i)
        ax.plot(lams, y, color=st["color"], ls=st["ls"], marker=st["marker"], ms=4, label=lab)
    ax.plot(lams, bias2 + var, color="k", ls="-", marker="^", ms=4, label="MSE = bias^2 + variance")
    if current is not None:
        lam, b, v = current
        ax.axvline(lam, color="0.6", ls=":")
        ax.plot([lam], [b + v], ls="none", marker="*", ms=12, color=OKABE_ITO["vermillion"],
                label=f"MSE at lambda = {lam:.2f}")
    ax.set_xlabel("lambda (0 = TD, 1 = Monte Carlo)")
    ax.set_ylabel("squared error of the gradient")
    ax.locator_params(nbins=5)
    legend_above(ax, title=title)
    return ax


def cosine_vs_n(ax, scores, highlight=None, current=None, title="cosine(estimate, exact grad U)"):
    """scores: pg.EstimatorScores (pg.score_estimator); mean cosine similarity vs batch size n (log x); the
    highlighted estimator drawn thick."""
    ns = []
    for i, sc in enumerate(scores):
        ns = sorted(sc.cosine)
        st = series(i)
        lw = 3.0 if sc.name == highlight else 1.2
        ax.semilogx(ns, [sc.cosine[n] for n in ns], color=st["color"], ls=st["ls"], marker=st["marker"], ms=4,
                    lw=lw, label=sc.name + (" (chosen)" if sc.name == highlight else ""))
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.locator_params(axis="y", nbins=5)
    if current is not None:
        ax.axvline(current, color="0.6", ls=":")
    ax.set_xlabel("episodes per estimate n")
    ax.set_ylabel("mean cosine similarity")
    ax.set_ylim(None, 1.02)
    legend_above(ax, title=title)
    return ax


def bars(ax, values: dict, ylabel: str, title=None):
    """One bar per named value (each with its own colour and hatch), labelled under the bar."""
    names = list(values)
    hatches = ["", "//", "\\\\", "xx", "..", "--"]
    for i, name in enumerate(names):
        ax.bar(i, values[name], color=series(i)["color"], hatch=hatches[i % len(hatches)], edgecolor="k", lw=0.6)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel(ylabel)
    axes_title(ax, title)
    return ax
