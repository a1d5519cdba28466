// Policy-mode names. Thread-safety: pure functions.
#include "search/search_config.h"

namespace tengen {

namespace {
constexpr PolicyMode kPolicyModes[] = {PolicyMode::Net, PolicyMode::Uniform, PolicyMode::Heuristic,
                                       PolicyMode::Rollout};
}  // namespace

const char* policy_mode_name(PolicyMode mode) {
  switch (mode) {
    case PolicyMode::Net: return "net";
    case PolicyMode::Uniform: return "uniform";
    case PolicyMode::Heuristic: return "heuristic";
    case PolicyMode::Rollout: return "rollout";
  }
  return "?";
}

bool parse_policy_mode(const std::string& name, PolicyMode* out) {
  for (PolicyMode m : kPolicyModes) {
    if (name == policy_mode_name(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

std::string policy_mode_choices() {
  std::string out;
  for (PolicyMode m : kPolicyModes) out += (out.empty() ? "" : ", ") + std::string(policy_mode_name(m));
  return out;
}

}  // namespace tengen
