"""Interactive explorers for the notebooks: ipywidgets controls driving a matplotlib figure and a text
summary that shows exact and sampled numbers side by side.

Every notebook's widget is an `Explorer`:

    ex = some_explorer(...)        # a factory below, one per notebook
    ex.show_static()               # the default state as printed text + a static figure (checked by nbval)
    ex.widget()                    # the live controls (cell tagged nbval-ignore-output)

`Explorer.refresh(**params)` is the one function a slider calls: it recomputes, redraws the figure and
renders it to PNG. Benchmarks time it at the default settings (target < 150 ms), through the registry
`EXPLORERS` {notebook name: factory with no arguments}.

In the browser the summary is an HTML widget with CSS class `pg-summary`, the figure an Image widget
with class `pg-figure`, and the controls sliders/toggles in a box with class `pg-controls`.
"""
from __future__ import annotations

import html
import io
from typing import Callable

from matplotlib.figure import Figure

EXPLORERS: dict[str, Callable[[], "Explorer"]] = {}


def register(name: str):
    """Decorator: record a no-argument explorer factory for notebook `name` (e.g. "01_objective")."""
    def deco(factory):
        EXPLORERS[name] = factory
        return factory
    return deco


class Explorer:
    """compute(fig, **params) -> summary text. `compute` draws into the (cleared) figure `fig` and returns
    a short plain-text summary (exact and sampled numbers, rounded so they print identically every run).

    controls: {param name: ipywidgets control}, created lazily by `make_controls()` so that the class is
    usable (show_static, refresh) without a live widget front end. defaults: {param name: value}.
    """

    def __init__(self, compute: Callable[..., str], defaults: dict, make_controls: Callable[[], dict] | None = None,
                 figsize=(9.0, 3.6), title: str | None = None):
        self.compute = compute
        self.defaults = dict(defaults)
        self.params = dict(defaults)
        self.make_controls = make_controls
        self.title = title
        self.fig = Figure(figsize=figsize, dpi=80, layout="constrained")
        self.text = ""
        self.png = b""

    def refresh(self, **params) -> str:
        """One update: recompute with `params` (merged into the current ones), redraw, render to PNG."""
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"unknown parameter(s) {sorted(unknown)}; this explorer takes {sorted(self.defaults)}")
        self.params.update(params)
        self.fig.clear()
        self.text = self.compute(self.fig, **self.params)
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        self.png = buf.getvalue()
        return self.text

    def show_static(self):
        """Print the default state's summary and show its figure: what the executed notebook stores."""
        from IPython.display import display
        self.params = dict(self.defaults)
        print(self.refresh())
        display(self.fig)

    def widget(self):
        """The live explorer: controls, the summary (HTML, class pg-summary), the figure (class pg-figure)."""
        import ipywidgets as W
        controls = self.make_controls() if self.make_controls else {}
        for name, c in controls.items():
            c.value = self.params.get(name, c.value)
        summary = W.HTML(self._html(self.refresh()))
        summary.add_class("pg-summary")
        image = W.Image(value=self.png, format="png")
        image.add_class("pg-figure")

        def on_change(_change=None):
            summary.value = self._html(self.refresh(**{n: c.value for n, c in controls.items()}))
            image.value = self.png

        for c in controls.values():
            c.observe(on_change, names="value")
        box = W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap"))
        box.add_class("pg-controls")
        parts = [box, summary, image]
        if self.title:
            parts.insert(0, W.HTML(f"<b>{html.escape(self.title)}</b>"))
        return W.VBox(parts)

    @staticmethod
    def _html(text: str) -> str:
        return f"<pre style='margin:0'>{html.escape(text)}</pre>"


# --------------------------------------------------------------------------------------------------------
# One section per notebook below. Each adds its factories and registers one default explorer:
#
#     @register("01_objective")
#     def dpi_explorer(gamma=0.9, n_episodes=2000) -> Explorer: ...
# --------------------------------------------------------------------------------------------------------


# ==== section: notebooks 00-02 (welcome/MDPs, objective and d^pi, policy gradient theorem) ====


# ==== section: notebooks 03-05 (baselines, parameterisations, Monte Carlo) ====


# ==== section: notebooks 06-08 (TD, GAE, putting it together) ====


# ==== end of sections ====
