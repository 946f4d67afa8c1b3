"""Grade a folder of submitted exercise notebooks, as nbgrader's autograde does, without an nbgrader course.

    python -m tools.grade SUBMISSIONS_DIR --out grades.csv [--timeout 60] [--notebook-timeout 600]
                          [--jobs 1] [--solutions solutions/] [--feedback DIR]

Layouts accepted in SUBMISSIONS_DIR (both may be mixed; folders and files starting with "." are ignored):
  flat      SUBMISSIONS_DIR/<student>__<exNN_topic>.ipynb   (e.g. alice__ex04_returns.ipynb; a name without
            "__" is graded with the file name as the student)
  nbgrader  SUBMISSIONS_DIR/submitted/<student>/<assignment>/<notebook>.ipynb (SUBMISSIONS_DIR is the nbgrader
            course folder), or SUBMISSIONS_DIR/<student>/<assignment>/<notebook>.ipynb (it is the `submitted`
            folder itself); also <student>/<notebook>.ipynb.
The exercise is found from the notebook's name (exNN_topic, or just exNN in it), else from its grade_ids.

For each submission: the notebook is read (a corrupt or non-notebook file is recorded, not a crash); every locked
cell (the setup cell, and each part's graded check cell, hidden tests included) is replaced by the source version
from solutions/exNN_topic.py, matched by nbgrader grade_id, as nbgrader autograde does; a deleted graded cell is
not restored (that part gets 0, "missing cell"); a deleted locked non-graded cell (the setup) is put back; the
student's solution cells and any cells they added are kept. The notebook then runs top to bottom in a fresh
kernel (nbclient, allow_errors, a per-cell --timeout after which the kernel is interrupted, so a part that loops
forever costs only that part; --notebook-timeout caps the whole notebook). A part passes iff its graded cell ran
without an error; it then earns its points, else 0.

CSV columns (one row per student, notebook and part, then a `total` row per student and notebook; sorted by
student, notebook, then parts in the exercise's order):
  student     the student's name (from the file or folder name)
  notebook    the exercise, e.g. ex04_returns (the file's stem if no exercise matches)
  part        the graded cell's grade_id, e.g. ex04-p2; or "total"
  passed      1 if the part's graded cell ran without error, else 0; on the total row 1 iff every part passed
  points      points earned (the part's points or 0; the sum on the total row)
  max_points  the part's points (the sum on the total row)
  reason      empty when passed, else the first line of the error ("AssertionError", "NameError: name 'f' is
              not defined"), "timeout", "missing cell", "notebook time limit", "kernel died", or
              "unreadable submission: ..."; on the total row "k/n parts passed" (or why nothing was graded)
  file        the submission's path relative to SUBMISSIONS_DIR

Exit status 0 whatever the students did; 2 on misuse (no such folder, no notebooks in it, no solutions).
Student code runs with your privileges: grade untrusted submissions in a container or a throwaway account.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import csv
import math
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from tools.release import SOLUTIONS, load_source, solution_sources

COLUMNS = ["student", "notebook", "part", "passed", "points", "max_points", "reason", "file"]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
EXNUM = re.compile(r"ex(\d\d)")
GRACE = 10  # seconds a timed-out cell gets to react to the interrupt before its kernel is killed


# ----------------------------------------------------------------------------------------------------------------
# finding submissions and their exercise


@dataclass
class Submission:
    student: str
    path: Path
    rel: str  # path relative to the submissions folder, for the CSV


def find_submissions(folder: Path) -> list[Submission]:
    """Every submitted notebook in folder (flat or nbgrader layout, see the module docstring), sorted."""
    folder = Path(folder)
    subs = []
    for path in sorted(folder.rglob("*.ipynb")):
        rel_parts = path.relative_to(folder).parts
        if any(p.startswith(".") for p in rel_parts):
            continue  # .ipynb_checkpoints and the like
        if rel_parts[0] == "submitted" and len(rel_parts) > 1:
            rel_parts = rel_parts[1:]
        if len(rel_parts) == 1:
            stem = path.stem
            student = stem.split("__", 1)[0] if "__" in stem else stem
        elif len(rel_parts) in (2, 3):
            student = rel_parts[0]
        else:
            print(f"warning: ignoring {path} (not <student>__<notebook>.ipynb nor "
                  "<student>/<assignment>/<notebook>.ipynb)", file=sys.stderr)
            continue
        subs.append(Submission(student, path, path.relative_to(folder).as_posix()))
    return subs


def exercise_of(sub: Submission, nb, exercises: list[str]) -> str | None:
    """The exercise (a solutions stem) a submission is for: by file name, then assignment folder, then grade_ids."""
    stem = sub.path.stem
    folders = [p for p in Path(sub.rel).parts[:-1] if p != "submitted"][1:]  # the assignment folder, if any
    names = [stem.split("__", 1)[-1], stem, *folders]
    for name in names:
        if name in exercises:
            return name
    for name in names:
        for m in EXNUM.finditer(name):
            hits = [e for e in exercises if e.startswith(f"ex{m.group(1)}_")]
            if len(hits) == 1:
                return hits[0]
    if nb is not None:
        for cell in nb.cells:
            m = re.match(r"ex(\d\d)-", _gid(cell) or "")
            if m:
                hits = [e for e in exercises if e.startswith(f"ex{m.group(1)}_")]
                if len(hits) == 1:
                    return hits[0]
    return None


def read_notebook(path: Path):
    """(notebook, None) or (None, why it cannot be read)."""
    try:
        nb = nbformat.read(path, as_version=4)
        if not isinstance(nb.get("cells"), list):
            return None, "not a notebook (no cells)"
        for cell in nb.cells:
            if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
                return None, "not a valid notebook (bad cell)"
            cell.setdefault("metadata", nbformat.NotebookNode())
        return nb, None
    except Exception as e:  # noqa: BLE001 - any unreadable file is recorded, never a crash
        return None, f"{type(e).__name__}: {_first_line(str(e))}"


# ----------------------------------------------------------------------------------------------------------------
# putting the source's locked cells back


def _meta(cell) -> dict:
    meta = cell.metadata.get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _gid(cell) -> str | None:
    gid = _meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def _is_solution(cell) -> bool:
    return bool(_meta(cell).get("solution"))


def _is_graded(cell) -> bool:
    return bool(_meta(cell).get("grade")) and not _is_solution(cell)


def graded_parts(source_nb) -> list[tuple[str, float]]:
    """[(grade_id, points)] of the source's graded cells, in order."""
    return [(_gid(c), float(c.metadata["nbgrader"].get("points") or 0)) for c in source_nb.cells if _is_graded(c)]


