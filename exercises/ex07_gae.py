# %% [markdown]
# # Exercise 7 — generalised advantage estimation (GAE)
#
# Lesson: [07 · GAE](../notebooks/07_gae.ipynb).
#
# **Learning goals.** After this exercise you can compute
# $$\hat A_t = \sum_{l\ge 0}(\gamma\lambda)^l\,\delta_{t+l} = \delta_t + \gamma\lambda\,\hat A_{t+1}$$
# - for one episode, from its TD errors,
# - for a batch with terminations (no bootstrap) and truncations (bootstrap inside $\delta_t$),
# - for one stream of episodes back to back, cutting the trace wherever an episode ends.
#
# $\lambda = 0$ gives $\delta_t$ (TD), $\lambda = 1$ gives $G_t - V(s_t)$ (Monte Carlo, up to the bootstrap at a
# truncated horizon). Checks compare with `pg.gae`; the critic is nonzero on terminal states.

# %% nbgrader={"grade": false, "grade_id": "ex07-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)


# %% [markdown]
# ## Part 1 — one episode (1 point)
#
# Input: the TD errors `deltas` (T,) of one episode that ends after its last step, `gamma`, `lam`.
# Output: $\hat A$ (T,) by the backward recursion $\hat A_t = \delta_t + \gamma\lambda\hat A_{t+1}$, $\hat A_T = 0$.

# %% nbgrader={"grade": false, "grade_id": "ex07-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def gae_episode(deltas, gamma, lam):
    """A (T,) = sum_l (gamma lam)^l delta_{t+l}."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex07-p1", "locked": true, "points": 1, "schema_version": 3, "solution": false}
result = checks.check_gae_episode(gae_episode)


# %% [markdown]
# ## Part 2 — a batch with terminations and truncations (3 points)
#
# Input: an `Episodes` batch, a critic `V` (S,), `gamma`, `lam`. Output (N, T), 0 where `mask` is 0.
# 1. $\delta_t = r_t + \gamma(1-\text{terminated}_t)V(s_{t+1}) - V(s_t)$ on the real steps (bootstrap at truncation,
#    never from a terminal state);
# 2. $\hat A_t = \delta_t + \gamma\lambda\,c_t\,\hat A_{t+1}$ with $c_t = 0$ where the episode ends at $t$
#    (terminated *or* truncated), else 1.

# %% nbgrader={"grade": false, "grade_id": "ex07-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def gae_batch(episodes, V, gamma, lam):
    """GAE (N, T) with terminations and truncations."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex07-p2", "locked": true, "points": 3, "schema_version": 3, "solution": false}
result = checks.check_gae_batch(gae_batch)


# %% [markdown]
# ## Part 3 — a stream of episodes back to back (3 points)
#
# As a vectorised environment delivers it: all inputs (T,) — `rewards`, `values` $= V(s_t)$,
# `next_values` $= V(s_{t+1})$ (given even when $s_{t+1}$ is terminal: do not use it there), `terminated`,
# `truncated` (bools). After a terminated or truncated step the stream continues with a new episode, so the
# trace must be cut there; the bootstrap at a truncation lives inside $\delta_t$.

# %% nbgrader={"grade": false, "grade_id": "ex07-p3-sol", "locked": false, "schema_version": 3, "solution": true}
def gae_stream(rewards, values, next_values, terminated, truncated, gamma, lam):
    """GAE (T,) over a stream of episodes."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex07-p3", "locked": true, "points": 3, "schema_version": 3, "solution": false}
result = checks.check_gae_stream(gae_stream)

# %% [markdown]
# ## Recap
# - GAE is a backward recursion on TD errors with weight $\gamma\lambda$.
# - Cut the trace where an episode ends (either way); bootstrap only on truncation, inside $\delta_t$.
# - $\lambda$ trades bias (small $\lambda$, leans on $V$) against variance (large $\lambda$, leans on sampled returns).
