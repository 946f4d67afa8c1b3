# %% [markdown]
# # 07 · Generalised advantage estimation (GAE)
#
# Notebook 05's Monte Carlo advantage $G_t - V(s_t)$ is unbiased but noisy; notebook 06's TD error
# $\delta_t$ is quiet but biased whenever the critic is wrong. GAE mixes them with one knob $\lambda$.
#
# **Learning objectives**
# - Define $\hat A^{\mathrm{GAE}}_t = \sum_{l \ge 0} (\gamma\lambda)^l \delta_{t+l}$ and compute it with a
#   backward recursion that respects episode ends.
# - Check the two ends exactly: $\lambda = 0$ is the TD error, $\lambda = 1$ is $G_t - V(s_t)$ plus a
#   bootstrap $\gamma^{T-t} V(s_T)$ where the horizon truncates the episode.
# - Compute the **exact** expectation of GAE for an imperfect critic by linear algebra, and the exact bias
#   of the resulting gradient estimate for every $\lambda$.
# - Measure the variance for every $\lambda$ and find the $\lambda$ with the smallest mean squared error.

# %%
import numpy as np
import matplotlib.pyplot as plt
# %matplotlib inline

import pgcourse as pg
import pgcourse.plots as pgp
import pgcourse.widgets as pgw

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px

# the MDP of notebook 06: 6 states, 3 actions, gamma 0.95
mdp, policy, theta, T = pg.td_demo_problem()
pi = policy.probs(theta)
ev = pg.evaluate(mdp, pi)
gamma, S, A = mdp.gamma, mdp.S, mdp.A
live = ~mdp.terminal
e = 0.5 * pg.critic_error_direction(mdp)  # the critic error of notebook 06
V_hat = ev.V + e
grad = pg.policy_gradient(mdp, policy, theta)
print(mdp, f"  horizon T = {T}")
print("exact V =", ev.V)
print("critic  =", V_hat)

# %% [markdown]
# ## 1. Definition and the backward recursion
#
# $$\hat A_t = \sum_{l=0}^{\infty} (\gamma\lambda)^l \delta_{t+l}, \qquad
#   \delta_t = r_t + \gamma \hat V(s_{t+1}) - \hat V(s_t),$$
#
# where the sum stops at the episode's last step. Backwards in time this is
# $\hat A_t = \delta_t + \gamma\lambda\, c_t\, \hat A_{t+1}$ with $c_t = 0$ if the episode ends at $t$
# (terminated *or* truncated) and 1 otherwise; the bootstrap at a truncated end is already inside
# $\delta_{T-1}$. `pg.gae` implements the recursion; here is the sum, written out directly on a short batch
# (horizon 8, so many episodes are truncated):

# %%
short = pg.sample_episodes(mdp, pi, 2000, 8, rng=np.random.default_rng(1))
print(short)
lam = 0.7
delta = pg.td_errors(short, V_hat, gamma)
N, H = delta.shape
by_sum = np.zeros((N, H))
for t in range(H):
    for l in range(H - t):
        # delta is 0 after the episode's end
        by_sum[:, t] += (gamma * lam) ** l * delta[:, t + l]
print("pg.gae, episode 0      :", pg.gae(short, V_hat, gamma, lam)[0])
print("sum (gamma lam)^l delta:", by_sum[0])
assert np.allclose(pg.gae(short, V_hat, gamma, lam), by_sum)

# %% [markdown]
# ## 2. The two ends: $\lambda = 0$ and $\lambda = 1$
#
# With $\lambda = 0$ only the $l = 0$ term survives: GAE(0) *is* the TD error of notebook 06.

# %%
gae0 = pg.gae(short, V_hat, gamma, 0.0)
print("GAE(0), episode 0:", gae0[0])
print("TD errors        :", delta[0])
assert np.array_equal(gae0, delta)

