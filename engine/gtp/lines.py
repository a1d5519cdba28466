"""GTP input lines: a lock-free reader for file descriptors and the spec's cleaning of a raw line."""

from __future__ import annotations

import os

MAX_LINE = 1 << 20  # longer input lines are answered with an error, not parsed


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
