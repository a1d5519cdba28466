// Encoder registry. Thread-safety: see encoder.h.
#include "go/encoder.h"

#include <map>

namespace tengen {

namespace {

template <FeatureSet S>
void write_set(const PositionView& view, int symmetry, float* out) {
  write_features<float>(view, S, symmetry, out);
}

const std::map<std::string, FeatureSetInfo>& registry() {
  static const std::map<std::string, FeatureSetInfo> r = {
      {"alphago", {"alphago", num_planes(FeatureSet::kAlphaGo), &write_set<FeatureSet::kAlphaGo>, 1}},
      {"alphago_value",
       {"alphago_value", num_planes(FeatureSet::kAlphaGoValue), &write_set<FeatureSet::kAlphaGoValue>, 1}},
      {"raw", {"raw", num_planes(FeatureSet::kRaw), &write_set<FeatureSet::kRaw>, kRawHistory}},
  };
  return r;
}

}  // namespace

const FeatureSetInfo* find_feature_set(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> feature_set_names() {
  std::vector<std::string> out;
  for (const auto& kv : registry()) out.push_back(kv.first);
  return out;
}

}  // namespace tengen
