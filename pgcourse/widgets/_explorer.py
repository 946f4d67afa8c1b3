"""The machinery every notebook explorer shares: `Explorer`, the registry, the control, layout and cache
helpers, `Precomputed` (values computed ahead in the background). No course math lives here (or anywhere in
`pgcourse.widgets`): the numbers come from `pgcourse`'s core (`pg.evaluate`, `pg.analysis`, ...), the figures
from `pgcourse.plots` and its retained twins in `widgets/_live.py`.

Writing an explorer (one module per notebook, e.g. `widgets/td.py`). An update must reach the browser within
~150 ms, so the figure is built once and moved in place::

    import pgcourse as pg
    from . import _live
    from ._explorer import Explorer, axes, cached, register, slider

    @register("06_td_actor_critic")            # the notebook's file stem: benchmarks and tests find it here
    def td_critic_explorer(critic_error=0.5) -> Explorer:
        ...                                    # precompute what every refresh needs

        @cached                                # the numbers, once per parameter value
        def compute(critic_error):
            return {"mean": ..., "se": ...}    # from pgcourse: pg.per_pair_means, pg.td_errors, ...

        def draw(fig, r):                      # ONCE: every artist, axis limits that hold over the controls
            ax1, ax2 = axes(fig, 2)
            bars = _live.LiveErrorbar(ax1, x, r["mean"], r["se"], **pgp.SAMPLED)

            def update(r):                     # every refresh: move the artists, return the summary text
                bars.update(x, r["mean"], r["se"])
                return "exact  E[delta | s, a] = ...\nsampled ..."   # the notebook's notation, fixed columns
            return update, [*bars.artists, ax2.yaxis]   # what update changes (redrawn on a cached background)

        def controls():                        # built only when a live widget is asked for
            return {"critic_error": slider("critic error", critic_error, 0.0, 2.0, 0.1)}

        return Explorer(compute, {"critic_error": critic_error}, controls, title="...", draw=draw,
                        alt=lambda p: f"... critic error {p['critic_error']:.2f} ...")

(Without `draw`, `compute(fig, **params)` draws the whole figure into the cleared figure and returns the text:
simple, and fine for a figure that is cheap to draw.) Axis limits that change make the Axis a moving artist
(its ticks are redrawn) and every data artist of that Axes too; a legend whose texts change is moving.

In a notebook one cell shows it, once::

    ex = pgw.td_critic_explorer()
    ex                                         # (or display(ex)); nothing else

How an explorer appears ONCE, live or stored
--------------------------------------------
Displaying an `Explorer` calls `_repr_mimebundle_`, which returns ONE output holding several
representations of the same thing:

* `application/vnd.jupyter.widget-view+json`: the live widget (controls, summary, figure). A frontend with a
  widget manager (JupyterLab, Notebook 7, Voila) renders this one and nothing else.
* `text/html`: the default state as `<pre class="pg-summary">` (the summary, monospace, columns kept) and
  `<img class="pg-figure" alt="...">` (the figure, PNG with 2x pixels, shown at its CSS size). Where no widget
  manager is available (a static site, nbconvert, GitHub) this is shown, and so is it when JupyterLab opens
  the stored notebook (not trusted yet: Lab then prefers a safe renderer to the widget view) until the cell
  runs.
* `text/plain`: the summary and the figure's alt text. nbval compares this one (the widget view and images
  are not compared; the base64 image inside the HTML is sanitised by tests/nbval_sanitize.cfg).
* `image/png` with metadata width/height (CSS px) and alt: the figure alone, for tools that take images.

So a notebook cell that ends with the explorer stores the default state's text and figure (what nbval
checks) and, in a live session, the same output is the live widget. No second "static" cell.

`Explorer.refresh(**params)` is the one function a control calls: it recomputes, redraws and renders the
PNG. Benchmarks and the browser test time it through the registry `EXPLORERS` {notebook: factory}. In the
browser the controls are a box with class `pg-controls`, and the summary `<pre class="pg-summary">` and the
figure `<img class="pg-figure" alt=...>` are one HTML widget (class `pg-output`): an update is one message.
"""
from __future__ import annotations

import base64
import functools
import html
import os
import time
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from .. import plots as pgp

EXPLORERS: dict[str, Callable[[], Explorer]] = {}

_ACTIVITY = {"updating": 0, "last": 0.0}
"""Explorer updates in progress and when the last one ended (time.monotonic): `Precomputed` works in between."""
IDLE_S = 0.3
"""`Precomputed` starts a key only when no explorer has updated for this long: it works while the student
reads, and never slows a move (a thread computing numbers beside an update would hold the GIL half the time)."""


