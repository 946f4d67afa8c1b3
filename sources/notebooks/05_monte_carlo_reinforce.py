# %% [markdown]
# # 05 · Monte Carlo estimation and REINFORCE
#
# **Learning objectives.** After this notebook you can
# - explain why exact $Q^\pi$ and $V^\pi$ are out of reach in practice (unknown dynamics; the cost of a
#   linear solve that grows like $S^3$, with $S$ itself huge or infinite);
# - compute returns $G_t$ from sampled episodes, and use them as unbiased samples of $Q(s_t,a_t)$ and, averaged
#   per state, as an estimate of $V(s)$; form the Monte Carlo advantage $A_t = G_t - V(s_t)$;
# - say what "unbiased but high variance" and "has to wait for the episode to end" mean, with numbers;
# - run REINFORCE with and without a baseline and compare its learning curves with exact gradient ascent.

# %%
import time

import numpy as np
import matplotlib.pyplot as plt
# %matplotlib inline

import pgcourse as pg
import pgcourse.plots as pgp
import pgcourse.widgets as pgw

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px

# %% [markdown]
# ## Why not just compute $Q$ and $V$?
#
# Everything so far used `pg.evaluate`: $V = (I - \gamma P_\pi)^{-1} r_\pi$ by a linear solve. That needs
#
# 1. **the model**: $P[s,a,s']$ and $r(s,a)$. A real agent usually does not have them; it only sees episodes.
# 2. **a table**: one row per state. The transition array alone has $S^2A$ numbers, and the solve costs about
#    $S^3/3$ multiply-adds (an LU factorisation). A camera image, a robot's joint angles or a board game has
#    astronomically many states, or a continuum; with continuous actions $Q(s,\cdot)$ cannot even be listed.
#
# What the table costs, for two actions:

# %%
print("        S    entries of P (S^2 A)    memory (float64)"
      "    ~ multiply-adds of the solve (S^3/3)")
for S in [100, 1_000, 10_000, 100_000, 1_000_000]:
    entries = S * S * 2
    print(f"{S:9d}   {entries:20.3g}   {entries * 8 / 1e9:12.3g} GB   {S**3 / 3:28.3g}")

# %% [markdown]
# And the time of `pg.evaluate` on random MDPs with $S = 100, \dots, 800$ states. Doubling $S$ should multiply the
# solve by about 8 (the $S^3$ term) once it dominates; at these small sizes the $S^2A$ work of building
# $P_\pi$ still shows, so the measured ratio (last column) stays below 8. Read it on an idle machine: on a
# loaded one (like the shared machine that built this notebook) timings are noise, and this cell's output
# is not checked.

# %% tags=["nbval-ignore-output"]
previous = None
print("    S    evaluate (ms)   ratio to S/2")
for S in [100, 200, 400, 800]:
    rng = np.random.default_rng(0)
    big = pg.TabularMDP(rng.dirichlet(np.ones(S), size=(S, 2)), rng.normal(size=(S, 2)),
                        np.full(S, 1 / S), 0.9)
    pi_uniform = np.full((S, 2), 0.5)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        pg.evaluate(big, pi_uniform)
        times.append(time.perf_counter() - t0)
    best = min(times)
    ratio = "" if previous is None else f"{best / previous:5.1f}"
    print(f"{S:5d}   {1000 * best:10.2f}      " + ratio)
    previous = best

# %% [markdown]
# So the advantage has to be **estimated from episodes**. The rest of the course is about how. This notebook
# does it the simplest way, by Monte Carlo: average what actually happened. We work on a small gridworld
# where the exact answers are still available to grade the estimates: start top-left, goal `G` (+1) bottom
# right, pits `H` (-1), a wall `#`, a step cost of 0.02, slippery moves, $\gamma = 0.95$, and the uniform
# policy ($\theta = 0$).

# %%
mdp = pg.gridworld(step_reward=-0.02)
policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
theta = policy.zeros()
ev = pg.evaluate(mdp, policy.probs(theta))
print(mdp)
print("\n".join(mdp.layout))
print(f"exact U = V(start) = {ev.U:.4f}")

