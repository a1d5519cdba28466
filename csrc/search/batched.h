// BatchedSearch: PUCT / AlphaGo APV-MCTS search over many games at once, with one neural
// network batch per step (DESIGN.md's C++/Python boundary). This is the facade; the parts
// live in their own units:
//   search_config.h   the settings (one X-macro table shared with the binding)
//   tree.h            node storage, PUCT with virtual loss, expansion, backup, subtree reuse
//   candidates.h      candidate moves (shared with UctSearch)
//   leaf_eval.h       the four prior modes, rollout results, value/rollout mixing (lambda)
//   nn_cache.h        the NN cache (its own lock)
//   rollout_pool.h    the persistent rollout threads
//   gumbel.h          Gumbel-top-k and sequential halving at the root
//   root_noise.h      Dirichlet noise at the root
//   selfplay_driver.h self-play move choice, resignation and finished games
// batched.cpp holds the step (gather/scatter) and the queries, batched_leaves.cpp the leaf
// path (selection walk, preparation, evaluation), selfplay_driver.cpp the self-play loop.
//
// Each step: gather(slot) selects up to batch_size leaves across the slot's games (virtual
// loss keeps leaves of one tree apart), writes their input planes and legal-move masks into
// caller-owned buffers and returns how many it wrote; the caller runs the network; then
// scatter(slot, n) reads policy logits and values back, expands, backs up, and (in
// self-play) plays the move of every game whose search is done. Terminal leaves, cache hits
// and evaluations that need no network (uniform / heuristic priors with rollouts) are
// resolved inside gather and never enter the batch. Games with even index use slot 0, odd
// index slot 1, so one slot can be gathered while the network runs on the other.
//
// Leaf value = (1 - lambda) * v_net + lambda * z_rollout when both are on (AlphaGo);
// rollouts run on the rollout pool inside gather, played by the trained rollout policy when
// one is set (AlphaGo's fast policy) and as light random playouts otherwise.
//
// Thread-safety: one BatchedSearch is driven by one caller thread at a time, except that
// gather/scatter on different slots may run on two threads concurrently (they touch
// disjoint games; shared state is locked: the NN cache by its own mutex, the finished-games
// list and games_started by finished_mutex_; counters are atomics). Rollout threads only read
// leaf boards. Buffers belong to the caller and must outlive every gather/scatter that uses them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "go/feature_sets.h"
#include "go/game.h"
#include "go/rollout.h"
#include "search/search_config.h"

namespace tengen {

class NnCache;
class RolloutPool;

struct RootChild {
  int move;
  int visits;
  float q;      // mean value for the player to move at the root, in [-1, 1]
  float prior;
  std::vector<int> pv;  // this move and the best line after it
};

struct FinishedGame {
  int size = 9;
  float komi = 7.5f;
  std::vector<int> moves;          // dense, pass = size*size; first move by black
  std::vector<float> policy;       // moves.size() x (size*size + 1) visit distributions
  std::vector<uint8_t> full_search;  // 1 where the move had a full search (training target)
  int winner = 0;                  // +1 black, -1 white, 0 draw
  float score = 0.0f;              // black minus white minus komi (0 when resigned)
  bool resigned = false;
  bool no_resign = false;
  int would_resign = 0;            // colour that would have resigned (no-resign games), 0 none
  std::vector<int8_t> ownership;   // size*size final area owner (+1 B, -1 W, 0); empty when resigned
};

class BatchedSearch {
 public:
  //---- Setup (thread rule: the caller thread, before the first gather or between steps) --
  BatchedSearch(const SearchConfig& config, int size, float komi, int num_games);
  ~BatchedSearch();
  BatchedSearch(const BatchedSearch&) = delete;
  BatchedSearch& operator=(const BatchedSearch&) = delete;

  const SearchConfig& config() const { return config_; }
  int size() const { return size_; }
  int num_games() const { return static_cast<int>(games_.size()); }
  int planes() const { return features_->planes; }
  int policy_size() const { return size_ * size_ + 1; }
  bool needs_network() const;

