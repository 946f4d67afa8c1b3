# %% [markdown]
# # 11 · Function approximation and estimator design
#
# Every estimator of Part I weighted the score by an advantage estimate. This notebook asks which
# advantage estimates keep the gradient exact, and measures what the common design choices cost — each
# against its exact expectation.
#
# **Learning objectives.** After this notebook you can
# - state the compatible function approximation theorem (Sutton, McAllester, Singh & Mansour 2000) and check
#   that a linear critic in the score features gives the exact gradient although it is not $Q$ (nor $A$);
# - identify its weights with the natural gradient (Kakade 2001), and measure the bias of a critic in other
#   features;
# - estimate the compatible critic from episodes, with features in place of a table ("why exact is
#   infeasible", revisited);
# - write GAE as the $(1-\lambda)\lambda^{n-1}$ mix of $n$-step advantages and check it exactly, and trade the
#   $n$-step bias against variance;
# - explain reward-to-go (causality) and measure its variance gain;
# - compute the exact bias of the $\gamma^t$-dropped update most libraries use, and show that it is not the
#   gradient of any function (Nota & Thomas 2020).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp
from pgcourse.widgets.critics import critic_explorer, critic_problem
from pgcourse.widgets.surrogates import OKABE_ITO

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px

# %% [markdown]
# Throughout: a random episodic MDP (6 states, the last one terminal, 3 actions, $\gamma = 0.95$, rewards that
# depend on the outcome) and a softmax policy with only **3 linear features**, $\pi_\theta(a|s) \propto
# e^{\phi(s,a)\cdot\theta}$, $\theta \in \mathbb{R}^3$ — far fewer parameters than the 15 state-action pairs.
# The scores $\psi(s,a) = \nabla\log\pi(a|s) = \phi(s,a) - \sum_b\pi(b|s)\phi(s,b)$ are the *compatible features*.

# %%
mdp, policy, theta, _ = critic_problem()
ev = pg.evaluate(mdp, policy.probs(theta))
grad_U = pg.policy_gradient(mdp, policy, theta)
psi = pg.natural.score_features(policy, theta)  # (S, A, 3)
live = ~mdp.terminal
print(f"U = {ev.U:.4f}   grad U = {grad_U}"
      f"   effective horizon H = {ev.effective_horizon:.4f}")

# %% [markdown]
# ## 1. The compatible function approximation theorem
#
# Fit a linear critic $f_w(s,a) = \psi(s,a)\cdot w$ to the advantage, weighting each pair by how often the
# policy is there: $w = \arg\min_w \sum_s d(s)\sum_a\pi(a|s)\,(\psi(s,a)\cdot w - A(s,a))^2$
# (`pg.compatible_critic`, a weighted least-squares problem). Its normal equations say the residual is
# orthogonal to every score feature: $\sum_s d(s)\sum_a\pi\,\psi\,(\psi\cdot w - A) = 0$. Multiply by the effective
# horizon $H$ and use the policy gradient theorem $\nabla U = \sum_s\mathrm{visits}(s)\sum_a \pi\,\psi\,A$:
# $$\nabla U = \sum_s \mathrm{visits}(s)\sum_a \pi(a|s)\,\psi(s,a)\,\big(\psi(s,a)\cdot w\big).$$
# The critic can be a poor fit of $A$ and still give the exact gradient — what matters is that its error is
# orthogonal to the scores. Both sides:

# %%
w = pg.compatible_critic(mdp, policy, theta)
f = psi @ w
g_f = pg.critic_gradient(mdp, policy, theta, f)
print(f"max |psi.w - A| = {np.abs(f - ev.A)[live].max():.4f}"
      f"   max |psi.w - Q| = {np.abs(f - ev.Q)[live].max():.4f}")
print(f"gradient with the critic: {g_f}\nexact grad U:             {grad_U}")
assert np.abs(f - ev.A)[live].max() > 0.5 and np.allclose(g_f, grad_U, atol=1e-10)

