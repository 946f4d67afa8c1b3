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
pgp.style()  # the course's figure style: crisp at 2x, colour-blind-safe, text >= 10 px


# %% [markdown]
# Throughout: a random MDP with 4 states, 3 actions, $\gamma = 0.9$ and no terminal states
# (`pg.random_mdp`), a tabular softmax policy $\pi_\theta(a|s) \propto e^{\theta[s,a]}$ and a random $\theta$.
# `H` is $\frac{1}{1-\gamma} = 10$ (`Evaluation.effective_horizon`).

# %%
mdp = pg.random_mdp(4, 3, 0.9, np.random.default_rng(4))
policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
theta = np.random.default_rng(1).normal(size=policy.theta_shape)
ev = pg.evaluate(mdp, policy.probs(theta))
pi, Q, V, d, visits = ev.pi, ev.Q, ev.V, ev.d, ev.visits
H, gamma = ev.effective_horizon, mdp.gamma
grad_U = pg.policy_gradient(mdp, policy, theta)
print(f"U = {ev.U:.4f}   H = 1/(1-gamma) = {H:.4f}")

# %% [markdown]
# ## The true derivation: Bellman equations and the flow of visits
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
#
# Every step, checked with exact derivatives. Each sum differentiates **one** factor while the others stay
# at $\theta_0$: it is the gradient of a scalar function of $\theta$, computed by central differences
# (`pg.numerical_gradient(f, theta)`). So $D = \nabla_\theta\sum_s\nu_0(s)\sum_a\pi_\theta(a|s)Q_0(s,a)$,
# $C = \nabla_\theta\sum_{s,a}\nu_0(s)\pi_0(a|s)Q_\theta(s,a)$ and $L = \nabla_\theta\sum_s\nu_0(s)V_\theta(s)$.

# %%
evaluated = lambda th: pg.evaluate(mdp, policy.probs(th))
grad_of = lambda f: pg.numerical_gradient(f, theta)    # d/dtheta at theta_0
P_pi, r_pi = mdp.policy_matrices(pi)
L = grad_of(lambda th: visits @ evaluated(th).V)                          # nu_0 . grad V
D = grad_of(lambda th: (visits[:, None] * policy.probs(th) * Q).sum())    # grad pi, Q_0
C = grad_of(lambda th: (visits[:, None] * pi * evaluated(th).Q).sum())    # pi_0, grad Q
after_start = grad_of(lambda th: (visits - mdp.mu) @ evaluated(th).V)
print("flow: nu             :", visits,
      "\n      mu + gamma nu P_pi:", mdp.mu + gamma * visits @ P_pi)
print("C                   :", C.ravel(), "\nsum (nu - mu) grad V:", after_start.ravel())
print("L - C               :", (L - C).ravel(), "\ngrad U (exact)      :", grad_U.ravel())
print("D                   :", D.ravel())
assert np.allclose(visits, mdp.mu + gamma * visits @ P_pi)
assert np.allclose(C, after_start, atol=1e-7)
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
moves = grad_of(lambda th: evaluated(th).visits @ r_pi)
immediate = grad_of(lambda th: (visits[:, None] * policy.probs(th) * mdp.R).sum())
future = grad_of(lambda th: (visits[:, None] * policy.probs(th) * (gamma * mdp.P @ V))
                  .sum())
print("sum grad nu r_pi          :", moves.ravel())
print("gamma sum nu grad pi (P V):", future.ravel())
assert np.allclose(moves, future, atol=1e-7)
assert np.allclose(moves + immediate, grad_U, atol=1e-7)

