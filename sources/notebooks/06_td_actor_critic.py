# %% [markdown]
# # 06 · Temporal-difference critics and actor-critic
#
# Notebook 05 estimated the advantage from whole returns $G_t$: unbiased, but noisy. Here the critic
# learns $V$ by *temporal differences* and the advantage becomes the one-step TD error
# $\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)$.
#
# **Learning objectives**
# - Learn $V^\pi$ by TD(0) from sampled episodes and see the batch answer approach the exact $V^\pi$.
# - Show that with the *true* $V$, $\mathbb{E}[\delta_t \mid s_t, a_t] = A(s_t, a_t)$ exactly, and that with a
#   wrong $\hat V$ the bias is exactly $\gamma P(\hat V - V) - (\hat V - V)$.
# - Follow that bias into the gradient: the exact expectation of the actor-critic estimate vs the true gradient.
# - Measure the trade: actor-critic is biased but has much lower variance than REINFORCE.
# - Handle episode ends correctly: no bootstrap after *termination*, bootstrap at *truncation*.

# %%
import numpy as np
import matplotlib.pyplot as plt
# %matplotlib inline

import pgcourse as pg
import pgcourse.plots as pgp
import pgcourse.widgets as pgw

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px

# random_mdp(6, 3, gamma=0.95, one terminal state)
mdp, policy, theta, T = pg.td_demo_problem()
pi = policy.probs(theta)
ev = pg.evaluate(mdp, pi)
gamma, S, A = mdp.gamma, mdp.S, mdp.A
live = ~mdp.terminal
print(mdp, f"  horizon T = {T}")
print("exact V =", ev.V)
print(f"exact U = {ev.U:.4f}")

# %% [markdown]
# We use one big batch of sampled episodes throughout (and its first $N$ episodes when we want fewer).
# Each episode either *terminates* (enters the terminal state 5) or is *truncated* at the horizon $T$.

# %%
big = pg.sample_episodes(mdp, pi, 20000, T, rng=np.random.default_rng(0))
print(big)

# %% [markdown]
# ## 1. Learning $V$ by TD(0)
#
# $V^\pi$ is the fixed point of the Bellman equation $V(s) = \mathbb{E}[r_t + \gamma V(s_{t+1}) \mid s_t = s]$.
# TD(0) replaces the expectation by the one transition it just saw and moves $V(s_t)$ a step $\alpha$
# towards the sampled target: $V(s_t) \leftarrow V(s_t) + \alpha\, \delta_t$. `pg.td0_values` does this in
# batch form: each *sweep* moves $V(s)$ by $\alpha$ times the average TD error of the batch's steps from $s$.
#
# **What does batch TD(0) converge to?** At its fixed point the average TD error from every visited state is
# zero, i.e. $V = \hat r + \gamma \hat P V$ with the batch's empirical reward $\hat r(s)$ and empirical
# next-state frequencies $\hat P(s, s')$ (a terminal next state contributes 0). So the limit is the *exact*
# value of the empirical chain, a linear solve (`pg.td_fixed_point`). Both sides:

# %%
ep = big.head(1000)
V_fp = pg.td_fixed_point(ep, S=S, gamma=gamma)
V_td = pg.td0_values(ep, S=S, gamma=gamma, alpha=0.5, n_sweeps=300)
print("TD(0), 300 sweeps        :", V_td)
print("exact empirical-chain V  :", V_fp)
assert np.allclose(V_td, V_fp, atol=1e-6)

# %% [markdown]
# **Online, incremental TD(0).** An agent does not wait for a batch: after every transition it updates
# $V(s_t) \leftarrow V(s_t) + \alpha\,\delta_t$ and moves on. The same 1000 episodes, read as one stream of
# transitions, with a constant step $\alpha$. It ends near the batch fixed point, but keeps fluctuating
# around it, less for a smaller step (only a decreasing step converges):

# %%
for alpha in (0.05, 0.01):
    V_on = np.zeros(S)
    for n in range(ep.n_episodes):  # the episodes as one stream of transitions
        for t in range(ep.lengths[n]):
            s, r, s_next = ep.states[n, t], ep.rewards[n, t], ep.next_states[n, t]
            target = r + (0.0 if ep.terminated[n, t] else gamma * V_on[s_next])
            V_on[s] += alpha * (target - V_on[s])  # V(s_t) += alpha delta_t
    print(f"online TD(0), alpha = {alpha}:"
          f" max |V - batch fixed point| = {np.abs(V_on - V_fp).max():.3f}"
          f"   max |V - V_pi| = {np.abs(V_on - ev.V).max():.3f}")
