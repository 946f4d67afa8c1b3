"""The exercise checkers (pgcourse/checks.py) against the reference solutions in solutions/exNN_*.py:

- every reference solution passes its checker, for several seeds;
- every typical mistake a checker claims to recognise is fed in as a wrong implementation and named;
- broken student code (raising, NaN, wrong shape, NotImplementedError, not a function) gives a clear
  failed result, never an exception, and no message ever shows the solution's code.
"""
from __future__ import annotations

import functools
import types

import jupytext
import numpy as np
import pytest

import pgcourse as pg
from pgcourse import checks
from tools._paths import ROOT

# the package's functions as imported, unaffected by the checkers' stubs of the functions a part asks for
# (the wrong implementations below may call them, a student's function may not)
_pg = types.SimpleNamespace(**vars(pg))

# generated from the registry (the single list of checkers): exercise -> the student functions, by part
EXERCISES = {ex: [c.function for c in checks.checkers_of(ex)] for ex in checks.exercises()}
CHECKER = {c.function: getattr(checks, c.name) for c in checks.REGISTRY.values()}
PARTS = [(ex, fn) for ex, fns in EXERCISES.items() for fn in fns]


@functools.cache
def solution(exercise: str) -> dict:
    """The namespace after running the setup and solution cells of solutions/<exercise>.py (not the checks)."""
    nb = jupytext.read(ROOT / "solutions" / f"{exercise}.py")
    ns: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade", False):
            exec(compile(cell.source, f"{exercise}.py", "exec"), ns)  # noqa: S102 - our own solution cells
    return ns


def ref(name: str):
    ex = next(e for e, fns in EXERCISES.items() if name in fns)
    return solution(ex)[name]


def solution_lines(exercise: str) -> list[str]:
    """The non-trivial code lines between BEGIN/END SOLUTION."""
    text = (ROOT / "solutions" / f"{exercise}.py").read_text()
    out, inside = [], False
    for line in text.splitlines():
        s = line.strip()
        if s == "### BEGIN SOLUTION":
            inside = True
        elif s == "### END SOLUTION":
            inside = False
        elif inside and len(s) > 12 and not s.startswith("#"):
            out.append(s)
    return out


def test_every_checker_is_covered():
    assert set(CHECKER.values()) == {getattr(checks, n) for n in checks.__all__ if n.startswith("check_")}
    assert len(CHECKER) == len(checks.REGISTRY)  # student function names are unique across exercises
    assert {name for name, _, _ in MISTAKES} == set(CHECKER)  # every checker has typical mistakes tested
    for c in checks.REGISTRY.values():
        assert c.name in checks.__doc__ and c.exercise in checks.__doc__


def test_registry_matches_the_solutions():
    """Each solution's graded cell exNN-pk calls the checker registered for Part k, with the function of that
    part; the parts a checker `uses` come before it and have a reference."""
    for exercise in EXERCISES:
        nb = jupytext.read(ROOT / "solutions" / f"{exercise}.py")
        graded = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
                  if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}
        chks = checks.checkers_of(exercise)
        assert sorted(graded) == sorted(c.grade_id for c in chks), exercise
        for c in chks:
            assert f"checks.{c.name}({c.function})" in graded[c.grade_id], (c.grade_id, graded[c.grade_id])
            assert callable(solution(exercise)[c.function])
            for used in c.uses:
                earlier = next(u for u in chks if u.function == used)
                assert earlier.part < c.part and callable(earlier.reference), (c.name, used)


# ---------------------------------------------------------------------------------------------------
# the reference solutions pass
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("exercise,name", PARTS, ids=[n for _, n in PARTS])
def test_reference_passes(exercise, name):
    for seed in (0, 1, 2024):
        r = CHECKER[name](solution(exercise)[name], seed=seed, quiet=True)
        assert r.passed and bool(r), (seed, r.message)
        assert "correct" in r.message


def test_seed_none_and_printing(capsys):
    r = checks.check_episode_returns(ref("episode_returns"))
    assert r.passed
    out = capsys.readouterr().out
    assert "correct" in out and out.count("\n") <= 4
    checks.check_episode_returns(ref("episode_returns"), quiet=True)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------------------------------
# broken student code never crashes a checker
# ---------------------------------------------------------------------------------------------------

def _raises(*args):
    return 1 / 0


def _todo(*args):
    raise NotImplementedError()


def _nan_of(name):
    f = ref(name)
    return lambda *a: np.asarray(f(*a), dtype=float) * np.nan


def _bad_shape_of(name):
    f = ref(name)
    return lambda *a: np.append(np.ravel(f(*a)), 0.0)


@pytest.mark.parametrize("name", list(CHECKER))
def test_broken_code_gives_clear_results(name):
    check = CHECKER[name]
    r = check(_todo, seed=3, quiet=True)
    assert not r and "not implemented yet" in r.message and "raise NotImplementedError()" in r.message
    r = check(_raises, seed=3, quiet=True)
    assert not r and "raised ZeroDivisionError" in r.message
    r = check(_nan_of(name), seed=3, quiet=True)
    assert not r and "NaN" in r.message, r.message
    r = check(_bad_shape_of(name), seed=3, quiet=True)
    assert not r and "wrong shape" in r.message, r.message
    r = check(lambda *a: None, seed=3, quiet=True)
    assert not r and "None" in r.message
    r = check("not a function", seed=3, quiet=True)
    assert not r and "function" in r.message


def test_messages_never_show_the_solution(capsys):
    for exercise, names in EXERCISES.items():
        lines = solution_lines(exercise)
        assert lines
        for name in names:
            f = ref(name)
            for fn in (_todo, _raises, _nan_of(name), _bad_shape_of(name), lambda *a, f=f: -np.asarray(f(*a))):
                CHECKER[name](fn, seed=5)
            out = capsys.readouterr().out
            leaked = [ln for ln in lines if ln in out]
            assert not leaked, (name, leaked)


# ---------------------------------------------------------------------------------------------------
# typical mistakes, recognised by name
# ---------------------------------------------------------------------------------------------------