# %% [markdown]
# ### A two-state example, by hand
#
# State 0 (the start) has two actions: "stay" pays 1 and comes back to state 0, "go" pays 0 and ends the
# episode (state 1 is terminal). $\gamma = 0.5$, and a tabular softmax at $\theta = 0$, so
# $p = \pi(\text{stay}|0) = \tfrac12$.
#
# - Bellman: $V_0 = p\,(1 + \gamma V_0)$, so $V_0 = \frac{p}{1-\gamma p} = \frac{1/2}{3/4} = \frac23$;
#   $Q(0,\text{stay}) = 1 + \gamma V_0 = \frac43$, $Q(0,\text{go}) = 0$.
# - Flow: $\nu_0 = \mu_0 + \gamma\,p\,\nu_0 = 1 + \tfrac14\nu_0$, so $\nu_0 = \frac43$ (and $\nu_1 = 0$: nothing
#   is visited after the end). $H = \sum_s\nu(s) = \frac43$, $d = (1, 0)$.
# - Softmax: $\partial\pi(\text{stay})/\partial\theta_{0,\text{stay}} = p(1-p) = \tfrac14$ and
#   $\partial\pi(\text{go})/\partial\theta_{0,\text{stay}} = -\tfrac14$.
# - Theorem: $\partial U/\partial\theta_{0,\text{stay}} = \nu_0\big(\tfrac14\cdot\tfrac43 - \tfrac14\cdot 0\big)
#   = \frac43\cdot\frac13 = \frac49 \approx 0.4444$, and $\partial U/\partial\theta_{0,\text{go}} = -\frac49$.
# - Directly: $U(p) = \frac{p}{1 - p/2} = \frac{2p}{2-p}$, $\frac{dU}{dp} = \frac{4}{(2-p)^2} = \frac{16}{9}$,
#   times $\frac{dp}{d\theta_{0,\text{stay}}} = \frac14$: $\frac49$ again.

# %%
P2 = np.zeros((2, 2, 2))
P2[0, 0, 0] = 1.0                     # stay
P2[0, 1, 1] = 1.0                     # go: into the terminal state
P2[1, :, 1] = 1.0
R2 = np.array([[1.0, 0.0], [0.0, 0.0]])
two = pg.TabularMDP(P2, R2, mu=np.array([1.0, 0.0]), gamma=0.5,
                    terminal=np.array([False, True]))
tab2 = pg.SoftmaxPolicy.tabular(2, 2)
ev2 = pg.evaluate(two, tab2.probs(np.zeros((2, 2))))
g2 = pg.policy_gradient(two, tab2, np.zeros((2, 2)))
print(f"V_0 = {ev2.V[0]:.4f} (2/3)   Q(0, .) = {ev2.Q[0]} (4/3, 0)")
print(f"nu = {ev2.visits} (4/3, 0)   H = {ev2.effective_horizon:.4f}")
print("grad U =", g2[0], " (by hand: 4/9 = 0.4444, -4/9)")
assert np.isclose(ev2.V[0], 2 / 3) and np.allclose(ev2.Q[0], [4 / 3, 0.0])
assert np.allclose(ev2.visits, [4 / 3, 0.0]) and np.allclose(g2[0], [4 / 9, -4 / 9])
assert np.allclose(g2, pg.finite_difference_gradient(two, tab2, np.zeros((2, 2))),
                   atol=1e-7)

# %% [markdown]
# > **Pitfall: the notes' three-term derivative.** The notes start from
# > $F(\theta) = \sum_s d^\pi(s)\sum_a\pi(a|s)\,Q(s,a)$ and differentiate every factor,
# > $$\nabla F = \underbrace{\sum_{s,a}\nabla d(s)\,\pi(a|s)\,Q(s,a)}_{T_1}
# >            + \underbrace{\sum_{s,a} d(s)\,\nabla\pi(a|s)\,Q(s,a)}_{T_2}
# >            + \underbrace{\sum_{s,a} d(s)\,\pi(a|s)\,\nabla Q(s,a)}_{T_3},$$
# > then claim $T_1 + T_3 = 0$ and $\nabla U = T_2$. Both claims are false: $F$ is not $U$ (notebook 01:
# > $F = 9.9$ but $U = 9$ on A → B → B), $T_1 + T_3 \neq 0$, and $T_2$ misses the factor
# > $H = \frac{1}{1-\gamma}$. The right direction comes out only because $T_2$ is, up to $H$, the direct term
# > $D$ of the true derivation above. Computed exactly, each term with one factor differentiated:

# %%
rho_0, d_0 = ev.rho, d
T1 = grad_of(lambda th: evaluated(th).d @ V)                    # grad d, pi_0 Q_0 = V_0
T2 = grad_of(lambda th: (d_0[:, None] * policy.probs(th) * Q).sum())  # grad pi
T3 = grad_of(lambda th: (rho_0 * evaluated(th).Q).sum())              # grad Q
grad_F = grad_of(lambda th: (evaluated(th).rho * evaluated(th).Q).sum())
print(f"F = sum d pi Q = {(rho_0 * Q).sum():.4f}   but U = {ev.U:.4f}")
print("T1 + T2 + T3 :", (T1 + T2 + T3).ravel(), "\ngrad F (f.d.):", grad_F.ravel())
print("T1 + T3      :", (T1 + T3).ravel(), "  <- not zero")
print("H * T2       :", (H * T2).ravel(), "\ngrad U exact :", grad_U.ravel())
assert np.allclose(T1 + T2 + T3, grad_F, atol=1e-6)
assert np.abs(T1 + T3).max() > 0.01 and np.allclose(H * T2, grad_U, atol=1e-6)

