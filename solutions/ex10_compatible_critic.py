# %% [markdown]
# # Exercise 10 — the compatible critic and the natural gradient
#
# Lesson: [11 · Function approximation and estimator design](../notebooks/11_function_approximation.ipynb).
#
# **Learning goals.** After this exercise you can
# - fit a linear critic in the score features by *weighted* least squares,
# - turn its weights into the natural gradient, with the right horizon factor.
#
# Checks compare with the package's exact machinery on fresh random MDPs with linear-feature softmax policies.
# While they run your functions, `pg.compatible_critic`, `pg.natural_gradient` and `pg.fisher_matrix` are switched
# off; `pg.evaluate` and `policy.grad_log_prob` are yours to use.

# %% nbgrader={"grade": false, "grade_id": "ex10-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## Part 1 — the compatible critic (3 points)
#
# $$w = \arg\min_w \sum_s d(s)\sum_a \pi(a\mid s)\,\big(\psi(s,a)\cdot w - A(s,a)\big)^2,\qquad \psi = \nabla_\theta\log\pi(a\mid s).$$
# Solve it as a least-squares problem: one row per $(s, a)$, row $\sqrt{d(s)\pi(a\mid s)}\,\psi(s,a)$, target
# $\sqrt{d(s)\pi(a\mid s)}\,A(s,a)$, `np.linalg.lstsq`. `policy.grad_log_prob(theta, states, actions)` gives the scores
# (shape `(*states.shape, K)`); `pg.evaluate` gives `.d`, `.pi` and `.A`.

# %% nbgrader={"grade": false, "grade_id": "ex10-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def compatible_critic(mdp, policy, theta):
    """w (K,): the weighted least-squares fit of A in the score features."""
    ### BEGIN SOLUTION
    ev = pg.evaluate(mdp, policy.probs(theta))
    s, a = np.meshgrid(np.arange(mdp.S), np.arange(mdp.A), indexing="ij")
    psi = policy.grad_log_prob(theta, s, a).reshape(mdp.S * mdp.A, -1)
    sw = np.sqrt((ev.d[:, None] * ev.pi).ravel())
    return np.linalg.lstsq(psi * sw[:, None], ev.A.ravel() * sw, rcond=None)[0]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex10-p1", "locked": true, "points": 3, "schema_version": 3, "solution": false}
result = checks.check_compatible_critic(compatible_critic)
### BEGIN HIDDEN TESTS
assert checks.check_compatible_critic(compatible_critic, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2 — the natural gradient from the critic (1 point)
#
# The normal equations of Part 1 are $F w = \nabla U / H$ with $H = \sum_s \mathrm{visits}(s)$ the effective horizon
# (`pg.evaluate(...).effective_horizon`; $1/(1-\gamma)$ only without terminal states). So the natural gradient is
# $F^{+}\nabla U = H\,w$.

# %% nbgrader={"grade": false, "grade_id": "ex10-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def natural_gradient_from_critic(mdp, policy, theta):
    """F^+ grad U (K,) = effective horizon * compatible_critic(mdp, policy, theta)."""
    ### BEGIN SOLUTION
    H = pg.evaluate(mdp, policy.probs(theta)).effective_horizon
    return H * compatible_critic(mdp, policy, theta)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex10-p2", "locked": true, "points": 1, "schema_version": 3, "solution": false}
result = checks.check_natural_gradient_from_critic(natural_gradient_from_critic)
### BEGIN HIDDEN TESTS
assert checks.check_natural_gradient_from_critic(natural_gradient_from_critic, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Recap
# - The compatible critic is a *weighted* fit: the weights $d(s)\pi(a\mid s)$ are what make
#   $\sum_s\mathrm{visits}\sum_a\pi\psi(\psi\cdot w) = \nabla U$ exact.
# - Its weights, times the effective horizon, are the natural gradient — computed without forming or inverting $F$.
