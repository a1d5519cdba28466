// Self-play driver of the batched search: once a game's search is done, record the training
// target (visit distribution, or Gumbel's improved policy), decide resignation (with the
// no-resign fraction that measures false positives), choose the move (temperature sampling
// for the opening moves), play it, and end games into the finished list. The driver's loop
// is BatchedSearch's (selfplay_driver.cpp); this header holds its pure move-choice pieces.
//
// Thread-safety: the functions here are pure over the given root and Rng, which belong to one
// game's search; BatchedSearch's driver runs on the thread of that game's slot and locks
// finished_mutex_ for the finished-games list and the game counter.
#pragma once

#include <vector>

#include "go/rng.h"
#include "search/tree.h"

namespace tengen {

// A resign_threshold below this never resigns (values live in [-1, 1]).
constexpr float kLowestValue = -1.0f;

// Fills row (size*size + 1, indexed by move) with each edge's prior (by_prior: there was no
// search) or visit count; returns the sum.
float visit_policy_row(const TreeNode& root, bool by_prior, std::vector<float>& row);
// Samples a root move with probability proportional to (visits or prior)^(1 / temperature);
// -1 when every weight is zero.
int sample_move(const TreeNode& root, bool by_prior, float temperature, Rng& rng);

}  // namespace tengen
