// Leaf evaluation. Thread-safety: see leaf_eval.h.
#include "search/leaf_eval.h"

#include <algorithm>
#include <cmath>

#include "go/features.h"
#include "go/heuristics.h"
#include "go/playout.h"

namespace tengen {

namespace {
// Mixed into the key when white is to move, so both colours of one board get their own entry.
constexpr uint64_t kWhiteToMoveKey = 0x5bd1e9955bd1e995ULL;
// The key's top three bits pick one of the eight symmetries.
constexpr int kSymmetryKeyShift = 61;
// Rollout-policy priors: pass is no rollout candidate, it keeps this prior (all of it when no
// other candidate is left); every edge gets the floor so a legal move the patterns call an
// own-eye fill stays reachable.
constexpr float kRolloutPassPrior = 0.01f;
constexpr float kRolloutPassOnlyPrior = 1.0f;
constexpr float kRolloutPriorFloor = 1e-4f;
// Heuristic priors: softmax(kHeuristicSharpness * h), pass scored kPassHeuristic (go/heuristics.h).
constexpr float kHeuristicPassScore = static_cast<float>(kPassHeuristic);
constexpr float kHeuristicSharpness = 6.0f;
}  // namespace

uint64_t position_key(const Board& b, Color to_move) { return b.hash() ^ (to_move == WHITE ? kWhiteToMoveKey : 0ULL); }

int symmetry_of_key(uint64_t key) { return static_cast<int>((key >> kSymmetryKeyShift) & (kNumSymmetries - 1)); }

int leaf_last_move(const Board& b, int dense_move) {
  return dense_move < 0 || dense_move >= b.num_points() ? kNoPoint : b.from_index(dense_move);
}

void cached_priors(const TreeNode& node, const std::vector<float>& dense, float* priors) {
  const size_t ne = node.edges.size();
  float total = 0.0f;
  for (size_t i = 0; i < ne; ++i) total += priors[i] = dense[static_cast<size_t>(node.edges[i].move)];
  for (size_t i = 0; i < ne; ++i) priors[i] = total > 0 ? priors[i] / total : 1.0f / static_cast<float>(ne);
}

void net_priors(const TreeNode& node, const float* logits, int symmetry, int size, float* priors) {
  const size_t ne = node.edges.size();
  float mx = kNoScore;
  for (size_t i = 0; i < ne; ++i) {
    priors[i] = logits[symmetry_index(node.edges[i].move, symmetry, size)];
    mx = std::max(mx, priors[i]);
  }
  float total = 0.0f;
  for (size_t i = 0; i < ne; ++i) total += priors[i] = std::exp(priors[i] - mx);
  for (size_t i = 0; i < ne; ++i) priors[i] /= total;
}

void heuristic_priors(const TreeNode& node, const Board& b, Color to_move, float* priors) {
  const size_t ne = node.edges.size();
  const int pass_move = b.num_points();
  float total = 0.0f;
  for (size_t i = 0; i < ne; ++i) {
    const int mv = node.edges[i].move;
    const float h =
        mv == pass_move ? kHeuristicPassScore : static_cast<float>(move_heuristic(b, b.from_index(mv), to_move));
    total += priors[i] = std::exp(kHeuristicSharpness * h);
  }
  for (size_t i = 0; i < ne; ++i) priors[i] /= total;
}

void rollout_policy_priors(const TreeNode& node, const Board& b, Color to_move, int last_move,
                           const RolloutPolicy& policy, float* priors) {
  const size_t ne = node.edges.size();
  const int pass_move = b.num_points();
  std::vector<float> prob(static_cast<size_t>(pass_move), 0.0f);
  const int candidates = policy.probabilities(b, to_move, last_move, prob.data());
  float total = 0.0f;
  for (size_t i = 0; i < ne; ++i) {
    const int mv = node.edges[i].move;
    const float q = mv == pass_move ? (candidates > 0 ? kRolloutPassPrior : kRolloutPassOnlyPrior)
                                    : prob[static_cast<size_t>(mv)];
    total += priors[i] = q + kRolloutPriorFloor;
  }
  for (size_t i = 0; i < ne; ++i) priors[i] /= total;
}

void uniform_priors(const TreeNode& node, float* priors) {
  const size_t ne = node.edges.size();
  for (size_t i = 0; i < ne; ++i) priors[i] = 1.0f / static_cast<float>(ne);
}

float mix_leaf_value(const SearchConfig& config, float v_net, float z_rollout) {
  if (config.use_value && config.use_rollouts) return (1.0f - config.lambda) * v_net + config.lambda * z_rollout;
  if (config.use_rollouts) return z_rollout;
  return v_net;
}

float outcome_value(int area_difference, Color to_move, float komi) {
  const float margin = static_cast<float>(area_difference) - komi;
  const float black = margin > 0 ? 1.0f : margin < 0 ? -1.0f : 0.0f;
  return to_move == BLACK ? black : -black;
}

float rollout_value(Board& scratch, const Board& leaf, Color to_move, int last_move, uint64_t seed,
                    const RolloutPolicy* policy, float komi) {
  Rng rng(seed);
  scratch = leaf;
  const PlayoutResult r = policy ? policy->playout(scratch, to_move, last_move, rng) : light_playout(scratch, to_move, rng);
  return outcome_value(r.area_difference, to_move, komi);
}

}  // namespace tengen
