"""Ready-made tabular MDPs of the course.

- `chain_ab(gamma)`: the notes' A -> B -> B example (start in A, reward 1 in B).
- `short_corridor()`: Sutton & Barto's Example 13.1 (switched actions, reward -1 per step, gamma = 1).
- `gridworld(...)`: a small grid with a goal and a pit, paid on entering them (r(s, a, s'), so a slip
  into the pit pays the pit reward); `GridMDP` keeps the layout for drawing.
- `frozen_lake(...)`: FrozenLake 4x4 built from its map (the same outcomes gymnasium's FrozenLake-v1 has:
  a step pays 1 when it enters the goal, else 0).
- `from_gymnasium(env, gamma)`: any gymnasium toy-text env (FrozenLake, CliffWalking, Taxi) from its
  `env.unwrapped.P` table, keeping its outcome list (prob, s', reward) exactly (gymnasium is optional).
"""
from __future__ import annotations

import numpy as np

from ._validate import as_float_array, as_gamma, as_scalar
from .mdp import TabularMDP
from .policies import SoftmaxPolicy

# grid actions, in gymnasium's FrozenLake order
LEFT, DOWN, RIGHT, UP = 0, 1, 2, 3
ACTION_NAMES = ("left", "down", "right", "up")
_MOVES = {LEFT: (0, -1), DOWN: (1, 0), RIGHT: (0, 1), UP: (-1, 0)}


def chain_ab(gamma: float = 0.9) -> TabularMDP:
    """States A = 0, B = 1, one action: A -> B -> B -> ..., start in A, reward 1 in B (0 in A).

    Exact: V(B) = 1/(1-gamma), V(A) = gamma/(1-gamma) = U; visits = (1, gamma/(1-gamma));
    d = (1-gamma, gamma). For gamma = 0.9: U = 9, while sum rho Q = 9.9 (the notes' slip).
    """
    gamma = as_gamma(gamma)
    if gamma == 1.0:
        raise ValueError("gamma must be < 1 for chain_ab: B is visited forever, so the return is infinite at gamma = 1")
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = 1.0
    P[1, 0, 1] = 1.0
    R = np.array([[0.0], [1.0]])
    return TabularMDP(P, R, np.array([1.0, 0.0]), gamma)


def short_corridor() -> TabularMDP:
    """Sutton & Barto (2nd ed.) Example 13.1: states 0 (start), 1 (actions switched), 2, 3 (goal, terminal).

    Action 0 = left, 1 = right; reward -1 on every step, gamma = 1. Left in state 0 stays in 0.
    With p = Pr(right) in every state: v(start) = (2p - 4) / (p (1 - p)), maximised at p = 2 - sqrt(2)
    (v = -(3 + 2 sqrt 2) * 2 ~ -11.657). Use `short_corridor_policy()`: the states look alike to the agent.
    """
    P = np.zeros((4, 2, 4))
    P[0, 0, 0] = 1.0  # left at the wall: stay
    P[0, 1, 1] = 1.0
    P[1, 0, 2] = 1.0  # switched
    P[1, 1, 0] = 1.0
    P[2, 0, 1] = 1.0
    P[2, 1, 3] = 1.0
    P[3, :, 3] = 1.0
    R = -np.ones((4, 2))
    R[3] = 0.0
    return TabularMDP(P, R, np.array([1.0, 0, 0, 0]), 1.0, terminal=np.array([False, False, False, True]))


def short_corridor_policy() -> SoftmaxPolicy:
    """The corridor's function approximation: every state has the same features, phi(s, right) = (1, 0),
    phi(s, left) = (0, 1), so pi(right) = sigmoid(theta_0 - theta_1) is the same in every state."""
    phi = np.zeros((4, 2, 2))
    phi[:, 1, 0] = 1.0
    phi[:, 0, 1] = 1.0
    return SoftmaxPolicy(phi)


