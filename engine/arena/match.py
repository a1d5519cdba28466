"""One refereed game between two GTP players, saved as SGF.

The referee is an `engine._core.Game`: every move a player generates is checked there before
the opponent hears of it. A player loses, with the reason recorded, when it resigns, answers
with an illegal or unreadable move (`illegal`), does not answer within the move timeout
(`timeout`), exits or fails to start (`crash`), or answers a command with a GTP error or
refuses a legal move of its opponent (`protocol`). Two passes end the game; it is scored by
the engine's rules (`Game.final_score`, area scoring with a Monte-Carlo dead-stone estimate)
and, when GnuGo is available, also by GnuGo's `final_score` after replaying the moves; both
scores are kept and a disagreement on the winner is flagged. The engine's score decides.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from sgfmill import sgf

from engine import _core
from engine.arena.config import GameSpec, MatchRules
from engine.arena.players import PlayerSpec
from engine.coords import format_vertex, parse_vertex
from engine.gtp_client import GtpClient, GtpEngineDied, GtpError, find_gnugo, gnugo_command

Reason = Literal["score", "move-limit", "resign", "illegal", "timeout", "crash", "protocol"]
STOP_GRACE_SECONDS = 0.5
# SGF RE suffix for a game that ended without a score.
_RE_SUFFIX = {"resign": "R", "timeout": "T", "illegal": "F", "crash": "F", "protocol": "F"}


@dataclass(frozen=True)
class GameResult:
    """A finished game, as one line of results.jsonl. `winner` is "B", "W" or None (draw)."""

    index: int
    black: str
    white: str
    seed: int
    winner: str | None
    result: str  # SGF RE: B+3.5, W+R, B+T, W+F, 0
    reason: Reason
    detail: str
    moves: int
    engine_score: float | None  # black minus white minus komi, when scored
    referee_score: float | None  # GnuGo's, when it refereed
    referee_agrees: bool | None
    sgf: str  # path relative to the tournament folder
    seconds: float

    def score_for(self, name: str) -> float:
        """1, 0.5 or 0 for the named player."""
        if self.winner is None:
            return 0.5
        return 1.0 if (self.black if self.winner == "B" else self.white) == name else 0.0

    @property
    def winner_name(self) -> str | None:
        return None if self.winner is None else self.black if self.winner == "B" else self.white

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> GameResult:
        return GameResult(**{k: data[k] for k in GameResult.__dataclass_fields__})


def _colour_letter(colour: int) -> str:
    return "b" if colour == _core.BLACK else "w"


def _other(colour: int) -> int:
    return _core.WHITE if colour == _core.BLACK else _core.BLACK


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _score_text(score: float) -> str:
    if score == 0:
        return "0"
    return f"{'B' if score > 0 else 'W'}+{abs(score):g}"


def parse_gnugo_score(text: str) -> float:
    """'B+3.5' -> 3.5, 'W+2.0' -> -2.0, '0' -> 0.0 (black minus white)."""
    t = text.strip().upper()
    if t in ("0", "DRAW", "JIGO"):
        return 0.0
    side, plus, amount = t.partition("+")
    if side not in ("B", "W") or not plus:
        raise ValueError(f"unreadable score {text!r}")
    value = float(amount)
    return value if side == "B" else -value


def gnugo_referee_score(moves: list[tuple[int, int]], rules: MatchRules) -> float:
    """GnuGo's area score (black minus white) of the position after `moves`."""
    with GtpClient(gnugo_command(10), timeout=max(60.0, rules.move_timeout)) as ref:
        ref.send(f"boardsize {rules.size}")
        ref.send("clear_board")
        ref.send(f"komi {rules.komi:g}")
        for colour, move in moves:
            ref.send(f"play {_colour_letter(colour)} {format_vertex(move, rules.size)}")
        return parse_gnugo_score(ref.send("final_score"))


def sgf_name(game: GameSpec) -> str:
    return f"sgf/{game.index:05d}-{game.black}-vs-{game.white}.sgf"


def write_sgf(path: Path, game: GameSpec, rules: MatchRules, moves: list[tuple[int, int]],
              result: str, comment: str, event: str) -> None:
    """Writes the game record to a temporary name, then renames it into place."""
    record = sgf.Sgf_game(size=rules.size)
    root = record.get_root()
    root.set("KM", rules.komi)
    root.set("RU", "Chinese")  # area scoring; tengen adds positional superko
    root.set("PB", game.black)
    root.set("PW", game.white)
    root.set("RE", result)
    root.set("EV", event)
    root.set("GN", f"{event} game {game.index}")
    root.set("DT", datetime.now(timezone.utc).strftime("%Y-%m-%d"))
    root.set("AP", ("tengen arena", "1"))
    root.set("C", comment)
    for colour, move in moves:
        node = record.extend_main_sequence()
        point = None if move == rules.size * rules.size else (rules.size - 1 - move // rules.size,
                                                               move % rules.size)
        node.set_move(_colour_letter(colour), point)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(record.serialise())
    os.replace(tmp, path)


