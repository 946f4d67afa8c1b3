"""Bad input: every invalid argument of every public callable raises ValueError/TypeError naming the argument.

One table row per (callable, bad argument): the call differs from a valid call (checked in
`test_valid_calls_pass`) in exactly that argument. The exception must be exactly the expected type (a raw
numpy error such as LinAlgError or AxisError, which subclass ValueError, does not count) and its message must
match the regex, which names the argument.

Not covered (no validation by design): the result containers Evaluation, Episodes, History (dataclasses the
package builds) and the constant ACTION_NAMES.
"""
import re

import numpy as np
import pytest

import pgcourse as pg

rng0 = np.random.default_rng(0)
MDP = pg.random_mdp(3, 2, 0.9, np.random.default_rng(0), n_terminal=1)
PI = np.full((3, 2), 0.5)
TAB = pg.SoftmaxPolicy.tabular(3, 2)
TH = np.zeros((3, 2))
LIN = pg.SoftmaxPolicy(np.random.default_rng(1).normal(size=(3, 2, 4)))
THL = np.zeros(4)
EP = pg.sample_episodes(MDP, PI, 6, 5, np.random.default_rng(2))
V = np.zeros(3)
ADV = np.zeros((6, 5))
GAU = pg.GaussianPolicy(0.5)
GAU2 = pg.GaussianPolicy(0.5, n_features=2)
QB = pg.QuadraticBandit()
LQ = pg.LinearQuadratic()
GRID = pg.gridworld()
P0, R0, MU0, TERM0 = MDP.P, MDP.R, MDP.mu, MDP.terminal


class Bad:
    """A stand-in for an object of the wrong type."""


def rng():
    return np.random.default_rng(0)


def with_(arr, idx, value):
    a = np.array(arr, dtype=float)
    a[idx] = value
    return a


def bad_P_rows():
    P = P0.copy()
    P[0, 0] *= 2
    return P


def neg_P():
    P = P0.copy()
    P[0, 0, 0] -= 0.5
    P[0, 0, 1] += 0.5
    return P


def gym_env():
    gym = pytest.importorskip("gymnasium")
    return gym.make("FrozenLake-v1")


# --- the table: (callable, args, kwargs, exception, regex) -----------------------------------------------
# Each callable is a zero-argument factory for the valid call's function, so objects are built lazily.

TV, VE = TypeError, ValueError
CASES = []


def case(id_, fn, args=(), kw=None, exc=VE, match=None):
    CASES.append(pytest.param(fn, args, kw or {}, exc, match, id=id_))


# TabularMDP(P, R, mu, gamma, terminal)
mdp_args = (P0, R0, MU0, 0.9, TERM0)
for name, pos in (("P", 0), ("R", 1), ("mu", 2)):
    arr = mdp_args[pos]
    for tag, val, exc in (("str", "abc", TV), ("None", None, TV), ("nan", with_(arr, (0,) * arr.ndim, np.nan), VE),
                          ("inf", with_(arr, (0,) * arr.ndim, np.inf), VE), ("shape", np.zeros((2,) * arr.ndim), VE),
                          ("ndim", np.zeros((3,) * (arr.ndim % 3 + 1)), VE), ("ragged", [[1.0], [1.0, 2.0]], TV)):
        a = list(mdp_args)
        a[pos] = val
        case(f"TabularMDP-{name}-{tag}", pg.TabularMDP, tuple(a), exc=exc, match=rf"\b{name}\b")
case("TabularMDP-P-negative", pg.TabularMDP, (neg_P(), R0, MU0, 0.9, TERM0), match=r"P.*negative")
case("TabularMDP-P-rows", pg.TabularMDP, (bad_P_rows(), R0, MU0, 0.9, TERM0), match=r"P\[0, 0\].*sum")
case("TabularMDP-P-empty", pg.TabularMDP, (np.zeros((0, 2, 0)), np.zeros((0, 2)), np.zeros(0), 0.9), match=r"\bP\b")
case("TabularMDP-P-not-square", pg.TabularMDP, (np.ones((3, 2, 1)), R0, MU0, 0.9), match=r"\bP\b")
case("TabularMDP-mu-negative", pg.TabularMDP, (P0, R0, [1.5, -0.5, 0.0], 0.9, TERM0), match=r"mu.*distribution")
case("TabularMDP-mu-sum", pg.TabularMDP, (P0, R0, [0.2, 0.2, 0.0], 0.9, TERM0), match=r"mu.*distribution")
case("TabularMDP-mu-on-terminal", pg.TabularMDP, (P0, R0, [0.0, 0.0, 1.0], 0.9, TERM0), match=r"\bmu\b.*terminal")
for tag, g, exc in (("neg", -0.1, VE), ("big", 1.5, VE), ("nan", np.nan, VE), ("inf", np.inf, VE), ("str", "0.9", TV),
                    ("None", None, TV), ("bool", True, TV), ("array", np.array([0.9]), TV), ("complex", 0.5j, TV)):
    case(f"TabularMDP-gamma-{tag}", pg.TabularMDP, (P0, R0, MU0, g, TERM0), exc=exc, match=r"\bgamma\b")
case("TabularMDP-terminal-int", pg.TabularMDP, (P0, R0, MU0, 0.9, np.array([0, 0, 1])), exc=TV, match=r"\bterminal\b")
case("TabularMDP-terminal-str", pg.TabularMDP, (P0, R0, MU0, 0.9, "abc"), exc=TV, match=r"\bterminal\b")
case("TabularMDP-terminal-shape", pg.TabularMDP, (P0, R0, MU0, 0.9, np.array([False, True])), match=r"\bterminal\b")
case("TabularMDP-terminal-not-absorbing", pg.TabularMDP, (P0, R0, MU0, 0.9, np.array([False, True, True])),
     match=r"terminal state 1 must be absorbing")
case("TabularMDP-terminal-reward", pg.TabularMDP, (P0, with_(R0, (2, 0), 1.0), MU0, 0.9, TERM0),
     match=r"terminal state 2 must pay zero reward")
case("TabularMDP-terminal-all", pg.TabularMDP, (np.ones((1, 1, 1)), [[0.0]], [1.0], 0.9, np.array([True])),
     match=r"\bterminal\b")