  // The trained rollout policy for rollouts and for PolicyMode::Rollout priors (nullptr: light
  // playouts, and Rollout priors are refused). Set it before the first gather.
  void set_rollout_policy(std::shared_ptr<const RolloutPolicy> policy);
  bool has_rollout_policy() const { return rollout_policy_ != nullptr; }

  // Buffers: inputs [batch, planes, size, size], masks [batch, size*size+1], policy
  // [batch, size*size+1] logits, values [batch] in [-1, 1] for the player to move.
  void set_buffers(int slot, float* inputs, float* masks, float* policy, float* values);

  //---- Positions (thread rule: the caller thread, no leaves of the game in flight) -------
  // Self-play: every game slot plays games until `total_games` have started.
  void start_selfplay(int total_games);
  // Manual mode (GTP, arena): search game g's current position until `visits` root visits.
  void set_position(int g, const Game& game);
  void set_target_visits(int g, int visits);
  // Plays a move in game g keeping the matching subtree when reuse_tree is on.
  bool advance(int g, int move);

  //---- The step (thread rule: one thread per slot; the two slots may run concurrently) --
  int gather(int slot);
  void scatter(int slot, int n);

  //---- Queries (thread rule: the game's slot thread, or the caller between steps) -------

  bool search_done(int g) const;
  bool all_done() const;  // self-play: no active game left
  int root_visits(int g) const;
  float root_value(int g) const;  // for the player to move
  std::vector<RootChild> root_children(int g, int pv_length = 12) const;
  // The move search would play now in game g (visits, temperature 0; Gumbel's choice if on).
  int best_move(int g) const;
  const Game& game(int g) const;

  // Any thread (locks finished_mutex_ / reads atomics).
  std::vector<FinishedGame> pop_finished();
  int games_started() const;
  int64_t evaluations() const { return evaluations_.load(); }  // network leaves scattered
  int64_t cache_hits() const { return cache_hits_.load(); }
  int64_t terminal_hits() const { return terminal_hits_.load(); }

  struct Slot;
  struct GameState;
  struct Pending;

 private:
  // Step and facade (batched.cpp).
  GameState& game_state(int g);
  const GameState& game_state(int g) const;
  bool in_slot(const GameState& gs, int slot) const;
  void new_root(GameState& gs);
  void write_network_input(const GameState& gs, const Pending& p, Slot& slot) const;
  // Leaf path (batched_leaves.cpp).
  bool select_leaf(GameState& gs, Pending& p);
  void prepare_leaf(GameState& gs, Pending& p);
  void run_rollouts(Slot& slot);
  void finish_leaf(Pending& p, const float* logits, float net_value);
  void resolve_terminal(GameState& gs, Pending& p);
  // Self-play driver (selfplay_driver.cpp).
  void reset_game(GameState& gs);
  void finish_moves(GameState& gs);
  void finish_move(GameState& gs);
  int choose_move(GameState& gs);
  void record_finished(GameState& gs, int winner, float score, bool resigned);

  SearchConfig config_;
  int size_;
  float komi_;
  const FeatureSetInfo* features_;
  std::shared_ptr<const RolloutPolicy> rollout_policy_;  // immutable, shared with the rollout threads
  std::vector<std::unique_ptr<GameState>> games_;
  std::unique_ptr<Slot> slots_[2];
  std::unique_ptr<NnCache> cache_;
  std::unique_ptr<RolloutPool> rollout_pool_;
  bool selfplay_ = false;
  int total_games_ = 0;
  int games_started_ = 0;
  mutable std::mutex finished_mutex_;  // guards finished_ and games_started_
  std::vector<FinishedGame> finished_;
  std::atomic<int64_t> evaluations_{0};
  std::atomic<int64_t> cache_hits_{0};
  std::atomic<int64_t> terminal_hits_{0};
  std::atomic<uint64_t> leaf_serial_{0};
};

}  // namespace tengen
