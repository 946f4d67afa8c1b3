# %% [markdown]
# # 02 · The policy gradient theorem
#
# **Learning objectives.** After this notebook you can
# - differentiate the objective term by term and say precisely which terms cancel (and that the source
#   notes' version of the cancellation, for $\sum_s d^\pi\sum_a\pi Q$, is false);
# - use the log-derivative trick $\nabla\pi = \pi\,\nabla\log\pi$;
# - state the policy gradient theorem with its factor,
#   $\nabla U = \frac{1}{1-\gamma}\,\mathbb{E}_{s\sim d^\pi, a\sim\pi}\big[\nabla\log\pi(a|s)\,Q(s,a)\big]$,
#   and check it against finite differences and sampling;
# - explain why it is an expectation of score times $Q$, not the gradient of a $Q$-weighted log-likelihood;
# - derive the short corridor's value $v(s_0) = \frac{2p-4}{p(1-p)}$ and see a stochastic optimum where the
#   exact gradient vanishes.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp
import pgcourse.widgets as pgw

np.set_printoptions(precision=4, suppress=True)
pgp.style()  # the course's figure style: crisp at 2x pixels, colour-blind-safe, text >= 10 px


def jacobian(f, theta, eps=1e-6):
    """Central finite differences of f at theta: array of shape theta.shape + f(theta).shape,
    J[i] = (f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps)."""
    J = np.zeros(theta.shape + np.shape(f(theta)))
    for i in np.ndindex(theta.shape):
        e = np.zeros_like(theta)
        e[i] = eps
        J[i] = (f(theta + e) - f(theta - e)) / (2 * eps)
    return J


# %% [markdown]
# Throughout: a random MDP with 4 states, 3 actions, $\gamma = 0.9$ and no terminal states
# (`pg.random_mdp`), a tabular softmax policy $\pi_\theta(a|s) \propto e^{\theta[s,a]}$ and a random $\theta$.
# `H` is $\frac{1}{1-\gamma} = 10$ (`Evaluation.effective_horizon`).

# %%
mdp = pg.random_mdp(4, 3, 0.9, np.random.default_rng(4))
policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
theta = np.random.default_rng(1).normal(size=policy.theta_shape)
ev = pg.evaluate(mdp, policy.probs(theta))
pi, Q, V, d, visits, H, gamma = ev.pi, ev.Q, ev.V, ev.d, ev.visits, ev.effective_horizon, mdp.gamma
grad_U = pg.policy_gradient(mdp, policy, theta)
print(f"U = {ev.U:.4f}   H = 1/(1-gamma) = {H:.4f}")

# %% [markdown]
# ## The naive three-term derivative of the notes' form
#
# The notes start from $F(\theta) = \sum_s d^\pi(s)\sum_a\pi(a|s)\,Q(s,a)$ and differentiate every factor:
# $$\nabla F = \underbrace{\sum_{s,a}\nabla d(s)\,\pi(a|s)\,Q(s,a)}_{T_1}
#            + \underbrace{\sum_{s,a} d(s)\,\nabla\pi(a|s)\,Q(s,a)}_{T_2}
#            + \underbrace{\sum_{s,a} d(s)\,\pi(a|s)\,\nabla Q(s,a)}_{T_3},$$
# then claim $T_1 + T_3 = 0$ and $\nabla U = T_2$. We compute each term exactly: the derivatives of
# $d$, $\pi$ and $Q$ with respect to every $\theta[s,a]$ by central differences of exact evaluations.

# %%
evaluated = lambda th: pg.evaluate(mdp, policy.probs(th))
J_d = jacobian(lambda th: evaluated(th).d, theta)            # (S, A, S): d d(s') / d theta[s, a]
J_pi = jacobian(lambda th: policy.probs(th), theta)          # (S, A, S, A)
J_Q = jacobian(lambda th: evaluated(th).Q, theta)            # (S, A, S, A)
T1 = np.einsum("kls,s->kl", J_d, (pi * Q).sum(axis=1))
T2 = np.einsum("klsa,s,sa->kl", J_pi, d, Q)
T3 = np.einsum("klsa,s,sa->kl", J_Q, d, pi)
F = lambda th: (evaluated(th).rho * evaluated(th).Q).sum()
grad_F = jacobian(F, theta)
print(f"F = sum d pi Q = {F(theta):.4f}   but U = {ev.U:.4f}")
print("T1 + T2 + T3 :", (T1 + T2 + T3).ravel(), "\ngrad F (f.d.):", grad_F.ravel())
print("T1 + T3      :", (T1 + T3).ravel(), "  <- not zero")
assert np.allclose(T1 + T2 + T3, grad_F, atol=1e-7)
assert np.abs(T1 + T3).max() > 0.01

