// Light random playouts. Thread-safety: see playout.h.
#include "go/playout.h"

namespace tengen {

int random_move(const Board& board, Color c, Rng& rng) {
  const int n = board.num_empty();
  if (n == 0) return kPass;
  const int start = static_cast<int>(rng.below(static_cast<uint32_t>(n)));
  for (int i = 0; i < n; ++i) {
    int j = start + i;
    if (j >= n) j -= n;
    const int p = board.empty_at(j);
    if (board.is_eye_like(p, c) && board.is_true_eye(p, c)) continue;
    if (board.is_legal(p, c)) return p;
  }
  return kPass;
}

PlayoutResult light_playout(Board& board, Color to_move, Rng& rng, int16_t* moves, int max_record) {
  PlayoutResult r;
  const int limit = 3 * board.num_points() + 20;
  int passes = 0;
  Color c = to_move;
  while (passes < 2 && r.moves_played < limit) {
    const int p = random_move(board, c, rng);
    board.play(p, c);
    if (moves && r.moves_played < max_record) moves[r.moves_played] = static_cast<int16_t>(p);
    ++r.moves_played;
    passes = p == kPass ? passes + 1 : 0;
    c = opponent(c);
  }
  r.area_difference = board.area_difference();
  return r;
}

}  // namespace tengen
