"""A small pure-Python twin of the batched search's tree (csrc/search/tree.h) for parity tests.

It implements, in float64, the same PUCT score (c_puct, AlphaZero's c_puct_base growth, first-play
urgency with fpu_reduction, virtual loss), the same selection walk with collisions, expansion over
the same candidate moves (legal, not filling an own true eye; pass last) and the same backup sign
convention: a node's value_sum is for the player to move there, an edge's w for the player who
plays it. `TwinSearch` runs one game the way `BatchedSearch.gather` / `scatter` do (up to
`leaves_per_game` leaves per step, terminal leaves scored by area at once), so a test can drive both
with one deterministic evaluator and compare the statistics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine import _core

BLACK = 1
PASSES_TO_END = 2

# (planes [planes, size, size] float32, legal mask [size*size+1]) -> (logits [size*size+1], value for the mover)
Evaluate = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, float]]


@dataclass(frozen=True, kw_only=True)
class PuctParams:
    """The selection constants, as in SearchSettings."""

    c_puct: float = 1.5
    c_puct_base: float = 0.0
    fpu_reduction: float = 0.25
    virtual_loss: float = 3.0


@dataclass
class Edge:
    """One move out of a node: prior, completed visits n, value sum w for its mover, leaves in flight vl."""

    move: int
    prior: float = 0.0
    n: int = 0
    w: float = 0.0
    vl: int = 0
    child: Node | None = None


@dataclass
class Node:
    """A position: state 'new' | 'waiting' | 'expanded', visits n, value_sum for the player to move."""

    edges: list[Edge] = field(default_factory=list)
    state: str = "new"
    n: int = 0
    value_sum: float = 0.0

    def mean_value(self) -> float:
        return self.value_sum / self.n if self.n > 0 else 0.0


def puct_scores(
    visits: Sequence[int],
    value_sums: Sequence[float],
    in_flight: Sequence[int],
    priors: Sequence[float],
    parent_visits: int,
    parent_value_sum: float,
    params: PuctParams,
) -> list[float]:
    """Q + U of each child: Q = (w - vl*L) / (n + vl*L) once visited, else the parent's value minus
    fpu_reduction (minus L more while a leaf is in flight); U = c * sqrt(N) * prior / (1 + n + vl)."""
    n_parent = max(parent_visits, 1)
    c = params.c_puct
    if params.c_puct_base > 0:
        c += math.log((1 + n_parent + params.c_puct_base) / params.c_puct_base)
    u_scale = c * math.sqrt(n_parent)
    parent_q = parent_value_sum / parent_visits if parent_visits > 0 else 0.0
    fpu = parent_q - params.fpu_reduction
    loss = params.virtual_loss
    scores = []
    for n, w, vl, prior in zip(visits, value_sums, in_flight, priors, strict=True):
        q = (w - loss * vl) / (n + loss * vl) if n > 0 else fpu - (loss if vl > 0 else 0.0)
        scores.append(q + u_scale * prior / (1 + n + vl))
    return scores


def select_child(node: Node, params: PuctParams) -> int:
    """The index of the edge with the highest score, the first of equals (-1 without edges)."""
    scores = puct_scores(
        [e.n for e in node.edges], [e.w for e in node.edges], [e.vl for e in node.edges],
        [e.prior for e in node.edges], node.n, node.value_sum, params,
    )
    best, best_score = -1, -math.inf
    for i, s in enumerate(scores):
        if s > best_score:
            best, best_score = i, s
    return best


def backup(nodes: Sequence[Node], edges: Sequence[Edge], leaf_value: float) -> None:
    """nodes run root..leaf, edges[d] joins nodes[d] to nodes[d+1]; leaf_value is for the player to
    move at the leaf and flips sign at every level; the path's virtual loss comes off."""
    v = leaf_value
    for d in range(len(nodes) - 1, -1, -1):
        nodes[d].n += 1
        nodes[d].value_sum += v
        if d > 0:
            e = edges[d - 1]
            e.vl -= 1
            e.n += 1
            e.w += -v
        v = -v


