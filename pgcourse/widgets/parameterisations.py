"""Explorer of notebook 04: the Gaussian policy's score-function gradient on the quadratic bandit."""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

import pgcourse as pg
import pgcourse.plots as pgp

from . import _live
from ._explorer import Explorer, axes, cached, register, slider, toggle


def histogram_limits(counts, edges, nbins: int = 4) -> tuple[tuple[float, float], tuple[float, float]]:
    """(xlim, ylim) of a histogram (counts (B,), edges (B + 1,)): the bins' range widened to multiples of half
    a round tick step, and [0, 1.05 max count] widened to a multiple of a tick step (`_live.tick_limits`):
    limits that change in steps, on few moves of a control (the bins fill >= 2/3 of the x range)."""
    return (_live.tick_limits(edges[0], edges[-1], nbins, per_tick=2),
            _live.tick_limits(0.0, 1.05 * max(float(np.max(counts)), 1.0), nbins))


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

    n_range = min(10000, n_max)

    @cached(maxsize=32)
    def draws(sigma, baseline, n):
        """The first n per-sample estimates at (sigma, baseline) (any N samples are the first N of them: one
        rng seed), and the baseline b."""
        policy = pg.GaussianPolicy(sigma)
        b = bandit.objective(th, sigma) if baseline else 0.0
        return bandit.score_gradient_samples(policy, th, n, np.random.default_rng(seed), baseline=b)[:, 0], b

    @cached(maxsize=256)
    def bins(sigma, baseline):
        """The histogram's bins: 60 over the 0.5-99.5 percentiles (as pgp.estimate_histogram's) of the first
        10000 estimates, the same for every N, so that N moves neither axis."""
        lo, hi = np.percentile(draws(sigma, baseline, n_range)[0], (0.5, 99.5))
        if hi <= lo:
            lo, hi = lo - 1.0, hi + 1.0
        return np.linspace(lo, hi, 61)

    @cached(maxsize=256)
    def compute(sigma=0.5, n_samples=10000, baseline=False):
        if not 1 <= n_samples <= n_max:
            raise ValueError(f"n_samples must be in [1, {n_max}], got {n_samples}")
        g, b = draws(sigma, baseline, max(n_samples, n_range))
        g = g[:n_samples]
        m, se = pg.mean_se(g)
        counts, edges = np.histogram(g, bins=bins(sigma, baseline))
        return {"sigma": sigma, "n": n_samples, "baseline": baseline, "b": b, "m": m, "se": se, "counts": counts,
                "edges": edges, "v_exact": pg.bandit_score_variance(theta, sigma, a_star, centred=baseline),
                "v_s": float(g.var(ddof=1))}

    def draw(fig, r):
        ax1, ax2 = axes(fig, 2)
        hist = _live.LiveHistogram(ax1, r["counts"], r["edges"], r["m"], exact=exact,
                                   xlabel="(r(a) - b) (a - theta) / sigma^2",
                                   title="histogram of the N single-sample estimates")
        # The histogram's axes follow the data (its range changes ~6x with sigma and the baseline, its counts
        # 1000x with N) in round steps, and each is redrawn only when its limits change (tick labels are the
        # costly part of a redraw); their labels are drawn apart, in the background. The y axis always starts
        # at 0, so the corner the two share always shows the same tick: y is drawn first, x over it.
        for axis in (ax1.xaxis, ax1.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=4, steps=_live.TICK_STEPS))
        _live.axis_label_apart(ax1.xaxis)
        _live.axis_label_apart(ax1.yaxis, widest="00000")
        yframe = _live.KeyedCachedGroup([ax1.yaxis], cover=[ax1.yaxis, ax1.spines["left"]])
        xframe = _live.KeyedCachedGroup([ax1.xaxis], cover=[ax1.xaxis, ax1.spines["bottom"]])
        pgp.variance_vs_sigma(ax2, sig_grid, var_curve[False], var_curve[True], r["sigma"], r["v_s"])
        ax2.set_xlim(ax2.get_xlim())  # the curves' range, whatever the marked sigma
        ax2.set_ylim(ax2.get_ylim())
        marker, dot = ax2.lines[-2], ax2.lines[-1]  # the current sigma's vertical line and sampled variance

        def update(r):
            sigma, n_samples, baseline, b, m, se = r["sigma"], r["n"], r["baseline"], r["b"], r["m"], r["se"]
            hist.update(r["counts"], r["edges"], m, exact)
            xlim, ylim = histogram_limits(r["counts"], r["edges"])
            ax1.set_xlim(*xlim)
            ax1.set_ylim(*ylim)
            xframe.set_key(xlim)
            yframe.set_key(ylim)
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
        return update, [yframe, xframe, hist.stairs, hist.mean, hist.exact, marker, dot]

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
