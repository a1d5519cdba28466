"""A client for GTP engines run as subprocesses (GnuGo, tengen itself, any other engine).

Used by tests (GnuGo as referee and opponent), the arena, the game loop (engine/gtp_game.py) and
benchmarks. An engine that dies, or closes its output, raises GtpEngineDied quoting the last lines
it wrote to stderr, so a child that fails to start shows its own reason.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import subprocess
import threading
from collections import deque
from collections.abc import Sequence

from engine.errors import TengenError

GNUGO_PATHS = ("/usr/games/gnugo", "/usr/bin/gnugo", "/usr/local/bin/gnugo")
STDERR_TAIL_LINES = 5  # the last stderr lines of an engine that a GtpEngineDied message quotes
STDERR_TAIL_CHARS = 300
STDERR_GRACE_SECONDS = 1.0  # how long a dead engine's last stderr lines are waited for


def find_gnugo() -> str | None:
    """Path of the GnuGo binary (Debian puts it at /usr/games/gnugo, off PATH), or None."""
    for path in GNUGO_PATHS:
        if os.access(path, os.X_OK):
            return path
    from shutil import which

    return which("gnugo")


class GtpError(TengenError, RuntimeError):
    """The engine answered `? message`."""


class GtpEngineDied(TengenError, RuntimeError):
    """The engine exited, closed its output or did not answer in time."""


class GtpClient:
    """Talks GTP v2 to one engine subprocess. Not thread-safe: one caller at a time."""

    def __init__(self, command: str | Sequence[str], timeout: float = 60.0, cwd: str | None = None) -> None:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        self.argv = argv
        self.timeout = timeout
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",  # an engine's garbage bytes must not kill the reader threads
            bufsize=1,
            cwd=cwd,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()

    def _read_loop(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            if line.strip():
                self._stderr_tail.append(line.strip())

    def _died(self, what: str, finished: bool = True) -> GtpEngineDied:
        """The error for an engine that `what` ("closed its output"), with the last lines it wrote to
        stderr (its own reason, e.g. a bad flag), on one line. `finished`: the engine is gone, so
        its stderr is read to the end first."""
        if finished:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=STDERR_GRACE_SECONDS)
            self._stderr_reader.join(timeout=STDERR_GRACE_SECONDS)
        message = f"{self.argv[0]} {what}"
        said = " ".join(" | ".join(self._stderr_tail).split())
        if said:
            message += f" (its stderr: {said[-STDERR_TAIL_CHARS:]})"
        return GtpEngineDied(message)

    def _readline(self, timeout: float) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise self._died(f"did not answer within {timeout:.0f} s", finished=False) from None
        if line is None:
            raise self._died("closed its output")
        return line

    def send_raw(self, line: str, timeout: float | None = None) -> tuple[bool, str]:
        """Sends one line; returns (ok, text) of the answer, text without the `=`/`?` marker."""
        if self._proc.poll() is not None:
            raise self._died(f"exited with code {self._proc.returncode}")
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(line.rstrip("\n") + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise self._died(f"stopped reading: {exc}") from exc
        wait = self.timeout if timeout is None else timeout
        first = self._readline(wait)
        while first.strip() == "":
            first = self._readline(wait)
        body = [first.rstrip("\n")]
        while True:
            nxt = self._readline(wait)
            if nxt.strip() == "":
                break
            body.append(nxt.rstrip("\n"))
        head = body[0]
        ok = head.startswith("=")
        if not ok and not head.startswith("?"):
            raise GtpEngineDied(f"{self.argv[0]} answered outside GTP: {head!r}")
        # Drop the marker and an optional numeric id.
        rest = head[1:]
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        body[0] = rest[i:].strip()
        return ok, "\n".join(body).strip()

    def send(self, line: str, timeout: float | None = None) -> str:
        """Sends a command and returns its answer; raises GtpError on `?`."""
        ok, text = self.send_raw(line, timeout)
        if not ok:
            raise GtpError(f"{line.split()[0] if line.split() else line}: {text}")
        return text

    def close(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(GtpEngineDied, GtpError):
                self.send_raw("quit", timeout=5)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> GtpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def gnugo_command(level: int = 10, chinese_rules: bool = True, extra: Sequence[str] = ()) -> list[str]:
    """argv for GnuGo in GTP mode; raises FileNotFoundError when GnuGo is not installed."""
    path = find_gnugo()
    if path is None:
        raise FileNotFoundError("GnuGo not found (apt-get install gnugo puts it at /usr/games/gnugo)")
    argv = [path, "--mode", "gtp", "--level", str(level)]
    if chinese_rules:
        argv.append("--chinese-rules")
    return argv + list(extra)
