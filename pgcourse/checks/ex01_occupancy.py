"""ex01_occupancy: P_pi, the discounted visit counts, the occupancy rho and U from rho (Part I).

The pattern of every checker module: one `@checker(exercise, part, function=..., summary=...)` per part on a
`build(rng)` that yields `Case`s (plain inputs plus a judge holding the exact answers and the known wrong
variants). `forbid` names the package functions the part asks the student to write; `uses` the earlier parts it
may call, each with a pure-numpy `reference` the grader substitutes.
"""
from __future__ import annotations

import numpy as np

from ..exact import evaluate
from . import _problems as pr
from ._core import checker, compare_case

_EXACT = ("evaluate", "objective", "alive_distributions")


def ref_policy_transitions(P, pi):
    """P_pi (S, S) = sum_a pi(a|s) P[s, a, s'] (reference)."""
    return np.einsum("sa,sat->st", np.asarray(pi, dtype=float), np.asarray(P, dtype=float))


def ref_discounted_visits(P_pi, mu, gamma):
    """visits (S,) = mu^T (I - gamma P_pi)^-1 (reference)."""
    P_pi = np.asarray(P_pi, dtype=float)
    return np.linalg.solve((np.eye(P_pi.shape[0]) - gamma * P_pi).T, np.asarray(mu, dtype=float))


@checker("ex01_occupancy", 1, function="policy_transitions", forbid=_EXACT, reference=ref_policy_transitions,
         summary="P_pi matches on 3 random MDPs, and its rows sum to 1.")
def check_policy_transitions(rng):
    """student_fn(P (S, A, S), pi (S, A)) -> P_pi (S, S), P_pi[s, s'] = sum_a pi(a|s) P[s, a, s']."""
    for _ in range(3):
        mdp = pr.mdp(rng)
        pi = pr.pi(rng, mdp.S, mdp.A)
        P = np.array(mdp.P)
        exp = ref_policy_transitions(P, pi)
        yield compare_case((P, pi), exp, "P_pi", [
            (exp.T, ("P_pi looks transposed: row s must hold the distribution of the next state s' "
                    "(each row sums to 1).")),
            (P.mean(axis=1), "pi is ignored: you averaged P over actions uniformly; weight action a by pi(a|s)."),
            (P.sum(axis=1), ("pi is missing: weight P[s, a, :] by pi(a|s) before summing over actions "
                            "(your rows sum to A, not 1).")),
        ], shape_hints={(mdp.S, mdp.A, mdp.S): "You still have the action axis: sum over a, weighted by pi(a|s)."},
            generic_hint="Each row of P_pi must sum to 1.", where=pr.describe(mdp))


@checker("ex01_occupancy", 2, function="discounted_visits", forbid=_EXACT, reference=ref_discounted_visits,
         summary="the discounted visit counts match on 3 random MDPs (they sum to 1/(1-gamma)).")
def check_discounted_visits(rng):
    """student_fn(P_pi (S, S), mu (S,), gamma) -> visits (S,) = mu^T (I - gamma P_pi)^-1 (no terminal states)."""
    for _ in range(3):
        mdp = pr.mdp(rng)
        pi = pr.pi(rng, mdp.S, mdp.A)
        g = mdp.gamma
        P_pi = ref_policy_transitions(mdp.P, pi)
        mu = np.array(mdp.mu)
        M = np.eye(mdp.S) - g * P_pi
        exp = np.linalg.solve(M.T, mu)
        yield compare_case((P_pi, mu, g), exp, "visits", [
            (np.linalg.solve(M, mu), ("you solved (I - gamma P_pi) x = mu, but the visits are a row vector "
                                     "mu^T (I - gamma P_pi)^-1: solve the transposed system.")),
            ((1 - g) * exp, ("your answer sums to 1: that is d^pi. The discounted visit counts are not "
                            "normalised: they sum to 1/(1-gamma).")),
            (np.linalg.solve(M.T, np.ones(mdp.S)), ("the start distribution mu is missing: the counts start "
                                                   "from mu (mu^T (I - gamma P_pi)^-1).")),
        ], near_hint="A truncated series sum_t gamma^t mu^T P_pi^t? Solve the linear system instead: it is exact.",
            generic_hint=f"Hint: the counts sum to 1/(1-gamma) = {1 / (1 - g):.4g}.", where=pr.describe(mdp))


@checker("ex01_occupancy", 3, function="occupancy", forbid=_EXACT,
         uses=("policy_transitions", "discounted_visits"),
         summary="rho matches on 3 random MDPs: it sums to 1 and its row sums are d^pi.")
def check_occupancy(rng):
    """student_fn(P, mu, pi, gamma) -> rho (S, A) = d^pi(s) pi(a|s), normalised to sum 1 (no terminal states)."""
    for _ in range(3):
        mdp = pr.mdp(rng)
        pi = pr.pi(rng, mdp.S, mdp.A)
        ev = evaluate(mdp, pi)
        g = mdp.gamma
        M = np.eye(mdp.S) - g * ref_policy_transitions(mdp.P, pi)
        d_wrong = np.linalg.solve(M, mdp.mu)
        yield compare_case((np.array(mdp.P), np.array(mdp.mu), pi, g), ev.rho, "rho", [
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
            generic_hint="rho must sum to 1 and its row sums are d^pi.", where=pr.describe(mdp))


@checker("ex01_occupancy", 4, function="objective_from_occupancy", forbid=_EXACT,
         summary="U = 1/(1-gamma) sum rho r matches the exact U on 3 random MDPs.")
def check_objective_from_occupancy(rng):
    """student_fn(rho (S, A), R (S, A), gamma) -> U = 1/(1-gamma) sum_{s,a} rho(s, a) r(s, a) (a float)."""
    for _ in range(3):
        mdp = pr.mdp(rng)
        pi = pr.pi(rng, mdp.S, mdp.A)
        g = mdp.gamma
        ev = evaluate(mdp, pi)
        R = np.array(mdp.R)
        s = float((ev.rho * R).sum())
        yield compare_case((ev.rho.copy(), R, g), ev.U, "U", [
            (s, ("the 1/(1-gamma) factor is missing: rho is normalised (it sums to 1), so "
                "U = 1/(1-gamma) sum rho r.")),
            ((1 - g) * s, "you multiplied by (1-gamma): divide instead, U = 1/(1-gamma) sum rho r."),
            ((ev.rho * R).mean() / (1 - g), "use a sum over all (s, a), not a mean."),
        ], shape_hints={(mdp.S, mdp.A): "U is one number: sum over all (s, a).",
                        (mdp.S,): "U is one number: sum over states too."}, where=pr.describe(mdp))