def _ep_returns(ep, gamma):
    return _pg.discounted_returns(ep.rewards, gamma, ep.mask)


def _solve_visits(P_pi, mu, gamma, transpose=True):
    M = np.eye(P_pi.shape[0]) - gamma * P_pi
    return np.linalg.solve(M.T if transpose else M, mu)


def _series_visits(P_pi, mu, gamma):
    """The series sum_t gamma^t mu^T P_pi^t cut where gamma^t < 1e-4: close, not exact."""
    out, row = np.zeros_like(mu), mu.copy()
    for t in range(int(np.ceil(np.log(1e-4) / np.log(gamma)))):
        out += gamma**t * row
        row = row @ P_pi
    return out


def _occ(P, mu, pi, gamma, normalise=True):
    v = _solve_visits(np.einsum("sa,sat->st", pi, P), mu, gamma)
    return (v / v.sum() if normalise else v)[:, None] * pi


def _naive_softmax(theta):
    e = np.exp(theta)
    return e / e.sum(axis=1, keepdims=True)


def _tab_grad(mdp, theta, weight="visits", use="A"):
    ev = _pg.evaluate(mdp, _pg.softmax(theta, axis=1))
    w = {"visits": ev.visits, "d": ev.d}[weight]
    return w[:, None] * ev.pi * getattr(ev, use)


def _score_grad(mdp, policy, theta, d="d", factor=True, use="Q"):
    ev = _pg.evaluate(mdp, policy.probs(theta))
    s, a = np.meshgrid(np.arange(mdp.S), np.arange(mdp.A), indexing="ij")
    dd = ev.d if d == "d" else np.full(mdp.S, 1 / mdp.S)
    g = np.einsum("sa,sak->k", dd[:, None] * ev.pi * getattr(ev, use), policy.grad_log_prob(theta, s, a))
    return g / (1 - mdp.gamma) if factor else g


def _linear_score_naive(features, theta, s, a, uniform=False):
    h = features[s] @ theta
    pi = np.full(len(h), 1 / len(h)) if uniform else np.exp(h) / np.exp(h).sum()
    return features[s, a] - pi @ features[s]


def _returns_forward(rewards, gamma):
    disc = gamma ** np.arange(len(rewards))
    return np.cumsum((disc * rewards)[::-1])[::-1]


def _batch_flat(rewards, gamma, mask):
    return ref("episode_returns")((rewards * mask).ravel(), gamma).reshape(rewards.shape) * mask


def _rf(policy, theta, ep, gamma, disc=True, G0=False, mean=True, baseline=None, mask=True, whole=True):
    N, T = ep.rewards.shape
    G = _ep_returns(ep, gamma)
    if G0:
        G = np.repeat(G[:, :1], T, axis=1)
    d = gamma ** np.arange(T) if disc else np.ones(T)
    if baseline is None:
        w = d * G
    elif whole:
        w = d * (G - baseline[ep.states])
    else:
        w = d * G - baseline[ep.states]
    w = w * (ep.mask if mask else 1.0) / (N if mean else 1)
    return policy.score_sum(theta, ep.states, ep.actions, w)


def _baseline_sa(ep, gamma, S):
    G = _ep_returns(ep, gamma)
    A = int(ep.actions.max()) + 1
    A = max(A, 2)
    idx = (ep.states * A + ep.actions).ravel()
    tot = np.bincount(idx, weights=G.ravel(), minlength=S * A)
    cnt = np.bincount(idx, weights=ep.mask.ravel(), minlength=S * A)
    return np.divide(tot, cnt, out=np.zeros(S * A), where=cnt > 0).reshape(S, A)


def _baseline_nan(ep, gamma, S):
    G = _ep_returns(ep, gamma)
    s = ep.states.ravel()
    return np.bincount(s, weights=G.ravel(), minlength=S) / np.bincount(s, weights=ep.mask.ravel(), minlength=S)


def _baseline_G0(ep, gamma, S):
    G = _ep_returns(ep, gamma)
    s = ep.states.ravel()
    tot = np.bincount(s, weights=(G[:, :1] * ep.mask).ravel(), minlength=S)
    cnt = np.bincount(s, weights=ep.mask.ravel(), minlength=S)
    return np.divide(tot, cnt, out=np.zeros(S), where=cnt > 0)


def _td(ep, V, gamma, boot_terminal=False, boot_trunc=True, mask=True):
    stop = np.zeros_like(ep.terminated) if boot_terminal else ep.terminated.copy()
    if not boot_trunc:
        stop = stop | ep.truncated
    d = ep.rewards + gamma * np.where(stop, 0.0, V[ep.next_states]) - V[ep.states]
    return d * ep.mask if mask else d


def _td0(ep, gamma, V0, n_sweeps=500, mc=False, **kw):
    if mc:
        V = _pg.mc_values(ep, S=V0.shape[0], gamma=gamma)
        V[V0.shape[0] - 1] = V0[-1]
        return V
    V = V0.copy()
    S = V.shape[0]
    s = ep.states.ravel()
    cnt = np.bincount(s, weights=ep.mask.ravel(), minlength=S)
    for _ in range(n_sweeps):
        tot = np.bincount(s, weights=_td(ep, V, gamma, **kw).ravel(), minlength=S)
        V += 0.5 * np.divide(tot, cnt, out=np.zeros(S), where=cnt > 0)
    return V


def _gae_b(ep, V, gamma, lam, cut=True, **kw):
    delta = _td(ep, V, gamma, **kw)
    N, T = delta.shape
    A, run = np.zeros((N, T)), np.zeros(N)
    for t in range(T - 1, -1, -1):
        c = (1.0 - (ep.terminated[:, t] | ep.truncated[:, t])) if cut else 1.0
        run = delta[:, t] + gamma * lam * c * run
        A[:, t] = run
    return A * (ep.mask if kw.get("mask", True) else 1.0)


