"""ex07_gae: GAE for one episode, a batch with both kinds of ending, and a stream of episodes (Part II)."""
from __future__ import annotations

import numpy as np

from .._recursion import backward_scan
from ..estimators import gae, td_errors
from . import _problems as pr
from ._core import checker, compare_case

_GAE = ("gae", "expected_gae", "discounted_returns")


def _gae_1d(delta, cont, gamma, lam):
    """A_t = delta_t + gamma lam cont_t A_{t+1} along the last axis (one episode, a stream, or a batch)."""
    return backward_scan(np.asarray(delta, dtype=float), gamma * lam * np.asarray(cont, dtype=float))


_gae_2d = _gae_1d  # the scan runs along the last axis, so a batch (N, T) is the same call


@checker("ex07_gae", 1, function="gae_episode", forbid=_GAE, course_part=2,
         summary="A_t matches for lambda in {0, 0.5, 0.8, 1} (lambda = 0 gives delta_t).")
def check_gae_episode(rng):
    """student_fn(deltas (T,), gamma, lam) -> A (T,), A_t = sum_l (gamma lam)^l delta_{t+l} (one episode that
    ends after its last step)."""
    for gamma, lam in ((0.9, 0.8), (0.95, 0.5), (0.9, 0.0), (0.8, 1.0)):
        T = int(rng.integers(6, 12))
        d = rng.normal(size=T)
        one = np.ones(T)
        exp = _gae_1d(d, one, gamma, lam)
        yield compare_case((d, gamma, lam), exp, "A", [
            (_gae_1d(d, one, gamma, 1.0), "lambda is missing: the weights are (gamma lambda)^l."),
            (_gae_1d(d, one, 1.0, lam), "gamma is missing: the weights are (gamma lambda)^l."),
            (_gae_1d(d[::-1], one, gamma, lam)[::-1], ("GAE looks forward: A_t sums delta_t, delta_{t+1}, ..., "
                                                      "not the past.")),
            (np.append(exp[1:], 0.0) * gamma * lam, "A_t includes delta_t itself (l starts at 0)."),
            (np.full(T, exp[0]), "each A_t starts its sum at t."),
        ], generic_hint="Hint: backwards, A_t = delta_t + gamma lambda A_{t+1}.",
            where=f"T={T}, gamma={gamma}, lambda={lam}")


@checker("ex07_gae", 2, function="gae_batch", forbid=_GAE, course_part=2,
         summary="GAE matches on 2 batches with terminations and truncations.")
def check_gae_batch(rng):
    """student_fn(episodes, V (S,), gamma, lam) -> A (N, T): GAE with terminations (no bootstrap) and
    truncations (bootstrap from V(s_T)); the trace is cut at either; 0 where mask is 0."""
    for lam in (0.7, 0.5):
        mdp, _, ep, V, where = pr.td_case(rng, N=30, T=10)
        g = mdp.gamma
        r, s, s2, m = ep.rewards, ep.states, ep.next_states, ep.mask
        exp = gae(ep, V, g, lam)
        cont = np.zeros_like(m)
        cont[:, :-1] = m[:, 1:]
        ones = np.ones_like(m)
        ones[:, -1] = 0.0
        live = 1.0 - ep.terminated
        d_ok = td_errors(ep, V, g)
        yield compare_case((ep, V, g, lam), exp, "A", [
            (_gae_2d((r + g * V[s2] - V[s]) * m, cont, g, lam), pr.BOOT_TERMINAL),
            (_gae_2d((r + g * (1.0 - (ep.terminated | ep.truncated)) * V[s2] - V[s]) * m, cont, g, lam),
             pr.NO_BOOT_TRUNC),
            (_gae_2d(r + g * live * V[s2] - V[s], ones, g, lam), ("mask ignored: the deltas of the padding after "
             "an episode's end are not 0 here (V(terminal) is not 0) and leak back into the last real steps; "
             "cut the trace at the end and return 0 where mask is 0.")),
            (_gae_2d(r + g * live * V[s2] - V[s], ones, g, lam) * m, ("the trace is not cut at the episode's "
             "end: the padding's deltas leak back into the last real steps.")),
            (_gae_2d(d_ok, cont, g, 1.0), "lambda is missing: the weights are (gamma lambda)^l."),
            (_gae_2d(d_ok, cont, 1.0, lam), "gamma is missing in the trace: the weights are (gamma lambda)^l."),
        ], generic_hint="Hint: deltas as in pg.td_errors, then A_t = delta_t + gamma lambda c_t A_{t+1}, "
                        "c_t = 0 where the episode ends at t.", where=where + f", lambda={lam}")


@checker("ex07_gae", 3, function="gae_stream", forbid=_GAE, course_part=2,
         summary="GAE matches on 2 streams with terminations and truncations.")
def check_gae_stream(rng):
    """student_fn(rewards, values, next_values, terminated, truncated, gamma, lam) -> A (T,) for one stream of
    episodes back to back (all (T,)); values[t] = V(s_t), next_values[t] = V(s_{t+1}) (nonzero also when
    s_{t+1} is terminal); the trace is cut where an episode ends (terminated or truncated)."""
    for lam in (0.9, 0.6):
        mdp, _, ep, V, _ = pr.td_case(rng, N=5, T=8)
        g = mdp.gamma
        # a truncated and a terminated episode first, so that both kinds of end are followed by more steps
        first = [int(np.flatnonzero(ep.truncated.any(axis=1))[0]),
                 int(np.flatnonzero(ep.terminated.any(axis=1))[0])]
        ep = pr.reorder(ep, np.array(first + [i for i in range(ep.n_episodes) if i not in first]))
        real = ep.mask.astype(bool)
        r, s, s2 = ep.rewards[real], ep.states[real], ep.next_states[real]
        term, trunc = ep.terminated[real], ep.truncated[real]
        v, nv = V[s], V[s2]
        T = r.size
        delta = r + g * (~term) * nv - v
        cut = 1.0 - (term | trunc)
        exp = _gae_1d(delta, cut, g, lam)
        yield compare_case((r, v, nv, term, trunc, g, lam), exp, "A", [
            (_gae_1d(delta, np.ones(T), g, lam), ("trace not cut at the episode ends: A_{t+1} after a "
             "termination or truncation belongs to the next episode; cut the trace at either.")),
            (_gae_1d(delta, 1.0 - term, g, lam), ("trace not cut at truncation: after a truncated step the "
             "stream continues with a new episode (the bootstrap V(s_{t+1}) is already inside delta_t).")),
            (_gae_1d(delta, 1.0 - trunc, g, lam), "trace not cut at termination."),
            (_gae_1d(r + g * nv - v, cut, g, lam), pr.BOOT_TERMINAL),
            (_gae_1d(r + g * (1.0 - (term | trunc)) * nv - v, cut, g, lam), pr.NO_BOOT_TRUNC),
            (_gae_1d(delta, cut, g, 1.0), "lambda is missing: the weights are (gamma lambda)^l."),
        ], generic_hint="Hint: delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t); "
                        "A_t = delta_t + gamma lambda (1 - done_t) A_{t+1}.",
            where=(f"a stream of {int(term.sum())} terminated and {int(trunc.sum())} truncated episodes, "
                   f"T={T}, gamma={g:g}, lambda={lam}, V(terminal) not 0"))
