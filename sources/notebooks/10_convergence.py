# %% [markdown]
# # 10 · Convergence: why policy gradients find the optimum, and why they can be slow
#
# Gradient ascent on a non-concave $U(\theta)$ has no general reason to find the global maximum. For the
# tabular softmax it does — and the same analysis says when it will take a very long time. This notebook
# computes the quantities the theorems are stated in, and checks each statement numerically, never claiming
# more than the theorem gives.
#
# **Learning objectives.** After this notebook you can
# - state gradient domination for the tabular softmax (Mei et al. 2020; Agarwal et al. 2021) and compute its
#   ingredients: the distribution-mismatch coefficient $\kappa$ and $\min_s\pi(a^*(s)|s)$;
# - explain the plateaus of softmax policy gradient near deterministic sub-optimal policies (Mei et al.
#   2020), and measure the escape time growing fast with the length of a hard-exploration chain (in the
#   spirit of Li et al. 2021);
# - check Agarwal et al.'s bound for the natural policy gradient,
#   $U^* - U_T \le \frac{\log|A|}{\eta T} + \frac{1}{(1-\gamma)^2T}$, for every $T$;
# - compute the entropy-regularised optimum, its bias against $\tau$, and measure the linear rate of
#   entropy-regularised NPG against Cen et al.'s (2021) bound.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp
from pgcourse.widgets.convergence import convergence_explorer
from pgcourse.widgets.surrogates import OKABE_ITO

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px


def unit_rewards(mdp):
    """The same MDP with rewards mapped affinely to [0, 1], the theorems' setting (no
    terminal states: advantages, and so every iterate, only scale)."""
    R = (mdp.R - mdp.R.min()) / (mdp.R.max() - mdp.R.min())
    return pg.TabularMDP(mdp.P, R, mdp.mu, mdp.gamma)


# %% [markdown]
# ## 1. Gradient domination
#
# Let $a^*(s)$ be an optimal action. The performance difference lemma (notebook 09) with $\pi' = \pi^*$ gives
# $U^* - U(\theta) = \sum_s \mathrm{visits}^{\pi^*}(s)\,A^\pi(s, a^*(s))$. The softmax gradient's
# $(s, a^*(s))$ component is $\mathrm{visits}^\pi(s)\,\pi(a^*|s)\,A^\pi(s,a^*)$. Comparing the two term by term
# (Cauchy–Schwarz over the states; Mei et al. 2020, Lemma 8):
# $$\|\nabla U(\theta)\|_2 \;\ge\; \frac{\min_s \pi_\theta(a^*(s)|s)}{\sqrt{S}\;\kappa}\,\big(U^* - U(\theta)\big),
#   \qquad \kappa = \max_s\frac{\mathrm{visits}^{\pi^*}(s)}{\mathrm{visits}^{\pi_\theta}(s)}
#   \;\Big(= \max_s \frac{d^{\pi^*}(s)}{d^{\pi_\theta}(s)}\text{ without terminal states}\Big).$$
# So a point where the gradient vanishes is optimal — unless $\min_s\pi(a^*|s) = 0$ or $\kappa = \infty$. That
# is *why* softmax PG with exact gradients converges to $U^*$ (Agarwal et al. 2021; the rate needs more).
# Both sides, at 200 random parameters of a random MDP (5 states, 3 actions, $\gamma = 0.9$):

# %%
mdp = unit_rewards(pg.random_mdp(5, 3, 0.9, np.random.default_rng(10)))
policy = pg.SoftmaxPolicy.tabular(5, 3)
V_star, pi_star = pg.optimal_values(mdp)
U_star = float(mdp.mu @ V_star)
rng = np.random.default_rng(0)
ratios, kappas, cs = [], [], []
for _ in range(200):
    gd = pg.gradient_domination(mdp, policy, 2.0 * rng.normal(size=(5, 3)))
    ratios.append(gd["grad_norm"] / gd["bound"])
    kappas.append(gd["kappa"])
    cs.append(gd["min_pi_star"])
print(f"U* = {U_star:.4f}")
print(f"||grad U|| / bound over 200 parameters: min {min(ratios):.3f},"
      f" median {np.median(ratios):.2f}")
print(f"mismatch kappa: min {min(kappas):.2f}, max {max(kappas):.2f};  min_s pi(a*|s): "
      f"min {min(cs):.1e}, max {max(cs):.2f}")
assert min(ratios) >= 1.0

