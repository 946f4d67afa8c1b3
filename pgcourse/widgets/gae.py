"""Explorer of notebook 07: GAE's exact bias and measured variance against lambda."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from ._explorer import Explorer, axes, cached, register, slider

LAMBDAS = np.round(np.linspace(0.0, 1.0, 11), 2)
"""The lambda grid of notebook 07's curves: 0, 0.1, ..., 1."""


@register("07_gae")
def gae_explorer(lam: float = 0.9, gamma: float = 0.95, critic_error: float = 0.5, batch: int = 100,
                 seed: int = 0, episodes=None) -> Explorer:
    """Pick lambda, gamma and the critic error: exact bias^2 and measured variance / batch of the GAE gradient
    estimate for every lambda (pg.gae_bias_variance; curves, current lambda marked), and for the chosen lambda
    the exact expected gradient beside a sampled estimate from `batch` episodes and the exact grad U.
    episodes: the variance pool (episodes of pg.td_demo_problem's policy), default 4000 sampled with seed."""
    base, policy, theta, T = pg.td_demo_problem()
    pi = policy.probs(theta)
    e = pg.critic_error_direction(base)
    pool = pg.sample_episodes(base, pi, 4000, T, np.random.default_rng(seed)) if episodes is None else episodes

    @cached(maxsize=32)
    def curves(gamma, critic_error):
        mdp = base.with_gamma(gamma)
        ev = pg.evaluate(mdp, pi)
        V_hat = ev.V + critic_error * e
        Eg, bias2, var = pg.gae_bias_variance(mdp, policy, theta, V_hat, LAMBDAS, pool, T)
        return mdp, V_hat, pg.policy_gradient(mdp, policy, theta), Eg, bias2, var

    @cached(maxsize=32)
    def at_lambda(lam, gamma, critic_error):
        mdp, V_hat, _, _, _, _ = curves(gamma, critic_error)
        g = pg.per_episode_gradients(policy, theta, pool, pg.gae(pool, V_hat, mdp.gamma, lam), mdp.gamma)
        return (pg.expected_gradient_estimate(mdp, policy, theta, V_hat, lam, T), pg.total_variance(g),
                g.mean(axis=0), g[:batch].mean(axis=0), len(g))

    def compute(fig, lam, gamma, critic_error):
        key = (round(float(gamma), 4), round(float(critic_error), 4))
        _, _, grad, _, bias2, var = curves(*key)
        Eg_lam, v_lam, g_mean, g_small, n_pool = at_lambda(round(float(lam), 4), *key)
        b2 = float(((Eg_lam - grad) ** 2).sum())
        ax1, ax2 = axes(fig, 2)
        pgp.bias_variance(ax1, LAMBDAS, bias2, var / batch, current=(lam, b2, v_lam / batch),
                          title=f"GAE, gamma = {gamma:.2f}, critic error {critic_error:.2f}, batch {batch}")
        pgp.gradient_markers(ax2, {"exact grad U": grad, f"exact E[g], lam = {lam:.2f}": Eg_lam,
                                   f"sampled, {batch} episodes": g_small})
        se = np.sqrt(v_lam / n_pool)
        return (f"lam = {lam:.2f}  gamma = {gamma:.2f}  critic error = {critic_error:.2f}\n"
                f"exact   bias^2 = |E[g] - grad U|^2 = {b2:.4f}\n"
                f"sampled mean of {n_pool} episodes: |mean - E[g]| = {np.linalg.norm(g_mean - Eg_lam):.4f}"
                f"  (noise ~ {se:.4f})\n"
                f"sampled variance per episode = {v_lam:.3f}   variance of a {batch}-episode batch = "
                f"{v_lam / batch:.4f}\n"
                f"MSE of a {batch}-episode batch = {b2 + v_lam / batch:.4f}   cos(exact E[g], grad U) = "
                f"{pg.cosine(Eg_lam, grad):.4f}")

    def controls():
        return {"lam": slider("lambda", 0.9, 0.0, 1.0, 0.05),
                "gamma": slider("gamma", 0.95, 0.5, 0.99, 0.01),
                "critic_error": slider("critic error", 0.5, 0.0, 2.0, 0.1)}

    def alt(p):
        return (f"Left: against lambda from 0 (TD) to 1 (Monte Carlo), the exact squared bias, the measured variance "
                f"of a {batch}-episode batch and their sum, the MSE, with lambda = {p['lam']:.2f} marked (gamma "
                f"{p['gamma']:.2f}, critic error {p['critic_error']:.2f}). Right: gradient components of grad U, the "
                f"exact expected GAE gradient and a sampled one.")

    return Explorer(compute, {"lam": lam, "gamma": gamma, "critic_error": critic_error}, controls,
                    title="GAE: exact bias and measured variance vs lambda", alt=alt)
