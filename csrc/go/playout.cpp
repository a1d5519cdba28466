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
    // An empty neighbour means legal (the ko point never has one) and not an eye.
    if (board.empty_neighbours(p) > 0) return p;
    if (board.is_true_eye(p, c)) continue;
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
  r.area_difference = playout_area_difference(board);
  return r;
}

int playout_area_difference(const Board& board) {
  // Fast path: when every empty point is enclosed by stones/border, each is owned by the
  // colour surrounding it (or nobody). Larger empty regions need the flood fill.
  int diff = board.stones(BLACK) - board.stones(WHITE);
  for (int i = 0; i < board.num_empty(); ++i) {
    const int p = board.empty_at(i);
    if (board.empty_neighbours(p) > 0) return board.area_difference();
    if (board.is_eye_like(p, BLACK))
      ++diff;
    else if (board.is_eye_like(p, WHITE))
      --diff;
  }
  return diff;
}

}  // namespace tengen
