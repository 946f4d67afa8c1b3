"""Helpers for the real-browser test: a throw-away JupyterLab server on a copy of notebooks/, Debian's
Chromium driven headless by Playwright, and the steps a student takes in a notebook (wait for the kernel,
Run > Run All Cells, read the outputs, move an explorer slider).

Nothing here touches the repository: the server serves a temporary copy of notebooks/, uses temporary
config/runtime/IPython dirs (the kernelspec stays the venv's sys-prefix one) and a temporary Chromium
profile. Every process the test starts is recorded in a `ProcessLedger` so the test can assert that none
survives the clean shutdown (and kill any that did, so nothing is left behind even on failure).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from tools._paths import ROOT

# The course's JupyterLab settings (no news popup, all cells attached), which the Makefile installs into
# every venv as <sys.prefix>/share/jupyter/lab/settings/overrides.json.
OVERRIDES = ROOT / "share" / "jupyter" / "lab" / "settings" / "overrides.json"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}


# ---------------------------------------------------------------------------------------------- processes

def _stat(pid: int) -> tuple[str, str, int] | None:
    """(state, start time in clock ticks, parent pid) of a live pid, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()      # fields after "pid (comm) "
    return fields[0], fields[19], int(fields[1])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def descendants(root: int) -> set[int]:
    """Every live process below `root` in the process tree (not `root` itself)."""
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        st = _stat(pid)
        if st:
            children.setdefault(st[2], []).append(pid)
    out, todo = set(), [root]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def pids_mentioning(marker: str) -> set[int]:
    """Live processes whose command line contains `marker` (e.g. a temporary directory's path)."""
    me = os.getpid()
    return {pid for pid in _all_pids() if pid != me and marker in _cmdline(pid)}


@dataclass
class ProcessLedger:
    """Processes started by the test, identified by (pid, start time) so a recycled pid is not confused."""
    seen: dict[int, tuple[str, str]] = field(default_factory=dict)   # pid -> (start time, command line)

    def add(self, pids) -> None:
        for pid in pids:
            st = _stat(pid)
            if st and pid not in self.seen:
                self.seen[pid] = (st[1], _cmdline(pid))

    def survivors(self) -> dict[int, str]:
        """Recorded processes that still run (zombies count as gone: they no longer execute)."""
        alive = {}
        for pid, (start, cmd) in self.seen.items():
            st = _stat(pid)
            if st and st[1] == start and st[0] not in ("Z", "X"):
                alive[pid] = cmd
        return alive

    def kill_survivors(self) -> dict[int, str]:
        """SIGKILL what still runs; return what did (for the report)."""
        alive = self.survivors()
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return alive


