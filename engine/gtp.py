"""GTP v2 engine: the protocol loop, command handlers, clocks, records, GUI analysis.

Every command is a `cmd_<name>` method taking the argument list and returning the answer
text, or raising GtpFailure(message) for a `?` answer. Input is cleaned as the spec says
(control characters dropped, tabs to spaces, `#` comments cut; blank lines get no answer).
No input can stop the loop: an unexpected exception becomes `? internal error: ...`.

Analysis (`lz-analyze`, `kata-analyze`) answers `=` at once, then streams `info` lines
every interval until the next input line arrives, which ends it with a blank line.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from engine import _core
from engine.analysis import Candidate, kata_line, lz_line
from engine.board_text import render
from engine.coords import format_vertex, parse_vertex
from engine.net_player import Budget
from engine.players import Player
from engine.sgf_io import game_to_sgf, load_sgf, result_string, write_atomically
from engine.timecontrol import TimeKeeper, TimeSettings

VERSION = "0.1.0"
MAX_LINE = 1 << 20  # longer input lines are answered with an error, not parsed


class GtpFailure(Exception):
    """A `? message` answer."""


@dataclass(frozen=True)
class GtpConfig:
    size: int = 19
    komi: float = 7.5
    visits: int | None = None  # per move without time settings (None: seconds or player default)
    seconds: float | None = None  # per move without time settings
    sgf_dir: Path | None = None  # a record of every game goes here (None: no records)
    name: str = "tengen"
    final_score_playouts: int = 400


def _color(text: str) -> int:
    t = text.lower()
    if t in ("b", "black"):
        return 1
    if t in ("w", "white"):
        return 2
    raise GtpFailure("syntax error")


def _int(text: str, low: int | None = None, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise GtpFailure("syntax error") from exc
    if (low is not None and value < low) or (high is not None and value > high):
        raise GtpFailure("syntax error")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise GtpFailure("syntax error") from exc
    if not math.isfinite(value):
        raise GtpFailure("syntax error")
    return value


def clean_line(raw: str) -> str:
    """The spec's preprocessing: control characters out (HT becomes a space), comments cut."""
    out = []
    for ch in raw:
        if ch == "\t":
            out.append(" ")
        elif ch == "\n" or (ord(ch) >= 32 and ord(ch) != 127):
            out.append(ch)
    text = "".join(out)
    if "#" in text:
        text = text[: text.index("#")]
    return text.strip()


def handicap_points(size: int, stones: int) -> list[int]:
    """GTP's fixed handicap placement (star points), or [] when the size cannot take that many."""
    if size < 7 or stones < 2:
        return []
    edge = 3 if size >= 13 else 2
    lo, hi = edge, size - 1 - edge
    mid = size // 2 if size % 2 == 1 else -1
    max_stones = 9 if mid >= 0 and size > 7 else 4
    if stones > max_stones:
        return []

    def pt(x: int, y: int) -> int:
        return x + y * size

    corners = [pt(hi, lo), pt(lo, hi), pt(hi, hi), pt(lo, lo)]  # top-right, bottom-left, bottom-right, top-left
    if stones <= 4:
        return corners[:stones]
    sides_lr = [pt(lo, mid), pt(hi, mid)]
    sides_tb = [pt(mid, lo), pt(mid, hi)]
    center = pt(mid, mid)
    if stones == 5:
        return corners + [center]
    if stones == 6:
        return corners + sides_lr
    if stones == 7:
        return corners + sides_lr + [center]
    if stones == 8:
        return corners + sides_lr + sides_tb
    return corners + sides_lr + sides_tb + [center]


