// Network input features: the one implementation that training and search share.
//
// Feature sets (planes are written for the player to move, `own` = that player):
//   alphago        AlphaGo's 48 policy planes (Silver et al. 2016, Extended Data Table 2), in
//                  this order: stone colour 3 (own, opponent, empty), ones 1, turns since 8
//                  (1..7, >=8 moves ago), liberties 8 (1..7, >=8), capture size 8 (0..6, >=7),
//                  self-atari size 8 (1..7, >=8), liberties after move 8 (1..7, >=8), ladder
//                  capture 1, ladder escape 1, sensibleness 1, zeros 1.
//   alphago_value  the same 48 planes plus player colour (1 when black is to move): 49.
//   raw            AlphaGo Zero style: own and opponent stones for the current position and the
//                  7 before it, interleaved (own_t, opp_t, own_t-1, opp_t-1, ...), then colour:
//                  17 planes. Earlier positions come from the Game's undo snapshots
//                  (Game::board_ago); positions before the game or its setup are all zeros.
// Per-move planes (capture size, self-atari, liberties after, ladders, sensibleness) are set
// only on legal moves (Game::is_legal, so superko counts when the Game's rules use it).
//
// Buffers are caller-owned, C-contiguous [plane][y][x] (a batch adds a leading dimension), of
// float or uint8; every element is written. Symmetry s in [0, 8) is applied while writing:
// bit 2 transposes (x <-> y), then bit 0 mirrors x and bit 1 mirrors y. Point (x, y) of the
// board lands at symmetry_index(x + y*size, s, size) of each plane; policy outputs map back
// through inverse_symmetry(s). Pass (size*size) maps to itself.
//
// Ladders are read by a bounded search (kLadderBudget board copies per query); a ladder the
// budget cannot settle counts as not working (no capture, escape succeeds).
//
// Thread-safety: every function is pure over const inputs and writes only the caller's
// buffers; calls may run concurrently, also on one shared const Game, as long as no thread
// modifies that Game meanwhile and output buffers do not overlap.
#pragma once

#include <cstdint>
#include <functional>

#include "go/board.h"
#include "go/game.h"

