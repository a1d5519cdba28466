// Feature-set table: the one list of the network input feature sets (features.h describes
// each plane). An entry gives the name, the plane count, how many past boards the planes read,
// the float writer the search encodes leaves with, and the layout (named groups of planes).
// The bindings (FEATURE_SETS, feature_sets(), num_planes, plane_layout) and the search
// iterate over this table; nothing else lists the sets.
//
// Thread-safety: the table is built once, on first use (a function-local static), and is
// immutable afterwards; writers are pure functions and may run concurrently on distinct
// output buffers.
#pragma once

#include <string>
#include <vector>

#include "go/features.h"

namespace tengen {

using PlaneWriter = void (*)(const PositionView& view, int symmetry, float* out);

struct PlaneGroup {
  std::string name;
  int first;  // plane index
  int count;
};

struct FeatureSetInfo {
  FeatureSet id;
  std::string name;
  int planes;                     // the sum of the layout's counts
  int history;                    // how many of PositionView's boards the writer reads
  PlaneWriter write;              // float planes for a PositionView
  std::vector<PlaneGroup> layout; // contiguous groups in plane order
};

// Every feature set, in FeatureSet order.
const std::vector<FeatureSetInfo>& feature_set_table();
const FeatureSetInfo& feature_set_info(FeatureSet set);
// nullptr when no feature set has that name.
const FeatureSetInfo* find_feature_set(const std::string& name);
std::vector<std::string> feature_set_names();
// "a, b or c": the names for error messages.
std::string feature_set_choices();

int num_planes(FeatureSet set);

}  // namespace tengen
