"""ex08_training_loop: a sampled gradient estimator and a training loop (Part II).

Both parts must learn from samples: the exact machinery (pg.policy_gradient, pg.evaluate, pg.objective,
pg.optimal_values, ...) is unavailable while the student's function runs; the estimator must be a function of
the episodes it draws from `rng` (the same generator state gives the same estimate) with the spread of a sampled
estimate; the training loop runs inside the check on a fresh random MDP and must give different runs for
different seeds.
"""
from __future__ import annotations

import numpy as np

from ..estimators import reinforce_gradient
from ..exact import evaluate, objective, optimal_values, policy_gradient
from ..mdp import random_mdp
from ..policies import SoftmaxPolicy
from ..sampling import sample_episodes
from . import _problems as pr
from ._core import Case, Rng, checker

EXACT_MACHINERY = ("policy_gradient", "evaluate", "objective", "optimal_values", "score_expectation",
                   "finite_difference_gradient", "natural_gradient", "fisher_matrix", "expected_gradient_estimate",
                   "alive_distributions", "train")
TRAINING_SETTINGS = {"n_iters": 40, "lr": 1.0, "n_episodes": 20, "horizon": 60}
TRAINING_TARGET = 0.9
N_CALLS = 200
EXACT_WHY = ("this part must learn from sampled episodes, so the exact machinery (pg.policy_gradient, "
             "pg.evaluate, pg.objective, pg.optimal_values, ...) is switched off while your function runs.")
MIN_SPREAD = 0.05  # the estimates' total variance must be at least this fraction of plain REINFORCE's


def ref_estimate_gradient(mdp, policy, theta, n_episodes, horizon, rng, _sample=sample_episodes,
                          _reinforce=reinforce_gradient):
    """REINFORCE from n_episodes fresh episodes drawn from rng (reference)."""
    ep = _sample(mdp, policy.probs(theta), n_episodes, horizon, rng)
    return _reinforce(policy, theta, ep, mdp.gamma)


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


@checker("ex08_training_loop", 1, function="estimate_gradient", forbid=EXACT_MACHINERY, forbid_why=EXACT_WHY,
         reference=ref_estimate_gradient, course_part=2,
         summary=f"over {N_CALLS} calls the mean estimate agrees with the exact grad U within 5 standard errors, "
                 "and it is computed from the sampled episodes.")
