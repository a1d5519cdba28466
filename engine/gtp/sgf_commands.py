"""SGF over GTP: loadsgf (a position from a file) and printsgf (the game as SGF, or to a file)."""

from __future__ import annotations

from pathlib import Path

from engine.atomic_io import atomic_write_bytes
from engine.errors import TengenError
from engine.gtp.answers import GtpFailure
from engine.gtp.args import GtpArgs
from engine.gtp.session import GtpSession
from engine.sgf import game_to_sgf, load_sgf


class SgfCommands:
    """Loading and printing game records."""

    def __init__(self, session: GtpSession) -> None:
        self.session = session

    def cmd_loadsgf(self, args: GtpArgs) -> str:
        args.expect(1, 2)
        limit = None
        if len(args) == 2:
            limit = args.integer(1, 1) - 1  # "move number": the position before that move
        try:
            data = Path(args[0]).read_bytes()
            loaded = load_sgf(data, move_limit=limit)
        except (OSError, ValueError, RuntimeError, TengenError) as exc:
            raise GtpFailure("cannot load file") from exc
        s = self.session
        if not s.player.supports_size(loaded.game.size):
            raise GtpFailure("cannot load file")
        s.new_game(loaded.game.size)
        s.game = loaded.game
        s.komi = loaded.game.komi
        s.setup = list(loaded.setup)
        s.handicap = loaded.handicap
        return "black" if s.game.to_move == 1 else "white"

    def cmd_printsgf(self, args: GtpArgs) -> str:
        s = self.session
        data = game_to_sgf(s.game, s.setup, result=s.result, handicap=s.handicap)
        if args:
            try:
                atomic_write_bytes(args[0], data)
            except (OSError, ValueError, TengenError) as exc:
                raise GtpFailure(f"cannot write {args[0]}") from exc
            return ""
        return data.decode("utf-8", errors="replace").strip()
