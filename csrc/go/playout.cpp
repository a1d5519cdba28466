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

namespace {

// A capture or a saving move near the last move, or kPass when there is none.
int tactical_move(const Board& board, Color c, Rng& rng) {
  const int last = board.last_move();
  if (last == kNoPoint) return kPass;
  const Color o = opponent(c);
  int candidates[8];
  int n = 0;
  // The last move's own chain and the chains around it.
  int around[5] = {last, board.nbr(last, 0), board.nbr(last, 1), board.nbr(last, 2), board.nbr(last, 3)};
  for (int p : around) {
    const Color pc = board.at(p);
    if ((pc != BLACK && pc != WHITE) || !board.in_atari(p)) continue;
    const int lib = board.atari_liberty(p);
    if (!board.is_legal(lib, c)) continue;
    if (pc == o) {
      candidates[n++] = lib;  // capture
    } else {
      // Escape only when extending gives the chain room (not a self-atari).
      int libs_after = board.empty_neighbours(lib);
      for (int d = 0; d < 4 && libs_after < 2; ++d) {
        const int q = board.nbr(lib, d);
        if (board.at(q) == c && board.chain_id(q) != board.chain_id(p)) libs_after += board.liberties(q, 3) - 1;
        if (board.at(q) == o && board.in_atari(q)) libs_after += 2;  // escaping by capturing
      }
      if (libs_after >= 2) candidates[n++] = lib;
    }
    if (n >= 8) break;
  }
  return n > 0 ? candidates[rng.below(static_cast<uint32_t>(n))] : kPass;
}

}  // namespace

PlayoutResult tactical_playout(Board& board, Color to_move, Rng& rng) {
  PlayoutResult r;
  const int limit = 3 * board.num_points() + 20;
  int passes = 0;
  Color c = to_move;
  while (passes < 2 && r.moves_played < limit) {
    int p = rng.uniform() < 0.7 ? tactical_move(board, c, rng) : kPass;
    if (p == kPass || (board.is_eye_like(p, c) && board.is_true_eye(p, c))) p = random_move(board, c, rng);
    board.play(p, c);
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
