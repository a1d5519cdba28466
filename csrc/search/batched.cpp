// BatchedSearch: construction, positions, the gather/scatter step and the root queries.
// The leaf path is in batched_leaves.cpp, the self-play loop in selfplay_driver.cpp.
// Thread-safety: see batched.h.
#include "search/batched.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "search/batched_internal.h"
#include "search/nn_cache.h"
#include "search/root_noise.h"
#include "search/rollout_pool.h"

namespace tengen {

namespace {
// Game g's random stream: seeded from the search seed and the game index.
constexpr uint64_t kGameSeedMultiplier = 1000003ULL;
constexpr int kNumSlots = 2;
}  // namespace

//---- Construction and positions (thread rule: the caller thread, no step in flight) ----

BatchedSearch::BatchedSearch(const SearchConfig& config, int size, float komi, int num_games)
    : config_(config), size_(size), komi_(komi) {
  if (size < kMinSize || size > kMaxSize) throw std::invalid_argument("unacceptable size");
  if (num_games < 1) throw std::invalid_argument("num_games must be at least 1");
  if (config.batch_size < 1) throw std::invalid_argument("batch_size must be at least 1");
  if (config.leaves_per_game < 1) throw std::invalid_argument("leaves_per_game must be at least 1");
  if (config.visits < 1) throw std::invalid_argument("visits must be at least 1");
  if (config.visits > 1 && !config.use_value && !config.use_rollouts)
    throw std::invalid_argument("a search needs a value: turn on the value network, rollouts, or both");
  if (config.lambda < 0.0f || config.lambda > 1.0f) throw std::invalid_argument("lambda must be in [0, 1]");
  if (config.c_puct <= 0.0f) throw std::invalid_argument("c_puct must be positive");
  if (config.gumbel_considered < 1) throw std::invalid_argument("gumbel_considered must be at least 1");
  features_ = find_feature_set(config.features);
  if (!features_) throw std::invalid_argument("unknown feature set '" + config.features + "'");
  for (int g = 0; g < num_games; ++g) {
    auto gs = std::make_unique<GameState>(size, komi);
    gs->index = g;
    gs->slot = g % kNumSlots;
    gs->rng.seed_with(config.seed * kGameSeedMultiplier + static_cast<uint64_t>(g));
    gs->root = std::make_unique<TreeNode>();
    gs->target_visits = config.visits;
    games_.push_back(std::move(gs));
  }
  for (auto& s : slots_) s = std::make_unique<Slot>();
  cache_ = std::make_unique<NnCache>(needs_network() ? std::max(0, config.cache_size) : 0);
  rollout_pool_ = std::make_unique<RolloutPool>(config.use_rollouts ? std::max(1, config.rollout_threads) : 1, size);
}

BatchedSearch::~BatchedSearch() = default;

bool BatchedSearch::needs_network() const { return config_.policy == PolicyMode::Net || config_.use_value; }

void BatchedSearch::set_rollout_policy(std::shared_ptr<const RolloutPolicy> policy) {
  rollout_policy_ = std::move(policy);
}

void BatchedSearch::set_buffers(int slot, float* inputs, float* masks, float* policy, float* values) {
  if (slot < 0 || slot >= kNumSlots) throw std::invalid_argument("slot must be 0 or 1");
  Slot& s = *slots_[slot];
  s.inputs = inputs;
  s.masks = masks;
  s.policy = policy;
  s.values = values;
}

BatchedSearch::GameState& BatchedSearch::game_state(int g) { return *games_.at(static_cast<size_t>(g)); }
const BatchedSearch::GameState& BatchedSearch::game_state(int g) const { return *games_.at(static_cast<size_t>(g)); }

bool BatchedSearch::in_slot(const GameState& gs, int slot) const { return gs.slot == slot; }

const Game& BatchedSearch::game(int g) const { return game_state(g).game; }

void BatchedSearch::new_root(GameState& gs) {
  gs.root = std::make_unique<TreeNode>();
  gs.noise_applied = false;
  gs.gumbel.ready = false;
}

void BatchedSearch::set_position(int g, const Game& game) {
  GameState& gs = game_state(g);
  if (game.size() != size_) throw std::invalid_argument("the game's board size differs from the search's");
  gs.game = game;
  new_root(gs);
  gs.active = true;
  gs.in_flight = 0;
}

void BatchedSearch::set_target_visits(int g, int visits) {
  GameState& gs = game_state(g);
  gs.target_visits = std::max(1, visits);
  gs.gumbel.ready = false;
  gs.active = true;
}

bool BatchedSearch::advance(int g, int move) {
  GameState& gs = game_state(g);
  if (gs.in_flight > 0) throw std::logic_error("advance() while leaves are in flight");
  if (!gs.game.play(move, gs.game.to_move())) return false;
  std::unique_ptr<TreeNode> next;
  if (config_.reuse_tree && gs.root) next = take_subtree(*gs.root, move);
  if (next) {
    gs.root = std::move(next);
    gs.noise_applied = false;
    gs.gumbel.ready = false;
    drop_repeating_edges(*gs.root, gs.game);
  } else {
    new_root(gs);
  }
  return true;
}

//---- Root queries (thread rule: the game's slot thread, or the caller between steps) ----

bool BatchedSearch::search_done(int g) const {
  const GameState& gs = game_state(g);
  return gs.root->state == NodeState::kExpanded && gs.root->n >= gs.target_visits;
}

bool BatchedSearch::all_done() const {
  for (const auto& gs : games_)
    if (gs->active) return false;
  return true;
}

int BatchedSearch::root_visits(int g) const { return game_state(g).root->n; }

float BatchedSearch::root_value(int g) const { return game_state(g).root->mean_value(); }

int BatchedSearch::best_move(int g) const {
  const GameState& gs = game_state(g);
  const TreeNode& r = *gs.root;
  const int pass_move = size_ * size_;
  if (r.edges.empty()) return pass_move;
  if (config_.gumbel && gs.gumbel.ready && !gs.gumbel.remaining.empty())
    return r.edges[static_cast<size_t>(gs.gumbel.best_edge(r))].move;
  return most_visited_move(r, pass_move);
}

std::vector<RootChild> BatchedSearch::root_children(int g, int pv_length) const {
  const GameState& gs = game_state(g);
  std::vector<RootChild> out;
  for (const TreeEdge& e : gs.root->edges) {
    RootChild c;
    c.move = e.move;
    c.visits = e.n;
    c.q = e.n > 0 ? e.mean_value() : 0.0f;
    c.prior = e.prior;
    c.pv = principal_variation(e, pv_length);
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const RootChild& a, const RootChild& z) {
    return a.visits != z.visits ? a.visits > z.visits : a.prior > z.prior;
  });
  return out;
}

