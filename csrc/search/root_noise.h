// Root noise for self-play exploration (AlphaZero): the root priors become
// (1 - epsilon) * prior + epsilon * Dirichlet(alpha) noise.
//
// Thread-safety: touches only the given root and Rng, which belong to one game's search.
#pragma once

#include "go/rng.h"
#include "search/tree.h"

namespace tengen {

// Mixes Dirichlet(alpha) noise into the root's priors; false (nothing changed) when the root
// has no edges or the draw is degenerate. Draws one seed from rng when the root has edges.
bool apply_root_noise(TreeNode& root, Rng& rng, float alpha, float epsilon);

}  // namespace tengen