# random_mdp(S, A, gamma, rng, n_terminal=, branching=)
for name, pos in (("S", 0), ("A", 1)):
    for tag, val, exc in (("zero", 0, VE), ("neg", -2, VE), ("float", 3.0, TV), ("str", "3", TV), ("None", None, TV)):
        a = [3, 2, 0.9, np.random.default_rng(0)]
        a[pos] = val
        case(f"random_mdp-{name}-{tag}", pg.random_mdp, tuple(a), exc=exc, match=rf"^{name} must")
case("random_mdp-gamma", pg.random_mdp, (3, 2, 1.01, rng0), match=r"\bgamma\b")
case("random_mdp-gamma1-no-terminal", pg.random_mdp, (3, 2, 1.0, rng0), match=r"n_terminal")
for tag, r in (("None", None), ("int", 42), ("RandomState", np.random.RandomState(0)), ("module", np.random)):
    case(f"random_mdp-rng-{tag}", pg.random_mdp, (3, 2, 0.9, r), exc=TV, match=r"\brng\b.*Generator")
for tag, val, exc in (("too-many", 3, VE), ("neg", -1, VE), ("float", 1.0, TV)):
    case(f"random_mdp-n_terminal-{tag}", pg.random_mdp, (3, 2, 0.9, rng0), {"n_terminal": val}, exc, r"n_terminal")
for tag, val, exc in (("zero", 0, VE), ("big", 4, VE), ("float", 2.0, TV)):
    case(f"random_mdp-branching-{tag}", pg.random_mdp, (3, 2, 0.9, rng0), {"branching": val}, exc, r"branching")

# evaluate(mdp, pi) and the functions taking (mdp, policy, theta)
for tag, val in (("str", "mdp"), ("None", None), ("object", Bad())):
    case(f"evaluate-mdp-{tag}", pg.evaluate, (val, PI), exc=TV, match=r"\bmdp\b.*TabularMDP")
PI_BAD = {"shape": (np.full((2, 2), 0.5), VE, r"\bpi\b.*shape"), "transposed": (np.full((2, 3), 0.5), VE, r"\bpi\b"),
          "nan": (with_(PI, (0, 0), np.nan), VE, r"\bpi\b"),
          "negative": (np.array([[1.5, -0.5]] * 3), VE, r"pi.*negative"),
          "rows": (np.full((3, 2), 0.4), VE, r"pi rows must sum to 1"), "str": ("pi", TV, r"\bpi\b"),
          "None": (None, TV, r"\bpi\b"), "1d": (np.full(6, 1 / 6), VE, r"\bpi\b")}
for tag, (val, exc, rx) in PI_BAD.items():
    case(f"evaluate-pi-{tag}", pg.evaluate, (MDP, val), exc=exc, match=rx)

THETA_FNS = {"policy_gradient": pg.policy_gradient, "objective": pg.objective,
             "finite_difference_gradient": pg.finite_difference_gradient, "fisher_matrix": pg.fisher_matrix,
             "natural_gradient": pg.natural_gradient}
for fname, fn in THETA_FNS.items():
    case(f"{fname}-mdp", fn, ("mdp", TAB, TH), exc=TV, match=r"\bmdp\b")
    case(f"{fname}-policy-type", fn, (MDP, GAU, TH), exc=TV, match=r"\bpolicy\b.*SoftmaxPolicy")
    case(f"{fname}-policy-None", fn, (MDP, None, TH), exc=TV, match=r"\bpolicy\b")
    case(f"{fname}-policy-size", fn, (MDP, pg.SoftmaxPolicy.tabular(4, 2), np.zeros((4, 2))), match=r"\bpolicy\b.*mdp")
    case(f"{fname}-theta-shape", fn, (MDP, TAB, np.zeros((2, 3))), match=r"\btheta\b.*shape")
    case(f"{fname}-theta-linear-shape", fn, (MDP, LIN, np.zeros(3)), match=r"\btheta\b.*shape")
    case(f"{fname}-theta-nan", fn, (MDP, TAB, with_(TH, (0, 0), np.nan)), match=r"\btheta\b")
    case(f"{fname}-theta-str", fn, (MDP, TAB, "theta"), exc=TV, match=r"\btheta\b")
    case(f"{fname}-theta-None", fn, (MDP, TAB, None), exc=TV, match=r"\btheta\b")
case("policy_gradient-gamma1-never-ends", pg.policy_gradient,
     (pg.short_corridor(), pg.short_corridor_policy(), np.array([0.0, 800.0])), match=r"never reach a terminal")
for tag, val, exc in (("zero", 0.0, VE), ("neg", -1e-3, VE), ("str", "a", TV), ("nan", np.nan, VE)):
    case(f"finite_difference_gradient-eps-{tag}", pg.finite_difference_gradient, (MDP, TAB, TH), {"eps": val}, exc,
         r"\beps\b")
for tag, val, exc in (("neg", -1.0, VE), ("str", "a", TV), ("nan", np.nan, VE), ("None", None, TV)):
    case(f"natural_gradient-rcond-{tag}", pg.natural_gradient, (MDP, TAB, TH), {"rcond": val}, exc, r"\brcond\b")
for tag, val, exc in (("neg", -0.1, VE), ("nan", np.nan, VE), ("inf", np.inf, VE), ("str", "0.1", TV),
                      ("None", None, TV),
                      ("array", np.zeros(2), TV)):
    case(f"evaluate-tau-{tag}", pg.evaluate, (MDP, PI), {"tau": val}, exc, r"\btau\b")
    for fname in ("policy_gradient", "objective", "finite_difference_gradient"):
        case(f"{fname}-tau-{tag}", THETA_FNS[fname], (MDP, TAB, TH), {"tau": val}, exc, r"\btau\b")
for tag, val in (("shape", np.zeros((3, 3))), ("nan", with_(PI, (1, 1), np.nan)), ("1d", np.zeros(3))):
    case(f"score_expectation-weights-{tag}", pg.score_expectation, (MDP, TAB, TH, val), match=r"\bweights\b")
case("score_expectation-weights-str", pg.score_expectation, (MDP, TAB, TH, "w"), exc=TV, match=r"\bweights\b")
for tag, val in (("shape", np.ones(4) / 4), ("nan", with_(V, 0, np.nan))):
    case(f"score_expectation-d-{tag}", pg.score_expectation, (MDP, TAB, TH, PI), {"d": val}, VE, r"\bd\b")
case("score_expectation-policy-size", pg.score_expectation, (MDP, pg.SoftmaxPolicy.tabular(3, 3), np.zeros((3, 3)), PI),
     match=r"\bpolicy\b")
