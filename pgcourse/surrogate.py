"""Surrogate objectives: the performance difference lemma, TRPO's surrogate and bound, PPO's clipped objective.

Notation as in `evaluate`: visits^pi (S,) discounted expected visit counts, A^pi = Q^pi - V^pi, U = mu . V.

Performance difference lemma (Kakade & Langford 2002), exact for any two policies:
    U(pi_new) - U(pi) = sum_s visits^{pi_new}(s) sum_a pi_new(a|s) A^pi(s, a).
The surrogate replaces the new policy's visits by the old one's (Schulman et al. 2015, "L_pi"):
    L_old(theta) = U(theta_old) + sum_s visits^{old}(s) sum_a pi_theta(a|s) A^{old}(s, a),
equal to U at theta_old with the same gradient there (sum_a pi_old A^old = 0, and the visits' own derivative
is the term the policy gradient theorem shows to cancel). TRPO's bound (Schulman et al. 2015, Theorem 1, with
D_TV(p, q)^2 <= D_KL(p || q)):
    U(pi_new) >= L_old(pi_new) - C max_s D_KL(pi_old(.|s) || pi_new(.|s)),  C = 4 eps gamma / (1-gamma)^2,
    eps = max_{s,a} |A^old(s, a)|   (gamma < 1; the max runs over non-terminal states).
PPO's clipped surrogate (Schulman et al. 2017) as an exact expectation, r = pi_theta / pi_old:
    L^clip_old(theta) = U(theta_old)
                        + sum_s visits^{old}(s) sum_a pi_old(a|s) min(r A^old, clip(r, 1-eps, 1+eps) A^old),
computed without dividing by pi_old: pi_old clip(r, 1-eps, 1+eps) = clip(pi_theta, (1-eps) pi_old, (1+eps) pi_old).
"""
from __future__ import annotations

import numpy as np

from ._validate import as_mdp, as_policy_matrix, as_scalar, as_softmax_policy
from .exact import evaluate


def _two_policies(mdp, pi, pi_new):
    mdp = as_mdp(mdp)
    return mdp, as_policy_matrix(pi, mdp.S, mdp.A, "pi"), as_policy_matrix(pi_new, mdp.S, mdp.A, "pi_new")


def _old_new(mdp, policy, theta_old, theta):
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    try:
        theta_old = policy.check_theta(theta_old)
    except (TypeError, ValueError) as e:
        raise type(e)(str(e).replace("theta", "theta_old", 1)) from None
    theta = policy.check_theta(theta)
    return mdp, policy, theta_old, theta


def performance_difference(mdp, pi, pi_new) -> float:
    """sum_s visits^{pi_new}(s) sum_a pi_new(a|s) A^pi(s, a), which equals U(pi_new) - U(pi) (Kakade & Langford's
    lemma; = 1/(1-gamma) E_{s~d^{pi_new}, a~pi_new}[A^pi(s, a)] without terminal states).
    pi, pi_new: (S, A). Note the order: the *new* policy's visits and actions, the *old* policy's advantage."""
    mdp, pi, pi_new = _two_policies(mdp, pi, pi_new)
    A_old = evaluate(mdp, pi).A
    visits_new = evaluate(mdp, pi_new).visits
    return float(visits_new @ (pi_new * A_old).sum(axis=1))


def surrogate_objective(mdp, policy, theta_old, theta) -> float:
    """L_old(theta) = U(theta_old) + sum_s visits^{old}(s) sum_a pi_theta(a|s) A^{old}(s, a) (module docstring).
    L_old(theta_old) = U(theta_old) and grad L_old(theta_old) = grad U(theta_old)."""
    mdp, policy, theta_old, theta = _old_new(mdp, policy, theta_old, theta)
    ev = evaluate(mdp, policy.probs(theta_old))
    return float(ev.U + ev.visits @ (policy.probs(theta) * ev.A).sum(axis=1))