# %% [markdown]
# ## The log-derivative trick
#
# $\nabla\pi(a|s) = \pi(a|s)\,\nabla\log\pi(a|s)$, so a sum weighted by $\nabla\pi$ becomes an
# expectation under $\pi$ of the **score** $\nabla\log\pi$. For the tabular softmax the score is
# $\nabla_{\theta[s',b]}\log\pi(a|s) = [s'=s]\big([b=a] - \pi(b|s)\big)$ (`policy.grad_log_prob`).

# %%
worst = 0.0
for s in range(mdp.S):
    for a in range(mdp.A):
        grad_pi = grad_of(lambda th, s=s, a=a: policy.probs(th)[s, a])     # grad pi(a|s)
        pi_score = pi[s, a] * policy.grad_log_prob(theta, s, a)             # pi * score
        worst = max(worst, np.abs(grad_pi - pi_score).max())
print(f"last pair, last 3 components: grad pi = {grad_pi.ravel()[-3:]}"
      f"   pi * score = {pi_score.ravel()[-3:]}")
print(f"max |grad pi - pi * score| over every (s, a) = {worst:.1e}")
assert worst < 1e-8

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
true_grad = lambda th: pg.policy_gradient(mdp, policy, th)
notes_grad = lambda th: pg.policy_gradient(mdp, policy, th) / H
for name, direction, lr in [("true gradient, lr 0.5", true_grad, 0.5),
                            ("notes' formula, lr 0.5", notes_grad, 0.5),
                            ("notes' formula, lr 5.0", notes_grad, 5.0)]:
    th = theta.copy()
    for _ in range(20):
        th = th + lr * direction(th)
    U_after[name] = pg.objective(mdp, policy, th)
    print(f"U after 20 ascent steps, {name:23s}: {U_after[name]:.4f}"
          f"   (start {ev.U:.4f})")
assert np.allclose(ratio, H)
assert np.isclose(U_after["true gradient, lr 0.5"], U_after["notes' formula, lr 5.0"])

# %% [markdown]
# ## Where episodes end: $d^\pi$, the factor $H(\theta)$, and the standard convention
#
# With terminal states the visits of the non-terminal states add up to less than $\frac{1}{1-\gamma}$.
# From here on (and in notebooks 03-08) the state distribution is **normalised by its own total**,
# $d^\pi = \nu/\sum_s\nu(s)$, not by $(1-\gamma)$, and the factor in front of the theorem becomes
# $$H(\theta) = \sum_s\nu(s) \quad(\texttt{effective\_horizon}),\qquad
#   \nabla U = H(\theta)\,\mathbb{E}_{s\sim d^\pi,a\sim\pi}[\nabla\log\pi\,Q].$$
# The standard convention instead keeps the terminal state in the chain as an ordinary absorbing state:
# then $d = (1-\gamma)\nu$ puts the remaining mass on it, the factor stays $\frac{1}{1-\gamma}$, and the
# terminal state adds nothing because $Q = 0$ there. The two give the same gradient:

# %%
mdp_t, policy_t, direction_t = pg.gradient_demo_problem()    # 5 states, the last terminal
theta_t = direction_t
ev_t = pg.evaluate(mdp_t, policy_t.probs(theta_t))
kept = pg.TabularMDP(mdp_t.P, mdp_t.R, mdp_t.mu, mdp_t.gamma)   # terminal kept as a state
ev_k = pg.evaluate(kept, ev_t.pi)
course = ev_t.effective_horizon * pg.score_expectation(mdp_t, policy_t, theta_t, ev_t.Q)
standard = pg.score_expectation(kept, policy_t, theta_t, ev_k.Q) / (1 - mdp_t.gamma)
print(f"course:   d(terminal) = {ev_t.d[-1]:.4f}"
      f"   factor H(theta) = {ev_t.effective_horizon:.4f}")
print(f"standard: d(terminal) = {ev_k.d[-1]:.4f}"
      f"   factor 1/(1-gamma) = {1 / (1 - mdp_t.gamma):.4f}"
      f"   Q(terminal, .) = {ev_k.Q[-1]}")
grad_t = pg.policy_gradient(mdp_t, policy_t, theta_t)
print(f"max |course - standard| = {np.abs(course - standard).max():.1e}"
      f"   max |course - grad U| = {np.abs(course - grad_t).max():.1e}")
