# %% [markdown]
# # 00 · Welcome: Markov decision processes, exactly and by sampling
#
# **Learning objectives.** After this notebook you can
# - say how the course works: every formula is computed **exactly** (linear algebra on a small MDP) and
#   **by sampling**, and the two are shown to agree;
# - build a tabular MDP `TabularMDP(P, R, mu, gamma, terminal)` and read its arrays;
# - describe the agent loop and sample episodes with `pg.sample_episodes`;
# - define $V^\pi$ and $Q^\pi$, compute them exactly with `pg.evaluate`, and check the Bellman equations;
# - read a gridworld picture: $V^\pi$ as a heatmap, the policy as arrows, and compare sampled returns
#   from the start with the exact $V^\pi(s_0)$.

# %% [markdown]
# ## How the course works
#
# The course follows a set of notes on policy gradients, one claim at a time. For every claim you get
#
# 1. the derivation in Markdown, in the course notation ($P[s,a,s']$, $R[s,a]$, $\mu$, $\gamma$,
#    $\pi[s,a]$, $\theta$, $V$, $Q$, $A = Q - V$, $d^\pi$, $\rho = d^\pi\pi$, $U(\theta)$, $G_t$, $\delta_t$, $\lambda$);
# 2. a code cell that computes **both sides exactly** and `assert`s they agree — on MDPs small enough that
#    everything is a linear solve;
# 3. the **sampled** version (what an agent that only sees episodes would estimate), with a standard error,
#    next to the exact number;
# 4. a **widget**: sliders that change the problem, with exact and sampled numbers updating side by side;
# 5. an **exercise** in `exercises/` (`exercises/ex01_occupancy.ipynb`, ...), where you write the code
#    yourself and a checker compares it with the exact answer.
#
# All the computation lives in the small numpy package `pgcourse`; a notebook cell is one or two calls.
# Every random draw comes from an explicit `np.random.default_rng(seed)`, so the numbers below are the
# same on every run.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp
import pgcourse.widgets as pgw

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px

# %% [markdown]
# ## The tabular toolkit: `TabularMDP`
#
# A finite MDP is five arrays:
#
# | name | shape | meaning |
# |---|---|---|
# | `P` | (S, A, S) | $P[s,a,s'] = \Pr(s_{t+1}=s' \mid s_t=s, a_t=a)$, each `P[s, a]` sums to 1 |
# | `R` | (S, A) | expected reward $r(s,a)$ of taking $a$ in $s$ |
# | `mu` | (S,) | start distribution, $s_0 \sim \mu$ |
# | `gamma` | scalar | discount $\gamma \in [0, 1]$ |
# | `terminal` | (S,) bool | absorbing, zero-reward states; an episode ends on entering one |
#
# A policy is an (S, A) array `pi` with rows summing to 1: $\pi[s,a] = \pi(a\mid s)$.
# Here is a two-state, two-action MDP written by hand.

# %%
P = np.zeros((2, 2, 2))
P[0, 0] = [0.9, 0.1]   # in state 0, action 0 mostly stays
P[0, 1] = [0.2, 0.8]   # action 1 mostly moves to state 1
P[1, 0] = [0.5, 0.5]
P[1, 1] = [0.0, 1.0]
R = np.array([[0.0, -0.1],
              [1.0, 0.5]])
tiny = pg.TabularMDP(P, R, mu=np.array([1.0, 0.0]), gamma=0.9)
print(tiny, "S =", tiny.S, "A =", tiny.A)
print("R =\n", tiny.R)

# %% [markdown]
# Bad input is refused with a message that names the argument, for instance a transition row that does not
# sum to 1:

# %%
bad = P.copy()
bad[1, 1] = [0.0, 0.9]
try:
    pg.TabularMDP(bad, R, mu=np.array([1.0, 0.0]), gamma=0.9)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# ## The agent loop
#
# At each step $t$ the agent observes $s_t$, draws $a_t \sim \pi(\cdot\mid s_t)$, and the environment
# draws the next state and the reward **together**, $(s_{t+1}, r_t) \sim p(\cdot,\cdot \mid s_t, a_t)$
# (Sutton & Barto's four-argument dynamics): the reward $r_t$ the agent receives can depend on where the
# step lands, and $R[s,a] = r(s,a) = \mathbb{E}[r_t \mid s_t=s, a_t=a]$ is its average. The episode goes on
# until it enters a terminal state (or we stop it at a horizon $T$). The **return** from time $t$ is
# $G_t = \sum_{k \ge 0} \gamma^k r_{t+k}$.
#
# `pg.sample_episodes(mdp, pi, N, T, rng)` runs $N$ such loops at once and returns $(N, T)$ arrays
# `states`, `actions`, `rewards`, `next_states` and a `mask` (1 for a real step, 0 after the end).
# Our running example is a 4x4 gridworld: start `S` in the top-left corner, a wall `#`, three pits `H`
# (reward $-1$, episode over) and the goal `G` (reward $+1$, episode over). Actions are
# left, down, right, up; with probability `slip` = 0.1 the move goes sideways instead.

