"""Explorer of notebook 03: REINFORCE with a baseline, sampled beside the exact gradient and the exact
expectation of the estimator."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from ._explorer import Explorer, axes, dropdown, register, slider

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

    def compute(fig, baseline="V(s)", n_episodes=1000):
        X = samples[baseline][:n_episodes]
        m, se = pg.mean_se(X)
        tr = pg.total_variance(X)
        tr_none = pg.total_variance(samples["none"][:n_episodes])
        ax1, ax2 = axes(fig, 2, width_ratios=(1.4, 1))
        pgp.gradient_components(ax1, exact, m, se, labels=labels, expected=expected[baseline],
                                title=f"REINFORCE, baseline {baseline}, N = {n_episodes}")
        pgp.estimate_histogram(ax2, X[:, j], exact=exact[j], expected=expected[baseline][j],
                               xlabel=f"per-episode estimate of component {labels[j]}",
                               title=f"one component, {labels[j]}")
        bias = expected[baseline] - exact
        seen = se > 0  # a component whose state no episode of the first N visited has s.e. 0: skip it
        z = np.abs(m - expected[baseline])[seen] / se[seen]
        return "\n".join([
            f"baseline {baseline:8s}  N = {n_episodes} episodes (the first N of {n_max}, seed 0)",
            (f"component {labels[j]}:  exact grad U = {exact[j]:.4f}   E[estimator] = {expected[baseline][j]:.4f}"
             f"   sampled = {m[j]:.3f} +- {se[j]:.3f}"),
            f"exact bias  max_k |E[estimator] - grad U| = {np.abs(bias).max():.4f}",
            f"sampled     max_k |mean - E[estimator]| / s.e. = {z.max():.2f}"
            + ("" if seen.all() else f"   ({int((~seen).sum())} components never sampled)"),
            (f"variance    trace Cov(per-episode estimate) = {tr:.3f}   (no baseline: {tr_none:.3f},"
             f" ratio {tr / tr_none:.3f})"),
        ])

    def controls():
        return {"baseline": dropdown("baseline", BASELINES_03, "V(s)"),
                "n_episodes": slider("N episodes", 1000, 20, n_max, kind="log")}

    def alt(p):
        return (f"Left: per component (s, a), the exact gradient as bars, the exact expectation of REINFORCE with "
                f"baseline {p['baseline']} as diamonds and the sampled mean of {p['n_episodes']} episodes with "
                f"error bars. Right: histogram of the per-episode estimates of component {labels[j]}.")

    ex = Explorer(compute, {"baseline": "V(s)", "n_episodes": 1000}, controls,
                  title="REINFORCE with a baseline: sampled vs exact", alt=alt)
    ex.data = {"mdp": mdp, "policy": policy, "theta": theta, "samples": samples, "expected": expected,
               "exact": exact, "var_none": var_none}
    return ex
