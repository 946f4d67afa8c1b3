"""The core imports with numpy alone: `import pgcourse` and every numpy-only module of the package, in a fresh
interpreter where the notebook stack (matplotlib, ipywidgets, IPython, scipy, gymnasium, ...) cannot be imported.
And no module of the package grows past ~600 lines."""
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pgcourse"
VIEWS = {"plots", "widgets"}  # the notebooks' figures and controls: they need matplotlib and ipywidgets
BLOCKED = ("matplotlib", "ipywidgets", "IPython", "ipykernel", "scipy", "gymnasium", "pandas", "jupytext", "nbformat")
CORE = sorted([p.stem for p in PACKAGE.glob("*.py") if p.stem not in VIEWS | {"__init__"}]
              + [p.parent.name for p in PACKAGE.glob("*/__init__.py") if p.parent.name not in VIEWS])  # checks/

BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {BLOCKED!r}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: the core must import with numpy only)")
        return None
sys.meta_path.insert(0, Blocker())
"""


def run_blocked(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER + code], capture_output=True, text=True, timeout=120,
                          cwd=PACKAGE.parent)


def test_the_blocker_blocks():
    r = run_blocked("import matplotlib")
    assert r.returncode != 0 and "blocked" in r.stderr


def test_core_modules_are_found():
    assert {"_validate", "_recursion", "mdp", "exact", "policies", "sampling", "estimators", "learning"} <= set(CORE)


@pytest.mark.parametrize("module", ["pgcourse"] + [f"pgcourse.{m}" for m in CORE])
def test_imports_with_numpy_only(module):
    r = run_blocked(f"""
import importlib
importlib.import_module({module!r})
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set(BLOCKED))
assert not heavy, heavy
print("ok")
""")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_no_module_is_over_600_lines():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    big = {k: n for k, n in sizes.items() if n > 650}  # "about 600": a little slack, not a second file's worth
    assert not big, big


def test_no_module_imports_another_modules_private_names():
    """`from .x import _name` only when _name is itself a module (a private module's public names are fine)."""
    import ast

    bad = []
    for p in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text())):
            if not (isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("pgcourse"))):
                continue
            base = p.parent if node.level else PACKAGE.parent
            for _ in range(max(node.level - 1, 0)):
                base = base.parent
            where = base.joinpath(*(node.module or "").split(".")) if node.module else base
            for alias in node.names:
                target = where / alias.name
                if alias.name.startswith("_") and not (target.with_suffix(".py").exists()
                                                       or (target / "__init__.py").exists()):
                    bad.append(f"{p.relative_to(PACKAGE)}:{node.lineno} imports {node.module}.{alias.name}")
    assert not bad, bad
