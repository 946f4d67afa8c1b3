"""Explorer of notebook 03: REINFORCE with a baseline, sampled beside the exact gradient and the exact
expectation of the estimator."""
from __future__ import annotations

import numpy as np

import pgcourse as pg

from . import _live
from ._explorer import Explorer, axes, cached, dropdown, register, slider

BASELINES_03 = ("none", "constant 10", "V(s)", "Q(s,a)")


@register("03_baselines_advantage")
def baseline_explorer(seed: int = 3, shift: float = 1.0, n_max: int = 20000, horizon: int = 60) -> Explorer:
    """Sampled REINFORCE gradient with a baseline choice (none, constant b = 10, b = V(s), the action-dependent
    b = Q(s, a)) beside the exact gradient and the exact expectation of the estimator
    (effective horizon * pg.score_expectation(Q - b)).

    Precomputed once: the exact quantities and the per-episode estimates (pg.per_episode_gradients) of n_max
    episodes for every baseline (a slider takes the first N of them). The histogram of one component's
    per-episode estimates (as fractions of the N episodes) has bins and axes fixed over every baseline and N."""
    mdp = pg.reward_shifted(pg.random_mdp(5, 3, 0.9, np.random.default_rng(seed), n_terminal=1), shift)
    policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = np.random.default_rng(1).normal(size=(mdp.S, mdp.A))
    ev = pg.evaluate(mdp, policy.probs(theta))
    grad = pg.policy_gradient(mdp, policy, theta)
    live = np.flatnonzero(~mdp.terminal)
    B = {"none": np.zeros((mdp.S, mdp.A)), "constant 10": np.full((mdp.S, mdp.A), 10.0),
         "V(s)": np.repeat(ev.V[:, None], mdp.A, axis=1), "Q(s,a)": ev.Q}
    ep = pg.sample_episodes(mdp, ev.pi, n_max, horizon, np.random.default_rng(0))
    G = pg.discounted_returns(ep.rewards, mdp.gamma, ep.mask)
    samples, expected = {}, {}
    for name, b in B.items():
        g = pg.per_episode_gradients(policy, theta, ep, G - b[ep.states, ep.actions], mdp.gamma)
        samples[name] = g[:, live, :].reshape(n_max, -1)
        expected[name] = (ev.effective_horizon * pg.score_expectation(mdp, policy, theta, ev.Q - b))[live].ravel()
    exact = grad[live].ravel()
    labels = [f"({s},{a})" for s in live for a in range(mdp.A)]
    j = int(np.argmax(np.abs(exact)))  # the component shown in the histogram
    var_none = pg.total_variance(samples["none"])

    # the histogram's bins: fixed over the controls, spanning every baseline's 0.5-99.5 percentiles of the
    # component's n_max per-episode estimates (a shared axis shows how a baseline narrows the spread)
    spans = np.array([np.percentile(samples[name][:, j], (0.5, 99.5)) for name in B])
    edges = np.linspace(spans[:, 0].min(), spans[:, 1].max(), 121)

    @cached(maxsize=256)
    def compute(baseline="V(s)", n_episodes=1000):
        X = samples[baseline][:n_episodes]
        m, se = pg.mean_se(X)
        tr = pg.total_variance(X)
        tr_none = pg.total_variance(samples["none"][:n_episodes])
        seen = se > 0  # a component whose state no episode of the first N visited has s.e. 0: skip it
        x = X[:, j]
        counts, _ = np.histogram(x, bins=edges)
        return {"baseline": baseline, "n": n_episodes, "m": m, "se": se, "tr": tr, "tr_none": tr_none,
                "seen": seen, "z": np.abs(m - expected[baseline])[seen] / se[seen],
                "bias": expected[baseline] - exact, "frac": counts / n_episodes, "mean_j": x.mean()}

    # the histogram's height: the largest fraction of the first N episodes in one bin, over every baseline and
    # every N from n_min to n_max, so that its y axis is fixed too. In a bin, the fraction i / n after n episodes
    # peaks where the i-th estimate in it arrives (episode index p_i: n = p_i + 1), or at n = n_min
    n_min = 20

    def top_fraction(x):
        inside = (x >= edges[0]) & (x <= edges[-1])
        k = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)[inside]
        p = np.flatnonzero(inside)
        order = np.lexsort((p, k))
        k, p = k[order], p[order]
        i = np.arange(1, k.size + 1) - np.searchsorted(k, k, side="left")  # rank of the estimate in its bin
        late = p + 1 >= n_min
        first = np.bincount(k[p < n_min], minlength=edges.size - 1).max() / n_min
        return float(max(first, (i[late] / (p[late] + 1)).max()))

    y_hist = 1.05 * max(top_fraction(samples[name][:, j]) for name in B)

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2, width_ratios=(1.4, 1))
        comps = _live.LiveComponents(ax1, exact, r["m"], r["se"], labels=labels, expected=expected[r["baseline"]],
                                     title="REINFORCE, per component")
        hist = _live.LiveHistogram(ax2, r["frac"], edges, r["mean_j"], exact=exact[j],
                                   expected=expected[r["baseline"]][j],
                                   xlabel=f"per-episode estimate of component {labels[j]}",
                                   ylabel="fraction of the N episodes", title=f"one component, {labels[j]}")
        ax2.set_ylim(0.0, y_hist)

        def update(r):
            baseline, n_episodes, m, se, seen = r["baseline"], r["n"], r["m"], r["se"], r["seen"]
            comps.update(exact, m, se, expected[baseline])
            hist.update(r["frac"], edges, r["mean_j"], exact[j], expected[baseline][j])
            ax2.set_ylim(0.0, y_hist)  # fixed axes (hist.update would fit them to the data)
            tr, tr_none = r["tr"], r["tr_none"]
            return "\n".join([
                f"baseline {baseline:8s}  N = {n_episodes} episodes (the first N of {n_max}, seed 0)",
                (f"component {labels[j]}:  exact grad U = {exact[j]:.4f}   E[estimator] = {expected[baseline][j]:.4f}"
                 f"   sampled = {m[j]:.3f} +- {se[j]:.3f}"),
                f"exact bias  max_k |E[estimator] - grad U| = {np.abs(r['bias']).max():.4f}",
                f"sampled     max_k |mean - E[estimator]| / s.e. = {r['z'].max():.2f}"
                + ("" if seen.all() else f"   ({int((~seen).sum())} components never sampled)"),
                (f"variance    trace Cov(per-episode estimate) = {tr:.3f}   (no baseline: {tr_none:.3f},"
                 f" ratio {tr / tr_none:.3f})"),
            ])
        # the left panel's y axis follows the data (the error bars of N = 20 are ~5x those of N = 1000); the
        # titles, legends and the histogram's axes are fixed
        return update, [*comps.artists, hist.stairs, hist.mean, hist.exact, hist.expected]

    def controls():
        return {"baseline": dropdown("baseline", BASELINES_03, "V(s)"),
                "n_episodes": slider("N episodes", 1000, n_min, n_max, kind="log")}

    def alt(p):
        return (f"Left: per component (s, a), the exact gradient as bars, the exact expectation of REINFORCE with "
                f"baseline {p['baseline']} as diamonds and the sampled mean of {p['n_episodes']} episodes with "
                f"error bars. Right: histogram of the per-episode estimates of component {labels[j]}.")

    ex = Explorer(compute, {"baseline": "V(s)", "n_episodes": 1000}, controls,
                  title="REINFORCE with a baseline: sampled vs exact", alt=alt, draw=draw)
    ex.data = {"mdp": mdp, "policy": policy, "theta": theta, "samples": samples, "expected": expected,
               "exact": exact, "var_none": var_none}
    return ex
