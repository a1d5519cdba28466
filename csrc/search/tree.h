// Tree of the batched search: node and edge storage, PUCT selection with virtual loss,
// expansion, backup, and subtree reuse between moves.
//
// Values: a node's value_sum is for the player to move at that node; an edge's w is for the
// player who plays the edge (the player to move at its parent). Backup flips the sign at
// every level. A leaf in flight adds one to `vl` of each edge on its path; selection counts
// each such leaf as `virtual_loss` lost visits, and backup (or release_virtual_loss) takes it off.
//
// Thread-safety: nothing here locks. A tree belongs to one game, and only the thread running
// that game's slot (gather/scatter of slot g % 2) reads or writes it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "go/game.h"
#include "search/search_config.h"

namespace tengen {

//---- Storage (thread rule: the owning game's slot thread only) -------------------------

enum class NodeState : uint8_t {
  kNew,       // created by selection, no edges yet
  kWaiting,   // edges listed, waiting for its evaluation (a leaf in flight)
  kExpanded,  // priors set; selection may descend
};

struct TreeNode;

struct TreeEdge {
  int move = 0;          // dense index, pass = size*size
  float prior = 0.0f;
  float logit = 0.0f;    // log prior (Gumbel)
  int n = 0;             // completed visits
  int vl = 0;            // leaves in flight below this edge
  float w = 0.0f;        // sum of values for the player who plays this edge
  std::unique_ptr<TreeNode> child;

  float mean_value() const { return w / static_cast<float>(n); }  // n > 0
};

struct TreeNode {
  std::vector<TreeEdge> edges;  // candidate moves in dense order, pass last
  NodeState state = NodeState::kNew;
  int n = 0;               // completed visits
  float value_sum = 0.0f;  // for the player to move at this node

  TreeNode() = default;
  TreeNode(const TreeNode&) = delete;  // owns its subtree
  TreeNode& operator=(const TreeNode&) = delete;

  float mean_value() const { return n > 0 ? value_sum / static_cast<float>(n) : 0.0f; }
};

// Below every score that selection can compute.
constexpr float kNoScore = -1e30f;

//---- PUCT selection (thread rule: pure; the node is the caller's) ----------------------

struct PuctParams {
  float c_puct = 0.0f;
  float c_puct_base = 0.0f;  // > 0: c grows as c_puct + log((1 + N + base) / base)
  float fpu_reduction = 0.0f;
  float virtual_loss = 0.0f;
};
PuctParams puct_params(const SearchConfig& config);

// What PUCT needs of the parent: the exploration scale c(N) * sqrt(N) and the first-play
// value (the value of an unvisited child).
struct PuctParent {
  float u_scale;
  float fpu;
};

inline PuctParent puct_parent(int parent_n, float parent_value_sum, const PuctParams& p) {
  const float n = static_cast<float>(std::max(parent_n, 1));
  float c_puct = p.c_puct;
  if (p.c_puct_base > 0.0f) c_puct += std::log((1.0f + n + p.c_puct_base) / p.c_puct_base);
  const float parent_q = parent_n > 0 ? parent_value_sum / static_cast<float>(parent_n) : 0.0f;
  return PuctParent{c_puct * std::sqrt(n), parent_q - p.fpu_reduction};
}

// Q + U of one edge with n completed visits, value sum w and vl leaves in flight. An
// unvisited edge with a leaf in flight sits below every untried one.
inline float puct_score(const PuctParent& parent, int n, float w, int vl, float prior, float virtual_loss) {
  float q;
  if (n > 0) {
    const float visits = static_cast<float>(n) + virtual_loss * static_cast<float>(vl);
    q = (w - virtual_loss * static_cast<float>(vl)) / visits;
  } else {
    q = parent.fpu - (vl > 0 ? virtual_loss : 0.0f);
  }
  const float u = parent.u_scale * prior / (1.0f + static_cast<float>(n) + static_cast<float>(vl));
  return q + u;
}

// The edge index with the highest PUCT score (the first of equals); -1 when there are no edges.
int select_child(const TreeNode& node, const PuctParams& params);

//---- Expansion and backup (thread rule: the owning game's slot thread only) -------------

// Lists the node's edges: the candidate moves (candidates.h) then pass, priors unset; marks
// it waiting. scratch is a reusable buffer.
void add_edges(TreeNode& node, const Board& board, Color to_move, const Game* superko_game,
               std::vector<int>& scratch);
// Stores one prior per edge and its log; marks the node expanded.
void set_priors(TreeNode& node, const float* priors);

// nodes runs from the root to the leaf, edges[d] leads from nodes[d] to nodes[d + 1];
// leaf_value is for the player to move at the leaf. Takes the path's virtual loss off.
void backup(const std::vector<TreeNode*>& nodes, const std::vector<TreeEdge*>& edges, float leaf_value);
// Takes back the virtual loss of a path that will not be evaluated.
void release_virtual_loss(const std::vector<TreeEdge*>& edges);

//---- Reuse and root statistics (thread rule: the owning game's slot thread only) --------

// Takes the expanded subtree below `move` out of `root`; nullptr when there is none.
std::unique_ptr<TreeNode> take_subtree(TreeNode& root, int move);
// Drops the root edges whose move would repeat a position of `game` (superko): a reused node
// was expanded below the root, where repetition is not checked.
void drop_repeating_edges(TreeNode& root, const Game& game);

// The most visited edge's move; ties go to the higher mean value, among unvisited edges to
// the higher prior. pass_move when the node has no edges.
int most_visited_move(const TreeNode& root, int pass_move);
// The highest mean value of a visited edge, or -1 (a loss) when none is visited.
float best_visited_value(const TreeNode& root);
int max_edge_visits(const TreeNode& root);
// The edge's move followed by the most visited line below it, at most max_length moves.
std::vector<int> principal_variation(const TreeEdge& edge, int max_length);

}  // namespace tengen
