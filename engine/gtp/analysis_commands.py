"""GUI analysis over GTP: Leela Zero's and KataGo's lz-/kata-analyze and -genmove_analyze.

Syntax (both families): `CMD [player] [interval] KEY VALUE ...` with the keys
  interval CENTISECONDS, minmoves N, maxmoves N,
  avoid|allow COLOR VERTEX[,VERTEX...] UNTILDEPTH  (may repeat),
  ownership, ownershipStdev, movesOwnership, movesOwnershipStdev, pvVisits, pvEdgeVisits, rootInfo
  (each true or false).
Honoured: the player, interval, minmoves/maxmoves (the number of moves reported), ownership
(kata-analyze), and avoid/allow for the analysed player's own moves in the report. The search
itself does not restrict its root moves, and the other keys are accepted and ignored.

`*-analyze` answers `=` at once, then a Streaming prints `info` lines every interval from its own
thread (searching a copy of the game) until the next input line; `*-genmove_analyze` prints its
`info` lines while choosing a move and ends with `play MOVE`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine import _core
from engine.analysis import Candidate, kata_line, lz_line
from engine.gtp.answers import STREAMED, Streaming
from engine.gtp.args import COLORS, parse_bool, parse_color, parse_gtp_vertex, parse_int, syntax_error

if TYPE_CHECKING:
    from engine.gtp.args import GtpArgs
    from engine.gtp.engine import GtpEngine

MIN_INTERVAL = 0.05  # seconds; a smaller interval (0 included) reports this often
IGNORED_FLAGS = ("ownershipstdev", "movesownership", "movesownershipstdev", "pvvisits", "pvedgevisits", "rootinfo")


@dataclass(frozen=True, kw_only=True)
class AnalyzeRequest:
    """What an analysis command asked for."""

    color: int
    interval: float = 1.0  # seconds between reports
    min_moves: int = 0
    max_moves: int = 0  # 0: all
    ownership: bool = False
    avoid: frozenset[int] = frozenset()  # moves of `color` left out of the report
    allow: frozenset[int] | None = None  # when set, the only moves of `color` reported


def parse_analyze(words: Sequence[str], to_move: int, size: int) -> AnalyzeRequest:
    """An AnalyzeRequest from lz-/kata-analyze arguments; `? syntax error` on anything else."""
    color = to_move
    interval = 1.0
    min_moves = max_moves = 0
    ownership = False
    avoid: set[int] = set()
    allow: set[int] | None = None
    i = 0
    if i < len(words) and words[i].lower() in COLORS:
        color = parse_color(words[i])
        i += 1
    if i < len(words) and words[i].isascii() and words[i].isdigit():
        interval = parse_int(words[i], 0) / 100.0
        i += 1
    while i < len(words):
        key = words[i].lower()
        if key in ("avoid", "allow"):
            if i + 3 >= len(words):
                raise syntax_error()
            who = parse_color(words[i + 1])
            moves = {parse_gtp_vertex(v, size) for v in words[i + 2].split(",") if v}
            parse_int(words[i + 3], 1)  # untildepth: the report shows depth 1 only
            if who == color:
                if key == "avoid":
                    avoid |= moves
                else:
                    allow = moves if allow is None else allow | moves
            i += 4
            continue
        if i + 1 >= len(words):
            raise syntax_error()
        value = words[i + 1]
        if key == "interval":
            interval = parse_int(value, 0) / 100.0
        elif key == "minmoves":
            min_moves = parse_int(value, 0)
        elif key == "maxmoves":
            max_moves = parse_int(value, 0)
        elif key == "ownership":
            ownership = parse_bool(value)
        elif key in IGNORED_FLAGS:
            parse_bool(value)
        else:
            raise syntax_error()
        i += 2
    return AnalyzeRequest(color=color, interval=max(interval, MIN_INTERVAL), min_moves=min_moves,
                          max_moves=max_moves, ownership=ownership, avoid=frozenset(avoid),
                          allow=None if allow is None else frozenset(allow))


class AnalysisCommands:
    """The analysis commands over the engine's session and output."""

    def __init__(self, engine: GtpEngine) -> None:
        self.engine = engine
        self.session = engine.session

    def _request(self, args: GtpArgs) -> AnalyzeRequest:
        return parse_analyze(list(args), self.session.game.to_move, self.session.size)

    def _formatter(self, kind: str, req: AnalyzeRequest) -> Callable[[list[Candidate]], str]:
        """The report line maker. kata-analyze adds, with a network that has aux heads, each
        move's scoreLead (the net's score of the position after it) and the net's ownership;
        without one, ownership comes from light playouts and no scoreLead is given."""
        size = self.session.size
        player = self.session.player
        game = self.session.game.copy()
        if game.to_move != req.color:
            game.to_move = req.color
        leads: dict[int, float] = {}  # move -> scoreLead for req.color, computed once per move
        own: list[float] | None = None

        def fmt(cands: list[Candidate]) -> str:
            nonlocal own
            shown = [c for c in cands if c.move not in req.avoid and (req.allow is None or c.move in req.allow)]
            if kind == "lz":
                return lz_line(shown, size, req.max_moves, req.min_moves)
            missing = [c.move for c in shown if c.move not in leads]
            if missing:
                for move, lead in zip(missing, player.score_leads(game, missing) or [], strict=False):
                    leads[move] = lead
            shown = [dataclasses.replace(c, score_lead=leads.get(c.move)) for c in shown]
            if req.ownership and own is None:
                raw = player.ownership(game)
                own = [float(v) if req.color == _core.BLACK else -float(v) for v in raw]
            return kata_line(shown, size, req.max_moves, own, req.min_moves)

        return fmt

    def _info_writer(self, fmt: Callable[[list[Candidate]], str]) -> Callable[[list[Candidate]], None]:
        """Writes one `info` line per update; an update with nothing to show writes nothing,
        since a blank line would end the streamed answer early."""

        def write(cands: list[Candidate]) -> None:
            line = fmt(cands)
            if line.strip():
                self.engine.write(line + "\n")

        return write

    def _analyze(self, kind: str, args: GtpArgs) -> Streaming:
        req = self._request(args)
        game = self.session.game.copy()
        writer = self._info_writer(self._formatter(kind, req))
        player = self.session.player

        def body(stop: threading.Event) -> None:
            player.analyze(game, req.color, stop, writer, req.interval)

        return Streaming(body)

    def cmd_lz_dash_analyze(self, args: GtpArgs) -> object:
        return self._analyze("lz", args)

    def cmd_kata_dash_analyze(self, args: GtpArgs) -> object:
        return self._analyze("kata", args)

    def _genmove_analyze(self, kind: str, args: GtpArgs) -> object:
        if not args:
            raise syntax_error()
        req = self._request(args)
        writer = self._info_writer(self._formatter(kind, req))
        self.engine.write(f"={self.engine.current_id}\n")
        try:
            answer = self.session.generate(req.color, on_update=writer, interval=req.interval)
        except Exception:  # noqa: BLE001 - the `=` is out: end the answer properly
            answer = "pass"
        self.engine.write(f"play {answer}\n\n")
        return STREAMED

    def cmd_lz_dash_genmove_analyze(self, args: GtpArgs) -> object:
        return self._genmove_analyze("lz", args)

    def cmd_kata_dash_genmove_analyze(self, args: GtpArgs) -> object:
        return self._genmove_analyze("kata", args)

    def cmd_gogui_dash_analyze_commands(self, args: GtpArgs) -> str:
        return "\n".join([
            "string/Final score/final_score",
            "plist/Dead stones/final_status_list dead",
            "plist/Alive stones/final_status_list alive",
            "none/Analyze (lz)/lz-analyze %c 50",
        ])
