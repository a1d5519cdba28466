// Game: a Board plus everything a game needs around it: whose turn, komi, rules options
// (positional superko, suicide), move history with undo, pass counting, area scoring and
// a Monte-Carlo dead-stone estimate for scoring games that ended before being played out.
// Moves at this level are dense indices: x + y * size (y = 0 the top row), size*size = pass.
//
// Thread-safety: a Game is a plain value; const methods may run concurrently with each
// other, never with a non-const method on the same Game.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "go/board.h"

namespace tengen {

struct Rules {
  float komi = 7.5f;
  bool superko = true;        // positional superko
  bool allow_suicide = false;  // Tromp-Taylor allows multi-stone suicide
};

struct MoveRecord {
  Color color;
  int move;  // dense index, pass = size*size
};

class Game {
 public:
  explicit Game(int size = 9, Rules rules = Rules{});

  int size() const { return board_.size(); }
  int pass_move() const { return board_.num_points(); }
  const Board& board() const { return board_; }
  const Rules& rules() const { return rules_; }
  void set_komi(float komi) { rules_.komi = komi; }
  Color to_move() const { return to_move_; }
  void set_to_move(Color c) { to_move_ = c; }
  int consecutive_passes() const { return passes_; }
  bool is_over() const { return passes_ >= 2; }
  const std::vector<MoveRecord>& moves() const { return moves_; }
  // Earlier positions kept for undo: one per move played since the game (or its setup) began.
  int history_length() const { return static_cast<int>(undo_stack_.size()); }
  // The board as it stood k moves ago (k = 0: now); requires 0 <= k <= history_length().
  const Board& board_ago(int k) const {
    return k == 0 ? board_ : undo_stack_[undo_stack_.size() - static_cast<std::size_t>(k)].board;
  }
  // The board k moves ago (k = 0: now), or nullptr past the start of the recorded history.
  const Board* history_board(int k) const {
    if (k < 0 || k > history_length()) return nullptr;
    return &board_ago(k);
  }
  int num_setup_stones() const { return setup_stones_; }

  // Dense move <-> padded point (pass <-> kPass).
  int to_point(int move) const { return move == pass_move() ? kPass : board_.from_index(move); }
  int to_move_index(int point) const { return point == kPass ? pass_move() : board_.to_index(point); }

  // Why a move is illegal, or nullptr when it is legal.
  const char* illegal_reason(int move, Color c) const;
  bool is_legal(int move, Color c) const { return illegal_reason(move, c) == nullptr; }
  bool repeats_position(int point, Color c) const;  // superko test for a board-legal move
  // Plays a move; returns false (and changes nothing) if it is illegal.
  bool play(int move, Color c);
  bool undo();
  void clear();
  // Handicap / setup stone: no capture, no move recorded, black to move afterwards unchanged.
  bool place_setup_stone(int move, Color c);

  // Black minus white minus komi, Tromp-Taylor area on the board as it stands.
  float area_score() const;
  // Tromp-Taylor owner of each point on the board as it stands: +1 black, -1 white, 0 neither.
  void area_owner_signed(int8_t* out) const;
  // Mean final owner of each point over `playouts` light playouts: +1 black, -1 white.
  void ownership(int playouts, uint64_t seed, float* out) const;
  // Dead stones (1) by the ownership estimate; 0 elsewhere.
  void dead_stones(int playouts, uint64_t seed, uint8_t* dead) const;
  // Dead stones (1) by a given ownership estimate (+1 black, -1 white per dense point): a chain
  // is dead when its stones' mean ownership favours the opponent.
  void dead_from_ownership(const float* own, uint8_t* dead) const;
  // Area score after removing the estimated dead stones, black minus white minus komi.
  float final_score(int playouts, uint64_t seed) const;
  // Area score with the given `dead` stones removed, black minus white minus komi.
  float score_without(const uint8_t* dead) const;
  // Area owner per point (BLACK/WHITE/EMPTY) with `dead` stones removed.
  void owner_with_dead(const uint8_t* dead, uint8_t* owner) const;

 private:
  void remember_position();
  void forget_position();

  Board board_;
  Rules rules_;
  Color to_move_ = BLACK;
  int passes_ = 0;
  int setup_stones_ = 0;
  std::vector<MoveRecord> moves_;
  struct Snapshot {
    Board board;
    Color to_move;
    int passes;
  };
  std::vector<Snapshot> undo_stack_;
  std::vector<uint64_t> position_hashes_;
  std::unordered_map<uint64_t, int> seen_;
};

}  // namespace tengen
