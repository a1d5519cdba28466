"""The GTP protocol loop: reads command lines, strips ids, dispatches to handlers, writes answers.

Every command is a `cmd_<name>` method of a handler group (`-` in a name is spelt `_dash_`), taking a
GtpArgs and returning the answer text (see engine.gtp.answers for failures and streamed answers).
Input is cleaned as the spec says (control characters dropped, tabs to spaces, `#` comments cut;
blank lines get no answer). An answer never holds a blank line: failure messages are folded to one
line and blank lines inside an answer are dropped. No input can stop the loop: an unexpected
exception becomes `? internal error: ...`.

Threads: the loop runs on the caller's thread, a reader thread feeds it lines, and a streamed answer
(analysis) prints from its own thread until the next line arrives; `write` serialises the output.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from typing import BinaryIO, TextIO

from engine import _core
from engine.errors import TengenError, one_line
from engine.gtp.analysis_commands import AnalysisCommands
from engine.gtp.answers import STREAMED, Streaming
from engine.gtp.args import GtpArgs
from engine.gtp.core_commands import CoreCommands
from engine.gtp.handicap import HandicapCommands
from engine.gtp.lines import MAX_LINE, FdLineReader, clean_line
from engine.gtp.session import GtpConfig, GtpSession
from engine.gtp.sgf_commands import SgfCommands
from engine.gtp.time_commands import TimeCommands
from engine.player import Player

Handler = Callable[[GtpArgs], object]


def _answer_text(answer: object) -> str:
    """An answer's text with no blank line inside (a blank line ends a GTP answer)."""
    text = str(answer).rstrip("\n")
    while "\n\n" in text:
        text = text.replace("\n\n", "\n")
    return text


class GtpEngine:
    """The protocol over one GtpSession; the handler groups do the commands."""

    def __init__(self, player: Player, config: GtpConfig | None = None, out: TextIO | None = None) -> None:
        self.session = GtpSession(player, config or GtpConfig())
        self.out = out or sys.stdout
        self.quit_requested = False
        self.current_id = ""  # the id of the command being answered ("" when it has none)
        self._write_lock = threading.Lock()
        self._streaming: Streaming | None = None
        self._handlers: dict[str, Handler] = {}
        for group in (CoreCommands(self), HandicapCommands(self.session), TimeCommands(self.session),
                      SgfCommands(self.session), AnalysisCommands(self)):
            for attr in dir(group):
                if attr.startswith("cmd_"):
                    self._handlers[attr[4:].replace("_dash_", "-")] = getattr(group, attr)

    @property
    def player(self) -> Player:
        """The player making our moves."""
        return self.session.player

    @property
    def game(self) -> _core.Game:
        """The game in progress."""
        return self.session.game

    @property
    def size(self) -> int:
        """The current board size."""
        return self.session.size

    # ------------------------------------------------------------------ dispatch

    def commands(self) -> list[str]:
        """Names of all known commands, sorted."""
        return sorted(self._handlers)

    def handler(self, name: str) -> Handler | None:
        """The handler of command `name`, or None for an unknown command."""
        if not name or not name.isascii() or not all(c.isalnum() or c in "-_" for c in name):
            return None
        return self._handlers.get(name)

    def write(self, text: str) -> None:
        """Writes text to the output stream and flushes it (thread-safe)."""
        with self._write_lock:
            self.out.write(text)
            self.out.flush()

    def handle(self, raw: str) -> str | None:
        """Answers one input line; None for lines the spec says get no answer (and for answers
        already written: streamed ones)."""
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
        handler = self.handler(parts[0])
        if handler is None:
            return f"?{ident} unknown command\n\n"
        self.current_id = ident
        try:
            answer = handler(GtpArgs(parts[1:]))
        except TengenError as exc:
            return f"?{ident} {one_line(str(exc)) or 'failed'}\n\n"
        except Exception as exc:  # noqa: BLE001 - the loop must survive anything
            return f"?{ident} {one_line(f'internal error: {type(exc).__name__}: {exc}')}\n\n"
        if answer is STREAMED:
            return None
        if isinstance(answer, Streaming):
            self.write(f"={ident}\n")
            self._streaming = answer
            answer.start()
            return None
        text = _answer_text(answer) if answer else ""
        return f"={ident} {text}\n\n" if text else f"={ident}\n\n"

    def stop_analysis(self) -> None:
        """Stops a streamed answer in progress and ends it with the blank line."""
        if self._streaming is not None:
            self._streaming.stop()
            self._streaming = None
            self.write("\n")

    # ------------------------------------------------------------------ the loop

    def serve(self, in_stream: BinaryIO | TextIO | FdLineReader, out_stream: TextIO | None = None) -> None:
        """Reads commands from in_stream (bytes are decoded with replacement) and answers on
        out_stream (default: the engine's), until quit or end of input. Analysis runs until
        the next line. The game in progress is recorded on the way out."""
        if out_stream is not None:
            self.out = out_stream
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> str:
            raw = in_stream.readline(MAX_LINE + 1)
            return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw

        def reader() -> None:
            try:
                while True:
                    line = read()
                    if not line:
                        break
                    if len(line) > MAX_LINE and not line.endswith("\n"):
                        while True:  # drop the rest of an over-long line: it gets one answer
                            more = read()
                            if not more or more.endswith("\n"):
                                break
                    lines.put(line)
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
            self.session.record_game()