def _gae_s(r, v, nv, term, trunc, gamma, lam, cut="both", boot_terminal=False, boot_trunc=True):
    stop = np.zeros_like(term) if boot_terminal else term.copy()
    if not boot_trunc:
        stop = stop | trunc
    delta = r + gamma * np.where(stop, 0.0, nv) - v
    ends = {"both": term | trunc, "terminated": term, "truncated": trunc, "none": np.zeros_like(term)}[cut]
    A, run = np.zeros(len(r)), 0.0
    for t in range(len(r) - 1, -1, -1):
        run = delta[t] + gamma * lam * (0.0 if ends[t] else run)
        A[t] = run
    return A


def _est(mdp, policy, theta, N, T, rng, sign=1.0, disc=True):
    ep = _pg.sample_episodes(mdp, policy.probs(theta), N, T, rng)
    return sign * _rf(policy, theta, ep, mdp.gamma, disc=disc)


def _train(mdp, policy, theta0, n_iters, lr, N, T, seed, sign=1.0, fresh=False, update=True):
    rng = np.random.default_rng(None if fresh else seed)
    theta = np.array(theta0, dtype=float)
    for _ in range(n_iters):
        g = _est(mdp, policy, theta, N, T, rng)
        if update:
            theta = theta + sign * lr * g
    return theta


MISTAKES = [
    # ex01
    ("policy_transitions", lambda P, pi: np.einsum("sa,sat->ts", pi, P), "transposed"),
    ("policy_transitions", lambda P, pi: P.mean(axis=1), "pi is ignored"),
    ("policy_transitions", lambda P, pi: pi[:, :, None] * P, "action axis"),
    ("discounted_visits", lambda P, mu, g: _solve_visits(P, mu, g, transpose=False), "transposed system"),
    ("discounted_visits", lambda P, mu, g: (1 - g) * _solve_visits(P, mu, g), "that is d^pi"),
    ("discounted_visits", _series_visits, "truncated series"),
    ("occupancy", lambda P, mu, pi, g: _occ(P, mu, pi, g, normalise=False), "not normalised"),
    ("occupancy", lambda P, mu, pi, g: pi / pi.shape[0], "uniformly"),
    ("occupancy", lambda P, mu, pi, g: mu[:, None] * pi, "start distribution mu"),
    ("objective_from_occupancy", lambda rho, R, g: (rho * R).sum(), "1/(1-gamma) factor is missing"),
    ("objective_from_occupancy", lambda rho, R, g: (rho * R).sum() * (1 - g), "multiplied by (1-gamma)"),
    # ex02
    ("softmax_probs", _naive_softmax, "unstable for large logits"),
    ("softmax_probs", lambda th: _pg.softmax(th, axis=0), "wrong axis"),
    ("tabular_gradient", lambda mdp, th: _tab_grad(mdp, th, weight="d"), "1/(1-gamma) factor is missing"),
    ("tabular_gradient", lambda mdp, th: _tab_grad(mdp, th, use="Q"), "advantage A = Q - V"),
    ("tabular_gradient", lambda mdp, th: -_tab_grad(mdp, th), "sign flipped"),
    ("gradient_from_score", lambda m, p, th: _score_grad(m, p, th, factor=False), "1/(1-gamma) factor is missing"),
    ("gradient_from_score", lambda m, p, th: _score_grad(m, p, th, d="uniform"), "uniformly"),
    # ex03
    ("tabular_score", lambda th, s, a: np.eye(th.size)[s * th.shape[1] + a].reshape(th.shape),
     "policy-average term is missing"),
    ("tabular_score", lambda th, s, a: -ref("tabular_score")(th, s, a), "sign flipped"),
    ("linear_score", _linear_score_naive, "log-softmax unstable for large logits"),
    ("linear_score", lambda f, th, s, a: _linear_score_naive(f, th, s, a, uniform=True), "weighted by pi(b|s)"),
    ("gaussian_score", lambda th, phi, a, sig: ((a - phi @ th) / sig)[:, None] * phi, "sigma^2"),
    ("gaussian_score", lambda th, phi, a, sig: (a - phi @ th) / sig**2, "phi(s) is missing"),
    ("gaussian_score", lambda th, phi, a, sig: ((phi @ th - a) / sig**2)[:, None] * phi, "sign flipped"),
    # ex04
    ("episode_returns", lambda r, g: ref("episode_returns")(r, 1.0), "gamma is missing"),
    ("episode_returns", lambda r, g: np.full(len(r), ref("episode_returns")(r, g)[0]), "G_0 used instead of G_t"),
    ("episode_returns", lambda r, g: np.cumsum(g ** np.arange(len(r)) * r), "past rewards"),
    ("episode_returns", _returns_forward, "discounted from the episode start"),
    ("batch_returns", lambda r, g, m: _pg.discounted_returns(r, g), "mask ignored"),
    ("batch_returns", _batch_flat, "returns not reset between episodes"),
    ("stream_returns", lambda r, d, g: ref("episode_returns")(r, g), "returns not reset between episodes"),
    # ex05
    ("reinforce_gradient", lambda p, th, ep, g: _rf(p, th, ep, g, disc=False), "gamma^t missing"),
    ("reinforce_gradient", lambda p, th, ep, g: _rf(p, th, ep, g, G0=True), "G_0 used instead of G_t"),
    ("reinforce_gradient", lambda p, th, ep, g: _rf(p, th, ep, g, mean=False), "summed over episodes"),
    ("reinforce_gradient", lambda p, th, ep, g: -_rf(p, th, ep, g), "sign flipped"),
    ("state_baseline", _baseline_sa, "baseline depending on the action"),
    ("state_baseline", _baseline_nan, "never visited"),
    ("state_baseline", _baseline_G0, "G_0 used instead of G_t"),
    ("reinforce_with_baseline", lambda p, th, ep, g, b: _rf(p, th, ep, g, baseline=b, mask=False), "mask ignored"),
    ("reinforce_with_baseline", lambda p, th, ep, g, b: _rf(p, th, ep, g, baseline=b, whole=False), "as a whole"),
    ("reinforce_with_baseline", lambda p, th, ep, g, b: _rf(p, th, ep, g), "baseline is ignored"),
    ("reinforce_with_baseline", lambda p, th, ep, g, b: _rf(p, th, ep, g, baseline=b, disc=False), "gamma^t missing"),
    # ex06
    ("td_errors", lambda ep, V, g: _td(ep, V, g, boot_terminal=True), "bootstrapping from a terminal state"),
    ("td_errors", lambda ep, V, g: _td(ep, V, g, boot_trunc=False), "no bootstrap on truncation"),
    ("td_errors", lambda ep, V, g: _td(ep, V, g, mask=False), "mask ignored"),
    ("expected_td_error", lambda mdp, V: (mdp.R + mdp.gamma * mdp.P @ V - V[:, None]) * ~mdp.terminal[:, None],
     "bootstrapping from a terminal state"),
    ("td0_critic", lambda ep, g, V0: _td0(ep, g, V0, boot_terminal=True), "bootstrapping from a terminal state"),
    ("td0_critic", lambda ep, g, V0: _td0(ep, g, V0, boot_trunc=False), "no bootstrap on truncation"),
    ("td0_critic", lambda ep, g, V0: _td0(ep, g, V0, n_sweeps=15), "Not converged"),
    ("td0_critic", lambda ep, g, V0: _td0(ep, g, V0, mc=True), "Monte Carlo"),
    # ex07
    ("gae_episode", lambda d, g, lam: ref("gae_episode")(d, g, 1.0), "lambda is missing"),
    ("gae_episode", lambda d, g, lam: ref("gae_episode")(d, 1.0, lam), "gamma is missing"),
    ("gae_batch", lambda ep, V, g, lam: _gae_b(ep, V, g, lam, boot_terminal=True), "bootstrapping from a terminal"),
    ("gae_batch", lambda ep, V, g, lam: _gae_b(ep, V, g, lam, boot_trunc=False), "no bootstrap on truncation"),
    ("gae_batch", lambda ep, V, g, lam: _gae_b(ep, V, g, lam, cut=False, mask=False), "mask ignored"),
    ("gae_stream", lambda *a: _gae_s(*a, cut="none"), "trace not cut at the episode ends"),
    ("gae_stream", lambda *a: _gae_s(*a, cut="terminated"), "trace not cut at truncation"),
    ("gae_stream", lambda *a: _gae_s(*a, boot_terminal=True), "bootstrapping from a terminal state"),
    ("gae_stream", lambda *a: _gae_s(*a, boot_trunc=False), "no bootstrap on truncation"),
    # ex08
    ("estimate_gradient", lambda *a: _est(*a, sign=-1.0), "sign flipped"),
    ("estimate_gradient", lambda *a: _est(*a, disc=False), "gamma^t missing"),
    ("estimate_gradient", lambda m, p, th, N, T, rng: _est(m, p, th, N, T, np.random.default_rng(0)),
     "same estimate"),
    ("train", lambda *a: _train(*a, sign=-1.0), "sign flipped"),
    ("train", lambda *a: _train(*a, update=False), "did not change"),
    ("train", lambda *a: _train(*a, fresh=True), "same seed"),
]



