// BatchedSearch implementation. Thread-safety: see batched.h.
#include "search/batched.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>

#include "go/heuristics.h"
#include "go/playout.h"

namespace tengen {

struct BatchedSearch::Edge {
  int move = 0;          // dense index, pass = size*size
  float prior = 0.0f;
  float logit = 0.0f;    // log prior (Gumbel)
  int n = 0;             // completed visits
  int vl = 0;            // leaves in flight below this edge
  float w = 0.0f;        // sum of values for the player who plays this edge
  std::unique_ptr<Node> child;
};

struct BatchedSearch::Node {
  std::vector<Edge> edges;
  uint8_t state = 0;     // 0 new, 1 waiting for its evaluation, 2 expanded
  int n = 0;             // completed visits
  float value_sum = 0.0f;  // for the player to move at this node
};

struct BatchedSearch::GameState {
  int index = 0;
  int slot = 0;
  Game game;
  std::unique_ptr<Node> root;
  Rng rng;
  bool active = false;
  int target_visits = 0;
  int in_flight = 0;
  bool noise_applied = false;
  bool no_resign = false;
  int would_resign = 0;
  bool full_search = true;
  std::vector<float> policy_rows;
  std::vector<uint8_t> full_flags;
  // Gumbel root state for the current search.
  bool gumbel_ready = false;
  std::vector<float> gumbel_score;  // g + logit per root edge
  std::vector<int> remaining;       // root edge indices still in the halving
  int phase_quota = 0;
  int phases_left = 0;
  int budget = 0;

  GameState(int size, float komi) : game(size, Rules{komi, true, false}) {}
};

struct BatchedSearch::Pending {
  GameState* gs = nullptr;
  std::vector<Edge*> path;
  std::vector<Node*> nodes;
  Node* leaf = nullptr;
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
  int history_valid = 0;           // how many entries of history are real boards
  int recent_moves[kHistory] = {};  // dense moves 1..kHistory moves before the leaf (-1 none)
};

struct BatchedSearch::Slot {
  float* inputs = nullptr;
  float* masks = nullptr;
  float* policy = nullptr;
  float* values = nullptr;
  std::vector<std::unique_ptr<Pending>> pool;
  int npending = 0;
  int nbatch = 0;
};

namespace {

inline float edge_q(const BatchedSearch::Edge& e, float vloss) {
  const float n = static_cast<float>(e.n) + vloss * static_cast<float>(e.vl);
  return (e.w - vloss * static_cast<float>(e.vl)) / n;
}

}  // namespace

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
    gs->slot = g % 2;
    gs->rng.seed_with(config.seed * 1000003ULL + static_cast<uint64_t>(g));
    gs->root = std::make_unique<Node>();
    gs->target_visits = config.visits;
    games_.push_back(std::move(gs));
  }
  for (auto& s : slots_) s = std::make_unique<Slot>();
}

BatchedSearch::~BatchedSearch() = default;

bool BatchedSearch::needs_network() const { return config_.policy == PolicyMode::Net || config_.use_value; }

void BatchedSearch::set_rollout_policy(std::shared_ptr<const RolloutPolicy> policy) {
  rollout_policy_ = std::move(policy);
}

namespace {
// The previous move of a leaf as a padded point (kNoPoint at the start or after a pass).
int leaf_last_move(const Board& b, int dense_move) {
  return dense_move < 0 || dense_move >= b.num_points() ? kNoPoint : b.from_index(dense_move);
}
}  // namespace

void BatchedSearch::rollout_priors(const Pending& p, std::vector<float>& priors) const {
  const Node* node = p.leaf;
  const int area = size_ * size_;
  std::vector<float> prob(static_cast<size_t>(area), 0.0f);
  const int candidates =
      rollout_policy_->probabilities(p.board, p.to_move, leaf_last_move(p.board, p.recent_moves[0]), prob.data());
  float total = 0.0f;
  for (size_t i = 0; i < node->edges.size(); ++i) {
    const int mv = node->edges[i].move;
    // Pass is no rollout candidate: it keeps a small prior, the whole prior when nothing else is left.
    const float q = mv == area ? (candidates > 0 ? 0.01f : 1.0f) : prob[static_cast<size_t>(mv)];
    total += priors[i] = q + 1e-4f;  // a legal move the patterns call an own-eye fill stays reachable
  }
  for (float& q : priors) q /= total;
}

