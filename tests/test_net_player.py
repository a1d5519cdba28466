"""NetPlayer (batched search for one game) and the GUI analysis formats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import _core
from engine.analysis import Candidate, kata_line, lz_line
from engine.coords import parse_vertex
from engine.net_player import Budget, NetPlayer, load_net_player
from engine.nets import NetConfig, build_net
from engine.search import SearchSettings
from engine.weights import WeightsError, save_weights

ROLLOUTS = SearchSettings(visits=200, leaves_per_game=8, batch_size=8, policy="heuristic", use_value=False,
                          use_rollouts=True, fpu_reduction=-2.0)

LZ_ENTRY = re.compile(r"move (\S+) visits (\d+) winrate (\d+) prior (\d+) lcb (\d+) order (\d+) pv (.+)")


def test_tree_is_reused_between_moves() -> None:
    player = NetPlayer(ROLLOUTS, None)
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
    player = NetPlayer(ROLLOUTS, None)
    out = player.search(_core.Game(19, 7.5), Budget(seconds=0.3))
    assert out.visits > 0
    assert out.seconds < 5.0  # generous: the budget is 0.3 s


def test_no_search_plays_the_policy_move(tmp_path: Path) -> None:
    net = build_net(NetConfig(architecture="policy", board_size=5, feature_set="alphago", blocks=1, channels=8))
    weights = tmp_path / "p.safetensors"
    save_weights(weights, net)
    player = load_net_player(weights, None, SearchSettings(visits=1, use_value=False))
    game = _core.Game(5, 0.5)
    out = player.search(game, Budget(visits=400))
    assert out.visits == 1
    best_prior = max(out.candidates, key=lambda c: c.prior)
    assert out.move == best_prior.move


def test_net_player_rejects_wrong_board_size(tmp_path: Path) -> None:
    net = build_net(NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=1, channels=8))
    weights = tmp_path / "pv.safetensors"
    save_weights(weights, net)
    player = load_net_player(weights, weights, SearchSettings(visits=16))
    assert player.supports_size(5) and not player.supports_size(9)
    with pytest.raises(ValueError, match="5x5"):
        player.search(_core.Game(9, 7.5), Budget(visits=4))
    assert player.search(_core.Game(5, 0.5), Budget(visits=16)).visits == 16


def test_value_weights_required_for_value_settings(tmp_path: Path) -> None:
    net = build_net(NetConfig(architecture="policy", board_size=5, feature_set="alphago", blocks=1, channels=8))
    weights = tmp_path / "p.safetensors"
    save_weights(weights, net)
    with pytest.raises(ValueError, match="value weights"):
        load_net_player(weights, None, SearchSettings(visits=16, use_value=True))
    with pytest.raises(WeightsError):
        load_net_player(tmp_path / "missing.safetensors", None, SearchSettings(visits=16))


def test_lz_analyze_line_format() -> None:
    cands = [Candidate(parse_vertex("D4", 9), 120, 0.5312, 0.1203, (30, 40)), Candidate(81, 3, 0.2, 0.01, (81,))]
    line = lz_line(cands, 9)
    assert line.startswith("info ")
    entries = [LZ_ENTRY.fullmatch(chunk.strip()).groups() for chunk in line.split("info ")[1:]]
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
