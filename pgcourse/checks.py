"""Instant-feedback checkers for the exercises (exercises/exNN_*.ipynb).

Every checker has the form ``check_<thing>(student_fn, *, seed=None, quiet=False) -> CheckResult``. It calls
the student's function on FRESH random problems (random MDPs, sampled episode batches), compares the answer
with the package's exact machinery, and when the answer is wrong it recomputes the known wrong variants
(sign flipped, the 1/(1-gamma) factor missing, gamma^t missing, G_0 instead of G_t, no bootstrap on
truncation, bootstrapping from a terminal state, ...) to name the mistake. A checker never raises (the
student's errors, NotImplementedError included, become a failed result), never prints the solution, and
prints its message as one paragraph unless ``quiet``. ``seed=None`` draws a fresh seed: only numbers in the
message depend on it.

Exercises and their checkers:
  ex01_occupancy          check_policy_transitions, check_discounted_visits, check_occupancy,
                          check_objective_from_occupancy
  ex02_exact_gradient     check_softmax_probs, check_tabular_gradient, check_gradient_from_score
  ex03_score_functions    check_tabular_score, check_linear_score, check_gaussian_score
  ex04_returns            check_episode_returns, check_batch_returns, check_stream_returns
  ex05_reinforce_baseline check_reinforce_gradient, check_state_baseline, check_reinforce_with_baseline
  ex06_td_critic          check_td_errors, check_expected_td_error, check_td0_critic
  ex07_gae                check_gae_episode, check_gae_batch, check_gae_stream
  ex08_training_loop      check_estimate_gradient, check_training_loop
"""
from __future__ import annotations

import textwrap
import traceback
import warnings
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .estimators import discounted_returns, gae, mc_values, reinforce_gradient, td_errors
from .exact import evaluate, objective, optimal_values, policy_gradient, score_expectation
from .mdp import TabularMDP, random_mdp
from .policies import GaussianPolicy, SoftmaxPolicy, softmax
from .sampling import Episodes, sample_episodes

__all__ = [
    "CheckResult", "NOT_IMPLEMENTED",
    "check_policy_transitions", "check_discounted_visits", "check_occupancy", "check_objective_from_occupancy",
    "check_softmax_probs", "check_tabular_gradient", "check_gradient_from_score",
    "check_tabular_score", "check_linear_score", "check_gaussian_score",
    "check_episode_returns", "check_batch_returns", "check_stream_returns",
    "check_reinforce_gradient", "check_state_baseline", "check_reinforce_with_baseline",
    "check_td_errors", "check_expected_td_error", "check_td0_critic",
    "check_gae_episode", "check_gae_batch", "check_gae_stream",
    "check_estimate_gradient", "check_training_loop", "training_problem", "TRAINING_SETTINGS", "TRAINING_TARGET",
]

NOT_IMPLEMENTED = "Part not implemented yet: replace `raise NotImplementedError()` with your code."
_OK, _NO, _TODO = "\u2705", "\u274c", "\u23f3"  # check mark, cross, hourglass
_PKG_DIR = str(Path(__file__).resolve().parent)


# ===================================================================================================
# the result and the machinery shared by every checker
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


_COMMON_HINTS = (
    ("could not be broadcast", ("Shapes do not line up: check which axis you broadcast along "
                               "(x[:, None] adds an axis at the end, x[None, :] at the front).")),
    ("Singular matrix", "The matrix is singular: (I - gamma P_pi) is invertible for gamma < 1; did you drop gamma?"),
    ("index", "Check your indexing: states index the first axis, actions the second."),
    ("NoneType", "Some value is None: does every helper you call `return` its result?"),
)


class _Ctx:
    """Calls the student's function and compares its answers; `where` describes the current test case."""

    def __init__(self, fn, name: str):
        self.fn = fn
        self.name = getattr(fn, "__name__", None) or name
        self.where = ""
        self.uses_earlier = False

    # -- calling ------------------------------------------------------------------------------------
    def call(self, *args, hints=()):
        if not callable(self.fn):
            raise _Done(f"{_NO} Expected a function, got {type(self.fn).__name__}: pass the function itself "
                        f"(its name, without parentheses).")
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return self.fn(*args)
        except NotImplementedError:
            extra = (" (It calls an earlier part: finish that one first if it is still a stub.)"
                     if self.uses_earlier else "")
            raise _Done(f"{_TODO} {self.name}: {NOT_IMPLEMENTED}{extra}") from None
        except Exception as e:  # noqa: BLE001 - whatever the student's code raises becomes feedback
            text = f"{type(e).__name__}: {_short(str(e))}"
            hint = next((h for pat, h in tuple(hints) + _COMMON_HINTS if pat in text), "")
            raise _Done(f"{_NO} {self.name} raised {text}{_where_raised(e)} {self._at()}. {hint}".rstrip()) from None

    def _at(self) -> str:
        return f"(test: {self.where})" if self.where else ""

    def fail(self, what: str):
        raise _Done(f"{_NO} {self.name}: {what} {self._at()}".rstrip())

    # -- comparing ----------------------------------------------------------------------------------
    def compare(self, got, expected, what: str, variants=(), *, tol: float = 1e-6, shape_hints=None,
                nan_hint: str = "", near_hint: str = "", generic_hint: str = "", near_rel: float = 1e-2):
        """Fail with a diagnosis unless got ~ expected. variants: (wrong_array, message) pairs, tried in order
        (a variant that coincides with the expected answer on this case is skipped)."""
        e = np.asarray(expected, dtype=float)
        if got is None:
            self.fail(f"returned None: the function must `return` {what}.")
        if isinstance(got, (tuple, list)) and e.ndim == 0:
            self.fail(f"{what} must be one number, got a {type(got).__name__} of length {len(got)}.")
        try:
            g = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            self.fail(f"{what} must be an array of numbers, got {type(got).__name__}.")
        if e.shape == () and g.size == 1:
            g = g.reshape(())
        good_variants = [(np.asarray(v, dtype=float), m) for v, m in variants
                         if v is not None and not (np.shape(v) == e.shape and _close(v, e, tol))]
        if g.shape != e.shape:
            for v, m in good_variants:
                if v.shape == g.shape and np.all(np.isfinite(g)) and _close(g, v, tol):
                    self.fail(m)
            msg = f"wrong shape: expected {what} of shape {_shape(e.shape)}, got {_shape(g.shape)}."
            hint = (shape_hints or {}).get(g.shape, "")
            if not hint and g.ndim == e.ndim and g.shape == e.shape[::-1] and g.ndim > 1:
                hint = "It looks transposed."
            self.fail(f"{msg} {hint}".rstrip())
        if not np.all(np.isfinite(g)):
            bad = int(np.size(g) - np.isfinite(g).sum())
            self.fail(f"{what} contains NaN or inf ({bad} of {g.size} entries). {nan_hint}".rstrip())
        if _close(g, e, tol):
            return
        for v, m in good_variants:
            if v.shape == g.shape and _close(g, v, tol):
                self.fail(m)
        scale = float(np.abs(e).max()) if e.size else 0.0
        if scale > 0 and _close(g, -e, tol):
            self.fail(f"sign flipped: your {what} is exactly minus the expected one. {generic_hint}".rstrip())
        if scale > 0 and e.size > 1:
            c = float((g * e).sum() / (e * e).sum())
            if _close(g, c * e, tol) and abs(c) > 1e-12:
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


def _close(a, b, tol: float = 1e-6) -> bool:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    return bool(np.allclose(a, b, rtol=tol, atol=tol * scale))


def _shape(s) -> str:
    return "()" if s == () else "(" + ", ".join(str(int(x)) for x in s) + ("," if len(s) == 1 else "") + ")"