def _ep_ret(r, g):
    return ref("episode_returns")(r, g)


def _occ_untransposed(P, mu, pi, gamma):
    v = _solve_visits(np.einsum("sa,sat->st", pi, P), mu, gamma, transpose=False)
    return (v / v.sum())[:, None] * pi


def _stream_late(r, d, g):
    late = np.zeros_like(d)
    late[1:] = d[:-1]
    return ref("stream_returns")(r, late, g)


def _baseline_start(ep, gamma, S):
    G = _ep_returns(ep, gamma)
    s0 = ep.states[:, 0]
    return np.bincount(s0, weights=G[:, 0], minlength=S) / np.maximum(np.bincount(s0, minlength=S), 1)


def _baseline_sum(ep, gamma, S):
    return np.bincount(ep.states.ravel(), weights=_ep_returns(ep, gamma).ravel(), minlength=S)


def _rf_steps(policy, theta, ep, gamma):
    return _rf(policy, theta, ep, gamma) * ep.n_episodes / ep.mask.sum()


def _rf_undiscounted_G(policy, theta, ep, gamma):
    G = _pg.discounted_returns(ep.rewards, 1.0, ep.mask)
    w = gamma ** np.arange(ep.horizon) * G * ep.mask / ep.n_episodes
    return policy.score_sum(theta, ep.states, ep.actions, w)


def _tabular_onehot_minus_pi_everywhere(th, s, a):
    out = -_pg.softmax(th, axis=1)
    out[s, a] += 1.0
    return out


def _tabular_uniform(th, s, a):
    out = np.zeros_like(th)
    out[s] -= 1.0 / th.shape[1]
    out[s, a] += 1.0
    return out


def _tabular_diag(th, s, a):
    out = np.zeros_like(th)
    out[s, a] = 1.0
    return out * (1 - _pg.softmax(th, axis=1))


def _score_grad_no_pi(mdp, policy, theta):
    ev = _pg.evaluate(mdp, policy.probs(theta))
    s, a = np.meshgrid(np.arange(mdp.S), np.arange(mdp.A), indexing="ij")
    return np.einsum("sa,sak->k", ev.d[:, None] * ev.Q, policy.grad_log_prob(theta, s, a)) / (1 - mdp.gamma)


def _score_grad_mu(mdp, policy, theta):
    ev = _pg.evaluate(mdp, policy.probs(theta))
    return _pg.score_expectation(mdp, policy, theta, ev.Q, d=np.array(mdp.mu)) / (1 - mdp.gamma)


def _exp_td(mdp, V, boot_terminal=False, zero_terminal_rows=True, gamma=None):
    live = ~mdp.terminal
    g = mdp.gamma if gamma is None else gamma
    out = mdp.R + g * mdp.P @ (V if boot_terminal else V * live) - V[:, None]
    return out * live[:, None] if zero_terminal_rows else out