# %% [markdown]
# ## Returns
#
# From an episode $s_0, a_0, r_0, s_1, a_1, r_1, \dots$ the return from step $t$ is the discounted reward-to-go
#
# $$G_t = \sum_{k\ge0}\gamma^k r_{t+k} = r_t + \gamma G_{t+1}\qquad(G = 0 \text{ after the episode ends}),$$
#
# computed for all episodes at once by the backward recursion (`pg.discounted_returns`). One episode, and a
# check of the recursion against the direct sum:

# %%
N = 10000
episodes = pg.sample_episodes(mdp, ev.pi, N, 200, np.random.default_rng(0))
print(episodes)
G = pg.discounted_returns(episodes.rewards, mdp.gamma, episodes.mask)
n, L = 0, episodes.lengths[0]
print("states  ", episodes.states[n, :L])
print("rewards ", episodes.rewards[n, :L])
print("G_t     ", G[n, :L])
direct = np.array([sum(mdp.gamma**k * episodes.rewards[n, t + k] for k in range(L - t))
                   for t in range(L)])
assert np.allclose(G[n, :L], direct)
assert np.all(G[episodes.mask == 0] == 0)

# %% [markdown]
# ## $G_t$ is an unbiased sample
#
# Given $s_t = s$ (and the past), the rewards from $t$ on are distributed exactly as an episode started in $s$,
# so $\mathbb{E}[G_t \mid s_t = s] = V(s)$, and given also $a_t = a$, $\mathbb{E}[G_t\mid s_t, a_t] = Q(s,a)$. In
# particular $G_0$ is an unbiased sample of $U = \mu\cdot V$ — independent across episodes, so its standard
# error is honest:

# %%
U_mc, U_se = pg.mean_se(G[:, 0])
print(f"U exact = {ev.U:.4f}    mean of G_0 over {N} episodes = {U_mc:.4f} +- {U_se:.4f}")
assert abs(U_mc - ev.U) < 4 * U_se

# %% [markdown]
# ## Empirical $V$ and $Q$
#
# The Monte Carlo value estimate averages the returns observed from each state (every visit counts):
# $\hat V(s) = \frac1{N(s)}\sum_{t: s_t = s} G_t$ (`pg.mc_values`), and likewise $\hat Q(s,a)$ over the steps
# with $(s_t,a_t) = (s,a)$ (`pg.mc_action_values`). No model, no bootstrapping: just averages. Against the
# exact values:

# %%
V_hat = pg.mc_values(episodes, S=mdp.S, gamma=mdp.gamma)
Q_hat, counts = pg.mc_action_values(episodes, S=mdp.S, A=mdp.A, gamma=mdp.gamma)
live = ~mdp.terminal
print("V exact   =", ev.V[live])
print("V sampled =", V_hat[live])
print(f"max |V_hat - V| = {np.abs(V_hat - ev.V)[live].max():.4f}"
      f"    max |Q_hat - Q| = {np.abs(Q_hat - ev.Q)[live].max():.4f}"
      f"    (fewest visits of a pair: {int(counts[live].min())})")
assert np.abs(V_hat - ev.V)[live].max() < 0.03
assert np.abs(Q_hat - ev.Q)[live].max() < 0.05

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
scale = {"vmin": min(ev.V[live].min(), V_hat[live].min()),
         "vmax": max(ev.V[live].max(), V_hat[live].max())}
pgp.grid_heatmap(axes[0], mdp, ev.V, title="exact V", label="V(s)", **scale)
pgp.grid_heatmap(axes[1], mdp, V_hat, title=f"Monte Carlo V from {N} episodes",
                 label="V(s)", **scale)
pgp.show(fig, alt=f"Two gridworld heatmaps on one colour scale, the exact V and the "
                  f"Monte Carlo estimate from {N} episodes; the pits and the goal are "
                  "terminal cells, hatched; the two maps agree to two decimals.")