def _short(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
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


def _run(name: str, fn, body, seed, quiet: bool) -> CheckResult:
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    ctx = _Ctx(fn, name)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            summary = body(ctx, np.random.default_rng(seed))
        summary = summary[:1].upper() + summary[1:]
        res = CheckResult(True, f"{_OK} {ctx.name}: correct! {summary}", name)
    except _Done as d:
        res = CheckResult(d.passed, d.message, name)
    except Exception as e:  # noqa: BLE001 - a bug in the checker must still not become a traceback wall
        res = CheckResult(False, f"{_NO} {name}: the checker itself failed ({type(e).__name__}: {_short(str(e))}). "
                                 "This is a bug in pgcourse.checks, not necessarily in your code.", name)
    if not quiet:
        print(textwrap.fill(res.message, width=100, break_long_words=False, break_on_hyphens=False))
    return res


# -- random problems ----------------------------------------------------------------------------------

def _mdp(rng, *, S=None, A=None, gamma=None, n_terminal=0) -> TabularMDP:
    S = int(rng.integers(4, 7)) if S is None else S
    A = (2 if S % 2 == 0 else 3) if A is None else A
    gamma = float(rng.choice([0.7, 0.8, 0.9])) if gamma is None else gamma
    return random_mdp(S, A, gamma, rng, n_terminal=n_terminal)


def _pi(rng, S, A) -> np.ndarray:
    return softmax(rng.normal(size=(S, A)), axis=1)


def _describe(mdp: TabularMDP) -> str:
    t = f", {int(mdp.terminal.sum())} terminal state" if mdp.episodic else ""
    return f"random MDP with S={mdp.S}, A={mdp.A}, gamma={mdp.gamma:g}{t}"


def _copy_episodes(ep: Episodes) -> Episodes:
    return Episodes(**{f.name: getattr(ep, f.name).copy() for f in fields(ep)})


def _episodes(rng, mdp, pi, N, T):
    """A batch with both endings (so that each typical mistake changes the answer), or None when ten draws
    on this MDP fail to give one (then the caller draws another MDP)."""
    for _ in range(10):
        ep = sample_episodes(mdp, pi, N, T, rng)
        if ep.truncated.any() and ep.terminated.any():
            return ep
    return None


def _V(rng, S) -> np.ndarray:
    """A critic with nonzero values everywhere, terminal states included (to expose bootstrapping from them)."""
    return rng.normal(size=S) + np.sign(rng.normal(size=S)) * 0.5


# ===================================================================================================
# ex01_occupancy
# ===================================================================================================

def check_policy_transitions(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(P (S, A, S), pi (S, A)) -> P_pi (S, S), P_pi[s, s'] = sum_a pi(a|s) P[s, a, s']."""
    def body(ctx, rng):
        for _ in range(3):
            mdp = _mdp(rng)
            pi = _pi(rng, mdp.S, mdp.A)
            ctx.where = _describe(mdp)
            P = np.array(mdp.P)
            exp = np.einsum("sa,sat->st", pi, P)
            got = ctx.call(P.copy(), pi.copy())
            ctx.compare(got, exp, "P_pi", [
                (exp.T, ("P_pi looks transposed: row s must hold the distribution of the next state s' "
                        "(each row sums to 1).")),
                (P.mean(axis=1), "pi is ignored: you averaged P over actions uniformly; weight action a by pi(a|s)."),
                (P.sum(axis=1), ("pi is missing: weight P[s, a, :] by pi(a|s) before summing over actions "
                                "(your rows sum to A, not 1).")),
            ], shape_hints={(mdp.S, mdp.A, mdp.S): "You still have the action axis: sum over a, weighted by pi(a|s)."},
                generic_hint="Each row of P_pi must sum to 1.")
        return "P_pi matches on 3 random MDPs, and its rows sum to 1."
    return _run("check_policy_transitions", student_fn, body, seed, quiet)


def check_discounted_visits(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(P_pi (S, S), mu (S,), gamma) -> visits (S,) = mu^T (I - gamma P_pi)^-1 (no terminal states)."""
    def body(ctx, rng):
        for _ in range(3):
            mdp = _mdp(rng)
            pi = _pi(rng, mdp.S, mdp.A)
            g = mdp.gamma
            ctx.where = _describe(mdp)
            P_pi = np.einsum("sa,sat->st", pi, mdp.P)
            mu = np.array(mdp.mu)
            M = np.eye(mdp.S) - g * P_pi
            exp = np.linalg.solve(M.T, mu)
            got = ctx.call(P_pi.copy(), mu.copy(), g)
            ctx.compare(got, exp, "visits", [
                (np.linalg.solve(M, mu), ("you solved (I - gamma P_pi) x = mu, but the visits are a row vector "
                                         "mu^T (I - gamma P_pi)^-1: solve the transposed system.")),
                ((1 - g) * exp, ("your answer sums to 1: that is d^pi. The discounted visit counts are not "
                                "normalised: they sum to 1/(1-gamma).")),
                (np.linalg.solve(M.T, np.ones(mdp.S)), ("the start distribution mu is missing: the counts start "
                                                       "from mu (mu^T (I - gamma P_pi)^-1).")),
            ], near_hint="A truncated series sum_t gamma^t mu^T P_pi^t? Solve the linear system instead: it is exact.",
                generic_hint=f"Hint: the counts sum to 1/(1-gamma) = {1 / (1 - g):.4g}.")
        return "the discounted visit counts match on 3 random MDPs (they sum to 1/(1-gamma))."
    return _run("check_discounted_visits", student_fn, body, seed, quiet)


def check_occupancy(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(P, mu, pi, gamma) -> rho (S, A) = d^pi(s) pi(a|s), normalised to sum 1 (no terminal states)."""
    def body(ctx, rng):
        ctx.uses_earlier = True
        for _ in range(3):
            mdp = _mdp(rng)
            pi = _pi(rng, mdp.S, mdp.A)
            ctx.where = _describe(mdp)
            ev = evaluate(mdp, pi)
            g = mdp.gamma
            P_pi = np.einsum("sa,sat->st", pi, mdp.P)
            M = np.eye(mdp.S) - g * P_pi
            d_wrong = np.linalg.solve(M, mdp.mu)
            got = ctx.call(np.array(mdp.P), np.array(mdp.mu), pi.copy(), g)
            ctx.compare(got, ev.rho, "rho", [
                (ev.visits[:, None] * pi, ("rows of d not normalised: rho must sum to 1, yours sums to 1/(1-gamma). "
                                          "Normalise d^pi (divide the visit counts by their sum).")),
                (pi / mdp.S, ("you weighted the states uniformly: rho weights each state by how often the policy "
                             "visits it, d^pi(s).")),
                (mdp.mu[:, None] * pi, ("you used the start distribution mu instead of d^pi: d^pi counts every "
                                       "time step, discounted, not just t = 0.")),
                (d_wrong[:, None] * pi / d_wrong.sum(), ("d^pi comes from the untransposed system (I - gamma P_pi) x "
                                                        "= mu; the visits are mu^T (I - gamma P_pi)^-1.")),
                (ev.d[:, None] * np.ones_like(pi), "pi(a|s) is missing: rho(s, a) = d^pi(s) pi(a|s)."),
            ], shape_hints={(mdp.S,): "That is d^pi: rho(s, a) = d^pi(s) pi(a|s) has an action axis.",
                            (mdp.S, 1): "rho(s, a) = d^pi(s) pi(a|s): multiply by pi."},
                generic_hint="rho must sum to 1 and its row sums are d^pi.")
        return "rho matches on 3 random MDPs: it sums to 1 and its row sums are d^pi."
    return _run("check_occupancy", student_fn, body, seed, quiet)


def check_objective_from_occupancy(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(rho (S, A), R (S, A), gamma) -> U = 1/(1-gamma) sum_{s,a} rho(s, a) r(s, a) (a float)."""
    def body(ctx, rng):
        for _ in range(3):
            mdp = _mdp(rng)
            pi = _pi(rng, mdp.S, mdp.A)
            g = mdp.gamma
            ctx.where = _describe(mdp)
            ev = evaluate(mdp, pi)
            R = np.array(mdp.R)
            s = float((ev.rho * R).sum())
            got = ctx.call(ev.rho.copy(), R.copy(), g)
            ctx.compare(got, ev.U, "U", [
                (s, ("the 1/(1-gamma) factor is missing: rho is normalised (it sums to 1), so "
                    "U = 1/(1-gamma) sum rho r.")),
                ((1 - g) * s, "you multiplied by (1-gamma): divide instead, U = 1/(1-gamma) sum rho r."),
                ((ev.rho * R).mean() / (1 - g), "use a sum over all (s, a), not a mean."),
            ], shape_hints={(mdp.S, mdp.A): "U is one number: sum over all (s, a).",
                            (mdp.S,): "U is one number: sum over states too."})
        return "U = 1/(1-gamma) sum rho r matches the exact U on 3 random MDPs."
    return _run("check_objective_from_occupancy", student_fn, body, seed, quiet)


# ===================================================================================================
# ex02_exact_gradient
# ===================================================================================================

_STABLE = ("softmax unstable for large logits: exp(1000) overflows to inf and inf/inf is NaN. Subtract each "
           "row's largest logit before exponentiating (it cancels in the ratio).")


def check_softmax_probs(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(theta (S, A)) -> pi (S, A), pi(a|s) = exp theta[s, a] / sum_b exp theta[s, b]; stable for
    logits of size 1e3."""
    def body(ctx, rng):
        for scale in (1.0, 3.0, 1000.0):
            S = int(rng.integers(3, 6))
            A = S + 1
            theta = rng.normal(size=(S, A)) * scale
            theta[0, 0] = 2.0 * scale
            ctx.where = f"theta of shape ({S}, {A}), logits of size ~{scale:g}"
            exp = softmax(theta, axis=1)
            e = np.exp(theta - theta.max())
            got = ctx.call(theta.copy())
            unnormalised = None
            try:  # right up to a positive factor per row: the normalisation is missing
                g = np.asarray(got, dtype=float)
                if g.shape == exp.shape and np.all(np.isfinite(g)) and np.all(g > 0):
                    unnormalised = g if _close(g / g.sum(axis=1, keepdims=True), exp) else None
            except (TypeError, ValueError):
                pass
            ctx.compare(got, exp, "pi", [
                (softmax(theta, axis=0), ("normalised over the wrong axis: each row pi(.|s) must sum to 1 over "
                                         "the actions (axis 1).")),
                (e / e.sum(), "you normalised the whole table: each row (state) must sum to 1 on its own."),
                (unnormalised, "the rows do not sum to 1: divide each row by its sum."),
                (theta / theta.sum(axis=1, keepdims=True), "exponentiate the logits first."),
            ], nan_hint=_STABLE, generic_hint="Each row must sum to 1.")
        return "pi is right, rows sum to 1, and it is stable for logits of size 1000."
    return _run("check_softmax_probs", student_fn, body, seed, quiet)


def check_tabular_gradient(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(mdp, theta (S, A)) -> exact grad U (S, A) for the tabular softmax:
    grad U[s, a] = visits(s) pi(a|s) A(s, a)."""
    def body(ctx, rng):
        ctx.uses_earlier = True
        for _ in range(3):
            mdp = _mdp(rng, gamma=float(rng.choice([0.8, 0.9])))
            pol = SoftmaxPolicy.tabular(mdp.S, mdp.A)
            theta = rng.normal(size=(mdp.S, mdp.A))
            ctx.where = _describe(mdp)
            ev = evaluate(mdp, pol.probs(theta))
            exp = policy_gradient(mdp, pol, theta)
            vis, pi = ev.visits[:, None], ev.pi
            got = ctx.call(mdp, theta.copy())
            ctx.compare(got, exp, "grad U", [
                (ev.d[:, None] * pi * ev.A, ("the 1/(1-gamma) factor is missing: you weighted by d^pi (which sums "
                                            "to 1); weight by the visit counts, which sum to 1/(1-gamma).")),
                (vis * pi * ev.Q, ("use the advantage A = Q - V, not Q: for the tabular softmax the score "
                                  "e_{s,a} - pi(.|s) subtracts the policy average, which turns Q into A.")),
                (vis * ev.A, "the pi(a|s) factor is missing: grad pi(a|s) = pi(a|s) grad log pi(a|s)."),
                (pi * ev.A, "the state weighting is missing: multiply by the discounted visit counts of s."),
                (mdp.mu[:, None] * pi * ev.A, ("you weighted by the start distribution mu: the gradient weights "
                                              "each state by its discounted visit count.")),
                (vis * pi * ev.A / (1 - mdp.gamma), ("you applied the 1/(1-gamma) factor twice: the visit "
                                                    "counts already sum to 1/(1-gamma).")),
            ], generic_hint="Compare with pg.finite_difference_gradient on a small MDP.")
        return "the exact tabular gradient matches on 3 random MDPs."
    return _run("check_tabular_gradient", student_fn, body, seed, quiet)


def check_gradient_from_score(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(mdp, policy (linear SoftmaxPolicy), theta (K,)) -> grad U (K,) =
    1/(1-gamma) E_{s~d, a~pi}[grad log pi(a|s) Q(s, a)]."""
    def body(ctx, rng):
        for _ in range(3):
            mdp = _mdp(rng, gamma=float(rng.choice([0.8, 0.9])))
            K = int(rng.integers(3, 6))
            pol = SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, K)))
            theta = rng.normal(size=K)
            ctx.where = _describe(mdp) + f", K={K} features"
            ev = evaluate(mdp, pol.probs(theta))
            g = mdp.gamma
            H = 1.0 / (1.0 - g)
            exp = policy_gradient(mdp, pol, theta)
            scores = pol.grad_log_prob(theta, *np.meshgrid(np.arange(mdp.S), np.arange(mdp.A), indexing="ij"))
            no_pi = H * np.einsum("s,sak,sa->k", ev.d, scores, ev.Q)
            got = ctx.call(mdp, pol, theta.copy())
            ctx.compare(got, exp, "grad U", [
                ((1 - g) * exp, ("the 1/(1-gamma) factor is missing: with d^pi normalised, "
                                "grad U = 1/(1-gamma) E_{d,pi}[grad log pi Q].")),
                (H * exp, "you applied the 1/(1-gamma) factor twice (visit counts already carry it)."),
                (H * score_expectation(mdp, pol, theta, ev.Q, d=np.full(mdp.S, 1 / mdp.S)),
                 "you weighted the states uniformly: the theorem weights them by d^pi."),
                (H * score_expectation(mdp, pol, theta, ev.Q, d=np.array(mdp.mu)),
                 "you weighted the states by mu: the theorem weights them by d^pi (all time steps, discounted)."),
                (no_pi, "the expectation over a ~ pi(.|s) is missing: weight each action's score * Q by pi(a|s)."),
            ], shape_hints={(mdp.S, mdp.A, K): "Sum over (s, a): the gradient has theta's shape (K,)."},
                generic_hint="Hint: grad log pi(a|s) = phi(s, a) - sum_b pi(b|s) phi(s, b).")
        return ("grad U = 1/(1-gamma) E_{d,pi}[score Q] matches the exact gradient on 3 random MDPs "
                "(using A instead of Q gives the same: E_a[score] = 0).")
    return _run("check_gradient_from_score", student_fn, body, seed, quiet)


# ===================================================================================================
# ex03_score_functions
# ===================================================================================================

def check_tabular_score(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(theta (S, A), s, a) -> grad_theta log pi(a|s), shape (S, A): row s is e_a - pi(.|s)."""
    def body(ctx, rng):
        for _ in range(4):
            S = int(rng.integers(3, 6))
            A = S + 1
            theta = rng.normal(size=(S, A)) * 2
            s, a = int(rng.integers(S)), int(rng.integers(A))
            ctx.where = f"theta of shape ({S}, {A}), s={s}, a={a}"
            pol = SoftmaxPolicy.tabular(S, A)
            pi = pol.probs(theta)
            exp = pol.grad_log_prob(theta, s, a)
            onehot = np.zeros((S, A))
            onehot[s, a] = 1.0
            uni = onehot.copy()
            uni[s] -= 1.0 / A
            got = ctx.call(theta.copy(), s, a)
            ctx.compare(got, exp, "score", [
                (onehot, ("the policy-average term is missing: d/dtheta log-sum-exp subtracts pi(.|s) in row s "
                         "(the score is the taken action's indicator minus the policy average).")),
                (onehot - pi, "only row s depends on log pi(a|s): the other rows of the score must be 0."),
                (uni, "subtract pi(.|s), not the uniform average 1/A."),
                (onehot * (1 - pi), "not quite: every action b in row s gets -pi(b|s), and the taken one 1 - pi(a|s)."),
            ], shape_hints={(A,): "The score has theta's shape (S, A): put the row at index s, zeros elsewhere."},
                nan_hint=_STABLE)
        return "the tabular softmax score matches for 4 random (theta, s, a)."
    return _run("check_tabular_score", student_fn, body, seed, quiet)


def check_linear_score(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(features (S, A, K), theta (K,), s, a) -> phi(s, a) - sum_b pi(b|s) phi(s, b), shape (K,);
    stable for logits of size 1e3."""
    def body(ctx, rng):
        for big in (False, False, True):
            S, A, K = int(rng.integers(3, 6)), 3, int(rng.integers(4, 7))
            phi = rng.normal(size=(S, A, K))
            theta = rng.normal(size=K)
            s, a = int(rng.integers(S)), int(rng.integers(A))
            if big:  # the largest logit in state s is 1500: exp overflows unless the max is subtracted
                h = phi[s] @ theta
                theta = theta * (1500.0 / h[np.argmax(np.abs(h))])
            pol = SoftmaxPolicy(phi)
            h = np.abs(pol.logits(theta)).max()
            ctx.where = f"features ({S}, {A}, {K}), s={s}, a={a}, logits up to {h:.0f}"
            exp = pol.grad_log_prob(theta, s, a)
            got = ctx.call(phi.copy(), theta.copy(), s, a)
            ctx.compare(got, exp, "score", [
                (phi[s, a], "the policy-average features are missing: subtract sum_b pi(b|s) phi(s, b)."),
                (phi[s, a] - phi[s].mean(axis=0), ("the average of the features must be weighted by pi(b|s), "
                                                  "not uniform.")),
            ], shape_hints={(S, A, K): "Return the score of the one pair (s, a): shape (K,)."},
                nan_hint="log-softmax unstable for large logits: " + _STABLE.split(": ", 1)[1])
        return "the linear softmax score matches, also for logits of size ~1000."
    return _run("check_linear_score", student_fn, body, seed, quiet)


def check_gaussian_score(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(theta (K,), phi (N, K), actions (N,), sigma) -> (N, K): (a - phi . theta) / sigma^2 * phi."""
    def body(ctx, rng):
        for sigma in (0.5, 2.0, 0.3):
            N, K = int(rng.integers(5, 10)), int(rng.integers(2, 4))
            theta = rng.normal(size=K)
            phi = rng.normal(size=(N, K))
            pol = GaussianPolicy(sigma, K)
            a = pol.sample(theta, phi, rng)
            ctx.where = f"N={N} states, K={K} features, sigma={sigma}"
            exp = pol.grad_log_prob(theta, phi, a)
            m = phi @ theta
            got = ctx.call(theta.copy(), phi.copy(), a.copy(), sigma)
            ctx.compare(got, exp, "score", [
                (((a - m) / sigma)[:, None] * phi, "divide by sigma^2 (the variance), not by sigma."),
                (((a - m) * sigma**2)[:, None] * phi, "divide by sigma^2, do not multiply."),
            ], shape_hints={(N,): "phi(s) is missing: by the chain rule through mu(s) = phi(s) . theta the score "
                                  "has one entry per feature, shape (N, K).",
                            (K,): "Return one score per sample, shape (N, K) (do not average over samples)."},
                generic_hint="d/dmu log N(a; mu, sigma^2) = (a - mu)/sigma^2.")
        return "the Gaussian score matches for 3 values of sigma."
    return _run("check_gaussian_score", student_fn, body, seed, quiet)


# ===================================================================================================
# ex04_returns
# ===================================================================================================

def _returns_1d(r, gamma):
    G = np.zeros(len(r))
    nxt = 0.0
    for t in range(len(r) - 1, -1, -1):
        nxt = r[t] + gamma * nxt
        G[t] = nxt
    return G


def check_episode_returns(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(rewards (T,), gamma) -> G (T,), G_t = sum_k gamma^k r_{t+k}."""
    def body(ctx, rng):
        for gamma in (0.9, 0.5, 0.99):
            T = int(rng.integers(6, 12))
            r = rng.normal(size=T)
            ctx.where = f"T={T} rewards, gamma={gamma}"
            exp = _returns_1d(r, gamma)
            disc = gamma ** np.arange(T)
            got = ctx.call(r.copy(), gamma)
            ctx.compare(got, exp, "G", [
                (_returns_1d(r, 1.0), "gamma is missing: G_t = r_t + gamma r_{t+1} + gamma^2 r_{t+2} + ..."),
                (np.full(T, exp[0]), "G_0 used instead of G_t: each G_t sums only the rewards from t on."),
                (np.cumsum(disc * r), ("that is the discounted sum of the past rewards; the return G_t sums the "
                                      "future: r_t + gamma r_{t+1} + ...")),
                (np.cumsum((disc * r)[::-1])[::-1], ("discounted from the episode start: G_t discounts relative "
                                                    "to t, gamma^k r_{t+k}, not gamma^(t+k).")),
                (np.append(exp[1:], 0.0), "off by one: G_t includes r_t itself."),
                (np.append(exp[1:] * gamma, 0.0), "off by one: G_t starts with r_t (undiscounted)."),
            ], shape_hints={(): "Return one G_t per time step, shape (T,)."},
                generic_hint="Hint: go backwards, G_t = r_t + gamma G_{t+1}.")
        return "G_t matches for 3 episodes."
    return _run("check_episode_returns", student_fn, body, seed, quiet)


def _ragged_batch(rng, N, T):
    """rewards (N, T) with junk after each episode's end and the mask; some episodes reach T."""
    lengths = rng.integers(1, T + 1, size=N)
    lengths[0] = T
    lengths[1] = max(1, T // 2)
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(float)
    rewards = rng.normal(size=(N, T))
    return rewards, mask


def check_batch_returns(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(rewards (N, T), gamma, mask (N, T)) -> G (N, T), G_t within each episode, 0 where mask is 0.
    Entries of rewards where mask is 0 are padding and may hold anything."""
    def body(ctx, rng):
        for gamma in (0.9, 0.8):
            N, T = int(rng.integers(4, 8)), int(rng.integers(5, 9))
            r, m = _ragged_batch(rng, N, T)
            ctx.where = f"N={N} episodes, T={T}, gamma={gamma}, junk rewards after each episode's end"
            exp = discounted_returns(r, gamma, m)
            flat = _returns_1d((r * m).ravel(), gamma).reshape(N, T) * m
            disc = gamma ** np.arange(T)
            got = ctx.call(r.copy(), gamma, m.copy())
            ctx.compare(got, exp, "G", [
                (discounted_returns(r, gamma), ("mask ignored: the steps where mask is 0 are padding (here they "
                                               "hold junk rewards): they must not count, and G must be 0 there.")),
                (discounted_returns(r, gamma) * m, ("you masked the output but not the rewards: junk after an "
                                                   "episode's end flows back into G_t. Mask the rewards first.")),
                (flat, ("returns not reset between episodes: your sum runs on from the end of one row into the "
                       "next episode. Each row is its own episode.")),
                (discounted_returns(r, 1.0, m), "gamma is missing."),
                (np.repeat(exp[:, :1], T, axis=1) * m, "G_0 used instead of G_t: each G_t sums the rewards from t on."),
                (np.cumsum((disc * r * m)[:, ::-1], axis=1)[:, ::-1], ("discounted from the episode start: "
                                                                      "G_t = sum_k gamma^k r_{t+k}.")),
            ], shape_hints={(N,): "Return one G_t per step, shape (N, T).", (T, N): "It looks transposed: (N, T)."},
                generic_hint="Hint: loop backwards over t only, vectorised over the N episodes.")
        return "G matches on 2 ragged batches (junk padding ignored, each row its own episode)."
    return _run("check_batch_returns", student_fn, body, seed, quiet)


def _stream_returns(r, dones, gamma):
    G = np.zeros(len(r))
    nxt = 0.0
    for t in range(len(r) - 1, -1, -1):
        nxt = r[t] + gamma * (0.0 if dones[t] else nxt)
        G[t] = nxt
    return G


def check_stream_returns(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(rewards (T,), dones (T,) bool, gamma) -> G (T,): one stream of several episodes back to back;
    dones[t] is True when the episode ends after step t (the next reward belongs to a new episode)."""
    def body(ctx, rng):
        for gamma in (0.9, 0.7):
            T = int(rng.integers(12, 20))
            r = rng.normal(size=T)
            dones = rng.random(T) < 0.25
            dones[[2, T - 5]] = True
            dones[T - 1] = bool(rng.integers(2))
            ctx.where = f"a stream of {int(dones[:-1].sum()) + 1} episodes, T={T} steps, gamma={gamma}"
            exp = _stream_returns(r, dones, gamma)
            late = np.zeros(T, dtype=bool)
            late[1:] = dones[:-1]
            got = ctx.call(r.copy(), dones.copy(), gamma)
            ctx.compare(got, exp, "G", [
                (_returns_1d(r, gamma), ("returns not reset between episodes: where dones[t] is True the next "
                                        "reward belongs to a new episode, so G_t = r_t there.")),
                (_stream_returns(r, late, gamma), "reset one step late: at a step with dones[t] True, G_t = r_t."),
                (_stream_returns(np.where(dones, 0.0, r), dones, gamma), ("the last reward of an episode counts: "
                                                                         "G_t = r_t where dones[t].")),
                (_stream_returns(r, dones, 1.0), "gamma is missing."),
            ], generic_hint="Hint: backwards, G_t = r_t + gamma (1 - done_t) G_{t+1}.")
        return "G matches on 2 streams of back-to-back episodes."
    return _run("check_stream_returns", student_fn, body, seed, quiet)


# ===================================================================================================
# ex05_reinforce_baseline
# ===================================================================================================

def _pg_case(rng, tabular: bool, N=30, T=15):
    ep = None
    while ep is None:
        mdp = _mdp(rng, gamma=0.9, n_terminal=1)
        if tabular:
            pol = SoftmaxPolicy.tabular(mdp.S, mdp.A)
            theta = rng.normal(size=(mdp.S, mdp.A))
        else:
            K = 4
            pol = SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, K)))
            theta = rng.normal(size=K)
        ep = _episodes(rng, mdp, pol.probs(theta), N, T)
    kind = "tabular" if tabular else f"linear (K={pol.theta_shape[0]})"
    where = f"{_describe(mdp)}, {kind} softmax, N={N} episodes, T={T}"
    return mdp, pol, theta, ep, where


def _weighted(pol, theta, ep, W):
    return pol.score_sum(theta, ep.states, ep.actions, W)


def check_reinforce_gradient(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(policy, theta, episodes, gamma) -> 1/N sum_n sum_t gamma^t grad log pi(a_t|s_t) G_t."""
    def body(ctx, rng):
        for tabular in (True, False):
            mdp, pol, theta, ep, ctx.where = _pg_case(rng, tabular)
            g = mdp.gamma
            N, T = ep.states.shape
            m = ep.mask
            disc = g ** np.arange(T)
            G = discounted_returns(ep.rewards, g, m)
            exp = reinforce_gradient(pol, theta, ep, g)
            got = ctx.call(pol, theta.copy(), _copy_episodes(ep), g)
            ctx.compare(got, exp, "gradient", [
                (_weighted(pol, theta, ep, G[:, :1] * m / N), ("G_0 used instead of G_t, and gamma^t missing: "
                 "weight the score at step t by gamma^t G_t (the rewards before t do not depend on a_t).")),
                (_weighted(pol, theta, ep, G * m / N), ("gamma^t missing: the discounted objective weights step t "
                 "by gamma^t (G_t only discounts from t on).")),
                (_weighted(pol, theta, ep, disc * G[:, :1] * m / N), ("G_0 used instead of G_t: the action at "
                 "step t only affects the rewards from t on, use the reward-to-go G_t.")),
                (N * exp, "you summed over episodes: take the mean (divide by N)."),
                (_weighted(pol, theta, ep, disc * G * m / m.sum()), ("divide by the number of episodes N, not by the "
                                                                    "number of steps.")),
                (_weighted(pol, theta, ep, disc * discounted_returns(ep.rewards, 1.0, m) * m / N),
                 "gamma is missing inside G_t."),
            ], shape_hints={(N, T): "Sum over steps and average over episodes: the result has theta's shape."},
                generic_hint="Hint: pg.discounted_returns and policy.grad_log_prob (or policy.score_sum) help.")
        return "the REINFORCE estimate matches for a tabular and a linear softmax policy."
    return _run("check_reinforce_gradient", student_fn, body, seed, quiet)


def check_state_baseline(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(episodes, gamma, S) -> b (S,): the average of G_t over the real steps with s_t = s
    (0 for states never visited)."""
    def body(ctx, rng):
        for _ in range(2):
            mdp, _, _, ep, ctx.where = _pg_case(rng, True)
            g, S, A = mdp.gamma, mdp.S, mdp.A
            m = ep.mask
            G = discounted_returns(ep.rewards, g, m)
            s = ep.states.ravel()
            cnt = np.bincount(s, weights=m.ravel(), minlength=S)
            safe = np.maximum(cnt, 1)
            exp = mc_values(ep, g, S)
            s0 = ep.states[:, 0]
            c0 = np.bincount(s0, minlength=S)
            got = ctx.call(_copy_episodes(ep), g, S)
            ctx.compare(got, exp, "baseline", [
                (np.bincount(s, weights=(G[:, :1] * m).ravel(), minlength=S) / safe,
                 "G_0 used instead of G_t: each visit to s counts with the return from that visit on."),
                (np.bincount(s0, weights=G[:, 0], minlength=S) / np.maximum(c0, 1),
                 "you averaged only the start states' returns G_0: average G_t over every visit to s."),
                (np.bincount(s, weights=G.ravel(), minlength=S), "you summed G_t: take the mean over the visits."),
                (mc_values(ep, 1.0, S), "gamma is missing in G_t."),
            ], shape_hints={(S, A): "baseline depending on the action: a baseline must be a function of the "
                                    "state only, shape (S,). A b(s, a) biases the gradient estimate, since "
                                    "E_a[grad log pi(a|s) b(s, a)] is not 0 in general.",
                            (S, 1): "Return a flat (S,) array."},
                nan_hint="States never visited (here: the terminal state) give 0/0: set their baseline to 0.")
        return "the state baseline (empirical V) matches on 2 batches."
    return _run("check_state_baseline", student_fn, body, seed, quiet)


def check_reinforce_with_baseline(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(policy, theta, episodes, gamma, baseline (S,)) ->
    1/N sum_n sum_t gamma^t grad log pi(a_t|s_t) (G_t - b(s_t)) over the real steps."""
    def body(ctx, rng):
        for tabular in (True, False):
            mdp, pol, theta, ep, ctx.where = _pg_case(rng, tabular)
            g = mdp.gamma
            N, T = ep.states.shape
            m = ep.mask
            disc = g ** np.arange(T)
            G = discounted_returns(ep.rewards, g, m)
            b = _V(rng, mdp.S)
            bs = b[ep.states]
            exp = reinforce_gradient(pol, theta, ep, g, baseline=b)
            got = ctx.call(pol, theta.copy(), _copy_episodes(ep), g, b.copy())
            ctx.compare(got, exp, "gradient", [
                (_weighted(pol, theta, ep, disc * (G - bs) / N), ("mask ignored: the padding steps after an "
                 "episode's end (mask 0) must not contribute; there G_t = 0 but b(s_t) is not.")),
                (_weighted(pol, theta, ep, (disc * G - bs) * m / N), "apply gamma^t to (G_t - b(s_t)) as a whole."),
                (_weighted(pol, theta, ep, (G - bs) * m / N), "gamma^t missing: weight step t by gamma^t."),
                (_weighted(pol, theta, ep, disc * (G[:, :1] - bs) * m / N), "G_0 used instead of G_t."),
                (reinforce_gradient(pol, theta, ep, g), "the baseline is ignored: subtract b(s_t) from G_t."),
                (_weighted(pol, theta, ep, disc * (G + bs) * m / N), "subtract the baseline, do not add it."),
                (N * exp, "you summed over episodes: take the mean (divide by N)."),
            ], generic_hint="Hint: the weight of step t is gamma^t (G_t - b(s_t)) on the real steps (mask 1).")
        return "REINFORCE with a state baseline matches for a tabular and a linear softmax policy."
    return _run("check_reinforce_with_baseline", student_fn, body, seed, quiet)


# ===================================================================================================
# ex06_td_critic
# ===================================================================================================

_BOOT_TERMINAL = ("bootstrapping from a terminal state: after termination the future is worth 0, whatever "
                  "V holds there (here V(terminal) is not 0). Use (1 - terminated_t).")
_NO_BOOT_TRUNC = ("no bootstrap on truncation: an episode cut at the horizon did not end, its future is "
                  "worth V(s_{t+1}); only termination drops that term.")


def _td_case(rng, N=40, T=12):
    ep = None
    while ep is None:
        mdp = _mdp(rng, gamma=float(rng.choice([0.8, 0.9])), n_terminal=1)
        pi = _pi(rng, mdp.S, mdp.A)
        ep = _episodes(rng, mdp, pi, N, T)
    return mdp, pi, ep, _V(rng, mdp.S), f"{_describe(mdp)}, N={N} episodes, T={T}, V nonzero everywhere"


def check_td_errors(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(episodes, V (S,), gamma) -> delta (N, T) = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t),
    0 where mask is 0."""
    def body(ctx, rng):
        for _ in range(2):
            mdp, _, ep, V, ctx.where = _td_case(rng)
            g = mdp.gamma
            r, s, s2, m = ep.rewards, ep.states, ep.next_states, ep.mask
            exp = td_errors(ep, V, g)
            live = 1.0 - ep.terminated
            got = ctx.call(_copy_episodes(ep), V.copy(), g)
            ctx.compare(got, exp, "delta", [
                ((r + g * V[s2] - V[s]) * m, _BOOT_TERMINAL),
                ((r + g * (1.0 - (ep.terminated | ep.truncated)) * V[s2] - V[s]) * m, _NO_BOOT_TRUNC),
                (r + g * live * V[s2] - V[s], ("mask ignored: delta must be 0 on the padding after an episode's end "
                                              "(mask 0).")),
                (r + g * V[s2] - V[s], ("mask ignored and bootstrapping from a terminal state: multiply by the mask, "
                                       "and use (1 - terminated_t) in front of V(s_{t+1}).")),
                ((r + live * V[s2] - V[s]) * m, "gamma is missing in front of V(s_{t+1})."),
                ((r + g * live * V[s] - V[s2]) * m, "V(s_t) and V(s_{t+1}) are swapped."),
            ], shape_hints={(mdp.S,): "One delta per step: shape (N, T)."})
        return "the TD errors match: no bootstrap after termination, bootstrap at truncation, 0 on padding."
    return _run("check_td_errors", student_fn, body, seed, quiet)


def check_expected_td_error(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(mdp, V (S,)) -> E[delta_t | s_t = s, a_t = a] (S, A) =
    r(s, a) + gamma sum_s' P[s, a, s'] (1 - terminal(s')) V(s') - V(s); rows of terminal states 0."""
    def body(ctx, rng):
        for true_v in (True, False):
            mdp = _mdp(rng, gamma=float(rng.choice([0.8, 0.9])), n_terminal=1)
            pi = _pi(rng, mdp.S, mdp.A)
            ev = evaluate(mdp, pi)
            live = ~mdp.terminal
            V = ev.V.copy()
            if true_v:
                ctx.where = f"{_describe(mdp)}, the true V of a policy (V(terminal) = 0)"
            else:
                V = V + _V(rng, mdp.S)
                ctx.where = f"{_describe(mdp)}, a learned V (nonzero on the terminal state)"
            P, R, g = np.array(mdp.P), np.array(mdp.R), mdp.gamma
            full = R + g * P @ V - V[:, None]
            exp = (R + g * P @ (V * live) - V[:, None]) * live[:, None]
            got = ctx.call(mdp, V.copy())
            ctx.compare(got, exp, "E[delta]", [
                (full * live[:, None], _BOOT_TERMINAL),
                (full, _BOOT_TERMINAL + " Also: no step is taken from a terminal state, its row must be 0."),
                (R + g * P @ (V * live) - V[:, None], "no step is taken from a terminal state: its row must be 0."),
                ((R + P @ (V * live) - V[:, None]) * live[:, None], "gamma is missing."),
            ], shape_hints={(mdp.S,): "One value per (s, a): shape (S, A)."})
            if true_v and not _close(exp, ev.A * live[:, None]):  # pragma: no cover - sanity of the checker
                raise RuntimeError("E[delta] != A for the true V")
        return ("E[delta | s, a] matches; with the true V it equals the advantage A(s, a), with a learned V "
                "it does not.")
    return _run("check_expected_td_error", student_fn, body, seed, quiet)


def _td_fixed_point(ep: Episodes, gamma, V0, boot_terminal=False, boot_trunc=True):
    """The batch TD(0) fixed point: for every state s with real steps, the TD errors of its steps sum to 0;
    states never visited keep V0."""
    S = V0.shape[0]
    real = ep.mask.astype(bool)
    s, s2, r = ep.states[real], ep.next_states[real], ep.rewards[real]
    term, trunc = ep.terminated[real], ep.truncated[real]
    boot = np.ones_like(term) if boot_terminal else ~term
    if not boot_trunc:
        boot = boot & ~trunc
    cnt = np.bincount(s, minlength=S).astype(float)
    M = np.diag(cnt)
    np.add.at(M, (s[boot], s2[boot]), -gamma)
    b = np.bincount(s, weights=r, minlength=S)
    unvisited = cnt == 0
    M[unvisited] = 0.0
    M[unvisited, unvisited] = 1.0
    b[unvisited] = V0[unvisited]
    return np.linalg.solve(M, b)


def check_td0_critic(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(episodes, gamma, V0 (S,)) -> V (S,): batch TD(0) from V0 until converged (the TD errors of the
    steps taken from each visited state average to 0; states never visited keep V0)."""
    def body(ctx, rng):
        ctx.uses_earlier = True
        for _ in range(2):
            ep = None
            while ep is None:
                mdp = _mdp(rng, gamma=float(rng.choice([0.7, 0.8])), n_terminal=1)
                ep = _episodes(rng, mdp, _pi(rng, mdp.S, mdp.A), 30, 10)
            V0 = _V(rng, mdp.S)
            g = mdp.gamma
            ctx.where = f"{_describe(mdp)}, N=30 episodes, T=10, V0 nonzero everywhere"
            exp = _td_fixed_point(ep, g, V0)
            mc = mc_values(ep, g, mdp.S)
            mc[mdp.terminal] = V0[mdp.terminal]
            got = ctx.call(_copy_episodes(ep), g, V0.copy())
            ctx.compare(got, exp, "V", [
                (_td_fixed_point(ep, g, V0, boot_terminal=True), _BOOT_TERMINAL),
                (_td_fixed_point(ep, g, V0, boot_trunc=False), _NO_BOOT_TRUNC),
                (mc, "that is the Monte Carlo average of G_t; TD(0) bootstraps from V(s_{t+1}) instead."),
            ], tol=1e-4, near_hint="Not converged yet? Run more sweeps (or a larger step size alpha).",
                near_rel=0.3 * float(np.abs(V0 - exp).max() / max(np.abs(exp).max(), 1e-12)),
                shape_hints={(mdp.S, mdp.A): "The critic is V (S,), one value per state."},
                generic_hint="At convergence the TD errors of the steps from each visited state average to 0; "
                             "states never visited keep V0.")
        return "batch TD(0) converges to the right fixed point on 2 batches."
    return _run("check_td0_critic", student_fn, body, seed, quiet)


# ===================================================================================================
# ex07_gae
# ===================================================================================================

def _gae_1d(delta, cont, gamma, lam):
    A = np.zeros(len(delta))
    nxt = 0.0
    for t in range(len(delta) - 1, -1, -1):
        nxt = delta[t] + gamma * lam * cont[t] * nxt
        A[t] = nxt
    return A


def _gae_2d(delta, cont, gamma, lam):
    A = np.zeros_like(delta)
    nxt = np.zeros(delta.shape[0])
    for t in range(delta.shape[1] - 1, -1, -1):
        nxt = delta[:, t] + gamma * lam * cont[:, t] * nxt
        A[:, t] = nxt
    return A


def check_gae_episode(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(deltas (T,), gamma, lam) -> A (T,), A_t = sum_l (gamma lam)^l delta_{t+l} (one episode that
    ends after its last step)."""
    def body(ctx, rng):
        for gamma, lam in ((0.9, 0.8), (0.95, 0.5), (0.9, 0.0), (0.8, 1.0)):
            T = int(rng.integers(6, 12))
            d = rng.normal(size=T)
            ctx.where = f"T={T}, gamma={gamma}, lambda={lam}"
            one = np.ones(T)
            exp = _gae_1d(d, one, gamma, lam)
            got = ctx.call(d.copy(), gamma, lam)
            ctx.compare(got, exp, "A", [
                (_gae_1d(d, one, gamma, 1.0), "lambda is missing: the weights are (gamma lambda)^l."),
                (_gae_1d(d, one, 1.0, lam), "gamma is missing: the weights are (gamma lambda)^l."),
                (_gae_1d(d[::-1], one, gamma, lam)[::-1], ("GAE looks forward: A_t sums delta_t, delta_{t+1}, ..., "
                                                          "not the past.")),
                (np.append(exp[1:], 0.0) * gamma * lam, "A_t includes delta_t itself (l starts at 0)."),
                (np.full(T, exp[0]), "each A_t starts its sum at t."),
            ], generic_hint="Hint: backwards, A_t = delta_t + gamma lambda A_{t+1}.")
        return "A_t matches for lambda in {0, 0.5, 0.8, 1} (lambda = 0 gives delta_t)."
    return _run("check_gae_episode", student_fn, body, seed, quiet)


def check_gae_batch(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(episodes, V (S,), gamma, lam) -> A (N, T): GAE with terminations (no bootstrap) and
    truncations (bootstrap from V(s_T)); the trace is cut at either; 0 where mask is 0."""
    def body(ctx, rng):
        for lam in (0.7, 0.5):
            mdp, _, ep, V, where = _td_case(rng, N=30, T=10)
            ctx.where = where + f", lambda={lam}"
            g = mdp.gamma
            r, s, s2, m = ep.rewards, ep.states, ep.next_states, ep.mask
            exp = gae(ep, V, g, lam)
            cont = np.zeros_like(m)
            cont[:, :-1] = m[:, 1:]
            ones = np.ones_like(m)
            ones[:, -1] = 0.0
            live = 1.0 - ep.terminated
            d_ok = td_errors(ep, V, g)
            got = ctx.call(_copy_episodes(ep), V.copy(), g, lam)
            ctx.compare(got, exp, "A", [
                (_gae_2d((r + g * V[s2] - V[s]) * m, cont, g, lam), _BOOT_TERMINAL),
                (_gae_2d((r + g * (1.0 - (ep.terminated | ep.truncated)) * V[s2] - V[s]) * m, cont, g, lam),
                 _NO_BOOT_TRUNC),
                (_gae_2d(r + g * live * V[s2] - V[s], ones, g, lam), ("mask ignored: the deltas of the padding after "
                 "an episode's end are not 0 here (V(terminal) is not 0) and leak back into the last real steps; "
                 "cut the trace at the end and return 0 where mask is 0.")),
                (_gae_2d(r + g * live * V[s2] - V[s], ones, g, lam) * m, ("the trace is not cut at the episode's "
                 "end: the padding's deltas leak back into the last real steps.")),
                (_gae_2d(d_ok, cont, g, 1.0), "lambda is missing: the weights are (gamma lambda)^l."),
                (_gae_2d(d_ok, cont, 1.0, lam), "gamma is missing in the trace: the weights are (gamma lambda)^l."),
            ], generic_hint="Hint: deltas as in pg.td_errors, then A_t = delta_t + gamma lambda c_t A_{t+1}, "
                            "c_t = 0 where the episode ends at t.")
        return "GAE matches on 2 batches with terminations and truncations."
    return _run("check_gae_batch", student_fn, body, seed, quiet)


def check_gae_stream(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(rewards, values, next_values, terminated, truncated, gamma, lam) -> A (T,) for one stream of
    episodes back to back (all (T,)); values[t] = V(s_t), next_values[t] = V(s_{t+1}) (nonzero also when
    s_{t+1} is terminal); the trace is cut where an episode ends (terminated or truncated)."""
    def body(ctx, rng):
        for lam in (0.9, 0.6):
            mdp, _, ep, V, _ = _td_case(rng, N=5, T=8)
            g = mdp.gamma
            # a truncated and a terminated episode first, so that both kinds of end are followed by more steps
            first = [int(np.flatnonzero(ep.truncated.any(axis=1))[0]),
                     int(np.flatnonzero(ep.terminated.any(axis=1))[0])]
            order = np.array(first + [i for i in range(ep.n_episodes) if i not in first])
            ep = Episodes(**{f.name: getattr(ep, f.name)[order] for f in fields(ep)})
            real = ep.mask.astype(bool)
            r, s, s2 = ep.rewards[real], ep.states[real], ep.next_states[real]
            term, trunc = ep.terminated[real], ep.truncated[real]
            v, nv = V[s], V[s2]
            T = r.size
            ctx.where = (f"a stream of {int(term.sum())} terminated and {int(trunc.sum())} truncated episodes, "
                         f"T={T}, gamma={g:g}, lambda={lam}, V(terminal) not 0")
            delta = r + g * (~term) * nv - v
            cut = 1.0 - (term | trunc)
            exp = _gae_1d(delta, cut, g, lam)
            got = ctx.call(r.copy(), v.copy(), nv.copy(), term.copy(), trunc.copy(), g, lam)
            ctx.compare(got, exp, "A", [
                (_gae_1d(delta, np.ones(T), g, lam), ("trace not cut at the episode ends: A_{t+1} after a "
                 "termination or truncation belongs to the next episode; cut the trace at either.")),
                (_gae_1d(delta, 1.0 - term, g, lam), ("trace not cut at truncation: after a truncated step the "
                 "stream continues with a new episode (the bootstrap V(s_{t+1}) is already inside delta_t).")),
                (_gae_1d(delta, 1.0 - trunc, g, lam), "trace not cut at termination."),
                (_gae_1d(r + g * nv - v, cut, g, lam), _BOOT_TERMINAL),
                (_gae_1d(r + g * (1.0 - (term | trunc)) * nv - v, cut, g, lam), _NO_BOOT_TRUNC),
                (_gae_1d(delta, cut, g, 1.0), "lambda is missing: the weights are (gamma lambda)^l."),
            ], generic_hint="Hint: delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t); "
                            "A_t = delta_t + gamma lambda (1 - done_t) A_{t+1}.")
        return "GAE matches on 2 streams with terminations and truncations."
    return _run("check_gae_stream", student_fn, body, seed, quiet)


# ===================================================================================================
# ex08_training_loop
# ===================================================================================================

def _estimator_mdp(rng):
    """A small episodic MDP and theta where grad U is clearly nonzero and clearly differs from the
    'gamma^t missing' gradient (so that a statistical check can tell them apart)."""
    pol = SoftmaxPolicy.tabular(4, 2)
    for _ in range(50):
        mdp = random_mdp(4, 2, 0.9, rng, n_terminal=1)
        theta = rng.normal(size=(4, 2))
        pi = pol.probs(theta)
        g = policy_gradient(mdp, pol, theta)
        und = pol.contract(evaluate(mdp.with_gamma(1.0), pi).visits[:, None] * pi * evaluate(mdp, pi).A)
        if np.abs(g).max() > 0.2 and np.abs(und - g).max() > 0.15:
            break
    return mdp, pol, theta


def check_estimate_gradient(student_fn, *, seed=None, quiet=False, n_calls: int = 200) -> CheckResult:
    """student_fn(mdp, policy, theta, n_episodes, horizon, rng) -> an unbiased sampled estimate of grad U
    (theta's shape), drawing its episodes from rng. Checked statistically: the mean of n_calls estimates
    against the exact gradient, within 5 standard errors."""
    def body(ctx, rng):
        mdp, pol, theta = _estimator_mdp(rng)
        N, T = 50, 100
        ctx.where = f"{_describe(mdp)}, tabular softmax, {n_calls} calls with N={N} episodes, horizon={T}"
        exp = policy_gradient(mdp, pol, theta)
        pi = pol.probs(theta)
        ev = evaluate(mdp, pi)
        undisc = pol.contract(evaluate(mdp.with_gamma(1.0), pi).visits[:, None] * pi * ev.A)
        student_rng = np.random.default_rng(rng.integers(2**63))
        first = ctx.call(mdp, pol, theta.copy(), N, T, student_rng)
        ctx.compare(first, first if np.shape(first) == exp.shape else exp, "gradient estimate",
                    shape_hints={(N, T): "Return one gradient estimate with theta's shape."},
                    nan_hint="Check for a division by zero.")
        draws = [np.asarray(first, dtype=float)]
        for i in range(n_calls - 1):
            x = ctx.call(mdp, pol, theta.copy(), N, T, student_rng)
            draws.append(np.asarray(x, dtype=float) if np.shape(x) == exp.shape else np.full(exp.shape, np.nan))
            if i < 3 and np.array_equal(draws[-1], draws[0]) and np.abs(draws[0]).max() > 0:
                ctx.fail("every call returned the same estimate: draw the episodes from the `rng` passed in (do "
                         "not create a new generator with a fixed seed inside the function).")
        X = np.stack(draws)
        if not np.all(np.isfinite(X)):
            ctx.fail("some estimates contain NaN or inf, or have the wrong shape.")
        mean = X.mean(axis=0)
        se = X.std(axis=0, ddof=1) / np.sqrt(n_calls)

        def consistent(target):
            z = np.abs(mean - target) / np.maximum(se, 1e-12)
            return bool(np.all(np.where(se > 0, z < 5.0, np.abs(mean - target) < 1e-9)))

        if consistent(exp):
            return f"over {n_calls} calls the mean estimate agrees with the exact grad U within 5 standard errors."

        for target, msg in ((-exp, "sign flipped: on average your estimate points opposite to grad U."),
                            (undisc, ("gamma^t missing: on average your estimate matches the undiscounted-time "
                                     "weighting; the discounted objective weights step t by gamma^t.")),
                            (N * exp, "you summed over episodes: take the mean (divide by N).")):
            if consistent(target):
                ctx.fail(msg)
        i = np.unravel_index(int(np.argmax(np.abs(mean - exp) / np.maximum(se, 1e-12))), exp.shape)
        ctx.fail(f"biased: averaged over {n_calls} calls, entry {list(map(int, i))} is {mean[i]:.4f} +- {se[i]:.4f} "
                 f"(standard error), but the exact gradient there is {exp[i]:.4f}. Check it with check_reinforce_"
                 f"gradient's ingredients: gamma^t, G_t, the mean over episodes.")
    return _run("check_estimate_gradient", student_fn, body, seed, quiet)


def training_problem():
    """The fixed small MDP and policy of ex08's training check: (mdp, policy, theta0, U0, U_star)."""
    mdp = random_mdp(5, 3, 0.9, np.random.default_rng(8), n_terminal=1)
    pol = SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta0 = pol.zeros()
    U0 = objective(mdp, pol, theta0)
    V_star, _ = optimal_values(mdp)
    return mdp, pol, theta0, U0, float(mdp.mu @ V_star)


TRAINING_SETTINGS = {"n_iters": 40, "lr": 1.0, "n_episodes": 20, "horizon": 60}
TRAINING_TARGET = 0.9


def check_training_loop(student_fn, *, seed=None, quiet=False) -> CheckResult:
    """student_fn(mdp, policy, theta0, n_iters, lr, n_episodes, horizon, seed) -> final theta, by n_iters steps of
    sampled gradient ascent. Passes when the exact U of the final policy closes TRAINING_TARGET of the gap
    from U(theta0) to U* on `training_problem()`, and the same seed gives the same theta."""
    def body(ctx, rng):
        ctx.uses_earlier = True
        mdp, pol, theta0, U0, U_star = training_problem()
        kw = TRAINING_SETTINGS
        run_seed = int(rng.integers(2**31))
        ctx.where = (f"{_describe(mdp)}, n_iters={kw['n_iters']}, lr={kw['lr']}, n_episodes={kw['n_episodes']}, "
                     f"horizon={kw['horizon']}, seed={run_seed}")
        args = (mdp, pol, theta0.copy(), kw["n_iters"], kw["lr"], kw["n_episodes"], kw["horizon"])
        theta = ctx.call(*args, run_seed)
        ctx.compare(theta, theta if np.shape(theta) == theta0.shape else theta0, "theta",
                    nan_hint="theta diverged: is the learning rate applied once per step?")
        theta = np.asarray(theta, dtype=float)
        if np.allclose(theta, theta0):
            ctx.fail("theta did not change: update theta inside the loop and return the final one.")
        U = objective(mdp, pol, theta)
        frac = (U - U0) / (U_star - U0)
        if U < U0 - 1e-9:
            ctx.fail(f"sign flipped: U went down from {U0:.4f} to {U:.4f}. Gradient ascent adds lr * g.")
        again = ctx.call(*args, run_seed)
        if np.shape(again) != theta.shape or not np.allclose(np.asarray(again, dtype=float), theta):
            ctx.fail("two runs with the same seed gave different results: create one "
                     "np.random.default_rng(seed) before the loop and draw everything from it.")
        if frac < TRAINING_TARGET:
            ctx.fail(f"U rose from {U0:.4f} to {U:.4f}, {100 * frac:.0f}% of the way to U* = {U_star:.4f}; "
                     f"the target is {100 * TRAINING_TARGET:.0f}%. Check the estimator (check_estimate_gradient) "
                     f"and that every iteration samples with the current policy.")
        return (f"the exact U of your final policy closes at least {100 * TRAINING_TARGET:.0f}% of the gap from "
                f"U(theta0) = {U0:.4f} to U* = {U_star:.4f}, and the same seed gives the same theta.")
    return _run("check_training_loop", student_fn, body, seed, quiet)
