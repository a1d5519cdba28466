// Leaf evaluation of the batched search: the tree priors of the four policy modes (network,
// uniform, move heuristics, trained rollout policy), one rollout's result, and the leaf value
// that mixes the value network and rollouts (AlphaGo's lambda).
//
// Priors are written one per edge of the leaf, in edge order, and sum to 1.
//
// Thread-safety: pure functions over const inputs; they write only the caller's buffers.
// rollout_value may run on any thread (the rollout pool) as long as each call has its own
// scratch Board; the RolloutPolicy is immutable and shared.
#pragma once

#include <cstdint>
#include <vector>

#include "go/board.h"
#include "go/rollout.h"
#include "search/search_config.h"
#include "search/tree.h"

namespace tengen {

// Zobrist key of a position with the player to move (NN cache and symmetry choice).
uint64_t position_key(const Board& board, Color to_move);
// The symmetry a leaf is evaluated in under random_symmetry: picked from its key.
int symmetry_of_key(uint64_t key);

// The previous move of a leaf as a padded point (kNoPoint at the start or after a pass).
int leaf_last_move(const Board& board, int dense_move);

//---- Priors (thread rule: pure) ----------------------------------------------------------

// From a cached distribution over dense moves (size*size + 1), renormalised over the edges.
void cached_priors(const TreeNode& node, const std::vector<float>& dense, float* priors);
// Softmax of the network's logits, read through the leaf's symmetry.
void net_priors(const TreeNode& node, const float* logits, int symmetry, int size, float* priors);
// Softmax of the hand-written move heuristics (go/heuristics.h).
void heuristic_priors(const TreeNode& node, const Board& board, Color to_move, float* priors);
// The trained rollout policy's move probabilities; pass keeps a small prior.
void rollout_policy_priors(const TreeNode& node, const Board& board, Color to_move, int last_move,
                           const RolloutPolicy& policy, float* priors);
void uniform_priors(const TreeNode& node, float* priors);

//---- Values (thread rule: pure; rollout_value needs its own scratch Board) ----------------

// The leaf value for the player to move: v_net, the rollout result z, or
// (1 - lambda) * v_net + lambda * z when both are on.
float mix_leaf_value(const SearchConfig& config, float v_net, float z_rollout);
// +1 / -1 / 0 for the player to move: the sign of an area difference (black minus white) minus komi.
float outcome_value(int area_difference, Color to_move, float komi);
// Plays one rollout from `leaf` (into `scratch`) with the trained policy, or a light random
// playout when policy is nullptr, and scores it for the player to move.
float rollout_value(Board& scratch, const Board& leaf, Color to_move, int last_move, uint64_t seed,
                    const RolloutPolicy* policy, float komi);

}  // namespace tengen
