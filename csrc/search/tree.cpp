// Tree of the batched search. Thread-safety: see tree.h.
#include "search/tree.h"

#include "search/candidates.h"

namespace tengen {

namespace {
// Floor under a prior before taking its log, so a zero prior gets a finite logit.
constexpr float kMinPriorForLog = 1e-12f;
}  // namespace

PuctParams puct_params(const SearchConfig& config) {
  PuctParams p;
  p.c_puct = config.c_puct;
  p.c_puct_base = config.c_puct_base;
  p.fpu_reduction = config.fpu_reduction;
  p.virtual_loss = config.virtual_loss;
  return p;
}

int select_child(const TreeNode& node, const PuctParams& params) {
  const PuctParent parent = puct_parent(node.n, node.value_sum, params);
  int best = -1;
  float best_score = kNoScore;
  for (size_t i = 0; i < node.edges.size(); ++i) {
    const TreeEdge& e = node.edges[i];
    const float score = puct_score(parent, e.n, e.w, e.vl, e.prior, params.virtual_loss);
    if (score > best_score) {
      best_score = score;
      best = static_cast<int>(i);
    }
  }
  return best;
}

void add_edges(TreeNode& node, const Board& board, Color to_move, const Game* superko_game,
               std::vector<int>& scratch) {
  candidate_points(board, to_move, superko_game, scratch);
  node.edges.clear();
  node.edges.reserve(scratch.size() + 1);
  for (int p : scratch) {
    TreeEdge e;
    e.move = board.to_index(p);
    node.edges.push_back(std::move(e));
  }
  TreeEdge pass;
  pass.move = board.num_points();
  node.edges.push_back(std::move(pass));
  node.state = NodeState::kWaiting;
}

void set_priors(TreeNode& node, const float* priors) {
  for (size_t i = 0; i < node.edges.size(); ++i) {
    node.edges[i].prior = priors[i];
    node.edges[i].logit = std::log(std::max(priors[i], kMinPriorForLog));
  }
  node.state = NodeState::kExpanded;
}

void backup(const std::vector<TreeNode*>& nodes, const std::vector<TreeEdge*>& edges, float leaf_value) {
  float v = leaf_value;
  for (size_t d = nodes.size(); d-- > 0;) {
    TreeNode* node = nodes[d];
    node->n += 1;
    node->value_sum += v;
    if (d > 0) {
      TreeEdge* e = edges[d - 1];
      e->vl -= 1;
      e->n += 1;
      e->w += -v;  // the edge's mover is the opponent of the player to move below it
    }
    v = -v;
  }
}

void release_virtual_loss(const std::vector<TreeEdge*>& edges) {
  for (TreeEdge* e : edges) e->vl -= 1;
}

std::unique_ptr<TreeNode> take_subtree(TreeNode& root, int move) {
  std::unique_ptr<TreeNode> next;
  for (TreeEdge& e : root.edges)
    if (e.move == move && e.child && e.child->state == NodeState::kExpanded) next = std::move(e.child);
  return next;
}

void drop_repeating_edges(TreeNode& root, const Game& game) {
  const Color c = game.to_move();
  const Board& b = game.board();
  const int pass_move = b.num_points();
  auto& edges = root.edges;
  edges.erase(std::remove_if(edges.begin(), edges.end(),
                             [&](const TreeEdge& e) {
                               return e.move != pass_move && game.repeats_position(b.from_index(e.move), c);
                             }),
              edges.end());
}

int most_visited_move(const TreeNode& root, int pass_move) {
  if (root.edges.empty()) return pass_move;
  const TreeEdge* best = &root.edges[0];
  for (const TreeEdge& e : root.edges) {
    if (e.n > best->n ||
        (e.n == best->n && (e.n == 0 ? e.prior > best->prior : e.w / e.n > best->w / best->n)))
      best = &e;
  }
  return best->move;
}

float best_visited_value(const TreeNode& root) {
  float best = -1.0f;
  for (const TreeEdge& e : root.edges)
    if (e.n > 0) best = std::max(best, e.mean_value());
  return best;
}

int max_edge_visits(const TreeNode& root) {
  int max_n = 0;
  for (const TreeEdge& e : root.edges) max_n = std::max(max_n, e.n);
  return max_n;
}

std::vector<int> principal_variation(const TreeEdge& edge, int max_length) {
  std::vector<int> pv{edge.move};
  const TreeNode* node = edge.child.get();
  while (node && node->state == NodeState::kExpanded && static_cast<int>(pv.size()) < max_length) {
    const TreeEdge* best = nullptr;
    for (const TreeEdge& x : node->edges)
      if (x.n > 0 && (!best || x.n > best->n)) best = &x;
    if (!best) break;
    pv.push_back(best->move);
    node = best->child.get();
  }
  return pv;
}

}  // namespace tengen