MISTAKES += [
    # ex01
    ("policy_transitions", lambda P, pi: P.sum(axis=1), "pi is missing"),
    ("discounted_visits", lambda P, mu, g: _solve_visits(P, np.ones_like(mu), g), "start distribution mu is missing"),
    ("occupancy", lambda P, mu, pi, g: _occ_untransposed(P, mu, pi, g), "untransposed system"),
    ("occupancy", lambda P, mu, pi, g: _occ(P, mu, pi, g).sum(axis=1)[:, None] * np.ones_like(pi),
     "pi(a|s) is missing"),
    ("occupancy", lambda P, mu, pi, g: _occ(P, mu, pi, g).sum(axis=1), "That is d^pi"),
    ("objective_from_occupancy", lambda rho, R, g: (rho * R).mean() / (1 - g), "not a mean"),
    ("objective_from_occupancy", lambda rho, R, g: rho * R / (1 - g), "U is one number"),
    # ex02
    ("softmax_probs", lambda th: np.exp(th - th.max()) / np.exp(th - th.max()).sum(), "whole table"),
    ("softmax_probs", lambda th: np.exp(th - th.max(axis=1, keepdims=True)), "do not sum to 1"),
    ("softmax_probs", lambda th: th / th.sum(axis=1, keepdims=True), "exponentiate"),
    ("tabular_gradient", lambda mdp, th: _tab_grad(mdp, th) / _pg.softmax(th, axis=1), "pi(a|s) factor is missing"),
    ("tabular_gradient", lambda mdp, th: _tab_grad(mdp, th, weight="d") / _pg.evaluate(
        mdp, _pg.softmax(th, axis=1)).d[:, None], "state weighting is missing"),
    ("tabular_gradient", lambda mdp, th: _tab_grad(mdp, th) / (1 - mdp.gamma), "twice"),
    ("tabular_gradient", lambda mdp, th: _tab_grad(mdp, th, weight="d") / _pg.evaluate(
        mdp, _pg.softmax(th, axis=1)).d[:, None] * mdp.mu[:, None], "start distribution mu"),
    ("gradient_from_score", lambda m, p, th: _score_grad(m, p, th) / (1 - m.gamma), "twice"),
    ("gradient_from_score", _score_grad_mu, "weighted the states by mu"),
    ("gradient_from_score", _score_grad_no_pi, "a ~ pi(.|s) is missing"),
    ("gradient_from_score", lambda m, p, th: _score_grad(m, p, th, use="A"), None),  # A instead of Q: correct
    # ex03
    ("tabular_score", _tabular_onehot_minus_pi_everywhere, "other rows"),
    ("tabular_score", _tabular_uniform, "uniform average 1/A"),
    ("tabular_score", _tabular_diag, "not quite"),
    ("tabular_score", lambda th, s, a: ref("tabular_score")(th, s, a)[s], "put the row at index s"),
    ("gaussian_score", lambda th, phi, a, sig: ((a - phi @ th) * sig**2)[:, None] * phi, "do not multiply"),
    ("gaussian_score", lambda th, phi, a, sig: ref("gaussian_score")(th, phi, a, sig).mean(axis=0),
     "do not average"),
    # ex04
    ("episode_returns", lambda r, g: np.append(_ep_ret(r, g)[1:], 0.0), "G_t includes r_t itself"),
    ("episode_returns", lambda r, g: _ep_ret(r, g)[0], "one G_t per time step"),
    ("batch_returns", lambda r, g, m: _pg.discounted_returns(r, g) * m, "masked the output but not the rewards"),
    ("batch_returns", lambda r, g, m: _pg.discounted_returns(r, 1.0, m), "gamma is missing"),
    ("batch_returns", lambda r, g, m: np.repeat(_pg.discounted_returns(r, g, m)[:, :1], r.shape[1], axis=1) * m,
     "G_0 used instead of G_t"),
    ("stream_returns", _stream_late, "reset one step late"),
    ("stream_returns", lambda r, d, g: ref("stream_returns")(np.where(d, 0.0, r), d, g), "last reward"),
    ("stream_returns", lambda r, d, g: ref("stream_returns")(r, d, 1.0), "gamma is missing"),
    # ex05
    ("reinforce_gradient", lambda p, th, ep, g: _rf(p, th, ep, g, disc=False, G0=True),
     "G_0 used instead of G_t, and gamma^t missing"),
    ("reinforce_gradient", _rf_steps, "number of episodes N, not by the number of steps"),
    ("reinforce_gradient", _rf_undiscounted_G, "gamma is missing inside G_t"),
    ("state_baseline", _baseline_start, "start states"),
    ("state_baseline", _baseline_sum, "summed G_t"),
    ("state_baseline", lambda ep, g, S: ref("state_baseline")(ep, 1.0, S), "gamma is missing"),
    ("reinforce_with_baseline", lambda p, th, ep, g, b: _rf(p, th, ep, g, baseline=-b), "do not add"),
    ("reinforce_with_baseline", lambda p, th, ep, g, b: _rf(p, th, ep, g, baseline=b, mean=False),
     "summed over episodes"),
    ("reinforce_with_baseline", lambda p, th, ep, g, b: _rf(p, th, ep, g, baseline=b, G0=True), "G_0 used instead"),
    # ex06
    ("td_errors", lambda ep, V, g: _td(ep, V, g, boot_terminal=True, mask=False),
     "mask ignored and bootstrapping from a terminal state"),
    ("td_errors", lambda ep, V, g: _td(ep, V, 1.0), "gamma is missing"),
    ("td_errors", lambda ep, V, g: (ep.rewards + g * np.where(ep.terminated, 0, V[ep.states]) - V[ep.next_states])
     * ep.mask, "swapped"),
    ("expected_td_error", lambda mdp, V: _exp_td(mdp, V, zero_terminal_rows=False), "its row must be 0"),
    ("expected_td_error", lambda mdp, V: _exp_td(mdp, V, boot_terminal=True, zero_terminal_rows=False),
     "bootstrapping from a terminal state"),
    ("expected_td_error", lambda mdp, V: _exp_td(mdp, V, gamma=1.0), "gamma is missing"),
    # ex07
    ("gae_episode", lambda d, g, lam: ref("gae_episode")(d[::-1], g, lam)[::-1], "looks forward"),
    ("gae_episode", lambda d, g, lam: np.append(ref("gae_episode")(d, g, lam)[1:], 0.0) * g * lam,
     "includes delta_t itself"),
    ("gae_episode", lambda d, g, lam: np.full(len(d), ref("gae_episode")(d, g, lam)[0]), "starts its sum at t"),
    ("gae_batch", lambda ep, V, g, lam: _gae_b(ep, V, g, lam, cut=False, mask=False) * ep.mask,
     "trace is not cut at the episode's end"),
    ("gae_batch", lambda ep, V, g, lam: _gae_b(ep, V, g, 1.0), "lambda is missing"),
    ("gae_batch", lambda ep, V, g, lam: _gae_b_gamma_missing(ep, V, g, lam), "gamma is missing in the trace"),
    ("gae_stream", lambda r, v, nv, te, tr, g, lam: _gae_s(r, v, nv, te, tr, g, lam, cut="truncated"),
     "trace not cut at termination"),
    ("gae_stream", lambda r, v, nv, te, tr, g, lam: _gae_s(r, v, nv, te, tr, g, 1.0), "lambda is missing"),
    # ex08
    ("estimate_gradient", lambda m, p, th, N, T, rng: N * _est(m, p, th, N, T, rng), "summed over episodes"),
]


