"""The results file of a tournament: one JSON line per finished game, appended, flushed and
fsync'd as each game ends, so a stopped or crashed tournament loses at most the games in play.

A line cut short by a crash is dropped when the file is opened again (the file is rewritten
without it under a temporary name, then renamed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.arena.match import GameResult


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
        good: list[str] = []
        for line in text.splitlines():
            if not line.strip():
                continue
            result = _parse(line)
            if result is None:
                self.dropped += 1
                continue
            good.append(line)
            self.results[result.index] = result
        if repair and (self.dropped or (text and not text.endswith("\n"))):
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text("".join(line + "\n" for line in good))
            os.replace(tmp, self.path)

    def append(self, result: GameResult) -> None:
        line = json.dumps(result.to_json(), sort_keys=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.results[result.index] = result

    def ordered(self) -> list[GameResult]:
        return [self.results[i] for i in sorted(self.results)]


def read_results(path: Path) -> list[GameResult]:
    """Finished games in index order (an absent file has none); leaves the file as it is."""
    return ResultsFile(path, repair=False).ordered()
