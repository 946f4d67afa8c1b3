"""tools.grade on submissions made from solutions/ (tests/fixtures/submissions.py): the CSV, ids, duplicates,
exercises found without metadata, parts graded on their own, time limits, misuse, feedback, seeds.
The attacks (a cheating student) are in tests/test_attacks.py."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from fixtures.submissions import add_cell, honest, parts_of, read_csv, replace_body, without_metadata, write, wrong
from pgcourse import checks
from pgcourse.checks._core import build_cases
from tools import grade
from tools._paths import ROOT
from tools.grading import sandbox, seeds
from tools.grading.submissions import parse_name

HAVE_BWRAP = sandbox.bwrap() is not None
if not HAVE_BWRAP and os.environ.get("CI") != "true":
    pytest.skip("bubblewrap (bwrap) is not installed: `apt-get install -y bubblewrap` to run the grading tests "
                "(in CI they must run)", allow_module_level=True)

FULL4 = {"ex04-p1": ("1", "1", ""), "ex04-p2": ("1", "2", ""), "ex04-p3": ("1", "2", ""),
         "total": ("1", "5", "3/3 parts passed")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    subs = tmp / "subs"
    write(honest("ex04_returns"), subs / "alice__ex04_returns.ipynb")
    write(wrong("ex04_returns", {"ex04-p2-sol"}), subs / "bob__ex04_returns.ipynb")
    write(wrong("ex04_returns"), subs / "henry-ex4-draft.ipynb")
    old = time.time() - 100
    os.utime(subs / "henry-ex4-draft.ipynb", (old, old))
    write(honest("ex04_returns"), subs / "henry-ex4-final.ipynb")  # the latest: counts
    write(without_metadata(wrong("ex01_occupancy")), subs / "zed.ipynb")  # pasted: no metadata, no exercise name
    write(honest("ex04_returns"), subs / "submitted" / "kim" / "ex04_returns" / "ex04_returns.ipynb")
    loop = honest("ex04_returns")
    replace_body(loop, "ex04-p1-sol", "while True:\n    pass")
    write(loop, subs / "liam__ex04_returns.ipynb")
    stuck = add_cell(honest("ex04_returns"), "while True:\n    pass", index=2)  # a cell that never ends
    write(stuck, subs / "mia__ex04_returns.ipynb")
    (subs / "frank__ex04_returns.ipynb").write_text("{ not json", encoding="utf-8")
    gone = honest("ex04_returns")
    gone.cells = [c for c in gone.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") != "ex04-p3-sol"]
    write(gone, subs / "nina__ex04_returns.ipynb")
    write(honest("ex04_returns"), subs / ".ipynb_checkpoints" / "alice__ex04_returns-checkpoint.ipynb")
    out = tmp / "grades.csv"
    status = grade.main([str(subs), "--out", str(out), "--feedback", str(tmp / "feedback"), "--jobs", "2",
                         "--timeout", "3", "--cell-timeout", "3", "--notebook-timeout", "10"])
    return status, read_csv(out), tmp


def test_honest_full_marks_and_layouts(graded):
    status, rows, _ = graded
    assert status == 0
    assert parts_of(rows, "alice") == FULL4
    assert parts_of(rows, "kim") == FULL4  # nbgrader layout
    assert {r["file"] for r in rows if r["student"] == "kim"} == {"submitted/kim/ex04_returns/ex04_returns.ipynb"}
    assert [r["file"] for r in rows if r["student"] == "alice"] == ["alice__ex04_returns.ipynb"] * 4  # no checkpoint


def test_wrong_part_gets_its_diagnosis_and_only_its_points(graded):
    bob = parts_of(graded[1], "bob")
    assert bob["ex04-p2"][:2] == ("0", "0") and "mask ignored" in bob["ex04-p2"][2]
    assert "AssertionError" not in bob["ex04-p2"][2]
    assert bob["ex04-p1"] == FULL4["ex04-p1"] and bob["ex04-p3"] == FULL4["ex04-p3"]
    assert bob["total"] == ("0", "3", "2/3 parts passed")


def test_latest_duplicate_counts_and_the_older_is_reported(graded):
    rows = graded[1]
    henry = [r for r in rows if r["student"] == "henry"]
    assert parts_of(rows, "henry")["total"][:2] == ("1", "5")
    assert "henry-ex4-draft.ipynb" in parts_of(rows, "henry")["total"][2]
    dup = [r for r in henry if r["part"] == "duplicate"]
    assert [(d["file"], d["max_points"]) for d in dup] == [("henry-ex4-draft.ipynb", "0")]
    assert sum(r["part"] == "total" for r in henry) == 1


def test_notebook_without_metadata_is_graded_by_its_functions_and_parts_are_independent(graded):
    zed = parts_of(graded[1], "zed")
    assert set(zed) == {"ex01-p1", "ex01-p2", "ex01-p3", "ex01-p4", "total"}
    assert zed["ex01-p2"][0] == "0" and "d^pi" in zed["ex01-p2"][2]
    assert zed["ex01-p3"][0] == "1"  # Part 3 calls the wrong Part 2: the reference is substituted
    assert zed["total"][:2] == ("0", "5")


def test_endless_function_and_endless_cell_cost_only_what_they_block(graded):
    liam = parts_of(graded[1], "liam")
    assert liam["ex04-p1"][0] == "0" and "time limit" in liam["ex04-p1"][2]
    assert liam["ex04-p2"] == FULL4["ex04-p2"] and liam["ex04-p3"] == FULL4["ex04-p3"]
    mia = parts_of(graded[1], "mia")  # the endless cell is stopped; the functions defined after it still count
    assert mia == FULL4, mia


def test_corrupt_and_missing_function(graded):
    frank = parts_of(graded[1], "frank")
    assert frank["total"][:2] == ("0", "0") and "unreadable submission" in frank["total"][2]
    assert all(v[2] == "unreadable submission" for k, v in frank.items() if k != "total")
    nina = parts_of(graded[1], "nina")
    assert nina["ex04-p3"][0] == "0" and "stream_returns is not defined" in nina["ex04-p3"][2]
    assert nina["ex04-p1"][0] == "1"


def test_feedback_files(graded):
    fb = graded[2] / "feedback"
    text = (fb / "bob" / "ex04_returns.md").read_text()
    assert "ex04-p2" in text and "mask" in text and "3 / 5 points" in text
    assert "BEGIN" not in text and "assert" not in text
    assert (fb / "zed" / "ex01_occupancy.md").exists()


@pytest.mark.parametrize("stem,student,ex", [
    ("alice__ex04_returns", "alice", "ex04_returns"), ("henry-ex1-final", "henry", "ex1-final"),
    ("henry__ex01_occupancy", "henry", "ex01_occupancy"), ("ex04_returns-bob", "bob", "ex04_returns"),
    ("Mary Jane ex07 (2)", "Mary-Jane", "ex07"), ("carol", "carol", None)])
def test_student_ids_parse(stem, student, ex):
    assert parse_name(stem) == (student, ex)


def test_misuse_exits_nonzero_before_grading(tmp_path, capsys, monkeypatch):
    out = tmp_path / "g.csv"
    assert grade.main([str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert grade.main([str(tmp_path), "--out", str(out)]) == 2
    assert "no .ipynb submissions" in capsys.readouterr().err
    write(honest("ex04_returns"), tmp_path / "s" / "a__ex04_returns.ipynb")
    (tmp_path / "adir").mkdir()
    assert grade.main([str(tmp_path / "s"), "--out", str(tmp_path / "adir")]) == 2
    assert "is a directory" in capsys.readouterr().err
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    assert grade.main([str(tmp_path / "s"), "--out", str(out)]) == 2
    assert "--no-sandbox" in capsys.readouterr().err
    assert not out.exists()


def test_no_sandbox_runs_each_input_once_and_writes_atomically(tmp_path):
    counter = tmp_path / "calls.txt"
    nb = honest("ex04_returns")
    replace_body(nb, "ex04-p1-sol", f"open({str(counter)!r}, 'a').write('x')\n"
                                    "G = np.zeros(len(rewards))\nrunning = 0.0\n"
                                    "for t in range(len(rewards) - 1, -1, -1):\n"
                                    "    running = rewards[t] + gamma * running\n    G[t] = running\nreturn G")
    write(nb, tmp_path / "s" / "a__ex04_returns.ipynb")
    out = tmp_path / "g.csv"
    out.write_text("old")
    assert grade.main([str(tmp_path / "s"), "--out", str(out), "--no-sandbox", "--jobs", "1"]) == 0
    rows = read_csv(out)
    assert parts_of(rows, "a") == FULL4
    chk = checks.REGISTRY["check_episode_returns"]
    n_inputs = sum(len(c.calls) for c in build_cases(chk, 0))
    assert counter.read_text() == "x" * n_inputs  # once per test input, never twice (no visible check re-run)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".g.csv")] == []


def test_seeds_are_per_student_and_per_secret():
    s = seeds.course_secret()
    a, b = seeds.part_seed(s, "alice", "ex04_returns", 1), seeds.part_seed(s, "bob", "ex04_returns", 1)
    assert a != b and a == seeds.part_seed(s, "alice", "ex04_returns", 1)
    assert seeds.part_seed(b"other", "alice", "ex04_returns", 1) != a
    assert a != seeds.part_seed(s, "alice", "ex04_returns", 2)


def test_grade_runs_as_a_script_from_any_directory(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "grade.py"), "--help"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "sandbox" in r.stdout
    course = tmp_path / "course"
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "release.py"), "--nbgrader-source", str(course)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (course / "nbgrader_config.py").exists() and list((course / "source").glob("ex*/ex*.ipynb"))


def test_make_grade_installs_bubblewrap():
    make = (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "command -v bwrap" in make and "bubblewrap" in make
    assert "command -v bwrap" in ci and "bubblewrap" in ci
    assert shutil.which("bwrap") or os.environ.get("CI") != "true"


def test_class_smoke_every_exercise_through_the_sandbox(capsys):
    """The benchmark at smoke size: 2 students x every exercise (complete solutions and untouched stubs),
    sandboxed; every grade as expected."""
    from tools.grading.bench import run
    assert run(2, jobs=2) == 0, capsys.readouterr().out
    n = 2 * len(checks.exercises())
    assert f"grades as expected: {n}/{n}" in capsys.readouterr().out
