"""Grading one submission: build every part's inputs (trusted), run the student's code on them in the sandbox,
read back plain data only, and judge it with the checkers' own diagnosis (trusted)."""
from __future__ import annotations

import io
import json
import os
import pickle
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pgcourse import checks
from pgcourse.checks._core import Outcome, build_cases, judge_cases
from pgcourse.checks._runner import MAGIC, USAGE_FRAME

from . import sandbox
from .seeds import part_seed

MAX_RESULT_BYTES = 32 << 20
MAX_ARRAY_SIZE = 5_000_000
_ICONS = "\u2705\u274c\u23f3"


@dataclass
class Limits:
    time_limit: float = 30.0       # the student's function, per part, in all
    cell_timeout: float = 30.0     # one notebook cell
    cells_timeout: float = 120.0   # all the notebook's cells, per part
    sandbox: bool = True

    @property
    def part_timeout(self) -> float:
        return self.time_limit + self.cells_timeout + 15.0


@dataclass
class PartResult:
    grade_id: str
    passed: bool
    message: str
    seconds: float = 0.0


@dataclass
class Evaluation:
    parts: list[PartResult] = field(default_factory=list)
    error: str | None = None  # the whole submission could not be run (sandbox failure)
    seconds: float = 0.0


def reason_of(message: str) -> str:
    """The CSV's reason: the diagnosis without icons, one line."""
    text = " ".join(message.split())
    return text.lstrip(_ICONS + " ").strip()


class _SlotPool:
    """One uid per concurrent sandbox (RLIMIT_NPROC counts processes per uid)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.free: list[int] = []
        self.next = 0

    def take(self) -> int:
        with self.lock:
            if self.free:
                return self.free.pop()
            self.next += 1
            return self.next - 1

    def give(self, k: int) -> None:
        with self.lock:
            self.free.append(k)


SLOTS = _SlotPool()
SANDBOX_CPU = [0.0]  # CPU seconds reported by every sandbox run in this process (the benchmark reads it)
_CPU_LOCK = threading.Lock()


def _read_capped(stream, cap: int, sink: list) -> None:
    total = 0
    while True:
        b = stream.read(1 << 16)
        if not b:
            break
        total += len(b)
        if total <= cap:
            sink.append(b)
    sink.append(b"" if total <= cap else None)


def _frames(data: bytes) -> dict[int, bytes]:
    out, i = {}, 0
    while i + 16 <= len(data) and data[i:i + 4] == MAGIC:
        idx, n = struct.unpack("<IQ", data[i + 4:i + 16])
        out[idx] = data[i + 16:i + 16 + n]
        i += 16 + n
    return out


def _decode(blob: bytes, n_cases: int):
    """(outcomes per case, cell errors, function missing) from one part's npz; ValueError if malformed."""
    if not blob:
        raise ValueError("no result")
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        meta_raw = z["__meta__"]
        if meta_raw.dtype != np.uint8 or meta_raw.size > 4_000_000:
            raise ValueError("bad meta")
        meta = json.loads(meta_raw.tobytes().decode())
        arrays = {}
        for k in z.files:
            if k == "__meta__":
                continue
            a = z[k]
            arrays[k] = a
    outcomes = []
    for outs in meta.get("outcomes", [])[:n_cases]:
        row = []
        for e in outs:
            kind = str(e.get("kind", "error"))[:20]
            err = e.get("error")
            err = None if err is None else str(err)[:600]
            hint = str(e.get("hint") or "")[:300]
            key = e.get("value")
            value = None
            if err is None and key is not None:
                a = arrays.get(str(key))
                if not isinstance(a, np.ndarray) or a.dtype.kind not in "biufc" or a.dtype.hasobject \
                        or a.size > MAX_ARRAY_SIZE or a.ndim > 6:
                    err, kind = "returned something that is not an array of numbers", "bad"
                else:
                    value = np.array(a)
            row.append(Outcome(value, err, kind, hint))
        outcomes.append(row)
    return outcomes, [c for c in meta.get("cells", []) if c][:5], bool(meta.get("missing"))


def evaluate(nb_cells: list[str], exercise: str, student: str, secret: bytes, limits: Limits) -> Evaluation:
    """Grade every part of `exercise` for one notebook (its code cells `nb_cells`)."""
    return evaluate_student([(nb_cells, exercise)], student, secret, limits)[0]