void BatchedSearch::set_buffers(int slot, float* inputs, float* masks, float* policy, float* values) {
  if (slot < 0 || slot > 1) throw std::invalid_argument("slot must be 0 or 1");
  Slot& s = *slots_[slot];
  s.inputs = inputs;
  s.masks = masks;
  s.policy = policy;
  s.values = values;
}

const Game& BatchedSearch::game(int g) const { return games_.at(static_cast<size_t>(g))->game; }

void BatchedSearch::new_root(GameState& gs) {
  gs.root = std::make_unique<Node>();
  gs.noise_applied = false;
  gs.gumbel_ready = false;
}

void BatchedSearch::reset_game(GameState& gs) {
  std::lock_guard<std::mutex> lock(shared_mutex_);
  if (games_started_ >= total_games_) {
    gs.active = false;
    return;
  }
  ++games_started_;
  gs.game = Game(size_, Rules{komi_, true, false});
  new_root(gs);
  gs.active = true;
  gs.in_flight = 0;
  gs.no_resign = gs.rng.uniform() < config_.no_resign_fraction;
  gs.would_resign = 0;
  gs.policy_rows.clear();
  gs.full_flags.clear();
  gs.full_search = config_.fast_visits <= 0 || gs.rng.uniform() < config_.full_search_prob;
  gs.target_visits = gs.full_search ? config_.visits : config_.fast_visits;
}

void BatchedSearch::start_selfplay(int total_games) {
  selfplay_ = true;
  total_games_ = total_games;
  games_started_ = 0;
  for (auto& gs : games_) reset_game(*gs);
}

void BatchedSearch::set_position(int g, const Game& game) {
  GameState& gs = *games_.at(static_cast<size_t>(g));
  if (game.size() != size_) throw std::invalid_argument("the game's board size differs from the search's");
  gs.game = game;
  new_root(gs);
  gs.active = true;
  gs.in_flight = 0;
}

void BatchedSearch::set_target_visits(int g, int visits) {
  GameState& gs = *games_.at(static_cast<size_t>(g));
  gs.target_visits = std::max(1, visits);
  gs.gumbel_ready = false;
  gs.active = true;
}

bool BatchedSearch::advance(int g, int move) {
  GameState& gs = *games_.at(static_cast<size_t>(g));
  if (gs.in_flight > 0) throw std::logic_error("advance() while leaves are in flight");
  if (!gs.game.play(move, gs.game.to_move())) return false;
  std::unique_ptr<Node> next;
  if (config_.reuse_tree && gs.root) {
    for (Edge& e : gs.root->edges)
      if (e.move == move && e.child && e.child->state == 2) next = std::move(e.child);
  }
  if (next) {
    gs.root = std::move(next);
    gs.noise_applied = false;
    gs.gumbel_ready = false;
    // The reused node was expanded below the root, where superko is not checked: drop the
    // edges that would repeat a position now that it is the root (its search plays them).
    const Color c = gs.game.to_move();
    const Board& b = gs.game.board();
    const int pass_move = size_ * size_;
    auto& edges = gs.root->edges;
    edges.erase(std::remove_if(edges.begin(), edges.end(),
                               [&](const Edge& e) {
                                 return e.move != pass_move && gs.game.repeats_position(b.from_index(e.move), c);
                               }),
                edges.end());
  } else {
    new_root(gs);
  }
  return true;
}

bool BatchedSearch::search_done(int g) const {
  const GameState& gs = *games_.at(static_cast<size_t>(g));
  return gs.root->state == 2 && gs.root->n >= gs.target_visits;
}

bool BatchedSearch::all_done() const {
  for (const auto& gs : games_)
    if (gs->active) return false;
  return true;
}

int BatchedSearch::root_visits(int g) const { return games_.at(static_cast<size_t>(g))->root->n; }

float BatchedSearch::root_value(int g) const {
  const Node& r = *games_.at(static_cast<size_t>(g))->root;
  return r.n > 0 ? r.value_sum / static_cast<float>(r.n) : 0.0f;
}

uint64_t BatchedSearch::cache_key(const Board& b, Color to_move) const {
  return b.hash() ^ (to_move == WHITE ? 0x5bd1e9955bd1e995ULL : 0ULL);
}

float BatchedSearch::heuristic_prior(const Board& b, int point, Color c) const {
  return static_cast<float>(move_heuristic(b, point, c));
}

// ---------------------------------------------------------------------------------------
// Selection

