"""One refereed game of a tournament between two GTP players, saved as SGF, as one GameResult.

The game itself is engine.gtp_game.play_gtp_game (the referee Game, forfeits by resignation,
illegal or unreadable moves, timeouts, crashes and GTP errors, two passes, the move limit, the
optional GnuGo count). This module starts the players from their specs (a player that cannot
start loses by `crash`), writes the SGF record with the reason and the scores in its comment,
and turns the outcome into the line of results.jsonl. The engine's score decides unless the
config says `score_by: gnugo` (for while the engine's dead-stone estimate is weaker than
GnuGo's; the report lists every disagreement).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine import _core
from engine.arena.config import GameSpec, MatchRules
from engine.arena.engines import EngineSpec
from engine.gtp_client import GtpClient
from engine.gtp_game import (
    STOP_GRACE_SECONDS,
    GameStopped,
    GtpGameOutcome,
    Reason,
    play_gtp_game,
    random_opening,
)
from engine.sgf import BY_FORFEIT, SgfRecord, result_string, utc_date, win_string, write_sgf

APPLICATION = ("tengen arena", "1")
OPENING_STREAM = 11  # the random opening's numpy stream: default_rng([game seed, OPENING_STREAM])


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


def sgf_name(game: GameSpec) -> str:
    return f"sgf/{game.index:05d}-{game.black}-vs-{game.white}.sgf"


def _start(spec: EngineSpec, game: GameSpec, rules: MatchRules) -> GtpClient:
    """Starts one player; OSError when its command cannot run."""
    return GtpClient(spec.argv(game.seed, rules.size), timeout=rules.move_timeout)


def _comment(outcome: GtpGameOutcome, seed: int) -> str:
    comment = f"{outcome.reason}: {outcome.detail}" if outcome.detail else outcome.reason
    comment += f"\nseed {seed}"
    if outcome.engine_score is not None:
        comment += f"\nengine score {result_string(outcome.engine_score)}"
    if outcome.referee_score is not None:
        comment += f", GnuGo referee {result_string(outcome.referee_score)}"
        comment += "" if outcome.referee_agrees else " (DISAGREES)"
    return comment


def play_game(game: GameSpec, black: EngineSpec, white: EngineSpec, rules: MatchRules,
              out_dir: Path, event: str = "tengen arena",
              stop: threading.Event | None = None) -> GameResult | None:
    """Plays one game and writes its SGF under `out_dir`; None when `stop` was set mid-game."""
    t0 = time.monotonic()
    specs = {_core.BLACK: black, _core.WHITE: white}
    clients: dict[int, GtpClient] = {}
    outcome: GtpGameOutcome | None = None
    try:
        for colour in (_core.BLACK, _core.WHITE):
            try:
                clients[colour] = _start(specs[colour], game, rules)
            except OSError as exc:
                if stop is not None and stop.wait(STOP_GRACE_SECONDS):
                    return None  # a crash as the tournament stops is the stop, not a loss
                other = _core.WHITE if colour == _core.BLACK else _core.BLACK
                outcome = GtpGameOutcome(moves=(), reason="crash", winner=other, loser=colour,
                                         detail=f"{specs[colour].name} could not start: {exc}",
                                         result=win_string(other, BY_FORFEIT))  # fmt: skip
                break
        if outcome is None:
            opening = random_opening(rules.size, rules.komi, rules.opening_moves,
                                     np.random.default_rng([game.seed, OPENING_STREAM]))  # fmt: skip
            outcome = play_gtp_game(
                clients[_core.BLACK], clients[_core.WHITE], size=rules.size, komi=rules.komi,
                max_moves=rules.move_limit, score_playouts=rules.score_playouts, seed=game.seed,
                names=(black.name, white.name), move_timeout=rules.move_timeout,
                gnugo_referee=rules.referee != "none", score_by=rules.score_by, stop=stop, opening=opening,
                byoyomi={c: rules.byoyomi for c, s in specs.items() if rules.byoyomi > 0 and s.name in rules.clocked},
            )  # fmt: skip
    except GameStopped:
        return None
    finally:
        for client in clients.values():
            client.close()

    winner = None if outcome.winner is None else "B" if outcome.winner == _core.BLACK else "W"
    record = SgfRecord(
        size=rules.size, komi=rules.komi, moves=outcome.moves, black=game.black, white=game.white,
        result=outcome.result, event=event, game_name=f"{event} game {game.index}", date=utc_date(),
        application=APPLICATION, comment=_comment(outcome, game.seed),
    )  # fmt: skip
    write_sgf(out_dir / sgf_name(game), record)
    return GameResult(
        index=game.index, black=game.black, white=game.white, seed=game.seed, winner=winner,
        result=outcome.result, reason=outcome.reason, detail=outcome.detail, moves=len(outcome.moves),
        engine_score=outcome.engine_score, referee_score=outcome.referee_score,
        referee_agrees=outcome.referee_agrees, sgf=sgf_name(game), seconds=round(time.monotonic() - t0, 3),
    )
