"""Batched PUCT / APV-MCTS search (csrc/search/batched.*) driven through engine.search."""

from __future__ import annotations

import threading
from dataclasses import replace as dataclasses_replace
from typing import Any

import numpy as np
import pytest

from engine import _core
from engine.coords import format_vertex, parse_vertex
from engine.errors import ConfigError
from engine.search import BatchedRunner, SearchSettings, UniformEvaluator

ROLLOUTS_HEURISTIC: dict[str, Any] = {"policy": "heuristic", "use_value": False, "use_rollouts": True}


def replay(size: int, komi: float, moves: str) -> _core.Game:
    game = _core.Game(size, komi)
    for i, v in enumerate(moves.split()):
        game.play(1 + i % 2, parse_vertex(v, size))
    return game


def setup(size: int, komi: float, black: str, white: str, to_move: int) -> _core.Game:
    game = _core.Game(size, komi)
    for v in black.split():
        assert game.place_setup_stone(1, parse_vertex(v, size))
    for v in white.split():
        assert game.place_setup_stone(2, parse_vertex(v, size))
    game.to_move = to_move
    return game


def best_after(game: _core.Game, visits: int, seed: int, **kw: object) -> str:
    runner = BatchedRunner(SearchSettings(visits=visits, seed=seed, **kw), game.size, game.komi, 1)  # type: ignore[arg-type]
    runner.search_position(game, visits)
    return format_vertex(runner.search.best_move(0), game.size)


def test_visit_counts_add_up() -> None:
    game = _core.Game(9, 7.5)
    runner = BatchedRunner(SearchSettings(visits=300, leaves_per_game=4, **ROLLOUTS_HEURISTIC), 9, 7.5, 1)
    runner.search_position(game, 300)
    children = runner.search.root_children(0)
    assert runner.search.root_visits(0) == 300
    # The root's first evaluation is its own visit; every later one went through a child.
    assert sum(c.visits for c in children) == 299
    assert all(-1.0 <= c.q <= 1.0 for c in children)
    assert abs(sum(c.prior for c in children) - 1.0) < 1e-4
    assert {c.move for c in children} <= set(game.legal_moves(1))


def test_captures_the_group_in_atari() -> None:
    # White C4-D4-E4 has one liberty, E3; taking it (or E2, which leaves it one) wins.
    game = setup(7, 9.5, "C5 D5 E5 B4 F4 C3 D3", "C4 D4 E4", to_move=1)
    picks = [best_after(game, 800, seed, **ROLLOUTS_HEURISTIC) for seed in (1, 2, 3)]
    assert sum(p in ("E3", "E2") for p in picks) >= 2, picks


@pytest.mark.parametrize("policy", ["heuristic", "uniform"])
def test_only_winning_point_5x5(policy: str) -> None:
    # White to move; C2 is the only move that wins (checked with 60k-playout UCT searches).
    game = replay(5, 0.5, "A4 E1 E4 B3 D4 C4 D2 B5 D5 E3 C3 B2 D1 C5 A1")
    kw = {"policy": policy, "use_value": False, "use_rollouts": True, "fpu_reduction": -2.0}
    picks = [best_after(game, 1500, seed, **kw) for seed in (1, 2, 3)]
    assert picks.count("C2") >= 2, picks


def capture_loving_rollout_policy() -> _core.RolloutPolicy:
    """A rollout policy whose patterns favour captures and saving chains in atari."""
    layout = {name: (start, count) for name, start, count in _core.rollout_feature_layout()}
    w = np.zeros(_core.ROLLOUT_FEATURES, np.float32)
    for name in ("capture", "save"):
        start, count = layout[name]
        w[start : start + count] = 8.0
    return _core.RolloutPolicy(w)


def test_rollout_policy_gives_the_priors() -> None:
    game = setup(7, 9.5, "C5 D5 E5 B4 F4 C3 D3", "C4 D4 E4", to_move=1)
    settings = SearchSettings(visits=2, policy="rollout", use_value=False, use_rollouts=True, seed=1)
    runner = BatchedRunner(settings, 7, 9.5, 1, None, capture_loving_rollout_policy())
    runner.search_position(game, 2)
    children = runner.search.root_children(0)
    best = max(children, key=lambda c: c.prior)
    assert format_vertex(best.move, 7) == "E3" and best.prior > 0.9  # the capture
    assert abs(sum(c.prior for c in children) - 1.0) < 1e-4
    assert {c.move for c in children} == set(game.legal_moves(1))  # every legal move stays reachable
    # And the search with those priors finds the capture in a small budget.
    runner = BatchedRunner(dataclasses_replace(settings, visits=64), 7, 9.5, 1, None, capture_loving_rollout_policy())
    runner.search_position(game, 64)
    assert format_vertex(runner.search.best_move(0), 7) in ("E3", "E2")


