"""End-to-end: what a student does in JupyterLab, in a real (headless) Chromium.

The server is the student's JupyterLab: `make test` points PGCOURSE_COURSE_VENV at .venv-course, the venv
`make course` runs (without it, the test's own interpreter serves). It serves a temporary folder laid out
like the repository (notebooks/ inside), with the default URL `make course` passes.

- Entry: opening the server's root lands on the Makefile's ENTRY notebook with its kernel Idle, no news
  popup, and no nbgrader extension loaded.
- Every course notebook (notebooks/*.ipynb): open it, wait for the kernel to be Idle, Run > Run All Cells,
  check that no cell shows an error, then move every control of every live explorer
  (pgcourse.widgets.Explorer: sliders, dropdowns, toggles, found in the DOM, not by Python name) six times
  and time each move from the input event to the explorer's updated output, in the page. The first move
  of a control is its first use; the median and the max of the five after it are the control's latency.
  Asserted per control (column ok): issue 13's targets (`lab_student.LIMITS`): median <= 150 ms, every move
  after the first <= 600 ms, first use <= 1 s, on the net latency: each move's latency minus the time the
  kernel's thread waited, runnable, for a CPU during that update (the kernel measures it, Linux schedstat, and
  puts it on the figure it sends; zero on a quiet machine; the table prints it, column wait). A control over
  the median/max target is measured once more (a loaded machine) and the second measurement decides; both
  are kept.
  The table goes to build/latency.json (and build/latency.txt, printed at the end of the run).

A screenshot of each notebook after the interaction goes to build/browser/. Everything runs on a temporary
copy with temporary Jupyter config/runtime/data dirs and Chromium profile; at the end no process the test
started may survive (build/browser/report.json lists them, with timings).

Run alone:  make test-browser   (or .venv/bin/python -m pytest -m browser tests/browser -p no:cacheprovider)
Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`); never `playwright install`.
Without it the test fails when CI=true and is skipped otherwise. PGCOURSE_BROWSER_NOTEBOOKS_DIR=<dir>
points it at another folder holding the same notebook names (e.g. a built student release).
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lab_student as ls  # the helper module next to this file

from tools._paths import BUILD, NOTEBOOKS, ROOT

NOTEBOOKS_DIR = Path(os.environ.get("PGCOURSE_BROWSER_NOTEBOOKS_DIR", NOTEBOOKS))
OUT_DIR = BUILD / "browser"
LATENCY_JSON = BUILD / "latency.json"
LATENCY_TXT = BUILD / "latency.txt"
COURSE_NOTEBOOKS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def makefile_entry() -> str:
    """The notebook `make course` opens (the Makefile's ENTRY := notebooks/...)."""
    m = re.search(r"^ENTRY\s*:?=\s*(\S+)\s*$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert m, "the Makefile defines no ENTRY (the notebook make course opens)"
    return m.group(1)


pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab server + headless Chromium; torn down completely (and checked) afterwards."""
    ls.require_chromium()
    from playwright.sync_api import sync_playwright

    if not COURSE_NOTEBOOKS:
        pytest.fail(f"no course notebooks in {NOTEBOOKS}", pytrace=False)
    missing = [n for n in COURSE_NOTEBOOKS if not (NOTEBOOKS_DIR / n).exists()]
    if missing:
        pytest.fail(f"notebooks missing from {NOTEBOOKS_DIR}: {missing}", pytrace=False)

    ledger = ls.ProcessLedger()
    workdir = Path(tempfile.mkdtemp(prefix="pgcourse-browser-"))
    server = ls.LabServer(NOTEBOOKS_DIR, workdir / "server", ledger, default_url="/lab/tree/" + makefile_entry())
    (workdir / "server").mkdir()
    pw = context = None
    reports: list[dict] = []
    t0 = time.monotonic()
    leaked: dict[int, str] = {}
    try:
        server.start()
        before = ls.descendants(os.getpid())
        pw = sync_playwright().start()
        context = ls.launch_chromium(pw, workdir / "chromium-profile")
        # The Playwright driver, Chromium and its helpers: everything new below this process.
        ledger.add(ls.descendants(os.getpid()) - before - {server.proc.pid})
        ledger.add(ls.pids_mentioning(str(workdir)))
        yield {"server": server, "context": context, "reports": reports, "ledger": ledger, "root": workdir}
    finally:
        try:
            if context is not None:
                ledger.add(ls.pids_mentioning(str(workdir)))
                context.close()
        finally:
            try:
                if pw is not None:
                    pw.stop()
            finally:
                try:
                    server.stop()
                finally:
                    # Anything that survived the clean shutdown is a leak: remember it, then kill it.
                    leaked = ls.wait_gone(ledger, timeout=15)
                    late = {p: ls._cmdline(p) for p in ls.pids_mentioning(str(workdir))}
                    leaked.update(late)
                    ledger.add(late)
                    ledger.kill_survivors()
                    shutil.rmtree(workdir, ignore_errors=True)
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        summary = {"total_s": round(time.monotonic() - t0, 1), "lab_python": str(server.python),
                   "processes_started": len(ledger.seen), "leaked": leaked, "notebooks": reports,
                   "processes": {pid: cmd[:200] for pid, (_, cmd) in ledger.seen.items()}}
        (OUT_DIR / "report.json").write_text(json.dumps(summary, indent=2))
        write_latency([r for rep in reports for r in rep.get("latency", [])], server.python)
    assert not leaked, f"processes started by the browser test survived the shutdown: {leaked}"
    assert not workdir.exists(), f"temporary directory {workdir} was not removed"


def write_latency(rows: list[dict], lab_python: Path) -> None:
    if not rows:
        return
    BUILD.mkdir(parents=True, exist_ok=True)
    doc = {"limits_ms": ls.LIMITS,
           "asserted_on": "net latency = latency - kernel CPU wait (per move)",
           "moves_after_first": 5, "cpus": os.cpu_count(),
           "python": platform.python_version(), "lab_python": str(lab_python),
           "measured": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows}
    LATENCY_JSON.write_text(json.dumps(doc, indent=1))
    LATENCY_TXT.write_text(ls.latency_table(rows) + "\n")


def test_make_course_opens_the_first_notebook(lab):
    """/ lands on the Makefile's ENTRY, kernel Idle; no news popup; no nbgrader (instructor) extension."""
    entry = makefile_entry()
    assert entry == "notebooks/" + COURSE_NOTEBOOKS[0], (entry, COURSE_NOTEBOOKS[0])
    server = lab["server"]
    page = lab["context"].new_page()
    try:
        page.goto(f"{server.url}/?token={server.token}", wait_until="domcontentloaded", timeout=90_000)
        ls._wait(page, entry, ls._idle, 120, f"{entry} to open by itself with its kernel Idle")
        time.sleep(3)  # the news question is asked a moment after the page has loaded
        toasts = page.evaluate("() => Array.from(document.querySelectorAll('.Toastify__toast, .jp-toast'))"
                               ".map(e => e.textContent)")
        assert not [t for t in toasts if re.search(r"news", t, re.IGNORECASE)], toasts
        plugins = page.evaluate("() => window.jupyterapp.listPlugins()")
        assert any(p.startswith("@jupyter-widgets/") for p in plugins), "the widgets extension is not loaded"
        instructor = [p for p in plugins if re.search(r"nbgrader|formgrader", p, re.IGNORECASE)]
        if os.environ.get("PGCOURSE_COURSE_VENV"):
            assert not instructor, f"the student's JupyterLab loads instructor extensions: {instructor}"
        lab["reports"].append({"notebook": entry, "entry": True, "toasts": toasts, "instructor_plugins": instructor})
    finally:
        page.close()
        server.shutdown_sessions()


@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS)
def test_student_runs_notebook_and_moves_every_control(lab, notebook):
    shot = OUT_DIR / (Path(notebook).stem + ".png")
    for old in (shot, shot.with_name(shot.stem + "-FAILED.png")):
        old.unlink(missing_ok=True)
    report = {}
    try:
        report = ls.run_notebook_like_a_student(lab["context"], lab["server"], "notebooks/" + notebook, shot)
    finally:
        if report:
            lab["reports"].append(report)
        lab["server"].record_processes()
        lab["server"].shutdown_sessions()           # free the kernel before the next notebook
    print(ls.latency_table(report["latency"]))
    assert shot.exists()
    unchanged = [r["control"] for r in report["latency"] if not r["summary_changed"]]
    assert not unchanged, f"the first move of {unchanged} did not change the explorer's summary"
    slow = [r for r in report["latency"] if not r["ok"]]
    assert not slow, "controls over issue 13's latency targets:\n" + ls.latency_table(slow)
