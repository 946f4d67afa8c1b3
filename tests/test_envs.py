"""Ready-made MDPs: the short corridor's published numbers, gymnasium's toy-text tables, gridworld."""
import math

import numpy as np
import pytest

import pgcourse as pg
from _stats import assert_within_5_se

gym = pytest.importorskip("gymnasium")

P_STAR = 2 - math.sqrt(2)
V_STAR = -(3 + 2 * math.sqrt(2)) * 2  # ~ -11.657


def corridor_pi(p):
    return np.tile([1 - p, p], (4, 1))  # column 1 = right


# --- short corridor (Sutton & Barto, Example 13.1) --------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, P_STAR, 0.75, 0.9, 0.99])
def test_short_corridor_value_formula(p):
    ev = pg.evaluate(pg.short_corridor(), corridor_pi(p))
    assert ev.U == pytest.approx((2 * p - 4) / (p * (1 - p)), rel=1e-10)
    assert ev.V[3] == 0.0


def test_short_corridor_optimum_and_zero_gradient():
    mdp = pg.short_corridor()
    assert mdp.gamma == 1.0 and list(mdp.terminal) == [False, False, False, True]
    assert pg.evaluate(mdp, corridor_pi(P_STAR)).U == pytest.approx(V_STAR, abs=1e-9)
    assert V_STAR == pytest.approx(-11.657, abs=5e-4)
    pol = pg.short_corridor_policy()
    theta = np.array([math.log(P_STAR / (1 - P_STAR)), 0.0])  # sigmoid(theta_0 - theta_1) = p*
    np.testing.assert_allclose(pol.probs(theta), corridor_pi(P_STAR), atol=1e-14)
    np.testing.assert_allclose(pg.policy_gradient(mdp, pol, theta), 0.0, atol=1e-9)
    # away from the optimum the gradient points towards it
    for p, sign in ((0.3, 1.0), (0.8, -1.0)):
        th = np.array([math.log(p / (1 - p)), 0.0])
        g = pg.policy_gradient(mdp, pol, th)
        assert np.sign(g[0]) == sign and g[0] == pytest.approx(-g[1])
    # p* maximises over a fine grid
    grid = np.linspace(0.01, 0.99, 99)
    vals = [pg.evaluate(mdp, corridor_pi(p)).U for p in grid]
    assert max(vals) < V_STAR + 1e-12
    assert abs(grid[int(np.argmax(vals))] - P_STAR) < 0.011


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_short_corridor_deterministic_policies(p):
    """At gamma = 1 a deterministic policy never reaches the goal (ValueError, not LinAlgError);
    at gamma < 1 it scores worse than the best stochastic one."""
    mdp = pg.short_corridor()
    with pytest.raises(ValueError) as e:
        pg.evaluate(mdp, corridor_pi(p))
    assert type(e.value) is ValueError and "never reach a terminal state" in str(e.value)
    disc = mdp.with_gamma(0.99)
    assert pg.evaluate(disc, corridor_pi(p)).U == pytest.approx(-100.0)
    assert pg.evaluate(disc, corridor_pi(p)).U < pg.evaluate(disc, corridor_pi(P_STAR)).U


def test_chain_ab_is_the_notes_example():
    mdp = pg.chain_ab()
    assert mdp.gamma == 0.9 and mdp.S == 2 and mdp.A == 1
    np.testing.assert_array_equal(mdp.mu, [1.0, 0.0])
    np.testing.assert_array_equal(mdp.R[:, 0], [0.0, 1.0])
    np.testing.assert_array_equal(mdp.P[:, 0, 1], [1.0, 1.0])
    with pytest.raises(ValueError, match="gamma"):
        pg.chain_ab(1.0)


# --- gymnasium toy-text ---------------------------------------------------------------------------------

