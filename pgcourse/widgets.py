"""Interactive explorers for the notebooks: ipywidgets controls driving a matplotlib figure and a text
summary that shows exact and sampled numbers side by side.

Every notebook's widget is an `Explorer`:

    ex = some_explorer(...)        # a factory below, one per notebook
    ex.show_static()               # the default state as printed text + a static figure (checked by nbval)
    ex.widget()                    # the live controls (cell tagged nbval-ignore-output)

`Explorer.refresh(**params)` is the one function a slider calls: it recomputes, redraws the figure and
renders it to PNG. Benchmarks time it at the default settings (target < 150 ms), through the registry
`EXPLORERS` {notebook name: factory with no arguments}.

In the browser the summary is an HTML widget with CSS class `pg-summary`, the figure an Image widget
with class `pg-figure`, and the controls sliders/toggles in a box with class `pg-controls`.
"""
from __future__ import annotations

import html
import io
from typing import Callable

import numpy as np
from matplotlib.figure import Figure

from .estimators import per_episode_gradients
from .exact import alive_distributions, expected_gae, expected_gradient_estimate, expected_td_error, pair_chain

EXPLORERS: dict[str, Callable[[], "Explorer"]] = {}


def register(name: str):
    """Decorator: record a no-argument explorer factory for notebook `name` (e.g. "01_objective")."""
    def deco(factory):
        EXPLORERS[name] = factory
        return factory
    return deco


class Explorer:
    """compute(fig, **params) -> summary text. `compute` draws into the (cleared) figure `fig` and returns
    a short plain-text summary (exact and sampled numbers, rounded so they print identically every run).

    controls: {param name: ipywidgets control}, created lazily by `make_controls()` so that the class is
    usable (show_static, refresh) without a live widget front end. defaults: {param name: value}.
    """

    def __init__(self, compute: Callable[..., str], defaults: dict, make_controls: Callable[[], dict] | None = None,
                 figsize=(9.0, 3.6), title: str | None = None):
        self.compute = compute
        self.defaults = dict(defaults)
        self.params = dict(defaults)
        self.make_controls = make_controls
        self.title = title
        self.fig = Figure(figsize=figsize, dpi=80, layout="constrained")
        self.text = ""
        self.png = b""

    def refresh(self, **params) -> str:
        """One update: recompute with `params` (merged into the current ones), redraw, render to PNG."""
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"unknown parameter(s) {sorted(unknown)}; this explorer takes {sorted(self.defaults)}")
        self.params.update(params)
        self.fig.clear()
        self.text = self.compute(self.fig, **self.params)
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        self.png = buf.getvalue()
        return self.text

    def show_static(self):
        """Print the default state's summary and show its figure: what the executed notebook stores."""
        import matplotlib.pyplot  # noqa: F401  (registers the inline backend's PNG formatter for figures)
        from IPython.display import display
        self.params = dict(self.defaults)
        print(self.refresh())
        display(self.fig)

    def widget(self):
        """The live explorer: controls, the summary (HTML, class pg-summary), the figure (class pg-figure)."""
        import ipywidgets as W
        controls = self.make_controls() if self.make_controls else {}
        for name, c in controls.items():
            c.value = self.params.get(name, c.value)
        summary = W.HTML(self._html(self.refresh()))
        summary.add_class("pg-summary")
        image = W.Image(value=self.png, format="png")
        image.add_class("pg-figure")

        def on_change(_change=None):
            summary.value = self._html(self.refresh(**{n: c.value for n, c in controls.items()}))
            image.value = self.png

        for c in controls.values():
            c.observe(on_change, names="value")
        box = W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap"))
        box.add_class("pg-controls")
        parts = [box, summary, image]
        if self.title:
            parts.insert(0, W.HTML(f"<b>{html.escape(self.title)}</b>"))
        return W.VBox(parts)

    @staticmethod
    def _html(text: str) -> str:
        return f"<pre style='margin:0'>{html.escape(text)}</pre>"


# --------------------------------------------------------------------------------------------------------
# One section per notebook below. Each adds its factories and registers one default explorer:
#
#     @register("01_objective")
#     def dpi_explorer(gamma=0.9, n_episodes=2000) -> Explorer: ...
# --------------------------------------------------------------------------------------------------------


# ==== section: notebooks 00-02 (welcome/MDPs, objective and d^pi, policy gradient theorem) ====

def demo_grid_policy():
    """The course's running grid policy pi (S, 4): 70% the optimal action of the default gridworld
    (gamma 0.95, slip 0.1), 30% uniform. Fixed, so that changing gamma or slip changes V, not the policy."""
    import pgcourse as pg
    base = pg.gridworld()
    _, pistar = pg.optimal_values(base)
    return 0.7 * pistar + 0.3 / base.A


def _nb02_head(episodes, n):
    """The first n episodes of a batch, as an Episodes batch of its own."""
    import dataclasses
    return type(episodes)(**{f.name: getattr(episodes, f.name)[:n] for f in dataclasses.fields(episodes)})


def _nb02_fixed_layout(fig, **margins) -> dict:
    """Switch this explorer's figure from constrained layout to fixed margins, returned as gridspec_kw for
    fig.subplots: the constrained-layout pass costs ~50 ms per refresh, a third of the budget."""
    if fig.get_layout_engine() is not None:
        fig.set_layout_engine(None)  # None, not "none": a "none" placeholder still makes savefig draw twice
    return margins


def _nb02_slider(kind, value, lo, hi, step, desc, **kw):
    import ipywidgets as W
    cls = W.IntSlider if kind == "int" else W.FloatSlider
    return cls(value=value, min=lo, max=hi, step=step, description=desc, continuous_update=False,
               style={"description_width": "initial"}, **kw)


@register("00_welcome_mdps")
def gridworld_explorer(gamma=0.95, slip=0.1, n_episodes=1000, seed=0) -> Explorer:
    """Gridworld: exact V (heatmap + policy arrows) beside the running mean of sampled returns G_0 from
    the start, which must settle on the exact V(start) = U. Episodes are sampled once per slip value
    (N_max = 5000, horizon 100, seeded) and the first n_episodes are used."""
    import numpy as np

    import pgcourse as pg

    from . import plots
    pi = demo_grid_policy()
    n_max, horizon = 5000, 100
    cache = {}

    def batch(slip):
        key = round(float(slip), 6)
        if key not in cache:
            mdp = pg.gridworld(gamma=0.9, slip=key)
            cache[key] = pg.sample_episodes(mdp, pi, n_max, horizon, np.random.default_rng(seed))
        return cache[key]

    def compute(fig, gamma, slip, n_episodes):
        mdp = pg.gridworld(gamma=gamma, slip=slip)
        ev = pg.evaluate(mdp, pi)
        ep = _nb02_head(batch(slip), int(n_episodes))
        G0 = pg.discounted_returns(ep.rewards, gamma, ep.mask)[:, 0]
        gs = _nb02_fixed_layout(fig, left=0.04, right=0.98, bottom=0.14, top=0.91, wspace=0.12, width_ratios=[1, 1.35])
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw=gs)
        plots.value_policy_heatmap(ax1, mdp, ev.V, pi, title=f"exact V, gamma = {gamma:.2f}, slip = {slip:.2f}")
        plots.running_mean(ax2, G0, ev.U, label="mean of sampled G_0", ylabel="return from the start",
                           title="sampled returns vs exact V(start)")
        se = G0.std(ddof=1) / np.sqrt(G0.size)
        return (f"exact    V(start) = {ev.U:.4f}\n"
                f"sampled  mean G_0 = {G0.mean():.4f} +- {se:.4f}  (N = {G0.size}, "
                f"mean episode length {ep.lengths.mean():.2f})")

    def controls():
        return {"gamma": _nb02_slider("float", gamma, 0.5, 0.99, 0.01, "gamma"),
                "slip": _nb02_slider("float", slip, 0.0, 0.5, 0.05, "slip"),
                "n_episodes": _nb02_slider("int", n_episodes, 10, n_max, 10, "episodes N")}

    return Explorer(compute, {"gamma": gamma, "slip": slip, "n_episodes": n_episodes}, controls,
                    title="Exact V beside sampled returns")