def surrogate_gradient(mdp, policy, theta_old, theta) -> np.ndarray:
    """grad_theta L_old(theta) = sum_s visits^{old}(s) sum_a pi_theta(a|s) psi_theta(s, a) A^{old}(s, a), theta's
    shape (psi = grad log pi_theta); at theta = theta_old it is `policy_gradient`."""
    mdp, policy, theta_old, theta = _old_new(mdp, policy, theta_old, theta)
    ev = evaluate(mdp, policy.probs(theta_old))
    pi = policy.probs(theta)
    W = ev.visits[:, None] * pi * (ev.A - (pi * ev.A).sum(axis=1, keepdims=True))
    return policy.contract(W)


def _clipped_terms(pi_old, pi, A, eps):
    """pi_old min(r A, clip(r, 1-eps, 1+eps) A) per (s, a), r = pi / pi_old, without dividing."""
    lo = (1.0 - eps) * pi_old if np.isfinite(eps) else np.full_like(pi_old, -np.inf)
    hi = (1.0 + eps) * pi_old if np.isfinite(eps) else np.full_like(pi_old, np.inf)
    return np.minimum(pi * A, np.clip(pi, lo, hi) * A)


def clipped_objective(mdp, policy, theta_old, theta, eps) -> float:
    """PPO's clipped surrogate as an exact expectation (module docstring), eps > 0 (np.inf allowed):
    U(theta_old) + sum_s visits^{old}(s) sum_a pi_old(a|s) min(r A^old, clip(r, 1-eps, 1+eps) A^old),
    r = pi_theta / pi_old. eps = inf gives `surrogate_objective`; so does any theta whose ratios all lie in
    [1-eps, 1+eps]; elsewhere it is <= the surrogate."""
    mdp, policy, theta_old, theta = _old_new(mdp, policy, theta_old, theta)
    eps = _as_eps(eps)
    ev = evaluate(mdp, policy.probs(theta_old))
    terms = _clipped_terms(ev.pi, policy.probs(theta), ev.A, eps)
    return float(ev.U + ev.visits @ terms.sum(axis=1))


def clipped_gradient(mdp, policy, theta_old, theta, eps) -> np.ndarray:
    """grad of `clipped_objective` in theta (theta's shape): the surrogate's gradient restricted to the (s, a)
    whose unclipped term is the active one (r A < clip(r) A, or r inside [1-eps, 1+eps]); 0 from the others.
    (At the kinks, where r = 1 +- eps exactly, this is one of the one-sided derivatives.)"""
    mdp, policy, theta_old, theta = _old_new(mdp, policy, theta_old, theta)
    eps = _as_eps(eps)
    ev = evaluate(mdp, policy.probs(theta_old))
    pi = policy.probs(theta)
    lo = (1.0 - eps) * ev.pi if np.isfinite(eps) else -np.inf
    hi = (1.0 + eps) * ev.pi if np.isfinite(eps) else np.inf
    active = ((ev.A > 0) & (pi < hi)) | ((ev.A < 0) & (pi > lo))
    c = ev.visits[:, None] * ev.A * active  # dL/dpi(a|s) where the unclipped term is active
    return policy.contract(pi * (c - (pi * c).sum(axis=1, keepdims=True)))


def _as_eps(eps) -> float:
    """eps > 0, finite or +inf (no clipping)."""
    if isinstance(eps, (float, np.floating)) and np.isposinf(eps):
        return float("inf")
    return as_scalar(eps, "eps", low=0.0, low_open=True)


