"""One game between two GTP engines, refereed move by move: the loop that the arena, the expert
corpus generator, the strength benchmark and the GnuGo tests share.

The referee is an `engine._core.Game`: every move an engine generates is checked there before the
opponent hears of it. A side loses, with the reason recorded, when it resigns (`resign`), answers
genmove with an illegal or unreadable move (`illegal`), does not answer within the move timeout
(`timeout`), exits or closes its output (`crash`), or answers a command with a GTP error, such as
refusing a legal move of its opponent (`protocol`). Two passes end the game (`score`), and so does
the move limit (`move-limit`); both are counted by the referee's rules (`Game.final_score`, area
scoring with a Monte-Carlo dead-stone estimate) and, when asked, also by a separate GnuGo that
replays the moves (its `final_score`). `score_by` says which of the two counts decides.

One engine may play both colours (pass the same client twice): it then hears only its own moves.

Thread-safety: a call owns the two clients for the whole game; games on distinct clients may run
in parallel threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine import _core
from engine.coords import format_vertex, parse_vertex
from engine.gtp_client import GtpClient, GtpEngineDied, GtpError, find_gnugo, gnugo_command
from engine.sgf import BY_FORFEIT, BY_RESIGNATION, BY_TIME, parse_score, result_string, win_string

Reason = Literal["score", "move-limit", "resign", "illegal", "timeout", "crash", "protocol"]
ScoreBy = Literal["engine", "gnugo"]
COUNTED: tuple[Reason, ...] = ("score", "move-limit")  # the reasons of a game that was scored
# SGF RE suffix of a game that ended without a count.
RESULT_SUFFIX: dict[Reason, str] = {"resign": BY_RESIGNATION, "timeout": BY_TIME, "illegal": BY_FORFEIT,
                                    "crash": BY_FORFEIT, "protocol": BY_FORFEIT}  # fmt: skip
STOP_GRACE_SECONDS = 0.5  # how long a crash waits for a stop request that may have caused it
REFEREE_LEVEL = 10  # GnuGo's level when it counts (its dead-stone analysis grows with the level)
REFEREE_MIN_TIMEOUT = 60.0  # seconds GnuGo may take for one command when counting

OnMove = Callable[[int, int, float], None]


class GameStopped(Exception):
    """The stop event was set while the game was in play; the game has no result."""


class _Forfeit(Exception):
    """`colour` lost the game for `reason`; `detail` says what happened."""

    def __init__(self, colour: int, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.colour, self.reason, self.detail = colour, reason, detail


@dataclass(frozen=True, kw_only=True)
class GtpGameOutcome:
    """How a game between two GTP engines ended.

    `moves` are (colour, dense point) pairs, opening moves included. `winner` and `loser` are
    colours; `winner` is None for a draw, `loser` is None for a counted game. `result` is the SGF
    RE ("B+3.5", "W+R", "B+T", "W+F", "0"). The scores are black minus white minus komi: the
    referee Game's count and GnuGo's, each None when not counted; `referee_agrees` says whether
    the two name the same winner (None unless both exist). `detail` explains the reason (and a
    failed GnuGo count)."""

    moves: tuple[tuple[int, int], ...]
    reason: Reason
    detail: str
    winner: int | None
    loser: int | None
    result: str
    engine_score: float | None = None
    referee_score: float | None = None
    referee_agrees: bool | None = None


def colour_letter(colour: int) -> str:
    return "b" if colour == _core.BLACK else "w"


def _other(colour: int) -> int:
    return _core.WHITE if colour == _core.BLACK else _core.BLACK


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def gnugo_score(moves: Sequence[tuple[int, int]], size: int, komi: float, timeout: float) -> float:
    """GnuGo's area score (black minus white) of the position after `moves`, from a fresh GnuGo."""
    with GtpClient(gnugo_command(REFEREE_LEVEL), timeout=timeout) as ref:
        ref.send(f"boardsize {size}")
        ref.send("clear_board")
        ref.send(f"komi {komi:g}")
        for colour, move in moves:
            ref.send(f"play {colour_letter(colour)} {format_vertex(move, size)}")
        return parse_score(ref.send("final_score"))


