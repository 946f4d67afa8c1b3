# %% [markdown]
# # 04 · Parameterisations: softmax and Gaussian policies
#
# **Learning objectives.** After this notebook you can
# - derive the softmax score $\nabla_\theta\log\pi_\theta(a|s) = \phi(s,a) - \sum_b\pi_\theta(b|s)\phi(s,b)$
#   ("the taken action's logit gradient minus the policy average") and check it against finite differences,
#   for the tabular and the linear-feature softmax;
# - explain why the score has mean zero and why a stable softmax survives logits of size $10^3$;
# - derive the multivariate Gaussian score $J(s)^\top\Sigma^{-1}(a-\mu_\theta(s))$ (the Jacobian's transpose
#   first: the notes' order is only right for one action dimension) and the score of a learned spread,
#   $\partial\log\pi/\partial\log\sigma = (a-\mu)^2/\sigma^2 - 1$, and check both exactly;
# - derive the Gaussian score $\frac{a-\mu_\theta(s)}{\sigma^2}\nabla_\theta\mu_\theta(s)$ and use it to
#   estimate gradients on two problems with a closed-form answer: a quadratic bandit and a 1-D
#   linear-quadratic regulator;
# - compute how the variance of the score-function estimate grows as $\sigma$ shrinks.
#
# The policy-gradient theorem needs two ingredients: the score $\nabla_\theta\log\pi_\theta(a|s)$ of the
# chosen policy family, and the advantage. This notebook is about the first.

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
# ## The softmax score
#
# A softmax policy turns logits $h_\theta(s,a)$ into probabilities,
# $\pi_\theta(a|s) = e^{h_\theta(s,a)}/\sum_b e^{h_\theta(s,b)}$. With linear logits
# $h_\theta(s,a) = \phi(s,a)\cdot\theta$ (features `(S, A, K)`),
#
# $$\log\pi_\theta(a|s) = \phi(s,a)\cdot\theta - \log\sum_b e^{\phi(s,b)\cdot\theta}
# \quad\Longrightarrow\quad
# \nabla_\theta\log\pi_\theta(a|s) = \phi(s,a) - \sum_b \pi_\theta(b|s)\,\phi(s,b),$$
#
# because the gradient of the log-sum-exp is the $\pi$-weighted average of the $\phi(s,b)$. The tabular
# softmax is the special case $\phi(s,a) = e_{s,a}$ (one logit per pair, $\theta$ of shape `(S, A)`): the score
# is $+1$ on the taken pair, $-\pi(b|s)$ on every pair $(s, b)$ of the same state, $0$ elsewhere.
#
# Check: the closed form (`policy.grad_log_prob`) against central finite differences of $\log\pi$, for every
# $(s, a)$, for a tabular policy and for a linear-feature policy with $K = 5$ random features.

# %%
def fd_score(policy, theta, s, a, eps=1e-6):
    """Central finite differences of log pi(a|s) in every coordinate of theta."""
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        up, down = np.log(policy.probs(tp)[s, a]), np.log(policy.probs(tm)[s, a])
        g[i] = (up - down) / (2 * eps)
    return g


rng = np.random.default_rng(0)
S, A, K = 3, 4, 5
tabular = pg.SoftmaxPolicy.tabular(S, A)
linear = pg.SoftmaxPolicy(rng.normal(size=(S, A, K)))
for name, pol in [("tabular", tabular), ("linear features", linear)]:
    th = rng.normal(size=pol.theta_shape)
    worst = 0.0
    for s in range(S):
        for a in range(A):
            closed = pol.grad_log_prob(th, s, a)
            worst = max(worst, np.abs(closed - fd_score(pol, th, s, a)).max())
            assert np.allclose(closed, fd_score(pol, th, s, a), atol=1e-7)
    print(f"{name:16s} every (s, a): max |closed form - finite differences| < 1e-7:"
          f" {worst < 1e-7}")
    print("   e.g. (s, a) = (1, 2):  closed form", pol.grad_log_prob(th, 1, 2).ravel())
    print("                          finite diff", fd_score(pol, th, 1, 2).ravel())

# %% [markdown]
# For the tabular policy the formula reads "the logit of the taken action minus the policy-average logit":
# the gradient raises $\theta_{s,a}$ of the taken action by $1 - \pi(a|s)$ and lowers every other logit of
# state $s$ by its probability. We check that reading directly, for the linear policy too.

