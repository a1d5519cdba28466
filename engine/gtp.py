"""GTP v2 engine: the protocol loop, command handlers, clocks, game records, GUI analysis.

Every command is a `cmd_<name>` method (`-` in a name is spelt `_dash_`) taking the argument
list and returning the answer text, or raising GtpFailure(message) for a `?` answer. Input is
cleaned as the spec says (control characters dropped, tabs to spaces, `#` comments cut; blank
lines get no answer). No input can stop the loop: an unexpected exception becomes
`? internal error: ...`. Rules, scoring and dead stones come from `engine._core.Game`; moves
from `engine.player.UctPlayer`.

Analysis (`lz-analyze`, `kata-analyze`) answers `=` at once, then streams `info` lines
every interval until the next input line arrives, which ends it with a blank line.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import os
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
from engine.player import RESIGN, GameClock, TimeSettings, UctPlayer, opponent_dead_stones
from engine.sgf_io import game_to_sgf, load_sgf, result_string, write_atomically

VERSION = "0.1.0"
MAX_LINE = 1 << 20  # longer input lines are answered with an error, not parsed
MAX_KOMI = 1000.0


class GtpFailure(Exception):
    """A `? message` answer."""


@dataclass(frozen=True)
class GtpConfig:
    """The engine's start-up state and where its game records go (None: no records)."""

    size: int = 19
    komi: float = 7.5
    sgf_dir: Path | None = None
    name: str = "tengen"
    score_playouts: int = 400  # dead-stone estimate behind final_score / final_status_list


def _color(text: str) -> int:
    t = text.lower()
    if t in ("b", "black"):
        return 1
    if t in ("w", "white"):
        return 2
    raise GtpFailure("syntax error")


def _int(text: str, low: int | None = None, high: int | None = None) -> int:
    if not text.isascii() or len(text) > 30:
        raise GtpFailure("syntax error")
    try:
        value = int(text)
    except ValueError as exc:
        raise GtpFailure("syntax error") from exc
    if (low is not None and value < low) or (high is not None and value > high):
        raise GtpFailure("syntax error")
    return value


def _float(text: str, low: float = -math.inf, high: float = math.inf) -> float:
    if not text.isascii() or len(text) > 60:
        raise GtpFailure("syntax error")
    try:
        value = float(text)
    except ValueError as exc:
        raise GtpFailure("syntax error") from exc
    if not math.isfinite(value) or not low <= value <= high:
        raise GtpFailure("syntax error")
    return value


class FdLineReader:
    """Lines from a file descriptor read with os.read. Unlike sys.stdin.buffer it holds no
    buffered-reader lock, so when `quit` ends the engine while a GUI still holds the pipe open,
    the reader thread blocked here cannot abort the interpreter's shutdown."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""

    def readline(self, limit: int = -1) -> bytes:
        """The next line with its newline (at most `limit` bytes when limit >= 0); b"" at the end."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0 and (limit < 0 or i + 1 <= limit):
                line, self.buf = self.buf[: i + 1], self.buf[i + 1 :]
                return line
            if 0 <= limit <= len(self.buf):
                line, self.buf = self.buf[:limit], self.buf[limit:]
                return line
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                line, self.buf = self.buf, b""
                return line
            self.buf += chunk


def clean_line(raw: str) -> str:
    """The spec's preprocessing: control characters out (HT becomes a space), comments cut."""
    out = []
    for ch in raw:
        if ch == "\t":
            out.append(" ")
        elif ord(ch) >= 32 and ord(ch) != 127:
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