# %% [markdown]
# So the lemma fails for $F$ — no surprise, since $F$ is not $U$ (notebook 01: $U = 9$ but $F = 9.9$ on
# A → B → B). Yet the *direct* term $T_2$ is, up to the factor $H = \frac{1}{1-\gamma}$, exactly the
# true gradient of $U$:

# %%
print("H * T2      :", (H * T2).ravel(), "\ngrad U exact:", grad_U.ravel())
assert np.allclose(H * T2, grad_U, atol=1e-7)

# %% [markdown]
# ## What is true: the cancellation lemma for $U$
#
# Work with the unnormalised discounted visits $\nu(s) = \sum_t\gamma^t\Pr(s_t = s) = H\,d^\pi(s)$ and start
# from the two Bellman equations of notebook 00. Since $r$ and $P$ do not depend on $\theta$,
# $$\nabla V(s) = \sum_a\nabla\pi(a|s)\,Q(s,a) + \sum_a\pi(a|s)\,\nabla Q(s,a),\qquad
#   \nabla Q(s,a) = \gamma\sum_{s'}P[s,a,s']\,\nabla V(s').$$
# Multiply the first by $\nu(s)$ and sum over $s$: three sums,
# $$\underbrace{\sum_s\nu(s)\nabla V(s)}_{L} \;=\; \underbrace{\sum_s\nu(s)\sum_a\nabla\pi(a|s)\,Q(s,a)}_{D}
#   \;+\; \underbrace{\sum_s\nu(s)\sum_a\pi(a|s)\,\nabla Q(s,a)}_{C}.$$
# The visits obey a **flow equation**: every visit to $s'$ is either a start or an arrival from a previous
# state, $\nu(s') = \mu(s') + \gamma\sum_s\nu(s)P_\pi[s,s']$. Inserting the second Bellman equation into
# $C$ and using the flow equation,
# $$C = \sum_{s'}\Big(\gamma\sum_s\nu(s)P_\pi[s,s']\Big)\nabla V(s') = \sum_{s'}\big(\nu(s') - \mu(s')\big)\nabla V(s').$$
# **Cancellation lemma.** The $\nabla Q$ sum $C$ cancels the part of $L$ carried by the visits after the
# start: $L - C = \sum_s\mu(s)\nabla V(s) = \nabla U$. Hence the policy gradient theorem
# $$\nabla U = D = \sum_s\nu(s)\sum_a\nabla\pi(a|s)\,Q(s,a) = \frac{1}{1-\gamma}\sum_s d^\pi(s)\sum_a\nabla\pi(a|s)\,Q(s,a).$$
# Every step, checked with exact derivatives:

# %%
P_pi, r_pi = mdp.policy_matrices(pi)
J_V = jacobian(lambda th: evaluated(th).V, theta)             # (S, A, S)
L = np.einsum("kls,s->kl", J_V, visits)
D = np.einsum("klsa,s,sa->kl", J_pi, visits, Q)
C = np.einsum("klsa,s,sa->kl", J_Q, visits, pi)
print("flow: nu             :", visits, "\n      mu + gamma nu P_pi:", mdp.mu + gamma * visits @ P_pi)
print("C                 :", C.ravel(), "\nsum (nu - mu) grad V:", np.einsum("kls,s->kl", J_V, visits - mdp.mu).ravel())
print("L - C             :", (L - C).ravel(), "\nmu . grad V       :", np.einsum("kls,s->kl", J_V, mdp.mu).ravel())
print("D                 :", D.ravel(), "\ngrad U (exact)    :", grad_U.ravel())
assert np.allclose(visits, mdp.mu + gamma * visits @ P_pi)
assert np.allclose(C, np.einsum("kls,s->kl", J_V, visits - mdp.mu), atol=1e-7)
assert np.allclose(L - C, np.einsum("kls,s->kl", J_V, mdp.mu), atol=1e-7)
assert np.allclose(D, grad_U, atol=1e-7) and np.allclose(L - C, grad_U, atol=1e-7)

