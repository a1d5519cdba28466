// Network input features. Thread-safety: see features.h.
#include "go/features.h"

#include "go/feature_sets.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <numeric>
#include <thread>
#include <vector>

namespace tengen {

int symmetry_index(int index, int sym, int size) {
  if (index >= size * size || index < 0) return index;
  int x = index % size;
  int y = index / size;
  if (sym & 4) std::swap(x, y);
  if (sym & 1) x = size - 1 - x;
  if (sym & 2) y = size - 1 - y;
  return x + y * size;
}

int inverse_symmetry(int sym) {
  // Transpose-then-mirror-x undoes as transpose-then-mirror-y (and the other way round).
  if (!(sym & 4)) return sym;
  return 4 | ((sym & 1) << 1) | ((sym & 2) >> 1);
}

MoveEffect analyze_move(const Board& b, int p, Color c, int cap) {
  MoveEffect e;
  const Color o = opponent(c);
  int caps[4], friends[4];
  int ncaps = 0, nfriends = 0;
  for (int d = 0; d < 4; ++d) {
    const int q = b.nbr(p, d);
    const Color col = b.at(q);
    if (col != o && col != c) continue;
    const int ch = b.chain_id(q);
    if (col == o) {
      if (!b.in_atari(q) || std::find(caps, caps + ncaps, ch) != caps + ncaps) continue;
      caps[ncaps++] = ch;
      e.captured += b.chain_size(q);
    } else if (std::find(friends, friends + nfriends, ch) == friends + nfriends) {
      friends[nfriends++] = ch;
    }
  }
  e.chain_size = 1;
  for (int i = 0; i < nfriends; ++i) e.chain_size += b.chain_size(friends[i]);

  // Liberties afterwards: empty points and stones of captured chains next to the new chain,
  // deduplicated in a small list (no board-sized marks to clear), counting stops at `cap`.
  int16_t seen[kMaxPoints];
  int nseen = 0;
  auto captured_stone = [&](int q) {
    if (b.at(q) != o) return false;
    const int ch = b.chain_id(q);
    return std::find(caps, caps + ncaps, ch) != caps + ncaps;
  };
  auto visit = [&](int q) {
    if (q == p || nseen >= cap) return;
    if (b.at(q) != EMPTY && !captured_stone(q)) return;
    if (std::find(seen, seen + nseen, static_cast<int16_t>(q)) != seen + nseen) return;
    seen[nseen++] = static_cast<int16_t>(q);
  };
  for (int d = 0; d < 4; ++d) visit(b.nbr(p, d));
  for (int i = 0; i < nfriends && nseen < cap; ++i) {
    int s = friends[i];
    do {
      for (int d = 0; d < 4; ++d) visit(b.nbr(s, d));
      s = b.next_in_chain(s);
    } while (s != friends[i] && nseen < cap);
  }
  e.liberties = nseen;
  return e;
}

namespace {

bool attacker_captures(const Board& b, int target, int& budget);

// The chain at `target` is in atari and its owner is to move: true when it cannot be saved,
// either by capturing an adjacent chain in atari or by extending at its liberty.
bool defender_lost(const Board& b, int target, int& budget) {
  if (--budget < 0) return false;
  const Color d = b.at(target);
  const Color a = opponent(d);
  int done[32];
  int ndone = 0;
  int s = target;
  do {
    for (int k = 0; k < 4; ++k) {
      const int q = b.nbr(s, k);
      if (b.at(q) != a || !b.in_atari(q)) continue;
      const int ch = b.chain_id(q);
      if (std::find(done, done + ndone, ch) != done + ndone) continue;
      if (ndone < 32) done[ndone++] = ch;
      const int lib = b.atari_liberty(q);
      if (!b.is_legal(lib, d)) continue;
      Board nb(b);
      nb.play(lib, d);
      if (!attacker_captures(nb, target, budget)) return false;
    }
    s = b.next_in_chain(s);
  } while (s != target);
  const int lib = b.atari_liberty(target);
  if (b.is_legal(lib, d)) {
    Board nb(b);
    nb.play(lib, d);
    if (!attacker_captures(nb, target, budget)) return false;
  }
  return true;
}

// The attacker is to move against the chain at `target`: true when it captures the chain by
// successive ataris.
bool attacker_captures(const Board& b, int target, int& budget) {
  if (--budget < 0) return false;
  if (b.at(target) == EMPTY) return true;
  const int libs = b.liberties(target, 3);
  if (libs >= 3) return false;
  if (libs <= 1) return true;
  int lib[2];
  int nlib = 0;
  int s = target;
  do {
    for (int k = 0; k < 4 && nlib < 2; ++k) {
      const int q = b.nbr(s, k);
      if (b.at(q) == EMPTY && (nlib == 0 || lib[0] != q)) lib[nlib++] = q;
    }
    s = b.next_in_chain(s);
  } while (s != target && nlib < 2);
  const Color a = opponent(b.at(target));
  for (int i = 0; i < nlib; ++i) {
    if (!b.is_legal(lib[i], a)) continue;
    Board nb(b);
    nb.play(lib[i], a);
    if (nb.at(target) == EMPTY) return true;
    if (nb.in_atari(target) && defender_lost(nb, target, budget)) return true;
  }
  return false;
}

}  // namespace

bool is_ladder_capture(const Board& b, int p, Color c, int budget) {
  const Color o = opponent(c);
  int cand[4];
  int ncand = 0;
  for (int d = 0; d < 4; ++d) {
    const int q = b.nbr(p, d);
    if (b.at(q) != o) continue;
    const int ch = b.chain_id(q);
    if (std::find(cand, cand + ncand, ch) != cand + ncand) continue;
    if (b.liberties(q, 3) == 2) cand[ncand++] = ch;
  }
  if (ncand == 0 || !b.is_legal(p, c)) return false;
  Board nb(b);
  nb.play(p, c);
  for (int i = 0; i < ncand; ++i) {
    if (nb.at(cand[i]) != o || !nb.in_atari(cand[i])) continue;
    int local = budget;
    if (defender_lost(nb, cand[i], local)) return true;
  }
  return false;
}

bool is_ladder_escape(const Board& b, int p, Color c, int budget) {
  const Color o = opponent(c);
  int own[16];
  int nown = 0;
  auto add = [&](int q) {
    const int ch = b.chain_id(q);
    if (nown < 16 && std::find(own, own + nown, ch) == own + nown) own[nown++] = ch;
  };
  for (int d = 0; d < 4; ++d) {
    const int q = b.nbr(p, d);
    if (b.at(q) == c && b.in_atari(q)) {
      add(q);
    } else if (b.at(q) == o && b.in_atari(q)) {
      // p captures this chain: own chains in atari around it may be saved by the capture.
      int s = q;
      do {
        for (int k = 0; k < 4; ++k) {
          const int r = b.nbr(s, k);
          if (b.at(r) == c && b.in_atari(r)) add(r);
        }
        s = b.next_in_chain(s);
      } while (s != q);
    }
  }
  if (nown == 0 || !b.is_legal(p, c)) return false;
  Board nb(b);
  nb.play(p, c);
  for (int i = 0; i < nown; ++i) {
    if (nb.at(own[i]) != c) continue;
    const int libs = nb.liberties(own[i], 3);
    if (libs >= 3) return true;
    if (libs == 2) {
      int local = budget;
      if (!attacker_captures(nb, own[i], local)) return true;
    }
  }
  return false;
}

PositionView view_of(const Game& game) {
  PositionView v;
  v.to_move = game.to_move();
  v.game = &game;
  const int hist = game.history_length();
  for (int k = 0; k < kRawHistory && k <= hist; ++k) v.boards[k] = &game.board_ago(k);
  const auto& moves = game.moves();
  const int nm = static_cast<int>(moves.size());
  for (int k = 1; k <= kRawHistory && k <= nm; ++k) v.recent_moves[k - 1] = moves[nm - k].move;
  return v;
}

template <typename T>
void write_features(const PositionView& view, FeatureSet set, int sym, T* out) {
  const Board& b = *view.boards[0];
  const int n = b.size();
  const int n2 = n * n;
  const int planes = num_planes(set);
  std::fill(out, out + static_cast<size_t>(planes) * n2, T(0));
  int map[kMaxSize * kMaxSize];
  for (int i = 0; i < n2; ++i) map[i] = symmetry_index(i, sym, n);
  const Color me = view.to_move;
  const Color opp = opponent(me);
  auto set1 = [&](int plane, int i) { out[static_cast<size_t>(plane) * n2 + map[i]] = T(1); };
  auto legal = [&](int i) {
    return view.game ? view.game->is_legal(i, me) : b.is_legal(b.from_index(i), me);
  };

  if (set == FeatureSet::kRaw) {
    for (int k = 0; k < kRawHistory && view.boards[k]; ++k) {
      const Board& h = *view.boards[k];
      for (int i = 0; i < n2; ++i) {
        const Color col = h.at(h.from_index(i));
        if (col == me)
          set1(2 * k, i);
        else if (col == opp)
          set1(2 * k + 1, i);
      }
    }
    if (me == BLACK)
      for (int i = 0; i < n2; ++i) set1(2 * kRawHistory, i);
    return;
  }

  // Turns since each stone was played: only the 7 latest moves matter (older is ">= 8").
  // The latest move at a point that holds a stone now is the move that placed it.
  uint8_t age[kMaxSize * kMaxSize] = {};
  for (int k = 1; k <= 7; ++k) {
    const int mv = view.recent_moves[k - 1];
    if (mv < 0 || mv >= n2 || age[mv]) continue;
    if (b.at(b.from_index(mv)) != EMPTY) age[mv] = static_cast<uint8_t>(k);
  }
  int libs_of_chain[kMaxPoints];
  std::fill(libs_of_chain, libs_of_chain + kMaxPoints, -1);

  for (int i = 0; i < n2; ++i) {
    const int p = b.from_index(i);
    const Color col = b.at(p);
    set1(agplanes::kOnes, i);
    if (col != EMPTY) {
      set1(col == me ? agplanes::kStones : agplanes::kStones + 1, i);
      set1(agplanes::kTurnsSince + (age[i] ? age[i] - 1 : 7), i);
      int& libs = libs_of_chain[b.chain_id(p)];
      if (libs < 0) libs = b.liberties(p, 8);
      set1(agplanes::kLiberties + std::min(libs, 8) - 1, i);
      continue;
    }
    set1(agplanes::kStones + 2, i);
    if (!legal(i)) continue;
    const MoveEffect e = analyze_move(b, p, me, 8);  // the planes stop at 8
    set1(agplanes::kCaptureSize + std::min(e.captured, 7), i);
    if (e.liberties == 1) set1(agplanes::kSelfAtari + std::min(e.chain_size, 8) - 1, i);
    if (e.liberties > 0) set1(agplanes::kLibertiesAfter + std::min(e.liberties, 8) - 1, i);
    if (is_ladder_capture(b, p, me)) set1(agplanes::kLadderCapture, i);
    if (is_ladder_escape(b, p, me)) set1(agplanes::kLadderEscape, i);
    if (!(b.is_eye_like(p, me) && b.is_true_eye(p, me))) set1(agplanes::kSensible, i);
  }
  if (set == FeatureSet::kAlphaGoValue && me == BLACK)
    for (int i = 0; i < n2; ++i) set1(agplanes::kColour, i);
}

template <typename T>
void write_move_mask(const PositionView& view, int sym, bool sensible, T* out) {
  const Board& b = *view.boards[0];
  const int n = b.size();
  const int n2 = n * n;
  const Color me = view.to_move;
  std::fill(out, out + n2 + 1, T(0));
  for (int i = 0; i < n2; ++i) {
    const int p = b.from_index(i);
    if (view.game ? !view.game->is_legal(i, me) : !b.is_legal(p, me)) continue;
    if (sensible && b.is_eye_like(p, me) && b.is_true_eye(p, me)) continue;
    out[symmetry_index(i, sym, n)] = T(1);
  }
  out[n2] = T(1);
}

namespace {

// Runs body(lo, hi) over [0, count) split into `threads` contiguous chunks.
template <typename F>
void parallel_chunks(int count, int threads, F body) {
  threads = std::max(1, std::min(threads, count));
  if (threads == 1) {
    body(0, count);
    return;
  }
  std::vector<std::thread> pool;
  const int per = (count + threads - 1) / threads;
  for (int t = 0; t < threads; ++t) {
    const int lo = t * per;
    const int hi = std::min(count, lo + per);
    if (lo >= hi) break;
    pool.emplace_back(body, lo, hi);
  }
  for (auto& th : pool) th.join();
}

}  // namespace

template <typename T>
void write_features_batch(const Game* const* games, int count, FeatureSet set, const int* syms, T* out,
                          T* masks, int threads) {
  if (count <= 0) return;
  const int n = games[0]->size();
  const size_t stride = static_cast<size_t>(num_planes(set)) * n * n;
  const size_t mstride = static_cast<size_t>(n) * n + 1;
  parallel_chunks(count, threads, [&](int lo, int hi) {
    for (int i = lo; i < hi; ++i) {
      const int sym = syms ? syms[i] : 0;
      write_features(*games[i], set, sym, out + stride * i);
      if (masks) write_move_mask(*games[i], sym, false, masks + mstride * i);
    }
  });
}

int replay_records(const GameRecords& r, const int64_t* sample_game, const int32_t* sample_move, int count,
                   int history, int threads, const std::function<void(int, const PositionView&, int)>& visit,
                   const std::function<void(int)>& fail) {
  if (count <= 0) return 0;
  const int n = r.size;
  const int n2 = n * n;
  history = std::max(1, std::min(history, kRawHistory));
  // Visit samples game by game, in move order, so one replay serves all samples of a game.
  std::vector<int> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return sample_game[a] != sample_game[b] ? sample_game[a] < sample_game[b] : sample_move[a] < sample_move[b];
  });
  std::atomic<int> failed{0};
  parallel_chunks(count, threads, [&](int lo, int hi) {
    // A bare Board is replayed (no undo snapshots, no superko table); only the positions that
    // the next sample's history planes need are copied into a ring of `history` boards.
    Game setup(n);  // places setup stones with Game's checks
    Board board(n);
    std::vector<Board> ring(static_cast<size_t>(history), Board(n));
    int ring_move[kRawHistory];
    int64_t cur_game = -1;
    int cur_move = 0;
    bool ok = false;
    auto remember = [&](int target) {
      if (target - cur_move < history) {
        const int slot = cur_move % history;
        ring[static_cast<size_t>(slot)] = board;
        ring_move[slot] = cur_move;
      }
    };
    for (int j = lo; j < hi; ++j) {
      const int i = order[static_cast<size_t>(j)];
      const int64_t gi = sample_game[i];
      const int mi = sample_move[i];
      auto bad = [&]() {
        fail(i);
        failed.fetch_add(1, std::memory_order_relaxed);
      };
      if (gi < 0 || gi >= r.num_games) {
        bad();
        continue;
      }
      const int64_t off = r.game_offsets[gi];
      const int64_t len = r.game_offsets[gi + 1] - off;
      if (mi < 0 || mi > len) {
        bad();
        continue;
      }
      if (gi != cur_game || mi < cur_move) {
        setup.clear();
        cur_game = gi;
        cur_move = 0;
        ok = true;
        for (int64_t s = r.setup_offsets[gi]; ok && s < r.setup_offsets[gi + 1]; ++s) {
          const int c = r.setup_colors[s];
          ok = (c == BLACK || c == WHITE) && setup.place_setup_stone(r.setup_moves[s], Color(c));
        }
        board = setup.board();
        std::fill(ring_move, ring_move + kRawHistory, -1);
        if (ok) remember(mi);
      }
      while (ok && cur_move < mi) {
        const int c = r.colors[off + cur_move];
        const int mv = r.moves[off + cur_move];
        ok = (c == BLACK || c == WHITE) && mv >= 0 && mv <= n2;
        const int p = mv == n2 ? kPass : board.from_index(ok ? mv : 0);
        ok = ok && (p == kPass || board.is_legal(p, Color(c)));
        if (ok) {
          board.play(p, Color(c));
          ++cur_move;
          remember(mi);
        }
      }
      if (!ok) {
        bad();
        continue;
      }
      PositionView view;
      view.boards[0] = &board;
      for (int k = 1; k < history && k <= mi; ++k) {
        const int slot = (mi - k) % history;
        if (ring_move[slot] == mi - k) view.boards[k] = &ring[static_cast<size_t>(slot)];
      }
      for (int k = 1; k <= kRawHistory && k <= mi; ++k) view.recent_moves[k - 1] = r.moves[off + mi - k];
      int target = -1;
      if (mi < len) {
        const int c = r.colors[off + mi];
        target = r.moves[off + mi];
        if ((c != BLACK && c != WHITE) || target < 0 || target > n2) {
          bad();
          continue;
        }
        view.to_move = Color(c);
      } else {
        view.to_move = mi > 0 ? opponent(Color(r.colors[off + mi - 1])) : BLACK;
      }
      visit(i, view, target);
    }
  });
  return failed.load();
}

