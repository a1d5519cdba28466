"""The C++ batched search against its pure-Python twin (tests/puct_twin.py): the PUCT formula on
random statistics, and whole searches driven by one deterministic evaluator, which must end with
the same visits, values, priors and principal variations."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from engine import _core
from engine.search import SearchSettings
from tests.puct_twin import Edge, Node, PuctParams, TwinSearch, backup, most_visited_line, puct_scores, select_child

FEATURES = "raw"


def hashed_evaluation(planes: np.ndarray, policy_size: int) -> tuple[np.ndarray, float]:
    """Logits and a value drawn from a seed that the stones alone decide, so the C++ leaf planes and
    the twin's planes of the same position get the same answer."""
    rng = np.random.default_rng(zlib.crc32(np.ascontiguousarray(planes[:2]).tobytes()))
    logits = rng.normal(size=policy_size).astype(np.float32)
    return logits, float(np.float32(rng.uniform(-0.9, 0.9)))


class HashedEvaluator:
    def evaluate(self, inputs: np.ndarray, masks: np.ndarray, policy: np.ndarray, values: np.ndarray) -> None:
        for i in range(inputs.shape[0]):
            policy[i], values[i] = hashed_evaluation(inputs[i], policy.shape[1])


def twin_evaluate(planes: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float]:
    return hashed_evaluation(planes, mask.shape[0])


def core_search(game: _core.Game, settings: SearchSettings) -> _core.BatchedSearch:
    """Runs the C++ search on game index 0, one gather / evaluate / scatter at a time."""
    search = _core.BatchedSearch(settings.to_core(), game.size, game.komi, 1)
    b, p = settings.batch_size, search.policy_size
    buffers = [np.zeros((b, search.planes, game.size, game.size), np.float32), np.zeros((b, p), np.float32),
               np.zeros((b, p), np.float32), np.zeros((b,), np.float32)]
    search.set_buffers(0, *buffers)
    search.set_position(0, game)
    search.set_target_visits(0, settings.visits)
    evaluator = HashedEvaluator()
    while not search.search_done(0):
        n = search.gather(0)
        evaluator.evaluate(buffers[0][:n], buffers[1][:n], buffers[2][:n], buffers[3][:n])
        search.scatter(0, n)
    return search


def position(size: int, moves: list[tuple[int, int]], komi: float = 0.5) -> _core.Game:
    game = _core.Game(size, komi)
    for x, y in moves:
        game.play(game.to_move, game.pass_move if x < 0 else x + y * size)
    return game


POSITIONS = {
    "empty": position(5, []),
    "opening": position(5, [(2, 2), (1, 2), (2, 1), (1, 1)]),
    "after_a_pass": position(5, [(2, 2), (1, 2), (2, 1), (-1, -1)]),  # a pass now ends the game
}

SETTINGS = {
    "plain": {},
    "no_fpu_reduction": {"fpu_reduction": 0.0, "c_puct": 2.5},
    "c_puct_growth": {"c_puct_base": 8.0, "c_puct": 0.8},
    "virtual_loss": {"leaves_per_game": 6, "batch_size": 6, "virtual_loss": 1.0},
    "heavy_virtual_loss": {"leaves_per_game": 4, "batch_size": 3, "virtual_loss": 3.0, "fpu_reduction": 0.5},
}


@pytest.mark.parametrize("settings_name", SETTINGS)
@pytest.mark.parametrize("position_name", POSITIONS)
def test_cpp_search_matches_the_twin(position_name: str, settings_name: str) -> None:
    game = POSITIONS[position_name]
    kw = SETTINGS[settings_name]
    visits = 120
    settings = SearchSettings(visits=visits, features=FEATURES, random_symmetry=False, **kw)  # type: ignore[arg-type]
    params = PuctParams(c_puct=settings.c_puct, c_puct_base=settings.c_puct_base,
                        fpu_reduction=settings.fpu_reduction, virtual_loss=settings.virtual_loss)
    twin = TwinSearch(game, twin_evaluate, params, leaves_per_game=settings.leaves_per_game,
                      batch_size=settings.batch_size, features=FEATURES)
    twin.run(visits)
    search = core_search(game, settings)

    assert search.root_visits(0) == twin.root.n
    assert search.root_value(0) == pytest.approx(twin.root.mean_value(), abs=1e-4)
    ours = {e.move: e for e in twin.root.edges}
    theirs = {c.move: c for c in search.root_children(0, 8)}
    assert set(theirs) == set(ours)
    for move, child in theirs.items():
        edge = ours[move]
        assert child.visits == edge.n, f"move {move}"
        assert child.prior == pytest.approx(edge.prior, abs=1e-5), f"move {move}"
        assert child.q == pytest.approx(edge.w / edge.n if edge.n else 0.0, abs=1e-4), f"move {move}"
        assert child.pv == most_visited_line(edge, 8), f"move {move}"
    # The search spread its visits (a twin that agreed only on one forced line would prove little).
    assert sum(1 for e in twin.root.edges if e.n > 0) >= 3


