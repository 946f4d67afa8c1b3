"""Explorer of notebook 07: GAE's exact bias and measured variance against lambda."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, Precomputed, axes, register, slider

LAMBDAS = np.round(np.linspace(0.0, 1.0, 11), 2)
"""The lambda grid of notebook 07's curves: 0, 0.1, ..., 1."""
GAMMAS_07 = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99)
"""The explorer's gamma choices, each computed at load (~0.15 s each: every critic error comes with it)."""


def _stepped_limits(lo: float, hi: float) -> tuple[float, float]:
    """Axis limits around [lo, hi] (lo <= 0 <= hi) in nice steps (`_live.nice_ceiling` of 1.05 x each end; an end
    at 0 gets 5% of the other side): the data fill at least 3/4 of each side, and small moves keep the limits."""
    top = _live.nice_ceiling(1.05 * hi) if hi > 0 else 0.0
    bottom = -_live.nice_ceiling(-1.05 * lo) if lo < 0 else 0.0
    if top == bottom == 0.0:
        return -1.0, 1.0
    return (bottom or -0.05 * top), (top or -0.05 * bottom)


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

    small = pool.take(np.arange(min(batch, pool.n_episodes)))  # the sampled batch: the pool's first episodes

    # GAE's gradients are affine in the critic error c for a fixed gamma (pg.analysis.gae_error_line): one pass
    # per gamma (and per lambda off the curves' grid) gives every critic error at once
    def curves_at(gamma):
        mdp = base.with_gamma(gamma)
        return mdp, pg.analysis.gae_error_line(mdp, policy, theta, pg.evaluate(mdp, pi).V, e, LAMBDAS, pool, T)

    def at_lambda_at(lam, gamma):
        mdp, line = curves(gamma)
        on_grid = np.flatnonzero(np.isclose(LAMBDAS, lam))
        full = (line, int(on_grid[0])) if on_grid.size else \
            (pg.analysis.gae_error_line(mdp, policy, theta, line_V(gamma), e, [lam], pool, T), 0)
        return full, pg.analysis.gae_error_line(mdp, policy, theta, line_V(gamma), e, [lam], small, T)

    def line_V(gamma):
        return pg.evaluate(base.with_gamma(gamma), pi).V

    # thread-safe memos; after each update the values one slider step away are computed in the background
    curves_memo = Precomputed(curves_at, start=False)
    lambda_memo = Precomputed(at_lambda_at, start=False)
    gammas = tuple(sorted({*GAMMAS_07, round(float(gamma), 4)}))
    for g in gammas:  # every gamma of the control, now: a gamma move then computes nothing new
        curves_memo.get(g)

    def curves(gamma):
        return curves_memo.get(gamma)

    def at_lambda(lam, gamma, critic_error):
        (big, i), little = lambda_memo.get(lam, gamma)
        Eg, _, var, mean = big.at(critic_error)
        return Eg[i], float(var[i]), mean[i], little.at(critic_error)[3][0], big.n_episodes

    steps = np.array([0.05, 0.1])  # the sliders' steps: lambda, critic error (gamma: every choice is computed)
    last = [None]

    def one_step_away(*key):
        """The next values of the lambda or critic-error slider that just moved: one more step the same way,
        then one step back (a gamma move needs nothing ahead)."""
        prev, last[0] = last[0], np.array(key)
        if prev is None or prev[1] != last[0][1] or np.count_nonzero(prev != last[0]) != 1:
            return []
        moved = np.array([prev[0] != last[0][0], prev[2] != last[0][2]])
        d = np.sign(last[0][[0, 2]] - prev[[0, 2]]) * steps * moved
        out = [(round(last[0][0] + s * d[0], 4), last[0][1], round(last[0][2] + s * d[1], 4)) for s in (1, -1)]
        return [k for k in out if 0.0 <= k[0] <= 1.0 and 0.0 <= k[2] <= 2.0]

    def compute(lam, gamma, critic_error):
        key = (round(float(gamma), 4), round(float(critic_error), 4))
        lambda_memo.ahead(list(dict.fromkeys(k[:2] for k in one_step_away(round(float(lam), 4), *key))))
        line = curves(key[0])[1]
        _, bias2, var, _ = line.at(key[1])
        grad = line.grad
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
        # the axis labels stand apart, placed for the widest tick labels the stepped limits give (0.0125 ... 25;
        # -1.5 ... 3): never clipped nor covered whatever the data, and a redrawn Axis draws its ticks only
        _live.axis_label_apart(ax1.yaxis, widest="0.0000")
        _live.axis_label_apart(ax2.yaxis, widest="\u22120.75")
        # the y axes follow the data in nice steps (the data range changes ~4000-fold over gamma and the critic
        # error: a fixed axis would flatten most curves), so most moves keep them: then their pixels are pasted
        title = _live.title_of(ax1)
        title.set_text(f"GAE, batch {batch}:")
        chosen = _live.suffix_text(title)
        groups = [_live.CachedGroup([ax1.yaxis], cover=[ax1, ax1.yaxis]),
                  _live.CachedGroup([ax2.yaxis], cover=[ax2, ax2.yaxis]), _live.CachedGroup([chosen])]

        def update(r):
            lam, gamma, critic_error, grad, Eg_lam, v_lam = r["lam"], r["gamma"], r["critic_error"], r["grad"], \
                r["Eg"], r["v"]
            b2, bias2, var = r["b2"], r["bias2"], r["var"] / batch
            b_line.set_ydata(bias2)
            v_line.set_ydata(var)
            mse_line.set_ydata(bias2 + var)
            now_line.set_xdata([lam, lam])
            star.set_data([lam], [b2 + v_lam / batch])
            ax1.set_ylim(*_stepped_limits(0.0, max(float(np.max(bias2 + var)), b2 + v_lam / batch)))
            chosen.set_text(f"gamma = {gamma:.2f}, critic error {critic_error:.2f}")
            ref, mid, smp = ax2.lines[:3]
            ref.set_ydata(np.ravel(grad))
            mid.set_ydata(np.ravel(Eg_lam))
            smp.set_ydata(np.ravel(r["g_small"]))
            shown = np.concatenate([np.ravel(grad), np.ravel(Eg_lam), np.ravel(r["g_small"])])
            ax2.set_ylim(*_stepped_limits(min(float(shown.min()), 0.0), max(float(shown.max()), 0.0)))
            for g, key in zip(groups, (ax1.get_ylim(), ax2.get_ylim(), chosen.get_text()), strict=True):
                g.set_key(key)
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
        return update, [*groups, *ax1.lines, *ax2.lines]  # the groups first: they paste whole regions

    def controls():
        return {"lam": slider("lambda", 0.9, 0.0, 1.0, 0.05),
                "gamma": slider("gamma", round(float(gamma), 4), None, None, kind="choice", options=gammas),
                "critic_error": slider("critic error", 0.5, 0.0, 2.0, 0.1)}

    def alt(p):
        return (f"Left: against lambda from 0 (TD) to 1 (Monte Carlo), the exact squared bias, the measured variance "
                f"of a {batch}-episode batch and their sum, the MSE, with lambda = {p['lam']:.2f} marked (gamma "
                f"{p['gamma']:.2f}, critic error {p['critic_error']:.2f}). Right: gradient components of grad U, the "
                f"exact expected GAE gradient and a sampled one.")

    return Explorer(compute, {"lam": lam, "gamma": gamma, "critic_error": critic_error}, controls,
                    title="GAE: exact bias and measured variance vs lambda", alt=alt, draw=draw)
