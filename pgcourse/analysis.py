"""Bias, variance and scoring of estimators: the statistics behind every "exact vs sampled" number the
notebooks print (numpy only).

Notation as in the course: N episodes, T steps, S states, A actions; G_t the discounted return,
delta_t = r_t + gamma V(s_{t+1}) - V(s_t) the TD error; an estimator of grad U gives one estimate per episode,
g_n = sum_t gamma^t grad log pi(a_t|s_t) w_{n,t} (`pg.per_episode_gradients`), and is judged by
bias = E[g] - grad U and variance per episode tr Cov(g_n).

- sample statistics: `mean_se`, `total_variance`, `cosine`, `per_pair_means`
- what sampled numbers estimate, exactly: `td_fixed_point`, `truncated_values`, `bandit_score_variance`
- Monte Carlo tables: `mc_action_values`
- estimators of grad U and their scores: `BUILTIN_ESTIMATORS`, `EstimatorScore`, `score_estimator`,
  `score_table`, `gae_bias_variance`, `gae_error_line` (every critic error of a line at once)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._validate import (
    as_count,
    as_episodes,
    as_float_array,
    as_gamma,
    as_mdp,
    as_policy_matrix,
    as_scalar,
)
from .estimators import discounted_returns, gae, per_episode_gradients, td_errors
from .exact import expected_gradient_estimate, expected_gradient_estimates, policy_gradient

__all__ = [
    "BUILTIN_ESTIMATORS",
    "EstimatorScore",
    "bandit_score_variance",
    "builtin_expectation",
    "cosine",
    "GaeErrorLine",
    "gae_bias_variance",
    "gae_error_line",
    "mc_action_values",
    "mean_se",
    "total_variation",
    "per_pair_means",
    "running_mean_se",
    "score_estimator",
    "score_table",
    "td_fixed_point",
    "total_variance",
    "truncated_values",
    "variance_minimising_baseline",
    "z_scores",
]


# ---- sample statistics ------------------------------------------------------------------------------------

def mean_se(samples) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard error) over axis 0 of per-sample estimates x (N, ...):

        mean = 1/N sum_n x_n,   se = std(x, ddof=1) / sqrt(N)      (each of shape ...; floats for (N,) input)

    The mean of N independent estimates is within about 2 se of their expectation."""
    x = as_float_array(samples, "samples")
    if x.ndim == 0 or x.shape[0] < 2:
        raise ValueError(f"samples must hold at least 2 estimates along axis 0, got shape {x.shape}")
    return x.mean(axis=0), x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])


def total_variance(samples) -> float:
    """tr Cov(g) = sum_k Var(g_k) of per-episode estimates g (N, ...) (sample variances, ddof=1): the
    variance per episode of a vector estimator. An average of n episodes has variance total_variance / n."""
    g = as_float_array(samples, "samples")
    if g.ndim == 0 or g.shape[0] < 2:
        raise ValueError(f"samples must hold at least 2 estimates along axis 0, got shape {g.shape}")
    return float(g.reshape(g.shape[0], -1).var(axis=0, ddof=1).sum())


def cosine(u, v) -> float:
    """cos(u, v) = u . v / (|u| |v|) of two arrays of the same shape, flattened (0 if one of them is zero)."""
    u, v = as_float_array(u, "u"), as_float_array(v, "v")
    if u.shape != v.shape:
        raise ValueError(f"u and v must have the same shape, got {u.shape} and {v.shape}")
    u, v = u.ravel(), v.ravel()
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    return float(u @ v / (nu * nv)) if nu > 0 and nv > 0 else 0.0


