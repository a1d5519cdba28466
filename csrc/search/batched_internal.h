// BatchedSearch's private state, shared by its translation units (batched.cpp,
// batched_leaves.cpp, selfplay_driver.cpp) and by nothing else: one GameState per game, a
// Pending per leaf in flight, and a Slot per batch buffer set.
//
// Thread-safety: a GameState, and every Pending and Slot of its slot, belong to the thread
// running that slot's gather/scatter (see batched.h); nothing here locks.
#pragma once

#include <memory>
#include <vector>

#include "go/feature_sets.h"
#include "go/game.h"
#include "go/rng.h"
#include "search/batched.h"
#include "search/gumbel.h"
#include "search/tree.h"

namespace tengen {

// Every game's rules: area scoring with positional superko, no suicide.
inline Rules search_rules(float komi) { return Rules{komi, true, false}; }

struct BatchedSearch::GameState {
  int index = 0;
  int slot = 0;
  Game game;
  std::unique_ptr<TreeNode> root;
  Rng rng;
  bool active = false;
  int target_visits = 0;
  int in_flight = 0;
  bool noise_applied = false;
  // Self-play bookkeeping of the game in progress.
  bool no_resign = false;
  int would_resign = 0;
  bool full_search = true;
  std::vector<float> policy_rows;
  std::vector<uint8_t> full_flags;
  // Gumbel root state for the current search.
  GumbelRoot gumbel;

  GameState(int size, float komi) : game(size, search_rules(komi)) {}
};

struct BatchedSearch::Pending {
  GameState* gs = nullptr;
  std::vector<TreeEdge*> path;
  std::vector<TreeNode*> nodes;
  TreeNode* leaf = nullptr;
  Board board;
  std::vector<Board> history;  // boards before the leaf along the path (most recent first)
  Color to_move = BLACK;
  int batch_index = -1;
  int symmetry = 0;
  uint64_t key = 0;
  uint64_t seed = 0;
  bool cached = false;
  std::vector<float> cached_priors;
  float cached_value = 0.0f;
  bool needs_rollout = false;
  float rollout_value = 0.0f;
  bool terminal = false;
  int history_valid = 0;               // how many entries of history are real boards
  int recent_moves[kRawHistory] = {};  // dense moves 1..kRawHistory moves before the leaf (-1 none)
  std::vector<int> candidates;         // scratch for the leaf's candidate moves
};

struct BatchedSearch::Slot {
  float* inputs = nullptr;
  float* masks = nullptr;
  float* policy = nullptr;
  float* values = nullptr;
  std::vector<std::unique_ptr<Pending>> pool;
  int npending = 0;
  int nbatch = 0;
  std::vector<Pending*> rollouts;  // scratch: this gather's leaves that want a rollout
};

}  // namespace tengen
