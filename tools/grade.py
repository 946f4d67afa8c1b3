"""Grade a folder of submitted exercise notebooks: the students' code runs in a sandbox, the grading does not.

    python -m tools.grade SUBMISSIONS_DIR --out grades.csv [--feedback DIR] [--jobs N] [--timeout 30]
                          [--cell-timeout 30] [--notebook-timeout 120] [--solutions solutions/]
                          [--secret-file FILE] [--no-sandbox]
    python -m tools.grade --bench 200 [--jobs 2]      # the class-scale throughput benchmark

How a submission is graded (tools/grading/):
  1. trusted: the notebook is read as JSON (nothing in it runs here); its exercise is found from the file or folder
     name (`alice__ex04_returns.ipynb`, `henry-ex1-final.ipynb`, nbgrader's `submitted/<student>/<assignment>/`),
     else its nbgrader grade_ids, else the names of the functions it defines (a notebook pasted into a fresh one
     without metadata is still graded); of several submissions of one student for one exercise the latest
     (modification time) counts and the others are reported;
  2. trusted: for every part, the registered checker (pgcourse.checks) builds fresh inputs from a per-student seed,
     HMAC-SHA256(course secret, student/exercise/part) (secret: --secret-file, $PGCOURSE_GRADING_SECRET_FILE or
     $PGCOURSE_GRADING_SECRET; a documented default otherwise, fine for tests only);
  3. sandbox (bubblewrap, tools/grading/sandbox.py): per part, a fresh process runs the notebook's code cells (not
     the check cells) with the package functions the part asks for switched off and each earlier part it may call
     replaced by the reference, then calls the student's function on those inputs, and returns plain data only
     (.npz of numeric arrays, loaded with allow_pickle=False);
  4. trusted: the checker's judge compares with the exact answers and names the mistake.
Each part is graded on its own; the student's function runs once per test input.

CSV columns (one row per student, exercise and part, then a `total` row per student and exercise; an older
duplicate submission gets a `duplicate` row with 0 max points):
  student, notebook (the exercise), part (grade_id, e.g. ex04-p2, or total / duplicate), passed (0/1),
  points, max_points, reason (empty when passed, else the checker's diagnosis, e.g. "G_0 used instead of G_t";
  on the total row "k/n parts passed"), file (relative to SUBMISSIONS_DIR).
The CSV is written atomically (a temporary file, then os.replace), also every 10 s while grading (so a grader
killed half-way leaves the rows graded so far); --feedback DIR gets DIR/<student>/<exercise>.md.

Exit status 0 whatever the students did; 2 on misuse (no such folder, no notebooks, --out a directory, no
bubblewrap without --no-sandbox).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

if __package__ in (None, ""):  # run as a script from anywhere: python /path/to/tools/grade.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgcourse import checks
from tools._paths import SOLUTIONS
from tools.grading import sandbox
from tools.grading.evaluate import Evaluation, Limits, PartResult, evaluate_student, reason_of
from tools.grading.report import COLUMNS, Row, check_writable, write_csv, write_feedback
from tools.grading.seeds import course_secret
from tools.grading.submissions import (
    Submission,
    code_cells,
    exercise_of,
    find_submissions,
    latest_per_exercise,
    read_notebook,
)

__all__ = ["COLUMNS", "Row", "grade_folder", "main", "find_submissions", "points_of", "write_csv"]

NO_BWRAP = ("error: bubblewrap (bwrap) is not installed, and student code must not run unsandboxed: install it "
            "(`apt-get install -y bubblewrap`; `make grade` does) or pass --no-sandbox to run the students' code "
            "with your own permissions.")


def points_of(solutions: Path = SOLUTIONS) -> dict[str, dict[str, float]]:
    """{exercise: {grade_id: points}} from the graded cells of solutions/exNN_topic.py (1 point if absent)."""
    from tools.release import load_source, solution_sources
    out: dict[str, dict[str, float]] = {}
    for py in solution_sources(solutions):
        nb = load_source(py)
        out[py.stem] = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"].get("points") or 0)
                        for c in nb.cells if (c.metadata.get("nbgrader") or {}).get("grade")
                        and not c.metadata["nbgrader"].get("solution")}
    return out


def _total(student, exercise, parts: list[Row], file, reason=None) -> Row:
    n_ok = sum(r.passed for r in parts)
    return Row(student, exercise, "total", int(bool(parts) and n_ok == len(parts)), sum(r.points for r in parts),
               sum(r.max_points for r in parts), reason or f"{n_ok}/{len(parts)} parts passed", file)


def part_rows(sub: Submission, exercise: str, points: dict, ev) -> list[Row]:
    """The part rows of one submission: from its Evaluation, or 0 points each when ev is None (unreadable)."""
    chks = checks.checkers_of(exercise)
    pts = {c.grade_id: points.get(exercise, {}).get(c.grade_id, 1.0) for c in chks}
    if ev is None:
        return [Row(sub.student, exercise, c.grade_id, 0, 0, pts[c.grade_id], "unreadable submission", sub.rel)
                for c in chks]
    return [Row(sub.student, exercise, p.grade_id, int(p.passed), pts[p.grade_id] if p.passed else 0,
                pts[p.grade_id], "" if p.passed else reason_of(p.message), sub.rel) for p in ev.parts]


def grade_folder(folder: Path, *, solutions: Path = SOLUTIONS, limits: Limits | None = None, jobs: int | None = None,
                 secret: bytes | None = None, log=print, progress=None) -> list[Row]:
    """Every row for every submission in folder, sorted by student, exercise, then parts.
    progress(rows so far, sorted) is called after each student (e.g. to keep a partial CSV up to date)."""
    limits = limits or Limits()
    secret = course_secret() if secret is None else secret
    points = points_of(solutions)
    known = {ex: [c.function for c in checks.checkers_of(ex)] for ex in checks.exercises()}
    found, lost = [], []
    cache = {}
    for sub in find_submissions(folder):
        nb, why = read_notebook(sub.path)
        ex, _ = exercise_of(sub, nb, known)
        cache[sub.rel] = (nb, why)
        if ex is None:
            reason = f"unreadable submission: {why}" if why else "no exercise recognised (name, metadata or functions)"
            lost.append(Row(sub.student, sub.path.stem, "total", 0, 0, 0, reason, sub.rel))
        else:
            found.append((sub, ex))
    kept, dups = latest_per_exercise(found)

    def finish(sub: Submission, ex: str, parts: list[Row], seconds: float) -> list[Row]:
        nb, why = cache[sub.rel]
        older = dups.get(sub.rel, [])
        total = _total(sub.student, ex, parts, sub.rel, f"unreadable submission: {why}" if nb is None else None)
        if older:
            total.reason += f"; older duplicate(s) not graded: {', '.join(older)}"
        if log:
            log(f"{sub.rel}: {total.points:g}/{total.max_points:g} ({total.reason}) in {seconds:.1f} s")
        return parts + [total] + [Row(sub.student, ex, "duplicate", 0, 0, 0, f"superseded by {sub.rel} (later)", o)
                                  for o in older]

    def one_student(items) -> list[Row]:
        """All of one student's kept submissions, in one sandbox."""
        readable = [(sub, ex) for sub, ex in items if cache[sub.rel][0] is not None]
        rows = [r for sub, ex in items if cache[sub.rel][0] is None
                for r in finish(sub, ex, part_rows(sub, ex, points, None), 0.0)]
        if not readable:
            return rows
        t0 = time.monotonic()
        try:
            evs = evaluate_student([(code_cells(cache[sub.rel][0]), ex) for sub, ex in readable],
                                   readable[0][0].student, secret, limits)
        except Exception as e:  # noqa: BLE001 - one broken submission never stops the class's grading
            evs = [Evaluation(parts=[PartResult(c.grade_id, False, f"grader error: {type(e).__name__}: {e}")
                                     for c in checks.checkers_of(ex)]) for _, ex in readable]
        per = (time.monotonic() - t0) / len(readable)
        for (sub, ex), ev in zip(readable, evs, strict=True):
            rows += finish(sub, ex, part_rows(sub, ex, points, ev), per)
        return rows

    by_student: dict = {}
    for sub, ex in kept:
        by_student.setdefault(sub.student, []).append((sub, ex))
    order = {c.grade_id: c.part for ex in checks.exercises() for c in checks.checkers_of(ex)}
    kind = {"total": 10_000, "duplicate": 10_001}

    def ordered(rows):
        return sorted(rows, key=lambda r: (r.student, r.notebook, kind.get(r.part, order.get(r.part, 0)), r.file))

    jobs = jobs or os.cpu_count() or 1
    rows = list(lost)
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # one sandbox per worker, one student per sandbox
        for fut in as_completed([pool.submit(one_student, items) for items in by_student.values()]):
            rows += fut.result()
            if progress is not None:
                progress(ordered(rows))
    return ordered(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.grade", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submissions", type=Path, nargs="?", help="folder of submitted notebooks (flat or nbgrader layout)")
    ap.add_argument("--out", type=Path, help="CSV file to write")
    ap.add_argument("--feedback", type=Path, metavar="DIR", help="write DIR/<student>/<exercise>.md")
    ap.add_argument("--jobs", type=int, default=None, help="sandboxes at once (default: one per core)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds the student's function may take per part (30)")
    ap.add_argument("--cell-timeout", type=float, default=30, help="seconds per notebook cell (30)")
    ap.add_argument("--notebook-timeout", type=float, default=120, help="seconds for all cells, per part (120)")
    ap.add_argument("--solutions", type=Path, default=SOLUTIONS, help="folder of exNN_topic.py sources (points)")
    ap.add_argument("--secret-file", type=Path, help="the course secret for the per-student seeds")
    ap.add_argument("--no-sandbox", action="store_true", help="run the students' code without bubblewrap (unsafe)")
    ap.add_argument("--bench", type=int, metavar="STUDENTS", help="run the throughput benchmark instead")
    args = ap.parse_args(argv)
    if args.bench:
        from tools.grading.bench import run as bench
        return bench(args.bench, jobs=args.jobs, sandboxed=not args.no_sandbox)
    if args.submissions is None or args.out is None:
        ap.error("SUBMISSIONS_DIR and --out are required")
    if not args.submissions.is_dir():
        print(f"error: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    why = check_writable(args.out) or (check_writable(args.feedback / "x.md") if args.feedback else None)
    if why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    if min(args.timeout, args.cell_timeout, args.notebook_timeout) <= 0 or (args.jobs is not None and args.jobs < 1):
        print("error: --timeout, --cell-timeout, --notebook-timeout and --jobs must be positive", file=sys.stderr)
        return 2
    if not args.no_sandbox and sandbox.bwrap() is None:
        print(NO_BWRAP, file=sys.stderr)
        return 2
    from tools.release import solution_sources
    if not solution_sources(args.solutions):
        print(f"error: no exNN_topic.py in {args.solutions}", file=sys.stderr)
        return 2
    if not find_submissions(args.submissions):
        print(f"error: no .ipynb submissions in {args.submissions}", file=sys.stderr)
        return 2
    if args.no_sandbox:
        print("warning: --no-sandbox: the students' code runs with your permissions", file=sys.stderr)
    limits = Limits(time_limit=args.timeout, cell_timeout=args.cell_timeout, cells_timeout=args.notebook_timeout,
                    sandbox=not args.no_sandbox)
    last = [0.0]

    def partial(rows):  # a grader killed half-way still leaves a valid CSV of the students graded so far
        if time.monotonic() - last[0] > 10:
            write_csv(rows, args.out)
            last[0] = time.monotonic()

    rows = grade_folder(args.submissions, solutions=args.solutions, limits=limits, jobs=args.jobs,
                        secret=course_secret(args.secret_file), progress=partial)
    write_csv(rows, args.out)
    totals = [r for r in rows if r.part == "total"]
    print(f"{len(totals)} submissions graded; {len(rows)} rows written to {args.out}")
    if args.feedback:
        files = write_feedback([r for r in rows if r.notebook in checks.exercises()], args.feedback)
        print(f"{len(files)} feedback files in {args.feedback}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
