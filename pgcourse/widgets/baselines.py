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
    episodes for every baseline (a slider takes the first N of them)."""
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

    @cached(maxsize=256)
    def compute(baseline="V(s)", n_episodes=1000):
        X = samples[baseline][:n_episodes]
        m, se = pg.mean_se(X)
        tr = pg.total_variance(X)
        tr_none = pg.total_variance(samples["none"][:n_episodes])
        seen = se > 0  # a component whose state no episode of the first N visited has s.e. 0: skip it
        x = X[:, j]
        lo, hi = np.percentile(x, (0.5, 99.5))  # the histogram's range (as pgp.estimate_histogram's)
        if hi <= lo:
            lo, hi = lo - 1.0, hi + 1.0
        counts, edges = np.histogram(x, bins=60, range=(lo, hi))
        return {"baseline": baseline, "n": n_episodes, "m": m, "se": se, "tr": tr, "tr_none": tr_none,
                "seen": seen, "z": np.abs(m - expected[baseline])[seen] / se[seen],
                "bias": expected[baseline] - exact, "counts": counts, "edges": edges, "mean_j": x.mean()}

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2, width_ratios=(1.4, 1))
        comps = _live.LiveComponents(ax1, exact, r["m"], r["se"], labels=labels, expected=expected[r["baseline"]],
                                   title=" ")
        hist = _live.LiveHistogram(ax2, r["counts"], r["edges"], r["mean_j"], exact=exact[j],
                                 expected=expected[r["baseline"]][j],
                                 xlabel=f"per-episode estimate of component {labels[j]}",
                                 title=f"one component, {labels[j]}")

        def update(r):
            baseline, n_episodes, m, se, seen = r["baseline"], r["n"], r["m"], r["se"], r["seen"]
            comps.update(exact, m, se, expected[baseline])
            _live.title_of(ax1).set_text(f"REINFORCE, baseline {baseline}, N = {n_episodes}")
            hist.update(r["counts"], r["edges"], r["mean_j"], exact[j], expected[baseline][j])
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
        return update, [*comps.artists, _live.title_of(ax1), *hist.artists]

    def controls():
        return {"baseline": dropdown("baseline", BASELINES_03, "V(s)"),
                "n_episodes": slider("N episodes", 1000, 20, n_max, kind="log")}

    def alt(p):
        return (f"Left: per component (s, a), the exact gradient as bars, the exact expectation of REINFORCE with "
                f"baseline {p['baseline']} as diamonds and the sampled mean of {p['n_episodes']} episodes with "
                f"error bars. Right: histogram of the per-episode estimates of component {labels[j]}.")

    ex = Explorer(compute, {"baseline": "V(s)", "n_episodes": 1000}, controls,
                  title="REINFORCE with a baseline: sampled vs exact", alt=alt, draw=draw)
    ex.data = {"mdp": mdp, "policy": policy, "theta": theta, "samples": samples, "expected": expected,
               "exact": exact, "var_none": var_none}
    return ex
