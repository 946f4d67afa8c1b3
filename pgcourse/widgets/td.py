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

    @cached(maxsize=256)
    def compute(critic_error, n_episodes):
        V_hat = ev.V + critic_error * e
        ep = big.head(n_episodes)
        delta = pg.td_errors(ep, V_hat, mdp.gamma)
        mean, se, cnt = pg.per_pair_means(ep, delta, mdp.S, mdp.A)
        exact_d = pg.expected_td_error(mdp, V_hat)
        g_ac = pg.expected_gradient_estimate(mdp, policy, theta, V_hat, 0.0, T)
        g_hat = pg.advantage_gradient(policy, theta, ep, delta, mdp.gamma)
        ok = cnt[live] > 1
        return {"critic_error": critic_error, "n": n_episodes, "mean": mean, "se": se, "cnt": cnt,
                "exact_d": exact_d, "g_ac": g_ac, "g_hat": g_hat, "bias": (exact_d - ev.A)[live],
                "z": np.abs(mean[live][ok] - exact_d[live][ok]) / se[live][ok]}

    A = ev.A[live].ravel()

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2)
        pgp.pair_scatter(ax1, ev.A[live], r["mean"][live], r["se"][live], r["exact_d"][live], title=" ")
        ax1.set_xlim(ax1.get_xlim())
        diag, crosses = ax1.lines[0], ax1.lines[1]
        for c in ax1.containers:
            c.remove()  # the errorbar container: replaced by a cheaper one to move
        bars = _live.LiveErrorbar(ax1, A, r["mean"][live], 2 * r["se"][live], **pgp.SAMPLED)
        pgp.gradient_markers(ax2, {"exact grad U": grad, "exact E[actor-critic]": r["g_ac"],
                                   "sampled (N = 20000)": r["g_hat"]})
        ac, sampled = ax2.lines[1], ax2.lines[2]

        def update(r):
            critic_error, n_episodes = r["critic_error"], r["n"]
            mean, se, exact_d, g_ac, g_hat = r["mean"], r["se"], r["exact_d"], r["g_ac"], r["g_hat"]
            y, h = mean[live].ravel(), exact_d[live].ravel()
            lo, hi = _live.data_range(A, y, h, pad=0.0)
            pad = 0.05 * (hi - lo + 1e-9)
            diag.set_data([lo - pad, hi + pad], [lo - pad, hi + pad])
            crosses.set_ydata(h)
            bars.update(A, y, 2 * se[live].ravel())
            ax1.set_ylim(*_live.data_range(y - 2 * np.nan_to_num(se[live].ravel()), y + 2 * np.nan_to_num(
                se[live].ravel()), h, A))
            _live.title_of(ax1).set_text(f"E[delta | s, a], critic error {critic_error:.2f}, N = {n_episodes}")
            ac.set_ydata(np.ravel(g_ac))
            sampled.set_ydata(np.ravel(g_hat))
            ax2.set_ylim(*_live.data_range(grad, g_ac, g_hat, include=0.0))
            ax2.get_legend().get_texts()[2].set_text(f"sampled (N = {n_episodes})")
            cnt, z = r["cnt"], r["z"]
            cos_ac, cos_hat = pg.cosine(g_ac, grad), pg.cosine(g_hat, grad)
            return (f"exact  bias of E[delta|s,a]: max |gamma P e - e| = {np.abs(r['bias']).max():.4f}\n"
                    f"sampled mean vs exact E[delta|s,a]: max |diff| = {np.nanmax(np.abs(mean - exact_d)[live]):.4f}"
                    f"  (max |z| = {z.max():.2f}, min count {int(cnt[live].min())})\n"
                    f"exact  |E[g_AC] - grad U| = {np.linalg.norm(g_ac - grad):.4f}   cos = {cos_ac:.4f}\n"
                    f"sampled |g_AC - grad U| = {np.linalg.norm(g_hat - grad):.4f}   cos = {cos_hat:.4f}")
        moving = [ax1.yaxis, diag, crosses, *bars.artists, _live.title_of(ax1), ax2.yaxis, *ax2.lines,
                  ax2.get_legend()]
        return update, moving

    def controls():
        return {"critic_error": slider("critic error", 0.5, 0.0, 2.0, 0.1),
                "n_episodes": slider("N episodes", 2000, 100, 20000, kind="log")}

    def alt(p):
        return (f"Left: per (s, a), the sampled mean TD error of {p['n_episodes']} episodes with error bars and the "
                f"exact E[delta | s, a] of a critic with error {p['critic_error']:.2f}, against the exact advantage "
                f"A, with the line y = A. Right: gradient components of the exact grad U, the exact expected "
                f"actor-critic gradient and the sampled one.")

    return Explorer(compute, {"critic_error": critic_error, "n_episodes": n_episodes}, controls,
                    title="TD error as an advantage estimate: exact vs sampled", alt=alt, draw=draw)