@register("01_objective_and_dpi")
def dpi_explorer(gamma=0.9, n_episodes=2000, seed=0) -> Explorer:
    """Gridworld: exact d^pi beside sampled discounted visitation frequencies (pg.visitation_frequencies)
    of the first n_episodes of one pre-sampled batch (N_max = 20000, horizon 120; the dynamics do not
    depend on gamma, so one batch serves every gamma). Prints the total-variation distance
    TV = 1/2 sum_s |d(s) - d_hat(s)|."""
    import numpy as np

    import pgcourse as pg

    from . import plots
    pi = demo_grid_policy()
    n_max, horizon = 20000, 120
    base = pg.gridworld()
    episodes = pg.sample_episodes(base, pi, n_max, horizon, np.random.default_rng(seed))

    def compute(fig, gamma, n_episodes):
        mdp = base.with_gamma(gamma)
        d = pg.evaluate(mdp, pi).d
        d_hat = pg.visitation_frequencies(_nb02_head(episodes, int(n_episodes)), mdp.S, gamma)
        gs = _nb02_fixed_layout(fig, left=0.02, right=0.98, bottom=0.14, top=0.91, wspace=0.0)
        plots.visitation_pair(fig, mdp, d, d_hat, int(n_episodes), gridspec_kw=gs)
        tv = 0.5 * np.abs(d - d_hat).sum()
        s0 = int(np.argmax(mdp.mu))
        return (f"exact    d(start) = {d[s0]:.4f}   sampled  d(start) = {d_hat[s0]:.4f}\n"
                f"total variation distance 1/2 sum |d - d_hat| = {tv:.4f}  (gamma = {gamma:.2f}, N = {int(n_episodes)})")

    def controls():
        return {"gamma": _nb02_slider("float", gamma, 0.0, 0.99, 0.01, "gamma"),
                "n_episodes": _nb02_slider("int", n_episodes, 10, n_max, 10, "episodes N")}

    return Explorer(compute, {"gamma": gamma, "n_episodes": n_episodes}, controls,
                    title="Sampled discounted visitation frequencies converge to d^pi")


def gradient_demo_problem():
    """(mdp, policy, direction) of the policy-gradient explorer: a random 5-state MDP (one terminal state,
    gamma 0.9, seed 3), a tabular softmax policy, and a fixed random theta direction (seed 4)."""
    import numpy as np

    import pgcourse as pg
    mdp = pg.random_mdp(5, 2, 0.9, np.random.default_rng(3), n_terminal=1)
    policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    direction = np.random.default_rng(4).normal(size=policy.theta_shape)
    return mdp, policy, direction


@register("02_policy_gradient_theorem")
def gradient_explorer(theta_scale=1.0, n_episodes=2000, seed=0, n_batches=20) -> Explorer:
    """Exact gradient (pg.policy_gradient) beside the sampled score-times-return estimate
    (pg.reinforce_gradient) at theta = theta_scale * direction, per component, with +- 1.96 se bars
    (from n_batches independent batches) and the cosine similarity. One batch of N_max = 10000 episodes
    is sampled per theta_scale value and cached; the first n_episodes are used."""
    import numpy as np

    import pgcourse as pg

    from . import plots
    mdp, policy, direction = gradient_demo_problem()
    n_max, horizon = 10000, 100
    live = np.flatnonzero(~mdp.terminal)
    labels = [f"s{s},a{a}" for s in live for a in range(mdp.A)]
    cache = {}

    def batch(scale):
        key = round(float(scale), 6)
        if key not in cache:
            pi = policy.probs(key * direction)
            cache[key] = pg.sample_episodes(mdp, pi, n_max, horizon, np.random.default_rng(seed))
        return cache[key]

    def compute(fig, theta_scale, n_episodes):
        theta = theta_scale * direction
        exact = pg.policy_gradient(mdp, policy, theta)
        n = int(n_episodes) - int(n_episodes) % n_batches
        ep = _nb02_head(batch(theta_scale), n)
        k = n // n_batches
        parts = np.array([pg.reinforce_gradient(policy, theta, _nb02_slice(ep, b * k, (b + 1) * k), mdp.gamma)
                          for b in range(n_batches)])
        est = parts.mean(axis=0)
        se = parts.std(axis=0, ddof=1) / np.sqrt(n_batches)
        ax = fig.subplots(gridspec_kw=_nb02_fixed_layout(fig, left=0.08, right=0.98, bottom=0.14, top=0.91))
        plots.gradient_bars(ax, exact[live], est[live], se[live], labels,
                            title=f"exact vs sampled gradient, theta = {theta_scale:.2f} * direction, N = {n}")
        cos = float(exact.ravel() @ est.ravel() / (np.linalg.norm(exact) * np.linalg.norm(est)))
        rel = float(np.linalg.norm(est - exact) / np.linalg.norm(exact))
        return (f"exact    |grad U| = {np.linalg.norm(exact):.4f}\n"
                f"sampled  |g_hat|  = {np.linalg.norm(est):.4f}   cosine(exact, sampled) = {cos:.3f}\n"
                f"relative error |g_hat - grad U| / |grad U| = {rel:.3f}  (N = {n})")

    def controls():
        return {"theta_scale": _nb02_slider("float", theta_scale, -2.0, 2.0, 0.25, "theta scale"),
                "n_episodes": _nb02_slider("int", n_episodes, 100, n_max, 100, "episodes N")}

    return Explorer(compute, {"theta_scale": theta_scale, "n_episodes": n_episodes}, controls,
                    title="Score-times-return estimates vs the exact gradient")


def _nb02_slice(episodes, lo, hi):
    import dataclasses
    return type(episodes)(**{f.name: getattr(episodes, f.name)[lo:hi] for f in dataclasses.fields(episodes)})


# ==== section: notebooks 03-05 (baselines, parameterisations, Monte Carlo) ====

# ---- helpers shared by notebooks 03-05 (numpy only; candidates for the core) ----

