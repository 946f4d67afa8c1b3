"""Generate the student exercises from the solutions (the single source), check them, or export them to nbgrader.

    python -m tools.release                          # write exercises/exNN_topic.{ipynb,py} from solutions/
    python -m tools.release --check                  # exit 1 (with a summary of what differs) if exercises/ is stale
    python -m tools.release --nbgrader-source DIR    # lay the solutions out as an nbgrader course in DIR
    python /path/to/repo/tools/release.py ...        # the same from any directory

The source of each exercise is `solutions/exNN_topic.py` (jupytext percent format, nbgrader cell metadata in the
cell headers). The student version is made in-process with nbgrader's own preprocessors, as
`nbgrader generate_assignment` would: `ClearSolutions` (each `### BEGIN SOLUTION ... ### END SOLUTION` region
becomes `# YOUR CODE HERE` / `raise NotImplementedError()`), `ClearHiddenTests` (each
`### BEGIN HIDDEN TESTS ... ### END HIDDEN TESTS` region is removed), nbconvert's `ClearOutput`, and `LockCells`
(locked and graded cells are marked non-deletable, so Jupyter refuses to delete them). The nbgrader cell metadata
is kept, so nbgrader (and `tools.grade`) recognise every part. `exercises/exNN_topic.ipynb` has no outputs and no
execution counts; `exercises/exNN_topic.py` is its jupytext percent twin, for review.

The output is deterministic: cell ids are derived from the grade_id (or the cell's position), the notebook
metadata is fixed, and the JSON is written with sorted keys, so the same sources give byte-identical files.

nbgrader layout (`--nbgrader-source DIR`): one nbgrader assignment per exercise, named like the exercise:
`DIR/source/exNN_topic/exNN_topic.ipynb` holds the complete solution notebook (no outputs); if DIR has no
`nbgrader_config.py`, a copy of the repository's one is written there. Then, in DIR:
`nbgrader generate_assignment exNN_topic`, `nbgrader autograde exNN_topic`, ... (the venv's bin on PATH).
One assignment per exercise because nbgrader releases, collects and grades per assignment (one deadline each).
"""
from __future__ import annotations

import argparse
import copy
import difflib
import re
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script from any directory: python /path/to/repo/tools/release.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jupytext
import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, LockCells

from tools._paths import EXERCISES, ROOT, SOLUTIONS

NBGRADER_CONFIG = ROOT / "nbgrader_config.py"

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
NAME_RE = re.compile(r"^ex(\d\d)_[a-z0-9_]+$")
NB_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
# what jupytext.toml keeps in a .py twin
JUPYTEXT_FILTERS = {"notebook_metadata_filter": "-all", "cell_metadata_filter": "tags,nbgrader,-all"}


class ReleaseError(ValueError):
    """A solution notebook that does not follow the exercise format (see the message)."""


def solution_sources(solutions: Path = SOLUTIONS) -> list[Path]:
    """The exercise sources: solutions/exNN_topic.py, sorted by name."""
    return sorted(p for p in Path(solutions).glob("ex*.py") if NAME_RE.match(p.stem))


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) or {}


