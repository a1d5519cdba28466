"""GTP's core commands: protocol and identity, board setup, moves, undo, showboard and scoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import _core
from engine.board_text import render
from engine.coords import format_vertex
from engine.gtp.answers import GtpFailure
from engine.gtp.args import GtpArgs
from engine.sgf import result_string

if TYPE_CHECKING:
    from engine.gtp.engine import GtpEngine

VERSION = "0.1.0"
MAX_KOMI = 1000.0


class CoreCommands:
    """The commands every GTP engine has, over the engine's session."""

    def __init__(self, engine: GtpEngine) -> None:
        self.engine = engine
        self.session = engine.session

    # ------------------------------------------------------------------ protocol

    def cmd_protocol_version(self, args: GtpArgs) -> str:
        return "2"

    def cmd_name(self, args: GtpArgs) -> str:
        return self.session.config.name

    def cmd_version(self, args: GtpArgs) -> str:
        return VERSION

    def cmd_known_command(self, args: GtpArgs) -> str:
        args.expect(1)
        return "true" if self.engine.handler(args[0]) is not None else "false"

    def cmd_list_commands(self, args: GtpArgs) -> str:
        return "\n".join(self.engine.commands())

    def cmd_quit(self, args: GtpArgs) -> str:
        self.engine.quit_requested = True
        return ""

    # ------------------------------------------------------------------ board

    def cmd_boardsize(self, args: GtpArgs) -> str:
        args.expect(1)
        size = args.integer(0)
        if not _core.MIN_SIZE <= size <= _core.MAX_SIZE or not self.session.player.supports_size(size):
            raise GtpFailure("unacceptable size")
        self.session.new_game(size)
        return ""

    def cmd_clear_board(self, args: GtpArgs) -> str:
        self.session.new_game(self.session.size)
        return ""

    def cmd_komi(self, args: GtpArgs) -> str:
        args.expect(1)
        self.session.komi = args.number(0, -MAX_KOMI, MAX_KOMI)
        self.session.game.komi = self.session.komi
        return ""

    # ------------------------------------------------------------------ moves

    def cmd_play(self, args: GtpArgs) -> str:
        args.expect(2)
        s = self.session
        color, move = args.color(0), args.vertex(1, s.size)
        if not s.game.is_legal(color, move):
            raise GtpFailure("illegal move")
        s.game.play(color, move)
        return ""

    def cmd_genmove(self, args: GtpArgs) -> str:
        args.expect(1)
        return self.session.generate(args.color(0))

    def cmd_reg_genmove(self, args: GtpArgs) -> str:
        args.expect(1)
        return self.session.generate(args.color(0), play=False)

    def cmd_kgs_dash_genmove_cleanup(self, args: GtpArgs) -> str:
        args.expect(1)
        color = args.color(0)
        s = self.session
        dead = s.player.has_dead_stones_of(s.game, _core.WHITE if color == _core.BLACK else _core.BLACK)
        return s.generate(color, allow_pass=not dead)

    def cmd_undo(self, args: GtpArgs) -> str:
        if not self.session.game.undo():
            raise GtpFailure("cannot undo")
        self.session.result = None
        return ""

    def cmd_showboard(self, args: GtpArgs) -> str:
        game = self.session.game
        moves = game.moves()
        to_move = "Black" if game.to_move == 1 else "White"
        return "\n" + render(game, moves[-1][1] if moves else None) + f"\n{to_move} to move"

    # ------------------------------------------------------------------ scoring

    def cmd_final_score(self, args: GtpArgs) -> str:
        try:
            return result_string(self.session.score())
        except Exception as exc:  # noqa: BLE001
            raise GtpFailure("cannot score") from exc

    def cmd_final_status_list(self, args: GtpArgs) -> str:
        if len(args) != 1 or args[0].lower() not in ("alive", "dead", "seki"):
            raise GtpFailure("syntax error")
        status = args[0].lower()
        if status == "seki":
            return ""  # the dead-stone estimate does not single out seki; such stones are listed alive
        s = self.session
        board = s.game.board()
        dead = s.player.dead_stones(s.game)
        want = 1 if status == "dead" else 0
        points = [
            format_vertex(x + y * s.size, s.size)
            for y in range(s.size)
            for x in range(s.size)
            if board[y, x] != 0 and dead[y, x] == want
        ]
        return "\n".join(points)
