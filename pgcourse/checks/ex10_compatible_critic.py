"""ex10_compatible_critic: the compatible critic as weighted least squares, and the natural gradient from it
(Part II, notebook 11).

Typical mistakes named: an unweighted least-squares fit, the d(s) or the pi(a|s) weight missing, the raw
features instead of the scores, 1/(1-gamma) instead of the effective horizon H with terminal states. Weighting
by the visit counts instead of d, and fitting Q instead of A, give the same w (a constant factor on every
weight, and sum_a pi psi V(s) = 0): both are accepted. While the student's function runs, the package's
compatible critic, natural gradient, Fisher matrix and linear critics are unavailable.
"""
from __future__ import annotations

import numpy as np

from ..exact import evaluate
from ..natural import compatible_critic, natural_gradient, score_features
from ..policies import SoftmaxPolicy
from . import _problems as pr
from ._core import checker, compare_case

_CRITIC = ("compatible_critic", "natural_gradient", "fisher_matrix", "linear_critic", "critic_gradient",
           "sampled_compatible_critic")


def _case(rng, n_terminal=0, gamma=None):
    mdp = pr.mdp(rng, n_terminal=n_terminal, gamma=gamma)
    K = int(rng.integers(2, 4))
    pol = SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, K)))
    return mdp, pol, rng.normal(size=K), K


def _wls(X, y, weights):
    """argmin_w sum_i weights_i (X_i . w - y_i)^2 by np.linalg.lstsq on the sqrt-weighted rows."""
    sw = np.sqrt(weights)
    return np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]


def ref_compatible_critic(mdp, policy, theta, _evaluate=evaluate):
    """w (K,): argmin_w sum_s d(s) sum_a pi(a|s) (psi(s, a) . w - A(s, a))^2 (reference, numpy; the package's
    evaluate bound at import, so the grader's stubs of the part's functions do not reach it)."""
    ev = _evaluate(mdp, policy.probs(theta))
    s, a = np.meshgrid(np.arange(mdp.S), np.arange(mdp.A), indexing="ij")
    psi = policy.grad_log_prob(theta, s, a).reshape(mdp.S * mdp.A, -1)
    return _wls(psi, ev.A.ravel(), (ev.d[:, None] * ev.pi).ravel()).reshape(np.shape(theta))


@checker("ex10_compatible_critic", 1, function="compatible_critic", forbid=_CRITIC, course_part=2,
         reference=ref_compatible_critic,
         summary="the critic's weights w match on 3 random MDPs with linear-feature policies (one with a terminal "
                 "state).")
def check_compatible_critic(rng):
    """student_fn(mdp, policy (linear SoftmaxPolicy), theta (K,)) -> w (K,), the minimiser of
    sum_s d(s) sum_a pi(a|s) (psi(s, a) . w - A(s, a))^2, psi = grad log pi (weighted least squares)."""
    for k in range(3):
        mdp, pol, theta, K = _case(rng, n_terminal=1 if k == 2 else 0)
        ev = evaluate(mdp, pol.probs(theta))
        psi = score_features(pol, theta).reshape(-1, K)
        y = ev.A.ravel()
        d_sa = np.repeat(ev.d, mdp.A)
        w_sa = (ev.d[:, None] * ev.pi).ravel()
        exp = compatible_critic(mdp, pol, theta)
        yield compare_case((mdp, pol, theta), exp, "w", [
            (_wls(psi, y, np.ones_like(y)),
             "an unweighted least-squares fit: weight each (s, a) by d(s) pi(a|s) (multiply the rows and the "
             "targets by its square root)."),
            (_wls(psi, y, d_sa), "the pi(a|s) weight is missing: weight each (s, a) by d(s) pi(a|s), not d(s) alone."),
            (_wls(psi, y, ev.pi.ravel()),
             "the d(s) weight is missing: weight each (s, a) by d(s) pi(a|s), not pi(a|s) alone."),
            (_wls(psi, y, w_sa ** 2), ("weighted by (d(s) pi(a|s))^2: multiply the rows and the targets by the "
                                       "SQUARE ROOT of the weight d(s) pi(a|s).")),
            (_wls(pol.features.reshape(-1, K), y, w_sa),
             "fit with the score features psi = phi(s, a) - sum_b pi(b|s) phi(s, b), not the raw features."),
            (natural_gradient(mdp, pol, theta), "that is the natural gradient, w times the effective horizon."),
        ], where=pr.describe(mdp) + f", K={K} features")


@checker("ex10_compatible_critic", 2, function="natural_gradient_from_critic", forbid=_CRITIC,
         uses=("compatible_critic",), course_part=2,
         summary="the natural gradient H w matches on 3 random MDPs (two with terminal states, where "
                 "H != 1/(1-gamma)).")
def check_natural_gradient_from_critic(rng):
    """student_fn(mdp, policy, theta) -> (K,): the natural gradient F^+ grad U = effective_horizon * w, with w
    from Part 1 and effective_horizon = sum_s visits(s)."""
    for k in range(3):
        mdp, pol, theta, K = _case(rng, n_terminal=0 if k == 0 else 1, gamma=0.9)
        ev = evaluate(mdp, pol.probs(theta))
        w = compatible_critic(mdp, pol, theta)
        exp = natural_gradient(mdp, pol, theta)
        yield compare_case((mdp, pol, theta), exp, "natural gradient", [
            (w, "the factor effective_horizon = sum_s visits(s) is missing: F^+ grad U = H w."),
            (w / (1 - mdp.gamma), ("with terminal states the factor is the effective horizon H = sum_s visits(s) "
                                  "(pg.evaluate(...).effective_horizon), not 1/(1-gamma).")),
            (ev.effective_horizon ** 2 * w, "the factor H is applied twice."),
            (w / ev.effective_horizon, "divided by H: the natural gradient is H w, not w / H."),
        ], where=pr.describe(mdp) + f", K={K} features")