class _Table:
    """The two engines of one game with their names, and the GTP exchange that turns an engine's
    failure into a loss of its colour."""

    def __init__(self, black: GtpClient, white: GtpClient, names: tuple[str, str], timeout: float | None) -> None:
        self.clients = {_core.BLACK: black, _core.WHITE: white}
        self.names = {_core.BLACK: names[0], _core.WHITE: names[1]}
        self.timeout = timeout

    def command(self, colour: int, line: str) -> str:
        client = self.clients[colour]
        timeout = client.timeout if self.timeout is None else self.timeout
        t0 = time.monotonic()
        try:
            return client.send(line, timeout=timeout)
        except GtpError as exc:
            raise _Forfeit(colour, "protocol", f"{self.names[colour]} answered {line!r} with an error: {exc}") from None
        except GtpEngineDied as exc:
            late = time.monotonic() - t0 >= timeout * 0.99
            raise _Forfeit(colour, "timeout" if late else "crash", f"{self.names[colour]} on {line!r}: {exc}") from None

    def tell(self, line: str, but: int | None = None) -> None:
        """Sends `line` to each engine once (an engine playing both colours hears it once), but not
        to the engine that plays colour `but` (the mover, which knows its own move)."""
        for colour in (_core.BLACK, _core.WHITE):
            if colour == _core.WHITE and self.clients[_core.WHITE] is self.clients[_core.BLACK]:
                continue
            if but is not None and self.clients[colour] is self.clients[but]:
                continue
            self.command(colour, line)


def random_opening(size: int, komi: float, count: int, rng: np.random.Generator, margin: int = 2) -> list[int]:
    """`count` uniformly random legal moves (dense points, colours alternating from black), each at
    least `margin` lines from the edge when the board leaves a 3x3 centre that way, else anywhere;
    a pass when no such point is legal. Draws from `rng` in a fixed order, so a seed fixes them."""
    board = _core.Game(size, komi)
    m = margin if size - 2 * margin >= 3 else 0
    moves = []
    for _ in range(count):
        colour = board.to_move
        candidates = [x + y * size for y in range(m, size - m) for x in range(m, size - m)
                      if board.is_legal(colour, x + y * size)]  # fmt: skip
        move = int(rng.choice(candidates)) if candidates else board.pass_move
        board.play(colour, move)
        moves.append(move)
    return moves


