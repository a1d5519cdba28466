"""SGF write/read through sgfmill with tengen's rules."""

from __future__ import annotations

import pytest

from engine import _core
from engine.coords import parse_vertex
from engine.sgf_io import game_to_sgf, load_sgf, result_string


def test_round_trip_with_handicap_and_passes() -> None:
    game = _core.Game(9, 0.5)
    setup = [(1, parse_vertex("C3", 9)), (1, parse_vertex("G7", 9))]
    for c, m in setup:
        assert game.place_setup_stone(c, m)
    game.to_move = 2
    for c, v in [(2, "E5"), (1, "D4"), (2, "pass"), (1, "F6")]:
        game.play(c, parse_vertex(v, 9))
    data = game_to_sgf(game, setup, black="me", white="tengen", handicap=2)
    assert b"HA[2]" in data and b"AB[cg][gc]" in data.replace(b"\n", b"") and b"PB[me]" in data
    loaded = load_sgf(data)
    assert loaded.handicap == 2 and sorted(loaded.setup) == sorted(setup)
    assert loaded.game.moves() == game.moves()
    assert loaded.game.hash == game.hash and loaded.game.komi == 0.5
    assert load_sgf(data, move_limit=1).game.move_number == 1


def test_result_strings() -> None:
    assert result_string(3.5) == "B+3.5" and result_string(-0.5) == "W+0.5" and result_string(0.0) == "0"
    game = _core.Game(5, 0.5)
    game.play(1, parse_vertex("C3", 5))
    game.play(2, 25)
    game.play(1, 25)
    assert b"RE[B+24.5]" in game_to_sgf(game)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"(;GM[1]SZ[9];B[ee];W[e", "broken SGF"),
        (b"not an sgf at all", "broken SGF"),
        (b"(;GM[1]SZ[30];B[aa])", "size out of range"),
        (b"(;GM[1]SZ[9];B[ee];W[ee])", "move 2"),
        (b"(;GM[1]SZ[5]AB[aa][ba]AW[ab][bb][ca])", "setup"),
    ],
)
def test_broken_records_raise_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_sgf(data)