case("score_expectation-mdp", pg.score_expectation, ({}, TAB, TH, PI), exc=TV, match=r"\bmdp\b")
for tag, val in (("str", "mdp"), ("None", None)):
    case(f"optimal_values-mdp-{tag}", pg.optimal_values, (val,), exc=TV, match=r"\bmdp\b")

# policies
for tag, val, exc in (("2d", np.zeros((3, 2)), VE), ("nan", with_(np.zeros((3, 2, 1)), (0, 0, 0), np.nan), VE),
                      ("inf", with_(np.zeros((3, 2, 1)), (0, 0, 0), np.inf), VE), ("empty", np.zeros((3, 2, 0)), VE),
                      ("str", "phi", TV), ("None", None, TV)):
    case(f"SoftmaxPolicy-features-{tag}", pg.SoftmaxPolicy, (val,), exc=exc, match=r"\bfeatures\b")
for tag, args, exc, rx in (("S0", (0, 2), VE, r"^S must"), ("A0", (3, 0), VE, r"^A must"),
                           ("Sfloat", (3.0, 2), TV, r"^S must"),
                           ("Astr", (3, "2"), TV, r"^A must"), ("SNone", (None, 2), TV, r"^S must")):
    case(f"SoftmaxPolicy.tabular-{tag}", pg.SoftmaxPolicy.tabular, args, exc=exc, match=rx)
for tag, val, exc in (("shape", np.zeros(6), VE), ("nan", with_(TH, (1, 1), np.nan), VE), ("str", "t", TV)):
    case(f"SoftmaxPolicy.probs-theta-{tag}", TAB.probs, (val,), exc=exc, match=r"\btheta\b")
    case(f"SoftmaxPolicy.logits-theta-{tag}", LIN.logits, (np.zeros(5) if tag == "shape" else val,), exc=exc,
         match=r"\btheta\b")
for fname in ("grad_log_prob", "score_sum"):
    for pol, th in ((TAB, TH), (LIN, THL)):
        fn = getattr(pol, fname)
        extra = (np.ones(2),) if fname == "score_sum" else ()
        kind = "tab" if pol is TAB else "lin"
        case(f"{fname}-{kind}-states-range", fn, (th, [0, 3], [0, 1]) + extra, match=r"\bstates\b.*index 3")
        case(f"{fname}-{kind}-states-neg", fn, (th, [0, -1], [0, 1]) + extra, match=r"\bstates\b.*negative")
        case(f"{fname}-{kind}-states-float", fn, (th, [0, 1.5], [0, 1]) + extra, exc=TV, match=r"\bstates\b")
        case(f"{fname}-{kind}-states-str", fn, (th, "ab", [0, 1]) + extra, exc=TV, match=r"\bstates\b")
        case(f"{fname}-{kind}-states-bool", fn, (th, [True, False], [0, 1]) + extra, exc=TV, match=r"\bstates\b")
        case(f"{fname}-{kind}-actions-range", fn, (th, [0, 1], [0, 2]) + extra, match=r"\bactions\b.*index 2")
        case(f"{fname}-{kind}-actions-shape", fn, (th, [0, 1], [0, 1, 1]) + extra, match=r"\bactions\b.*shape")
        case(f"{fname}-{kind}-actions-None", fn, (th, [0, 1], None) + extra, exc=TV, match=r"\bactions\b")
        case(f"{fname}-{kind}-theta-shape", fn, (np.zeros(7), [0, 1], [0, 1]) + extra, match=r"\btheta\b")
for tag, val in (("shape", np.ones(3)), ("nan", [1.0, np.nan])):
    case(f"score_sum-weights-{tag}", TAB.score_sum, (TH, [0, 1], [0, 1], val), match=r"\bweights\b")
case("contract-C-shape", TAB.contract, (np.zeros((2, 2)),), match=r"\bC\b")
case("contract-C-shape-linear", LIN.contract, (np.zeros((3, 3)),), match=r"\bC\b")
case("contract-C-nan", LIN.contract, (with_(PI, (0, 0), np.nan),), match=r"\bC\b")
for tag, val, exc in (("nan", [0.0, np.nan], VE), ("posinf", [0.0, np.inf], VE), ("str", "abc", TV), ("None", None, TV),
                      ("empty", np.zeros((2, 0)), VE), ("all-neginf", [-np.inf, -np.inf], VE)):
    case(f"softmax-logits-{tag}", pg.softmax, (val,), exc=exc, match=r"\blogits\b")
case("softmax-axis-range", pg.softmax, (np.zeros((2, 3)), 2), exc=VE, match=r"\baxis\b")
case("softmax-axis-float", pg.softmax, (np.zeros((2, 3)), 1.0), exc=TV, match=r"\baxis\b")

# GaussianPolicy(sigma, n_features) and its methods
for tag, val, exc in (("zero", 0.0, VE), ("neg", -1.0, VE), ("nan", np.nan, VE), ("str", "1", TV), ("None", None, TV)):
    case(f"GaussianPolicy-sigma-{tag}", pg.GaussianPolicy, (val,), exc=exc, match=r"\bsigma\b")
for tag, val, exc in (("zero", 0, VE), ("float", 1.0, TV), ("str", "1", TV)):
    case(f"GaussianPolicy-n_features-{tag}", pg.GaussianPolicy, (0.5, val), exc=exc, match=r"\bn_features\b")
PHI2 = np.ones((4, 2))
for mname, extra in (("mean", ()), ("sample", (rng0,)), ("log_prob", (np.zeros(4),)),
                     ("grad_log_prob", (np.zeros(4),))):
    fn = getattr(GAU2, mname)
    case(f"GaussianPolicy.{mname}-theta-shape", fn, (np.zeros(3), PHI2) + extra, match=r"\btheta\b")
    case(f"GaussianPolicy.{mname}-theta-nan", fn, ([0.0, np.nan], PHI2) + extra, match=r"\btheta\b")
    case(f"GaussianPolicy.{mname}-features-K", fn, (np.zeros(2), np.ones((4, 3))) + extra, match=r"\bfeatures\b")
    case(f"GaussianPolicy.{mname}-features-scalar", fn, (np.zeros(2), 1.0) + extra, match=r"\bfeatures\b")
    case(f"GaussianPolicy.{mname}-features-nan", fn, (np.zeros(2), with_(PHI2, (0, 0), np.nan)) + extra,
         match=r"\bfeatures\b")