def most_visited_line(edge: Edge, max_length: int) -> list[int]:
    """The edge's move and the most visited line below it (first of equals), as root_children's pv."""
    line = [edge.move]
    node = edge.child
    while node is not None and node.state == "expanded" and len(line) < max_length:
        best: Edge | None = None
        for e in node.edges:
            if e.n > 0 and (best is None or e.n > best.n):
                best = e
        if best is None:
            break
        line.append(best.move)
        node = best.child
    return line


@dataclass
class _Leaf:
    nodes: list[Node]
    edges: list[Edge]
    game: _core.Game
    terminal: bool


class TwinSearch:
    """One game searched like BatchedSearch with a network evaluator and the given feature set."""

    def __init__(self, game: _core.Game, evaluate: Evaluate, params: PuctParams, *, leaves_per_game: int = 1,
                 batch_size: int = 64, features: str = "raw") -> None:
        self.game = game.copy()
        self.evaluate = evaluate
        self.params = params
        self.leaves_per_game = leaves_per_game
        self.batch_size = batch_size
        self.features = features
        self.root = Node()
        self.in_flight = 0

    def _select(self) -> _Leaf | None:
        game = self.game.copy()
        node = self.root
        nodes, edges = [node], []
        passes = game.consecutive_passes
        at_game_end = passes >= PASSES_TO_END
        while node.state == "expanded" and not at_game_end:
            best = select_child(node, self.params)
            if best < 0:
                break
            e = node.edges[best]
            game.play(game.to_move, e.move)
            passes = passes + 1 if e.move == game.pass_move else 0
            e.vl += 1
            if e.child is None:
                e.child = Node()
            node = e.child
            edges.append(e)
            nodes.append(node)
            if passes >= PASSES_TO_END:
                break
        if node.state == "waiting" or (node.state == "expanded" and not at_game_end and passes < PASSES_TO_END):
            for e in edges:
                e.vl -= 1
            return None
        return _Leaf(nodes, edges, game, passes >= PASSES_TO_END)

    def _planes(self, game: _core.Game) -> tuple[np.ndarray, np.ndarray]:
        n = game.size
        planes = np.zeros((_core.num_planes(self.features), n, n), dtype=np.float32)
        _core.write_features(game, planes, self.features, 0)
        mask = np.zeros(n * n + 1, dtype=np.float32)
        _core.write_move_mask(game, mask, 0, True)
        return planes, mask

    def step(self, target_visits: int) -> None:
        """One gather + evaluate + scatter."""
        pending: list[tuple[_Leaf, np.ndarray, np.ndarray]] = []
        for _ in range(self.leaves_per_game):
            if len(pending) >= self.batch_size:
                break
            if self.root.n + self.in_flight >= max(target_visits, 1) and self.root.state == "expanded":
                break
            leaf = self._select()
            if leaf is None:
                break
            self.in_flight += 1
            if leaf.terminal:
                score = leaf.game.area_score()  # black minus white minus komi
                black = 1.0 if score > 0 else -1.0 if score < 0 else 0.0
                backup(leaf.nodes, leaf.edges, black if leaf.game.to_move == BLACK else -black)
                self.in_flight -= 1
                continue
            planes, mask = self._planes(leaf.game)
            node = leaf.nodes[-1]
            node.edges = [Edge(move=int(m)) for m in np.flatnonzero(mask)]  # dense order, pass last
            node.state = "waiting"
            pending.append((leaf, planes, mask))
        for leaf, planes, mask in pending:
            logits, value = self.evaluate(planes, mask)
            node = leaf.nodes[-1]
            chosen = np.array([logits[e.move] for e in node.edges], dtype=np.float64)
            priors = np.exp(chosen - chosen.max())
            priors /= priors.sum()
            for e, p in zip(node.edges, priors, strict=True):
                e.prior = float(p)
            node.state = "expanded"
            backup(leaf.nodes, leaf.edges, max(-1.0, min(1.0, value)))
            self.in_flight -= 1

    def run(self, visits: int) -> None:
        """Searches until the root is expanded and has `visits` visits."""
        while not (self.root.state == "expanded" and self.root.n >= visits):
            self.step(visits)