def reward_shifted(mdp, shift: float):
    """The same MDP with `shift` added to r(s, a) of every non-terminal state (terminal states keep 0):
    a common offset in the rewards, which a baseline b(s) is there to remove."""
    from .mdp import TabularMDP
    live = ~mdp.terminal
    return TabularMDP(mdp.P, mdp.R + float(shift) * live[:, None], mdp.mu, mdp.gamma,
                      mdp.terminal if mdp.episodic else None)


def mean_se(samples):
    """(mean, standard error) over axis 0 of per-sample estimates (N, ...): se = std(ddof=1) / sqrt(N)."""
    import numpy as np
    x = np.asarray(samples, dtype=float)
    return x.mean(axis=0), x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])


def mc_action_values(episodes, gamma, S: int, A: int):
    """Every-visit Monte Carlo estimate of Q: the average of G_t over the real steps with (s_t, a_t) = (s, a),
    shape (S, A), and the visit counts (S, A). Pairs never tried get 0."""
    import numpy as np

    from .estimators import discounted_returns
    ep = episodes
    G = discounted_returns(ep.rewards, gamma, ep.mask)
    k = (ep.states * A + ep.actions).ravel()
    tot = np.bincount(k, weights=G.ravel(), minlength=S * A).reshape(S, A)
    cnt = np.bincount(k, weights=ep.mask.ravel(), minlength=S * A).reshape(S, A)
    return np.divide(tot, cnt, out=np.zeros((S, A)), where=cnt > 0), cnt


def truncated_values(mdp, pi, k: int):
    """Exact k-step values V_k(s) = E[sum_{t<k} gamma^t r_t | s_0 = s] (S,), by k Bellman backups from V_0 = 0
    (a finite sum, no tolerance): what a return cut after k steps estimates."""
    import numpy as np
    P_pi, r_pi = mdp.policy_matrices(pi)
    live = ~mdp.terminal
    V = np.zeros(mdp.S)
    for _ in range(int(k)):
        V = np.where(live, r_pi + mdp.gamma * P_pi @ V, 0.0)
    return V


def bandit_score_variance(theta: float, sigma: float, a_star: float = 1.0, centred: bool = False) -> float:
    """Exact variance of the single-sample score-function estimate (r(a) - b) (a - theta)/sigma^2 on the
    quadratic bandit r(a) = -(a - a_star)^2, a ~ N(theta, sigma^2). With c = theta - a_star, a = theta + sigma z
    (E z^2 = 1, E z^4 = 3, E z^6 = 15):

        b = 0:                  Var = c^4 / sigma^2 + 14 c^2 + 15 sigma^2   (grows like 1/sigma^2 as sigma -> 0)
        b = U = -c^2 - sigma^2 (centred=True):  the estimate is -2c z^2 - sigma z^3 + sigma z,
                                Var = 8 c^2 + 10 sigma^2                    (bounded as sigma -> 0)
    """
    c = float(theta) - float(a_star)
    s2 = float(sigma) ** 2
    if centred:
        return 8.0 * c**2 + 10.0 * s2
    return c**4 / s2 + 14.0 * c**2 + 15.0 * s2


def lqr_reinforce_samples(lqr, policy, theta, n_episodes: int, horizon: int, rng):
    """Per-episode REINFORCE estimates sum_t gamma^t score_t G_t on the 1-D LQR, shape (N,): their mean is
    `lqr.reinforce_gradient(...)` with the same rng state, an unbiased estimate of lqr.gradient(theta, sigma,
    horizon)."""
    import numpy as np

    from .estimators import discounted_returns
    xs, us, rs = lqr.rollout(policy, theta, n_episodes, horizon, rng)
    G = discounted_returns(rs, lqr.gamma)
    score = policy.grad_log_prob(theta, xs[..., None], us)[..., 0]
    return (lqr.gamma ** np.arange(xs.shape[1]) * score * G).sum(axis=1)


def _nb03_two_axes(fig, width_ratios=(1, 1), sharey=False):
    """Two side-by-side axes with fixed margins: switches the figure's constrained layout off (its extra
    layout pass costs tens of ms per redraw, too much for a slider)."""
    if fig.get_layout_engine() is not None:
        fig.set_layout_engine(None)  # None, not "none": a "none" placeholder still makes savefig draw twice
    gs = fig.add_gridspec(1, 2, left=0.07, right=0.98, bottom=0.2, top=0.9, wspace=0.22,
                          width_ratios=list(width_ratios))
    ax1 = fig.add_subplot(gs[0])
    return ax1, fig.add_subplot(gs[1], sharey=ax1 if sharey else None)


def _nb03_pair_labels(mdp, states):
    return [f"({s},{a})" for s in states for a in range(mdp.A)]


# ---- 03: baselines -------------------------------------------------------------------------------------

BASELINES_03 = ("none", "constant 10", "V(s)", "Q(s,a)")