def play_gtp_game(
    black: GtpClient,
    white: GtpClient,
    *,
    size: int,
    komi: float,
    max_moves: int,
    score_playouts: int,
    seed: int,
    names: tuple[str, str] = ("black", "white"),
    move_timeout: float | None = None,
    opening: Sequence[int] = (),
    gnugo_referee: bool = False,
    score_by: ScoreBy = "engine",
    on_move: OnMove | None = None,
    stop: threading.Event | None = None,
    byoyomi: Mapping[int, float] | None = None,
) -> GtpGameOutcome:
    """Plays one game from the empty board and returns how it ended; the clients stay open.

    Both engines first get boardsize, clear_board and komi, then the `opening` moves (dense
    points, colours alternating from black, legal on the referee). The game stops at two passes
    or after `max_moves` moves in all. `move_timeout` (seconds, None: each client's own timeout)
    bounds every answer. A counted game is scored by the referee Game with `score_playouts`
    playouts and `seed`; with `gnugo_referee` (and GnuGo installed) GnuGo counts too, and with
    `score_by="gnugo"` its count decides. `on_move(colour, move, seconds)` follows every accepted
    genmove. `byoyomi` puts colours under a clock: each gets `time_settings 0 P 1` (no main time,
    one move in each period of P seconds) and loses on time when a genmove's answer takes longer
    than P, measured here, pipe and start-up of the move included. Raises GameStopped when `stop`
    is set during the game."""
    table = _Table(black, white, names, move_timeout)
    board = _core.Game(size, komi)
    reason: Reason = "score"
    detail = ""
    try:
        for line in (f"boardsize {size}", "clear_board", f"komi {komi:g}"):
            table.tell(line)
        clocks = dict(byoyomi or {})
        for colour, period in clocks.items():
            table.command(colour, f"time_settings 0 {period:g} 1")
        for move in opening:
            colour = board.to_move
            why = board.illegal_reason(colour, move)
            if why is not None:
                raise ValueError(f"opening move {format_vertex(move, size)} is illegal ({why})")
            board.play(colour, move)
            table.tell(f"play {colour_letter(colour)} {format_vertex(move, size)}")
        while not board.is_over:
            if stop is not None and stop.is_set():
                raise GameStopped
            if board.move_number >= max_moves:
                reason, detail = "move-limit", f"stopped after {board.move_number} moves"
                break
            colour = board.to_move
            name = table.names[colour]
            t0 = time.monotonic()
            answer = table.command(colour, f"genmove {colour_letter(colour)}")
            seconds = time.monotonic() - t0
            if colour in clocks and seconds > clocks[colour]:
                raise _Forfeit(colour, "timeout", f"{name} took {seconds:.3f} s over a {clocks[colour]:g} s "
                               f"byo-yomi period (move {board.move_number + 1})")  # fmt: skip
            if answer.strip().lower() == "resign":
                raise _Forfeit(colour, "resign", f"{name} resigned")
            try:
                move = parse_vertex(answer, size)
            except ValueError:
                raise _Forfeit(colour, "illegal", f"{name} answered genmove with {answer!r}") from None
            why = board.illegal_reason(colour, move)
            if why is not None:
                raise _Forfeit(colour, "illegal", f"{name} played {answer.strip()} ({why})")
            board.play(colour, move)
            if on_move is not None:
                on_move(colour, move, seconds)
            table.tell(f"play {colour_letter(colour)} {format_vertex(move, size)}", but=colour)
    except _Forfeit as lost:
        # Ctrl-C in a terminal reaches the engines too: a crash as the caller stops is the stop,
        # not a loss (the grace period lets the main thread see the signal).
        if lost.reason == "crash" and stop is not None and stop.wait(STOP_GRACE_SECONDS):
            raise GameStopped from None
        winner = _other(lost.colour)
        return GtpGameOutcome(moves=tuple(board.moves()), reason=lost.reason, detail=lost.detail, winner=winner,
                              loser=lost.colour, result=win_string(winner, RESULT_SUFFIX[lost.reason]))  # fmt: skip
    return _counted(board, reason, detail, score_playouts, seed, gnugo_referee, score_by, move_timeout)


def _counted(board: _core.Game, reason: Reason, detail: str, score_playouts: int, seed: int, gnugo_referee: bool,
             score_by: ScoreBy, move_timeout: float | None) -> GtpGameOutcome:  # fmt: skip
    """The outcome of a game that ended by passes or the move limit."""
    moves = tuple(board.moves())
    engine_score = board.final_score(score_playouts, seed)
    referee_score = agrees = None
    if gnugo_referee and find_gnugo() is not None:
        try:
            timeout = max(REFEREE_MIN_TIMEOUT, move_timeout or 0.0)
            referee_score = gnugo_score(moves, board.size, board.komi, timeout)
            agrees = _sign(referee_score) == _sign(engine_score)
        except (OSError, GtpError, GtpEngineDied, ValueError) as exc:
            detail = f"GnuGo referee failed: {exc}"
    decisive = engine_score
    if score_by == "gnugo":
        if referee_score is not None:
            decisive = referee_score
        else:
            detail += "; scored by the engine instead"
    winner = None if decisive == 0 else _core.BLACK if decisive > 0 else _core.WHITE
    return GtpGameOutcome(moves=moves, reason=reason, detail=detail, winner=winner, loser=None,
                          result=result_string(decisive), engine_score=engine_score, referee_score=referee_score,
                          referee_agrees=agrees)  # fmt: skip
