"""Matplotlib figures of the course. Functions draw onto a given Axes (or Figure) and return it, so that
notebooks and the explorers in `pgcourse.widgets` share them. No math here: every number drawn is computed
by the caller with `pgcourse`. Every axis is labelled.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.ticker import FuncFormatter, NullLocator

CSS_DPI = 80
"""CSS px per inch of figure: a figure of width w inches is shown w * CSS_DPI px wide (9 in -> 720 px)."""
PIXEL_RATIO = 2
"""Pixels rendered per CSS px (2 = crisp on HiDPI screens and when zoomed to 200 %)."""


def png_bytes(fig) -> bytes:
    """The figure as a PNG with PIXEL_RATIO x pixels for its CSS size (fast zlib level, no timestamp)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CSS_DPI * PIXEL_RATIO, metadata={"Software": None},
                pil_kwargs={"compress_level": 1})
    return buf.getvalue()


class FigureOutput:
    """A rendered figure for IPython's display: PNG (2x pixels) shown at its CSS size, with alt text.
    text/plain is the alt text (what nbval compares; image bytes are not compared), and the alt text is
    also kept in the output's metadata (image/png: alt) for a static site."""

    def __init__(self, png: bytes, css_size: tuple[int, int], alt: str):
        self.png, self.css_size, self.alt = png, css_size, str(alt)

    def _repr_mimebundle_(self, include=None, exclude=None):
        w, h = self.css_size
        data = {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": f"[figure: {self.alt}]"}
        return data, {"image/png": {"width": w, "height": h, "alt": self.alt}}


def show(fig, alt: str):
    """Display a matplotlib figure crisply, at its CSS size, with a one-line description `alt`, and close
    it (pyplot figures): the one way the notebooks show a figure."""
    from IPython.display import display
    w, h = fig.get_size_inches()
    out = FigureOutput(png_bytes(fig), (round(w * CSS_DPI), round(h * CSS_DPI)), alt)
    try:
        import matplotlib.pyplot as plt
        plt.close(fig)
    except ImportError:  # pragma: no cover
        pass
    display(out)
    return None


def grid_heatmap(ax, mdp, values, title=None, fmt="{:.2f}", cmap="viridis", vmin=None, vmax=None):
    """Draw (S,) values of a GridMDP on its grid (walls blank, terminal cells marked), one number per cell."""
    g = mdp.to_grid(values)
    im = ax.imshow(g, cmap=cmap, vmin=vmin, vmax=vmax)
    for s, (i, j) in enumerate(mdp.cells):
        ch = mdp.layout[i][j]
        label = fmt.format(values[s]) + ("" if ch in ".F" else f"\n{ch}")
        ax.text(j, i, label, ha="center", va="center", fontsize=8, color="w" if np.isfinite(g[i, j]) else "k")
    ax.set_xticks(range(mdp.shape[1]))
    ax.set_yticks(range(mdp.shape[0]))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if title:
        ax.set_title(title)
    return im


# ---- notebooks 00-02 (welcome/MDPs, objective and d^pi, policy gradient theorem) ----

_ARROW = {0: (-1.0, 0.0), 1: (0.0, 1.0), 2: (1.0, 0.0), 3: (0.0, -1.0)}  # grid action -> (dx, drow)


def policy_arrows(ax, mdp, pi, color="w", scale=0.38):
    """Draw a grid policy pi (S, 4) as arrows on a GridMDP heatmap: one arrow per action from each
    non-terminal cell's centre, length proportional to pi(a|s) (actions left, down, right, up)."""
    pi = np.asarray(pi, dtype=float)
    x, y, u, v = [], [], [], []
    for s, (i, j) in enumerate(mdp.cells):
        if mdp.terminal[s]:
            continue
        for a, (dx, dy) in _ARROW.items():
            if pi[s, a] > 0.05:
                x.append(j)
                y.append(i)
                u.append(dx * scale * pi[s, a])
                v.append(dy * scale * pi[s, a])
    ax.quiver(x, y, u, v, angles="xy", scale_units="xy", scale=1.0, color=color, width=0.012, alpha=0.9)
    return ax


def value_policy_heatmap(ax, mdp, V, pi, title="V and the policy"):
    """V (S,) of a GridMDP as a heatmap (numbers at the cell top) with the policy pi (S, 4) as arrows."""
    g = mdp.to_grid(V)
    im = ax.imshow(g, cmap="viridis")
    for s, (i, j) in enumerate(mdp.cells):
        ch = mdp.layout[i][j]
        ax.text(j, i - 0.32, f"{V[s]:.2f}" + ("" if ch in ".F" else f" {ch}"), ha="center", va="center",
                fontsize=7, color="w")
    policy_arrows(ax, mdp, pi)
    ax.set_xticks(range(mdp.shape[1]))
    ax.set_yticks(range(mdp.shape[0]))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.set_title(title, y=1.0)  # an explicit y skips matplotlib's costly automatic title placement
    return im


def visitation_pair(fig, mdp, d_exact, d_sampled, n_episodes, gridspec_kw=None):
    """Two heatmaps side by side on a GridMDP: exact d^pi and sampled discounted visitation frequencies,
    on one colour scale. Returns the two Axes."""
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw=gridspec_kw)
    vmax = float(max(np.max(d_exact), np.max(d_sampled)))
    grid_heatmap(ax1, mdp, d_exact, fmt="{:.3f}", vmin=0, vmax=vmax)
    grid_heatmap(ax2, mdp, d_sampled, fmt="{:.3f}", vmin=0, vmax=vmax)
    ax1.set_title("exact $d^\\pi$", y=1.0)  # explicit y: skips the costly automatic title placement
    ax2.set_title(f"sampled frequencies, N = {n_episodes}", y=1.0)
    return ax1, ax2


