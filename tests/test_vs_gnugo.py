"""Full 9x9 games of tengen's built-in player (`python -m engine.cli gtp --visits 2000`, a
subprocess driven over GTP) against GnuGo 3.8 level 1: three games, colours alternating, the
third with resignation off on both sides so that it must end in two passes and be scored.

Every generated move is checked on a referee `engine._core.Game` (positional superko, no
suicide) before the opponent hears of it, and the opponent must accept it (`play` answers `=`);
GnuGo runs with `--positional-superko` so both sides play under the same rules. Each game must
end properly (two passes or a resignation) and its result must be readable; the stones on
GnuGo's board must equal the referee's at the end.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pytest

from engine import _core
from engine.coords import format_vertex, parse_vertex
from engine.gtp_client import GtpClient, gnugo_command

pytestmark = [pytest.mark.gnugo, pytest.mark.slow]

SIZE, KOMI, VISITS = 9, 7.0, 2000
MOVE_LIMIT = 3 * SIZE * SIZE
NAME = {_core.BLACK: "black", _core.WHITE: "white"}


@dataclass
class Outcome:
    result: str  # "B+R", "W+3.0", "0", ...
    reason: str  # "resign" or "two passes"
    moves: list[tuple[int, int]]
    tengen_score: str | None = None  # the engines' own `final_score` answers
    gnugo_score: str | None = None


def record(moves: list[tuple[int, int]]) -> str:
    return " ".join(f"{'B' if c == _core.BLACK else 'W'}:{format_vertex(m, SIZE)}" for c, m in moves)


def score_value(text: str) -> float:
    """A GTP final_score answer ('B+3.5', 'W+0.5', '0') as black minus white."""
    text = text.strip()
    if text in ("0", "Draw"):
        return 0.0
    if text[:2] not in ("B+", "W+"):
        raise ValueError(f"unreadable score {text!r}")
    return (1.0 if text[0] == "B" else -1.0) * float(text[2:])


def play_game(tengen: GtpClient, gnugo: GtpClient, tengen_colour: int) -> Outcome:
    for engine in (tengen, gnugo):
        for command in (f"boardsize {SIZE}", "clear_board", f"komi {KOMI}"):
            engine.send(command)
    referee = _core.Game(SIZE, KOMI)
    moves: list[tuple[int, int]] = []
    while not referee.is_over:
        assert len(moves) < MOVE_LIMIT, f"no end after {MOVE_LIMIT} moves: {record(moves)}"
        colour = referee.to_move
        mover, listener = (tengen, gnugo) if colour == tengen_colour else (gnugo, tengen)
        who = "tengen" if mover is tengen else "GnuGo"
        answer = mover.send(f"genmove {NAME[colour]}", timeout=120).strip().lower()
        if answer == "resign":
            winner = "W" if colour == _core.BLACK else "B"
            return Outcome(f"{winner}+R", "resign", moves)
        try:
            move = parse_vertex(answer, SIZE)
        except ValueError:
            pytest.fail(f"{who} answered genmove with {answer!r} after {record(moves)}")
        reason = referee.illegal_reason(colour, move)
        assert reason is None, (
            f"{who} played an illegal move {NAME[colour]} {answer} ({reason}) after {record(moves)}")
        referee.play(colour, move)
        moves.append((colour, move))
        ok, text = listener.send_raw(f"play {NAME[colour]} {format_vertex(move, SIZE)}")
        assert ok, f"{'GnuGo' if who == 'tengen' else 'tengen'} refused {NAME[colour]} {answer}: {text}"
    # Two passes: both engines score the finished game.
    tengen_score = tengen.send("final_score")
    gnugo_score = gnugo.send("final_score")
    board = referee.board()
    for colour in (_core.BLACK, _core.WHITE):
        theirs = {parse_vertex(v, SIZE) for v in gnugo.send(f"list_stones {NAME[colour]}").split()}
        ys, xs = np.nonzero(board == colour)
        assert theirs == {int(x + y * SIZE) for x, y in zip(xs, ys, strict=True)}, "boards drifted apart"
    score = score_value(gnugo_score)
    result = "0" if score == 0 else f"{'B' if score > 0 else 'W'}+{abs(score):g}"
    return Outcome(result, "two passes", moves, tengen_score, gnugo_score)


def test_builtin_player_finishes_games_against_gnugo_level_1(gnugo: str) -> None:
    outcomes: list[tuple[str, Outcome]] = []
    games = ((_core.BLACK, 0.05), (_core.WHITE, 0.05), (_core.BLACK, 0.0))  # (tengen's colour, --resign)
    for game_index, (tengen_colour, resign) in enumerate(games):
        tengen_argv = [sys.executable, "-m", "engine.cli", "gtp", "--size", str(SIZE), "--komi", str(KOMI),
                       "--visits", str(VISITS), "--seed", str(11 + game_index), "--resign", str(resign),
                       "--no-records"]
        gnugo_argv = gnugo_command(level=1, extra=["--positional-superko", "--seed", str(11 + game_index)]
                                   + (["--never-resign"] if resign == 0 else []))
        with GtpClient(tengen_argv, timeout=120) as tengen, GtpClient(gnugo_argv, timeout=120) as gnugo_client:
            assert tengen.send("name").strip() == "tengen"
            outcome = play_game(tengen, gnugo_client, tengen_colour)
        outcomes.append((NAME[tengen_colour], outcome))
    for colour, o in outcomes:
        print(f"tengen as {colour}: {o.result} by {o.reason} after {len(o.moves)} moves "
              f"(tengen final_score {o.tengen_score}, GnuGo final_score {o.gnugo_score})")
        assert o.reason in ("resign", "two passes")
        assert len(o.moves) >= 10, record(o.moves)
        assert o.result == "0" or o.result[:2] in ("B+", "W+")
        if o.reason == "two passes":
            assert o.tengen_score is not None
            score_value(o.tengen_score)  # readable
    assert outcomes[2][1].reason == "two passes"  # tengen could not resign: the game was scored
