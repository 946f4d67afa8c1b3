# %% [markdown]
# # Exercise 6 — TD errors and a TD(0) critic
#
# Lesson: [06 · TD learning and actor-critic](../notebooks/06_td_actor_critic.ipynb).
#
# **Learning goals.** After this exercise you can
# - compute TD errors $\delta_t = r_t + \gamma\,(1-\text{terminated}_t)\,V(s_{t+1}) - V(s_t)$ on a batch,
#   telling termination (the future is worth 0) from truncation at the horizon (the future is worth $V(s_{t+1})$),
# - compute $\mathbb E[\delta_t\mid s_t=s, a_t=a]$ exactly, and see that it equals $A(s,a)$ for the true $V$ only,
# - learn $V$ by batch TD(0).
#
# Checks run on random episodic MDPs with a critic $V$ that is **nonzero on the terminal state**, so that
# bootstrapping from a terminal state shows.

# %% nbgrader={"grade": false, "grade_id": "ex06-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)


# %% [markdown]
# ## Part 1 — TD errors on a batch (2 points)
#
# $$\delta_t = r_t + \gamma\,(1 - \text{terminated}_t)\,V(s_{t+1}) - V(s_t),$$
# 0 where `mask` is 0. Input: an `Episodes` batch (arrays (N, T): `states`, `rewards`, `next_states`, `mask`,
# `terminated`, `truncated`), `V` (S,), `gamma`. Output: (N, T). A truncated step (the horizon cut the episode)
# still bootstraps from $V(s_{t+1})$.

# %% nbgrader={"grade": false, "grade_id": "ex06-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def td_errors(episodes, V, gamma):
    """delta (N, T): no bootstrap after termination, bootstrap at truncation, 0 on padding."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex06-p1", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_td_errors(td_errors)


# %% [markdown]
# ## Part 2 — the expected TD error, exactly (2 points)
#
# For a critic $V$ (S,) on a `pg.TabularMDP` (`mdp.P`, `mdp.R`, `mdp.gamma`, `mdp.terminal`):
# $$\mathbb E[\delta_t \mid s_t=s, a_t=a] = r(s,a) + \gamma\sum_{s'} P[s,a,s']\,(1-\text{terminal}(s'))\,V(s') - V(s),$$
# with the rows of terminal states set to 0 (no step is taken there). Output (S, A).
# With the true $V^\pi$ this is exactly $A^\pi(s,a)$; with a learned $V$ it is not — that is the bias of TD advantages.

# %% nbgrader={"grade": false, "grade_id": "ex06-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def expected_td_error(mdp, V):
    """E[delta | s, a] (S, A); 0 on terminal rows."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex06-p2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_expected_td_error(expected_td_error)


# %% [markdown]
# ## Part 3 — a batch TD(0) critic (3 points)
#
# Start from `V0` (S,) and repeat sweeps over the fixed batch: in each sweep, compute all TD errors with the
# current $V$ (your Part 1) and move every visited state by $\alpha$ times the **mean** TD error of the real
# steps taken from it,
# $$V(s) \leftarrow V(s) + \alpha\,\operatorname{mean}_{t:\,s_t=s}\delta_t .$$
# States never visited keep their value from `V0`. Run enough sweeps to converge: at the fixed point the TD
# errors from each visited state average to 0. ($\alpha = 0.5$ and 500 sweeps are plenty for $\gamma \le 0.9$.)

# %% nbgrader={"grade": false, "grade_id": "ex06-p3-sol", "locked": false, "schema_version": 3, "solution": true}
def td0_critic(episodes, gamma, V0, alpha=0.5, n_sweeps=500):
    """Batch TD(0) from V0 until converged, (S,)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex06-p3", "locked": true, "points": 3, "schema_version": 3, "solution": false}
result = checks.check_td0_critic(td0_critic)

# %% [markdown]
# ## Recap
# - Termination: the future is worth 0, whatever $V$ holds at the terminal state. Truncation: bootstrap.
# - $\mathbb E[\delta\mid s,a] = A(s,a)$ only for the true $V$.
# - Batch TD(0) converges to the fixed point where the TD errors from each state average to zero.
