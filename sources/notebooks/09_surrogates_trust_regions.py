# %% [markdown]
# # 09 · Surrogate objectives and trust regions
#
# The source notes end with a remark: the policy gradient "gives the first-order ascent direction at the
# current policy, but appears to lack a 'true objective function'". This notebook answers it. There *is* an
# objective behind every step — the surrogate $L_{\text{old}}$ — and an exact identity, the performance
# difference lemma, says how far it is from the truth. TRPO and PPO are two ways of staying where the
# surrogate can be trusted.
#
# **Learning objectives.** After this notebook you can
# - state and check the performance difference lemma $U(\pi') - U(\pi) = \sum_s \mathrm{visits}^{\pi'}(s)
#   \sum_a \pi'(a|s) A^\pi(s,a)$, exact for *any* two policies (Kakade & Langford 2002);
# - build the surrogate $L_{\text{old}}(\theta)$, show it has the value and the gradient of $U$ at
#   $\theta_{\text{old}}$, and measure its gap as $\theta$ moves away;
# - check TRPO's lower bound $U(\pi') \ge L_{\text{old}}(\pi') - C\max_s \mathrm{KL}$ (Schulman et al. 2015,
#   Theorem 1) numerically, and take a KL-constrained step;
# - write PPO's clipped objective as an exact expectation and say what clipping does to its maximiser;
# - see policy iteration as the large-step limit of the surrogate's maximisation;
# - estimate the surrogate from the old policy's episodes, as TRPO and PPO do, with the rewards the agent
#   actually receives.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp
from pgcourse.widgets.surrogates import OKABE_ITO, surrogate_explorer

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px

# %% [markdown]
# Throughout: a random MDP with 5 states, 3 actions, $\gamma = 0.9$, no terminal states, and rewards that
# depend on the outcome (`reward_noise=1.0`: $r(s,a,s')$ varies around $r(s,a)$, so a sampled episode
# carries rewards the exact formulas never see); a tabular softmax policy at a random $\theta_{\text{old}}$,
# and a second, arbitrary policy $\theta_{\text{new}}$. $H = \sum_s \mathrm{visits}(s) = 1/(1-\gamma) = 10$.

# %%
rng = np.random.default_rng(9)
mdp = pg.random_mdp(5, 3, 0.9, rng, reward_noise=1.0)
policy = pg.SoftmaxPolicy.tabular(5, 3)
theta_old = rng.normal(size=(5, 3))
theta_new = theta_old + rng.normal(size=(5, 3))
pi_old, pi_new = policy.probs(theta_old), policy.probs(theta_new)
ev_old, ev_new = pg.evaluate(mdp, pi_old), pg.evaluate(mdp, pi_new)
gamma = mdp.gamma
print(f"U(old) = {ev_old.U:.4f}   U(new) = {ev_new.U:.4f}"
      f"   U(new) - U(old) = {ev_new.U - ev_old.U:.4f}")

# %% [markdown]
# ## 1. The performance difference lemma
#
# Run the **new** policy and add, along its trajectory, the old policy's TD errors
# $r_t + \gamma V^{\pi}(s_{t+1}) - V^{\pi}(s_t)$. The sum telescopes:
# $$\mathbb{E}_{\pi'}\Big[\sum_t \gamma^t \big(r_t + \gamma V^\pi(s_{t+1}) - V^\pi(s_t)\big)\Big]
#   = \mathbb{E}_{\pi'}\Big[\sum_t\gamma^t r_t\Big] - \mathbb{E}_{s_0\sim\mu}\big[V^\pi(s_0)\big] = U(\pi') - U(\pi).$$
# Conditioning each term on $(s_t, a_t)$ turns the TD error into $A^\pi(s_t, a_t)$, and grouping the terms by
# state gives the discounted visit counts of the **new** policy:
# $$U(\pi') - U(\pi) = \sum_s \mathrm{visits}^{\pi'}(s)\sum_a \pi'(a|s)\,A^\pi(s,a)
#   \;\Big(= \tfrac{1}{1-\gamma}\,\mathbb{E}_{s\sim d^{\pi'},\,a\sim\pi'}\big[A^\pi(s,a)\big]\text{ without terminal states}\Big).$$
# No approximation anywhere: it holds for any two policies, however different. (With terminal states the
# telescoping stops at the terminal state, where $V = 0$; it holds for $\gamma = 1$ episodic tasks too.)