bool BatchedSearch::select_leaf(GameState& gs, Pending& p) {
  p.gs = &gs;
  p.path.clear();
  p.nodes.clear();
  p.board = gs.game.board();
  const int hist = features_->history;
  if (static_cast<int>(p.history.size()) < hist) p.history.resize(static_cast<size_t>(hist), Board(size_));
  int depth = 0;
  Color c = gs.game.to_move();
  int passes = gs.game.consecutive_passes();
  Node* node = gs.root.get();
  p.nodes.push_back(node);
  const float vloss = config_.virtual_loss;
  const bool at_game_end = passes >= 2;

  while (node->state == 2 && !at_game_end) {
    int best = -1;
    if (node == gs.root.get() && config_.gumbel && gs.gumbel_ready) {
      best = gumbel_select(gs);
      if (best < 0) break;  // every candidate of this phase is in flight: try later
    } else {
      const float parent_n = static_cast<float>(std::max(node->n, 1));
      float c_puct = config_.c_puct;
      if (config_.c_puct_base > 0.0f)
        c_puct += std::log((1.0f + parent_n + config_.c_puct_base) / config_.c_puct_base);
      const float u_scale = c_puct * std::sqrt(parent_n);
      const float parent_q = node->n > 0 ? node->value_sum / static_cast<float>(node->n) : 0.0f;
      const float fpu = parent_q - config_.fpu_reduction;
      float best_score = -1e30f;
      for (size_t i = 0; i < node->edges.size(); ++i) {
        const Edge& e = node->edges[i];
        // An unvisited edge with a leaf in flight sits below every untried one.
        const float q = e.n > 0 ? edge_q(e, vloss) : fpu - (e.vl > 0 ? vloss : 0.0f);
        const float u = u_scale * e.prior / (1.0f + static_cast<float>(e.n) + static_cast<float>(e.vl));
        if (q + u > best_score) {
          best_score = q + u;
          best = static_cast<int>(i);
        }
      }
    }
    if (best < 0) break;
    Edge& e = node->edges[static_cast<size_t>(best)];
    // Shift the history window, then play the edge's move.
    if (hist > 1) {
      for (int k = hist - 1; k > 0; --k) p.history[static_cast<size_t>(k)] = p.history[static_cast<size_t>(k - 1)];
      p.history[0] = p.board;
    }
    const int point = e.move == size_ * size_ ? kPass : p.board.from_index(e.move);
    p.board.play(point, c);
    passes = point == kPass ? passes + 1 : 0;
    c = opponent(c);
    ++depth;
    e.vl += 1;
    if (!e.child) e.child = std::make_unique<Node>();
    node = e.child.get();
    p.path.push_back(&e);
    p.nodes.push_back(node);
    if (passes >= 2) break;
  }
  if (node->state == 1 || (node->state == 2 && !at_game_end && passes < 2)) {
    // Collision with a leaf already waiting in this batch (or a stalled Gumbel phase).
    for (Edge* e : p.path) e->vl -= 1;
    return false;
  }
  p.leaf = node;
  p.to_move = c;
  p.terminal = passes >= 2;
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
  for (int k = 1; k <= kHistory; ++k) {
    int mv = -1;
    if (k <= depth) mv = p.path[static_cast<size_t>(depth - k)]->move;
    else if (k - depth <= nm) mv = game_moves[static_cast<size_t>(nm - (k - depth))].move;
    p.recent_moves[k - 1] = mv;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Evaluation

void BatchedSearch::prepare_leaf(GameState& gs, Pending& p) {
  Node* node = p.leaf;
  const bool at_root = node == gs.root.get();
  const Board& b = p.board;
  const Color c = p.to_move;
  node->edges.clear();
  for (int i = 0; i < b.num_empty(); ++i) {
    const int pt = b.empty_at(i);
    if (!b.is_legal(pt, c)) continue;
    if (b.is_eye_like(pt, c) && b.is_true_eye(pt, c)) continue;
    if (at_root && gs.game.repeats_position(pt, c)) continue;
    Edge e;
    e.move = b.to_index(pt);
    node->edges.push_back(std::move(e));
  }
  std::sort(node->edges.begin(), node->edges.end(), [](const Edge& a, const Edge& z) { return a.move < z.move; });
  Edge pass;
  pass.move = size_ * size_;
  node->edges.push_back(std::move(pass));
  node->state = 1;

  p.key = cache_key(b, c);
  p.symmetry = config_.random_symmetry ? static_cast<int>((p.key >> 61) & 7) : 0;
  p.cached = false;
  p.batch_index = -1;
  p.needs_rollout = config_.use_rollouts;
  {
    std::lock_guard<std::mutex> lock(shared_mutex_);
    p.seed = config_.seed * 0x2545F4914F6CDD1DULL + (++leaf_serial_) * 0x9E3779B97F4A7C15ULL + p.key;
    if (config_.cache_size > 0 && needs_network()) {
      auto it = cache_.find(p.key);
      if (it != cache_.end()) {
        p.cached = true;
        p.cached_priors = it->second.priors;
        p.cached_value = it->second.value;
        ++cache_hits_;
      }
    }
  }
}

void BatchedSearch::run_rollouts(std::vector<Pending*>& todo) {
  if (todo.empty()) return;
  auto work = [this, &todo](size_t begin, size_t step) {
    Board b(size_);
    for (size_t i = begin; i < todo.size(); i += step) {
      Pending& p = *todo[i];
      Rng rng(p.seed);
      b = p.board;
      const PlayoutResult r = rollout_policy_
                                  ? rollout_policy_->playout(b, p.to_move, leaf_last_move(b, p.recent_moves[0]), rng)
                                  : light_playout(b, p.to_move, rng);
      const float margin = static_cast<float>(r.area_difference) - komi_;
      const float black = margin > 0 ? 1.0f : margin < 0 ? -1.0f : 0.0f;
      p.rollout_value = p.to_move == BLACK ? black : -black;
    }
  };
  const size_t threads = std::min(static_cast<size_t>(std::max(1, config_.rollout_threads)), todo.size());
  if (threads <= 1) {
    work(0, 1);
    return;
  }
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(work, t, threads);
  for (auto& th : pool) th.join();
}

void BatchedSearch::expand(Node* node, const std::vector<float>& priors) {
  for (size_t i = 0; i < node->edges.size(); ++i) {
    node->edges[i].prior = priors[i];
    node->edges[i].logit = std::log(std::max(priors[i], 1e-12f));
  }
  node->state = 2;
}

void BatchedSearch::finish_leaf(Pending& p, const float* logits, float net_value) {
  Node* node = p.leaf;
  const size_t ne = node->edges.size();
  std::vector<float> priors(ne, 0.0f);
  const int area = size_ * size_;
  if (p.cached) {
    float total = 0.0f;
    for (size_t i = 0; i < ne; ++i) total += priors[i] = p.cached_priors[static_cast<size_t>(node->edges[i].move)];
    for (size_t i = 0; i < ne; ++i) priors[i] = total > 0 ? priors[i] / total : 1.0f / static_cast<float>(ne);
  } else if (config_.policy == PolicyMode::Net && logits) {
    float mx = -1e30f;
    for (size_t i = 0; i < ne; ++i) {
      priors[i] = logits[symmetry_index(node->edges[i].move, p.symmetry, size_)];
      mx = std::max(mx, priors[i]);
    }
    float total = 0.0f;
    for (size_t i = 0; i < ne; ++i) total += priors[i] = std::exp(priors[i] - mx);
    for (size_t i = 0; i < ne; ++i) priors[i] /= total;
  } else if (config_.policy == PolicyMode::Rollout) {
    rollout_priors(p, priors);
  } else if (config_.policy == PolicyMode::Heuristic) {
    float total = 0.0f;
    for (size_t i = 0; i < ne; ++i) {
      const int mv = node->edges[i].move;
      const float h = mv == area ? 0.1f : heuristic_prior(p.board, p.board.from_index(mv), p.to_move);
      total += priors[i] = std::exp(6.0f * h);
    }
    for (size_t i = 0; i < ne; ++i) priors[i] /= total;
  } else {
    for (size_t i = 0; i < ne; ++i) priors[i] = 1.0f / static_cast<float>(ne);
  }
  const float v_net = p.cached ? p.cached_value : net_value;
  float value;
  if (config_.use_value && config_.use_rollouts)
    value = (1.0f - config_.lambda) * v_net + config_.lambda * p.rollout_value;
  else if (config_.use_rollouts)
    value = p.rollout_value;
  else
    value = v_net;
  if (config_.cache_size > 0 && needs_network() && !p.cached) {
    std::lock_guard<std::mutex> lock(shared_mutex_);
    if (static_cast<int>(cache_.size()) >= config_.cache_size) cache_.clear();
    CacheEntry entry;
    entry.priors.assign(static_cast<size_t>(area + 1), 0.0f);
    for (size_t i = 0; i < ne; ++i) entry.priors[static_cast<size_t>(node->edges[i].move)] = priors[i];
    entry.value = v_net;
    cache_.emplace(p.key, std::move(entry));
  }
  expand(node, priors);
  backup(*p.gs, p, value);
}

void BatchedSearch::backup(GameState& gs, Pending& p, float leaf_value) {
  // leaf_value is for the player to move at the leaf; flip it at every level going up.
  float v = leaf_value;
  for (size_t d = p.nodes.size(); d-- > 0;) {
    Node* node = p.nodes[d];
    node->n += 1;
    node->value_sum += v;
    if (d > 0) {
      Edge* e = p.path[d - 1];
      e->vl -= 1;
      e->n += 1;
      e->w += -v;  // the edge's mover is the opponent of the player to move below it
    }
    v = -v;
  }
  gs.in_flight -= 1;
}

// ---------------------------------------------------------------------------------------
// Root: noise and Gumbel

void BatchedSearch::apply_root_noise(GameState& gs) {
  Node& r = *gs.root;
  if (r.edges.empty()) return;
  std::mt19937_64 gen(gs.rng.next());
  std::gamma_distribution<float> gamma(config_.dirichlet_alpha, 1.0f);
  std::vector<float> noise(r.edges.size());
  float total = 0.0f;
  for (float& x : noise) total += x = gamma(gen);
  if (total <= 0.0f) return;
  const float eps = config_.dirichlet_epsilon;
  for (size_t i = 0; i < r.edges.size(); ++i)
    r.edges[i].prior = (1.0f - eps) * r.edges[i].prior + eps * noise[i] / total;
  gs.noise_applied = true;
}

void BatchedSearch::init_gumbel(GameState& gs) {
  Node& r = *gs.root;
  const size_t ne = r.edges.size();
  gs.gumbel_score.assign(ne, 0.0f);
  for (size_t i = 0; i < ne; ++i) {
    const double u = std::max(gs.rng.uniform(), 1e-12);
    gs.gumbel_score[i] = static_cast<float>(-std::log(-std::log(u))) + r.edges[i].logit;
  }
  std::vector<int> order(ne);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int z) { return gs.gumbel_score[a] > gs.gumbel_score[z]; });
  const size_t m = std::min(ne, static_cast<size_t>(config_.gumbel_considered));
  gs.remaining.assign(order.begin(), order.begin() + static_cast<long>(m));
  gs.budget = std::max(1, gs.target_visits - r.n);
  gs.phases_left = std::max(1, static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<size_t>(m, 2))))));
  int base = 0;
  for (int idx : gs.remaining) base = std::max(base, r.edges[static_cast<size_t>(idx)].n);
  gs.phase_quota = base + std::max(1, gs.budget / (gs.phases_left * static_cast<int>(m)));
  gs.gumbel_ready = true;
}

