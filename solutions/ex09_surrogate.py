# %% [markdown]
# # Exercise 9 — the performance difference lemma and the surrogate objective
#
# Lesson: [09 · Surrogate objectives and trust regions](../notebooks/09_surrogates_trust_regions.ipynb).
#
# **Learning goals.** After this exercise you can
# - compute $U(\pi') - U(\pi)$ exactly from the old policy's advantage and the new policy's visit counts,
# - build the surrogate $L_{\text{old}}(\theta)$ that TRPO and PPO maximise,
# - differentiate it, and see that its gradient at $\theta_{\text{old}}$ is the policy gradient.
#
# Checks compare with the exact machinery (`pg.evaluate`) on fresh random MDPs. While they run your functions,
# the package's own `pg.performance_difference`, `pg.surrogate_objective` and `pg.surrogate_gradient` are switched
# off (writing them is the exercise); `pg.evaluate` and `pg.softmax` are yours to use.

# %% nbgrader={"grade": false, "grade_id": "ex09-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## Part 1 — the performance difference lemma (2 points)
#
# $$U(\pi') - U(\pi) = \sum_s \mathrm{visits}^{\pi'}(s)\sum_a \pi'(a\mid s)\,A^{\pi}(s,a).$$
# Input: a `pg.TabularMDP`, the old policy `pi` and the new policy `pi_new`, both (S, A). Output: one number.
# `pg.evaluate(mdp, pi)` returns `.visits` and `.A`. Careful which policy each factor belongs to.

# %% nbgrader={"grade": false, "grade_id": "ex09-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def performance_difference(mdp, pi, pi_new):
    """U(pi_new) - U(pi) by the performance difference lemma."""
    ### BEGIN SOLUTION
    A_old = pg.evaluate(mdp, pi).A
    visits_new = pg.evaluate(mdp, pi_new).visits
    return float(visits_new @ (pi_new * A_old).sum(axis=1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex09-p1", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_performance_difference(performance_difference)
### BEGIN HIDDEN TESTS
assert checks.check_performance_difference(performance_difference, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2 — the surrogate $L_{\text{old}}$ (2 points)
#
# Replace the new policy's visits by the old one's:
# $$L_{\text{old}}(\theta) = U(\theta_{\text{old}}) + \sum_s \mathrm{visits}^{\text{old}}(s)\sum_a \pi_\theta(a\mid s)\,A^{\text{old}}(s,a).$$
# Input: the MDP, `theta_old` and `theta`, both (S, A), for the tabular softmax `pg.softmax(theta, axis=1)`.

# %% nbgrader={"grade": false, "grade_id": "ex09-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def surrogate_objective(mdp, theta_old, theta):
    """L_old(theta) for the tabular softmax."""
    ### BEGIN SOLUTION
    ev = pg.evaluate(mdp, pg.softmax(theta_old, axis=1))
    pi = pg.softmax(theta, axis=1)
    return float(ev.U + ev.visits @ (pi * ev.A).sum(axis=1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex09-p2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_surrogate_objective(surrogate_objective)
### BEGIN HIDDEN TESTS
assert checks.check_surrogate_objective(surrogate_objective, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3 — its gradient (2 points)
#
# Only $\pi_\theta$ depends on $\theta$. For the tabular softmax $\partial\pi(b\mid s)/\partial\theta[s,a] = \pi(b\mid s)(\mathbb 1[a=b]-\pi(a\mid s))$, so
# $$\frac{\partial L_{\text{old}}}{\partial\theta[s,a]} = \mathrm{visits}^{\text{old}}(s)\,\pi_\theta(a\mid s)\Big(A^{\text{old}}(s,a) - \sum_b\pi_\theta(b\mid s)A^{\text{old}}(s,b)\Big).$$
# At $\theta = \theta_{\text{old}}$ the sum is 0 and this is the policy gradient.

# %% nbgrader={"grade": false, "grade_id": "ex09-p3-sol", "locked": false, "schema_version": 3, "solution": true}
def surrogate_gradient(mdp, theta_old, theta):
    """grad L_old(theta) (S, A) for the tabular softmax."""
    ### BEGIN SOLUTION
    ev = pg.evaluate(mdp, pg.softmax(theta_old, axis=1))
    pi = pg.softmax(theta, axis=1)
    return ev.visits[:, None] * pi * (ev.A - (pi * ev.A).sum(axis=1, keepdims=True))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex09-p3", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_surrogate_gradient(surrogate_gradient)
### BEGIN HIDDEN TESTS
assert checks.check_surrogate_gradient(surrogate_gradient, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Recap
# - The lemma is exact for any pair: new visits, new actions, **old** advantage.
# - The surrogate keeps the old visits; it has the value and the gradient of $U$ at $\theta_{\text{old}}$.
# - Its gradient needs the policy-average term, which vanishes only at $\theta_{\text{old}}$.