# %%
pdl = pg.performance_difference(mdp, pi_old, pi_new)
print(f"U(new) - U(old)                        = {ev_new.U - ev_old.U:.10f}")
print(f"sum visits_new sum pi_new A_old (PDL) = {pdl:.10f}")
assert abs(pdl - (ev_new.U - ev_old.U)) < 1e-10
wrong = ev_old.visits @ (pi_new * ev_old.A).sum(axis=1)
print(f"with the OLD policy's visits instead   = {wrong:.4f}"
      "   <- not the difference (that is the surrogate, §2)")

# %% [markdown]
# The same on an episodic task with $\gamma = 1$: the short corridor (Sutton & Barto, Example 13.1) with
# $\Pr(\text{right}) = 0.3$ against the best stochastic policy $p = 2 - \sqrt 2$:

# %%
corridor = pg.short_corridor()


def corridor_pi(p):
    return np.tile([1 - p, p], (corridor.S, 1))


a, b = corridor_pi(0.3), corridor_pi(2 - np.sqrt(2))
lhs = pg.evaluate(corridor, b).U - pg.evaluate(corridor, a).U
rhs = pg.performance_difference(corridor, a, b)
print(f"corridor: U(p*) - U(0.3) = {lhs:.10f}   PDL = {rhs:.10f}")
assert abs(lhs - rhs) < 1e-10

# %% [markdown]
# **Sampled beside exact.** Both sides can be estimated from episodes: the left as the difference of mean
# returns of the two policies, the right from the new policy's episodes alone, as the mean of
# $\sum_t\gamma^t A^{\text{old}}(s_t, a_t)$. 4000 episodes each, 120 steps ($\gamma^{120} < 10^{-5}$), rewards
# as the agent receives them; ± one standard error:

# %%
T = 120
ep_old = pg.sample_episodes(mdp, pi_old, 4000, T, np.random.default_rng(1))
ep_new = pg.sample_episodes(mdp, pi_new, 4000, T, np.random.default_rng(2))
G_old = pg.discounted_returns(ep_old.rewards, gamma, ep_old.mask)
G_new = pg.discounted_returns(ep_new.rewards, gamma, ep_new.mask)
(m_old, se_old), (m_new, se_new) = pg.mean_se(G_old[:, 0]), pg.mean_se(G_new[:, 0])
A_old_t = ep_new.mask * ev_old.A[ep_new.states, ep_new.actions]
pdl_samples = A_old_t @ gamma ** np.arange(T)
m_pdl, se_pdl = pg.mean_se(pdl_samples)
print(f"exact   U(new) - U(old)                     = {ev_new.U - ev_old.U:7.4f}")
print(f"sampled mean return(new) - mean return(old) = {m_new - m_old:7.4f}"
      f" ± {np.hypot(se_new, se_old):.4f}")
print(f"sampled PDL, new episodes, sum gamma^t A_old = {m_pdl:7.4f} ± {se_pdl:.4f}")
after_00 = (ep_old.states == 0) & (ep_old.actions == 0) & (ep_old.mask > 0)
print(f"distinct rewards seen after (s, a) = (0, 0):"
      f" {np.unique(ep_old.rewards[after_00].round(3)).size}")
assert abs(m_new - m_old - (ev_new.U - ev_old.U)) < 4 * np.hypot(se_new, se_old)
assert abs(m_pdl - pdl) < 4 * se_pdl