namespace {
// sigma(q) of the Gumbel paper with c_visit = 50, c_scale = 1 and q mapped to [0, 1].
float gumbel_sigma(float q, int max_n) { return (50.0f + static_cast<float>(max_n)) * 0.5f * (q + 1.0f); }
}  // namespace

int BatchedSearch::gumbel_select(GameState& gs) {
  Node& r = *gs.root;
  if (gs.remaining.empty()) return -1;
  auto completed_q = [&](int idx) {
    const Edge& e = r.edges[static_cast<size_t>(idx)];
    return e.n > 0 ? e.w / static_cast<float>(e.n) : (r.n > 0 ? r.value_sum / static_cast<float>(r.n) : 0.0f);
  };
  bool all_done = true, none_in_flight = true;
  for (int idx : gs.remaining) {
    const Edge& e = r.edges[static_cast<size_t>(idx)];
    if (e.n + e.vl < gs.phase_quota) all_done = false;
    if (e.vl > 0) none_in_flight = false;
  }
  if (all_done && gs.remaining.size() > 1) {
    if (!none_in_flight) return -1;  // wait for this phase's visits to come back
    int max_n = 0;
    for (const Edge& e : r.edges) max_n = std::max(max_n, e.n);
    std::stable_sort(gs.remaining.begin(), gs.remaining.end(), [&](int a, int z) {
      return gs.gumbel_score[a] + gumbel_sigma(completed_q(a), max_n) >
             gs.gumbel_score[z] + gumbel_sigma(completed_q(z), max_n);
    });
    gs.remaining.resize((gs.remaining.size() + 1) / 2);
    gs.phases_left = std::max(1, gs.phases_left - 1);
    int base = 0;
    for (int idx : gs.remaining) base = std::max(base, r.edges[static_cast<size_t>(idx)].n);
    const int per = std::max(1, gs.budget / (std::max(1, gs.phases_left) * static_cast<int>(gs.remaining.size()) + 1));
    gs.phase_quota = gs.remaining.size() == 1 ? (1 << 30) : base + per;
  }
  int best = -1;
  for (int idx : gs.remaining) {
    const Edge& e = r.edges[static_cast<size_t>(idx)];
    if (best < 0) {
      best = idx;
      continue;
    }
    const Edge& b = r.edges[static_cast<size_t>(best)];
    if (e.n + e.vl < b.n + b.vl) best = idx;
  }
  return best;
}