# %% [markdown]
# The same theorem from the correct occupancy form of notebook 01, $U = \sum_s\nu(s)\sum_a\pi(a|s)\,r(s,a)$.
# Its derivative has two terms: $\sum_s\nabla\nu(s)\,r_\pi(s)$ (the policy changes *where* the agent
# goes) and $\sum_s\nu(s)\sum_a\nabla\pi(a|s)\,r(s,a)$ (it changes the immediate reward). The first,
# which is hard to estimate from samples, equals
# $\gamma\sum_s\nu(s)\sum_a\nabla\pi(a|s)\sum_{s'}P[s,a,s']V(s')$: changing where you go is worth exactly the
# discounted value of the next states the changed actions lead to. Adding the two gives
# $\sum_s\nu(s)\sum_a\nabla\pi(a|s)\,(r + \gamma PV)(s,a) = D$ again.

# %%
J_nu = jacobian(lambda th: evaluated(th).visits, theta)
moves = np.einsum("kls,s->kl", J_nu, r_pi)
immediate = np.einsum("klsa,s,sa->kl", J_pi, visits, mdp.R)
future = np.einsum("klsa,s,sa->kl", J_pi, visits, gamma * mdp.P @ V)
print("sum grad nu r_pi            :", moves.ravel(), "\ngamma sum nu grad pi (P V)  :", future.ravel())
assert np.allclose(moves, future, atol=1e-7) and np.allclose(moves + immediate, grad_U, atol=1e-7)

# %% [markdown]
# ## The log-derivative trick
#
# $\nabla\pi(a|s) = \pi(a|s)\,\nabla\log\pi(a|s)$, so a sum weighted by $\nabla\pi$ becomes an
# expectation under $\pi$ of the **score** $\nabla\log\pi$. For the tabular softmax the score is
# $\nabla_{\theta[s',b]}\log\pi(a|s) = [s'=s]\big([b=a] - \pi(b|s)\big)$ (`policy.grad_log_prob`).

# %%
s_idx, a_idx = np.meshgrid(np.arange(mdp.S), np.arange(mdp.A), indexing="ij")
score = policy.grad_log_prob(theta, s_idx, a_idx)              # (S, A, S, A): [s, a] then theta's shape
lhs = np.moveaxis(J_pi, (0, 1), (2, 3))                         # grad pi(a|s), as [s, a, theta]
rhs = pi[:, :, None, None] * score
print(f"grad pi(a0|s0) = {lhs[0, 0].ravel()[:3]}   pi * score = {rhs[0, 0].ravel()[:3]}  (first 3 components)")
assert np.allclose(lhs, rhs, atol=1e-8)

# %% [markdown]
# ## The policy gradient theorem, with its factor
#
# $$\boxed{\;\nabla U(\theta) = \frac{1}{1-\gamma}\,\mathbb{E}_{s\sim d^\pi,\ a\sim\pi_\theta}
#   \big[\nabla\log\pi_\theta(a|s)\,Q^{\pi_\theta}(s,a)\big]\;}$$
# Three independent computations: `pg.policy_gradient` (the sum $D$), central finite differences of $U$
# (`pg.finite_difference_gradient`), and `H * pg.score_expectation(..., Q)` (the expectation as an exact sum
# over $(s,a)$). Then a sampled version: draw $s\sim d^\pi$, $a\sim\pi(\cdot|s)$ independently, average
# score $\times\, Q$, multiply by $H$.

# %%
grad_fd = pg.finite_difference_gradient(mdp, policy, theta)
expectation = pg.score_expectation(mdp, policy, theta, Q)
print("exact          :", grad_U.ravel())
print("finite diff.   :", grad_fd.ravel())
print("H * E[score Q] :", (H * expectation).ravel())
assert np.allclose(grad_U, grad_fd, atol=1e-7) and np.allclose(grad_U, H * expectation)