def validate(nb, name: str) -> None:
    """Raise ReleaseError unless nb follows the exercise format (docs: helper_briefs/exercises.md).

    Checked: grade_ids unique and prefixed `exNN-`; every graded cell has points > 0; every solution cell holds
    one `### BEGIN SOLUTION`/`### END SOLUTION` region and no other cell does; hidden tests only in graded cells.
    """
    m = NAME_RE.match(name)
    if not m:
        raise ReleaseError(f"{name}: an exercise file must be named exNN_topic (lower case)")
    prefix = f"ex{m.group(1)}-"
    seen: set[str] = set()
    for i, cell in enumerate(nb.cells):
        meta = _nbgrader(cell)
        where = f"{name}: cell {i}"
        src = cell.source
        if meta:
            gid = meta.get("grade_id")
            if not gid:
                raise ReleaseError(f"{where} has nbgrader metadata but no grade_id")
            where = f"{name}: cell {gid!r}"
            if not gid.startswith(prefix):
                raise ReleaseError(f"{where}: grade_id must start with {prefix!r}")
            if gid in seen:
                raise ReleaseError(f"{where}: duplicate grade_id")
            seen.add(gid)
            if meta.get("grade") and not (float(meta.get("points") or 0) > 0):
                raise ReleaseError(f"{where}: a graded cell needs points > 0")
        if meta.get("solution"):
            if src.count(BEGIN_SOLUTION) != 1 or src.count(END_SOLUTION) != 1:
                raise ReleaseError(f"{where}: a solution cell needs exactly one {BEGIN_SOLUTION} ... {END_SOLUTION}")
        elif BEGIN_SOLUTION in src or END_SOLUTION in src:
            raise ReleaseError(f"{where}: {BEGIN_SOLUTION} outside a solution cell (\"solution\": true)")
        if (BEGIN_HIDDEN in src or END_HIDDEN in src) and not meta.get("grade"):
            raise ReleaseError(f"{where}: hidden tests outside a graded cell (\"grade\": true)")
        if src.count(BEGIN_HIDDEN) != src.count(END_HIDDEN):
            raise ReleaseError(f"{where}: unbalanced {BEGIN_HIDDEN} / {END_HIDDEN}")


def normalise(nb):
    """Fixed notebook metadata, only nbgrader/tags cell metadata, deterministic cell ids, no outputs."""
    nb.metadata = copy.deepcopy(NB_METADATA)
    nb.nbformat, nb.nbformat_minor = 4, 5
    used: set[str] = set()
    for i, cell in enumerate(nb.cells):
        keep = {k: cell.metadata[k] for k in ("nbgrader", "tags") if k in cell.metadata}
        cell.metadata = nbformat.from_dict(keep)
        gid = _nbgrader(cell).get("grade_id")
        cid = gid if gid and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", gid) and gid not in used else f"cell-{i:03d}"
        used.add(cid)
        cell.id = cid
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    return nb


def load_source(py: Path):
    """The solution notebook read from its percent-format .py, validated and normalised."""
    py = Path(py)
    nb = jupytext.read(py)
    validate(nb, py.stem)
    return normalise(nb)


def student_version(source_nb):
    """The student notebook: solutions cleared, hidden tests removed, outputs cleared, locked cells locked."""
    nb = copy.deepcopy(source_nb)
    resources: dict = {}
    for pp in (ClearSolutions(enforce_metadata=False), ClearHiddenTests(enforce_metadata=False),
               ClearOutputPreprocessor(), LockCells()):
        nb, resources = pp.preprocess(nb, resources)
    nb.metadata = copy.deepcopy(NB_METADATA)
    for cell in nb.cells:
        cell.source = cell.source.rstrip()
    return nb


def ipynb_text(nb) -> str:
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def py_text(nb) -> str:
    """The jupytext percent twin (same filters as jupytext.toml)."""
    nb = copy.deepcopy(nb)
    nb.metadata["jupytext"] = dict(JUPYTEXT_FILTERS)
    return jupytext.writes(nb, fmt="py:percent")


