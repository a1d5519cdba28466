// BatchedSearch's leaf path: the selection walk down one game's tree, preparing a leaf (its
// edges, key, symmetry, cache lookup), its rollouts on the pool, and finishing it (priors,
// value, cache insert, expansion, backup). Thread-safety: see batched.h; each function touches
// one game's tree, on the thread running that game's slot, plus the locked NN cache and the
// atomic counters.
#include <algorithm>

#include "search/batched.h"
#include "search/batched_internal.h"
#include "search/leaf_eval.h"
#include "search/nn_cache.h"
#include "search/rollout_pool.h"

namespace tengen {

namespace {
// A leaf's rollout seed mixes the search seed, a serial number and the position key.
constexpr uint64_t kSeedMultiplier = 0x2545F4914F6CDD1DULL;
constexpr uint64_t kSerialMultiplier = 0x9E3779B97F4A7C15ULL;
// Consecutive passes that end the game.
constexpr int kPassesToEnd = 2;
}  // namespace

//---- Selection walk (thread rule: the game's slot thread) ------------------------------

bool BatchedSearch::select_leaf(GameState& gs, Pending& p) {
  p.gs = &gs;
  p.path.clear();
  p.nodes.clear();
  p.board = gs.game.board();
  const int hist = features_->history;
  if (static_cast<int>(p.history.size()) < hist) p.history.resize(static_cast<size_t>(hist), Board(size_));
  const int pass_move = size_ * size_;
  const PuctParams puct = puct_params(config_);
  int depth = 0;
  Color c = gs.game.to_move();
  int passes = gs.game.consecutive_passes();
  TreeNode* node = gs.root.get();
  p.nodes.push_back(node);
  const bool at_game_end = passes >= kPassesToEnd;

  while (node->state == NodeState::kExpanded && !at_game_end) {
    int best;
    if (node == gs.root.get() && config_.gumbel && gs.gumbel.ready) {
      best = gs.gumbel.select(*node);
      if (best < 0) break;  // every candidate of this phase is in flight: try later
    } else {
      best = select_child(*node, puct);
    }
    if (best < 0) break;
    TreeEdge& e = node->edges[static_cast<size_t>(best)];
    // Shift the history window, then play the edge's move.
    if (hist > 1) {
      for (int k = hist - 1; k > 0; --k) p.history[static_cast<size_t>(k)] = p.history[static_cast<size_t>(k - 1)];
      p.history[0] = p.board;
    }
    const int point = e.move == pass_move ? kPass : p.board.from_index(e.move);
    p.board.play(point, c);
    passes = point == kPass ? passes + 1 : 0;
    c = opponent(c);
    ++depth;
    e.vl += 1;  // virtual loss until backup
    if (!e.child) e.child = std::make_unique<TreeNode>();
    node = e.child.get();
    p.path.push_back(&e);
    p.nodes.push_back(node);
    if (passes >= kPassesToEnd) break;
  }
  if (node->state == NodeState::kWaiting ||
      (node->state == NodeState::kExpanded && !at_game_end && passes < kPassesToEnd)) {
    // Collision with a leaf already waiting in this batch (or a stalled Gumbel phase).
    release_virtual_loss(p.path);
    return false;
  }
  p.leaf = node;
  p.to_move = c;
  p.terminal = passes >= kPassesToEnd;
  // History beyond the path comes from the game record: history[j] is the board j + 1 moves
  // before the leaf; the latest moves likewise (path first, then the game's).
  p.history_valid = 0;
  if (hist > 1) {
    for (int j = 0; j < hist - 1; ++j) {
      if (j < depth) {
        p.history_valid = j + 1;
        continue;
      }
      const Board* b = gs.game.history_board(j + 1 - depth);
      if (!b) break;
      p.history[static_cast<size_t>(j)] = *b;
      p.history_valid = j + 1;
    }
  }
  const auto& game_moves = gs.game.moves();
  const int nm = static_cast<int>(game_moves.size());
  for (int k = 1; k <= kRawHistory; ++k) {
    int mv = -1;
    if (k <= depth) mv = p.path[static_cast<size_t>(depth - k)]->move;
    else if (k - depth <= nm) mv = game_moves[static_cast<size_t>(nm - (k - depth))].move;
    p.recent_moves[k - 1] = mv;
  }
  return true;
}

// Two passes in a row end the game: the leaf is scored by area and backed up at once.
void BatchedSearch::resolve_terminal(GameState& gs, Pending& p) {
  backup(p.nodes, p.path, outcome_value(p.board.area_difference(), p.to_move, komi_));
  gs.in_flight -= 1;
  terminal_hits_.fetch_add(1, std::memory_order_relaxed);
}

//---- Leaf preparation and rollouts (thread rule: the slot thread; rollouts on the pool) --

void BatchedSearch::prepare_leaf(GameState& gs, Pending& p) {
  TreeNode* node = p.leaf;
  const bool at_root = node == gs.root.get();
  add_edges(*node, p.board, p.to_move, at_root ? &gs.game : nullptr, p.candidates);

  p.key = position_key(p.board, p.to_move);
  p.symmetry = config_.random_symmetry ? symmetry_of_key(p.key) : 0;
  p.cached = false;
  p.batch_index = -1;
  p.needs_rollout = config_.use_rollouts;
  const uint64_t serial = leaf_serial_.fetch_add(1, std::memory_order_relaxed) + 1;
  p.seed = config_.seed * kSeedMultiplier + serial * kSerialMultiplier + p.key;
  if (cache_->lookup(p.key, p.cached_priors, p.cached_value)) {
    p.cached = true;
    cache_hits_.fetch_add(1, std::memory_order_relaxed);
  }
}

void BatchedSearch::run_rollouts(Slot& slot) {
  slot.rollouts.clear();
  for (int i = 0; i < slot.npending; ++i) {
    Pending* p = slot.pool[static_cast<size_t>(i)].get();
    if (p->needs_rollout) slot.rollouts.push_back(p);
  }
  const std::vector<Pending*>& todo = slot.rollouts;
  const RolloutPolicy* policy = rollout_policy_.get();
  const float komi = komi_;
  rollout_pool_->run(todo.size(), [&todo, policy, komi](size_t i, Board& scratch) {
    Pending& p = *todo[i];
    p.rollout_value =
        rollout_value(scratch, p.board, p.to_move, leaf_last_move(p.board, p.recent_moves[0]), p.seed, policy, komi);
  });
}

//---- Finishing a leaf (thread rule: the slot thread; the cache locks itself) -------------

void BatchedSearch::finish_leaf(Pending& p, const float* logits, float net_value) {
  TreeNode* node = p.leaf;
  std::vector<float> priors(node->edges.size(), 0.0f);
  if (p.cached)
    cached_priors(*node, p.cached_priors, priors.data());
  else if (config_.policy == PolicyMode::Net && logits)
    net_priors(*node, logits, p.symmetry, size_, priors.data());
  else if (config_.policy == PolicyMode::Rollout)
    rollout_policy_priors(*node, p.board, p.to_move, leaf_last_move(p.board, p.recent_moves[0]), *rollout_policy_,
                          priors.data());
  else if (config_.policy == PolicyMode::Heuristic)
    heuristic_priors(*node, p.board, p.to_move, priors.data());
  else
    uniform_priors(*node, priors.data());
  const float v_net = p.cached ? p.cached_value : net_value;
  const float value = mix_leaf_value(config_, v_net, p.rollout_value);
  if (!p.cached) cache_->insert(p.key, *node, priors.data(), v_net, size_ * size_ + 1);
  set_priors(*node, priors.data());
  backup(p.nodes, p.path, value);
  p.gs->in_flight -= 1;
}

}  // namespace tengen
