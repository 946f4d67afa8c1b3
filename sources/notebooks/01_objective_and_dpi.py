# %% [markdown]
# # 01 · The objective $U(\theta)$ and the discounted state distribution $d^\pi$
#
# **Learning objectives.** After this notebook you can
# - write the objective $U(\theta)$ in its trajectory, state-value and state–action-value forms, and
#   check that all three (and a sampled estimate) give the same number;
# - rewrite $U$ with linearity of expectation and the law of total expectation as a sum over time of
#   expected rewards;
# - define the discounted visit counts, the state distribution $d^\pi$ and the occupancy
#   $\rho = d^\pi\pi$, and state the **correct** identity $U = \frac{1}{1-\gamma}\sum_{s,a}\rho(s,a)\,r(s,a)$
#   (not $\sum \rho\, Q$);
# - read $d^\pi$ as "the state at a random, geometrically distributed time", including the
#   episodic case $\gamma = 1$;
# - explain why a policy gradient weights states by $d^\pi$ rather than uniformly.

# %%
# %matplotlib inline
import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp
import pgcourse.widgets as pgw

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px

# %% [markdown]
# ## The objective in three forms
#
# A policy $\pi_\theta$ with parameters $\theta$ is judged by its expected discounted return
# $$U(\theta) = \mathbb{E}_{\tau\sim\pi_\theta}\Big[\sum_{t\ge0}\gamma^t r(s_t,a_t)\Big],$$
# the expectation being over whole trajectories $\tau = (s_0, a_0, s_1, a_1, \dots)$ with $s_0\sim\mu$,
# $a_t\sim\pi_\theta(\cdot|s_t)$, $s_{t+1}\sim P[s_t,a_t,\cdot]$. Conditioning on the first state, or on the
# first state and action, gives the two value forms
# $$U(\theta) = \mathbb{E}_{s_0\sim\mu}\big[V^{\pi_\theta}(s_0)\big]
#            = \mathbb{E}_{s_0\sim\mu,\ a_0\sim\pi_\theta}\big[Q^{\pi_\theta}(s_0,a_0)\big].$$
#
# For the trajectory form we need the exact law of $s_t$: the row vector $p_t(s) = \Pr(s_t = s)$ evolves by
# $p_0 = \mu$, $p_{t+1} = p_t P_\pi$. By linearity of expectation (the sum over $t$ comes out of the
# expectation) and the law of total expectation (condition on $(s_t,a_t)$),
# $$U(\theta) = \sum_{t\ge0}\gamma^t\,\mathbb{E}[r(s_t,a_t)]
#            = \sum_{t\ge0}\gamma^t \sum_{s,a}\Pr(s_t=s)\,\pi(a|s)\,r(s,a)
#            = \sum_{t\ge0}\gamma^t\, p_t\cdot r_\pi .$$
# We stop the sum at the first $T$ with $\gamma^T < 10^{-12}$ (rewards are bounded by 1 here, so the
# rest is below $10^{-12}/(1-\gamma)$). We use the gridworld of notebook 00 and its policy.

# %%
grid = pg.gridworld()                 # gamma = 0.95
pi = pg.demo_grid_policy()
ev = pg.evaluate(grid, pi)
P_pi, r_pi = grid.policy_matrices(pi)
T = int(np.ceil(np.log(1e-12) / np.log(grid.gamma)))
p_t = grid.mu.copy()
U_trajectory = 0.0
expected_reward = []                  # E[r(s_t, a_t)] for each t
for t in range(T):
    expected_reward.append(p_t @ r_pi)
    U_trajectory += grid.gamma**t * expected_reward[-1]
    p_t = p_t @ P_pi
U_V = grid.mu @ ev.V
U_Q = (grid.mu[:, None] * pi * ev.Q).sum()
print(f"trajectory form  sum_t gamma^t E[r_t]  = {U_trajectory:.6f}   (T = {T} terms)")
print(f"V-initial form   sum_s mu V            = {U_V:.6f}")
print(f"Q-initial form   sum_s,a mu pi Q       = {U_Q:.6f}")
assert np.allclose([U_trajectory, U_V], U_Q)

# %% [markdown]
# And by sampling: the average of the discounted returns $G_0$ of many episodes, and, for the rewritten
# form, the average reward at each time $t$ against $\mathbb{E}[r(s_t,a_t)] = p_t\cdot r_\pi$.

# %%
episodes = pg.sample_episodes(grid, pi, n_episodes=20000, horizon=150,
                              rng=np.random.default_rng(0))
