// SearchConfig: the settings of the batched search, written once as two X-macro tables
// (name, type, default, comment) that the struct below and the Python binding
// (csrc/bindings/batched_bindings.cpp, SearchConfig.field_defaults()) both expand, so C++,
// the binding and the parity test (tests/test_settings_parity.py) cannot drift apart.
//
// TENGEN_SEARCH_SETTINGS holds what any search uses (GTP, arena, self-play);
// TENGEN_SELFPLAY_SETTINGS what only the self-play driver reads (move choice, resignation,
// game length, playout-cap randomisation, root noise).
//
// Thread-safety: plain values; a SearchConfig is copied into each BatchedSearch and read-only there.
#pragma once

#include <cstdint>
#include <string>

namespace tengen {

// Tree priors: the policy network, uniform, the hand-written move heuristics, or the trained
// rollout policy (set_rollout_policy) when the policy network is switched off.
enum class PolicyMode { Net, Uniform, Heuristic, Rollout };

// "net", "uniform", "heuristic", "rollout"; parse_policy_mode returns false for anything else.
const char* policy_mode_name(PolicyMode mode);
bool parse_policy_mode(const std::string& name, PolicyMode* out);
// "net, uniform, heuristic, rollout": the names for error messages.
std::string policy_mode_choices();

// X(type, name, default, comment). The Python name is the C++ name, with a trailing underscore
// where it is a Python keyword (lambda -> lambda_).
#define TENGEN_SEARCH_SETTINGS(X)                                                                          \
  X(int, visits, 200, "simulations per move; <= 1 plays from the priors (no search)")                      \
  X(int, leaves_per_game, 1, "leaves in flight per game in one gather")                                    \
  X(int, batch_size, 64, "most leaves one gather writes")                                                  \
  X(float, c_puct, 1.5f, "exploration constant")                                                           \
  X(float, c_puct_base, 0.0f, "> 0: AlphaZero's growth, c_puct + log((1 + N + base) / base)")              \
  X(float, fpu_reduction, 0.25f, "unvisited child value = parent value - this")                            \
  X(float, virtual_loss, 3.0f, "losses a leaf in flight counts as")                                        \
  X(PolicyMode, policy, PolicyMode::Net, "tree priors: net | uniform | heuristic | rollout")               \
  X(bool, use_value, true, "value network on")                                                             \
  X(bool, use_rollouts, false, "rollouts on")                                                              \
  X(float, lambda, 0.5f, "rollout weight when both value and rollouts are on")                             \
  X(int, rollout_threads, 1, "threads playing the rollouts of one gather (1: on the calling thread)")      \
  X(std::string, features, "alphago", "input feature set (csrc/go/feature_sets.h)")                        \
  X(bool, random_symmetry, true, "evaluate each leaf in a symmetry picked from its hash")                  \
  X(bool, gumbel, false, "Gumbel-top-k sampling with sequential halving at the root")                      \
  X(int, gumbel_considered, 16, "root moves Gumbel-top-k keeps")                                           \
  X(bool, reuse_tree, true, "keep the played move's subtree")                                              \
  X(int, cache_size, 0, "NN cache entries (0: off)")                                                       \
  X(uint64_t, seed, 1, "seed of every random choice")

#define TENGEN_SELFPLAY_SETTINGS(X)                                                                        \
  X(bool, root_noise, false, "Dirichlet noise on the root priors")                                         \
  X(float, dirichlet_alpha, 0.03f, "Dirichlet concentration of the root noise")                            \
  X(float, dirichlet_epsilon, 0.25f, "weight of the noise in the root priors")                             \
  X(int, temperature_moves, 0, "moves (from the start) chosen by visit sampling")                          \
  X(float, temperature, 1.0f, "visit-sampling temperature")                                                \
  X(float, resign_threshold, -2.0f, "resign when the best root value falls below (< -1: never)")           \
  X(float, no_resign_fraction, 0.1f, "games that never resign (false-positive check)")                     \
  X(int, max_moves, 0, "game length cap (0: 2 * size * size)")                                             \
  X(float, full_search_prob, 1.0f, "playout cap randomisation: chance of a full search")                   \
  X(int, fast_visits, 0, "visits of the other searches (0: off)")

struct SearchConfig {
#define TENGEN_SETTING_MEMBER(type, name, default_value, comment) type name = default_value;
  // Search.
  TENGEN_SEARCH_SETTINGS(TENGEN_SETTING_MEMBER)
  // Self-play only.
  TENGEN_SELFPLAY_SETTINGS(TENGEN_SETTING_MEMBER)
#undef TENGEN_SETTING_MEMBER
};

}  // namespace tengen