def _fresh(cell):
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def restore_locked_cells(student_nb, source_nb):
    """The notebook to run: the student's cells, locked ones replaced by the source's (matched by grade_id).

    Solution cells keep the student's source (with the source's nbgrader metadata); cells the student added stay;
    nbgrader metadata the source does not know (or a duplicated grade_id after its first use) is dropped, so a
    copied cell is an ordinary cell. A missing graded cell stays missing; a missing locked non-graded cell (the
    setup) is inserted after the nearest source cell before it that is present. Outputs are cleared.
    """
    by_gid = {_gid(c): c for c in source_nb.cells if _gid(c)}
    cells, seen = [], set()
    for cell in student_nb.cells:
        cell = _fresh(cell)
        gid = _gid(cell)
        if gid is not None and (gid not in by_gid or gid in seen):
            cell.metadata.pop("nbgrader", None)
            gid = None
        if gid is not None:
            seen.add(gid)
            src = by_gid[gid]
            if _is_solution(src):
                if cell.cell_type != src.cell_type:  # e.g. turned into markdown: run the student's text as code
                    new = nbformat.v4.new_code_cell if src.cell_type == "code" else nbformat.v4.new_markdown_cell
                    cell = new(cell.source)
                cell.metadata["nbgrader"] = copy.deepcopy(src.metadata["nbgrader"])
            else:
                cell = _fresh(src)
        cells.append(cell)
    # put back deleted locked non-graded cells (not graded ones: a deleted part earns 0)
    order = [_gid(c) for c in source_nb.cells]
    for i, src in enumerate(source_nb.cells):
        gid = _gid(src)
        if gid is None or gid in seen or _is_solution(src) or _is_graded(src):
            continue
        before = {g for g in order[:i] if g}
        pos = 0
        for j, c in enumerate(cells):
            if _gid(c) in before:
                pos = j + 1
        cells.insert(pos, _fresh(src))
        seen.add(gid)
    nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(source_nb.metadata))
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i:04d}"
    return nb


# ----------------------------------------------------------------------------------------------------------------
# running it