// ---------------------------------------------------------------------------------------
// Moves

int BatchedSearch::best_move(int g) const {
  const GameState& gs = *games_.at(static_cast<size_t>(g));
  const Node& r = *gs.root;
  if (r.edges.empty()) return size_ * size_;
  if (config_.gumbel && gs.gumbel_ready && !gs.remaining.empty()) {
    int max_n = 0;
    for (const Edge& e : r.edges) max_n = std::max(max_n, e.n);
    int best = gs.remaining[0];
    float best_score = -1e30f;
    for (int idx : gs.remaining) {
      const Edge& e = r.edges[static_cast<size_t>(idx)];
      const float q = e.n > 0 ? e.w / static_cast<float>(e.n) : -1.0f;
      const float s = gs.gumbel_score[static_cast<size_t>(idx)] + gumbel_sigma(q, max_n);
      if (s > best_score) {
        best_score = s;
        best = idx;
      }
    }
    return r.edges[static_cast<size_t>(best)].move;
  }
  const Edge* best = &r.edges[0];
  for (const Edge& e : r.edges) {
    if (e.n > best->n || (e.n == best->n && (e.n == 0 ? e.prior > best->prior : e.w / e.n > best->w / best->n)))
      best = &e;
  }
  return best->move;
}

int BatchedSearch::choose_move(GameState& gs) {
  const Node& r = *gs.root;
  const bool sample = gs.game.moves().size() < static_cast<size_t>(std::max(0, config_.temperature_moves)) &&
                      config_.temperature > 0.0f && !config_.gumbel;
  if (!sample) return best_move(gs.index);
  std::vector<double> weights(r.edges.size());
  const bool by_prior = gs.target_visits <= 1;
  for (size_t i = 0; i < r.edges.size(); ++i) {
    const double base = by_prior ? r.edges[i].prior : static_cast<double>(r.edges[i].n);
    weights[i] = std::pow(std::max(base, 0.0), 1.0 / config_.temperature);
  }
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (total <= 0.0) return best_move(gs.index);
  double x = gs.rng.uniform() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    x -= weights[i];
    if (x <= 0.0) return r.edges[i].move;
  }
  return r.edges.back().move;
}