def register(name: str):
    """Decorator: record a no-argument explorer factory for notebook `name` (its file stem, e.g.
    "01_objective_and_dpi"). `EXPLORERS[name]()` builds the notebook's default explorer."""
    def deco(factory):
        EXPLORERS[name] = factory
        return factory
    return deco


class Explorer:
    """An interactive figure + summary, in one of two forms.

    Retained (fast; every course explorer): `compute(**params) -> numbers` returns what is drawn and printed
    (anything: a dict, a namedtuple; computed by pgcourse, cached per parameter value), and
    `draw(fig, numbers) -> (update, moving)` builds the figure ONCE: every artist, with axis limits that hold
    over the controls' whole range. `update(numbers) -> str` moves the artists in place (Line2D.set_data,
    Rectangle.set_height, AxesImage.set_data, Text.set_text, ...) and returns the plain-text summary;
    `moving` lists the artists `update` changes (an Axes there is redrawn whole: its ticks may change). The
    rest of the figure is rendered once and kept as a background, so a refresh draws only `moving` on it.

    Redrawn (simple; tests and one-off figures): no `draw`, and `compute(fig, **params) -> str` draws into the
    cleared figure and returns the summary; every refresh redraws everything.

    The summary: exact and sampled numbers, rounded so they print the same every run, in the notebook's
    notation. defaults: {param: value}, the state shown when the explorer is first displayed (and stored).
    make_controls: () -> {param: ipywidgets control}, called only when a live widget is built.
    figsize: inches; the figure is shown at figsize * plots.CSS_DPI CSS px with plots.PIXEL_RATIO x pixels.
    title: a heading shown above the controls.
    alt: the figure's one-line description, a string or a function of the params dict.
    data: a dict for anything a notebook wants to reuse (precomputed arrays).
    timings: seconds spent in the last refresh's phases numbers, artists, draw, png (and html, in
    `update_html`).
    """

    def __init__(self, compute: Callable[..., Any], defaults: dict, make_controls: Callable[[], dict] | None = None,
                 figsize=(9.0, 4.0), title: str | None = None, alt: str | Callable[[dict], str] | None = None,
                 draw: Callable | None = None):
        self.compute = compute
        self.draw = draw
        self.defaults = dict(defaults)
        self.params = dict(defaults)
        self.make_controls = make_controls
        self.title = title
        self.alt = alt
        with mpl.rc_context({"figure.constrained_layout.use": False, "figure.autolayout": False}):
            # no layout engine (pgp.style() may set one); rendered at its pixel size: no dpi switch on save
            self.fig = Figure(figsize=figsize, dpi=pgp.CSS_DPI * pgp.PIXEL_RATIO)
        self._positions = None  # the axes' positions, laid out once at the first refresh
        self._update = None     # retained form: the view's update function, its moving artists, the background
        self._moving: list = []
        self._background = None
        self._canvas = None
        self.text = ""
        self.png = b""
        self.data: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self._box = None

    # -- the computation --------------------------------------------------------------------------------
    def refresh(self, **params) -> str:
        """One update: recompute with `params` (merged into the current ones), redraw, render to PNG."""
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"unknown parameter(s) {sorted(unknown)}; this explorer takes {sorted(self.defaults)}")
        self.params.update(params)
        T = self.timings = {}
        _ACTIVITY["updating"] += 1
        try:
            t = time.perf_counter()
            if self.draw is None:
                self._refresh_redrawn(T, t)
            else:
                self._refresh_retained(T, t)
            t = time.perf_counter()
            self.png = pgp.png_rgba(self.fig.canvas.buffer_rgba())
            T["png"] = time.perf_counter() - t
        finally:
            _ACTIVITY["updating"] -= 1
            _ACTIVITY["last"] = time.monotonic()
        return self.text

    def _refresh_redrawn(self, T, t):
        fig = self.fig
        fig.clear()
        with pgp.styled():
            if self._positions is None:
                self._positions = self._layout(lambda f: self.compute(f, **self.params))
            self.text = self.compute(fig, **self.params)
            if len(self._positions) == len(fig.axes):
                for a, pos in zip(fig.axes, self._positions, strict=True):
                    a.set_position(pos)
        T["numbers"], T["artists"] = 0.0, time.perf_counter() - t
        t = time.perf_counter()
        self._canvas_of(fig).draw()
        T["draw"] = time.perf_counter() - t

    def _refresh_retained(self, T, t):
        fig = self.fig
        nums = self.compute(**self.params)
        T["numbers"] = time.perf_counter() - t
        t = time.perf_counter()
        with pgp.styled():
            if self._update is None:
                def build(f):
                    update, _ = self.draw(f, nums)
                    update(nums)
                self._positions = self._layout(build)
                self._update, moving = self.draw(fig, nums)
                self._moving = list(moving)
                for a, pos in zip(fig.axes, self._positions, strict=True):
                    a.set_position(pos)
                for a in self._moving:
                    a.set_animated(True)
            self.text = self._update(nums)
        T["artists"] = time.perf_counter() - t
        t = time.perf_counter()
        canvas = self._canvas_of(fig)
        if self._background is None or self._canvas is not canvas:
            canvas.draw()  # everything but the moving artists, once: the background
            self._background, self._canvas = canvas.copy_from_bbox(fig.bbox), canvas
            _pin_axis_labels(self._moving, canvas.get_renderer())
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for a in self._moving:
            a.draw(renderer)
        T["draw"] = time.perf_counter() - t

    @staticmethod
    def _canvas_of(fig):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        return fig.canvas

    def _layout(self, build) -> list:
        """The axes' positions, laid out once by the constrained layout engine on a scratch copy of the figure
        built by `build(scratch)` at the current params (nothing clipped; legends and colorbars included). The
        explorer's own figure has no layout engine, so a redraw costs no layout pass (see `axes`)."""
        scratch = Figure(figsize=self.fig.get_size_inches(), dpi=pgp.CSS_DPI, layout="constrained")
        build(scratch)
        scratch.get_layout_engine().execute(scratch)
        return [a.get_position(original=True) for a in scratch.axes]

    def update_html(self, **params) -> tuple[str, str]:
        """What a control's callback sends: (summary as <pre>, figure as <img>) after `refresh(**params)`.

        The <img> carries data-pg-update="wall_ms wait_ms": this update's time in the kernel and, of it, the
        time the kernel's thread was ready to run but waited for a CPU (Linux schedstat; "nan" elsewhere):
        what a busy machine adds. The browser test reads it."""
        t0, q0 = time.perf_counter(), _runqueue_wait()
        self.refresh(**params)
        t = time.perf_counter()
        text = pre(self.text)
        self.timings["html"] = time.perf_counter() - t
        wall, wait = time.perf_counter() - t0, _runqueue_wait() - q0
        self.timings.update(kernel=wall, kernel_wait=wait)
        return text, self._img(data=f" data-pg-update='{1e3 * wall:.1f} {1e3 * wait:.1f}'")

    def alt_text(self) -> str:
        """The figure's description at the current params."""
        if callable(self.alt):
            return self.alt(dict(self.params))
        return self.alt or (self.title or "explorer figure")

    @property
    def css_size(self) -> tuple[int, int]:
        """(width, height) of the figure on the page, in CSS px."""
        w, h = self.fig.get_size_inches()
        return round(w * pgp.CSS_DPI), round(h * pgp.CSS_DPI)

    # -- display ----------------------------------------------------------------------------------------
    def static_html(self, png: bytes | None = None) -> str:
        """The current state as HTML: title, summary in <pre>, figure (png, default the current one) as <img>
        with alt text."""
        head = f"<p><b>{html.escape(self.title)}</b></p>" if self.title else ""
        return f"<div class='pg-explorer'>{head}{pre(self.text)}{self._img(png)}</div>"

    def _img(self, png: bytes | None = None, data: str = "") -> str:
        return pgp.img_html(self.png if png is None else png, self.css_size, self.alt_text(), data=data)

    def _repr_mimebundle_(self, include=None, exclude=None):
        if not self.png:
            self.refresh()
        w, h = self.css_size
        stored = pgp.compact_png(self.png)  # the static fallback is stored in the notebook: keep it small
        data = {"text/plain": f"{self.text}\n[figure: {self.alt_text()}]",
                "text/html": self.static_html(stored),
                "image/png": base64.b64encode(stored).decode("ascii")}
        view = self.widget()._repr_mimebundle_()
        data["application/vnd.jupyter.widget-view+json"] = view["application/vnd.jupyter.widget-view+json"]
        return data, {"image/png": {"width": w, "height": h, "alt": self.alt_text()}}

    def show_static(self):
        """Print the default state's summary and show its figure (without a live widget)."""
        from IPython.display import display
        self.params = dict(self.defaults)
        self.refresh()
        print(self.text)
        display(pgp.FigureOutput(self.png, self.css_size, self.alt_text()))

    def widget(self):
        """The live explorer (built once): title, controls (class pg-controls), then the summary (pre.pg-summary)
        and the figure (img.pg-figure) in one HTML widget (class pg-output). Displaying the Explorer shows this
        in a live frontend."""
        if self._box is not None:
            return self._box
        import ipywidgets as W
        if not self.png:
            self.refresh()
        controls = self.make_controls() if self.make_controls else {}
        for name, c in controls.items():
            c.value = self.params.get(name, c.value)
        # The summary (<pre class=pg-summary>) and the figure (<img class=pg-figure> with alt text: an Image
        # widget has none) in ONE HTML widget, so that an update is one message and the browser renders it in
        # one frame (two widgets cost a second message and a second frame: ~15-25 ms in JupyterLab).
        output = W.HTML(pre(self.text) + self._img())
        output.add_class("pg-output")

        def value(c):
            return int(round(c.value)) if getattr(c, "_pg_integer", False) else c.value

        def on_change(_change=None):
            text, img = self.update_html(**{n: value(c) for n, c in controls.items()})
            output.value = text + img

        for c in controls.values():
            c.observe(on_change, names="value")
        box = W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap"))
        box.add_class("pg-controls")
        parts = [box, output]
        if self.title:
            parts.insert(0, W.HTML(f"<b>{html.escape(self.title)}</b>"))
        self._box = W.VBox(parts)
        return self._box