def gradient_bars(ax, exact, sampled, se=None, labels=None, title="gradient components"):
    """Grouped bars: exact gradient components beside sampled estimates (+- 1.96 se error bars)."""
    exact = np.ravel(exact)
    sampled = np.ravel(sampled)
    x = np.arange(exact.size)
    ax.bar(x - 0.2, exact, width=0.4, label="exact", color="C0")
    ax.bar(x + 0.2, sampled, width=0.4, label="sampled", color="C1",
           yerr=None if se is None else 1.96 * np.ravel(se), capsize=2)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(x)
    ax.set_xticklabels(labels if labels is not None else [str(i) for i in x], fontsize=7)
    ax.set_xlabel("component of theta")
    ax.set_ylabel("dU / dtheta")
    ax.set_title(title, y=1.0)
    ax.legend(fontsize=8)
    return ax


def corridor_values(ax, p, v, p_star, v_star, sampled=None):
    """The short corridor's v(start) against p = Pr(right): exact curve, the optimum (p*, v*), and optional
    sampled points sampled = (p_values, means, standard errors)."""
    ax.plot(p, v, color="C0", label="exact $v(s_0)$")
    ax.plot([p_star], [v_star], "o", color="C3", label=f"optimum p = {p_star:.3f}, v = {v_star:.3f}")
    if sampled is not None:
        ps, ms, ses = sampled
        ax.errorbar(ps, ms, yerr=1.96 * np.asarray(ses), fmt="s", color="C1", ms=4, capsize=2,
                    label="sampled mean return")
    ax.set_xlabel("p = probability of 'right'")
    ax.set_ylabel("value of the start state")
    ax.set_title("short corridor (Sutton & Barto, Example 13.1)")
    ax.legend(fontsize=8)
    return ax


