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


# --- rewards on the transition: R (S, A, S) and outcome lists ---------------------------------------------

def test_transition_rewards_give_the_expected_reward():
    P, R, mu = tiny()
    R3 = np.array([[[1.0, 3.0], [5.0, np.pi]], [[7.0, -1.0], [2.0, 4.0]]])  # R3[0, 1, 1] has P = 0: ignored
    mdp = pg.TabularMDP(P, R3, mu, 0.9)
    np.testing.assert_allclose(mdp.R, [[0.5 * 1 + 0.5 * 3, 5.0], [-1.0, 0.3 * 2 + 0.7 * 4]], rtol=1e-15)
    assert mdp.outcomes(0, 0) == [(0.5, 0, 1.0), (0.5, 1, 3.0)]
    assert mdp.outcomes(0, 1) == [(1.0, 0, 5.0)]
    assert mdp.outcomes(1, 1) == [(0.3, 0, 2.0), (0.7, 1, 4.0)]
    # R (S, A): the same reward whatever the outcome
    flat = pg.TabularMDP(P, R, mu, 0.9)
    np.testing.assert_array_equal(flat.R, R)
    assert flat.outcomes(1, 1) == [(0.3, 0, 2.0), (0.7, 1, 2.0)]
    # a constant r(s, a, s') = r(s, a) is the same MDP as R (S, A)
    same = pg.TabularMDP(P, np.repeat(R[:, :, None], 2, axis=2), mu, 0.9)
    np.testing.assert_allclose(same.R, R, rtol=1e-15)
    for name in ("outcome_next", "outcome_prob", "outcome_reward"):
        np.testing.assert_array_equal(getattr(same, name), getattr(flat, name))
    with pytest.raises(ValueError, match="R must have shape"):
        pg.TabularMDP(P, np.zeros((2, 2, 3)), mu, 0.9)
    with pytest.raises(ValueError, match="R contains NaN"):
        pg.TabularMDP(P, np.where(R3 == np.pi, np.nan, R3), mu, 0.9)  # NaN even where P = 0


def test_from_outcomes_merges_and_drops():
    outcomes = [
        [[(0.25, 1, -1.0), (0.25, 1, -1.0), (0.0, 0, 9.0), (0.5, 1, -100.0)], [(1.0, 0, 2.0)]],
        [[(1.0, 1, 0.0)], [(1.0, 1, 0.0)]],
    ]
    mdp = pg.TabularMDP.from_outcomes(2, 2, outcomes, [1.0, 0.0], 0.9, terminal=np.array([False, True]))
    assert mdp.outcomes(0, 0) == [(0.5, 1, -100.0), (0.5, 1, -1.0)]  # merged, ordered by (s', r), 0 dropped
    np.testing.assert_array_equal(mdp.P[0, 0], [0.0, 1.0])
    assert mdp.R[0, 0] == pytest.approx(-50.5)
    assert mdp.R[0, 1] == 2.0 and mdp.outcomes(1, 0) == [(1.0, 1, 0.0)]
    assert mdp.outcome_next.shape == (2, 2, 2)
    # padding: probability 0, reward 0, a valid index
    assert mdp.outcome_prob[0, 1, 1] == 0 and mdp.outcome_reward[0, 1, 1] == 0 and 0 <= mdp.outcome_next[0, 1, 1] < 2
    for name in ("outcome_next", "outcome_prob", "outcome_reward"):
        with pytest.raises(ValueError):
            getattr(mdp, name)[0, 0, 0] = 0  # read-only
    # dicts keyed by state (gymnasium's table) and round-off in the probabilities are accepted
    table = {0: {0: [(1 / 3, 0, 1.0)] * 3, 1: [(1.0, 1, 0.0)]}, 1: {0: [(1.0, 1, 0.0)], 1: [(1.0, 1, 0.0)]}}
    m2 = pg.TabularMDP.from_outcomes(2, 2, table, [1.0, 0.0], 0.9, terminal=np.array([False, True]))
    assert m2.outcomes(0, 0) == [(1.0, 0, 1.0)]
    assert m2.outcome_prob.shape == (2, 2, 1)
    # with_gamma keeps the outcomes
    m3 = mdp.with_gamma(0.5)
    assert m3.gamma == 0.5 and m3.outcomes(0, 0) == mdp.outcomes(0, 0)