print(f"batch fixed point: max |V_fp - V_pi| = {np.abs(V_fp - ev.V).max():.3f}")

# %% [markdown]
# As the batch grows the empirical chain approaches the true one, so the TD answer approaches the exact
# $V^\pi$ (error roughly $\propto 1/\sqrt N$). Below: the error $\max_s |V_k(s) - V(s)|$ after each sweep $k$,
# for three batch sizes, with step size $\alpha = 1$ (the fastest; the fixed point does not depend on
# $\alpha$). Each curve drops fast and then flattens at the error of its batch's fixed point.

# %%
def td_error_curve(ep, n_sweeps=60):
    V = np.zeros(S)
    err = [np.abs(V - ev.V).max()]
    for _ in range(n_sweeps):
        V = pg.td0_values(ep, S=S, gamma=gamma, alpha=1.0, n_sweeps=1, V0=V)
        err.append(np.abs(V - ev.V).max())
    return np.array(err)

curves = {}
for N in (100, 1000, 4000):
    e_N = big.head(N)
    curves[f"N = {N}"] = td_error_curve(e_N)
    fp_err = np.abs(pg.td_fixed_point(e_N, S=S, gamma=gamma) - ev.V).max()
    print(f"N = {N:5d}: error after 60 sweeps {curves[f'N = {N}'][-1]:.4f}"
          f"   error of the batch fixed point {fp_err:.4f}")
assert curves["N = 4000"][-1] < curves["N = 1000"][-1] < curves["N = 100"][-1]

fig, ax = plt.subplots(figsize=(6.5, 3.8))
pgp.td_convergence(ax, curves)
pgp.show(fig, alt="Max-norm error of the TD(0) critic against the sweep over the batch, "
                  "log scale, one curve per batch size: each levels off at its batch's "
                  "fixed point, lower for bigger batches.")

# %% [markdown]
# ## 2. $Q$ from $V$: $Q(s, a) \approx r + \gamma V(s')$
#
# The critic stores only $V$. An action value comes for free from one transition:
# $Q(s, a) = r(s, a) + \gamma \sum_{s'} P(s' \mid s, a) V(s')$ exactly, so the one-step target
# $r_t + \gamma V(s_{t+1})$ is an unbiased sample of $Q(s_t, a_t)$ when $V$ is the true value
# ($V = 0$ at a terminal state). Exact identity, then its sampled version per $(s, a)$:

# %%
Q_from_V = mdp.R + gamma * mdp.P @ ev.V
print("exact Q          :\n", ev.Q[live])
print("r + gamma P V    :\n", Q_from_V[live])
assert np.allclose(ev.Q, Q_from_V)

V_next = np.where(big.terminated, 0.0, ev.V[big.next_states])
target = (big.rewards + gamma * V_next) * big.mask
q_mean, q_se, q_cnt = pg.per_pair_means(big, target, S, A)
z = (q_mean - ev.Q)[live] / q_se[live]
print("sampled mean of r_t + gamma V(s_t+1):\n", q_mean[live])
print(f"max |z| over the {int(live.sum()) * A} pairs = {np.abs(z).max():.2f}"
      f"  (min count {int(q_cnt[live].min())})")
assert np.abs(z).max() < 4

# %% [markdown]
# ## 3. The TD error is an advantage estimate — with the true $V$
#
# Subtract $V(s_t)$ from the target: $\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)$.
#
# *Index convention.* In this course $r_t$ is the reward received on step $t$, after $a_t$, with $s_{t+1}$
# (`episodes.rewards[:, t]`); Sutton & Barto call the same number $R_{t+1}$. The notes write the TD error
# with $r_{t+1}$ in one place and $r_t$ in another: both mean this reward, only the index differs.
#
# Conditioning on
# $(s_t, a_t)$ only the next state is random, so
#
# $$\mathbb{E}[\delta_t \mid s_t = s, a_t = a] = r(s, a) + \gamma \sum_{s'} P(s' \mid s, a) V(s') - V(s)
#   = Q(s, a) - V(s) = A(s, a).$$
#
# The critic's own learning signal is therefore an advantage estimate: nothing extra to learn.
# Exact (`pg.expected_td_error` is the left-hand side as linear algebra) and sampled (`pg.td_errors`
# averaged per pair, with standard errors):

