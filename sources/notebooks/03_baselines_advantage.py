# %% [markdown]
# # 03 · Baselines and the advantage
#
# **Learning objectives.** After this notebook you can
# - prove that a state-dependent baseline has zero expected score, $\mathbb{E}_{a\sim\pi(\cdot|s)}[\nabla_\theta\log\pi_\theta(a|s)\,b(s)] = 0$,
#   and check it exactly, state by state;
# - explain why subtracting $b(s)$ leaves the expected REINFORCE gradient *exactly* unchanged, and measure how
#   much it lowers the variance (with $b = V^\pi$);
# - show that a baseline that depends on the action, $b(s,a)$, **biases** the gradient, and compute the bias;
# - define the advantage $A = Q - V$, check $\mathbb{E}_{a\sim\pi}[A(s,a)] = 0$, and read its sign as
#   "push this action up / down".

# %%
import numpy as np
import matplotlib.pyplot as plt
# %matplotlib inline

import pgcourse as pg
import pgcourse.plots as pgp
import pgcourse.widgets as pgw

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px

# %% [markdown]
# ## The test problem
#
# A random MDP with 5 states (the last one terminal) and 3 actions, $\gamma = 0.9$. Every step pays
# about $+1$ on top of a random reward (`pg.reward_shifted` adds 1 to $r(s,a)$ in the non-terminal
# states): returns then share a common offset, exactly the situation a baseline is for. The policy is a
# tabular softmax at a random $\theta$, so it is not uniform.
#
# From notebook 02, the exact gradient is
#
# $$\nabla_\theta U(\theta) = \sum_s \mathrm{visits}(s) \sum_a \nabla_\theta\pi_\theta(a|s)\,Q(s,a)
#   = H\;\mathbb{E}_{s\sim d^\pi,\,a\sim\pi}\big[\nabla_\theta\log\pi_\theta(a|s)\,Q(s,a)\big],$$
#
# with $H = \sum_s \mathrm{visits}(s)$ the effective horizon (this MDP has terminal states, so $H$ is the
# expected discounted episode length, not $1/(1-\gamma)$; without terminal states $H = 1/(1-\gamma)$).
# `pg.score_expectation(mdp, policy, theta, W)` computes $\mathbb{E}_{d,\pi}[\nabla\log\pi\;W(s,a)]$ exactly,
# as a sum over all $(s, a)$.

# %%
mdp = pg.reward_shifted(pg.random_mdp(5, 3, 0.9, np.random.default_rng(3), n_terminal=1),
                        1.0)
policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
theta = np.random.default_rng(1).normal(size=(mdp.S, mdp.A))
ev = pg.evaluate(mdp, policy.probs(theta))
grad = pg.policy_gradient(mdp, policy, theta)
H = ev.effective_horizon

print(mdp)
print("pi =\n", ev.pi)
print("V  =", ev.V)
print(f"effective horizon H = {H:.4f}")
pgt = H * pg.score_expectation(mdp, policy, theta, ev.Q)
print("exact grad U (rows: states, columns: actions) =\n", grad)
print("H * E[score * Q]                              =\n", pgt)
assert np.allclose(grad, pgt)

# %% [markdown]
# **Where episodes end, two things change** (notebook 02 shows them in detail). The state distribution is
# no longer $(1-\gamma)\,\mathrm{visits}$ but $d^\pi = \mathrm{visits}/\sum_s\mathrm{visits}(s)$ (the visits of
# the non-terminal states add up to less than $1/(1-\gamma)$), and the factor in front becomes
# $H(\theta) = \sum_s\mathrm{visits}(s)$, **which depends on $\theta$**: a policy that ends episodes sooner
# has a smaller $H$. It is the number at the current $\theta$, not a constant to fold into a step size.
# The standard convention gives the same gradient: keep the terminal state as an ordinary absorbing state,
# so that $d = (1-\gamma)\,\mathrm{visits}$ puts the rest of the mass on it, the factor is
# $\frac{1}{1-\gamma}$, and the terminal state contributes nothing because $Q = 0$ there.

# %%
kept = pg.TabularMDP(mdp.P, mdp.R, mdp.mu, mdp.gamma)    # terminal kept as a state
ev_kept = pg.evaluate(kept, ev.pi)
standard = pg.score_expectation(kept, policy, theta, ev_kept.Q) / (1 - mdp.gamma)
print(f"course:   d on the terminal state = {ev.d[-1]:.4f}   factor H(theta) = {H:.4f}")
print(f"standard: d on the terminal state = {ev_kept.d[-1]:.4f}   factor 1/(1-gamma) = "
      f"{1 / (1 - mdp.gamma):.4f}   Q(terminal, .) = {ev_kept.Q[-1]}")
