// BatchedSearch: PUCT / AlphaGo APV-MCTS search over many games at once, with one neural
// network batch per step (DESIGN.md's C++/Python boundary).
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
// rollouts run on C++ threads inside gather, played by the trained rollout policy when one is
// set (AlphaGo's fast policy) and as light random playouts otherwise.
//
// Thread-safety: one BatchedSearch is driven by one caller thread at a time, except that
// gather/scatter on different slots may run on two threads concurrently (they touch
// disjoint games; shared state, the NN cache and the finished-games list, is locked).
// Internal rollout threads only read leaf boards. Buffers belong to the caller and must
// outlive every gather/scatter that uses them.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "go/encoder.h"
#include "go/game.h"
#include "go/rng.h"
#include "go/rollout.h"

namespace tengen {

// Tree priors: the policy network, uniform, the hand-written move heuristics, or the trained
// rollout policy (set_rollout_policy) when the policy network is switched off.
enum class PolicyMode { Net, Uniform, Heuristic, Rollout };

struct SearchConfig {
  int visits = 200;            // simulations per move; <= 1 plays from the priors (no search)
  int leaves_per_game = 1;     // leaves in flight per game in one gather
  int batch_size = 64;         // most leaves one gather writes
  float c_puct = 1.5f;         // exploration constant
  float c_puct_base = 0.0f;    // > 0: AlphaZero's growth, c_puct + log((1 + N + base) / base)
  float fpu_reduction = 0.25f; // unvisited child value = parent value - this
  float virtual_loss = 3.0f;   // losses a leaf in flight counts as
  PolicyMode policy = PolicyMode::Net;
  bool use_value = true;       // value network on
  bool use_rollouts = false;   // rollouts on
  float lambda = 0.5f;         // rollout weight when both value and rollouts are on
  int rollout_threads = 1;
  std::string features = "alphago";
  bool random_symmetry = true;  // evaluate each leaf in a symmetry picked from its hash
  bool root_noise = false;      // Dirichlet noise on the root priors (self-play)
  float dirichlet_alpha = 0.03f;
  float dirichlet_epsilon = 0.25f;
  bool gumbel = false;          // Gumbel-top-k sampling with sequential halving at the root
  int gumbel_considered = 16;
  int temperature_moves = 0;    // self-play: moves (from the start) chosen by visit sampling
  float temperature = 1.0f;
  float resign_threshold = -2.0f;  // resign when the best root value falls below (< -1: never)
  float no_resign_fraction = 0.1f; // self-play games that never resign (false-positive check)
  int max_moves = 0;            // self-play game length cap (0: 2 * size * size)
  bool reuse_tree = true;
  int cache_size = 0;           // NN cache entries (0: off)
  float full_search_prob = 1.0f;  // playout cap randomisation: chance of a full search
  int fast_visits = 0;            // visits of the other searches (0: off)
  uint64_t seed = 1;
};

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
};

class BatchedSearch {
 public:
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

  // Self-play: every game slot plays games until `total_games` have started.
  void start_selfplay(int total_games);
  // Manual mode (GTP, arena): search game g's current position until `visits` root visits.
  void set_position(int g, const Game& game);
  void set_target_visits(int g, int visits);
  // Plays a move in game g keeping the matching subtree when reuse_tree is on.
  bool advance(int g, int move);

  int gather(int slot);
  void scatter(int slot, int n);

  bool search_done(int g) const;
  bool all_done() const;  // self-play: no active game left
  int root_visits(int g) const;
  float root_value(int g) const;  // for the player to move
  std::vector<RootChild> root_children(int g, int pv_length = 12) const;
  // The move search would play now in game g (visits, temperature 0; Gumbel's choice if on).
  int best_move(int g) const;
  const Game& game(int g) const;

  std::vector<FinishedGame> pop_finished();
  int games_started() const { return games_started_; }
  int64_t evaluations() const { return evaluations_; }  // network leaves scattered
  int64_t cache_hits() const { return cache_hits_; }
  int64_t terminal_hits() const { return terminal_hits_; }

  struct Node;
  struct Edge;
  struct Slot;
  struct GameState;
  struct Pending;

 private:
  void reset_game(GameState& gs);
  void new_root(GameState& gs);
  bool select_leaf(GameState& gs, Pending& out);
  void prepare_leaf(GameState& gs, Pending& p);
  void run_rollouts(std::vector<Pending*>& todo);
  void finish_leaf(Pending& p, const float* logits, float net_value);
  void expand(Node* node, const std::vector<float>& priors);
  void backup(GameState& gs, Pending& p, float leaf_value);
  void apply_root_noise(GameState& gs);
  void init_gumbel(GameState& gs);
  int gumbel_select(GameState& gs);
  int choose_move(GameState& gs);
  void finish_move(GameState& gs);
  void record_finished(GameState& gs, int winner, float score, bool resigned);
  float heuristic_prior(const Board& b, int point, Color c) const;
  void rollout_priors(const Pending& p, std::vector<float>& priors) const;
  uint64_t cache_key(const Board& b, Color to_move) const;

  SearchConfig config_;
  int size_;
  float komi_;
  const FeatureSetInfo* features_;
  std::shared_ptr<const RolloutPolicy> rollout_policy_;  // immutable, shared with the rollout threads
  std::vector<std::unique_ptr<GameState>> games_;
  std::unique_ptr<Slot> slots_[2];
  bool selfplay_ = false;
  int total_games_ = 0;
  int games_started_ = 0;
  std::mutex shared_mutex_;  // guards finished_, cache_, counters, games_started_
  std::vector<FinishedGame> finished_;
  struct CacheEntry {
    std::vector<float> priors;  // over dense moves, pass last
    float value;
  };
  std::unordered_map<uint64_t, CacheEntry> cache_;
  int64_t evaluations_ = 0, cache_hits_ = 0, terminal_hits_ = 0;
  uint64_t leaf_serial_ = 0;
};

}  // namespace tengen