G0 = pg.discounted_returns(episodes.rewards, grid.gamma, episodes.mask)[:, 0]
se = G0.std(ddof=1) / np.sqrt(G0.size)
print(f"exact U = {ev.U:.4f}    sampled mean G_0 = {G0.mean():.4f} +- {se:.4f}")
assert abs(G0.mean() - ev.U) < 4 * se
r_mean = episodes.rewards[:, :8].mean(axis=0)
r_se = episodes.rewards[:, :8].std(axis=0, ddof=1) / np.sqrt(G0.size)
print("t                   :", np.arange(8))
print("exact   E[r(s_t,a_t)]:", np.array(expected_reward[:8]))
print("sampled mean r_t     :", r_mean)
assert np.all(np.abs(r_mean - expected_reward[:8]) < 4 * r_se + 1e-12)

# %% [markdown]
# ## Visit counts, $d^\pi$ and the occupancy $\rho$
#
# Swapping the sums over $t$ and over $(s,a)$ collects the time steps into one weight per state:
# $$U(\theta) = \sum_{s} \underbrace{\Big(\sum_{t\ge0}\gamma^t \Pr(s_t=s)\Big)}_{\text{visits}(s)}
#               \sum_a \pi(a|s)\, r(s,a).$$
# $\text{visits}(s)$ is the **discounted expected number of visits** to $s$. Its total is
# $\sum_s \text{visits}(s) = \sum_t\gamma^t = \frac{1}{1-\gamma}$ when episodes never end, so
# $$d^\pi(s) = (1-\gamma)\sum_{t\ge0}\gamma^t\Pr(s_t=s), \qquad \rho(s,a) = (1-\gamma)\sum_{t\ge0}\gamma^t\Pr(s_t=s,a_t=a) = d^\pi(s)\,\pi(a|s)$$
# are probability distributions (the last equality because $\Pr(s_t=s,a_t=a) = \Pr(s_t=s)\pi(a|s)$), and
# $$\boxed{\,U(\theta) = \frac{1}{1-\gamma}\sum_{s,a}\rho(s,a)\, r(s,a)\,}$$
# `pg.evaluate` returns `visits`, `d`, `rho` and `effective_horizon` $= \sum_s\text{visits}(s)$.
# We check all of it on a small random MDP without terminal states (5 states, 2 actions, $\gamma = 0.9$),
# computing the visits a second way, by the truncated sum over $t$.

# %%
mdp = pg.random_mdp(5, 2, 0.9, np.random.default_rng(1))
policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
theta = np.random.default_rng(2).normal(size=policy.theta_shape)
pi5 = policy.probs(theta)
ev5 = pg.evaluate(mdp, pi5)
P5, r5 = mdp.policy_matrices(pi5)
p_t, visits_sum = mdp.mu.copy(), np.zeros(mdp.S)
for t in range(int(np.ceil(np.log(1e-13) / np.log(mdp.gamma)))):
    visits_sum += mdp.gamma**t * p_t
    p_t = p_t @ P5
gamma = mdp.gamma
print("visits by sum over t:", visits_sum, "\nvisits (evaluate)   :", ev5.visits)
print(f"sum of visits = {ev5.visits.sum():.6f}    1/(1-gamma) = {1 / (1 - gamma):.6f}")
print("d = (1-gamma) visits:", (1 - gamma) * visits_sum, "\nd (evaluate)        :", ev5.d)
print(f"U = mu . V = {ev5.U:.6f}"
      f"    1/(1-gamma) sum rho r = {(ev5.rho * mdp.R).sum() / (1 - gamma):.6f}")
assert np.allclose(visits_sum, ev5.visits)
assert np.isclose(ev5.visits.sum(), 1 / (1 - gamma))
assert np.allclose((1 - gamma) * visits_sum, ev5.d)
assert np.allclose(ev5.rho, ev5.d[:, None] * pi5)
assert np.isclose(ev5.U, (ev5.rho * mdp.R).sum() / (1 - gamma))

# %% [markdown]
# ### The $(1-\gamma)$ normalisation, and the one-state example
#
# Summing $d^\pi$ over states, each $\sum_s \Pr(s_t=s)$ is 1, so
# $\sum_s d^\pi(s) = (1-\gamma)\sum_{t\ge0}\gamma^t = (1-\gamma)\cdot\frac{1}{1-\gamma} = 1$.
# With a single state the agent is there at every step: visits $= \frac{1}{1-\gamma}$ (10 for
# $\gamma = 0.9$), which is not a probability, and $d^\pi = 1$ after the normalisation. A reward of 2 per
# step gives $V = U = \frac{2}{1-\gamma} = 20 = \frac{1}{1-\gamma}\cdot\rho\, r$.