class _Client(NotebookClient):
    """NotebookClient that remembers which cells hit the per-cell timeout."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.current_index: int | None = None
        self.timed_out: set[int] = set()

    async def _async_handle_timeout(self, timeout, cell=None):
        if self.current_index is not None:
            self.timed_out.add(self.current_index)
        return await super()._async_handle_timeout(timeout, cell)


@dataclass
class CellOutcome:
    ran: bool
    error: str | None = None  # None: ran without error


def _first_line(text: str) -> str:
    text = ANSI.sub("", text or "").strip()
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 160 else line[:157] + "..."


def run_notebook(nb, *, timeout: float, notebook_timeout: float, kernel_name: str = "python3",
                 cwd: str | None = None) -> dict[int, CellOutcome]:
    """Execute nb in place in a fresh kernel; {code cell index: outcome}. Never raises for the student's code."""
    outcomes: dict[int, CellOutcome] = {}
    client = _Client(nb, timeout=max(1, math.ceil(timeout)), kernel_name=kernel_name, allow_errors=True,
                     interrupt_on_timeout=True, record_timing=False, shutdown_kernel="immediate",
                     resources={"metadata": {"path": cwd or tempfile.gettempdir()}})
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]

    async def go():
        deadline = time.monotonic() + notebook_timeout
        count = 0
        async with client.async_setup_kernel():
            for k, i in enumerate(code):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    for j in code[k:]:
                        outcomes[j] = CellOutcome(False, "notebook time limit")
                    return
                client.timeout = max(1, math.ceil(min(timeout, remaining)))
                client.current_index = i
                count += 1
                task = asyncio.ensure_future(client.async_execute_cell(nb.cells[i], i, execution_count=count))
                # the grace period lets the interrupt land; a kernel that ignores it is killed (on leaving the
                # `async with`), and nothing more runs in this notebook
                done, _ = await asyncio.wait({task}, timeout=client.timeout + GRACE)
                if not done:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)  # nbclient turns the cancel into DeadKernelError
                    outcomes[i] = CellOutcome(False, "timeout")
                    for j in code[k + 1:]:
                        outcomes[j] = CellOutcome(False, "timeout (kernel did not stop; later cells not run)")
                    return
                try:
                    task.result()
                except DeadKernelError:
                    for j in code[k:]:
                        outcomes[j] = CellOutcome(False, "kernel died")
                    return
                errors = [o for o in nb.cells[i].get("outputs", []) if o.get("output_type") == "error"]
                if i in client.timed_out:  # cut short by the per-cell limit, or by what was left of the notebook's
                    capped = client.timeout < math.ceil(timeout)
                    outcomes[i] = CellOutcome(True, "notebook time limit" if capped else "timeout")
                elif errors:
                    e = errors[0]
                    msg = _first_line(e.get("evalue", ""))
                    outcomes[i] = CellOutcome(True, f"{e.get('ename', 'Error')}: {msg}" if msg else e.get("ename", "Error"))
                else:
                    outcomes[i] = CellOutcome(True, None)

    try:
        asyncio.run(go())
    except DeadKernelError:
        for i in code:
            outcomes.setdefault(i, CellOutcome(False, "kernel died"))
    except RuntimeError as e:  # the kernel did not start, etc.: record it against every cell not yet run
        for i in code:
            outcomes.setdefault(i, CellOutcome(False, f"kernel error: {_first_line(str(e))}"))
    return outcomes


# ----------------------------------------------------------------------------------------------------------------
# grading


@dataclass
class Row:
    student: str
    notebook: str
    part: str
    passed: int
    points: float
    max_points: float
    reason: str
    file: str

    def as_csv(self) -> dict[str, str]:
        return {"student": self.student, "notebook": self.notebook, "part": self.part, "passed": str(self.passed),
                "points": f"{self.points:g}", "max_points": f"{self.max_points:g}", "reason": self.reason,
                "file": self.file}


@dataclass
class Graded:
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0


def _total(student, notebook, parts: list[Row], file, reason=None) -> Row:
    n_ok = sum(r.passed for r in parts)
    return Row(student, notebook, "total", int(bool(parts) and n_ok == len(parts)), sum(r.points for r in parts),
               sum(r.max_points for r in parts), reason or f"{n_ok}/{len(parts)} parts passed", file)


