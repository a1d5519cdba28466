// NnCache: network evaluations (priors over dense moves and the value) by position key, so a
// position reached again (transposition, reused game prefix) skips the network. When full it
// is cleared whole; a key already present keeps its first entry.
//
// Thread-safety: every member function locks the cache's own mutex, so gathers and scatters
// of both slots may call it concurrently. The lock covers one lookup or insert, never a search.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "search/tree.h"

namespace tengen {

class NnCache {
 public:
  explicit NnCache(int capacity);  // entries; 0: off (lookups miss, inserts are dropped)
  NnCache(const NnCache&) = delete;
  NnCache& operator=(const NnCache&) = delete;

  bool enabled() const { return capacity_ > 0; }
  // Copies the entry for key into priors (size*size + 1, pass last) and value; false when absent.
  bool lookup(uint64_t key, std::vector<float>& priors, float& value);
  // Stores the node's per-edge priors spread over dense moves (policy_size entries) and the value.
  void insert(uint64_t key, const TreeNode& node, const float* priors, float value, int policy_size);

 private:
  struct Entry {
    std::vector<float> priors;  // over dense moves, pass last
    float value = 0.0f;
  };
  const int capacity_;
  std::mutex mutex_;
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace tengen