print(f"max |H E_d[score Q] - 1/(1-gamma) E_d_std[score Q]|"
      f" = {np.abs(pgt - standard).max():.1e}")
for name, th in [("theta", theta), ("theta = 0 (uniform)", np.zeros_like(theta))]:
    print(f"H at {name:20s} = {pg.evaluate(mdp, policy.probs(th)).effective_horizon:.4f}")
assert np.allclose(pgt, standard) and np.allclose(ev_kept.Q[-1], 0.0)

# %% [markdown]
# ## The baseline lemma: $\mathbb{E}_{a\sim\pi}[\nabla\log\pi\;b(s)] = 0$ in every state
#
# Fix a state $s$ and any number $b(s)$ that does not depend on the action. By the log-derivative trick
# $\pi\,\nabla\log\pi = \nabla\pi$,
#
# $$\mathbb{E}_{a\sim\pi(\cdot|s)}\big[\nabla_\theta\log\pi_\theta(a|s)\,b(s)\big]
#   = b(s)\sum_a \nabla_\theta\pi_\theta(a|s) = b(s)\,\nabla_\theta\underbrace{\sum_a\pi_\theta(a|s)}_{=1} = 0 .$$
#
# The probabilities of one state always sum to one, so their gradients sum to zero: the score has mean
# zero under the policy, and any per-state constant times it does too.
#
# Below: a baseline with arbitrary values per state, $b(s) \sim \mathcal N(0, 5^2)$, broadcast over the actions
# as the weight array $W(s,a) = b(s)$. Putting all of $d$ on one state ($d = e_s$) gives that state's
# expectation alone.

# %%
b_random = np.random.default_rng(7).normal(scale=5.0, size=mdp.S)
B_random = np.repeat(b_random[:, None], mdp.A, axis=1)          # W(s, a) = b(s)
for s in range(mdp.S):
    per_state = pg.score_expectation(mdp, policy, theta, B_random, d=np.eye(mdp.S)[s])
    print(f"state {s}: b(s) = {b_random[s]:8.4f}"
          f"   max |E_a[score * b(s)]| = {np.abs(per_state).max():.4f}")
    assert np.allclose(per_state, 0.0, atol=1e-12)

# %% [markdown]
# ## So the baseline leaves the expected gradient exactly where it was
#
# REINFORCE with a baseline estimates the gradient from $N$ episodes by
#
# $$\hat g = \frac1N \sum_{n=1}^N \sum_t \gamma^t\,\nabla_\theta\log\pi_\theta(a_t|s_t)\,\big(G_t - b(s_t)\big).$$
#
# Given $(s_t, a_t)$, the return $G_t$ has mean $Q(s_t, a_t)$, and the discounted visits of the states add up
# to $H\,d^\pi$, so the expectation of $\hat g$ is, exactly,
#
# $$\mathbb{E}[\hat g] = H\;\mathbb{E}_{s\sim d^\pi,a\sim\pi}\big[\nabla_\theta\log\pi_\theta(a|s)\,(Q(s,a) - b(s))\big]
#   = \nabla_\theta U(\theta) - H\,\underbrace{\mathbb{E}_{d,\pi}\big[\nabla_\theta\log\pi_\theta\,b(s)\big]}_{=0} .$$
#
# We compute $H\,\mathbb{E}_{d,\pi}[\nabla\log\pi\,(Q - b)]$ exactly for four baselines: none, a constant,
# $V^\pi$, and the random per-state one. All four equal $\nabla_\theta U$.

# %%
baselines = {"none (b = 0)": np.zeros(mdp.S), "constant b = 10": np.full(mdp.S, 10.0),
             "b = V": ev.V, "random b(s)": b_random}
for name, b in baselines.items():
    expected = H * pg.score_expectation(mdp, policy, theta, ev.Q - b[:, None])
    print(f"{name:16s} max |E[g_hat] - grad U| = {np.abs(expected - grad).max():.4f}")
    assert np.allclose(expected, grad)

