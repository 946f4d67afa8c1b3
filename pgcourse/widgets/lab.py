"""Explorer of notebook 08: the estimator lab on FrozenLake (every estimator scored against the exact gradient)."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, axes, cached, dropdown, register, slider

BATCH_SIZES_08 = (10, 30, 100, 300, 1000)


@register("08_putting_it_together")
def estimator_lab_explorer(estimator: str = "GAE(0.95)", n_episodes: int = 100, extra=None, lab=None,
                           scores=None) -> Explorer:
    """Pick an estimator and a batch size n: cosine similarity with the exact gradient vs n for every estimator
    (the chosen one highlighted), and the chosen estimate's components against the exact ones.
    extra: optional {name: estimator(episodes, V, gamma) -> (N, T)} added to pg.BUILTIN_ESTIMATORS (a
    student's). lab: a pg.frozen_lake_lab() dict to reuse; scores: pg.EstimatorScores already computed on
    lab's episodes (with batch sizes (10, 30, 100, 300, 1000) or more) to reuse instead of recomputing."""
    lab = pg.frozen_lake_lab() if lab is None else lab
    ests = dict(pg.BUILTIN_ESTIMATORS, **(extra or {}))
    names = list(ests)
    if estimator not in ests:
        raise ValueError(f"estimator must be one of {names}, got {estimator!r}")
    scores = {sc.name: sc for sc in (scores or [])}
    exact = {}

    def exact_bias(name):
        if name not in exact:
            Eg = pg.builtin_expectation(name, lab["mdp"], lab["policy"], lab["theta"], lab["V_td"], lab["horizon"])
            exact[name] = None if Eg is None else float(np.linalg.norm(Eg - lab["grad"]))
        return exact[name]

    def get(name):
        if name not in scores:
            scores[name] = pg.score_estimator(name, ests[name], lab["policy"], lab["theta"], lab["episodes"],
                                              lab["V_td"], lab["mdp"].gamma, lab["grad"], BATCH_SIZES_08)
        return scores[name]

    @cached(maxsize=256)
    def compute(estimator, n_episodes):
        sc = get(estimator)
        return {"estimator": estimator, "n": n_episodes, "sc": sc, "all": [get(n) for n in names],
                "eb": exact_bias(estimator), "g_n": sc.samples[:n_episodes].mean(axis=0)}

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2)
        pgp.cosine_vs_n(ax1, r["all"], highlight=None, current=r["n"], title="cosine(estimate, exact grad U); thick:")
        # the legends name the series once and the titles never change (text is the costly part of a redraw):
        # the chosen estimator is the thick line, named by one short text after the left title
        chosen = _live.suffix_text(_live.title_of(ax1), r["estimator"])
        curves, now = ax1.lines[:len(names)], ax1.lines[len(names)]
        lo, hi = ax1.get_xlim()
        ax1.set_xlim(min(lo, 9.0), max(hi, 5500.0))  # the slider's whole range (10 to 5000)
        grad = lab["grad"]
        pgp.component_scatter(ax2, grad, {"the first n episodes": r["g_n"],
                                          f"all {len(r['sc'].samples)} episodes": r["sc"].mean},
                              title="chosen estimator: estimate vs exact, per component")
        # the y range follows the estimates (~6x wider at n = 50 than at 5000) in round steps, and the y axis is
        # redrawn only when they change (tick labels are the costly part of a redraw); its label stays put
        _live.axis_label_apart(ax2.yaxis, widest="\u22120.000")
        yframe = _live.CachedGroup([ax2.yaxis], cover=[ax2.yaxis, ax2.spines["left"]])
        first, mean, diag = ax2.lines
        x = np.ravel(grad)

        def update(r):
            estimator, n_episodes, sc, g_n, eb = r["estimator"], r["n"], r["sc"], r["g_n"], r["eb"]
            for line, name in zip(curves, names, strict=True):
                line.set_linewidth(3.0 if name == estimator else 1.2)
            chosen.set_text(estimator)
            now.set_xdata([n_episodes, n_episodes])
            first.set_ydata(np.ravel(g_n))
            mean.set_ydata(np.ravel(sc.mean))
            lo, hi = _live.data_range(x, g_n, sc.mean, pad=0.0)
            diag.set_data([lo, hi], [lo, hi])
            ylim = _live.tick_limits(*_live.data_range(x, g_n, sc.mean, pad=0.02), per_tick=2)
            ax2.set_ylim(*ylim)
            yframe.set_key(ylim)
            eb_txt = f"{eb:.4f}" if eb is not None else "n/a (no exact expression for this estimator)"
            return (f"{estimator}  (critic: TD(0) from 200 episodes)\n"
                    f"exact   |grad U| = {np.linalg.norm(grad):.4f}   exact |E[g] - grad U| = {eb_txt}\n"
                    f"sampled |bias| = {sc.bias_norm:.4f} (noise floor {sc.noise_floor:.4f})   variance per episode = "
                    f"{sc.variance:.4f}\n"
                    f"first {n_episodes} episodes: |g - grad U| = {np.linalg.norm(g_n - grad):.4f}   cos = "
                    f"{pg.cosine(g_n, grad):.4f}   expected |error|^2 ~ bias^2 + var/n = "
                    f"{sc.bias_norm ** 2 + sc.variance / n_episodes:.4f}")
        moving = [yframe, *curves, now, chosen, first, mean, diag]
        return update, moving

    def controls():
        return {"estimator": dropdown("estimator", names, estimator),
                "n_episodes": slider("n episodes", n_episodes, 10, 5000, kind="log")}

    def alt(p):
        return (f"Left: mean cosine similarity between each estimator's n-episode estimate and the exact gradient "
                f"against n on a log axis, {p['estimator']} highlighted, n = {p['n_episodes']} marked. Right: the "
                f"components of {p['estimator']}'s estimates against the exact gradient's, with the line y = x.")

    return Explorer(compute, {"estimator": estimator, "n_episodes": n_episodes}, controls,
                    title="Estimator lab: sampled gradient estimates vs the exact gradient (FrozenLake)", alt=alt,
                    draw=draw)