@pytest.mark.parametrize("bad, exc, match", [
    ("neg", ValueError, r"outcomes\[0\]\[0\]\[0\]: prob must be a finite number >= 0"),
    ("sum", ValueError, r"outcomes\[0\]\[0\]: the probabilities must sum to 1"),
    ("index", ValueError, r"outcomes\[0\]\[0\]\[0\]: next_state must be in \[0, 2\)"),
    ("nan", ValueError, r"outcomes\[0\]\[0\]\[0\]: reward must be finite"),
    ("float_index", TypeError, "next_state must be an integer"),
    ("pair", TypeError, r"outcomes\[0\]\[0\]\[0\] must be a \(prob, next_state, reward\) triple"),
    ("states", ValueError, "outcomes must have S = 2 entries"),
    ("actions", ValueError, r"outcomes\[1\] must have A = 2 entries"),
    ("empty", ValueError, "sum to 1"),
    ("not_list", TypeError, "outcomes must be"),
    ("terminal_leaves", ValueError, "terminal state 1 must be absorbing with zero reward"),
    ("terminal_pays", ValueError, "terminal state 1 must be absorbing with zero reward"),
])
def test_from_outcomes_bad_input(bad, exc, match):
    good = [[[(1.0, 1, 1.0)], [(1.0, 0, 0.0)]], [[(1.0, 1, 0.0)], [(1.0, 1, 0.0)]]]
    out = [[list(row) for row in per_state] for per_state in good]
    change = {"neg": [(-0.5, 1, 1.0), (1.5, 0, 0.0)], "sum": [(0.5, 1, 1.0)], "index": [(1.0, 2, 1.0)],
              "nan": [(1.0, 1, float("nan"))], "float_index": [(1.0, 1.0, 1.0)], "pair": [(1.0, 1)],
              "empty": []}
    if bad in change:
        out[0][0] = change[bad]
    elif bad == "states":
        out = out[:1]
    elif bad == "actions":
        out[1] = out[1][:1]
    elif bad == "not_list":
        out = "outcomes"
    elif bad == "terminal_leaves":
        out[1][0] = [(1.0, 0, 0.0)]
    elif bad == "terminal_pays":
        out[1][1] = [(1.0, 1, 0.5)]
    with pytest.raises(exc, match=match):
        pg.TabularMDP.from_outcomes(2, 2, out, [1.0, 0.0], 0.9, terminal=np.array([False, True]))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(2, 7), A=st.integers(1, 3), n_terminal=st.integers(0, 2),
       branching=st.one_of(st.none(), st.integers(1, 7)), noise=st.sampled_from([0.0, 0.7]))
