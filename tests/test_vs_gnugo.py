"""Full 9x9 games of tengen's built-in player (`python -m tengen_cli gtp --visits 2000`, a
subprocess driven over GTP) against GnuGo 3.8 level 1: three games, colours alternating, the
third with resignation off on both sides so that it must end in two passes and be scored.

The games run through engine.gtp_game: every generated move is checked on a referee
`engine._core.Game` (positional superko, no suicide) before the opponent hears of it, and the
opponent must accept it (`play` answers `=`);
GnuGo runs with `--positional-superko` so both sides play under the same rules. Each game must
end properly (two passes or a resignation) and its result must be readable; the stones on
GnuGo's board must equal the referee's at the end.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from engine import _core
from engine.coords import format_vertex, parse_vertex
from engine.gtp_client import GtpClient, gnugo_command
from engine.gtp_game import GtpGameOutcome, play_gtp_game
from engine.sgf import parse_score

pytestmark = [pytest.mark.gnugo, pytest.mark.slow]

SIZE, KOMI, VISITS = 9, 7.0, 2000
MOVE_LIMIT = 3 * SIZE * SIZE
NAME = {_core.BLACK: "black", _core.WHITE: "white"}


@dataclass
class Outcome:
    game: GtpGameOutcome
    tengen_score: str | None = None  # the engines' own `final_score` answers
    gnugo_score: str | None = None


def record(moves: Sequence[tuple[int, int]]) -> str:
    return " ".join(f"{'B' if c == _core.BLACK else 'W'}:{format_vertex(m, SIZE)}" for c, m in moves)


def play_game(tengen: GtpClient, gnugo: GtpClient, tengen_colour: int, seed: int) -> Outcome:
    black, white = (tengen, gnugo) if tengen_colour == _core.BLACK else (gnugo, tengen)
    names = ("tengen", "GnuGo") if tengen_colour == _core.BLACK else ("GnuGo", "tengen")
    game = play_gtp_game(black, white, size=SIZE, komi=KOMI, max_moves=MOVE_LIMIT, score_playouts=100, seed=seed,
                         names=names, move_timeout=120)  # fmt: skip
    # Every move was legal on the referee and the opponent accepted it (play answered `=`).
    assert game.reason in ("resign", "score"), f"{game.reason}: {game.detail} after {record(game.moves)}"
    if game.reason == "resign":
        return Outcome(game)
    # Two passes: both engines score the finished game.
    tengen_score = tengen.send("final_score")
    gnugo_score = gnugo.send("final_score")
    referee = _core.Game(SIZE, KOMI)
    for colour, move in game.moves:
        referee.play(colour, move)
    board = referee.board()
    for colour in (_core.BLACK, _core.WHITE):
        theirs = {parse_vertex(v, SIZE) for v in gnugo.send(f"list_stones {NAME[colour]}").split()}
        ys, xs = np.nonzero(board == colour)
        assert theirs == {int(x + y * SIZE) for x, y in zip(xs, ys, strict=True)}, "boards drifted apart"
    return Outcome(game, tengen_score, gnugo_score)


def test_builtin_player_finishes_games_against_gnugo_level_1(gnugo: str) -> None:
    outcomes: list[tuple[str, Outcome]] = []
    games = ((_core.BLACK, 0.05), (_core.WHITE, 0.05), (_core.BLACK, 0.0))  # (tengen's colour, --resign)
    for game_index, (tengen_colour, resign) in enumerate(games):
        tengen_argv = [sys.executable, "-m", "tengen_cli", "gtp", "--size", str(SIZE), "--komi", str(KOMI),
                       "--visits", str(VISITS), "--seed", str(11 + game_index), "--resign", str(resign),
                       "--no-records"]
        gnugo_argv = gnugo_command(level=1, extra=["--positional-superko", "--seed", str(11 + game_index)]
                                   + (["--never-resign"] if resign == 0 else []))
        with GtpClient(tengen_argv, timeout=120) as tengen, GtpClient(gnugo_argv, timeout=120) as gnugo_client:
            assert tengen.send("name").strip() == "tengen"
            outcome = play_game(tengen, gnugo_client, tengen_colour, 11 + game_index)
        outcomes.append((NAME[tengen_colour], outcome))
    for colour, o in outcomes:
        g = o.game
        print(f"tengen as {colour}: {g.result} by {g.reason} after {len(g.moves)} moves "
              f"(tengen final_score {o.tengen_score}, GnuGo final_score {o.gnugo_score})")
        assert len(g.moves) >= 10, record(g.moves)
        assert g.result == "0" or g.result[:2] in ("B+", "W+")
        if g.reason == "score":  # two passes
            assert o.tengen_score is not None and o.gnugo_score is not None
            parse_score(o.tengen_score)  # readable
            parse_score(o.gnugo_score)
            assert g.engine_score is not None
    assert outcomes[2][1].game.reason == "score"  # tengen could not resign: the game was scored
