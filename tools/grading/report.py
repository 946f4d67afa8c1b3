"""The grades CSV (always written atomically) and the per-student feedback files (trusted)."""
from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ["student", "notebook", "part", "passed", "points", "max_points", "reason", "file"]


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


def check_writable(out: Path) -> str | None:
    """Why `out` cannot be written (checked before any grading), or None."""
    out = Path(out)
    if out.is_dir():
        return f"--out {out} is a directory: give the path of the CSV file to write"
    parent = out.parent if str(out.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        return f"--out {out}: {parent} is not a directory"
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        return f"--out {out}: {probe} is not writable"
    return None


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and os.replace (readers never see a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_csv(rows: list[Row], out: Path) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r.as_csv())
    atomic_write_text(out, buf.getvalue())


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def feedback_markdown(student: str, exercise: str, rows: list[Row]) -> str:
    """One student's feedback on one exercise: the diagnosis of each part (no test code, no solution)."""
    parts = [r for r in rows if r.part not in ("total", "duplicate")]
    total = next((r for r in rows if r.part == "total"), None)
    lines = [f"# {exercise}: feedback for {_md(student)}", ""]
    if total is not None:
        lines += [f"**{total.points:g} / {total.max_points:g} points** ({_md(total.reason)}); graded file: "
                  f"`{_md(total.file)}`", ""]
    lines += ["| part | result | points | diagnosis |", "|---|---|---|---|"]
    for r in parts:
        lines.append(f"| {r.part} | {'passed' if r.passed else 'not yet'} | {r.points:g} / {r.max_points:g} | "
                     f"{_md(r.reason) if r.reason else 'correct'} |")
    dups = [r for r in rows if r.part == "duplicate"]
    if dups:
        lines += ["", "Older submissions of this exercise, not graded: " + ", ".join(f"`{_md(r.file)}`" for r in dups)]
    lines += ["", "Every part was tested on inputs chosen for you; rerun the check cells in your notebook to see the "
              "same kind of diagnosis on fresh inputs."]
    return "\n".join(lines) + "\n"


def write_feedback(rows: list[Row], folder: Path) -> list[Path]:
    """folder/<student>/<exercise>.md for every graded student and exercise."""
    groups: dict = {}
    for r in rows:
        groups.setdefault((r.student, r.notebook), []).append(r)
    written = []
    for (student, exercise), rs in sorted(groups.items()):
        safe = "".join(ch if ch.isalnum() or ch in "-_.@+" else "_" for ch in student).strip(".") or "_"
        path = Path(folder) / safe / f"{exercise}.md"
        atomic_write_text(path, feedback_markdown(student, exercise, rs))
        written.append(path)
    return written