class GridMDP(TabularMDP):
    """A TabularMDP on a grid: `layout` rows of characters, `cells[s] = (row, col)` of state s.

    Layout characters: 'S' start, '.' free, 'G' goal (terminal), 'H' hole/pit (terminal), '#' wall (no state).
    """

    def __init__(self, P, R, mu, gamma, terminal, layout, cells):
        super().__init__(P, R, mu, gamma, terminal)
        self._set_layout(layout, cells)

    @classmethod
    def from_outcomes(cls, S, A, outcomes, mu, gamma, terminal=None, *, layout, cells) -> GridMDP:
        """`TabularMDP.from_outcomes` on a grid: layout and cells as for GridMDP."""
        mdp = super().from_outcomes(S, A, outcomes, mu, gamma, terminal)
        mdp._set_layout(layout, cells)
        return mdp

    def _set_layout(self, layout, cells) -> None:
        if isinstance(layout, (str, bytes)) or not hasattr(layout, "__iter__"):
            raise TypeError(f"layout must be a list of strings (one per row), got {type(layout).__name__}")
        self.layout = tuple(str(r) for r in layout)
        if not self.layout or any(len(r) != len(self.layout[0]) for r in self.layout):
            raise ValueError("layout must be a non-empty list of equally long strings")
        self.cells = tuple((int(i), int(j)) for i, j in cells)
        if len(self.cells) != self.S:
            raise ValueError(f"cells must hold one (row, col) per state: got {len(self.cells)} for S = {self.S}")
        if any(not (0 <= i < len(self.layout) and 0 <= j < len(self.layout[0])) for i, j in self.cells):
            raise ValueError("cells holds a (row, col) outside the layout")
        self.shape = (len(self.layout), len(self.layout[0]))

    def to_grid(self, values) -> np.ndarray:
        """(S,) values as a (rows, cols) array for imshow; walls are NaN."""
        v = as_float_array(values, "values", shape=(self.S,))
        g = np.full(self.shape, np.nan)
        for s, (i, j) in enumerate(self.cells):
            g[i, j] = v[s]
        return g


GRID_4x4 = ("S...", ".#.H", "...H", "H..G")
FROZEN_LAKE_4x4 = ("SFFF", "FHFH", "FFFH", "HFFG")


def _grid_mdp(layout, gamma, slip_probs, rewards, step_reward) -> GridMDP:
    if isinstance(layout, (str, bytes)) or not hasattr(layout, "__iter__"):
        raise TypeError(f"layout must be a list of strings (one per row), got {type(layout).__name__}")
    layout = tuple(str(r) for r in layout)
    if not layout or any(len(r) != len(layout[0]) for r in layout):
        raise ValueError("layout must be a non-empty list of equally long strings")
    cells = [(i, j) for i, row in enumerate(layout) for j, ch in enumerate(row) if ch != "#"]
    if not cells:
        raise ValueError("layout has no free cell")
    unknown = {ch for row in layout for ch in row} - set("S.FGH#")
    if unknown:
        raise ValueError(f"layout has unknown characters {sorted(unknown)} (use S . F G H #)")
    index = {c: s for s, c in enumerate(cells)}
    S = len(cells)
    kind = [layout[i][j] for i, j in cells]
    terminal = np.array([k in "GH" for k in kind])
    starts = [s for s, k in enumerate(kind) if k == "S"]
    if not starts:
        raise ValueError("layout needs a start cell 'S'")
    P = np.zeros((S, 4, S))
    for s, (i, j) in enumerate(cells):
        if terminal[s]:
            P[s, :, s] = 1.0
            continue
        for a in range(4):
            for offset, p in slip_probs:
                di, dj = _MOVES[(a + offset) % 4]
                ni, nj = i + di, j + dj
                t = index.get((ni, nj), s) if 0 <= ni < len(layout) and 0 <= nj < len(layout[0]) else s
                P[s, a, t] += p
    # r(s, a, s'): the reward of the cell entered, plus the step reward; nothing once the episode is over
    R = np.broadcast_to(np.array([rewards.get(k, 0.0) for k in kind]) + step_reward, (S, 4, S)).copy()
    R[terminal] = 0.0
    mu = np.zeros(S)
    mu[starts] = 1.0 / len(starts)
    return GridMDP(P, R, mu, gamma, terminal if terminal.any() else None, layout, cells)


def gridworld(layout=GRID_4x4, gamma: float = 0.95, slip: float = 0.1, goal_reward: float = 1.0,
              pit_reward: float = -1.0, step_reward: float = 0.0) -> GridMDP:
    """A grid world: actions left, down, right, up; with probability `slip` the move goes to one of the two
    perpendicular directions (slip/2 each); bumping into a wall or the edge stays put. The step that enters
    'G' pays goal_reward, the step that enters 'H' pays pit_reward (also after a slip: r(s, a, s') depends
    on the cell entered, mdp.R is its expectation); both end the episode. Every step also pays step_reward."""
    gamma = as_gamma(gamma)
    slip = as_scalar(slip, "slip", low=0.0, high=1.0)
    probs = [(0, 1.0 - slip), (1, slip / 2), (3, slip / 2)]
    rewards = {"G": as_scalar(goal_reward, "goal_reward"), "H": as_scalar(pit_reward, "pit_reward")}
    return _grid_mdp(layout, gamma, probs, rewards, as_scalar(step_reward, "step_reward"))