# %%
grid = pg.gridworld()          # gamma = 0.95, slip = 0.1
print(grid, "\nlayout:", grid.layout)
pi = pg.demo_grid_policy()    # 70% the best action, 30% uniformly random
print("pi(.|start) =", pi[0], " (left, down, right, up)")

# %%
episodes = pg.sample_episodes(grid, pi, n_episodes=3, horizon=40,
                              rng=np.random.default_rng(1))
print(episodes)
for t in range(int(episodes.lengths[0])):
    s, a = episodes.states[0, t], episodes.actions[0, t]
    print(f"t={t}: s={s:2d} cell={grid.cells[s]}  a={pg.ACTION_NAMES[a]:5s}  "
          f"received r={episodes.rewards[0, t]:+.2f}  expected r(s,a)={grid.R[s, a]:+.2f}"
          f"  s'={episodes.next_states[0, t]}")

# %% [markdown]
# `rewards[n, t]` is the reward the agent **receives**: the pits pay $-1$ and the goal $+1$ on
# entering, so a step pays them only when it actually lands there. `R[s, a]` is the average over where the
# step may land. At $t = 4$ above (state 7, "right", next to the pit below) the agent received $0$
# while $r(s,a) = -0.05$: the move slips down into the pit with probability 0.05, and this time it did
# not. The exact formulas of the course use $r(s,a)$; every sampled number uses what the agent receives.
# Over many steps the two agree on average:

# %%
outcomes = grid.outcomes(7, 2)       # (probability, s', reward) of each outcome
print("outcomes of (s=7, right):", outcomes)
print(f"r(7, right) = sum p * reward = {sum(p * r for p, _, r in outcomes):+.4f}"
      f"   R[7, 2] = {grid.R[7, 2]:+.4f}")
many = pg.sample_episodes(grid, pi, n_episodes=20000, horizon=150,
                          rng=np.random.default_rng(2))
real = many.mask.astype(bool)
received, expected = many.rewards[real], grid.R[many.states[real], many.actions[real]]
print("reward values received:", np.unique(received))
se_diff = (received - expected).std(ddof=1) / np.sqrt(received.size)
print(f"mean received reward per step = {received.mean():+.5f}"
      f"   mean r(s_t, a_t) = {expected.mean():+.5f}"
      f"   (s.e. of the difference {se_diff:.5f})")
assert np.isclose(sum(p * r for p, _, r in outcomes), grid.R[7, 2])
assert set(np.unique(received)) <= {-1.0, 0.0, 1.0}
assert abs(received.mean() - expected.mean()) < 4 * se_diff

# %% [markdown]
#
# ## Value functions
#
# For a policy $\pi$, the **state value** is the expected return from $s$, and the **action value** the
# expected return from $s$ when the first action is $a$:
# $$V^\pi(s) = \mathbb{E}_\pi\Big[\sum_{k\ge0}\gamma^k r(s_{t+k},a_{t+k}) \,\Big|\, s_t = s\Big],\qquad
#   Q^\pi(s,a) = \mathbb{E}_\pi\Big[\sum_{k\ge0}\gamma^k r(s_{t+k},a_{t+k}) \,\Big|\, s_t = s, a_t = a\Big].$$
# Splitting off the first step gives the **Bellman equations**
# $$V^\pi(s) = \sum_a \pi(a\mid s)\, Q^\pi(s,a), \qquad
#   Q^\pi(s,a) = r(s,a) + \gamma \sum_{s'} P[s,a,s']\, V^\pi(s'),$$
# with $V = 0$ on terminal states. Together they are one linear system
# $V = r_\pi + \gamma P_\pi V$ (with $P_\pi[s,s'] = \sum_a \pi(a|s)P[s,a,s']$ and
# $r_\pi(s) = \sum_a \pi(a|s) r(s,a)$), which `pg.evaluate` solves exactly with one `np.linalg.solve`.

# %%
ev = pg.evaluate(grid, pi)
print("V =", ev.V)
lhs_V, rhs_V = ev.V, (pi * ev.Q).sum(axis=1)                           # V = sum_a pi Q
lhs_Q, rhs_Q = ev.Q, grid.R + grid.gamma * grid.P @ ev.V               # Q = R + gamma P V
print("V            (first 4 states):", lhs_V[:4],
      "\nsum_a pi Q   (first 4 states):", rhs_V[:4])
