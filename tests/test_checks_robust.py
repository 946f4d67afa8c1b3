"""The checkers' verdicts do not depend on luck: over a fixed set of seeds (the checks draw a fresh one in the
notebooks) every reference solution passes and a typical wrong answer fails.

Most checkers compare with exact answers on random problems (the seed only picks the problem); the two
statistical checkers of ex08 are run on more seeds, with a correct answer that draws its randomness differently
from the reference (so that the screen at the student's own seeds does not make it pass by construction) and a
learning-deficient or biased answer that the statistic itself must reject.
"""
from __future__ import annotations

import numpy as np
import pytest

from pgcourse import checks
from test_checks import CHECKER, MISTAKES, PARTS, _pg, ref, solution

SEEDS = [int(s) for s in np.random.default_rng(20261202).integers(2**31, size=50)]
STATISTICAL = ("estimate_gradient", "train")


def _first_mistake(name):
    return next((wrong, needle) for n, wrong, needle in MISTAKES if n == name and needle is not None)


@pytest.mark.parametrize("exercise,name", [p for p in PARTS if p[1] not in STATISTICAL])
def test_exact_checkers_pass_the_solution_and_fail_a_mistake_on_every_seed(exercise, name):
    right = solution(exercise)[name]
    wrong, needle = _first_mistake(name)
    for seed in SEEDS[:20]:
        r = CHECKER[name](right, seed=seed, quiet=True)
        assert r.passed, (seed, r.message)
        r = CHECKER[name](wrong, seed=seed, quiet=True)
        assert not r.passed and needle in r.message, (seed, r.message)


# ---------------------------------------------------------------------------------------------------
# ex08: the two statistical checkers
# ---------------------------------------------------------------------------------------------------

def _estimate_other_stream(mdp, policy, theta, n_episodes, horizon, rng):
    """A correct estimator that uses its generator differently from the reference (a child generator seeded from it)."""
    ep = _pg.sample_episodes(mdp, policy.probs(theta), n_episodes, horizon, np.random.default_rng(rng.integers(2**63)))
    return _pg.reinforce_gradient(policy, theta, ep, mdp.gamma)


def _train_other_stream(mdp, policy, theta0, n_iters, lr, n_episodes, horizon, seed):
    """A correct loop whose random stream differs from the reference's at the same seed."""
    rng = np.random.default_rng([seed, 7])
    theta = np.array(theta0, dtype=float)
    for _ in range(n_iters):
        theta = theta + lr * _estimate_other_stream(mdp, policy, theta, n_episodes, horizon, rng)
    return theta


def _train_one_step(mdp, policy, theta0, n_iters, lr, n_episodes, horizon, seed):
    """`return` inside the loop: one step of gradient ascent, then stop (closes about a quarter of the gap)."""
    rng = np.random.default_rng(seed)
    theta = np.array(theta0, dtype=float)
    for _ in range(n_iters):
        return theta + lr * ref("estimate_gradient")(mdp, policy, theta, n_episodes, horizon, rng)
    return theta


@pytest.mark.slow
def test_estimate_gradient_verdict_is_not_luck():
    """The 5-standard-error test: correct estimators pass, the 'gamma^t missing' one fails (the case is screened
    so that it lies >= MIN_SEPARATION of its standard errors away)."""
    wrong = next(w for n, w, needle in MISTAKES if n == "estimate_gradient" and needle == "gamma^t missing")
    for seed in SEEDS[:4]:
        for right in (ref("estimate_gradient"), _estimate_other_stream):
            r = checks.check_estimate_gradient(right, seed=seed, quiet=True)
            assert r.passed, (seed, r.message)
        r = checks.check_estimate_gradient(wrong, seed=seed, quiet=True)
        assert not r.passed and "gamma^t missing" in r.message, (seed, r.message)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS[:20])
def test_training_loop_verdict_is_not_luck(seed):
    """The reference loop passes (the case is screened with it at the student's seeds); a correct loop with
    another random stream passes (the target sits below the measured spread of correct runs); a loop that
    stops after one step fails on the target (every fourth seed: it is far below it)."""
    r = checks.check_training_loop(ref("train"), seed=seed, quiet=True)
    assert r.passed, r.message
    r = checks.check_training_loop(_train_other_stream, seed=seed, quiet=True)
    assert r.passed, r.message
    if SEEDS.index(seed) % 4 == 0:
        r = checks.check_training_loop(_train_one_step, seed=seed, quiet=True)
        assert not r.passed and "the target is" in r.message and "the reference loop closes" in r.message, \
            r.message


def test_training_case_is_screened_at_the_given_seeds():
    """training_case(rng, seeds): the reference loop at exactly those seeds closes >= TRAINING_SCREEN of the gap."""
    from pgcourse.checks.ex08_training_loop import _gap_closed, _ref_train
    kw = checks.TRAINING_SETTINGS
    seeds = SEEDS[:2]
    mdp, pol, theta0, U0, U_star = checks.training_case(np.random.default_rng(5), seeds)
    assert U_star - U0 >= 2.5
    for s in seeds:
        th = _ref_train(mdp, pol, theta0, kw["n_iters"], kw["lr"], kw["n_episodes"], kw["horizon"], s)
        assert _gap_closed(mdp, pol, th, U0, U_star) >= checks.TRAINING_SCREEN > checks.TRAINING_TARGET


def test_a_near_miss_by_a_factor_close_to_one_gets_the_near_hint():
    """At this seed the truncated series is 0.9999 times the visits everywhere: the near hint names it (the
    'off by a constant factor' message used to win)."""
    from test_checks import _series_visits
    r = checks.check_discounted_visits(_series_visits, seed=307815121, quiet=True)
    assert not r.passed and "truncated series" in r.message and "constant factor" not in r.message, r.message
