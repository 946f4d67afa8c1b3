"""tools.grade on synthetic submissions: made from the fixture exercise (tests/fixtures/solutions/ex99_fixture.py)
and from one real solution notebook (solutions/exNN_topic.ipynb); the CSV rows are asserted exactly.

Per-cell timeouts are short (TIMEOUT s) so the file runs in about a minute.
"""
from __future__ import annotations

import copy
import csv
import re
from pathlib import Path

import nbformat
import pytest
from nbgrader.preprocessors import ClearHiddenTests

from tools import grade, release
from tools.build_notebooks import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "solutions"
TIMEOUT = 10


# ---------------------------------------------------------------------------------------------------------------
# making submissions


def as_submitted(solution_nb):
    """What a student who solved everything hands in: the solution with the hidden tests and the
    BEGIN/END SOLUTION marker lines gone (outputs, if any, kept)."""
    nb = copy.deepcopy(solution_nb)
    nb, _ = ClearHiddenTests(enforce_metadata=False).preprocess(nb, {})
    for cell in nb.cells:
        if (cell.metadata.get("nbgrader") or {}).get("solution"):
            cell.source = "\n".join(line for line in cell.source.splitlines()
                                    if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
    return nb


def cell(nb, gid):
    return next(c for c in nb.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") == gid)


def replace_region(solution_source: str, body: str) -> str:
    """The solution cell with its BEGIN..END SOLUTION region replaced by body (indented like the region)."""
    lines = solution_source.splitlines()
    b = next(i for i, line in enumerate(lines) if "### BEGIN SOLUTION" in line)
    e = next(i for i, line in enumerate(lines) if "### END SOLUTION" in line)
    indent = re.match(r"\s*", lines[b]).group(0)
    return "\n".join(lines[:b] + [indent + line for line in body.splitlines()] + lines[e + 1:])


def strip_outputs(nb):
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return nb


def write(nb, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def rows_of(rows, student):
    return [(r["part"], r["passed"], r["points"], r["max_points"], r["reason"]) for r in rows
            if r["student"] == student]


# ---------------------------------------------------------------------------------------------------------------
# the fixture exercise: every case, asserted exactly


@pytest.fixture(scope="module")
def fixture_grades(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    source = release.load_source(FIXTURES / "ex99_fixture.py")
    src = {g: cell(source, g).source for g in ("ex99-p1-sol", "ex99-p2-sol", "ex99-p3-sol")}
    good = as_submitted(source)
    subs = tmp / "submissions"

    write(good, subs / "alice__ex99_fixture.ipynb")  # correct (never run: the fixture has no outputs)

    bob = copy.deepcopy(good)  # part 2 wrong
    cell(bob, "ex99-p2-sol").source = replace_region(src["ex99-p2-sol"], "return 2 * np.asarray(x)")
    write(bob, subs / "bob__ex99_fixture.ipynb")

    carol = copy.deepcopy(good)  # part 1's solution cell raises when it runs
    cell(carol, "ex99-p1-sol").source = "import no_such_module_for_pgcourse\n" + cell(carol, "ex99-p1-sol").source
    write(carol, subs / "carol__ex99_fixture.ipynb")

    dave = copy.deepcopy(good)  # part 2 loops forever: timeout, parts 1 and 3 still graded
    cell(dave, "ex99-p2-sol").source = replace_region(src["ex99-p2-sol"], "while True:\n    pass")
    write(dave, subs / "dave__ex99_fixture.ipynb")

    erin = copy.deepcopy(good)  # hard-codes the visible example and empties the check cell: hidden tests restored
    cell(erin, "ex99-p1-sol").source = replace_region(src["ex99-p1-sol"], "return 3")
    cell(erin, "ex99-p1").source = "pass"
    write(erin, subs / "erin__ex99_fixture.ipynb")

    (subs / "frank__ex99_fixture.ipynb").write_text("{ this is not json", encoding="utf-8")  # corrupt

    gina = copy.deepcopy(good)  # deleted the graded cell of part 3
    gina.cells = [c for c in gina.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") != "ex99-p3"]
    write(gina, subs / "gina__ex99_fixture.ipynb")

    hank = copy.deepcopy(good)  # nbgrader layout; deleted the (locked) setup cell: it is put back
    hank.cells = [c for c in hank.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") != "ex99-setup"]
    write(hank, subs / "submitted" / "hank" / "ex99_fixture" / "ex99_fixture.ipynb")

    write(release.student_version(source), subs / "ivan__ex99_fixture.ipynb")  # handed in untouched

    extra = copy.deepcopy(good)  # an added helper cell, a duplicated graded cell, a copy in checkpoints (ignored)
    extra.cells.insert(1, nbformat.v4.new_code_cell("def helper(a, b):\n    return a + b"))
    cell(extra, "ex99-p1-sol").source = "def add(a, b):\n    return helper(a, b)"
    dup = copy.deepcopy(cell(extra, "ex99-p2"))
    dup.source, dup.id = "raise RuntimeError('copied cell')", "copied-cell"
    extra.cells.append(dup)
    write(extra, subs / "jo__ex99_fixture.ipynb")
    write(extra, subs / ".ipynb_checkpoints" / "jo__ex99_fixture-checkpoint.ipynb")

    # both layouts in one folder (flat files beside submitted/<student>/<assignment>/), graded by the CLI's main
    csv_path = tmp / "grades.csv"
    assert grade.main([str(subs), "--out", str(csv_path), "--timeout", str(TIMEOUT), "--solutions", str(FIXTURES),
                       "--jobs", "2"]) == 0
    return read_csv(csv_path)


def test_csv_columns_and_order(fixture_grades):
    rows = fixture_grades
    assert list(rows[0]) == grade.COLUMNS
    students = [r["student"] for r in rows if r["part"] == "total"]
    assert students == sorted(students) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivan",
                                            "jo"]
    assert {r["notebook"] for r in rows} == {"ex99_fixture"}
    assert {r["file"] for r in rows if r["student"] == "bob"} == {"bob__ex99_fixture.ipynb"}


FULL = [("ex99-p1", "1", "1", "1", ""), ("ex99-p2", "1", "2", "2", ""), ("ex99-p3", "1", "3", "3", ""),
        ("total", "1", "6", "6", "3/3 parts passed")]


def test_correct_gets_all_points(fixture_grades):
    assert rows_of(fixture_grades, "alice") == FULL


def test_wrong_part_gets_zero_others_full(fixture_grades):
    assert rows_of(fixture_grades, "bob") == [
        ("ex99-p1", "1", "1", "1", ""), ("ex99-p2", "0", "0", "2", "AssertionError"),
        ("ex99-p3", "1", "3", "3", ""), ("total", "0", "4", "6", "2/3 parts passed")]


def test_solution_cell_raising_costs_its_part(fixture_grades):
    assert rows_of(fixture_grades, "carol") == [
        ("ex99-p1", "0", "0", "1", "NameError: name 'add' is not defined"), ("ex99-p2", "1", "2", "2", ""),
        ("ex99-p3", "1", "3", "3", ""), ("total", "0", "5", "6", "2/3 parts passed")]


def test_infinite_loop_is_a_timeout_and_the_rest_is_graded(fixture_grades):
    assert rows_of(fixture_grades, "dave") == [
        ("ex99-p1", "1", "1", "1", ""), ("ex99-p2", "0", "0", "2", "timeout"),
        ("ex99-p3", "1", "3", "3", ""), ("total", "0", "4", "6", "2/3 parts passed")]


def test_hidden_tests_are_restored_into_edited_check_cells(fixture_grades):
    assert rows_of(fixture_grades, "erin") == [
        ("ex99-p1", "0", "0", "1", "AssertionError"), ("ex99-p2", "1", "2", "2", ""),
        ("ex99-p3", "1", "3", "3", ""), ("total", "0", "5", "6", "2/3 parts passed")]


def test_corrupt_file_is_recorded(fixture_grades):
    rows = rows_of(fixture_grades, "frank")
    assert rows[:3] == [("ex99-p1", "0", "0", "1", "unreadable submission"),
                        ("ex99-p2", "0", "0", "2", "unreadable submission"),
                        ("ex99-p3", "0", "0", "3", "unreadable submission")]
    assert rows[3][:4] == ("total", "0", "0", "6")
    assert rows[3][4].startswith("unreadable submission: NotJSONError"), rows[3]


def test_deleted_graded_cell_gets_zero(fixture_grades):
    assert rows_of(fixture_grades, "gina") == [
        ("ex99-p1", "1", "1", "1", ""), ("ex99-p2", "1", "2", "2", ""),
        ("ex99-p3", "0", "0", "3", "missing cell"), ("total", "0", "3", "6", "2/3 parts passed")]


def test_untouched_stub_gets_nothing(fixture_grades):
    assert rows_of(fixture_grades, "ivan") == [
        ("ex99-p1", "0", "0", "1", "NotImplementedError"), ("ex99-p2", "0", "0", "2", "NotImplementedError"),
        ("ex99-p3", "0", "0", "3", "NotImplementedError"), ("total", "0", "0", "6", "0/3 parts passed")]


def test_added_cells_kept_duplicates_ignored_checkpoints_skipped(fixture_grades):
    assert rows_of(fixture_grades, "jo") == FULL
    assert [r["file"] for r in fixture_grades if r["student"] == "jo"] == ["jo__ex99_fixture.ipynb"] * 4


def test_nbgrader_layout_and_restored_setup_cell(fixture_grades):
    assert rows_of(fixture_grades, "hank") == FULL
    assert {r["file"] for r in fixture_grades if r["student"] == "hank"} == {
        "submitted/hank/ex99_fixture/ex99_fixture.ipynb"}


def test_misuse_exits_nonzero(tmp_path, capsys):
    out = str(tmp_path / "g.csv")
    assert grade.main([str(tmp_path / "nope"), "--out", out]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert grade.main([str(tmp_path), "--out", out, "--solutions", str(FIXTURES)]) == 2
    assert "no .ipynb submissions" in capsys.readouterr().err
    assert grade.main([str(tmp_path), "--out", out, "--solutions", str(tmp_path)]) == 2
    assert "no exNN_topic.py" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


def test_parallel_grading_and_feedback(tmp_path):
    source = release.load_source(FIXTURES / "ex99_fixture.py")
    write(as_submitted(source), tmp_path / "subs" / "alice__ex99_fixture.ipynb")
    write(release.student_version(source), tmp_path / "subs" / "ivan__ex99_fixture.ipynb")
    rows = [r.as_csv() for r in grade.grade_folder(tmp_path / "subs", solutions=FIXTURES, timeout=TIMEOUT, jobs=2,
                                                   feedback=tmp_path / "feedback", log=None)]
    assert rows_of(rows, "alice") == FULL
    assert [r[4] for r in rows_of(rows, "ivan")] == ["NotImplementedError"] * 3 + ["0/3 parts passed"]
    executed = nbformat.read(tmp_path / "feedback" / "alice" / "ex99_fixture.ipynb", as_version=4)
    assert "assert add(2, 3) == 5" in cell(executed, "ex99-p1").source  # the hidden tests ran
    assert any("Correct: add" in o.get("text", "") for o in cell(executed, "ex99-p1").outputs)


def _nb(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in sources])


def test_notebook_time_limit_and_a_kernel_that_ignores_the_interrupt(monkeypatch):
    monkeypatch.setattr(grade, "GRACE", 2)
    nb = _nb("import time", "time.sleep(1)", "time.sleep(1)", "time.sleep(60)", "1 / 0")
    out = grade.run_notebook(nb, timeout=30, notebook_timeout=7)
    assert [out[i].error for i in range(5)] == [None, None, None, "notebook time limit", "notebook time limit"]
    nb = _nb("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass", "x = 1")
    out = grade.run_notebook(nb, timeout=2, notebook_timeout=60)
    assert [out[i].error for i in range(2)] == ["timeout", "timeout (kernel did not stop; later cells not run)"]


def test_a_dying_kernel_is_recorded():
    out = grade.run_notebook(_nb("x = 1", "import os\nos._exit(1)", "x = 2"), timeout=10, notebook_timeout=60)
    assert [(out[i].ran, out[i].error) for i in range(3)] == [(True, None), (False, "kernel died"),
                                                              (False, "kernel died")]


# ---------------------------------------------------------------------------------------------------------------
# one real exercise (solutions/ is written by the exercise helper; this fails, not skips, if it is empty)

REAL = sorted(p for p in (ROOT / "solutions").glob("ex*.ipynb") if release.NAME_RE.match(p.stem))
PREFERRED = ["ex04_returns", "ex01_occupancy", "ex03_score_functions", "ex02_exact_gradient"]


def test_there_are_solution_notebooks():
    assert REAL, "solutions/ has no exNN_topic.ipynb: the real-exercise grading tests cannot run"


@pytest.fixture(scope="module")
def real_grades(tmp_path_factory):
    assert REAL, "solutions/ has no exNN_topic.ipynb"
    stems = [p.stem for p in REAL]
    name = next((n for n in PREFERRED if n in stems), stems[0])
    source = release.load_source(ROOT / "solutions" / f"{name}.py")
    parts = grade.graded_parts(source)
    executed = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    good = as_submitted(executed)
    first_sol = next(c for c in source.cells if (c.metadata.get("nbgrader") or {}).get("solution"))
    sol_id = first_sol.metadata["nbgrader"]["grade_id"]
    tmp = tmp_path_factory.mktemp("real")
    subs = tmp / "subs"
    write(good, subs / f"ran__{name}.ipynb")  # correct, with the outputs of a run
    write(strip_outputs(good), subs / f"neverran__{name}.ipynb")  # correct, never run
    wrong = copy.deepcopy(good)
    cell(wrong, sol_id).source = replace_region(first_sol.source, "return None")
    write(wrong, subs / f"wrong__{name}.ipynb")
    loop = strip_outputs(good)
    cell(loop, sol_id).source = replace_region(first_sol.source, "while True:\n    pass")
    write(loop, subs / f"loop__{name}.ipynb")
    rows = grade.grade_folder(subs, timeout=TIMEOUT, log=None)
    return name, parts, sol_id, [r.as_csv() for r in rows]


def test_real_exercise(real_grades):
    name, parts, sol_id, rows = real_grades
    part_of_sol = sol_id.removesuffix("-sol")
    assert part_of_sol == parts[0][0], (sol_id, parts)
    full = [(g, "1", f"{p:g}", f"{p:g}", "") for g, p in parts]
    total_pts = f"{sum(p for _, p in parts):g}"
    n = len(parts)
    assert rows_of(rows, "ran") == full + [("total", "1", total_pts, total_pts, f"{n}/{n} parts passed")]
    assert rows_of(rows, "neverran") == rows_of(rows, "ran")
    first_pts = f"{parts[0][1]:g}"
    rest = f"{sum(p for _, p in parts[1:]):g}"
    wrong = rows_of(rows, "wrong")
    assert wrong[0][:4] == (parts[0][0], "0", "0", first_pts) and wrong[0][4].startswith("AssertionError"), wrong
    assert wrong[1:] == full[1:] + [("total", "0", rest, total_pts, f"{n - 1}/{n} parts passed")]
    assert rows_of(rows, "loop") == [(parts[0][0], "0", "0", first_pts, "timeout")] + full[1:] + [
        ("total", "0", rest, total_pts, f"{n - 1}/{n} parts passed")]
    assert {r["notebook"] for r in rows} == {name}