def test_outcome_table_properties(seed, S, A, n_terminal, branching, noise):
    """On random MDPs (with terminal states, with and without outcome-dependent rewards): the outcomes'
    marginal is P, their mean reward is R, terminal states have the single outcome (s, 0), outcomes are
    ordered by (s', r) with the padding after them; from_outcomes(mdp.outcomes) rebuilds the same MDP."""
    n_terminal = min(n_terminal, S - 1)
    branching = None if branching is None else min(branching, S)
    mdp = pg.random_mdp(S, A, 0.9, np.random.default_rng(seed), n_terminal=n_terminal, branching=branching,
                        reward_noise=noise)
    nxt, prob, rew = mdp.outcome_next, mdp.outcome_prob, mdp.outcome_reward
    M = nxt.shape[2]
    assert nxt.dtype.kind == "i" and nxt.min() >= 0 and nxt.max() < S
    np.testing.assert_allclose(prob.sum(axis=2), 1.0, atol=1e-12)
    marginal = np.zeros((S, A, S))
    si, ai = np.indices((S, A))
    np.add.at(marginal, (si[:, :, None], ai[:, :, None], nxt), prob)
    np.testing.assert_allclose(marginal, mdp.P, atol=1e-15)
    np.testing.assert_allclose((prob * rew).sum(axis=2), mdp.R, atol=1e-12)
    real = prob > 0
    assert M == real.sum(axis=2).max()
    assert np.all(np.diff(real.astype(int), axis=2) <= 0), "outcomes first, padding after"
    assert np.all(rew[~real] == 0)
    for s in range(S):
        for a in range(A):
            keys = [(n, r) for _, n, r in mdp.outcomes(s, a)]
            assert keys == sorted(set(keys))
            if mdp.terminal[s]:
                assert mdp.outcomes(s, a) == [(1.0, s, 0.0)]
    if noise == 0:  # R (S, A): one outcome per s' with P > 0, paying R[s, a]
        np.testing.assert_array_equal(real.sum(axis=2), (mdp.P > 0).sum(axis=2))
        np.testing.assert_array_equal(np.where(real, rew, 0), np.where(real, mdp.R[:, :, None], 0))
    again = pg.TabularMDP.from_outcomes(S, A, [[mdp.outcomes(s, a) for a in range(A)] for s in range(S)], mdp.mu,
                                        mdp.gamma, mdp.terminal if mdp.episodic else None)
    np.testing.assert_array_equal(again.outcome_next, nxt)
    np.testing.assert_allclose(again.outcome_prob, prob, atol=1e-15)
    np.testing.assert_array_equal(again.outcome_reward, rew)
    np.testing.assert_allclose(again.P, mdp.P, atol=1e-15)
    np.testing.assert_allclose(again.R, mdp.R, atol=1e-12)


def test_random_mdp_reward_noise_keeps_the_seeded_mdp():
    base = pg.random_mdp(5, 3, 0.9, np.random.default_rng(3), n_terminal=1)
    noisy = pg.random_mdp(5, 3, 0.9, np.random.default_rng(3), n_terminal=1, reward_noise=0.5)
    np.testing.assert_array_equal(noisy.P, base.P)
    np.testing.assert_array_equal(noisy.mu, base.mu)
    np.testing.assert_allclose(noisy.R, base.R, atol=1e-14)  # the noise has mean 0 under P
    real = noisy.outcome_prob > 0
    r = noisy.outcome_reward
    spread = np.where(real, r, -np.inf).max(axis=2) - np.where(real, r, np.inf).min(axis=2)
    assert spread[~noisy.terminal].min() > 0  # every live (s, a) pays differently by outcome
    assert np.all(noisy.outcome_reward[noisy.terminal] == 0)
    with pytest.raises(ValueError, match="reward_noise"):
        pg.random_mdp(5, 3, 0.9, np.random.default_rng(3), reward_noise=-1.0)


def test_mdps_pickle_and_copy_with_their_outcomes():
    """MDPs cross process boundaries (pickle) before and after their outcome table is first built."""
    import copy
    import pickle
    P, R, mu = tiny()
    R3 = np.stack([R, 2 * R], axis=2)
    for mdp in (pg.TabularMDP(P, R3, mu, 0.9), pg.gridworld(slip=0.2)):
        fresh = pickle.loads(pickle.dumps(mdp))
        np.testing.assert_array_equal(fresh.outcome_reward, mdp.outcome_reward)
        again = pickle.loads(pickle.dumps(mdp))  # now built
        assert type(again) is type(mdp) and again.outcomes(0, 1) == mdp.outcomes(0, 1)
        assert copy.deepcopy(mdp).outcomes(1, 0) == mdp.outcomes(1, 0)
