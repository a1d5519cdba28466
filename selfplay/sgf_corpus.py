"""SGF folder -> sharded, compressed training files (see selfplay/records.py for the layout).

Walks a folder (nested folders too) for .sgf files of any board size, checks every game by
replaying it with the C++ rules (simple ko, no suicide), and writes games in shards of
`games_per_shard`, one board size per shard: <out>/<size>x<size>/shard-00000.npz, ... Broken
or illegal records are skipped with one line each giving the reason, and counted; the rest of
the corpus still converts. A summary goes to <out>/manifest.json and the skipped files with
their reasons to <out>/skipped.txt.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from engine.atomic_io import atomic_write_text
from engine.coords import format_vertex
from engine.sgf import SgfError, SgfIllegalMove, SgfSyntaxError, SgfWrongSize, load_sgf, result_winner
from selfplay.records import GameRecord, Records


@dataclass(frozen=True)
class ConvertConfig:
    src: Path
    out_dir: Path
    games_per_shard: int = 2000
    board_size: int = 0  # 0: every size; otherwise only this size (others are skipped, counted)
    min_moves: int = 1


@dataclass
class ConvertReport:
    files: int = 0
    games: int = 0
    positions: int = 0
    shards: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason category -> count
    sizes: Counter[int] = field(default_factory=Counter)

    @property
    def num_skipped(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        sizes = ", ".join(f"{n} games {s}x{s}" for s, n in sorted(self.sizes.items())) or "no games"
        text = (
            f"converted {self.games} games ({self.positions} positions; {sizes}) from {self.files} files "
            f"into {len(self.shards)} shards"
        )
        if self.skipped:
            reasons = ", ".join(f"{n} {r}" for r, n in self.skipped.most_common())
            text += f"; skipped {self.num_skipped} ({reasons})"
        return text


def parse_sgf(data: bytes, source: str = "", board_size: int = 0, min_moves: int = 1) -> GameRecord:
    """One game from SGF bytes, checked by replay (simple ko); raises SgfError with a one-line reason."""
    try:
        loaded = load_sgf(data, superko=False, board_size=board_size)
    except SgfSyntaxError as exc:
        raise SgfError(f"not valid SGF ({exc.detail})") from exc
    except SgfIllegalMove as exc:
        name = "BW"[exc.colour - 1]
        raise SgfError(f"illegal move {exc.number} ({name} {format_vertex(exc.move, exc.size)}): {exc.why}") from exc
    except SgfWrongSize:
        raise
    except SgfError as exc:
        raise SgfError(f"malformed record ({exc})") from exc
    except (ValueError, KeyError, IndexError) as exc:
        raise SgfError(f"malformed record ({exc})") from exc
    game = loaded.game
    moves = tuple((int(c), int(m)) for c, m in game.moves())
    if len(moves) < min_moves:
        raise SgfError(f"only {len(moves)} moves" if moves else "no moves")
    return GameRecord(game.size, moves, loaded.setup, game.komi, result_winner(loaded.result), source)


def reason_category(reason: str) -> str:
    """The short kind of a skip reason, for counting ('illegal move', 'not valid SGF', ...)."""
    for prefix in (
        "illegal move",
        "board size",
        "not valid SGF",
        "malformed record",
        "unreadable file",
    ):
        if reason.startswith(prefix):
            return prefix
    return reason.split("(")[0].strip()


def find_sgf_files(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise FileNotFoundError(f"no such SGF file or folder: {src}")
    out: list[Path] = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        out.extend(Path(root) / f for f in sorted(files) if f.lower().endswith(".sgf"))
    return out


def iter_games(
    src: Path,
    board_size: int = 0,
    min_moves: int = 1,
    progress: bool = True,
    report: ConvertReport | None = None,
    skipped_log: list[str] | None = None,
) -> Iterator[GameRecord]:
    """Parses every SGF under src; skips (printing one line each, counting in `report`) the bad ones."""
    files = find_sgf_files(src)
    if report is not None:
        report.files = len(files)
    base = src if src.is_dir() else src.parent
    bar = tqdm(files, desc="sgf", unit="file", disable=not progress, file=sys.stderr)
    for path in bar:
        rel = str(path.relative_to(base))
        try:
            data = path.read_bytes()
            yield parse_sgf(data, rel, board_size, min_moves)
        except OSError as exc:
            _skip(rel, f"unreadable file ({exc.strerror})", progress, report, skipped_log)
        except SgfError as exc:
            _skip(rel, str(exc), progress, report, skipped_log)


def _skip(rel: str, reason: str, progress: bool, report: ConvertReport | None, log: list[str] | None) -> None:
    line = f"skipped {rel}: {reason}"
    if progress:
        tqdm.write(line, file=sys.stderr)
    if report is not None:
        report.skipped[reason_category(reason)] += 1
    if log is not None:
        log.append(line)


def load_sgf_folder(src: Path, board_size: int, progress: bool = True) -> tuple[Records, ConvertReport]:
    """Every usable game of `board_size` under src, in memory (for `tengen accuracy`)."""
    report = ConvertReport()
    games = list(iter_games(src, board_size, 1, progress, report))
    report.games = len(games)
    report.positions = sum(len(g.moves) for g in games)
    report.sizes[board_size] = len(games)
    return Records.from_games(games, board_size), report


def convert(config: ConvertConfig, progress: bool = True) -> ConvertReport:
    """Converts config.src into shards under config.out_dir; returns what was done."""
    if config.games_per_shard < 1:
        raise ValueError("games_per_shard must be at least 1")
    report = ConvertReport()
    skipped_log: list[str] = []
    pending: dict[int, list[GameRecord]] = {}
    counters: Counter[int] = Counter()
    config.out_dir.mkdir(parents=True, exist_ok=True)

    def flush(size: int) -> None:
        games = pending.pop(size, [])
        if not games:
            return
        path = config.out_dir / f"{size}x{size}" / f"shard-{counters[size]:05d}.npz"
        counters[size] += 1
        Records.from_games(games, size).save(path)
        report.shards.append(str(path.relative_to(config.out_dir)))

    for game in iter_games(config.src, config.board_size, config.min_moves, progress, report, skipped_log):
        report.games += 1
        report.positions += len(game.moves)
        report.sizes[game.board_size] += 1
        pending.setdefault(game.board_size, []).append(game)
        if len(pending[game.board_size]) >= config.games_per_shard:
            flush(game.board_size)
    for size in list(pending):
        flush(size)

    manifest = {
        "source": str(config.src),
        "files": report.files,
        "games": report.games,
        "positions": report.positions,
        "games_by_size": {str(k): v for k, v in sorted(report.sizes.items())},
        "shards": report.shards,
        "skipped": dict(report.skipped),
    }
    atomic_write_text(config.out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    atomic_write_text(config.out_dir / "skipped.txt", "".join(line + "\n" for line in skipped_log))
    return report
