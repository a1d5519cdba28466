// Encoder: the registry of network input feature sets and the 8 board symmetries. A
// feature set writes its planes for one position straight into a caller-owned float
// buffer of planes * size * size values, in a given symmetry. Search and training both go
// through this registry, so their inputs cannot drift apart.
//
// Thread-safety: the registry is immutable after static initialisation; writers are pure
// functions of their arguments and may run concurrently on distinct output buffers.
#pragma once

#include <string>
#include <vector>

#include "go/board.h"

namespace tengen {

constexpr int kHistory = 8;

// The position to encode: boards[0] is the current board, boards[k] the board k moves
// earlier (nullptr where the game's recorded history does not reach).
struct PositionView {
  const Board* boards[kHistory] = {nullptr};
  Color to_move = BLACK;
};

using PlaneWriter = void (*)(const PositionView& view, int symmetry, float* out);

struct FeatureSetInfo {
  std::string name;
  int planes;
  PlaneWriter write;
  int history = 1;  // how many of PositionView's boards the writer reads
};

// nullptr when no feature set has that name.
const FeatureSetInfo* find_feature_set(const std::string& name);
std::vector<std::string> feature_set_names();
// Adds or replaces a feature set at run time (tests, experiments). Not thread-safe: call
// before any search or encoding starts.
bool register_feature_set(const FeatureSetInfo& info);

// Dense index (x + y * size) of point `index` after symmetry s in 0..7 (s & 4: transpose,
// s & 1: flip x, s & 2: flip y, applied in that order). The pass index maps to itself.
int symmetry_index(int index, int size, int s);
// The inverse symmetry of s.
int inverse_symmetry(int s);

}  // namespace tengen
