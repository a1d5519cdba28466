"""A client for GTP engines run as subprocesses (GnuGo, tengen itself, any other engine).

Used by tests (GnuGo as referee and opponent), the arena and benchmarks.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import subprocess
import threading
from collections.abc import Sequence

GNUGO_PATHS = ("/usr/games/gnugo", "/usr/bin/gnugo", "/usr/local/bin/gnugo")


def find_gnugo() -> str | None:
    """Path of the GnuGo binary (Debian puts it at /usr/games/gnugo, off PATH), or None."""
    for path in GNUGO_PATHS:
        if os.access(path, os.X_OK):
            return path
    from shutil import which

    return which("gnugo")


class GtpError(RuntimeError):
    """The engine answered `? message`."""


class GtpEngineDied(RuntimeError):
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
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            cwd=cwd,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def _read_loop(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _readline(self, timeout: float) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty as exc:
            raise GtpEngineDied(f"{self.argv[0]} did not answer within {timeout:.0f} s") from exc
        if line is None:
            raise GtpEngineDied(f"{self.argv[0]} closed its output")
        return line

    def send_raw(self, line: str, timeout: float | None = None) -> tuple[bool, str]:
        """Sends one line; returns (ok, text) of the answer, text without the `=`/`?` marker."""
        if self._proc.poll() is not None:
            raise GtpEngineDied(f"{self.argv[0]} exited with code {self._proc.returncode}")
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(line.rstrip("\n") + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise GtpEngineDied(f"{self.argv[0]} stopped reading: {exc}") from exc
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