template <typename T>
int replay_features(const GameRecords& r, const int64_t* sample_game, const int32_t* sample_move, int count,
                    FeatureSet set, const int* syms, T* out, T* masks, int64_t* targets, int threads) {
  const int n = r.size;
  const size_t stride = static_cast<size_t>(num_planes(set)) * n * n;
  const size_t mstride = static_cast<size_t>(n) * n + 1;
  return replay_records(
      r, sample_game, sample_move, count, feature_set_info(set).history, threads,
      [&](int i, const PositionView& view, int target) {
        const int sym = syms ? syms[i] : 0;
        write_features(view, set, sym, out + stride * i);
        if (masks) write_move_mask(view, sym, false, masks + mstride * i);
        if (targets) targets[i] = target >= 0 ? symmetry_index(target, sym, n) : -1;
      },
      [&](int i) {
        std::fill(out + stride * i, out + stride * (i + 1), T(0));
        if (masks) std::fill(masks + mstride * i, masks + mstride * (i + 1), T(0));
        if (targets) targets[i] = -1;
      });
}

#define TENGEN_FEATURES_INSTANTIATE(T)                                                                       \
  template void write_features<T>(const PositionView&, FeatureSet, int, T*);                                \
  template void write_move_mask<T>(const PositionView&, int, bool, T*);                                      \
  template void write_features_batch<T>(const Game* const*, int, FeatureSet, const int*, T*, T*, int);       \
  template int replay_features<T>(const GameRecords&, const int64_t*, const int32_t*, int, FeatureSet,       \
                                  const int*, T*, T*, int64_t*, int);

TENGEN_FEATURES_INSTANTIATE(float)
TENGEN_FEATURES_INSTANTIATE(uint8_t)

}  // namespace tengen