# %% [markdown]
# The PDL estimate needs only episodes of one policy and has a much smaller standard error: the exact
# advantage has removed the reward noise. That is the lemma's practical use — but it needs the *new*
# policy's episodes, which we do not have before we move. The surrogate replaces them by the old ones.
#
# ## 2. The surrogate $L_{\text{old}}$
#
# Swap the new policy's visit counts for the old policy's — the one thing we can sample before moving:
# $$L_{\text{old}}(\theta) = U(\theta_{\text{old}}) + \sum_s \mathrm{visits}^{\text{old}}(s)\sum_a
#   \pi_\theta(a|s)\,A^{\text{old}}(s,a).$$
# - **Value at $\theta_{\text{old}}$**: $\sum_a\pi_{\text{old}}(a|s)A^{\text{old}}(s,a) = 0$, so
#   $L_{\text{old}}(\theta_{\text{old}}) = U(\theta_{\text{old}})$.
# - **Gradient at $\theta_{\text{old}}$**: $\nabla L_{\text{old}} = \sum_s \mathrm{visits}^{\text{old}}(s)\sum_a
#   \nabla\pi_\theta(a|s) A^{\text{old}}(s,a)$ — at $\theta_{\text{old}}$ this is the policy gradient
#   theorem (with $A$ in place of $Q$, the baseline $V$ adds nothing). The term the theorem showed to cancel,
#   the derivative of the visit counts, is exactly what the surrogate leaves out.
# - **Gap**: $U(\theta) - L_{\text{old}}(\theta) = \sum_s(\mathrm{visits}^{\theta} - \mathrm{visits}^{\text{old}})(s)
#   \sum_a\pi_\theta(a|s)A^{\text{old}}(s,a)$, a product of two differences that vanish at
#   $\theta_{\text{old}}$: second order in the step.
#
# So the notes' "first-order ascent direction" is the gradient of a true function, $L_{\text{old}}$, which
# agrees with $U$ to first order and which we can evaluate — and maximise — from the old policy's data.

# %%
L0 = pg.surrogate_objective(mdp, policy, theta_old, theta_old)
grad_U = pg.policy_gradient(mdp, policy, theta_old)
eps_fd = 1e-6
fd_L = np.zeros_like(theta_old)
for i in np.ndindex(theta_old.shape):
    e = np.zeros_like(theta_old)
    e[i] = eps_fd
    L_plus = pg.surrogate_objective(mdp, policy, theta_old, theta_old + e)
    L_minus = pg.surrogate_objective(mdp, policy, theta_old, theta_old - e)
    fd_L[i] = (L_plus - L_minus) / (2 * eps_fd)
print(f"L_old(theta_old) = {L0:.10f}   U(theta_old) = {ev_old.U:.10f}")
print(f"max |f.d. grad L_old - grad U| at theta_old = {np.abs(fd_L - grad_U).max():.2e}")
assert abs(L0 - ev_old.U) < 1e-12 and np.abs(fd_L - grad_U).max() < 1e-7

# %% [markdown]
# Move along the unit natural-gradient direction $u$ (why that direction: §4) by a step $t$ and watch the gap
# grow like $t^2$ — the ratio gap$/t^2$ settles to a constant as $t \to 0$:

# %%
n_old = pg.natural_gradient(mdp, policy, theta_old)
u = n_old / np.linalg.norm(n_old)
steps = np.array([0.01, 0.03, 0.1, 0.3, 1.0, 3.0])
prof = pg.line_profile(mdp, policy, theta_old, u, steps)
print(f"{'t':>5s} {'U - U_old':>10s} {'L - U_old':>10s} {'gap U - L':>10s}"
      f" {'gap / t^2':>10s}")
for t, U_t, L_t in zip(steps, prof["U"], prof["L"], strict=True):
    print(f"{t:5.2f} {U_t - ev_old.U:10.5f} {L_t - ev_old.U:10.5f} {U_t - L_t:10.6f}"
          f" {(U_t - L_t) / t**2:10.5f}")