def check_estimate_gradient(rng):
    """student_fn(mdp, policy, theta, n_episodes, horizon, rng) -> an unbiased sampled estimate of grad U
    (theta's shape), drawing its episodes from rng. Checked statistically: the mean of 200 estimates against
    the exact gradient, within 5 standard errors; the same generator state must give the same estimate, and the
    estimates must vary as much as an estimate from sampled episodes does."""
    mdp, pol, theta = _estimator_mdp(rng)
    N, T = 50, 100
    exp = policy_gradient(mdp, pol, theta)
    pi = pol.probs(theta)
    ev = evaluate(mdp, pi)
    undisc = pol.contract(evaluate(mdp.with_gamma(1.0), pi).visits[:, None] * pi * ev.A)
    ref_rng = np.random.default_rng(rng.integers(2**63))
    ref = np.stack([ref_estimate_gradient(mdp, pol, theta, N, T, ref_rng) for _ in range(30)])
    ref_var = float(ref.var(axis=0, ddof=1).sum())
    shared = Rng(int(rng.integers(2**63)), "shared")
    where = f"{pr.describe(mdp)}, tabular softmax, {N_CALLS} calls with N={N} episodes, horizon={T}"

    def judge_mean(ctx, outs):
        first = ctx.value(outs[0])
        ctx.compare(first, first if np.shape(first) == exp.shape else exp, "gradient estimate",
                    shape_hints={(N, T): "Return one gradient estimate with theta's shape."},
                    nan_hint="Check for a division by zero.")
        X = []
        for o in outs:
            x = ctx.array(ctx.value(o), "gradient estimate")
            if x.shape != exp.shape:
                ctx.fail(f"some estimates have the wrong shape {x.shape}: expected theta's shape {exp.shape}.")
            X.append(x)
        X = np.stack(X)
        if not np.all(np.isfinite(X)):
            ctx.fail("some estimates contain NaN or inf.")
        if all(np.array_equal(X[i], X[0]) for i in range(1, 4)) and np.abs(X[0]).max() > 0:
            ctx.fail("every call returned the same estimate: draw the episodes from the `rng` passed in (do "
                     "not create a new generator with a fixed seed inside the function).")
        mean = X.mean(axis=0)
        se = X.std(axis=0, ddof=1) / np.sqrt(len(X))

        def consistent(target):
            z = np.abs(mean - target) / np.maximum(se, 1e-12)
            return bool(np.all(np.where(se > 0, z < 5.0, np.abs(mean - target) < 1e-9)))

        if not consistent(exp):
            for target, msg in ((-exp, "sign flipped: on average your estimate points opposite to grad U."),
                                (undisc, ("gamma^t missing: on average your estimate matches the undiscounted-time "
                                         "weighting; the discounted objective weights step t by gamma^t.")),
                                (N * exp, "you summed over episodes: take the mean (divide by N).")):
                if consistent(target):
                    ctx.fail(msg)
            i = np.unravel_index(int(np.argmax(np.abs(mean - exp) / np.maximum(se, 1e-12))), exp.shape)
            ctx.fail(f"biased: averaged over {len(X)} calls, entry {list(map(int, i))} is {mean[i]:.4f} +- "
                     f"{se[i]:.4f} (standard error), but the exact gradient there is {exp[i]:.4f}. Check it with "
                     f"check_reinforce_gradient's ingredients: gamma^t, G_t, the mean over episodes.")
        var = float(X.var(axis=0, ddof=1).sum())
        if var < MIN_SPREAD * ref_var:
            ratio = ref_var / max(var, 1e-300)
            ctx.fail(f"your estimates hardly vary (total variance {var:.3g}; an estimate from {N} sampled episodes "
                     f"has about {ref_var:.3g}, a baseline lowers that a few times, not {ratio:.0f} times): "
                     "compute the estimate from the episodes you sample, not from the exact gradient.")

    yield Case([(mdp, pol, theta, N, T, shared)] * N_CALLS, judge_mean, where)

    seed = int(rng.integers(2**63))
    a, b = Rng(seed, "a"), Rng(seed, "b")

    def judge_repeat(ctx, outs):
        x, y = (ctx.array(ctx.value(o), "gradient estimate") for o in outs)
        if x.shape != y.shape or not np.array_equal(x, y):
            ctx.fail("two calls with generators in the same state gave different estimates: draw all the "
                     "randomness from `rng` (the estimate must be a function of the episodes it samples).")
    yield Case([(mdp, pol, theta, N, T, a), (mdp, pol, theta, N, T, b)], judge_repeat,
               f"{pr.describe(mdp)}, two calls with equally seeded generators")


def training_problem():
    """A small MDP and policy to try a training loop on: (mdp, policy, theta0, U0, U_star). The check itself
    trains on a fresh random MDP of the same kind (`training_case`)."""
    mdp = random_mdp(5, 3, 0.9, np.random.default_rng(8), n_terminal=1)
    return _problem(mdp)


def _problem(mdp):
    pol = SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta0 = pol.zeros()
    U0 = objective(mdp, pol, theta0)
    V_star, _ = optimal_values(mdp)
    return mdp, pol, theta0, U0, float(mdp.mu @ V_star)


def _ref_train(mdp, pol, theta0, n_iters, lr, n_episodes, horizon, seed):
    rng = np.random.default_rng(seed)
    theta = np.array(theta0, dtype=float)
    for _ in range(n_iters):
        theta = theta + lr * ref_estimate_gradient(mdp, pol, theta, n_episodes, horizon, rng)
    return theta


