"""The game a GTP engine is playing: board, setup stones, handicap, result, clocks and records.

One GtpSession per engine, changed only by command handlers on the protocol loop's thread (analysis
threads work on copies of the game).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine import _core
from engine.analysis import Candidate
from engine.atomic_io import atomic_write_bytes
from engine.clock import GameClock
from engine.coords import format_vertex
from engine.player import RESIGN, Player
from engine.sgf import BY_RESIGNATION, game_to_sgf, win_string


@dataclass(frozen=True, kw_only=True)
class GtpConfig:
    """The engine's start-up state and where its game records go (None: no records)."""

    size: int = 19
    komi: float = _core.DEFAULT_KOMI
    sgf_dir: Path | None = None
    name: str = "tengen"


class GtpSession:
    """The game in progress and the player that makes our moves in it."""

    def __init__(self, player: Player, config: GtpConfig) -> None:
        self.player = player
        self.config = config
        self.size = config.size
        self.komi = config.komi
        self.game = _core.Game(self.size, self.komi)
        self.setup: list[tuple[int, int]] = []
        self.handicap = 0
        self.result: str | None = None  # set when a player resigned
        self.our_colors: set[int] = set()  # colours we generated moves for (for the record's PB/PW)
        self.clock = GameClock()
        self._games_recorded = 0

    def record_game(self) -> None:
        """Writes the game in progress to sgf_dir (temporary name, then rename) if it has moves."""
        if self.config.sgf_dir is None or self.game.move_number == 0:
            return
        self._games_recorded += 1
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path(self.config.sgf_dir) / f"tengen-{stamp}-{os.getpid()}-{self._games_recorded:03d}.sgf"
        names = {c: (self.config.name if c in self.our_colors else "") for c in (1, 2)}
        data = game_to_sgf(self.game, self.setup, black=names[1], white=names[2], result=self.result,
                           handicap=self.handicap)
        with contextlib.suppress(OSError):
            atomic_write_bytes(path, data)

    def new_game(self, size: int) -> None:
        """Records the game in progress and starts an empty board of `size` (komi kept)."""
        self.record_game()
        self.size = size
        self.game = _core.Game(size, self.komi)
        self.setup = []
        self.handicap = 0
        self.result = None
        self.our_colors = set()

    def score(self) -> float:
        """The position's area score (black minus white, komi included), dead stones removed."""
        return self.player.final_score(self.game)

    def generate(
        self,
        color: int,
        allow_pass: bool = True,
        play: bool = True,
        on_update: Callable[[list[Candidate]], None] | None = None,
        interval: float = 1.0,
    ) -> str:
        """Asks the player for `color`'s move; plays it unless play is False; returns its GTP name."""
        clock = self.clock if play else None
        move = self.player.genmove(self.game, color, clock, allow_pass=allow_pass, on_update=on_update,
                                   update_seconds=interval)
        if move == RESIGN:
            if play:
                self.our_colors.add(color)
                self.result = win_string(_core.WHITE if color == _core.BLACK else _core.BLACK, BY_RESIGNATION)
            return "resign"
        if play:
            self.game.play(color, move)
            self.our_colors.add(color)
        return format_vertex(move, self.size)
