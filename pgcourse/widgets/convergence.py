"""Explorer of notebook 10: exact softmax PG against natural PG, with and without entropy regularisation,
on the hard-exploration chain (`pg.chain_mdp`). Views only: runs come from `pg.pg_iterates` /
`pg.npg_iterates` and `pg.objective_curve`, cached per (method, step size, tau)."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from ._explorer import Explorer, axes, cached, register, slider

C = pgp.OKABE_ITO  # the course's colour-blind-safe palette

METHODS_10 = ("softmax PG", "natural PG")
LRS_10 = (0.1, 0.3, 1.0, 3.0, 10.0)
TAUS_10 = (0.0, 0.01, 0.03, 0.1, 0.3)
N_ITERS_10 = 120
CHAIN_10 = dict(n=6, n_actions=3, gamma=0.9)


@register("10_convergence")
def convergence_explorer(method: str = "softmax PG", lr: float = 1.0, tau: float = 0.0) -> Explorer:
    """Pick the method, the step size and the entropy weight tau: exact U(theta_k) of the run beside the other
    method at the same settings (left), and the regularised sub-optimality U*_tau - U_tau(theta_k) on a log
    scale (right), from the uniform policy on a 6-state chain."""
    mdp = pg.chain_mdp(**CHAIN_10)
    policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    U_star = float(mdp.mu @ pg.optimal_values(mdp)[0])

    @cached(maxsize=64)
    def run(method, lr, tau):
        it = pg.npg_iterates if method == "natural PG" else pg.pg_iterates
        thetas = it(mdp, policy, policy.zeros(), lr, N_ITERS_10, tau=tau)
        return pg.objective_curve(mdp, policy, thetas), pg.objective_curve(mdp, policy, thetas, tau=tau)

    @cached(maxsize=16)
    def optimum(tau):
        if tau == 0.0:
            return U_star, U_star
        V, pi = pg.regularised_optimum(mdp, tau)
        return float(mdp.mu @ V), pg.evaluate(mdp, pi).U

    for m in METHODS_10:  # the default view and its neighbour are ready at load
        run(m, float(lr), float(tau))

    def compute(fig, method, lr, tau):
        lr, tau = float(lr), float(tau)
        other = METHODS_10[1 - METHODS_10.index(method)]
        U, U_tau = run(method, lr, tau)
        U_o, U_tau_o = run(other, lr, tau)
        U_tau_star, U_of_opt = optimum(tau)
        k = np.arange(N_ITERS_10 + 1)
        ax1, ax2 = axes(fig, 2, left=0.08, right=0.985, bottom=0.15, top=0.90, wspace=0.25)
        colour = {METHODS_10[0]: C["vermillion"], METHODS_10[1]: C["blue"]}
        ax1.plot(k, U, "-", color=colour[method], lw=2.2, label=f"{method} (chosen)")
        ax1.plot(k, U_o, "--", color=colour[other], lw=1.3, label=other)
        ax1.axhline(U_star, color=C["black"], ls=":", lw=1, label="U*")
        if tau > 0:
            ax1.axhline(U_of_opt, color=C["green"], ls="-.", lw=1, label="U(pi*_tau)")
        ax1.set_xlabel("iteration k")
        ax1.set_ylabel("exact U(theta_k)")
        pgp.legend_above(ax1, title=f"lr {lr:g}, tau {tau:g}")
        floor = 1e-12  # log10 on a linear axis: a log axis's mathtext tick labels cost ~10x the whole redraw
        ax2.plot(k, np.log10(np.maximum(U_tau_star - U_tau, floor)), "-", color=colour[method], lw=2.2, label=method)
        ax2.plot(k, np.log10(np.maximum(U_tau_star - U_tau_o, floor)), "--", color=colour[other], lw=1.3,
                 label=other)
        ax2.set_ylim(-12.5, np.log10(2 * max(U_tau_star - U_tau[0], 1.0)))
        ax2.set_xlabel("iteration k")
        ax2.set_ylabel("log10(U*_tau - U_tau(theta_k))")
        pgp.legend_above(ax2, title="regularised sub-optimality, log10 (floor 1e-12)")
        target = U[0] + 0.9 * (U_star - U[0])
        hit = int(np.argmax(U >= target)) if (U >= target).any() else None
        hit_o = int(np.argmax(U_o >= target)) if (U_o >= target).any() else None

        def fmt(h):
            return f"{h:4d}" if h is not None else f"> {N_ITERS_10}"
        warn = ""
        if method == "natural PG" and tau > 0 and lr > (1 - mdp.gamma) / tau:
            warn = f"\nlr > (1-gamma)/tau = {(1 - mdp.gamma) / tau:g}: outside Cen et al.'s range (may diverge)"
        return (f"{method}, lr = {lr:g}, tau = {tau:g}   (chain of {mdp.S} states, U* = {U_star:.4f})\n"
                f"iterations to 90% of U* - U_0:  {method} {fmt(hit)}   {other} {fmt(hit_o)}\n"
                f"after {N_ITERS_10}: U* - U = {U_star - U[-1]:.2e}   U*_tau - U_tau = "
                f"{max(U_tau_star - U_tau[-1], 0.0):.2e}\n"
                f"regularisation bias U* - U(pi*_tau) = {U_star - U_of_opt:.4f}" + warn)

    def controls():
        return {"method": slider("method", method, None, None, kind="choice", options=METHODS_10),
                "lr": slider("step size", float(lr), None, None, kind="choice", options=LRS_10),
                "tau": slider("entropy tau", float(tau), None, None, kind="choice", options=TAUS_10)}

    def alt(p):
        return (f"Left: exact U against iteration for {p['method']} (bold) and the other method, step size "
                f"{p['lr']:g}, entropy weight {p['tau']:g}, with U* marked; right: the regularised "
                f"sub-optimality of both on a log scale.")

    ex = Explorer(compute, {"method": method, "lr": lr, "tau": tau}, controls,
                  title="Convergence on a hard-exploration chain", alt=alt)
    ex.data.update(mdp=mdp, policy=policy, run=run)
    return ex