# %% [markdown]
# With $\lambda = 1$ the sum telescopes: the $\hat V$ terms of consecutive TD errors cancel, leaving
# $\sum_l \gamma^l r_{t+l} - \hat V(s_t) = G_t - \hat V(s_t)$ for an episode that **terminated**
# ($\hat V(\text{terminal})$ is never used). For an episode **truncated** at the horizon the last TD error
# keeps its bootstrap, so
#
# $$\hat A^{\mathrm{GAE}(1)}_t = G_t + \gamma^{T-t}\,\hat V(s_T) - \hat V(s_t).$$
#
# "$\lambda = 1$ is Monte Carlo" is exact only up to this bootstrap term. Both cases, on the short batch:

# %%
G = pg.discounted_returns(short.rewards, gamma, short.mask)
trunc = short.truncated[:, -1]  # (N,) episodes still running at the horizon
s_T = short.next_states[:, -1]
boot = gamma ** (H - np.arange(H))[None, :] * (trunc * V_hat[s_T])[:, None]
mc_plus_boot = (G + boot - V_hat[short.states]) * short.mask
gae1 = pg.gae(short, V_hat, gamma, 1.0)
print(f"{trunc.sum()} of {N} episodes truncated at T = {H}")
i_term, i_trunc = np.flatnonzero(~trunc)[0], np.flatnonzero(trunc)[0]
print("terminated episode: GAE(1)            ", gae1[i_term])
print("                    G - V_hat(s)      ",
      ((G - V_hat[short.states]) * short.mask)[i_term])
print("truncated episode : GAE(1)            ", gae1[i_trunc])
print("                    G + boot - V_hat  ", mc_plus_boot[i_trunc])
print("                    bootstrap term    ", boot[i_trunc])
assert np.allclose(gae1, mc_plus_boot)
assert np.allclose(gae1[~trunc], ((G - V_hat[short.states]) * short.mask)[~trunc])

# %% [markdown]
# ## 3. The exact expectation of GAE for any critic
#
# Condition on $(s_t, a_t) = (s, a)$. The expected TD error at a pair is
# $D(s, a) = r(s, a) + \gamma \sum_{s'} P(s' \mid s, a) \hat V(s') - \hat V(s)$ (notebook 06), and moving one
# step along the episode is the state-action chain
# $M[(s, a), (s', a')] = P(s' \mid s, a)\,[s' \text{ not terminal}]\,\pi(a' \mid s')$. So
# $\mathbb{E}[\delta_{t+l} \mid s, a] = (M^l D)(s, a)$ and
#
# $$A_\lambda(s, a) := \mathbb{E}[\hat A^{\mathrm{GAE}}_t \mid s_t = s, a_t = a]
#   = \sum_{l \ge 0} (\gamma\lambda M)^l D = (I - \gamma\lambda M)^{-1} D,$$
#
# one linear solve (`pg.expected_gae`; with $k$ steps left before the horizon the sum stops at $l = k - 1$).
# Two consequences, exactly:
# - **true critic**: $D = A$ and $M A = 0$ (the advantage averages to 0 under $\pi$), so
#   $A_\lambda = A$ for *every* $\lambda$;
# - **critic $V + e$, $\lambda = 1$**: $A_1 = A - e(s)$ — the critic error becomes a state-only term, a
#   baseline, which does not bias the gradient. For $\lambda < 1$ part of it stays action-dependent.
#   *With an infinite horizon.* Where the horizon truncates an episode, the bootstrap
#   $\gamma^{T-t}\hat V(s_T)$ carries the critic's error $\gamma^{T-t}e(s_T)$, and that term depends on the
#   action (through $s_T$): $\lambda = 1$ is then biased too, by an amount that shrinks like $\gamma^T$
#   (printed in section 4).

# %%
M = pg.pair_chain(mdp, pi)
print("M A = 0:", np.abs(M @ ev.A.ravel()).max().round(12))
for lam in (0.0, 0.5, 1.0):
    err = np.abs(pg.expected_gae(mdp, pi, ev.V, lam) - ev.A).max()
    print(f"true V, lam = {lam}: max |A_lam - A| = {err:.10f}")
    assert np.allclose(pg.expected_gae(mdp, pi, ev.V, lam), ev.A)
A1 = pg.expected_gae(mdp, pi, V_hat, 1.0)
print("critic V + e, lam = 1: A_1      =\n", A1[live])
print("                       A - e(s) =\n", (ev.A - e[:, None])[live])
assert np.allclose(A1[live], (ev.A - e[:, None])[live])