# %% [markdown]
# ## The Monte Carlo advantage $A_t = G_t - V(s_t)$
#
# Subtract the state's value from the return: $A_t = G_t - V(s_t)$, with $V$ exact (an oracle) or estimated
# ($\hat V$ above). Since $\mathbb{E}[G_t\mid s_t,a_t] = Q(s_t,a_t)$, with the exact $V$ its conditional mean is
# exactly $A(s_t,a_t)$. With the *estimated* $\hat V$ it is not: $\hat V(s)$ is an average of returns from the
# same batch, including $G_t$ itself, so $G_t - \hat V(s_t)$ is biased, and $\hat V$ is correlated with $a_t$.
# Every-visit averages are *consistent* (the error goes to 0 as the visits $N(s)$ grow), not unbiased; the
# gradient bias is $O(1/N(s))$ — measured below. Averaged per pair:

# %%
A_t = (G - ev.V[episodes.states]) * episodes.mask
A_t_hat = (G - V_hat[episodes.states]) * episodes.mask
k = (episodes.states * mdp.A + episodes.actions).ravel()
per_pair = lambda x: (np.bincount(k, weights=x.ravel(), minlength=mdp.S * mdp.A)
                      .reshape(mdp.S, mdp.A) / np.maximum(counts, 1))
print("exact A (first 4 states) =\n", ev.A[:4])
print("mean of G_t - V(s_t)     =\n", per_pair(A_t)[:4])
print(f"max |mean A_t - A|: V exact {np.abs(per_pair(A_t) - ev.A)[live].max():.4f},"
      f"  V estimated {np.abs(per_pair(A_t_hat) - ev.A)[live].max():.4f}")
assert np.abs(per_pair(A_t) - ev.A)[live].max() < 0.05

# %% [markdown]
# ## "Requires waiting until the episode ends"
#
# $G_t$ contains every reward until the end of the episode. Stopping after $k$ steps gives
# $\sum_{j<k}\gamma^j r_{t+j}$, an unbiased estimate of a *different* number, the $k$-step value
# $V_k(s) = \mathbb{E}[\sum_{j<k}\gamma^j r_j\mid s_0 = s]$ (exactly: $k$ Bellman backups from $V_0 = 0$,
# `pg.truncated_values`). Only as $k$ grows past the episode lengths does it become $V$:

# %%
print(f"episode lengths: mean {episodes.lengths.mean():.1f},"
      f" longest {episodes.lengths.max()}")
print("  k    exact E[G_0 cut at k]   sampled            exact U")
for cut in [1, 5, 10, 20, 50, 200]:
    G_cut = pg.discounted_returns(episodes.rewards[:, :cut], mdp.gamma,
                                  episodes.mask[:, :cut])[:, 0]
    exact_cut = mdp.mu @ pg.truncated_values(mdp, ev.pi, cut)
    m, se = pg.mean_se(G_cut)
    print(f"{cut:4d}    {exact_cut:14.4f}       {m:8.4f} +- {se:.4f}    {ev.U:.4f}")
    assert abs(m - exact_cut) < 4 * se + 1e-12
assert abs(mdp.mu @ pg.truncated_values(mdp, ev.pi, 10) - ev.U) > 0.1

# %% [markdown]
# The episodes here last 19 steps on average and sometimes well over 100, so an honest Monte Carlo estimate of
# $V(s_0)$ arrives only after the whole episode. In a long or never-ending task this is the practical weakness
# that TD methods (notebook 06) remove.
#
# ## REINFORCE: unbiased, high variance
#
# Putting the returns into the policy-gradient theorem gives REINFORCE (Williams, 1992):
#
# $$\hat g = \frac1N\sum_{n=1}^N\sum_t\gamma^t\,\nabla_\theta\log\pi_\theta(a_t|s_t)\,\big(G_t - b(s_t)\big),$$
#
# with $b = 0$ or a baseline $b = V$. Its expectation is exactly $\nabla U$ (notebook 03). How noisy is it? Per
# episode estimates at $\theta = 0$: the mean of all 10 000 sits on the exact gradient, but one **batch of 10
# episodes** has an error several times the size of the gradient itself:

# %%
grad = pg.policy_gradient(mdp, policy, theta)
print(f"|grad U| = {np.linalg.norm(grad):.4f}")
for name, b in [("no baseline", np.zeros(mdp.S)), ("baseline V", ev.V)]:
    A_b = G - b[episodes.states]
    X = pg.per_episode_gradients(policy, theta, episodes, A_b, mdp.gamma).reshape(N, -1)
    m, se = pg.mean_se(X)
    dev = (np.abs(m - grad.ravel()) / np.maximum(se, 1e-12))[se > 0].max()
    noise10 = np.sqrt(np.trace(np.cov(X.T)) / 10)
    print(f"{name:12s} mean of {N}: max |mean - grad U| / s.e. = {dev:.2f};"
          f"   typical error of a 10-episode batch = {noise10:.3f}"
          f" = {noise10 / np.linalg.norm(grad):.1f} x |grad U|")
    assert dev < 4.0
per_episode = pg.per_episode_gradients(policy, theta, episodes, G, mdp.gamma)
assert np.allclose(per_episode.mean(axis=0),
                   pg.reinforce_gradient(policy, theta, episodes, mdp.gamma))

# %% [markdown]
# **A baseline from the same batch is biased.** Take batches of $n = 10$ episodes and use as the baseline
# the batch's own every-visit average $\hat V$ (`pg.mc_values` on the same 10 episodes), or one from an
# *independent* batch of 10. Averaged over 1000 batches, the exact gradient against the mean estimate, with
# its standard error (s.e. of the mean over batches; "dist/s.e." is $\|\bar g - \nabla U\|$ in units of the
# noise floor $\sqrt{\mathrm{tr\,Cov}/1000}$, about 1 for an unbiased estimator):

# %%
n_b, n_batches = 10, 1000
pool = pg.sample_episodes(mdp, ev.pi, 2 * n_b * n_batches, 200, np.random.default_rng(5))
g_same, g_indep, dists = [], [], {}
for i in range(n_batches):
    batch = pool.take(slice(2 * n_b * i, 2 * n_b * i + n_b))
    other = pool.take(slice(2 * n_b * i + n_b, 2 * n_b * (i + 1)))
    for out, src in ((g_same, batch), (g_indep, other)):
        b = pg.mc_values(src, S=mdp.S, gamma=mdp.gamma)
        g_batch = pg.reinforce_gradient(policy, theta, batch, mdp.gamma, baseline=b)
        out.append(g_batch.ravel())
for name, g_b in (("same-batch V_hat", np.array(g_same)),
                  ("independent V_hat", np.array(g_indep))):
    m, se = pg.mean_se(g_b)
    floor = np.sqrt(pg.total_variance(g_b) / n_batches)
    dist = np.linalg.norm(m - grad.ravel())
    print(f"{name:18s} |mean - grad U| = {dist:.4f}  noise floor {floor:.4f}"
          f"  dist/s.e. = {dist / floor:.1f}"
          f"   max |z| = {np.abs(pg.z_scores(g_b, grad.ravel())).max():.1f}")
    dists[name] = dist / floor
assert dists["same-batch V_hat"] > 2.5 and dists["independent V_hat"] < 2.5

# %% [markdown]
# The same-batch baseline misses $\nabla U$ by several noise floors; the independent one does not. The bias
# shrinks like $1/N(s)$ as the batch grows, which is why practice gets away with it, but it is there: a
# critic *learned from earlier batches* (next section) avoids it.
# %% [markdown]
# ## Learning curves: REINFORCE vs exact gradient ascent
#
# Now follow the gradient: $\theta_{k+1} = \theta_k + \alpha\,g_k$ with the same learning rate $\alpha = 5$ for
#
# - `exact`: the true $\nabla U(\theta_k)$ (needs the model);
# - `reinforce`: the estimate from $N = 10$ fresh episodes per iteration;
# - `reinforce_baseline`: the same with $b = V^{\pi_{\theta_k}}$ (here the exact $V$, an oracle critic, so that
#   only the estimator's own noise differs; notebook 06 learns it).
#
# `pg.train` records the **exact** $U$ of every iterate, so the curves are not themselves noisy: all the
# wiggles are the optimiser's. Five seeds for each sampled method.