# %%
E_delta = pg.expected_td_error(mdp, ev.V)
print("exact E[delta | s, a] = r + gamma P V - V:\n", E_delta[live])
print("exact A = Q - V:\n", ev.A[live])
assert np.allclose(E_delta, ev.A)

delta = pg.td_errors(big, ev.V, gamma)
d_mean, d_se, d_cnt = pg.per_pair_means(big, delta, S, A)
z = (d_mean - ev.A)[live] / d_se[live]
print("sampled mean of delta per (s, a):\n", d_mean[live])
print(f"max |z| = {np.abs(z).max():.2f}")
assert np.abs(z).max() < 4

# %% [markdown]
# ## 4. With a wrong critic the TD error is biased
#
# A learned critic is never exact. Write $\hat V = V + e$. Then
#
# $$\mathbb{E}[\hat\delta_t \mid s, a] = r + \gamma P \hat V - \hat V = A(s, a)
#   + \underbrace{\gamma \textstyle\sum_{s'} P(s' \mid s, a)\, e(s') - e(s)}_{\text{bias } b(s, a)}.$$
#
# (The source notes call the TD advantage "unbiased"; that holds only for the true $V$.) Below the
# critic error is $e = 0.5 \times$ a fixed direction with root-mean-square 1 over the live states.

# %%
e = 0.5 * pg.critic_error_direction(mdp)
V_hat = ev.V + e
bias = pg.expected_td_error(mdp, V_hat) - ev.A
bias_formula = gamma * mdp.P @ (e * live) - e[:, None]
print("exact bias E[delta_hat | s, a] - A:\n", bias[live])
print("gamma P e - e:\n", bias_formula[live])
assert np.allclose(bias[live], bias_formula[live])

delta_hat = pg.td_errors(big, V_hat, gamma)
h_mean, h_se, _ = pg.per_pair_means(big, delta_hat, S, A)
z_hat = (h_mean - pg.expected_td_error(mdp, V_hat))[live] / h_se[live]
z_A = (h_mean - ev.A)[live] / h_se[live]
print(f"sampled mean vs exact E[delta_hat]: max |z| = {np.abs(z_hat).max():.2f}")
print(f"sampled mean vs A                 : max |z| = {np.abs(z_A).max():.1f}"
      "   (the bias is real)")
assert np.abs(z_hat).max() < 4 and np.abs(z_A).max() > 20

# %% [markdown]
# **What the bias does to the gradient.** The actor-critic estimate is
# $\hat g = \frac1N\sum_n \sum_t \gamma^t \nabla\log\pi(a_t \mid s_t)\, \hat\delta_t$. Its exact expectation
# (for episodes cut at $T$) is a finite sum over time of the alive-state distribution $p_t(s)$ times
# $\pi(a\mid s)\nabla\log\pi(a\mid s)\,\mathbb{E}[\hat\delta \mid s, a]$ — `pg.expected_gradient_estimate`.
# For long horizons it becomes
# $\nabla U + H\, \mathbb{E}_{s\sim d, a\sim\pi}[\nabla\log\pi(a\mid s)\, b(s, a)]$, with $H$ the effective
# horizon. The $-e(s)$ part of $b$ depends on the state only: like a baseline it has zero expected effect.
# The $\gamma P e$ part depends on the action and does bias the gradient.

# %%
grad = pg.policy_gradient(mdp, policy, theta)
Eg_ac = pg.expected_gradient_estimate(mdp, policy, theta, V_hat, 0.0, T)
Eg_long = pg.expected_gradient_estimate(mdp, policy, theta, V_hat, 0.0, 3000)
Eg_formula = grad + ev.effective_horizon * pg.score_expectation(mdp, policy, theta, bias)
minus_e = -np.repeat(e[:, None], A, axis=1)
baseline_term = pg.score_expectation(mdp, policy, theta, minus_e)
print("-e(s) term (a baseline) has zero expected effect:",
      np.abs(baseline_term).max().round(12))
print("long-horizon E[g_AC] vs grad U + H E[score * b]: max diff",
      np.abs(Eg_long - Eg_formula).max().round(12))
assert np.allclose(Eg_long, Eg_formula)
assert np.allclose(baseline_term, 0)

