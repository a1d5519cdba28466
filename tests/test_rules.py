"""Rules of the C++ core, tested through `engine._core.Game`: captures (edges, corners, several
chains at once, snapback), simple ko, positional superko cycles, suicide, passes, undo, setup
(handicap) stones, Tromp-Taylor area scoring, the dead-stone estimate, every board size and the
errors bad arguments raise.

Positions are drawn as text (top row first, `X` black, `O` white, `.` empty) and put on the
board as setup stones; moves are GTP vertices (`C3`, `pass`).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from engine import _core
from engine.coords import format_vertex, parse_vertex

B, W = _core.BLACK, _core.WHITE


def from_diagram(diagram: str, komi: float = 0.5, **options: bool) -> _core.Game:
    """A game whose setup stones draw `diagram`; black to move."""
    rows = [r.split() for r in diagram.strip().splitlines()]
    size = len(rows)
    game = _core.Game(size, komi, **options)
    for y, row in enumerate(rows):
        assert len(row) == size, f"row {y} of the diagram has {len(row)} points, not {size}"
        for x, point in enumerate(row):
            if point != ".":
                assert game.place_setup_stone(B if point == "X" else W, x + y * size)
    return game


def play(game: _core.Game, *moves: str) -> None:
    """Plays "B C3" / "W pass" style moves."""
    for text in moves:
        colour, vertex = text.split()
        game.play(B if colour == "B" else W, parse_vertex(vertex, game.size))


def at(game: _core.Game, vertex: str) -> int:
    """The colour on a vertex (0 empty)."""
    m = parse_vertex(vertex, game.size)
    return int(game.board()[m // game.size, m % game.size])


def v(game: _core.Game, vertex: str) -> int:
    return parse_vertex(vertex, game.size)


# --- captures ------------------------------------------------------------------------------


def test_single_stone_capture_in_the_middle() -> None:
    g = _core.Game(9)
    play(g, "B D5", "W E5", "B F5", "W A1", "B E6", "W A2")
    assert at(g, "E5") == W
    play(g, "B E4")
    assert at(g, "E5") == 0 and at(g, "E4") == B
    assert g.captures(B) == 1 and g.captures(W) == 0
    assert g.is_legal(W, v(g, "E5")) is False  # now a one-point eye of black's: white suicide


def test_multi_stone_capture_of_a_bent_chain() -> None:
    g = from_diagram("""
        . . . . . . .
        . . X X X . .
        . X O O O . .
        . X O X X . .
        . X O X . . .
        . . X . . . .
        . . . . . . .
    """)
    play(g, "B F5")  # the five white stones' last liberty
    for vertex in ("C5", "D5", "E5", "C4", "C3"):
        assert at(g, vertex) == 0
    assert g.captures(B) == 5 and g.captures(W) == 0
    assert g.ko_move is None


def test_one_move_captures_four_chains() -> None:
    g = from_diagram("""
        . X O X . .
        X O . O X .
        . X O X . .
        . . X . . .
        . . . . . .
        . . . . . .
    """)
    play(g, "B C5")  # the last liberty of four single white stones
    assert [at(g, p) for p in ("B5", "C6", "D5", "C4")] == [0, 0, 0, 0]
    assert at(g, "C5") == B
    assert g.captures(B) == 4
    assert g.ko_move is None  # four stones taken: no ko


def test_captures_in_the_corner_and_on_the_edge() -> None:
    g = _core.Game(5)
    play(g, "W A1", "B A2")
    assert at(g, "A1") == W  # in atari at B1
    play(g, "B B1")
    assert at(g, "A1") == 0 and g.captures(B) == 1
    # Two white stones on the top edge ...
    play(g, "W C5", "W D5", "B B5", "B E5", "B C4")
    assert at(g, "C5") == W and at(g, "D5") == W
    play(g, "B D4")
    assert at(g, "C5") == 0 and at(g, "D5") == 0 and g.captures(B) == 3
    # ... and three along the right edge, the last liberty being E4.
    play(g, "W E1", "W E2", "W E3", "B D1", "B D2", "B D3")
    assert at(g, "E3") == W
    play(g, "B E4")
    assert [at(g, p) for p in ("E1", "E2", "E3")] == [0, 0, 0] and g.captures(B) == 6


def test_snapback() -> None:
    g = from_diagram("""
        . . . . .
        . . . . .
        X X X X .
        O O O X .
        . . O X .
    """)
    play(g, "B B1")  # throw-in: white is in atari at A1
    assert at(g, "B1") == B
    play(g, "W A1")  # white takes the one stone ...
    assert at(g, "B1") == 0 and g.captures(W) == 1
    assert g.ko_move is None  # ... with a five-stone chain: not a ko
    assert g.illegal_reason(B, v(g, "B1")) is None
    play(g, "B B1")  # ... and black takes back five
    assert g.captures(B) == 5
    assert [at(g, p) for p in ("A1", "A2", "B2", "C2", "C1")] == [0, 0, 0, 0, 0]
    assert at(g, "B1") == B


# --- ko and superko ------------------------------------------------------------------------

# Black's C3 stone sits in white's mouth; white captures it at B3 and the ko starts.
KO = """
    . . . . .
    . X O . .
    X . X O .
    . X O . .
    . . . . .