@register("03_baselines_advantage")
def baseline_explorer(seed: int = 3, shift: float = 1.0, n_max: int = 20000, horizon: int = 60) -> Explorer:
    """Sampled REINFORCE gradient with a baseline choice (none, constant b = 10, b = V(s), the action-dependent
    b = Q(s, a)) beside the exact gradient and the exact expectation of the estimator.

    Precomputed once: the exact quantities and the per-episode estimates of n_max episodes for every
    baseline (a slider takes the first N of them)."""
    import ipywidgets as W
    import numpy as np

    import pgcourse as pg

    from . import plots

    mdp = reward_shifted(pg.random_mdp(5, 3, 0.9, np.random.default_rng(seed), n_terminal=1), shift)
    policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = np.random.default_rng(1).normal(size=(mdp.S, mdp.A))
    ev = pg.evaluate(mdp, policy.probs(theta))
    grad = pg.policy_gradient(mdp, policy, theta)
    live = np.flatnonzero(~mdp.terminal)
    B = {"none": np.zeros((mdp.S, mdp.A)), "constant 10": np.full((mdp.S, mdp.A), 10.0),
         "V(s)": np.repeat(ev.V[:, None], mdp.A, axis=1), "Q(s,a)": ev.Q}
    ep = pg.sample_episodes(mdp, ev.pi, n_max, horizon, np.random.default_rng(0))
    G = pg.discounted_returns(ep.rewards, mdp.gamma, ep.mask)
    samples, expected = {}, {}
    for name, b in B.items():
        samples[name] = per_episode_gradients(policy, theta, ep, G - b[ep.states, ep.actions], mdp.gamma)[:, live, :]
        samples[name] = samples[name].reshape(n_max, -1)
        expected[name] = (ev.effective_horizon * pg.score_expectation(mdp, policy, theta, ev.Q - b))[live].ravel()
    exact = grad[live].ravel()
    labels = _nb03_pair_labels(mdp, live)
    j = int(np.argmax(np.abs(exact)))  # the component shown in the histogram
    var_none = float(np.trace(np.cov(samples["none"].T)))

    def compute(fig, baseline="V(s)", n_episodes=1000):
        X = samples[baseline][:n_episodes]
        m, se = mean_se(X)
        tr = float(np.trace(np.cov(X.T)))
        tr_none = float(np.trace(np.cov(samples["none"][:n_episodes].T)))
        ax1, ax2 = _nb03_two_axes(fig, width_ratios=(1.4, 1))
        plots.gradient_components(ax1, exact, m, se, labels=labels, expected=expected[baseline], legend=False,
                                  title="grad U (bars), E[estimator] (red), sampled +- 2 s.e. (blue)")
        plots.estimate_histogram(ax2, X[:, j], exact=exact[j], expected=expected[baseline][j], legend=False,
                                 xlabel=f"per-episode estimate of component {labels[j]}",
                                 title="mean (blue), exact (black), E[estimator] (red)")
        bias = expected[baseline] - exact
        seen = se > 0  # a component whose state no episode of the first N visited has s.e. 0: skip it
        z = np.abs(m - expected[baseline])[seen] / se[seen]
        return "\n".join([
            f"baseline {baseline:8s}  N = {n_episodes} episodes (the first N of {n_max}, seed 0)",
            (f"component {labels[j]}:  exact grad U = {exact[j]:.4f}   E[estimator] = {expected[baseline][j]:.4f}"
            f"   sampled = {m[j]:.3f} +- {se[j]:.3f}"),
            f"exact bias  max_k |E[estimator] - grad U| = {np.abs(bias).max():.4f}",
            f"sampled     max_k |mean - E[estimator]| / s.e. = {z.max():.2f}"
            + ("" if seen.all() else f"   ({int((~seen).sum())} components never sampled)"),
            (f"variance    trace Cov(per-episode estimate) = {tr:.3f}   (no baseline: {tr_none:.3f},"
            f" ratio {tr / tr_none:.3f})"),
        ])

    def make_controls():
        return {"baseline": W.Dropdown(options=list(BASELINES_03), value="V(s)", description="baseline"),
                "n_episodes": W.IntSlider(value=1000, min=20, max=n_max, step=20, continuous_update=False,
                                          description="N episodes")}

    ex = Explorer(compute, {"baseline": "V(s)", "n_episodes": 1000}, make_controls,
                  title="REINFORCE with a baseline: sampled vs exact")
    ex.data = {"mdp": mdp, "policy": policy, "theta": theta, "samples": samples, "expected": expected,
               "exact": exact, "var_none": var_none}
    return ex


# ---- 04: Gaussian score function ----------------------------------------------------------------------

@register("04_parameterisations")
def gaussian_score_explorer(theta: float = 0.0, a_star: float = 1.0, n_max: int = 100000, seed: int = 0) -> Explorer:
    """Score-function gradient of U(theta) = E[-(a - a_star)^2], a ~ N(theta, sigma^2), from N samples:
    histogram of the per-sample estimates (r(a) - b) (a - theta)/sigma^2 (b = 0, or the baseline b = U(theta)),
    their mean +- s.e. beside the exact gradient -2 (theta - a_star), and the exact variance
    (`bandit_score_variance`) beside the sampled one.
    Precomputed once: n_max standard normals z (a = theta + sigma z reuses them for every sigma)."""
    import ipywidgets as W
    import numpy as np

    import pgcourse as pg

    from . import plots

    bandit = pg.QuadraticBandit(a_star)
    th = np.array([float(theta)])
    z = np.random.default_rng(seed).standard_normal(n_max)
    exact = float(bandit.gradient(th)[0])
    sig_grid = np.geomspace(0.02, 3.0, 80)
    lsig = np.log10(sig_grid)
    lvar = {c: np.log10([bandit_score_variance(theta, s, a_star, centred=c) for s in sig_grid]) for c in (False, True)}
    xt, xtl = np.log10([0.02, 0.1, 0.5, 2.0]), ["0.02", "0.1", "0.5", "2"]
    yt, ytl = np.arange(0, 5), ["1", "10", "100", "1e3", "1e4"]

    def compute(fig, sigma=0.5, n_samples=10000, baseline=False):
        policy = pg.GaussianPolicy(sigma)
        a = th[0] + sigma * z[:n_samples]
        b = bandit.objective(th, sigma) if baseline else 0.0
        g = (bandit.reward(a) - b) * policy.grad_log_prob(th, np.ones((n_samples, 1)), a)[:, 0]
        m, se = mean_se(g)
        v_exact = bandit_score_variance(theta, sigma, a_star, centred=baseline)
        v_s = float(g.var(ddof=1))
        ax1, ax2 = _nb03_two_axes(fig)
        plots.estimate_histogram(ax1, g, exact=exact, legend=False, xlabel="(r(a) - b) (a - theta) / sigma^2",
                                 title=f"N = {n_samples}: mean (blue) vs exact (black)")
        # log-log drawn on linear axes with a few fixed ticks: log axes cost ~50 ms more per redraw
        ax2.plot(lsig, lvar[False], "k-", lw=1)
        ax2.plot(lsig, lvar[True], "k--", lw=1)
        ax2.plot([np.log10(sigma)], [np.log10(v_s)], "o", color="C0")
        ax2.axvline(np.log10(sigma), color="C0", lw=0.6)
        ax2.set_xticks(xt, xtl)
        ax2.set_yticks(yt, ytl)
        ax2.set_xlabel("sigma (log scale)")
        ax2.set_ylabel("Var of one estimate (log)")
        ax2.set_title("exact Var: b = 0 (solid), b = U (dashed); sampled (dot)", fontsize=9, y=1.0)
        return "\n".join([
            f"sigma = {sigma:.2f}  N = {n_samples} (a = theta + sigma z, the first N of {n_max} presampled z, seed {seed})",
            f"theta = {theta:.2f}  a* = {a_star:.2f}  baseline b = " + (f"U(theta) = {b:.4f}" if baseline else "0"),
            (f"exact   dU/dtheta = {exact:.4f}          sampled = {m:.3f} +- {se:.3f}"
            f"   (|diff| / s.e. = {abs(m - exact) / se:.2f})"),
            f"exact   Var(one estimate) = {v_exact:.2f}   sampled = {v_s:.2f}",
            f"exact   s.e. of the mean  = {np.sqrt(v_exact / n_samples):.4f}",
        ])

    def make_controls():
        return {"sigma": W.FloatSlider(value=0.5, min=0.05, max=2.0, step=0.05, continuous_update=False,
                                       description="sigma"),
                "n_samples": W.IntSlider(value=10000, min=100, max=n_max, step=100, continuous_update=False,
                                         description="N samples"),
                "baseline": W.ToggleButton(value=False, description="baseline b = U")}

    return Explorer(compute, {"sigma": 0.5, "n_samples": 10000, "baseline": False}, make_controls,
                    title="Gaussian policy: score-function gradient vs exact")


# ---- 05: REINFORCE learning curves --------------------------------------------------------------------

N_CHOICES_05 = (1, 2, 5, 10, 20, 50)


