"""Every notebook is a jupytext pair in sync, executed, with no error stored (nbval then re-runs it)."""
from pathlib import Path

import nbformat
import pytest

from tools.build_notebooks import ROOT, in_sync

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