# %% [markdown]
# ## 2. The weights are the natural gradient
#
# The normal equations read $F w = \nabla U / H$ with the Fisher matrix $F = \mathbb{E}_{d,\pi}[\psi\psi^\top]$: the
# minimum-norm solution is $w = F^{+}\nabla U/H$, the natural gradient over $H$ (Kakade 2001). The package
# computes it exactly this way — as the least-squares fit, never by inverting $F$ (which would square the
# condition number; notebook 10 shows what that cost):

# %%
n = pg.natural_gradient(mdp, policy, theta)
F = pg.fisher_matrix(mdp, policy, theta)
print(f"natural gradient / H = {n / ev.effective_horizon}\ncompatible critic w  = {w}")
print(f"|F w - grad U / H| = {np.abs(F @ w - grad_U / ev.effective_horizon).max():.1e}")
assert np.allclose(n / ev.effective_horizon, w, atol=1e-12)
assert np.allclose(F @ w, grad_U / ev.effective_horizon)

# %% [markdown]
# **A critic in other features** is biased. Fit $A$ with $k$ random features instead (`pg.linear_critic`), use
# it in the same update, and compare with $\nabla U$ (`pg.critic_gradient` is the exact expectation of the
# actor-critic update with that critic). With enough features to represent $A$ exactly (15 pairs) the bias
# vanishes again; so does it for the table (one feature per pair):

# %%
feat_rng = np.random.default_rng(0)
random_feats = feat_rng.normal(size=(mdp.S, mdp.A, 18))
print(f"{'critic features':>24s} {'max |f - A|':>12s} {'|bias| / |grad U|':>18s}"
      f" {'cos(g_f, grad U)':>17s}")
bias = {}
table = np.eye(mdp.S * mdp.A).reshape(mdp.S, mdp.A, -1)
feature_sets = ([("compatible (3)", psi)]
                + [(f"random ({k})", random_feats[:, :, :k]) for k in (1, 3, 6, 12, 18)]
                + [("state-action table (18)", table)])
for name, Phi in feature_sets:
    _, f_c = pg.linear_critic(mdp, policy, theta, Phi)
    g_c = pg.critic_gradient(mdp, policy, theta, f_c)
    bias[name] = np.linalg.norm(g_c - grad_U) / np.linalg.norm(grad_U)
    print(f"{name:>24s} {np.abs(f_c - ev.A)[live].max():12.4f} {bias[name]:18.4f}"
          f" {pg.cosine(g_c, grad_U):17.4f}")
assert bias["compatible (3)"] < 1e-10 and bias["random (3)"] > 0.1
assert bias["state-action table (18)"] < 1e-10

# %% [markdown]
# Three random features bias the gradient by the fraction printed (0.68); the three compatible features, whose
# fit of $A$ is itself rough (largest error 1.65), give it exactly. A good fit is neither necessary (compatible
# features) nor, short of an exact one, sufficient (12 random features fit better and are still biased).
#
# ## 3. Why exact is infeasible, revisited: the critic from samples
#
# The exact critic needs $d$ and $A$ for every pair — the whole model. With features, what we need is a
# $K$-dimensional $w$, and it can be fitted on samples: the same least-squares problem over the visited
# $(s_t, a_t)$, with weights $\gamma^t$ (which make the samples' distribution $d$) and the realised-reward
# target $\hat A_t = G_t - V(s_t)$ (`pg.sampled_compatible_critic`; here $V$ exact, an oracle baseline).
# $H\hat w$ estimates the natural gradient. 6 seeds per batch size:

# %%
T = 150
print(f"{'episodes':>9s} {'|w_hat - w| / |w|: median (min, max)':>38s}"
      f" {'cos(H w_hat, natural grad)':>27s}")
rel_err = {}
for N in (30, 300, 3000):
    errs, coss = [], []
    for seed in range(6):
        ep = pg.sample_episodes(mdp, ev.pi, N, T, np.random.default_rng(1000 * N + seed))
        G = pg.discounted_returns(ep.rewards, mdp.gamma, ep.mask)
        adv = (G - ev.V[ep.states]) * ep.mask
        w_hat = pg.sampled_compatible_critic(policy, theta, ep, adv, mdp.gamma)
        errs.append(np.linalg.norm(w_hat - w) / np.linalg.norm(w))
        coss.append(pg.cosine(ev.effective_horizon * w_hat, n))
    rel_err[N] = np.median(errs)
    print(f"{N:9d} {np.median(errs):20.3f} ({min(errs):.3f}, {max(errs):.3f})"
          f" {np.median(coss):27.4f}")
