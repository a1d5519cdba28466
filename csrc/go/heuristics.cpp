// Move heuristics. Thread-safety: see heuristics.h.
#include "go/heuristics.h"

namespace tengen {

double move_heuristic(const Board& b, int p, Color c) {
  const Color o = opponent(c);
  int empty_nbrs = 0;
  bool captures = false, saves = false;
  for (int d = 0; d < 4; ++d) {
    const int n = b.nbr(p, d);
    const Color nc = b.at(n);
    if (nc == EMPTY) {
      ++empty_nbrs;
    } else if (nc == o && b.in_atari(n)) {
      captures = true;
    } else if (nc == c && b.in_atari(n)) {
      saves = true;
    }
  }
  if (captures) return 0.75;
  if (empty_nbrs <= 1) {
    // Liberties after the move, roughly: own empty neighbours plus friendly chains' others.
    int libs = empty_nbrs;
    for (int d = 0; d < 4 && libs < 2; ++d) {
      const int n = b.nbr(p, d);
      if (b.at(n) == c) libs += b.liberties(n, 3) - 1;
    }
    if (libs <= 1) return 0.2;  // self-atari
  }
  if (saves) return 0.65;
  return 0.5;
}

}  // namespace tengen
