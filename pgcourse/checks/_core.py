"""The machinery every checker shares: the registry, the result, the guarded call and the comparison.

A checker has three separable roles, so that the grader can run them in different processes:

1. **build** (trusted): ``build(rng) -> [Case, ...]``, each case a list of argument tuples (numpy arrays, numbers,
   pgcourse objects, ``Rng(seed)`` placeholders) and a ``judge``;
2. **call** (the only step that runs student code): ``invoke(fn, args, ...) -> Outcome``, the return value turned
   into a plain float array (or the error it raised, the time limit, ``sys.exit``, ...);
3. **judge** (trusted): ``case.judge(ctx, outcomes)`` compares the outcomes with the exact answers and names the
   mistake (``ctx.compare`` / ``ctx.fail``), or returns (passed) optionally with a summary line.

The in-notebook check (``check_x(fn)``) runs 1, 2 and 3 in-process; ``tools.grade`` runs 1 and 3 in the trusted
grader and 2 in a sandbox (see ``pgcourse.checks._runner``).
"""
from __future__ import annotations

import contextlib
import signal
import sys
import textwrap
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

NOT_IMPLEMENTED = "Part not implemented yet: replace `raise NotImplementedError()` with your code."
TIME_LIMIT = 30.0  # seconds the student's function may take in all, per check (check_x(..., time_limit=...))
_OK, _NO, _TODO = "\u2705", "\u274c", "\u23f3"  # check mark, cross, hourglass
_PKG_DIR = str(Path(__file__).resolve().parents[1])


# ===================================================================================================
# the registry
# ===================================================================================================

@dataclass(frozen=True)
class Case:
    """One test case: the argument tuples of the calls to make (in order) and the judge of their outcomes.

    calls: [args, ...]; args are plain data, pgcourse objects and `Rng` placeholders (the same placeholder in
    several calls of a case stands for one shared generator).
    judge(ctx, outcomes) -> None or a summary string: raises through ctx.fail/ctx.compare when wrong.
    """

    calls: list
    judge: Callable
    where: str = ""


@dataclass(frozen=True)
class Rng:
    """A placeholder for `np.random.default_rng(seed)`, made fresh where the student's function is called."""

    seed: int
    key: str = ""  # placeholders with the same (seed, key) in one case are one shared generator


@dataclass(frozen=True)
class Checker:
    """One registered checker: exercise, part, the student's function name, and its three roles."""

    name: str                      # check_episode_returns
    exercise: str                  # ex04_returns
    part: int                      # 1, 2, ... (the graded cell exNN-p<part>)
    function: str                  # the student's function, episode_returns
    build: Callable                # build(rng) -> iterable of Case
    summary: str                   # the sentence after "correct!" (a judge may return a better one)
    forbid: tuple = ()             # pgcourse names this part asks the student to write (unavailable in the call)
    uses: tuple = ()               # earlier parts' functions this part may call (graded: reference substituted)
    reference: Callable | None = None  # a reference implementation (pure numpy), substituted in later parts
    course_part: int = 1           # Part I or II of the course
    doc: str = ""
    forbid_why: str = ""           # why `forbid` is unavailable (default: the part asks the student to write it)

    @property
    def grade_id(self) -> str:
        return f"{self.exercise[:4]}-p{self.part}"


REGISTRY: dict[str, Checker] = {}  # check name -> Checker, in registration (= exercise, part) order