g_samples = pg.per_episode_gradients(policy, theta, big, delta_hat, gamma)
g_mean = g_samples.mean(axis=0)
assert np.allclose(g_mean, pg.advantage_gradient(policy, theta, big, delta_hat, gamma))
z = (g_mean - Eg_ac) / (g_samples.std(axis=0, ddof=1) / np.sqrt(len(g_samples)) + 1e-12)
print(f"exact   |E[g_AC] - grad U| = {np.linalg.norm(Eg_ac - grad):.4f}"
      f"   cos(E[g_AC], grad U) = {pg.cosine(Eg_ac, grad):.4f}")
print(f"sampled |mean g_AC - grad U| = {np.linalg.norm(g_mean - grad):.4f}"
      f" ({len(g_samples)} episodes);"
      f" sampled vs exact E[g_AC]: max |z| = {np.abs(z[live]).max():.2f}")
assert np.abs(z[live]).max() < 4

# %% [markdown]
# ## 5. Why learn $V$ and not $Q$?
#
# The policy gradient needs an advantage $A = Q - V$. A $Q$-critic would still need
# $V(s) = \sum_a \pi(a\mid s) Q(s, a)$ to form it: a second quantity to estimate (a sum over all actions,
# an integral for continuous actions), and $S \cdot A$ numbers to learn instead of $S$, each from fewer
# samples. A $V$-critic gives the advantage estimate for free — it is its own TD error. On our batch:

# %%
ep200 = big.head(200)
per_state = np.bincount(ep200.states[ep200.mask > 0], minlength=S)[live]
pairs = (ep200.states * A + ep200.actions)[ep200.mask > 0]
per_pair = np.bincount(pairs, minlength=S * A).reshape(S, A)[live]
print(f"numbers to learn: V has {int(live.sum())}, Q has {int(live.sum()) * A}")
print(f"samples per entry in 200 episodes: V min {per_state.min()},"
      f" Q min {per_pair.min()}"
      f" (average {per_state.mean():.1f} vs {per_pair.mean():.1f})")

# %% [markdown]
# ## 6. Biased, but low variance — measured
#
# Each estimator below gives one gradient sample per episode; we score them on the 20000-episode batch.
# `|bias|` is the measured $\|\bar g - \nabla U\|$ (with its noise floor $\sqrt{\mathrm{tr\,Var}/N}$),
# `exact` the exact $\|\mathbb{E}\hat g - \nabla U\|$, `var/episode` the total variance
# $\mathrm{tr\,Cov}$ of one episode's gradient. The critic is the true $V$ or the wrong $\hat V$ from above.

# %%
estimators = {
    "REINFORCE": (pg.BUILTIN_ESTIMATORS["REINFORCE"], np.zeros(S), 1.0),
    "REINFORCE+baseline V": (pg.BUILTIN_ESTIMATORS["REINFORCE+baseline"], ev.V, 1.0),
    "actor-critic, true V": (pg.BUILTIN_ESTIMATORS["actor-critic"], ev.V, 0.0),
    "actor-critic, V_hat": (pg.BUILTIN_ESTIMATORS["actor-critic"], V_hat, 0.0),
}
scores, exact_bias = [], {}
for name, (est, V_c, lam) in estimators.items():
    scores.append(pg.score_estimator(name, est, policy, theta, big, V_c, gamma, grad,
                                     batch_sizes=(10, 100, 1000)))
    # a baseline leaves E[g] unchanged
    V_exp = np.zeros(S) if name == "REINFORCE+baseline V" else V_c
    Eg = pg.expected_gradient_estimate(mdp, policy, theta, V_exp, lam, T)
    exact_bias[name] = np.linalg.norm(Eg - grad)
print(pg.score_table(scores))
print("exact |E[g] - grad U|:", "  ".join(f"{k}: {v:.4f}" for k, v in exact_bias.items()))
var = {s.name: s.variance for s in scores}
assert var["actor-critic, true V"] < var["REINFORCE+baseline V"] < var["REINFORCE"]
assert exact_bias["actor-critic, V_hat"] > 10 * exact_bias["actor-critic, true V"]