"""


def test_simple_ko_forbidden_immediately_allowed_after_a_threat_exchange() -> None:
    g = from_diagram(KO)
    play(g, "W B3")
    assert at(g, "C3") == 0 and g.captures(W) == 1
    assert g.ko_move == v(g, "C3")
    assert g.illegal_reason(B, v(g, "C3")) == "ko"
    assert v(g, "C3") not in g.legal_moves(B)
    with pytest.raises(ValueError, match="illegal"):
        g.play(B, v(g, "C3"))
    assert g.is_legal(W, v(g, "C3"))  # white may fill its own ko
    play(g, "B E1", "W E2")  # ko threat and answer
    assert g.illegal_reason(B, v(g, "C3")) is None
    play(g, "B C3")  # the retake
    assert at(g, "B3") == 0 and at(g, "C3") == B and g.captures(B) == 1
    assert g.ko_move == v(g, "B3")
    assert g.illegal_reason(W, v(g, "B3")) == "ko"


def test_retaking_a_ko_after_passes_repeats_the_position() -> None:
    """After `W B3, B pass, W pass` black's retake at C3 recreates the setup position: simple ko
    (lifted by the passes) allows it, positional superko does not."""
    for superko in (True, False):
        g = from_diagram(KO, superko=superko)
        play(g, "W B3", "B pass", "W pass")
        assert g.is_over
        assert g.ko_move is None
        expected = "superko" if superko else None
        assert g.illegal_reason(B, v(g, "C3")) == expected


def _triple_ko(superko: bool) -> tuple[_core.Game, list[tuple[int, int]]]:
    """Three independent kos on 9x9, and the six captures that go round them once."""
    g = _core.Game(9, 0.5, superko=superko)
    kos = ((2, 1, W), (2, 4, B), (2, 7, W))  # (x, y) of the left ko point, who is inside
    for cx, cy, inside in kos:
        for x, y in ((cx - 1, cy), (cx, cy - 1), (cx, cy + 1)):
            assert g.place_setup_stone(B, x + 9 * y)
        for x, y in ((cx + 2, cy), (cx + 1, cy - 1), (cx + 1, cy + 1)):
            assert g.place_setup_stone(W, x + 9 * y)
        assert g.place_setup_stone(inside, cx + 9 * cy if inside == W else cx + 1 + 9 * cy)

    def left(cy: int) -> int:
        return 2 + 9 * cy

    def right(cy: int) -> int:
        return 3 + 9 * cy

    cycle = [(B, right(1)), (W, left(4)), (B, right(7)), (W, left(1)), (B, right(4)), (W, left(7))]
    return g, cycle


def test_triple_ko_cycle_forbidden_by_positional_superko() -> None:
    g, cycle = _triple_ko(superko=True)
    start = g.board().copy()
    seen = [start]
    for colour, move in cycle[:-1]:
        assert g.illegal_reason(colour, move) is None
        g.play(colour, move)
        assert not any(np.array_equal(g.board(), b) for b in seen)
        seen.append(g.board().copy())
    assert g.captures(B) == 3 and g.captures(W) == 2
    colour, move = cycle[-1]
    assert g.ko_move != move  # simple ko alone would allow it
    assert g.illegal_reason(colour, move) == "superko"
    assert not g.is_legal(colour, move)
    assert move not in g.legal_moves(colour)
    with pytest.raises(ValueError, match="illegal"):
        g.play(colour, move)


def test_triple_ko_cycle_allowed_without_superko() -> None:
    g, cycle = _triple_ko(superko=False)
    start = g.board().copy()
    for colour, move in cycle:
        g.play(colour, move)
    assert np.array_equal(g.board(), start)  # the whole-board position came back
    # And round again: the core keeps no memory of positions when superko is off.
    for colour, move in cycle:
        assert g.is_legal(colour, move)
        g.play(colour, move)
    assert np.array_equal(g.board(), start)


def test_superko_cycle_after_played_moves() -> None:
    """The repeated position is one reached by play (not the setup position)."""
    g, cycle = _triple_ko(superko=True)
    play(g, "B H2", "W H8")
    for colour, move in cycle[:-1]:
        g.play(colour, move)
    assert g.illegal_reason(*cycle[-1]) == "superko"
    assert g.is_legal(W, v(g, "H5"))  # a different move is fine
    g.play(W, v(g, "H5"))
    # Black's next capture in the cycle would not repeat anything: the board has one more stone.
    assert g.illegal_reason(*cycle[0]) is None


def test_single_stone_suicide_repeats_the_position_under_tromp_taylor() -> None:
    """With suicide allowed, a one-stone suicide leaves the board as it was: positional
    superko forbids it; without superko it is a legal (pointless) move."""
    diagram = """
        . O . . .
        O . . . .
        . . . . .
        . . . . .
        . . . . .
    """
    g = from_diagram(diagram, allow_suicide=True)
    assert g.illegal_reason(B, v(g, "A5")) == "superko"
    g = from_diagram(diagram, allow_suicide=True, superko=False)
    before = g.board().copy()
    play(g, "B A5")
    assert np.array_equal(g.board(), before) and g.captures(W) == 1


def test_positional_superko_matches_a_python_twin() -> None:
    """Random play on 2x2..4x4 boards with a superko-free game; whenever a legal move would
    recreate an earlier whole-board position (found by comparing arrays, not hashes), a
    superko game replaying the same moves must call it 'superko', and no other move."""
    found = 0
    for seed in range(3000):
        if found >= 8:
            break
        rng = random.Random(seed)
        size = rng.choice([2, 3, 4])
        free = _core.Game(size, 0.5, superko=False)
        strict = _core.Game(size, 0.5, superko=True)
        seen = [free.board().tobytes()]
        for _ in range(50):
            colour = free.to_move
            legal = [m for m in free.legal_moves(colour) if m != free.pass_move]
            for m in legal:
                trial = free.copy()
                trial.play(colour, m)
                repeats = trial.board().tobytes() in seen
                assert (strict.illegal_reason(colour, m) == "superko") == repeats, (size, seed, strict.moves(), m)
                found += repeats
            fresh = [m for m in legal if strict.is_legal(colour, m)]
            move = rng.choice(fresh) if fresh else free.pass_move
            free.play(colour, move)
            strict.play(colour, move)
            seen.append(free.board().tobytes())
            if strict.is_over:
                break
    assert found >= 8


# --- suicide, passes, undo -------------------------------------------------------------------


def test_suicide_illegal_by_default() -> None:
    g = from_diagram("""
        . O . . .
        O . . . .
        . . . . .
        . . . . .
        . . . . .
    """)
    assert not g.allow_suicide
    assert g.illegal_reason(B, v(g, "A5")) == "suicide"  # one stone
    assert g.is_legal(W, v(g, "A5"))  # white's own eye
    g = from_diagram("""
        X . O . .
        X O . . .
        O . . . .
        . . . . .
        . . . . .
    """)
    assert g.illegal_reason(B, v(g, "B5")) == "suicide"  # would join A5-A4 with no liberty
    with pytest.raises(ValueError, match="illegal"):
        g.play(B, v(g, "B5"))
    # Capturing is not suicide: the stone has no liberty of its own but takes two stones.
    c = from_diagram("""
        . X O . .
        X O . . .
        O . . . .
        . . . . .
        . . . . .
    """)
    assert c.illegal_reason(W, v(c, "A5")) is None
    play(c, "W A5")
    assert at(c, "B5") == 0 and at(c, "A4") == 0 and at(c, "A5") == W and c.captures(W) == 2


def test_multi_stone_suicide_with_allow_suicide_removes_the_chain() -> None:
    diagram = """
        X . O . .
        X O . . .
        O . . . .
        . . . . .
        . . . . .
    """
    g = from_diagram(diagram, allow_suicide=True)
    assert g.allow_suicide
    assert g.illegal_reason(B, v(g, "B5")) is None
    play(g, "B B5")
    assert [at(g, p) for p in ("A5", "B5", "A4")] == [0, 0, 0]
    assert at(g, "C5") == W and at(g, "B4") == W
    assert g.captures(W) == 3 and g.captures(B) == 0
    assert g.to_move == W


def test_pass_and_two_passes_end_the_game() -> None:
    g = _core.Game(5)
    play(g, "B C3", "W pass")
    assert g.consecutive_passes == 1 and not g.is_over
    play(g, "B D4")  # a move resets the count
    assert g.consecutive_passes == 0
    play(g, "W pass", "B pass")
    assert g.consecutive_passes == 2 and g.is_over
    assert g.move_number == 5
    assert g.moves()[-2:] == [(W, g.pass_move), (B, g.pass_move)]
    assert g.is_legal(W, g.pass_move)


def test_undo_restores_position_ko_captures_and_turn() -> None:
    g = from_diagram(KO)
    play(g, "B A1")
    before = (g.board().copy(), g.hash, g.to_move, g.captures(W), g.ko_move)
    play(g, "W B3")
    assert g.ko_move == v(g, "C3") and g.captures(W) == 1
    assert g.undo()
    assert np.array_equal(g.board(), before[0])
    assert (g.hash, g.to_move, g.captures(W), g.ko_move) == before[1:]
    play(g, "W B3", "B A5", "W pass", "B pass")
    assert g.is_over
    assert g.undo() and not g.is_over and g.consecutive_passes == 1
    assert g.undo() and g.undo()
    assert g.ko_move == v(g, "C3") and g.illegal_reason(B, v(g, "C3")) == "ko"  # ko comes back
    while g.undo():
        pass
    assert g.move_number == 0 and not g.undo()
    assert at(g, "B4") == B and g.num_setup_stones == 7  # setup stones are not moves


# --- setup stones ----------------------------------------------------------------------------


def test_handicap_setup_stones() -> None:
    g = _core.Game(9, 0.5)
    points = ["C3", "G7", "G3", "C7"]  # the 4-stone 9x9 handicap
    for p in points:
        assert g.place_setup_stone(B, v(g, p))
    assert not g.place_setup_stone(W, v(g, "C3"))  # occupied
    g.to_move = W  # white moves first in a handicap game
    assert g.num_setup_stones == 4 and g.move_number == 0
    assert all(at(g, p) == B for p in points)
    assert not g.is_legal(W, v(g, "C3"))
    assert g.illegal_reason(W, v(g, "C3")) == "occupied"
    play(g, "W E5")
    assert g.to_move == B
    assert g.area_score() == -0.5 + 4 - 1  # 4 black stones, 1 white, the rest dame
    g.clear()
    assert g.num_setup_stones == 0 and int(g.board().sum()) == 0 and g.to_move == B


def test_setup_stones_never_capture_nor_die_and_restart_the_history() -> None:
    g = from_diagram("""
        . O X . .
        . X . . .
        . . . . .
        . . . . O
        . . . O .
    """)
    assert not g.place_setup_stone(B, v(g, "E1"))  # it would have no liberty
    assert not g.place_setup_stone(B, v(g, "A5"))  # it would capture B5 (in atari)
    assert at(g, "B5") == W
    play(g, "B C3")
    assert g.place_setup_stone(W, v(g, "A5"))  # extends B5: fine
    assert g.move_number == 0 and not g.undo()  # setup after a move: the game restarts from here
    assert at(g, "C3") == B and g.num_setup_stones == 6


# --- scoring -----------------------------------------------------------------------------------


def test_empty_board_scores_minus_komi() -> None:
    for size, komi in ((9, 7.5), (19, 6.5), (5, 0.0)):
        assert _core.Game(size, komi).area_score() == -komi


def test_lone_stone_owns_the_board() -> None:
    g = _core.Game(9, 7.5)
    play(g, "B E5")
    assert g.area_score() == 81 - 7.5
    play(g, "W C3")  # now every empty point reaches both colours
    assert g.area_score() == 1 - 1 - 7.5


def test_seki_dame_is_neutral() -> None:
    # White's three stones and black's B1 share the liberties A1 and C1 (seki).
    g = from_diagram("""
        . . . . .
        . . . . .
        X X X X .
        O O O X .
        . X . X .
    """, komi=0.5)
    for colour, point in ((B, "A1"), (B, "C1"), (W, "A1"), (W, "C1")):
        assert g.is_legal(colour, v(g, point))
    # Black stones 7 + black area (rows 4-5 and E1-E3) 13, white stones 3; A1 and C1 neutral.
    assert g.area_score() == 7 + 13 - 3 - 0.5


def test_territory_touching_both_colours_is_neutral() -> None:
    g = from_diagram("""
        . . X O .
        . . X O .
        . . X O .
        . . X O .
        . . X O .
    """, komi=0.0)
    assert g.area_score() == 15 - 10
    play(g, "W A3")  # one white stone in black's area: A and B columns now touch both colours
    assert g.area_score() == 5 - 11
    play(g, "B B3")  # splits the region in two; each half still reaches both colours
    assert g.area_score() == 6 - 11


def test_dead_stone_estimate_on_a_finished_position() -> None:
    g = from_diagram("""
        . . . X . O . . .
        . . . X . O . . .
        . . . X . O . . .
        . . . X . O . . .
        . O . X . O . . .
        . . . X . O . . .
        . . . X . O . . .
        . . . X . O . . .
        . . . X . O . . .
    """, komi=7.5)
    play(g, "B pass", "W pass")
    assert g.is_over
    # Raw Tromp-Taylor: the white stone at B5 spoils black's area (it reaches both colours).
    assert g.area_score() == 9 - 37 - 7.5
    dead = g.dead_stones(400, 1)
    b5 = v(g, "B5")
    assert dead.shape == (9, 9)
    assert dead[b5 // 9, b5 % 9] == 1 and int(dead.sum()) == 1
    assert g.final_score(400, 1) == 36 - 36 - 7.5
    own = g.ownership(200, 1)
    assert own.shape == (9, 9) and float(own.min()) >= -1 and float(own.max()) <= 1
    # Random playouts can kill eyeless walls, so ownership is far from +-1, but its sign is clear.
    assert own[0, 0] > 0.2 and own[4, 1] > 0.2 and own[0, 8] < -0.2  # A9, B5 black's; J9 white's
    assert float(np.abs(own[:, 4]).max()) < 0.3  # column E: dame


def test_played_out_random_games_need_no_dead_stone_removal() -> None:
    for seed in range(20):
        g = _core.Game(9, 7.5)
        rng = random.Random(seed)
        while not g.is_over:
            move = g.random_move(g.to_move, rng.randrange(1 << 30))
            assert g.is_legal(g.to_move, move)
            g.play(g.to_move, move)
        assert int(g.dead_stones(100, seed).sum()) == 0
        assert g.final_score(100, seed) == g.area_score()


# --- sizes and bad arguments -----------------------------------------------------------------


@pytest.mark.parametrize("size", [*range(2, 20), 25])
def test_every_board_size_is_playable(size: int) -> None:
    g = _core.Game(size, 0.5)
    assert g.size == size and g.pass_move == size * size
    assert g.board().shape == (size, size)
    assert len(g.legal_moves(B)) == size * size + 1  # every point and pass
    assert format_vertex(size * size - 1, size).endswith("1")
    rng = random.Random(size)
    for _ in range(6 * size * size):
        if g.is_over:
            break
        move = g.random_move(g.to_move, rng.randrange(1 << 30))
        assert g.is_legal(g.to_move, move)
        g.play(g.to_move, move)
    assert g.is_over, "a random game with eye protection ends in two passes"
    score = g.area_score() + 0.5
    assert score == int(score) and -size * size <= score <= size * size
    assert g.move_number > 0


def test_bad_arguments_raise_value_error() -> None:
    for size in (0, 1, 26, -3):
        with pytest.raises(ValueError, match="unacceptable size"):
            _core.Game(size)
    g = _core.Game(9)
    for colour in (0, 3, -1):
        with pytest.raises(ValueError, match="color"):
            g.play(colour, 0)
        with pytest.raises(ValueError, match="color"):
            g.is_legal(colour, 0)
        with pytest.raises(ValueError, match="color"):
            g.place_setup_stone(colour, 0)
        with pytest.raises(ValueError, match="color"):
            g.random_move(colour, 1)
    with pytest.raises(ValueError, match="color"):
        g.to_move = 3
    for move in (82, -1, 1000):
        with pytest.raises(ValueError, match="off the board"):
            g.play(B, move)
        assert not g.is_legal(B, move)
        assert g.illegal_reason(B, move) is not None
    g.play(B, 40)
    with pytest.raises(ValueError, match="illegal move"):
        g.play(W, 40)
    assert g.illegal_reason(W, 40) == "occupied"
    assert g.move_number == 1  # the failed plays changed nothing
    with pytest.raises(ValueError, match="unacceptable size"):
        _core.playout_benchmark(1, 10)
    config = _core.UctConfig()
    config.threads = 0
    with pytest.raises(ValueError, match="threads"):
        _core.UctSearch(config)


@pytest.mark.parametrize("komi", [math.nan, math.inf, -math.inf])
def test_non_finite_komi_is_rejected(komi: float) -> None:
    with pytest.raises(ValueError, match="komi"):
        _core.Game(9, komi)
    g = _core.Game(9, 6.5)
    with pytest.raises(ValueError, match="komi"):
        g.komi = komi
    assert g.komi == 6.5  # a rejected komi leaves the game as it was


def test_negative_playout_counts_are_rejected() -> None:
    g = _core.Game(9)
    for call in (g.ownership, g.dead_stones, g.final_score):
        with pytest.raises(ValueError, match="playouts"):
            call(-1)
    assert g.final_score(0) == g.area_score()  # zero playouts: no stone is called dead