# %% [markdown]
# ## ... and changes the variance: measured
#
# Same expectation, different noise. We sample 20 000 episodes (all of them end in the terminal state
# before the horizon of 60 steps), form the **per-episode** estimate
# $g_n = \sum_t \gamma^t \nabla\log\pi(a_t|s_t)(G_t - b(s_t))$ for each baseline
# (`pg.per_episode_gradients`: their mean is exactly `pg.reinforce_gradient`), and report
#
# - the sampled mean next to the exact gradient, as the largest deviation in standard errors over the 12
#   components of the non-terminal states (a few s.e. at most: unbiased);
# - the total variance of one episode's estimate, $\operatorname{tr}\operatorname{Cov}(g_n)$, and its ratio to
#   the no-baseline one.

# %%
N = 20000
episodes = pg.sample_episodes(mdp, ev.pi, N, 60, np.random.default_rng(0))
print(episodes)
G = pg.discounted_returns(episodes.rewards, mdp.gamma, episodes.mask)
live = ~mdp.terminal

per_episode = {name: pg.per_episode_gradients(policy, theta, episodes,
                                              G - b[episodes.states], mdp.gamma)
               for name, b in baselines.items()}
assert np.allclose(per_episode["b = V"].mean(axis=0),
                   pg.reinforce_gradient(policy, theta, episodes, mdp.gamma,
                                         baseline=ev.V))

total_var = {}
for name, g_n in per_episode.items():
    X = g_n[:, live].reshape(N, -1)
    mean, se = pg.mean_se(X)
    dev = np.abs(mean - grad[live].ravel()) / se
    total_var[name] = np.trace(np.cov(X.T))
    print(f"{name:16s} max |mean - grad U| / s.e. = {dev.max():4.2f}"
          f"   tr Cov(g_n) = {total_var[name]:8.3f}"
          f"   ratio to no baseline = {total_var[name] / total_var['none (b = 0)']:.3f}")
    assert dev.max() < 4.0
assert total_var["b = V"] < 0.5 * total_var["none (b = 0)"]

# %% [markdown]
# All four estimators are unbiased (every sampled mean is within a few standard errors of the exact
# gradient), but their noise differs a lot: $b = V$ removes about two thirds of the variance here, while a
# constant that is far from the returns ($b = 10$, the returns are around 3) **adds** variance. The baseline
# lemma promises no bias for *any* $b(s)$; it promises nothing about variance. $V^\pi$ is the natural choice:
# it centres $G_t$ on what the state is worth, so only the action's own effect is left.
#
# ### $V^\pi$ against the variance-minimising baseline
#
# Which $b(s)$ gives the least variance? For one step's term $\nabla\log\pi(a|s)\,(G - b(s))$ in state $s$,
# the variance is $\mathbb{E}\big[|\nabla\log\pi|^2 (G-b)^2\big] - |\mathbb{E}[\dots]|^2$, and the mean does not
# depend on $b$. Setting the derivative in $b$ to zero, with $\mathbb{E}[G\mid s,a] = Q(s,a)$,
#
# $$b^*(s) = \frac{\mathbb{E}_{a\sim\pi}\big[|\nabla\log\pi(a|s)|^2\,Q(s,a)\big]}{\mathbb{E}_{a\sim\pi}\big[|\nabla\log\pi(a|s)|^2\big]}
#   \qquad\text{against}\qquad V^\pi(s) = \mathbb{E}_{a\sim\pi}[Q(s,a)]:$$
#
# the same average of $Q(s,\cdot)$, but weighted by the squared score, which is large for the *unlikely*
# actions (`pg.variance_minimising_baseline`). It minimises each step's variance; a whole episode's estimate
# also has covariances between steps, so it need not be the best for $g_n$ exactly. Measured on the same
# episodes:

# %%
b_star = pg.variance_minimising_baseline(policy, theta, ev.Q)
g_star = pg.per_episode_gradients(policy, theta, episodes, G - b_star[episodes.states],
                                  mdp.gamma)
total_var["b = b*"] = pg.total_variance(g_star[:, live].reshape(N, -1))
print("V(s)  =", ev.V[live], "\nb*(s) =", b_star[live])
print(f"max_s |b*(s) - V(s)| = {np.abs(b_star - ev.V)[live].max():.4f}"
      f"   (V ranges over {ev.V[live].min():.3f} .. {ev.V[live].max():.3f})")
for name in ["b = V", "b = b*"]:
    print(f"{name:7s} tr Cov(g_n) = {total_var[name]:.3f}"
          f"   ratio to no baseline = {total_var[name] / total_var['none (b = 0)']:.3f}")