print("Q[start]          :", lhs_Q[0], "\nR + gamma P V [start]:", rhs_Q[0])
assert np.allclose(lhs_V, rhs_V) and np.allclose(lhs_Q, rhs_Q)
print(f"V next to the goal, cell (3, 2): {ev.V[13]:.3f}"
      f"   V above a pit, cell (0, 3): {ev.V[3]:.3f}   V(start): {ev.V[0]:.3f}")

# %% [markdown]
# `pg.evaluate` also returns $A = Q - V$ (the *advantage*, which comes back in notebook 03), and the
# objective $U = \sum_s \mu(s) V^\pi(s)$; here the start is a single cell, so $U = V^\pi(\text{start})$.
#
# ## The gridworld drawn
#
# The heatmap shows $V^\pi$ (number at the top of each cell; terminal cells, hatched, are the goal and the pits and have
# value 0), the arrows show $\pi(\cdot\mid s)$ (arrow length $\propto$ probability). Values are highest next
# to the goal (0.908 in the cell left of it) and low next to the pits, where a slip costs $-1$ (0.096 in
# the cell above the top pit), as printed above.

# %%
fig, ax = plt.subplots(figsize=(5.2, 4.4))
pgp.value_policy_heatmap(ax, grid, ev.V, pi,
                         title="exact $V^\\pi$ and $\\pi$ (gamma = 0.95)")
pgp.show(fig, alt="Gridworld heatmap of the exact values V^pi with the policy as "
                  "arrows: values are highest next to the goal (bottom right) and "
                  "low next to the three pits.")

# %% [markdown]
# ## Sampled returns against the exact $V^\pi(\text{start})$
#
# An agent cannot solve the linear system: it only sees episodes. The Monte Carlo estimate of
# $V^\pi(s_0)$ is the average of the returns $G_0$ of many episodes. Its standard error shrinks like
# $1/\sqrt{N}$; the exact value should lie within a few standard errors. (The horizon 150 cuts off at most
# $\gamma^{150} \approx 5\cdot10^{-4}$ of the return, and here every episode ended long before.)

# %%
episodes = pg.sample_episodes(grid, pi, n_episodes=20000, horizon=150,
                              rng=np.random.default_rng(0))
G = pg.discounted_returns(episodes.rewards, grid.gamma, episodes.mask)
G0 = G[:, 0]
se = G0.std(ddof=1) / np.sqrt(G0.size)
print(f"exact    V(start) = {ev.U:.4f}")
print(f"sampled  mean G_0 = {G0.mean():.4f} +- {se:.4f}   (N = {G0.size},"
      f" still running at the horizon: {int(episodes.truncated.sum())})")
assert abs(G0.mean() - ev.U) < 4 * se

# %% [markdown]
# The same check works for every state, not only the start: $G_t$ from every visit to $s$ is a sample
# of $V^\pi(s)$ (an "every-visit" estimate). `pg.mc_values` averages them.

# %%
V_mc = pg.mc_values(episodes, S=grid.S, gamma=grid.gamma)
live = ~grid.terminal
print("exact   V:", ev.V[live])
print("sampled V:", V_mc[live])
print(f"max |difference| over non-terminal states"
      f" = {np.abs(V_mc - ev.V)[live].max():.4f}")
assert np.abs(V_mc - ev.V)[live].max() < 0.05

# %% [markdown]
# ## Explore: discount, slipperiness, number of episodes
#
# The left panel is the exact $V^\pi$ for the chosen $\gamma$ and slip probability (the policy is fixed);
# the right panel is the running mean of sampled returns $G_0$ with a 95% band, beside the exact
# $V^\pi(\text{start})$. Things to try: a smaller $\gamma$ shrinks every value (the goal is several steps
# away); more slip makes the cells next to the pits worse; few episodes give a wide band.

# %%
explorer = pgw.gridworld_explorer()
explorer

# %% [markdown]
# ## Try it
#
# The first exercise, `exercises/ex01_occupancy.ipynb`, starts from exactly these tools (after
# notebook 01): you compute discounted visit counts of a policy yourself and compare them with
# `pg.evaluate`. Before that, change `pi` above (for example to the uniform policy
# `np.full((grid.S, 4), 0.25)`) and re-run the Bellman check and the sampled returns.
#
# ## Recap
#
# - A tabular MDP is `(P, R, mu, gamma, terminal)`; a policy is an (S, A) array of probabilities.
# - $V^\pi$ and $Q^\pi$ are expected returns; they satisfy $V = \sum_a \pi Q$ and
#   $Q = R + \gamma P V$, and `pg.evaluate` computes them exactly by one linear solve.
# - Averages of sampled returns agree with the exact values within their standard error.
# - Next, notebook 01: the objective $U(\theta)$ and the discounted state distribution $d^\pi$.