assert rel_err[3000] < rel_err[300] < rel_err[30]

# %% [markdown]
# The error falls roughly like $1/\sqrt N$ (a tenfold batch, about a third of the error): an unbiased way to
# estimate the natural gradient with three numbers per update instead of a table — the idea behind natural
# actor-critic methods, and behind TRPO's Fisher-vector products.
#
# ## 4. $n$-step advantages and the $\lambda$-return view of GAE
#
# With a critic $\hat V$, the $n$-step advantage $\hat A^{(n)}_t = \sum_{k<n}\gamma^k r_{t+k} + \gamma^n\hat V(s_{t+n}) - \hat V(s_t)$
# (`pg.n_step_advantages`; no bootstrap past a termination) telescopes to $\sum_{l<n}\gamma^l\delta_{t+l}$. GAE is their
# geometric mix (Schulman et al. 2016, §3):
# $$\hat A^{\mathrm{GAE}(\lambda)}_t = \sum_l (\gamma\lambda)^l\delta_{t+l} = (1-\lambda)\sum_{n\ge1}\lambda^{n-1}\hat A^{(n)}_t,$$
# because $\delta_{t+l}$ appears in every $\hat A^{(n)}$ with $n > l$, and $(1-\lambda)\sum_{n>l}\lambda^{n-1} = \lambda^l$. On
# episodes cut at a horizon $T$, $\hat A^{(n)} = \hat A^{(T)}$ for $n \ge T$, so the tail sums to $\lambda^{T-1}\hat A^{(T)}$.
# Checked exactly on sampled episodes, with a deliberately wrong critic $\hat V = V + e$:

# %%
T4 = 40
ep4 = pg.sample_episodes(mdp, ev.pi, 2000, T4, np.random.default_rng(4))
e = np.where(live, np.random.default_rng(5).normal(size=mdp.S), 0.0)
V_hat = ev.V + e
lam = 0.9
A_n = {k: pg.n_step_advantages(ep4, V_hat, mdp.gamma, k) for k in range(1, T4 + 1)}
mix = (sum((1 - lam) * lam ** (k - 1) * A_n[k] for k in range(1, T4))
       + lam ** (T4 - 1) * A_n[T4])
gae = pg.gae(ep4, V_hat, mdp.gamma, lam)
print(f"max |GAE(0.9) - sum_n (1 - lam) lam^(n-1) A^(n)| = {np.abs(gae - mix).max():.1e}")
td_gap = np.abs(A_n[1] - pg.td_errors(ep4, V_hat, mdp.gamma)).max()
gae1_gap = np.abs(A_n[T4] - pg.gae(ep4, V_hat, mdp.gamma, 1.0)).max()
print(f"max |A^(1) - TD errors| = {td_gap:.1e}   max |A^(T) - GAE(1)| = {gae1_gap:.1e}")
assert np.abs(gae - mix).max() < 1e-12

# %% [markdown]
# **Bias against variance, exactly and sampled.** With the wrong critic, $\mathbb{E}[\hat A^{(n)}\mid s,a]$ is computed
# exactly by `pg.expected_gae(mdp, pi, V_hat, lam=1, n_steps=n)` ($n$ steps of the trace $\sum_{l<n}\gamma^l\delta$).
# Its error against $A$ does not vanish as $n$ grows: $\mathbb{E}[\hat A^{(n)}\mid s,a] = A(s,a) - e(s) + \gamma^n(\ldots)$, and the
# $-e(s)$ is a baseline, which the gradient ignores. What matters is the **gradient's** bias,
# $\|\sum_s\mathrm{visits}\sum_a\pi\psi\,\mathbb{E}[\hat A^{(n)}|s,a] - \nabla U\|$ (`pg.critic_gradient` of the exact conditional mean):
# it goes to 0 as $n$ grows (like $\gamma^n$ eventually; not monotonically — see $n = 2$ below), while the
# sampled variance per step grows with $n$. Beside the exact conditional
# mean, the sampled one for one pair:

# %%
w_dpi = ev.d[:, None] * ev.pi
s0, a0 = 0, 1
print(f"{'n':>3s} {'exact RMS |E[A^(n)|s,a] - A|':>29s} {'gradient bias / |grad U|':>25s}"
      f" {'sampled var':>12s} {f'(s,a)=({s0},{a0}): exact E':>24s}"
      f" {'sampled mean ± s.e.':>22s}")
gbias = {}
for k in (1, 2, 4, 8, 16):
    EA = pg.expected_gae(mdp, ev.pi, V_hat, 1.0, n_steps=k)
    rms = np.sqrt((w_dpi * (EA - ev.A) ** 2).sum())
    g_k = pg.critic_gradient(mdp, policy, theta, EA)
    gbias[k] = np.linalg.norm(g_k - grad_U) / np.linalg.norm(grad_U)
    steps = ep4.mask > 0
    m, se, cnt = pg.per_pair_means(ep4, A_n[k], mdp.S, mdp.A,
                                   where=np.arange(T4)[None, :] < T4 - k)
    print(f"{k:3d} {rms:29.4f} {gbias[k]:25.4f} {A_n[k][steps].var():12.3f}"
          f" {EA[s0, a0]:24.4f} {m[s0, a0]:14.4f} ± {se[s0, a0]:.4f}")
    assert abs(m[s0, a0] - EA[s0, a0]) < 5 * se[s0, a0]
assert gbias[16] < gbias[4] < gbias[1]

# %% [markdown]
# (The sampled means use only steps at least $n$ steps before the horizon, where the exact formula applies.)
#
# ## 5. Reward-to-go: causality
#
# An action cannot affect rewards received before it. Weighting the score at step $t$ by the whole return $G_0$
# instead of $G_t$ adds terms $\mathbb{E}[\nabla\log\pi(a_t|s_t)\,r_{t'}]$ with $t' < t$, each zero in expectation: both
# estimators are unbiased, but the whole-trajectory one carries that noise. Per-episode gradients, 4000
# episodes of 150 steps, against the exact $\nabla U$:

# %%
ep5 = pg.sample_episodes(mdp, ev.pi, 4000, T, np.random.default_rng(7))
G5 = pg.discounted_returns(ep5.rewards, mdp.gamma, ep5.mask)
whole = G5[:, :1] * ep5.mask  # G_0 at every step
# sum_t grad log pi(a_t|s_t) G_0, and sum_t gamma^t grad log pi(a_t|s_t) G_t
g_whole = pg.per_episode_gradients(policy, theta, ep5, whole, 1.0)
g_togo = pg.per_episode_gradients(policy, theta, ep5, G5, mdp.gamma)
for name, g in (("whole return G_0", g_whole), ("reward-to-go G_t", g_togo)):
    m, se = pg.mean_se(g)
    print(f"{name:>17s}: mean {m}"
          f"  max |mean - grad U| / s.e. = {np.max(np.abs(m - grad_U) / se):.2f}"
          f"   variance per episode (trace) = {pg.total_variance(g):.2f}")
    assert np.all(np.abs(m - grad_U) < 5 * se)
ratio = pg.total_variance(g_whole) / pg.total_variance(g_togo)
print(f"variance ratio whole / to-go = {ratio:.2f}")
assert ratio > 1

# %% [markdown]
# (Reward-to-go here is REINFORCE as notebook 05 teaches it: $\sum_t\gamma^t\nabla\log\pi(a_t|s_t)\,G_t$; the whole-return
# form is $\sum_t\nabla\log\pi(a_t|s_t)\,\sum_{t'}\gamma^{t'}r_{t'}$, the log-likelihood of the whole trajectory times its return.)
#
# ## 6. The $\gamma^t$-dropped direction is not a gradient
#
# The policy gradient theorem weights step $t$ by $\gamma^t$. Most implementations (REINFORCE, A2C, PPO as
# usually coded) drop it and average $\nabla\log\pi(a_t|s_t)\hat A_t$ over all steps alike. In expectation that is
# $$\hat g_{\text{drop}} = \sum_s \eta(s)\sum_a\pi(a|s)\,\psi(s,a)\,A(s,a),\qquad \eta(s) = \text{undiscounted expected visits},$$
# (`pg.dropped_discount_direction`) — not $\nabla U$ unless $\gamma = 1$. Nota & Thomas (2020) show it is not the
# gradient of *any* function: a gradient field's Jacobian is a Hessian, hence symmetric; this one's is not
# (`pg.jacobian_asymmetry`, by finite differences):

