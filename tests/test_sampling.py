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
       N=st.integers(1, 40), T=st.integers(1, 12), noise=st.sampled_from([0.0, 1.0]))
def test_episode_invariants(seed, S, A, n_terminal, N, T, noise):
    rng = np.random.default_rng(seed)
    n_terminal = min(n_terminal, S - 1)
    mdp = pg.random_mdp(S, A, 0.9, rng, n_terminal=n_terminal, branching=min(S, 3), reward_noise=noise)
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
    # chained transitions, non-terminal states while running
    np.testing.assert_array_equal(ep.states[:, 1:], ep.next_states[:, :-1])
    assert not mdp.terminal[ep.states[real]].any()
    # each real step is an outcome (s', r) of its (s, a) with positive probability: the reward received
    s, a, s2, r = ep.states[real], ep.actions[real], ep.next_states[real], ep.rewards[real]
    hit = (mdp.outcome_next[s, a] == s2[:, None]) & (mdp.outcome_reward[s, a] == r[:, None]) \
        & (mdp.outcome_prob[s, a] > 0)
    assert hit.any(axis=1).all()
    if noise == 0:  # a reward fixed by (s, a)
        np.testing.assert_array_equal(r, mdp.R[s, a])
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


# --- rewards as received: (s', r) drawn jointly ----------------------------------------------------------

def _reference_sampler(mdp, pi, N, T, rng):
    """Plain inverse-CDF sampling with the generator used as sample_episodes uses it (u for s_0 (N,), then
    each step u for a_t and u for s_{t+1} of the running episodes, in episode order); reward R[s, a]."""
    mu_c, pi_c, P_c = np.cumsum(mdp.mu), np.cumsum(pi, axis=1), np.cumsum(mdp.P, axis=2)

    def draw(c, u):  # the first j with u < c[j]
        return np.minimum((c <= u[:, None]).sum(axis=1), c.shape[1] - 1)

    states = np.zeros((N, T), dtype=int)
    actions = np.zeros((N, T), dtype=int)
    rewards = np.zeros((N, T))
    s = draw(np.broadcast_to(mu_c, (N, mdp.S)), rng.random(N))
    run = np.flatnonzero(~mdp.terminal[s])
    for t in range(T):
        if run.size == 0:
            break
        a = draw(pi_c[s[run]], rng.random(run.size))
        s2 = draw(P_c[s[run], a], rng.random(run.size))
        states[run, t], actions[run, t], rewards[run, t] = s[run], a, mdp.R[s[run], a]
        s[run] = s2
        run = run[~mdp.terminal[s2]]
    return states, actions, rewards


@pytest.mark.parametrize("seed", range(6))
def test_reward_fixed_by_state_action_draws_as_plain_inverse_cdf(seed):
    """For an MDP built from R (S, A) the outcome draw is the plain inverse-CDF draw of s' from P[s, a, .]:
    the same episodes as a textbook sampler given the same generator (the batches are the same as before
    rewards were drawn with s')."""
    rng = np.random.default_rng(seed)
    S, A = 3 + seed, 1 + seed % 3
    mdp = pg.random_mdp(S, A, 0.9, rng, n_terminal=seed % 2, branching=[None, 2, 3][seed % 3])
    pi = rand_pi(rng, S, A)
    ep = pg.sample_episodes(mdp, pi, 300, 12, np.random.default_rng(seed))
    states, actions, rewards = _reference_sampler(mdp, pi, 300, 12, np.random.default_rng(seed))
    real = ep.mask == 1
    np.testing.assert_array_equal(ep.states[real], states[real])
    np.testing.assert_array_equal(ep.actions[real], actions[real])
    np.testing.assert_array_equal(ep.rewards, rewards)


def _two_payouts():
    """One live state 0 and a terminal state 1; action 0 stays in 0 paying 1 or 5 (0.3 / 0.7), or ends the
    episode (0.2) paying -2 or 0 (0.1 each): p(s', r | s, a) with two rewards on the same s'."""
    outcomes = [[[(0.3 * 0.8, 0, 1.0), (0.7 * 0.8, 0, 5.0), (0.1, 1, -2.0), (0.1, 1, 0.0)]], [[(1.0, 1, 0.0)]]]
    return pg.TabularMDP.from_outcomes(2, 1, outcomes, [1.0, 0.0], 1.0, terminal=np.array([False, True]))


