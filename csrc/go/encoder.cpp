// Encoder registry, symmetries and the basic "stones" feature set.
// Thread-safety: see encoder.h.
#include "go/encoder.h"

#include <algorithm>
#include <map>

namespace tengen {

namespace {

// "stones": own stones, opponent stones, empty points, a constant plane of ones.
void write_stones(const PositionView& view, int symmetry, float* out) {
  const Board& b = *view.boards[0];
  const int n = b.size();
  const int area = n * n;
  std::fill(out, out + 4 * area, 0.0f);
  const Color own = view.to_move;
  for (int i = 0; i < area; ++i) {
    const int j = symmetry_index(i, n, symmetry);
    const Color c = b.at(b.from_index(i));
    const int plane = c == own ? 0 : c == EMPTY ? 2 : 1;
    out[plane * area + j] = 1.0f;
    out[3 * area + j] = 1.0f;
  }
}

// Every built-in feature set is listed here, explicitly, so that no linker can drop one.
std::map<std::string, FeatureSetInfo>& registry() {
  static std::map<std::string, FeatureSetInfo> r = {
      {"stones", {"stones", 4, &write_stones, 1}},
  };
  return r;
}

}  // namespace

bool register_feature_set(const FeatureSetInfo& info) {
  registry()[info.name] = info;
  return true;
}

const FeatureSetInfo* find_feature_set(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> feature_set_names() {
  std::vector<std::string> out;
  for (const auto& kv : registry()) out.push_back(kv.first);
  return out;
}

int symmetry_index(int index, int size, int s) {
  if (index >= size * size) return index;
  int x = index % size, y = index / size;
  if (s & 4) std::swap(x, y);
  if (s & 1) x = size - 1 - x;
  if (s & 2) y = size - 1 - y;
  return x + y * size;
}

int inverse_symmetry(int s) {
  // Flips commute with themselves; with a transpose, the flips swap axes when undone.
  if (!(s & 4)) return s;
  const int fx = s & 1, fy = (s >> 1) & 1;
  return 4 | fy | (fx << 1);
}

}  // namespace tengen
