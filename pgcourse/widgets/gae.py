"""Explorer of notebook 07: GAE's exact bias and measured variance against lambda."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, Precomputed, axes, register, slider

LAMBDAS = np.round(np.linspace(0.0, 1.0, 11), 2)
"""The lambda grid of notebook 07's curves: 0, 0.1, ..., 1."""


@register("07_gae")
def gae_explorer(lam: float = 0.9, gamma: float = 0.95, critic_error: float = 0.5, batch: int = 100,
                 seed: int = 0, episodes=None) -> Explorer:
    """Pick lambda, gamma and the critic error: exact bias^2 and measured variance / batch of the GAE gradient
    estimate for every lambda (pg.gae_bias_variance; curves, current lambda marked), and for the chosen lambda
    the exact expected gradient beside a sampled estimate from `batch` episodes and the exact grad U.
    episodes: the variance pool (episodes of pg.td_demo_problem's policy), default 4000 sampled with seed."""
    base, policy, theta, T = pg.td_demo_problem()
    pi = policy.probs(theta)
    e = pg.critic_error_direction(base)
    pool = pg.sample_episodes(base, pi, 4000, T, np.random.default_rng(seed)) if episodes is None else episodes

    def curves_at(gamma, critic_error):
        mdp = base.with_gamma(gamma)
        ev = pg.evaluate(mdp, pi)
        V_hat = ev.V + critic_error * e
        Eg, bias2, var = pg.gae_bias_variance(mdp, policy, theta, V_hat, LAMBDAS, pool, T)
        return mdp, V_hat, pg.policy_gradient(mdp, policy, theta), Eg, bias2, var

    def at_lambda_at(lam, gamma, critic_error):
        mdp, V_hat, _, _, _, _ = curves(gamma, critic_error)
        g = pg.per_episode_gradients(policy, theta, pool, pg.gae(pool, V_hat, mdp.gamma, lam), mdp.gamma)
        return (pg.expected_gradient_estimate(mdp, policy, theta, V_hat, lam, T), pg.total_variance(g),
                g.mean(axis=0), g[:batch].mean(axis=0), len(g))

    # thread-safe memos; after each update the values one slider step away are computed in the background
    curves_memo = Precomputed(curves_at, start=False)
    lambda_memo = Precomputed(at_lambda_at, start=False)

    def curves(gamma, critic_error):
        return curves_memo.get(gamma, critic_error)

    def at_lambda(lam, gamma, critic_error):
        return lambda_memo.get(lam, gamma, critic_error)

    steps = np.array([0.05, 0.01, 0.1])  # the sliders' steps: lambda, gamma, critic error
    last = [None]

    def one_step_away(*key):
        """The next values of the control that just moved: one more step the same way, then one step back."""
        prev, last[0] = last[0], np.array(key)
        if prev is None or np.count_nonzero(prev != last[0]) != 1:
            return []
        d = np.sign(last[0] - prev) * steps * (prev != last[0])
        out = [tuple(np.round(last[0] + s * d, 4)) for s in (1, -1)]
        return [k for k in out if 0.0 <= k[0] <= 1.0 and 0.5 <= k[1] <= 0.99 and 0.0 <= k[2] <= 2.0]

    def compute(lam, gamma, critic_error):
        key = (round(float(gamma), 4), round(float(critic_error), 4))
        lambda_memo.ahead(one_step_away(round(float(lam), 4), *key))
        _, _, grad, _, bias2, var = curves(*key)
        Eg_lam, v_lam, g_mean, g_small, n_pool = at_lambda(round(float(lam), 4), *key)
        return {"lam": lam, "gamma": gamma, "critic_error": critic_error, "grad": grad, "bias2": bias2, "var": var,
                "Eg": Eg_lam, "v": v_lam, "g_mean": g_mean, "g_small": g_small, "n_pool": n_pool,
                "b2": float(((Eg_lam - grad) ** 2).sum())}

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2)
        pgp.bias_variance(ax1, LAMBDAS, r["bias2"], r["var"] / batch, current=(r["lam"], r["b2"], r["v"] / batch),
                          title=" ")
        b_line, v_line, mse_line, now_line, star = ax1.lines
        ax1.get_legend().get_texts()[3].set_text("MSE at the chosen lambda")  # (the title and summary give it)
        pgp.gradient_markers(ax2, {"exact grad U": r["grad"], "exact E[g], the chosen lambda": r["Eg"],
                                   f"sampled, {batch} episodes": r["g_small"]})
        ax1.set_xlim(ax1.get_xlim())

        def update(r):
            lam, gamma, critic_error, grad, Eg_lam, v_lam = r["lam"], r["gamma"], r["critic_error"], r["grad"], \
                r["Eg"], r["v"]
            b2, bias2, var = r["b2"], r["bias2"], r["var"] / batch
            b_line.set_ydata(bias2)
            v_line.set_ydata(var)
            mse_line.set_ydata(bias2 + var)
            now_line.set_xdata([lam, lam])
            star.set_data([lam], [b2 + v_lam / batch])
            ax1.set_ylim(*_live.data_range(bias2, var, bias2 + var))
            _live.title_of(ax1).set_text(f"GAE, gamma = {gamma:.2f}, critic error {critic_error:.2f}, batch {batch}")
            ref, mid, smp = ax2.lines[:3]
            ref.set_ydata(np.ravel(grad))
            mid.set_ydata(np.ravel(Eg_lam))
            smp.set_ydata(np.ravel(r["g_small"]))
            ax2.set_ylim(*_live.data_range(grad, Eg_lam, r["g_small"], include=0.0))
            se = np.sqrt(v_lam / r["n_pool"])
            n_pool, g_mean = r["n_pool"], r["g_mean"]
            return (f"lam = {lam:.2f}  gamma = {gamma:.2f}  critic error = {critic_error:.2f}\n"
                    f"exact   bias^2 = |E[g] - grad U|^2 = {b2:.4f}\n"
                    f"sampled mean of {n_pool} episodes: |mean - E[g]| = {np.linalg.norm(g_mean - Eg_lam):.4f}"
                    f"  (noise ~ {se:.4f})\n"
                    f"sampled variance per episode = {v_lam:.3f}   variance of a {batch}-episode batch = "
                    f"{v_lam / batch:.4f}\n"
                    f"MSE of a {batch}-episode batch = {b2 + v_lam / batch:.4f}   cos(exact E[g], grad U) = "
                    f"{pg.cosine(Eg_lam, grad):.4f}")
        moving = [ax1.yaxis, *ax1.lines, _live.title_of(ax1), ax2.yaxis, *ax2.lines]
        return update, moving

    def controls():
        return {"lam": slider("lambda", 0.9, 0.0, 1.0, 0.05),
                "gamma": slider("gamma", 0.95, 0.5, 0.99, 0.01),
                "critic_error": slider("critic error", 0.5, 0.0, 2.0, 0.1)}

    def alt(p):
        return (f"Left: against lambda from 0 (TD) to 1 (Monte Carlo), the exact squared bias, the measured variance "
                f"of a {batch}-episode batch and their sum, the MSE, with lambda = {p['lam']:.2f} marked (gamma "
                f"{p['gamma']:.2f}, critic error {p['critic_error']:.2f}). Right: gradient components of grad U, the "
                f"exact expected GAE gradient and a sampled one.")

    return Explorer(compute, {"lam": lam, "gamma": gamma, "critic_error": critic_error}, controls,
                    title="GAE: exact bias and measured variance vs lambda", alt=alt, draw=draw)
