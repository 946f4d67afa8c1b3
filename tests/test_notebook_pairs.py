"""Every notebook is a jupytext pair in sync, executed, with no error stored (nbval then re-runs it)."""
from pathlib import Path

import nbformat
import pytest

from tools._paths import ROOT
from tools.build_notebooks import in_sync

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 9, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.stem)
def test_pair_in_sync(py: Path):
    assert in_sync(py) is None, in_sync(py)


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_fresh(py: Path):
    nb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert all(n is not None for n in counts), f"{py.name}: cells never executed"
    assert counts == list(range(1, len(code) + 1)), f"{py.name}: not executed top to bottom in one run: {counts}"
    errors = [o for c in code if "raises-exception" not in c.metadata.get("tags", [])
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"{py.name}: stored error output {errors[0].get('ename')}"


def _outputs(py: Path):
    nb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            for o in c.get("outputs", []):
                yield c, o


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.stem)
def test_explorer_appears_once(py: Path):
    """An explorer is one output: the live widget view, with the default state as its static fallback (the
    summary in <pre class='pg-summary'>, the figure as <img alt=...>, text/plain for nbval)."""
    source = py.read_text()
    assert ".widget()" not in source and ".show_static()" not in source, \
        f"{py.name}: display the Explorer itself (one output), not .widget() / .show_static()"
    views = [o for _, o in _outputs(py) if WIDGET_VIEW in o.get("data", {})]
    if "_explorer(" not in source:
        assert not views
        return
    assert len(views) == 1, f"{py.name}: {len(views)} widget outputs, expected the explorer once"
    data = views[0]["data"]
    assert "<pre class='pg-summary'" in data.get("text/html", ""), f"{py.name}: no <pre> summary fallback"
    assert "<img class='pg-figure'" in data["text/html"] and " alt='" in data["text/html"]
    assert "[figure: " in data.get("text/plain", "")


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text_and_its_size(py: Path):
    """Figures are shown with pgcourse.plots.show: PNG at 2x pixels with CSS width/height and alt text in the
    output metadata; none is left to the inline backend (whose text is '<Figure size ...>')."""
    pngs = 0
    for cell, o in _outputs(py):
        data = o.get("data", {})
        assert not data.get("text/plain", "").startswith("<Figure size"), \
            f"{py.name}: a figure shown without alt text (use pgp.show(fig, alt=...)): {cell.source[:80]!r}"
        if "image/png" in data:
            pngs += 1
            meta = o.get("metadata", {}).get("image/png", {})
            assert meta.get("alt", "").strip(), f"{py.name}: a PNG without alt text: {cell.source[:80]!r}"
            assert meta.get("width") and meta.get("height"), f"{py.name}: a PNG without its CSS size"
    assert pngs >= 1, f"{py.name}: no figure"


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.stem)
def test_numbers_come_from_the_package_core(py: Path):
    """Notebooks take their numbers from `pg.<name>` (pgcourse's core); from pgcourse.widgets only explorers."""
    import re

    import pgcourse.widgets as pgw
    allowed = {n for n in pgw.__all__ if n.endswith("_explorer") or n.isupper() or n[:1].isupper()}
    used = set(re.findall(r"\bpgw\.(\w+)", py.read_text()))
    assert used <= allowed, f"{py.name} uses pgcourse.widgets for {sorted(used - allowed)}: call pg.<name>"
