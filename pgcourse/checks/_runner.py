"""Role 2 of the checkers for the grader, run INSIDE the sandbox:
``python -I -m pgcourse.checks._runner JOBDIR``.

JOBDIR/plan.pkl (written by the trusted grader, read here only) holds one student's notebooks (their code cells)
and, per part, the notebook, the checker's name and the argument tuples of every call. For each part a child
process is forked that

- switches to an unprivileged uid (when started as root inside the sandbox: the runner itself never runs student
  code), sets its rlimits (CPU time, memory, processes, file size, open files);
- replaces the package functions the part asks the student to write by stubs, and every ``checks.check_*`` by a
  no-op (the visible checks are not run twice), BEFORE running the cells;
- runs the code cells (stdout/stderr captured and capped, per-cell time limit), substitutes the reference
  implementation for each earlier part this part may call, and calls the student's function on the inputs;
- sends back PLAIN DATA only: an .npz (numeric arrays and one JSON text as uint8) through a pipe.

The runner relays each part's bytes to its stdout as frames ``b"PGCR" + part (4 bytes) + length (8 bytes) + npz``;
the trusted grader loads them with ``allow_pickle=False`` and judges them itself. Nothing the student's code
returns is trusted here: this module only moves data.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import resource
import signal
import struct
import sys
import time

import numpy as np

MAGIC = b"PGCR"
USAGE_FRAME = 0xFFFFFFFF  # the last frame: the sandbox's CPU seconds (JSON), read by the grading benchmark
CELL_OUTPUT_CAP = 20_000  # characters of print output kept per part (the rest is dropped)


class _Capped(io.TextIOBase):
    """A text stream that keeps the first `cap` characters and drops the rest."""

    def __init__(self, cap: int):
        self.cap, self.parts, self.n = cap, [], 0

    def write(self, s):
        s = str(s)
        if self.n < self.cap:
            self.parts.append(s[: self.cap - self.n])
        self.n += len(s)
        return len(s)

    def writable(self):
        return True


class _CellTimeUp(BaseException):
    pass


def _limits(plan: dict) -> None:
    lim = plan.get("rlimits", {})
    for name, value in lim.items():
        r = getattr(resource, name, None)
        if r is not None and value:
            try:
                resource.setrlimit(r, (int(value), int(value)))
            except (ValueError, OSError):
                pass


def _drop_privileges(uid: int | None) -> None:
    if uid is None or os.getuid() != 0:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # all capabilities go with uid 0
    try:
        import ctypes
        ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except Exception:  # noqa: BLE001
        pass


def _clean_source(src: str) -> str:
    """IPython-only lines (%magics, !shell) become `pass` so that the cell still parses."""
    out = []
    for line in src.splitlines():
        s = line.lstrip()
        out.append(line[: len(line) - len(s)] + "pass" if s.startswith(("%", "!")) else line)
    return "\n".join(out)


def _run_part(plan: dict, part: dict, wfd: int) -> None:
    """In the forked child: everything for one part; writes the npz bytes to wfd."""
    from . import _core
    from ._core import REGISTRY, forbidden_patches, invoke
    _limits(plan)
    _drop_privileges(plan.get("uid"))
    chk = REGISTRY[part["check"]]
    # the part's forbidden functions, and the visible checks, are stubbed before any student code runs
    for owner, attr, _, stub in forbidden_patches(chk.forbid, chk.forbid_why):
        setattr(owner, attr, stub)
    import pgcourse.checks as checks_pkg

    def not_run(*a, **k):
        return _core.CheckResult(False, "(checks are not run while grading)", "")
    for name in REGISTRY:
        setattr(checks_pkg, name, not_run)
    out = _Capped(CELL_OUTPUT_CAP)
    sys.stdout = sys.stderr = out
    ns = {"__name__": "__main__", "np": np}
    try:
        import pgcourse
        ns.update(pg=pgcourse, checks=checks_pkg)
    except Exception:  # noqa: BLE001
        pass
    cells = []

    def on_alarm(signum, frame):
        raise _CellTimeUp()
    signal.signal(signal.SIGALRM, on_alarm)
    budget_end = time.monotonic() + float(plan["cells_timeout"])
    for i, src in enumerate(plan["notebooks"][part["notebook"]]):
        left = budget_end - time.monotonic()
        if left <= 0:
            cells.append(f"cell {i}: not run (the notebook's time limit)")
            continue
        signal.setitimer(signal.ITIMER_REAL, min(left, float(plan["cell_timeout"])))
        try:
            exec(compile(_clean_source(src), f"<cell {i}>", "exec"), ns)  # noqa: S102 - the sandboxed student code
            cells.append(None)
        except _CellTimeUp:
            cells.append(f"cell {i}: stopped at the cell time limit")
        except BaseException as e:  # noqa: BLE001 - a failing cell costs nothing by itself
            cells.append(f"cell {i}: {type(e).__name__}: {_core._short(str(e), 150)}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    for used in chk.uses:
        ref = next((c.reference for c in REGISTRY.values()
                    if c.exercise == chk.exercise and c.function == used and c.reference is not None), None)
        if ref is not None:
            ns[used] = ref
    fn = ns.get(chk.function)
    arrays, outcomes = {}, []
    meta = {"cells": cells, "missing": fn is None, "outcomes": outcomes}
    if fn is not None:
        deadline = time.monotonic() + float(plan["time_limit"])
        for ci, calls in enumerate(part["cases"]):
            rngs: dict = {}
            outs = []
            outcomes.append(outs)
            stop = False
            for k, args in enumerate(calls):
                o = invoke(fn, _core.materialize(args, rngs), name=chk.function, uses_earlier=bool(chk.uses),
                           deadline=deadline, time_limit=float(plan["time_limit"]))
                entry = {"kind": o.kind, "error": o.error, "hint": o.hint, "value": None}
                if o.error is None and o.value is not None:
                    key = f"v{ci}_{k}"
                    arrays[key] = np.asarray(o.value)
                    entry["value"] = key
                outs.append(entry)
                if o.error is not None:
                    stop = True
                    break
            if stop:
                break
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    data = buf.getvalue()
    view = memoryview(data)
    while view:
        n = os.write(wfd, view[:1 << 16])
        view = view[n:]


def _kill_others(pid: int, own_namespace: bool) -> None:
    for target, how in ((-pid, os.kill), (pid, os.kill)):
        try:
            how(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if own_namespace:  # inside the sandbox's PID namespace: every other process (not pid 1, not this runner)
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job = argv[0]
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no /proc/<runner>/fd, no ptrace
    except Exception:  # noqa: BLE001
        pass
    with open(os.path.join(job, "plan.pkl"), "rb") as f:
        plan = pickle.load(f)
    out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    for idx, part in enumerate(plan["parts"]):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.setpgid(0, 0)
                os.close(r)
                os.close(out)
                _run_part(plan, part, w)
            except BaseException:  # noqa: BLE001
                code = 1
            os._exit(code)
        os.close(w)
        chunks, size = [], 0
        deadline = time.monotonic() + float(plan["part_timeout"])
        os.set_blocking(r, False)
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(r, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not sel.select(timeout=min(left, 0.5)):
                continue
            try:
                b = os.read(r, 1 << 16)
            except BlockingIOError:
                continue
            if not b:
                break
            size += len(b)
            if size <= plan["max_result_bytes"]:
                chunks.append(b)
        sel.close()
        os.close(r)
        _kill_others(pid, bool(plan.get("own_pid_namespace")))  # the part's child and anything it started
        data = b"".join(chunks) if size <= plan["max_result_bytes"] else b""
        os.write(out, MAGIC + struct.pack("<IQ", idx, len(data)))
        view = memoryview(data)
        while view:
            n = os.write(out, view[:1 << 16])
            view = view[n:]
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    usage = json.dumps({"cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime}).encode()
    os.write(out, MAGIC + struct.pack("<IQ", USAGE_FRAME, len(usage)) + usage)  # for the benchmark only
    os.close(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
