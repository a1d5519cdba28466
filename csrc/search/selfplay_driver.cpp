// Self-play driver. Thread-safety: see selfplay_driver.h and batched.h.
#include "search/selfplay_driver.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "search/batched.h"
#include "search/batched_internal.h"
#include "search/gumbel.h"

namespace tengen {

namespace {
// The game-length cap when max_moves is 0: this many moves per board point.
constexpr int kDefaultMovesPerPoint = 2;
}  // namespace

//---- Move choice (thread rule: pure) ----------------------------------------------------

float visit_policy_row(const TreeNode& r, bool by_prior, std::vector<float>& row) {
  float total = 0.0f;
  for (const TreeEdge& e : r.edges) total += row[static_cast<size_t>(e.move)] = by_prior ? e.prior : static_cast<float>(e.n);
  return total;
}

int sample_move(const TreeNode& r, bool by_prior, float temperature, Rng& rng) {
  std::vector<double> weights(r.edges.size());
  for (size_t i = 0; i < r.edges.size(); ++i) {
    const double base = by_prior ? r.edges[i].prior : static_cast<double>(r.edges[i].n);
    weights[i] = std::pow(std::max(base, 0.0), 1.0 / temperature);
  }
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (total <= 0.0) return -1;
  double x = rng.uniform() * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    x -= weights[i];
    if (x <= 0.0) return r.edges[i].move;
  }
  return r.edges.back().move;
}

//---- Games (thread rule: the game's slot thread; finished_mutex_ for shared state) -------

void BatchedSearch::start_selfplay(int total_games) {
  selfplay_ = true;
  total_games_ = total_games;
  games_started_ = 0;
  for (auto& gs : games_) reset_game(*gs);
}

void BatchedSearch::reset_game(GameState& gs) {
  std::lock_guard<std::mutex> lock(finished_mutex_);
  if (games_started_ >= total_games_) {
    gs.active = false;
    return;
  }
  ++games_started_;
  gs.game = Game(size_, search_rules(komi_));
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

void BatchedSearch::finish_moves(GameState& gs) {
  while (gs.active && search_done(gs.index)) finish_move(gs);
}

int BatchedSearch::choose_move(GameState& gs) {
  const bool sample = gs.game.moves().size() < static_cast<size_t>(std::max(0, config_.temperature_moves)) &&
                      config_.temperature > 0.0f && !config_.gumbel;
  if (!sample) return best_move(gs.index);
  const int move = sample_move(*gs.root, gs.target_visits <= 1, config_.temperature, gs.rng);
  return move >= 0 ? move : best_move(gs.index);
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
  if (!resigned) {  // the ownership target (KataGo's auxiliary head): the counted final position
    f.ownership.resize(static_cast<size_t>(size_) * size_);
    gs.game.area_owner_signed(f.ownership.data());
  }
  std::lock_guard<std::mutex> lock(finished_mutex_);
  finished_.push_back(std::move(f));
}

void BatchedSearch::finish_move(GameState& gs) {
  const TreeNode& r = *gs.root;
  const int area = size_ * size_;
  // Training target: the visit distribution (or the priors when there was no search).
  std::vector<float> row(static_cast<size_t>(area + 1), 0.0f);
  const bool by_prior = gs.target_visits <= 1;
  float total = visit_policy_row(r, by_prior, row);
  if (config_.gumbel && !by_prior) total = gumbel_improved_policy(r, row);
  if (total > 0.0f)
    for (float& x : row) x /= total;
  gs.policy_rows.insert(gs.policy_rows.end(), row.begin(), row.end());
  gs.full_flags.push_back(gs.full_search ? 1 : 0);

  // Resignation.
  const float best_q = best_visited_value(r);
  const Color mover = gs.game.to_move();
  if (config_.resign_threshold >= kLowestValue && !by_prior && best_q < config_.resign_threshold) {
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
  const int cap = config_.max_moves > 0 ? config_.max_moves : kDefaultMovesPerPoint * area;
  if (gs.game.is_over() || static_cast<int>(gs.game.moves().size()) >= cap) {
    const float score = gs.game.area_score();
    record_finished(gs, score > 0 ? 1 : score < 0 ? -1 : 0, score, false);
    reset_game(gs);
    return;
  }
  gs.full_search = config_.fast_visits <= 0 || gs.rng.uniform() < config_.full_search_prob;
  gs.target_visits = gs.full_search ? config_.visits : config_.fast_visits;
}

std::vector<FinishedGame> BatchedSearch::pop_finished() {
  std::lock_guard<std::mutex> lock(finished_mutex_);
  std::vector<FinishedGame> out;
  out.swap(finished_);
  return out;
}

}  // namespace tengen
