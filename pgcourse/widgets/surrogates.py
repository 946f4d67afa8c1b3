"""Explorer of notebook 09: U, the surrogate L_old, PPO's clipped objective and TRPO's lower bound along a step.

Views only: every number comes from `pg.line_profile` (pgcourse/surrogate.py), computed once at load on a grid
of step sizes and clip ranges; a slider move only picks a grid point and redraws.
"""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, axes, register, slider

C = pgp.OKABE_ITO  # the course's colour-blind-safe palette

OKABE_ITO = tuple(pgp.OKABE_ITO[k] for k in ("black", "orange", "sky", "green", "yellow", "blue", "vermillion",
                                               "purple"))
"""The course's Okabe-Ito palette as a tuple (notebooks 09-11 index it)."""

STEPS_09 = np.round(np.concatenate([np.arange(0.0, 0.25, 0.01), np.arange(0.25, 3.001, 0.05)]), 3)
"""Step sizes t of notebook 09's ray theta_old + t * natural_gradient / |natural_gradient|: fine near 0,
where TRPO's bound is informative, coarser up to 3, where clipping matters."""
EPS_09 = np.array([float(f"{t:.3g}") for t in np.geomspace(1e-3, 3.0, 36)])
"""Step sizes t of notebook 09's ray theta_old + t * natural_gradient / |natural_gradient| (log-spaced)."""
EPS_09 = np.round(np.arange(0.05, 0.51, 0.05), 2)
"""Clip ranges eps of notebook 09's explorer."""


def surrogate_problem(seed: int = 9):
    """Notebook 09's problem: a random 5-state, 3-action MDP (gamma 0.9, outcome-dependent rewards), a tabular
    softmax policy at a random theta_old, and the unit natural-gradient direction there."""
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(5, 3, 0.9, rng, reward_noise=1.0)
    policy = pg.SoftmaxPolicy.tabular(5, 3)
    theta_old = rng.normal(size=(5, 3))
    n = pg.natural_gradient(mdp, policy, theta_old)
    return mdp, policy, theta_old, n / np.linalg.norm(n)


@register("09_surrogates_trust_regions")
def surrogate_explorer(step: float = 0.05, eps: float = 0.2, seed: int = 9) -> Explorer:
    """Move along theta_old + t u (u the unit natural gradient): exact U, the surrogate L_old, the clipped
    objective for the chosen eps, and TRPO's bound L - C max KL; right, the mean and max KL and the range of
    the probability ratios pi_theta / pi_old."""
    mdp, policy, theta_old, u = surrogate_problem(seed)
    prof = pg.line_profile(mdp, policy, theta_old, u, STEPS_09, eps_values=list(EPS_09))

    def nearest(grid, x):
        return int(np.abs(np.asarray(grid) - x).argmin())

    def compute(step, eps):
        i, j = nearest(STEPS_09, step), nearest(EPS_09, eps)
        return {"i": i, "t": STEPS_09[i], "e": float(EPS_09[j])}

    x, U0 = STEPS_09, prof["U_old"]
    near = x <= 0.25

    def draw(fig, r):
        i, t, e = r["i"], r["t"], r["e"]
        clip = prof["clipped"][e]
        ax1, ax2 = axes(fig, 2, left=0.08, right=0.985, bottom=0.15, top=0.90, wspace=0.25)
        curves = [(prof["U"], "-", "black", 2.0, "U(theta) - U_old, exact"),
                  (prof["L"], "--", "blue", 1.6, "surrogate L_old - U_old"),
                  (clip, "-.", "vermillion", 1.6, "PPO clipped - U_old"),
                  (prof["bound"], ":", "green", 2.0, "TRPO bound - U_old")]
        panels = ((ax1, near, "near theta_old: TRPO's bound"), (ax2, x >= 0, "far: the clipped objective"))
        moving, clipped, marks = [], [], []
        for ax, sel, _ in panels:
            for y, ls, c, lw, lab in curves:
                (line,) = ax.plot(x[sel], (y - U0)[sel], ls, color=C[c], lw=lw, label=lab)
                if y is clip:
                    clipped.append((line, sel))
                    moving.append(line)
            top = max((prof["U"] - U0)[sel].max(), (prof["L"] - U0)[sel].max())
            ax.set_ylim(-0.6 * top, 1.1 * top)
            ax.set_xlim(ax.get_xlim())
            ax.axhline(0.0, color="0.6", lw=0.8)
            vline = ax.axvline(t, color="0.6", lw=0.8)
            (dots,) = ax.plot([t] * 4, [y[i] - U0 for y, *_ in curves], "o", color="0.3", ms=4)
            marks.append((vline, dots, x[sel].max()))
            moving += [vline, dots]
            ax.set_xlabel("step t along the unit natural gradient")
        ax1.set_ylabel("improvement over U(theta_old)")
        # the legend and titles never change (text is the costly part of a redraw): eps is one short moving text
        pgp.legend_above(ax1, ncols=2, title=panels[0][2])
        ax2.set_title(panels[1][2] + ", eps =", y=1.0, loc="left")
        eps_text = _live.suffix_text(ax2._left_title, f"{e:.2f}")
        moving.append(eps_text)

        def update(r):
            i, t, e = r["i"], r["t"], r["e"]
            clip = prof["clipped"][e]
            for line, sel in clipped:
                line.set_ydata((clip - U0)[sel])
            eps_text.set_text(f"{e:.2f}")
            ys = [prof["U"][i] - U0, prof["L"][i] - U0, clip[i] - U0, prof["bound"][i] - U0]
            for vline, dots, xmax in marks:
                shown = bool(t <= xmax)
                vline.set_visible(shown)
                dots.set_visible(shown)
                vline.set_xdata([t, t])
                dots.set_data([t] * 4, ys)
            return (f"step t = {t:.2f}   eps = {e:.2f}   C = 4 eps_A gamma/(1-gamma)^2 = {prof['C']:.1f}\n"
                    f"U(theta) - U_old           = {prof['U'][i] - U0:+.4f}\n"
                    f"L_old(theta) - U_old       = {prof['L'][i] - U0:+.4f}\n"
                    f"clipped(theta) - U_old     = {clip[i] - U0:+.4f}\n"
                    f"bound L - C max KL - U_old = {prof['bound'][i] - U0:+.4f}\n"
                    f"max KL = {prof['max_kl'][i]:.5f}   mean KL = {prof['mean_kl'][i]:.5f}   "
                    f"ratios pi/pi_old in [{prof['ratio_min'][i]:.3f}, {prof['ratio_max'][i]:.3f}]")
        return update, moving

    def controls():
        return {"step": slider("step t", float(STEPS_09[nearest(STEPS_09, step)]), None, None, kind="choice",
                               options=[float(v) for v in STEPS_09]),
                "eps": slider("clip eps", eps, float(EPS_09[0]), float(EPS_09[-1]), 0.05)}

    def alt(p):
        return (f"Improvement over U(theta_old) along the natural-gradient direction: exact U, the surrogate "
                f"L_old, PPO's clipped objective (eps {p['eps']:.2f}) and TRPO's lower bound against the step "
                f"size, step {p['step']:.2f} marked; left for steps up to 0.25, right up to 3.")

    ex = Explorer(compute, {"step": step, "eps": eps}, controls,
                  title="Surrogates and trust regions along one step", alt=alt, draw=draw)
    ex.data.update(profile=prof, mdp=mdp, policy=policy, theta_old=theta_old, direction=u)
    return ex