# %%
one = pg.TabularMDP(np.ones((1, 1, 1)), np.array([[2.0]]), np.array([1.0]), gamma=0.9)
ev1 = pg.evaluate(one, np.ones((1, 1)))
print(f"visits = {ev1.visits[0]:.4f}   d = {ev1.d[0]:.4f}   U = {ev1.U:.4f}   "
      f"1/(1-gamma) rho r = {ev1.rho[0, 0] * 2.0 / (1 - 0.9):.4f}")
assert np.isclose(ev1.visits[0], 10) and np.isclose(ev1.d[0], 1) and np.isclose(ev1.U, 20)

# %% [markdown]
# ### $U$ is *not* $\sum_{s,a}\rho(s,a)\,Q(s,a)$: the A → B → B example
#
# Two states, start in A, then B forever; reward 1 in B, 0 in A; $\gamma = 0.9$ (`pg.chain_ab(0.9)`).
# A is visited once (at $t = 0$), B at every later step: visits $= (1, \gamma + \gamma^2+\dots) = (1, 9)$,
# so $d^\pi = (1-\gamma, \gamma) = (0.1, 0.9)$. The values are $V(B) = \frac{1}{1-\gamma} = 10$ and
# $V(A) = \gamma V(B) = 9 = U$. The source notes write $U = \sum_{s,a}\rho\,Q$; that gives
# $0.1\cdot 9 + 0.9\cdot 10 = 9.9 \ne 9$: it counts the rewards of states visited late *again*, once for
# every visit before them. The correct occupancy form uses the reward:
# $\frac{1}{1-\gamma}\sum\rho\, r = 10\cdot(0.1\cdot0 + 0.9\cdot1) = 9$.

# %%
ab = pg.chain_ab(0.9)
ev_ab = pg.evaluate(ab, np.ones((2, 1)))
sum_rho_Q = (ev_ab.rho * ev_ab.Q).sum()
correct = (ev_ab.rho * ab.R).sum() / (1 - ab.gamma)
print(f"d = {ev_ab.d}   V = {ev_ab.V}")
print(f"U = {ev_ab.U:.4f}    notes' sum rho Q = {sum_rho_Q:.4f}"
      f"    1/(1-gamma) sum rho r = {correct:.4f}")
assert np.allclose(ev_ab.d, [0.1, 0.9])
assert np.isclose(ev_ab.U, 9.0) and np.isclose(correct, 9.0)
assert np.isclose(sum_rho_Q, 9.9) and not np.isclose(sum_rho_Q, ev_ab.U)

# %% [markdown]
# In general $\sum_{s,a}\rho\,Q = \sum_s d^\pi(s) V(s) = (1-\gamma)\sum_t\gamma^t\,\mathbb{E}[V(s_t)]$: an
# average of the values of the states visited, not the value of the start. It equals $U$ when
# $d^\pi = \mu$ (the start distribution is already stationary, as with one state), not in general.
# On the random MDP above:

# %%
print(f"U = {ev5.U:.4f}    sum rho Q = {(ev5.rho * ev5.Q).sum():.4f}    "
      f"1/(1-gamma) sum rho r = {(ev5.rho * mdp.R).sum() / (1 - gamma):.4f}")
assert not np.isclose((ev5.rho * ev5.Q).sum(), ev5.U)

# %% [markdown]
# ## The "pick a random time" picture
#
# Draw a time $t$ with $\Pr(t = k) = (1-\gamma)\gamma^k$ (a geometric distribution with success probability
# $1-\gamma$, counted from 0), independently of the trajectory, and look at $s_t$:
# $$\Pr(s_t = s) = \sum_{k\ge0}(1-\gamma)\gamma^k\Pr(s_k=s) = d^\pi(s).$$
# So $d^\pi$ is the law of "the state at a random time $t$". That time has mean
# $\mathbb{E}[t] = \frac{\gamma}{1-\gamma}$ (9 for $\gamma = 0.9$); it is the number of steps $t + 1$
# (time 0 included) whose mean is the horizon $\mathbb{E}[t+1] = \frac{1}{1-\gamma}$ (10): the
# geometric distribution counted from 1. We sample it: numpy's `geometric(1 - gamma)` counts from 1, so we
# subtract 1.
# ($\Pr(t \ge 150) = 0.9^{150} \approx 10^{-7}$: the horizon 150 is never reached in practice.)