def clipped_objective_max(mdp, pi_old, eps) -> tuple[float, np.ndarray]:
    """(max over all policies pi of the clipped objective, one maximiser pi (S, A)), tabular (direct) policies.

    Per state the clipped term sum_a g_a(pi_a) is concave and piecewise linear in pi: for A > 0 slope A up to
    pi = (1+eps) pi_old then flat; for A <= 0 flat up to (1-eps) pi_old then slope A. Filling the probability
    mass by slope, largest first, gives the maximum; when (1+eps) sum_{A>0} pi_old <= 1 it is
    U_old + eps sum_s visits^{old}(s) sum_a pi_old(a|s) |A^old(s, a)|: clipping caps the gain of moving away.
    The maximiser returned keeps the negative-advantage actions at (1-eps) pi_old where the mass allows and
    puts any remaining mass on the best action (flat there: ties do not change the value)."""
    mdp = as_mdp(mdp)
    pi_old = as_policy_matrix(pi_old, mdp.S, mdp.A, "pi_old")
    eps = _as_eps(eps)
    ev = evaluate(mdp, pi_old)
    A = ev.A
    cap = np.where(A > 0, (1.0 + eps) * pi_old, 0.0) if np.isfinite(eps) else np.where(A > 0, np.inf, 0.0)
    order = np.argsort(-A, axis=1, kind="stable")
    capo = np.take_along_axis(cap, order, axis=1)
    before = np.cumsum(capo, axis=1) - capo
    fill = np.clip(1.0 - before, 0.0, capo)            # mass given to the positive-slope segments
    pi = np.zeros_like(pi_old)
    np.put_along_axis(pi, order, fill, axis=1)
    floor = np.where(A <= 0, max(1.0 - eps, 0.0) * pi_old, 0.0) if np.isfinite(eps) else np.zeros_like(A)
    value_terms = np.where(A > 0, pi * A, floor * A)    # the flat part of A <= 0 actions is worth floor * A
    left = 1.0 - pi.sum(axis=1)
    room = floor.sum(axis=1)
    share = np.divide(left, room, out=np.zeros_like(left), where=room > 0)
    give = np.minimum(share, 1.0)[:, None] * floor
    pi += give
    rest = 1.0 - pi.sum(axis=1)
    best = A.argmax(axis=1)
    pi[np.arange(mdp.S), best] += np.maximum(rest, 0.0)
    return float(ev.U + ev.visits @ value_terms.sum(axis=1)), pi


# ---- KL divergences and the TRPO bound ----

def kl_divergence(pi, pi_new) -> np.ndarray:
    """Per-state D_KL(pi(.|s) || pi_new(.|s)) = sum_a pi log(pi / pi_new), (S,) (0 log 0 = 0; inf where pi_new
    is 0 and pi is not). pi, pi_new: (S, A)."""
    p = np.asarray(pi, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"pi must be (S, A), got shape {p.shape}")
    p = as_policy_matrix(p, *p.shape, "pi")
    q = as_policy_matrix(pi_new, *p.shape, "pi_new")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    return np.maximum(t.sum(axis=1), 0.0)


def max_kl(mdp, pi, pi_new) -> float:
    """max over non-terminal s of D_KL(pi(.|s) || pi_new(.|s)) (TRPO's D_KL^max)."""
    mdp, pi, pi_new = _two_policies(mdp, pi, pi_new)
    kl = kl_divergence(pi, pi_new)[~mdp.terminal]
    return float(kl.max()) if kl.size else 0.0


def mean_kl(mdp, pi, pi_new) -> float:
    """E_{s~d^pi}[D_KL(pi(.|s) || pi_new(.|s))]: the average KL TRPO constrains in practice (d of the old pi)."""
    mdp, pi, pi_new = _two_policies(mdp, pi, pi_new)
    return float(evaluate(mdp, pi).d @ kl_divergence(pi, pi_new))


def max_tv(mdp, pi, pi_new) -> float:
    """max over non-terminal s of D_TV(pi(.|s), pi_new(.|s)) = 1/2 sum_a |pi - pi_new|."""
    mdp, pi, pi_new = _two_policies(mdp, pi, pi_new)
    tv = 0.5 * np.abs(pi - pi_new).sum(axis=1)[~mdp.terminal]
    return float(tv.max()) if tv.size else 0.0


def trpo_constant(mdp, pi) -> float:
    """C = 4 eps gamma / (1-gamma)^2 with eps = max_{s,a} |A^pi(s, a)| (Schulman et al. 2015, Theorem 1).
    gamma = 1 gives inf (the bound says nothing for undiscounted problems)."""
    mdp = as_mdp(mdp)
    pi = as_policy_matrix(pi, mdp.S, mdp.A, "pi")
    ev = evaluate(mdp, pi)
    eps = float(np.abs(ev.A).max())
    if mdp.gamma == 1.0:
        return float("inf")
    return 4.0 * eps * mdp.gamma / (1.0 - mdp.gamma) ** 2


