"""End-to-end: what a student does in JupyterLab, in a real (headless) Chromium.

For each notebook: open it, wait for the kernel to be Idle, Run > Run All Cells, check that no cell shows
an error, find the live explorer (pgcourse.widgets.Explorer.widget()), move its first slider and check
that the summary's exact/sampled numbers and the figure both update. A screenshot of each notebook after
the interaction goes to build/browser/. Everything runs on a temporary copy of notebooks/ with
temporary Jupyter config/runtime dirs and Chromium profile; at the end no process the test started may
survive.

Run alone:  .venv/bin/python -m pytest -m browser tests/browser -p no:cacheprovider
Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`); never `playwright install`.
Without it the test fails when CI=true and is skipped otherwise. PGCOURSE_BROWSER_NOTEBOOKS_DIR=<dir>
points it at another folder holding the same notebook names (e.g. a built student release).
Timings, the explorer summaries before/after the slider move and every process started (all gone at the
end) are written to build/browser/report.json.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lab_student as ls  # the helper module next to this file

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = Path(os.environ.get("PGCOURSE_BROWSER_NOTEBOOKS_DIR", ROOT / "notebooks"))
OUT_DIR = ROOT / "build" / "browser"
# d^pi, baselines, GAE: each has a live explorer with sliders.
NOTEBOOKS = ["01_objective_and_dpi.ipynb", "03_baselines_advantage.ipynb", "07_gae.ipynb"]

pytestmark = pytest.mark.browser


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _require_chromium() -> None:
    if os.path.exists(ls.CHROMIUM) and os.access(ls.CHROMIUM, os.X_OK):
        return
    msg = (f"{ls.CHROMIUM} is missing: the browser test drives Debian's Chromium "
           "(apt-get install -y chromium; never `playwright install`)")
    if _in_ci():
        pytest.fail(msg + " -- CI must install it (.ci/run does when it is missing)", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def lab():
    """A JupyterLab server + headless Chromium; torn down completely (and checked) afterwards."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    missing = [n for n in NOTEBOOKS if not (NOTEBOOKS_DIR / n).exists()]
    if missing:
        pytest.fail(f"notebooks missing from {NOTEBOOKS_DIR}: {missing}", pytrace=False)

    ledger = ls.ProcessLedger()
    workdir = Path(tempfile.mkdtemp(prefix="pgcourse-browser-"))
    server = ls.LabServer(NOTEBOOKS_DIR, workdir / "server", ledger)
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
        summary = {"total_s": round(time.monotonic() - t0, 1), "processes_started": len(ledger.seen),
                   "leaked": leaked, "notebooks": reports,
                   "processes": {pid: cmd[:200] for pid, (_, cmd) in ledger.seen.items()}}
        (OUT_DIR / "report.json").write_text(json.dumps(summary, indent=2))
    assert not leaked, f"processes started by the browser test survived the shutdown: {leaked}"
    assert not workdir.exists(), f"temporary directory {workdir} was not removed"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_student_runs_notebook_and_moves_a_slider(lab, notebook):
    shot = OUT_DIR / (Path(notebook).stem + ".png")
    for old in (shot, shot.with_name(shot.stem + "-FAILED.png")):
        old.unlink(missing_ok=True)
    try:
        report = ls.run_notebook_like_a_student(lab["context"], lab["server"], notebook, shot)
        lab["reports"].append(report)
    finally:
        lab["server"].record_processes()
        lab["server"].shutdown_sessions()           # free the kernel before the next notebook
    print(json.dumps(report, indent=1))
    assert shot.exists()
    assert report["summary_after"] != report["summary_before"]
