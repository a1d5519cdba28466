"""SGF write/read through sgfmill with tengen's rules: round trips, handicap, broken records."""

from __future__ import annotations

import pytest
from sgfmill import sgf

from engine import _core
from engine.coords import parse_vertex
from engine.sgf import (
    BY_RESIGNATION,
    BY_TIME,
    SgfRecord,
    game_to_sgf,
    load_sgf,
    parse_score,
    record_to_sgf,
    result_string,
    result_winner,
    win_string,
)


def test_round_trip_with_handicap_and_passes() -> None:
    game = _core.Game(9, 0.5)
    setup = [(1, parse_vertex("C3", 9)), (1, parse_vertex("G7", 9))]
    for c, m in setup:
        assert game.place_setup_stone(c, m)
    game.to_move = 2
    for c, v in [(2, "E5"), (1, "D4"), (2, "pass"), (1, "F6")]:
        game.play(c, parse_vertex(v, 9))
    data = game_to_sgf(game, setup, black="me", white="tengen", handicap=2)
    flat = data.replace(b"\n", b"")
    assert b"HA[2]" in flat and b"AB[cg][gc]" in flat and b"PB[me]" in flat and b"PW[tengen]" in flat
    assert b"SZ[9]" in flat and b"KM[0.5]" in flat and b"RU[Chinese]" in flat and b"RE[" not in flat
    loaded = load_sgf(data)
    assert loaded.handicap == 2 and sorted(loaded.setup) == sorted(setup)
    assert loaded.game.moves() == game.moves()
    assert loaded.game.hash == game.hash and loaded.game.komi == 0.5 and loaded.game.to_move == 2
    before_first = load_sgf(data, move_limit=0)
    assert before_first.game.move_number == 0 and before_first.game.to_move == 2  # white moves first
    assert load_sgf(data, move_limit=1).game.move_number == 1


def test_handicap_without_moves_gives_white_the_move() -> None:
    game = _core.Game(19, 0.5)
    setup = [(1, parse_vertex(v, 19)) for v in ("D4", "Q16", "D16", "Q4")]
    for c, m in setup:
        game.place_setup_stone(c, m)
    game.to_move = 2
    loaded = load_sgf(game_to_sgf(game, setup, handicap=4))
    assert loaded.game.to_move == 2 and loaded.handicap == 4
    assert int((loaded.game.board() == 1).sum()) == 4


@pytest.mark.parametrize("size", [2, 5, 19, 25])
def test_round_trip_random_games_every_size(size: int) -> None:
    game = _core.Game(size, 7.5)
    for i in range(3 * size):
        if game.is_over:
            break
        game.play(game.to_move, game.random_move(game.to_move, i))
    loaded = load_sgf(game_to_sgf(game))
    assert loaded.game.moves() == game.moves() and loaded.game.hash == game.hash
    assert loaded.game.captures(1) == game.captures(1) and loaded.game.captures(2) == game.captures(2)


def test_captures_survive_the_round_trip() -> None:
    game = _core.Game(5, 7.5)
    for c, v in [(2, "A1"), (1, "A2"), (2, "E5"), (1, "B1")]:  # black captures A1
        game.play(c, parse_vertex(v, 5))
    loaded = load_sgf(game_to_sgf(game)).game
    assert loaded.board()[4, 0] == 0 and loaded.captures(1) == 1


def test_result_strings() -> None:
    assert result_string(3.5) == "B+3.5" and result_string(-0.5) == "W+0.5" and result_string(0.0) == "0"
    game = _core.Game(5, 0.5)
    game.play(1, parse_vertex("C3", 5))
    game.play(2, 25)
    game.play(1, 25)
    assert b"RE[B+24.5]" in game_to_sgf(game)  # over: the result comes from the final score
    assert b"RE[W+R]" in game_to_sgf(game, result="W+R")


def test_records_made_by_other_programs_load() -> None:
    record = sgf.Sgf_game(size=9)
    record.get_root().set("KM", 6.5)
    for colour, point in [("b", (4, 4)), ("w", (2, 2)), ("b", None)]:
        record.extend_main_sequence().set_move(colour, point)
    loaded = load_sgf(record.serialise())
    assert loaded.game.move_number == 3 and loaded.game.komi == 6.5
    assert loaded.game.board()[4, 4] == 1 and loaded.game.board()[6, 2] == 2
    # Variations: the main line is replayed.
    assert load_sgf(b"(;SZ[9];B[aa](;W[bb];B[cc])(;W[dd]))").game.move_number == 3


