"""The explorers app (`make explore`): Voila in headless Chromium, with the network unused.

The fixture writes the app (tools.explore.write_app: the dashboard and the course notebooks) into a temporary
folder and starts Voila exactly as `make explore` does (tools.explore.voila_command: 127.0.0.1, a free port,
no token, sources stripped, the course's template; the student's venv's Voila when PGCOURSE_COURSE_VENV names
it, as `make test` does), with temporary Jupyter config/runtime dirs, in its own
process group, stopped (and checked gone) at the end. Every request that is not to that server is aborted and
recorded; the tests fail on any.
- the dashboard loads with no page error and no code shown; the summary is monospace; the figure is shown
  at its CSS size with 2x pixels (not at 1.9x its size) and never wider than the page;
- a slider is moved (focus `.widget-slider .noUi-handle` + ArrowRight): the summary's numbers and the
  figure (the <img> src) change; the menu switches to another notebook's explorer, whose slider works too;
- every lesson page that has explorers shows each once, live (as many control boxes as the stored notebook
  has widget outputs, no static copy beside them), monospace and at CSS size; on notebook 03 a slider moves.
Needs Debian's Chromium at /usr/bin/chromium (fails when CI=true without it, else skipped).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
import lab_student as ls  # noqa: E402  (Chromium path, launch arguments, free port)

from tools import explore  # noqa: E402

pytestmark = pytest.mark.browser
LESSON = "03_baselines_advantage.ipynb"
LOAD_TIMEOUT_MS = 240_000      # Voila runs the notebook before the page shows (slow on a loaded 2-core box)



def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            pytest.fail(f"voila exited with {proc.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"voila did not answer {url} in {timeout} s:\n{log.read_text()[-3000:]}", pytrace=False)


@pytest.fixture(scope="module")
def app():
    ls.require_chromium()
    pytest.importorskip("voila", reason="voila is not installed: pip install -e '.[app]'")
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="pgcourse-explore-"))
    folder = explore.write_app(work / "app")
    port = ls.free_port()
    base = f"http://127.0.0.1:{port}/"
    env = explore.voila_env()
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("IPYTHONDIR", "ipython")):
        (work / sub).mkdir()
        env[var] = str(work / sub)
    env["TMPDIR"] = str(work)            # Voila's kernel connection files
    log = work / "voila.log"
    # `make test` names the student's venv (what `make explore` runs): drive its Voila when it is set.
    course_venv = os.environ.get("PGCOURSE_COURSE_VENV", "").strip()
    bin_dir = Path(course_venv) / "bin" if course_venv else None
    if bin_dir is not None and not (bin_dir / "voila").exists():
        pytest.fail(f"PGCOURSE_COURSE_VENV={course_venv} has no voila (the course extra installs it)", pytrace=False)
    with open(log, "wb") as fh:
        proc = subprocess.Popen(explore.voila_command(folder, port, bin_dir=bin_dir), cwd=folder, env=env, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)
    pw = context = None
    try:
        _wait_http(base, proc, log)
        pw = sync_playwright().start()
        context = ls.launch_chromium(pw, work / "chromium-profile")

        blocked = ls.offline_only(context, base)
        yield {"context": context, "base": base, "blocked": blocked, "log": log}
    finally:
        try:
            if context is not None:
                context.close()
            if pw is not None:
                pw.stop()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)      # Voila and the kernels it started (its group)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            try:
                os.killpg(proc.pid, 0)
                left = True
            except ProcessLookupError:
                left = False
            shutil.rmtree(work, ignore_errors=True)
    assert not left, "processes of Voila's group survived the shutdown"


# The first explorer on the page: its box holds the controls (pg-controls), the summary (pg-summary: an HTML
# widget with a <pre>) and the figure (pg-figure: an <img>, or an HTML widget holding one).
_BOX_JS = r"""const ctl = document.querySelector('.pg-controls'); const box = ctl && ctl.parentElement;
  const pre = box && box.querySelector('.pg-summary pre, pre.pg-summary');
  const img = box && box.querySelector('.pg-figure img, img.pg-figure');"""
_STATE_JS = r"""() => {
  """ + _BOX_JS + r"""
  if (!pre || !img) return null;
  const r = img.getBoundingClientRect();
  return {summary: pre.textContent, font: getComputedStyle(pre).fontFamily, src: img.getAttribute('src'),
          width: r.width, natural: img.naturalWidth, dpr: window.devicePixelRatio,
          page_width: document.documentElement.clientWidth,
          code_cells: document.querySelectorAll('.jp-InputArea .cm-editor, .jp-InputArea-editor').length,
          text: document.body.innerText};
}"""
_CHANGED_JS = r"""([s, src]) => {
  """ + _BOX_JS + r"""
  return !!(pre && img && pre.textContent !== s && img.getAttribute('src') !== src);
}"""


def _open(app, path: str):
    page = app["context"].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app["base"] + path, wait_until="load", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_selector(".pg-controls", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(f"({_STATE_JS})() !== null", timeout=60_000)
    return page, errors


def _move_first_slider(page) -> tuple[dict, dict]:
    before = page.evaluate(_STATE_JS)
    handle = page.locator(".pg-controls .widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
        page.wait_for_timeout(150)
    page.wait_for_function(_CHANGED_JS, arg=[before["summary"], before["src"]], timeout=60_000)
    return before, page.evaluate(_STATE_JS)


def _check_looks(st: dict) -> None:
    assert "mono" in st["font"].lower() or "consolas" in st["font"].lower(), st["font"]
    # shown at its CSS size: the PNG has 2x pixels, so it must not be drawn at its natural pixel width
    assert st["width"] * st["dpr"] <= st["natural"] * 0.6, (st["width"], st["natural"], st["dpr"])
    assert st["width"] <= st["page_width"], (st["width"], st["page_width"])
    assert st["code_cells"] == 0, "code is shown"
    assert "import pgcourse" not in st["text"], "code is shown"


def test_dashboard_slider_changes_figure_and_numbers(app):
    page, errors = _open(app, "voila/render/" + explore.DASHBOARD)
    try:
        before, after = _move_first_slider(page)
        _check_looks(before)
        _check_looks(after)
        assert after["summary"] != before["summary"] and after["src"] != before["src"]
        # another notebook's explorer, from the menu
        options = page.eval_on_selector_all(".widget-dropdown select option", "os => os.map(o => o.textContent)")
        assert len(options) >= 8, options
        gae = [i for i, o in enumerate(options) if o.startswith("07")]   # GAE: lambda, gamma sliders
        page.select_option(".widget-dropdown select", index=gae[0] if gae else len(options) - 1)
        page.wait_for_function(f"(s) => {{ {_BOX_JS} return !!(pre && pre.textContent !== s); }}",
                               arg=after["summary"], timeout=120_000)
        b2, a2 = _move_first_slider(page)
        assert a2["summary"] != b2["summary"] and a2["src"] != b2["src"]
    finally:
        page.close()
    assert not errors, errors
    assert not app["blocked"], f"the app tried the network: {app['blocked']}"


def _lessons() -> list[tuple[str, int]]:
    """(notebook, number of live explorers it stores) for every course notebook with one."""
    import nbformat
    out = []
    for stem in explore.notebook_titles():
        nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
        n = sum("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                for c in nb.cells for o in c.get("outputs", []))
        if n:
            out.append((f"{stem}.ipynb", n))
    return out


@pytest.mark.parametrize(("lesson", "n_explorers"), _lessons())
def test_lesson_page_shows_each_explorer_once(app, lesson, n_explorers):
    page, errors = _open(app, "voila/render/" + lesson)
    try:
        counts = page.evaluate("""() => ({
            live: document.querySelectorAll('.pg-controls').length,
            static_copies: Array.from(document.querySelectorAll('.pg-explorer'))
                             .filter(e => !e.closest('.jupyter-widgets, .widget-html')).length})""")
        st = page.evaluate(_STATE_JS)
        _check_looks(st)
        if lesson == LESSON:
            before, after = _move_first_slider(page)
            _check_looks(after)
            assert after["summary"] != before["summary"] and after["src"] != before["src"]
    finally:
        page.close()
    assert counts == {"live": n_explorers, "static_copies": 0}, counts
    assert not errors, errors
    assert not app["blocked"], f"the lesson tried the network: {app['blocked']}"