# %% [markdown]
# **Sampled beside exact: importance sampling.** TRPO and PPO estimate $L_{\text{old}}(\theta) - U_{\text{old}}$
# from the old policy's episodes: weight each step by the ratio $r_t = \pi_\theta(a_t|s_t)/\pi_{\text{old}}(a_t|s_t)$
# and use an advantage estimate, here $\hat A_t = G_t - V^{\text{old}}(s_t)$ from the realised rewards
# (`pg.surrogate_estimates`; unbiased because $\mathbb{E}[G_t - V(s_t)\mid s_t, a_t] = A(s_t, a_t)$). One
# batch of 4000 old episodes serves every $\theta$:

# %%
adv_old = (G_old - ev_old.V[ep_old.states]) * ep_old.mask
# ratio 1: mean 0
x_old = pg.surrogate_estimates(policy, theta_old, theta_old, ep_old, adv_old, gamma)
print(f"{'t':>5s} {'exact L - U_old':>16s} {'sampled':>9s} {'± s.e.':>7s}"
      f" {'ratio - 1 form':>15s} {'± s.e.':>7s}")
for t, L_t in zip(steps[:5], prof["L"][:5], strict=True):
    x = pg.surrogate_estimates(policy, theta_old, theta_old + t * u, ep_old, adv_old,
                               gamma)
    (m, se), (m1, se1) = pg.mean_se(x), pg.mean_se(x - x_old)
    print(f"{t:5.2f} {L_t - ev_old.U:16.4f} {m:9.4f} {se:7.4f} {m1:15.4f} {se1:7.4f}")
    assert abs(m - (L_t - ev_old.U)) < 4 * se and abs(m1 - (L_t - ev_old.U)) < 4 * se1

# %% [markdown]
# The plain estimate is noisy (s.e. ≈ 0.36 whatever the step): most of its variance is that of
# $\sum_t\gamma^t\hat A_t$, whose mean is 0. Subtracting it — weighting by $r_t - 1$ instead of $r_t$ — keeps the
# expectation (since $\mathbb{E}_{	ext{old}}[\sum_t\gamma^t\hat A_t] = 0$) and removes that noise near
# $	heta_{	ext{old}}$, where the ratio is close to 1.

# %% [markdown]
# ## 3. TRPO's lower bound
#
# How far can we trust $L_{\text{old}}$? Schulman et al. (2015), Theorem 1 (building on Kakade & Langford's
# conservative policy iteration): with $\epsilon = \max_{s,a}|A^{\text{old}}(s,a)|$ and
# $\alpha = \max_s D_{TV}(\pi_{\text{old}}(\cdot|s), \pi'(\cdot|s))$,
# $$U(\pi') \;\ge\; L_{\text{old}}(\pi') - \frac{4\epsilon\gamma}{(1-\gamma)^2}\,\alpha^2
#   \;\ge\; L_{\text{old}}(\pi') - C\,\max_s \mathrm{KL}\big(\pi_{\text{old}}(\cdot|s)\,\|\,\pi'(\cdot|s)\big),
#   \qquad C = \frac{4\epsilon\gamma}{(1-\gamma)^2},$$
# the second form from $D_{TV}^2 \le \mathrm{KL}$ (Pinsker). `pg.trpo_lower_bound(..., "kl")` is the second,
# `"tv"` the first. (For $\gamma = 1$, $C = \infty$: the bound says nothing.) Check it on 300 random pairs of
# policies, near and far:

# %%
C = pg.trpo_constant(mdp, pi_old)
slack_kl, slack_tv = [], []
pair_rng = np.random.default_rng(5)
for k in range(300):
    th = theta_old + pair_rng.choice([0.01, 0.1, 1.0]) * pair_rng.normal(size=(5, 3))
    U_th = pg.evaluate(mdp, policy.probs(th)).U
    slack_kl.append(U_th - pg.trpo_lower_bound(mdp, policy, theta_old, th, "kl"))
    slack_tv.append(U_th - pg.trpo_lower_bound(mdp, policy, theta_old, th, "tv"))