def running_mean_se(samples, n_points: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Running mean of samples x (N,) after n = 1..N of them, with its standard error:

        m_n = 1/n sum_{i<=n} x_i,   se_n = sqrt((1/n sum_{i<=n} x_i^2 - m_n^2) / n)      (ddof 0)

    Returns (n, m_n, se_n), each (N,), or at about n_points geometrically spaced n (for a log-scale plot)."""
    x = as_float_array(samples, "samples", ndim=1)
    if x.size == 0:
        raise ValueError("samples must not be empty")
    n = np.arange(1, x.size + 1)
    m = np.cumsum(x) / n
    sq = np.cumsum(x**2) / n
    se = np.sqrt(np.maximum(sq - m**2, 0.0) / n)
    if n_points is not None:
        k = np.unique(np.geomspace(1, x.size, as_count(n_points, "n_points")).astype(int)) - 1
        n, m, se = n[k], m[k], se[k]
    return n, m, se


def total_variation(p, q) -> float:
    """TV(p, q) = 1/2 sum_s |p(s) - q(s)| of two distributions of the same shape (0 = equal, 1 = disjoint)."""
    p, q = as_float_array(p, "p"), as_float_array(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    return float(0.5 * np.abs(p - q).sum())


def per_pair_means(episodes, values, S: int, A: int, where=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average of per-step values x (N, T) over the real steps with (s_t, a_t) = (s, a):

        mean(s, a) = 1/n(s, a) sum_{n,t: s_t=s, a_t=a} x_{n,t},   se(s, a) = std / sqrt(n(s, a)),

    returned as (mean, se, count), each (S, A). where: optional (N, T) bool selecting steps (e.g. t = 0
    only). Pairs never seen get mean NaN; se is NaN below 2 visits. E.g. values = G_t estimates Q(s, a),
    values = delta_t estimates E[delta | s, a]."""
    ep = as_episodes(episodes)
    S, A = as_count(S, "S"), as_count(A, "A")
    v = as_float_array(values, "values", shape=ep.states.shape)
    sel = ep.mask > 0
    if where is not None:
        sel = sel & np.asarray(where, dtype=bool)
    idx = (ep.states * A + ep.actions)[sel]
    if idx.size and (ep.states[sel].max() >= S or ep.actions[sel].max() >= A):
        raise ValueError(f"episodes hold states/actions outside S = {S}, A = {A}")
    v = v[sel]
    cnt = np.bincount(idx, minlength=S * A).astype(float)
    tot = np.bincount(idx, weights=v, minlength=S * A)
    sq = np.bincount(idx, weights=v * v, minlength=S * A)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
        var = (sq - cnt * np.nan_to_num(mean) ** 2) / (cnt - 1)
        se = np.where(cnt > 1, np.sqrt(np.maximum(var, 0) / np.maximum(cnt, 1)), np.nan)
    return mean.reshape(S, A), se.reshape(S, A), cnt.reshape(S, A)


# ---- what sampled numbers estimate, exactly ---------------------------------------------------------------

def td_fixed_point(episodes, S: int, gamma, *, V0=None, bootstrap_terminal: bool = False,
                   bootstrap_truncated: bool = True) -> np.ndarray:
    """The value batch TD(0) (`pg.td0_values`) converges to on a fixed batch, V (S,): for every state s with
    real steps, the TD errors of the steps taken from s sum to zero,

        sum_{n,t: s_t = s} ( r_t + gamma b_t V(s_{t+1}) - V(s) ) = 0,

    with b_t = 0 where step t entered a terminal state (and b_t = 1 where the horizon truncated it). That is
    the exact V of the batch's empirical chain, V = (I - gamma P_hat)^-1 r_hat on the visited states
    (certainty equivalence). States never visited keep V0 (default 0, td0_values' start).

    bootstrap_terminal=True (bootstrap from V of a terminal state too) and bootstrap_truncated=False (no
    bootstrap at a truncation) give the fixed points of two typical mistakes."""
    ep = as_episodes(episodes)
    S = as_count(S, "S")
    gamma = as_gamma(gamma)
    V0 = np.zeros(S) if V0 is None else as_float_array(V0, "V0", shape=(S,))
    real = ep.mask > 0
    s, s2, r = ep.states[real], ep.next_states[real], ep.rewards[real]
    if s.size and max(s.max(), s2.max()) >= S:
        raise ValueError(f"S = {S} but the episodes visit state {max(s.max(), s2.max())}")
    term, trunc = ep.terminated[real], ep.truncated[real]
    boot = np.ones_like(term) if bootstrap_terminal else ~term
    if not bootstrap_truncated:
        boot = boot & ~trunc
    cnt = np.bincount(s, minlength=S).astype(float)
    M = np.diag(cnt)
    np.add.at(M, (s[boot], s2[boot]), -gamma)
    b = np.bincount(s, weights=r, minlength=S)
    unvisited = cnt == 0
    M[unvisited] = 0.0
    M[unvisited, unvisited] = 1.0
    b[unvisited] = V0[unvisited]
    return np.linalg.solve(M, b)


def truncated_values(mdp, pi, k: int) -> np.ndarray:
    """Exact k-step values V_k(s) = E[sum_{t<k} gamma^t r_t | s_0 = s], (S,), by k Bellman backups from
    V_0 = 0 (a finite sum, no tolerance): V_{j+1} = r_pi + gamma P_pi V_j on non-terminal states. What a
    return cut after k steps estimates; its bias is V_k - V."""
    mdp = as_mdp(mdp)
    pi = as_policy_matrix(pi, mdp.S, mdp.A)
    k = as_count(k, "k", minimum=0)
    P_pi, r_pi = mdp.policy_matrices(pi)
    live = ~mdp.terminal
    V = np.zeros(mdp.S)
    for _ in range(k):
        V = np.where(live, r_pi + mdp.gamma * P_pi @ V, 0.0)
    return V


def bandit_score_variance(theta: float, sigma: float, a_star: float = 1.0, centred: bool = False) -> float:
    """Exact variance of one score-function estimate (r(a) - b) (a - theta) / sigma^2 on the quadratic bandit
    r(a) = -(a - a_star)^2, a ~ N(theta, sigma^2). With c = theta - a_star, a = theta + sigma z
    (E z^2 = 1, E z^4 = 3, E z^6 = 15):

        b = 0:                               Var = c^4 / sigma^2 + 14 c^2 + 15 sigma^2   (~ 1/sigma^2 as sigma -> 0)
        b = U = -c^2 - sigma^2 (centred):    the estimate is -2c z^2 - sigma z^3 + sigma z,
                                             Var = 8 c^2 + 10 sigma^2                    (bounded as sigma -> 0)
    """
    c = as_scalar(theta, "theta") - as_scalar(a_star, "a_star")
    s2 = as_scalar(sigma, "sigma", low=0.0, low_open=True) ** 2
    if centred:
        return 8.0 * c**2 + 10.0 * s2
    return c**4 / s2 + 14.0 * c**2 + 15.0 * s2


# ---- Monte Carlo tables -----------------------------------------------------------------------------------

def mc_action_values(episodes, S: int, A: int, gamma) -> tuple[np.ndarray, np.ndarray]:
    """Every-visit Monte Carlo estimate of Q: Q_hat(s, a) = mean of G_t over the real steps with
    (s_t, a_t) = (s, a), and the visit counts n(s, a); both (S, A). Pairs never tried get 0."""
    ep = as_episodes(episodes)
    S, A = as_count(S, "S"), as_count(A, "A")
    G = discounted_returns(ep.rewards, as_gamma(gamma), ep.mask)
    if ep.states.max() >= S or ep.actions.max() >= A:
        raise ValueError(f"episodes hold states/actions outside S = {S}, A = {A}")
    k = (ep.states * A + ep.actions).ravel()
    tot = np.bincount(k, weights=G.ravel(), minlength=S * A).reshape(S, A)
    cnt = np.bincount(k, weights=ep.mask.ravel(), minlength=S * A).reshape(S, A)
    return np.divide(tot, cnt, out=np.zeros((S, A)), where=cnt > 0), cnt


# ---- estimators of grad U and their scores ----------------------------------------------------------------

def _w_reinforce(ep, V, gamma):
    return discounted_returns(ep.rewards, gamma, ep.mask)


def _w_reinforce_baseline(ep, V, gamma):
    return (discounted_returns(ep.rewards, gamma, ep.mask) - np.asarray(V)[ep.states]) * ep.mask


def _w_actor_critic(ep, V, gamma):
    return td_errors(ep, V, gamma)


def _w_gae95(ep, V, gamma):
    return gae(ep, V, gamma, 0.95)


BUILTIN_ESTIMATORS: dict[str, Callable] = {"REINFORCE": _w_reinforce, "REINFORCE+baseline": _w_reinforce_baseline,
                                           "actor-critic": _w_actor_critic, "GAE(0.95)": _w_gae95}
"""name -> estimator(episodes, V, gamma) -> per-step weights w (N, T): G_t, G_t - V(s_t), delta_t, GAE(0.95).
The gradient estimate of episode n is g_n = sum_t gamma^t grad log pi(a_t|s_t) w_{n,t}."""


_BUILTIN_EXACT = {"REINFORCE": (False, 1.0), "REINFORCE+baseline": (False, 1.0), "actor-critic": (True, 0.0),
                  "GAE(0.95)": (True, 0.95)}


def builtin_expectation(name: str, mdp, policy, theta, V, horizon: int) -> np.ndarray | None:
    """The exact expectation E[g] (theta's shape) of the built-in estimator `name` with critic V (S,) on
    episodes cut at `horizon`, or None for an estimator without an exact expression here. Every built-in is
    a GAE estimate (pg.expected_gradient_estimate): REINFORCE is GAE with V = 0, lambda = 1 (a baseline b(s)
    leaves the expectation unchanged, so REINFORCE+baseline has the same E[g]); actor-critic is lambda = 0
    with the critic V; GAE(0.95) is lambda = 0.95 with V."""
    if name not in _BUILTIN_EXACT:
        return None
    uses_critic, lam = _BUILTIN_EXACT[name]
    mdp = as_mdp(mdp)
    V = as_float_array(V, "V", shape=(mdp.S,)) if uses_critic else np.zeros(mdp.S)
    return expected_gradient_estimate(mdp, policy, theta, V, lam, horizon)


@dataclass(frozen=True)
class EstimatorScore:
    """How an estimator scores against the exact gradient on one big batch of N episodes.

    mean (theta's shape) = 1/N sum_n g_n, estimates E[g]; bias_norm = |mean - grad U|; noise_floor =
    sqrt(total_variance / N), what bias_norm typically is for an unbiased estimator; variance = tr Cov(g_n)
    per episode; cosine {n: mean over disjoint groups of n episodes of cos(group mean, grad U)};
    samples (N, *theta.shape), the g_n."""

    name: str
    mean: np.ndarray
    bias_norm: float
    noise_floor: float
    variance: float
    cosine: dict
    samples: np.ndarray

    def row(self) -> str:
        """This score as one row of `score_table`."""
        cos = "  ".join(f"{self.cosine[n]:6.3f}" for n in sorted(self.cosine))
        return f"{self.name:<20s} {self.bias_norm:8.4f} {self.noise_floor:8.4f} {self.variance:10.4f}   {cos}"


def score_estimator(name: str, estimator: Callable, policy, theta, episodes, V, gamma, exact_grad,
                    batch_sizes=(10, 30, 100, 300, 1000)) -> EstimatorScore:
    """Score estimator(episodes, V, gamma) -> weights w (N, T) on the batch `episodes` against the exact
    gradient `exact_grad` (theta's shape): the per-episode estimates g_n = sum_t gamma^t grad log pi w_{n,t},
    their mean, |bias|, noise floor, variance per episode and cosine with grad U at each batch size n
    (see EstimatorScore). Raises ValueError if the estimator returns the wrong shape or NaN/inf."""
    ep = as_episodes(episodes)
    w = np.asarray(estimator(ep, V, gamma), dtype=float)
    if w.shape != ep.states.shape:
        raise ValueError(f"estimator {name!r} returned shape {w.shape}, expected {ep.states.shape} (N, T)")
    if not np.isfinite(w).all():
        raise ValueError(f"estimator {name!r} returned NaN or inf")
    g = per_episode_gradients(policy, theta, ep, w, gamma)
    N = len(g)
    mean = g.mean(axis=0)
    var = total_variance(g)
    flat, ex = g.reshape(N, -1), np.ravel(exact_grad)
    cos = {}
    for n in batch_sizes:
        k = N // n
        if k >= 1:
            Gm = flat[: k * n].reshape(k, n, -1).mean(axis=1)
            cos[n] = float(np.mean(Gm @ ex / (np.linalg.norm(Gm, axis=1) * np.linalg.norm(ex) + 1e-300)))
    return EstimatorScore(name, mean, float(np.linalg.norm(mean - exact_grad)), float(np.sqrt(var / N)), var, cos, g)


def score_table(scores) -> str:
    """A fixed-width table of EstimatorScores: |bias|, noise floor, variance per episode, cos at each n
    (rounded to 4 decimals, 3 for cosines)."""
    scores = list(scores)
    if not scores:
        raise ValueError("scores must hold at least one EstimatorScore")
    ns = sorted(scores[0].cosine)
    head = f"{'estimator':<20s} {'|bias|':>8s} {'noise':>8s} {'var/episode':>10s}   " + "  ".join(
        f"{'cos@' + str(n):>6s}" for n in ns)
    return "\n".join([head] + [s.row() for s in scores])


def gae_bias_variance(mdp, policy, theta, V_hat, lams, episodes, horizon: int):
    """For each lambda in lams (L,): the exact expected GAE gradient E[g_lambda] (L, *theta.shape), its exact
    squared bias |E[g_lambda] - grad U|^2 (L,), and the measured variance per episode tr Cov(g_n) on
    `episodes` (L,), with g_n = sum_t gamma^t grad log pi(a_t|s_t) GAE_t(lambda) under the critic V_hat.
    The mean squared error of an n-episode average is bias^2 + variance / n."""
    mdp = as_mdp(mdp)
    lams = as_float_array(lams, "lams", ndim=1)
    grad = policy_gradient(mdp, policy, theta)
    Eg = np.array([expected_gradient_estimate(mdp, policy, theta, V_hat, lam, horizon) for lam in lams])
    bias2 = ((Eg - grad) ** 2).reshape(len(lams), -1).sum(axis=1)
    var = np.array([total_variance(per_episode_gradients(policy, theta, episodes,
                                                         gae(episodes, V_hat, mdp.gamma, lam), mdp.gamma))
                    for lam in lams])
    return Eg, bias2, var



@dataclass(frozen=True)
class GaeErrorLine:
    """`gae_bias_variance` along the line of critics V_hat(c) = V + c e, for every critic error c at once
    (`gae_error_line`). delta_t is affine in V_hat, GAE is linear in delta and the estimate linear in GAE, so
    for a fixed gamma the exact expected GAE gradient and each episode's GAE gradient are affine in c:

        E[g_lam](c) = E0_lam + c E1_lam,          g_{n,lam}(c) = a_{n,lam} + c b_{n,lam},
        bias^2(c) = |E0 + c E1 - grad U|^2,       tr Cov(g_n(c)) = v_aa + 2 c v_ab + c^2 v_bb.

    Fields (L = len(lams)): lams (L,); grad: grad U, theta's shape; E0, E1 (L, *theta.shape); mean_a, mean_b
    (L, *theta.shape): the sample means of a_n and b_n; cov (L, 3): (v_aa, v_ab, v_bb) = (tr Cov(a), tr Cov(a, b),
    tr Cov(b)) over the N episodes (ddof 1, as `total_variance`); n_episodes: N."""
    lams: np.ndarray
    grad: np.ndarray
    E0: np.ndarray
    E1: np.ndarray
    mean_a: np.ndarray
    mean_b: np.ndarray
    cov: np.ndarray
    n_episodes: int

    def at(self, c: float):
        """(Eg (L, *theta.shape), bias2 (L,), var (L,), mean (L, *theta.shape)) at V_hat = V + c e: what
        `gae_bias_variance(..., V + c e, ...)` returns, and the sampled mean gradient of the N episodes."""
        c = as_scalar(c, "c")
        Eg = self.E0 + c * self.E1
        bias2 = ((Eg - self.grad) ** 2).reshape(len(self.lams), -1).sum(axis=1)
        var = self.cov[:, 0] + 2.0 * c * self.cov[:, 1] + c * c * self.cov[:, 2]
        return Eg, bias2, np.maximum(var, 0.0), self.mean_a + c * self.mean_b


def _expected_gae_gradients(mdp, policy, theta, V, e, lams, T):
    """(E0, E1) (L, *theta.shape): `expected_gradient_estimate` at V and its change per unit of c along V + c e,
    for every lambda at once (it is affine in V_hat)."""
    E = expected_gradient_estimates(mdp, policy, theta, np.stack([V, V + e]), lams, T)
    return E[:, 0], E[:, 1] - E[:, 0]

def gae_error_line(mdp, policy, theta, V, direction, lams, episodes, horizon: int) -> GaeErrorLine:
    """`GaeErrorLine` of the critics V_hat(c) = V + c * direction (V, direction: (S,)) for each lambda in lams
    (L,) on `episodes` (N, T) cut at `horizon`: one pass gives `gae_bias_variance` at every c (`.at(c)`).

    The GAE of both parts, delta(V) and delta(V + e) - delta(V), is the backward scan of `pg.gae`,
    A_t = delta_t + gamma lam mask_{t+1} A_{t+1}, run for every lambda at once; each episode's gradient is
    sum_t gamma^t grad log pi(a_t|s_t) A_t (`per_episode_gradients`)."""
    from ._validate import as_softmax_policy
    mdp = as_mdp(mdp)
    policy = as_softmax_policy(policy, mdp)
    theta = policy.check_theta(theta)
    lams = as_float_array(lams, "lams", ndim=1)
    if lams.size == 0 or lams.min() < 0.0 or lams.max() > 1.0:
        raise ValueError(f"lams must be a non-empty list of values in [0, 1], got {lams}")
    V = as_float_array(V, "V", shape=(mdp.S,))
    e = as_float_array(direction, "direction", shape=(mdp.S,))
    ep = as_episodes(episodes)
    if ep.n_episodes < 2:
        raise ValueError(f"episodes must hold at least 2 episodes (a variance), got {ep.n_episodes}")
    gamma = mdp.gamma
    E0, E1 = _expected_gae_gradients(mdp, policy, theta, V, e, lams, as_count(horizon, "horizon"))
    d0 = td_errors(ep, V, gamma)
    D = np.stack([d0, td_errors(ep, V + e, gamma) - d0])              # (2, N, T): delta of V and of e
    N, T = ep.states.shape
    S, nA, L = policy.S, policy.A, len(lams)
    real = ep.mask > 0
    lengths = real.sum(axis=1)
    order = np.argsort(-lengths, kind="stable")   # longest first: the episodes alive at step t come first
    alive = (lengths[order][None, :] > np.arange(T)[:, None]).sum(axis=1)
    Dt = np.ascontiguousarray(D[:, order].transpose(2, 1, 0))        # (T, N, 2), time-major, sorted episodes
    mask = np.ascontiguousarray(ep.mask[order].T)                     # (T, N)
    pair = np.ascontiguousarray((ep.states[order] * nA + ep.actions[order]).T) + (S * nA) * np.arange(N)
    gl = gamma * lams[:, None]
    nxt = np.zeros((N, L, 2))                       # A_{t+1} of each (episode, lambda, part), sorted episodes
    W = np.zeros((N * S * nA, L, 2))                # sum_t gamma^t A_t at each episode's (s_t, a_t)
    for t in range(T - 1, -1, -1):                  # the scan of pg.gae, every lambda and part at once
        k = int(alive[t])
        if k == 0:
            continue
        cont = mask[t + 1, :k, None, None] if t + 1 < T else 0.0
        nxt[:k] = Dt[t, :k, None, :] + gl * cont * nxt[:k]
        W[pair[t, :k]] += (gamma ** t * mask[t, :k])[:, None, None] * nxt[:k]   # pair[t] distinct: no collision
    W = W.reshape(N, S, nA, L, 2)
    C = W - W.sum(axis=2, keepdims=True) * policy.probs(theta)[:, :, None, None]
    g = C if policy.is_tabular else np.einsum("nsalp,sak->nklp", C, policy.features)
    g = np.ascontiguousarray(g.reshape(N, -1, L, 2).transpose(2, 3, 0, 1))   # (L, 2, N, K)
    mean = g.mean(axis=2)
    dev = (g - mean[:, :, None]).reshape(L, 2, -1)
    M = dev @ dev.transpose(0, 2, 1) / max(N - 1, 1)  # (L, 2, 2): sum over episodes and components
    cov = np.stack([M[:, 0, 0], M[:, 0, 1], M[:, 1, 1]], axis=1)
    means = mean.reshape(L, 2, *theta.shape)
    return GaeErrorLine(lams, policy_gradient(mdp, policy, theta), E0, E1, means[:, 0], means[:, 1], cov, N)


# ---- baselines and z-scores (notebooks 02-03) --------------------------------------------------------------

def variance_minimising_baseline(policy, theta, Q) -> np.ndarray:
    """The state baseline b*(s) (S,) that minimises the variance of one step's term
    g = grad log pi(a|s) (G - b(s)), a ~ pi(.|s), given s (E[G | s, a] = Q(s, a)):

        b*(s) = E_a[|grad log pi(a|s)|^2 Q(s, a)] / E_a[|grad log pi(a|s)|^2]
              = sum_a pi(a|s) |score(s, a)|^2 Q(s, a) / sum_a pi(a|s) |score(s, a)|^2,

    (set d/db E[|score|^2 (G - b)^2] = 0). A |score|^2-weighted average of Q(s, .), so not V(s) = sum_a pi Q
    in general. Where every action the policy takes has a zero score (a deterministic state) the variance
    does not depend on b and b*(s) = V(s) is returned. policy: SoftmaxPolicy, theta its shape, Q (S, A).
    It minimises each step's own variance; a whole episode's estimate also has covariances across steps."""
    from ._validate import as_softmax_policy
    policy = as_softmax_policy(policy)
    theta = policy.check_theta(theta)
    Q = as_float_array(Q, "Q", shape=(policy.S, policy.A))
    s_idx, a_idx = np.meshgrid(np.arange(policy.S), np.arange(policy.A), indexing="ij")
    score = policy.grad_log_prob(theta, s_idx, a_idx).reshape(policy.S, policy.A, -1)
    w = policy.probs(theta) * (score**2).sum(axis=2)              # pi(a|s) |score(s, a)|^2, (S, A)
    V = (policy.probs(theta) * Q).sum(axis=1)
    den = w.sum(axis=1)
    safe = den > 1e-300
    return np.where(safe, (w * Q).sum(axis=1) / np.where(safe, den, 1.0), V)


def z_scores(samples, exact) -> np.ndarray:
    """Standardised deviations of a sampled mean from what it estimates, shape samples.shape[1:]:

        z = (mean(x) - exact) / se(x),     mean, se = mean_se(x), x (N, ...) independent estimates.

    For an unbiased estimator each z is about N(0, 1): |z| > 3.3 has probability 0.001 per component.
    Components with se = 0 get z = 0 if the mean equals `exact`, else +-inf."""
    m, se = mean_se(samples)
    ex = as_float_array(exact, "exact", shape=np.shape(m))
    diff = m - ex
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
    return z


def group_cosines(samples, exact, n: int) -> np.ndarray:
    """Cosines of batch estimates with the exact gradient, (k,), k = N // n:

        c_j = cos(mean(x[j n : (j + 1) n]), exact),   samples x (N, ...) per-episode estimates, exact x's row shape.

    The mean of c is `EstimatorScore.cosine[n]`; its standard error mean_se(c)[1] gives the cosine's error
    bar (the groups are disjoint, so the c_j are independent). A zero group mean gives c_j = 0."""
    x = as_float_array(samples, "samples")
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError("samples must be (N, ...) with N >= 1")
    ex = as_float_array(exact, "exact", shape=x.shape[1:]).ravel()
    n = as_count(n, "n")
    k = x.shape[0] // n
    if k < 1:
        raise ValueError(f"n = {n} is larger than the number of samples {x.shape[0]}")
    Gm = x[: k * n].reshape(k, n, -1).mean(axis=1)
    norms = np.linalg.norm(Gm, axis=1) * np.linalg.norm(ex)
    return np.divide(Gm @ ex, norms, out=np.zeros(k), where=norms > 0)
