"""The student's environment (.venv-course, what `make course` runs) holds the course and nothing of the
instructor's or the test suite's, has the course's JupyterLab settings, and `make course` opens the first
notebook, as root too.

`make test` names the venv in PGCOURSE_COURSE_VENV; without it these tests look for .venv-course and skip
when there is none (they fail in CI)."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tools._paths import NOTEBOOKS, ROOT

# What the student must not get: the instructor's tools and the test suite's (pyproject extras
# `instructor`, `test`, `dev`), by distribution name.
NOT_FOR_STUDENTS = ("nbgrader", "playwright", "pytest", "nbval", "hypothesis", "ruff")
NEEDED = ("pgcourse", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel", "jupytext")


@pytest.fixture(scope="module")
def course_python() -> Path:
    venv = Path(os.environ.get("PGCOURSE_COURSE_VENV") or ROOT / ".venv-course")
    py = venv / "bin" / "python"
    if not py.exists():
        msg = f"no student venv at {venv} (make course / make test build it)"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return py


def run(*cmd, **kw) -> str:
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)
    assert out.returncode == 0, f"{cmd}: {out.stderr[-2000:]}"
    return out.stdout + out.stderr


def test_student_venv_has_the_course_and_nothing_else(course_python):
    listed = json.loads(run(course_python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"))
    names = {re.sub(r"[-_.]+", "-", d["name"]).lower() for d in listed}
    assert not names & set(NOT_FOR_STUDENTS), f"in the student's venv: {sorted(names & set(NOT_FOR_STUDENTS))}"
    assert set(NEEDED) <= names, f"missing from the student's venv: {sorted(set(NEEDED) - names)}"


def test_student_lab_has_no_instructor_extension(course_python):
    # the modules themselves: `python -m jupyter labextension` runs the first jupyter-labextension on PATH
    text = run(course_python, "-m", "jupyterlab.labextensions", "list")
    assert "@jupyter-widgets/jupyterlab-manager" in text, text   # the explorers need it
    assert not re.search(r"nbgrader|formgrader", text, re.IGNORECASE), text
    servers = run(course_python, "-m", "jupyter_server.extension.serverextension", "list")
    assert not re.search(r"nbgrader", servers, re.IGNORECASE), servers


def test_student_lab_has_the_course_settings(course_python):
    prefix = course_python.parent.parent
    installed = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    ours = ROOT / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.exists(), f"{installed} missing: the Makefile installs it"
    settings = json.loads(installed.read_text())
    assert settings == json.loads(ours.read_text())
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    kernel = json.loads((prefix / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())
    assert Path(kernel["argv"][0]).parent == course_python.parent, kernel["argv"]  # the venv's own kernel


@pytest.mark.parametrize("uid, root_flag", [("0", True), ("1000", False)])
def test_make_course_opens_the_first_notebook_as_root_too(tmp_path, uid, root_flag):
    """`make -n course` (with `id` answering uid): the student's venv's JupyterLab, on the first notebook,
    --allow-root exactly when run as root."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (fake / "id").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}{os.pathsep}{os.environ['PATH']}")
    text = run("make", "-n", "--no-print-directory", "-C", ROOT, "course", env=env).replace("\\\n", " ")
    lab = [line for line in text.splitlines() if "-m jupyterlab" in line]
    assert lab, text
    cmd = lab[-1]
    assert ".venv-course/bin/python -m jupyterlab " in cmd, cmd
    first = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))[0]
    m = re.search(r"--LabApp.default_url=/lab/tree/(\S+)", cmd)
    assert m and (ROOT / m.group(1)).resolve() == first.resolve(), cmd
    assert ("--allow-root" in cmd) is root_flag, cmd
