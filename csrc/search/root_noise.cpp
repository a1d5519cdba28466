// Root noise. Thread-safety: see root_noise.h.
#include "search/root_noise.h"

#include <random>
#include <vector>

namespace tengen {

bool apply_root_noise(TreeNode& r, Rng& rng, float alpha, float epsilon) {
  if (r.edges.empty()) return false;
  std::mt19937_64 gen(rng.next());
  std::gamma_distribution<float> gamma(alpha, 1.0f);
  std::vector<float> noise(r.edges.size());
  float total = 0.0f;
  for (float& x : noise) total += x = gamma(gen);
  if (total <= 0.0f) return false;
  for (size_t i = 0; i < r.edges.size(); ++i)
    r.edges[i].prior = (1.0f - epsilon) * r.edges[i].prior + epsilon * noise[i] / total;
  return true;
}

}  // namespace tengen