# Part II exercises (ex09, ex10): wrong implementations written with numpy and the unstubbed package


def _ev(mdp, pi):
    return _pg.evaluate(mdp, pi)


def _pdl(mdp, pi, pi_new, visits="new", actions="new", adv="old", weight="visits", use="A"):
    """sum_s w^{visits}(s) sum_a pi_{actions}(a|s) X^{adv}(s, a), each factor from the policy named."""
    ev = {"old": _ev(mdp, pi), "new": _ev(mdp, pi_new)}
    p = {"old": pi, "new": pi_new}[actions]
    return float(getattr(ev[visits], weight) @ (p * getattr(ev[adv], use)).sum(axis=1))


def _surr(mdp, t0, t, visits="old", actions="new", adv="old", base="old", weight="visits", use="A"):
    """U^{base} + sum_s w^{visits}(s) sum_a pi_{actions}(a|s) X^{adv}(s, a) for the tabular softmax."""
    pi = {"old": _pg.softmax(t0, axis=1), "new": _pg.softmax(t, axis=1)}
    ev = {k: _ev(mdp, v) for k, v in pi.items()}
    u = 0.0 if base is None else ev[base].U
    return float(u + getattr(ev[visits], weight) @ (pi[actions] * getattr(ev[adv], use)).sum(axis=1))


def _surr_grad(mdp, t0, t, average=True, actions="new", weight="visits"):
    ev = _ev(mdp, _pg.softmax(t0, axis=1))
    p = _pg.softmax({"old": t0, "new": t}[actions], axis=1)
    avg = (p * ev.A).sum(axis=1, keepdims=True) if average else 0.0
    return getattr(ev, weight)[:, None] * p * (ev.A - avg)


def _cc(mdp, policy, theta, weight="d pi", target="A", feats="psi"):
    """A least-squares fit of the advantage (or Q) in the score (or raw) features with the named row weights."""
    ev = _ev(mdp, policy.probs(theta))
    S, A = mdp.S, mdp.A
    s, a = np.meshgrid(np.arange(S), np.arange(A), indexing="ij")
    X = (policy.grad_log_prob(theta, s, a) if feats == "psi" else policy.features).reshape(S * A, -1)
    wt = {"d pi": ev.d[:, None] * ev.pi, "visits pi": ev.visits[:, None] * ev.pi, "none": np.ones((S, A)),
          "d": np.repeat(ev.d[:, None], A, axis=1), "pi": ev.pi, "(d pi)^2": (ev.d[:, None] * ev.pi) ** 2}[weight]
    sw = np.sqrt(wt.ravel())
    return np.linalg.lstsq(X * sw[:, None], getattr(ev, target).ravel() * sw, rcond=None)[0]


def _ng(mdp, policy, theta, factor="H"):
    ev = _ev(mdp, policy.probs(theta))
    H = ev.effective_horizon
    f = {"H": H, "none": 1.0, "1/(1-gamma)": 1 / (1 - mdp.gamma), "H^2": H**2, "1/H": 1 / H}[factor]
    return f * _cc(mdp, policy, theta)