assert np.allclose(course, standard) and np.allclose(course, grad_t)

# %% [markdown]
# **$H$ is not a constant.** It is the expected discounted episode length under the current policy, so it
# moves with $\theta$: a policy that ends episodes sooner has a smaller $H$. It is the number *at* the
# current $\theta$ (you cannot fold it into a fixed step size, and $\mathbb{E}_{d^\pi}[\nabla\log\pi\,Q]$ alone
# is not the gradient of anything). Two values of $\theta$:

# %%
H_two = [pg.evaluate(mdp_t, policy_t.probs(k * direction_t)).effective_horizon
         for k in (1.0, -1.0)]
print(f"H(theta = +direction) = {H_two[0]:.4f}   H(theta = -direction) = {H_two[1]:.4f}"
      f"   (1/(1-gamma) = {1 / (1 - mdp_t.gamma):.1f})")
assert abs(H_two[0] - H_two[1]) > 0.1

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
grad_ell, grad_ell0 = grad_of(ell), grad_of(ell0)
grad_ell0_at_1 = pg.numerical_gradient(ell0, theta1)
cos = lambda x, y: (x * y).sum() / (np.linalg.norm(x) * np.linalg.norm(y))
print(f"1. cosine(grad l(theta0),  grad U(theta0)) = {cos(grad_ell, grad_U):.4f}")
print("2. grad l0(theta0)   :", grad_ell0.ravel()[:6],
      "\n   grad U(theta0) / H :", (grad_U / H).ravel()[:6])
print("   grad l0(theta1)   :", grad_ell0_at_1.ravel()[:6],
      "\n   grad U(theta1) / H :", (g1 / H).ravel()[:6], " (first 6 components)")
s_neg, a_neg = np.unravel_index(np.argmin(rho0 * Q0), Q0.shape)
print(f"3. weight rho Q at (s={s_neg}, a={a_neg}) = {(rho0 * Q0)[s_neg, a_neg]:.4f}; "
      "lowering theta[s, a] by k:")
for k in [0, 5, 10, 20, 40]:
    th = theta.copy()
    th[s_neg, a_neg] -= k
    print(f"   k = {k:2d}:  l0 = {ell0(th):8.4f}"
          f"   U = {pg.objective(mdp, policy, th):.4f}")
assert np.allclose(grad_ell0, grad_U / H, atol=1e-7)
assert not np.allclose(grad_ell, grad_U / H, atol=1e-3)
assert not np.allclose(grad_ell0_at_1, g1 / H, atol=1e-3)

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
theta_of = lambda p: np.array([np.log(p / (1 - p)), 0.0])    # sigma(th_0 - th_1) = p
formula = lambda p: (2 * p - 4) / (p * (1 - p))
ps = np.linspace(0.02, 0.98, 49)
v_exact = np.array([pg.objective(corridor, cpol, theta_of(p)) for p in ps])
p_star = 2 - np.sqrt(2)
v_star = pg.objective(corridor, cpol, theta_of(p_star))
g_star = pg.policy_gradient(corridor, cpol, theta_of(p_star))
print("p                 :", ps[::8],
      "\nexact v(start)    :", v_exact[::8],
      "\n(2p - 4)/(p(1-p)) :", formula(ps[::8]))
print(f"p* = {p_star:.4f}   exact v(p*) = {v_star:.4f}   formula = {formula(p_star):.4f}"
      f"   -(6 + 4 sqrt 2) = {-(6 + 4 * np.sqrt(2)):.4f}")
fd_star = pg.finite_difference_gradient(corridor, cpol, theta_of(p_star))
print(f"exact gradient at p*: {np.round(g_star, 10) + 0.0}   finite differences: "
      f"{np.round(fd_star, 6) + 0.0}")
for p in [0.05, 0.3, 0.5, 0.8, 0.95]:
    print(f"p = {p:.2f}: v = {pg.objective(corridor, cpol, theta_of(p)):9.4f}"
          f"   dU/dtheta_0 = {pg.policy_gradient(corridor, cpol, theta_of(p))[0]:+.4f}")
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
    eps = pg.sample_episodes(corridor, np.tile([1 - p, p], (corridor.S, 1)), 20000, 300,
                             rng)
    G0 = eps.rewards.sum(axis=1)                # gamma = 1: the return is the sum
    sampled.append((p, G0.mean(), G0.std(ddof=1) / np.sqrt(G0.size)))
    print(f"p = {p:.3f}: exact {formula(p):8.4f}"
          f"   sampled {G0.mean():8.4f} +- {sampled[-1][2]:.4f}"
          f"   (truncated: {int(eps.truncated.sum())})")
    assert abs(G0.mean() - formula(p)) < 4 * sampled[-1][2]
