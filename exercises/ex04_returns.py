# %% [markdown]
# # Exercise 4 — discounted returns and reward-to-go
#
# Lesson: [05 · Monte Carlo and REINFORCE](../notebooks/05_monte_carlo_reinforce.ipynb).
#
# **Learning goals.** After this exercise you can compute the return from every time step
# $$G_t = \sum_{k\ge 0}\gamma^k r_{t+k} = r_t + \gamma\,G_{t+1},$$
# - for one episode,
# - for a batch of episodes of different lengths stored as (N, T) arrays with a mask,
# - for one long stream of episodes stored back to back (as a vectorised environment produces them).
#
# Checks compare with `pg.discounted_returns` on random rewards.

# %% nbgrader={"grade": false, "grade_id": "ex04-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)


# %% [markdown]
# ## Part 1 — one episode (1 point)
#
# Input: `rewards` of shape (T,) for one episode that ends after its last step, and `gamma`.
# Output: `G` (T,) with $G_t = r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \dots$ (the reward-to-go from $t$;
# $G_0$ is the episode's discounted return). The recursion $G_t = r_t + \gamma G_{t+1}$ runs backwards.

# %% nbgrader={"grade": false, "grade_id": "ex04-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def episode_returns(rewards, gamma):
    """G (T,), G_t = sum_k gamma^k r_{t+k}."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex04-p1", "locked": true, "points": 1, "schema_version": 3, "solution": false}
result = checks.check_episode_returns(episode_returns)


# %% [markdown]
# ## Part 2 — a batch with a mask (2 points)
#
# `rewards` and `mask` have shape (N, T): row $n$ is episode $n$; `mask[n, t]` is 1.0 for a real step and 0.0
# after the episode has ended. **Entries where the mask is 0 are padding and may hold anything.**
# Return `G` (N, T): $G_t$ within each episode, and 0 where the mask is 0.
# Loop over $t$ only (backwards), vectorised over the N episodes.

# %% nbgrader={"grade": false, "grade_id": "ex04-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def batch_returns(rewards, gamma, mask):
    """G (N, T): reward-to-go within each episode, 0 on padding."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex04-p2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_batch_returns(batch_returns)


# %% [markdown]
# ## Part 3 — one stream of episodes back to back (2 points)
#
# Now the episodes are concatenated into one stream: `rewards` (T,) and `dones` (T,) of bools, where
# `dones[t]` is True when the episode ends after step $t$ (the next reward belongs to a new episode). So
# $$G_t = r_t + \gamma\,(1 - \text{done}_t)\,G_{t+1}.$$
# If the last step is not done, the stream was simply cut there: sum what is there.

# %% nbgrader={"grade": false, "grade_id": "ex04-p3-sol", "locked": false, "schema_version": 3, "solution": true}
def stream_returns(rewards, dones, gamma):
    """G (T,) over a stream of episodes; the sum restarts after each done."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex04-p3", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_stream_returns(stream_returns)

# %% [markdown]
# ## Recap
# - $G_t = r_t + \gamma G_{t+1}$, computed backwards: discount relative to $t$, not to the episode start.
# - Padding must not count: mask the rewards *and* the result.
# - In a stream, reset the running sum where an episode ends.
