"""Build the executed .ipynb of each jupytext pair from its percent-format .py (the source of truth).

    python -m tools.build_notebooks                     # every notebooks/*.py
    python -m tools.build_notebooks notebooks/03_*.py   # some
    python -m tools.build_notebooks --check             # only check that every pair is in sync
    (python tools/build_notebooks.py ... works too)

Each notebook runs in a fresh kernel from its own folder (timeout 600 s per cell); the execution time of
each is printed. Cells tagged `raises-exception` may raise; any other error fails the build.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

if __package__ in (None, ""):  # run as a script (python tools/x.py): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools._paths import NOTEBOOKS, ROOT


def cell_sources(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def in_sync(py: Path) -> str | None:
    """None if py and its .ipynb hold the same cells (type, source, tags), else what differs."""
    ipynb = py.with_suffix(".ipynb")
    if not ipynb.exists():
        return f"{ipynb.relative_to(ROOT)} is missing"
    a, b = jupytext.read(py), nbformat.read(ipynb, as_version=4)
    if cell_sources(a) != cell_sources(b):
        for i, (x, y) in enumerate(zip(cell_sources(a), cell_sources(b), strict=False)):  # up to the shorter
            if x != y:
                return f"{py.relative_to(ROOT)}: cell {i} differs from the .ipynb ({x[1][:60]!r} vs {y[1][:60]!r})"
        return f"{py.relative_to(ROOT)}: {len(a.cells)} cells but the .ipynb has {len(b.cells)}"
    for i, (x, y) in enumerate(zip(a.cells, b.cells, strict=True)):
        if sorted(x.metadata.get("tags", [])) != sorted(y.metadata.get("tags", [])):
            return f"{py.relative_to(ROOT)}: cell {i} tags differ from the .ipynb"
    return None


def build(py: Path, timeout: int = 600) -> float:
    nb = jupytext.read(py)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(py.parent)}})
    t0 = time.perf_counter()
    client.execute()
    dt = time.perf_counter() - t0
    for c in nb.cells:
        if c.cell_type == "code" and "raises-exception" not in c.metadata.get("tags", []):
            for o in c.get("outputs", []):
                if o.output_type == "error":
                    raise RuntimeError(f"{py.name}: a cell raised {o.ename}: {o.evalue}\n{c.source[:300]}")
    nb.metadata.pop("widgets", None)
    for i, c in enumerate(nb.cells):  # stable ids: a rebuild changes only what really changed
        c.id = hashlib.sha1(f"{i}:{c.source}".encode()).hexdigest()[:12]
    nbformat.write(nb, py.with_suffix(".ipynb"))
    return dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--check", action="store_true", help="only check that each pair is in sync")
    args = ap.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if args.check:
        problems = [m for p in paths if (m := in_sync(p))]
        print("\n".join(problems) or f"{len(paths)} pairs in sync")
        return 1 if problems else 0
    total = 0.0
    for p in paths:
        dt = build(p)
        total += dt
        print(f"{p.relative_to(ROOT)}: executed in {dt:.1f} s", flush=True)
    print(f"total {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