def running_mean(ax, n, mean, se, exact, label="sampled mean", ylabel="return", title=None):
    """A running mean m_n of n samples with a +- 1.96 se band (pg.running_mean_se gives n, mean, se) beside the
    exact value (dashed horizontal line); log-scale n."""
    ax.plot(n, mean, color="C1", label=label)
    ax.fill_between(n, mean - 1.96 * se, mean + 1.96 * se, color="C1", alpha=0.25, lw=0)
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks and mathtext labels are slow to draw
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
    ax.axhline(exact, color="C0", ls="--", label="exact")
    ax.set_xlabel("number of episodes")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, y=1.0)
    ax.legend(fontsize=8)
    return ax


# ---- notebooks 03-05 (baselines, parameterisations, Monte Carlo) ----

def gradient_components(ax, exact, sampled_mean=None, sampled_se=None, labels=None, title=None,
                        expected=None, legend=True):
    """Bar chart of gradient components: the exact gradient (grey bars), optionally the exact expectation of an
    estimator (`expected`, red diamonds: differs from the gradient when the estimator is biased) and a sampled
    mean with +-2 standard errors (blue error bars). All arrays (K,); labels: K tick labels."""
    exact = np.asarray(exact, dtype=float).ravel()
    k = np.arange(exact.size)
    # bars drawn as one LineCollection of thick vertical lines: ~K times cheaper to redraw than K bar patches
    ax.vlines(k, 0.0, exact, colors="0.75", lw=min(18.0, 220.0 / max(exact.size, 1)), label="exact grad U")
    if expected is not None:
        ax.plot(k, np.asarray(expected, dtype=float).ravel(), "D", color="C3", ms=5, label="E[estimator] (exact)")
    if sampled_mean is not None:
        se = np.zeros_like(exact) if sampled_se is None else np.asarray(sampled_se, dtype=float).ravel()
        ax.errorbar(k, np.asarray(sampled_mean, dtype=float).ravel(), yerr=2 * se, fmt="o", color="C0", ms=4,
                    capsize=2, label="sampled mean +- 2 s.e.")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xticks(k)
    if labels is not None:
        ax.set_xticklabels(labels, fontsize=7)
    ax.set_xlabel("gradient component (s, a)")
    ax.set_ylabel("value")
    if legend:
        ax.legend(fontsize=7, loc="best")
    if title:
        ax.set_title(title, fontsize=10, y=1.0)  # explicit y: no automatic placement pass
    return ax


