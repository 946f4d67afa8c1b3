"""Explorer of notebook 10: exact softmax PG against natural PG, with and without entropy regularisation,
on the hard-exploration chain (`pg.chain_mdp`). Views only: runs come from `pg.pg_iterates` /
`pg.npg_iterates` and `pg.objective_curve`, cached per (method, step size, tau)."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, Precomputed, axes, cached, dropdown, register, slider

C = pgp.OKABE_ITO  # the course's colour-blind-safe palette

METHODS_10 = ("softmax PG", "natural PG")
LRS_10 = (0.1, 0.3, 1.0, 3.0, 10.0)
TAUS_10 = (0.0, 0.01, 0.03, 0.1, 0.3)
N_ITERS_10 = 120
CHAIN_10 = dict(n=6, n_actions=3, gamma=0.9)


def _run_10(method: str, lr: float, tau: float):
    """(U_k, U_tau_k), each (N_ITERS_10 + 1,): exact objective and regularised objective of the iterates of
    `method` (softmax PG or natural PG) with step size lr and entropy weight tau, from theta = 0 on the chain
    (module level: the background process runs it too)."""
    mdp = pg.chain_mdp(**CHAIN_10)
    policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    it = pg.npg_iterates if method == "natural PG" else pg.pg_iterates
    thetas = it(mdp, policy, policy.zeros(), lr, N_ITERS_10, tau=tau)
    return pg.objective_curve(mdp, policy, thetas), pg.objective_curve(mdp, policy, thetas, tau=tau)


@register("10_convergence")
def convergence_explorer(method: str = "softmax PG", lr: float = 1.0, tau: float = 0.0) -> Explorer:
    """Pick the method, the step size and the entropy weight tau: exact U(theta_k) of the run beside the other
    method at the same settings (left), and the regularised sub-optimality U*_tau - U_tau(theta_k) on a log
    scale (right), from the uniform policy on a 6-state chain."""
    mdp = pg.chain_mdp(**CHAIN_10)
    policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    U_star = float(mdp.mu @ pg.optimal_values(mdp)[0])

    @cached(maxsize=16)
    def optimum(tau):
        if tau == 0.0:
            return U_star, U_star
        V, pi = pg.regularised_optimum(mdp, tau)
        return float(mdp.mu @ V), pg.evaluate(mdp, pi).U

    # every (method, lr, tau) of the controls: those one control away from the default view now, the rest in a
    # low-priority background process (a kernel thread would take half the GIL from the moves), nearest first
    def distance(k):
        if lr not in LRS_10 or tau not in TAUS_10:
            return 0
        return abs(LRS_10.index(k[1]) - LRS_10.index(lr)) + abs(TAUS_10.index(k[2]) - TAUS_10.index(tau))
    near = sorted(((m, float(a), float(t)) for m in METHODS_10 for a in LRS_10 for t in TAUS_10), key=distance)
    runs = Precomputed(_run_10, start=False)
    for key in near:  # every run one control away from the default view, now (~1 s)
        if (key[1] == float(lr)) + (key[2] == float(tau)) >= 1:
            runs.get(*key)
    runs = Precomputed(_run_10, [k for k in near if k not in runs], known=runs._done, process=True)

    def run(method, lr, tau):
        return runs.get(method, float(lr), float(tau))

    @cached(maxsize=128)
    def compute(method, lr, tau):
        lr, tau = float(lr), float(tau)
        other = METHODS_10[1 - METHODS_10.index(method)]
        U, U_tau = run(method, lr, tau)
        U_o, U_tau_o = run(other, lr, tau)
        U_tau_star, U_of_opt = optimum(tau)
        target = U[0] + 0.9 * (U_star - U[0])
        return {"method": method, "other": other, "lr": lr, "tau": tau, "U": U, "U_tau": U_tau, "U_o": U_o,
                "U_tau_o": U_tau_o, "U_tau_star": U_tau_star, "U_of_opt": U_of_opt,
                "hit": int(np.argmax(U >= target)) if (U >= target).any() else None,
                "hit_o": int(np.argmax(U_o >= target)) if (U_o >= target).any() else None}

    k = np.arange(N_ITERS_10 + 1)
    colour = {METHODS_10[0]: C["vermillion"], METHODS_10[1]: C["blue"]}
    dashes = {METHODS_10[0]: "-", METHODS_10[1]: "--"}  # each method has its own colour AND line style
    floor = 1e-12  # log10 on a linear axis: a log axis's mathtext tick labels cost ~10x the whole redraw
    # Axis limits that hold for every policy, so no control moves an axis: every step pays r(s, a) >= min(0, R)
    # (and -tau log pi >= 0 on top in U_tau), so U_tau >= U >= U_lo = min(0, min R) / (1 - gamma), while
    # U <= U*; hence U*_tau - U_tau(theta_k) <= U*_tau - U_lo for every run.
    U_lo = min(0.0, float(np.min(mdp.R))) / (1.0 - mdp.gamma)
    gap_hi = max(optimum(float(t))[0] for t in (*TAUS_10, float(tau))) - U_lo
    U_lim = _live.data_range([U_lo, U_star])
    gap_lim = (-12.5, float(np.log10(2.0 * max(gap_hi, 1.0))))

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2, left=0.08, right=0.985, bottom=0.15, top=0.90, wspace=0.25)
        # the legends name each method once, by its colour and line style (empty proxy lines: the legends are
        # drawn once, never redrawn); the chosen method is the bold line, named in the left title, drawn over
        # the other one
        for ax in (ax1, ax2):
            for m in METHODS_10:
                ax.plot([], [], dashes[m], color=colour[m], lw=1.8, label=m)
        star = ax1.axhline(U_star, color=C["black"], ls=":", lw=1, label="U*")
        opt = ax1.axhline(r["U_of_opt"], color=C["green"], ls="-.", lw=1, label="U(pi*_tau)")
        under1, top1 = (ax1.plot(k, r["U"], lw=lw, label="_")[0] for lw in (1.2, 2.6))
        ax1.set_xlabel("iteration k")
        ax1.set_ylabel("exact U(theta_k)")
        ax1.set_ylim(*U_lim)
        pgp.legend_above(ax1, title=" ")
        under2, top2 = (ax2.plot(k, k * 0.0, lw=lw, label="_")[0] for lw in (1.2, 2.6))
        ax2.set_xlabel("iteration k")
        ax2.set_ylabel("log10(U*_tau - U_tau(theta_k))")
        ax2.set_ylim(*gap_lim)
        pgp.legend_above(ax2, title="regularised sub-optimality, log10 (floor 1e-12)")
        title = _live.title_of(ax1)

        def update(r):
            method, oth, lr, tau, U, U_o = r["method"], r["other"], r["lr"], r["tau"], r["U"], r["U_o"]
            U_tau_star, U_tau, U_tau_o, U_of_opt = r["U_tau_star"], r["U_tau"], r["U_tau_o"], r["U_of_opt"]
            for m, u, u_tau, line1, line2 in ((method, U, U_tau, top1, top2), (oth, U_o, U_tau_o, under1, under2)):
                line1.set_ydata(u)
                line2.set_ydata(np.log10(np.maximum(U_tau_star - u_tau, floor)))
                for line in (line1, line2):
                    line.set_color(colour[m])
                    line.set_linestyle(dashes[m])
            opt.set_ydata([U_of_opt, U_of_opt])  # tau = 0: pi*_0 = pi*, the line lies on U*
            title.set_text(f"bold: {method}; lr {lr:g}, tau {tau:g}")
            hit, hit_o = r["hit"], r["hit_o"]

            def fmt(h):
                return f"{h:4d}" if h is not None else f"> {N_ITERS_10}"
            warn = ""
            if method == "natural PG" and tau > 0 and lr > (1 - mdp.gamma) / tau:
                warn = f"\nlr > (1-gamma)/tau = {(1 - mdp.gamma) / tau:g}: outside Cen et al.'s range (may diverge)"
            return (f"{method}, lr = {lr:g}, tau = {tau:g}   (chain of {mdp.S} states, U* = {U_star:.4f})\n"
                    f"iterations to 90% of U* - U_0:  {method} {fmt(hit)}   {oth} {fmt(hit_o)}\n"
                    f"after {N_ITERS_10}: U* - U = {U_star - U[-1]:.2e}   U*_tau - U_tau = "
                    f"{max(U_tau_star - U_tau[-1], 0.0):.2e}\n"
                    f"regularisation bias U* - U(pi*_tau) = {U_star - U_of_opt:.4f}" + warn)
        # drawn in this order: the bold line on top; U* over U(pi*_tau), which it equals at tau = 0
        return update, [opt, star, under1, top1, title, under2, top2]

    def controls():
        return {"method": dropdown("method", METHODS_10, method),   # (a slider's readout cannot hold the name)
                "lr": slider("step size", float(lr), None, None, kind="choice", options=LRS_10),
                "tau": slider("entropy tau", float(tau), None, None, kind="choice", options=TAUS_10)}

    def alt(p):
        return (f"Left: exact U against iteration for {p['method']} (bold) and the other method, step size "
                f"{p['lr']:g}, entropy weight {p['tau']:g}, with U* marked; right: the regularised "
                f"sub-optimality of both on a log scale.")

    ex = Explorer(compute, {"method": method, "lr": lr, "tau": tau}, controls,
                  title="Convergence on a hard-exploration chain", alt=alt, draw=draw)
    ex.data.update(mdp=mdp, policy=policy, run=run)
    return ex
