// Light random playouts: uniformly random legal moves that do not fill the mover's own
// eye, played until both sides pass, then scored by Tromp-Taylor area.
//
// Thread-safety: free functions on caller-owned Board and Rng; safe on distinct objects.
#pragma once

#include <cstdint>

#include "go/board.h"

namespace tengen {

// A random legal move for c that does not fill one of c's own eyes, or kPass if none.
int random_move(const Board& board, Color c, Rng& rng);

// Plays a light playout in place. Moves played are appended to `moves` (padded points,
// kPass for passes) when it is not null, at most `max_record` of them. Returns the final
// area difference (black minus white, komi not included).
struct PlayoutResult {
  int area_difference = 0;
  int moves_played = 0;
};
PlayoutResult light_playout(Board& board, Color to_move, Rng& rng, int16_t* moves = nullptr,
                            int max_record = 0);

// Tromp-Taylor area difference (black minus white), fast when the position is played out.
int playout_area_difference(const Board& board);

}  // namespace tengen
