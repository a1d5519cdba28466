"""Typed conversion of GTP command arguments: each bad argument becomes a `? syntax error` answer.

Numbers are ASCII, of bounded length, finite (no nan/inf) and within the bounds a handler gives;
colours are b/w/black/white in any case; vertices are those of the current board (or pass).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from engine.coords import parse_vertex
from engine.gtp.answers import GtpFailure

MAX_INT_CHARS = 30
MAX_FLOAT_CHARS = 60
COLORS = {"b": 1, "black": 1, "w": 2, "white": 2}


def syntax_error() -> GtpFailure:
    """The spec's answer to arguments a command cannot read."""
    return GtpFailure("syntax error")


def parse_color(text: str) -> int:
    """1 (black) or 2 (white) from b, w, black or white."""
    color = COLORS.get(text.lower())
    if color is None:
        raise syntax_error()
    return color


def parse_int(text: str, low: int | None = None, high: int | None = None) -> int:
    """A decimal integer within [low, high] (None: unbounded on that side)."""
    if not text.isascii() or len(text) > MAX_INT_CHARS:
        raise syntax_error()
    try:
        value = int(text)
    except ValueError as exc:
        raise syntax_error() from exc
    if (low is not None and value < low) or (high is not None and value > high):
        raise syntax_error()
    return value


def parse_float(text: str, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite number within [low, high]."""
    if not text.isascii() or len(text) > MAX_FLOAT_CHARS:
        raise syntax_error()
    try:
        value = float(text)
    except ValueError as exc:
        raise syntax_error() from exc
    if not math.isfinite(value) or not low <= value <= high:
        raise syntax_error()
    return value


def parse_bool(text: str) -> bool:
    """true or false (any case)."""
    low = text.lower()
    if low not in ("true", "false"):
        raise syntax_error()
    return low == "true"


def parse_gtp_vertex(text: str, size: int) -> int:
    """A dense move on a size x size board (size*size for pass)."""
    try:
        return parse_vertex(text, size)
    except ValueError as exc:
        raise syntax_error() from exc


class GtpArgs:
    """The arguments of one command, converted on demand by position."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(words)

    def __len__(self) -> int:
        return len(self.words)

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __getitem__(self, i: int) -> str:
        return self.words[i]

    def expect(self, low: int, high: int | None = None) -> None:
        """Fails with a syntax error unless there are low (..high) arguments."""
        top = low if high is None else high
        if not low <= len(self.words) <= top:
            raise syntax_error()

    def color(self, i: int) -> int:
        """Argument i as a colour."""
        return parse_color(self.words[i])

    def integer(self, i: int, low: int | None = None, high: int | None = None) -> int:
        """Argument i as an integer in [low, high]."""
        return parse_int(self.words[i], low, high)

    def number(self, i: int, low: float = -math.inf, high: float = math.inf) -> float:
        """Argument i as a finite number in [low, high]."""
        return parse_float(self.words[i], low, high)

    def vertex(self, i: int, size: int) -> int:
        """Argument i as a vertex of a size x size board."""
        return parse_gtp_vertex(self.words[i], size)
