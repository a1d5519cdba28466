// Rollout policy. Thread-safety: see rollout.h.
#include "go/rollout.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "go/features.h"

namespace tengen {

namespace {

int ring_get(int code, int i) { return (code >> (2 * i)) & 3; }

int rotate90(int code) {
  int out = 0;
  for (int i = 0; i < 8; ++i) out |= ring_get(code, (i + 2) % 8) << (2 * i);
  return out;
}

int mirror(int code) {
  int out = 0;
  for (int i = 0; i < 8; ++i) out |= ring_get(code, (8 - i) % 8) << (2 * i);
  return out;
}

const std::array<int32_t, rollout_ids::kPatternCount>& canonical_table() {
  static const std::array<int32_t, rollout_ids::kPatternCount> table = [] {
    std::array<int32_t, rollout_ids::kPatternCount> t{};
    for (int code = 0; code < rollout_ids::kPatternCount; ++code) {
      int best = code;
      int r = code;
      for (int k = 0; k < 4; ++k) {
        best = std::min({best, r, mirror(r)});
        r = rotate90(r);
      }
      t[code] = best;
    }
    return t;
  }();
  return table;
}

// Active feature ids of candidate p for colour c; returns how many were written.
int candidate_features(const Board& b, int p, Color c, int last, int32_t* f) {
  using namespace rollout_ids;
  const Color o = opponent(c);
  int k = 0;
  // Clockwise from north: N, NE, E, SE, S, SW, W, NW.
  const int ring[8] = {b.nbr(p, 0), b.diag(p, 1), b.nbr(p, 1), b.diag(p, 3),
                       b.nbr(p, 2), b.diag(p, 2), b.nbr(p, 3), b.diag(p, 0)};
  int code = 0;
  for (int i = 0; i < 8; ++i) {
    const Color col = b.at(ring[i]);
    const int v = col == EMPTY ? 0 : col == c ? 1 : col == o ? 2 : 3;
    code |= v << (2 * i);
  }
  f[k++] = kPattern + canonical_table()[code];
  if (last != kNoPoint) {
    const int dx = std::abs(b.x_of(p) - b.x_of(last));
    const int dy = std::abs(b.y_of(p) - b.y_of(last));
    if (dx + dy == 1)
      f[k++] = kResponse;
    else if (dx == 1 && dy == 1)
      f[k++] = kResponse + 1;
    else if ((dx == 2 && dy == 0) || (dx == 0 && dy == 2))
      f[k++] = kResponse + 2;
  }
  const MoveEffect e = analyze_move(b, p, c, 2);  // the flags only ask 0, 1 or 2+
  if (e.captured == 1)
    f[k++] = kCapture;
  else if (e.captured >= 2)
    f[k++] = kCapture + 1;
  bool saves = false, ataris = false;
  for (int d = 0; d < 4; ++d) {
    const int q = b.nbr(p, d);
    if (b.at(q) == c && b.in_atari(q)) saves = true;
    if (b.at(q) == o && !b.in_atari(q) && b.liberties(q, 3) == 2) ataris = true;
  }
  if (saves && e.liberties >= 2) f[k++] = kSave;
  if (e.liberties == 1 && e.captured == 0) f[k++] = kSelfAtari;
  if (ataris && e.liberties >= 1) f[k++] = kAtari;
  const int n = b.size();
  const int x = b.x_of(p), y = b.y_of(p);
  const int line = std::min({x, y, n - 1 - x, n - 1 - y});
  f[k++] = kLine + std::min(line, 3);
  return k;
}

bool is_candidate(const Board& b, int p, Color c) {
  return b.is_legal(p, c) && !(b.is_eye_like(p, c) && b.is_true_eye(p, c));
}

}  // namespace

int canonical_pattern(int code) { return canonical_table()[code & 0xFFFF]; }

int last_move_point(const Game& g) {
  const auto& moves = g.moves();
  if (moves.empty()) return kNoPoint;
  const int p = g.to_point(moves.back().move);
  return p == kPass ? kNoPoint : p;
}

int last_move_point(const PositionView& v) {
  const Board& b = *v.boards[0];
  const int mv = v.recent_moves[0];
  return mv < 0 || mv >= b.num_points() ? kNoPoint : b.from_index(mv);
}

int rollout_features(const Board& b, Color c, int last, int32_t* ids, uint8_t* candidate) {
  const int n2 = b.num_points();
  std::fill(ids, ids + static_cast<size_t>(n2) * kRolloutActive, -1);
  std::fill(candidate, candidate + n2, uint8_t{0});
  int count = 0;
  for (int i = 0; i < n2; ++i) {
    const int p = b.from_index(i);
    if (b.at(p) != EMPTY || !is_candidate(b, p, c)) continue;
    candidate[i] = 1;
    ++count;
    candidate_features(b, p, c, last, ids + static_cast<size_t>(i) * kRolloutActive);
  }
  return count;
}

RolloutPolicy::RolloutPolicy(std::vector<float> weights) : weights_(std::move(weights)) {
  if (static_cast<int>(weights_.size()) != kRolloutFeatures)
    throw std::invalid_argument("rollout policy needs exactly kRolloutFeatures weights");
  canonical_table();  // build the table before threads share it
}

int RolloutPolicy::scores(const Board& b, Color c, int last, float* score, int* points) const {
  int count = 0;
  int32_t f[kRolloutActive];
  for (int j = 0; j < b.num_empty(); ++j) {
    const int p = b.empty_at(j);
    if (!is_candidate(b, p, c)) continue;
    const int k = candidate_features(b, p, c, last, f);
    float s = 0.f;
    for (int i = 0; i < k; ++i) s += weights_[static_cast<size_t>(f[i])];
    score[count] = s;
    points[count++] = p;
  }
  return count;
}

int RolloutPolicy::sample_move(const Board& b, Color c, int last, Rng& rng) const {
  float score[kMaxSize * kMaxSize];
  int points[kMaxSize * kMaxSize];
  const int count = scores(b, c, last, score, points);
  if (count == 0) return kPass;
  const float top = *std::max_element(score, score + count);
  double total = 0;
  for (int i = 0; i < count; ++i) {
    score[i] = std::exp(score[i] - top);
    total += score[i];
  }
  double r = rng.uniform() * total;
  for (int i = 0; i < count; ++i) {
    r -= score[i];
    if (r < 0) return points[i];
  }
  return points[count - 1];
}

int RolloutPolicy::best_move(const Board& b, Color c, int last) const {
  float score[kMaxSize * kMaxSize];
  int points[kMaxSize * kMaxSize];
  const int count = scores(b, c, last, score, points);
  if (count == 0) return kPass;
  return points[std::max_element(score, score + count) - score];
}

int RolloutPolicy::probabilities(const Board& b, Color c, int last, float* out) const {
  float score[kMaxSize * kMaxSize];
  int points[kMaxSize * kMaxSize];
  const int count = scores(b, c, last, score, points);
  std::fill(out, out + b.num_points(), 0.f);
  if (count == 0) return 0;
  const float top = *std::max_element(score, score + count);
  double total = 0;
  for (int i = 0; i < count; ++i) total += std::exp(score[i] - top);
  for (int i = 0; i < count; ++i)
    out[b.to_index(points[i])] = static_cast<float>(std::exp(score[i] - top) / total);
  return count;
}

PlayoutResult RolloutPolicy::playout(Board& board, Color to_move, int last, Rng& rng) const {
  PlayoutResult r;
  const int limit = 3 * board.num_points() + 20;
  int passes = 0;
  Color c = to_move;
  while (passes < 2 && r.moves_played < limit) {
    const int p = sample_move(board, c, r.moves_played == 0 ? last : board.last_move(), rng);
    board.play(p, c);
    ++r.moves_played;
    passes = p == kPass ? passes + 1 : 0;
    c = opponent(c);
  }
  r.area_difference = board.area_difference();
  return r;
}

}  // namespace tengen
