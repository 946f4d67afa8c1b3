"""ex03_score_functions: the tabular, linear-feature and Gaussian score functions (Part I)."""
from __future__ import annotations

import numpy as np

from ..policies import GaussianPolicy, SoftmaxPolicy
from . import _problems as pr
from ._core import checker, compare_case

_SOFTMAX_SCORE = ("SoftmaxPolicy.grad_log_prob", "SoftmaxPolicy.score_sum")


@checker("ex03_score_functions", 1, function="tabular_score", forbid=_SOFTMAX_SCORE,
         summary="the tabular softmax score matches for 4 random (theta, s, a).")
def check_tabular_score(rng):
    """student_fn(theta (S, A), s, a) -> grad_theta log pi(a|s), shape (S, A): row s is e_a - pi(.|s)."""
    for _ in range(4):
        S = int(rng.integers(3, 6))
        A = S + 1
        theta = rng.normal(size=(S, A)) * 2
        s, a = int(rng.integers(S)), int(rng.integers(A))
        pol = SoftmaxPolicy.tabular(S, A)
        pi = pol.probs(theta)
        exp = pol.grad_log_prob(theta, s, a)
        onehot = np.zeros((S, A))
        onehot[s, a] = 1.0
        uni = onehot.copy()
        uni[s] -= 1.0 / A
        yield compare_case((theta, s, a), exp, "score", [
            (onehot, ("the policy-average term is missing: d/dtheta log-sum-exp subtracts pi(.|s) in row s "
                     "(the score is the taken action's indicator minus the policy average).")),
            (onehot - pi, "only row s depends on log pi(a|s): the other rows of the score must be 0."),
            (uni, "subtract pi(.|s), not the uniform average 1/A."),
            (onehot * (1 - pi), "not quite: every action b in row s gets -pi(b|s), and the taken one 1 - pi(a|s)."),
        ], shape_hints={(A,): "The score has theta's shape (S, A): put the row at index s, zeros elsewhere."},
            nan_hint=pr.STABLE, where=f"theta of shape ({S}, {A}), s={s}, a={a}")


@checker("ex03_score_functions", 2, function="linear_score", forbid=_SOFTMAX_SCORE,
         summary="the linear softmax score matches, also for logits of size ~1000.")
def check_linear_score(rng):
    """student_fn(features (S, A, K), theta (K,), s, a) -> phi(s, a) - sum_b pi(b|s) phi(s, b), shape (K,);
    stable for logits of size 1e3."""
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
        exp = pol.grad_log_prob(theta, s, a)
        yield compare_case((phi, theta, s, a), exp, "score", [
            (phi[s, a], "the policy-average features are missing: subtract sum_b pi(b|s) phi(s, b)."),
            (phi[s, a] - phi[s].mean(axis=0), ("the average of the features must be weighted by pi(b|s), "
                                              "not uniform.")),
        ], shape_hints={(S, A, K): "Return the score of the one pair (s, a): shape (K,)."},
            nan_hint="log-softmax unstable for large logits: " + pr.STABLE.split(": ", 1)[1],
            where=f"features ({S}, {A}, {K}), s={s}, a={a}, logits up to {h:.0f}")


@checker("ex03_score_functions", 3, function="gaussian_score", forbid=("GaussianPolicy.grad_log_prob",),
         summary="the Gaussian score matches for 3 values of sigma.")
def check_gaussian_score(rng):
    """student_fn(theta (K,), phi (N, K), actions (N,), sigma) -> (N, K): (a - phi . theta) / sigma^2 * phi."""
    for sigma in (0.5, 2.0, 0.3):
        N, K = int(rng.integers(5, 10)), int(rng.integers(2, 4))
        theta = rng.normal(size=K)
        phi = rng.normal(size=(N, K))
        pol = GaussianPolicy(sigma, K)
        a = pol.sample(theta, phi, rng)
        exp = pol.grad_log_prob(theta, phi, a)
        m = phi @ theta
        yield compare_case((theta, phi, a, sigma), exp, "score", [
            (((a - m) / sigma)[:, None] * phi, "divide by sigma^2 (the variance), not by sigma."),
            (((a - m) * sigma**2)[:, None] * phi, "divide by sigma^2, do not multiply."),
        ], shape_hints={(N,): "phi(s) is missing: by the chain rule through mu(s) = phi(s) . theta the score "
                              "has one entry per feature, shape (N, K).",
                        (K,): "Return one score per sample, shape (N, K) (do not average over samples)."},
            generic_hint="d/dmu log N(a; mu, sigma^2) = (a - mu)/sigma^2.",
            where=f"N={N} states, K={K} features, sigma={sigma}")
