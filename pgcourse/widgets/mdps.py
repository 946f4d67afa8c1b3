"""Explorers of notebooks 00 (gridworld: exact V beside sampled returns) and 01 (d^pi beside sampled
visitation frequencies)."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from ._explorer import Explorer, axes, cached, register, slider


@register("00_welcome_mdps")
def gridworld_explorer(gamma=0.95, slip=0.1, n_episodes=1000, seed=0) -> Explorer:
    """Gridworld: exact V (heatmap + policy arrows) beside the running mean of sampled returns G_0 from the
    start, which must settle on the exact V(start) = U. Episodes are sampled once per slip value
    (N_max = 5000, horizon 100, seeded) and the first n_episodes are used."""
    pi = pg.demo_grid_policy()
    n_max, horizon = 5000, 100

    @cached
    def batch(slip):
        mdp = pg.gridworld(gamma=0.9, slip=slip)
        return pg.sample_episodes(mdp, pi, n_max, horizon, np.random.default_rng(seed))

    def compute(fig, gamma, slip, n_episodes):
        mdp = pg.gridworld(gamma=gamma, slip=slip)
        ev = pg.evaluate(mdp, pi)
        ep = batch(round(float(slip), 6)).head(int(n_episodes))
        G0 = pg.discounted_returns(ep.rewards, gamma, ep.mask)[:, 0]
        m, se = pg.mean_se(G0)
        ax1, ax2 = axes(fig, 2, width_ratios=[1, 1.35])
        pgp.value_policy_heatmap(ax1, mdp, ev.V, pi, title=f"exact V, gamma = {gamma:.2f}, slip = {slip:.2f}")
        pgp.running_mean(ax2, *pg.running_mean_se(G0, n_points=120), ev.U, label="mean of sampled G_0",
                         ylabel="return from the start", title="sampled returns vs exact V(start)")
        return (f"exact    V(start) = {ev.U:.4f}\n"
                f"sampled  mean G_0 = {m:.4f} +- {se:.4f}  (N = {G0.size}, "
                f"mean episode length {ep.lengths.mean():.2f})")

    def controls():
        return {"gamma": slider("gamma", gamma, 0.5, 0.99, 0.01),
                "slip": slider("slip", slip, 0.0, 0.5, 0.05),
                "n_episodes": slider("episodes N", n_episodes, 10, n_max, kind="log")}

    def alt(p):
        return (f"Left: gridworld heatmap of the exact values V with the policy as arrows (gamma {p['gamma']:.2f}, "
                f"slip {p['slip']:.2f}). Right: running mean of {int(p['n_episodes'])} sampled returns G_0 with a "
                f"95% band, settling on the dashed line of the exact V(start).")

    return Explorer(compute, {"gamma": gamma, "slip": slip, "n_episodes": n_episodes}, controls,
                    title="Exact V beside sampled returns", alt=alt)


@register("01_objective_and_dpi")
def dpi_explorer(gamma=0.9, n_episodes=2000, seed=0) -> Explorer:
    """Gridworld: exact d^pi beside sampled discounted visitation frequencies (pg.visitation_frequencies) of
    the first n_episodes of one pre-sampled batch (N_max = 20000, horizon 120; the dynamics do not depend on
    gamma, so one batch serves every gamma). Prints the total-variation distance
    TV = 1/2 sum_s |d(s) - d_hat(s)| (pg.total_variation)."""
    pi = pg.demo_grid_policy()
    n_max, horizon = 20000, 120
    base = pg.gridworld()
    episodes = pg.sample_episodes(base, pi, n_max, horizon, np.random.default_rng(seed))

    def compute(fig, gamma, n_episodes):
        mdp = base.with_gamma(gamma)
        d = pg.evaluate(mdp, pi).d
        d_hat = pg.visitation_frequencies(episodes.head(int(n_episodes)), mdp.S, gamma)
        pgp.visitation_pair(fig, mdp, d, d_hat, int(n_episodes))
        tv = pg.total_variation(d, d_hat)
        s0 = int(np.argmax(mdp.mu))
        return (f"exact    d(start) = {d[s0]:.4f}   sampled  d(start) = {d_hat[s0]:.4f}\n"
                f"total variation distance 1/2 sum |d - d_hat| = {tv:.4f}  "
                f"(gamma = {gamma:.2f}, N = {int(n_episodes)})")

    def controls():
        return {"gamma": slider("gamma", gamma, 0.0, 0.99, 0.01),
                "n_episodes": slider("episodes N", n_episodes, 10, n_max, kind="log")}

    def alt(p):
        return (f"Two gridworld heatmaps on one colour scale: the exact discounted state distribution d^pi and the "
                f"sampled visitation frequencies of {int(p['n_episodes'])} episodes, gamma {p['gamma']:.2f}.")

    return Explorer(compute, {"gamma": gamma, "n_episodes": n_episodes}, controls,
                    title="Sampled discounted visitation frequencies converge to d^pi", alt=alt)
