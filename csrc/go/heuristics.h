// Move heuristics shared by the searches: a cheap prior for a candidate move (captures
// good, self-ataris bad, saving an atari'd chain good). Not a learned policy.
//
// Thread-safety: pure functions of a const Board.
#pragma once

#include "go/board.h"

namespace tengen {

// A winrate-like prior in [0, 1] for c playing the empty point p (0.5 = neutral).
double move_heuristic(const Board& b, int p, Color c);
// The prior both searches give a pass instead (a pass is rarely good before the end).
constexpr double kPassHeuristic = 0.1;

}  // namespace tengen
