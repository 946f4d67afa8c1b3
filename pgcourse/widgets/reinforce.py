"""Explorer of notebook 05: REINFORCE learning curves (exact U of the iterates) beside exact gradient ascent."""
from __future__ import annotations

import functools

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, Precomputed, axes, cached, register, slider, toggle

N_CHOICES_05 = (1, 2, 5, 10, 20, 50)


def _problem_05():
    """Notebook 05's gridworld and tabular softmax policy."""
    mdp = pg.gridworld(step_reward=-0.02)
    return mdp, pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)


def _curves_05(lr: float, n_iters: int, horizon: int, seeds: tuple, n: int, baseline: bool) -> np.ndarray:
    """(len(seeds), n_iters + 1) exact-U curves of REINFORCE (with b = V if baseline) from theta = 0, N = n
    episodes per iteration, one run per seed (module level: the background process runs it too)."""
    mdp, policy = _problem_05()
    method = "reinforce_baseline" if baseline else "reinforce"
    return np.array([pg.train(mdp, policy, policy.zeros(), method=method, lr=lr, n_iters=n_iters, n_episodes=n,
                              horizon=horizon, rng=np.random.default_rng(s), critic="exact").U for s in seeds])


@register("05_monte_carlo_reinforce")
def reinforce_explorer(lr: float = 5.0, n_iters: int = 100, seeds=(0, 1, 2), horizon: int = 100,
                       runs: dict | None = None) -> Explorer:
    """Learning curves (exact U of the iterates) of REINFORCE, with or without the baseline b = V (an exact
    critic), for N episodes per iteration, beside exact gradient ascent with the same learning rate, on
    gridworld(step_reward=-0.02).

    The curves are computed by `pg.train` once per (N, baseline) pair: the factory computes every pair one
    control away from the default (N = 10, baseline on), the others are computed in the background.
    runs: optional {(N, baseline): (len(seeds), n_iters + 1) exact-U curves} already computed by the caller with
    exactly these settings (pg.train(..., lr, n_iters, n_episodes=N, horizon, rng=np.random.default_rng(s),
    critic="exact") for s in seeds), to fill the cache instead of recomputing them."""
    mdp, policy = _problem_05()
    theta0 = policy.zeros()
    u_star = float(mdp.mu @ pg.optimal_values(mdp)[0])
    exact_U = pg.train(mdp, policy, theta0, method="exact", lr=lr, n_iters=n_iters).U
    cache = {}
    for (n, baseline), U in (runs or {}).items():
        U = np.asarray(U, dtype=float)
        if U.shape != (len(seeds), n_iters + 1):
            raise ValueError(f"runs[{(n, baseline)}] must have shape {(len(seeds), n_iters + 1)}, got {U.shape}")
        cache[(int(n), bool(baseline))] = U

    run = functools.partial(_curves_05, lr, n_iters, horizon, tuple(seeds))

    # Every pair one control away from the default view (N = 10 with the baseline) is computed now, at load
    # (~5 s: pg.train's sampler costs ~2 ms per step, and N = 1 runs the longest episodes), so the first move
    # of either control finds its curves ready; the other pairs follow in the background, nearest N first.
    one_move = [(n, True) for n in N_CHOICES_05] + [(10, False)]
    for key in one_move:
        if key not in cache:
            cache[key] = run(*key)
    rest = sorted(((n, False) for n in N_CHOICES_05), key=lambda k: abs(N_CHOICES_05.index(k[0]) - 3))
    rest = [k for k in rest if k not in cache]
    # The background (~5 s, a pg.train run of ~1 s per pair) runs in a low-priority process of its own, started
    # at the first refresh: a thread of the kernel would take half the GIL from the moves made meanwhile.
    pool = Precomputed(run, rest, known=cache, start=False, process=True)
    started = []

    def curves(n, baseline):
        if not started:
            started.append(True)
            pool.ahead(rest)
        return pool.get(int(n), bool(baseline))

    @cached(maxsize=64)
    def compute(n_episodes=10, baseline=True):
        U = curves(n_episodes, baseline)
        k = [n_iters // 4, n_iters // 2, n_iters]
        return {"U": U, "n": n_episodes, "baseline": baseline, "k": k, "mean": U.mean(axis=0)}

    lo0 = min(float(exact_U.min()), float(u_star))
    span = float(u_star) - lo0

    def chosen(n_episodes, baseline):
        """The right panel's title after "REINFORCE with": the baseline and N (the part that changes)."""
        return f"b = {'V' if baseline else '0'}, N = {n_episodes}"

    n_max = max(N_CHOICES_05) * n_iters

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2, sharey=True)
        # the legends and axes never change (text is the costly part of a redraw): what was chosen is in the
        # right panel's title, whose changing part is a short text of its own; episodes used on a log axis fixed
        # for every N (iteration 0 uses none: not shown)
        label = "sampled"
        pgp.learning_curves(ax1, {"exact gradient": exact_U, label: r["U"]}, optimum=u_star,
                            title="exact U of the iterates")
        eps = np.arange(1, n_iters + 1) * r["n"]
        pgp.learning_curves(ax2, {label: r["U"][:, 1:]}, x=eps, optimum=u_star, xlabel="episodes used (log scale)",
                            title="REINFORCE with", first_color=1)
        ax2.set_xscale("log")
        ax2.set_xlim(1, n_max)
        runs1, runs2 = ax1.lines[1:1 + len(seeds)], ax2.lines[:len(seeds)]
        mean1, mean2 = ax1.lines[1 + len(seeds)], ax2.lines[len(seeds)]
        # one y range for every N and baseline (the runs start at U_0 = U(theta_0), exact ascent's lowest point)
        ax1.set_ylim(lo0 - 0.1 * span, float(u_star) + 0.05 * span)
        title2 = _live.suffix_text(_live.title_of(ax2), chosen(r["n"], r["baseline"]))
        moving = [*runs1, mean1, *runs2, mean2, title2]

        def update(r):
            U, n_episodes, baseline, k = r["U"], r["n"], r["baseline"], r["k"]
            name = "REINFORCE" + (" + baseline V" if baseline else "")
            eps = np.arange(1, n_iters + 1) * n_episodes
            for u, a, b in zip(U, runs1, runs2, strict=True):
                a.set_ydata(u)
                b.set_data(eps, u[1:])
            mean1.set_ydata(r["mean"])
            mean2.set_data(eps, r["mean"][1:])
            title2.set_text(chosen(n_episodes, baseline))
            return "\n".join([
                (f"{name}, N = {n_episodes} episodes / iteration, lr = {lr}, {len(seeds)} seeds; "
                 f"optimal U* = {u_star:.4f}"),
                "iteration            " + "".join(f"{i:>9d}" for i in k),
                "exact gradient  U    " + "".join(f"{exact_U[i]:9.4f}" for i in k),
                "sampled (mean)  U    " + "".join(f"{U[:, i].mean():9.4f}" for i in k),
                "sampled (min)   U    " + "".join(f"{U[:, i].min():9.4f}" for i in k),
                f"episodes used by iteration {n_iters}: {n_iters * n_episodes} (exact: none, it uses the model)",
                "(curves: pg.train runs, computed ahead when the explorer is built and in the background)",
            ])
        return update, moving

    def controls():
        return {"n_episodes": slider("N / iter", 10, None, None, kind="choice", options=N_CHOICES_05),
                "baseline": toggle("baseline b = V", True)}

    def alt(p):
        name = "REINFORCE" + (" with baseline V" if p["baseline"] else "")
        return (f"Left: exact U of the iterates against the iteration for exact gradient ascent and for {name} with "
                f"N = {p['n_episodes']} episodes per iteration ({len(seeds)} seeds), the optimum U* dashed. Right: "
                f"the same sampled curves against the number of episodes used, on a log scale.")

    ex = Explorer(compute, {"n_episodes": 10, "baseline": True}, controls,
                  title="REINFORCE learning curves vs exact gradient ascent", alt=alt, draw=draw)
    ex.data = {"mdp": mdp, "exact_U": exact_U, "u_star": u_star, "curves": curves}
    return ex
