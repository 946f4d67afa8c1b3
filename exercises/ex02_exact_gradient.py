# %% [markdown]
# # Exercise 2 — the exact policy gradient of a softmax policy
#
# Lesson: [02 · The policy gradient theorem](../notebooks/02_policy_gradient_theorem.ipynb).
#
# **Learning goals.** After this exercise you can
# - compute softmax probabilities that stay finite for logits of size 1000,
# - write the exact gradient of the tabular softmax as visits $\times$ $\pi$ $\times$ advantage,
# - evaluate the policy gradient theorem $\nabla U = \frac{1}{1-\gamma}\,\mathbb{E}_{s\sim d^\pi,\,a\sim\pi}[\nabla\log\pi(a\mid s)\,Q(s,a)]$
#   as an exact sum for a linear-feature softmax.
#
# Checks compare with `pg.policy_gradient` (itself verified against finite differences) on fresh random MDPs.

# %% nbgrader={"grade": false, "grade_id": "ex02-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)


# %% [markdown]
# ## Part 1 — stable softmax probabilities (1 point)
#
# For a tabular softmax, $\theta$ has shape (S, A) and
# $$\pi(a\mid s) = \frac{\exp\theta[s,a]}{\sum_b \exp\theta[s,b]}.$$
# Each row sums to 1. Edge case: logits of size $10^3$ must not give `nan` (`np.exp(1000)` is `inf`).

# %% nbgrader={"grade": false, "grade_id": "ex02-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def softmax_probs(theta):
    """pi (S, A), rows summing to 1, stable for large logits."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex02-p1", "locked": true, "points": 1, "schema_version": 3, "solution": false}
result = checks.check_softmax_probs(softmax_probs)


# %% [markdown]
# ## Part 2 — the exact tabular gradient (2 points)
#
# For the tabular softmax, $\partial \pi(b\mid s)/\partial\theta[s,a] = \pi(b\mid s)(\mathbb 1[a=b] - \pi(a\mid s))$, and the
# theorem collapses to
# $$\frac{\partial U}{\partial\theta[s,a]} = \text{visits}(s)\;\pi(a\mid s)\;A(s,a), \qquad A = Q - V,$$
# where $\text{visits}(s)$ are the discounted visit counts (they sum to $1/(1-\gamma)$).
#
# Input: a `pg.TabularMDP` and `theta` (S, A). Output: the gradient (S, A).
# Use `pg.evaluate(mdp, pi)`: it returns `.visits`, `.d`, `.Q`, `.V`, `.A`.

# %% nbgrader={"grade": false, "grade_id": "ex02-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def tabular_gradient(mdp, theta):
    """Exact grad U (S, A) of the tabular softmax policy softmax_probs(theta)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex02-p2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_tabular_gradient(tabular_gradient)


# %% [markdown]
# ## Part 3 — the theorem as an exact expectation, linear features (3 points)
#
# Now $\pi$ is a softmax over logits $h(s,a) = \phi(s,a)\cdot\theta$ with $\theta$ of shape (K,) (`policy` is a
# `pg.SoftmaxPolicy(features)`). Compute
# $$\nabla U(\theta) = \frac{1}{1-\gamma}\sum_s d^\pi(s)\sum_a \pi(a\mid s)\,\nabla_\theta\log\pi(a\mid s)\,Q(s,a)$$
# as an exact sum over all $(s, a)$. `policy.probs(theta)` gives $\pi$, and
# `policy.grad_log_prob(theta, states, actions)` gives the scores for arrays of states and actions
# (shape `(*states.shape, K)`). The checks use MDPs without terminal states, where $\sum_s \text{visits}(s) = 1/(1-\gamma)$.

# %% nbgrader={"grade": false, "grade_id": "ex02-p3-sol", "locked": false, "schema_version": 3, "solution": true}
def gradient_from_score(mdp, policy, theta):
    """grad U (K,) = 1/(1-gamma) E_{s~d, a~pi}[grad log pi(a|s) Q(s, a)], as an exact sum."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex02-p3", "locked": true, "points": 3, "schema_version": 3, "solution": false}
result = checks.check_gradient_from_score(gradient_from_score)

# %% [markdown]
# ## Recap
# - Subtract the row maximum before `exp`: the softmax is unchanged and never overflows.
# - Tabular softmax: $\nabla U[s,a] = \text{visits}(s)\,\pi(a\mid s)\,A(s,a)$.
# - With $d^\pi$ normalised the theorem needs its factor $1/(1-\gamma)$; replacing $Q$ by $A$ changes nothing
#   because $\mathbb E_{a\sim\pi}[\nabla\log\pi(a\mid s)] = 0$.