# %%
lr, n_iters, n_eps = 5.0, 100, 10
U_star = mdp.mu @ pg.optimal_values(mdp)[0]
runs = {"exact gradient": [pg.train(mdp, policy, theta, method="exact", lr=lr,
                                   n_iters=n_iters)]}
for method in ["reinforce", "reinforce_baseline"]:
    runs[method] = [pg.train(mdp, policy, theta, method=method, lr=lr, n_iters=n_iters,
                             n_episodes=n_eps, horizon=100, critic="exact",
                             rng=np.random.default_rng(seed))
                    for seed in range(5)]
curves = {name: np.array([h.U for h in hs]) for name, hs in runs.items()}
curves["exact gradient"] = curves["exact gradient"][0]
marks = [0, 10, 25, 50, 100]
print(f"optimal U* = {U_star:.4f}")
print("iteration                         " + "".join(f"{i:>8d}" for i in marks))
for name, U in curves.items():
    U = np.atleast_2d(U)
    label = "mean of runs" if U.shape[0] > 1 else "(one run)   "
    print(f"{name:20s} {label} " + "".join(f"{U.mean(axis=0)[i]:8.3f}" for i in marks))
    if U.shape[0] > 1:
        spread = "".join(f"{U.std(axis=0)[i]:8.3f}" for i in marks)
        print(f"{'':20s} spread (std) " + spread)
for name, hs in runs.items():
    grad_there = [np.linalg.norm(pg.policy_gradient(mdp, policy, h.theta)) for h in hs]
    print(f"{name:20s} final U of each run " + " ".join(f"{h.U[-1]:.3f}" for h in hs)
          + "   |grad U| there " + " ".join(f"{g:.4f}" for g in grad_there))
assert curves["exact gradient"][-1] > U_star - 0.02
assert all(np.atleast_2d(U)[:, -1].min() > ev.U + 0.5 for U in curves.values())
at25 = {m: curves[m][:, 25] for m in ["reinforce", "reinforce_baseline"]}
assert at25["reinforce_baseline"].mean() > at25["reinforce"].mean()
assert at25["reinforce_baseline"].std() < at25["reinforce"].std()

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
pgp.learning_curves(axes[0], curves, optimum=U_star,
                    title=f"exact U of the iterates, lr = {lr}")
pgp.learning_curves(axes[1], {k: v for k, v in curves.items() if k != "exact gradient"},
                    x=np.arange(n_iters + 1) * n_eps, xlabel="episodes used",
                    optimum=U_star, first_color=1,
                    title=f"the same runs, against episodes sampled (N = {n_eps})")
pgp.show(fig, alt="Learning curves, exact U of the iterates: exact gradient ascent "
                  "climbs smoothly to U*; the REINFORCE runs, faint with their mean "
                  "bold, climb noisily, those with the baseline higher and closer "
                  "together; right, the same sampled runs against the number of "
                  "episodes used.")

# %% [markdown]
# With the exact gradient the climb is smooth and reaches $U^\star$. REINFORCE climbs too — each step is right on
# average — but each run wanders, and the runs spread out; at iteration 25 the runs with the baseline are higher
# on average and much closer together (smaller spread). By iteration 100 both kinds have settled, some runs at
# about 0.45 instead of the exact ascent's 0.52: the noise sent them down a different route early on, and there
# the exact gradient is as small as at the exact ascent's end point, so they leave it only slowly. With only
# five seeds these are tendencies, not laws: try other $N$ in the widget. A thousand episodes buy 100 noisy steps here; the exact gradient
# corresponds to infinitely many.
#
# ## The algorithm as a loop: REINFORCE, and REINFORCE with a learned baseline
#
# `pg.train` hides a short loop. Here it is, written out: sample $N$ episodes with the current policy,
# estimate the gradient, step. With `critic_lr` set, a baseline $\hat V$ is **learned** from the episodes by
# Monte Carlo regression, $\hat V(s) \leftarrow \hat V(s) + \beta\,\overline{(G_t - \hat V(s))}$
# (`pg.mc_critic_update`); the gradient uses the critic learned from *earlier* batches, so it stays
# unbiased (the same-batch bias above does not arise).