# %% [markdown]
# **Sampled check.** At $t = 0$ every episode has $T$ steps left, so the per-pair average of
# $\hat A^{\mathrm{GAE}}_0$ estimates $A_\lambda^{(T)}$ (`expected_gae(..., n_steps=T)`). 20000 episodes,
# $\lambda = 0.9$, the wrong critic:

# %%
big = pg.sample_episodes(mdp, pi, 20000, T, rng=np.random.default_rng(0))
lam = 0.9
adv = pg.gae(big, V_hat, gamma, lam)
first_step = np.arange(T)[None, :] == 0
m, se, cnt = pg.per_pair_means(big, adv, S, A, where=first_step)
exact_T = pg.expected_gae(mdp, pi, V_hat, lam, n_steps=T)
z = (m - exact_T)[live] / se[live]
print("exact A_0.9 (T steps left):\n", exact_T[live])
print("sampled mean of GAE at t = 0:\n", m[live])
print(f"max |z| = {np.abs(z).max():.2f}   (min count {int(cnt[live].min())})")
gap_T = np.abs(pg.expected_gae(mdp, pi, V_hat, lam) - exact_T).max()
print(f"infinite-horizon A_0.9 differs from the T-step one by {gap_T:.1e}")
assert np.abs(z).max() < 4

# %% [markdown]
# ## 4. The exact bias of the GAE gradient estimate
#
# The GAE gradient estimate is $\hat g_\lambda = \frac1N\sum_n\sum_{t<T}\gamma^t\nabla\log\pi(a_t\mid s_t)
# \hat A^{\mathrm{GAE}}_t$. Its exact expectation sums, over $t < T$, the probability $p_t(s)$ that the
# episode is still running in $s$ at time $t$, times $\pi(a \mid s)\nabla\log\pi(a\mid s)\,A_\lambda^{(T-t)}(s, a)$
# (`pg.expected_gradient_estimate`). We compare it with the per-episode gradient samples for three
# values of $\lambda$:

# %%
print(" lam   exact |E[g]-grad U|   sampled |mean-grad U|"
      "   sampled vs exact max|z|   var/episode")
for lam in (0.0, 0.5, 1.0):
    Eg = pg.expected_gradient_estimate(mdp, policy, theta, V_hat, lam, T)
    adv_lam = pg.gae(big, V_hat, gamma, lam)
    g = pg.per_episode_gradients(policy, theta, big, adv_lam, gamma)
    zg = (g.mean(0) - Eg)[live] / (g.std(0, ddof=1)[live] / np.sqrt(len(g)))
    print(f" {lam:.1f}   {np.linalg.norm(Eg - grad):19.4f}"
          f"   {np.linalg.norm(g.mean(0) - grad):21.4f}   {np.abs(zg).max():23.2f}"
          f"   {pg.total_variance(g):11.3f}")
    assert np.abs(zg).max() < 4

# %% [markdown]
# **$\lambda = 1$ and truncation.** The $\lambda = 1$ estimate is unbiased by the critic only when no episode
# is truncated. The part of its bias that comes from the critic, $\|\mathbb{E}\hat g_1(\hat V) -
# \mathbb{E}\hat g_1(V)\|$ (the bootstrap's error), for windows of $T$ steps:

# %%
print("  T   critic part of the lam = 1 bias   |E[g_1](V) - grad U| (the cut)")
boot_bias = {}
for T_ in (8, 20, T):
    g1_hat = pg.expected_gradient_estimate(mdp, policy, theta, V_hat, 1.0, T_)
    g1_true = pg.expected_gradient_estimate(mdp, policy, theta, ev.V, 1.0, T_)
    boot_bias[T_] = np.linalg.norm(g1_hat - g1_true)
    print(f"{T_:3d}   {boot_bias[T_]:31.4f}   {np.linalg.norm(g1_true - grad):22.4f}")
assert boot_bias[8] > boot_bias[20] > boot_bias[T]