def trpo_lower_bound(mdp, policy, theta_old, theta, divergence: str = "kl") -> float:
    """L_old(theta) - C max_s D_KL(pi_old || pi_theta) (divergence="kl", Theorem 1 via D_TV^2 <= D_KL) or
    L_old(theta) - C max_s D_TV(pi_old, pi_theta)^2 (divergence="tv", the theorem as stated, tighter).
    Both are <= U(theta) for gamma < 1; -inf for gamma = 1."""
    mdp, policy, theta_old, theta = _old_new(mdp, policy, theta_old, theta)
    if divergence not in ("kl", "tv"):
        raise ValueError(f"divergence must be 'kl' or 'tv', got {divergence!r}")
    pi_old, pi = policy.probs(theta_old), policy.probs(theta)
    C = trpo_constant(mdp, pi_old)
    D = max_kl(mdp, pi_old, pi) if divergence == "kl" else max_tv(mdp, pi_old, pi) ** 2
    L = surrogate_objective(mdp, policy, theta_old, theta)
    return -np.inf if not np.isfinite(C) else float(L - C * D)


# ---- steps: a KL-constrained step and the large-step limit ----

def greedy_policy(mdp, pi) -> np.ndarray:
    """The maximiser of L_old over all policies: one-hot on argmax_a A^pi(s, a) (= argmax_a Q^pi), (S, A).
    One step of policy iteration; its U is >= U(pi) by the performance difference lemma."""
    mdp = as_mdp(mdp)
    pi = as_policy_matrix(pi, mdp.S, mdp.A, "pi")
    best = evaluate(mdp, pi).Q.argmax(axis=1)
    g = np.zeros_like(pi)
    g[np.arange(mdp.S), best] = 1.0
    return g


def kl_constrained_step(mdp, policy, theta_old, max_mean_kl: float, n_backtracks: int = 30):
    """TRPO's step, exact: direction the natural gradient at theta_old; step size sqrt(2 delta / (n . g))
    from the quadratic model mean KL ~ 1/2 step^2 n^T F n (F n = g, the gradient; delta = max_mean_kl); then
    halved until the exact mean KL under d^{old} is <= delta and the surrogate improves.
    Returns (theta_new, info) with info a dict: step, mean_kl, surrogate, U, n_backtracks."""
    from .exact import policy_gradient
    from .natural import natural_gradient
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    theta_old = policy.check_theta(theta_old)
    delta = as_scalar(max_mean_kl, "max_mean_kl", low=0.0, low_open=True)
    n = natural_gradient(mdp, policy, theta_old)
    g = policy_gradient(mdp, policy, theta_old)
    ng = float((n * g).sum())
    pi_old = policy.probs(theta_old)
    L0 = surrogate_objective(mdp, policy, theta_old, theta_old)
    if ng <= 0:
        return theta_old.copy(), dict(step=0.0, mean_kl=0.0, surrogate=L0, U=L0, n_backtracks=0)
    step = np.sqrt(2.0 * delta / ng)
    for k in range(int(n_backtracks) + 1):
        theta = theta_old + step * n
        kl = mean_kl(mdp, pi_old, policy.probs(theta))
        L = surrogate_objective(mdp, policy, theta_old, theta)
        if kl <= delta and L > L0:
            U = evaluate(mdp, policy.probs(theta)).U
            return theta, dict(step=float(step), mean_kl=kl, surrogate=L, U=U, n_backtracks=k)
        step *= 0.5
    return theta_old.copy(), dict(step=0.0, mean_kl=0.0, surrogate=L0, U=L0, n_backtracks=int(n_backtracks))


# ---- the sampled side: what TRPO and PPO estimate from the old policy's episodes ----