class _Lost(Exception):
    def __init__(self, colour: int, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.colour, self.reason, self.detail = colour, reason, detail


def _start(spec: PlayerSpec, colour: int, game: GameSpec, rules: MatchRules) -> GtpClient:
    try:
        client = GtpClient(spec.argv(game.seed), timeout=rules.move_timeout)
    except OSError as exc:
        raise _Lost(colour, "crash", f"{spec.name} could not start: {exc}") from None
    try:
        for line in (f"boardsize {rules.size}", "clear_board", f"komi {rules.komi:g}"):
            _command(client, spec, colour, line, rules.move_timeout)
    except _Lost:
        client.close()
        raise
    return client


def _command(client: GtpClient, spec: PlayerSpec, colour: int, line: str, timeout: float) -> str:
    t0 = time.monotonic()
    try:
        return client.send(line, timeout=timeout)
    except GtpError as exc:
        raise _Lost(colour, "protocol", f"{spec.name} answered {line!r} with an error: {exc}") from None
    except GtpEngineDied as exc:
        late = time.monotonic() - t0 >= timeout * 0.99
        reason: Reason = "timeout" if late else "crash"
        raise _Lost(colour, reason, f"{spec.name} on {line!r}: {exc}") from None


def play_game(game: GameSpec, black: PlayerSpec, white: PlayerSpec, rules: MatchRules,
              out_dir: Path, event: str = "tengen arena",
              stop: threading.Event | None = None) -> GameResult | None:
    """Plays one game and writes its SGF under `out_dir`; None when `stop` was set mid-game."""
    t0 = time.monotonic()
    board = _core.Game(rules.size, rules.komi)
    specs = {_core.BLACK: black, _core.WHITE: white}
    clients: dict[int, GtpClient] = {}
    reason: Reason = "score"
    detail = ""
    loser: int | None = None
    try:
        try:
            for colour in (_core.BLACK, _core.WHITE):
                clients[colour] = _start(specs[colour], colour, game, rules)
            while not board.is_over:
                if stop is not None and stop.is_set():
                    return None
                if board.move_number >= rules.move_limit:
                    reason, detail = "move-limit", f"stopped after {board.move_number} moves"
                    break
                colour = board.to_move
                spec = specs[colour]
                answer = _command(clients[colour], spec, colour, f"genmove {_colour_letter(colour)}",
                                  rules.move_timeout)
                if answer.strip().lower() == "resign":
                    raise _Lost(colour, "resign", f"{spec.name} resigned")
                try:
                    move = parse_vertex(answer, rules.size)
                except ValueError:
                    raise _Lost(colour, "illegal", f"{spec.name} answered genmove with {answer!r}") from None
                why = board.illegal_reason(colour, move)
                if why is not None:
                    raise _Lost(colour, "illegal", f"{spec.name} played {answer.strip()} ({why})")
                board.play(colour, move)
                opponent = _other(colour)
                _command(clients[opponent], specs[opponent], opponent,
                         f"play {_colour_letter(colour)} {format_vertex(move, rules.size)}",
                         rules.move_timeout)
        except _Lost as lost:
            # Ctrl-C in a terminal reaches the engines too: a crash as the tournament stops is
            # the stop, not a loss (the grace period lets the main thread see the signal).
            if lost.reason == "crash" and stop is not None and stop.wait(STOP_GRACE_SECONDS):
                return None
            loser, reason, detail = lost.colour, lost.reason, lost.detail
    finally:
        for client in clients.values():
            client.close()

    engine_score = referee_score = None
    agrees = None
    if loser is None:
        engine_score = board.final_score(rules.score_playouts, game.seed)
        if rules.referee != "none" and find_gnugo() is not None:
            try:
                referee_score = gnugo_referee_score(board.moves(), rules)
                agrees = _sign(referee_score) == _sign(engine_score)
            except (OSError, GtpError, GtpEngineDied, ValueError) as exc:
                detail = f"GnuGo referee failed: {exc}"
        winner = None if engine_score == 0 else "B" if engine_score > 0 else "W"
        result = _score_text(engine_score)
    else:
        winner = "W" if loser == _core.BLACK else "B"
        result = f"{winner}+{_RE_SUFFIX[reason]}"
    path = out_dir / sgf_name(game)
    comment = f"{reason}: {detail}" if detail else reason
    comment += f"\nseed {game.seed}"
    if engine_score is not None:
        comment += f"\nengine score {_score_text(engine_score)}"
    if referee_score is not None:
        comment += f", GnuGo referee {_score_text(referee_score)}" + ("" if agrees else " (DISAGREES)")
    write_sgf(path, game, rules, board.moves(), result, comment, event)
    return GameResult(
        index=game.index, black=game.black, white=game.white, seed=game.seed, winner=winner,
        result=result, reason=reason, detail=detail, moves=board.move_number,
        engine_score=engine_score, referee_score=referee_score, referee_agrees=agrees,
        sgf=sgf_name(game), seconds=round(time.monotonic() - t0, 3),
    )
