"""Every notebook is a jupytext pair in sync, executed, with no error stored (nbval then re-runs it).

The pairs use jupytext's prefix pairing (jupytext.toml): notebooks/NN_x.ipynb, what students open, and its
percent-format source sources/notebooks/NN_x.py; the notebooks folder holds the notebooks and nothing else."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools._paths import NOTEBOOK_SOURCES, NOTEBOOKS, ROOT
from tools.build_notebooks import in_sync, paired_ipynb

SOURCES = sorted(NOTEBOOK_SOURCES.glob("[0-9][0-9]_*.py"))


def test_there_are_notebooks():
    assert len(SOURCES) >= 9, [p.name for p in SOURCES]


def test_the_notebooks_folder_lists_only_the_notebooks():
    """What a student sees in notebooks/: one NN_x.ipynb per source, numbered 00, 01, ... without a gap, and no
    .py twin (nor anything else tracked)."""
    listed = sorted(p.name for p in NOTEBOOKS.iterdir() if not p.name.startswith("."))
    assert listed == sorted(f"{p.stem}.ipynb" for p in SOURCES), listed
    assert [n[:2] for n in listed] == [f"{i:02d}" for i in range(len(listed))], listed
    tracked = subprocess.run(["git", "ls-files", "notebooks"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode == 0 and tracked.stdout.strip():  # in a git checkout: nothing but the notebooks
        assert sorted(Path(f).name for f in tracked.stdout.split()) == listed, tracked.stdout


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.stem)
def test_jupytext_pairs_the_source_with_the_notebook(py: Path):
    """jupytext's own resolution from jupytext.toml (what `jupytext --sync` and JupyterLab's contents manager
    use), both ways, is the pair the tools check: sources/notebooks/NN_x.py <-> notebooks/NN_x.ipynb."""
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file
    from jupytext.formats import long_form_multiple_formats
    from jupytext.paired_paths import find_base_path_and_format, paired_paths

    ipynb = NOTEBOOKS / f"{py.stem}.ipynb"
    assert paired_ipynb(py) == ipynb
    config = load_jupytext_configuration_file(find_jupytext_configuration_file(str(NOTEBOOKS)))
    for path in (ipynb, py):
        formats = long_form_multiple_formats(config.default_formats(str(path)))
        base, fmt = find_base_path_and_format(str(path), formats)
        assert {Path(p) for p, _ in paired_paths(str(path), fmt, formats)} == {ipynb, py}, path
        assert "py:percent" in config.default_formats(str(path))


def test_solutions_stay_paired_beside_their_notebook():
    """The same jupytext.toml keeps solutions/ (and the generated exercises/) as they were: .py beside .ipynb."""
    for folder in ("solutions", "exercises"):
        for py in sorted((ROOT / folder).glob("ex[0-9][0-9]_*.py")):
            assert paired_ipynb(py) == py.with_suffix(".ipynb"), py


def _copy_layout(tmp: Path, py: Path) -> Path:
    """A copy of the repository's pairing layout (jupytext.toml, the .ipynb, its source) under tmp."""
    shutil.copy(ROOT / "jupytext.toml", tmp / "jupytext.toml")
    (tmp / NOTEBOOK_SOURCES.relative_to(ROOT)).mkdir(parents=True)
    (tmp / "notebooks").mkdir()
    shutil.copy(py, tmp / py.relative_to(ROOT))
    shutil.copy(paired_ipynb(py), tmp / "notebooks" / f"{py.stem}.ipynb")
    return tmp / py.relative_to(ROOT)


def _edit_first_code_cell(py: Path, line: str) -> None:
    """As a person edits a source: a line at the top of the first code cell."""
    text = py.read_text()
    marker = next(m for m in re.finditer(r"^# %%( .*)?$", text, re.MULTILINE) if "[markdown]" not in m.group(0))
    py.write_text(text[:marker.end()] + "\n" + line + text[marker.end():])


def test_a_stale_notebook_is_detected_at_the_new_location(tmp_path):
    """Edit a source in sources/notebooks/ without rebuilding: the pair check names it (and the check CLI
    fails), and a source without its notebook is reported missing."""
    py = _copy_layout(tmp_path, SOURCES[0])
    assert paired_ipynb(py) == tmp_path / "notebooks" / f"{py.stem}.ipynb"
    assert in_sync(py) is None  # the copy is what the repository holds
    _edit_first_code_cell(py, "x_edited = 1")
    problem = in_sync(py)
    assert problem and "differs from the .ipynb" in problem and "x_edited" in problem, problem
    cli = subprocess.run([sys.executable, "-m", "tools.build_notebooks", "--check", str(py)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 1 and "differs" in cli.stdout, cli.stdout + cli.stderr
    (tmp_path / "notebooks" / f"{py.stem}.ipynb").unlink()
    assert "is missing" in in_sync(py)


def test_a_retagged_or_added_cell_is_detected(tmp_path):
    py = _copy_layout(tmp_path, SOURCES[-1])
    text = py.read_text()
    py.write_text(text + "\n# %%\ny = 2\n")
    assert re.search(r"cells but the .ipynb has", in_sync(py) or ""), in_sync(py)
    code = next(m for m in re.finditer(r"^# %%$", text, re.MULTILINE))
    py.write_text(text[:code.start()] + '# %% tags=["raises-exception"]' + text[code.end():])
    assert "tags differ" in (in_sync(py) or ""), in_sync(py)


def test_jupytext_sync_writes_the_notebook_at_the_new_location(tmp_path):
    """`jupytext --sync` on an edited source updates notebooks/NN_x.ipynb (not a .ipynb in sources/)."""
    py = _copy_layout(tmp_path, SOURCES[0])
    _edit_first_code_cell(py, "x_synced = 1")
    out = subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(py)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert not list(py.parent.glob("*.ipynb"))
    assert in_sync(py) is None
    assert "x_synced" in (tmp_path / "notebooks" / f"{py.stem}.ipynb").read_text()


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.stem)
def test_pair_in_sync(py: Path):
    assert in_sync(py) is None, in_sync(py)


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.stem)
def test_stored_outputs_fresh(py: Path):
    nb = nbformat.read(paired_ipynb(py), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert all(n is not None for n in counts), f"{py.name}: cells never executed"
    assert counts == list(range(1, len(code) + 1)), f"{py.name}: not executed top to bottom in one run: {counts}"
    errors = [o for c in code if "raises-exception" not in c.metadata.get("tags", [])
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"{py.name}: stored error output {errors[0].get('ename')}"


def _outputs(py: Path):
    nb = nbformat.read(paired_ipynb(py), as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            for o in c.get("outputs", []):
                yield c, o


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.stem)
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


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.stem)
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


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.stem)
def test_numbers_come_from_the_package_core(py: Path):
    """Notebooks take their numbers from `pg.<name>` (pgcourse's core); from pgcourse.widgets only explorers."""
    import re

    import pgcourse.widgets as pgw
    allowed = {n for n in pgw.__all__ if n.endswith("_explorer") or n.isupper() or n[:1].isupper()}
    used = set(re.findall(r"\bpgw\.(\w+)", py.read_text()))
    assert used <= allowed, f"{py.name} uses pgcourse.widgets for {sorted(used - allowed)}: call pg.<name>"
