"""pgcourse: policy gradients on tabular MDPs, exact beside sampled.

Modules, one concept each: mdp (TabularMDP), exact (evaluate, policy_gradient), policies (softmax,
Gaussian), sampling (sample_episodes), estimators (returns, TD errors, GAE, gradient estimates),
envs (ready-made MDPs), continuous (closed-form Gaussian problems), learning (training loops),
analysis (bias, variance, estimator scores), problems (the notebooks' worked examples),
checks (exercise checkers), plots and widgets (the notebooks' figures and controls).
"""
from .analysis import (BUILTIN_ESTIMATORS, EstimatorScore, bandit_score_variance, builtin_expectation, cosine,
                       gae_bias_variance, mc_action_values, mean_se, per_pair_means, running_mean_se, score_estimator,
                       score_table, td_fixed_point, total_variance, total_variation, truncated_values)
from .analysis import variance_minimising_baseline, z_scores
from .continuous import LinearQuadratic, QuadraticBandit
from .derivatives import numerical_gradient
from .design import (critic_gradient, dropped_discount_direction, jacobian_asymmetry, linear_critic,
                     sampled_compatible_critic, undiscounted_visits)
from .convergence import (bandit_pg_curve, cen_bound, chain_mdp, gradient_domination, mismatch_coefficient,
                          npg_bound, npg_iterates, objective_curve, pg_iterates, regularisation_bias_bound,
                          regularised_optimum)
from .envs import (ACTION_NAMES, GridMDP, chain_ab, from_gymnasium, frozen_lake, gridworld, short_corridor,
                   short_corridor_policy)
from .estimators import (advantage_gradient, discounted_returns, gae, mc_values, n_step_advantages,
                         per_episode_gradients, reinforce_gradient, td0_values, td_errors)
from .exact import (Evaluation, alive_distributions, evaluate, expected_gae, expected_gradient_estimate,
                    expected_td_error, finite_difference_gradient, objective, optimal_values, pair_chain,
                    policy_gradient, score_expectation)
from .learning import History, env_step, mc_critic_update, train
from .mdp import TabularMDP, random_mdp
from .natural import compatible_critic, fisher_matrix, natural_gradient
from .gaussian import MultivariateGaussianPolicy, gaussian_expectation
from .policies import GaussianPolicy, SoftmaxPolicy, softmax
from .problems import (critic_error_direction, demo_grid_policy, frozen_lake_lab, gradient_demo_problem,
                       reward_shifted, td_demo_problem)
from .sampling import Episodes, sample_episodes, visitation_frequencies
from .surrogate import (clipped_gradient, clipped_objective, clipped_objective_max, greedy_policy,
                        kl_constrained_step, kl_divergence, line_profile, max_kl, max_tv, mean_kl,
                        performance_difference, step_to_kl, surrogate_estimates, surrogate_gradient,
                        surrogate_objective, trpo_constant, trpo_lower_bound)

__version__ = "0.1.0"

__all__ = [
    "TabularMDP", "random_mdp", "Evaluation", "evaluate", "policy_gradient", "score_expectation", "objective",
    "finite_difference_gradient", "fisher_matrix", "natural_gradient", "optimal_values",
    "SoftmaxPolicy", "GaussianPolicy", "softmax", "Episodes", "sample_episodes", "visitation_frequencies",
    "discounted_returns", "td_errors", "gae", "advantage_gradient", "reinforce_gradient", "mc_values",
    "td0_values", "n_step_advantages", "per_episode_gradients", "expected_td_error", "expected_gae", "pair_chain",
    "alive_distributions", "expected_gradient_estimate", "chain_ab", "short_corridor", "short_corridor_policy",
    "gridworld", "frozen_lake",
    "from_gymnasium", "GridMDP", "ACTION_NAMES", "QuadraticBandit", "LinearQuadratic", "History", "train",
    # analysis: bias, variance and estimator scores
    "mean_se", "total_variance", "total_variation", "cosine", "per_pair_means", "running_mean_se",
    "td_fixed_point", "truncated_values", "bandit_score_variance", "builtin_expectation", "mc_action_values",
    "BUILTIN_ESTIMATORS", "EstimatorScore", "score_estimator", "score_table", "gae_bias_variance",
    # problems: the notebooks' worked examples
    "demo_grid_policy", "gradient_demo_problem", "reward_shifted", "td_demo_problem", "critic_error_direction",
    "frozen_lake_lab",
    # Part II: surrogates and trust regions, the natural gradient and the compatible critic
    "performance_difference", "surrogate_objective", "surrogate_gradient", "clipped_objective", "clipped_gradient",
    "clipped_objective_max", "kl_divergence", "max_kl", "mean_kl", "max_tv", "trpo_constant", "trpo_lower_bound",
    "greedy_policy", "kl_constrained_step", "compatible_critic", "surrogate_estimates", "step_to_kl", "line_profile",
    "npg_bound", "npg_iterates", "mismatch_coefficient", "gradient_domination", "regularised_optimum",
    "cen_bound", "regularisation_bias_bound", "pg_iterates", "objective_curve", "chain_mdp",
    "bandit_pg_curve", "linear_critic", "critic_gradient", "sampled_compatible_critic", "undiscounted_visits",
    "dropped_discount_direction", "jacobian_asymmetry",
    # notebooks 02-04: named helpers for the derivations, the variance-minimising baseline, the vector Gaussian
    "numerical_gradient", "variance_minimising_baseline", "z_scores", "MultivariateGaussianPolicy",
    "gaussian_expectation",
    # learning: online steps and a learned Monte Carlo critic (notebooks 05-06)
    "env_step", "mc_critic_update",
]
