# %% [markdown]
# # Exercise 8 — a policy-gradient training loop
#
# Lesson: [08 · Putting it together](../notebooks/08_putting_it_together.ipynb).
#
# **Learning goals.** After this exercise you can
# - write a sampled gradient estimate that is unbiased — and check it statistically against the exact gradient,
# - write the loop *sample → estimate → step* $\theta \leftarrow \theta + \alpha\,\hat g$,
# - reach a given fraction of the optimal value $U^*$ on a small MDP, reproducibly from a seed.
#
# You may use the package (`pg.sample_episodes`, `pg.discounted_returns`, `pg.reinforce_gradient`, ...) or your
# own functions from the earlier exercises. The checks measure your policy with the **exact** $U$ (`pg.objective`),
# so the verdict is never itself noisy.

# %% nbgrader={"grade": false, "grade_id": "ex08-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)


# %% [markdown]
# ## Part 1 — a sampled gradient estimate (2 points)
#
# Sample `n_episodes` episodes of at most `horizon` steps with the current policy $\pi_\theta$
# (`policy.probs(theta)`), drawing **all** randomness from `rng` (a `np.random.Generator`), and return an unbiased
# estimate of $\nabla U(\theta)$, shaped like `theta`. REINFORCE is fine; a state baseline is allowed.
#
# The check calls your function 200 times and tests that the mean estimate agrees with the exact
# $\nabla U$ (`pg.policy_gradient`) within 5 standard errors; that equally seeded generators give the same
# estimate; and that the estimates vary as much as an estimate from sampled episodes does.

# %% nbgrader={"grade": false, "grade_id": "ex08-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def estimate_gradient(mdp, policy, theta, n_episodes, horizon, rng):
    """An unbiased sampled estimate of grad U(theta), shaped like theta."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex08-p1", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_estimate_gradient(estimate_gradient)


# %% [markdown]
# ## Part 2 — the training loop (3 points)
#
# Starting from `theta0`, repeat `n_iters` times: estimate the gradient at the current $\theta$ with fresh
# episodes (Part 1), then step $\theta \leftarrow \theta + \text{lr}\cdot\hat g$ (gradient **ascent**: we maximise $U$).
# Create one `np.random.default_rng(seed)` before the loop: the same seed must give the same final $\theta$.
# Return the final $\theta$.
#
# The check trains on a **fresh** small random MDP (of the kind of `checks.training_problem()`, which you can use
# to try your loop) with the settings in `checks.TRAINING_SETTINGS`, and passes when the exact $U$ of your final
# policy closes at least 90% of the gap from $U(\theta_0)$ to the optimum $U^*$, the same seed gives the same
# $\theta$ and another seed another one. Both parts must learn from samples: while the checks run your functions,
# the exact machinery (`pg.policy_gradient`, `pg.evaluate`, `pg.objective`, `pg.optimal_values`, ...) is switched off.

# %% nbgrader={"grade": false, "grade_id": "ex08-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def train(mdp, policy, theta0, n_iters, lr, n_episodes, horizon, seed):
    """n_iters steps of sampled gradient ascent from theta0; returns the final theta."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex08-p2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
result = checks.check_training_loop(train)

# %% [markdown]
# ## Recap
# - An estimator is right when its *average* matches the exact gradient; one sample says little.
# - The loop is three lines: sample with the current policy, estimate, step uphill.
# - Judge learning by the exact $U$ of each iterate (the lesson's learning curves do the same).