# %%
def reinforce_loop(seed, critic_lr=None, n_iters=n_iters):
    rng = np.random.default_rng(seed)
    th, V_b = policy.zeros(), np.zeros(mdp.S)
    U = [pg.evaluate(mdp, policy.probs(th)).U]
    for _ in range(n_iters):
        ep = pg.sample_episodes(mdp, policy.probs(th), n_eps, 100, rng)
        if critic_lr is None:  # plain REINFORCE
            g = pg.reinforce_gradient(policy, th, ep, mdp.gamma)
        else:  # baseline from earlier batches, then the critic learns from this one
            g = pg.reinforce_gradient(policy, th, ep, mdp.gamma, baseline=V_b)
            V_b = pg.mc_critic_update(V_b, ep, mdp.gamma, critic_lr)
        th = th + lr * g
        U.append(pg.evaluate(mdp, policy.probs(th)).U)
    return np.array(U)


assert np.allclose(reinforce_loop(0), curves["reinforce"][0])  # the loop is pg.train's
learned = np.array([reinforce_loop(seed, critic_lr=0.5) for seed in range(5)])
print("iteration                            " + "".join(f"{i:>8d}" for i in marks))
rows = {"REINFORCE": curves["reinforce"], "learned baseline (MC, beta 0.5)": learned,
        "oracle baseline V": curves["reinforce_baseline"]}
for name, U in rows.items():
    m_, se_ = U.mean(axis=0), U.std(axis=0, ddof=1) / np.sqrt(len(U))
    print(f"{name:34s} " + "".join(f"{m_[i]:8.3f}" for i in marks))
    print(f"{'  +- s.e. over 5 seeds':34s} " + "".join(f"{se_[i]:8.3f}" for i in marks))

# %% [markdown]
# The learned baseline starts from $\hat V = 0$ (no baseline) and catches up with the oracle as the critic
# learns: at iteration 50 it is at $0.441 \pm 0.012$ against plain REINFORCE's $0.283 \pm 0.169$ and the oracle
# baseline's $0.474 \pm 0.016$ (mean $\pm$ s.e. over 5 seeds, the table above).

# %% [markdown]
# ## Explore: episodes per iteration and the baseline
#
# Choose $N$ (episodes per iteration) and switch the baseline on or off: three seeds of REINFORCE (faint; mean
# bold) against exact gradient ascent, against iterations (left) and against episodes used (right). The curves
# of every $(N, \text{baseline})$ pair are `pg.train` runs: those one control away from the default are computed
# when the explorer is built, the others in a low-priority background process while you read (a pair chosen
# before it is ready is computed then: up to ~2 s for $N = 1$). The explorer reuses the first three seeds
# computed above for $N = 10$ (same settings, so the same runs) instead of recomputing them.

# %%
ex = pgw.reinforce_explorer(runs={(10, False): curves["reinforce"][:3],
                                  (10, True): curves["reinforce_baseline"][:3]})
ex

# %% [markdown]
# ## Try it
#
# `exercises/ex04_returns.ipynb`: compute $G_t$ (with masks and the discount) and Monte Carlo values.
# `exercises/ex05_reinforce_baseline.ipynb`: the REINFORCE estimate with a baseline, checked against the exact
# gradient.
#
# ## Recap
#
# - Exact $Q$, $V$ need the model and a table; the solve grows like $S^3$ and $S$ is usually astronomical.
# - $G_t = r_t + \gamma G_{t+1}$ is an unbiased sample of $Q(s_t,a_t)$ (and of $V(s_t)$ averaged over the action);
#   per-state averages of $G_t$ estimate $V$; $A_t = G_t - V(s_t)$ has mean $A(s_t,a_t)$.
# - It needs the whole episode: a return cut after $k$ steps estimates $V_k$, not $V$.
# - REINFORCE is unbiased but noisy: here a 10-episode batch errs by several times $|\nabla U|$; a baseline
#   $V$ reduces that by half or more, and learning curves show both the slower, wandering progress and the gain.
# - A baseline averaged over the same batch is biased ($O(1/N(s))$, measured above); a critic learned from
#   earlier batches is not.
#
# Next, notebook 06: estimate $V$ by temporal differences instead, and trade a little bias for much less variance.
