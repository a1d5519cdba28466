// Candidate moves of a search node: the one rule both searches (UctSearch and BatchedSearch)
// expand with. A candidate is a legal board point that does not fill one of the mover's own
// true eyes and, at the root only (where the Game's full history is known), does not repeat
// an earlier position (superko). Pass is never a candidate here; both searches add it last.
//
// Thread-safety: pure over const inputs; writes only the caller's vector.
#pragma once

#include <vector>

#include "go/board.h"
#include "go/game.h"

namespace tengen {

// Fills `out` (cleared first) with the candidate padded points for `to_move`, sorted ascending
// (which is also dense-index order). superko_game: the root's Game, or nullptr below the root.
void candidate_points(const Board& board, Color to_move, const Game* superko_game, std::vector<int>& out);

}  // namespace tengen
