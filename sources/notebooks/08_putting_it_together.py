# %% [markdown]
# # 08 · Putting it together: an estimator lab on FrozenLake, and an outlook on natural gradients
#
# Every advantage estimator of the course — Monte Carlo returns, a baseline, TD errors, GAE — plugs into
# the same gradient estimate $\hat g = \frac1N\sum_n\sum_t \gamma^t\nabla\log\pi(a_t\mid s_t)\,w_t$; they differ
# only in the per-step weights $w_t$. Here we score them, and one of your own, against the exact gradient
# of a real toy-text MDP.
#
# **Learning objectives**
# - Build FrozenLake 4x4 as a tabular MDP (gymnasium's table, bundled) and compute its exact gradient.
# - Score gradient estimators by bias, variance and cosine similarity with the exact gradient, as a
#   function of the number of episodes — and write an estimator of your own.
# - See why a biased, low-variance estimator can point in a better direction than an unbiased one.
# - Preview the natural policy gradient: the Fisher matrix, the natural gradient $= H \cdot A$ up to
#   per-state constants for a tabular softmax, and its much faster convergence.

# %%
import numpy as np
import matplotlib.pyplot as plt
# %matplotlib inline

import pgcourse as pg
import pgcourse.plots as pgp
import pgcourse.widgets as pgw
from pgcourse.analysis import group_cosines

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px

# %% [markdown]
# ## 1. FrozenLake as a tabular MDP
#
# `pg.frozen_lake()` is a bundled copy of gymnasium's `FrozenLake-v1` table: 16 cells, actions
# left/down/right/up, slippery moves (the intended direction or one of the two perpendicular ones, 1/3 each),
# reward 1 for reaching the goal G, holes H and G end the episode. If gymnasium is installed the cell below
# also builds the MDP from gymnasium's own table with `pg.from_gymnasium` and asserts the two agree (to
# $10^{-12}$: both add up the same thirds, in a different order). Without gymnasium the bundled copy is used
# and the notebook runs the same.

# %%
gamma = 0.99
mdp = pg.frozen_lake(gamma)
try:
    import gymnasium as gym
except ImportError:  # optional dependency
    gym = None
if gym is not None:
    gym_mdp = pg.from_gymnasium(gym.make("FrozenLake-v1"), gamma)
    for field in ("P", "R", "mu"):
        assert np.allclose(getattr(gym_mdp, field), getattr(mdp, field),
                           rtol=0, atol=1e-12), field
    assert np.array_equal(gym_mdp.terminal, mdp.terminal)
print(mdp)
print("\n".join(mdp.layout))
V_star, pi_star = pg.optimal_values(mdp)
U_star = float(mdp.mu @ V_star)
print(f"optimal U* = {U_star:.4f}"
      f"  (probability of reaching G, discounted by gamma = {gamma})")

# %% [markdown]
# The lab's policy is a tabular softmax that leans a little towards *down* and *right*
# (`pg.frozen_lake_lab`). Exact $V$, $U$ and the exact gradient:

# %%
lab = pg.frozen_lake_lab()
policy, theta, ev, grad, big, V_td = (
    lab[k] for k in ("policy", "theta", "ev", "grad", "episodes", "V_td"))
print(f"exact U = {ev.U:.4f}   |grad U| = {np.linalg.norm(grad):.4f}"
      f"   effective horizon H = {ev.effective_horizon:.3f}")
print(big)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4.0))
pgp.grid_heatmap(ax1, mdp, ev.V, title="exact V of the lab policy", fmt="{:.3f}",
                 label="V(s)")
pgp.grid_heatmap(ax2, mdp, V_star, title="optimal V*", fmt="{:.3f}", label="V*(s)")
pgp.show(fig, alt="Two FrozenLake heatmaps, each with its own colour scale: the exact V "
                  "of the lab policy and the optimal V*; holes and the goal are terminal "
                  "cells, hatched.")

# %% [markdown]
# The critic of the lab is **learned**: batch TD(0) on a separate 200 episodes (`V_td`), so estimators that
# lean on it inherit its error, as in practice:

# %%
print("TD critic V_td:", V_td.reshape(4, 4), sep="\n")
print(f"max |V_td - V| = {np.abs(V_td - ev.V).max():.4f}")

