"""The student release: exercises/ is generated from solutions/ by `python -m tools.release`, reproducibly, holds no
solution code and no hidden tests, runs top to bottom with every part saying "not implemented yet", and the
nbgrader layout is accepted by `nbgrader generate_assignment`.

Nothing here is skipped: with an empty solutions/ the tests over the real exercises fail.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from tools import release
from tools._paths import ROOT
from tools.build_notebooks import in_sync

FIXTURES = ROOT / "tests" / "fixtures" / "solutions"
EXPECTED = ["ex01_occupancy", "ex02_exact_gradient", "ex03_score_functions", "ex04_returns",
            "ex05_reinforce_baseline", "ex06_td_critic", "ex07_gae", "ex08_training_loop", "ex09_surrogate",
            "ex10_compatible_critic"]
SOURCES = release.solution_sources(release.SOLUTIONS)
NAMES = [p.stem for p in SOURCES]
PYTHON = sys.executable
VENV_BIN = str(Path(sys.executable).parent)


def run(*args, cwd=ROOT, env=None, timeout=300):
    return subprocess.run(list(args), check=False, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def release_main(capsys, *args) -> tuple[int, str, str]:
    """`python -m tools.release ARGS` in-process (a subprocess costs seconds of imports): (status, out, err)."""
    capsys.readouterr()
    status = release.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def nbg(cell) -> dict:
    return cell.metadata.get("nbgrader") or {}


# ---------------------------------------------------------------------------------------------------------------
# the real exercises


def test_every_exercise_has_a_solution_source():
    assert NAMES == EXPECTED, f"solutions/ holds {NAMES}, expected {EXPECTED}"


def test_exercises_are_up_to_date():
    """`python -m tools.release --check` passes (the command itself, as CI runs it): exercises/ is exactly what the
    solutions generate now."""
    assert SOURCES, "solutions/ is empty"
    r = run(PYTHON, "-m", "tools.release", "--check")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert f"is up to date ({len(EXPECTED)} exercises)" in r.stdout


def test_generation_is_deterministic(tmp_path):
    assert SOURCES, "solutions/ is empty"
    first = release.generate()
    assert release.generate() == first
    # the same sources elsewhere give the same bytes (no paths, times or random ids in the output)
    copy_dir = tmp_path / "solutions"
    copy_dir.mkdir()
    for p in SOURCES:
        shutil.copy(p, copy_dir / p.name)
    assert release.generate(copy_dir) == first


def _region_lines(source_nb, begin: str, end: str) -> set[str]:
    inside, outside = set(), set()
    for cell in source_nb.cells:
        flag = False
        for line in cell.source.splitlines():
            s = line.strip()
            if begin in s:
                flag = True
            elif end in s:
                flag = False
            elif s:
                (inside if flag else outside).add(s)
    # a line also written outside the region (a signature, a `return`, a comment) is not a giveaway
    return {s for s in inside - outside if len(s) >= 6 and re.search(r"[A-Za-z0-9]", s)}


@pytest.mark.parametrize("name", NAMES)
def test_student_version_has_no_solution_and_no_hidden_tests(name):
    source = release.load_source(release.SOLUTIONS / f"{name}.py")
    solution_lines = _region_lines(source, "### BEGIN SOLUTION", "### END SOLUTION")
    hidden_lines = _region_lines(source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    assert any(nbg(c).get("solution") for c in source.cells) and any(nbg(c).get("grade") for c in source.cells)
    for suffix in (".ipynb", ".py"):
        path = release.EXERCISES / f"{name}{suffix}"
        text = path.read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{path.name} contains {marker!r}"
        nb = nbformat.read(path, as_version=4) if suffix == ".ipynb" else jupytext.read(path)
        student_lines = {line.strip() for c in nb.cells for line in c.source.splitlines()}
        leaked = sorted((solution_lines | hidden_lines) & student_lines)
        assert not leaked, f"{path.name} contains solution/hidden-test lines: {leaked[:5]}"
    nb = nbformat.read(release.EXERCISES / f"{name}.ipynb", as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    # the nbgrader metadata is kept: the same grade_ids, in the same order, as the source
    assert [nbg(c).get("grade_id") for c in nb.cells] == [nbg(c).get("grade_id") for c in source.cells]
    assert in_sync(release.EXERCISES / f"{name}.py") is None


def _execute(path: Path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=False, record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def _assert_runs_with_every_part_not_implemented(nb, name):
    graded = [c for c in nb.cells if nbg(c).get("grade")]
    assert graded, f"{name}: no graded cell"
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        kinds = [o.output_type for o in c.outputs]
        assert "error" not in kinds, f"{name}: {c.source[:80]!r} raised"
        stderr = [o.text for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"{name}: {c.source[:80]!r} wrote to stderr: {stderr[0][:300]}"
    for c in graded:
        text = "".join(o.get("text", "") or "".join(v for k, v in o.get("data", {}).items() if k == "text/plain")
                       for o in c.outputs)
        assert "not implemented yet" in text.lower(), \
            f"{name}: graded cell {nbg(c)['grade_id']} does not say 'not implemented yet': {text[:300]!r}"


@pytest.mark.parametrize("name", NAMES)
def test_student_version_runs_and_every_part_says_not_implemented(name):
    nb = _execute(release.EXERCISES / f"{name}.ipynb")
    _assert_runs_with_every_part_not_implemented(nb, name)


@pytest.mark.slow
def test_nbgrader_accepts_the_course_layout(tmp_path, capsys):
    """`--nbgrader-source` + `nbgrader generate_assignment` (all assignments in one call): nbgrader's student
    version has the same cells as ours."""
    assert SOURCES, "solutions/ is empty"
    course = tmp_path / "course"
    status, _, err = release_main(capsys, "--nbgrader-source", str(course))
    assert status == 0, err
    assert (course / "nbgrader_config.py").read_text() == (ROOT / "nbgrader_config.py").read_text()
    for name in NAMES:
        assert (course / "source" / name / f"{name}.ipynb").is_file()
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    r = run(str(Path(VENV_BIN) / "nbgrader"), "generate_assignment", "ex*", cwd=course, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for name in NAMES:
        theirs = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        ours = nbformat.read(release.EXERCISES / f"{name}.ipynb", as_version=4)
        assert [c.source for c in theirs.cells] == [c.source for c in ours.cells], name
        assert [nbg(c).get("grade_id") for c in theirs.cells] == [nbg(c).get("grade_id") for c in ours.cells]


# ---------------------------------------------------------------------------------------------------------------
# the tool itself, on the fixture exercise (no dependence on solutions/)


@pytest.fixture
def fixture_release(tmp_path, capsys):
    out = tmp_path / "exercises"
    status, _, err = release_main(capsys, "--solutions", str(FIXTURES), "--exercises", str(out))
    assert status == 0, err
    return out


def test_fixture_release_and_check(fixture_release, capsys):
    out = fixture_release
    assert sorted(p.name for p in out.iterdir()) == ["ex99_fixture.ipynb", "ex99_fixture.py"]
    check = ("--check", "--solutions", str(FIXTURES), "--exercises", str(out))
    assert release_main(capsys, *check)[0] == 0
    py = out / "ex99_fixture.py"
    py.write_text(py.read_text().replace("# YOUR CODE HERE\n    raise NotImplementedError()", "return a + b", 1))
    (out / "ex98_stale.py").write_text("# %%\n")
    status, stdout, _ = release_main(capsys, *check)
    assert status == 1
    assert "exercises/ex99_fixture.py: differs" in stdout and "+    raise NotImplementedError()" in stdout
    assert "exercises/ex98_stale.py: has no source" in stdout
    (out / "ex99_fixture.ipynb").unlink()
    assert "exercises/ex99_fixture.ipynb: missing" in release_main(capsys, *check)[1]


def test_fixture_student_version(fixture_release):
    nb = nbformat.read(fixture_release / "ex99_fixture.ipynb", as_version=4)
    text = (fixture_release / "ex99_fixture.ipynb").read_text()
    for forbidden in ("BEGIN SOLUTION", "HIDDEN TESTS", "return a + b", "x * x", "assert add(2, 3) == 5"):
        assert forbidden not in text
    sol = [c for c in nb.cells if nbg(c).get("solution")]
    assert next(c.source for c in sol) == "def add(a, b):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    locked = [c for c in nb.cells if nbg(c).get("locked")]
    assert locked and all(c.metadata.get("deletable") is False for c in locked)
    assert nb.metadata == release.NB_METADATA
    assert [c.id for c in nb.cells][:3] == ["cell-000", "ex99-setup", "cell-002"]
    assert in_sync(fixture_release / "ex99_fixture.py") is None
    _assert_runs_with_every_part_not_implemented(_execute(fixture_release / "ex99_fixture.ipynb"), "ex99_fixture")


@pytest.mark.parametrize("source, message", [
    (('# %% nbgrader={"grade": false, "grade_id": "ex42-a", "locked": true, "schema_version": 3, "solution": false}\n'
     "### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"), "outside a solution cell"),
    (('# %% nbgrader={"grade": true, "grade_id": "ex42-p1", "locked": true, "points": 0, "schema_version": 3, '
     '"solution": false}\nx = 1\n'), "points > 0"),
    (('# %% nbgrader={"grade": false, "grade_id": "ex41-p1-sol", "locked": false, "schema_version": 3, '
     '"solution": true}\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n'), "must start with 'ex42-'"),
    ("# %%\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS\n", "hidden tests outside a graded cell"),
    (('# %% nbgrader={"grade": false, "grade_id": "ex42-s", "locked": false, "schema_version": 3, "solution": true}\n'
     "x = 1\n"), "exactly one ### BEGIN SOLUTION"),
])
def test_format_errors_are_reported(tmp_path, capsys, source, message):
    (tmp_path / "ex42_broken.py").write_text(source)
    with pytest.raises(release.ReleaseError, match=re.escape(message)):
        release.generate(tmp_path)
    status, _, err = release_main(capsys, "--solutions", str(tmp_path), "--exercises", str(tmp_path / "out"))
    assert status == 2 and message in err