def surrogate_estimates(policy, theta_old, theta, episodes, advantages, gamma, eps=np.inf) -> np.ndarray:
    """Per-episode estimates (N,) of L_old(theta) - U(theta_old) (eps = inf) or of the clipped version, from
    episodes of the *old* policy (importance ratios r_t = pi_theta(a_t|s_t) / pi_old(a_t|s_t)):

        x_n = sum_t gamma^t mask_t min(r_t A_t, clip(r_t, 1-eps, 1+eps) A_t),   advantages A_t (N, T),

    e.g. G_t - V^{old}(s_t) from realised rewards (unbiased for A^old(s_t, a_t) on untruncated episodes), so
    E[x_n] = sum_s visits^{old}(s) sum_a pi_old min(...) (PPO's objective, up to its dropped gamma^t)."""
    from ._validate import as_episodes, as_float_array
    from .policies import SoftmaxPolicy
    if not isinstance(policy, SoftmaxPolicy):
        raise TypeError(f"policy must be a SoftmaxPolicy, got {type(policy).__name__}")
    try:
        theta_old = policy.check_theta(theta_old)
    except (TypeError, ValueError) as e:
        raise type(e)(str(e).replace("theta", "theta_old", 1)) from None
    theta = policy.check_theta(theta)
    ep = as_episodes(episodes)
    Adv = as_float_array(advantages, "advantages", shape=ep.states.shape)
    gamma = as_scalar(gamma, "gamma", low=0.0, high=1.0)
    eps = _as_eps(eps)
    s, a = ep.states, ep.actions
    r = policy.probs(theta)[s, a] / policy.probs(theta_old)[s, a]
    clipped = np.clip(r, 1.0 - eps, 1.0 + eps) if np.isfinite(eps) else r
    terms = np.minimum(r * Adv, clipped * Adv) * ep.mask
    disc = gamma ** np.arange(ep.states.shape[1])
    return terms @ disc


def step_to_kl(mdp, policy, theta_old, direction, max_mean_kl: float, n_bisect: int = 60) -> float:
    """The largest step t >= 0 with mean KL(pi_old || pi_{theta_old + t direction}) <= max_mean_kl (under
    d^{old}), by bisection on the exact KL (which grows along a ray from theta_old; inf if it never reaches
    the level). For comparing directions at equal KL."""
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    theta_old = policy.check_theta(theta_old)
    direction = policy.check_theta(direction)
    delta = as_scalar(max_mean_kl, "max_mean_kl", low=0.0, low_open=True)
    pi_old = policy.probs(theta_old)

    def kl(t):
        return mean_kl(mdp, pi_old, policy.probs(theta_old + t * direction))

    hi = 1.0
    while kl(hi) <= delta:
        hi *= 2.0
        if hi > 1e12:
            return float("inf")
    lo = 0.0
    for _ in range(int(n_bisect)):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if kl(mid) <= delta else (lo, mid)
    return lo


def line_profile(mdp, policy, theta_old, direction, steps, eps_values=()) -> dict:
    """Everything notebook 09 draws along the ray theta(t) = theta_old + t direction, t in `steps` (n,):
    dict of (n,) arrays U, L (surrogate), bound (L - C max KL), bound_tv (L - C max TV^2), max_kl, mean_kl,
    ratio_min, ratio_max (of pi_theta / pi_old over non-terminal (s, a)), and clipped {eps: (n,)} for each eps.
    Also C (the TRPO constant) and U_old."""
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    theta_old = policy.check_theta(theta_old)
    direction = policy.check_theta(direction)
    steps = np.asarray(steps, dtype=float)
    ev = evaluate(mdp, policy.probs(theta_old))
    C = trpo_constant(mdp, ev.pi)
    live = ~mdp.terminal
    out = {k: np.empty(steps.size) for k in ("U", "L", "bound", "bound_tv", "max_kl", "mean_kl", "ratio_min",
                                              "ratio_max")}
    eps_values = [_as_eps(e) for e in eps_values]
    clipped = {e: np.empty(steps.size) for e in eps_values}
    for i, t in enumerate(steps):
        pi = policy.probs(theta_old + t * direction)
        out["U"][i] = evaluate(mdp, pi).U
        out["L"][i] = ev.U + ev.visits @ (pi * ev.A).sum(axis=1)
        kl = kl_divergence(ev.pi, pi)
        tv = 0.5 * np.abs(pi - ev.pi).sum(axis=1)
        out["max_kl"][i] = kl[live].max()
        out["mean_kl"][i] = ev.d @ kl
        out["bound"][i] = out["L"][i] - C * out["max_kl"][i]
        out["bound_tv"][i] = out["L"][i] - C * tv[live].max() ** 2
        r = (pi / ev.pi)[live]
        out["ratio_min"][i], out["ratio_max"][i] = r.min(), r.max()
        for e in eps_values:
            clipped[e][i] = ev.U + ev.visits @ _clipped_terms(ev.pi, pi, ev.A, e).sum(axis=1)
    out.update(clipped=clipped, C=C, U_old=ev.U, steps=steps)
    return out