def value_iteration_from_table(env, gamma, tol=1e-14):
    """Independent optimal values straight from env.unwrapped.P: no bootstrap after terminated=True."""
    table = env.unwrapped.P
    S, A = len(table), len(table[0])
    trans = [(s, a, p, s2, r, done) for s in range(S) for a in range(A) for p, s2, r, done in table[s][a]]
    s_i, a_i, p, s2, r, done = (np.array(x) for x in zip(*trans, strict=True))
    V = np.zeros(S)
    for _ in range(100000):
        Q = np.zeros((S, A))
        np.add.at(Q, (s_i, a_i), p * (r + gamma * (1 - done) * V[s2]))
        V_new = Q.max(axis=1)
        if np.abs(V_new - V).max() < tol:
            return V_new
        V = V_new
    raise AssertionError("value iteration did not converge")


def test_frozen_lake_optimal_start_value():
    env = gym.make("FrozenLake-v1")
    mdp = pg.from_gymnasium(env, gamma=0.99)
    assert (mdp.S, mdp.A) == (16, 4)
    np.testing.assert_array_equal(np.flatnonzero(mdp.terminal), [5, 7, 11, 12, 15])
    V_star, pi_star = pg.optimal_values(mdp)
    V_vi = value_iteration_from_table(env, 0.99)
    live = ~mdp.terminal
    np.testing.assert_allclose(V_star[live], V_vi[live], atol=1e-8)
    assert V_star[0] == pytest.approx(0.5420259, abs=1e-6)
    assert pg.evaluate(mdp, pi_star).U == pytest.approx(V_star[0], abs=1e-12)
    # the bundled table equals gymnasium's
    fl = pg.frozen_lake()
    for name in ("P", "R", "mu", "terminal", "outcome_next", "outcome_prob", "outcome_reward"):
        np.testing.assert_allclose(getattr(fl, name), getattr(mdp, name), rtol=0, atol=1e-15)
    # the step next to the goal: expected reward 1/3, received reward 0 or 1
    assert fl.R[14, 2] == pytest.approx(1 / 3)
    assert [(s2, r) for _, s2, r in fl.outcomes(14, 2)] == [(10, 0.0), (14, 0.0), (15, 1.0)]
    assert fl.layout == ("SFFF", "FHFH", "FFFH", "HFFG")
    env8 = gym.make("FrozenLake-v1", is_slippery=False)
    m8 = pg.from_gymnasium(env8, gamma=0.9)
    f8 = pg.frozen_lake(gamma=0.9, is_slippery=False)
    np.testing.assert_allclose(f8.P, m8.P, atol=1e-15)
    np.testing.assert_allclose(f8.R, m8.R, atol=1e-15)
    assert pg.optimal_values(f8)[0][0] == pytest.approx(0.9 ** 5, abs=1e-12)  # 6 steps to the goal


def test_cliff_walking_terminal_is_the_goal_only():
    env = gym.make("CliffWalking-v1")
    mdp = pg.from_gymnasium(env, gamma=0.99)
    assert (mdp.S, mdp.A) == (48, 4)
    np.testing.assert_array_equal(np.flatnonzero(mdp.terminal), [47])
    assert not mdp.terminal[35] and not mdp.terminal[46]  # the states leading into the goal
    np.testing.assert_array_equal(mdp.P[47, :, 47], 1.0)
    np.testing.assert_array_equal(mdp.R[47], 0.0)
    np.testing.assert_array_equal(np.flatnonzero(mdp.mu), [36])
    V_star, _ = pg.optimal_values(mdp)
    # the shortest safe path is up, 11 x right, down: 13 steps of reward -1
    assert V_star[36] == pytest.approx(-(1 - 0.99 ** 13) / (1 - 0.99), abs=1e-9)
    np.testing.assert_allclose(V_star[~mdp.terminal], value_iteration_from_table(env, 0.99)[~mdp.terminal], atol=1e-8)


def test_taxi_loads():
    env = gym.make("Taxi-v4")
    mdp = pg.from_gymnasium(env, gamma=0.99)
    assert (mdp.S, mdp.A) == (500, 6)
    assert mdp.terminal.sum() == 4 and mdp.mu.sum() == pytest.approx(1.0)
    assert not mdp.terminal[mdp.mu > 0].any()
    ev = pg.evaluate(mdp, np.full((500, 6), 1 / 6))
    assert np.all(np.isfinite(ev.V)) and ev.d.sum() == pytest.approx(1.0)
    V_star, pi_star = pg.optimal_values(mdp.with_gamma(1.0))
    U_star = float(mdp.mu @ V_star)
    assert 7.0 < U_star < 9.0  # the well-known ~7.9 average optimal Taxi return


