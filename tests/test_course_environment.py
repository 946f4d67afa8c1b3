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

from tools._paths import NOTEBOOK_SOURCES, NOTEBOOKS, ROOT

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


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    import urllib.request
    with urllib.request.urlopen(url, timeout=30) as r:  # follows the redirects
        return r.geturl(), r.read()


def test_make_course_serves_the_first_notebook_and_only_the_notebooks(course_python, tmp_path):
    """A short start of the student's JupyterLab with `make course`'s own command line (from `make -n`; port,
    token and runtime folders added), stopped at the end: / lands on the first notebook, the news fetch is off,
    notebooks/ lists the course's .ipynb files and nothing else, and a notebook opens through jupytext's
    contents manager (its cells are its source's, sources/notebooks/NN_x.py)."""
    import shlex
    import time
    import urllib.error

    import jupytext

    text = run("make", "-n", "--no-print-directory", "-C", ROOT, "course").replace("\\\n", " ")
    cmd = shlex.split([line for line in text.splitlines() if "-m jupyterlab" in line][-1])
    assert cmd[0].endswith(".venv-course/bin/python"), cmd
    port, token = _free_port(), "pgcourse-test"
    cmd += ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}"]
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               IPYTHONDIR=str(tmp_path / "ipython"))
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "lab.log", "w") as log:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(240):
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, (tmp_path / "lab.log").read_text()[-2000:]
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start: " + (tmp_path / "lab.log").read_text()[-2000:])
        landed, _ = _get(f"{base}/?token={token}")
        first = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))[0]
        assert landed.split("?")[0] == f"{base}/lab/tree/notebooks/{first.name}", landed
        _, body = _get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}")
        notification = json.loads(body)  # the overrides become the schema's defaults; no user setting
        assert notification["schema"]["properties"]["fetchNews"]["default"] == "false", notification
        assert notification["schema"]["properties"]["checkForUpdates"]["default"] is False
        assert "fetchNews" not in notification["settings"]
        _, body = _get(f"{base}/api/contents/notebooks?token={token}&content=1")
        listed = sorted(item["name"] for item in json.loads(body)["content"])
        assert listed == sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), listed
        _, body = _get(f"{base}/api/contents/notebooks/{first.name}?token={token}&content=1")
        cells = [c["source"].strip() for c in json.loads(body)["content"]["cells"]]
        source = NOTEBOOK_SOURCES / f"{first.stem}.py"
        assert cells == [c.source.strip() for c in jupytext.read(source).cells]
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
    log_text = (tmp_path / "lab.log").read_text()
    assert "nbgrader" not in log_text.lower(), log_text[-2000:]