# %%
rng = np.random.default_rng(5)
N = 20000
t_random = rng.geometric(1 - gamma, size=N) - 1
eps5 = pg.sample_episodes(mdp, pi5, N, 150, rng)
state_at_t = eps5.states[np.arange(N), np.minimum(t_random, 149)]
freq = np.bincount(state_at_t, minlength=mdp.S) / N
se_freq = np.sqrt(ev5.d * (1 - ev5.d) / N)
t_se = t_random.std(ddof=1) / np.sqrt(N)
print(f"mean random time   E[t]     = {t_random.mean():.3f} +- {t_se:.3f}"
      f"   (exact gamma/(1-gamma) = {gamma / (1 - gamma):.3f})")
print(f"mean no. of steps  E[t + 1] = {t_random.mean() + 1:.3f} +- {t_se:.3f}"
      f"   (exact horizon 1/(1-gamma) = {1 / (1 - gamma):.3f})")
assert abs(t_random.mean() - gamma / (1 - gamma)) < 4 * t_se
print("exact   d           :", ev5.d)
print("sampled Pr(s_t = s) :", freq)
print(f"total variation distance = {0.5 * np.abs(freq - ev5.d).sum():.4f}")
assert np.all(np.abs(freq - ev5.d) < 4 * se_freq)

# %% [markdown]
# On A → B → B the random time is 0 with probability $1-\gamma = 0.1$ (state A), later otherwise
# (state B): exactly $d^\pi = (0.1, 0.9)$.
#
# ## Episodes that end, and $\gamma = 1$
#
# With terminal states the visits of the non-terminal states add up to less than $\frac{1}{1-\gamma}$
# (after the end there is nothing to visit): their total is the `effective_horizon`. The course's $d^\pi$ is
# the visits **normalised to sum 1**, and then
# $U = \text{effective\_horizon}\cdot\sum_{s,a}\rho\, r$. With $\gamma = 1$ the factor $(1-\gamma)$ would
# be 0: there the visits are the expected **numbers of visits** per episode, their total is the expected
# episode length, and their normalisation is Sutton & Barto's on-policy distribution (their Section 9.2:
# the expected visits $\eta(s)$ divided by $\sum_{s'}\eta(s')$; they call it $\mu$, our start
# distribution's name). Check on the short corridor (reward $-1$ per step, $\gamma = 1$, "right" with
# probability $p = 0.5$ in every state):

# %%
corridor = pg.short_corridor()
pi_c = np.tile([0.5, 0.5], (corridor.S, 1))        # (left, right) in every state
ev_c = pg.evaluate(corridor, pi_c)
eps_c = pg.sample_episodes(corridor, pi_c, 20000, 300, np.random.default_rng(3))
counts = np.array([(eps_c.mask * (eps_c.states == s)).sum(axis=1).mean()
                   for s in range(corridor.S)])
lengths = eps_c.lengths
print("exact   expected visits per episode:", ev_c.visits)
print("sampled mean visits per episode    :", counts)
print(f"expected length = effective_horizon = {ev_c.effective_horizon:.4f}   "
      f"sampled mean length = {lengths.mean():.4f} "
      f"+- {lengths.std(ddof=1) / np.sqrt(lengths.size):.4f}   "
      f"(truncated: {int(eps_c.truncated.sum())})")
print("exact d (normalised):", ev_c.d,
      "  sampled:", pg.visitation_frequencies(eps_c, corridor.S))
occupancy_form = ev_c.effective_horizon * (ev_c.rho * corridor.R).sum()
print(f"U = {ev_c.U:.4f} = effective_horizon * sum rho r = {occupancy_form:.4f}")
assert np.isclose(ev_c.U, ev_c.effective_horizon * (ev_c.rho * corridor.R).sum())
assert np.allclose(counts, ev_c.visits, atol=0.15)
assert abs(lengths.mean() - ev_c.effective_horizon) < 0.3

# %% [markdown]
# With $\gamma = 1$ a policy that never ends an episode has no finite value; `pg.evaluate` says so
# (found by reachability, not by a failed solve). Always going left keeps the agent at the wall forever:

# %%
try:
    pg.evaluate(corridor, np.tile([1.0, 0.0], (corridor.S, 1)))
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# ## Why weight states by $d^\pi$ and not uniformly?
#
# $U$ collects rewards where the policy actually goes, so a change of the policy in state $s$ changes $U$
# in proportion to how often (and how early) $s$ is visited: in notebook 02 the gradient is
# $\nabla U = \sum_s \text{visits}(s)\sum_a \nabla\pi(a|s)\,Q(s,a)$. Weighting states uniformly instead
# gives a direction that is not the gradient of $U$ (nor of the average value over states, see below) and
# spends effort on states the policy never reaches. To make that visible, add an unreachable column behind a wall to the
# grid (states 4 and 8, next to a pit and a goal of their own). The exact gradient is **zero** there; the
# uniformly weighted direction is not, and a step along it improves $U$ less than a step of the same length
# along $\nabla U$.