# %%
th = rng.normal(size=(S, A))
pi = tabular.probs(th)
s, a = 1, 2
by_hand = -np.outer(np.eye(S)[s], pi[s])      # - pi(b|s) on the row of state s
by_hand[s, a] += 1.0                           # + 1 on the taken pair
print("score (tabular, s=1, a=2) =\n", tabular.grad_log_prob(th, s, a))
assert np.allclose(tabular.grad_log_prob(th, s, a), by_hand)

th_lin = rng.normal(size=K)
phi, pi_lin = linear.features, linear.probs(th_lin)
print("phi(s,a) - sum_b pi(b|s) phi(s,b) =", phi[s, a] - pi_lin[s] @ phi[s])
print("grad_log_prob                     =", linear.grad_log_prob(th_lin, s, a))
assert np.allclose(linear.grad_log_prob(th_lin, s, a), phi[s, a] - pi_lin[s] @ phi[s])

# %% [markdown]
# ## The score has mean zero
#
# Averaging the score over $a\sim\pi(\cdot|s)$ gives $\sum_a\pi(a|s)\phi(s,a) - \sum_b\pi(b|s)\phi(s,b) = 0$:
# the same fact that made the baseline free in notebook 03. Exactly, per state, for the linear policy
# (and via `pg.score_expectation` with the weights $W \equiv 1$ on an MDP):

# %%
s_idx, a_idx = np.meshgrid(np.arange(S), np.arange(A), indexing="ij")
scores = linear.grad_log_prob(th_lin, s_idx, a_idx)              # (S, A, K)
per_state = np.einsum("sa,sak->sk", pi_lin, scores)
print("E_a[score] per state (rows) =\n", np.abs(per_state))
assert np.allclose(per_state, 0.0)

mdp = pg.random_mdp(S, A, 0.9, np.random.default_rng(1))
print("E_{d,pi}[score * 1] =",
      np.abs(pg.score_expectation(mdp, linear, th_lin, np.ones((S, A)))))
assert np.allclose(pg.score_expectation(mdp, linear, th_lin, np.ones((S, A))), 0.0)

# %% [markdown]
# ## Large logits: a stable softmax
#
# $e^{1000}$ overflows a float64 ($\approx 1.8\times10^{308}$ is the largest). Subtracting the largest logit
# of each state first changes nothing mathematically ($\pi$ is invariant to adding a constant to all the
# logits of a state) and keeps every exponent $\le 0$. The score only needs $\pi$, so it stays finite too.
# Below: logits $(1000, 999, -1000)$, where the exact answer is $\pi = (\sigma(1), 1 - \sigma(1), e^{-2000}\approx 0)$
# with $\sigma(1) = 1/(1+e^{-1})$.

# %%
big = np.array([[1000.0, 999.0, -1000.0]])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(big) / np.exp(big).sum(axis=1, keepdims=True)
stable_pol = pg.SoftmaxPolicy.tabular(1, 3)
p_exact = np.array([[1 / (1 + np.exp(-1.0)), 1 - 1 / (1 + np.exp(-1.0)), 0.0]])
print("naive exp / sum exp :", naive)
print("pg softmax          :", stable_pol.probs(big))
print("exact               :", p_exact)
print("score of action 0   :", stable_pol.grad_log_prob(big, 0, 0))
assert np.isnan(naive).any()
assert np.allclose(stable_pol.probs(big), p_exact)
assert np.allclose(stable_pol.grad_log_prob(big, 0, 0), [[1.0, 0.0, 0.0]] - p_exact)

# %% [markdown]
# ## Softmax policy gradient on an MDP
#
# Plug the softmax score into the policy-gradient theorem (advantage form, notebook 03):
#
# $$\nabla_\theta U(\theta) = H\,\mathbb{E}_{s\sim d^\pi,a\sim\pi}\Big[\big(\phi(s,a) - \textstyle\sum_b\pi(b|s)\phi(s,b)\big)A(s,a)\Big]
#   = \sum_{s,a}\mathrm{visits}(s)\,\pi(a|s)\,A(s,a)\,\phi(s,a),$$
#
# (the $\sum_b\pi\phi$ term drops out because $\sum_a\pi(a|s)A(s,a)=0$), with $H = \sum_s\mathrm{visits}(s)$. Checked
# for the linear policy against finite differences of the exact $U$:

# %%
ev = pg.evaluate(mdp, linear.probs(th_lin))
formula = np.einsum("s,sa,sa,sak->k", ev.visits, ev.pi, ev.A, linear.features)
print("sum visits pi A phi   =", formula)
print("pg.policy_gradient    =", pg.policy_gradient(mdp, linear, th_lin))
print("finite differences    =", pg.finite_difference_gradient(mdp, linear, th_lin))
assert np.allclose(formula, pg.policy_gradient(mdp, linear, th_lin))
assert np.allclose(formula, pg.finite_difference_gradient(mdp, linear, th_lin), atol=1e-6)

# %% [markdown]
# ## The Gaussian score
#
# For a continuous action, a Gaussian policy with a state-dependent mean and a fixed spread:
# $a \sim \mathcal N(\mu_\theta(s), \sigma^2)$, here with $\mu_\theta(s) = \phi(s)\cdot\theta$. Then
#
# $$\log\pi_\theta(a|s) = -\frac{(a-\mu_\theta(s))^2}{2\sigma^2} - \log(\sigma\sqrt{2\pi}),
# \qquad \nabla_\theta\log\pi_\theta(a|s) = \frac{a-\mu_\theta(s)}{\sigma^2}\,\nabla_\theta\mu_\theta(s)
#   = \frac{a-\mu_\theta(s)}{\sigma^2}\,\phi(s).$$
#
# An action above the mean, weighted by a positive advantage, moves the mean up; below the mean, down.
# Check against finite differences of `log_prob`, at 5 random states and actions, $K = 3$ features:

# %%
gauss = pg.GaussianPolicy(sigma=0.7, n_features=3)
th_g = np.array([0.5, -1.0, 2.0])
feats = rng.normal(size=(5, 3))
acts = gauss.sample(th_g, feats, np.random.default_rng(2))
eps = 1e-6
log_p = lambda th: gauss.log_prob(th, feats, acts)          # (5,): one per state
fd = np.stack([(log_p(th_g + eps * e) - log_p(th_g - eps * e)) / (2 * eps)
               for e in np.eye(3)], axis=-1)
closed = (acts - feats @ th_g)[:, None] / gauss.sigma**2 * feats
print("grad_log_prob       =\n", gauss.grad_log_prob(th_g, feats, acts))
print("finite differences  =\n", fd)
assert np.allclose(gauss.grad_log_prob(th_g, feats, acts), closed)
assert np.allclose(gauss.grad_log_prob(th_g, feats, acts), fd, atol=1e-6)

# %% [markdown]
# Its mean is zero as well: $\mathbb{E}[a - \mu_\theta(s)] = 0$. Sampled, with a standard error:

# %%
many = gauss.sample(th_g, np.tile(feats[0], (100000, 1)), np.random.default_rng(3))
score_samples = gauss.grad_log_prob(th_g, np.tile(feats[0], (100000, 1)), many)
m, se = pg.mean_se(score_samples)
print("sampled E[score] =", m, "+-", se)
assert np.all(np.abs(m) < 4 * se)