# %% [markdown]
# The true-$V$ actor-critic has about a ninth of REINFORCE's variance and no bias beyond the horizon
# cut that every estimator here shares (the exact 0.0023-0.0024: the gradient contributions of steps after
# $T = 60$ are missing, since 3% of episodes are still running there); with $\hat V$ the variance stays low but the bias does not average away — more episodes
# do not fix it (compare the cosine at $n = 1000$).
#
# ## 7. Terminated vs truncated: when to bootstrap
#
# An episode can end in two ways, and the TD error must treat them differently:
# - **terminated** (it entered a terminal state): nothing follows, $V(\text{terminal}) = 0$, so
#   $\delta_t = r_t - V(s_t)$ — never bootstrap from the terminal state;
# - **truncated** (we stopped sampling at the horizon $T$): the episode would have continued, so
#   $\delta_{T-1} = r_{T-1} + \gamma V(s_T) - V(s_{T-1})$ — bootstrap from the state we stopped in.
#
# Three episodes with horizon 5: the third one terminates at step 3, the first two are truncated.

# %%
small = pg.sample_episodes(mdp, pi, 3, 5, rng=np.random.default_rng(0))
print(small)
print("states     :\n", small.states)
print("next states:\n", small.next_states)
print("terminated :\n", small.terminated.astype(int))
print("truncated  :\n", small.truncated.astype(int))
d_small = pg.td_errors(small, V_hat, gamma)
n, t = 2, 3  # the terminating step
by_hand_term = small.rewards[n, t] - V_hat[small.states[n, t]]
n2 = 0       # a truncated episode: last step t = 4 bootstraps from V_hat(s_5)
by_hand_trunc = (small.rewards[n2, 4] + gamma * V_hat[small.next_states[n2, 4]]
                 - V_hat[small.states[n2, 4]])
print(f"terminated step: pg.td_errors {d_small[n, t]:.4f}"
      f"   r - V(s) = {by_hand_term:.4f}")
print(f"truncated step : pg.td_errors {d_small[n2, 4]:.4f}"
      f"   r + gamma V(s_T) - V(s) = {by_hand_trunc:.4f}")
print("after the end (mask 0) the TD error is 0:", d_small[n, t + 1])
assert np.isclose(d_small[n, t], by_hand_term)
assert np.isclose(d_small[n2, 4], by_hand_trunc)
assert small.terminated[n, t] and small.truncated[n2, 4] and d_small[n, t + 1] == 0

# %% [markdown]
# Bootstrapping *from the terminal state* would add $\gamma \hat V(\text{terminal})$ — pure error if the
# critic's entry there is not 0. Not bootstrapping at *truncation* would treat "we stopped looking" as
# "the world ended" and bias every estimate near the horizon.
#
# ## 8. Actor-critic learning curves
#
# `pg.train` runs gradient ascent $\theta \leftarrow \theta + \alpha \hat g$ and records the *exact* $U$ of
# every iterate, so the curves themselves are not noisy. Actor-critic with a TD(0) critic (learned on each
# batch, warm-started), with the exact critic (an oracle), against REINFORCE and exact gradient ascent;
# 20 episodes per iteration, step size 0.2.

# %%
V_star, _ = pg.optimal_values(mdp)
U_star = mdp.mu @ V_star
runs = {
    "exact gradient": dict(method="exact"),
    "REINFORCE": dict(method="reinforce"),
    "actor-critic, TD critic": dict(method="actor_critic", critic="td"),
    "actor-critic, exact critic": dict(method="actor_critic", critic="exact"),
}
seeds = range(1, 6)
hist = {k: [pg.train(mdp, policy, theta, lr=0.2, n_iters=60, n_episodes=20, horizon=T,
                     rng=np.random.default_rng(seed), **kw)
            for seed in (seeds if k != "exact gradient" else [1])]
        for k, kw in runs.items()}
U_runs = {k: np.array([h.U for h in hs]) for k, hs in hist.items()}
print(f"U* = {U_star:.4f}   (sampled methods: mean +- s.e. over {len(seeds)} seeds)")
for k, U in U_runs.items():
    m_ = U.mean(axis=0)
    se_ = U.std(axis=0, ddof=1) / np.sqrt(len(U)) if len(U) > 1 else 0 * U[0]
    at = "  ".join(f"{m_[i]:.3f} +- {se_[i]:.3f}" for i in (10, 30, 60))
    print(f"{k:<28s} U after 10, 30, 60: " + at)
fig, ax = plt.subplots(figsize=(7, 4.0))
pgp.learning_curves(ax, {k: (U if len(U) > 1 else U[0]) for k, U in U_runs.items()},
                    optimum=U_star,
                    title=f"learning curves (exact U), {len(seeds)} seeds each")