std::vector<RootChild> BatchedSearch::root_children(int g, int pv_length) const {
  const GameState& gs = *games_.at(static_cast<size_t>(g));
  std::vector<RootChild> out;
  for (const Edge& e : gs.root->edges) {
    RootChild c;
    c.move = e.move;
    c.visits = e.n;
    c.q = e.n > 0 ? e.w / static_cast<float>(e.n) : 0.0f;
    c.prior = e.prior;
    c.pv.push_back(e.move);
    const Node* node = e.child.get();
    while (node && node->state == 2 && static_cast<int>(c.pv.size()) < pv_length) {
      const Edge* best = nullptr;
      for (const Edge& x : node->edges)
        if (x.n > 0 && (!best || x.n > best->n)) best = &x;
      if (!best) break;
      c.pv.push_back(best->move);
      node = best->child.get();
    }
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const RootChild& a, const RootChild& z) {
    return a.visits != z.visits ? a.visits > z.visits : a.prior > z.prior;
  });
  return out;
}

void BatchedSearch::record_finished(GameState& gs, int winner, float score, bool resigned) {
  FinishedGame f;
  f.size = size_;
  f.komi = komi_;
  for (const auto& m : gs.game.moves()) f.moves.push_back(m.move);
  f.policy = gs.policy_rows;
  f.full_search = gs.full_flags;
  f.winner = winner;
  f.score = score;
  f.resigned = resigned;
  f.no_resign = gs.no_resign;
  f.would_resign = gs.would_resign;
  std::lock_guard<std::mutex> lock(shared_mutex_);
  finished_.push_back(std::move(f));
}

