"""ex06_td_critic: TD errors, the expected TD error, a batch TD(0) critic (Part II)."""
from __future__ import annotations

import numpy as np

from ..analysis import td_fixed_point
from ..estimators import mc_values, td_errors
from ..exact import evaluate
from . import _problems as pr
from ._core import checker, close, compare_case


def ref_td_errors(episodes, V, gamma):
    """delta (N, T) = (r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t)) * mask (reference)."""
    ep = episodes
    V = np.asarray(V, dtype=float)
    future = np.where(ep.terminated, 0.0, V[ep.next_states])
    return (ep.rewards + gamma * future - V[ep.states]) * ep.mask


@checker("ex06_td_critic", 1, function="td_errors", forbid=("td_errors", "gae"), reference=ref_td_errors,
         course_part=2,
         summary="the TD errors match: no bootstrap after termination, bootstrap at truncation, 0 on padding.")
def check_td_errors(rng):
    """student_fn(episodes, V (S,), gamma) -> delta (N, T) = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t),
    0 where mask is 0."""
    for _ in range(2):
        mdp, _, ep, V, where = pr.td_case(rng)
        g = mdp.gamma
        r, s, s2, m = ep.rewards, ep.states, ep.next_states, ep.mask
        exp = td_errors(ep, V, g)
        live = 1.0 - ep.terminated
        yield compare_case((ep, V, g), exp, "delta", [
            ((r + g * V[s2] - V[s]) * m, pr.BOOT_TERMINAL),
            ((r + g * (1.0 - (ep.terminated | ep.truncated)) * V[s2] - V[s]) * m, pr.NO_BOOT_TRUNC),
            (r + g * live * V[s2] - V[s], ("mask ignored: delta must be 0 on the padding after an episode's end "
                                          "(mask 0).")),
            (r + g * V[s2] - V[s], ("mask ignored and bootstrapping from a terminal state: multiply by the mask, "
                                   "and use (1 - terminated_t) in front of V(s_{t+1}).")),
            ((r + live * V[s2] - V[s]) * m, "gamma is missing in front of V(s_{t+1})."),
            ((r + g * live * V[s] - V[s2]) * m, "V(s_t) and V(s_{t+1}) are swapped."),
        ], shape_hints={(mdp.S,): "One delta per step: shape (N, T)."}, where=where)


@checker("ex06_td_critic", 2, function="expected_td_error", forbid=("expected_td_error", "evaluate"),
         course_part=2,
         summary=("E[delta | s, a] matches; with the true V it equals the advantage A(s, a), with a learned V "
                  "it does not."))
def check_expected_td_error(rng):
    """student_fn(mdp, V (S,)) -> E[delta_t | s_t = s, a_t = a] (S, A) =
    r(s, a) + gamma sum_s' P[s, a, s'] (1 - terminal(s')) V(s') - V(s); rows of terminal states 0."""
    for true_v in (True, False):
        mdp = pr.mdp(rng, gamma=float(rng.choice([0.8, 0.9])), n_terminal=1)
        pi = pr.pi(rng, mdp.S, mdp.A)
        ev = evaluate(mdp, pi)
        live = ~mdp.terminal
        V = ev.V.copy()
        if true_v:
            where = f"{pr.describe(mdp)}, the true V of a policy (V(terminal) = 0)"
        else:
            V = V + pr.critic(rng, mdp.S)
            where = f"{pr.describe(mdp)}, a learned V (nonzero on the terminal state)"
        P, R, g = np.array(mdp.P), np.array(mdp.R), mdp.gamma
        full = R + g * P @ V - V[:, None]
        exp = (R + g * P @ (V * live) - V[:, None]) * live[:, None]
        if true_v and not close(exp, ev.A * live[:, None]):  # pragma: no cover - sanity of the checker
            raise RuntimeError("E[delta] != A for the true V")
        yield compare_case((mdp, V), exp, "E[delta]", [
            (full * live[:, None], pr.BOOT_TERMINAL),
            (full, pr.BOOT_TERMINAL + " Also: no step is taken from a terminal state, its row must be 0."),
            (R + g * P @ (V * live) - V[:, None], "no step is taken from a terminal state: its row must be 0."),
            ((R + P @ (V * live) - V[:, None]) * live[:, None], "gamma is missing."),
        ], shape_hints={(mdp.S,): "One value per (s, a): shape (S, A)."}, where=where)


@checker("ex06_td_critic", 3, function="td0_critic", forbid=("td0_values", "analysis.td_fixed_point"),
         uses=("td_errors",), course_part=2,
         summary="batch TD(0) converges to the right fixed point on 2 batches.")
def check_td0_critic(rng):
    """student_fn(episodes, gamma, V0 (S,)) -> V (S,): batch TD(0) from V0 until converged (the TD errors of the
    steps taken from each visited state average to 0; states never visited keep V0)."""
    for _ in range(2):
        ep = None
        while ep is None:
            mdp = pr.mdp(rng, gamma=float(rng.choice([0.7, 0.8])), n_terminal=1)
            ep = pr.episodes(rng, mdp, pr.pi(rng, mdp.S, mdp.A), 30, 10)
        V0 = pr.critic(rng, mdp.S)
        g = mdp.gamma
        exp = td_fixed_point(ep, mdp.S, g, V0=V0)
        mc = mc_values(ep, S=mdp.S, gamma=g)
        mc[mdp.terminal] = V0[mdp.terminal]
        unvisited = np.bincount(ep.states[ep.mask.astype(bool)], minlength=mdp.S) == 0
        zeroed = np.where(unvisited, 0.0, exp)
        yield compare_case((ep, g, V0), exp, "V", [
            (td_fixed_point(ep, mdp.S, g, V0=V0, bootstrap_terminal=True), pr.BOOT_TERMINAL),
            (td_fixed_point(ep, mdp.S, g, V0=V0, bootstrap_truncated=False), pr.NO_BOOT_TRUNC),
            (mc, "that is the Monte Carlo average of G_t; TD(0) bootstraps from V(s_{t+1}) instead."),
            (zeroed, (f"the states never visited ({', '.join(map(str, np.flatnonzero(unvisited)))}: here the "
                      "terminal state) must keep their value from V0; yours are 0. The visited ones are right.")),
        ], tol=1e-4, near_hint="Not converged yet? Run more sweeps (or a larger step size alpha).",
            near_rel=0.3 * float(np.abs(V0 - exp).max() / max(np.abs(exp).max(), 1e-12)),
            shape_hints={(mdp.S, mdp.A): "The critic is V (S,), one value per state."},
            generic_hint="At convergence the TD errors of the steps from each visited state average to 0; "
                         "states never visited keep V0.",
            where=f"{pr.describe(mdp)}, N=30 episodes, T=10, V0 nonzero everywhere")