def _runqueue_wait() -> float:
    """Seconds this thread has spent ready to run but waiting for a CPU (Linux /proc schedstat), else nan."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) * 1e-9
    except (OSError, ValueError, IndexError):
        return float("nan")


def _pin_axis_labels(artists, renderer) -> None:
    """A moving Axis (its ticks change) keeps its label where the first draw put it: matplotlib otherwise
    measures every tick label of the axis (and of the axes sharing it) on each draw to place the label."""
    from matplotlib.axis import Axis
    for a in artists:
        if isinstance(a, Axis) and a._autolabelpos:
            a.draw(renderer)  # places the label
            xy = a.label.get_transform().transform(a.label.get_position())
            a.set_label_coords(*a.axes.transAxes.inverted().transform(xy))


def pre(text: str) -> str:
    """A summary as a monospace block that keeps its columns (HTML-escaped)."""
    return f"<pre class='pg-summary' style='margin:0; white-space:pre; overflow-x:auto'>{html.escape(text)}</pre>"


# -- controls ---------------------------------------------------------------------------------------------

def slider(description: str, value, lo, hi, step=None, *, kind: str = "float", options=None, fmt: str | None = None):
    """The one slider of the course (continuous_update off: the figure redraws on release).

    kind "float" (step required), "int" (step required), "log" (a count N from lo to hi on a log scale, about
    100 steps per decade so that a mouse can reach every size; the explorer receives int(round(value)); the
    readout can be typed into), "choice" (a slider over `options`)."""
    import ipywidgets as W
    common = {"description": description, "continuous_update": False, "style": {"description_width": "initial"},
              "layout": W.Layout(width="320px")}
    if kind == "choice":
        return W.SelectionSlider(options=list(options), value=value, **common)
    if kind == "log":
        import math
        w = W.FloatLogSlider(value=value, base=10, min=math.log10(lo), max=math.log10(hi),
                             step=step or 0.01, readout_format=fmt or ".0f", **common)
        w._pg_integer = True  # the Explorer passes int(round(value)) to compute
        return w
    cls = {"float": W.FloatSlider, "int": W.IntSlider}[kind]
    extra = {"readout_format": fmt} if fmt else {}
    return cls(value=value, min=lo, max=hi, step=step, **common, **extra)


def dropdown(description: str, options, value):
    """A choice among named options (an estimator, a baseline)."""
    import ipywidgets as W
    return W.Dropdown(options=list(options), value=value, description=description,
                      style={"description_width": "initial"})


def toggle(description: str, value: bool):
    """An on/off switch (a baseline on or off)."""
    import ipywidgets as W
    return W.ToggleButton(value=bool(value), description=description)


# -- layout -----------------------------------------------------------------------------------------------

def axes(fig, ncols: int = 1, *, width_ratios=None, sharey: bool = False, **_margins):
    """The explorer's axes in one row. Where they go is decided once: the first refresh lays the figure
    out with the constrained layout engine (nothing clipped, legends and colorbars included) and
    `Explorer.refresh` puts the axes of every later redraw at those positions (a layout pass on every redraw
    costs ~50 ms, a third of a slider's budget). Margin keywords (left=, top=, wspace=, ...) of the earlier
    fixed-margin layout are accepted and ignored. Returns one Axes or a tuple of them."""
    gs = fig.add_gridspec(1, ncols, width_ratios=list(width_ratios) if width_ratios is not None else None)
    first = fig.add_subplot(gs[0])
    rest = [fig.add_subplot(gs[i], sharey=first if sharey else None) for i in range(1, ncols)]
    return first if ncols == 1 else (first, *rest)


# -- caching ----------------------------------------------------------------------------------------------

def cached(f=None, *, maxsize: int = 64):
    """Memoise an explorer's expensive step on its (hashable) arguments; floats are rounded to 6 decimals
    first, so a slider's 0.30000000000000004 and 0.3 share one entry."""
    def deco(g):
        inner = functools.lru_cache(maxsize=maxsize)(g)

        @functools.wraps(g)
        def wrapper(*args, **kwargs):
            r = tuple(round(a, 6) if isinstance(a, float) else a for a in args)
            return inner(*r, **{k: round(v, 6) if isinstance(v, float) else v for k, v in kwargs.items()})
        wrapper.cache_clear = inner.cache_clear
        return wrapper
    return deco(f) if f is not None else deco


class Precomputed:
    """f(*key) for a list of keys, computed ahead in the background, in order, while the student reads;
    `get(*key)` returns the value, waiting if the background is computing that key right now, computing it at
    once if the background has not reached it (or it was never listed). Every key's value is what f(*key)
    returns called directly (f must be deterministic: seeded rngs), so the order does not matter. Results are
    kept (no eviction: list only what fits in memory). known: {key: value} already computed (a 1-tuple key may
    be given as its element).

    process=False: one background (daemon) thread computes a key only between explorer updates (IDLE_S), since
    a thread computing beside an update holds the GIL half the time; fine for keys of ~0.1 s.
    process=True: the keys are computed one at a time in a separate, low-priority (nice 19) Python process
    (`concurrent.futures`, spawn), so a long computation (seconds) runs beside the student's moves without
    taking the kernel's GIL or a CPU it needs; f must then be picklable (a module-level function or a
    functools.partial of one). The process ends when the list is done."""

    def __init__(self, f: Callable, keys=(), start: bool = True, known: dict | None = None, process: bool = False):
        import threading
        self.f = f
        self._lock = threading.Lock()
        self._done: dict = {tuple(k) if isinstance(k, tuple) else (k,): v for k, v in (known or {}).items()}
        self._running: dict = {}           # key -> threading.Event, set when the value is in _done
        self._todo = [tuple(k) for k in keys]
        self._worker = None
        self._process = bool(process)
        if start:
            self._start()

    def _start(self):
        import threading
        with self._lock:
            if self._todo and (self._worker is None or not self._worker.is_alive()):
                self._worker = threading.Thread(target=self._work, name="pgcourse-precompute", daemon=True)
                self._worker.start()

    def ahead(self, keys) -> None:
        """Compute these keys next in the background (replacing what was still to do): e.g. the values a
        control reaches in one more step, after each update."""
        with self._lock:
            self._todo = [tuple(k) for k in keys if tuple(k) not in self._done and tuple(k) not in self._running]
        self._start()

    def _claim(self, key):
        import threading
        with self._lock:
            if key in self._done:
                return None, self._done[key]
            ev = self._running.get(key)
            if ev is not None:
                return ev, None
            ev = self._running[key] = threading.Event()
            return False, ev

    def _compute(self, key, ev, pool=None):
        try:
            value = self.f(*key) if pool is None else pool.submit(self.f, *key).result()
            with self._lock:
                self._done[key] = value
        finally:
            with self._lock:
                self._running.pop(key, None)
            ev.set()

    def _work(self):
        pool = _background_process() if self._process else None
        try:
            while True:
                while pool is None and (_ACTIVITY["updating"] or time.monotonic() - _ACTIVITY["last"] < IDLE_S):
                    time.sleep(0.05)  # an explorer is being moved: wait for a pause
                with self._lock:
                    if not self._todo:
                        self._worker = None
                        return
                    key = self._todo.pop(0)
                state, ev = self._claim(key)
                if state is False:
                    try:
                        self._compute(key, ev, pool)
                    except Exception:   # the process failed (killed, unpicklable f): get() computes it here
                        if pool is None:
                            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=False)

    def get(self, *key):
        while True:
            state, x = self._claim(key)
            if state is None:
                return x
            if state is False:
                self._compute(key, x)
            else:
                state.wait()

    def __contains__(self, key) -> bool:
        return tuple(key) in self._done


def _background_process():
    """A one-worker process pool whose worker runs at the lowest CPU priority (spawned: no fork of a kernel
    with threads), or None where processes cannot be started (the caller then computes in its thread)."""
    try:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_lowest_priority)
    except (OSError, ValueError, ImportError):
        return None


def _lowest_priority() -> None:
    try:
        os.nice(19)
    except (AttributeError, OSError):
        pass