fig, ax = plt.subplots(figsize=(6.5, 3.8))
pgp.corridor_values(ax, ps, v_exact, p_star, v_star, sampled=np.array(sampled).T)
ax.set_ylim(-60, -5)
pgp.show(fig, alt=f"The short corridor's exact start value against p = Pr(right): a "
                  f"single peak at p = {p_star:.3f}, with the sampled mean returns on "
                  "the curve.")

# %% [markdown]
# ## From the theorem to an estimator: $\mathbb{E}\big[\sum_t\gamma^t\nabla\log\pi(a_t|s_t)\,G_t\big] = \nabla U$
#
# Notebook 03 onwards estimates the gradient from whole episodes (REINFORCE). Why is that unbiased? Take
# expectations term by term. Given the history up to $(s_t, a_t)$, the return $G_t = \sum_{k\ge0}\gamma^k r_{t+k}$
# has mean $Q(s_t, a_t)$ (Markov property), and the score at $t$ is fixed by $(s_t, a_t)$, so
# $$\mathbb{E}\Big[\sum_t\gamma^t\nabla\log\pi(a_t|s_t)\,G_t\Big]
#   = \sum_t\gamma^t\,\mathbb{E}\big[\nabla\log\pi(a_t|s_t)\,Q(s_t,a_t)\big]
#   = \sum_s\underbrace{\sum_t\gamma^t\Pr(s_t=s)}_{\nu(s)}\sum_a\pi(a|s)\nabla\log\pi(a|s)\,Q(s,a)
#   = \sum_s\nu(s)\sum_a\nabla\pi(a|s)\,Q(s,a) = \nabla U .$$
# The $\gamma^t$ and the sum over $t$ turn the time steps into the visits $\nu = H d^\pi$: the factor $H$ is
# built in. `pg.expected_gradient_estimate(mdp, policy, theta, V_hat=0, lam=1, horizon=T)` computes the left
# side exactly for episodes cut at $T$ (a finite sum over $t$, no sampling); as $T$ grows it reaches $\nabla U$:

# %%
for T_cut in [5, 20, 100, 400]:
    lhs_T = pg.expected_gradient_estimate(mdp, policy, theta, np.zeros(mdp.S), lam=1.0,
                                          horizon=T_cut)
    print(f"T = {T_cut:3d}: max |E[sum_t gamma^t score_t G_t] - grad U|"
          f" = {np.abs(lhs_T - grad_U).max():.1e}")
assert np.allclose(lhs_T, grad_U, atol=1e-12)
episodes = pg.sample_episodes(mdp, pi, 20000, 150, np.random.default_rng(6))
G_all = pg.discounted_returns(episodes.rewards, gamma, episodes.mask)
g_n = pg.per_episode_gradients(policy, theta, episodes, G_all, gamma)
print(f"sampled, 20000 episodes of 150 steps: max |z| over the {g_n[0].size} components"
      f" = {np.abs(pg.z_scores(g_n, grad_U)).max():.2f}")
assert np.abs(pg.z_scores(g_n, grad_U)).max() < 4

# %% [markdown]
# ## Explore: sampled score $\times$ return against the exact gradient
#
# The theorem's expectation can be estimated from whole episodes: REINFORCE
# (`pg.reinforce_gradient`, notebook 05) averages $\sum_t\gamma^t\nabla\log\pi(a_t|s_t)\,G_t$, where the
# return $G_t$ is a sample of $Q(s_t,a_t)$ and the $\gamma^t$-weighted sum over $t$ draws states from the
# discounted visits, so the factor $\frac{1}{1-\gamma}$ is built in. The widget uses a 5-state MDP with one terminal state and
# $\theta = $ scale $\times$ a fixed random direction; the bars are the gradient components (one per
# non-terminal $(s,a)$), exact against sampled. The error bars are mean $\pm 1.96$ standard errors, the
# standard error computed from the $N$ per-episode estimates (each episode its own batch); the summary prints
# the largest $|z| = |\text{mean} - \text{exact}|/\text{s.e.}$ over the 8 components, which for an unbiased
# estimator is rarely above 3. More episodes: smaller bars, cosine → 1.

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
