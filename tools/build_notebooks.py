"""Build the executed .ipynb of each jupytext pair from its percent-format .py (the source of truth).

    python -m tools.build_notebooks                              # every sources/notebooks/NN_*.py
    python -m tools.build_notebooks sources/notebooks/03_*.py    # some (solutions/exNN_*.py too)
    python -m tools.build_notebooks --check                      # only check that every pair is in sync
    (python tools/build_notebooks.py ... works too)

The .ipynb of a .py is the one jupytext.toml pairs it with, resolved by jupytext itself (as `jupytext --sync`
and JupyterLab do): sources/notebooks/NN_x.py -> notebooks/NN_x.ipynb, solutions/exNN_x.py ->
solutions/exNN_x.ipynb. Each notebook runs in a fresh kernel from the folder of its .ipynb, where students run
it (timeout 600 s per cell); the execution time of each is printed. Cells tagged `raises-exception` may raise;
any other error fails the build.
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
from tools._paths import NOTEBOOK_SOURCES, ROOT


def paired_ipynb(py: Path) -> Path:
    """The .ipynb jupytext pairs with the text notebook `py`: the first group of jupytext.toml's `formats` that
    matches py's path (no configuration, or no group matches: the .ipynb beside it)."""
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file
    from jupytext.formats import long_form_multiple_formats
    from jupytext.paired_paths import find_base_path_and_format, full_path

    py = Path(py).resolve()
    config_file = find_jupytext_configuration_file(str(py.parent))
    config = load_jupytext_configuration_file(config_file) if config_file else None
    group = config.default_formats(str(py)) if config else None
    if not group:
        return py.with_suffix(".ipynb")
    formats = long_form_multiple_formats(group)
    base, _ = find_base_path_and_format(str(py), formats)
    ipynb = [f for f in formats if f["extension"] == ".ipynb"]
    return Path(full_path(base, ipynb[0])) if ipynb else py.with_suffix(".ipynb")


def _shown(p: Path) -> str:
    """p relative to the repository when inside it (messages), else as given."""
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def cell_sources(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def in_sync(py: Path) -> str | None:
    """None if py and its paired .ipynb (paired_ipynb) hold the same cells (type, source, tags), else what
    differs."""
    ipynb = paired_ipynb(py)
    if not ipynb.exists():
        return f"{_shown(ipynb)} (the pair of {_shown(py)}) is missing"
    a, b = jupytext.read(py), nbformat.read(ipynb, as_version=4)
    if cell_sources(a) != cell_sources(b):
        for i, (x, y) in enumerate(zip(cell_sources(a), cell_sources(b), strict=False)):  # up to the shorter
            if x != y:
                return f"{_shown(py)}: cell {i} differs from the .ipynb ({x[1][:60]!r} vs {y[1][:60]!r})"
        return f"{_shown(py)}: {len(a.cells)} cells but the .ipynb has {len(b.cells)}"
    for i, (x, y) in enumerate(zip(a.cells, b.cells, strict=True)):
        if sorted(x.metadata.get("tags", [])) != sorted(y.metadata.get("tags", [])):
            return f"{_shown(py)}: cell {i} tags differ from the .ipynb"
    return None


def build(py: Path, timeout: int = 600) -> float:
    """Execute `py` in a fresh kernel from its .ipynb's folder and write the .ipynb with its outputs; seconds."""
    out = paired_ipynb(py)
    nb = jupytext.read(py)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(out.parent)}})
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
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--check", action="store_true", help="only check that each pair is in sync")
    args = ap.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or sorted(NOTEBOOK_SOURCES.glob("[0-9][0-9]_*.py"))
    if args.check:
        problems = [m for p in paths if (m := in_sync(p))]
        print("\n".join(problems) or f"{len(paths)} pairs in sync")
        return 1 if problems else 0
    total = 0.0
    for p in paths:
        dt = build(p)
        total += dt
        print(f"{_shown(p)} -> {_shown(paired_ipynb(p))}: executed in {dt:.1f} s", flush=True)
    print(f"total {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
