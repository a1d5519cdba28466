// UctSearch: the built-in player's Monte-Carlo tree search. UCT with RAVE/AMAF over light
// random playouts, tree-parallel on C++ threads with virtual loss (a visit is counted on the
// way down, its result on the way up). Needs no network.
//
// Thread-safety: run() starts and joins its own worker threads; node statistics are atomics
// and a node's children are published once through an atomic state flag. A UctSearch object
// itself must be driven by one caller thread at a time; stop() and peek() may be called from
// any thread while run() is in progress.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "go/game.h"

namespace tengen {

struct UctConfig {
  int max_visits = 10000;     // stop after this many simulations (<= 0: no visit limit;
                              // with max_seconds <= 0 too, run until stop())
  double max_seconds = 0.0;   // stop after this much wall time (<= 0: no time limit)
  int threads = 1;
  uint64_t seed = 1;
  double exploration = 0.0;    // UCB1 constant added to the RAVE-blended value (0: RAVE and priors explore)
  double rave_equivalence = 1500.0;  // visits at which AMAF and MC values weigh equally
  int expand_threshold = 8;    // a leaf is expanded after this many visits
  int prior_visits = 10;       // virtual AMAF visits given by the move heuristics
  double prior_bonus = 0.0;    // with root priors (set_root_priors): each root child's value gets
                               // prior_bonus * P(a) * sqrt(N) / (1 + n(a)), AlphaGo's PUCT term
};

struct UctChildStats {
  int move;        // dense index, size*size = pass
  int visits;
  double winrate;  // for the player to move at the root
  int amaf_visits;
  double amaf_winrate;
};

struct UctResult {
  int best_move = -1;  // dense index
  int visits = 0;      // root visits this search
  double winrate = 0.5;
  double seconds = 0.0;
  std::vector<UctChildStats> children;  // sorted by visits, most first
  std::vector<int> pv;                  // principal variation from the root, dense moves
};

class UctSearch {
 public:
  explicit UctSearch(const UctConfig& config);
  ~UctSearch();
  UctSearch(const UctSearch&) = delete;
  UctSearch& operator=(const UctSearch&) = delete;

  // Searches the position of `game` for the player to move. Blocks until done: the visit
  // or time limit, or stop(). `game` must outlive the call and stay unchanged during it.
  UctResult run(const Game& game);
  // Move probabilities for the next run()'s root, one per dense move (size*size + 1, pass
  // last; e.g. a policy network's), used with config.prior_bonus > 0 and then forgotten.
  // Call between runs, from the thread that calls run().
  void set_root_priors(std::vector<float> priors) { root_priors_ = std::move(priors); }
  void stop() { stop_.store(true, std::memory_order_relaxed); }
  // The statistics so far of a run in progress on another thread (empty when none runs).
  UctResult peek();

  struct Node;

 private:
  void worker(const Game* game, int thread_index, std::atomic<int>* sims);
  void expand(Node* node, const Board& board, Color to_move, const Game* root_game, bool at_root);

  UctConfig config_;
  UctResult collect() const;

  std::atomic<bool> stop_{false};
  std::mutex root_mutex_;  // guards root_ and game_ replacement against peek()
  const Game* game_ = nullptr;
  std::atomic<int> node_count_{0};
  std::chrono::steady_clock::time_point start_;
  std::unique_ptr<Node> root_;
  std::vector<float> root_priors_;       // dense moves; empty: none (set_root_priors)
  std::vector<float> root_child_prior_;  // the root's children's priors, in child order
};

}  // namespace tengen