int BatchedSearch::games_started() const {
  std::lock_guard<std::mutex> lock(finished_mutex_);
  return games_started_;
}

//---- The step (thread rule: one thread per slot; the slots' games are disjoint) ---------

void BatchedSearch::write_network_input(const GameState& gs, const Pending& p, Slot& slot) const {
  const int area = size_ * size_;
  const int psize = area + 1;
  PositionView view;
  view.to_move = p.to_move;
  view.boards[0] = &p.board;
  for (int h = 1; h <= p.history_valid && h < kRawHistory; ++h) view.boards[h] = &p.history[static_cast<size_t>(h - 1)];
  for (int k = 0; k < kRawHistory; ++k) view.recent_moves[k] = p.recent_moves[k];
  if (p.leaf == gs.root.get()) view.game = &gs.game;  // superko-aware legality at the root
  float* in = slot.inputs + static_cast<size_t>(p.batch_index) * features_->planes * area;
  features_->write(view, p.symmetry, in);
  float* mask = slot.masks + static_cast<size_t>(p.batch_index) * psize;
  std::fill(mask, mask + psize, 0.0f);
  for (const TreeEdge& e : p.leaf->edges) mask[symmetry_index(e.move, p.symmetry, size_)] = 1.0f;
}

int BatchedSearch::gather(int slot_index) {
  if (slot_index < 0 || slot_index >= kNumSlots) throw std::invalid_argument("slot must be 0 or 1");
  Slot& slot = *slots_[slot_index];
  if (slot.npending > 0) throw std::logic_error("gather() twice on a slot without scatter()");
  const bool net = needs_network();
  if (net && (!slot.inputs || !slot.masks || !slot.policy || !slot.values))
    throw std::logic_error("set_buffers() must be called for this slot before gather()");
  if (config_.policy == PolicyMode::Rollout && !rollout_policy_)
    throw std::logic_error("policy 'rollout' needs a rollout policy: call set_rollout_policy() first");
  slot.nbatch = 0;

  for (auto& gsp : games_) {
    GameState& gs = *gsp;
    if (!in_slot(gs, slot_index)) continue;
    if (selfplay_) finish_moves(gs);
    if (!gs.active) continue;
    if (gs.root->state == NodeState::kExpanded) {
      if (config_.root_noise && !gs.noise_applied && gs.full_search)
        gs.noise_applied = apply_root_noise(*gs.root, gs.rng, config_.dirichlet_alpha, config_.dirichlet_epsilon);
      if (config_.gumbel && !gs.gumbel.ready) gs.gumbel.init(*gs.root, config_.gumbel_considered, gs.target_visits, gs.rng);
    }
    for (int k = 0; k < config_.leaves_per_game; ++k) {
      if (slot.nbatch >= config_.batch_size) break;
      if (gs.root->n + gs.in_flight >= std::max(gs.target_visits, 1) && gs.root->state == NodeState::kExpanded) break;
      if (slot.npending >= static_cast<int>(slot.pool.size())) slot.pool.push_back(std::make_unique<Pending>());
      Pending& p = *slot.pool[static_cast<size_t>(slot.npending)];
      if (!select_leaf(gs, p)) break;
      gs.in_flight += 1;
      if (p.terminal) {
        resolve_terminal(gs, p);
        continue;
      }
      prepare_leaf(gs, p);
      ++slot.npending;
      if (net && !p.cached) {
        p.batch_index = slot.nbatch++;
        write_network_input(gs, p, slot);
      }
    }
  }

  // Rollouts for every leaf that wants one, on the rollout pool.
  run_rollouts(slot);

  // Leaves needing no network are finished now (in gather order); the rest wait for scatter().
  for (int i = 0; i < slot.npending; ++i) {
    Pending& p = *slot.pool[static_cast<size_t>(i)];
    if (p.batch_index < 0) finish_leaf(p, nullptr, 0.0f);
  }
  int kept = 0;
  for (int i = 0; i < slot.npending; ++i) {
    if (slot.pool[static_cast<size_t>(i)]->batch_index >= 0)
      std::swap(slot.pool[static_cast<size_t>(kept++)], slot.pool[static_cast<size_t>(i)]);
  }
  slot.npending = kept;
  return slot.nbatch;
}

void BatchedSearch::scatter(int slot_index, int n) {
  if (slot_index < 0 || slot_index >= kNumSlots) throw std::invalid_argument("slot must be 0 or 1");
  Slot& slot = *slots_[slot_index];
  if (n != slot.nbatch) throw std::invalid_argument("scatter() count differs from what gather() returned");
  const int psize = size_ * size_ + 1;
  for (int i = 0; i < slot.npending; ++i) {
    Pending& p = *slot.pool[static_cast<size_t>(i)];
    const float* logits = slot.policy + static_cast<size_t>(p.batch_index) * psize;
    float v = slot.values[p.batch_index];
    if (!std::isfinite(v)) v = 0.0f;
    v = std::max(-1.0f, std::min(1.0f, v));
    finish_leaf(p, logits, v);
  }
  evaluations_.fetch_add(slot.nbatch, std::memory_order_relaxed);
  slot.npending = 0;
  slot.nbatch = 0;
  if (selfplay_) {
    for (auto& gsp : games_)
      if (in_slot(*gsp, slot_index)) finish_moves(*gsp);
  }
}

}  // namespace tengen