print(f"C = 4 eps gamma / (1-gamma)^2 = {C:.2f}"
      f"   (eps = max|A_old| = {np.abs(ev_old.A).max():.4f})")
print(f"U - bound over 300 pairs: KL form min {min(slack_kl):.2e},"
      f" median {np.median(slack_kl):.3f}; TV form min {min(slack_tv):.2e},"
      f" median {np.median(slack_tv):.3f}")
assert min(slack_kl) >= -1e-10 and min(slack_tv) >= -1e-10

# %% [markdown]
# The bound always holds, and it is loose: $C = 606$ here. Still it is a **minorant** — below $U$ everywhere
# and touching it at $\theta_{\text{old}}$ with the same slope — so maximising it can only raise $U$
# (minorise-maximise: $U(\theta^\star) \ge \text{bound}(\theta^\star) \ge \text{bound}(\theta_{\text{old}}) =
# U(\theta_{\text{old}})$). Along $u$, on a fine grid of steps:

# %%
fine = np.linspace(0.0, 0.25, 251)
pf = pg.line_profile(mdp, policy, theta_old, u, fine)
k = int(np.argmax(pf["bound"]))
print(f"bound maximised at t = {fine[k]:.3f}:"
      f" guaranteed U gain {pf['bound'][k] - ev_old.U:.4f},"
      f" actual U gain {pf['U'][k] - ev_old.U:.4f},"
      f" surrogate gain {pf['L'][k] - ev_old.U:.4f}")
print(f"the bound is above U(theta_old) only for"
      f" t < {fine[pf['bound'] > ev_old.U].max():.3f}")
assert pf["U"][k] >= pf["bound"][k] >= ev_old.U

fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
ax.plot(fine, pf["U"] - ev_old.U, "-", color=OKABE_ITO[0], lw=2,
        label="U(theta) - U_old (exact)")
ax.plot(fine, pf["L"] - ev_old.U, "--", color=OKABE_ITO[5],
        label="surrogate L_old - U_old")
ax.plot(fine, pf["bound"] - ev_old.U, ":", color=OKABE_ITO[3], lw=2,
        label="TRPO bound L - C max KL - U_old")
ax.plot(fine[k], pf["bound"][k] - ev_old.U, "o", color=OKABE_ITO[3],
        label="maximiser of the bound")
ax.set_ylim(-0.15, 0.5)
ax.axhline(0, color="0.6", lw=0.8)
ax.set_xlabel("step t along the unit natural gradient")
ax.set_ylabel("improvement over U(theta_old)")
ax.set_title("TRPO's bound is a minorant of U", fontsize=10)
ax.legend(fontsize=8, loc="upper left")
pgp.show(fig, alt="Three curves against the step size t from 0 to 0.25: U and the "
                  "surrogate rise almost linearly and together; TRPO's bound rises "
                  "briefly, peaks at a small step (marked), then falls below zero.")

# %% [markdown]
# ## 4. A KL-constrained step
#
# The guaranteed step is tiny. TRPO in practice keeps the idea and drops the constant: maximise
# $L_{\text{old}}$ subject to the **mean** KL under $d^{\text{old}}$ being at most $\delta$. For a small $\delta$,
# $\overline{\mathrm{KL}} \approx \tfrac12\Delta\theta^\top F\Delta\theta$ with $F$ the Fisher matrix (notebook 08),
# so the best direction is the natural gradient $F^+\nabla U$, and the step size is
# $\sqrt{2\delta / (n^\top \nabla U)}$; TRPO then halves the step until the exact KL is within $\delta$ and the
# surrogate improves (`pg.kl_constrained_step`). The natural direction buys more improvement per unit of KL
# than the plain gradient — at equal mean KL:

# %%
print(f"{'delta':>6s} | TRPO step: {'t':>6s} {'mean KL':>8s} {'L gain':>7s}"
      f" {'U gain':>7s} | at mean KL = delta exactly:"
      f" {'U gain, natural':>15s} {'U gain, plain':>13s}")
