"""Explorers of notebooks 00 (gridworld: exact V beside sampled returns) and 01 (d^pi beside sampled
visitation frequencies)."""
from __future__ import annotations

from dataclasses import fields

import matplotlib as mpl
import numpy as np

import pgcourse as pg

from . import _live
from ._explorer import Explorer, axes, cached, register, slider


def _trimmed(episodes: pg.Episodes) -> pg.Episodes:
    """The same batch cut after the longest episode's last step: every step after it is padding (mask 0), and
    an episode that ran to the horizon keeps it whole. ~4x less to keep and for the estimators to read."""
    T = int(episodes.lengths.max())
    return pg.Episodes(*(getattr(episodes, f.name)[:, :T].copy() for f in fields(episodes)))


def _head(episodes: pg.Episodes, n: int) -> pg.Episodes:
    """episodes.head(n) as views (head copies every field)."""
    return pg.Episodes(*(getattr(episodes, f.name)[:n] for f in fields(episodes)))


@register("00_welcome_mdps")
def gridworld_explorer(gamma=0.95, slip=0.1, n_episodes=1000, seed=0) -> Explorer:
    """Gridworld: exact V (heatmap + policy arrows) beside the running mean of sampled returns G_0 from the
    start, which must settle on the exact V(start) = U. Episodes are sampled once per slip value
    (N_max = 5000, horizon 100, seeded) and the first n_episodes are used."""
    pi = pg.demo_grid_policy()
    n_max, horizon = 5000, 100

    def sample(slip):
        """What compute reads of the batch (rewards, mask), kept small: < 2 MB per slip, not 21 MB."""
        mdp = pg.gridworld(gamma=0.9, slip=slip)
        ep = _trimmed(pg.sample_episodes(mdp, pi, n_max, horizon, np.random.default_rng(seed)))
        rewards = ep.rewards.astype(np.float32)
        if not np.array_equal(rewards, ep.rewards):  # exact in float32 (the rewards are -1, 0, 1): else keep
            rewards = ep.rewards
        return rewards, ep.mask.astype(bool)

    # every slip of the slider (0 to 0.5 by 0.05), sampled at load (~25 ms each): a slip move computes only V
    # and the returns
    batches = {v: sample(v) for v in (round(0.05 * i, 6) for i in range(11))}

    def batch(slip):
        if slip not in batches:  # a slip off the slider's grid (a call from code)
            batches[slip] = sample(slip)
        return batches[slip]

    @cached(maxsize=256)
    def compute(gamma, slip, n_episodes):
        mdp = pg.gridworld(gamma=gamma, slip=slip)
        ev = pg.evaluate(mdp, pi)
        rewards, mask = batch(round(float(slip), 6))
        n = int(n_episodes)
        if not 1 <= n <= n_max:
            raise ValueError(f"n_episodes must be in 1..{n_max}, got {n_episodes}")
        rewards, mask = rewards[:n].astype(float), mask[:n].astype(float)  # = batch.head(n).rewards, .mask
        G0 = pg.discounted_returns(rewards, gamma, mask)[:, 0]
        m, se = pg.mean_se(G0)
        return {"mdp": mdp, "V": ev.V, "U": ev.U, "mean": m, "se": se, "N": G0.size,
                "length": mask.sum(axis=1).astype(int).mean(), "running": pg.running_mean_se(G0, n_points=120),
                "gamma": gamma, "slip": slip}

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2, width_ratios=[1, 1.35])
        # one colour scale for every gamma and slip: the rewards are -1 (pit) and +1 (goal), so |V| <= 1; the
        # title does not move (gamma and slip are on the sliders and in the summary)
        heat = _live.LiveHeatmap(ax1, r["mdp"], r["V"], pi=pi, label="V(s)", text_dy=-0.3,
                                 title="exact $V^\\pi$ and $\\pi$", vmin=-1.0, vmax=1.0)
        # V moves with gamma and slip only: an N move blits the heatmap back instead of redrawing its texts, and a
        # gamma or slip move redraws the texts of the cells whose printed value changed
        cells = _live.CachedGroup([_live.CachedCells(heat)], cover=[ax1])
        curve = _live.LiveRunningMean(ax2, *r["running"], r["U"], label="mean of sampled G_0",
                                      ylabel="return from the start", title="sampled returns vs exact V(start)",
                                      xlim=(1, n_max), ylim=(-1.1, 1.1))  # every return is in [-1, 1]

        def update(r):
            key = (r["gamma"], r["slip"])
            if key != cells.key:
                heat.update(r["V"])
                cells.set_key(key)
            curve.update(*r["running"], r["U"])
            return (f"exact    V(start) = {r['U']:.4f}   (gamma = {r['gamma']:.2f}, slip = {r['slip']:.2f})\n"
                    f"sampled  mean G_0 = {r['mean']:.4f} +- {r['se']:.4f}  (N = {r['N']}, "
                    f"mean episode length {r['length']:.2f})")
        return update, [cells, *curve.artists]

    def controls():
        return {"gamma": slider("gamma", gamma, 0.5, 0.99, 0.01),
                "slip": slider("slip", slip, 0.0, 0.5, 0.05),
                "n_episodes": slider("episodes N", n_episodes, 10, n_max, kind="log")}

    def alt(p):
        return (f"Left: gridworld heatmap of the exact values V with the policy as arrows (gamma {p['gamma']:.2f}, "
                f"slip {p['slip']:.2f}). Right: running mean of {int(p['n_episodes'])} sampled returns G_0 with a "
                f"95% band, settling on the dashed line of the exact V(start).")

    return Explorer(compute, {"gamma": gamma, "slip": slip, "n_episodes": n_episodes}, controls,
                    title="Exact V beside sampled returns", alt=alt, draw=draw)


