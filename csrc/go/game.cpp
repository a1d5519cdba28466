// Game implementation. Thread-safety: see game.h.
#include "go/game.h"

#include <array>
#include <cstddef>

#include "go/playout.h"

namespace tengen {

Game::Game(int size, Rules rules) : board_(size), rules_(rules) { clear(); }

void Game::clear() {
  board_.clear();
  to_move_ = BLACK;
  passes_ = 0;
  setup_stones_ = 0;
  moves_.clear();
  undo_stack_.clear();
  position_hashes_.clear();
  seen_.clear();
  remember_position();
}

void Game::remember_position() {
  position_hashes_.push_back(board_.hash());
  seen_[board_.hash()] += 1;
}

void Game::forget_position() {
  const uint64_t h = position_hashes_.back();
  position_hashes_.pop_back();
  auto it = seen_.find(h);
  if (it != seen_.end() && --it->second == 0) seen_.erase(it);
}

bool Game::repeats_position(int point, Color c) const {
  if (!rules_.superko || point == kPass) return false;
  if (board_.is_suicide(point, c)) {
    // A suicide (when allowed) removes the stone's own chain; simulate it.
    Board copy(board_);
    copy.play(point, c, true);
    return seen_.count(copy.hash()) > 0;
  }
  return seen_.count(board_.hash_after(point, c)) > 0;
}

const char* Game::illegal_reason(int move, Color c) const {
  if (c != BLACK && c != WHITE) return "bad color";
  if (move == pass_move()) return nullptr;
  if (move < 0 || move > pass_move()) return "off board";
  const int p = board_.from_index(move);
  if (board_.at(p) != EMPTY) return "occupied";
  if (p == board_.ko_point() && c == board_.ko_color()) return "ko";
  if (!rules_.allow_suicide && board_.is_suicide(p, c)) return "suicide";
  if (repeats_position(p, c)) return "superko";
  return nullptr;
}

bool Game::play(int move, Color c) {
  if (!is_legal(move, c)) return false;
  undo_stack_.push_back(Snapshot{board_, to_move_, passes_});
  const int p = to_point(move);
  board_.play(p, c, rules_.allow_suicide);
  passes_ = p == kPass ? passes_ + 1 : 0;
  to_move_ = opponent(c);
  moves_.push_back(MoveRecord{c, move});
  remember_position();
  return true;
}

bool Game::undo() {
  if (moves_.empty() || undo_stack_.empty()) return false;
  const Snapshot& s = undo_stack_.back();
  board_ = s.board;
  to_move_ = s.to_move;
  passes_ = s.passes;
  undo_stack_.pop_back();
  moves_.pop_back();
  forget_position();
  return true;
}

bool Game::place_setup_stone(int move, Color c) {
  if (move < 0 || move >= pass_move()) return false;
  const int p = board_.from_index(move);
  if (board_.at(p) != EMPTY || board_.is_suicide(p, c)) return false;
  // A setup stone must not capture.
  for (int d = 0; d < 4; ++d) {
    const int n = board_.nbr(p, d);
    if (board_.at(n) == opponent(c) && board_.in_atari(n)) return false;
  }
  board_.play(p, c);
  ++setup_stones_;
  // Setup changes the position the game started from: history restarts here.
  undo_stack_.clear();
  moves_.clear();
  position_hashes_.clear();
  seen_.clear();
  remember_position();
  return true;
}

float Game::area_score() const { return static_cast<float>(board_.area_difference()) - rules_.komi; }

void Game::area_owner_signed(int8_t* out) const {
  const int n = board_.num_points();
  std::vector<uint8_t> owner(static_cast<std::size_t>(n));
  board_.area_owner(owner.data());
  for (int j = 0; j < n; ++j) out[j] = owner[j] == BLACK ? 1 : owner[j] == WHITE ? -1 : 0;
}

void Game::ownership(int playouts, uint64_t seed, float* out) const {
  const int n = board_.num_points();
  std::vector<int> sum(static_cast<std::size_t>(n), 0);
  std::vector<uint8_t> owner(static_cast<std::size_t>(n));
  Rng rng(seed);
  Board b(board_.size());
  for (int i = 0; i < playouts; ++i) {
    b = board_;
    tactical_playout(b, to_move_, rng);
    b.area_owner(owner.data());
    for (int j = 0; j < n; ++j) sum[j] += owner[j] == BLACK ? 1 : owner[j] == WHITE ? -1 : 0;
  }
  for (int j = 0; j < n; ++j) out[j] = playouts > 0 ? static_cast<float>(sum[j]) / playouts : 0.f;
}

void Game::dead_stones(int playouts, uint64_t seed, uint8_t* dead) const {
  const int n = board_.num_points();
  std::vector<float> own(static_cast<std::size_t>(n));
  ownership(playouts, seed, own.data());
  dead_from_ownership(own.data(), dead);
}

void Game::dead_from_ownership(const float* own, uint8_t* dead) const {
  const int n = board_.num_points();
  // Decide per chain (mean ownership of its stones), so a chain is all dead or all alive.
  for (int j = 0; j < n; ++j) dead[j] = 0;
  for (int j = 0; j < n; ++j) {
    const int p = board_.from_index(j);
    const Color c = board_.at(p);
    if ((c != BLACK && c != WHITE) || board_.chain_id(p) != p) continue;
    float total = 0.f;
    int count = 0;
    int s = p;
    do {
      total += own[board_.to_index(s)];
      ++count;
      s = board_.next_in_chain(s);
    } while (s != p);
    const float mine = (c == BLACK ? total : -total) / count;
    if (mine < 0.0f) {  // the opponent owns it more often than not
      s = p;
      do {
        dead[board_.to_index(s)] = 1;
        s = board_.next_in_chain(s);
      } while (s != p);
    }
  }
}

float Game::score_without(const uint8_t* dead) const {
  const int n = board_.num_points();
  std::vector<uint8_t> owner(static_cast<std::size_t>(n));
  owner_with_dead(dead, owner.data());
  int diff = 0;
  for (int j = 0; j < n; ++j) diff += owner[j] == BLACK ? 1 : owner[j] == WHITE ? -1 : 0;
  return static_cast<float>(diff) - rules_.komi;
}

void Game::owner_with_dead(const uint8_t* dead, uint8_t* owner) const {
  // Remove the dead stones on a copy of the board, then score by area.
  Board b(board_.size());
  for (int j = 0; j < board_.num_points(); ++j) {
    const int p = board_.from_index(j);
    const Color c = board_.at(p);
    if ((c == BLACK || c == WHITE) && !dead[j]) b.play(p, c, true);
  }
  b.area_owner(owner);
}

float Game::final_score(int playouts, uint64_t seed) const {
  std::vector<uint8_t> dead(static_cast<std::size_t>(board_.num_points()));
  dead_stones(playouts, seed, dead.data());
  return score_without(dead.data());
}

}  // namespace tengen