case("GaussianPolicy.sample-rng", GAU2.sample, (np.zeros(2), PHI2, 0), exc=TV, match=r"\brng\b")
for mname in ("log_prob", "grad_log_prob"):
    case(f"GaussianPolicy.{mname}-actions-shape", getattr(GAU2, mname), (np.zeros(2), PHI2, np.zeros(3)),
         match=r"\bactions\b")
    case(f"GaussianPolicy.{mname}-actions-nan", getattr(GAU2, mname), (np.zeros(2), PHI2, [0, 0, 0, np.nan]),
         match=r"\bactions\b")

# sample_episodes(mdp, pi, n_episodes, horizon, rng) and visitation_frequencies(episodes, S, gamma)
case("sample_episodes-mdp", pg.sample_episodes, (None, PI, 5, 5, rng0), exc=TV, match=r"\bmdp\b")
for tag, (val, exc, rx) in PI_BAD.items():
    case(f"sample_episodes-pi-{tag}", pg.sample_episodes, (MDP, val, 5, 5, rng0), exc=exc, match=rx)
for name, pos in (("n_episodes", 2), ("horizon", 3)):
    for tag, val, exc in (("zero", 0, VE), ("neg", -1, VE), ("float", 5.0, TV), ("str", "5", TV), ("None", None, TV),
                          ("bool", True, TV)):
        a = [MDP, PI, 5, 5, rng0]
        a[pos] = val
        case(f"sample_episodes-{name}-{tag}", pg.sample_episodes, tuple(a), exc=exc, match=rf"\b{name}\b")
for tag, r in (("None", None), ("int", 42), ("RandomState", np.random.RandomState(0))):
    case(f"sample_episodes-rng-{tag}", pg.sample_episodes, (MDP, PI, 5, 5, r), exc=TV, match=r"\brng\b.*Generator")
case("visitation_frequencies-episodes", pg.visitation_frequencies, ("ep", 3), exc=TV, match=r"\bepisodes\b")
case("visitation_frequencies-S-small", pg.visitation_frequencies, (EP, 2), match=r"\bS\b")
case("visitation_frequencies-S-zero", pg.visitation_frequencies, (EP, 0), match=r"^S must")
case("visitation_frequencies-S-float", pg.visitation_frequencies, (EP, 3.0), exc=TV, match=r"^S must")
case("visitation_frequencies-gamma", pg.visitation_frequencies, (EP, 3, 1.5), match=r"\bgamma\b")

# estimators
R2 = np.zeros((4, 5))
for tag, val, exc in (("1d", np.zeros(5), VE), ("nan", with_(R2, (0, 0), np.nan), VE), ("str", "r", TV),
                      ("None", None, TV)):
    case(f"discounted_returns-rewards-{tag}", pg.discounted_returns, (val, 0.9), exc=exc, match=r"\brewards\b")
for tag, val, exc in (("big", 1.5, VE), ("neg", -0.5, VE), ("str", "0.9", TV), ("None", None, TV)):
    case(f"discounted_returns-gamma-{tag}", pg.discounted_returns, (R2, val), exc=exc, match=r"\bgamma\b")
    case(f"td_errors-gamma-{tag}", pg.td_errors, (EP, V, val), exc=exc, match=r"\bgamma\b")
    case(f"gae-gamma-{tag}", pg.gae, (EP, V, val, 0.5), exc=exc, match=r"\bgamma\b")
    case(f"reinforce_gradient-gamma-{tag}", pg.reinforce_gradient, (TAB, TH, EP, val), exc=exc, match=r"\bgamma\b")
    case(f"advantage_gradient-gamma-{tag}", pg.advantage_gradient, (TAB, TH, EP, ADV, val), exc=exc, match=r"\bgamma\b")
    case(f"mc_values-gamma-{tag}", pg.mc_values, (EP, 3, val), exc=exc, match=r"\bgamma\b")
    case(f"td0_values-gamma-{tag}", pg.td0_values, (EP, 3, val), exc=exc, match=r"\bgamma\b")
    case(f"td0_values-gamma-{tag}-no-sweeps", pg.td0_values, (EP, 3, val), {"n_sweeps": 0}, exc, r"\bgamma\b")
for tag, val in (("shape", np.ones((4, 4))), ("half", np.full((4, 5), 0.5)),
                 ("nan", with_(np.ones((4, 5)), (0, 0), np.nan))):
    case(f"discounted_returns-mask-{tag}", pg.discounted_returns, (R2, 0.9, val), match=r"\bmask\b")
for tag, val in (("shape", np.zeros(3)), ("nan", [0, 0, 0, np.nan])):
    case(f"discounted_returns-bootstrap-{tag}", pg.discounted_returns, (R2, 0.9, None, val), match=r"\bbootstrap\b")
for fname, fn, extra in (("td_errors", pg.td_errors, (0.9,)), ("gae", pg.gae, (0.9, 0.5))):
    case(f"{fname}-episodes", fn, ({"states": 0}, V) + extra, exc=TV, match=r"\bepisodes\b")
    case(f"{fname}-V-short", fn, (EP, np.zeros(2)) + extra, match=r"\bV\b.*2 entries")
    case(f"{fname}-V-2d", fn, (EP, np.zeros((3, 1))) + extra, match=r"\bV\b")
    case(f"{fname}-V-nan", fn, (EP, with_(V, 1, np.nan)) + extra, match=r"\bV\b")
    case(f"{fname}-V-str", fn, (EP, "V") + extra, exc=TV, match=r"\bV\b")
    case(f"{fname}-V-None", fn, (EP, None) + extra, exc=TV, match=r"\bV\b")
for tag, val, exc in (("neg", -0.1, VE), ("big", 1.5, VE), ("nan", np.nan, VE), ("str", "0.5", TV), ("None", None, TV)):
    case(f"gae-lam-{tag}", pg.gae, (EP, V, 0.9, val), exc=exc, match=r"\blam\b")
for tag, val, exc in (("zero", 0, VE), ("neg", -1, VE), ("float", 2.0, TV), ("str", "2", TV), ("None", None, TV)):
    case(f"n_step_advantages-n-{tag}", pg.n_step_advantages, (EP, V, 0.9, val), exc=exc, match=r"\bn\b")
for tag, val, exc in (("big", 1.5, VE), ("str", "0.9", TV)):
    case(f"n_step_advantages-gamma-{tag}", pg.n_step_advantages, (EP, V, val, 2), exc=exc, match=r"\bgamma\b")