# %% [markdown]
# ## Vector actions: the multivariate Gaussian score, in the right order
#
# With an action $a\in\mathbb R^d$, $a\sim\mathcal N(\mu_\theta(s), \Sigma)$, the log-density is
# $\log\pi_\theta(a|s) = -\tfrac12 (a-\mu)^\top\Sigma^{-1}(a-\mu) - \tfrac12\log\det(2\pi\Sigma)$. The gradient of
# the quadratic form in $\mu$ is $\Sigma^{-1}(a-\mu)$ (a $d$-vector), and the chain rule through
# $\mu_\theta(s)$ multiplies it by the transposed Jacobian $J(s) = \partial\mu_\theta(s)/\partial\theta$
# ($d\times P$ for $P$ parameters):
#
# $$\boxed{\;\nabla_\theta\log\pi_\theta(a|s) = J(s)^\top\,\Sigma^{-1}\,(a - \mu_\theta(s))\;}
#   \qquad (P\times d)\,(d\times d)\,(d) = (P).$$
#
# > **The notes' order.** The notes write $\Sigma^{-1}(a-\mu)\,\nabla\mu$. For one action dimension every
# > factor is a number and the order does not matter (that is the scalar formula above). For $d > 1$ the
# > product in that order does not exist (a $d$-vector times the $P\times d$ gradient): the Jacobian's
# > transpose comes **first**. And $\Sigma^{-1}$ is the full inverse: replacing it by $1/\sigma_i^2$ per
# > coordinate is only right when the action coordinates are uncorrelated.
#
# The course's parameterisation (`pg.MultivariateGaussianPolicy(K, d, correlation=C)`): a linear mean
# $\mu(s) = W\phi(s)$ with $W$ of shape $(d, K)$, and a **learned** spread, $\Sigma = DCD$ with
# $D = \mathrm{diag}(\sigma)$, $\sigma = e^{\ell}$ ($\ell$ = `log_std`, shape $(d,)$) and $C$ a fixed
# correlation matrix. $\theta = (\mathrm{vec}\,W, \ell)$, $P = dK + d$. For the linear mean
# $J^\top\Sigma^{-1}(a-\mu)$ is $\nabla_W\log\pi = \Sigma^{-1}(a-\mu)\,\phi(s)^\top$ ($d\times K$).
#
# **The score of the spread.** With $z = (a-\mu)/\sigma$ (per coordinate), $\log\pi = -\tfrac12 z^\top C^{-1}z
# - \sum_i\ell_i + \text{const}$, and $\partial z_i/\partial\ell_i = -z_i$, so
#
# $$\frac{\partial\log\pi}{\partial\ell_i} = z_i\,(C^{-1}z)_i - 1
#   \;\overset{C = I}{=}\; \frac{(a_i-\mu_i)^2}{\sigma_i^2} - 1,$$
#
# Sutton & Barto's score for $\sigma$ (Section 13.7, with $\sigma = e^{\theta_\sigma^\top x(s)}$ and here
# $x(s) = 1$): an action farther than one standard deviation from the mean, with a positive advantage, widens
# the policy; a closer one narrows it. Checked below against central differences of `log_prob`
# (`pg.numerical_gradient`), with $K = 3$ features, $d = 2$ and correlation $0.6$:

# %%
C = np.array([[1.0, 0.6], [0.6, 1.0]])
mvn = pg.MultivariateGaussianPolicy(n_features=3, action_dim=2, correlation=C)
th_m = mvn.join(W=[[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], log_std=np.log([0.5, 2.0]))
phi_s = np.array([1.0, 0.5, -0.3])
a_s = mvn.sample(th_m, phi_s, np.random.default_rng(11))
mu_s, Sigma = mvn.mean(th_m, phi_s), mvn.cov(th_m)
J = mvn.mean_jacobian(phi_s)                                  # (d, P) = (2, 8)
right_order = J.T @ np.linalg.solve(Sigma, a_s - mu_s)       # J^T Sigma^-1 (a - mu), (P,)
fd = pg.numerical_gradient(lambda th: mvn.log_prob(th, phi_s, a_s), th_m)
score = mvn.grad_log_prob(th_m, phi_s, a_s)
print("Sigma =\n", Sigma, "\na =", a_s, "  mu(s) =", mu_s)
print("grad_W log pi (score_mean)    =\n", mvn.score_mean(th_m, phi_s, a_s))
print("J^T Sigma^-1 (a - mu), W part =\n", right_order[:6].reshape(2, 3))
print("d log pi / d log sigma        =", mvn.score_log_std(th_m, phi_s, a_s))
print(f"max |closed form - finite differences| over all {score.size} components = "
      f"{np.abs(score - fd).max():.1e}")
try:
    np.linalg.inv(Sigma) @ (a_s - mu_s) @ J.T        # the notes' order, literally
except ValueError as err:
    print("notes' order Sigma^-1 (a - mu) grad mu: ValueError:", str(err)[:60], "...")
per_coordinate = np.outer((a_s - mu_s) / mvn.std(th_m) ** 2, phi_s)
print(f"1/sigma_i^2 instead of Sigma^-1: max error "
      f"{np.abs(per_coordinate - mvn.score_mean(th_m, phi_s, a_s)).max():.3f}")
assert np.allclose(score[:6], right_order[:6]) and np.allclose(score, fd, atol=1e-6)
assert not np.allclose(per_coordinate, mvn.score_mean(th_m, phi_s, a_s), atol=1e-2)

diag = pg.MultivariateGaussianPolicy(n_features=3, action_dim=2)   # C = I
sd = diag.std(th_m)
print("C = I:  score of log sigma =", diag.score_log_std(th_m, phi_s, a_s),
      "  (a - mu)^2 / sigma^2 - 1 =", (a_s - mu_s) ** 2 / sd**2 - 1)
assert np.allclose(diag.score_log_std(th_m, phi_s, a_s), (a_s - mu_s) ** 2 / sd**2 - 1)

# %% [markdown]
# **Mean zero, exactly.** $\mathbb{E}[a-\mu] = 0$ gives $\mathbb{E}[\nabla_W\log\pi] = 0$, and
# $\mathbb{E}[zz^\top] = C$ gives $\mathbb{E}[z_i(C^{-1}z)_i] = (C^{-1}C)_{ii} = 1$, so the spread's score has
# mean zero too. No sampling needed to check it: the score is a polynomial of degree 2 in $a$, and Gauss–Hermite
# quadrature with $n$ nodes per coordinate (`pg.gaussian_expectation`) integrates polynomials of degree up to
# $2n-1$ against a Gaussian exactly.
#
# **And a policy gradient, exactly.** On a vector quadratic bandit, $r(a) = -|a - a^\star|^2$,
# $U(\theta) = \mathbb{E}[r(a)] = -|\mu - a^\star|^2 - \operatorname{tr}\Sigma
# = -|W\phi - a^\star|^2 - \sum_i\sigma_i^2$, so
# $\nabla_W U = -2(\mu - a^\star)\phi^\top$ and $\partial U/\partial\ell_i = -2\sigma_i^2$. The score-function
# identity $\nabla U = \mathbb{E}[r(a)\,\nabla\log\pi]$ (a degree-4 polynomial: 3 nodes are exact) must give
# both, including the derivative in $\log\sigma$:

# %%
phi_batch = lambda acts: np.broadcast_to(phi_s, (len(acts), 3))   # one state, every node
score_at = lambda acts: mvn.grad_log_prob(th_m, phi_batch(acts), acts)
E_score = pg.gaussian_expectation(score_at, mu_s, Sigma, n_nodes=3)
print(f"max |E[score]| by quadrature = {np.abs(E_score).max():.1e}"
      f"   (P = {E_score.size})")
assert np.allclose(E_score, 0.0, atol=1e-12)

a_star = np.array([1.0, -1.0])
reward_v = lambda acts: -((acts - a_star) ** 2).sum(axis=-1)
U_closed = lambda th: (-((mvn.mean(th, phi_s) - a_star) ** 2).sum()
                       - (mvn.std(th) ** 2).sum())
grad_closed = mvn.join(-2 * np.outer(mu_s - a_star, phi_s), -2 * mvn.std(th_m) ** 2)
grad_quad = pg.gaussian_expectation(
    lambda acts: reward_v(acts)[:, None] * mvn.grad_log_prob(th_m, phi_batch(acts), acts),
    mu_s, Sigma, n_nodes=3)
U_quad = pg.gaussian_expectation(reward_v, mu_s, Sigma, n_nodes=3)
many_a = mvn.sample(th_m, np.tile(phi_s, (100000, 1)), np.random.default_rng(12))
g_samples = reward_v(many_a)[:, None] * score_at(many_a)
print(f"U closed form = {U_closed(th_m):.4f}   by quadrature = {U_quad:.4f}")
print("grad U closed form        :", grad_closed)
print("E[r score] by quadrature  :", grad_quad)
print("finite diff. of closed U  :", pg.numerical_gradient(U_closed, th_m))
print(f"sampled (1e5 actions): max |z| over the {g_samples.shape[1]} components = "
      f"{np.abs(pg.z_scores(g_samples, grad_closed)).max():.2f}")
assert np.isclose(U_quad, U_closed(th_m)) and np.allclose(grad_quad, grad_closed)
assert np.allclose(pg.numerical_gradient(U_closed, th_m), grad_closed, atol=1e-6)
assert np.abs(pg.z_scores(g_samples, grad_closed)).max() < 4

# %% [markdown]
# ## A quadratic bandit: exact objective, exact gradient, sampled gradient
#
# One state, one action $a\sim\mathcal N(\theta, \sigma^2)$ (feature $\phi = 1$), reward
# $r(a) = -(a - a^\star)^2$. Writing $a = \theta + \sigma z$ with $z\sim\mathcal N(0,1)$:
#
# $$U(\theta) = \mathbb{E}[r(a)] = -(\theta - a^\star)^2 - \sigma^2, \qquad \frac{dU}{d\theta} = -2(\theta - a^\star).$$
#
# The score-function (REINFORCE) estimate from one sample is $r(a)\,\frac{a-\theta}{\sigma^2}$; its mean is the
# gradient. We compare exact, finite differences of the closed form, and the mean of $10^5$ samples.

# %%
bandit = pg.QuadraticBandit(a_star=1.0)
theta0, sigma = np.array([0.0]), 0.5
policy_b = pg.GaussianPolicy(sigma)
a_bandit = policy_b.sample(theta0, np.ones((100000, 1)), np.random.default_rng(4))
rewards = bandit.reward(a_bandit)
U_mc, U_se = pg.mean_se(rewards)
print(f"U exact = {bandit.objective(theta0, sigma):.4f}"
      f"   sampled = {U_mc:.4f} +- {U_se:.4f}")
assert abs(U_mc - bandit.objective(theta0, sigma)) < 4 * U_se

g_exact = bandit.gradient(theta0)[0]
g_fd = pg.numerical_gradient(lambda th: bandit.objective(th, sigma), theta0)[0]
g_samples = bandit.score_gradient_samples(policy_b, theta0, 100000,
                                          np.random.default_rng(5))[:, 0]
g_mc, g_se = pg.mean_se(g_samples)
print(f"dU/dtheta exact = {g_exact:.4f}   finite diff = {g_fd:.4f}"
      f"   sampled = {g_mc:.4f} +- {g_se:.4f}")
assert np.isclose(g_exact, g_fd, atol=1e-6)
assert abs(g_mc - g_exact) < 4 * g_se

# %% [markdown]
# ## A 1-D linear-quadratic regulator
#
# State $x_t\in\mathbb R$, action $u_t\sim\mathcal N(\theta x_t, \sigma^2)$ (a `GaussianPolicy` with feature
# $\phi(x) = x$), dynamics $x_{t+1} = a x_t + b u_t + w_t$, reward $-(q x_t^2 + r u_t^2)$. The second moment
# $m_t = \mathbb{E}[x_t^2]$ follows a linear recursion, so $U(\theta) = \sum_t\gamma^t\mathbb{E}[r_t]$ and its
# derivative have closed forms, for a finite horizon $T$ and (when $\gamma(a+b\theta)^2 < 1$) for $T = \infty$
# (`pg.LinearQuadratic`, defaults $a = b = q = 1$, $r = 0.5$, $\gamma = 0.9$). Three checks: the closed-form
# gradient against finite differences of the closed-form $U$; the finite-horizon gradient tends to the
# infinite-horizon one; REINFORCE from $4\cdot10^4$ sampled episodes of $T = 30$ steps matches the exact
# $T = 30$ gradient within its standard error, and with episodes of 150 steps the infinite-horizon one.

# %%
lqr = pg.LinearQuadratic()
theta_c, sigma_c, T = np.array([-0.5]), 0.3, 30
for horizon in [10, 30, 100, None]:
    exact = lqr.gradient(theta_c, sigma_c, horizon)[0]
    fd = pg.numerical_gradient(lambda th: lqr.objective(th, sigma_c, horizon), theta_c)[0]
    U_T = lqr.objective(theta_c, sigma_c, horizon)
    print(f"T = {horizon!s:4}  U = {U_T:8.4f}   dU/dtheta exact = {exact:8.4f}"
          f"   finite diff = {fd:8.4f}")
    assert np.isclose(exact, fd, atol=1e-5)
assert np.isclose(lqr.gradient(theta_c, sigma_c, 400)[0],
                  lqr.gradient(theta_c, sigma_c)[0])

policy_c = pg.GaussianPolicy(sigma_c)


def reinforce_per_episode(n_episodes, horizon, rng):
    """One REINFORCE estimate per episode, sum_t gamma^t score_t G_t, shape (N,): the
    terms whose mean lqr.reinforce_gradient returns (the same rng gives the same
    episodes)."""
    xs, us, rs = lqr.rollout(policy_c, theta_c, n_episodes, horizon, rng)
    G = pg.discounted_returns(rs, lqr.gamma)
    score = policy_c.grad_log_prob(theta_c, xs[..., None], us)[..., 0]
    return (lqr.gamma ** np.arange(horizon) * score * G).sum(axis=1)


per_episode = reinforce_per_episode(40000, T, np.random.default_rng(6))
assert np.allclose(per_episode.mean(), lqr.reinforce_gradient(policy_c, theta_c, 40000, T,
                                                              np.random.default_rng(6)))
g_mc, g_se = pg.mean_se(per_episode)
print(f"T = 30: exact dU/dtheta = {lqr.gradient(theta_c, sigma_c, T)[0]:.4f}"
      f"   REINFORCE (40000 episodes) = {g_mc:.3f} +- {g_se:.3f}")
g_T = lqr.gradient(theta_c, sigma_c, T)[0]
print(f"        one episode's estimate: mean {g_mc:.2f},"
      f" standard deviation {per_episode.std(ddof=1):.1f}")
print(f"        s.e. / |exact gradient| = {g_se / abs(g_T):.3f}"
      f"   std of one episode / |its mean| = {per_episode.std(ddof=1) / abs(g_mc):.1f}")
assert abs(g_mc - lqr.gradient(theta_c, sigma_c, T)[0]) < 4 * g_se

# the infinite horizon: episodes of T = 150 steps (gamma^150 ~ 1e-7: far below the noise)
per_episode_long = reinforce_per_episode(40000, 150, np.random.default_rng(9))
g_mc, g_se = pg.mean_se(per_episode_long)
print(f"T = oo: exact dU/dtheta = {lqr.gradient(theta_c, sigma_c)[0]:.4f}"
      f"   REINFORCE (40000 episodes of 150 steps) = {g_mc:.3f} +- {g_se:.3f}")
assert abs(g_mc - lqr.gradient(theta_c, sigma_c)[0]) < 4 * g_se

# %% [markdown]
# Forty thousand episodes and the standard error is still about 7% of the gradient: one episode's estimate
# spreads more than ten times as far as its mean. Score-function estimates are unbiased but noisy.
#
# ## Small $\sigma$, large variance
#
# The score $(a-\theta)/\sigma^2 = z/\sigma$ has standard deviation exactly $1/\sigma$. A nearly deterministic
# policy therefore has a huge score, and unless the reward is centred the estimate explodes. On the bandit,
# with $c = \theta - a^\star$ and $\mathbb{E}z^2 = 1$, $\mathbb{E}z^4 = 3$, $\mathbb{E}z^6 = 15$, the variance of one sample
# $r(a)\,z/\sigma = -(c+\sigma z)^2 z/\sigma$ is
#
# $$\operatorname{Var} = \frac{c^4}{\sigma^2} + 14c^2 + 15\sigma^2$$
#
# (`pg.bandit_score_variance`), which grows like $1/\sigma^2$ as $\sigma\to0$, while the gradient $-2c$ does not depend on $\sigma$ at all. Exact
# against sampled ($10^5$ samples per $\sigma$):

# %%
sigmas = [0.05, 0.1, 0.2, 0.5, 1.0]
print(" sigma   std(score) exact  sampled    Var exact   Var sampled"
      "   mean +- s.e. (exact 2)")
for sig in sigmas:
    pol = pg.GaussianPolicy(sig)
    a_s = pol.sample(theta0, np.ones((100000, 1)), np.random.default_rng(7))
    score = pol.grad_log_prob(theta0, np.ones((100000, 1)), a_s)[:, 0]
    g = bandit.reward(a_s) * score
    v_exact = pg.bandit_score_variance(0.0, sig, 1.0)
    m, se = pg.mean_se(g)
    print(f"{sig:6.2f}   {1 / sig:12.2f} {score.std():8.2f}   {v_exact:10.2f}"
          f"   {g.var(ddof=1):11.2f}   {m:6.3f} +- {se:.3f}")
    assert abs(score.std() * sig - 1) < 0.02
    assert abs(g.var(ddof=1) / v_exact - 1) < 0.1
    assert abs(m - 2.0) < 4 * se

# %%
s_grid = np.geomspace(0.02, 3.0, 100)
v_grid = [pg.bandit_score_variance(0.0, s, 1.0) for s in s_grid]
print(f"smallest variance on the grid at sigma = {s_grid[np.argmin(v_grid)]:.3f}"
      f"   (c^4 / 15)^(1/4) = {(1 / 15) ** 0.25:.3f}")
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.loglog(s_grid, v_grid, "-", label="Var of one estimate (exact)")
ax.loglog(s_grid, 1 / s_grid**2, "--", label="1 / sigma^2 (c^4 = 1)")
ax.set_xlabel("sigma")
ax.set_ylabel("variance")
pgp.legend_above(ax, title="score-function estimate on the bandit, theta = 0, a* = 1")
pgp.show(fig, alt="Log-log plot of the exact variance of one score-function estimate "
                  "against sigma: it follows 1/sigma^2 for small sigma, is smallest near "
                  "sigma = 0.5 and grows again for large sigma.")

# %% [markdown]
# The variance is smallest near $\sigma^4 = c^4/15$ and grows on both sides: for small $\sigma$ because the
# score is large, for large $\sigma$ because the rewards themselves spread out. Policies that become nearly
# deterministic during training need many more samples.
#
# A baseline (notebook 03) cures the small-$\sigma$ blow-up here. Subtract the mean reward
# $b = U(\theta) = -c^2 - \sigma^2$: the estimate becomes $(r(a) - b)\,z/\sigma = -2c\,z^2 - \sigma z^3 + \sigma z$, with no
# $1/\sigma$ left, and
#
# $$\operatorname{Var} = 8c^2 + 10\sigma^2 \qquad(\text{bounded as } \sigma\to0;\ \text{same mean } -2c).$$

# %%
print(" sigma   Var, b = 0   Var, b = U exact   sampled    mean +- s.e. (exact 2)")
for sig in sigmas:
    pol = pg.GaussianPolicy(sig)
    g = bandit.score_gradient_samples(pol, theta0, 100000, np.random.default_rng(8),
                                      baseline=bandit.objective(theta0, sig))[:, 0]
    v_exact = pg.bandit_score_variance(0.0, sig, 1.0, centred=True)
    m, se = pg.mean_se(g)
    v_plain = pg.bandit_score_variance(0.0, sig, 1.0)
    print(f"{sig:6.2f}   {v_plain:10.2f}   {v_exact:16.2f}"
          f"   {g.var(ddof=1):7.2f}    {m:6.3f} +- {se:.3f}")
    assert abs(g.var(ddof=1) / v_exact - 1) < 0.1
    assert abs(m - 2.0) < 4 * se

# %% [markdown]
# ## Explore: the Gaussian score-function gradient
#
# Move $\sigma$ and the number of samples $N$, and switch the baseline $b = U(\theta)$ on or off. Left: the
# per-sample estimates (histogram), their mean and the exact gradient. Right: the exact variance curves (without
# and with the baseline) and the sampled variance at the current $\sigma$. The summary prints exact and sampled
# gradient, variance and standard error. Try $\sigma = 0.05$ with and without the baseline.

# %%
ex = pgw.gaussian_score_explorer()
ex

# %% [markdown]
# ## Try it
#
# In `exercises/ex03_score_functions.ipynb` you implement the softmax and Gaussian scores yourself; the checker
# compares them with finite differences and with the exact policy gradient.
#
# ## Recap
#
# - Softmax: $\nabla\log\pi(a|s) = \phi(s,a) - \sum_b\pi(b|s)\phi(s,b)$; tabular: $+1$ on the taken pair,
#   $-\pi(b|s)$ on its state's pairs. Checked against finite differences; mean zero; stable at logits $10^3$.
# - Policy gradient for a softmax: $\nabla U = \sum_{s,a}\mathrm{visits}(s)\pi(a|s)A(s,a)\phi(s,a)$.
# - Vector actions: $\nabla_\theta\log\pi = J(s)^\top\Sigma^{-1}(a-\mu)$ (not the notes' order), and for a learned
#   spread $\partial\log\pi/\partial\log\sigma_i = (a_i-\mu_i)^2/\sigma_i^2 - 1$; mean zero and
#   $\mathbb{E}[r\,\nabla\log\pi] = \nabla U$ checked exactly by quadrature.
# - Gaussian: $\nabla\log\pi = \frac{a-\mu_\theta(s)}{\sigma^2}\nabla\mu_\theta(s)$; on the bandit and the 1-D LQR the sampled
#   REINFORCE gradient matches the closed form within its standard error.
# - The score scales like $1/\sigma$, so the variance of the estimate grows like $1/\sigma^2$ as the policy
#   becomes deterministic (exact $c^4/\sigma^2 + 14c^2 + 15\sigma^2$ on the bandit).
#
# Next, notebook 05: where the $Q$ and $V$ come from when we cannot compute them — Monte Carlo returns.