rng = np.random.default_rng(2)
M = 100000
s_smp = rng.choice(mdp.S, size=M, p=d)
a_smp = (rng.random(M)[:, None] > np.cumsum(pi[s_smp], axis=1)).sum(axis=1)
terms = H * policy.grad_log_prob(theta, s_smp, a_smp) * Q[s_smp, a_smp][:, None, None]
est, se = terms.mean(axis=0), terms.std(axis=0, ddof=1) / np.sqrt(M)
print("sampled        :", est.ravel(), "\n  +- (1 se)    :", se.ravel())
assert np.all(np.abs(est - grad_U) < 4 * se + 1e-12)

# %% [markdown]
# ### Without the factor
#
# The notes' boxed formula has no $\frac{1}{1-\gamma}$. It points in the right direction but is
# **exactly $1-\gamma$ times too short**: at $\gamma = 0.9$ a step size tuned with the notes' formula is
# effectively 10 times too small (or a step size tuned on the true gradient would be 10 times too large if
# one switched to the notes'). With terminal states the factor is the `effective_horizon`, the total of the
# discounted visits; at $\gamma = 1$ it is the expected episode length.

# %%
ratio = grad_U / expectation
print("grad U / E[score Q] per component:", ratio.ravel())
U_after = {}
for name, direction, lr in [("true gradient, lr 0.5", lambda th: pg.policy_gradient(mdp, policy, th), 0.5),
                            ("notes' formula, lr 0.5", lambda th: pg.policy_gradient(mdp, policy, th) / H, 0.5),
                            ("notes' formula, lr 5.0", lambda th: pg.policy_gradient(mdp, policy, th) / H, 5.0)]:
    th = theta.copy()
    for _ in range(20):
        th = th + lr * direction(th)
    U_after[name] = pg.objective(mdp, policy, th)
    print(f"U after 20 ascent steps, {name:23s}: {U_after[name]:.4f}   (start {ev.U:.4f})")
assert np.allclose(ratio, H)
assert np.isclose(U_after["true gradient, lr 0.5"], U_after["notes' formula, lr 5.0"])

# %% [markdown]
# ## An expectation of score times $Q$ — not the gradient of a weighted log-likelihood
#
# The theorem looks like the gradient of a weighted log-likelihood $\sum_{s,a}\rho(s,a)\,Q(s,a)\log\pi_\theta(a|s)$,
# as in supervised learning with sample weights. It is not:
#
# 1. With weights that move with $\theta$, $\ell(\theta) = \sum\rho_\theta Q_\theta\log\pi_\theta$ has a
#    different gradient.
# 2. With weights frozen at the current $\theta_0$, $\ell_0(\theta) = \sum\rho_{\theta_0}Q_{\theta_0}\log\pi_\theta$
#    has the right gradient **at $\theta_0$ only**: one step later it is stale.
# 3. $\ell_0$ is not something to maximise: where a weight $\rho Q$ is negative, pushing that action's
#    probability to 0 sends $\ell_0 \to +\infty$, while $U$ stays bounded.
#
# The theorem gives a direction at the current policy; after each step the expectation must be taken again,
# under the new $d^\pi$, $\pi$ and $Q$.

# %%
ell = lambda th: (evaluated(th).rho * evaluated(th).Q * np.log(policy.probs(th))).sum()
rho0, Q0 = ev.rho, Q
ell0 = lambda th: (rho0 * Q0 * np.log(policy.probs(th))).sum()
theta1 = theta + 0.5 * grad_U
g1 = pg.policy_gradient(mdp, policy, theta1)
grad_ell, grad_ell0, grad_ell0_at_1 = jacobian(ell, theta), jacobian(ell0, theta), jacobian(ell0, theta1)
cos = lambda x, y: (x * y).sum() / (np.linalg.norm(x) * np.linalg.norm(y))
print(f"1. cosine(grad l(theta0),  grad U(theta0)) = {cos(grad_ell, grad_U):.4f}")
print("2. grad l0(theta0)   :", grad_ell0.ravel()[:6], "\n   grad U(theta0) / H :", (grad_U / H).ravel()[:6])
print("   grad l0(theta1)   :", grad_ell0_at_1.ravel()[:6], "\n   grad U(theta1) / H :", (g1 / H).ravel()[:6],
      " (first 6 components)")