def test_rollout_policy_plays_the_rollouts_reproducibly() -> None:
    game = replay(9, 7.5, "E5 C3 G7")
    settings = SearchSettings(visits=300, policy="uniform", use_value=False, use_rollouts=True, seed=5,
                              leaves_per_game=8, batch_size=8)

    def stats(policy: _core.RolloutPolicy | None) -> list[tuple[int, int, float]]:
        runner = BatchedRunner(settings, 9, 7.5, 1, None, policy)
        assert runner.search.has_rollout_policy == (policy is not None)
        runner.search_position(game, 300)
        return [(c.move, c.visits, round(c.q, 6)) for c in runner.search.root_children(0)]

    trained = stats(capture_loving_rollout_policy())
    assert trained == stats(capture_loving_rollout_policy())  # same seed, same rollouts
    assert trained != stats(None)  # the policy, not the light playouts, played them


def test_rollout_priors_need_a_rollout_policy() -> None:
    with pytest.raises(ConfigError, match="rollout"):
        BatchedRunner(SearchSettings(visits=8, policy="rollout", use_value=False, use_rollouts=True), 9, 7.5, 1)
    core = _core.BatchedSearch(SearchSettings(visits=8, policy="rollout", use_value=False,
                                              use_rollouts=True).to_core(), 9, 7.5, 1)
    with pytest.raises(RuntimeError, match="rollout"):
        core.gather(0)


def test_same_seed_same_search_with_rollout_threads() -> None:
    game = replay(9, 7.5, "E5 C3 G7")
    results = []
    for _ in range(2):
        settings = SearchSettings(visits=400, leaves_per_game=8, rollout_threads=2, seed=11, **ROLLOUTS_HEURISTIC)
        runner = BatchedRunner(settings, 9, 7.5, 1)
        runner.search_position(game, 400)
        results.append([(c.move, c.visits, round(c.q, 6)) for c in runner.search.root_children(0)])
    assert results[0] == results[1]


def search_more(runner: BatchedRunner, visits: int) -> None:
    """Searches game 0 on from its current (possibly reused) tree until `visits` root visits."""
    runner.search.set_target_visits(0, visits)
    runner.run(lambda: not runner.search.search_done(0))


def test_rollout_pool_gives_the_same_search_for_any_thread_count() -> None:
    # Each leaf's rollout has its own seed: the persistent pool may hand it to any thread, so one,
    # two or four threads must back up the same values, gather after gather and move after move.
    game = replay(9, 7.5, "E5 C3")
    results = []
    for threads in (1, 2, 4):
        settings = SearchSettings(visits=160, leaves_per_game=16, batch_size=16, rollout_threads=threads, seed=4,
                                  **ROLLOUTS_HEURISTIC)
        with BatchedRunner(settings, 9, 7.5, 1) as runner:
            runner.search.set_position(0, game)
            lines = []
            for _ in range(3):
                search_more(runner, 160)
                lines.append([(c.move, c.visits, round(c.q, 6)) for c in runner.search.root_children(0)])
                assert runner.search.advance(0, runner.search.best_move(0))
        results.append(lines)
    assert results[0] == results[1] == results[2]


def test_selfplay_round_trip_is_reproducible() -> None:
    settings = SearchSettings(visits=24, batch_size=8, temperature_moves=6, root_noise=True, dirichlet_alpha=0.3,
                              max_moves=60, cache_size=10000, seed=5)
    runs = []
    for _ in range(2):
        with BatchedRunner(settings, 7, 7.5, 4, UniformEvaluator()) as runner:
            games = runner.play_selfplay(6)
            runs.append(games)
            assert runner.search.evaluations > 0
    assert len(runs[0]) == 6
    assert [g["moves"] for g in runs[0]] == [g["moves"] for g in runs[1]]
    for g in runs[0]:
        assert g["policy"].shape == (len(g["moves"]), 50)
        np.testing.assert_allclose(g["policy"].sum(axis=1), 1.0, rtol=1e-4)
        assert g["winner"] in (-1, 0, 1)
        # Every recorded move was legal in order.
        replay_game = _core.Game(7, 7.5)
        for i, m in enumerate(g["moves"]):
            replay_game.play(1 + i % 2, m)


