"""The notebooks' interactive explorers (ipywidgets + matplotlib): views only, no course math.

Layout: `_explorer.py` holds the machinery (Explorer, register/EXPLORERS, the slider/dropdown/toggle, axes,
cached and Precomputed helpers; how an explorer is displayed once, live or stored, and how it is written so
that an update stays fast, is documented there), `_live.py` the retained figures (pgcourse.plots' figures
built once and moved in place); then one module per notebook or small group, each registering its notebook's
default explorer:

    mdps.py               00 gridworld_explorer, 01 dpi_explorer
    gradient.py           02 gradient_explorer
    baselines.py          03 baseline_explorer
    parameterisations.py  04 gaussian_score_explorer
    reinforce.py          05 reinforce_explorer
    td.py                 06 td_critic_explorer
    gae.py                07 gae_explorer
    lab.py                08 estimator_lab_explorer
    surrogates.py         09 surrogate_explorer
    convergence.py        10 convergence_explorer
    critics.py            11 critic_explorer

Every number an explorer prints comes from a `pgcourse` function (`pg.mean_se`, `pg.td_fixed_point`, ...
in pgcourse/analysis.py; the worked examples in pgcourse/problems.py), so the notebook and its explorer
compute the same way.
"""
from __future__ import annotations

from ._explorer import EXPLORERS, Explorer, Precomputed, axes, cached, dropdown, pre, register, slider, toggle
from .baselines import BASELINES_03, baseline_explorer
from .convergence import convergence_explorer
from .critics import critic_explorer
from .gae import LAMBDAS, gae_explorer
from .gradient import gradient_explorer
from .lab import BATCH_SIZES_08, estimator_lab_explorer
from .mdps import dpi_explorer, gridworld_explorer
from .parameterisations import gaussian_score_explorer
from .reinforce import N_CHOICES_05, reinforce_explorer
from .surrogates import surrogate_explorer
from .td import td_critic_explorer

__all__ = [
    "EXPLORERS", "Explorer", "register", "slider", "dropdown", "toggle", "axes", "cached", "pre", "Precomputed",
    "gridworld_explorer", "dpi_explorer", "gradient_explorer", "baseline_explorer", "gaussian_score_explorer",
    "reinforce_explorer", "td_critic_explorer", "gae_explorer", "estimator_lab_explorer",
    "surrogate_explorer", "convergence_explorer", "critic_explorer",
    "BASELINES_03", "LAMBDAS", "N_CHOICES_05", "BATCH_SIZES_08",
]