print(f"b* lowers the variance of b = V by a further "
      f"{100 * (1 - total_var['b = b*'] / total_var['b = V']):.1f}%")
assert np.abs(b_star - ev.V)[live].max() < 0.3
assert total_var["b = b*"] < total_var["b = V"]

# %% [markdown]
# So $V^\pi$ is close to the variance-minimising baseline here: $b^*$ differs from it by at most 0.25 in
# states worth about 3, and lowers the variance by under 1% more.
#
# The standard error of an average of $N$ episodes is $\sqrt{\operatorname{tr}\operatorname{Cov}(g_n)/N}$:
# a variance ratio of 0.36 means the baseline gives the accuracy of about 2.8 times as many episodes.

# %%
fig, ax = plt.subplots(figsize=(6, 3.4))
pgp.bars(ax, total_var, ylabel="tr Cov(per-episode estimate)",
         title="same expectation, different variance")
per_baseline = ", ".join(f"{k} {v:.2f}" for k, v in total_var.items())
pgp.show(fig, alt="Bar chart of the variance per episode, tr Cov(g_n), of REINFORCE with "
                  f"each baseline: {per_baseline}.")

# %% [markdown]
# ## A baseline that depends on the action biases the gradient
#
# The lemma needs $b$ to be constant over the actions of a state. With $b(s,a)$ the subtracted term no
# longer vanishes:
#
# $$\mathbb{E}[\hat g] = \nabla_\theta U(\theta) - H\,\mathbb{E}_{s\sim d^\pi,a\sim\pi}\big[\nabla_\theta\log\pi_\theta(a|s)\,b(s,a)\big],
#   \qquad \text{bias} = -H\,\mathbb{E}_{d,\pi}\big[\nabla\log\pi\;b(s,a)\big] \neq 0 \text{ in general.}$$
#
# Two examples: a random $b(s,a)$, and the tempting $b(s,a) = Q(s,a)$ ("subtract what the action is worth"),
# whose estimator has expectation exactly **zero**: it removes the signal along with the noise. We compute
# the expectation of each estimator two ways (the bias formula, and the exact expectation of $G_t - b(s_t,a_t)$
# as $Q - b$), then sample it.

# %%
random_sa = np.random.default_rng(8).normal(scale=2.0, size=(mdp.S, mdp.A))
action_baselines = {"random b(s,a)": random_sa,
                    "b(s,a) = Q(s,a)": ev.Q}
for name, Bsa in action_baselines.items():
    bias = -H * pg.score_expectation(mdp, policy, theta, Bsa)
    expected = H * pg.score_expectation(mdp, policy, theta, ev.Q - Bsa)
    returns_minus_b = G - Bsa[episodes.states, episodes.actions]
    g_n = pg.per_episode_gradients(policy, theta, episodes, returns_minus_b, mdp.gamma)
    X = g_n[:, live].reshape(N, -1)
    mean, se = pg.mean_se(X)
    print(f"{name}:")
    print(f"  exact bias  max |E[g_hat] - grad U|       = {np.abs(bias).max():.4f}")
    z_expected = np.abs(mean - expected[live].ravel()) / se
    z_grad = np.abs(mean - grad[live].ravel()) / se
    print(f"  sampled:    max |mean - E[g_hat]| / s.e.  = {z_expected.max():.2f}")
    print(f"  sampled:    max |mean - grad U| / s.e.    = {z_grad.max():.1f}")
    assert np.allclose(expected, grad + bias)
    assert np.abs(bias).max() > 0.05
    assert (np.abs(mean - expected[live].ravel()) / se).max() < 4.0
    assert (np.abs(mean - grad[live].ravel()) / se).max() > 10.0
assert np.allclose(H * pg.score_expectation(mdp, policy, theta, ev.Q - ev.Q), 0.0)

# %% [markdown]
# The samples follow the exact (biased) expectation, not the gradient: tens of standard errors away from
# $\nabla U$, and the gap does not shrink with more episodes. (Action-dependent control variates do exist,
# but they add back a correction term to stay unbiased; subtracting $b(s,a)$ alone is simply wrong.)
#
# ## The advantage $A = Q - V$
#
# With $b = V^\pi$ the weight becomes the **advantage** $A(s,a) = Q(s,a) - V(s)$: how much better taking $a$
# (then following $\pi$) is than following $\pi$ from $s$. Since $V(s) = \sum_a \pi(a|s)Q(s,a)$,
#
# $$\mathbb{E}_{a\sim\pi(\cdot|s)}[A(s,a)] = \sum_a\pi(a|s)Q(s,a) - V(s) = 0 \quad\text{in every state:}$$
#
# under the policy's own action choice, the average action is exactly average. And the gradient in advantage
# form is $\nabla_\theta U = H\,\mathbb{E}_{d,\pi}[\nabla_\theta\log\pi_\theta\;A]$.

