# %% [markdown]
# # Exercise 5 — REINFORCE with a baseline
#
# Lessons: [03 · Baselines and the advantage](../notebooks/03_baselines_advantage.ipynb) and
# [05 · Monte Carlo and REINFORCE](../notebooks/05_monte_carlo_reinforce.ipynb).
#
# **Learning goals.** After this exercise you can estimate the policy gradient from sampled episodes,
# $$\hat g = \frac1N\sum_{n=1}^N\sum_t \gamma^t\,\nabla_\theta\log\pi(a_t\mid s_t)\,\big(G_t - b(s_t)\big),$$
# - without a baseline,
# - build a state baseline $b(s)$ from the same episodes (the empirical $V$),
# - with a baseline — which leaves the estimate unbiased because $\mathbb E_{a\sim\pi}[\nabla\log\pi(a\mid s)]\,b(s) = 0$.
#
# Episodes come from `pg.sample_episodes`: an `Episodes` batch with (N, T) arrays `states`, `actions`,
# `rewards`, `next_states`, `mask`, `terminated`, `truncated`. Checks compare with `pg.reinforce_gradient`.

# %% nbgrader={"grade": false, "grade_id": "ex05-setup", "locked": true, "schema_version": 3, "solution": false}
import numpy as np
import pgcourse as pg
from pgcourse import checks

np.set_printoptions(precision=4, suppress=True)


# %% [markdown]
# ## Part 1 — REINFORCE without a baseline (2 points)
#
# $$\hat g = \frac1N\sum_n\sum_t \gamma^t\,\nabla_\theta\log\pi(a_t\mid s_t)\,G_t \qquad\text{(real steps only).}$$
# $\gamma^t$: the objective discounts step $t$; $G_t$ (not $G_0$): the action at $t$ cannot change earlier rewards.
# `policy` is a `pg.SoftmaxPolicy` (tabular or linear). `pg.discounted_returns(rewards, gamma, mask)` gives $G_t$;
# `policy.grad_log_prob(theta, states, actions)` gives the scores, shape `(N, T, *theta.shape)`
# (or use `policy.score_sum(theta, states, actions, weights)` = $\sum_i w_i \nabla\log\pi(a_i\mid s_i)$).
# Output: theta's shape.

# %% nbgrader={"grade": false, "grade_id": "ex05-p1-sol", "locked": false, "schema_version": 3, "solution": true}
def reinforce_gradient(policy, theta, episodes, gamma):
    """REINFORCE estimate of grad U, shaped like theta."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex05-p1", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_reinforce_gradient(reinforce_gradient)


# %% [markdown]
# ## Part 2 — a state baseline from the same episodes (2 points)
#
# The every-visit Monte Carlo estimate of $V$: for each state, the average of $G_t$ over the real steps with
# $s_t = s$; 0 for a state never visited (e.g. a terminal state). Output shape (S,) — **one value per state**:
# a baseline must not depend on the action. (`np.bincount(x, weights=w, minlength=S)` sums `w` per value of `x`.)

# %% nbgrader={"grade": false, "grade_id": "ex05-p2-sol", "locked": false, "schema_version": 3, "solution": true}
def state_baseline(episodes, gamma, S):
    """b (S,): average of G_t over the real visits to each state, 0 where never visited."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex05-p2", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_state_baseline(state_baseline)


# %% [markdown]
# ## Part 3 — REINFORCE with a baseline (2 points)
#
# $$\hat g = \frac1N\sum_n\sum_t \gamma^t\,\nabla_\theta\log\pi(a_t\mid s_t)\,\big(G_t - b(s_t)\big)\qquad\text{(real steps only)},$$
# `baseline` of shape (S,). Careful with the padding after an episode's end: there $G_t = 0$ but $b(s_t)$ is not.

# %% nbgrader={"grade": false, "grade_id": "ex05-p3-sol", "locked": false, "schema_version": 3, "solution": true}
def reinforce_with_baseline(policy, theta, episodes, gamma, baseline):
    """REINFORCE with a state baseline b (S,), shaped like theta."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex05-p3", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = checks.check_reinforce_with_baseline(reinforce_with_baseline)

# %% [markdown]
# ## Recap
# - Weight step $t$ by $\gamma^t$ and by the reward-to-go $G_t$, average over episodes.
# - A baseline may depend on the state only; it changes the variance, not the mean.
# - Mask everything: padding steps are not visits.