@register("05_monte_carlo_reinforce")
def reinforce_explorer(lr: float = 5.0, n_iters: int = 100, seeds=(0, 1, 2), horizon: int = 100,
                       runs: dict | None = None) -> Explorer:
    """Learning curves (exact U of the iterates) of REINFORCE, with or without the baseline b = V (an exact
    critic), for N episodes per iteration, beside exact gradient ascent with the same learning rate, on
    gridworld(step_reward=-0.02).

    The curves are computed by `pg.train` the first time an (N, baseline) pair is asked for and cached; the
    factory computes the default pair (N = 10, baseline on), so a refresh at the defaults only redraws.
    runs: optional {(N, baseline): (len(seeds), n_iters + 1) exact-U curves} already computed by the caller with
    exactly these settings (pg.train(..., lr, n_iters, n_episodes=N, horizon, seed=s, critic="exact") for s in
    seeds), to fill the cache instead of recomputing them."""
    import ipywidgets as W
    import numpy as np

    import pgcourse as pg

    from . import plots

    mdp = pg.gridworld(step_reward=-0.02)
    policy = pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta0 = policy.zeros()
    u_star = float(mdp.mu @ pg.optimal_values(mdp)[0])
    exact_U = pg.train(mdp, policy, theta0, method="exact", lr=lr, n_iters=n_iters).U
    cache = {}
    for (n, baseline), U in (runs or {}).items():
        U = np.asarray(U, dtype=float)
        if U.shape != (len(seeds), n_iters + 1):
            raise ValueError(f"runs[{(n, baseline)}] must have shape {(len(seeds), n_iters + 1)}, got {U.shape}")
        cache[(int(n), bool(baseline))] = U

    def curves(n, baseline):
        key = (n, bool(baseline))
        if key not in cache:
            method = "reinforce_baseline" if baseline else "reinforce"
            cache[key] = np.array([pg.train(mdp, policy, theta0, method=method, lr=lr, n_iters=n_iters,
                                            n_episodes=n, horizon=horizon, seed=s, critic="exact").U
                                   for s in seeds])
        return cache[key]

    curves(10, True)

    def compute(fig, n_episodes=10, baseline=True):
        U = curves(n_episodes, baseline)
        name = "REINFORCE" + (" + baseline V" if baseline else "")
        ax1, ax2 = _nb03_two_axes(fig, sharey=True)
        plots.learning_curves(ax1, {"exact gradient": exact_U, f"{name}, N = {n_episodes}": U}, legend=False,
                              optimum=u_star, title="exact ascent (blue) vs sampled (orange), U* dashed")
        eps = np.arange(n_iters + 1) * n_episodes
        plots.learning_curves(ax2, {f"{name}, N = {n_episodes}": U}, x=eps, optimum=u_star, legend=False,
                              xlabel="episodes used", title=f"{name}, N = {n_episodes}: U vs episodes",
                              first_color=1)
        k = [n_iters // 4, n_iters // 2, n_iters]
        return "\n".join([
            f"{name}, N = {n_episodes} episodes / iteration, lr = {lr}, {len(seeds)} seeds; optimal U* = {u_star:.4f}",
            "iteration            " + "".join(f"{i:>9d}" for i in k),
            "exact gradient  U    " + "".join(f"{exact_U[i]:9.4f}" for i in k),
            "sampled (mean)  U    " + "".join(f"{U[:, i].mean():9.4f}" for i in k),
            "sampled (min)   U    " + "".join(f"{U[:, i].min():9.4f}" for i in k),
            f"episodes used by iteration {n_iters}: {n_iters * n_episodes} (exact: none, it uses the model)",
            "(curves: pg.train runs, computed the first time this (N, baseline) is chosen, then cached)",
        ])

    def make_controls():
        return {"n_episodes": W.SelectionSlider(options=list(N_CHOICES_05), value=10, continuous_update=False,
                                                description="N / iter"),
                "baseline": W.ToggleButton(value=True, description="baseline b = V")}

    ex = Explorer(compute, {"n_episodes": 10, "baseline": True}, make_controls,
                  title="REINFORCE learning curves vs exact gradient ascent")
    ex.data = {"mdp": mdp, "exact_U": exact_U, "u_star": u_star, "curves": curves}
    return ex


# ==== section: notebooks 06-08 (TD, GAE, putting it together) ====

# ---- shared machinery for notebooks 06-08 (the exact expectations live in pgcourse.exact) ----
import numpy as np  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402

import pgcourse as _pg  # noqa: E402
from pgcourse._validate import as_count as _as_count, as_float_array as _as_float_array  # noqa: E402
from pgcourse._validate import as_policy_matrix as _as_policy_matrix, as_scalar as _as_scalar  # noqa: E402


def td_demo_problem():
    """The small MDP of notebooks 06-07 and their widgets: (mdp, policy, theta, horizon).

    mdp = random_mdp(6, 3, gamma=0.95, rng 1, one terminal state (5), branching 3): episodes last ~17 steps,
    a few per cent are still running at the horizon T = 60 (truncated). policy: tabular softmax, theta (6, 3)
    = 0.5 * N(0, 1) draws from rng 1 (a fixed, non-uniform policy)."""
    mdp = _pg.random_mdp(6, 3, 0.95, np.random.default_rng(1), n_terminal=1, branching=3)
    policy = _pg.SoftmaxPolicy.tabular(6, 3)
    theta = 0.5 * np.random.default_rng(1).normal(size=(6, 3))
    return mdp, policy, theta, 60


def critic_error_direction(mdp, seed: int = 7) -> np.ndarray:
    """A fixed critic-error direction e (S,): N(0, 1) draws scaled to root-mean-square 1 over the non-terminal
    states, 0 on terminal states. A wrong critic is V_hat = V + size * e."""
    e = np.random.default_rng(seed).normal(size=mdp.S) * ~mdp.terminal
    return e / np.sqrt((e[~mdp.terminal] ** 2).mean())


def td_fixed_point(episodes, gamma, S) -> np.ndarray:
    """The value batch TD(0) (`td0_values`) converges to: the exact V of the batch's empirical chain, (S,).

    r_hat(s) = mean reward of the steps from s, P_hat(s, s') = fraction of steps from s that moved to a
    non-terminal s' (a terminal next state contributes 0; a truncated step still bootstraps), and
    V = (I - gamma P_hat)^-1 r_hat on the visited states; unvisited states keep 0 (td0_values' V0)."""
    ep = episodes
    m = ep.mask.ravel() > 0
    s, s2 = ep.states.ravel()[m], ep.next_states.ravel()[m]
    r, term = ep.rewards.ravel()[m], ep.terminated.ravel()[m]
    cnt = np.bincount(s, minlength=S).astype(float)
    vis = np.flatnonzero(cnt > 0)
    P_hat = np.zeros((S, S))
    np.add.at(P_hat, (s[~term], s2[~term]), 1.0)
    P_hat[vis] /= cnt[vis, None]
    r_hat = np.bincount(s, weights=r, minlength=S)[vis] / cnt[vis]
    V = np.zeros(S)
    V[vis] = np.linalg.solve(np.eye(vis.size) - gamma * P_hat[np.ix_(vis, vis)], r_hat)
    return V


def first_episodes(episodes, n: int):
    """The first n episodes of a batch (an Episodes of N = n)."""
    n = _as_count(n, "n")
    if n > episodes.n_episodes:
        raise ValueError(f"n = {n} but the batch has only {episodes.n_episodes} episodes")
    ep = episodes
    return type(ep)(*(x[:n] for x in (ep.states, ep.actions, ep.rewards, ep.next_states, ep.mask,
                                       ep.terminated, ep.truncated)))


def per_pair_means(episodes, values, S, A, where=None):
    """Average of values (N, T) over the real steps with (s_t, a_t) = (s, a): (mean, se, count), each (S, A).
    where: optional (N, T) bool selecting steps (e.g. t = 0 only). se = sample std / sqrt(count) (NaN if < 2)."""
    sel = episodes.mask > 0 if where is None else (episodes.mask > 0) & np.asarray(where, dtype=bool)
    idx = (episodes.states * A + episodes.actions)[sel]
    v = np.asarray(values, dtype=float)[sel]
    cnt = np.bincount(idx, minlength=S * A).astype(float)
    tot = np.bincount(idx, weights=v, minlength=S * A)
    sq = np.bincount(idx, weights=v * v, minlength=S * A)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
        var = (sq - cnt * np.nan_to_num(mean) ** 2) / (cnt - 1)
        se = np.where(cnt > 1, np.sqrt(np.maximum(var, 0) / np.maximum(cnt, 1)), np.nan)
    return mean.reshape(S, A), se.reshape(S, A), cnt.reshape(S, A)


def total_variance(samples) -> float:
    """trace of the covariance of per-episode gradient samples (N, ...): sum over coordinates of the sample
    variance. The variance of an average of n episodes is total_variance / n."""
    g = np.asarray(samples, dtype=float).reshape(len(samples), -1)
    return float(g.var(axis=0, ddof=1).sum())


def cosine(u, v) -> float:
    """u . v / (|u| |v|) of two arrays of the same shape (0 if one is zero)."""
    u, v = np.ravel(u), np.ravel(v)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    return float(u @ v / (nu * nv)) if nu > 0 and nv > 0 else 0.0


# the built-in estimators of the lab: (episodes, V, gamma) -> per-step weights (N, T)
def _w_reinforce(ep, V, gamma):
    return _pg.discounted_returns(ep.rewards, gamma, ep.mask)


def _w_reinforce_baseline(ep, V, gamma):
    return (_pg.discounted_returns(ep.rewards, gamma, ep.mask) - np.asarray(V)[ep.states]) * ep.mask


def _w_actor_critic(ep, V, gamma):
    return _pg.td_errors(ep, V, gamma)


def _w_gae95(ep, V, gamma):
    return _pg.gae(ep, V, gamma, 0.95)


BUILTIN_ESTIMATORS = {"REINFORCE": _w_reinforce, "REINFORCE+baseline": _w_reinforce_baseline,
                      "actor-critic": _w_actor_critic, "GAE(0.95)": _w_gae95}
"""name -> estimator(episodes, V, gamma) -> per-step weights (N, T); the gradient estimate is
mean_n sum_t gamma^t grad log pi(a_t|s_t) weights[n, t]."""


@_dataclass(frozen=True)
class EstimatorScore:
    """How an estimator scores against the exact gradient on one big batch of N episodes.

    mean (theta's shape): the average of the N per-episode gradients (estimates its expectation);
    bias_norm = |mean - exact grad|; noise_floor = sqrt(total_variance / N) (what bias_norm would be, typically,
    for an unbiased estimator); variance = total_variance per episode; cosine {n: average over disjoint groups
    of n episodes of cos(group-average gradient, exact grad)}; samples (N, *theta.shape)."""

    name: str
    mean: np.ndarray
    bias_norm: float
    noise_floor: float
    variance: float
    cosine: dict
    samples: np.ndarray

    def row(self) -> str:
        cos = "  ".join(f"{self.cosine[n]:6.3f}" for n in sorted(self.cosine))
        return (f"{self.name:<20s} {self.bias_norm:8.4f} {self.noise_floor:8.4f} {self.variance:10.4f}   {cos}")


def score_estimator(name, estimator, policy, theta, episodes, V, gamma, exact_grad,
                    batch_sizes=(10, 30, 100, 300, 1000)) -> EstimatorScore:
    """Score estimator(episodes, V, gamma) -> weights (N, T) against the exact gradient on the batch `episodes`.
    See EstimatorScore. Raises ValueError if the estimator returns the wrong shape or non-finite numbers."""
    w = np.asarray(estimator(episodes, V, gamma), dtype=float)
    if w.shape != episodes.states.shape:
        raise ValueError(f"estimator {name!r} returned shape {w.shape}, expected {episodes.states.shape} (N, T)")
    if not np.isfinite(w).all():
        raise ValueError(f"estimator {name!r} returned NaN or inf")
    g = per_episode_gradients(policy, theta, episodes, w, gamma)
    N = len(g)
    mean = g.mean(axis=0)
    var = total_variance(g)
    flat, ex = g.reshape(N, -1), np.ravel(exact_grad)
    cos = {}
    for n in batch_sizes:
        k = N // n
        if k >= 1:
            G = flat[: k * n].reshape(k, n, -1).mean(axis=1)
            cos[n] = float(np.mean(G @ ex / (np.linalg.norm(G, axis=1) * np.linalg.norm(ex) + 1e-300)))
    return EstimatorScore(name, mean, float(np.linalg.norm(mean - exact_grad)), float(np.sqrt(var / N)), var, cos, g)


def score_table(scores) -> str:
    """A fixed-width table of EstimatorScores (numbers rounded to 4 decimals)."""
    ns = sorted(scores[0].cosine)
    head = f"{'estimator':<20s} {'|bias|':>8s} {'noise':>8s} {'var/episode':>10s}   " + "  ".join(
        f"{'cos@' + str(n):>6s}" for n in ns)
    return "\n".join([head] + [s.row() for s in scores])


def _fixed_layout(ex: Explorer) -> Explorer:
    """Fixed margins instead of the constrained layout engine for a two-axes explorer figure: the same look
    for these figures, and about half the render time of a refresh (no layout solve on every PNG)."""
    ex.fig.set_layout_engine("none")
    return ex


def _two_axes(fig):
    """Two side-by-side axes with fixed margins (see _fixed_layout); set on every draw (fig.clear resets)."""
    fig.subplotpars.update(left=0.075, right=0.985, bottom=0.14, top=0.92, wspace=0.25)
    return fig.subplots(1, 2)


def _cache(f):
    import functools
    return functools.lru_cache(maxsize=32)(f)


# ---- notebook 06: critic error -> sampled E[delta | s, a] vs exact A ----

@register("06_td_actor_critic")
def td_critic_explorer(critic_error: float = 0.5, n_episodes: int = 2000, seed: int = 0, episodes=None) -> Explorer:
    """Critic V_hat = V + critic_error * e (e = critic_error_direction): the per-(s, a) sampled mean of the TD
    errors of the first n_episodes of a cached batch beside the exact E[delta | s, a] and the exact A; the
    exact bias gamma P e - e, and the exact expected actor-critic gradient beside the true one.
    episodes: the batch to use (>= 20000 episodes of td_demo_problem's policy), default 20000 sampled with seed."""
    from . import plots as pgp
    mdp, policy, theta, T = td_demo_problem()
    pi = policy.probs(theta)
    ev = _pg.evaluate(mdp, pi)
    e = critic_error_direction(mdp)
    big = _pg.sample_episodes(mdp, pi, 20000, T, np.random.default_rng(seed)) if episodes is None else episodes
    grad = _pg.policy_gradient(mdp, policy, theta)
    live = ~mdp.terminal

    def compute(fig, critic_error, n_episodes):
        V_hat = ev.V + critic_error * e
        ep = first_episodes(big, n_episodes)
        delta = _pg.td_errors(ep, V_hat, mdp.gamma)
        mean, se, cnt = per_pair_means(ep, delta, mdp.S, mdp.A)
        exact_d = expected_td_error(mdp, V_hat)
        g_ac = expected_gradient_estimate(mdp, policy, theta, V_hat, 0.0, T)
        g_hat = _pg.advantage_gradient(policy, theta, ep, delta, mdp.gamma)
        ax1, ax2 = _two_axes(fig)
        pgp.plot_pair_scatter(ax1, ev.A[live], mean[live], se[live], exact_d[live],
                              title=f"E[delta | s, a], critic error {critic_error:.2f}, N = {n_episodes}")
        pgp.plot_gradient_bars(ax2, {"exact grad U": grad, "exact E[actor-critic]": g_ac,
                                     f"sampled (N = {n_episodes})": g_hat})
        bias = (exact_d - ev.A)[live]
        ok = cnt[live] > 1
        z = np.abs(mean[live][ok] - exact_d[live][ok]) / se[live][ok]
        return (f"exact  bias of E[delta|s,a]: max |gamma P e - e| = {np.abs(bias).max():.4f}\n"
                f"sampled mean vs exact E[delta|s,a]: max |diff| = {np.nanmax(np.abs(mean - exact_d)[live]):.4f}"
                f"  (max |z| = {z.max():.2f}, min count {int(cnt[live].min())})\n"
                f"exact  |E[g_AC] - grad U| = {np.linalg.norm(g_ac - grad):.4f}   cos = {cosine(g_ac, grad):.4f}\n"
                f"sampled |g_AC - grad U| = {np.linalg.norm(g_hat - grad):.4f}   cos = {cosine(g_hat, grad):.4f}")

    def controls():
        import ipywidgets as W
        return {"critic_error": W.FloatSlider(value=0.5, min=0.0, max=2.0, step=0.1, description="critic error",
                                              continuous_update=False),
                "n_episodes": W.IntSlider(value=2000, min=100, max=20000, step=100, description="N episodes",
                                          continuous_update=False)}

    return _fixed_layout(Explorer(compute, {"critic_error": critic_error, "n_episodes": n_episodes}, controls,
                                  title="TD error as an advantage estimate: exact vs sampled"))


# ---- notebook 07: lambda, gamma, critic error -> exact bias, measured variance ----

LAMBDAS = np.round(np.linspace(0.0, 1.0, 11), 2)


def gae_bias_variance(mdp, policy, theta, V_hat, lams, episodes, horizon):
    """For each lam: exact expected GAE gradient (theta shape), exact squared bias |E[g] - grad U|^2, and the
    measured per-episode total variance on `episodes`. Returns (expected (L, ...), bias2 (L,), var (L,))."""
    grad = _pg.policy_gradient(mdp, policy, theta)
    Eg = np.array([expected_gradient_estimate(mdp, policy, theta, V_hat, lam, horizon) for lam in lams])
    bias2 = ((Eg - grad) ** 2).reshape(len(lams), -1).sum(axis=1)
    var = np.array([total_variance(per_episode_gradients(policy, theta, episodes,
                                                         _pg.gae(episodes, V_hat, mdp.gamma, lam), mdp.gamma))
                    for lam in lams])
    return Eg, bias2, var


@register("07_gae")
def gae_explorer(lam: float = 0.9, gamma: float = 0.95, critic_error: float = 0.5, batch: int = 100,
                 seed: int = 0, episodes=None) -> Explorer:
    """Pick lam, gamma and the critic error: exact bias^2 and measured variance/batch of the GAE gradient
    estimate for every lam (curves, current lam marked), and for the chosen lam the exact expected gradient
    beside a sampled estimate from `batch` episodes and the exact grad U. episodes: the variance pool
    (episodes of td_demo_problem's policy), default 4000 sampled with seed."""
    from . import plots as pgp
    base, policy, theta, T = td_demo_problem()
    pi = policy.probs(theta)
    e = critic_error_direction(base)
    pool = _pg.sample_episodes(base, pi, 4000, T, np.random.default_rng(seed)) if episodes is None else episodes

    @_cache
    def curves(gamma, critic_error):
        mdp = base.with_gamma(gamma)
        ev = _pg.evaluate(mdp, pi)
        V_hat = ev.V + critic_error * e
        Eg, bias2, var = gae_bias_variance(mdp, policy, theta, V_hat, LAMBDAS, pool, T)
        return mdp, V_hat, _pg.policy_gradient(mdp, policy, theta), Eg, bias2, var

    @_cache
    def at_lambda(lam, gamma, critic_error):
        mdp, V_hat, _, _, _, _ = curves(gamma, critic_error)
        g = per_episode_gradients(policy, theta, pool, _pg.gae(pool, V_hat, mdp.gamma, lam), mdp.gamma)
        return (expected_gradient_estimate(mdp, policy, theta, V_hat, lam, T), total_variance(g),
                g.mean(axis=0), g[:batch].mean(axis=0), len(g))

    def compute(fig, lam, gamma, critic_error):
        key = (round(float(gamma), 4), round(float(critic_error), 4))
        _, _, grad, _, bias2, var = curves(*key)
        Eg_lam, v_lam, g_mean, g_small, n_pool = at_lambda(round(float(lam), 4), *key)
        b2 = float(((Eg_lam - grad) ** 2).sum())
        ax1, ax2 = _two_axes(fig)
        pgp.plot_bias_variance(ax1, LAMBDAS, bias2, var / batch, current=(lam, b2, v_lam / batch),
                               title=f"GAE, gamma = {gamma:.2f}, critic error {critic_error:.2f}, batch {batch}")
        pgp.plot_gradient_bars(ax2, {"exact grad U": grad, f"exact E[g], lam = {lam:.2f}": Eg_lam,
                                     f"sampled, {batch} episodes": g_small})
        se = np.sqrt(v_lam / n_pool)
        return (f"lam = {lam:.2f}  gamma = {gamma:.2f}  critic error = {critic_error:.2f}\n"
                f"exact   bias^2 = |E[g] - grad U|^2 = {b2:.4f}\n"
                f"sampled mean of {n_pool} episodes: |mean - E[g]| = {np.linalg.norm(g_mean - Eg_lam):.4f}"
                f"  (noise ~ {se:.4f})\n"
                f"sampled variance per episode = {v_lam:.3f}   variance of a {batch}-episode batch = "
                f"{v_lam / batch:.4f}\n"
                f"MSE of a {batch}-episode batch = {b2 + v_lam / batch:.4f}   cos(exact E[g], grad U) = "
                f"{cosine(Eg_lam, grad):.4f}")

    def controls():
        import ipywidgets as W
        return {"lam": W.FloatSlider(value=0.9, min=0.0, max=1.0, step=0.05, description="lambda",
                                     continuous_update=False),
                "gamma": W.FloatSlider(value=0.95, min=0.5, max=0.99, step=0.01, description="gamma",
                                       continuous_update=False),
                "critic_error": W.FloatSlider(value=0.5, min=0.0, max=2.0, step=0.1, description="critic error",
                                              continuous_update=False)}

    return _fixed_layout(Explorer(compute, {"lam": lam, "gamma": gamma, "critic_error": critic_error}, controls,
                                  title="GAE: exact bias and measured variance vs lambda"))


# ---- notebook 08: the estimator lab on FrozenLake ----

def frozen_lake_lab(gamma: float = 0.99, n_episodes: int = 10000, horizon: int = 100, critic_episodes: int = 200,
                    seed: int = 0):
    """The estimator lab's setting: FrozenLake 4x4 (pg.frozen_lake(gamma)), a tabular softmax policy that
    prefers down and right a little (theta[:, down] = theta[:, right] = 0.5), a big batch of n_episodes for
    scoring, and a critic V_td learned by TD(0) (200 sweeps) on a separate small batch of critic_episodes.
    Returns a dict: mdp, policy, theta, pi, ev, grad (exact), episodes, V_td, horizon."""
    mdp = _pg.frozen_lake(gamma)
    policy = _pg.SoftmaxPolicy.tabular(mdp.S, mdp.A)
    theta = np.zeros((mdp.S, mdp.A))
    theta[:, [1, 2]] = 0.5
    pi = policy.probs(theta)
    rng = np.random.default_rng(seed)
    critic_batch = _pg.sample_episodes(mdp, pi, critic_episodes, horizon, rng)
    V_td = _pg.td0_values(critic_batch, gamma, mdp.S, alpha=0.5, n_sweeps=200)
    episodes = _pg.sample_episodes(mdp, pi, n_episodes, horizon, rng)
    return {"mdp": mdp, "policy": policy, "theta": theta, "pi": pi, "ev": _pg.evaluate(mdp, pi),
            "grad": _pg.policy_gradient(mdp, policy, theta), "episodes": episodes, "V_td": V_td,
            "horizon": horizon}


# the exact expectation of each built-in estimator: (critic to use, lam) for expected_gradient_estimate;
# None = the lab's TD critic. REINFORCE is GAE with V = 0, lam = 1; a baseline leaves the expectation unchanged.
_BUILTIN_EXACT = {"REINFORCE": ("zero", 1.0), "REINFORCE+baseline": ("zero", 1.0), "actor-critic": (None, 0.0),
                  "GAE(0.95)": (None, 0.95)}


@register("08_putting_it_together")
def estimator_lab_explorer(estimator: str = "GAE(0.95)", n_episodes: int = 100, extra=None, lab=None,
                           scores=None) -> Explorer:
    """Pick an estimator and a batch size n: cosine similarity with the exact gradient vs n for every
    estimator (the chosen one highlighted), and the chosen estimate's components against the exact ones.
    extra: optional {name: estimator(episodes, V, gamma) -> (N, T)} added to the built-ins (a student's).
    lab: a frozen_lake_lab() dict to reuse; scores: EstimatorScores already computed on lab's episodes (with
    batch sizes (10, 30, 100, 300, 1000) or more) to reuse instead of recomputing."""
    from . import plots as pgp
    lab = frozen_lake_lab() if lab is None else lab
    ests = dict(BUILTIN_ESTIMATORS, **(extra or {}))
    names = list(ests)
    if estimator not in ests:
        raise ValueError(f"estimator must be one of {names}, got {estimator!r}")
    sizes = (10, 30, 100, 300, 1000)
    scores = {sc.name: sc for sc in (scores or [])}
    exact = {}

    def exact_bias(name):
        if name not in _BUILTIN_EXACT:
            return None
        if name not in exact:
            V_kind, lam = _BUILTIN_EXACT[name]
            V = np.zeros(lab["mdp"].S) if V_kind == "zero" else lab["V_td"]
            Eg = expected_gradient_estimate(lab["mdp"], lab["policy"], lab["theta"], V, lam, lab["horizon"])
            exact[name] = float(np.linalg.norm(Eg - lab["grad"]))
        return exact[name]

    def get(name):
        if name not in scores:
            scores[name] = score_estimator(name, ests[name], lab["policy"], lab["theta"], lab["episodes"],
                                           lab["V_td"], lab["mdp"].gamma, lab["grad"], sizes)
        return scores[name]

    def compute(fig, estimator, n_episodes):
        sc = get(estimator)
        all_sc = [get(n) for n in names]
        eb = exact_bias(estimator)
        eb_txt = f"{eb:.4f}" if eb is not None else "n/a (no exact expression for this estimator)"
        grad = lab["grad"]
        g_n = sc.samples[:n_episodes].mean(axis=0)
        ax1, ax2 = _two_axes(fig)
        pgp.plot_cosine_vs_n(ax1, all_sc, highlight=estimator, current=n_episodes)
        pgp.plot_component_scatter(ax2, grad, {f"{estimator}, first {n_episodes} episodes": g_n,
                                               f"{estimator}, mean of {len(sc.samples)}": sc.mean})
        return (f"{estimator}  (critic: TD(0) from 200 episodes)\n"
                f"exact   |grad U| = {np.linalg.norm(grad):.4f}   exact |E[g] - grad U| = {eb_txt}\n"
                f"sampled |bias| = {sc.bias_norm:.4f} (noise floor {sc.noise_floor:.4f})   variance per episode = "
                f"{sc.variance:.4f}\n"
                f"first {n_episodes} episodes: |g - grad U| = {np.linalg.norm(g_n - grad):.4f}   cos = "
                f"{cosine(g_n, grad):.4f}   expected |error|^2 ~ bias^2 + var/n = "
                f"{sc.bias_norm ** 2 + sc.variance / n_episodes:.4f}")

    def controls():
        import ipywidgets as W
        return {"estimator": W.Dropdown(options=names, value=estimator, description="estimator"),
                "n_episodes": W.IntSlider(value=n_episodes, min=10, max=5000, step=10, description="n episodes",
                                          continuous_update=False)}

    return _fixed_layout(Explorer(compute, {"estimator": estimator, "n_episodes": n_episodes}, controls,
                                  title="Estimator lab: sampled gradient estimates vs the exact gradient (FrozenLake)"))



# ==== end of sections ====
