"""The batched sampler: structural invariants of an Episodes batch, and sampled means vs exact values.

Statistical checks use fixed seeds and compare a sample mean with the exact value within 5 standard errors.
Truncation bias is made negligible and bounded in each test: for a discounted MDP cut at horizon T,
|E[G_0] - U| <= max|r| gamma^T / (1 - gamma); for random_mdp(..., n_terminal >= 1) every step ends the
episode with probability >= 0.05, so at gamma = 1 the bias is <= max|r| 0.95^T / 0.05.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgcourse as pg
from _stats import assert_within_5_se, rand_pi


# --- structural invariants -------------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(2, 6), A=st.integers(1, 3), n_terminal=st.integers(0, 2),
       N=st.integers(1, 40), T=st.integers(1, 12))
def test_episode_invariants(seed, S, A, n_terminal, N, T):
    rng = np.random.default_rng(seed)
    n_terminal = min(n_terminal, S - 1)
    mdp = pg.random_mdp(S, A, 0.9, rng, n_terminal=n_terminal, branching=min(S, 3))
    pi = rand_pi(rng, S, A)
    ep = pg.sample_episodes(mdp, pi, N, T, np.random.default_rng(seed))
    for name in ("states", "actions", "rewards", "next_states", "mask", "terminated", "truncated"):
        assert getattr(ep, name).shape == (N, T), name
    m = ep.mask
    assert set(np.unique(m)) <= {0.0, 1.0}
    assert np.all(np.diff(m, axis=1) <= 0), "mask must be 1 then 0"
    assert np.all(m[:, 0] == 1), "every episode starts in a non-terminal state"
    assert not np.any(ep.terminated & ep.truncated)
    assert not np.any(ep.truncated[:, :-1])
    # truncated exactly where the episode is still running at the last step
    np.testing.assert_array_equal(ep.truncated[:, -1], (m[:, -1] == 1) & ~ep.terminated[:, -1])
    # terminated only on a real step that enters a terminal state, and that step is the last real one
    real = m == 1
    np.testing.assert_array_equal(ep.terminated, real & mdp.terminal[ep.next_states])
    assert np.all(ep.terminated.sum(axis=1) + ep.truncated.sum(axis=1) == 1)
    L = ep.lengths
    assert np.all(ep.terminated[np.arange(N), L - 1] | ep.truncated[np.arange(N), L - 1])
    # valid indices everywhere; after the end reward 0, action 0, state frozen
    for arr, top in ((ep.states, S), (ep.next_states, S), (ep.actions, A)):
        assert arr.min() >= 0 and arr.max() < top
    assert np.all(ep.rewards[~real] == 0) and np.all(ep.actions[~real] == 0)
    assert np.all(ep.states[~real] == ep.next_states[~real])
    # chained transitions, rewards r(s, a), non-terminal states while running
    np.testing.assert_array_equal(ep.states[:, 1:], ep.next_states[:, :-1])
    np.testing.assert_array_equal(ep.rewards[real], mdp.R[ep.states[real], ep.actions[real]])
    assert not mdp.terminal[ep.states[real]].any()
    # every transition and action taken has positive probability
    assert np.all(mdp.P[ep.states[real], ep.actions[real], ep.next_states[real]] > 0)
    assert np.all(pi[ep.states[real], ep.actions[real]] > 0)
    # the same seed gives the same batch
    ep2 = pg.sample_episodes(mdp, pi, N, T, np.random.default_rng(seed))
    for name in ("states", "actions", "rewards", "next_states", "mask", "terminated", "truncated"):
        np.testing.assert_array_equal(getattr(ep, name), getattr(ep2, name))


def test_different_seeds_differ_and_zero_probability_is_never_drawn():
    mdp = pg.random_mdp(6, 3, 0.9, np.random.default_rng(0), n_terminal=1)
    pi = np.array([[0.0, 1.0, 0.0]] * 6)
    a = pg.sample_episodes(mdp, pi, 200, 10, np.random.default_rng(1))
    b = pg.sample_episodes(mdp, pi, 200, 10, np.random.default_rng(2))
    assert not np.array_equal(a.states, b.states)
    assert np.all(a.actions[a.mask == 1] == 1)


def test_deterministic_chain():
    ep = pg.sample_episodes(pg.chain_ab(0.9), np.ones((2, 1)), 3, 4, np.random.default_rng(0))
    np.testing.assert_array_equal(ep.states, [[0, 1, 1, 1]] * 3)
    np.testing.assert_array_equal(ep.rewards, [[0, 1, 1, 1]] * 3)
    assert ep.truncated[:, -1].all() and not ep.terminated.any()


def test_short_corridor_episodes_end_in_the_goal():
    mdp = pg.short_corridor()
    ep = pg.sample_episodes(mdp, np.full((4, 2), 0.5), 500, 400, np.random.default_rng(0))
    assert ep.terminated.sum() + ep.truncated.sum() == 500
    assert np.all(ep.next_states[ep.terminated] == 3)
    assert np.all(ep.rewards[ep.mask == 1] == -1)


# --- sampled means vs exact ------------------------------------------------------------------------------

CASES = {
    # (S, A, gamma, n_terminal, seed, horizon): truncation bias bound in the module docstring:
    # gamma = 1, exit prob >= 0.05, T = 400: bias <= max|r| * 0.95^400 / 0.05 < 3e-8 max|r|
    "episodic_gamma1": (5, 3, 1.0, 1, 11, 400),
    # gamma = 0.8, no terminal state, T = 150: bias <= max|r| * 0.8^150 / 0.2 < 2e-14 max|r|
    "discounted": (5, 3, 0.8, 0, 12, 150),
}


def _case(name, n_episodes):
    S, A, gamma, n_terminal, seed, T = CASES[name]
    rng = np.random.default_rng(seed)
    mdp = pg.random_mdp(S, A, gamma, rng, n_terminal=n_terminal)
    pi = rand_pi(rng, S, A)
    ep = pg.sample_episodes(mdp, pi, n_episodes, T, np.random.default_rng(seed + 100))
    return mdp, pi, ep


@pytest.mark.parametrize("name", sorted(CASES))
def test_sampled_return_estimates_U(name):
    mdp, pi, ep = _case(name, 4000)
    ev = pg.evaluate(mdp, pi)
    disc = mdp.gamma ** np.arange(ep.horizon)
    G0 = (ep.rewards * ep.mask * disc).sum(axis=1)  # computed here, not by discounted_returns
    np.testing.assert_allclose(pg.discounted_returns(ep.rewards, mdp.gamma, ep.mask)[:, 0], G0, atol=1e-10)
    se = G0.std(ddof=1) / np.sqrt(G0.size)
    assert_within_5_se(G0.mean(), se, ev.U, "U")
    assert se < 0.05  # sharp enough to catch a wrong discount or a dropped step


@pytest.mark.parametrize("name", sorted(CASES))
def test_discounted_visitation_frequencies_estimate_d(name):
    mdp, pi, ep = _case(name, 4000)
    ev = pg.evaluate(mdp, pi)
    S, gamma = mdp.S, mdp.gamma
    w = ep.mask * gamma ** np.arange(ep.horizon)
    x = np.zeros((ep.n_episodes, S))  # per-episode discounted visit counts
    np.add.at(x, (np.repeat(np.arange(ep.n_episodes), ep.horizon), ep.states.ravel()), w.ravel())
    y = x.sum(axis=1)
    d_hat = x.mean(axis=0) / y.mean()  # a ratio estimator; s.e. by the delta method
    np.testing.assert_allclose(pg.visitation_frequencies(ep, S, gamma), d_hat, atol=1e-12)
    se = (x - d_hat * y[:, None]).std(axis=0, ddof=1) / np.sqrt(ep.n_episodes) / y.mean()
    live = ~mdp.terminal
    assert_within_5_se(d_hat[live], se[live], ev.d[live], "d")
    assert np.all(d_hat[mdp.terminal] == 0)
    # power: the undiscounted frequencies estimate a different distribution (unless gamma = 1)
    if gamma < 1:
        f = pg.visitation_frequencies(ep, S)
        assert np.max(np.abs(f[live] - ev.d[live]) / se[live]) > 5


def test_sampled_start_states_follow_mu():
    mdp = pg.random_mdp(6, 2, 0.9, np.random.default_rng(4), n_terminal=1)
    ep = pg.sample_episodes(mdp, np.full((6, 2), 0.5), 20000, 1, np.random.default_rng(5))
    freq = np.bincount(ep.states[:, 0], minlength=6) / 20000
    se = np.sqrt(mdp.mu * (1 - mdp.mu) / 20000)
    live = mdp.mu > 0
    assert_within_5_se(freq[live], se[live], mdp.mu[live], "s_0")
    assert np.all(freq[~live] == 0)