class GtpEngine:
    """GTP state and handlers over a Player (the built-in UCT player or a network player)."""

    def __init__(self, player: Player, config: GtpConfig | None = None, out: TextIO | None = None) -> None:
        self.player = player
        self.config = config or GtpConfig()
        self.out = out or sys.stdout
        self.size = self.config.size
        self.komi = self.config.komi
        self.game = _core.Game(self.size, self.komi)
        self.setup: list[tuple[int, int]] = []
        self.handicap = 0
        self.clock = TimeKeeper()
        self.quit_requested = False
        self._write_lock = threading.Lock()
        self._analysis: threading.Thread | None = None
        self._analysis_stop = threading.Event()
        self._games_recorded = 0
        self._current_id = ""

    # ------------------------------------------------------------------ protocol plumbing

    def commands(self) -> list[str]:
        return sorted(n[4:].replace("_dash_", "-") for n in dir(self) if n.startswith("cmd_"))

    def _handler(self, name: str) -> Callable[[list[str]], str] | None:
        attr = "cmd_" + name.replace("-", "_dash_")
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            return None
        return getattr(self, attr, None)

    def write(self, text: str) -> None:
        with self._write_lock:
            self.out.write(text)
            self.out.flush()

    def handle(self, raw: str) -> str | None:
        """Answers one input line; None for lines the spec says get no answer."""
        if len(raw) > MAX_LINE:
            return "? line too long\n\n"
        line = clean_line(raw)
        if not line:
            return None
        parts = line.split()
        ident = ""
        if parts[0].isdigit():
            ident = parts.pop(0)
            if not parts:
                return f"?{ident} syntax error\n\n"
        name, args = parts[0], parts[1:]
        handler = self._handler(name)
        if handler is None:
            return f"?{ident} unknown command\n\n"
        self._current_id = ident
        try:
            answer = handler(args)
        except GtpFailure as exc:
            return f"?{ident} {exc}\n\n"
        except Exception as exc:  # noqa: BLE001 - the loop must survive anything
            return f"?{ident} internal error: {type(exc).__name__}: {exc}\n\n"
        if answer is _STREAMED:
            return None
        if isinstance(answer, _Streaming):
            self.write(f"={ident}\n")
            answer.start()
            return None
        if not answer:
            return f"={ident}\n\n"
        # A blank line ends a GTP answer: none may appear inside one.
        text = str(answer).rstrip("\n")
        while "\n\n" in text:
            text = text.replace("\n\n", "\n")
        return f"={ident} {text}\n\n"

    def serve(self, stream: BinaryIO | TextIO) -> None:
        """Reads commands until quit or end of input; analysis runs until the next line."""
        lines: queue.Queue[str | None] = queue.Queue()

        def reader() -> None:
            while True:
                raw = stream.readline()
                if not raw:
                    lines.put(None)
                    return
                if isinstance(raw, bytes):
                    raw = raw.decode("utf-8", errors="replace")
                lines.put(raw)

        threading.Thread(target=reader, daemon=True).start()
        try:
            while not self.quit_requested:
                raw = lines.get()
                self.stop_analysis()
                if raw is None:
                    break
                answer = self.handle(raw)
                if answer is not None:
                    self.write(answer)
        finally:
            self.stop_analysis()
            self._record_game()

    # ------------------------------------------------------------------ game helpers

    def _record_game(self) -> None:
        if self.config.sgf_dir is None or self.game.move_number == 0:
            return
        self._games_recorded += 1
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path(self.config.sgf_dir) / f"tengen-{stamp}-{self._games_recorded:03d}.sgf"
        data = game_to_sgf(self.game, self.setup, handicap=self.handicap)
        with contextlib.suppress(OSError):
            write_atomically(path, data)

    def _new_game(self) -> None:
        self._record_game()
        self.game = _core.Game(self.size, self.komi)
        self.setup = []
        self.handicap = 0

    def _vertex(self, text: str) -> int:
        try:
            return parse_vertex(text, self.size)
        except ValueError as exc:
            raise GtpFailure("syntax error") from exc

    def _score(self) -> float:
        return self.game.final_score(self.config.final_score_playouts, 0)

    def _budget(self, color: int) -> tuple[Budget, float | None]:
        """The move's budget and, under time control, the hard cap in seconds."""
        empties = int((self.game.board() == 0).sum())
        planned = self.clock.budget(color, empties)
        if planned is not None:
            seconds, cap = planned
            if self.config.seconds is not None:
                seconds = min(seconds, self.config.seconds)
            return Budget(visits=self.config.visits, seconds=seconds), cap
        if self.config.visits is None and self.config.seconds is None:
            return Budget(), None
        return Budget(visits=self.config.visits, seconds=self.config.seconds), None

    def _choose(
        self,
        color: int,
        allow_pass: bool = True,
        on_update: Callable[[list[Candidate]], None] | None = None,
        interval: float = 1.0,
    ) -> int:
        """Searches for `color`; returns a dense move or -1 for resignation."""
        game = self.game
        if game.to_move != color:
            game = game.copy()
            game.to_move = color
        # The opponent passed and we are ahead on the board: end the game.
        if allow_pass and game.consecutive_passes >= 1 and game.move_number > 0:
            score = self._score()
            if (score > 0) == (color == 1) and score != 0:
                return game.pass_move
        budget, cap = self._budget(color)
        out = self.player.search(game, budget, on_update=on_update, update_seconds=interval)
        if cap is not None and budget.seconds is not None and len(out.candidates) > 1:
            best, second = out.candidates[0], out.candidates[1]
            spent = out.seconds
            # A close race between the two best moves: think longer, within the cap.
            if second.visits * 1.3 > best.visits and cap - spent > 0.2:
                extra = Budget(visits=None, seconds=min(budget.seconds, cap - spent))
                out = self.player.search(game, extra, on_update=on_update, update_seconds=interval)
        move = out.move
        if move == game.pass_move and not allow_pass:
            # kgs-genmove_cleanup: keep playing while dead opponent stones remain.
            for c in out.candidates:
                if c.move != game.pass_move and game.is_legal(color, c.move):
                    move = c.move
                    break
        if move >= 0 and not game.is_legal(color, move):
            move = game.pass_move
        return move

    def _play_generated(self, color: int, move: int) -> str:
        if move < 0:
            return "resign"
        self.game.play(color, move)
        return format_vertex(move, self.size)

    # ------------------------------------------------------------------ required commands

    def cmd_protocol_version(self, args: list[str]) -> str:
        return "2"

    def cmd_name(self, args: list[str]) -> str:
        return self.config.name

    def cmd_version(self, args: list[str]) -> str:
        return VERSION

    def cmd_known_command(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        return "true" if self._handler(args[0]) is not None else "false"

    def cmd_list_commands(self, args: list[str]) -> str:
        return "\n".join(self.commands())

    def cmd_quit(self, args: list[str]) -> str:
        self.quit_requested = True
        return ""

    def cmd_boardsize(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        size = _int(args[0])
        if not _core.MIN_SIZE <= size <= _core.MAX_SIZE or not self.player.supports_size(size):
            raise GtpFailure("unacceptable size")
        self._record_game()
        self.size = size
        self.game = _core.Game(self.size, self.komi)
        self.setup = []
        self.handicap = 0
        return ""

    def cmd_clear_board(self, args: list[str]) -> str:
        self._new_game()
        return ""

    def cmd_komi(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        value = _float(args[0])
        if abs(value) > 1000:
            raise GtpFailure("syntax error")
        self.komi = value
        self.game.komi = value
        return ""

    def cmd_play(self, args: list[str]) -> str:
        if len(args) != 2:
            raise GtpFailure("syntax error")
        color, move = _color(args[0]), self._vertex(args[1])
        if not self.game.is_legal(color, move):
            raise GtpFailure("illegal move")
        self.game.play(color, move)
        return ""

    def cmd_genmove(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        color = _color(args[0])
        return self._play_generated(color, self._choose(color))

    def cmd_reg_genmove(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        move = self._choose(_color(args[0]))
        return "resign" if move < 0 else format_vertex(move, self.size)

    def cmd_kgs_dash_genmove_cleanup(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        color = _color(args[0])
        dead = self.game.dead_stones(self.config.final_score_playouts, 0)
        board = self.game.board()
        opponent_dead = bool(((dead == 1) & (board == 3 - color)).any())
        return self._play_generated(color, self._choose(color, allow_pass=not opponent_dead))

    def cmd_undo(self, args: list[str]) -> str:
        if not self.game.undo():
            raise GtpFailure("cannot undo")
        return ""

    def cmd_showboard(self, args: list[str]) -> str:
        moves = self.game.moves()
        return "\n" + render(self.game, moves[-1][1] if moves else None)

    # ------------------------------------------------------------------ scoring

    def cmd_final_score(self, args: list[str]) -> str:
        try:
            return result_string(self._score())
        except Exception as exc:  # noqa: BLE001
            raise GtpFailure("cannot score") from exc

    def cmd_final_status_list(self, args: list[str]) -> str:
        if len(args) != 1 or args[0].lower() not in ("alive", "dead", "seki"):
            raise GtpFailure("syntax error")
        status = args[0].lower()
        board = self.game.board()
        dead = self.game.dead_stones(self.config.final_score_playouts, 0)
        if status == "seki":
            return ""  # the estimate does not single out seki; such stones are listed alive
        want = 1 if status == "dead" else 0
        points = [
            format_vertex(x + y * self.size, self.size)
            for y in range(self.size)
            for x in range(self.size)
            if board[y, x] != 0 and dead[y, x] == want
        ]
        return "\n".join(points)

    # ------------------------------------------------------------------ handicap

    def _require_empty(self) -> None:
        if self.game.move_number > 0 or self.setup or int((self.game.board() != 0).sum()) > 0:
            raise GtpFailure("board not empty")

    def _place_handicap(self, points: list[int]) -> None:
        for p in points:
            if not self.game.place_setup_stone(1, p):
                raise GtpFailure("bad vertex list")
            self.setup.append((1, p))
        self.handicap = len(points)
        self.game.to_move = 2

    def cmd_fixed_handicap(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        stones = _int(args[0])
        self._require_empty()
        points = handicap_points(self.size, stones)
        if not points:
            raise GtpFailure("invalid number of stones")
        self._place_handicap(points)
        return " ".join(format_vertex(p, self.size) for p in points)

    def cmd_place_free_handicap(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        stones = _int(args[0])
        self._require_empty()
        area = self.size * self.size
        if stones < 2 or stones >= area:
            raise GtpFailure("invalid number of stones")
        points = handicap_points(self.size, stones)
        if not points:
            # Spread the stones over the board: a coarse grid, densest first on the 4th/3rd lines.
            order = sorted(range(area), key=lambda m: (abs(m % self.size - self.size // 2) ** 2
                                                     + abs(m // self.size - self.size // 2) ** 2, m))
            points = []
            for m in order:
                if all(abs(m % self.size - p % self.size) + abs(m // self.size - p // self.size) > 1 for p in points):
                    points.append(m)
                if len(points) == stones:
                    break
            for m in order:
                if len(points) == stones:
                    break
                if m not in points:
                    points.append(m)
        self._place_handicap(points)
        return " ".join(format_vertex(p, self.size) for p in points)

    def cmd_set_free_handicap(self, args: list[str]) -> str:
        self._require_empty()
        if len(args) < 2 or len(args) >= self.size * self.size:
            raise GtpFailure("bad vertex list")
        try:
            points = [parse_vertex(a, self.size) for a in args]
        except ValueError as exc:
            raise GtpFailure("bad vertex list") from exc
        if len(set(points)) != len(points) or self.game.pass_move in points:
            raise GtpFailure("bad vertex list")
        trial = _core.Game(self.size, self.komi)
        for p in points:
            if not trial.place_setup_stone(1, p):
                raise GtpFailure("bad vertex list")
        self._place_handicap(points)
        return ""

    # ------------------------------------------------------------------ time

    def cmd_time_settings(self, args: list[str]) -> str:
        if len(args) != 3:
            raise GtpFailure("syntax error")
        main, period, stones = _float(args[0]), _float(args[1]), _int(args[2], 0)
        if main < 0 or period < 0:
            raise GtpFailure("syntax error")
        if period > 0 and stones == 0:
            kind = "none"  # the spec: byo-yomi time with no stones means no time limit
        elif period == 0:
            kind = "absolute"
        else:
            kind = "canadian"
        self.clock.set(TimeSettings(kind, main, period, stones))
        return ""

    def cmd_kgs_dash_time_settings(self, args: list[str]) -> str:
        if not args:
            raise GtpFailure("syntax error")
        kind = args[0].lower()
        try:
            if kind == "none" and len(args) == 1:
                settings = TimeSettings("none")
            elif kind == "absolute" and len(args) == 2:
                settings = TimeSettings("absolute", _float(args[1]))
            elif kind == "byoyomi" and len(args) == 4:
                settings = TimeSettings("byoyomi", _float(args[1]), _float(args[2]), 0, _int(args[3], 0))
            elif kind == "canadian" and len(args) == 4:
                settings = TimeSettings("canadian", _float(args[1]), _float(args[2]), _int(args[3], 1))
            else:
                raise GtpFailure("syntax error")
        except ValueError as exc:
            raise GtpFailure("syntax error") from exc
        self.clock.set(settings)
        return ""

    def cmd_time_left(self, args: list[str]) -> str:
        if len(args) != 3:
            raise GtpFailure("syntax error")
        color, seconds, stones = _color(args[0]), _float(args[1]), _int(args[2], 0)
        self.clock.time_left(color, seconds, stones)
        return ""

    # ------------------------------------------------------------------ records

    def cmd_loadsgf(self, args: list[str]) -> str:
        if not 1 <= len(args) <= 2:
            raise GtpFailure("syntax error")
        limit = None
        if len(args) == 2:
            limit = _int(args[1], 1) - 1  # "move number": load up to, not including, that move
        try:
            data = Path(args[0]).read_bytes()
            loaded = load_sgf(data, move_limit=limit)
        except (OSError, ValueError) as exc:
            raise GtpFailure("cannot load file") from exc
        if not self.player.supports_size(loaded.game.size):
            raise GtpFailure("cannot load file")
        self._record_game()
        self.game = loaded.game
        self.size = loaded.game.size
        self.komi = loaded.game.komi
        self.setup = list(loaded.setup)
        self.handicap = loaded.handicap
        return "black" if self.game.to_move == 1 else "white"

    def cmd_printsgf(self, args: list[str]) -> str:
        data = game_to_sgf(self.game, self.setup, handicap=self.handicap)
        if args:
            try:
                write_atomically(args[0], data)
            except OSError as exc:
                raise GtpFailure(f"cannot write {args[0]}") from exc
            return ""
        return data.decode("utf-8", errors="replace").strip()

    # ------------------------------------------------------------------ analysis

    def _parse_analyze(self, args: list[str]) -> tuple[int, float, int, bool]:
        """(colour, interval seconds, max moves, ownership) from lz/kata-analyze arguments."""
        color = self.game.to_move
        interval = 1.0
        max_moves = 0
        ownership = False
        i = 0
        if i < len(args) and args[i].lower() in ("b", "w", "black", "white"):
            color = _color(args[i])
            i += 1
        if i < len(args) and args[i].isdigit():
            interval = _int(args[i], 0) / 100.0
            i += 1
        while i < len(args):
            key = args[i].lower()
            value = args[i + 1] if i + 1 < len(args) else None
            if value is None:
                raise GtpFailure("syntax error")
            if key == "interval":
                interval = _int(value, 0) / 100.0
            elif key == "maxmoves":
                max_moves = _int(value, 0)
            elif key == "ownership":
                ownership = value.lower() == "true"
            elif key in ("minmoves", "allow", "avoid", "rootinfo", "pvvisits", "ownershipstdev", "movesownership"):
                pass
            else:
                raise GtpFailure("syntax error")
            i += 2
        return color, max(interval, 0.05), max_moves, ownership

    def _formatter(self, kind: str, max_moves: int, ownership: bool, color: int) -> Callable[[list[Candidate]], str]:
        def fmt(cands: list[Candidate]) -> str:
            if kind == "lz":
                return lz_line(cands, self.size, max_moves)
            own = None
            if ownership:
                raw = self.game.ownership(100, 0).reshape(-1)
                own = [float(v) if color == 1 else -float(v) for v in raw]
            return kata_line(cands, self.size, max_moves, own)

        return fmt

    def _analyze(self, kind: str, args: list[str]) -> _Streaming:
        color, interval, max_moves, ownership = self._parse_analyze(args)
        game = self.game.copy()
        game.to_move = color
        fmt = self._formatter(kind, max_moves, ownership, color)
        stop = self._analysis_stop
        stop.clear()

        def run() -> None:
            self.player.search(game, Budget(visits=10**9, seconds=None), stop=stop,
                               on_update=lambda c: self.write(fmt(c) + "\n"), update_seconds=interval)

        return _Streaming(self, run)

    def cmd_lz_dash_analyze(self, args: list[str]) -> object:
        return self._analyze("lz", args)

    def cmd_kata_dash_analyze(self, args: list[str]) -> object:
        return self._analyze("kata", args)

    def _genmove_analyze(self, kind: str, args: list[str]) -> object:
        if not args:
            raise GtpFailure("syntax error")
        color, interval, max_moves, ownership = self._parse_analyze(args)
        fmt = self._formatter(kind, max_moves, ownership, color)
        self.write(f"={self._current_id}\n")
        move = self._choose(color, on_update=lambda c: self.write(fmt(c) + "\n"), interval=interval)
        answer = self._play_generated(color, move)
        self.write(f"play {answer}\n\n")
        return _STREAMED

    def cmd_lz_dash_genmove_analyze(self, args: list[str]) -> object:
        return self._genmove_analyze("lz", args)

    def cmd_kata_dash_genmove_analyze(self, args: list[str]) -> object:
        return self._genmove_analyze("kata", args)

    def stop_analysis(self) -> None:
        if self._analysis is not None:
            self._analysis_stop.set()
            self._analysis.join()
            self._analysis = None
            self.write("\n")


class _Streaming:
    """An answer that keeps printing until the next input line (analysis)."""

    def __init__(self, engine: GtpEngine, body: Callable[[], None]) -> None:
        self.engine = engine
        self.body = body

    def start(self) -> None:
        thread = threading.Thread(target=self.body, daemon=True)
        self.engine._analysis = thread
        thread.start()


_STREAMED = object()