def spread_points(size: int, stones: int) -> list[int]:
    """`stones` points for free handicap where the fixed pattern has none: from the centre
    outwards, first points not next to an earlier one, then any."""
    area = size * size
    order = sorted(range(area), key=lambda m: ((m % size - size // 2) ** 2 + (m // size - size // 2) ** 2, m))
    points: list[int] = []
    for m in order:
        if len(points) == stones:
            return points
        if all(abs(m % size - p % size) + abs(m // size - p // size) > 1 for p in points):
            points.append(m)
    taken = set(points)
    points += [m for m in order if m not in taken][: stones - len(points)]
    return points


class GtpEngine:
    """GTP state (board, clocks, records) and the command handlers over one UctPlayer."""

    def __init__(self, player: UctPlayer, config: GtpConfig | None = None, out: TextIO | None = None) -> None:
        self.player = player
        self.config = config or GtpConfig()
        self.out = out or sys.stdout
        self.size = self.config.size
        self.komi = self.config.komi
        self.game = _core.Game(self.size, self.komi)
        self.setup: list[tuple[int, int]] = []
        self.handicap = 0
        self.result: str | None = None  # set when a player resigned
        self.our_colors: set[int] = set()  # colours we generated moves for (for the record's PB/PW)
        self.clock = GameClock()
        self.quit_requested = False
        self._write_lock = threading.Lock()
        self._analysis: threading.Thread | None = None
        self._analysis_stop = threading.Event()
        self._games_recorded = 0
        self._current_id = ""

    # ------------------------------------------------------------------ protocol plumbing

    def commands(self) -> list[str]:
        """Names of all known commands, sorted."""
        return sorted(n[4:].replace("_dash_", "-") for n in dir(self) if n.startswith("cmd_"))

    def _handler(self, name: str) -> Callable[[list[str]], object] | None:
        if not name or not name.isascii() or not all(c.isalnum() or c in "-_" for c in name) or "_dash_" in name:
            return None
        return getattr(self, "cmd_" + name.replace("-", "_dash_"), None)

    def write(self, text: str) -> None:
        """Writes text to the output stream and flushes it (thread-safe)."""
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
        if parts[0].isascii() and parts[0].isdigit():
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

    def serve(self, in_stream: BinaryIO | TextIO | FdLineReader, out_stream: TextIO | None = None) -> None:
        """Reads commands from in_stream (bytes are decoded with replacement) and answers on
        out_stream (default: the engine's), until quit or end of input. Analysis runs until
        the next line. The game in progress is recorded on the way out."""
        if out_stream is not None:
            self.out = out_stream
        lines: queue.Queue[str | None] = queue.Queue()

        def reader() -> None:
            try:
                while True:
                    raw = in_stream.readline(MAX_LINE + 1)
                    if not raw:
                        break
                    if len(raw) > MAX_LINE and not raw.endswith(b"\n" if isinstance(raw, bytes) else "\n"):
                        while True:  # drop the rest of an over-long line: it gets one answer
                            more = in_stream.readline(MAX_LINE + 1)
                            if not more or more.endswith(b"\n" if isinstance(more, bytes) else "\n"):
                                break
                    if isinstance(raw, bytes):
                        raw = raw.decode("utf-8", errors="replace")
                    lines.put(raw)
            except (OSError, ValueError):
                pass
            lines.put(None)

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
            write_atomically(path, data)

    def _new_game(self, size: int) -> None:
        self._record_game()
        self.size = size
        self.game = _core.Game(size, self.komi)
        self.setup = []
        self.handicap = 0
        self.result = None
        self.our_colors = set()

    def _vertex(self, text: str) -> int:
        try:
            return parse_vertex(text, self.size)
        except ValueError as exc:
            raise GtpFailure("syntax error") from exc

    def _score(self) -> float:
        return self.game.final_score(self.config.score_playouts, 0)

    def _generate(
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
                self.result = "W+R" if color == 1 else "B+R"
            return "resign"
        if play:
            self.game.play(color, move)
            self.our_colors.add(color)
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
        self._new_game(size)
        return ""

    def cmd_clear_board(self, args: list[str]) -> str:
        self._new_game(self.size)
        return ""

    def cmd_komi(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        self.komi = _float(args[0], -MAX_KOMI, MAX_KOMI)
        self.game.komi = self.komi
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
        return self._generate(_color(args[0]))

    def cmd_reg_genmove(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        return self._generate(_color(args[0]), play=False)

    def cmd_kgs_dash_genmove_cleanup(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpFailure("syntax error")
        color = _color(args[0])
        dead = opponent_dead_stones(self.game, color, self.config.score_playouts)
        return self._generate(color, allow_pass=not dead)

    def cmd_undo(self, args: list[str]) -> str:
        if not self.game.undo():
            raise GtpFailure("cannot undo")
        self.result = None
        return ""

    def cmd_showboard(self, args: list[str]) -> str:
        moves = self.game.moves()
        to_move = "Black" if self.game.to_move == 1 else "White"
        return "\n" + render(self.game, moves[-1][1] if moves else None) + f"\n{to_move} to move"

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
        if status == "seki":
            return ""  # the dead-stone estimate does not single out seki; such stones are listed alive
        board = self.game.board()
        dead = self.game.dead_stones(self.config.score_playouts, 0)
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
        if self.game.move_number > 0 or self.setup or bool((self.game.board() != 0).any()):
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
        if stones < 2 or stones >= self.size * self.size:
            raise GtpFailure("invalid number of stones")
        points = handicap_points(self.size, stones) or spread_points(self.size, stones)
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
        if not all(trial.place_setup_stone(1, p) for p in points):
            raise GtpFailure("bad vertex list")
        self._place_handicap(points)
        return ""

    # ------------------------------------------------------------------ time

    def _set_clock(self, settings: TimeSettings) -> None:
        self.clock.set(settings)

    def cmd_time_settings(self, args: list[str]) -> str:
        if len(args) != 3:
            raise GtpFailure("syntax error")
        main, period = _float(args[0], 0, 1e8), _float(args[1], 0, 1e8)
        stones = _int(args[2], 0, 10**5)
        try:
            self._set_clock(TimeSettings.from_gtp(main, period, stones))
        except ValueError as exc:
            raise GtpFailure("syntax error") from exc
        return ""

    def cmd_kgs_dash_time_settings(self, args: list[str]) -> str:
        if not args:
            raise GtpFailure("syntax error")
        kind = args[0].lower()
        try:
            if kind == "none" and len(args) == 1:
                settings = TimeSettings("none")
            elif kind == "absolute" and len(args) == 2:
                settings = TimeSettings("absolute", _float(args[1], 0, 1e8))
            elif kind == "byoyomi" and len(args) == 4:
                settings = TimeSettings("byoyomi", _float(args[1], 0, 1e8), _float(args[2], 0, 1e8), 0,
                                        _int(args[3], 0, 10**5))
            elif kind == "canadian" and len(args) == 4:
                settings = TimeSettings("canadian", _float(args[1], 0, 1e8), _float(args[2], 0, 1e8),
                                        _int(args[3], 1, 10**5))
            else:
                raise GtpFailure("syntax error")
        except ValueError as exc:
            raise GtpFailure("syntax error") from exc
        self._set_clock(settings)
        return ""

    def cmd_time_left(self, args: list[str]) -> str:
        if len(args) != 3:
            raise GtpFailure("syntax error")
        color, seconds, stones = _color(args[0]), _float(args[1], -1e8, 1e8), _int(args[2], 0, 10**5)
        self.clock.time_left(color, seconds, stones)
        return ""

    # ------------------------------------------------------------------ records

    def cmd_loadsgf(self, args: list[str]) -> str:
        if not 1 <= len(args) <= 2:
            raise GtpFailure("syntax error")
        limit = None
        if len(args) == 2:
            limit = _int(args[1], 1) - 1  # "move number": the position before that move
        try:
            data = Path(args[0]).read_bytes()
            loaded = load_sgf(data, move_limit=limit)
        except (OSError, ValueError) as exc:
            raise GtpFailure("cannot load file") from exc
        if not self.player.supports_size(loaded.game.size):
            raise GtpFailure("cannot load file")
        self._new_game(loaded.game.size)
        self.game = loaded.game
        self.komi = loaded.game.komi
        self.setup = list(loaded.setup)
        self.handicap = loaded.handicap
        return "black" if self.game.to_move == 1 else "white"

    def cmd_printsgf(self, args: list[str]) -> str:
        data = game_to_sgf(self.game, self.setup, result=self.result, handicap=self.handicap)
        if args:
            try:
                write_atomically(args[0], data)
            except (OSError, ValueError) as exc:
                raise GtpFailure(f"cannot write {args[0]}") from exc
            return ""
        return data.decode("utf-8", errors="replace").strip()

    def cmd_gogui_dash_analyze_commands(self, args: list[str]) -> str:
        return "\n".join([
            "string/Final score/final_score",
            "plist/Dead stones/final_status_list dead",
            "plist/Alive stones/final_status_list alive",
            "none/Analyze (lz)/lz-analyze %c 50",
        ])

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
        if i < len(args) and args[i].isascii() and args[i].isdigit():
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

    def _info_writer(self, fmt: Callable[[list[Candidate]], str]) -> Callable[[list[Candidate]], None]:
        """Writes one `info` line per update; an update with nothing to show writes nothing,
        since a blank line would end the streamed answer early."""

        def write(cands: list[Candidate]) -> None:
            line = fmt(cands)
            if line.strip():
                self.write(line + "\n")

        return write

    def _analyze(self, kind: str, args: list[str]) -> _Streaming:
        color, interval, max_moves, ownership = self._parse_analyze(args)
        game = self.game.copy()
        fmt = self._formatter(kind, max_moves, ownership, color)
        stop = self._analysis_stop
        stop.clear()

        def run() -> None:
            self.player.analyze(game, color, stop, self._info_writer(fmt), interval)

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
        try:
            answer = self._generate(color, on_update=self._info_writer(fmt), interval=interval)
        except Exception:  # noqa: BLE001 - the `=` is out: end the answer properly
            answer = "pass"
        self.write(f"play {answer}\n\n")
        return _STREAMED

    def cmd_lz_dash_genmove_analyze(self, args: list[str]) -> object:
        return self._genmove_analyze("lz", args)

    def cmd_kata_dash_genmove_analyze(self, args: list[str]) -> object:
        return self._genmove_analyze("kata", args)

    def stop_analysis(self) -> None:
        """Stops a running analysis and ends its answer with the blank line."""
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
