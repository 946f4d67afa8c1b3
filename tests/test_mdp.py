"""TabularMDP construction and random_mdp."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgcourse as pg


def tiny():
    P = np.array([[[0.5, 0.5], [1.0, 0.0]], [[0.0, 1.0], [0.3, 0.7]]])
    R = np.array([[1.0, 0.0], [0.0, 2.0]])
    return P, R, np.array([0.25, 0.75])


def test_fields_and_read_only_copies():
    P, R, mu = tiny()
    mdp = pg.TabularMDP(P, R, mu, 0.9)
    assert (mdp.S, mdp.A, mdp.gamma, mdp.episodic) == (2, 2, 0.9, False)
    np.testing.assert_array_equal(mdp.P, P)
    np.testing.assert_array_equal(mdp.R, R)
    np.testing.assert_array_equal(mdp.mu, mu)
    np.testing.assert_array_equal(mdp.terminal, [False, False])
    P[0, 0] = [0.0, 1.0]  # changing the input afterwards does not change the MDP
    assert mdp.P[0, 0, 0] == 0.5
    for name in ("P", "R", "mu", "terminal"):
        arr = getattr(mdp, name)
        with pytest.raises(ValueError):
            arr[0] = arr[0]  # read-only
    with pytest.raises(AttributeError):
        mdp.gamma = 0.5
    assert "S=2" in repr(mdp)


def test_lists_are_accepted_and_rounding_is_renormalised():
    P, R, mu = tiny()
    a = pg.TabularMDP(P.tolist(), R.tolist(), mu.tolist(), 0.5)
    b = pg.TabularMDP(P, R, mu, 0.5)
    np.testing.assert_array_equal(a.P, b.P)
    Pn = P.copy()
    Pn[0, 0] = [0.5 + 5e-7, 0.5]
    c = pg.TabularMDP(Pn, R, mu, 0.5)
    np.testing.assert_allclose(c.P.sum(axis=2), 1.0, atol=1e-15)


def test_with_gamma_keeps_everything_else():
    mdp = pg.random_mdp(4, 2, 0.9, np.random.default_rng(0), n_terminal=1)
    m2 = mdp.with_gamma(1.0)
    assert m2.gamma == 1.0 and mdp.gamma == 0.9
    for name in ("P", "R", "mu", "terminal"):
        np.testing.assert_allclose(getattr(m2, name), getattr(mdp, name), rtol=0, atol=1e-15)
    g = pg.gridworld().with_gamma(0.5)
    assert isinstance(g, pg.GridMDP) and g.gamma == 0.5


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(2, 8), A=st.integers(1, 4), n_terminal=st.integers(0, 3),
       branching=st.one_of(st.none(), st.integers(1, 8)))
def test_random_mdp_structure(seed, S, A, n_terminal, branching):
    n_terminal = min(n_terminal, S - 1)
    branching = None if branching is None else min(branching, S)
    mdp = pg.random_mdp(S, A, 0.9, np.random.default_rng(seed), n_terminal=n_terminal, branching=branching)
    assert (mdp.S, mdp.A) == (S, A)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0, atol=1e-12)
    assert mdp.mu.sum() == pytest.approx(1.0)
    term = mdp.terminal
    assert term.sum() == n_terminal and np.all(term[S - n_terminal:])
    if n_terminal:
        assert np.all(mdp.P[term][:, :, term].sum(axis=-1) == 1.0)
        assert np.all(mdp.R[term] == 0) and np.all(mdp.mu[term] == 0)
        # every live (s, a) ends the episode with probability >= 0.05
        assert mdp.P[~term][:, :, term].sum(axis=-1).min() >= 0.05 - 1e-12
    if branching is not None:
        live = ~term
        assert (mdp.P[live] > 0).sum(axis=-1).max() <= branching + n_terminal
    # same seed, same MDP
    again = pg.random_mdp(S, A, 0.9, np.random.default_rng(seed), n_terminal=n_terminal, branching=branching)
    np.testing.assert_array_equal(again.P, mdp.P)
    np.testing.assert_array_equal(again.R, mdp.R)


def test_random_mdp_gamma_one_needs_terminals():
    with pytest.raises(ValueError, match="n_terminal"):
        pg.random_mdp(3, 2, 1.0, np.random.default_rng(0))
    mdp = pg.random_mdp(3, 2, 1.0, np.random.default_rng(0), n_terminal=1)
    assert mdp.gamma == 1.0 and mdp.episodic
    assert np.isfinite(pg.evaluate(mdp, np.full((3, 2), 0.5)).U)


def test_terminal_rules():
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = 1.0
    P[1, 0, 1] = 1.0
    mdp = pg.TabularMDP(P, [[1.0], [0.0]], [1.0, 0.0], 1.0, terminal=[False, True])
    assert mdp.episodic and "1 terminal" in repr(mdp)
    assert pg.evaluate(mdp, np.ones((2, 1))).U == 1.0  # the reward entering the terminal state counts
    with pytest.raises(ValueError, match="absorbing"):
        pg.TabularMDP(P, [[1.0], [0.0]], [1.0, 0.0], 1.0, terminal=[True, False])
    with pytest.raises(ValueError, match="zero reward"):
        pg.TabularMDP(P, [[1.0], [2.0]], [1.0, 0.0], 1.0, terminal=[False, True])
    with pytest.raises(ValueError, match="mu"):
        pg.TabularMDP(P, [[1.0], [0.0]], [0.0, 1.0], 1.0, terminal=[False, True])
