"""NetSearchBackend (batched search for one game) and the GUI analysis formats."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import _core
from engine.analysis import Candidate, kata_line, lz_line
from engine.backends.base import Budget, SearchOutcome
from engine.backends.net import NetSearchBackend, load_net_backend
from engine.coords import parse_vertex
from engine.gtp import GtpConfig, GtpEngine
from engine.nets import NetConfig, build_net
from engine.player import Player, PlayerConfig
from engine.search import SearchSettings
from engine.weights import WeightsError, save_weights

ROLLOUTS = SearchSettings(visits=200, leaves_per_game=8, batch_size=8, policy="heuristic", use_value=False,
                          use_rollouts=True, fpu_reduction=-2.0)

LZ_ENTRY = re.compile(r"move (\S+) visits (\d+) winrate (\d+) prior (\d+) lcb (\d+) order (\d+) pv (.+)")


def test_tree_is_reused_between_moves() -> None:
    player = NetSearchBackend(ROLLOUTS, None)
    game = _core.Game(9, 7.5)
    first = player.search(game, Budget(visits=200))
    assert first.visits == 200
    game.play(1, first.move)
    reply = first.candidates[0].pv[1] if len(first.candidates[0].pv) > 1 else None
    if reply is not None:
        game.play(2, reply)
        second = player.search(game, Budget(visits=100))
        # The subtree below the two moves already held visits before this search added 100.
        assert second.visits > 100
    assert game.is_legal(game.to_move, player.search(game, Budget(visits=50)).move)


def test_time_budget_stops_the_search() -> None:
    player = NetSearchBackend(ROLLOUTS, None)
    out = player.search(_core.Game(19, 7.5), Budget(seconds=0.3))
    assert out.visits > 0
    assert out.seconds < 5.0  # generous: the budget is 0.3 s


def test_no_search_plays_the_policy_move(tmp_path: Path) -> None:
    net = build_net(NetConfig(architecture="policy", board_size=5, feature_set="alphago", blocks=1, channels=8))
    weights = tmp_path / "p.safetensors"
    save_weights(weights, net)
    player = load_net_backend(weights, None, SearchSettings(visits=1, use_value=False))
    game = _core.Game(5, 0.5)
    out = player.search(game, Budget(visits=400))
    assert out.visits == 1
    best_prior = max(out.candidates, key=lambda c: c.prior)
    assert out.move == best_prior.move


def test_net_player_rejects_wrong_board_size(tmp_path: Path) -> None:
    net = build_net(NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=1, channels=8))
    weights = tmp_path / "pv.safetensors"
    save_weights(weights, net)
    player = load_net_backend(weights, weights, SearchSettings(visits=16))
    assert player.supports_size(5) and not player.supports_size(9)
    with pytest.raises(ValueError, match="5x5"):
        player.search(_core.Game(9, 7.5), Budget(visits=4))
    assert player.search(_core.Game(5, 0.5), Budget(visits=16)).visits == 16


def test_value_weights_required_for_value_settings(tmp_path: Path) -> None:
    net = build_net(NetConfig(architecture="policy", board_size=5, feature_set="alphago", blocks=1, channels=8))
    weights = tmp_path / "p.safetensors"
    save_weights(weights, net)
    with pytest.raises(ValueError, match="value weights"):
        load_net_backend(weights, None, SearchSettings(visits=16, use_value=True))
    with pytest.raises(WeightsError):
        load_net_backend(tmp_path / "missing.safetensors", None, SearchSettings(visits=16))


def test_lz_analyze_line_format() -> None:
    cands = [Candidate(parse_vertex("D4", 9), 120, 0.5312, 0.1203, (30, 40)), Candidate(81, 3, 0.2, 0.01, (81,))]
    line = lz_line(cands, 9)
    assert line.startswith("info ")
    matches = [LZ_ENTRY.fullmatch(chunk.strip()) for chunk in line.split("info ")[1:]]
    entries = [m.groups() for m in matches if m is not None]
    assert len(entries) == len(matches)
    assert [e[0] for e in entries] == ["D4", "pass"]
    move, visits, winrate, prior, lcb, order, pv = entries[0]
    assert (visits, winrate, prior, order) == ("120", "5312", "1203", "0")
    assert 0 <= int(lcb) <= int(winrate)
    assert pv.split() == ["D6", "E5"]


def test_kata_analyze_line_format() -> None:
    cands = [Candidate(parse_vertex("C3", 5), 10, 0.75, 0.5, (12,))]
    line = kata_line(cands, 5, ownership=[0.5] * 25)
    assert line.startswith("info move C3 visits 10 utility 0.500000 winrate 0.750000 prior 0.500000")
    assert line.split(" ownership ")[1].split() == ["0.5000"] * 25
    assert "scoreLead" not in line


def test_min_moves_adds_unvisited_candidates() -> None:
    cands = [Candidate(0, 5, 0.5, 0.3, (0,)), Candidate(1, 0, 0.5, 0.2, (1,)), Candidate(2, 0, 0.5, 0.1, (2,))]
    assert lz_line(cands, 5).count("info move") == 1
    assert lz_line(cands, 5, min_moves=2).count("info move") == 2
    assert kata_line(cands, 5, max_moves=2, min_moves=3).count("info move") == 2


def _nan_weights(tmp_path: Path) -> Path:
    import torch

    net = build_net(NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=1, channels=8))
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(float("nan"))
    weights = tmp_path / "nan.safetensors"
    save_weights(weights, net)
    return weights


def _finishes(fn: Callable[[], object]) -> object:
    """fn's result, run on a thread; fails (instead of hanging the suite) if it never returns."""
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert result, "the search never returned"
    return result[0]


