// NN cache. Thread-safety: see nn_cache.h.
#include "search/nn_cache.h"

namespace tengen {

NnCache::NnCache(int capacity) : capacity_(capacity) {}

bool NnCache::lookup(uint64_t key, std::vector<float>& priors, float& value) {
  if (!enabled()) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  priors = it->second.priors;
  value = it->second.value;
  return true;
}

void NnCache::insert(uint64_t key, const TreeNode& node, const float* priors, float value, int policy_size) {
  if (!enabled()) return;
  Entry entry;
  entry.priors.assign(static_cast<size_t>(policy_size), 0.0f);
  for (size_t i = 0; i < node.edges.size(); ++i) entry.priors[static_cast<size_t>(node.edges[i].move)] = priors[i];
  entry.value = value;
  std::lock_guard<std::mutex> lock(mutex_);
  if (static_cast<int>(entries_.size()) >= capacity_) entries_.clear();
  entries_.emplace(key, std::move(entry));
}

}  // namespace tengen
