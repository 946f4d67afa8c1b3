"""Explorer of notebook 02: the exact policy gradient beside score-times-return estimates."""
from __future__ import annotations

import numpy as np

import pgcourse as pg

from . import _live
from ._explorer import Explorer, Precomputed, axes, cached, register, slider


@register("02_policy_gradient_theorem")
def gradient_explorer(theta_scale=1.0, n_episodes=10000, seed=0) -> Explorer:
    """Exact gradient (pg.policy_gradient) beside the sampled score-times-return estimate (the mean of the
    per-episode estimates pg.per_episode_gradients with G_t, i.e. pg.reinforce_gradient) at
    theta = theta_scale * direction (pg.gradient_demo_problem), per component, with bars mean +- 1.96 s.e.,
    the s.e. from the N per-episode estimates (pg.mean_se: every episode is its own batch), the largest
    |z| = |mean - exact| / s.e. over the components (pg.z_scores) and the cosine similarity (pg.cosine).
    One batch of N_max = 10000 episodes and its per-episode estimates are computed at load for every value of
    the theta slider; the first n_episodes are used. The y axis is fixed over every theta and N (so a move
    redraws the bars only); theta and N are printed in the summary."""
    mdp, policy, direction = pg.gradient_demo_problem()
    n_max, horizon = 10000, 100
    live = np.flatnonzero(~mdp.terminal)
    labels = [f"s{s},a{a}" for s in live for a in range(mdp.A)]

    def per_episode_at(scale):
        ep = pg.sample_episodes(mdp, policy.probs(scale * direction), n_max, horizon, np.random.default_rng(seed))
        G = pg.discounted_returns(ep.rewards, mdp.gamma, ep.mask)
        return pg.per_episode_gradients(policy, scale * direction, ep, G, mdp.gamma)

    # every value of the theta slider, computed at load (a move then only slices the first N)
    scales = [round(float(v), 6) for v in np.arange(-2.0, 2.001, 0.25)]
    if round(float(theta_scale), 6) not in scales:
        scales.append(round(float(theta_scale), 6))
    batches = Precomputed(per_episode_at, start=False, known={(v,): per_episode_at(v) for v in scales})
    n_min = 100

    @cached(maxsize=256)
    def compute(theta_scale, n_episodes):
        theta = theta_scale * direction
        exact = pg.policy_gradient(mdp, policy, theta)
        n = int(n_episodes)
        parts = batches.get(round(float(theta_scale), 6))[:n]
        est, se = pg.mean_se(parts)
        z = np.abs(pg.z_scores(parts[:, live], exact[live]))
        return {"exact": exact, "est": est, "se": se, "z": z, "n": n, "theta_scale": theta_scale,
                "rel": float(np.linalg.norm(est - exact) / np.linalg.norm(exact)), "cos": pg.cosine(exact, est),
                "norm_exact": np.linalg.norm(exact), "norm_est": np.linalg.norm(est)}

    def extent(v):
        """The range of the bars at theta_scale v over every N from n_min to n_max: the exact gradient and the
        running mean +- 1.96 s.e. (pg.running_mean_se per component; its ddof-0 s.e. times sqrt(n / (n - 1)) is
        pg.mean_se's)."""
        parts = batches.get(v)[:, live].reshape(n_max, -1)
        out = [np.ravel(pg.policy_gradient(mdp, policy, v * direction)[live]), [0.0]]
        for k in range(parts.shape[1]):
            n, m, se = pg.running_mean_se(parts[:, k])
            se = (se * np.sqrt(n / np.maximum(n - 1, 1)))[n_min - 1:]
            out += [m[n_min - 1:] - 1.96 * se, m[n_min - 1:] + 1.96 * se]
        return np.concatenate(out)

    # the y axis: fixed over every theta and N (the gradients at different theta on one scale)
    ylim = _live.data_range(*[extent(v) for v in scales])

    def draw(fig, r):
        ax = axes(fig)
        bars = _live.LiveGradientBars(ax, r["exact"][live], r["est"][live], r["se"][live], labels,
                                      title="exact vs sampled gradient, per component")

        def update(r):
            bars.update(r["exact"][live], r["est"][live], r["se"][live])
            ax.set_ylim(*ylim)  # fixed (bars.update fits it to the data)
            n, z = r["n"], r["z"]
            return (f"theta = {r['theta_scale']:.2f} * direction   N = {n} episodes\n"
                    f"exact    |grad U| = {r['norm_exact']:.4f}\n"
                    f"sampled  |g_hat|  = {r['norm_est']:.4f}   cosine(exact, sampled) = {r['cos']:.3f}\n"
                    f"relative error |g_hat - grad U| / |grad U| = {r['rel']:.3f}  (N = {n})\n"
                    f"bars: mean +- 1.96 s.e. over the N per-episode estimates; "
                    f"max |z| over the {z.size} components = {z.max():.2f}")
        return update, bars.artists[1:]  # not the y axis: fixed

    def controls():
        return {"theta_scale": slider("theta scale", theta_scale, -2.0, 2.0, 0.25),
                "n_episodes": slider("episodes N", n_episodes, n_min, n_max, kind="log")}

    def alt(p):
        return (f"Bar chart per gradient component (s, a): exact dU/dtheta beside the sampled estimate from "
                f"{int(p['n_episodes'])} episodes with bars of mean +- 1.96 standard errors, "
                f"theta = {p['theta_scale']:.2f} * direction.")

    return Explorer(compute, {"theta_scale": theta_scale, "n_episodes": n_episodes}, controls,
                    title="Score-times-return estimates vs the exact gradient", alt=alt, draw=draw)