# %% [markdown]
# The inequality always held (ratio $\ge 1$) and is loose (median ratio above). The two ingredients that can
# make it weak are exactly the ones printed: a large $\kappa$ (the policy rarely visits where $\pi^*$ goes)
# and a small $\pi(a^*|s)$ (the policy has nearly given up the right action). The next two sections make
# each of them large on purpose.
#
# ## 2. Plateaus near deterministic policies
#
# One state, three actions with mean rewards $r = (1, 0.9, 0)$ ($a^* = 0$), exact gradient ascent with step
# size 1 (`pg.bandit_pg_curve`: the tabular gradient $\pi_a(r_a - \pi\cdot r)$, written out so that $3\times10^4$
# iterations are cheap). Start near the sub-optimal arm 1, with $\pi_0(a^*)$ shrinking tenfold each time:

# %%
r = np.array([1.0, 0.9, 0.0])
starts = np.array([[0.0, k * np.log(10), 0.0] for k in (1, 2, 3)])
pi0_star = np.exp(starts[:, 0]) / np.exp(starts).sum(axis=1)
U_band = pg.bandit_pg_curve(r, starts, 1.0, 30000)  # (30001, 3)
ks = np.array([100, 1000, 10000, 30000])
print(f"{'pi_0(a*)':>9s} {'iterations to U >= 0.95':>24s}   k (U* - U_k) at k = "
      + ", ".join(map(str, ks)))
hits = []
for j in range(3):
    hit = int(np.argmax(U_band[:, j] >= 0.95))
    hits.append(hit)
    scaled = "  ".join(f"{k * (1 - U_band[k, j]):7.3f}" for k in ks)
    print(f"{pi0_star[j]:9.1e} {hit:24d}   " + scaled)
assert hits[0] < hits[1] < hits[2] and np.all(np.diff(U_band, axis=0) >= -1e-15)

fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
for j, m in zip(range(3), "osd", strict=True):
    ax.loglog(np.arange(1, 30001), 1 - U_band[1:, j], color=OKABE_ITO[[6, 5, 3][j]],
              marker=m, markevery=0.1, ms=4, label=f"pi_0(a*) = {pi0_star[j]:.0e}")
ax.loglog([100, 30000], [1.0 / 100 * 0.67, 0.67 / 30000], ":", color=OKABE_ITO[0],
          label="0.67 / k")
ax.set_xlabel("iteration k (log scale)")
ax.set_ylabel("U* - U_k (log scale)")
ax.set_title("softmax PG on a bandit: a plateau, then O(1/k)", fontsize=10)
ax.legend(fontsize=8, loc="lower left")
pgp.show(fig, alt="Sub-optimality against iteration on log-log axes for three starting "
                  "policies; each curve stays flat near 0.1 for longer the smaller the "
                  "initial probability of the best arm, then falls along a 1/k line.")

# %% [markdown]
# Two facts, each with its number: the plateau near the sub-optimal arm lasts about ten times longer for
# each tenfold smaller $\pi_0(a^*)$ (209, 2029, 20053 iterations) — Mei et al. (2020) show that softmax PG
# can stay near a sub-optimal deterministic policy for a time that grows as $\pi_0(a^*)$ shrinks, and their
# rate $U^* - U_k = O(1/k)$ has a constant depending on $\inf_k \pi_k(a^*)$; and after the plateau
# $k(U^*-U_k)$ settles (0.67 and 0.69 for the first two starts at $k = 3\times10^4$; the third is still
# leaving its plateau). The rate is $O(1/k)$, not geometric.
#
# ## 3. A chain where the escape time grows fast
#
# `pg.chain_mdp(n)`: start in state 0; action 0 moves right (in the last state it stays and pays 1), the
# other two actions return to state 0 and pay nothing. From the uniform policy the last state is reached
# with probability $3^{-(n-1)}$ per attempt, and the mismatch coefficient is $\kappa = 3^{n-1}$. Li et al.
# (2021) build chains on which softmax PG from the uniform policy needs a time exponential in the number
# of states; this simpler chain shows the same kind of growth, measured (it is not their construction, and
# we prove nothing about it). Iterations to close 90 % of the gap $U^* - U_0$, exact PG and NPG, step size 1:

# %%
print(f"{'n':>2s} {'kappa at uniform':>17s} {'softmax PG':>11s} {'natural PG':>11s}")
pg_hits = []
for n in range(2, 9):
    chain = pg.chain_mdp(n)
    tab = pg.SoftmaxPolicy.tabular(n, 3)
    Uc_star = float(chain.mu @ pg.optimal_values(chain)[0])
    kappa = pg.mismatch_coefficient(chain, tab.probs(tab.zeros()))
    row = []
    for iterates, n_max in ((pg.pg_iterates, min(400, 6 * 3 ** (n - 2))),
                            (pg.npg_iterates, 10)):
        U = pg.objective_curve(chain, tab, iterates(chain, tab, tab.zeros(), 1.0, n_max))
        row.append(int(np.argmax(U >= U[0] + 0.9 * (Uc_star - U[0]))))
    pg_hits.append(row[0])
    print(f"{n:2d} {kappa:17.0f} {row[0]:11d} {row[1]:11d}")