# %% [markdown]
# ## 5. The bias-variance trade-off in $\lambda$
#
# For each $\lambda$ on a grid: the **exact** squared bias $\|\mathbb{E}\hat g_\lambda - \nabla U\|^2$ and the
# **measured** variance of a batch of 100 episodes, $\mathrm{tr\,Cov}(\text{one episode}) / 100$ (from 4000
# per-episode samples). Their sum is the mean squared error of a 100-episode gradient estimate.
# $\lambda = 0$ (TD) has the largest bias and a low variance; $\lambda = 1$ (Monte Carlo) has no bias from
# the critic except through the bootstrap at truncated ends (tiny at $T = 60$: 0.0002) and by far the
# largest variance.

# %%
pool = big.head(4000)
lams = pgw.LAMBDAS
Eg_all, bias2, var = pg.gae_bias_variance(mdp, policy, theta, V_hat, lams, pool, T)
batch = 100
mse = bias2 + var / batch
print(" lam    bias^2 (exact)   variance/100 (measured)   MSE")
for l, b, v, m_ in zip(lams, bias2, var / batch, mse):
    print(f" {l:.1f}   {b:14.4f}   {v:23.4f}   {m_:.4f}")
best = lams[np.argmin(mse)]
print(f"smallest MSE at lambda = {best:.1f}")
assert bias2[0] > bias2[-1] and var[0] < var[-1] and 0 < best < 1

fig, ax = plt.subplots(figsize=(6.5, 4.0))
pgp.bias_variance(ax, lams, bias2, var / batch,
                  title="GAE gradient, critic error 0.5, batches of 100")
pgp.show(fig, alt=f"Against lambda from 0 to 1: the exact squared bias falls, the "
                  f"measured variance of a 100-episode batch rises, and their sum, the "
                  f"MSE, is smallest at lambda = {best:.1f}.")

# %% [markdown]
# The bias at $\lambda = 1$ is not quite zero: it is the horizon cut (and the bootstrap's critic error, above).
# The bias of $\lambda < 1$ comes from the critic error; it is zero for every $\lambda$ with the true critic.
# The best $\lambda$ moves towards 0 as the critic improves or the batch shrinks — the argmin of the MSE, per
# critic error (the scale of $e$) and batch size:

# %%
print("critic error   best lambda for batches of 10, 100, 1000")
best_lam = {}
for scale in (0.0, 0.1, 0.25, 0.5, 1.0):
    V_c = ev.V + scale * pg.critic_error_direction(mdp)
    _, b2_c, var_c = pg.gae_bias_variance(mdp, policy, theta, V_c, lams, pool, T)
    best_lam[scale] = [lams[np.argmin(b2_c + var_c / n_)] for n_ in (10, 100, 1000)]
    print(f"{scale:12.2f}   " + "   ".join(f"{b_:.1f}" for b_ in best_lam[scale]))
assert best_lam[0.1][1] <= best_lam[0.5][1] <= best_lam[1.0][1]
assert best_lam[0.5][0] <= best_lam[0.5][2]

# %% [markdown]
# ## 6. Truncated horizons
#
# GAE never needs the episode's end: it runs on a window of $T$ steps and bootstraps from $\hat V(s_T)$.
# With the **true critic**, every $\lambda$ then has the same expectation — the gradient contribution of
# the first $T$ steps, $g_T = \sum_{t<T}\gamma^t\,\mathbb{E}[\nabla\log\pi(a_t\mid s_t)A(s_t, a_t)]$ — which
# tends to $\nabla U$ as $T$ grows. Plain Monte Carlo *without* the bootstrap (REINFORCE on the cut
# returns, any baseline) estimates something else: the gradient of the $T$-step objective.

# %%
print("  T   |g_T - grad U|   max|E[GAE(0)] - E[GAE(1)]|, true V"
      "   |E[REINFORCE cut] - g_T|")
for T_ in (5, 10, 20, 60, 200):
    g0 = pg.expected_gradient_estimate(mdp, policy, theta, ev.V, 0.0, T_)
    g1 = pg.expected_gradient_estimate(mdp, policy, theta, ev.V, 1.0, T_)
    g_mc = pg.expected_gradient_estimate(mdp, policy, theta, np.zeros(S), 1.0, T_)
    print(f"{T_:4d}   {np.linalg.norm(g0 - grad):14.4f}   {np.abs(g0 - g1).max():34.10f}"
          f"   {np.linalg.norm(g_mc - g0):23.4f}")
    assert np.allclose(g0, g1)