for delta in (1e-3, 1e-2, 5e-2):
    th, info = pg.kl_constrained_step(mdp, policy, theta_old, delta)
    gains = []
    for direction in (n_old, grad_U):
        t_eq = pg.step_to_kl(mdp, policy, theta_old, direction, delta)
        U_eq = pg.evaluate(mdp, policy.probs(theta_old + t_eq * direction)).U
        gains.append(U_eq - ev_old.U)
    print(f"{delta:6.3f} | {'':10s} {info['step']:6.3f} {info['mean_kl']:8.5f}"
          f" {info['surrogate'] - ev_old.U:7.4f} {info['U'] - ev_old.U:7.4f}"
          f" | {'':26s} {gains[0]:15.4f} {gains[1]:13.4f}")
    assert info["mean_kl"] <= delta and info["U"] > ev_old.U and gains[0] > gains[1]

# %% [markdown]
# At every $\delta$ tried, the natural direction gains more $U$ than the plain gradient for the same mean KL
# (a few per cent here: this policy is far from deterministic; notebook 10 shows where the gap becomes
# orders of magnitude). The quadratic model's step lands a little inside the constraint (mean KL just below
# $\delta$).

# %% [markdown]
# ## 5. PPO's clipped objective, exactly
#
# PPO (Schulman et al. 2017) replaces the constraint by clipping the ratio $r = \pi_\theta/\pi_{\text{old}}$:
# $$L^{\text{clip}}_{\text{old}}(\theta) = U_{\text{old}} + \sum_s\mathrm{visits}^{\text{old}}(s)\sum_a\pi_{\text{old}}(a|s)
#   \min\big(r\,A^{\text{old}},\ \mathrm{clip}(r, 1-\epsilon, 1+\epsilon)\,A^{\text{old}}\big).$$
# On a tabular MDP this expectation is a finite sum (`pg.clipped_objective`). Three facts, checked below:
# - with $\epsilon = \infty$ it is $L_{\text{old}}$; it equals $L_{\text{old}}$ whenever every ratio lies in
#   $[1-\epsilon, 1+\epsilon]$, and is never above it;
# - per state it is concave and piecewise linear in $\pi$: moving an action's probability past
#   $(1+\epsilon)\pi_{\text{old}}$ (if $A > 0$) or below $(1-\epsilon)\pi_{\text{old}}$ (if $A < 0$) earns nothing;
# - hence its maximum over all policies is at most $U_{\text{old}} + \epsilon\sum_s\mathrm{visits}^{\text{old}}(s)
#   \sum_a\pi_{\text{old}}(a|s)|A^{\text{old}}(s,a)|$, with equality when the capped probabilities fit
#   (`pg.clipped_objective_max` fills the probability mass by slope). The surrogate itself is maximised by the
#   greedy policy (§6), as far from $\pi_{\text{old}}$ as a policy can be.

# %%
eps = 0.2
assert (pg.clipped_objective(mdp, policy, theta_old, theta_new, np.inf)
        == pg.surrogate_objective(mdp, policy, theta_old, theta_new))
small = theta_old + 0.05 * u
r = policy.probs(small) / pi_old
clip_gap = (pg.clipped_objective(mdp, policy, theta_old, small, eps)
            - pg.surrogate_objective(mdp, policy, theta_old, small))
print(f"small step: ratios in [{r.min():.3f}, {r.max():.3f}],"
      f" clipped - L = {clip_gap:.1e}")
print(f"theta_new : clipped ="
      f" {pg.clipped_objective(mdp, policy, theta_old, theta_new, eps):.4f} <= "
      f"L = {pg.surrogate_objective(mdp, policy, theta_old, theta_new):.4f}")
best_clip, pi_clip = pg.clipped_objective_max(mdp, pi_old, eps)
cap = ev_old.U + eps * ev_old.visits @ (pi_old * np.abs(ev_old.A)).sum(axis=1)
print(f"max of the clipped objective over all policies = {best_clip:.4f};"
      f"  U_old + eps sum visits pi |A| = {cap:.4f}")
