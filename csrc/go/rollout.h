// Rollout policy: AlphaGo's fast policy, a linear softmax over local pattern features of each
// candidate move, evaluated in C++ inside playouts and trained in Python (selfplay/train_rollout).
//
// Candidates are the legal moves of the player to move that do not fill one of its own true
// eyes (the same rule light playouts use). Each candidate has up to kRolloutActive active binary
// features, given as ids into one weight vector of kRolloutFeatures floats:
//   [0, 65536)       3x3 pattern: the 8 neighbours (empty / own / opponent / off-board), reduced
//                    to a canonical id under the 8 board symmetries
//   response (3)     next to the previous move: orthogonal, diagonal, two points straight away
//   capture (2)      captures 1 stone / 2 or more
//   save (1)         extends or captures to save an own chain in atari (2+ liberties afterwards)
//   self-atari (1)   leaves the move's own chain with one liberty (and captures nothing)
//   atari (1)        puts an opponent chain into atari
//   line (4)         distance to the nearest edge: first, second, third, fourth line or more
// A move's probability is softmax(sum of its features' weights) over the candidates.
//
// Thread-safety: RolloutPolicy is immutable after construction and may be shared by any number
// of threads; the free functions write only their caller's buffers and Board/Rng.
#pragma once

#include <cstdint>
#include <vector>

#include "go/board.h"
#include "go/features.h"
#include "go/game.h"
#include "go/playout.h"
#include "go/rng.h"

namespace tengen {

namespace rollout_ids {
constexpr int kPattern = 0;
constexpr int kPatternCount = 65536;
constexpr int kResponse = kPattern + kPatternCount;  // 3
constexpr int kCapture = kResponse + 3;              // 2
constexpr int kSave = kCapture + 2;                  // 1
constexpr int kSelfAtari = kSave + 1;                // 1
constexpr int kAtari = kSelfAtari + 1;               // 1
constexpr int kLine = kAtari + 1;                    // 4
constexpr int kEnd = kLine + 4;
}  // namespace rollout_ids

constexpr int kRolloutFeatures = rollout_ids::kEnd;
constexpr int kRolloutActive = 8;  // ids per candidate, padded with -1

// The canonical id of a raw 3x3 code (2 bits per neighbour, clockwise from north).
int canonical_pattern(int code);

// The previous move of a game as a padded point, for the response features: kNoPoint at the
// start, after a pass and after setup stones (Board::last_move would name the last setup stone).
int last_move_point(const Game& game);
int last_move_point(const PositionView& view);

// Features of every point for colour c, `last` being the previous move (a padded point or
// kNoPoint): ids[point * kRolloutActive + k] (dense point index, -1 padded) and
// candidate[point] = 1 where the point is a candidate. Returns the candidate count.
int rollout_features(const Board& board, Color c, int last, int32_t* ids, uint8_t* candidate);

class RolloutPolicy {
 public:
  explicit RolloutPolicy(std::vector<float> weights);  // kRolloutFeatures weights
  RolloutPolicy(const RolloutPolicy&) = delete;
  RolloutPolicy& operator=(const RolloutPolicy&) = delete;

  // `last` is the previous move (padded point or kNoPoint), as for rollout_features.
  // A move for c sampled from the policy (temperature 1), or kPass when there is no candidate.
  int sample_move(const Board& board, Color c, int last, Rng& rng) const;
  // The most probable candidate, or kPass.
  int best_move(const Board& board, Color c, int last) const;
  // Probabilities over dense points (n*n entries, zero off candidates). Returns candidates.
  int probabilities(const Board& board, Color c, int last, float* out) const;
  // Plays the policy against itself until two passes (or a move limit), in place; `last` is
  // the move before the first one (later moves use Board::last_move).
  PlayoutResult playout(Board& board, Color to_move, int last, Rng& rng) const;

  const std::vector<float>& weights() const { return weights_; }

 private:
  int scores(const Board& board, Color c, int last, float* score, int* points) const;
  std::vector<float> weights_;
};

}  // namespace tengen