# %% [markdown]
# ## 2. The estimator lab
#
# An estimator is a function `(episodes, V, gamma) -> weights (N, T)`; the gradient estimate is
# `pg.advantage_gradient(policy, theta, episodes, weights, gamma)`. `pg.score_estimator` evaluates it on
# 10000 episodes: one gradient sample per episode, then
# - `|bias|` $= \|\bar g - \nabla U\|$, next to its `noise` floor $\sqrt{\mathrm{tr\,Var}/N}$ (an unbiased
#   estimator's $|\text{bias}|$ is about this size);
# - `var/episode` $= \mathrm{tr\,Cov}$ of one episode's gradient (a batch of $n$ has $1/n$ of it);
# - `cos@n`: the average, over disjoint groups of $n$ episodes, of the cosine between the group's gradient
#   estimate and the exact $\nabla U$ — does a batch of $n$ episodes point the right way?
#
# **Your estimator.** Here is an example a student might write: the 3-step advantage
# $\delta_t + \gamma\delta_{t+1} + \gamma^2\delta_{t+2} = r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} +
# \gamma^3\hat V(s_{t+3}) - \hat V(s_t)$ (TD errors are 0 after the episode's end, so shifting is safe).
# Edit it and re-run the cells below.

# %%
def three_step(episodes, V, gamma):
    """3-step advantage: delta_t + gamma delta_{t+1} + gamma^2 delta_{t+2}, shape
    (N, T)."""
    d = pg.td_errors(episodes, V, gamma)
    out = d.copy()
    out[:, :-1] += gamma * d[:, 1:]
    out[:, :-2] += gamma ** 2 * d[:, 2:]
    return out


estimators = dict(pg.BUILTIN_ESTIMATORS, **{"3-step (student)": three_step})
scores = [pg.score_estimator(name, f, policy, theta, big, V_td, gamma, grad)
          for name, f in estimators.items()]
print(pg.score_table(scores))
cos_se = {sc.name: {n: pg.mean_se(group_cosines(sc.samples, grad, n))[1]
                    for n in sc.cosine}
          for sc in scores}
print("s.e. of cos@n (over the disjoint groups of n episodes):")
for name, se_n in cos_se.items():
    print(f"{name:<20s} " + "  ".join(f"{n:>4d}: {v:.3f}" for n, v in se_n.items()))

# %% [markdown]
# **Exact beside sampled.** For the built-in estimators the expectation of $\hat g$ is known exactly
# (notebook 07's `pg.expected_gradient_estimate`: REINFORCE is GAE with $\hat V = 0$, $\lambda = 1$, and a
# baseline does not change the expectation). The sampled mean must sit within its noise of the exact
# expectation:

# %%
exact_setup = {"REINFORCE": (np.zeros(mdp.S), 1.0),
               "REINFORCE+baseline": (np.zeros(mdp.S), 1.0),
               "actor-critic": (V_td, 0.0), "GAE(0.95)": (V_td, 0.95)}
print(f"{'estimator':<20s} {'exact |E[g]-grad U|':>20s} {'sampled |mean-E[g]|':>20s}"
      f" {'noise':>8s} {'exact cos(E[g], grad U)':>24s}")
for sc in scores[:4]:
    V_c, lam = exact_setup[sc.name]
    Eg = pg.expected_gradient_estimate(mdp, policy, theta, V_c, lam, lab["horizon"])
    dist = np.linalg.norm(sc.mean - Eg)
    print(f"{sc.name:<20s} {np.linalg.norm(Eg - grad):20.4f} {dist:20.4f}"
          f" {sc.noise_floor:8.4f} {pg.cosine(Eg, grad):24.4f}")
    assert dist < 2 * sc.noise_floor

# %% [markdown]
# Read the table together with the plot below. REINFORCE and REINFORCE+baseline are unbiased (exact bias
# $\approx 0$: FrozenLake episodes end long before the horizon of 100) but so noisy that even 1000 episodes
# point only roughly the right way (cos@1000 = 0.42 +- 0.04 and 0.51 +- 0.03, s.e. over the groups). The
# actor-critic estimate is clearly **biased** — the learned critic is off — yet with about a tenth of
# REINFORCE's variance (0.0100 against 0.1032 per episode) it has the best direction at every batch size
# tried here (0.885 +- 0.016 at 1000); its exact cosine (0.988) caps how good it can ever get. GAE(0.95) and the
# 3-step estimator sit in between.

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.2))
pgp.cosine_vs_n(ax, scores)
# error bars: +- 2 s.e. over the disjoint groups of n episodes
for i, sc in enumerate(scores):
    ns = sorted(sc.cosine)
    ax.errorbar(ns, [sc.cosine[n] for n in ns], yerr=[2 * cos_se[sc.name][n] for n in ns],
                fmt="none", ecolor=pgp.series(i)["color"], capsize=2, lw=1)
