"""The class-scale grading benchmark: STUDENTS students x every exercise, graded end to end (sandboxed).

    python -m tools.grade --bench 200 [--jobs 2] [--no-sandbox]

The submissions are made from solutions/: most are the complete solution (as handed in: hidden tests and solution
markers removed), every seventh is the untouched student version (every part "not implemented yet"). Prints the
wall time, the time per submission and per student, and checks that the grades are the expected ones.
"""
from __future__ import annotations

import copy
import os
import resource
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests

from pgcourse import checks
from tools import release
from tools._paths import SOLUTIONS


def _as_submitted(nb):
    nb = copy.deepcopy(nb)
    nb, _ = ClearHiddenTests(enforce_metadata=False).preprocess(nb, {})
    for c in nb.cells:
        if (c.metadata.get("nbgrader") or {}).get("solution"):
            c.source = "\n".join(line for line in c.source.splitlines() if "### BEGIN SOLUTION" not in line
                                 and "### END SOLUTION" not in line)
    return nb


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process (the trusted grader, all threads) and of every sandbox so far (each
    sandbox's runner reports its own and its forked parts' usage; bubblewrap's processes are not counted)."""
    from tools.grading.evaluate import SANDBOX_CPU
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime + SANDBOX_CPU[0]


def make_class(folder: Path, students: int) -> dict[str, bool]:
    """Write students x exercises notebooks into folder; {file name: expected to pass every part}."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for k, ex in enumerate(checks.exercises()):
        source = release.load_source(SOLUTIONS / f"{ex}.py")
        good, stub = nbformat.writes(_as_submitted(source)), nbformat.writes(release.student_version(source))
        for i in range(students):
            name = f"student{i:03d}__{ex}.ipynb"
            ok = (i + k) % 7 != 0
            (folder / name).write_text(good if ok else stub, encoding="utf-8")
            expected[name] = ok
    return expected


def run(students: int, jobs: int | None = None, sandboxed: bool = True) -> int:
    from tools.grade import grade_folder
    from tools.grading.evaluate import Limits
    jobs = jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="pgcourse-bench-") as tmp:
        subs = Path(tmp) / "subs"
        t0 = time.monotonic()
        expected = make_class(subs, students)
        t_make = time.monotonic() - t0
        t0, cpu0 = time.monotonic(), _cpu_seconds()
        rows = grade_folder(subs, limits=Limits(sandbox=sandboxed), jobs=jobs, log=None)
        seconds, cpu = time.monotonic() - t0, _cpu_seconds() - cpu0
    totals = {r.file: r for r in rows if r.part == "total"}
    wrong = [f for f, ok in expected.items() if (totals[f].passed == 1) != ok]
    n = len(expected)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"grading benchmark: {students} students x {len(checks.exercises())} exercises = {n} submissions, "
          f"{sum(r.part not in ('total', 'duplicate') for r in rows)} parts, {jobs} sandboxes at once on "
          f"{os.cpu_count()} cores ({'sandboxed' if sandboxed else 'no sandbox'}; load average {load:.1f})")
    print(f"  made the submissions in {t_make:.1f} s; graded in {seconds:.1f} s = {seconds / 60:.1f} min "
          f"({seconds / n:.2f} s per submission, {seconds / students:.2f} s per student); target <= 10 min for "
          f"200 x 8 on 2 cores")
    print(f"  CPU time used (grader + sandboxes, user + system): {cpu:.1f} s = {cpu / n:.2f} s per submission; "
          f"on {os.cpu_count()} otherwise idle cores the grading needs at least "
          f"{cpu / (os.cpu_count() or 1) / 60:.1f} min "
          f"(the wall time above includes whatever else ran on the machine)")
    print(f"  at this rate 200 students x 8 exercises take {seconds / n * 1600 / 60:.1f} min")
    print(f"  grades as expected: {n - len(wrong)}/{n}" + (f" (unexpected: {wrong[:5]})" if wrong else ""))
    for f in wrong[:5]:
        why = sorted({r.reason for r in rows if r.file == f and r.part not in ("total", "duplicate") and r.reason})
        print(f"    {f}: {totals[f].reason}; {why[:2]}")
    return 0 if not wrong else 1