def estimate_histogram(ax, samples, exact=None, expected=None, bins=60, title=None, xlabel="per-sample estimate",
                       clip=(0.5, 99.5), legend=True):
    """Histogram of per-sample (per-episode) estimates of one number, with the sampled mean (solid blue), the
    exact value (dashed black) and (if given) the exact expectation of the estimator (dotted red) as vertical
    lines. The x range is clipped to the `clip` percentiles so that a heavy tail does not squash the picture.
    legend=False skips the legend (a legend costs tens of ms per redraw in a widget)."""
    x = np.asarray(samples, dtype=float).ravel()
    lo, hi = np.percentile(x, clip)
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
    ax.stairs(counts, edges, fill=True, color="C0", alpha=0.6)  # one artist: faster to draw than hist's bars
    ax.axvline(x.mean(), color="C0", lw=2, label=f"sampled mean {x.mean():.3f}")
    if exact is not None:
        ax.axvline(exact, color="k", ls="--", lw=1.5, label=f"exact {exact:.3f}")
    if expected is not None:
        ax.axvline(expected, color="C3", ls=":", lw=1.5, label=f"E[estimator] {expected:.3f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    if legend:
        ax.legend(fontsize=7, loc="upper right")
    if title:
        ax.set_title(title, fontsize=10, y=1.0)  # explicit y: no automatic placement pass
    return ax


def variance_vs_sigma(ax, sigmas, var_plain, var_centred, sigma=None, sampled=None):
    """Exact variance of one score-function estimate against sigma on log-log axes: b = 0 (solid) and b = U
    (dashed), with the current sigma and its sampled variance marked. Drawn as log10 values on linear axes
    with a few fixed ticks (log axes cost ~50 ms more per redraw)."""
    lsig = np.log10(np.asarray(sigmas, dtype=float))
    ax.plot(lsig, np.log10(var_plain), "k-", lw=1, label="exact, b = 0")
    ax.plot(lsig, np.log10(var_centred), "k--", lw=1, label="exact, b = U")
    if sigma is not None:
        ax.axvline(np.log10(sigma), color="C0", lw=0.6)
        if sampled is not None:
            ax.plot([np.log10(sigma)], [np.log10(sampled)], "o", color="C0", label="sampled")
    ax.set_xticks(np.log10([0.02, 0.1, 0.5, 2.0]), ["0.02", "0.1", "0.5", "2"])
    ax.set_yticks(np.arange(0, 5), ["1", "10", "100", "1e3", "1e4"])
    ax.set_xlabel("sigma (log scale)")
    ax.set_ylabel("Var of one estimate (log)")
    ax.set_title("exact Var: b = 0 (solid), b = U (dashed); sampled (dot)", fontsize=9, y=1.0)
    return ax


def learning_curves(ax, curves, x=None, xlabel="iteration", title=None, optimum=None, ylabel="exact U(theta_k)",
                    first_color=0, legend=True):
    """Learning curves: curves {label: (n_iters + 1,) or (n_runs, n_iters + 1) array of exact U}. Several runs
    are drawn faintly with their mean bold. x: {label: x values} or one array for all (default: iterations).
    Colours C{first_color}, C{first_color + 1}, ... in the order of `curves`."""
    for i, (label, U) in enumerate(curves.items()):
        U = np.atleast_2d(np.asarray(U, dtype=float))
        xs = (x.get(label) if isinstance(x, dict) else x)
        xs = np.arange(U.shape[1]) if xs is None else np.asarray(xs)
        color = f"C{first_color + i}"
        if U.shape[0] > 1:
            for u in U:
                ax.plot(xs, u, color=color, lw=0.6, alpha=0.35)
        ax.plot(xs, U.mean(axis=0), color=color, lw=2,
                label=label + (f" (mean of {U.shape[0]})" if U.shape[0] > 1 else ""))
    if optimum is not None:
        ax.axhline(optimum, color="k", ls="--", lw=1, label="optimal U*")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(fontsize=7, loc="lower right")
    if title:
        ax.set_title(title, fontsize=10, y=1.0)  # explicit y: no automatic placement pass
    return ax


# ---- notebooks 06-08 (TD, GAE, putting it together) ----

def pair_scatter(ax, exact_A, sampled, se, exact_hat=None, title=None):
    """Per-(s, a) sampled means (with +-2 s.e. bars) against the exact advantage A; optional exact
    E[delta | s, a] of a wrong critic as crosses. All inputs (S, A) or flat arrays of the same size."""
    x, y, e = np.ravel(exact_A), np.ravel(sampled), np.ravel(se)
    lo, hi = float(np.nanmin([x.min(), np.nanmin(y)])), float(np.nanmax([x.max(), np.nanmax(y)]))
    if exact_hat is not None:
        h = np.ravel(exact_hat)
        lo, hi = min(lo, float(h.min())), max(hi, float(h.max()))
    pad = 0.05 * (hi - lo + 1e-9)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.6", lw=1, label="y = A (unbiased)")
    if exact_hat is not None:
        ax.plot(x, h, "x", color="C3", label="exact E[delta | s, a], this critic")
    ax.errorbar(x, y, yerr=2 * np.nan_to_num(e), fmt="o", ms=4, color="C0", label="sampled mean +- 2 s.e.")
    ax.set_xlabel("exact advantage A(s, a)")
    ax.set_ylabel("E[delta | s, a]")
    ax.locator_params(nbins=5)
    ax.legend(fontsize=7, loc="upper left")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def gradient_markers(ax, grads: dict, title="gradient components"):
    """Flattened gradients {label: array} as markers, one column per component (the first one, the reference,
    as wide black dashes): cheap to render, so a slider stays fast."""
    labels = list(grads)
    K = np.ravel(grads[labels[0]]).size
    x = np.arange(K)
    ax.plot(x, np.ravel(grads[labels[0]]), "_", color="k", ms=14, mew=2, label=labels[0])
    for i, lab in enumerate(labels[1:]):
        ax.plot(x, np.ravel(grads[lab]), "ox+"[i % 3], ms=5, label=lab)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("component of theta (s, a), flattened")
    ax.set_ylabel("gradient")
    ax.locator_params(nbins=5)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    return ax


def td_convergence(ax, errors: dict, title="TD(0): critic error vs sweeps"):
    """errors {label: (n_sweeps + 1,) max-norm error |V_k - V|}; log scale."""
    for lab, err in errors.items():
        ax.semilogy(np.arange(len(err)), err, label=lab)
    ax.set_xlabel("TD(0) sweep over the batch")
    ax.set_ylabel("max_s |V_k(s) - V(s)|")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    return ax


def suboptimality(ax, curves: dict, U_star, title="sub-optimality U* - U(theta_k)"):
    """curves {label: (n_iters + 1,) exact U}: U* - U on a log scale."""
    for lab, U in curves.items():
        ax.semilogy(np.arange(len(U)), np.maximum(U_star - np.asarray(U), 1e-16), label=lab)
    ax.set_xlabel("iteration k")
    ax.set_ylabel("U* - U(theta_k)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    return ax


def bias_variance(ax, lams, bias2, var, current=None, title="bias-variance trade-off"):
    """Exact bias^2, measured variance and their sum (MSE) against lambda; current = (lam, bias2, var) marked."""
    lams, bias2, var = (np.asarray(x, dtype=float) for x in (lams, bias2, var))
    ax.plot(lams, bias2, "o-", ms=3, label="bias^2 (exact)")
    ax.plot(lams, var, "s-", ms=3, label="variance (measured)")
    ax.plot(lams, bias2 + var, "k^-", ms=3, label="MSE = bias^2 + variance")
    if current is not None:
        lam, b, v = current
        ax.axvline(lam, color="0.6", ls=":")
        ax.plot([lam], [b + v], "r*", ms=10, label=f"lambda = {lam:.2f}")
    ax.set_xlabel("lambda (0 = TD, 1 = Monte Carlo)")
    ax.set_ylabel("squared error of the gradient")
    ax.locator_params(nbins=5)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper center")
    return ax


def cosine_vs_n(ax, scores, highlight=None, current=None, title="cosine(estimate, exact grad U)"):
    """scores: EstimatorScores (pg.score_estimator); mean cosine similarity vs batch size n (log x)."""
    for sc in scores:
        ns = sorted(sc.cosine)
        lw = 2.5 if sc.name == highlight else 1.0
        ax.semilogx(ns, [sc.cosine[n] for n in ns], "o-", ms=3, lw=lw, label=sc.name)
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.locator_params(axis="y", nbins=5)
    if current is not None:
        ax.axvline(current, color="0.6", ls=":")
    ax.set_xlabel("episodes per estimate n")
    ax.set_ylabel("mean cosine similarity")
    ax.set_ylim(None, 1.02)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return ax


def component_scatter(ax, exact, estimates: dict, title="estimate vs exact, per component"):
    """Scatter of each estimate's components against the exact gradient's, with the line y = x."""
    x = np.ravel(exact)
    lo, hi = x.min(), x.max()
    for lab, g in estimates.items():
        y = np.ravel(g)
        lo, hi = min(lo, y.min()), max(hi, y.max())
        ax.plot(x, y, "o", ms=3, alpha=0.8, label=lab)
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, label="y = x")
    ax.set_xlabel("exact grad U component")
    ax.set_ylabel("estimated component")
    ax.locator_params(nbins=4)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    return ax