s_neg, a_neg = np.unravel_index(np.argmin(rho0 * Q0), Q0.shape)
print(f"3. weight rho Q at (s={s_neg}, a={a_neg}) = {(rho0 * Q0)[s_neg, a_neg]:.4f}; lowering theta[s, a] by k:")
for k in [0, 5, 10, 20, 40]:
    th = theta.copy()
    th[s_neg, a_neg] -= k
    print(f"   k = {k:2d}:  l0 = {ell0(th):8.4f}   U = {pg.objective(mdp, policy, th):.4f}")
assert np.allclose(grad_ell0, grad_U / H, atol=1e-7)
assert not np.allclose(grad_ell, grad_U / H, atol=1e-3) and not np.allclose(grad_ell0_at_1, g1 / H, atol=1e-3)

# %% [markdown]
# ## The short corridor: a stochastic optimum
#
# Sutton & Barto's Example 13.1: states $s_0, s_1, s_2$ and a terminal goal on the right; reward $-1$ per
# step, $\gamma = 1$. In $s_0$ and $s_2$ the actions do what they say (left in $s_0$ bumps into the wall);
# in $s_1$ they are **switched**. The agent cannot tell the states apart, so its policy is one number:
# $p = \Pr(\text{right})$ in every state (`pg.short_corridor_policy()`: $p = \sigma(\theta_0 - \theta_1)$).
#
# **Deriving $v(s_0)$.** Write $v_i$ for the value of $s_i$. The Bellman equations are
# $$v_0 = -1 + p\,v_1 + (1-p)\,v_0,\qquad v_1 = -1 + p\,v_0 + (1-p)\,v_2,\qquad v_2 = -1 + p\cdot 0 + (1-p)\,v_1 .$$
# The first gives $v_1 = v_0 + \frac1p$. Put the third into the second:
# $v_1\big(1-(1-p)^2\big) = -1-(1-p) + p\,v_0$, i.e. $p(2-p)\,v_1 = -(2-p) + p\,v_0$. Substituting $v_1$:
# $p(2-p)\,v_0 + (2-p) = -(2-p) + p\,v_0$, so $p(1-p)\,v_0 = -2(2-p)$ and
# $$v(s_0) = \frac{2p-4}{p(1-p)}.$$
# Setting the derivative to zero: $\frac{d}{dp}\frac{2p-4}{p-p^2} = \frac{2(p^2-4p+2)}{(p-p^2)^2} = 0$ gives
# $p^2 - 4p + 2 = 0$, so $p^* = 2-\sqrt2 \approx 0.586$ (the other root is above 1), with
# $v^* = -(6 + 4\sqrt2) \approx -11.657$. As $p\to0$ or $p\to1$ the value goes to $-\infty$: both
# deterministic policies never reach the goal.

# %%
corridor = pg.short_corridor()
cpol = pg.short_corridor_policy()
theta_of = lambda p: np.array([np.log(p / (1 - p)), 0.0])      # sigma(theta_0 - theta_1) = p
formula = lambda p: (2 * p - 4) / (p * (1 - p))
ps = np.linspace(0.02, 0.98, 49)
v_exact = np.array([pg.objective(corridor, cpol, theta_of(p)) for p in ps])
p_star = 2 - np.sqrt(2)
v_star = pg.objective(corridor, cpol, theta_of(p_star))
g_star = pg.policy_gradient(corridor, cpol, theta_of(p_star))
print("p                 :", ps[::8], "\nexact v(start)    :", v_exact[::8], "\n(2p - 4)/(p(1-p)) :", formula(ps[::8]))
print(f"p* = {p_star:.4f}   exact v(p*) = {v_star:.4f}   formula = {formula(p_star):.4f}   -(6 + 4 sqrt 2) = {-(6 + 4 * np.sqrt(2)):.4f}")
print(f"exact gradient at p*: {np.round(g_star, 10) + 0.0}   finite differences: "
      f"{np.round(pg.finite_difference_gradient(corridor, cpol, theta_of(p_star)), 6) + 0.0}")
for p in [0.05, 0.3, 0.5, 0.8, 0.95]:
    print(f"p = {p:.2f}: v = {pg.objective(corridor, cpol, theta_of(p)):9.4f}   dU/dtheta_0 = "
          f"{pg.policy_gradient(corridor, cpol, theta_of(p))[0]:+.4f}")
