"""Matplotlib figures of the course. Functions draw onto a given Axes (or Figure) and return it, so that
notebooks and the widgets in `widgets.py` share them. Every axis is labelled.
"""
from __future__ import annotations

import numpy as np


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


# ==== section: notebooks 00-02 (welcome/MDPs, objective and d^pi, policy gradient theorem) ====


# ==== section: notebooks 03-05 (baselines, parameterisations, Monte Carlo) ====


# ==== section: notebooks 06-08 (TD, GAE, putting it together) ====


# ==== end of sections ====
