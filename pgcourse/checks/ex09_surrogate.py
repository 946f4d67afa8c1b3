"""ex09_surrogate: the performance difference lemma, the surrogate L_old and its gradient (Part II, notebook 09).

Typical mistakes named: the old and the new policy swapped (in the visits, in the actions, in the advantage, or
all of them), d instead of the visit counts, Q instead of A, U(theta_old) missing, the policy-average term of the
softmax derivative missing. While the student's function runs, the package's surrogate machinery
(pg.performance_difference, pg.surrogate_objective, pg.surrogate_gradient, the clipped objective and gradient,
which equal the surrogate for a large clip range, ...) is unavailable.
"""
from __future__ import annotations

from ..exact import evaluate, policy_gradient
from ..policies import SoftmaxPolicy
from . import _problems as pr
from ._core import checker, compare_case

_SURROGATE = ("performance_difference", "surrogate_objective", "surrogate_gradient", "clipped_objective",
              "clipped_gradient", "trpo_lower_bound", "line_profile", "surrogate_estimates")
_D_NOT_VISITS = ("you weighted by d (which sums to 1) instead of the visit counts (which sum to the effective "
                 "horizon, 1/(1-gamma) without terminal states): use pg.evaluate(...).visits.")


def _pair(rng, mdp):
    pol = SoftmaxPolicy.tabular(mdp.S, mdp.A)
    t0 = rng.normal(size=(mdp.S, mdp.A))
    return pol, t0, t0 + rng.normal(size=(mdp.S, mdp.A))


def _surrogate_cases(rng, n: int, equal_at: int):
    """n cases of (mdp, policy, theta_old, theta, pi_old, pi_theta, evaluation at theta_old): random MDPs, the
    third (k = 2) episodic with a terminal state; at k = equal_at, theta = theta_old (where L_old is U)."""
    for k in range(n):
        mdp = pr.mdp(rng, n_terminal=1) if k == 2 else pr.mdp(rng)
        pol, t0, t1 = _pair(rng, mdp)
        if k == equal_at:
            t1 = t0.copy()
        pi0, pi1 = pol.probs(t0), pol.probs(t1)
        yield k, mdp, pol, t0, t1, pi0, pi1, evaluate(mdp, pi0)


def _avg(pi, X):
    """(S,): sum_a pi(a|s) X(s, a)."""
    return (pi * X).sum(axis=1)


@checker("ex09_surrogate", 1, function="performance_difference", forbid=_SURROGATE, course_part=2,
         summary="U(pi_new) - U(pi) by the lemma matches on 3 random MDPs (one episodic with gamma = 1).")
def check_performance_difference(rng):
    """student_fn(mdp, pi (S, A), pi_new (S, A)) -> float:
    sum_s visits^{pi_new}(s) sum_a pi_new(a|s) A^pi(s, a) (= U(pi_new) - U(pi))."""
    for k in range(3):
        mdp = pr.mdp(rng, gamma=1.0, n_terminal=1) if k == 2 else pr.mdp(rng)
        pi, pi_new = pr.pi(rng, mdp.S, mdp.A), pr.pi(rng, mdp.S, mdp.A)
        ev, ev_new = evaluate(mdp, pi), evaluate(mdp, pi_new)
        exp = ev_new.U - ev.U
        yield compare_case((mdp, pi, pi_new), exp, "U(pi_new) - U(pi)", [
            (ev.visits @ _avg(pi, ev_new.A),
             "old and new policy swapped: the old visits and actions with the new advantage give U(pi) - "
             "U(pi_new). The lemma takes the NEW policy's visits and actions and the OLD policy's advantage A^pi."),
            (ev.visits @ _avg(pi_new, ev.A),
             "old and new policy swapped in the visits: the lemma weights by the NEW policy's visits (the old "
             "policy's visits give the surrogate L_old(pi_new) - U(pi), not the difference)."),
            (ev_new.visits @ _avg(pi, ev_new.A),
             "old and new policy swapped in the actions and the advantage: average the OLD advantage A^pi over "
             "the NEW policy's actions."),
            (0.0, ("that is 0 for every pair: sum_a pi(a|s) A^pi(s, a) = 0 whatever weights the states, so your "
                   "actions and your advantage come from the same policy. The lemma averages the OLD policy's "
                   "advantage A^pi over the NEW policy's actions pi_new(a|s), under the new policy's visits.")),
            (ev_new.d @ _avg(pi_new, ev.A), _D_NOT_VISITS),
            (ev_new.visits @ _avg(pi_new, ev.Q),
             "use the advantage A = Q - V, not Q: the V(s) term does not cancel here."),
        ], generic_hint="The lemma: sum_s visits^{pi_new}(s) sum_a pi_new(a|s) A^pi(s, a).", where=pr.describe(mdp))


