// Gumbel root (Danihelka et al. 2022): Gumbel-top-k sampling of the root moves, then
// sequential halving of the visit budget over them, and the improved policy that self-play
// trains on. sigma(q) uses c_visit = 50 and c_scale = 1 with q mapped from [-1, 1] to [0, 1].
//
// Thread-safety: a GumbelRoot belongs to one game's search; only the thread running that
// game's slot touches it and the root it reads.
#pragma once

#include <vector>

#include "go/rng.h"
#include "search/tree.h"

namespace tengen {

constexpr float kGumbelCVisit = 50.0f;
constexpr float kGumbelCScale = 1.0f;

// sigma(q) = (c_visit + max_n) * c_scale * (q + 1) / 2, for q in [-1, 1].
inline float gumbel_sigma(float q, int max_n) {
  return (kGumbelCVisit + static_cast<float>(max_n)) * kGumbelCScale * 0.5f * (q + 1.0f);
}

struct GumbelRoot {
  bool ready = false;
  std::vector<float> score;    // g + logit per root edge
  std::vector<int> remaining;  // root edge indices still in the halving
  int phase_quota = 0;         // visits each remaining edge gets in this phase
  int phases_left = 0;
  int budget = 0;              // visits of this search

  // Samples the considered moves for a search up to target_visits root visits.
  void init(const TreeNode& root, int considered, int target_visits, Rng& rng);
  // The root edge to visit next; -1 while this phase's visits are still in flight.
  int select(const TreeNode& root);
  // The remaining edge with the best g + logit + sigma(q): the move Gumbel plays.
  int best_edge(const TreeNode& root) const;
};

// Fills row (size*size + 1, indexed by move) with softmax(logit + sigma(completed q)) over
// the root's edges, unnormalised; returns its sum.
float gumbel_improved_policy(const TreeNode& root, std::vector<float>& row);

}  // namespace tengen