MISTAKES += [
    # ex09: the performance difference lemma, the surrogate, its gradient
    ("performance_difference", lambda m, p, pn: _pdl(m, p, pn, visits="old", actions="old", adv="new"),
     "U(pi) - U(pi_new)"),
    ("performance_difference", lambda m, p, pn: _pdl(m, p, pn, visits="old"), "swapped in the visits"),
    ("performance_difference", lambda m, p, pn: _pdl(m, p, pn, actions="old", adv="new"),
     "swapped in the actions and the advantage"),
    ("performance_difference", lambda m, p, pn: _pdl(m, p, pn, adv="new"), "0 for every pair"),
    ("performance_difference", lambda m, p, pn: _pdl(m, p, pn, actions="old"), "0 for every pair"),
    ("performance_difference", lambda m, p, pn: _pdl(m, p, pn, weight="d"), "weighted by d"),
    ("performance_difference", lambda m, p, pn: _pdl(m, p, pn, use="Q"), "not Q"),
    ("performance_difference", lambda m, p, pn: _ev(m, pn).U - _ev(m, p).U, None),  # the definition: correct
    ("surrogate_objective", lambda m, t0, t: _surr(m, t0, t, visits="new"), "new policy's visit counts"),
    ("surrogate_objective", lambda m, t0, t: _surr(m, t0, t, actions="old"), "U(theta_old) for every theta"),
    ("surrogate_objective", lambda m, t0, t: _surr(m, t0, t, adv="new"), "come from the same policy"),
    ("surrogate_objective", lambda m, t0, t: _surr(m, t0, t, visits="new", actions="old", adv="new", base="new"),
     "L_new(theta_old)"),
    ("surrogate_objective", lambda m, t0, t: _surr(m, t0, t, base=None), "U(theta_old) is missing"),
    ("surrogate_objective", lambda m, t0, t: _surr(m, t0, t, weight="d"), "weighted by d"),
    ("surrogate_objective", lambda m, t0, t: _surr(m, t0, t, use="Q"), "not Q"),
    ("surrogate_gradient", lambda m, t0, t: _surr_grad(m, t0, t, average=False), "policy-average term is missing"),
    ("surrogate_gradient", lambda m, t0, t: _pg.policy_gradient(m, _pg.SoftmaxPolicy.tabular(m.S, m.A), t),
     "that is grad U(theta)"),
    ("surrogate_gradient", lambda m, t0, t: _surr_grad(m, t0, t, actions="old"), "grad U(theta_old) for every theta"),
    ("surrogate_gradient", lambda m, t0, t: _surr_grad(m, t0, t, weight="d"), "weighted by d"),
    ("surrogate_gradient", lambda m, t0, t: -_surr_grad(m, t0, t), "sign flipped"),
    # ex10: the compatible critic, the natural gradient from it
    ("compatible_critic", lambda m, p, th: _cc(m, p, th, weight="none"), "an unweighted least-squares fit"),
    ("compatible_critic", lambda m, p, th: _cc(m, p, th, weight="d"), "the pi(a|s) weight is missing"),
    ("compatible_critic", lambda m, p, th: _cc(m, p, th, weight="pi"), "the d(s) weight is missing"),
    ("compatible_critic", lambda m, p, th: _cc(m, p, th, weight="(d pi)^2"), "SQUARE ROOT"),
    ("compatible_critic", lambda m, p, th: _cc(m, p, th, feats="raw"), "not the raw features"),
    ("compatible_critic", lambda m, p, th: _ng(m, p, th), "that is the natural gradient"),
    ("compatible_critic", lambda m, p, th: _cc(m, p, th, weight="visits pi"), None),  # H d: the same minimiser
    ("compatible_critic", lambda m, p, th: _cc(m, p, th, target="Q"), None),  # sum_a pi psi V(s) = 0: the same w
    ("natural_gradient_from_critic", lambda m, p, th: _ng(m, p, th, factor="none"), "effective_horizon"),
    ("natural_gradient_from_critic", lambda m, p, th: _ng(m, p, th, factor="1/(1-gamma)"), "not 1/(1-gamma)"),
    ("natural_gradient_from_critic", lambda m, p, th: _ng(m, p, th, factor="H^2"), "applied twice"),
    ("natural_gradient_from_critic", lambda m, p, th: _ng(m, p, th, factor="1/H"), "not w / H"),
]


def _gae_b_gamma_missing(ep, V, gamma, lam):
    """Deltas with gamma, but the trace weighted by lambda only."""
    delta = _td(ep, V, gamma)
    N, T = delta.shape
    A, run = np.zeros((N, T)), np.zeros(N)
    for t in range(T - 1, -1, -1):
        run = delta[:, t] + lam * (1.0 - (ep.terminated[:, t] | ep.truncated[:, t])) * run
        A[:, t] = run
    return A


@pytest.mark.parametrize("name,wrong,needle", MISTAKES,
                         ids=[f"{n}-{s or 'correct-alternative'}" for n, _, s in MISTAKES])
def test_mistake_is_named(name, wrong, needle):
    for seed in ((11,) if name == "estimate_gradient" else (11, 12)):
        r = CHECKER[name](wrong, seed=seed, quiet=True)
        if needle is None:  # an alternative that is right
            assert r.passed, (seed, r.message)
            continue
        assert not r.passed, (seed, r.message)
        assert needle in r.message, (seed, r.message)


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_student_version_runs_without_traceback(exercise, capsys):
    """The generated student notebook (exercises/, all parts still stubs) runs top to bottom: every check
    prints 'not implemented yet' instead of raising."""
    path = ROOT / "exercises" / f"{exercise}.py"
    if not path.exists():
        pytest.skip("exercises/ not generated (python -m tools.release)")
    ns: dict = {}
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, path.name, "exec"), ns)  # noqa: S102 - our own exercise cells
    out = capsys.readouterr().out
    assert out.count("not implemented yet") == len(EXERCISES[exercise]), out


def test_result_object():
    r = checks.check_gae_episode(ref("gae_episode"), seed=1, quiet=True)
    assert isinstance(r, checks.CheckResult) and r and str(r) == r.message and r.check == "check_gae_episode"
    r = checks.check_gae_episode(_todo, seed=1, quiet=True)
    assert not r and checks.NOT_IMPLEMENTED in r.message


def test_training_problem_is_fixed():
    mdp, pol, theta0, U0, U_star = checks.training_problem()
    assert U_star > U0 and np.isclose(_pg.objective(mdp, pol, theta0), U0)
    assert checks.training_problem()[3] == U0


# ---------------------------------------------------------------------------------------------------
# the checker fixes of issue 12: every escape route of a student's function becomes a clear failed result
# ---------------------------------------------------------------------------------------------------

def _exits(*a):
    import sys
    sys.exit(3)


def _interrupts(*a):
    raise KeyboardInterrupt


def _base(*a):
    class Odd(BaseException):
        pass
    raise Odd("odd")


class _BadArray:
    def __array__(self, *a, **k):
        raise RuntimeError("no array for you")


@pytest.mark.parametrize("fn,needle", [(_exits, "sys.exit(3)"), (_interrupts, "interrupted"), (_base, "raised Odd"),
                                       (lambda *a: _BadArray(), "could not be turned into an array"),
                                       (lambda r, g: ref("episode_returns")(r, g) + 5j, "complex")])
def test_escapes_and_odd_return_values_are_the_students(fn, needle):
    r = checks.check_episode_returns(fn, seed=1, quiet=True)
    assert not r and needle in r.message, r.message
    assert "bug in pgcourse" not in r.message


def test_time_limit_stops_an_endless_loop():
    def forever(r, g):
        while True:
            pass
    r = checks.check_episode_returns(forever, seed=1, quiet=True, time_limit=0.5)
    assert not r and "time limit" in r.message and "0.5 s" in r.message, r.message
    assert checks.check_episode_returns(ref("episode_returns"), seed=1, quiet=True, time_limit=5)