pgp.show(fig, alt="Mean cosine similarity between each estimator's n-episode estimate "
                  "and the exact gradient, against n on a log axis, with +-2 "
                  "standard-error bars over the groups of n episodes: every curve rises "
                  "with n, actor-critic highest, REINFORCE lowest.")
var = {s.name: s.variance for s in scores}
assert (var["actor-critic"] < var["3-step (student)"] < var["GAE(0.95)"]
        < var["REINFORCE+baseline"] < var["REINFORCE"])

# %% [markdown]
# ## 3. Outlook: the natural policy gradient
#
# Plain gradient ascent measures a step by $\|\Delta\theta\|$. The natural gradient measures it by how much
# the *policy* changes, through the Fisher information matrix
# $F = \mathbb{E}_{s\sim d, a\sim\pi}[\nabla\log\pi(a\mid s)\nabla\log\pi(a\mid s)^\top]$, and steps along
# $F^{+}\nabla U$ (`pg.fisher_matrix`, `pg.natural_gradient`; $F$ of a softmax is singular, hence the
# pseudo-inverse). The advantage estimation is unchanged — only the preconditioning differs.
#
# For the **tabular softmax**, $F$ is block-diagonal with blocks $d(s)(\mathrm{diag}\,\pi_s - \pi_s\pi_s^\top)$
# and $\nabla U(s, a) = \mathrm{visits}(s)\pi(a\mid s)A(s, a)$, so $F x = \nabla U$ is solved by
# $x(s, a) = H\, A(s, a) + c(s)$ with $H = \sum_s \mathrm{visits}(s)$ the effective horizon ($= 1/(1-\gamma)$
# without terminal states) and any per-state constants $c(s)$: the natural gradient no longer cares how
# often a state is visited. Both sides, on FrozenLake (for the states the policy visits):

# %%
F = pg.fisher_matrix(mdp, policy, theta)
ng = pg.natural_gradient(mdp, policy, theta)
H = ev.effective_horizon
visited = ev.d > 0
c = (ng - H * ev.A)[visited]
print(f"F is {F.shape[0]}x{F.shape[1]}, rank {np.linalg.matrix_rank(F)}")
print("natural gradient - H A, per visited state (each row constant):\n", c[:4])
print("spread within each row:", np.ptp(c, axis=1).max().round(10))
assert np.allclose(c, c[:, :1], atol=1e-10)
assert np.allclose(F @ ng.ravel(), grad.ravel())

# %% [markdown]
# And with no terminal states, where $H = 1/(1-\gamma)$ exactly (a random 5-state MDP, $\gamma = 0.9$):

# %%
mdp5 = pg.random_mdp(5, 3, 0.9, np.random.default_rng(3))
pol5 = pg.SoftmaxPolicy.tabular(5, 3)
th5 = np.random.default_rng(4).normal(size=(5, 3))
ev5 = pg.evaluate(mdp5, pol5.probs(th5))
c5 = pg.natural_gradient(mdp5, pol5, th5) - ev5.A / (1 - mdp5.gamma)
print(f"1/(1-gamma) = {1 / (1 - mdp5.gamma):.4f}"
      f"   effective horizon = {ev5.effective_horizon:.4f}")
print("natural gradient - A/(1-gamma), per state:\n", c5)
assert np.allclose(c5, c5[:, :1], atol=1e-10)

# %% [markdown]
# **Convergence.** Exact softmax policy gradient ascent is known to crawl on plateaus where the policy is
# nearly deterministic or a state is rarely visited; the natural gradient is not slowed by either. Both from
# the uniform policy ($\theta = 0$) on FrozenLake, sub-optimality $U^* - U(\theta_k)$ on a log scale
# (exact gradients, no sampling; the vanilla step sizes are large because $|\nabla U|$ is tiny here):

# %%
theta0 = policy.zeros()
runs = {"exact PG, lr 10": dict(method="exact", lr=10.0),
        "exact PG, lr 100": dict(method="exact", lr=100.0),
        "natural PG, lr 1": dict(method="natural", lr=1.0)}
curves = {k: pg.train(mdp, policy, theta0, n_iters=100, **kw).U for k, kw in runs.items()}


def gap(U):  # U* - U, shown as "< 1e-9" below round-off-sensitive sizes
    return f"{U_star - U:9.2e}" if U_star - U >= 1e-9 else "  < 1e-09"


for k, U in curves.items():
    print(f"{k:<20s} U* - U after 10, 50, 100 iterations:"
          f" {gap(U[10])} {gap(U[50])} {gap(U[100])}")
assert (U_star - curves["natural PG, lr 1"][50] < 1e-8
        < U_star - curves["exact PG, lr 100"][100])