pgp.show(fig, alt="Learning curves, exact U against the iteration, for " + ", ".join(hist)
                  + f", {len(seeds)} seeds of each sampled method (faint, mean bold), "
                  "with the optimum U* dotted.")

# %% [markdown]
# With the same step size and batch, REINFORCE's runs wobble and spread (their gradient estimates are
# noisy); both actor-critics follow the exact-gradient curve closely — on this small MDP a TD critic learned
# from 20 episodes per iteration is already good enough. Read the differences against the printed s.e.: at
# iteration 10 REINFORCE is behind ($6.31 \pm 0.30$ against $6.73 \pm 0.09$ for the exact critic), but at 60
# its $10.039 \pm 0.053$ is within about one s.e. of the TD actor-critic's $10.096 \pm 0.011$: five seeds do
# not show that REINFORCE *ends* lower, only that its runs spread five times more.
#
# **The one-step actor-critic, online.** Sutton & Barto's algorithm (section 13.5) learns after every step,
# not per batch: critic $w(s_t) \mathrel{+}= \alpha_w\delta_t$, actor
# $\theta \mathrel{+}= \alpha_\theta\, I\,\delta_t\nabla\log\pi(a_t\mid s_t)$ with $I \leftarrow \gamma I$ (the
# $\gamma^t$ of the gradient), one transition at a time from `pg.env_step`:

# %%
def one_step_actor_critic(seed, n_episodes=300, a_theta=0.1, a_w=0.1):
    rng = np.random.default_rng(seed)
    th, w = theta.copy(), np.zeros(S)
    for _ in range(n_episodes):
        s, I = int(rng.choice(S, p=mdp.mu)), 1.0
        for t in range(T):
            a = int(rng.choice(A, p=policy.probs(th)[s]))
            s_next, r, terminated = pg.env_step(mdp, s, a, rng)
            delta = r + (0.0 if terminated else gamma * w[s_next]) - w[s]
            w[s] += a_w * delta                                        # critic
            th = th + a_theta * I * delta * policy.grad_log_prob(th, s, a)  # actor
            I *= gamma
            if terminated:
                break
            s = s_next
    return th, w


th_ac, w_ac = one_step_actor_critic(0)
ev_ac = pg.evaluate(mdp, policy.probs(th_ac))
print(f"online one-step actor-critic, 300 episodes: U {ev.U:.3f} -> {ev_ac.U:.3f}"
      f"   (U* = {U_star:.3f});"
      f"  critic max |w - V| = {np.abs(w_ac - ev_ac.V)[live].max():.3f}")
assert ev_ac.U > ev.U + 5

# %% [markdown]
# ## 9. Explore: critic error and sample size
#
# Move the critic error and the number of episodes. The scatter shows, per $(s, a)$, the sampled mean TD
# error (dots, $\pm 2$ s.e.) against the exact advantage; the crosses are the exact
# $\mathbb{E}[\hat\delta \mid s, a]$ for this critic. More episodes shrink the error bars onto the crosses,
# never onto the diagonal unless the critic error is 0. Right: the exact gradient, the exact expectation of
# the actor-critic estimate, and a sampled one.

# %%
ex = pgw.td_critic_explorer(episodes=big)  # reuse this notebook's batch
ex

# %% [markdown]
# ## Try it
#
# Exercise `exercises/ex06_td_critic.ipynb`: write batch TD(0) for $V$ yourself, form TD errors with the
# terminated/truncated rule, and check that their per-pair average matches $A$ for the true $V$.
#
# ## Recap
# - TD(0) learns $V$ from transitions; on a batch it converges to the exact value of the empirical chain,
#   which approaches $V^\pi$ as the batch grows; online, with a constant step, it hovers near it
#   (max error 0.165 from the fixed point at $\alpha = 0.01$, 0.495 at $\alpha = 0.05$).
# - The one-step actor-critic updates critic and actor after every transition ($I \leftarrow \gamma I$).
# - $r + \gamma V(s')$ estimates $Q$; the TD error estimates $A$: $\mathbb{E}[\delta \mid s, a] = A(s, a)$
#   **for the true $V$ only**. With $\hat V = V + e$ the bias is $\gamma P e - e$; its action-dependent part
#   biases the gradient.
# - A $V$-critic is smaller and gives the advantage for free; actor-critic trades a bias for a large cut in
#   variance.
# - No bootstrap after termination; bootstrap at truncation.