case("n_step_advantages-V-short", pg.n_step_advantages, (EP, np.zeros(2), 0.9, 2), match=r"\bV\b.*2 entries")
case("n_step_advantages-episodes", pg.n_step_advantages, ("ep", V, 0.9, 2), exc=TV, match=r"\bepisodes\b")
for fname, fn, extra in (("reinforce_gradient", pg.reinforce_gradient, (0.9,)),
                         ("advantage_gradient", pg.advantage_gradient, (ADV, 0.9))):
    case(f"{fname}-policy", fn, (GAU, TH, EP) + extra, exc=TV, match=r"\bpolicy\b")
    case(f"{fname}-policy-None", fn, (None, TH, EP) + extra, exc=TV, match=r"\bpolicy\b")
    case(f"{fname}-episodes", fn, (TAB, TH, "ep") + extra, exc=TV, match=r"\bepisodes\b")
    case(f"{fname}-theta-shape", fn, (TAB, np.zeros(6), EP) + extra, match=r"\btheta\b")
    case(f"{fname}-theta-nan", fn, (TAB, with_(TH, (0, 0), np.nan), EP) + extra, match=r"\btheta\b")
    case(f"{fname}-policy-too-small", fn, (pg.SoftmaxPolicy.tabular(2, 2), np.zeros((2, 2)), EP) + extra,
         match=r"\bstates\b|\bpolicy\b")
for tag, val in (("short", np.zeros(2)), ("long", np.zeros(4)), ("2d", np.zeros((3, 1))), ("nan", with_(V, 0, np.nan))):
    case(f"reinforce_gradient-baseline-{tag}", pg.reinforce_gradient, (TAB, TH, EP, 0.9), {"baseline": val}, VE,
         r"\bbaseline\b")
case("reinforce_gradient-baseline-str", pg.reinforce_gradient, (TAB, TH, EP, 0.9), {"baseline": "b"}, TV,
     r"\bbaseline\b")
for tag, val in (("shape", np.zeros((6, 4))), ("nan", with_(ADV, (0, 0), np.nan))):
    case(f"advantage_gradient-advantages-{tag}", pg.advantage_gradient, (TAB, TH, EP, val, 0.9),
         match=r"\badvantages\b")
for fname, fn in (("mc_values", pg.mc_values), ("td0_values", pg.td0_values)):
    case(f"{fname}-episodes", fn, (None, 3, 0.9), exc=TV, match=r"\bepisodes\b")
    case(f"{fname}-S-small", fn, (EP, 2, 0.9), match=r"\bS\b")
    case(f"{fname}-S-zero", fn, (EP, 0, 0.9), match=r"^S must")
    case(f"{fname}-S-float", fn, (EP, 3.0, 0.9), exc=TV, match=r"^S must")
for tag, val, exc in (("zero", 0.0, VE), ("big", 1.5, VE), ("str", "a", TV)):
    case(f"td0_values-alpha-{tag}", pg.td0_values, (EP, 3, 0.9), {"alpha": val}, exc, r"\balpha\b")
for tag, val, exc in (("neg", -1, VE), ("float", 2.0, TV)):
    case(f"td0_values-n_sweeps-{tag}", pg.td0_values, (EP, 3, 0.9), {"n_sweeps": val}, exc, r"\bn_sweeps\b")
for tag, val in (("short", np.zeros(2)), ("long", np.zeros(4)), ("nan", with_(V, 0, np.nan))):
    case(f"td0_values-V0-{tag}", pg.td0_values, (EP, 3, 0.9), {"V0": val}, VE, r"\bV0\b")

# per-episode gradients and the exact expectations of the estimators
case("per_episode_gradients-policy", pg.per_episode_gradients, (GAU, TH, EP, ADV, 0.9), exc=TV, match=r"\bpolicy\b")
case("per_episode_gradients-episodes", pg.per_episode_gradients, (TAB, TH, "ep", ADV, 0.9), exc=TV,
     match=r"\bepisodes\b")
case("per_episode_gradients-theta", pg.per_episode_gradients, (TAB, np.zeros(6), EP, ADV, 0.9), match=r"\btheta\b")
case("per_episode_gradients-advantages", pg.per_episode_gradients, (TAB, TH, EP, np.zeros((6, 4)), 0.9),
     match=r"\badvantages\b")
case("per_episode_gradients-gamma", pg.per_episode_gradients, (TAB, TH, EP, ADV, 1.5), match=r"\bgamma\b")
case("per_episode_gradients-policy-too-small", pg.per_episode_gradients,
     (pg.SoftmaxPolicy.tabular(2, 2), np.zeros((2, 2)), EP, ADV, 0.9), match=r"\bpolicy\b")
for fname, fn, args in (("expected_td_error", pg.expected_td_error, (V,)), ("pair_chain", pg.pair_chain, (PI,)),
                        ("expected_gae", pg.expected_gae, (PI, V, 0.5)),
                        ("alive_distributions", pg.alive_distributions, (PI, 5)),
                        ("expected_gradient_estimate", pg.expected_gradient_estimate, (TAB, TH, V, 0.5, 5))):
    case(f"{fname}-mdp", fn, ("mdp",) + args, exc=TV, match=r"\bmdp\b")
case("expected_td_error-V_hat-short", pg.expected_td_error, (MDP, np.zeros(2)), match=r"\bV_hat\b")
case("expected_td_error-V_hat-nan", pg.expected_td_error, (MDP, with_(V, 0, np.nan)), match=r"\bV_hat\b")
for fname, fn, args in (("pair_chain", pg.pair_chain, ()), ("expected_gae", pg.expected_gae, (V, 0.5)),
                        ("alive_distributions", pg.alive_distributions, (5,))):
    case(f"{fname}-pi-rows", fn, (MDP, np.full((3, 2), 0.7)) + args, match=r"\bpi\b")
    case(f"{fname}-pi-shape", fn, (MDP, np.full((2, 2), 0.5)) + args, match=r"\bpi\b")
case("expected_gae-V_hat", pg.expected_gae, (MDP, PI, np.zeros(4), 0.5), match=r"\bV_hat\b")
case("expected_gae-lam", pg.expected_gae, (MDP, PI, V, 1.5), match=r"\blam\b")
case("expected_gae-n_steps", pg.expected_gae, (MDP, PI, V, 0.5, 0), match=r"\bn_steps\b")
case("expected_gae-gamma1-never-ends", pg.expected_gae,
     (pg.short_corridor(), np.tile([1.0, 0.0], (4, 1)), np.zeros(4), 1.0), match=r"gamma = 1")
