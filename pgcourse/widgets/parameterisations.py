"""Explorer of notebook 04: the Gaussian policy's score-function gradient on the quadratic bandit."""
from __future__ import annotations

import numpy as np

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, axes, cached, register, slider, toggle


@register("04_parameterisations")
def gaussian_score_explorer(theta: float = 0.0, a_star: float = 1.0, n_max: int = 100000, seed: int = 0) -> Explorer:
    """Score-function gradient of U(theta) = E[-(a - a_star)^2], a ~ N(theta, sigma^2), from N samples
    (pg.QuadraticBandit.score_gradient_samples, rng seeded the same for every setting, so the first N draws
    are shared): histogram of the per-sample estimates (r(a) - b) (a - theta) / sigma^2 (b = 0, or the
    baseline b = U(theta)), their mean +- s.e. (pg.mean_se) beside the exact gradient -2 (theta - a_star),
    and the exact variance (pg.bandit_score_variance) beside the sampled one."""
    bandit = pg.QuadraticBandit(a_star)
    th = np.array([float(theta)])
    exact = float(bandit.gradient(th)[0])
    sig_grid = np.geomspace(0.02, 3.0, 80)
    var_curve = {c: [pg.bandit_score_variance(theta, s, a_star, centred=c) for s in sig_grid] for c in (False, True)}

    @cached(maxsize=256)
    def compute(sigma=0.5, n_samples=10000, baseline=False):
        policy = pg.GaussianPolicy(sigma)
        b = bandit.objective(th, sigma) if baseline else 0.0
        g = bandit.score_gradient_samples(policy, th, n_samples, np.random.default_rng(seed), baseline=b)[:, 0]
        m, se = pg.mean_se(g)
        lo, hi = np.percentile(g, (0.5, 99.5))  # the histogram's range (as pgp.estimate_histogram's)
        if hi <= lo:
            lo, hi = lo - 1.0, hi + 1.0
        counts, edges = np.histogram(g, bins=60, range=(lo, hi))
        return {"sigma": sigma, "n": n_samples, "baseline": baseline, "b": b, "m": m, "se": se, "counts": counts,
                "edges": edges, "v_exact": pg.bandit_score_variance(theta, sigma, a_star, centred=baseline),
                "v_s": float(g.var(ddof=1))}

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2)
        hist = _live.LiveHistogram(ax1, r["counts"], r["edges"], r["m"], exact=exact,
                                 xlabel="(r(a) - b) (a - theta) / sigma^2", title=" ")
        pgp.variance_vs_sigma(ax2, sig_grid, var_curve[False], var_curve[True], r["sigma"], r["v_s"])
        ax2.set_xlim(ax2.get_xlim())  # the curves' range, whatever the marked sigma
        ax2.set_ylim(ax2.get_ylim())
        marker, dot = ax2.lines[-2], ax2.lines[-1]  # the current sigma's vertical line and sampled variance

        def update(r):
            sigma, n_samples, baseline, b, m, se = r["sigma"], r["n"], r["baseline"], r["b"], r["m"], r["se"]
            hist.update(r["counts"], r["edges"], m, exact)
            _live.title_of(ax1).set_text(f"{n_samples} single-sample estimates, sigma = {sigma:.2f}")
            marker.set_xdata([np.log10(sigma)] * 2)
            dot.set_data([np.log10(sigma)], [np.log10(r["v_s"])])
            v_exact = r["v_exact"]
            return "\n".join([
                (f"sigma = {sigma:.2f}  N = {n_samples} (a = theta + sigma z, z the first N standard normal draws "
                 f"of rng {seed}, the same for every sigma)"),
                f"theta = {theta:.2f}  a* = {a_star:.2f}  baseline b = " + (f"U(theta) = {b:.4f}" if baseline else "0"),
                (f"exact   dU/dtheta = {exact:.4f}          sampled = {m:.3f} +- {se:.3f}"
                 f"   (|diff| / s.e. = {abs(m - exact) / se:.2f})"),
                f"exact   Var(one estimate) = {v_exact:.2f}   sampled = {r['v_s']:.2f}",
                f"exact   s.e. of the mean  = {np.sqrt(v_exact / n_samples):.4f}",
            ])
        return update, [*hist.artists, _live.title_of(ax1), marker, dot]

    def controls():
        return {"sigma": slider("sigma", 0.5, 0.05, 2.0, 0.05),
                "n_samples": slider("N samples", 10000, 100, n_max, kind="log"),
                "baseline": toggle("baseline b = U", False)}

    def alt(p):
        return (f"Left: histogram of {p['n_samples']} single-sample score-function estimates at sigma "
                f"{p['sigma']:.2f} (baseline {'U' if p['baseline'] else '0'}), their mean and the exact gradient. "
                f"Right: exact variance of one estimate against sigma on log-log axes, without and with the "
                f"baseline, and the sampled variance as a dot.")

    return Explorer(compute, {"sigma": 0.5, "n_samples": 10000, "baseline": False}, controls,
                    title="Gaussian policy: score-function gradient vs exact", alt=alt, draw=draw)