def checker(exercise: str, part: int, *, function: str, summary: str, forbid=(), uses=(), reference=None,
            course_part: int = 1, forbid_why: str = ""):
    """Register `build(rng)` as the checker of `exercise`'s Part `part`; returns the public `check_<name>`.

    The decorated function's name (``check_episode_returns``) is the public name; its docstring states what the
    student's function must compute. See pgcourse/checks/__init__.py for the pattern of a checker module.
    """
    def wrap(build):
        name = build.__name__
        if name in REGISTRY:
            raise ValueError(f"checker {name} registered twice")
        chk = Checker(name, exercise, part, function, build, summary, tuple(forbid), tuple(uses), reference,
                      course_part, (build.__doc__ or "").strip(), forbid_why)

        def check(student_fn, *, seed=None, quiet=False, time_limit=None) -> CheckResult:
            return run_check(chk, student_fn, seed=seed, quiet=quiet, time_limit=time_limit)

        check.__name__ = check.__qualname__ = name
        check.__doc__ = (f"{chk.doc}\n\ncheck(student_fn, *, seed=None, quiet=False, time_limit=None) -> "
                         f"CheckResult ({exercise}, Part {part}).")
        check.__module__ = build.__module__
        check.checker = chk
        REGISTRY[name] = chk
        return check
    return wrap


def checkers_of(exercise: str) -> list[Checker]:
    """The registered checkers of one exercise, by part."""
    return sorted((c for c in REGISTRY.values() if c.exercise == exercise), key=lambda c: c.part)


def exercises() -> list[str]:
    return sorted({c.exercise for c in REGISTRY.values()})


# ===================================================================================================
# the result
# ===================================================================================================

@dataclass(frozen=True)
class CheckResult:
    """Outcome of a check: `passed` (bool), `message` (one paragraph), `check` (the checker's name).
    Truthy iff passed, so `assert check_x(f, quiet=True)` works."""

    passed: bool
    message: str
    check: str = ""

    def __bool__(self) -> bool:
        return bool(self.passed)

    def __str__(self) -> str:
        return self.message


class _Done(Exception):
    """Ends a check early with a message (a failure unless passed=True)."""

    def __init__(self, message: str, passed: bool = False):
        super().__init__(message)
        self.message = message
        self.passed = passed


# ===================================================================================================
# role 2: calling the student's function (the only place student code runs)
# ===================================================================================================

@dataclass
class Outcome:
    """What one call gave: `value` (a numeric ndarray, or None when the function returned None) or `error` (a
    message without the test description); `kind`: ok, error, todo, timeout, interrupted, exit, forbidden, bad."""

    value: Any = None
    error: str | None = None
    kind: str = "ok"
    hint: str = ""


class _TimeUp(BaseException):
    """Raised in the student's function by the check's time limit (BaseException: `except Exception` in the
    student's code does not swallow it)."""


class Forbidden(BaseException):
    """Raised by a package function this part asks the student to write (see `forbidden`)."""


_COMMON_HINTS = (
    ("could not be broadcast", ("Shapes do not line up: check which axis you broadcast along "
                               "(x[:, None] adds an axis at the end, x[None, :] at the front).")),
    ("Singular matrix", "The matrix is singular: (I - gamma P_pi) is invertible for gamma < 1; did you drop gamma?"),
    ("index", "Check your indexing: states index the first axis, actions the second."),
    ("NoneType", "Some value is None: does every helper you call `return` its result?"),
)