@checker("ex09_surrogate", 2, function="surrogate_objective", forbid=_SURROGATE, course_part=2,
         summary="L_old(theta) matches on 4 random MDPs (one with theta = theta_old, where it is U).")
def check_surrogate_objective(rng):
    """student_fn(mdp, theta_old (S, A), theta (S, A)) -> float, tabular softmax:
    L_old(theta) = U(theta_old) + sum_s visits^{old}(s) sum_a pi_theta(a|s) A^{old}(s, a)."""
    for k, mdp, _, t0, t1, pi0, pi1, ev0 in _surrogate_cases(rng, 4, equal_at=3):
        ev1 = evaluate(mdp, pi1)
        exp = ev0.U + ev0.visits @ _avg(pi1, ev0.A)
        yield compare_case((mdp, t0, t1), exp, "L_old(theta)", [
            (ev1.U, ("that is U(theta) itself: you used the new policy's visit counts (the performance difference "
                     "lemma); the surrogate keeps the OLD policy's visits.")),
            (ev0.U, ("that is U(theta_old) for every theta: your actions and your advantage come from the same "
                     "policy (sum_a pi(a|s) A^pi(s, a) = 0). The surrogate averages the OLD advantage A^old over "
                     "the NEW policy's actions pi_theta(a|s).")),
            (ev1.U + ev1.visits @ _avg(pi0, ev1.A),
             "old and new policy swapped: that is L_new(theta_old), the surrogate around theta evaluated at "
             "theta_old. Take U, the visits and the advantage at theta_old, the actions from pi_theta."),
            (ev0.visits @ _avg(pi1, ev0.A), "U(theta_old) is missing: L_old(theta_old) must equal U."),
            (ev0.U + ev0.d @ _avg(pi1, ev0.A), _D_NOT_VISITS),
            (ev0.U + ev0.visits @ _avg(pi1, ev0.Q), "use the old advantage A^old = Q - V, not Q."),
        ], where=pr.describe(mdp) + (", theta = theta_old" if k == 3 else ""))


@checker("ex09_surrogate", 3, function="surrogate_gradient", forbid=_SURROGATE, course_part=2,
         summary="the gradient of L_old matches on 3 random MDPs (one with theta = theta_old, where it is grad U).")
def check_surrogate_gradient(rng):
    """student_fn(mdp, theta_old (S, A), theta (S, A)) -> (S, A), tabular softmax:
    grad L_old(theta)[s, a] = visits^{old}(s) pi_theta(a|s) (A^old(s, a) - sum_b pi_theta(b|s) A^old(s, b))."""
    for k, mdp, pol, t0, t1, pi0, pi1, ev0 in _surrogate_cases(rng, 3, equal_at=0):
        vis = ev0.visits[:, None]
        exp = vis * pi1 * (ev0.A - _avg(pi1, ev0.A)[:, None])
        yield compare_case((mdp, t0, t1), exp, "grad L_old", [
            (vis * pi1 * ev0.A, ("the policy-average term is missing: grad pi(a|s) = pi(a|s)(e_a - pi(.|s)), so "
                                 "subtract sum_b pi_theta(b|s) A^old(s, b) (it is 0 only at theta_old).")),
            (policy_gradient(mdp, pol, t1), ("that is grad U(theta): the surrogate keeps the OLD visits and the OLD "
                                             "advantage; only pi_theta moves.")),
            (vis * pi0 * ev0.A, ("that is grad U(theta_old) for every theta: the old policy's probabilities in "
                                 "place of pi_theta(a|s). Only the visits and the advantage stay at theta_old.")),
            (ev0.d[:, None] * pi1 * (ev0.A - _avg(pi1, ev0.A)[:, None]), _D_NOT_VISITS),
        ], where=pr.describe(mdp) + (", theta = theta_old" if k == 0 else ""))
