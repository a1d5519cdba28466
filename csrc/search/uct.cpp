// UctSearch implementation. Thread-safety: see uct.h.
#include "search/uct.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "go/heuristics.h"
#include "go/playout.h"
#include "search/candidates.h"

namespace tengen {

struct UctSearch::Node {
  int16_t point = kPass;
  std::atomic<int32_t> visits{0};
  std::atomic<int32_t> wins{0};  // half-points (2 a win, 1 a draw) for the player who moved here
  std::atomic<int32_t> amaf_visits{0};
  std::atomic<int32_t> amaf_wins{0};
  std::atomic<uint8_t> state{0};  // 0 leaf, 1 being expanded, 2 expanded
  int num_children = 0;
  std::unique_ptr<Node[]> children;
  std::unique_ptr<int16_t[]> child_points;  // children's points, packed for the AMAF scan
};

namespace {

constexpr uint8_t kLeaf = 0, kExpanding = 1, kExpanded = 2;
constexpr int kMaxNodes = 4'000'000;
// Thread t's playout stream: seed * kSeedMultiplier + t * kThreadSeedStride + 1.
constexpr uint64_t kSeedMultiplier = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kThreadSeedStride = 7919;
// Moves one simulation may record (tree plus playout): kMovesPerPoint per point plus slack.
constexpr int kMovesPerPoint = 4;
constexpr int kMoveSlack = 400;
// Wins are counted in half points: a win is worth kWinUnits, a draw half of it.
constexpr int kWinUnits = 2;
// The value of a child nobody has visited (so every child is tried once).
constexpr float kUnvisitedValue = 1.0f;
constexpr size_t kMaxPvLength = 32;

using Clock = std::chrono::steady_clock;

}  // namespace

void UctSearch::expand(Node* node, const Board& board, Color to_move, const Game* root_game, bool at_root) {
  std::vector<int> points;
  points.reserve(static_cast<size_t>(board.num_empty()) + 1);
  candidate_points(board, to_move, at_root ? root_game : nullptr, points);
  points.push_back(kPass);
  auto children = std::make_unique<Node[]>(points.size());
  auto child_points = std::make_unique<int16_t[]>(points.size());
  const int pv = std::max(config_.prior_visits, 0);
  for (size_t i = 0; i < points.size(); ++i) {
    Node& ch = children[i];
    ch.point = static_cast<int16_t>(points[i]);
    child_points[i] = ch.point;
    const double prior = points[i] == kPass ? kPassHeuristic : move_heuristic(board, points[i], to_move);
    ch.amaf_visits.store(pv, std::memory_order_relaxed);
    ch.amaf_wins.store(static_cast<int32_t>(std::lround(2.0 * pv * prior)), std::memory_order_relaxed);
  }
  node->num_children = static_cast<int>(points.size());
  node->children = std::move(children);
  node->child_points = std::move(child_points);
  node_count_.fetch_add(static_cast<int>(points.size()), std::memory_order_relaxed);
  node->state.store(kExpanded, std::memory_order_release);
}

void UctSearch::worker(const Game* game, int thread_index, std::atomic<int>* sims) {
  Rng rng(config_.seed * kSeedMultiplier + static_cast<uint64_t>(thread_index) * kThreadSeedStride + 1);
  const Board& root_board = game->board();
  const Color root_color = game->to_move();
  const float komi = game->rules().komi;
  Board board(root_board.size());
  std::vector<Node*> path;
  path.reserve(128);
  const int seq_cap = kMovesPerPoint * root_board.num_points() + kMoveSlack;
  std::vector<int16_t> seq(static_cast<size_t>(seq_cap));
  std::vector<int8_t> first(kMaxPoints, 0);
  const float inv_equiv = 1.0f / static_cast<float>(std::max(config_.rave_equivalence, 1.0));
  const float expl = static_cast<float>(config_.exploration);
  const float bonus = static_cast<float>(config_.prior_bonus);

  while (!stop_.load(std::memory_order_relaxed)) {
    const int n = sims->fetch_add(1, std::memory_order_relaxed);
    if (config_.max_visits > 0 && n >= config_.max_visits) break;
    if (config_.max_seconds > 0.0 &&
        std::chrono::duration<double>(Clock::now() - start_).count() >= config_.max_seconds)
      break;

    board = root_board;
    Color c = root_color;
    int passes = game->consecutive_passes();
    Node* node = root_.get();
    path.clear();
    path.push_back(node);
    node->visits.fetch_add(1, std::memory_order_relaxed);
    int len = 0;
    bool terminal = passes >= 2;

    while (!terminal) {
      uint8_t st = node->state.load(std::memory_order_acquire);
      if (st == kLeaf && node->visits.load(std::memory_order_relaxed) >= config_.expand_threshold &&
          node_count_.load(std::memory_order_relaxed) < kMaxNodes) {
        uint8_t expected = kLeaf;
        if (node->state.compare_exchange_strong(expected, kExpanding, std::memory_order_acq_rel)) {
          expand(node, board, c, game, node == root_.get());
          st = kExpanded;
        }
      }
      if (st != kExpanded) break;

      // Select the child with the best RAVE-blended value plus exploration. With
      // beta = av / (av + v + v*av/E), (1-beta)*w/v + beta*aw/av folds into one division:
      // (w*k + aw) / (v*k + av) with k = 1 + av/E.
      const int parent_visits = node->visits.load(std::memory_order_relaxed);
      const float log_n = expl > 0.0f ? std::log(static_cast<float>(parent_visits) + 1.0f) : 0.0f;
      // The root's priors (set_root_priors) add a PUCT term; read-only while workers run.
      const float* priors = node == root_.get() && !root_child_prior_.empty() ? root_child_prior_.data() : nullptr;
      const float prior_scale = priors ? bonus * std::sqrt(static_cast<float>(parent_visits)) : 0.0f;
      Node* best = nullptr;
      float best_value = -1e30f;
      for (int i = 0; i < node->num_children; ++i) {
        Node* ch = &node->children[i];
        const float v = static_cast<float>(ch->visits.load(std::memory_order_relaxed));
        const float w = 0.5f * static_cast<float>(ch->wins.load(std::memory_order_relaxed));
        const float av = static_cast<float>(ch->amaf_visits.load(std::memory_order_relaxed));
        const float aw = 0.5f * static_cast<float>(ch->amaf_wins.load(std::memory_order_relaxed));
        const float k = 1.0f + av * inv_equiv;
        const float denom = v * k + av;
        float value = denom > 0.0f ? (w * k + aw) / denom : kUnvisitedValue;
        if (expl > 0.0f) value += expl * std::sqrt(log_n / (v + 1.0f));
        if (priors) value += prior_scale * priors[i] / (v + 1.0f);
        if (value > best_value) {
          best_value = value;
          best = ch;
        }
      }
      best->visits.fetch_add(1, std::memory_order_relaxed);
      board.play(best->point, c);
      seq[len++] = best->point;
      passes = best->point == kPass ? passes + 1 : 0;
      c = opponent(c);
      node = best;
      path.push_back(node);
      if (passes >= 2 || len >= seq_cap / 2) terminal = true;
    }

    const int tree_len = len;
    if (!terminal) {
      const PlayoutResult r = light_playout(board, c, rng, seq.data() + len, seq_cap - len);
      len += std::min(r.moves_played, seq_cap - len);
    }
    const double margin = static_cast<double>(board.area_difference()) - komi;
    const int black_units = margin > 0 ? kWinUnits : margin < 0 ? 0 : kWinUnits / 2;

    // Backup: each node's wins are for the player who moved into it.
    for (size_t d = 1; d < path.size(); ++d) {
      const Color mover = (d % 2 == 1) ? root_color : opponent(root_color);
      path[d]->wins.fetch_add(mover == BLACK ? black_units : kWinUnits - black_units, std::memory_order_relaxed);
    }

    // AMAF: a child of a node at depth d gets credit if its point was first played,
    // from ply d on, by the player to move at d.
    for (int i = len - 1; i >= tree_len; --i)
      if (seq[i] != kPass) first[seq[i]] = static_cast<int8_t>(((i % 2) == 0) ? root_color : opponent(root_color));
    for (int d = tree_len; d >= 0; --d) {
      const Color mover = (d % 2 == 0) ? root_color : opponent(root_color);
      if (d < tree_len && seq[d] != kPass) first[seq[d]] = static_cast<int8_t>(mover);
      Node* nd = path[static_cast<size_t>(d)];
      if (nd->state.load(std::memory_order_acquire) != kExpanded) continue;
      const int units = mover == BLACK ? black_units : kWinUnits - black_units;
      const int16_t* pts = nd->child_points.get();
      const int nch = nd->num_children - 1;  // the last child is the pass
      for (int i = 0; i < nch; ++i) {
        if (first[pts[i]] == mover) {
          Node* ch = &nd->children[i];
          // Plain relaxed load+store, not a locked add: AMAF statistics tolerate the rare
          // update lost to a concurrent thread, and this loop is the search's hottest.
          ch->amaf_visits.store(ch->amaf_visits.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
          ch->amaf_wins.store(ch->amaf_wins.load(std::memory_order_relaxed) + units, std::memory_order_relaxed);
        }
      }
    }
    for (int i = 0; i < len; ++i)
      if (seq[i] != kPass) first[seq[i]] = 0;
  }
}

UctSearch::UctSearch(const UctConfig& config) : config_(config) {}
UctSearch::~UctSearch() = default;

UctResult UctSearch::run(const Game& game) {
  {
    std::lock_guard<std::mutex> lock(root_mutex_);
    start_ = Clock::now();
    root_ = std::make_unique<Node>();
    game_ = &game;
    node_count_.store(1);
    // The root is expanded at once so that every thread starts below it.
    expand(root_.get(), game.board(), game.to_move(), &game, true);
    root_child_prior_.clear();
    const size_t dense = static_cast<size_t>(game.board().size() * game.board().size()) + 1;
    if (!root_priors_.empty() && root_priors_.size() != dense) {
      root_priors_.clear();
      game_ = nullptr;
      throw std::invalid_argument("root priors need size*size + 1 entries, one per move and pass");
    }
    if (config_.prior_bonus > 0.0 && !root_priors_.empty()) {
      for (int i = 0; i < root_->num_children; ++i) {
        const float p = root_priors_[static_cast<size_t>(game.to_move_index(root_->children[i].point))];
        root_child_prior_.push_back(std::isfinite(p) && p > 0.0f ? p : 0.0f);
      }
    }
    root_priors_.clear();
  }

  std::atomic<int> sims{0};
  const int threads = std::max(1, config_.threads);
  if (threads == 1) {
    worker(&game, 0, &sims);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(&UctSearch::worker, this, &game, t, &sims);
    for (auto& th : pool) th.join();
  }
  stop_.store(false);
  std::lock_guard<std::mutex> lock(root_mutex_);
  UctResult result = collect();
  game_ = nullptr;
  return result;
}

UctResult UctSearch::peek() {
  std::lock_guard<std::mutex> lock(root_mutex_);
  if (!root_ || !game_) return UctResult{};
  return collect();
}

UctResult UctSearch::collect() const {
  const Game& game = *game_;
  UctResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  result.visits = root_->visits.load();
  for (int i = 0; i < root_->num_children; ++i) {
    const Node& ch = root_->children[i];
    UctChildStats s;
    s.move = game.to_move_index(ch.point);
    s.visits = ch.visits.load();
    s.winrate = s.visits > 0 ? 0.5 * ch.wins.load() / s.visits : 0.5;
    s.amaf_visits = ch.amaf_visits.load();
    s.amaf_winrate = s.amaf_visits > 0 ? 0.5 * ch.amaf_wins.load() / s.amaf_visits : 0.5;
    result.children.push_back(s);
  }
  std::stable_sort(result.children.begin(), result.children.end(),
                   [](const UctChildStats& a, const UctChildStats& z) { return a.visits > z.visits; });
  if (!result.children.empty()) {
    result.best_move = result.children[0].move;
    result.winrate = result.children[0].winrate;
  }
  const Node* node = root_.get();
  while (node && node->state.load() == kExpanded && node->num_children > 0 && result.pv.size() < kMaxPvLength) {
    const Node* best = nullptr;
    for (int i = 0; i < node->num_children; ++i)
      if (!best || node->children[i].visits.load() > best->visits.load()) best = &node->children[i];
    if (!best || best->visits.load() == 0) break;
    result.pv.push_back(game.to_move_index(best->point));
    node = best;
  }
  return result;
}

}  // namespace tengen