def training_case(rng):
    """(mdp, policy, theta0, U0, U_star): a fresh random MDP (5 states, 3 actions, gamma 0.9, 1 terminal state)
    with a clear gap U* - U(theta0) >= 2.5 on which three runs of the reference REINFORCE loop with
    TRAINING_SETTINGS close >= 97% of the gap."""
    kw = TRAINING_SETTINGS
    for _ in range(40):
        mdp = random_mdp(5, 3, 0.9, rng, n_terminal=1)
        _, pol, theta0, U0, U_star = _problem(mdp)
        if U_star - U0 < 2.5:
            continue
        for s in rng.integers(2**31, size=3):
            th = _ref_train(mdp, pol, theta0, kw["n_iters"], kw["lr"], kw["n_episodes"], kw["horizon"], int(s))
            if (objective(mdp, pol, th) - U0) / (U_star - U0) < 0.97:
                break
        else:
            return mdp, pol, theta0, U0, U_star
    return training_problem()


@checker("ex08_training_loop", 2, function="train", forbid=EXACT_MACHINERY, forbid_why=EXACT_WHY,
         uses=("estimate_gradient",), course_part=2,
         summary=(f"on a fresh random MDP the exact U of your final policy closes at least "
                  f"{100 * TRAINING_TARGET:.0f}% of the gap from U(theta0) to U*; the same seed gives the same theta, "
                  "another seed another one."))
def check_training_loop(rng):
    """student_fn(mdp, policy, theta0, n_iters, lr, n_episodes, horizon, seed) -> final theta, by n_iters steps of
    sampled gradient ascent. Run on a fresh random MDP (`training_case`); passes when the exact U of the final
    policy (the better of two seeds) closes TRAINING_TARGET of the gap from U(theta0) to U*, the same seed gives
    the same theta and another seed another theta (it learns from samples)."""
    mdp, pol, theta0, U0, U_star = training_case(rng)
    kw = TRAINING_SETTINGS
    s1, s2 = (int(x) for x in rng.integers(2**31, size=2))
    args = (mdp, pol, theta0, kw["n_iters"], kw["lr"], kw["n_episodes"], kw["horizon"])

    def judge(ctx, outs):
        theta = ctx.array(ctx.value(outs[0]), "theta")
        ctx.compare(theta, theta if theta.shape == theta0.shape else theta0, "theta",
                    nan_hint="theta diverged: is the learning rate applied once per step?")
        if np.allclose(theta, theta0):
            ctx.fail("theta did not change: update theta inside the loop and return the final one.")
        U = objective(mdp, pol, theta)
        frac = (U - U0) / (U_star - U0)
        if U < U0 - 1e-9:
            ctx.fail(f"sign flipped: U went down from {U0:.4f} to {U:.4f}. Gradient ascent adds lr * g.")
        again = ctx.array(ctx.value(outs[1]), "theta")
        if again.shape != theta.shape or not np.allclose(again, theta):
            ctx.fail("two runs with the same seed gave different results: create one "
                     "np.random.default_rng(seed) before the loop and draw everything from it.")
        other = ctx.array(ctx.value(outs[2]), "theta")
        if other.shape == theta.shape and np.allclose(other, theta):
            ctx.fail("two different seeds gave the same theta: the loop must learn from episodes sampled with "
                     "the generator made from `seed`, not from exact values.")
        if other.shape == theta.shape and np.all(np.isfinite(other)):  # the better of the two seeds counts
            U_other = objective(mdp, pol, other)
            if U_other > U:
                U, frac = U_other, (U_other - U0) / (U_star - U0)
        if frac < TRAINING_TARGET:
            ctx.fail(f"U rose from {U0:.4f} to {U:.4f}, {100 * frac:.0f}% of the way to U* = {U_star:.4f}; "
                     f"the target is {100 * TRAINING_TARGET:.0f}%. Check the estimator (check_estimate_gradient) "
                     f"and that every iteration samples with the current policy.")

    where = (f"a fresh {pr.describe(mdp)}, n_iters={kw['n_iters']}, lr={kw['lr']}, n_episodes={kw['n_episodes']}, "
             f"horizon={kw['horizon']}, seeds {s1} and {s2}")
    yield Case([args + (s1,), args + (s1,), args + (s2,)], judge, where)
