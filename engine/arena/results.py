"""The results file of a tournament: one JSON line per finished game, appended, flushed and
fsync'd as each game ends, so a stopped or crashed tournament loses at most the games in play.

A last line cut short by a crash is dropped when the file is opened again (the file is
rewritten without it atomically, engine.atomic_io); an unreadable line anywhere else
is refused rather than silently dropped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.arena.match import GameResult
from engine.atomic_io import atomic_write_text
from engine.errors import ConfigError


def _parse(line: str) -> GameResult | None:
    try:
        return GameResult.from_json(json.loads(line))
    except (ValueError, KeyError, TypeError):
        return None


class ResultsFile:
    """Append-only store of GameResult lines. Not thread-safe: one writer (the tournament loop)."""

    def __init__(self, path: Path, repair: bool = True) -> None:
        self.path = path
        self.results: dict[int, GameResult] = {}
        self.dropped = 0
        if path.exists():
            self._load(repair)

    def _load(self, repair: bool) -> None:
        text = self.path.read_text()
        lines = [line for line in text.splitlines() if line.strip()]
        for number, line in enumerate(lines, 1):
            result = _parse(line)
            if result is not None:
                self.results[result.index] = result
            elif number == len(lines):
                self.dropped = 1  # the line a crash cut short
            else:
                raise ConfigError(f"line {number} of {self.path} is not a game result; use another --out folder")
        if repair and (self.dropped or (text and not text.endswith("\n"))):
            atomic_write_text(self.path, "".join(line + "\n" for line in lines[: len(lines) - self.dropped]))

    def append(self, result: GameResult) -> None:
        line = json.dumps(result.to_json(), sort_keys=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.results[result.index] = result

    def ordered(self) -> list[GameResult]:
        """By game index."""
        return [self.results[i] for i in sorted(self.results)]

    def in_order_finished(self) -> list[GameResult]:
        """In the order the games finished (the file's order), as sequential tests need."""
        return list(self.results.values())


def read_results(path: Path) -> list[GameResult]:
    """Finished games in index order (an absent file has none); leaves the file as it is."""
    return ResultsFile(path, repair=False).ordered()