def test_a_terminal_pass_is_scored_for_the_mover() -> None:
    # White passed; black passing too ends the game, and black (ahead on the board) wins it.
    game = POSITIONS["after_a_pass"]
    assert game.area_score() > 0
    search = core_search(game, SearchSettings(visits=60, features=FEATURES, random_symmetry=False,
                                              fpu_reduction=-2.0))
    passing = next(c for c in search.root_children(0) if c.move == game.pass_move)
    assert passing.visits > 0 and passing.q == pytest.approx(1.0)


def test_puct_scores_match_the_twin_on_random_statistics() -> None:
    rng = np.random.default_rng(7)
    agree = 0
    for trial in range(300):
        k = int(rng.integers(1, 12))
        visits = rng.integers(0, 30, size=k)
        visits[rng.random(k) < 0.3] = 0
        values = [float(rng.uniform(-1, 1) * n) for n in visits]
        in_flight = rng.integers(0, 3, size=k) * (rng.random(k) < 0.4)
        priors = rng.dirichlet(np.ones(k)).tolist()
        parent = int(visits.sum() + rng.integers(0, 3))
        parent_sum = float(rng.uniform(-1, 1) * parent)
        params = PuctParams(c_puct=float(rng.uniform(0.3, 4)), c_puct_base=float(rng.choice([0.0, 5.0, 19652.0])),
                            fpu_reduction=float(rng.uniform(-0.5, 1)), virtual_loss=float(rng.choice([0.0, 1.0, 3.0])))
        cpp = _core.puct_scores(visits.tolist(), values, in_flight.tolist(), priors, parent, parent_sum,
                                params.c_puct, params.c_puct_base, params.fpu_reduction, params.virtual_loss)
        twin = puct_scores(visits.tolist(), values, in_flight.tolist(), priors, parent, parent_sum, params)
        assert np.allclose(cpp, twin, rtol=1e-5, atol=1e-5), f"trial {trial}"
        ranked = sorted(twin, reverse=True)
        if k > 1 and ranked[0] - ranked[1] > 1e-4:
            assert int(np.argmax(cpp)) == int(np.argmax(twin)), f"trial {trial}"
            agree += 1
    assert agree > 200


def test_puct_scores_rejects_ragged_arrays() -> None:
    with pytest.raises(ValueError, match="same length"):
        _core.puct_scores([1, 2], [0.5], [0, 0], [0.5, 0.5], 3, 0.0, 1.5, 0.0, 0.25, 3.0)


def test_twin_backup_flips_the_sign_per_level() -> None:
    root, middle, leaf = Node(), Node(), Node()
    first, second = Edge(move=0, vl=1), Edge(move=1, vl=1)
    backup([root, middle, leaf], [first, second], 0.5)
    assert (leaf.n, leaf.value_sum) == (1, 0.5)
    assert (second.n, second.w, second.vl) == (1, -0.5, 0)  # played by the opponent of the leaf's mover
    assert (middle.n, middle.value_sum) == (1, -0.5)
    assert (first.n, first.w, first.vl) == (1, 0.5, 0)
    assert (root.n, root.value_sum) == (1, 0.5)


def test_twin_selection_prefers_visited_winners_and_counts_virtual_loss() -> None:
    node = Node(n=10, value_sum=0.0, state="expanded",
                edges=[Edge(move=0, prior=0.5, n=5, w=2.5), Edge(move=1, prior=0.5, n=5, w=-1.0)])
    params = PuctParams(c_puct=1.0, fpu_reduction=0.0, virtual_loss=3.0)
    assert select_child(node, params) == 0
    node.edges[0].vl = 2  # two leaves in flight count as six lost visits
    assert select_child(node, params) == 1
