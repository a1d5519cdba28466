// Feature-set table. Thread-safety: see feature_sets.h.
#include "go/feature_sets.h"

#include <stdexcept>

namespace tengen {

namespace {

template <FeatureSet S>
void write_set(const PositionView& view, int symmetry, float* out) {
  write_features<float>(view, S, symmetry, out);
}

std::vector<PlaneGroup> alphago_layout(bool with_colour) {
  using namespace agplanes;
  std::vector<PlaneGroup> groups = {
      {"stone_colour", kStones, 3},         {"ones", kOnes, 1},
      {"turns_since", kTurnsSince, 8},      {"liberties", kLiberties, 8},
      {"capture_size", kCaptureSize, 8},    {"self_atari_size", kSelfAtari, 8},
      {"liberties_after_move", kLibertiesAfter, 8}, {"ladder_capture", kLadderCapture, 1},
      {"ladder_escape", kLadderEscape, 1},  {"sensibleness", kSensible, 1},
      {"zeros", kZeros, 1}};
  if (with_colour) groups.push_back({"player_colour", kColour, 1});
  return groups;
}

std::vector<PlaneGroup> raw_layout() {
  std::vector<PlaneGroup> groups;
  for (int k = 0; k < kRawHistory; ++k) {
    groups.push_back({"own_stones_t-" + std::to_string(k), 2 * k, 1});
    groups.push_back({"opponent_stones_t-" + std::to_string(k), 2 * k + 1, 1});
  }
  groups.push_back({"colour", 2 * kRawHistory, 1});
  return groups;
}

FeatureSetInfo entry(FeatureSet id, const char* name, int history, PlaneWriter write, std::vector<PlaneGroup> layout) {
  int planes = 0;
  for (const PlaneGroup& g : layout) {
    if (g.first != planes) throw std::logic_error(std::string("feature set ") + name + ": plane groups must be contiguous");
    planes += g.count;
  }
  return FeatureSetInfo{id, name, planes, history, write, std::move(layout)};
}

}  // namespace

const std::vector<FeatureSetInfo>& feature_set_table() {
  static const std::vector<FeatureSetInfo> table = {
      entry(FeatureSet::kAlphaGo, "alphago", 1, &write_set<FeatureSet::kAlphaGo>, alphago_layout(false)),
      entry(FeatureSet::kAlphaGoValue, "alphago_value", 1, &write_set<FeatureSet::kAlphaGoValue>,
            alphago_layout(true)),
      entry(FeatureSet::kRaw, "raw", kRawHistory, &write_set<FeatureSet::kRaw>, raw_layout()),
  };
  static const bool in_enum_order = [] {
    for (size_t i = 0; i < table.size(); ++i)
      if (static_cast<size_t>(table[i].id) != i) throw std::logic_error("feature set table out of FeatureSet order");
    return true;
  }();
  (void)in_enum_order;
  return table;
}

const FeatureSetInfo& feature_set_info(FeatureSet set) {
  return feature_set_table()[static_cast<size_t>(set)];
}

const FeatureSetInfo* find_feature_set(const std::string& name) {
  for (const FeatureSetInfo& info : feature_set_table())
    if (info.name == name) return &info;
  return nullptr;
}

std::vector<std::string> feature_set_names() {
  std::vector<std::string> out;
  for (const FeatureSetInfo& info : feature_set_table()) out.push_back(info.name);
  return out;
}

std::string feature_set_choices() {
  const auto& table = feature_set_table();
  std::string out;
  for (size_t i = 0; i < table.size(); ++i) {
    if (i > 0) out += i + 1 == table.size() ? " or " : ", ";
    out += table[i].name;
  }
  return out;
}

int num_planes(FeatureSet set) { return feature_set_info(set).planes; }

}  // namespace tengen