assert np.allclose(v_exact, formula(ps)) and np.isclose(v_star, -(6 + 4 * np.sqrt(2)))
assert np.abs(g_star).max() < 1e-9 and v_star > v_exact.max() - 1e-12

# %% [markdown]
# The gradient is positive to the left of $p^*$ and negative to its right: ascent converges to the
# stochastic policy. (With $p = 0.05$ or $0.95$ — an $\varepsilon$-greedy policy with $\varepsilon = 0.1$ —
# the values $-82.1$ and $-44.2$ are the ones Sutton & Barto quote.) The deterministic policies have no finite
# value at all:

# %%
for p, name in [(0.0, "always left"), (1.0, "always right")]:
    try:
        pg.evaluate(corridor, np.tile([1 - p, p], (corridor.S, 1)))
    except ValueError as err:
        print(f"{name}: ValueError: {str(err)[:70]}...")

# %% [markdown]
# Sampled returns at a few $p$ agree with the curve:

# %%
rng = np.random.default_rng(4)
sampled = []
for p in [0.3, p_star, 0.8]:
    eps = pg.sample_episodes(corridor, np.tile([1 - p, p], (corridor.S, 1)), 20000, 300, rng)
    G0 = eps.rewards.sum(axis=1)                               # gamma = 1: the return is the sum
    sampled.append((p, G0.mean(), G0.std(ddof=1) / np.sqrt(G0.size)))
    print(f"p = {p:.3f}: exact {formula(p):8.4f}   sampled {G0.mean():8.4f} +- {sampled[-1][2]:.4f}"
          f"   (truncated: {int(eps.truncated.sum())})")
    assert abs(G0.mean() - formula(p)) < 4 * sampled[-1][2]
fig, ax = plt.subplots(figsize=(6.5, 3.8))
pgp.corridor_values(ax, ps, v_exact, p_star, v_star, sampled=np.array(sampled).T)
ax.set_ylim(-60, -5)
pgp.show(fig, alt=f"The short corridor's exact start value against p = Pr(right): a single peak at p = {p_star:.3f}, "
              "with the sampled mean returns on the curve.")

# %% [markdown]
# ## Explore: sampled score $\times$ return against the exact gradient
#
# The theorem's expectation can be estimated from whole episodes: REINFORCE
# (`pg.reinforce_gradient`, notebook 05) averages $\sum_t\gamma^t\nabla\log\pi(a_t|s_t)\,G_t$, where the
# return $G_t$ is a sample of $Q(s_t,a_t)$ and the $\gamma^t$-weighted sum over $t$ draws states from the
# discounted visits, so the factor $\frac{1}{1-\gamma}$ is built in. The widget uses a 5-state MDP with one terminal state and
# $\theta = $ scale $\times$ a fixed random direction; the bars are the gradient components (one per
# non-terminal $(s,a)$), exact against sampled with 95% error bars. More episodes: smaller bars, cosine → 1.

# %%
explorer = pgw.gradient_explorer()
explorer

# %% [markdown]
# ## Try it
#
# `exercises/ex02_exact_gradient.ipynb`: compute $\nabla U$ yourself as $\sum_s\nu(s)\sum_a\nabla\pi(a|s)Q(s,a)$
# for a softmax policy, compare it with finite differences, and find the factor that the notes' formula misses.
#
# ## Recap
#
# - Differentiating $V = \sum_a\pi Q$ and $Q = r + \gamma PV$ and weighting by the visits $\nu$, the
#   $\nabla Q$ sum cancels everything but the start-state part: $\nabla U = \sum_s\nu(s)\sum_a\nabla\pi(a|s)Q(s,a)$.
#   The notes' "$T_1 + T_3 = 0$" for $\sum d\pi Q$ is false, though their direct term is right up to $H$.
# - Log-derivative trick: $\nabla U = \frac{1}{1-\gamma}\mathbb{E}_{d^\pi,\pi}[\nabla\log\pi\,Q]$; without the
#   factor the step is $1-\gamma$ times too short.
# - It is an expectation at the current policy, not the gradient of a fixed weighted log-likelihood.
# - Short corridor: $v(s_0) = \frac{2p-4}{p(1-p)}$, best at $p = 2-\sqrt2$ with $v \approx -11.657$, where the
#   exact gradient is zero; the deterministic policies are worse.
