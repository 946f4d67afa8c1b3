# %% [markdown]
# # Exercise 3 — score functions: softmax and Gaussian
#
# Lesson: [04 · Parameterisations](../notebooks/04_parameterisations.ipynb).
#
# **Learning goals.** After this exercise you can write $\nabla_\theta \log\pi_\theta(a\mid s)$ for
# - the tabular softmax (one logit per state-action),
# - the linear-feature softmax, stably for large logits,
# - the Gaussian policy $a\sim\mathcal N(\phi(s)\cdot\theta,\ \sigma^2)$, vectorised over many samples.
#
# Checks compare with `pg.SoftmaxPolicy.grad_log_prob` and `pg.GaussianPolicy.grad_log_prob` on random inputs.

# %% nbgrader={"grade": false, "grade_id": "ex03-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## Part 1 — tabular softmax score (1 point)
#
# With $\pi(a\mid s) = e^{\theta[s,a]}/\sum_b e^{\theta[s,b]}$, the score is an array shaped like $\theta$ (S, A):
# $$\frac{\partial \log\pi(a\mid s)}{\partial\theta[s', b]} = \mathbb 1[s'=s]\,\big(\mathbb 1[b=a] - \pi(b\mid s)\big).$$
# Only row $s$ is nonzero: the taken action's indicator minus the policy's probabilities.
# Input: `theta` (S, A), integers `s`, `a`. Output: (S, A). (`pg.softmax(x, axis=...)` is a stable softmax.)

# %% nbgrader={"grade": false, "grade_id": "ex03-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def tabular_score(theta, s, a):
    """grad_theta log pi(a|s) for the tabular softmax, shape (S, A)."""
    ### BEGIN SOLUTION
    score = np.zeros_like(theta, dtype=float)
    score[s] = -pg.softmax(theta[s])
    score[s, a] += 1.0
    return score
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex03-p1", "locked": true, "points": 1, "schema_version": 3, "solution": false}
result = checks.check_tabular_score(tabular_score)
### BEGIN HIDDEN TESTS
assert checks.check_tabular_score(tabular_score, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2 — linear-feature softmax score (2 points)
#
# Logits $h(s,a) = \phi(s,a)\cdot\theta$ with features $\phi$ of shape (S, A, K):
# $$\nabla_\theta\log\pi(a\mid s) = \phi(s,a) - \sum_b \pi(b\mid s)\,\phi(s,b),$$
# "the taken action's features minus the policy-average features". Output shape (K,).
# Edge case: $\theta$ large enough that logits reach ~1000 — no `nan`.

# %% nbgrader={"grade": false, "grade_id": "ex03-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def linear_score(features, theta, s, a):
    """grad_theta log pi(a|s) for logits features @ theta, shape (K,)."""
    ### BEGIN SOLUTION
    phi_s = features[s]             # (A, K)
    pi_s = pg.softmax(phi_s @ theta)  # (A,), stable
    return phi_s[a] - pi_s @ phi_s
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex03-p2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_linear_score(linear_score)
### BEGIN HIDDEN TESTS
assert checks.check_linear_score(linear_score, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3 — Gaussian score, vectorised (2 points)
#
# For continuous actions $a \sim \mathcal N(\mu_\theta(s), \sigma^2)$ with $\mu_\theta(s) = \phi(s)\cdot\theta$ ($\sigma$ fixed):
# $$\nabla_\theta \log\pi(a\mid s) = \frac{a - \mu_\theta(s)}{\sigma^2}\,\phi(s).$$
# Input: `theta` (K,), `phi` (N, K) one feature row per sample, `actions` (N,), `sigma` > 0.
# Output: (N, K), one score per sample.

# %% nbgrader={"grade": false, "grade_id": "ex03-p3-sol", "locked": false, "schema_version": 3, "solution": true}
def gaussian_score(theta, phi, actions, sigma):
    """(N, K) scores (a - phi . theta) / sigma^2 * phi."""
    ### BEGIN SOLUTION
    mean = phi @ theta
    return ((actions - mean) / sigma**2)[:, None] * phi
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex03-p3", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_gaussian_score(gaussian_score)
### BEGIN HIDDEN TESTS
assert checks.check_gaussian_score(gaussian_score, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Recap
# - Softmax: score = own features minus the policy-average features (tabular: $e_{s,a} - \pi(\cdot\mid s)$ in row $s$).
# - Stable probabilities (max-subtracted softmax) keep the score finite for huge logits.
# - Gaussian: $(a-\mu)/\sigma^2$ times $\phi(s)$ — the variance, not the standard deviation.