case("alive_distributions-horizon", pg.alive_distributions, (MDP, PI, 0), match=r"\bhorizon\b")
case("expected_gradient_estimate-policy", pg.expected_gradient_estimate, (MDP, GAU, TH, V, 0.5, 5), exc=TV,
     match=r"\bpolicy\b")
case("expected_gradient_estimate-theta", pg.expected_gradient_estimate, (MDP, TAB, np.zeros(6), V, 0.5, 5),
     match=r"\btheta\b")
case("expected_gradient_estimate-size", pg.expected_gradient_estimate,
     (MDP, pg.SoftmaxPolicy.tabular(2, 2), np.zeros((2, 2)), V, 0.5, 5), match=r"\bpolicy\b")
case("expected_gradient_estimate-lam", pg.expected_gradient_estimate, (MDP, TAB, TH, V, -0.5, 5), match=r"\blam\b")
case("expected_gradient_estimate-horizon", pg.expected_gradient_estimate, (MDP, TAB, TH, V, 0.5, 0),
     match=r"\bhorizon\b")

# envs
for tag, val, exc in (("one", 1.0, VE), ("big", 2.0, VE), ("str", "0.9", TV), ("None", None, TV)):
    case(f"chain_ab-gamma-{tag}", pg.chain_ab, (val,), exc=exc, match=r"\bgamma\b")
for kw, exc, rx in (({"layout": []}, VE, r"\blayout\b"), ({"layout": ["S..", ".."]}, VE, r"\blayout\b"),
                    ({"layout": ["S.X"]}, VE, r"\blayout\b.*X"), ({"layout": ["..G"]}, VE, r"\blayout\b.*start"),
                    ({"layout": ["###"]}, VE, r"\blayout\b"), ({"layout": None}, TV, r"\blayout\b"),
                    ({"layout": 5}, TV, r"\blayout\b"), ({"gamma": 1.5}, VE, r"\bgamma\b"),
                    ({"slip": 1.5}, VE, r"\bslip\b"), ({"slip": -0.1}, VE, r"\bslip\b"),
                    ({"goal_reward": np.nan}, VE, r"\bgoal_reward\b"), ({"pit_reward": "a"}, TV, r"\bpit_reward\b"),
                    ({"step_reward": np.inf}, VE, r"\bstep_reward\b")):
    case(f"gridworld-{next(iter(kw))}-{kw[next(iter(kw))]!r}", pg.gridworld, (), kw, exc, rx)
for kw, exc, rx in (({"gamma": -1.0}, VE, r"\bgamma\b"), ({"is_slippery": 1}, TV, r"\bis_slippery\b"),
                    ({"is_slippery": "yes"}, TV, r"\bis_slippery\b"), ({"layout": ["SFZ"]}, VE, r"\blayout\b")):
    case(f"frozen_lake-{next(iter(kw))}-{kw[next(iter(kw))]!r}", pg.frozen_lake, (), kw, exc, rx)
case("from_gymnasium-env-None", pg.from_gymnasium, (None, 0.9), exc=TV, match=r"\benv\b")
case("from_gymnasium-env-object", pg.from_gymnasium, (Bad(), 0.9), exc=TV, match=r"\benv\b")
case("from_gymnasium-gamma", pg.from_gymnasium, (gym_env, 1.5), match=r"\bgamma\b")
case("from_gymnasium-mu-shape", pg.from_gymnasium, (gym_env, 0.9), {"mu": np.ones(3) / 3}, VE, r"\bmu\b")
case("from_gymnasium-mu-negative", pg.from_gymnasium, (gym_env, 0.9), {"mu": with_(np.eye(16)[0] * 2, 1, -1.0)}, VE,
     r"\bmu\b")
GRID_ARGS = (GRID.P, GRID.R, GRID.mu, GRID.gamma, GRID.terminal, GRID.layout, GRID.cells)
case("GridMDP-cells-count", pg.GridMDP, GRID_ARGS[:6] + (GRID.cells[:-1],), match=r"\bcells\b")
case("GridMDP-cells-outside", pg.GridMDP, GRID_ARGS[:6] + (GRID.cells[:-1] + ((9, 9),),), match=r"\bcells\b")
case("GridMDP-layout-ragged", pg.GridMDP, GRID_ARGS[:5] + (("S...", ".."),) + GRID_ARGS[6:], match=r"\blayout\b")
case("GridMDP-gamma", pg.GridMDP, GRID_ARGS[:3] + (2.0,) + GRID_ARGS[4:], match=r"\bgamma\b")
for tag, val, exc in (("shape", np.zeros(4), VE), ("nan", with_(np.zeros(GRID.S), 0, np.nan), VE), ("str", "v", TV)):
    case(f"GridMDP.to_grid-values-{tag}", GRID.to_grid, (val,), exc=exc, match=r"\bvalues\b")

# continuous
for tag, val, exc in (("nan", np.nan, VE), ("str", "1", TV), ("None", None, TV)):
    case(f"QuadraticBandit-a_star-{tag}", pg.QuadraticBandit, (val,), exc=exc, match=r"\ba_star\b")
for mname, extra in (("objective", (0.5,)), ("gradient", ())):
    fn = getattr(QB, mname)
    case(f"QuadraticBandit.{mname}-theta-shape", fn, (np.zeros(2),) + extra, match=r"\btheta\b")
    case(f"QuadraticBandit.{mname}-theta-nan", fn, ([np.nan],) + extra, match=r"\btheta\b")
    case(f"QuadraticBandit.{mname}-theta-str", fn, ("t",) + extra, exc=TV, match=r"\btheta\b")
case("QuadraticBandit.objective-sigma", QB.objective, ([0.0], -1.0), match=r"\bsigma\b")
case("QuadraticBandit.reward-actions", QB.reward, ([np.nan],), match=r"\bactions\b")
case("QuadraticBandit.score_gradient_samples-policy", QB.score_gradient_samples, (TAB, [0.0], 5, rng0), exc=TV,
     match=r"\bpolicy\b")