def evaluate_student(notebooks: list[tuple[list[str], str]], student: str, secret: bytes,
                     limits: Limits) -> list[Evaluation]:
    """Grade one student's notebooks [(code cells, exercise), ...] in ONE sandbox (one interpreter start; every
    part still runs in a fresh process of its own); one Evaluation per notebook."""
    t0 = time.monotonic()
    built = []  # (notebook index, checker, cases)
    for k, (_, exercise) in enumerate(notebooks):
        for chk in checks.checkers_of(exercise):
            built.append((k, chk, build_cases(chk, part_seed(secret, student, exercise, chk.part))))
    slot = SLOTS.take()
    root = limits.sandbox and os.geteuid() == 0
    plan = {"notebooks": [cells for cells, _ in notebooks], "time_limit": limits.time_limit,
            "cell_timeout": limits.cell_timeout, "cells_timeout": limits.cells_timeout,
            "part_timeout": limits.part_timeout, "max_result_bytes": MAX_RESULT_BYTES,
            "own_pid_namespace": limits.sandbox, "uid": (sandbox.UID_BASE + slot) if root else None,
            "rlimits": {**sandbox.RLIMITS, "RLIMIT_CPU": int(limits.part_timeout) + 5,
                        **({"RLIMIT_NPROC": 1} if root else {})},
            "parts": [{"notebook": k, "check": chk.name, "cases": [c.calls for c in cases]}
                      for k, chk, cases in built]}
    try:
        data = _run_sandbox(plan, limits, budget=limits.part_timeout * max(1, len(built)) + 30)
    finally:
        SLOTS.give(slot)
    frames = _frames(data)
    evs = [Evaluation() for _ in notebooks]
    cpu = _usage(frames.pop(USAGE_FRAME, b""))
    with _CPU_LOCK:
        SANDBOX_CPU[0] += cpu
    for idx, (k, chk, cases) in enumerate(built):
        pt = time.monotonic()
        res = _judge_part(chk, cases, frames.get(idx), limits)
        res.seconds = time.monotonic() - pt
        evs[k].parts.append(res)
    for ev in evs:
        ev.seconds = (time.monotonic() - t0) / len(evs)
    return evs


def _usage(blob: bytes) -> float:
    """The sandbox's CPU seconds from its usage frame (0 if absent or malformed; never used for a grade)."""
    try:
        cpu = float(json.loads(blob.decode())["cpu"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return 0.0
    return cpu if 0 <= cpu < 1e6 else 0.0


def _run_sandbox(plan: dict, limits: Limits, budget: float) -> bytes:
    """Run the runner on `plan` (sandboxed unless limits.sandbox is False); its stdout, capped (b"" if over)."""
    with tempfile.TemporaryDirectory(prefix="pgcourse-job-") as job:
        os.chmod(job, 0o755)
        with open(os.path.join(job, "plan.pkl"), "wb") as f:
            pickle.dump(plan, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(os.path.join(job, "plan.pkl"), 0o644)
        argv = (sandbox.command(Path(job), []) if limits.sandbox else sandbox.unsandboxed_command(Path(job), []))
        err = tempfile.TemporaryFile()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                env=sandbox.environment(), start_new_session=True)
        sink: list = []
        reader = threading.Thread(target=_read_capped, args=(proc.stdout, MAX_RESULT_BYTES * 2, sink), daemon=True)
        reader.start()
        try:
            proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            _kill(proc)
        reader.join(timeout=10)
        _kill(proc)
        data = b"".join(b for b in sink if b) if (sink and sink[-1] is not None) else b""
        if not data and proc.returncode not in (0, None, -9):
            err.seek(0)
            text = err.read(2000).decode(errors="replace").strip().splitlines()
            raise SandboxError(f"the sandbox did not start (exit {proc.returncode}): "
                               f"{text[-1] if text else 'no message'}")
        err.close()
    return data


class SandboxError(RuntimeError):
    """bubblewrap or the runner could not start (a machine problem, not the student's)."""


def _judge_part(chk, cases, blob, limits: Limits) -> PartResult:
    """Role 3 in the trusted process: the part's result from its frame of plain data."""
    if blob is None:
        return PartResult(chk.grade_id, False, f"{chk.function}: no result (the sandbox was stopped: time or "
                          "memory limit, or the process was killed)")
    if not blob:
        return PartResult(chk.grade_id, False, f"{chk.function}: no result within the part's time limit "
                          f"({limits.part_timeout:g} s for the notebook's cells and your function), or it used "
                          "too much memory or output")
    try:
        outcomes, cell_errors, missing = _decode(blob, len(cases))
    except (ValueError, KeyError, OSError, EOFError, UnicodeDecodeError, struct.error) as e:
        return PartResult(chk.grade_id, False, f"{chk.function}: unreadable result from the sandbox "
                          f"({type(e).__name__})")
    if missing:
        why = f" (a cell failed: {cell_errors[0]})" if cell_errors else ""
        return PartResult(chk.grade_id, False, f"{chk.function} is not defined in the notebook{why}: keep the "
                          "function's name as given")
    r = judge_cases(chk, cases, outcomes, name=chk.function)
    return PartResult(chk.grade_id, r.passed, r.message)


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