def test_a_network_with_nan_outputs_stops_the_search(tmp_path: Path) -> None:
    weights = _nan_weights(tmp_path)
    backend = load_net_backend(weights, weights, SearchSettings(visits=16))
    game = _core.Game(5, 0.5)
    out = _finishes(lambda: backend.search(game, Budget(visits=100_000)))
    assert isinstance(out, SearchOutcome)
    assert out.visits < 100_000 and game.is_legal(1, out.move)


def test_genmove_with_a_nan_network_answers(tmp_path: Path) -> None:
    weights = _nan_weights(tmp_path)
    player = Player(PlayerConfig(visits=500), backend=load_net_backend(weights, weights, SearchSettings(visits=16)))
    engine = GtpEngine(player, GtpConfig(size=5, komi=0.5), out=io.StringIO())
    for line in ("1 genmove b", "2 genmove w", "3 reg_genmove b", "4 kgs-genmove_cleanup b"):
        answer = _finishes(lambda line=line: engine.handle(line))  # type: ignore[misc]
        assert isinstance(answer, str) and answer[0] in "=?" and answer.endswith("\n\n"), (line, answer)
    assert engine.game.move_number >= 2
    out = io.StringIO()
    engine.out = out
    assert _finishes(lambda: engine.handle("5 lz-genmove_analyze b 10")) is None
    assert out.getvalue().startswith("=5\n") and out.getvalue().strip().splitlines()[-1].startswith("play ")


def test_selfplay_with_a_nan_network_stops_with_an_error(tmp_path: Path) -> None:
    from engine.evaluators import TorchEvaluator
    from engine.search import BatchedRunner, SearchStalled
    from engine.weights import load_net

    net = load_net(_nan_weights(tmp_path))
    runner = BatchedRunner(SearchSettings(visits=16, batch_size=16, features="raw"), 5, 0.5, 2,
                           TorchEvaluator(net, net))

    def play() -> object:
        try:
            return runner.play_selfplay(2)
        except SearchStalled as exc:
            return exc

    with runner:
        outcome = _finishes(play)
    assert isinstance(outcome, SearchStalled) and "finite" in str(outcome)
