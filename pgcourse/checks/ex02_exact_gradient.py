"""ex02_exact_gradient: a stable softmax, the exact tabular gradient, the gradient from the score (Part I)."""
from __future__ import annotations

import numpy as np

from ..exact import evaluate, policy_gradient, score_expectation
from ..policies import SoftmaxPolicy, softmax
from . import _problems as pr
from ._core import Case, checker, close, compare_case

_EXACT_GRADIENT = ("policy_gradient", "finite_difference_gradient", "expected_gradient_estimate",
                   "natural_gradient", "score_expectation")


def ref_softmax_probs(theta):
    """pi (S, A), row-wise stable softmax (reference)."""
    z = np.asarray(theta, dtype=float)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


@checker("ex02_exact_gradient", 1, function="softmax_probs", forbid=("softmax", "SoftmaxPolicy.probs"),
         reference=ref_softmax_probs,
         summary="pi is right, rows sum to 1, and it is stable for logits of size 1000.")
def check_softmax_probs(rng):
    """student_fn(theta (S, A)) -> pi (S, A), pi(a|s) = exp theta[s, a] / sum_b exp theta[s, b]; stable for
    logits of size 1e3."""
    for scale in (1.0, 3.0, 1000.0):
        S = int(rng.integers(3, 6))
        A = S + 1
        theta = rng.normal(size=(S, A)) * scale
        theta[0, 0] = 2.0 * scale
        exp = softmax(theta, axis=1)
        e = np.exp(theta - theta.max())

        def judge(ctx, outs, theta=theta, exp=exp, e=e):
            got = ctx.value(outs[0])
            unnormalised = None  # right up to a positive factor per row: the normalisation is missing
            if got is not None and got.shape == exp.shape and got.dtype.kind in "biuf":
                g = got.astype(float)
                if np.all(np.isfinite(g)) and np.all(g > 0) and close(g / g.sum(axis=1, keepdims=True), exp):
                    unnormalised = g
            ctx.compare(got, exp, "pi", [
                (softmax(theta, axis=0), ("normalised over the wrong axis: each row pi(.|s) must sum to 1 over "
                                         "the actions (axis 1).")),
                (e / e.sum(), "you normalised the whole table: each row (state) must sum to 1 on its own."),
                (unnormalised, "the rows do not sum to 1: divide each row by its sum."),
                (theta / theta.sum(axis=1, keepdims=True), "exponentiate the logits first."),
            ], nan_hint=pr.STABLE, generic_hint="Each row must sum to 1.")
        yield Case([(theta,)], judge, f"theta of shape ({S}, {A}), logits of size ~{scale:g}")


@checker("ex02_exact_gradient", 2, function="tabular_gradient", forbid=_EXACT_GRADIENT, uses=("softmax_probs",),
         summary="the exact tabular gradient matches on 3 random MDPs.")
def check_tabular_gradient(rng):
    """student_fn(mdp, theta (S, A)) -> exact grad U (S, A) for the tabular softmax:
    grad U[s, a] = visits(s) pi(a|s) A(s, a)."""
    for _ in range(3):
        mdp = pr.mdp(rng, gamma=float(rng.choice([0.8, 0.9])))
        pol = SoftmaxPolicy.tabular(mdp.S, mdp.A)
        theta = rng.normal(size=(mdp.S, mdp.A))
        ev = evaluate(mdp, pol.probs(theta))
        exp = policy_gradient(mdp, pol, theta)
        vis, pi = ev.visits[:, None], ev.pi
        yield compare_case((mdp, theta), exp, "grad U", [
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
        ], generic_hint="Compare with pg.finite_difference_gradient on a small MDP.", where=pr.describe(mdp))


@checker("ex02_exact_gradient", 3, function="gradient_from_score", forbid=_EXACT_GRADIENT,
         summary=("grad U = 1/(1-gamma) E_{d,pi}[score Q] matches the exact gradient on 3 random MDPs "
                  "(using A instead of Q gives the same: E_a[score] = 0)."))
def check_gradient_from_score(rng):
    """student_fn(mdp, policy (linear SoftmaxPolicy), theta (K,)) -> grad U (K,) =
    1/(1-gamma) E_{s~d, a~pi}[grad log pi(a|s) Q(s, a)]."""
    for _ in range(3):
        mdp = pr.mdp(rng, gamma=float(rng.choice([0.8, 0.9])))
        K = int(rng.integers(3, 6))
        pol = SoftmaxPolicy(rng.normal(size=(mdp.S, mdp.A, K)))
        theta = rng.normal(size=K)
        ev = evaluate(mdp, pol.probs(theta))
        g = mdp.gamma
        H = 1.0 / (1.0 - g)
        exp = policy_gradient(mdp, pol, theta)
        scores = pol.grad_log_prob(theta, *np.meshgrid(np.arange(mdp.S), np.arange(mdp.A), indexing="ij"))
        no_pi = H * np.einsum("s,sak,sa->k", ev.d, scores, ev.Q)
        yield compare_case((mdp, pol, theta), exp, "grad U", [
            ((1 - g) * exp, ("the 1/(1-gamma) factor is missing: with d^pi normalised, "
                            "grad U = 1/(1-gamma) E_{d,pi}[grad log pi Q].")),
            (H * exp, "you applied the 1/(1-gamma) factor twice (visit counts already carry it)."),
            (H * score_expectation(mdp, pol, theta, ev.Q, d=np.full(mdp.S, 1 / mdp.S)),
             "you weighted the states uniformly: the theorem weights them by d^pi."),
            (H * score_expectation(mdp, pol, theta, ev.Q, d=np.array(mdp.mu)),
             "you weighted the states by mu: the theorem weights them by d^pi (all time steps, discounted)."),
            (no_pi, "the expectation over a ~ pi(.|s) is missing: weight each action's score * Q by pi(a|s)."),
        ], shape_hints={(mdp.S, mdp.A, K): "Sum over (s, a): the gradient has theta's shape (K,)."},
            generic_hint="Hint: grad log pi(a|s) = phi(s, a) - sum_b pi(b|s) phi(s, b).",
            where=pr.describe(mdp) + f", K={K} features")