# %%
g_drop = pg.dropped_discount_direction(mdp, policy, theta)
asym_drop = pg.jacobian_asymmetry(
    lambda th: pg.dropped_discount_direction(mdp, policy, th), theta)
asym_grad = pg.jacobian_asymmetry(lambda th: pg.policy_gradient(mdp, policy, th), theta)
print(f"dropped direction {g_drop}   grad U {grad_U}")
rel_drop = np.linalg.norm(g_drop - grad_U) / np.linalg.norm(grad_U)
print(f"|g_drop - grad U| / |grad U| = {rel_drop:.4f}   "
      f"cos = {pg.cosine(g_drop, grad_U):.4f}")
print(f"Jacobian asymmetry ||J - J^T|| / ||J||: dropped {asym_drop:.4f},"
      f" true gradient {asym_grad:.1e}")
assert asym_drop > 1e-3 and asym_grad < 1e-6

# sampled: the same update from episodes, no gamma^t, advantages G_t - V(s_t)
adv5 = (G5 - ev.V[ep5.states]) * ep5.mask
m, se = pg.mean_se(pg.per_episode_gradients(policy, theta, ep5, adv5, 1.0))
g_drop_T = pg.dropped_discount_direction(mdp, policy, theta, horizon=T)
print(f"sampled dropped update: {m} ± {se}\nexact, horizon {T}:     {g_drop_T}")
assert np.all(np.abs(m - g_drop_T) < 5 * se)

# %% [markdown]
# The bias is what it costs per update; the asymmetry says more: there is no objective that this update
# ascends, so nothing guarantees it improves $U$ — in practice it often still does, because its cosine with
# $\nabla U$ is high (as here). With $\gamma = 1$ the two coincide.
#
# ## 7. Explore: which features for the critic?
#
# Pick the critic's features — the compatible ones or $k$ random ones — and see the fit (left: $f(s,a)$ against
# $A(s,a)$) and the gradient it implies (right, against $\nabla U$).

# %%
ex = critic_explorer()
ex

# %% [markdown]
# ## Recap
# - **Compatible features** (Sutton et al. 2000): a linear critic in $\psi = \nabla\log\pi$, fitted by $d\pi$-weighted
#   least squares, gives $\nabla U$ exactly although $\max|\psi\cdot w - A|$ was 1.6 here; its weights are the natural
#   gradient over $H$ (Kakade 2001). Random features of the same number biased the gradient (table in §2).
# - The compatible critic can be **fitted from samples** with $\gamma^t$ weights: error falling like $1/\sqrt N$.
# - **GAE** is the $(1-\lambda)\lambda^{n-1}$ mix of $n$-step advantages (checked to $10^{-12}$); longer $n$ trades
#   the gradient bias from the critic (from 0.085 at $n = 1$ to $10^{-4}$ at $n = 16$ here) for variance.
# - **Reward-to-go** keeps the expectation and cut the variance per episode by the ratio printed in §5.
# - The **$\gamma^t$-dropped update** has a measurable bias and an asymmetric Jacobian: it is not a gradient
#   (Nota & Thomas 2020).
#
# **Published results reproduced here:** the compatible function approximation theorem (Sutton et al. 2000,
# Thm 2) to $10^{-10}$; the natural gradient as the compatible weights (Kakade 2001, Thm 1); GAE's
# $\lambda$-return identity (Schulman et al. 2016, eq. 16) to $10^{-12}$; Nota & Thomas's (2020) observation that the
# $\gamma^t$-dropped update is not a gradient, as a Jacobian asymmetry printed in §6.
