// Gumbel root. Thread-safety: see gumbel.h.
#include "search/gumbel.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tengen {

namespace {
// Floor under a uniform draw before -log(-log(u)), so the Gumbel noise stays finite.
constexpr double kMinUniform = 1e-12;
// The quota of the last phase: one candidate left takes every remaining visit.
constexpr int kUnboundedQuota = 1 << 30;
// A mean value for an edge nobody visited, below every real one (best_edge).
constexpr float kUnvisitedValue = -1.0f;
}  // namespace

void GumbelRoot::init(const TreeNode& r, int considered, int target_visits, Rng& rng) {
  const size_t ne = r.edges.size();
  score.assign(ne, 0.0f);
  for (size_t i = 0; i < ne; ++i) {
    const double u = std::max(rng.uniform(), kMinUniform);
    score[i] = static_cast<float>(-std::log(-std::log(u))) + r.edges[i].logit;
  }
  std::vector<int> order(ne);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int z) { return score[a] > score[z]; });
  const size_t m = std::min(ne, static_cast<size_t>(considered));
  remaining.assign(order.begin(), order.begin() + static_cast<long>(m));
  budget = std::max(1, target_visits - r.n);
  phases_left = std::max(1, static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<size_t>(m, 2))))));
  int base = 0;
  for (int idx : remaining) base = std::max(base, r.edges[static_cast<size_t>(idx)].n);
  phase_quota = base + std::max(1, budget / (phases_left * static_cast<int>(m)));
  ready = true;
}

int GumbelRoot::select(const TreeNode& r) {
  if (remaining.empty()) return -1;
  auto completed_q = [&](int idx) {
    const TreeEdge& e = r.edges[static_cast<size_t>(idx)];
    return e.n > 0 ? e.mean_value() : r.mean_value();
  };
  bool all_done = true, none_in_flight = true;
  for (int idx : remaining) {
    const TreeEdge& e = r.edges[static_cast<size_t>(idx)];
    if (e.n + e.vl < phase_quota) all_done = false;
    if (e.vl > 0) none_in_flight = false;
  }
  if (all_done && remaining.size() > 1) {
    if (!none_in_flight) return -1;  // wait for this phase's visits to come back
    const int max_n = max_edge_visits(r);
    std::stable_sort(remaining.begin(), remaining.end(), [&](int a, int z) {
      return score[a] + gumbel_sigma(completed_q(a), max_n) > score[z] + gumbel_sigma(completed_q(z), max_n);
    });
    remaining.resize((remaining.size() + 1) / 2);
    phases_left = std::max(1, phases_left - 1);
    int base = 0;
    for (int idx : remaining) base = std::max(base, r.edges[static_cast<size_t>(idx)].n);
    const int per = std::max(1, budget / (std::max(1, phases_left) * static_cast<int>(remaining.size()) + 1));
    phase_quota = remaining.size() == 1 ? kUnboundedQuota : base + per;
  }
  int best = -1;
  for (int idx : remaining) {
    const TreeEdge& e = r.edges[static_cast<size_t>(idx)];
    if (best < 0) {
      best = idx;
      continue;
    }
    const TreeEdge& b = r.edges[static_cast<size_t>(best)];
    if (e.n + e.vl < b.n + b.vl) best = idx;
  }
  return best;
}

int GumbelRoot::best_edge(const TreeNode& r) const {
  const int max_n = max_edge_visits(r);
  int best = remaining[0];
  float best_score = kNoScore;
  for (int idx : remaining) {
    const TreeEdge& e = r.edges[static_cast<size_t>(idx)];
    const float q = e.n > 0 ? e.mean_value() : kUnvisitedValue;
    const float s = score[static_cast<size_t>(idx)] + gumbel_sigma(q, max_n);
    if (s > best_score) {
      best_score = s;
      best = idx;
    }
  }
  return best;
}

float gumbel_improved_policy(const TreeNode& r, std::vector<float>& row) {
  const int max_n = max_edge_visits(r);
  const float v = r.mean_value();
  float mx = kNoScore;
  std::vector<float> s(r.edges.size());
  for (size_t i = 0; i < r.edges.size(); ++i) {
    const TreeEdge& e = r.edges[i];
    const float q = e.n > 0 ? e.mean_value() : v;
    // sigma normalised by (c_visit + max_n): c_scale * (q + 1), twice the [0, 1]-mapped q.
    s[i] = e.logit + gumbel_sigma(q, max_n) / (kGumbelCVisit + static_cast<float>(max_n)) * 2.0f;
    mx = std::max(mx, s[i]);
  }
  std::fill(row.begin(), row.end(), 0.0f);
  float total = 0.0f;
  for (size_t i = 0; i < r.edges.size(); ++i) total += row[static_cast<size_t>(r.edges[i].move)] = std::exp(s[i] - mx);
  return total;
}

}  // namespace tengen