void BatchedSearch::finish_move(GameState& gs) {
  Node& r = *gs.root;
  const int area = size_ * size_;
  // Training target: the visit distribution (or the priors when there was no search).
  std::vector<float> row(static_cast<size_t>(area + 1), 0.0f);
  float total = 0.0f;
  const bool by_prior = gs.target_visits <= 1;
  for (const Edge& e : r.edges) total += row[static_cast<size_t>(e.move)] = by_prior ? e.prior : static_cast<float>(e.n);
  if (config_.gumbel && !by_prior) {
    // Gumbel's improved policy: softmax(logit + sigma(completed q)).
    int max_n = 0;
    for (const Edge& e : r.edges) max_n = std::max(max_n, e.n);
    const float v = r.n > 0 ? r.value_sum / static_cast<float>(r.n) : 0.0f;
    float mx = -1e30f;
    std::vector<float> s(r.edges.size());
    for (size_t i = 0; i < r.edges.size(); ++i) {
      const Edge& e = r.edges[i];
      const float q = e.n > 0 ? e.w / static_cast<float>(e.n) : v;
      s[i] = e.logit + gumbel_sigma(q, max_n) / (50.0f + static_cast<float>(max_n)) * 2.0f;
      mx = std::max(mx, s[i]);
    }
    std::fill(row.begin(), row.end(), 0.0f);
    total = 0.0f;
    for (size_t i = 0; i < r.edges.size(); ++i) total += row[static_cast<size_t>(r.edges[i].move)] = std::exp(s[i] - mx);
  }
  if (total > 0.0f)
    for (float& x : row) x /= total;
  gs.policy_rows.insert(gs.policy_rows.end(), row.begin(), row.end());
  gs.full_flags.push_back(gs.full_search ? 1 : 0);

  // Resignation.
  float best_q = -1.0f;
  for (const Edge& e : r.edges)
    if (e.n > 0) best_q = std::max(best_q, e.w / static_cast<float>(e.n));
  const Color mover = gs.game.to_move();
  if (config_.resign_threshold >= -1.0f && !by_prior && best_q < config_.resign_threshold) {
    if (gs.no_resign) {
      if (gs.would_resign == 0) gs.would_resign = mover == BLACK ? 1 : -1;
    } else {
      gs.policy_rows.resize(gs.policy_rows.size() - row.size());
      gs.full_flags.pop_back();
      record_finished(gs, mover == BLACK ? -1 : 1, 0.0f, true);
      reset_game(gs);
      return;
    }
  }

  const int move = choose_move(gs);
  if (!advance(gs.index, move)) advance(gs.index, area);  // never expected; passing is always legal
  const int cap = config_.max_moves > 0 ? config_.max_moves : 2 * area;
  if (gs.game.is_over() || static_cast<int>(gs.game.moves().size()) >= cap) {
    const float score = gs.game.area_score();
    record_finished(gs, score > 0 ? 1 : score < 0 ? -1 : 0, score, false);
    reset_game(gs);
    return;
  }
  gs.full_search = config_.fast_visits <= 0 || gs.rng.uniform() < config_.full_search_prob;
  gs.target_visits = gs.full_search ? config_.visits : config_.fast_visits;
}

// ---------------------------------------------------------------------------------------
// The step