# --- gridworld -------------------------------------------------------------------------------------------

def test_gridworld_layout_and_dynamics():
    g = pg.gridworld(slip=0.0)
    assert g.shape == (4, 4) and g.S == 15  # one wall
    np.testing.assert_allclose(g.P.sum(axis=2), 1.0)
    goal = g.cells.index((3, 3))
    assert g.terminal[goal] and g.terminal.sum() == 4
    # deterministic moves: right from the start goes to (0, 1); left bumps into the edge
    s0 = g.cells.index((0, 0))
    assert g.P[s0, 2, g.cells.index((0, 1))] == 1.0 and g.P[s0, 0, s0] == 1.0
    up_from_below_wall = g.cells.index((2, 1))
    assert g.P[up_from_below_wall, 3, up_from_below_wall] == 1.0  # the wall at (1, 1)
    grid = g.to_grid(np.arange(g.S, dtype=float))
    assert np.isnan(grid[1, 1]) and grid[0, 0] == s0
    # slip: perpendicular moves with slip/2 each
    gs = pg.gridworld(slip=0.2)
    assert gs.P[s0, 2].max() == pytest.approx(0.8)
    V, _ = pg.optimal_values(g)
    assert V[s0] == pytest.approx(0.95 ** 5, abs=1e-12)  # 6 moves to the goal, reward 1 on the last


@pytest.mark.parametrize("slip", [0.1, 0.4])
def test_gridworld_pays_pit_and_goal_on_entering(slip):
    """r(s, a, s'): a slip into the pit pays the pit reward (not its expectation), and so on."""
    g = pg.gridworld(slip=slip, goal_reward=2.0, pit_reward=-3.0, step_reward=-0.5)
    corner, pit = g.cells.index((0, 3)), g.cells.index((1, 3))
    # left from the corner above the pit: (0, 2) with 1 - slip, slips up (the edge: stay) or down (the pit)
    assert g.outcomes(corner, pg.envs.LEFT) == [
        (pytest.approx(1 - slip), g.cells.index((0, 2)), -0.5), (pytest.approx(slip / 2), corner, -0.5),
        (pytest.approx(slip / 2), pit, -3.5)]
    assert g.R[corner, pg.envs.LEFT] == pytest.approx(-0.5 - 3.0 * slip / 2)
    # every reward received is the one of the cell entered
    kind = np.array([g.layout[i][j] for i, j in g.cells])
    paid = np.where(kind == "G", 2.0, np.where(kind == "H", -3.0, 0.0)) - 0.5
    ep = pg.sample_episodes(g, np.full((g.S, 4), 0.25), 3000, 300, np.random.default_rng(0))
    real = ep.mask == 1
    np.testing.assert_array_equal(ep.rewards[real], paid[ep.next_states[real]])
    assert set(np.unique(ep.rewards[real])) == {-3.5, -0.5, 1.5}
    # the exact machinery sees the expectation, and the sampled mean estimates U
    # (truncation at T = 300 moves it by at most 3.5 * 0.95^300 / 0.05 < 2e-5)
    G0 = (ep.rewards * ep.mask * g.gamma ** np.arange(300)).sum(axis=1)
    U = pg.evaluate(g, np.full((g.S, 4), 0.25)).U
    assert_within_5_se(G0.mean(), G0.std(ddof=1) / np.sqrt(G0.size), U, "U")


def test_gymnasium_mdp_with_gamma_keeps_outcomes_and_layout():
    m = pg.from_gymnasium(gym.make("FrozenLake-v1"), gamma=0.99)
    m2 = m.with_gamma(0.5)
    assert isinstance(m2, pg.GridMDP) and m2.layout == m.layout and m2.gamma == 0.5 and m.gamma == 0.99
    np.testing.assert_array_equal(m2.outcome_reward, m.outcome_reward)
    g = pg.gridworld(slip=0.2).with_gamma(0.9)
    assert g.outcomes(g.cells.index((0, 3)), pg.envs.LEFT)[-1][2] == -1.0