def test_one_element_list_and_array_are_the_same():
    f = ref("objective_from_occupancy")
    for wrap in (lambda u: [u], lambda u: np.array([u]), lambda u: (u,), lambda u: np.array([[u]])):
        r = checks.check_objective_from_occupancy(lambda *a, w=wrap: w(f(*a)), seed=2, quiet=True)
        assert r.passed, r.message
    r = checks.check_objective_from_occupancy(lambda *a: [f(*a), f(*a)], seed=2, quiet=True)
    assert not r and "one number" in r.message


def test_forbidden_package_function_is_named_and_restored():
    r = checks.check_episode_returns(lambda rw, g: pg.discounted_returns(rw[None], g)[0], seed=1, quiet=True)
    r2 = checks.check_gae_batch(lambda ep, V, g, lam: pg.gae(ep, V, g, lam), seed=1, quiet=True)
    assert not r and "pg.discounted_returns is not available in this part: it is what this part asks" in r.message, \
        r.message
    assert not r2 and "pg.gae is not available in this part" in r2.message, r2.message
    # nothing stays patched
    assert pg.gae is _pg.gae and pg.estimators.gae is _pg.gae and pg.discounted_returns is _pg.discounted_returns
    assert checks.check_tabular_score(lambda th, s, a: pg.SoftmaxPolicy.tabular(*th.shape).grad_log_prob(th, s, a),
                                      seed=1, quiet=True).passed is False
    assert not getattr(pg.SoftmaxPolicy.grad_log_prob, "__pgcourse_forbidden__", False)


def test_td0_critic_zeroing_unvisited_states_gets_the_hint():
    f = ref("td0_critic")

    def zeroed(ep, g, V0):
        V = np.array(f(ep, g, V0))
        seen = np.bincount(ep.states[ep.mask.astype(bool)], minlength=V.size) > 0
        V[~seen] = 0.0
        return V
    r = checks.check_td0_critic(zeroed, seed=4, quiet=True)
    assert not r and "never visited" in r.message and "Not converged" not in r.message, r.message


def test_exact_gradient_plus_noise_is_not_an_estimator():
    def exact_plus_noise(mdp, policy, theta, N, T, rng):
        exact = _pg.policy_gradient(mdp, policy, theta)  # the original, not the stub: as if copied elsewhere
        return exact + 1e-3 * rng.normal(size=exact.shape)

    def via_pg(mdp, policy, theta, N, T, rng):
        return pg.policy_gradient(mdp, policy, theta) + 0.1 * rng.normal(size=theta.shape)
    r = checks.check_estimate_gradient(exact_plus_noise, seed=11, quiet=True)
    assert not r and "hardly vary" in r.message, r.message
    r = checks.check_estimate_gradient(via_pg, seed=11, quiet=True)
    assert not r and "pg.policy_gradient is not available in this part: this part must learn" in r.message, r.message


def test_greedy_theta_from_the_exact_machinery_is_not_training():
    def greedy(mdp, policy, theta0, n_iters, lr, N, T, seed):  # exact value iteration, written with numpy
        P, R, live = np.asarray(mdp.P), np.asarray(mdp.R), ~np.asarray(mdp.terminal)
        V = np.zeros(mdp.S)
        for _ in range(500):
            Q = R + mdp.gamma * P @ (V * live)
            V = Q.max(axis=1)
        return 50.0 * (Q == Q.max(axis=1, keepdims=True))

    def via_pg(mdp, policy, theta0, n_iters, lr, N, T, seed):
        _, Q = pg.optimal_values(mdp)
        return 50.0 * (Q == Q.max(axis=1, keepdims=True))
    r = checks.check_training_loop(greedy, seed=3, quiet=True)
    assert not r and "different seeds gave the same theta" in r.message, r.message
    r = checks.check_training_loop(via_pg, seed=3, quiet=True)
    assert not r and "pg.optimal_values is not available in this part" in r.message, r.message


def test_training_check_uses_a_fresh_mdp():
    a = checks.training_case(np.random.default_rng(1))[0]
    b = checks.training_case(np.random.default_rng(2))[0]
    assert not np.array_equal(np.asarray(a.P), np.asarray(b.P))
    assert not np.array_equal(np.asarray(a.P), np.asarray(checks.training_problem()[0].P))


def test_part2_package_functions_are_switched_off_and_the_reference_survives_the_stubs():
    """ex09/ex10: the package's lemma, surrogate (also as the clipped objective with a huge eps), critic and
    natural gradient raise while the student's function runs; the reference the grader substitutes for Part 1 of
    ex10 still works under the stubs (it runs in the same stubbed process)."""
    tab = pg.SoftmaxPolicy.tabular
    cases = [
        (checks.check_performance_difference, lambda m, p, pn: pg.performance_difference(m, p, pn),
         "pg.performance_difference"),
        (checks.check_surrogate_objective, lambda m, t0, t: pg.surrogate_objective(m, tab(m.S, m.A), t0, t),
         "pg.surrogate_objective"),
        (checks.check_surrogate_objective, lambda m, t0, t: pg.clipped_objective(m, tab(m.S, m.A), t0, t, 1e9),
         "pg.clipped_objective"),
        (checks.check_surrogate_gradient, lambda m, t0, t: pg.surrogate_gradient(m, tab(m.S, m.A), t0, t),
         "pg.surrogate_gradient"),
        (checks.check_compatible_critic, lambda m, p, th: pg.compatible_critic(m, p, th), "pg.compatible_critic"),
        (checks.check_natural_gradient_from_critic, lambda m, p, th: pg.natural_gradient(m, p, th),
         "pg.natural_gradient"),
    ]
    for check, fn, label in cases:
        r = check(fn, seed=1, quiet=True)
        assert not r and f"{label} is not available in this part" in r.message, r.message
    assert pg.compatible_critic is _pg.compatible_critic and pg.natural.natural_gradient is _pg.natural_gradient
    reference = checks.check_compatible_critic.checker.reference
    assert checks.check_compatible_critic(reference, seed=3, quiet=True)
    r = checks.check_natural_gradient_from_critic(
        lambda m, p, th: _ev(m, p.probs(th)).effective_horizon * reference(m, p, th), seed=3, quiet=True)
    assert r.passed, r.message