@register("01_objective_and_dpi")
def dpi_explorer(gamma=0.9, n_episodes=2000, seed=0) -> Explorer:
    """Gridworld: exact d^pi beside sampled discounted visitation frequencies (pg.visitation_frequencies) of
    the first n_episodes of one pre-sampled batch (N_max = 20000, horizon 120; the dynamics do not depend on
    gamma, so one batch serves every gamma). Prints the total-variation distance
    TV = 1/2 sum_s |d(s) - d_hat(s)| (pg.total_variation)."""
    pi = pg.demo_grid_policy()
    n_max, horizon = 20000, 120
    base = pg.gridworld()
    episodes = _trimmed(pg.sample_episodes(base, pi, n_max, horizon, np.random.default_rng(seed)))

    @cached(maxsize=256)
    def compute(gamma, n_episodes):
        mdp = base.with_gamma(gamma)
        d = pg.evaluate(mdp, pi).d
        n = int(n_episodes)
        if not 1 <= n <= n_max:
            raise ValueError(f"n_episodes must be in 1..{n_max}, got {n_episodes}")
        d_hat = pg.visitation_frequencies(_head(episodes, n), mdp.S, gamma)
        return {"mdp": mdp, "d": d, "d_hat": d_hat, "tv": pg.total_variation(d, d_hat), "gamma": gamma,
                "N": n, "vmax": float(max(np.max(d), np.max(d_hat)))}

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2)
        exact = _live.LiveHeatmap(ax1, r["mdp"], r["d"], fmt="{:.3f}", vmin=0.0, colorbar=False,
                                  title="exact $d^\\pi$")
        sampled = _live.LiveHeatmap(ax2, r["mdp"], r["d_hat"], fmt="{:.3f}", vmin=0.0, colorbar=False,
                                    title="sampled frequencies, N =")
        ax2.set_ylabel("")
        cb = fig.colorbar(exact.im, ax=[ax1, ax2], fraction=0.03, pad=0.02)
        cb.set_label("discounted state frequency")
        s0 = int(np.argmax(r["mdp"].mu))
        # what moves with what: d with gamma, d_hat with gamma and N, the title with N, the colour scale (one
        # for both panels, a nice number at most a third above the largest frequency) now and then. A group
        # whose key did not change is blitted back instead of redrawn; in a heatmap that is redrawn only the
        # cells whose printed value changed are drawn again (CachedCells).
        title = _live.title_of(ax2)
        # the title's N, right after it: only its digits move (on the figure, not among the Axes' cell texts)
        count = fig.add_artist(mpl.text.Annotation("", xy=(1.0, 0.0), xycoords=title, xytext=(3.0, 0.0),
                                                   textcoords="offset points", ha="left", va="bottom",
                                                   fontproperties=title.get_fontproperties(),
                                                   color=title.get_color()))
        left = _live.CachedGroup([_live.CachedCells(exact)], cover=[ax1])
        right = _live.CachedCells(sampled)
        heading = _live.CachedGroup([count])
        scale = _live.CachedGroup([cb.long_axis], cover=[cb.ax, cb.long_axis])

        def update(r):
            vmax = _live.nice_ceiling(r["vmax"])
            if (r["gamma"], vmax) != left.key:
                exact.update(r["d"], vmax=vmax)
                left.set_key((r["gamma"], vmax))
            sampled.update(r["d_hat"], vmax=vmax)
            count.set_text(f"{r['N']}")
            heading.set_key(r["N"])
            scale.set_key(vmax)
            return (f"exact    d(start) = {r['d'][s0]:.4f}   sampled  d(start) = {r['d_hat'][s0]:.4f}\n"
                    f"total variation distance 1/2 sum |d - d_hat| = {r['tv']:.4f}  "
                    f"(gamma = {r['gamma']:.2f}, N = {r['N']})")
        return update, [left, heading, scale, right]  # the groups first (CachedGroup)

    def controls():
        return {"gamma": slider("gamma", gamma, 0.0, 0.99, 0.01),
                "n_episodes": slider("episodes N", n_episodes, 10, n_max, kind="log")}

    def alt(p):
        return (f"Two gridworld heatmaps on one colour scale: the exact discounted state distribution d^pi and the "
                f"sampled visitation frequencies of {int(p['n_episodes'])} episodes, gamma {p['gamma']:.2f}.")

    return Explorer(compute, {"gamma": gamma, "n_episodes": n_episodes}, controls,
                    title="Sampled discounted visitation frequencies converge to d^pi", alt=alt, draw=draw)