def grade_submission(sub: Submission, sources: dict, *, timeout: float = 60, notebook_timeout: float = 600,
                     kernel_name: str = "python3", feedback: Path | None = None) -> Graded:
    """The CSV rows of one submission (part rows, then its total row)."""
    t0 = time.monotonic()
    nb, why = read_notebook(sub.path)
    exercise = exercise_of(sub, nb, sorted(sources))
    if exercise is None:
        reason = f"unreadable submission: {why}" if why else "no matching exercise in solutions/"
        return Graded([Row(sub.student, sub.path.stem, "total", 0, 0, 0, reason, sub.rel)],
                      time.monotonic() - t0)
    source = sources[exercise]
    parts = graded_parts(source)
    if nb is None:
        rows = [Row(sub.student, exercise, gid, 0, 0, pts, "unreadable submission", sub.rel) for gid, pts in parts]
        total = _total(sub.student, exercise, rows, sub.rel, f"unreadable submission: {why}")
        return Graded(rows + [total], time.monotonic() - t0)
    run = restore_locked_cells(nb, source)
    with tempfile.TemporaryDirectory(prefix="pgcourse-grade-") as cwd:
        outcomes = run_notebook(run, timeout=timeout, notebook_timeout=notebook_timeout, kernel_name=kernel_name,
                                cwd=cwd)
    where = {_gid(c): i for i, c in enumerate(run.cells) if _gid(c)}
    rows = []
    for gid, pts in parts:
        i = where.get(gid)
        if i is None:
            rows.append(Row(sub.student, exercise, gid, 0, 0, pts, "missing cell", sub.rel))
            continue
        out = outcomes.get(i, CellOutcome(False, "not run"))
        ok = out.ran and out.error is None
        rows.append(Row(sub.student, exercise, gid, int(ok), pts if ok else 0, pts, "" if ok else out.error, sub.rel))
    if feedback is not None:
        target = Path(feedback) / sub.student / f"{exercise}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(run, target)
    return Graded(rows + [_total(sub.student, exercise, rows, sub.rel)], time.monotonic() - t0)


def load_sources(solutions: Path = SOLUTIONS) -> dict:
    """{exercise stem: source notebook} from solutions/exNN_topic.py."""
    return {py.stem: load_source(py) for py in solution_sources(solutions)}


def grade_folder(folder: Path, *, solutions: Path = SOLUTIONS, timeout: float = 60, notebook_timeout: float = 600,
                 kernel_name: str = "python3", feedback: Path | None = None, jobs: int = 1, log=print) -> list[Row]:
    """Every row for every submission in folder, sorted (see the module docstring)."""
    sources = load_sources(solutions)

    def one(sub: Submission) -> Graded:
        g = grade_submission(sub, sources, timeout=timeout, notebook_timeout=notebook_timeout,
                             kernel_name=kernel_name, feedback=feedback)
        total = g.rows[-1]
        if log:
            log(f"{sub.rel}: {total.points:g}/{total.max_points:g} ({total.reason}) in {g.seconds:.1f} s")
        return g

    subs = find_submissions(folder)
    if jobs > 1:  # one kernel per thread; the rows do not depend on the order
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            graded = list(pool.map(one, subs))
    else:
        graded = [one(sub) for sub in subs]
    order = {}
    for g in graded:
        for r in g.rows:
            order.setdefault((r.student, r.notebook, r.file), []).append(r)
    return [r for key in sorted(order) for r in order[key]]


def write_csv(rows: list[Row], out: Path) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(r.as_csv())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.grade", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submissions", type=Path, help="folder of submitted notebooks (flat or nbgrader layout)")
    ap.add_argument("--out", type=Path, required=True, help="CSV file to write")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per cell before it is interrupted (60)")
    ap.add_argument("--notebook-timeout", type=float, default=600, help="seconds per notebook in all (600)")
    ap.add_argument("--solutions", type=Path, default=SOLUTIONS, help="folder of exNN_topic.py sources")
    ap.add_argument("--kernel", default="python3", help="kernel name (python3)")
    ap.add_argument("--jobs", type=int, default=1, help="notebooks graded at the same time (1)")
    ap.add_argument("--feedback", type=Path, metavar="DIR",
                    help="also write each executed notebook to DIR/<student>/<exercise>.ipynb")
    args = ap.parse_args(argv)
    if not args.submissions.is_dir():
        print(f"error: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    if args.timeout <= 0 or args.notebook_timeout <= 0 or args.jobs < 1:
        print("error: --timeout, --notebook-timeout and --jobs must be positive", file=sys.stderr)
        return 2
    if not solution_sources(args.solutions):
        print(f"error: no exNN_topic.py in {args.solutions}", file=sys.stderr)
        return 2
    if not find_submissions(args.submissions):
        print(f"error: no .ipynb submissions in {args.submissions}", file=sys.stderr)
        return 2
    rows = grade_folder(args.submissions, solutions=args.solutions, timeout=args.timeout,
                        notebook_timeout=args.notebook_timeout, kernel_name=args.kernel, feedback=args.feedback,
                        jobs=args.jobs)
    write_csv(rows, args.out)
    totals = [r for r in rows if r.part == "total"]
    print(f"{len(totals)} submissions graded; {len(rows)} rows written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