int BatchedSearch::gather(int slot_index) {
  if (slot_index < 0 || slot_index > 1) throw std::invalid_argument("slot must be 0 or 1");
  Slot& slot = *slots_[slot_index];
  if (slot.npending > 0) throw std::logic_error("gather() twice on a slot without scatter()");
  const int planes = features_->planes;
  const int area = size_ * size_;
  const int psize = area + 1;
  const bool net = needs_network();
  if (net && (!slot.inputs || !slot.masks || !slot.policy || !slot.values))
    throw std::logic_error("set_buffers() must be called for this slot before gather()");
  if (config_.policy == PolicyMode::Rollout && !rollout_policy_)
    throw std::logic_error("policy 'rollout' needs a rollout policy: call set_rollout_policy() first");
  slot.nbatch = 0;
  std::vector<Pending*> local;  // leaves needing no network: finished inside this call

  for (auto& gsp : games_) {
    GameState& gs = *gsp;
    if (gs.slot != slot_index && games_.size() > 1) continue;
    if (games_.size() == 1 && slot_index != 0) continue;
    if (selfplay_)
      while (gs.active && search_done(gs.index)) finish_move(gs);
    if (!gs.active) continue;
    if (gs.root->state == 2) {
      if (config_.root_noise && !gs.noise_applied && gs.full_search) apply_root_noise(gs);
      if (config_.gumbel && !gs.gumbel_ready) init_gumbel(gs);
    }
    for (int k = 0; k < config_.leaves_per_game; ++k) {
      if (slot.nbatch >= config_.batch_size) break;
      if (gs.root->n + gs.in_flight >= std::max(gs.target_visits, 1) && gs.root->state == 2) break;
      if (slot.npending >= static_cast<int>(slot.pool.size())) slot.pool.push_back(std::make_unique<Pending>());
      Pending& p = *slot.pool[static_cast<size_t>(slot.npending)];
      if (!select_leaf(gs, p)) break;
      gs.in_flight += 1;
      // Terminal: two passes in a row end the game; score it by area.
      if (p.terminal) {
        const float margin = static_cast<float>(p.board.area_difference()) - komi_;
        const float black = margin > 0 ? 1.0f : margin < 0 ? -1.0f : 0.0f;
        backup(gs, p, p.to_move == BLACK ? black : -black);
        std::lock_guard<std::mutex> lock(shared_mutex_);
        ++terminal_hits_;
        continue;
      }
      prepare_leaf(gs, p);
      ++slot.npending;
      if (net && !p.cached) {
        p.batch_index = slot.nbatch++;
        PositionView view;
        view.to_move = p.to_move;
        view.boards[0] = &p.board;
        for (int h = 1; h <= p.history_valid && h < kHistory; ++h) view.boards[h] = &p.history[static_cast<size_t>(h - 1)];
        for (int k = 0; k < kHistory; ++k) view.recent_moves[k] = p.recent_moves[k];
        if (p.leaf == gs.root.get()) view.game = &gs.game;  // superko-aware legality at the root
        float* in = slot.inputs + static_cast<size_t>(p.batch_index) * planes * area;
        features_->write(view, p.symmetry, in);
        float* mask = slot.masks + static_cast<size_t>(p.batch_index) * psize;
        std::fill(mask, mask + psize, 0.0f);
        for (const Edge& e : p.leaf->edges) mask[symmetry_index(e.move, p.symmetry, size_)] = 1.0f;
      } else {
        local.push_back(&p);
      }
    }
  }

  // Rollouts for every leaf that wants one, on the rollout threads.
  std::vector<Pending*> rollouts;
  for (int i = 0; i < slot.npending; ++i)
    if (slot.pool[static_cast<size_t>(i)]->needs_rollout) rollouts.push_back(slot.pool[static_cast<size_t>(i)].get());
  run_rollouts(rollouts);

  // Leaves needing no network are finished now; the rest wait for scatter().
  for (Pending* p : local) finish_leaf(*p, nullptr, 0.0f);
  int kept = 0;
  for (int i = 0; i < slot.npending; ++i) {
    if (slot.pool[static_cast<size_t>(i)]->batch_index >= 0) std::swap(slot.pool[static_cast<size_t>(kept++)], slot.pool[static_cast<size_t>(i)]);
  }
  slot.npending = kept;
  return slot.nbatch;
}

void BatchedSearch::scatter(int slot_index, int n) {
  if (slot_index < 0 || slot_index > 1) throw std::invalid_argument("slot must be 0 or 1");
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
  {
    std::lock_guard<std::mutex> lock(shared_mutex_);
    evaluations_ += slot.nbatch;
  }
  slot.npending = 0;
  slot.nbatch = 0;
  if (selfplay_) {
    for (auto& gsp : games_) {
      GameState& gs = *gsp;
      if ((gs.slot != slot_index && games_.size() > 1) || (games_.size() == 1 && slot_index != 0)) continue;
      while (gs.active && search_done(gs.index)) finish_move(gs);
    }
  }
}

std::vector<FinishedGame> BatchedSearch::pop_finished() {
  std::lock_guard<std::mutex> lock(shared_mutex_);
  std::vector<FinishedGame> out;
  out.swap(finished_);
  return out;
}

}  // namespace tengen