ratio_clip = pi_clip / pi_old
pos = ev_old.A > 0
print(f"its maximiser: ratios of A > 0 actions in"
      f" [{ratio_clip[pos].min():.3f}, {ratio_clip[pos].max():.3f}], "
      f"U = {pg.evaluate(mdp, pi_clip).U:.4f} (U_old = {ev_old.U:.4f})")
assert abs(best_clip - cap) < 1e-10 or best_clip < cap

# %% [markdown]
# The clipped objective does not stop the policy from moving — a maximiser may put extra mass anywhere the
# objective is flat — it removes the *incentive* to move further. PPO's maximiser earns at most
# $\epsilon\sum\mathrm{visits}\,\pi|A|$ over $U_{\text{old}}$; the unclipped surrogate's maximiser, the greedy policy,
# would claim much more and be trusted much less.
#
# **Sampled beside exact, and a bias.** From the same 4000 old episodes: with the exact $A^{\text{old}}(s_t,a_t)$ the
# clipped estimate is unbiased for the exact clipped objective; with the noisy $\hat A_t = G_t - V(s_t)$ it is
# not — the $\min$ does not commute with the expectation over the noise — while the *unclipped* one stays
# unbiased. (All three use the ratio $- 1$ form of §2 for a smaller standard error; implementations also drop
# the $\gamma^t$, which notebook 11 measures.)

# %%
th_far = theta_old + 1.0 * u
exact_clip = pg.clipped_objective(mdp, policy, theta_old, th_far, eps) - ev_old.U
A_exact_t = ev_old.A[ep_old.states, ep_old.actions] * ep_old.mask
# mean 0, as x_old
x_exact0 = pg.surrogate_estimates(policy, theta_old, theta_old, ep_old, A_exact_t, gamma)
at_far = lambda adv, *clip: pg.surrogate_estimates(policy, theta_old, th_far, ep_old, adv,
                                                   gamma, *clip)
m1, s1 = pg.mean_se(at_far(A_exact_t, eps) - x_exact0)
m2, s2 = pg.mean_se(at_far(adv_old, eps) - x_old)
m3, s3 = pg.mean_se(at_far(adv_old) - x_old)
print(f"t = 1, eps = {eps}: exact clipped - U_old = {exact_clip:.4f}"
      f"   exact L - U_old = {prof['L'][4] - ev_old.U:.4f}")
print(f"  sampled clipped, exact A_old(s_t, a_t) = {m1:.4f} ± {s1:.4f}")
print(f"  sampled clipped, G_t - V(s_t)          = {m2:.4f} ± {s2:.4f}"
      f"   (off by {m2 - exact_clip:+.4f}, "
      f"{abs(m2 - exact_clip) / s2:.0f} s.e.)")
print(f"  sampled unclipped, G_t - V(s_t)        = {m3:.4f} ± {s3:.4f}")
assert abs(m1 - exact_clip) < 4 * s1 and abs(m2 - exact_clip) > 4 * s2
assert abs(m3 - (prof["L"][4] - ev_old.U)) < 4 * s3

# %% [markdown]
# ## 6. Policy iteration as the large-step limit
#
# Drop every restraint and maximise $L_{\text{old}}$ over all policies: per state, put all mass on
# $\arg\max_a A^{\text{old}}(s,a)$ — the greedy policy, one step of **policy iteration**. By the PDL its
# improvement $\sum_s\mathrm{visits}^{\text{new}}(s)\max_a A^{\text{old}}(s,a)$ is $\ge 0$. The natural-gradient step
# $\theta_{\text{old}} + \eta\,n$ makes $\pi \propto \pi_{\text{old}}\,e^{\eta H A^{\text{old}}}$ (notebook 08), which tends to the
# greedy policy as $\eta \to \infty$:

# %%
greedy = pg.greedy_policy(mdp, pi_old)
U_greedy = pg.evaluate(mdp, greedy).U
print(f"{'eta':>7s} {'U(theta_old + eta n)':>21s} {'KL max':>8s}")
for eta in (0.01, 0.1, 1.0, 10.0, 100.0):
    pi_eta = policy.probs(theta_old + eta * n_old)
    print(f"{eta:7.2f} {pg.evaluate(mdp, pi_eta).U:21.6f}"
          f" {pg.max_kl(mdp, pi_old, pi_eta):8.3f}")
print(f"greedy policy (one policy-iteration step): U = {U_greedy:.6f}")
assert abs(pg.evaluate(mdp, policy.probs(theta_old + 100 * n_old)).U - U_greedy) < 1e-6

V_star, _ = pg.optimal_values(mdp)
U_star, pi_k, history = float(mdp.mu @ V_star), pi_old, []
for _ in range(6):
    pi_k = pg.greedy_policy(mdp, pi_k)
    history.append(pg.evaluate(mdp, pi_k).U)
print("policy iteration from pi_old, U per step:", np.round(history, 4),
      f"  U* = {U_star:.4f}")
assert abs(history[-1] - U_star) < 1e-10 and np.all(np.diff(history) >= -1e-12)
reached = np.isclose(history, U_star, rtol=0, atol=1e-10)
print(f"policy-iteration steps to reach U*: {1 + int(np.argmax(reached))}")

# %% [markdown]
# On a small tabular MDP the large step is the best step: here policy iteration reaches $U^*$ in its first
# iteration (it needs at most finitely many on any finite MDP), and already $\eta = 1$ is within 0.06 of it.
# With sampled advantages and function approximation the greedy step trusts estimates far from where they
# were collected; TRPO's KL constraint and PPO's clip are two ways of taking a step between the gradient's
# infinitesimal one and policy iteration's unbounded one.
#
# ## 7. Explore: step size and clip range
#
# Move along the unit natural gradient by $t$ and pick $\epsilon$: the exact $U$, the surrogate, the clipped
# objective and TRPO's bound, all as improvements over $U(\theta_{\text{old}})$ (left: small steps, where the
# bound lives; right: large ones, where clipping bites). The summary prints the numbers and how far the
# policy moved.

# %%
ex = surrogate_explorer()
ex

# %% [markdown]
# ## Recap
# - **Performance difference lemma** (Kakade & Langford 2002): $U(\pi') - U(\pi) = \sum_s\mathrm{visits}^{\pi'}\sum_a
#   \pi' A^\pi$, exact — checked here to $10^{-10}$ on a discounted MDP and on the $\gamma = 1$ short corridor.
# - **The surrogate** $L_{\text{old}}$ is the "true objective" behind a gradient step: same value and gradient as
#   $U$ at $\theta_{\text{old}}$, a gap of second order (gap$/t^2$ settles near a constant), and computable from
#   the old policy's episodes by importance sampling.
# - **TRPO's bound** (Schulman et al. 2015, Thm 1) held on all 300 random pairs; with $C \approx 606$ it is loose,
#   but as a minorant it guarantees improvement; the practical TRPO step constrains the mean KL and follows
#   the natural gradient, which beat the plain gradient at every $\delta$ tried.
# - **PPO's clipped objective** is an exact expectation here: equal to $L$ inside the clip range, capped at
#   $U_{\text{old}} + \epsilon\sum\mathrm{visits}\,\pi|A|$; its sampled estimate with noisy advantages is biased.
# - **Policy iteration** is the surrogate maximised without restraint.
#
# **Published results reproduced here:** the performance difference lemma (Kakade & Langford 2002, Lemma 6.1)
# to $10^{-10}$; Schulman et al. (2015) Theorem 1 in both its TV and KL forms on 300 pairs (minimum slack
# $\ge 0$); the TRPO step's direction (the natural gradient, Kakade 2001) against the plain gradient at equal
# KL; PPO's clipped surrogate (Schulman et al. 2017, eq. 7) evaluated exactly.