case("QuadraticBandit.score_gradient_samples-n", QB.score_gradient_samples, (GAU, [0.0], 0, rng0), match=r"^n must")
case("QuadraticBandit.score_gradient_samples-n-float", QB.score_gradient_samples, (GAU, [0.0], 5.0, rng0), exc=TV,
     match=r"^n must")
case("QuadraticBandit.score_gradient_samples-rng", QB.score_gradient_samples, (GAU, [0.0], 5, None), exc=TV,
     match=r"\brng\b")
case("QuadraticBandit.score_gradient_samples-theta", QB.score_gradient_samples, (GAU, [0.0, 1.0], 5, rng0),
     match=r"\btheta\b")
case("QuadraticBandit.score_gradient_samples-baseline", QB.score_gradient_samples, (GAU, [0.0], 5, rng0),
     {"baseline": np.nan}, VE, r"\bbaseline\b")
for name, val, exc in (("a", np.nan, VE), ("b", "1", TV), ("q", -1.0, VE), ("r", -0.5, VE), ("noise", -0.1, VE),
                       ("x0_std", -1.0, VE), ("gamma", 1.5, VE), ("gamma", None, TV)):
    case(f"LinearQuadratic-{name}-{val!r}", pg.LinearQuadratic, (), {name: val}, exc, rf"\b{name}\b")
for mname in ("objective", "gradient"):
    fn = getattr(LQ, mname)
    case(f"LinearQuadratic.{mname}-theta", fn, (np.zeros(2), 0.3), match=r"\btheta\b")
    case(f"LinearQuadratic.{mname}-sigma-zero", fn, ([-0.5], 0.0), match=r"\bsigma\b")
    case(f"LinearQuadratic.{mname}-horizon-zero", fn, ([-0.5], 0.3, 0), match=r"\bhorizon\b")
    case(f"LinearQuadratic.{mname}-horizon-float", fn, ([-0.5], 0.3, 5.0), exc=TV, match=r"\bhorizon\b")
    case(f"LinearQuadratic.{mname}-diverges", fn, ([1.0], 0.3), match=r"diverges")
for mname in ("rollout", "reinforce_gradient"):
    fn = getattr(LQ, mname)
    case(f"LinearQuadratic.{mname}-policy", fn, (GAU2, [0.0], 5, 5, rng0), exc=TV, match=r"\bpolicy\b")
    case(f"LinearQuadratic.{mname}-policy-softmax", fn, (TAB, [0.0], 5, 5, rng0), exc=TV, match=r"\bpolicy\b")
    case(f"LinearQuadratic.{mname}-n_episodes", fn, (GAU, [0.0], 0, 5, rng0), match=r"\bn_episodes\b")
    case(f"LinearQuadratic.{mname}-horizon", fn, (GAU, [0.0], 5, 0, rng0), match=r"\bhorizon\b")
    case(f"LinearQuadratic.{mname}-rng", fn, (GAU, [0.0], 5, 5, 3), exc=TV, match=r"\brng\b")
    case(f"LinearQuadratic.{mname}-theta", fn, (GAU, [0.0, 1.0], 5, 5, rng0), match=r"\btheta\b")

# env_step(mdp, s, a, rng) and mc_critic_update(V, episodes, gamma, lr)
case("env_step-mdp", pg.env_step, ("mdp", 0, 0, rng0), exc=TV, match=r"\bmdp\b")
case("env_step-s", pg.env_step, (MDP, MDP.S, 0, rng0), match=r"\bs\b")
case("env_step-a", pg.env_step, (MDP, 0, MDP.A, rng0), match=r"\ba\b")
case("env_step-rng", pg.env_step, (MDP, 0, 0, 3), exc=TV, match=r"\brng\b")
case("mc_critic_update-episodes", pg.mc_critic_update, (np.zeros(3), "ep", 0.9, 0.5), exc=TV, match=r"\bepisodes\b")
case("mc_critic_update-gamma", pg.mc_critic_update, (np.zeros(3), EP, 1.5, 0.5), match=r"\bgamma\b")
case("mc_critic_update-lr", pg.mc_critic_update, (np.zeros(3), EP, 0.9, 0.0), match=r"\blr\b")
case("mc_critic_update-V", pg.mc_critic_update, ([np.nan, 0, 0], EP, 0.9, 0.5), match=r"\bV\b")

# train(mdp, policy, theta0, method=, lr=, n_iters=, n_episodes=, horizon=, rng=, lam=, critic=, critic_lr=,
#       critic_sweeps=)
case("train-mdp", pg.train, ("mdp", TAB, TH), exc=TV, match=r"\bmdp\b")
case("train-policy", pg.train, (MDP, GAU, TH), exc=TV, match=r"\bpolicy\b")
case("train-policy-size", pg.train, (MDP, pg.SoftmaxPolicy.tabular(4, 2), np.zeros((4, 2))), match=r"\bpolicy\b")
case("train-theta0-shape", pg.train, (MDP, TAB, np.zeros(6)), match=r"\btheta")
for kw, exc, rx in (({"method": "adam"}, VE, r"\bmethod\b"), ({"method": None}, VE, r"\bmethod\b"),
                    ({"critic": "x"}, VE, r"\bcritic\b"), ({"lr": 0.0}, VE, r"\blr\b"), ({"lr": -1.0}, VE, r"\blr\b"),
                    ({"lr": "1"}, TV, r"\blr\b"), ({"n_iters": -1}, VE, r"\bn_iters\b"),
                    ({"n_iters": 1.5}, TV, r"\bn_iters\b"),
                    ({"n_episodes": 0}, VE, r"\bn_episodes\b"), ({"n_episodes": 2.5}, TV, r"\bn_episodes\b"),
                    ({"horizon": 0}, VE, r"\bhorizon\b"), ({"horizon": "10"}, TV, r"\bhorizon\b"),
                    ({"rng": "a"}, TV, r"\brng\b"), ({"rng": 3}, TV, r"\brng\b"), ({"rng": None}, TV, r"\brng\b"),
                    ({"rng": np.random.RandomState(0)}, TV, r"\brng\b"),
                    ({"lam": 1.5}, VE, r"\blam\b"), ({"lam": -0.5}, VE, r"\blam\b"),
                    ({"critic_lr": 0.0}, VE, r"\bcritic_lr\b"),
                    ({"critic_lr": 2.0}, VE, r"\bcritic_lr\b"), ({"critic_sweeps": -1}, VE, r"\bcritic_sweeps\b"),
                    ({"critic_sweeps": 1.0}, TV, r"\bcritic_sweeps\b")):
    for method in ("exact", "gae"):
        if ("method" in kw and method == "gae") or (kw == {"rng": None} and method == "exact"):
            continue  # exact methods draw nothing: rng may be None there
        kw2 = {"method": method, "n_iters": 1, "n_episodes": 2, "horizon": 3, "rng": np.random.default_rng(0), **kw}
        key, val = next(iter(kw.items()))
        label = type(val).__name__ if isinstance(val, np.random.RandomState) else repr(val)
        case(f"train-{method}-{key}-{label}", pg.train, (MDP, TAB, TH), kw2, exc, rx)