def test_network_batch_is_written_and_read() -> None:
    """A fake network that prefers one point: the search must follow its priors."""
    target = parse_vertex("C3", 5)

    class Prefers:
        calls = 0

        def evaluate(self, inputs: np.ndarray, masks: np.ndarray, policy: np.ndarray, values: np.ndarray) -> None:
            Prefers.calls += 1
            assert inputs.shape[1:] == (48, 5, 5)
            assert np.all(inputs[:, 3] == 1.0)  # the ones plane
            assert np.all(masks.sum(axis=1) >= 1)  # pass is always legal
            policy[...] = -5.0
            values[...] = 0.0
            # Symmetries are undone by C++: put the logit where the mask says C3 is, per row.
            for i in range(len(policy)):
                for s in range(8):
                    j = _core.symmetry_index(target, s, 5)
                    policy[i, j] = 5.0

    runner = BatchedRunner(SearchSettings(visits=50, batch_size=16, leaves_per_game=16), 5, 0.5, 1, Prefers())
    runner.search_position(_core.Game(5, 0.5), 50)
    assert Prefers.calls > 0
    assert runner.search.best_move(0) == target


def test_gather_releases_the_gil() -> None:
    settings = SearchSettings(visits=100000, leaves_per_game=2000, batch_size=2000, rollout_threads=1,
                              **ROLLOUTS_HEURISTIC)
    runner = BatchedRunner(settings, 19, 7.5, 1)
    runner.search.set_position(0, _core.Game(19, 7.5))
    runner.search.set_target_visits(0, 100000)
    runner.search.gather(0)  # evaluates the root
    counter = {"n": 0}
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            counter["n"] += 1

    t = threading.Thread(target=spin)
    t.start()
    before = counter["n"]
    runner.search.gather(0)  # ~2000 rollouts on 19x19, well over the GIL switch interval
    during = counter["n"] - before
    stop.set()
    t.join()
    assert during > 1000


class ThreadRecorder:
    """A uniform network that records which thread called it and how many leaves are in flight."""

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.lock = threading.Lock()
        self.busy = 0
        self.most_busy = 0

    def evaluate(self, inputs: np.ndarray, masks: np.ndarray, policy: np.ndarray, values: np.ndarray) -> None:
        with self.lock:
            self.threads.add(threading.get_ident())
            self.busy += 1
            self.most_busy = max(self.most_busy, self.busy)
        policy[...] = 0.0
        values[...] = 0.0
        with self.lock:
            self.busy -= 1


@pytest.mark.parametrize("overlap", [True, False])
def test_apv_overlap_and_serial_modes(overlap: bool) -> None:
    """The overlapped loop (APV) evaluates on its evaluation thread while this thread gathers, the
    serial one on the calling thread, one slot at a time; both reach the visit target and the
    serial search is reproducible."""
    def search() -> tuple[ThreadRecorder, list[tuple[int, int]]]:
        rec = ThreadRecorder()
        settings = SearchSettings(visits=300, batch_size=8, leaves_per_game=8, use_rollouts=True, seed=3)
        runner = BatchedRunner(settings, 9, 7.5, 1, rec)
        runner.search_position(_core.Game(9, 7.5), 300, overlap=overlap)
        assert runner.search.root_visits(0) >= 300
        children = sorted((c.move, c.visits) for c in runner.search.root_children(0))
        runner.close()
        return rec, children

    rec, first = search()
    assert rec.threads
    assert (threading.get_ident() in rec.threads) is not overlap
    assert rec.most_busy == 1
    if not overlap:
        assert search()[1] == first


def test_gumbel_small_budget_plays_legal_games() -> None:
    settings = SearchSettings(visits=4, gumbel=True, gumbel_considered=4, batch_size=8, max_moves=40, seed=3)
    with BatchedRunner(settings, 5, 0.5, 2, UniformEvaluator()) as runner:
        games = runner.play_selfplay(2)
    assert len(games) == 2
    for g in games:
        replay_game = _core.Game(5, 0.5)
        for i, m in enumerate(g["moves"]):
            replay_game.play(1 + i % 2, m)
        np.testing.assert_allclose(g["policy"].sum(axis=1), 1.0, rtol=1e-4)