def wait_gone(ledger: ProcessLedger, timeout: float) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while (alive := ledger.survivors()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


# ------------------------------------------------------------------------------------------------- server

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter_lab_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("jupyter-lab")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-lab")
    if not found:
        raise RuntimeError("jupyter-lab not found next to the test's Python nor on PATH: install '.[course]'")
    return [found]


class LabServer:
    """`jupyter lab` on 127.0.0.1 with a random port and token, serving a temporary copy of `notebooks_src`.

    workdir: an empty temporary directory owned by the caller (who removes it).
    """

    def __init__(self, notebooks_src: Path, workdir: Path, ledger: ProcessLedger):
        self.src = Path(notebooks_src)
        self.workdir = Path(workdir)
        self.ledger = ledger
        self.root = self.workdir / "notebooks"
        self.runtime = self.workdir / "runtime"
        self.token = secrets.token_hex(24)
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / "jupyter-lab.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict:
        env = dict(os.environ)
        env["JUPYTER_CONFIG_DIR"] = str(self.workdir / "config")     # user config, lab user-settings, workspaces
        env["JUPYTER_RUNTIME_DIR"] = str(self.runtime)              # connection files, server info
        env["IPYTHONDIR"] = str(self.workdir / "ipython")           # no history/profile from the user
        env.pop("MPLBACKEND", None)                                 # a student's kernel uses the inline backend
        env.pop("JUPYTER_TOKEN", None)
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        # JUPYTER_DATA_DIR is left alone: the python3 kernelspec lives in the venv's sys-prefix data dir.
        return env

    def start(self, timeout: float = 90.0) -> None:
        shutil.copytree(self.src, self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        settings = self.workdir / "lab_settings"
        settings.mkdir()
        shutil.copy(OVERRIDES, settings / "overrides.json")
        for d in ("config", "runtime", "ipython"):
            (self.workdir / d).mkdir()
        last_log = ""
        for attempt in range(3):                       # a port grabbed by someone else in between: try again
            self.port = free_port()
            cmd = _jupyter_lab_cmd() + [
                "--no-browser", "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
                f"--ServerApp.token={self.token}", "--allow-root", f"--ServerApp.root_dir={self.root}",
                f"--LabApp.app_settings_dir={settings}", "--LabApp.expose_app_in_browser=True",
            ]
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(cmd, env=self._env(), cwd=self.root, stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            self.ledger.add([self.proc.pid])
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    status = self.api("GET", "/api/status", timeout=2)
                    if isinstance(status, dict) and "started" in status:
                        self.ledger.add(descendants(self.proc.pid))
                        return
                except (OSError, urllib.error.URLError, ValueError):
                    pass
                time.sleep(0.25)
            last_log = self.log_tail()
            self.stop()
            if "already in use" not in last_log:
                break
        raise RuntimeError(f"jupyter lab did not answer /api/status within {timeout:.0f} s; log:\n{last_log}")

    def api(self, method: str, path: str, body=None, timeout: float = 10.0):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def shutdown_sessions(self) -> None:
        """Close every notebook session (shuts its kernel), as "Shut Down All Kernels" would."""
        for s in self.api("GET", "/api/sessions") or []:
            self.api("DELETE", f"/api/sessions/{s['id']}")

    def record_processes(self) -> None:
        """Add the server's current children (kernels) and anything naming our runtime dir to the ledger."""
        if self.proc is not None and self.proc.poll() is None:
            self.ledger.add(descendants(self.proc.pid))
        self.ledger.add(pids_mentioning(str(self.workdir)))

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        """POST /api/shutdown (kernels then server), then TERM/KILL the process group if it lingers."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            self.record_processes()
            try:
                self.api("POST", "/api/shutdown", timeout=10)
            except (OSError, urllib.error.URLError, ValueError):
                pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                    try:
                        os.killpg(proc.pid, sig)
                    except OSError:
                        pass
                    try:
                        proc.wait(timeout=wait)
                        break
                    except subprocess.TimeoutExpired:
                        continue
        else:
            proc.wait()
        self.proc = None


# ------------------------------------------------------------------------------------------------ browser

def launch_chromium(playwright, user_data_dir: Path):
    """Debian's Chromium, headless, fresh profile (never `playwright install`)."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport=VIEWPORT)


# What the open notebook looks like from the inside (window.jupyterapp: --LabApp.expose_app_in_browser).
_STATE_JS = r"""(path) => {
  const app = window.jupyterapp;
  if (!app) return {ready: false, why: 'JupyterLab app not loaded'};
  const w = app.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.sessionContext || !w.content || !w.content.model)
    return {ready: false, why: 'notebook ' + path + ' not the current widget'};
  const sc = w.sessionContext;
  const k = sc.session ? sc.session.kernel : null;
  const cells = [];
  for (const c of w.content.model.cells) {
    if (c.type !== 'code') continue;
    const outs = c.outputs.toJSON();
    cells.push({n: c.executionCount, empty: c.sharedModel.getSource().trim() === '',
                errors: outs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)});
  }
  const prompts = Array.from(w.node.querySelectorAll('.jp-InputArea-prompt')).map(e => e.textContent.trim());
  return {ready: true, kernel: k ? k.status : null, connection: k ? k.connectionStatus : null,
          cells, pending: prompts.filter(p => p.includes('*')).length};
}"""

# Text the student sees in output areas that signals an error. (An error output is rendered as stderr text
# with a Traceback.) Plain printed text may legitimately say "ValueError: ..." (a notebook demonstrating a
# clear error message), so stdout only fails on a Traceback; stderr fails on a Traceback or an *Error name.
_DOM_ERRORS_JS = r"""() => {
  const out = [];
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return ['no visible notebook panel'];
  for (const e of panel.querySelectorAll(
         '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
    if (/Traceback|\b[A-Z]\w*(Error|Exception)\b/.test(e.textContent))
      out.push('stderr: ' + e.textContent.slice(0, 800));
  for (const e of panel.querySelectorAll('.jp-RenderedText'))
    if (/Traceback|Error displaying widget/.test(e.textContent))
      out.push('text: ' + e.textContent.slice(0, 800));
  for (const e of panel.querySelectorAll('.jp-OutputArea-output'))
    if (/Error displaying widget|Failed to load model class/.test(e.textContent))
      out.push('widget: ' + e.textContent.slice(0, 400));
  return out;
}"""

_STDERR_JS = r"""() => Array.from(document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
  .map(e => e.textContent.slice(0, 300))"""


class StudentError(AssertionError):
    pass


def _state(page, path: str) -> dict:
    return page.evaluate(_STATE_JS, path)


def _wait(page, path: str, pred, timeout: float, what: str, poll: float = 0.2) -> dict:
    deadline = time.monotonic() + timeout
    st = _state(page, path)
    while not pred(st):
        if time.monotonic() > deadline:
            raise StudentError(f"{path}: timed out after {timeout:.0f} s waiting for {what}; last state: "
                               f"{json.dumps(st)[:1500]}")
        time.sleep(poll)
        st = _state(page, path)
    return st


def _idle(st: dict) -> bool:
    return st.get("ready") and st.get("kernel") == "idle" and st.get("connection") == "connected"


def _errors(st: dict) -> list[str]:
    return [e for c in st.get("cells", []) for e in c["errors"]]


def _finished(st: dict) -> bool:
    if not _idle(st) or st["pending"]:
        return False
    if _errors(st):
        return True                      # Run All stops at the first error: nothing more will run
    return all(c["n"] is not None for c in st["cells"] if not c["empty"])


def _run_all_from_menu(page) -> None:
    """Run > Run All Cells, clicked like a student."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    item = page.locator(".lm-Menu .lm-Menu-item",
                        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")))
    item.wait_for(state="visible", timeout=10_000)
    item.click()


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def run_notebook_like_a_student(context, server: LabServer, path: str, screenshot: Path,
                                exec_timeout: float = 240.0) -> dict:
    """Open `path`, run all cells, check outputs, move the explorer's first slider, screenshot.

    Returns timings and what was seen; raises StudentError (an AssertionError) with details on failure.
    """
    report: dict = {"notebook": path}
    t0 = time.monotonic()
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{server.url}/lab/tree/{path}?reset&token={server.token}", wait_until="domcontentloaded",
                  timeout=90_000)
        _wait(page, path, _idle, 120, "the notebook to open and its kernel to be Idle")
        report["open_s"] = round(time.monotonic() - t0, 1)
        server.record_processes()

        # Run > Run All Cells; the first execute request on a fresh server is sometimes dropped: retry once.
        t1 = time.monotonic()
        first = next((i for i, c in enumerate(_state(page, path)["cells"]) if not c["empty"]), None)
        if first is None:
            raise StudentError(f"{path}: no code cells")
        _run_all_from_menu(page)
        try:
            _wait(page, path, lambda s: s.get("ready") and (s["cells"][first]["n"] is not None
                                                            or s.get("kernel") == "busy"),
                  30, "the first cell to start executing")
            report["run_all_retried"] = False
        except StudentError:
            report["run_all_retried"] = True
            _wait(page, path, _idle, 60, "the kernel to be Idle again before retrying Run All")
            _run_all_from_menu(page)
        st = _wait(page, path, _finished, exec_timeout, "Run All Cells to finish")
        report["run_all_s"] = round(time.monotonic() - t1, 1)
        server.record_processes()

        errors = _errors(st)
        dom_errors = page.evaluate(_DOM_ERRORS_JS)
        if errors or dom_errors:
            shown = errors + [d[:300] for d in dom_errors[:3]]
            raise StudentError(f"{path}: error output after Run All Cells:\n" + "\n---\n".join(shown))
        unexecuted = [i for i, c in enumerate(st["cells"]) if not c["empty"] and c["n"] is None]
        if unexecuted:
            raise StudentError(f"{path}: code cells {unexecuted} did not run")
        report["code_cells"] = len(st["cells"])
        report["stderr"] = page.evaluate(_STDERR_JS)

        # The live explorer (pgcourse.widgets.Explorer.widget): controls, summary, figure in one VBox.
        t2 = time.monotonic()
        handle_sel = ".pg-controls .widget-slider .noUi-handle"
        try:
            page.locator(handle_sel).first.wait_for(state="attached", timeout=30_000)
        except PlaywrightError as e:  # a TimeoutError
            raise StudentError(f"{path}: no live explorer slider ({handle_sel}) after Run All Cells; an "
                               f"Explorer.widget() must be the output of a cell that runs") from e
        controls = page.locator(".pg-controls", has=page.locator(".widget-slider")).first
        explorer = controls.locator("xpath=..")
        summary = explorer.locator(".pg-summary").first
        figure = explorer.locator("img.pg-figure, .pg-figure img").first
        slider = controls.locator(".widget-slider").first
        handle = slider.locator(".noUi-handle").first
        readout = slider.locator(".widget-readout").first
        summary.wait_for(state="attached", timeout=10_000)
        figure.wait_for(state="attached", timeout=10_000)
        explorer.evaluate("e => e.scrollIntoView({block: 'start'})")

        before_text = summary.text_content()
        before_src = figure.get_attribute("src")
        before_value = readout.text_content() if readout.count() else None
        report["summary_before"] = before_text
        report["slider"] = slider.locator(".widget-label").first.text_content() if slider.locator(
            ".widget-label").count() else ""
        report["slider_before"] = before_value

        def changed() -> bool:
            text, src = summary.text_content(), figure.get_attribute("src")
            return (text != before_text and _NUMBER.findall(text) != _NUMBER.findall(before_text)
                    and src != before_src and bool(src))

        # focus + ArrowRight (ArrowLeft if it sits at its maximum)
        handle.focus()
        page.keyboard.press("ArrowRight")
        deadline = time.monotonic() + 3
        while readout.count() and readout.text_content() == before_value and time.monotonic() < deadline:
            time.sleep(0.1)
        if readout.count() and readout.text_content() == before_value:
            handle.focus()
            page.keyboard.press("ArrowLeft")
        deadline = time.monotonic() + 30
        while not changed():
            if time.monotonic() > deadline:
                raise StudentError(
                    f"{path}: moving the slider {report['slider']!r} ({before_value} -> "
                    f"{readout.text_content() if readout.count() else '?'}) did not update both the summary "
                    f"and the figure within 30 s.\nsummary before: {before_text!r}\nsummary now: "
                    f"{summary.text_content()!r}\nfigure src changed: {figure.get_attribute('src') != before_src}")
            time.sleep(0.1)
        report["slider_after"] = readout.text_content() if readout.count() else None
        report["summary_after"] = summary.text_content()
        report["interact_s"] = round(time.monotonic() - t2, 2)

        # No error appeared during the interaction either (a failing callback prints to the output area).
        dom_errors = page.evaluate(_DOM_ERRORS_JS)
        if dom_errors:
            raise StudentError(f"{path}: error output after moving the slider:\n" + "\n".join(dom_errors))

        screenshot.parent.mkdir(parents=True, exist_ok=True)
        explorer.evaluate("e => e.scrollIntoView({block: 'start'})")
        time.sleep(0.3)
        page.screenshot(path=str(screenshot))
        report["screenshot"] = str(screenshot)
        report["total_s"] = round(time.monotonic() - t0, 1)
        report["console_errors"] = console_errors[:10]
        return report
    except Exception:
        # Keep evidence of the failure next to the successful screenshots.
        try:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot.with_name(screenshot.stem + "-FAILED.png")))
        except (PlaywrightError, OSError) as e:
            print(f"(no failure screenshot: {e})")
        raise
    finally:
        page.close()
