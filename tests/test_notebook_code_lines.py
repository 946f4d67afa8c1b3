"""Code lines fit the notebook's cell width: no code line of a course notebook is longer than 90 characters,
so no code cell scrolls sideways in JupyterLab at its default width (markdown cells wrap by themselves).

Checked on the .ipynb, what the student sees (its cells are the source's: tests/test_notebook_pairs.py)."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tools._paths import NOTEBOOKS

MAX_CODE_LINE = 90
COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def long_code_lines(nb, limit: int = MAX_CODE_LINE) -> list[tuple[int, int, str]]:
    """(cell index, line length, line) of every code-cell line longer than `limit` characters."""
    return [(i, len(line), line)
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for line in cell.source.splitlines() if len(line) > limit]


def test_there_are_course_notebooks():
    assert len(COURSE) >= 9, COURSE


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_code_lines_fit_the_cell_width(path: Path):
    found = long_code_lines(nbformat.read(path, as_version=4))
    assert not found, f"{path.name}: {len(found)} code lines over {MAX_CODE_LINE} characters, e.g. " + "; ".join(
        f"cell {i} ({n} chars): {line.strip()[:70]!r}" for i, n, line in found[:3])


def test_the_check_fails_on_a_long_line_and_passes_at_the_limit():
    """The check itself: one character over the limit in a code cell is caught, in any line of the cell; the
    same length in a markdown cell, or exactly the limit, is not."""
    at_limit = "x = " + "1" * (MAX_CODE_LINE - 4)
    over = at_limit + "1"
    assert len(at_limit) == MAX_CODE_LINE
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(over),
                                         nbformat.v4.new_code_cell(at_limit),
                                         nbformat.v4.new_code_cell(f"y = 2\n{over}\nz = 3")])
    assert long_code_lines(nb) == [(2, MAX_CODE_LINE + 1, over)]
    nb.cells.pop()
    assert long_code_lines(nb) == []
