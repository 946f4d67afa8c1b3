"""Explorer of notebook 11: a linear critic in compatible or in other features, and the gradient it implies.
Views only: fits from `pg.linear_critic`, gradients from `pg.critic_gradient`, all computed at load."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, axes, register, slider

C = pgp.OKABE_ITO  # the course's colour-blind-safe palette

CRITICS_11 = ("compatible (score) features", "random features")
K_CHOICES_11 = (1, 2, 3, 4, 6, 8, 12, 18)


def critic_problem(seed: int = 11):
    """Notebook 11's problem: a random episodic MDP (6 states, one terminal, 3 actions, gamma 0.95, outcome-
    dependent rewards) and a softmax policy with 3 random linear features at a random theta."""
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(6, 3, 0.95, rng, n_terminal=1, reward_noise=1.0)
    policy = pg.SoftmaxPolicy(rng.normal(size=(6, 3, 3)))
    theta = rng.normal(size=3)
    return mdp, policy, theta, rng


@register("11_function_approximation")
def critic_explorer(critic: str = "random features", k: int = 4, seed: int = 11) -> Explorer:
    """Choose the critic's features (the compatible ones, psi = grad log pi, or k random features): the fitted
    critic f(s, a) against the true advantage (left) and the gradient the critic implies against grad U
    (right)."""
    mdp, policy, theta, rng = critic_problem(seed)
    ev = pg.evaluate(mdp, policy.probs(theta))
    grad = pg.policy_gradient(mdp, policy, theta)
    live = ~mdp.terminal
    psi = pg.natural.score_features(policy, theta)
    random_feats = rng.normal(size=(mdp.S, mdp.A, max(K_CHOICES_11)))
    fits = {("compatible (score) features", 0): pg.linear_critic(mdp, policy, theta, psi)[1]}
    for kk in K_CHOICES_11:
        fits[("random features", kk)] = pg.linear_critic(mdp, policy, theta, random_feats[:, :, :kk])[1]
    grads = {key: pg.critic_gradient(mdp, policy, theta, f) for key, f in fits.items()}

    def compute(critic, k):
        key = (critic, 0) if critic == CRITICS_11[0] else (critic, int(k))
        return {"critic": critic, "k": k, "f": fits[key], "g": grads[key]}

    x = ev.A[live].ravel()
    idx = np.arange(grad.size)
    # axis limits that hold for every critic of the controls (all fitted above): no control moves an axis
    lo, hi = _live.data_range(x, *(f[live] for f in fits.values()), pad=0.0)
    fit_lim = _live.data_range([lo, hi])
    grad_lim = _live.data_range(grad, *grads.values(), include=0.0)

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2, left=0.08, right=0.985, bottom=0.15, top=0.90, wspace=0.28)
        ax1.plot([lo, hi], [lo, hi], "-", color="0.6", lw=1, label="f = A")
        (pts,) = ax1.plot(x, r["f"][live].ravel(), "o", color=C["blue"], ms=5, label="fitted critic f(s, a)")
        ax1.set_xlabel("true advantage A(s, a)")
        ax1.set_ylabel("critic f(s, a)")
        ax1.set_xlim(*fit_lim)
        ax1.set_ylim(*fit_lim)
        pgp.legend_above(ax1, title="the fit (weighted by d pi)")
        ax2.plot(idx, grad, "_", color=C["black"], ms=18, mew=2, label="exact grad U")
        (gpts,) = ax2.plot(idx, r["g"], "o", color=C["vermillion"], ms=6, label="gradient with this critic")
        ax2.axhline(0, color="0.6", lw=0.8)
        ax2.set_xticks(idx)
        ax2.set_xlabel("component of theta")
        ax2.set_ylabel("gradient")
        pgp.legend_above(ax2, title="the gradient it implies")
        ax2.set_xlim(-0.5, grad.size - 0.5)
        ax2.set_ylim(*grad_lim)

        def update(r):
            critic, k, f, g = r["critic"], r["k"], r["f"], r["g"]
            pts.set_ydata(f[live].ravel())
            gpts.set_ydata(g)
            name = critic if critic == CRITICS_11[0] else f"{int(k)} random features"
            return (f"critic: {name}\n"
                    f"max |f - A| over (s, a)            = {np.abs(f - ev.A)[live].max():.4f}\n"
                    f"|g_f - grad U| / |grad U| (bias)   = {np.linalg.norm(g - grad) / np.linalg.norm(grad):.4f}\n"
                    f"cos(g_f, grad U)                   = {pg.cosine(g, grad):.4f}")
        return update, [pts, gpts]

    def controls():
        return {"critic": slider("critic", critic, None, None, kind="choice", options=CRITICS_11),
                "k": slider("random features k", int(k), None, None, kind="choice", options=K_CHOICES_11)}

    def alt(p):
        return (f"Left: the fitted critic against the true advantage for each state-action pair ({p['critic']}, "
                f"k = {p['k']}); right: the components of the gradient this critic implies beside the exact "
                f"gradient.")

    ex = Explorer(compute, {"critic": critic, "k": k}, controls, title="Compatible and other critics", alt=alt,
                  draw=draw)
    ex.data.update(fits=fits, grads=grads)
    return ex