@pytest.mark.parametrize(
    "data, message",
    [
        (b"(;GM[1]SZ[9];B[ee];W[e", "broken SGF: unexpected end"),  # truncated
        (b"(;GM[1]SZ[9];B[ee];W[dd]", "broken SGF"),  # truncated, no closing bracket
        (b"", "broken SGF: no SGF data"),
        (b"not an sgf at all", "broken SGF"),
        (b"(;GM[2]SZ[9];B[aa])", "not a Go record"),
        (b"(;GM[1]SZ[30];B[aa])", "size out of range"),
        (b"(;GM[1]SZ[abc])", "bad SZ"),
        (b"(;GM[1]SZ[9]KM[lots];B[ee])", r"bad komi KM\[lots\]"),
        (b"(;GM[1]SZ[9]HA[two])", "bad handicap"),
        (b"(;GM[1]SZ[9];B[ee];W[zz])", r"move 2: bad coordinates W\[zz\] for a 9x9 board"),
        (b"(;GM[1]SZ[9];B[e])", r"move 1: bad coordinates B\[e\]"),
        (b"(;GM[1]SZ[9]AB[jj])", r"setup: bad coordinates AB\[jj\]"),
        (b"(;GM[1]SZ[9];B[ee];W[ee])", r"move 2 \(W\[ee\]\) is illegal: occupied"),
        (b"(;GM[1]SZ[9];B[ee];W[dd];B[cc]W[ff])", "move 3: one node holds both"),
        (b"(;GM[1]SZ[5]AB[aa][ba]AW[ab][bb][ca])", "setup stones are not a legal position"),
        (b"(;GM[1]SZ[9];B[ee];AB[aa])", "setup stones .* only supported before the first move"),
        (b"(;GM[1]SZ[9]PL[X])", "bad PL"),
    ],
)
def test_broken_records_raise_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_sgf(data)


def test_suicide_in_a_record_names_the_move() -> None:
    with pytest.raises(ValueError, match=r"move 1 \(W\[aa\]\) is illegal: suicide"):
        load_sgf(b"(;GM[1]SZ[9]AB[ba][ab];W[aa])")



def test_win_strings_and_parsing_results() -> None:
    assert win_string(_core.WHITE, BY_RESIGNATION) == "W+R" and win_string(_core.BLACK, BY_TIME) == "B+T"
    assert win_string(_core.BLACK) == "B+"
    with pytest.raises(ValueError):
        win_string(0, "R")
    assert parse_score("B+3.5") == 3.5 and parse_score(" w+2 ") == -2.0
    assert parse_score("0") == 0.0 and parse_score("Draw") == 0.0 and parse_score("jigo") == 0.0
    for text in ("B+R", "W+", "Void", "", "X+3", "B+nan", "B+inf"):
        with pytest.raises(ValueError, match="unreadable score"):
            parse_score(text)
    assert [result_winner(t) for t in ("B+R", "w+0.5", "0", "Void", "", None)] == [1, -1, 0, 0, 0, 0]


def test_written_record_reads_back_with_every_field() -> None:
    size = 5
    moves = [(_core.WHITE, parse_vertex("C3", size)), (_core.BLACK, parse_vertex("D4", size)), (_core.WHITE, 25)]
    setup = [(_core.BLACK, parse_vertex("B2", size)), (_core.BLACK, parse_vertex("D2", size))]
    record = SgfRecord(size=size, komi=0.5, moves=moves, setup=setup, black="b-name", white="w-name",
                       result="W+R", handicap=2, event="ev", game_name="gn", comment="two\nlines", date="2024-01-02")
    data = record_to_sgf(record)
    root = sgf.Sgf_game.from_bytes(data).get_root()
    assert root.get("PB") == "b-name" and root.get("PW") == "w-name" and root.get("EV") == "ev"
    assert root.get("GN") == "gn" and root.get("C") == "two\nlines" and root.get("DT") == "2024-01-02"
    loaded = load_sgf(data)
    assert loaded.result == "W+R" and loaded.handicap == 2 and sorted(loaded.setup) == sorted(setup)
    assert loaded.game.moves() == moves and loaded.game.komi == 0.5
    assert b"RE[" not in record_to_sgf(SgfRecord(size=size, komi=0.5))
