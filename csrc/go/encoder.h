// Encoder: the registry that maps a feature-set name to its plane count and a writer of
// float planes for a PositionView (features.h), so the search can encode leaves with
// exactly the code training uses. The sets themselves live in features.{h,cpp}.
//
// Thread-safety: the registry is immutable after its first use; writers are pure functions
// of their arguments and may run concurrently on distinct output buffers.
#pragma once

#include <string>
#include <vector>

#include "go/features.h"

namespace tengen {

constexpr int kHistory = kRawHistory;

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

}  // namespace tengen