# %%
mean_A = (ev.pi * ev.A).sum(axis=1)
print("V(s)                   =", ev.V)
print("sum_a pi(a|s) Q(s, a)  =", (ev.pi * ev.Q).sum(axis=1))
print(f"max_s |E_pi[A(s, .)]|  = {np.abs(mean_A).max():.4f}")
assert np.allclose(mean_A, 0.0)
adv_form = H * pg.score_expectation(mdp, policy, theta, ev.A)
print("max |H E[score * A] - grad U| =", f"{np.abs(adv_form - grad).max():.4f}")
assert np.allclose(adv_form, grad)

# %% [markdown]
# ## The sign of $A$ is the direction of the update
#
# For the tabular softmax, $\partial\log\pi(a|s)/\partial\theta_{s,b} = \mathbb 1[a=b] - \pi(b|s)$, and the
# $\pi$-average of $A(s,\cdot)$ is zero, so the gradient has a closed form, one entry per state-action:
#
# $$\frac{\partial U}{\partial\theta_{s,a}} = \mathrm{visits}(s)\,\pi(a|s)\,A(s,a) .$$
#
# Visits and probabilities are positive, so in every state the agent reaches, **the logit of an action with
# $A > 0$ goes up and the logit of an action with $A < 0$ goes down** under gradient ascent, each in proportion
# to how often the pair $(s,a)$ occurs. Below: the closed form against `pg.policy_gradient`, and the signs.

# %%
closed_form = ev.visits[:, None] * ev.pi * ev.A
print("A (non-terminal states) =\n", ev.A[live])
print("grad U (non-terminal states) =\n", grad[live])
print("sign(A) =\n", np.sign(ev.A[live]).astype(int))
print("sign(grad U) =\n", np.sign(grad[live]).astype(int))
assert np.allclose(closed_form, grad)
assert np.array_equal(np.sign(grad[live]), np.sign(ev.A[live]))
assert np.allclose(grad[~live], 0.0)   # the terminal state is never acted in

# %% [markdown]
# The gradient moves the *logits*; the probabilities follow through the softmax. (In a state with three
# actions, an action with a small positive advantage can still lose probability if a much better action
# takes most of the mass: the logit rises, but less than the others'.)
#
# ## Explore: baselines, live
#
# Choose a baseline and a number of episodes $N$. Left: every gradient component, exact (grey bars), the exact
# expectation of the estimator (red diamonds: on the bars unless the estimator is biased), and the sampled mean
# $\pm 2$ s.e. (blue). Right: the per-episode estimates of one component. The summary prints the exact bias,
# the sampled deviation in standard errors, and the variance with its ratio to no baseline.
#
# Things to try: `Q(s,a)` (the diamonds drop to zero, and the samples follow them); `constant 10` vs `V(s)` at
# the same $N$ (look at the error bars); small $N$ with and without a baseline.

# %%
ex = pgw.baseline_explorer()
ex

# %% [markdown]
# ## Try it
#
# In `exercises/ex05_reinforce_baseline.ipynb` you write REINFORCE with a baseline yourself, and the
# checker compares your estimate with the exact gradient (and tells you if your baseline depends on the action).
#
# ## Recap
#
# - $\mathbb{E}_{a\sim\pi}[\nabla\log\pi(a|s)] = 0$ in every state, so any baseline $b(s)$ leaves the expected
#   gradient **exactly** unchanged — checked per state and for $b = 0$, constant, $V$, random.
# - It does change the variance: $b = V$ cut it to about a third here; a badly chosen constant increased it.
# - A baseline that depends on the action biases the estimate by $-H\,\mathbb{E}_{d,\pi}[\nabla\log\pi\,b(s,a)]$;
#   with $b = Q$ the estimator's expectation is zero.
# - The advantage $A = Q - V$ averages to zero under $\pi$; for the tabular softmax
#   $\partial U/\partial\theta_{s,a} = \mathrm{visits}(s)\pi(a|s)A(s,a)$ has the sign of $A$.
#
# Next, notebook 04: the score function $\nabla\log\pi$ for softmax and Gaussian policies.
