// Board implementation: stone placement, chain merging, captures, legality, area.
// Thread-safety: see board.h.
#include "go/board.h"

#include <cstring>
#include <stdexcept>

namespace tengen {

Zobrist::Zobrist() {
  Rng rng(0x7E46E11ULL);
  for (auto& row : key)
    for (auto& k : row) k = rng.next();
}
const Zobrist kZobrist;

Board::Board(int size) {
  if (size < kMinSize || size > kMaxSize) throw std::invalid_argument("unacceptable size");
  size_ = size;
  stride_ = size + 2;
  area_ = stride_ * stride_;
  delta_[0] = -stride_;
  delta_[1] = 1;
  delta_[2] = stride_;
  delta_[3] = -1;
  diag_delta_[0] = -stride_ - 1;
  diag_delta_[1] = -stride_ + 1;
  diag_delta_[2] = stride_ - 1;
  diag_delta_[3] = stride_ + 1;
  clear();
}

void Board::clear() {
  hash_ = 0;
  ko_point_ = kNoPoint;
  ko_color_ = EMPTY;
  last_move_ = last_move2_ = kNoPoint;
  num_empty_ = 0;
  stone_count_[0] = stone_count_[1] = stone_count_[2] = 0;
  captures_[0] = captures_[1] = captures_[2] = 0;
  for (int p = 0; p < area_; ++p) {
    color_[p] = BORDER;
    chain_[p] = 0;
    next_[p] = static_cast<int16_t>(p);
    chain_size_[p] = 0;
    libs_[p] = lib_sum_[p] = 0;
    lib_sumsq_[p] = 0;
    empty_pos_[p] = -1;
  }
  for (int y = 0; y < size_; ++y)
    for (int x = 0; x < size_; ++x) {
      const int p = point(x, y);
      color_[p] = EMPTY;
      add_empty(p);
    }
  // Border cells get a harmless count (4 empty) that stone updates can move without wrapping.
  for (int p = 0; p < area_; ++p) {
    if (color_[p] == BORDER) {
      nbr_counts_[p] = 4;
      continue;
    }
    int empty = 0, border = 0;
    for (int d = 0; d < 4; ++d) (color_[p + delta_[d]] == BORDER ? border : empty) += 1;
    nbr_counts_[p] = static_cast<uint16_t>(empty | (border << 4) | (border << 8));
  }
}

void Board::copy_from(const Board& o) {
  size_ = o.size_;
  stride_ = o.stride_;
  area_ = o.area_;
  std::memcpy(delta_, o.delta_, sizeof(delta_));
  std::memcpy(diag_delta_, o.diag_delta_, sizeof(diag_delta_));
  hash_ = o.hash_;
  ko_point_ = o.ko_point_;
  ko_color_ = o.ko_color_;
  last_move_ = o.last_move_;
  last_move2_ = o.last_move2_;
  num_empty_ = o.num_empty_;
  std::memcpy(stone_count_, o.stone_count_, sizeof(stone_count_));
  std::memcpy(captures_, o.captures_, sizeof(captures_));
  const size_t n = static_cast<size_t>(area_);
  std::memcpy(color_.data(), o.color_.data(), n * sizeof(color_[0]));
  std::memcpy(chain_.data(), o.chain_.data(), n * sizeof(chain_[0]));
  std::memcpy(next_.data(), o.next_.data(), n * sizeof(next_[0]));
  std::memcpy(chain_size_.data(), o.chain_size_.data(), n * sizeof(chain_size_[0]));
  std::memcpy(libs_.data(), o.libs_.data(), n * sizeof(libs_[0]));
  std::memcpy(lib_sum_.data(), o.lib_sum_.data(), n * sizeof(lib_sum_[0]));
  std::memcpy(lib_sumsq_.data(), o.lib_sumsq_.data(), n * sizeof(lib_sumsq_[0]));
  std::memcpy(nbr_counts_.data(), o.nbr_counts_.data(), n * sizeof(nbr_counts_[0]));
  std::memcpy(empty_.data(), o.empty_.data(), static_cast<size_t>(num_empty_) * sizeof(empty_[0]));
  std::memcpy(empty_pos_.data(), o.empty_pos_.data(), n * sizeof(empty_pos_[0]));
}

void Board::add_empty(int p) {
  empty_pos_[p] = static_cast<int16_t>(num_empty_);
  empty_[num_empty_++] = static_cast<int16_t>(p);
}

void Board::remove_empty(int p) {
  const int i = empty_pos_[p];
  const int last = empty_[--num_empty_];
  empty_[i] = static_cast<int16_t>(last);
  empty_pos_[last] = static_cast<int16_t>(i);
  empty_pos_[p] = -1;
}

bool Board::in_atari(int p) const {
  const int c = chain_[p];
  const int64_t n = libs_[c];
  const int64_t s = lib_sum_[c];
  return n > 0 && n * lib_sumsq_[c] == s * s;
}

int Board::atari_liberty(int p) const {
  const int c = chain_[p];
  return lib_sum_[c] / libs_[c];
}

int Board::liberties(int p, int cap) const {
  // Exact count: mark each liberty once. Small stack buffer of seen points.
  int16_t seen[kMaxPoints];
  int nseen = 0;
  int s = p;
  do {
    for (int d = 0; d < 4; ++d) {
      const int n = s + delta_[d];
      if (color_[n] != EMPTY) continue;
      bool dup = false;
      for (int i = 0; i < nseen; ++i)
        if (seen[i] == n) {
          dup = true;
          break;
        }
      if (!dup) {
        seen[nseen++] = static_cast<int16_t>(n);
        if (nseen >= cap) return nseen;
      }
    }
    s = next_[s];
  } while (s != p);
  return nseen;
}

bool Board::is_suicide(int p, Color c) const {
  if (empty_neighbours(p) > 0) return false;
  const Color o = opponent(c);
  for (int d = 0; d < 4; ++d) {
    const int n = p + delta_[d];
    const uint8_t nc = color_[n];
    if (nc == EMPTY) return false;
    if (nc == c) {
      if (!in_atari(n)) return false;  // the friendly chain has a liberty besides p
    } else if (nc == o) {
      if (in_atari(n)) return false;  // captures
    }
  }
  return true;
}

bool Board::is_legal(int p, Color c, bool allow_suicide) const {
  if (p == kPass) return true;
  if (p <= 0 || p >= area_ || color_[p] != EMPTY) return false;
  if (p == ko_point_ && c == ko_color_) return false;
  if (!allow_suicide && is_suicide(p, c)) return false;
  return true;
}

void Board::place_stone(int p, Color c) {
  color_[p] = c;
  chain_[p] = static_cast<int16_t>(p);
  next_[p] = static_cast<int16_t>(p);
  chain_size_[p] = 1;
  libs_[p] = lib_sum_[p] = 0;
  lib_sumsq_[p] = 0;
  remove_empty(p);
  count_stone_added(p, c);
  hash_ ^= kZobrist.key[c][p];
  stone_count_[c] += 1;
}

void Board::merge_chains(int keep, int gone) {
  // Relabel the stones of `gone`, then splice the two circular lists.
  int s = gone;
  do {
    chain_[s] = static_cast<int16_t>(keep);
    s = next_[s];
  } while (s != gone);
  const int16_t tmp = next_[keep];
  next_[keep] = next_[gone];
  next_[gone] = tmp;
  chain_size_[keep] = static_cast<int16_t>(chain_size_[keep] + chain_size_[gone]);
  libs_[keep] += libs_[gone];
  lib_sum_[keep] += lib_sum_[gone];
  lib_sumsq_[keep] += lib_sumsq_[gone];
}

int Board::remove_chain(int chain) {
  const Color c = Color(color_[chain]);
  int count = 0;
  int s = chain;
  do {
    color_[s] = EMPTY;
    count_stone_removed(s, c);
    hash_ ^= kZobrist.key[c][s];
    add_empty(s);
    ++count;
    s = next_[s];
  } while (s != chain);
  // Second pass: every stone next to a removed point gains it as a liberty.
  s = chain;
  do {
    const int following = next_[s];
    for (int d = 0; d < 4; ++d) {
      const int n = s + delta_[d];
      const uint8_t nc = color_[n];
      if (nc == BLACK || nc == WHITE) add_lib(chain_[n], s);
    }
    next_[s] = static_cast<int16_t>(s);
    s = following;
  } while (s != chain);
  stone_count_[c] -= count;
  return count;
}

int Board::play(int p, Color c, bool allow_suicide) {
  last_move2_ = last_move_;
  last_move_ = p == kPass ? kNoPoint : p;
  ko_point_ = kNoPoint;
  ko_color_ = EMPTY;
  if (p == kPass) return 0;

  const Color o = opponent(c);
  place_stone(p, c);
  for (int d = 0; d < 4; ++d) {
    const int n = p + delta_[d];
    if (color_[n] == EMPTY) add_lib(p, n);
  }
  int captured = 0;
  int captured_point = kNoPoint;
  for (int d = 0; d < 4; ++d) {
    const int n = p + delta_[d];
    const uint8_t nc = color_[n];
    if (nc == c) {
      const int other = chain_[n];
      remove_lib(other, p);
      const int mine = chain_[p];
      if (other != mine) {
        if (chain_size_[other] >= chain_size_[mine])
          merge_chains(other, mine);
        else
          merge_chains(mine, other);
      }
    } else if (nc == o) {
      const int other = chain_[n];
      remove_lib(other, p);
      if (libs_[other] == 0) {
        captured_point = other;
        captured += remove_chain(other);
      }
    }
  }
  captures_[c] += captured;
  const int mine = chain_[p];
  if (libs_[mine] == 0) {
    // Suicide (only reached when allowed): the whole chain goes.
    (void)allow_suicide;
    const int lost = remove_chain(mine);
    captures_[o] += lost;
    return captured;
  }
  if (captured == 1 && chain_size_[mine] == 1 && libs_[mine] == 1) {
    ko_point_ = captured_point;
    ko_color_ = o;
  }
  return captured;
}

uint64_t Board::hash_after(int p, Color c) const {
  if (p == kPass) return hash_;
  uint64_t h = hash_ ^ kZobrist.key[c][p];
  const Color o = opponent(c);
  int done[4];
  int ndone = 0;
  for (int d = 0; d < 4; ++d) {
    const int n = p + delta_[d];
    if (color_[n] != o || !in_atari(n)) continue;
    const int ch = chain_[n];
    bool seen = false;
    for (int i = 0; i < ndone; ++i) seen |= done[i] == ch;
    if (seen) continue;
    done[ndone++] = ch;
    int s = ch;
    do {
      h ^= kZobrist.key[o][s];
      s = next_[s];
    } while (s != ch);
  }
  return h;
}

bool Board::is_true_eye(int p, Color c) const {
  if (!is_eye_like(p, c)) return false;
  const Color o = opponent(c);
  int bad = 0;
  int edge = 0;
  for (int d = 0; d < 4; ++d) {
    const uint8_t dc = color_[p + diag_delta_[d]];
    if (dc == o)
      ++bad;
    else if (dc == BORDER)
      edge = 1;
  }
  return bad + edge < 2;
}

void Board::area_owner(uint8_t* out) const {
  // Flood fill each empty region and record which colours it touches.
  int16_t region[kMaxPoints];
  int16_t stack[kMaxPoints];
  std::array<int8_t, kMaxPoints> visited{};
  for (int y = 0; y < size_; ++y)
    for (int x = 0; x < size_; ++x) {
      const int p = point(x, y);
      const int idx = x + y * size_;
      if (color_[p] == BLACK || color_[p] == WHITE) {
        out[idx] = color_[p];
        continue;
      }
      if (visited[p]) continue;
      int nregion = 0, top = 0, touches = 0;
      stack[top++] = static_cast<int16_t>(p);
      visited[p] = 1;
      while (top > 0) {
        const int q = stack[--top];
        region[nregion++] = static_cast<int16_t>(q);
        for (int d = 0; d < 4; ++d) {
          const int n = q + delta_[d];
          const uint8_t nc = color_[n];
          if (nc == EMPTY) {
            if (!visited[n]) {
              visited[n] = 1;
              stack[top++] = static_cast<int16_t>(n);
            }
          } else if (nc == BLACK || nc == WHITE) {
            touches |= nc;
          }
        }
      }
      const uint8_t owner = (touches == BLACK || touches == WHITE) ? static_cast<uint8_t>(touches) : uint8_t{EMPTY};
      for (int i = 0; i < nregion; ++i) out[to_index(region[i])] = owner;
    }
}

int Board::area_difference() const {
  uint8_t owner[kMaxSize * kMaxSize];
  area_owner(owner);
  int diff = 0;
  for (int i = 0; i < size_ * size_; ++i) diff += owner[i] == BLACK ? 1 : owner[i] == WHITE ? -1 : 0;
  return diff;
}

}  // namespace tengen