# %% [markdown]
# ## 7. The GAE actor-critic, as a loop
#
# This is the advantage estimate of A2C (advantage actor-critic, Mnih et al. 2016, in its GAE form) and of
# PPO (Schulman et al. 2017): both use GAE advantages with a critic learned alongside the policy. The loop
# behind `pg.train(method="gae", critic="td")`: sample, update the TD critic on the batch (warm-started),
# form GAE advantages, step.

# %%
def gae_actor_critic(seed, lam=0.9, lr=0.2, n_iters=30, n_episodes=20):
    rng = np.random.default_rng(seed)
    th, V_c = theta.copy(), np.zeros(S)
    U = [pg.evaluate(mdp, policy.probs(th)).U]
    for _ in range(n_iters):
        ep = pg.sample_episodes(mdp, policy.probs(th), n_episodes, T, rng)
        V_c = pg.td0_values(ep, S, gamma, alpha=0.5, n_sweeps=10, V0=V_c)  # critic
        adv = pg.gae(ep, V_c, gamma, lam)                                # advantages
        th = th + lr * pg.advantage_gradient(policy, th, ep, adv, gamma)  # actor
        U.append(pg.evaluate(mdp, policy.probs(th)).U)
    return np.array(U)


U_loop = gae_actor_critic(0)
U_train = pg.train(mdp, policy, theta, method="gae", lam=0.9, lr=0.2, n_iters=30,
                   n_episodes=20, horizon=T, rng=np.random.default_rng(0),
                   critic="td", critic_lr=0.5, critic_sweeps=10).U
assert np.allclose(U_loop, U_train)
print(f"GAE(0.9) actor-critic: U after 0, 10, 30 iterations"
      f" {U_loop[0]:.3f} {U_loop[10]:.3f} {U_loop[30]:.3f}")

# %% [markdown]
# ## 8. Explore: $\lambda$, $\gamma$ and the critic error
#
# Left: exact squared bias, measured variance (batches of 100 episodes) and MSE against $\lambda$ for the
# chosen $\gamma$ and critic error; the star is your $\lambda$. Right: for your $\lambda$, the exact gradient,
# the exact expectation of the GAE estimate, and a sampled estimate from 100 episodes. Set the critic error
# to 0: the bias curve collapses to the horizon cut for every $\lambda$.

# %%
ex = pgw.gae_explorer(episodes=pool)  # reuse this notebook's 4000-episode pool
ex

# %% [markdown]
# ## Try it
#
# Exercise `exercises/ex07_gae.ipynb`: implement the GAE backward recursion with the terminated/truncated
# rules and check it against `pg.gae`, the TD error at $\lambda = 0$ and the bootstrapped return at
# $\lambda = 1$.
#
# ## Recap
# - $\hat A^{\mathrm{GAE}}_t = \sum_l (\gamma\lambda)^l\delta_{t+l}$; a backward recursion cut at every episode
#   end, bootstrapping only at truncation.
# - $\lambda = 0$ is TD(0); $\lambda = 1$ is $G_t - \hat V(s_t)$ plus $\gamma^{T-t}\hat V(s_T)$ on truncated episodes,
#   and that bootstrap carries the critic's error into the gradient (0.038 at $T = 8$, 0.011 at $T = 20$ here).
# - GAE with a learned critic is the advantage estimate of A2C and PPO.
# - Exactly: $\mathbb{E}[\hat A^{\mathrm{GAE}} \mid s, a] = (I - \gamma\lambda M)^{-1}D$; it equals $A$ for the true
#   critic and $A - e(s)$ at $\lambda = 1$, so the gradient bias shrinks to 0 as $\lambda \to 1$ (up to the truncation bootstrap) while the
#   variance grows: pick $\lambda$ by the MSE.
# - With a true critic and a truncated window, every $\lambda$ estimates the same $T$-step gradient.