def _resolve(args):
    return tuple(a() if a is gym_env else a for a in args)


@pytest.mark.parametrize("fn, args, kw, exc, match", CASES)
def test_bad_argument_is_rejected_with_a_clear_message(fn, args, kw, exc, match):
    with pytest.raises((TypeError, ValueError)) as e:
        fn(*_resolve(args), **kw)
    assert type(e.value) is exc, f"raised {type(e.value).__name__}: {e.value}"
    assert re.search(match, str(e.value)), f"message {str(e.value)!r} does not match {match!r}"


# --- the valid calls the table perturbs, and inputs that are fine ------------------------------------------

def test_valid_calls_pass():
    pg.TabularMDP(P0, R0, MU0, 0.9, TERM0)
    pg.TabularMDP(P0.tolist(), R0.tolist(), MU0.tolist(), 1, TERM0.tolist())  # lists and an int gamma are fine
    pg.TabularMDP(P0, R0, MU0, np.float32(0.9), TERM0)
    pg.random_mdp(3, 2, 0.9, rng0, n_terminal=1, branching=2)
    pg.random_mdp(np.int64(3), 2, 0.9, rng0)
    pg.evaluate(MDP, PI.tolist())
    for fn in THETA_FNS.values():
        fn(MDP, TAB, TH)
        fn(MDP, LIN, THL)
    pg.finite_difference_gradient(MDP, TAB, TH, eps=1e-4)
    pg.natural_gradient(MDP, TAB, TH, rcond=1e-8)
    pg.score_expectation(MDP, TAB, TH, PI, d=np.ones(3) / 3)
    pg.optimal_values(MDP)
    pg.SoftmaxPolicy(np.zeros((3, 2, 1)).tolist())
    TAB.grad_log_prob(TH, [0, 2], [0, 1])
    TAB.grad_log_prob(TH, np.array([0.0, 2.0]), [0, 1])  # integral floats are fine as indices
    LIN.score_sum(THL, [0, 1], [0, 1], np.ones(2))
    TAB.contract(PI)
    LIN.contract(PI)
    pg.softmax([0.0, 1.0])
    pg.softmax([[0.0, -np.inf], [1.0, 2.0]], axis=-1)  # -inf logits (a masked action) are fine
    for m in ("mean", "sample", "log_prob", "grad_log_prob"):
        args = (np.zeros(2), PHI2) + ((rng0,) if m == "sample" else (np.zeros(4),) if m != "mean" else ())
        getattr(GAU2, m)(*args)
    pg.sample_episodes(MDP, PI, 5, 5, rng0)
    pg.sample_episodes(MDP, PI, np.int64(5), 5, rng0)
    pg.visitation_frequencies(EP, 3, 0.9)
    pg.discounted_returns(R2.tolist(), 0.9, np.ones((4, 5)), np.zeros(4))
    pg.td_errors(EP, V, 0.9)
    pg.td_errors(EP, V.tolist(), 1)
    pg.gae(EP, V, 0.9, 0.5)
    pg.gae(EP, V, 0.9, 1)
    pg.n_step_advantages(EP, V.tolist(), 1, np.int64(3))
    pg.evaluate(MDP, PI, tau=1)
    pg.policy_gradient(MDP, TAB, TH, tau=np.float64(0.5))
    pg.reinforce_gradient(TAB, TH, EP, 0.9, baseline=V)
    pg.reinforce_gradient(LIN, THL, EP, 0.9, baseline=V)
    pg.advantage_gradient(TAB, TH, EP, ADV, 0.9)
    pg.mc_values(EP, 3, 0.9)
    pg.td0_values(EP, 3, 0.9, alpha=1.0, n_sweeps=0, V0=V)
    pg.chain_ab(0.0)
    pg.gridworld(layout=["S.G"], slip=1.0)
    pg.frozen_lake(is_slippery=np.bool_(False))
    pg.GridMDP(*GRID_ARGS)
    GRID.to_grid(np.zeros(GRID.S).tolist())
    QB.objective([0.0], 0.0)
    QB.score_gradient_samples(GAU, [0.0], 5, rng0, baseline=1)
    LQ.objective([-0.5], 0.3, horizon=5)
    LQ.rollout(GAU, [0.0], 5, 5, rng0)
    pg.train(MDP, TAB, TH, n_iters=1)
    pg.train(MDP, TAB, TH, method="gae", n_iters=1, n_episodes=2, horizon=3, rng=rng0, lam=1, critic_sweeps=0)


def test_from_gymnasium_valid():
    env = gym_env()
    pg.from_gymnasium(env, 0.9)
    pg.from_gymnasium(env, 0.9, mu=np.eye(16)[0].tolist())


COVERED_MODULES = ("mdp", "exact", "policies", "sampling", "estimators", "envs", "continuous", "learning")


def test_every_public_callable_is_in_the_table():
    """Each callable in pgcourse.__all__ from the modules this file covers has at least one bad-input row (or
    takes no argument); the other modules (analysis, natural, surrogate, ...) have their own bad-input tests."""
    covered = {getattr(fn, "__qualname__", "").split(".")[0] for fn, *_ in (p.values for p in CASES)}
    covered |= {getattr(fn, "__name__", "") for fn, *_ in (p.values for p in CASES)}
    no_args = {"short_corridor", "short_corridor_policy"}
    containers = {"Evaluation", "Episodes", "History", "ACTION_NAMES"}
    mine = {f"pgcourse.{m}" for m in COVERED_MODULES}
    public = [n for n in pg.__all__ if getattr(getattr(pg, n), "__module__", None) in mine]
    assert len(public) > 30  # the filter keeps the core modules' names
    missing = [n for n in public if n not in covered | no_args | containers]
    assert not missing, missing
    with pytest.raises(TypeError):
        pg.short_corridor(0.9)
