// Candidate moves. Thread-safety: see candidates.h.
#include "search/candidates.h"

#include <algorithm>

namespace tengen {

void candidate_points(const Board& board, Color to_move, const Game* superko_game, std::vector<int>& out) {
  out.clear();
  for (int i = 0; i < board.num_empty(); ++i) {
    const int p = board.empty_at(i);
    if (!board.is_legal(p, to_move)) continue;
    if (board.is_eye_like(p, to_move) && board.is_true_eye(p, to_move)) continue;
    if (superko_game && superko_game->repeats_position(p, to_move)) continue;
    out.push_back(p);
  }
  std::sort(out.begin(), out.end());  // deterministic order
}

}  // namespace tengen
