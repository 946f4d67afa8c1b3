# %% [markdown]
# # Exercise 1 — the discounted state distribution $d^\pi$ and the occupancy $\rho$
#
# Lesson: [01 · The objective and $d^\pi$](../notebooks/01_objective_and_dpi.ipynb).
#
# **Learning goals.** After this exercise you can
# - build the state-to-state matrix $P_\pi$ of a policy,
# - compute the discounted visit counts of every state by one linear solve,
# - normalise them into $d^\pi$ and form the occupancy $\rho = d^\pi \pi$,
# - write the objective as $U = \frac{1}{1-\gamma}\sum_{s,a}\rho(s,a)\,r(s,a)$ (and see why $\sum \rho\, Q$ is not $U$).
#
# Every part is checked on **fresh random MDPs** (no terminal states, $\gamma < 1$) against the exact
# answer of `pgcourse`. Run a check cell as often as you like: it tells you what is wrong, never how to write it.

# %% nbgrader={"grade": false, "grade_id": "ex01-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## Part 1 — the policy's transition matrix (1 point)
#
# Averaging the dynamics over the policy gives a Markov chain on states:
# $$P_\pi[s, s'] = \sum_a \pi(a\mid s)\, P[s, a, s'].$$
# Input: `P` of shape (S, A, S), `pi` of shape (S, A). Output: `P_pi` of shape (S, S); each row sums to 1.

# %% nbgrader={"grade": false, "grade_id": "ex01-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def policy_transitions(P, pi):
    """P_pi (S, S): P_pi[s, s'] = sum_a pi[s, a] P[s, a, s']."""
    ### BEGIN SOLUTION
    return np.einsum("sa,sat->st", pi, P)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01-p1", "locked": true, "points": 1, "schema_version": 3, "solution": false}
result = checks.check_policy_transitions(policy_transitions)
### BEGIN HIDDEN TESTS
assert checks.check_policy_transitions(policy_transitions, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2 — discounted visit counts by a linear solve (2 points)
#
# Starting from $s_0 \sim \mu$, the expected discounted number of visits to each state is
# $$\text{visits}^\top = \sum_{t\ge 0} \gamma^t \mu^\top P_\pi^t = \mu^\top (I - \gamma P_\pi)^{-1}.$$
# Compute it **exactly** with `np.linalg.solve` (no explicit inverse, no truncated series).
# Careful: this is a *row* vector times the inverse. Without terminal states the counts sum to $1/(1-\gamma)$.
#
# Input: `P_pi` (S, S), `mu` (S,), `gamma` < 1. Output: `visits` (S,).

# %% nbgrader={"grade": false, "grade_id": "ex01-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def discounted_visits(P_pi, mu, gamma):
    """visits (S,) = mu^T (I - gamma P_pi)^-1, by one linear solve."""
    ### BEGIN SOLUTION
    S = P_pi.shape[0]
    return np.linalg.solve((np.eye(S) - gamma * P_pi).T, mu)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01-p2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_discounted_visits(discounted_visits)
### BEGIN HIDDEN TESTS
assert checks.check_discounted_visits(discounted_visits, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3 — $d^\pi$ and the occupancy $\rho$ (2 points)
#
# Normalise the visit counts into a distribution and attach the policy:
# $$d^\pi(s) = \frac{\text{visits}(s)}{\sum_{s'} \text{visits}(s')} \;\big(= (1-\gamma)\,\text{visits}(s)\big), \qquad
# \rho(s, a) = d^\pi(s)\,\pi(a\mid s).$$
# Input: `P` (S, A, S), `mu` (S,), `pi` (S, A), `gamma`. Output: `rho` (S, A), summing to 1.
# You may call your functions from Parts 1 and 2.

# %% nbgrader={"grade": false, "grade_id": "ex01-p3-sol", "locked": false, "schema_version": 3, "solution": true}
def occupancy(P, mu, pi, gamma):
    """rho (S, A) = d^pi(s) pi(a|s), with d^pi the normalised discounted visit counts."""
    ### BEGIN SOLUTION
    visits = discounted_visits(policy_transitions(P, pi), mu, gamma)
    d = visits / visits.sum()
    return d[:, None] * pi
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01-p3", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_occupancy(occupancy)
### BEGIN HIDDEN TESTS
assert checks.check_occupancy(occupancy, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Part 4 — the objective from the occupancy (2 points)
#
# Because $\rho$ is normalised, the objective carries the effective horizon:
# $$U(\theta) = \frac{1}{1-\gamma} \sum_{s,a} \rho(s,a)\, r(s,a).$$
# (The source notes write $\sum \rho\, Q$: on the A→B→B chain with $\gamma = 0.9$ that gives 9.9 instead of $U = 9$.)
#
# Input: `rho` (S, A), `R` (S, A), `gamma`. Output: `U`, one float.

# %% nbgrader={"grade": false, "grade_id": "ex01-p4-sol", "locked": false, "schema_version": 3, "solution": true}
def objective_from_occupancy(rho, R, gamma):
    """U = 1/(1-gamma) sum_{s,a} rho(s, a) R(s, a)."""
    ### BEGIN SOLUTION
    return float((rho * R).sum() / (1.0 - gamma))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01-p4", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_objective_from_occupancy(objective_from_occupancy)
### BEGIN HIDDEN TESTS
assert checks.check_objective_from_occupancy(objective_from_occupancy, seed=2024, quiet=True).passed
### END HIDDEN TESTS

# %% [markdown]
# ## Recap
# - $P_\pi$ is the policy-averaged dynamics; the discounted visit counts are $\mu^\top(I-\gamma P_\pi)^{-1}$ (one solve).
# - $d^\pi$ is those counts normalised; $\rho = d^\pi\pi$ sums to 1.
# - Hence $U = \frac{1}{1-\gamma}\sum\rho\,r$ — the $1/(1-\gamma)$ is the price of normalising.