assert np.all(np.diff(pg_hits) > 0) and pg_hits[-1] > 50 * pg_hits[0]

# %% [markdown]
# Softmax PG's escape time grows by a factor of about 2.5 per added state here (2, 4, 9, ..., 300), while
# $\kappa$ grows by 3; the natural gradient, which does not weight a state's update by how often it is
# visited, needs 1 to 3 iterations throughout.
#
# **Sampled beside exact.** REINFORCE on the 5-state chain (20 episodes of 60 steps per iteration, step size
# 1; deterministic rewards here, so the sampled rewards are the agent's), 8 seeds, against exact PG:

# %%
chain5 = pg.chain_mdp(5)
tab5 = pg.SoftmaxPolicy.tabular(5, 3)
U5_star = float(chain5.mu @ pg.optimal_values(chain5)[0])
exact5 = pg.train(chain5, tab5, tab5.zeros(), method="exact", lr=1.0, n_iters=60).U
runs5 = np.array([pg.train(chain5, tab5, tab5.zeros(), method="reinforce", lr=1.0,
                           n_iters=60, n_episodes=20, horizon=60,
                           rng=np.random.default_rng(seed)).U
                  for seed in range(8)])
target5 = exact5[0] + 0.9 * (U5_star - exact5[0])
hit_s = np.array([np.argmax(u >= target5) if (u >= target5).any() else 61 for u in runs5])
print(f"exact PG reaches 90 % at iteration {int(np.argmax(exact5 >= target5))};"
      " REINFORCE: "
      f"mean {hit_s.mean():.1f}, min {hit_s.min()}, max {hit_s.max()} over 8 seeds")
fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
pgp.learning_curves(ax, {"REINFORCE, 20 episodes/iteration": runs5, "exact PG": exact5},
                    optimum=U5_star)
pgp.show(fig, alt="Exact U against iteration on the 5-state chain: the exact-gradient "
                  "curve and 8 REINFORCE runs (faint, with their mean) stay near 0 for "
                  "about 15 iterations, then rise to U*.")

# %% [markdown]
# ## 4. The natural policy gradient's bound, for every $T$
#
# Agarwal et al. (2021), Theorem 16: for the tabular softmax with $\theta_0 = 0$, rewards in $[0, 1]$, any start
# distribution and any $\eta > 0$, the NPG iterates $\theta_{k+1} = \theta_k + \eta F^{+}\nabla U(\theta_k)$
# (`pg.natural_gradient`; for the tabular softmax $\pi_{k+1} \propto \pi_k e^{\eta A_k/(1-\gamma)}$) satisfy
# $$U^* - U_T \le \frac{\log|A|}{\eta T} + \frac{1}{(1-\gamma)^2 T}\qquad\text{for every } T \ge 1,$$
# and $U_k$ never decreases. Eight random MDPs (5 states, 3 actions, $\gamma = 0.9$), $\eta \in \{0.1, 1, 10\}$,
# 100 iterations: the largest ratio of the measured gap to the bound, and the largest decrease of $U$:

# %%
gaps = {}
print(f"{'eta':>5s} {'max over T and MDPs of (U* - U_T) / bound':>43s}"
      f" {'largest decrease of U':>22s}")
for eta in (0.1, 1.0, 10.0):
    worst, drop, gaps[eta] = 0.0, 0.0, []
    for seed in range(8):
        m = unit_rewards(pg.random_mdp(5, 3, 0.9, np.random.default_rng(100 + seed)))
        tab = pg.SoftmaxPolicy.tabular(5, 3)
        Um = float(m.mu @ pg.optimal_values(m)[0])
        U = pg.objective_curve(m, tab, pg.npg_iterates(m, tab, tab.zeros(), eta, 100))
        bound = pg.npg_bound(m, eta, np.arange(1, 101))
        worst = max(worst, float(((Um - U[1:]) / bound).max()))
        drop = max(drop, float(-np.diff(U).min()))
        gaps[eta].append(Um - U)
    print(f"{eta:5.1f} {worst:43.4f} {drop:22.1e}")
    assert worst <= 1.0 and drop <= 1e-12

fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
T = np.arange(1, 101)
for eta, c, mk in ((0.1, 6, "o"), (1.0, 5, "s"), (10.0, 3, "d")):
    G = np.maximum(np.array(gaps[eta])[:, 1:], 1e-16)
    ax.fill_between(T, G.min(axis=0), G.max(axis=0), color=OKABE_ITO[c], alpha=0.25)
    ax.loglog(T, np.median(G, axis=0), color=OKABE_ITO[c], marker=mk, markevery=0.15,
              ms=4, label=f"eta = {eta:g}: median, min-max over 8 MDPs")
    ax.loglog(T, np.log(3) / (eta * T) + 1 / (0.1 ** 2 * T), ":", color=OKABE_ITO[c])
ax.set_ylim(1e-16, 1e3)
ax.set_xlabel("iteration T (log scale)")
ax.set_ylabel("U* - U_T (log scale)")
ax.set_title("NPG: measured gap (bands) under the bound"
             " (dotted; eta = 1 and 10 nearly coincide)", fontsize=9)
ax.legend(fontsize=7, loc="lower left")
pgp.show(fig, alt="Log-log plot of the NPG sub-optimality against T for three step "
                  "sizes, as median lines with min-max bands over eight MDPs, each far "
                  "below its dotted bound line log|A|/(eta T) + 1/((1-gamma)^2 T).")

# %% [markdown]
# The bound holds at every $T$ with a wide margin (largest ratio printed above). The measured gaps fall much
# faster than $1/T$ here — notebook 08 showed the same on FrozenLake — but that is what these runs do, not
# what the theorem promises: without regularisation the guarantee is $O(1/T)$. (Before this course fixed
# `pg.natural_gradient`, which formed the Fisher matrix and dropped its small eigenvalues, runs like these
# left the bound or saw $U$ fall once the policy became nearly deterministic.)
#
# ## 5. Entropy regularisation
#
# Pay $-\tau\log\pi(a|s)$ on every step (`pg.evaluate(mdp, pi, tau)`): the regularised objective $U_\tau$ has a
# unique optimum $\pi^*_\tau = \mathrm{softmax}(Q^*_\tau/\tau)$, with $V^*_\tau(s) = \tau\log\sum_a e^{Q^*_\tau(s,a)/\tau}$
# (`pg.regularised_optimum`, by soft policy iteration, which is Newton's method on this equation). The price
# is a bias: since the per-step entropy lies in $[0, \log|A|]$,
# $0 \le U^* - U(\pi^*_\tau) \le \tau\log|A|/(1-\gamma)$. On the MDP of §1:

# %%
print(f"{'tau':>6s} {'U* - U(pi*_tau)':>16s} {'bound tau log|A|/(1-gamma)':>27s}"
      f" {'min pi*_tau':>12s}")
for tau in (0.01, 0.03, 0.1, 0.3, 1.0):
    _, pi_tau = pg.regularised_optimum(mdp, tau)
    bias = U_star - pg.evaluate(mdp, pi_tau).U
    print(f"{tau:6.2f} {bias:16.5f} {pg.regularisation_bias_bound(mdp, tau):27.4f}"
          f" {pi_tau.min():12.2e}")
    assert -1e-10 <= bias <= pg.regularisation_bias_bound(mdp, tau)

# %% [markdown]
# What regularisation buys (Cen et al. 2021, Theorem 1): the regularised NPG,
# $\theta_{k+1} = \theta_k + \eta F^+\nabla U_\tau(\theta_k)$ (`pg.natural_gradient(..., tau=tau)`), which for the
# tabular softmax is $\pi_{k+1} \propto \pi_k^{1-\eta\tau/(1-\gamma)}\,e^{\eta Q_\tau^{(k)}/(1-\gamma)}$, converges
# **linearly** for $0 < \eta \le (1-\gamma)/\tau$:
# $$\|Q^*_\tau - Q^{(k+1)}_\tau\|_\infty \le C_1\gamma(1-\eta\tau)^k,\qquad
#   \|\log\pi^*_\tau - \log\pi^{(k+1)}\|_\infty \le 2C_1\tau^{-1}(1-\eta\tau)^k,$$
# $C_1 = \|Q^*_\tau - Q^{(0)}_\tau\|_\infty + 2\tau(1-\tfrac{\eta\tau}{1-\gamma})\|\log\pi^*_\tau - \log\pi^{(0)}\|_\infty$.
# With $\tau = 0.1$ and the largest step $\eta = (1-\gamma)/\tau = 1$ (soft policy iteration) and a quarter of it:

# %%
tau = 0.1
_, pi_tau = pg.regularised_optimum(mdp, tau)
Q_tau_star = pg.evaluate(mdp, pi_tau, tau=tau).Q
print(f"{'eta':>5s} {'theorem rate 1 - eta tau':>25s}"
      f" {'measured rate of ||Q* - Q_k||':>31s}"
      f" {'max error / bound':>18s} {'iterations to 1e-12':>20s}")
errs = {}
for eta in (1.0, 0.25):
    thetas = pg.npg_iterates(mdp, policy, policy.zeros(), eta, 60, tau=tau)
    pis = [policy.probs(t) for t in thetas]
    Qerr = np.array([np.abs(Q_tau_star - pg.evaluate(mdp, p, tau=tau).Q).max()
                     for p in pis])
    Q_0 = pg.evaluate(mdp, pis[0], tau=tau).Q
    bQ, bL = pg.cen_bound(mdp, tau, eta, np.arange(60), Q_0, np.log(pis[0]),
                          Q_tau_star, np.log(pi_tau))
    last = int(np.flatnonzero(Qerr > 1e-12).max())  # last iteration above round-off
    # geometric mean contraction per iteration
    rate = (Qerr[last] / Qerr[1]) ** (1 / (last - 1))
    errs[eta] = Qerr
    print(f"{eta:5.2f} {1 - eta * tau:25.3f} {rate:31.3f} {(Qerr[1:] / bQ).max():18.3f}"
          f" {last + 1:20d}")
    assert np.all(Qerr[1:] <= bQ + 1e-12) and rate <= 1 - eta * tau + 1e-9

# %% [markdown]
# Both runs stay under the bound, and both converge faster than the theorem's rate on this MDP (the bound
# is a worst case; with $\eta = (1-\gamma)/\tau$ the update is soft policy iteration, Newton's method, and the
# error collapses within a few iterations). The unregularised NPG of §4 has no linear guarantee; the regularised one converges
# linearly — to $\pi^*_\tau$, which is $\tau$-biased away from the optimum (table above). For the plateaus of
# §2–3, the entropy term also keeps $\pi(a^*|s)$ away from 0, which the explorer below lets you try on the
# chain.
#
# ## 6. Explore: method, step size, entropy weight
#
# On the 6-state chain from the uniform policy: exact softmax PG or natural PG, a step size, an entropy weight
# $\tau$. Left: the exact (unregularised) $U(\theta_k)$ of both methods; right: the regularised sub-optimality
# $U^*_\tau - U_\tau(\theta_k)$ on a log scale. Try NPG with $\tau > 0$ and a step above $(1-\gamma)/\tau$: outside
# Cen et al.'s range the iteration can diverge.

# %%
ex = convergence_explorer()
ex

# %% [markdown]
# ## Recap
# - **Gradient domination** (Mei et al. 2020, Lemma 8; Agarwal et al. 2021): $\|\nabla U\| \ge
#   \frac{\min_s\pi(a^*|s)}{\sqrt S\,\kappa}(U^* - U)$ held at all 200 random parameters — no spurious stationary
#   points, but a weak push where $\kappa$ is large or $\pi(a^*|s)$ small.
# - **Plateaus**: on a bandit the time near a sub-optimal arm grew tenfold per tenfold smaller $\pi_0(a^*)$
#   (209, 2029, 20053 iterations), then the rate was $O(1/k)$ ($k(U^*-U_k) \to 0.67$); on the chain softmax PG's
#   escape time grew about 2.5-fold per state while NPG needed at most 3 iterations.
# - **NPG** stayed under $\frac{\log|A|}{\eta T} + \frac{1}{(1-\gamma)^2T}$ at every $T$ and never decreased $U$, for
#   all step sizes tried (Agarwal et al. 2021, Thm 16); its guarantee is $O(1/T)$.
# - **Entropy regularisation** costs a bias of at most $\tau\log|A|/(1-\gamma)$ and buys a linear rate
#   (Cen et al. 2021, Thm 1), measured at or below $1-\eta\tau$.
#
# **Published results reproduced here:** Mei et al. (2020) Lemma 8 (gradient domination, 200 points); the
# $O(1/k)$ rate and plateau of softmax PG on a bandit (Mei et al. 2020); growth of the escape time with
# the chain length (the phenomenon of Li et al. 2021, on a simpler chain); Agarwal et al. (2021) Theorem 16 for
# 24 runs (largest gap/bound ratio printed in §4); Cen et al. (2021) Theorem 1 for $\eta = 1$ and $0.25$.
