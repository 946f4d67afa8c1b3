"""Shared hypothesis strategies and helpers for the tests (random MDPs, the Part II helpers)."""
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import pgcourse as pg

FAST = settings(max_examples=30, deadline=None)


@st.composite
def mdp_cases(draw, max_S=6, max_A=4, max_gamma=0.99, min_A=1, episodic=None):
    """(mdp, rng): a random MDP, discounted without terminal states or with 1-2 terminal states (gamma may
    then be 1). episodic: None draws either kind, True only with terminal states, False only without."""
    seed = draw(st.integers(0, 2**32 - 1))
    S = draw(st.integers(2, max_S))
    A = draw(st.integers(min_A, max_A))
    if episodic is None:
        n_terminal = draw(st.integers(0, min(2, S - 1)))
    elif episodic:
        n_terminal = draw(st.integers(1, min(2, S - 1)))
    else:
        n_terminal = 0
    if n_terminal:
        gamma = draw(st.one_of(st.just(1.0), st.floats(0.0, 1.0)))
    else:
        gamma = draw(st.floats(0.0, max_gamma))
    branching = draw(st.one_of(st.none(), st.integers(1, S)))
    rng = np.random.default_rng(seed)
    return pg.random_mdp(S, A, gamma, rng, n_terminal=n_terminal, branching=branching), rng


def unit_rewards(mdp):
    """The same MDP with rewards affinely mapped to [0, 1] (no terminal states: A and the NPG iterates are
    unchanged up to the scale; Agarwal et al.'s theorem assumes rewards in [0, 1])."""
    R = mdp.R
    R01 = (R - R.min()) / (R.max() - R.min())
    return pg.TabularMDP(mdp.P, R01, mdp.mu, mdp.gamma)


def scale_of(ev):
    return 1.0 + np.abs(ev.V).max() + np.abs(ev.Q).max()
