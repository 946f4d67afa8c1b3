"""Finding submitted notebooks, the student of each, its exercise, and the latest of duplicates (trusted)."""
from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

EX_TOKEN = re.compile(r"(?<![a-z0-9])ex[-_ ]?0*(\d{1,2})(?:[-_ ]?([a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*))?", re.I)
NOISE = re.compile(r"(?i)(?<![a-z0-9])(final|v\d+|version\d*|copy|submission|submit|draft|new|old|\(\d+\)|\d+)"
                   r"(?![a-z0-9])")
MAX_NOTEBOOK_BYTES = 20_000_000


@dataclass
class Submission:
    student: str
    path: Path
    rel: str  # path relative to the submissions folder, for the CSV
    hint: str | None = None  # the exercise named by the file or folder name, if any (exNN_topic or exNN)


def _clean_student(text: str) -> str:
    text = NOISE.sub(" ", text)
    text = re.sub(r"[^A-Za-z0-9@.+]+", " ", text).strip(" .")
    return re.sub(r"\s+", "-", text)


def parse_name(stem: str) -> tuple[str, str | None]:
    """(student, exercise hint) from a flat file name: alice__ex04_returns, henry-ex1-final, ex04_bob, carol."""
    if "__" in stem:
        student, rest = stem.split("__", 1)
        m = EX_TOKEN.search(rest)
        return _clean_student(student) or student, (m.group(0) if m else rest)
    m = EX_TOKEN.search(stem)
    if not m:
        return _clean_student(stem) or stem, None
    before, after = stem[: m.start()], stem[m.end():]
    student = _clean_student(before) or _clean_student(after) or stem
    return student, m.group(0)


def find_submissions(folder: Path) -> list[Submission]:
    """Every submitted notebook in folder (flat, or nbgrader's [submitted/]<student>/<assignment>/<nb>.ipynb)."""
    folder = Path(folder)
    subs = []
    for path in sorted(folder.rglob("*.ipynb")):
        rel_parts = path.relative_to(folder).parts
        if any(p.startswith(".") for p in rel_parts) or not path.is_file():
            continue  # .ipynb_checkpoints and the like
        if rel_parts[0] == "submitted" and len(rel_parts) > 1:
            rel_parts = rel_parts[1:]
        if len(rel_parts) == 1:
            student, hint = parse_name(path.stem)
        elif len(rel_parts) in (2, 3):
            student = rel_parts[0]
            hint = next((p for p in (*rel_parts[1:-1], path.stem) if EX_TOKEN.search(p)), None)
        else:
            print(f"warning: ignoring {path} (not <student>__<notebook>.ipynb nor "
                  "<student>/<assignment>/<notebook>.ipynb)", file=sys.stderr)
            continue
        subs.append(Submission(student, path, path.relative_to(folder).as_posix(), hint))
    return subs


def read_notebook(path: Path):
    """(notebook dict, None) or (None, why it cannot be read). Plain JSON: nothing in it is executed here."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None, f"larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB"
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return None, f"{type(e).__name__}: {str(e).splitlines()[0][:150] if str(e) else ''}"
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        return None, "not a notebook (no cells)"
    for c in cells:
        if not isinstance(c, dict) or c.get("cell_type") not in ("code", "markdown", "raw"):
            return None, "not a valid notebook (bad cell)"
        src = c.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if not isinstance(src, str):
            return None, "not a valid notebook (bad cell source)"
        c["source"] = src
        if not isinstance(c.get("metadata"), dict):
            c["metadata"] = {}
    return nb, None


def nbgrader_meta(cell) -> dict:
    m = cell.get("metadata", {}).get("nbgrader")
    return m if isinstance(m, dict) else {}


def code_cells(nb) -> list[str]:
    """The code cells to run in the sandbox: every code cell except the graded check cells (the visible checks
    are not run twice; the grader judges each part itself)."""
    out = []
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        m = nbgrader_meta(c)
        if m.get("grade") and not m.get("solution"):
            continue
        out.append(c["source"])
    return out


def defined_functions(nb) -> set[str]:
    names = set()
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("\n".join("pass" if ln.lstrip().startswith(("%", "!")) else ln
                                       for ln in c["source"].splitlines()))
        except (SyntaxError, ValueError):
            names.update(re.findall(r"^\s*def\s+([A-Za-z_]\w*)", c["source"], re.M))
            continue
        names.update(n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
        names.update(t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
                     if isinstance(t, ast.Name))
    return names


def exercise_of(sub: Submission, nb, exercises: dict[str, list[str]]) -> tuple[str | None, str]:
    """(exercise, how it was found): by the name, then the nbgrader grade_ids, then the function names defined.
    exercises: {exNN_topic: [the student functions of its parts]}."""
    def by_number(n: int):
        hits = [e for e in exercises if e.startswith(f"ex{n:02d}_")]
        return hits[0] if len(hits) == 1 else None

    if sub.hint:
        if sub.hint in exercises:
            return sub.hint, "name"
        m = EX_TOKEN.search(sub.hint)
        if m and by_number(int(m.group(1))):
            return by_number(int(m.group(1))), "name"
    if nb is None:
        return None, ""
    for c in nb["cells"]:
        m = re.match(r"ex(\d\d)-", str(nbgrader_meta(c).get("grade_id", "")))
        if m and by_number(int(m.group(1))):
            return by_number(int(m.group(1))), "metadata"
    names = defined_functions(nb)
    scores = {e: len(names & set(fns)) / len(fns) for e, fns in exercises.items() if fns}
    best = max(scores, key=scores.get, default=None)
    if best is not None and scores[best] > 0:
        return best, "function names"
    return None, ""


def latest_per_exercise(found: list[tuple[Submission, str]]) -> tuple[list, dict]:
    """Keep the latest submission per (student, exercise) (modification time, then name); return (kept, {kept
    rel: [the older duplicates' rel]})."""
    groups: dict = {}
    for sub, ex in found:
        groups.setdefault((sub.student, ex), []).append(sub)
    kept, dups = [], {}
    for (_student, ex), subs in groups.items():
        subs.sort(key=lambda s: (s.path.stat().st_mtime_ns, s.rel))
        kept.append((subs[-1], ex))
        if len(subs) > 1:
            dups[subs[-1].rel] = [s.rel for s in subs[:-1]]
    return kept, dups
