// Board: the Go rules kernel. A padded 1-D array of points, stone chains kept as
// circular linked lists with pseudo-liberty counts (count, sum, sum of squares, so
// "in atari" and "its one liberty" are O(1)), an incremental Zobrist hash and a list of
// empty points for fast random playouts.
//
// Thread-safety: a Board is a plain value. Distinct Boards may be used from distinct
// threads freely; one Board must not be touched by two threads at once. The Zobrist
// table is built once, before main() runs, and is read-only afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "go/rng.h"

namespace tengen {

enum Color : uint8_t { EMPTY = 0, BLACK = 1, WHITE = 2, BORDER = 3 };
inline constexpr Color opponent(Color c) { return Color(3 - c); }

constexpr int kMinSize = 2;
constexpr int kMaxSize = 25;
constexpr int kMaxStride = kMaxSize + 2;
constexpr int kMaxPoints = kMaxStride * kMaxStride;  // padded array length
constexpr int kPass = -1;                              // board-internal pass
constexpr int kNoPoint = 0;                            // a border cell, never a playable point

// Zobrist keys for (colour, padded point).
struct Zobrist {
  uint64_t key[3][kMaxPoints];
  Zobrist();
};
extern const Zobrist kZobrist;

class Board {
 public:
  explicit Board(int size = 9);
  Board(const Board& other) { copy_from(other); }
  Board& operator=(const Board& other) {
    if (this != &other) copy_from(other);
    return *this;
  }

  void clear();
  // Copies only the part of the arrays this board size uses.
  void copy_from(const Board& other);

  int size() const { return size_; }
  int stride() const { return stride_; }
  int num_points() const { return size_ * size_; }
  // Padded point <-> (x, y) with y = 0 the top row.
  int point(int x, int y) const { return (y + 1) * stride_ + (x + 1); }
  int x_of(int p) const { return p % stride_ - 1; }
  int y_of(int p) const { return p / stride_ - 1; }
  // Padded point <-> dense index x + y * size.
  int to_index(int p) const { return x_of(p) + y_of(p) * size_; }
  int from_index(int i) const { return point(i % size_, i / size_); }

  Color at(int p) const { return Color(color_[p]); }
  uint64_t hash() const { return hash_; }
  int ko_point() const { return ko_point_; }
  Color ko_color() const { return ko_color_; }
  int stones(Color c) const { return stone_count_[c]; }
  int captures(Color by) const { return captures_[by]; }
  int num_empty() const { return num_empty_; }
  int empty_at(int i) const { return empty_[i]; }
  int last_move() const { return last_move_; }
  int last_move2() const { return last_move2_; }

  int nbr(int p, int dir) const { return p + delta_[dir]; }  // dir 0..3 orthogonal
  int diag(int p, int dir) const { return p + diag_delta_[dir]; }

  // Chains.
  int chain_id(int p) const { return chain_[p]; }
  int chain_size(int p) const { return chain_size_[chain_[p]]; }
  int next_in_chain(int p) const { return next_[p]; }
  bool in_atari(int p) const;
  int atari_liberty(int p) const;           // valid only when in_atari(p)
  int liberties(int p, int cap = 1 << 30) const;  // exact count (walks the chain), up to cap
  int pseudo_liberties(int p) const { return libs_[chain_[p]]; }

  // Legality under simple ko and (optionally) allowed suicide. Superko is History's job.
  bool is_legal(int p, Color c, bool allow_suicide = false) const;
  bool is_suicide(int p, Color c) const;
  // Plays a move known to be legal (or a pass). Returns the number of stones captured.
  int play(int p, Color c, bool allow_suicide = false);
  // The hash the position would have after c plays p (p legal, no suicide).
  uint64_t hash_after(int p, Color c) const;

  // Neighbour counts kept incrementally: empty neighbours, and c-or-border neighbours.
  int empty_neighbours(int p) const { return nbr_counts_[p] & 0xF; }
  int friendly_or_border_neighbours(int p, Color c) const { return (nbr_counts_[p] >> (4 * c)) & 0xF; }
  // A point whose four neighbours are c (or border).
  bool is_eye_like(int p, Color c) const { return friendly_or_border_neighbours(p, c) == 4; }
  // An eye-like point that is not a false eye.
  bool is_true_eye(int p, Color c) const;

  // Tromp-Taylor area: stones + empty regions reaching only one colour. Black minus white.
  int area_difference() const;
  // Per point owner under Tromp-Taylor (BLACK, WHITE or EMPTY for dame), dense indices.
  void area_owner(uint8_t* out) const;

 private:
  void add_lib(int chain, int lib) {
    libs_[chain] += 1;
    lib_sum_[chain] += lib;
    lib_sumsq_[chain] += lib * lib;
  }
  void remove_lib(int chain, int lib) {
    libs_[chain] -= 1;
    lib_sum_[chain] -= lib;
    lib_sumsq_[chain] -= lib * lib;
  }
  void place_stone(int p, Color c);
  void merge_chains(int keep, int gone);
  int remove_chain(int chain);
  void add_empty(int p);
  // Neighbour-count bookkeeping when point p changes between empty and colour c.
  void count_stone_added(int p, Color c) {
    const uint16_t d = static_cast<uint16_t>((1u << (4 * c)) - 1u);
    for (int i = 0; i < 4; ++i) nbr_counts_[p + delta_[i]] = static_cast<uint16_t>(nbr_counts_[p + delta_[i]] + d);
  }
  void count_stone_removed(int p, Color c) {
    const uint16_t d = static_cast<uint16_t>((1u << (4 * c)) - 1u);
    for (int i = 0; i < 4; ++i) nbr_counts_[p + delta_[i]] = static_cast<uint16_t>(nbr_counts_[p + delta_[i]] - d);
  }
  void remove_empty(int p);

  int size_ = 9;
  int stride_ = 11;
  int delta_[4];
  int diag_delta_[4];
  int area_ = 121;  // padded cells in use
  uint64_t hash_ = 0;
  int ko_point_ = kNoPoint;
  Color ko_color_ = EMPTY;
  int last_move_ = kNoPoint;
  int last_move2_ = kNoPoint;
  int num_empty_ = 0;
  int stone_count_[3] = {0, 0, 0};
  int captures_[3] = {0, 0, 0};

  std::array<uint8_t, kMaxPoints> color_;
  std::array<int16_t, kMaxPoints> chain_;      // representative point of the chain
  std::array<int16_t, kMaxPoints> next_;       // next stone in the circular chain list
  std::array<int16_t, kMaxPoints> chain_size_;  // valid at representatives
  std::array<int32_t, kMaxPoints> libs_;        // pseudo-liberty count
  std::array<int32_t, kMaxPoints> lib_sum_;
  std::array<int64_t, kMaxPoints> lib_sumsq_;
  // Per point, 4 bits each: empty neighbours | black-or-border << 4 | white-or-border << 8.
  std::array<uint16_t, kMaxPoints> nbr_counts_;
  std::array<int16_t, kMaxPoints> empty_;       // list of empty points
  std::array<int16_t, kMaxPoints> empty_pos_;   // index of a point in empty_
};

}  // namespace tengen
