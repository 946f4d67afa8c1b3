"""Explorer of notebook 06: the TD error of a wrong critic as an advantage estimate."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, axes, cached, register, slider


@register("06_td_actor_critic")
def td_critic_explorer(critic_error: float = 0.5, n_episodes: int = 2000, seed: int = 0, episodes=None) -> Explorer:
    """Critic V_hat = V + critic_error * e (e = pg.critic_error_direction): the per-(s, a) sampled mean of the
    TD errors (pg.per_pair_means of pg.td_errors) of the first n_episodes of a cached batch beside the exact
    E[delta | s, a] (pg.expected_td_error) and the exact A; the exact bias gamma P e - e, and the exact
    expected actor-critic gradient (pg.expected_gradient_estimate, lambda = 0) beside the true one.
    episodes: the batch to use (>= 20000 episodes of pg.td_demo_problem's policy), default 20000 sampled
    with seed."""
    mdp, policy, theta, T = pg.td_demo_problem()
    pi = policy.probs(theta)
    ev = pg.evaluate(mdp, pi)
    e = pg.critic_error_direction(mdp)
    big = pg.sample_episodes(mdp, pi, 20000, T, np.random.default_rng(seed)) if episodes is None else episodes
    grad = pg.policy_gradient(mdp, policy, theta)
    live = ~mdp.terminal

    @cached(maxsize=64)
    def exact_at(critic_error):
        """The exact numbers of a critic (they do not depend on N): E[delta | s, a] and E[g_AC]."""
        V_hat = ev.V + critic_error * e
        return pg.expected_td_error(mdp, V_hat), pg.expected_gradient_estimate(mdp, policy, theta, V_hat, 0.0, T)

    @cached(maxsize=256)
    def compute(critic_error, n_episodes):
        V_hat = ev.V + critic_error * e
        ep = big.head(n_episodes)
        delta = pg.td_errors(ep, V_hat, mdp.gamma)
        mean, se, cnt = pg.per_pair_means(ep, delta, mdp.S, mdp.A)
        exact_d, g_ac = exact_at(critic_error)
        g_hat = pg.advantage_gradient(policy, theta, ep, delta, mdp.gamma)
        ok = cnt[live] > 1
        return {"critic_error": critic_error, "n": n_episodes, "mean": mean, "se": se, "cnt": cnt,
                "exact_d": exact_d, "g_ac": g_ac, "g_hat": g_hat, "bias": (exact_d - ev.A)[live],
                "z": np.abs(mean[live][ok] - exact_d[live][ok]) / se[live][ok]}

    A = ev.A[live].ravel()
    c_max, n_min, n_max = 2.0, 100, 20000  # the sliders' ranges

    def shown(mean, se, exact_d, g_ac, g_hat):
        """What the figure draws: the left panel's y values (sampled mean +- 2 s.e., exact E[delta | s, a], the
        line y = A) and the right panel's (the three gradients, and 0)."""
        y, err = mean[live].ravel(), 2 * np.nan_to_num(se[live].ravel())
        return (np.concatenate([y - err, y + err, exact_d[live].ravel(), A]),
                np.concatenate([np.ravel(grad), np.ravel(g_ac), np.ravel(g_hat), [0.0]]))

    def limits():
        """y limits (left, right) that hold over the controls (critic error in [0, c_max], N in [n_min, n_max]):
        every number drawn is affine in the critic error (delta is affine in V_hat) and a s.e. convex in it, so
        the range over [0, c_max] is reached at an end; over N, the ends' data at N from n_min to n_max (the
        s.e. shrinks as 1/sqrt(N): small N spread most), padded by 10% of the span
        (tests/test_explorer_limits_02_03_06.py checks every slider value)."""
        left, right = [], []
        eps = {n: big.head(n) for n in (*np.geomspace(n_min, 10 * n_min, 7).round().astype(int), n_max)}
        for c in (0.0, c_max):
            V_hat = ev.V + c * e
            delta = pg.td_errors(eps[n_max], V_hat, mdp.gamma)
            exact_d, g_ac = exact_at(c)
            for n, ep in eps.items():
                mean, se, _ = pg.per_pair_means(ep, delta[:n], mdp.S, mdp.A)
                a, b = shown(mean, se, exact_d, g_ac, pg.advantage_gradient(policy, theta, ep, delta[:n], mdp.gamma))
                left.append(a)
                right.append(b)
        return _live.data_range(*left, pad=0.1), _live.data_range(*right, pad=0.1)

    ylim1, ylim2 = limits()

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2)
        pgp.pair_scatter(ax1, ev.A[live], r["mean"][live], r["se"][live], r["exact_d"][live],
                         title="E[delta | s, a] per (s, a)")
        ax1.set_xlim(ax1.get_xlim())
        ax1.set_ylim(*ylim1)
        diag, crosses = ax1.lines[0], ax1.lines[1]
        diag.set_data(ax1.get_xlim(), ax1.get_xlim())  # y = A across the panel: fixed, in the background
        for c in ax1.containers:
            c.remove()  # the errorbar container: replaced by a cheaper one to move
        bars = _live.LiveErrorbar(ax1, A, r["mean"][live], 2 * r["se"][live], **pgp.SAMPLED)
        pgp.gradient_markers(ax2, {"exact grad U": grad, "exact E[actor-critic]": r["g_ac"],
                                   "sampled, first N episodes": r["g_hat"]})
        ax2.set_ylim(*ylim2)
        ac, sampled = ax2.lines[1], ax2.lines[2]

        def update(r):
            critic_error, n_episodes = r["critic_error"], r["n"]
            mean, se, exact_d, g_ac, g_hat = r["mean"], r["se"], r["exact_d"], r["g_ac"], r["g_hat"]
            crosses.set_ydata(exact_d[live].ravel())
            bars.update(A, mean[live].ravel(), 2 * se[live].ravel())
            ac.set_ydata(np.ravel(g_ac))
            sampled.set_ydata(np.ravel(g_hat))
            cnt, z = r["cnt"], r["z"]
            cos_ac, cos_hat = pg.cosine(g_ac, grad), pg.cosine(g_hat, grad)
            return (f"critic error {critic_error:.2f}   N = {n_episodes} episodes\n"
                    f"exact  bias of E[delta|s,a]: max |gamma P e - e| = {np.abs(r['bias']).max():.4f}\n"
                    f"sampled mean vs exact E[delta|s,a]: max |diff| = {np.nanmax(np.abs(mean - exact_d)[live]):.4f}"
                    f"  (max |z| = {z.max():.2f}, min count {int(cnt[live].min())})\n"
                    f"exact  |E[g_AC] - grad U| = {np.linalg.norm(g_ac - grad):.4f}   cos = {cos_ac:.4f}\n"
                    f"sampled |g_AC - grad U| = {np.linalg.norm(g_hat - grad):.4f}   cos = {cos_hat:.4f}")
        # fixed axes, legends and titles: a move redraws the markers and error bars only
        return update, [crosses, *bars.artists, ac, sampled]

    def controls():
        return {"critic_error": slider("critic error", 0.5, 0.0, c_max, 0.1),
                "n_episodes": slider("N episodes", 2000, n_min, n_max, kind="log")}

    def alt(p):
        return (f"Left: per (s, a), the sampled mean TD error of {p['n_episodes']} episodes with error bars and the "
                f"exact E[delta | s, a] of a critic with error {p['critic_error']:.2f}, against the exact advantage "
                f"A, with the line y = A. Right: gradient components of the exact grad U, the exact expected "
                f"actor-critic gradient and the sampled one.")

    return Explorer(compute, {"critic_error": critic_error, "n_episodes": n_episodes}, controls,
                    title="TD error as an advantage estimate: exact vs sampled", alt=alt, draw=draw)