namespace tengen {

// The sets' names, plane counts and layouts are listed once, in feature_sets.h.
enum class FeatureSet : int { kAlphaGo = 0, kAlphaGoValue = 1, kRaw = 2 };

constexpr int kNumSymmetries = 8;
constexpr int kRawHistory = 8;
constexpr int kLadderBudget = 300;

// Plane offsets of the alphago / alphago_value sets.
namespace agplanes {
constexpr int kStones = 0;          // 3: own, opponent, empty
constexpr int kOnes = 3;            // 1
constexpr int kTurnsSince = 4;      // 8
constexpr int kLiberties = 12;      // 8
constexpr int kCaptureSize = 20;    // 8
constexpr int kSelfAtari = 28;      // 8
constexpr int kLibertiesAfter = 36;  // 8
constexpr int kLadderCapture = 44;  // 1
constexpr int kLadderEscape = 45;   // 1
constexpr int kSensible = 46;       // 1
constexpr int kZeros = 47;          // 1
constexpr int kColour = 48;         // 1, alphago_value only
}  // namespace agplanes

// Dense index (x + y*size, or size*size for pass) of a board point -> its index in planes
// written under symmetry `sym`.
int symmetry_index(int index, int sym, int size);
int inverse_symmetry(int sym);

// What playing p (an empty point, not suicide) would do for colour c.
struct MoveEffect {
  int captured = 0;    // opponent stones removed
  int chain_size = 0;  // stones in the chain holding p afterwards
  int liberties = 0;   // its liberties afterwards (exact up to `cap`)
};
MoveEffect analyze_move(const Board& board, int p, Color c, int cap = kMaxPoints);

// Ladder reading on padded points; c is the player who would play p (p must be legal for c).
// Capture: p puts an opponent chain with two liberties into atari and it cannot escape.
// Escape: p saves an own chain in atari (extending or capturing) and the chain cannot then be
// captured by a ladder.
bool is_ladder_capture(const Board& board, int p, Color c, int budget = kLadderBudget);
bool is_ladder_escape(const Board& board, int p, Color c, int budget = kLadderBudget);

// A position to encode without a whole Game (search leaves): the current board, earlier
// boards, the latest moves, and optionally the Game whose rules decide legality (superko).
struct PositionView {
  const Board* boards[kRawHistory] = {nullptr};  // [0] now, [k] k moves ago; nullptr before the game
  Color to_move = BLACK;
  int recent_moves[kRawHistory] = {-1, -1, -1, -1, -1, -1, -1, -1};  // [k-1]: dense move k moves ago
  const Game* game = nullptr;  // legality with the game's rules when set, else simple ko + no suicide
};
PositionView view_of(const Game& game);

// Planes for the player to move: num_planes(set) (feature_sets.h) * size * size elements.
template <typename T>
void write_features(const PositionView& view, FeatureSet set, int sym, T* out);
template <typename T>
void write_features(const Game& game, FeatureSet set, int sym, T* out) {
  write_features(view_of(game), set, sym, out);
}

// size*size + 1 entries (pass last, always 1): 1 where the move is legal for the player to
// move, or, with `sensible`, legal and not filling one of the mover's own true eyes.
template <typename T>
void write_move_mask(const PositionView& view, int sym, bool sensible, T* out);
template <typename T>
void write_move_mask(const Game& game, int sym, bool sensible, T* out) {
  write_move_mask(view_of(game), sym, sensible, out);
}

// Many positions: out holds count * num_planes * size^2, masks (nullable) count * (size^2+1).
// syms may be null (identity). threads > 1 splits the batch over that many C++ threads.
template <typename T>
void write_features_batch(const Game* const* games, int count, FeatureSet set, const int* syms, T* out,
                          T* masks, int threads);

// Game records in flat arrays (as stored in corpus shards): game g's moves are
// moves[game_offsets[g] .. game_offsets[g+1]) with colours colors[...], its setup stones
// setup_moves[setup_offsets[g] .. setup_offsets[g+1]) likewise. Moves are dense indices.
struct GameRecords {
  int size = 9;
  const int64_t* game_offsets = nullptr;
  const int16_t* moves = nullptr;
  const uint8_t* colors = nullptr;
  const int64_t* setup_offsets = nullptr;
  const int16_t* setup_moves = nullptr;
  const uint8_t* setup_colors = nullptr;
  int64_t num_games = 0;
};

// Replays each sample's game (simple ko, no suicide) to just before move sample_move[i] and
// calls visit(i, view, move played there or -1 at the end of the record), where view is that
// position for the player who made the move (legality: simple ko, no suicide; `history`
// boards, 1..kRawHistory, of which the earlier ones are nullptr before the game's start);
// fail(i) for samples whose replay fails. A bare Board is replayed and only the boards the
// history needs are copied. Samples of one game share one replay; threads > 1 splits the
// samples over C++ threads, so visit and fail must be safe to call concurrently for distinct
// i. The view is valid only during the call. Returns the number of failures.
int replay_records(const GameRecords& records, const int64_t* sample_game, const int32_t* sample_move,
                   int count, int history, int threads,
                   const std::function<void(int, const PositionView&, int)>& visit,
                   const std::function<void(int)>& fail);

// For each sample i: replays game sample_game[i] (simple ko, no suicide) up to just before
// its move number sample_move[i], writes that position's planes (under syms[i], null =
// identity), the legal mask (masks nullable) and the move played there mapped through the
// symmetry into targets[i] (nullable). Samples whose replay fails get target -1 and zero
// planes. Returns how many failed.
template <typename T>
int replay_features(const GameRecords& records, const int64_t* sample_game, const int32_t* sample_move,
                    int count, FeatureSet set, const int* syms, T* out, T* masks, int64_t* targets,
                    int threads);

}  // namespace tengen
