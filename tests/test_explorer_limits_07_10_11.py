"""Explorers 07, 10 and 11 fix (or step) their axis limits so that a move redraws few artists: whatever the
controls, every drawn point stays inside its axes (nothing is clipped off a fixed axis)."""
import itertools

import numpy as np
import pytest

import pgcourse.widgets as pgw
from pgcourse.widgets.convergence import LRS_10, METHODS_10, TAUS_10
from pgcourse.widgets.critics import CRITICS_11, K_CHOICES_11


def _outside(fig) -> list:
    """(axes index, label, how many) of every line with finite data outside its axes' limits."""
    out = []
    for i, ax in enumerate(fig.axes):
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        for line in ax.lines:
            if not line.get_visible():
                continue
            x, y = (np.asarray(v, dtype=float) for v in (line.get_xdata(), line.get_ydata()))
            if x.size == 0:
                continue
            tr = line.get_transform()
            check_x = tr in (ax.transData, ax.get_xaxis_transform())   # axhline: x in axes coordinates
            check_y = tr in (ax.transData, ax.get_yaxis_transform())   # axvline: y in axes coordinates
            bad = np.zeros(x.shape, dtype=bool)
            if check_x:
                bad |= np.isfinite(x) & ((x < x0) | (x > x1))
            if check_y:
                bad |= np.isfinite(y) & ((y < y0) | (y > y1))
            if bad.any():
                out.append((i, line.get_label(), int(bad.sum())))
    return out


def test_10_every_run_of_the_controls_lies_inside_the_fixed_axes():
    ex = pgw.EXPLORERS["10_convergence"]()
    ex.refresh()
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes]
    for method, lr, tau in itertools.product(METHODS_10, LRS_10, TAUS_10):
        ex.refresh(method=method, lr=lr, tau=tau)
        assert not _outside(ex.fig), (method, lr, tau, _outside(ex.fig))
        assert [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes] == limits, "an axis moved"


def test_11_every_critic_lies_inside_the_fixed_axes():
    ex = pgw.EXPLORERS["11_function_approximation"]()
    ex.refresh()
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes]
    for critic, k in itertools.product(CRITICS_11, K_CHOICES_11):
        ex.refresh(critic=critic, k=k)
        assert not _outside(ex.fig), (critic, k, _outside(ex.fig))
        assert [(ax.get_xlim(), ax.get_ylim()) for ax in ex.fig.axes] == limits, "an axis moved"


@pytest.mark.parametrize("kw", [dict(gamma=0.5, critic_error=0.0, lam=0.0), dict(gamma=0.99, critic_error=2.0, lam=0.0),
                                dict(gamma=0.99, critic_error=0.0, lam=1.0),
                                dict(gamma=0.7, critic_error=1.3, lam=0.45)])
def test_07_the_stepped_axes_hold_the_data(kw):
    ex = pgw.EXPLORERS["07_gae"]()
    ex.refresh(**kw)
    assert not _outside(ex.fig), (kw, _outside(ex.fig))


# ---- pg.analysis.gae_error_line: what 07 computes once per gamma, against the direct computation ----

@pytest.mark.parametrize("seed", range(3))
def test_gae_error_line_is_gae_bias_variance_at_every_critic_error(seed):
    """Along V_hat = V + c e: E[g], bias^2, variance (gae_bias_variance) and the sampled mean gradient at any c
    equal the direct computation with that critic, for a tabular and a feature policy, truncated episodes."""
    import pgcourse as pg
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(5, 3, 0.9, rng, n_terminal=1)
    policy = pg.SoftmaxPolicy.tabular(5, 3) if seed % 2 == 0 else pg.SoftmaxPolicy(rng.normal(size=(5, 3, 4)))
    theta = rng.normal(size=policy.zeros().shape)
    T = 12
    ep = pg.sample_episodes(mdp, policy.probs(theta), 300, T, rng)
    assert ep.mask[:, -1].any()  # some episodes are cut at the horizon
    V, e = rng.normal(size=mdp.S), rng.normal(size=mdp.S)
    lams = np.array([0.0, 0.3, 0.95, 1.0])
    line = pg.analysis.gae_error_line(mdp, policy, theta, V, e, lams, ep, T)
    for c in (0.0, 0.7, -1.6):
        Eg, bias2, var, mean = line.at(c)
        Eg_d, bias2_d, var_d = pg.gae_bias_variance(mdp, policy, theta, V + c * e, lams, ep, T)
        np.testing.assert_allclose(Eg, Eg_d, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bias2, bias2_d, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(var, var_d, rtol=1e-9)
        for i, lam in enumerate(lams):
            g = pg.per_episode_gradients(policy, theta, ep, pg.gae(ep, V + c * e, mdp.gamma, lam), mdp.gamma)
            np.testing.assert_allclose(mean[i], g.mean(axis=0), rtol=1e-10, atol=1e-12)


def test_gae_error_line_rejects_bad_input():
    import pgcourse as pg
    mdp, policy, theta, T = pg.td_demo_problem()
    ep = pg.sample_episodes(mdp, policy.probs(theta), 20, T, np.random.default_rng(0))
    V = np.zeros(mdp.S)
    with pytest.raises(ValueError, match="lams"):
        pg.analysis.gae_error_line(mdp, policy, theta, V, V, [1.5], ep, T)
    with pytest.raises(ValueError, match="direction"):
        pg.analysis.gae_error_line(mdp, policy, theta, V, np.zeros(3), [0.5], ep, T)
    with pytest.raises(ValueError, match="episodes"):
        pg.analysis.gae_error_line(mdp, policy, theta, V, V, [0.5], ep.take(np.arange(1)), T)