fig, ax = plt.subplots(figsize=(6.5, 4.0))
pgp.suboptimality(ax, curves, U_star,
                  title="FrozenLake: U* - U(theta_k), exact vs natural PG")
pgp.show(fig, alt="Sub-optimality U* - U against the iteration, log scale: exact "
                  "gradient ascent with step 10 and 100 crawls on plateaus, the natural "
                  "gradient falls geometrically to round-off.")

# %%
# Agarwal et al.'s O(1/k) bound for NPG from theta = 0 (pg.npg_bound) beside a run. The
# theorem is stated for discounted MDPs without terminal states, so the run is on the
# random 5-state MDP above.
U5_star = mdp5.mu @ pg.optimal_values(mdp5)[0]
ks = np.array([1, 10, 30, 100])
print("eta     k   U* - U_k (run)   bound log|A|/(eta k) + 1/((1-gamma)^2 k)")
for eta in (0.1, 1.0):
    iterates = pg.npg_iterates(mdp5, pol5, pol5.zeros(), eta, int(ks[-1]))
    U5 = pg.objective_curve(mdp5, pol5, iterates)
    bound = pg.npg_bound(mdp5, eta, ks)
    for k_, g_, b_ in zip(ks, U5_star - U5[ks], bound):
        print(f"{eta:3.1f}  {k_:4d}   {max(g_, 0.0):14.2e}   {b_:10.2f}")
    assert np.all(U5_star - U5[ks] <= bound) and np.all(np.diff(U5) >= -1e-12)

# %% [markdown]
# Vanilla gradient ascent escapes the first plateau sooner with the bigger step, then crawls; in this run the
# natural gradient's sub-optimality falls geometrically, below $10^{-9}$ by iteration 50, until round-off
# (the plot cuts $U^\star - U$ at $10^{-16}$). That is what this run does, not a theorem: for the unregularised
# softmax the natural gradient's guarantee is $U^\star - U_k \le \frac{\log|A|}{\eta k} + \frac{1}{(1-\gamma)^2 k}$
# (Agarwal et al. 2021), an $O(1/k)$ rate, with $U_k$ never decreasing; linear rates need entropy
# regularisation (Cen et al. 2021). The plateaus of vanilla gradient ascent near nearly deterministic policies
# are documented by Mei et al. (2020), and chains where the escape time grows exponentially with the number of
# states by Li et al. (2021). `pg.natural_gradient` solves the compatible critic's weighted least-squares problem
# and never forms $F$ (a pseudo-inverse of $F$ would square the condition number and drop the update of nearly
# deterministic actions).
#
# **Outlook: Part II.** The notes end here, remarking that the gradient "appears to lack a true objective
# function". Part II takes it from there, every step exact beside sampled:
# [09](09_surrogates_trust_regions.ipynb) shows the objective behind each step — the surrogate $L_{\text{old}}$ and
# the performance difference lemma — and builds TRPO's bound, a KL-constrained step and PPO's clipped
# objective from it; [10](10_convergence.ipynb) checks the convergence theorems quoted above (gradient
# domination, plateaus, the NPG bound for every $k$, entropy regularisation);
# [11](11_function_approximation.ipynb) shows why the natural gradient is the weight vector of a compatible
# critic, and measures the estimator design choices (n-step advantages, reward-to-go, the dropped $\gamma^t$).
#
# ## 4. Explore: estimator and batch size
#
# Pick an estimator and a number of episodes $n$. Left: mean cosine similarity with the exact gradient vs
# $n$ for every estimator (yours included). Right: the components of the chosen estimator's gradient from
# the first $n$ episodes, and from all 10000, against the exact ones (the line $y = x$). Unbiased
# estimators close in on the line as $n$ grows; a biased one stops short.

# %%
ex = pgw.estimator_lab_explorer(extra={"3-step (student)": three_step}, lab=lab,
                                scores=scores)
ex

# %% [markdown]
# ## Try it
#
# Exercise `exercises/ex08_training_loop.ipynb`: write the training loop yourself — sample, estimate the
# advantage (Monte Carlo, TD or GAE), take a gradient step — and compare your learning curve with
# `pg.train`.
#
# ## Recap
# - All estimators share one form; only the per-step weights differ. Score them against the exact gradient:
#   bias (exact where we can, measured with its noise floor), variance, and cosine vs batch size.
# - With a learned critic, bias and variance trade: the lowest-variance estimator can point best at
#   practical batch sizes even though it never converges to the exact gradient.
# - The natural gradient $F^{+}\nabla U$ is $H\cdot A$ up to per-state constants for a tabular softmax, and
#   converges far faster than the vanilla gradient on FrozenLake.