def test_terminal_positions_resolved_in_cpp() -> None:
    game = replay(5, 0.5, "C3 pass")  # black can end the game by passing
    settings = SearchSettings(visits=200, fpu_reduction=-2.0, **ROLLOUTS_HEURISTIC)  # try every move once
    runner = BatchedRunner(settings, 5, 0.5, 1)
    runner.search_position(game, 200)
    assert runner.search.terminal_hits > 0
    # Black owns the whole board by area (25 - 0.5): passing ends the game with a sure win.
    passing = [c for c in runner.search.root_children(0) if c.move == 25]
    assert passing and passing[0].visits > 0 and passing[0].q == 1.0


def test_resignation_and_no_resign_games() -> None:
    settings = SearchSettings(visits=16, batch_size=8, resign_threshold=0.99, no_resign_fraction=0.5,
                              max_moves=30, seed=9)
    with BatchedRunner(settings, 5, 0.5, 2, UniformEvaluator()) as runner:
        games = runner.play_selfplay(8)
    assert len(games) == 8
    resigned = [g for g in games if g["resigned"]]
    kept = [g for g in games if g["no_resign"]]
    assert resigned and kept  # threshold 0.99 means everyone wants to resign at once
    assert all(not g["resigned"] for g in kept)
    assert all(g["would_resign"] != 0 for g in kept)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"visits": 0}, "visits"),
        ({"use_value": False, "use_rollouts": False}, "needs the value net"),
        ({"lambda_": 1.5}, "lambda_"),
        ({"policy": "magic"}, "policy"),
        ({"features": "nonexistent"}, "features"),
    ],
)
def test_bad_settings_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SearchSettings(**kwargs)


def test_settings_from_mapping() -> None:
    s = SearchSettings.from_mapping({"visits": 32, "lambda": 0.25, "use_rollouts": True})
    assert s.visits == 32 and s.lambda_ == 0.25
    with pytest.raises(ConfigError, match="unknown key 'visist'"):
        SearchSettings.from_mapping({"visist": 3})
    with pytest.raises(ConfigError, match="must be an integer"):
        SearchSettings.from_mapping({"visits": "many"})
    with pytest.raises(ConfigError, match="needs a network"):
        BatchedRunner(SearchSettings(), 9, 7.5, 1, None)


@pytest.mark.parametrize("features", ["alphago", "raw"])
def test_leaf_planes_match_training_features(features: str) -> None:
    """Search leaves are encoded by the same C++ code as training positions (features.cpp)."""
    captured: list[np.ndarray] = []

    class Capture:
        def evaluate(self, inputs: np.ndarray, masks: np.ndarray, policy: np.ndarray, values: np.ndarray) -> None:
            captured.append(inputs.copy())
            policy[...] = 0.0
            values[...] = 0.0

    game = replay(7, 7.5, "D4 C3 E5 pass C5 D3")
    settings = SearchSettings(visits=2, features=features, random_symmetry=False)
    runner = BatchedRunner(settings, 7, 7.5, 1, Capture())
    runner.search_position(game, 2)
    assert len(captured) == 2
    planes = _core.num_planes(features)
    expected = np.zeros((planes, 7, 7), dtype=np.float32)
    _core.write_features(game, expected, features, 0)
    np.testing.assert_array_equal(captured[0][0], expected)
    child = [c for c in runner.search.root_children(0) if c.visits == 1][0]
    after = game.copy()
    after.play(after.to_move, child.move)
    _core.write_features(after, expected, features, 0)
    np.testing.assert_array_equal(captured[1][0], expected)


@pytest.mark.parametrize("size", [4, 5])
def test_reused_tree_never_offers_a_superko_move(size: int) -> None:
    """A subtree reused as the root was expanded without the superko test; its repeating edges
    must be dropped, or self-play picks an illegal move and loops forever (regression: a noisy
    net on 4x4/5x5 with playout cap randomisation ran out of memory)."""

    class Noisy:
        def __init__(self) -> None:
            self.rng = np.random.default_rng(0)

        def evaluate(self, inputs: np.ndarray, masks: np.ndarray, policy: np.ndarray, values: np.ndarray) -> None:
            policy[...] = self.rng.normal(0.0, 2.0, policy.shape)
            values[...] = self.rng.uniform(-1.0, 1.0, values.shape)

    settings = SearchSettings(visits=16, batch_size=16, fast_visits=4, full_search_prob=0.5, temperature_moves=6,
                              features="raw", seed=1)
    with BatchedRunner(settings, size, 0.5, 16, Noisy()) as runner:
        games = runner.play_selfplay(400)
    assert len(games) == 400
    for g in games:
        game = _core.Game(size, 0.5)
        for m in g["moves"]:
            assert game.is_legal(game.to_move, m)
            game.play(game.to_move, m)