def _short(text: str, n: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _where_raised(e: BaseException) -> str:
    """' (in f, line N)' for the last frame of the student's own code (not numpy's, not the package's)."""
    frames = traceback.extract_tb(e.__traceback__)
    mine = [f for f in frames if "site-packages" not in f.filename and "/lib/python" not in f.filename
            and not f.filename.startswith(_PKG_DIR)]
    if not mine:
        return ""
    f = mine[-1]
    return f" (in {f.name}, line {f.lineno})"


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """Raise _TimeUp in this (main) thread after `seconds`; no limit off the main thread or without SIGALRM."""
    usable = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _TimeUp()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def to_plain(value):
    """The student's return value as a numeric ndarray (bool/int/float/complex), or None; raises TypeError with
    the reason otherwise. Runs the student's __array__/__float__ (so it belongs to role 2)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, dict, set)):
        raise TypeError(f"returned a {type(value).__name__}, not numbers")
    try:
        a = np.asarray(value)
        if a.dtype.kind not in "biufc":
            a = np.asarray(value, dtype=float) if a.dtype.kind == "O" else None
            if a is None:
                raise TypeError("not numbers")
    except (KeyboardInterrupt, _TimeUp, SystemExit, Forbidden):
        raise
    except BaseException as e:  # noqa: BLE001 - the student's object: its __array__ / __float__ failed
        raise TypeError(f"your return value ({type(value).__name__}) could not be turned into an array of "
                        f"numbers: {type(e).__name__}: {_short(str(e), 120)}") from None
    return np.array(a, copy=True)


def invoke(fn, args, *, name: str, hints=(), uses_earlier: bool = False, deadline: float | None = None,
           time_limit: float = TIME_LIMIT, forbid=(), forbid_why: str = "") -> Outcome:
    """Call fn(*args) with every guard: the check's time limit (deadline, time.monotonic()), numpy warnings off,
    the `forbid` package functions replaced by stubs; convert its return value with `to_plain`.
    Never raises (BaseException from the student's code included)."""
    if not callable(fn):
        return Outcome(None, f"Expected a function, got {type(fn).__name__}: pass the function itself "
                             f"(its name, without parentheses).", "bad")
    left = None if deadline is None else deadline - time.monotonic()
    if left is not None and left <= 0:
        return Outcome(None, _timeout_message(name, time_limit), "timeout")
    try:
        with _time_limit(left), forbidden(forbid, forbid_why), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = fn(*args)
            try:
                return Outcome(to_plain(value))
            except TypeError as e:
                return Outcome(None, f"{name}: {e}.", "bad")
    except NotImplementedError:
        extra = (" (It calls an earlier part: finish that one first if it is still a stub.)" if uses_earlier else "")
        return Outcome(None, f"{name}: {NOT_IMPLEMENTED}{extra}", "todo")
    except _TimeUp:
        return Outcome(None, _timeout_message(name, time_limit), "timeout")
    except Forbidden as e:
        return Outcome(None, f"{name}: {e}", "forbidden")
    except KeyboardInterrupt:
        return Outcome(None, f"{name}: interrupted (KeyboardInterrupt) before it returned.", "interrupted")
    except SystemExit as e:
        return Outcome(None, f"{name} called sys.exit({'' if e.code is None else e.code!r}) (or exit()): a function "
                             "must `return` its result; nothing may end the program.", "exit")
    except BaseException as e:  # noqa: BLE001 - whatever the student's code raises becomes feedback
        text = f"{type(e).__name__}: {_short(str(e))}"
        hint = next((h for pat, h in tuple(hints) + _COMMON_HINTS if pat in text), "")
        return Outcome(None, f"{name} raised {text}{_where_raised(e)}", "error", hint)


def _timeout_message(name: str, limit: float) -> str:
    return (f"{name}: stopped after {limit:g} s, the check's time limit: an endless loop, or far too slow? "
            f"(check_...(fn, time_limit=...) sets another limit.)")


# -- "writing X means writing X": the package's X is unavailable while the student's function runs ------------

def _resolve(name: str):
    """(owner, attribute, original) for a public pgcourse name ("gae", "SoftmaxPolicy.grad_log_prob",
    "analysis.td_fixed_point"); None if this version of the package does not have it."""
    import importlib

    import pgcourse
    owner = pgcourse
    parts = name.split(".")
    for i, p in enumerate(parts[:-1]):
        nxt = getattr(owner, p, None)
        if nxt is None and i == 0:
            try:
                nxt = importlib.import_module(f"pgcourse.{p}")
            except ImportError:
                return None
        if nxt is None:
            return None
        owner = nxt
    orig = getattr(owner, parts[-1], None)
    return None if orig is None else (owner, parts[-1], orig)


WRITE_IT = "it is what this part asks you to write: write it yourself (numpy, and your earlier parts, are fine)."


def _stub(name: str, orig, why: str = ""):
    label = f"pg.{name}" if "." not in name or name.split(".")[0][0].islower() else name

    def unavailable(*args, **kwargs):
        raise Forbidden(f"{label} is not available in this part: {why or WRITE_IT}")
    unavailable.__name__ = getattr(orig, "__name__", name.rsplit(".", 1)[-1])
    unavailable.__pgcourse_forbidden__ = True
    return unavailable


def forbidden_patches(names, why: str = "") -> list[tuple[object, str, object, object]]:
    """[(owner, attribute, original, stub)] for every place in the loaded pgcourse modules (classes included)
    that holds one of the originals of `names`."""
    patches = []
    for name in names:
        r = _resolve(name)
        if r is None:
            continue
        owner, attr, orig = r
        stub = _stub(name, orig, why)
        if isinstance(owner, type):  # a method: patch the class (and its subclasses that inherit it)
            patches.append((owner, attr, orig, stub))
            continue
        for mod_name, mod in list(sys.modules.items()):
            if mod is None or not (mod_name == "pgcourse" or mod_name.startswith("pgcourse.")):
                continue
            for k, v in list(vars(mod).items()):
                if v is orig:
                    patches.append((mod, k, orig, stub))
    return patches


@contextlib.contextmanager
def forbidden(names, why: str = ""):
    """Within the block, the package functions `names` raise Forbidden (restored afterwards)."""
    patches = forbidden_patches(names, why) if names else []
    for owner, attr, _, stub in patches:
        setattr(owner, attr, stub)
    try:
        yield
    finally:
        for owner, attr, orig, _ in reversed(patches):
            setattr(owner, attr, orig)


def materialize(args, rngs: dict):
    """A fresh copy of one call's arguments: arrays copied (the student may write into them), pgcourse objects
    copied, each Rng placeholder turned into its generator (one per placeholder, shared within a case)."""
    from ..sampling import Episodes

    def one(x):
        if isinstance(x, Rng):
            if x not in rngs:
                rngs[x] = np.random.default_rng(x.seed)
            return rngs[x]
        if isinstance(x, np.ndarray):
            return x.copy()
        if isinstance(x, Episodes):
            return x.take(np.arange(x.n_episodes)) if hasattr(x, "take") else Episodes(
                **{k: getattr(x, k).copy() for k in x.__dataclass_fields__})
        return x  # numbers, and immutable pgcourse objects (TabularMDP, policies)
    return tuple(one(a) for a in args)


# ===================================================================================================
# role 3: judging the outcomes
# ===================================================================================================

class Ctx:
    """Judges outcomes; `where` describes the current test case (appended to every failure)."""

    def __init__(self, name: str):
        self.name = name
        self.where = ""

    def _at(self) -> str:
        return f"(test: {self.where})" if self.where else ""

    def fail(self, what: str):
        raise _Done(f"{_NO} {self.name}: {what} {self._at()}".rstrip())

    def value(self, out: Outcome):
        """The outcome's value, or the failure it stands for."""
        if out.error is None:
            return out.value
        if out.kind == "todo":
            raise _Done(f"{_TODO} {out.error}")
        if out.kind == "error":
            raise _Done(f"{_NO} {out.error} {self._at()}. {out.hint}".rstrip())
        raise _Done(f"{_NO} {out.error} {self._at()}".rstrip())

    def array(self, got, what: str, expected_shape=None) -> np.ndarray:
        """got as a real float ndarray (data boundary: None, complex, non-numbers rejected by name)."""
        if got is None:
            self.fail(f"returned None: the function must `return` {what}.")
        if not isinstance(got, np.ndarray):
            try:
                got = to_plain(got)
            except TypeError as e:
                self.fail(f"{what}: {e}.")
        if got.dtype.kind == "c":
            self.fail(f"{what} has complex entries (imaginary part up to {float(np.abs(got.imag).max()):.3g}): "
                      f"return real numbers; a complex value means something went wrong (a sqrt or log of a "
                      f"negative number, or a stray 1j).")
        if got.dtype.kind not in "biuf":
            self.fail(f"{what} must be an array of numbers, got an array of {got.dtype}.")
        g = got.astype(float)
        if expected_shape == () and g.size == 1:
            g = g.reshape(())
        return g

    def compare(self, got, expected, what: str, variants=(), *, tol: float = 1e-6, shape_hints=None,
                nan_hint: str = "", near_hint: str = "", generic_hint: str = "", near_rel: float = 1e-2):
        """Fail with a diagnosis unless got ~ expected. variants: (wrong_array, message) pairs, tried in order
        (a variant that coincides with the expected answer on this case is skipped)."""
        e = np.asarray(expected, dtype=float)
        g = self.array(got, what, e.shape)
        good_variants = [(np.asarray(v, dtype=float), m) for v, m in variants
                         if v is not None and not (np.shape(v) == e.shape and close(v, e, tol))]
        if g.shape != e.shape:
            for v, m in good_variants:
                if v.shape == g.shape and np.all(np.isfinite(g)) and close(g, v, tol):
                    self.fail(m)
            if e.ndim == 0:
                self.fail(f"wrong shape: {what} must be one number, got an array of shape {shape_str(g.shape)}. "
                          f"{(shape_hints or {}).get(g.shape, '')}".rstrip())
            msg = f"wrong shape: expected {what} of shape {shape_str(e.shape)}, got {shape_str(g.shape)}."
            hint = (shape_hints or {}).get(g.shape, "")
            if not hint and g.ndim == e.ndim and g.shape == e.shape[::-1] and g.ndim > 1:
                hint = "It looks transposed."
            self.fail(f"{msg} {hint}".rstrip())
        if not np.all(np.isfinite(g)):
            bad = int(np.size(g) - np.isfinite(g).sum())
            self.fail(f"{what} contains NaN or inf ({bad} of {g.size} entries). {nan_hint}".rstrip())
        if close(g, e, tol):
            return
        for v, m in good_variants:
            if v.shape == g.shape and close(g, v, tol):
                self.fail(m)
        scale = float(np.abs(e).max()) if e.size else 0.0
        if scale > 0 and close(g, -e, tol):
            self.fail(f"sign flipped: your {what} is exactly minus the expected one. {generic_hint}".rstrip())
        if scale > 0 and e.size > 1:
            c = float((g * e).sum() / (e * e).sum())
            # a factor within near_rel of 1 is a near miss (a truncated series, a loop not converged): the
            # near_hint below names it better
            if close(g, c * e, tol) and abs(c) > 1e-12 and not (near_hint and abs(c - 1) < near_rel):
                self.fail(f"off by a constant factor: your {what} is {c:.4g} times the expected one. "
                          f"{generic_hint}".rstrip())
        err = np.abs(g - e)
        rel = float(err.max() / max(scale, 1e-12))
        if e.ndim == 0:
            where = f"expected {float(e):.6g}, got {float(g):.6g}"
        else:
            idx = np.unravel_index(int(np.argmax(err)), e.shape)
            idx_s = "[" + ", ".join(str(int(i)) for i in idx) + "]"
            n_bad = int((~np.isclose(g, e, rtol=tol, atol=tol * max(1.0, scale))).sum())
            where = (f"at {what}{idx_s} expected {float(e[idx]):.6g}, got {float(g[idx]):.6g} "
                     f"({n_bad} of {e.size} entries differ)")
        if rel < near_rel and near_hint:
            self.fail(f"close but not exact (largest relative error {rel:.1e}): {where}. {near_hint}")
        self.fail(f"wrong values: {where}. {generic_hint}".rstrip())


def compare_case(args, expected, what: str, variants=(), *, where: str = "", **kw) -> Case:
    """The common case: one call, its value compared with `expected` (see Ctx.compare)."""
    def judge(ctx, outs):
        ctx.compare(ctx.value(outs[0]), expected, what, variants, **kw)
    return Case([tuple(args)], judge, where)


def close(a, b, tol: float = 1e-6) -> bool:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    return bool(np.allclose(a, b, rtol=tol, atol=tol * scale))


def shape_str(s) -> str:
    return "()" if s == () else "(" + ", ".join(str(int(x)) for x in s) + ("," if len(s) == 1 else "") + ")"


# ===================================================================================================
# the three roles together (the in-notebook check) and the judge alone (the grader)
# ===================================================================================================

def fresh_seed() -> int:
    return int(np.random.default_rng().integers(2**31))


def build_cases(chk: Checker, seed: int) -> list[Case]:
    """Role 1: the checker's cases for this seed (deterministic)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(chk.build(np.random.default_rng(seed)))


def judge_cases(chk: Checker, cases: list[Case], outcomes, name: str | None = None) -> CheckResult:
    """Role 3: the result of a check from each case's outcomes (outcomes: one list per case, possibly shorter
    than its calls when a call failed: the failure is then the last outcome)."""
    ctx = Ctx(name or chk.function)
    try:
        summary = chk.summary
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for case, outs in zip(cases, outcomes, strict=False):
                ctx.where = case.where
                for o in outs:
                    ctx.value(o)
                if len(outs) < len(case.calls):
                    ctx.fail("the function was not called on every test input (the grader stopped it).")
                s = case.judge(ctx, outs)
                summary = s if isinstance(s, str) else summary
            if len(outcomes) < len(cases):
                ctx.fail("not every test case was run (the grader stopped it).")
        summary = summary[:1].upper() + summary[1:]
        return CheckResult(True, f"{_OK} {ctx.name}: correct! {summary}", chk.name)
    except _Done as d:
        return CheckResult(d.passed, d.message, chk.name)
    except Exception as e:  # noqa: BLE001 - a bug in the checker must still not become a traceback wall
        return CheckResult(False, f"{_NO} {chk.name}: the checker itself failed ({type(e).__name__}: "
                                  f"{_short(str(e))}). This is a bug in pgcourse.checks, not necessarily in your "
                                  "code.", chk.name)


def call_cases(chk: Checker, fn, cases: list[Case], *, name: str, time_limit: float, forbid=None) -> list[list]:
    """Role 2 for a whole check: the outcomes of every call, stopping at the first failed call."""
    deadline = time.monotonic() + time_limit
    outcomes = []
    for case in cases:
        rngs: dict = {}
        outs = []
        outcomes.append(outs)
        for args in case.calls:
            try:
                real_args = materialize(args, rngs)
            except Exception as e:  # noqa: BLE001
                outs.append(Outcome(None, f"the checker could not prepare its input ({type(e).__name__}: {e})",
                                    "error"))
                return outcomes
            o = invoke(fn, real_args, name=name, uses_earlier=bool(chk.uses), deadline=deadline,
                       time_limit=time_limit, forbid=chk.forbid if forbid is None else forbid,
                       forbid_why=chk.forbid_why)
            outs.append(o)
            if o.error is not None:
                return outcomes
    return outcomes


def run_check(chk: Checker, fn, *, seed=None, quiet=False, time_limit=None) -> CheckResult:
    """The in-notebook check: build, call and judge in this process; prints the message unless quiet."""
    seed = fresh_seed() if seed is None else seed
    limit = TIME_LIMIT if time_limit is None else float(time_limit)
    name = getattr(fn, "__name__", None) or chk.function
    if not isinstance(name, str):
        name = chk.function
    try:
        cases = build_cases(chk, seed)
    except Exception as e:  # noqa: BLE001
        res = CheckResult(False, f"{_NO} {chk.name}: the checker itself failed ({type(e).__name__}: "
                                 f"{_short(str(e))}). This is a bug in pgcourse.checks.", chk.name)
    else:
        outcomes = call_cases(chk, fn, cases, name=name, time_limit=limit)
        res = judge_cases(chk, cases, outcomes, name=name)
    if not quiet:
        print(textwrap.fill(res.message, width=100, break_long_words=False, break_on_hyphens=False))
    return res


def registry_table() -> str:
    """The docstring table of exercises and their checkers, generated from the registry."""
    lines = []
    for ex in exercises():
        names = [c.name for c in checkers_of(ex)]
        text = textwrap.fill(", ".join(names), width=88, initial_indent=" " * 26, subsequent_indent=" " * 26)
        lines.append(f"  {ex:<23} {text.strip()}" if len(ex) < 24 else f"  {ex}\n{text}")
    return "\n".join(lines)