def frozen_lake(gamma: float = 0.99, is_slippery: bool = True, layout=FROZEN_LAKE_4x4) -> GridMDP:
    """FrozenLake 4x4 with gymnasium's dynamics (a bundled copy of its table, no gymnasium needed):
    slippery moves go to the intended or either perpendicular direction with probability 1/3 each;
    the step that enters G pays 1, every other step 0 (so mdp.R = 1/3 next to the goal, while a sampled
    reward is 0 or 1); holes H and the goal end the episode."""
    gamma = as_gamma(gamma)
    if not isinstance(is_slippery, (bool, np.bool_)):
        raise TypeError(f"is_slippery must be a bool, got {type(is_slippery).__name__}")
    probs = [(3, 1 / 3), (0, 1 / 3), (1, 1 / 3)] if is_slippery else [(0, 1.0)]
    return _grid_mdp(layout, gamma, probs, {"G": 1.0}, 0.0)


def from_gymnasium(env, gamma: float, mu=None) -> TabularMDP:
    """A TabularMDP from a gymnasium toy-text env's table `env.unwrapped.P`
    ({s: {a: [(prob, s', reward, terminated), ...]}}), keeping its outcome list exactly: a sampled step
    pays what the env pays (FrozenLake 0 or 1; slippery CliffWalking -1 or -100 on the same s'), and
    mdp.R is the expected reward sum prob * reward.

    A state is terminal when some transition *into* it has terminated=True; terminal states are made
    absorbing with zero reward (CliffWalking's goal has a row of its own in the table that is replaced;
    the steps entering a terminal state keep their reward). mu is the env's `initial_state_distrib`
    unless given. A FrozenLake-like env (with a `desc` map of S cells) gives a GridMDP.
    """
    gamma = as_gamma(gamma)
    base = getattr(env, "unwrapped", env)
    table = getattr(base, "P", None)
    if not isinstance(table, dict) or not table:
        raise TypeError("env must be a gymnasium toy-text env (FrozenLake, CliffWalking, Taxi) with a table "
                        f"env.unwrapped.P; got {type(env).__name__}")
    if getattr(base, "fickle_passenger", False):
        raise ValueError("env has fickle_passenger=True: its passenger changes destination outside env.unwrapped.P, "
                         "so the table does not describe the env")
    S = len(table)
    A = len(table[0])
    outcomes = []
    terminal = np.zeros(S, dtype=bool)
    for s in range(S):
        if s not in table or len(table[s]) != A:
            raise ValueError(f"env table: state {s} is missing or has a number of actions other than state 0's {A}")
        row = []
        for a in range(A):
            entries = []
            for entry in table[s][a]:
                if len(entry) != 4:
                    raise ValueError(f"env table: P[{s}][{a}] holds {entry!r}, not (prob, s', reward, terminated)")
                prob, nxt, reward, done = entry
                entries.append((prob, nxt, reward))
                if done:
                    terminal[int(nxt)] = True
            row.append(entries)
        outcomes.append(row)
    for s in np.flatnonzero(terminal):
        outcomes[s] = [[(1.0, int(s), 0.0)] for _ in range(A)]
    if mu is None:
        mu = getattr(base, "initial_state_distrib", None)
        if mu is None:
            raise ValueError("env has no initial_state_distrib: pass mu (S,) explicitly")
    mu = as_float_array(mu, "mu", shape=(S,))
    term = terminal if terminal.any() else None
    desc = getattr(base, "desc", None)
    if desc is not None and np.asarray(desc).size == S:
        layout = ["".join(c.decode() if isinstance(c, bytes) else str(c) for c in row) for row in np.asarray(desc)]
        cells = [(i, j) for i in range(len(layout)) for j in range(len(layout[0]))]
        return GridMDP.from_outcomes(S, A, outcomes, mu, gamma, term, layout=layout, cells=cells)
    return TabularMDP.from_outcomes(S, A, outcomes, mu, gamma, term)