# %%
walled = pg.gridworld(layout=("S...#.", ".#.H#.", "...H#H", "H..G#G"))
_, pi_star = pg.optimal_values(walled)
pi_w = 0.7 * pi_star + 0.3 / walled.A
tab = pg.SoftmaxPolicy.tabular(walled.S, walled.A)
theta_w = np.log(pi_w)
ev_w = pg.evaluate(walled, pi_w)
live = ~walled.terminal
uniform = live / live.sum()
grad_U = pg.policy_gradient(walled, tab, theta_w)
grad_uniform = ev_w.effective_horizon * pg.score_expectation(walled, tab, theta_w, ev_w.Q,
                                                             d=uniform)
unreached = np.flatnonzero(live & (ev_w.visits == 0))
cos = pg.cosine(grad_U, grad_uniform)
print("states never reached:", unreached)
share = np.linalg.norm(grad_uniform[unreached]) / np.linalg.norm(grad_uniform)
print(f"|grad U| on them = {np.abs(grad_U[unreached]).max():.4f}"
      f"    share of |uniform direction| on them = {share:.3f}")
print(f"cosine(grad U, uniform direction) = {cos:.4f}")
for name, g in [("grad U (d^pi weights)", grad_U),
                ("uniform state weights", grad_uniform)]:
    gain = pg.objective(walled, tab, theta_w + g / np.linalg.norm(g)) - ev_w.U
    print(f"U gain of a step of length 1 along {name:22s}: {gain:.4f}")
assert np.all(grad_U[unreached] == 0) and cos < 0.9

# %% [markdown]
# The uniform weighting is also not the gradient of the "average value over states" objective
# $\frac{1}{|S|}\sum_s V(s)$: that objective is $U$ with a uniform *start* distribution, whose gradient
# weights states by the visits *from* those starts.

# %%
walled_uniform_start = pg.TabularMDP(walled.P, walled.R, uniform, walled.gamma,
                                     walled.terminal)
grad_avgV = pg.policy_gradient(walled_uniform_start, tab, theta_w)
cos2 = pg.cosine(grad_avgV, grad_uniform)
print(f"cosine(grad of mean_s V(s), uniform direction) = {cos2:.4f}")
assert cos2 < 0.99

# %% [markdown]
# ## Explore: $d^\pi$ from samples
#
# The widget samples episodes of the gridworld policy and counts the states visited, each visit at time
# $t$ weighted by $\gamma^t$ (`pg.visitation_frequencies(episodes, S, gamma)`), normalised. Left: the exact
# $d^\pi$; right: the sampled frequencies; the summary prints the total-variation distance
# $\frac12\sum_s|d^\pi(s) - \hat d(s)|$, which shrinks like $1/\sqrt{N}$. With $\gamma = 0$ all the mass
# is on the start; as $\gamma \to 1$ it spreads along the paths the policy takes.

# %%
explorer = pgw.dpi_explorer()
explorer

# %% [markdown]
# ## Try it
#
# `exercises/ex01_occupancy.ipynb`: compute the discounted visits of a policy by the sum over time and by
# one linear solve, normalise them to $d^\pi$, and check $U = \frac{1}{1-\gamma}\sum\rho\, r$ yourself.
#
# ## Recap
#
# - $U(\theta) = \mathbb{E}_\tau[\sum_t\gamma^t r_t] = \mathbb{E}_\mu[V] = \mathbb{E}_{\mu,\pi}[Q]
#   = \sum_t\gamma^t\,\mathbb{E}[r(s_t,a_t)]$: all equal, exactly and by sampling.
# - $d^\pi(s) = (1-\gamma)\sum_t\gamma^t\Pr(s_t=s)$ is a distribution (the state at a geometric random
#   time); $\rho = d^\pi\pi$.
# - $U = \frac{1}{1-\gamma}\sum\rho\, r$. The notes' $\sum\rho\,Q$ is wrong: 9.9 instead of 9 on A → B → B.
# - Episodic tasks: normalise the (expected) visit counts; with $\gamma = 1$ their total is the expected
#   episode length.
# - Gradients weight states by how much the policy visits them; uniform weights point elsewhere.