def generate(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """{file name: text} of every exercise file generated from the solutions (nothing written)."""
    files: dict[str, str] = {}
    for py in solution_sources(solutions):
        nb = student_version(load_source(py))
        files[py.stem + ".ipynb"] = ipynb_text(nb)
        files[py.stem + ".py"] = py_text(nb)
    return files


def existing(exercises: Path) -> dict[str, str]:
    found = {}
    for p in sorted(Path(exercises).glob("ex*")):
        if p.suffix in (".ipynb", ".py") and p.is_file():
            found[p.name] = p.read_text(encoding="utf-8")
    return found


def differences(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[str]:
    """Human-readable list of what differs between exercises/ and what would be generated now ([] if nothing)."""
    want, have = generate(solutions), existing(exercises)
    out = []
    for name in sorted(set(want) | set(have)):
        rel = f"{Path(exercises).name}/{name}"
        if name not in have:
            out.append(f"{rel}: missing (would be generated)")
        elif name not in want:
            out.append(f"{rel}: has no source in {Path(solutions).name}/ (would not be generated)")
        elif want[name] != have[name]:
            diff = list(difflib.unified_diff(have[name].splitlines(), want[name].splitlines(),
                                             f"{rel} (on disk)", f"{rel} (generated now)", n=1, lineterm=""))
            shown = "\n".join("    " + line for line in diff[:24])
            more = f"\n    ... ({len(diff) - 24} more diff lines)" if len(diff) > 24 else ""
            out.append(f"{rel}: differs from what would be generated now\n{shown}{more}")
    return out


def write(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[str]:
    """Write every generated file (only those whose content changed); return the names written."""
    exercises = Path(exercises)
    exercises.mkdir(parents=True, exist_ok=True)
    written = []
    files = generate(solutions)
    # .ipynb before its .py twin, so the text file is never older than the notebook (jupytext pairing)
    for name in sorted(files, key=lambda n: (n.rsplit(".", 1)[0], n.endswith(".py"))):
        path = exercises / name
        if not path.exists() or path.read_text(encoding="utf-8") != files[name]:
            path.write_text(files[name], encoding="utf-8")
            written.append(name)
    return written


def nbgrader_source(course: Path, solutions: Path = SOLUTIONS) -> list[Path]:
    """Lay the solutions out as nbgrader's `course/source/<exNN_topic>/<exNN_topic>.ipynb` (one assignment each).

    Writes course/nbgrader_config.py (a copy of the repository's) unless the course already has one.
    Returns the notebooks written.
    """
    course = Path(course)
    written = []
    for py in solution_sources(solutions):
        nb = load_source(py)
        target = course / "source" / py.stem / (py.stem + ".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(ipynb_text(nb), encoding="utf-8")
        written.append(target)
    config = course / "nbgrader_config.py"
    if not config.exists():
        shutil.copyfile(NBGRADER_CONFIG, config)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.release", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only check that exercises/ is up to date (exit 1 if not)")
    ap.add_argument("--nbgrader-source", type=Path, metavar="DIR",
                    help="write DIR/source/<exNN_topic>/<exNN_topic>.ipynb for nbgrader instead")
    ap.add_argument("--solutions", type=Path, default=SOLUTIONS,
                    help="folder of exNN_topic.py sources (default solutions/)")
    ap.add_argument("--exercises", type=Path, default=EXERCISES, help="output folder (default exercises/)")
    args = ap.parse_args(argv)
    sources = solution_sources(args.solutions)
    if not sources:
        print(f"error: no exNN_topic.py in {args.solutions}", file=sys.stderr)
        return 2
    try:
        if args.nbgrader_source:
            paths = nbgrader_source(args.nbgrader_source, args.solutions)
            for p in paths:
                print(p)
            print(f"{len(paths)} nbgrader assignments in {args.nbgrader_source / 'source'}; then, in "
                  f"{args.nbgrader_source}: nbgrader generate_assignment <exNN_topic>")
            return 0
        if args.check:
            problems = differences(args.solutions, args.exercises)
            if problems:
                print("\n".join(problems))
                print(f"\n{len(problems)} file(s) out of date: run `make release` "
                      "(python -m tools.release) and commit exercises/")
                return 1
            print(f"{args.exercises.name}/ is up to date ({len(sources)} exercises)")
            return 0
        written = write(args.solutions, args.exercises)
        print(f"{len(sources)} exercises; {len(written)} file(s) written to {args.exercises}"
              + (": " + ", ".join(written) if written else " (all up to date)"))
        return 0
    except ReleaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