def test_outcomes_are_drawn_jointly_with_their_probabilities():
    mdp = _two_payouts()
    ep = pg.sample_episodes(mdp, np.ones((2, 1)), 20000, 60, np.random.default_rng(3))
    real = ep.mask == 1
    n = real.sum()
    for p, s2, r in mdp.outcomes(0, 0):
        hits = ((ep.next_states == s2) & (ep.rewards == r) & real).sum()
        assert_within_5_se(hits / n, np.sqrt(p * (1 - p) / n), p, f"Pr(s' = {s2}, r = {r})")
    assert set(np.unique(ep.rewards[real])) == {-2.0, 0.0, 1.0, 5.0}
    # exact: V(0) = r(0) / 0.2 with r(0) = 0.8 (0.3 + 3.5) + 0.1 (-2) = 2.84; 0.8^60 truncation: < 2e-4
    U = pg.evaluate(mdp, np.ones((2, 1))).U
    assert U == pytest.approx(2.84 / 0.2, rel=1e-12)
    G0 = ep.rewards.sum(axis=1)
    assert_within_5_se(G0.mean(), G0.std(ddof=1) / np.sqrt(G0.size), U, "U")


@pytest.mark.parametrize("gamma", [1.0, 0.8])
def test_outcome_dependent_rewards_keep_U_and_change_the_variance(gamma):
    """random_mdp(reward_noise): the sampled mean return is still U, and the realised returns are noisier
    than the expected-reward returns along the same paths (the gap is the reward noise)."""
    rng = np.random.default_rng(21)
    mdp = pg.random_mdp(5, 3, gamma, rng, n_terminal=1, reward_noise=1.5)
    pi = rand_pi(rng, 5, 3)
    T = 400 if gamma == 1 else 150  # truncation bias < 3e-8 max|r| (see the module docstring)
    ep = pg.sample_episodes(mdp, pi, 4000, T, np.random.default_rng(22))
    disc = mdp.gamma ** np.arange(T)
    G0 = (ep.rewards * ep.mask * disc).sum(axis=1)
    Ge = (mdp.R[ep.states, ep.actions] * ep.mask * disc).sum(axis=1)
    U = pg.evaluate(mdp, pi).U
    for G in (G0, Ge):
        assert_within_5_se(G.mean(), G.std(ddof=1) / np.sqrt(G.size), U, "U")
    d = (G0 - G0.mean()) ** 2 - (Ge - Ge.mean()) ** 2  # paired: same episodes
    assert d.mean() / (d.std(ddof=1) / np.sqrt(d.size)) > 5


# --- Episodes.take / head --------------------------------------------------------------------------------

FIELDS = ("states", "actions", "rewards", "next_states", "mask", "terminated", "truncated")


def test_take_and_head_select_whole_episodes():
    mdp = pg.random_mdp(5, 2, 0.9, np.random.default_rng(0), n_terminal=1)
    ep = pg.sample_episodes(mdp, np.full((5, 2), 0.5), 30, 8, np.random.default_rng(1))
    idx = np.array([4, 0, 29, -1])
    mask = np.zeros(30, dtype=bool)
    mask[[3, 7, 8]] = True
    for sel, rows in ((idx, [4, 0, 29, 29]), (slice(5, 20, 3), list(range(5, 20, 3))), (mask, [3, 7, 8]),
                      ([2], [2]), (np.int64(6), [6]), (range(3), [0, 1, 2])):
        sub = ep.take(sel)
        assert isinstance(sub, pg.Episodes) and sub.n_episodes == len(rows) and sub.horizon == 8
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(sub, name), getattr(ep, name)[rows], err_msg=name)
            assert getattr(sub, name).dtype == getattr(ep, name).dtype
    head = ep.head(7)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(head, name), getattr(ep, name)[:7])
    assert ep.head(30).n_episodes == 30
    # copies: changing the subset leaves the batch alone
    sub = ep.take(slice(0, 2))
    sub.rewards[:] = 123.0
    assert not np.any(ep.rewards == 123.0)
    all_of_them = ep.take(np.arange(30))
    np.testing.assert_array_equal(pg.visitation_frequencies(all_of_them, 5), pg.visitation_frequencies(ep, 5))


@pytest.mark.parametrize("call, exc, match", [
    (lambda ep: ep.take(np.array([0.0, 1.0])), TypeError, "idx must hold integer"),
    (lambda ep: ep.take("0"), TypeError, "idx must be"),
    (lambda ep: ep.take(None), TypeError, "idx must be"),
    (lambda ep: ep.take(np.ones(4, dtype=bool)), ValueError, r"bool mask must have shape \(5,\)"),
    (lambda ep: ep.take([5]), ValueError, r"outside \[-5, 5\)"),
    (lambda ep: ep.take(np.zeros(5, dtype=bool)), ValueError, "selects no episode"),
    (lambda ep: ep.take(slice(3, 3)), ValueError, "selects no episode"),
    (lambda ep: ep.head(6), ValueError, "n must be <= the number of episodes 5"),
    (lambda ep: ep.head(0), ValueError, "n must be >= 1"),
    (lambda ep: ep.head(2.0), TypeError, "n must be an integer"),
])
def test_take_and_head_bad_input(call, exc, match):
    ep = pg.sample_episodes(pg.chain_ab(), np.ones((2, 1)), 5, 3, np.random.default_rng(0))
    with pytest.raises(exc, match=match):
        call(ep)
