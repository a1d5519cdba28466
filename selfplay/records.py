"""Game records in flat numpy arrays: the in-memory form of corpus shards.

A shard (.npz, compressed, no pickled objects) holds games of one board size:
  board_size  ()      int16
  game_offsets (G+1,) int64   game g's moves are moves[game_offsets[g]:game_offsets[g+1]]
  moves (M,)          int16   dense index x + y*size, size*size = pass
  colors (M,)         uint8   1 black, 2 white (records need not alternate)
  setup_offsets (G+1,) int64, setup_moves (S,) int16, setup_colors (S,) uint8: handicap/AB/AW stones
  komi (G,)           float32
  winner (G,)         int8    +1 black won, -1 white won, 0 draw or unknown
  source (G,)         str     where the game came from (relative path)
A training position is (game, move number k): the position before move k, its target move k
and the game outcome. Its planes are rebuilt in C++ by replaying the record
(engine._core.replay_features), so every feature set reads the same shards.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine import _core as core
from engine.atomic_io import atomic_path
from engine.errors import TengenError

SHARD_KEYS = (
    "board_size",
    "game_offsets",
    "moves",
    "colors",
    "setup_offsets",
    "setup_moves",
    "setup_colors",
    "komi",
    "winner",
    "source",
)


class CorpusError(TengenError, ValueError):
    """A shard folder or file that cannot be used (missing, empty, unreadable, wrong size)."""


@dataclass(frozen=True)
class GameRecord:
    """One game as parsed from SGF: moves as (colour, dense move)."""

    board_size: int
    moves: tuple[tuple[int, int], ...]
    setup: tuple[tuple[int, int], ...] = ()
    komi: float = 0.0
    winner: int = 0
    source: str = ""


@dataclass(frozen=True)
class Records:
    """Many games of one board size in flat arrays (see the module docstring for the layout)."""

    board_size: int
    game_offsets: npt.NDArray[np.int64]
    moves: npt.NDArray[np.int16]
    colors: npt.NDArray[np.uint8]
    setup_offsets: npt.NDArray[np.int64]
    setup_moves: npt.NDArray[np.int16]
    setup_colors: npt.NDArray[np.uint8]
    komi: npt.NDArray[np.float32]
    winner: npt.NDArray[np.int8]
    source: npt.NDArray[np.str_]

    @property
    def num_games(self) -> int:
        return len(self.game_offsets) - 1

    @property
    def num_moves(self) -> int:
        return len(self.moves)

    def game_lengths(self) -> npt.NDArray[np.int64]:
        return np.diff(self.game_offsets)

    @classmethod
    def from_games(cls, games: Sequence[GameRecord], board_size: int) -> Records:
        if any(g.board_size != board_size for g in games):
            raise ValueError("all games of a Records must have the same board size")
        moves = [m for g in games for _, m in g.moves]
        colors = [c for g in games for c, _ in g.moves]
        setup_moves = [m for g in games for _, m in g.setup]
        setup_colors = [c for g in games for c, _ in g.setup]
        return cls(
            board_size=board_size,
            game_offsets=np.cumsum([0] + [len(g.moves) for g in games], dtype=np.int64),
            moves=np.array(moves, dtype=np.int16),
            colors=np.array(colors, dtype=np.uint8),
            setup_offsets=np.cumsum([0] + [len(g.setup) for g in games], dtype=np.int64),
            setup_moves=np.array(setup_moves, dtype=np.int16),
            setup_colors=np.array(setup_colors, dtype=np.uint8),
            komi=np.array([g.komi for g in games], dtype=np.float32),
            winner=np.array([g.winner for g in games], dtype=np.int8),
            source=np.array([g.source for g in games], dtype=np.str_),
        )

    @classmethod
    def concat(cls, parts: Sequence[Records]) -> Records:
        if not parts:
            raise CorpusError("no games to concatenate")
        size = parts[0].board_size
        if any(p.board_size != size for p in parts):
            raise CorpusError("shards of different board sizes cannot be combined")

        def offsets(key: str) -> npt.NDArray[np.int64]:
            out = [np.zeros(1, np.int64)]
            base = 0
            for p in parts:
                off = getattr(p, key)
                out.append(off[1:] + base)
                base += int(off[-1])
            return np.concatenate(out)

        return cls(
            board_size=size,
            game_offsets=offsets("game_offsets"),
            moves=np.concatenate([p.moves for p in parts]),
            colors=np.concatenate([p.colors for p in parts]),
            setup_offsets=offsets("setup_offsets"),
            setup_moves=np.concatenate([p.setup_moves for p in parts]),
            setup_colors=np.concatenate([p.setup_colors for p in parts]),
            komi=np.concatenate([p.komi for p in parts]),
            winner=np.concatenate([p.winner for p in parts]),
            source=np.concatenate([p.source for p in parts]),
        )

    def subset(self, games: Iterable[int]) -> Records:
        idx = np.asarray(list(games), dtype=np.int64)
        take = _ranges(self.game_offsets, idx)
        stake = _ranges(self.setup_offsets, idx)
        return Records(
            board_size=self.board_size,
            game_offsets=np.concatenate([[0], np.cumsum(self.game_lengths()[idx])]).astype(np.int64),
            moves=self.moves[take],
            colors=self.colors[take],
            setup_offsets=np.concatenate([[0], np.cumsum(np.diff(self.setup_offsets)[idx])]).astype(np.int64),
            setup_moves=self.setup_moves[stake],
            setup_colors=self.setup_colors[stake],
            komi=self.komi[idx],
            winner=self.winner[idx],
            source=self.source[idx],
        )

    def positions(self, include_passes: bool = True) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """(game index, move number) of every position whose next move is a training target."""
        lengths = self.game_lengths()
        game = np.repeat(np.arange(self.num_games, dtype=np.int64), lengths)
        move = (
            np.arange(self.num_moves, dtype=np.int64) - np.repeat(self.game_offsets[:-1], lengths)
        ).astype(np.int32)
        if not include_passes:
            keep = self.moves != self.board_size * self.board_size
            game, move = game[keep], move[keep]
        return game, move

    def outcome_for_mover(
        self, game: npt.NDArray[np.int64], move: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.float32]:
        """+1 when the player to move at (game, move) won, -1 when they lost, 0 when unknown."""
        colour = self.colors[self.game_offsets[game] + move]
        sign = np.where(colour == core.BLACK, 1, -1)
        return (self.winner[game] * sign).astype(np.float32)

    def write_features(
        self,
        sample_game: npt.NDArray[np.int64],
        sample_move: npt.NDArray[np.int32],
        out: npt.NDArray[np.uint8] | npt.NDArray[np.float32],
        feature_set: str,
        symmetries: npt.NDArray[np.int32] | None = None,
        masks: npt.NDArray[np.uint8] | npt.NDArray[np.float32] | None = None,
        targets: npt.NDArray[np.int64] | None = None,
        threads: int = 1,
    ) -> int:
        """Planes (and masks, symmetry-mapped targets) of the given positions; returns failures."""
        return core.replay_features(
            self.board_size,
            self.game_offsets,
            self.moves,
            self.colors,
            self.setup_offsets,
            self.setup_moves,
            self.setup_colors,
            np.ascontiguousarray(sample_game, dtype=np.int64),
            np.ascontiguousarray(sample_move, dtype=np.int32),
            out,
            feature_set,
            symmetries,
            masks,
            targets,
            threads,
        )

    # -- shards ---------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Writes a compressed shard atomically (engine.atomic_io)."""
        arrays: dict[str, Any] = {k: np.asarray(getattr(self, k)) for k in SHARD_KEYS}
        with atomic_path(path) as tmp, open(tmp, "xb") as f:
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: Path) -> Records:
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = [k for k in SHARD_KEYS if k not in z.files]
                if missing:
                    raise CorpusError(f"{path} is not a tengen corpus shard (missing {', '.join(missing)})")
                d = {k: z[k] for k in SHARD_KEYS}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # EOFError: an empty file
            if isinstance(exc, CorpusError):
                raise
            raise CorpusError(f"{path} is not a readable corpus shard ({exc})") from exc
        return cls(
            board_size=int(d["board_size"]),
            game_offsets=d["game_offsets"].astype(np.int64),
            moves=d["moves"].astype(np.int16),
            colors=d["colors"].astype(np.uint8),
            setup_offsets=d["setup_offsets"].astype(np.int64),
            setup_moves=d["setup_moves"].astype(np.int16),
            setup_colors=d["setup_colors"].astype(np.uint8),
            komi=d["komi"].astype(np.float32),
            winner=d["winner"].astype(np.int8),
            source=d["source"].astype(np.str_),
        )


def _ranges(offsets: npt.NDArray[np.int64], idx: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    parts = [np.arange(offsets[g], offsets[g + 1], dtype=np.int64) for g in idx]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def shard_files(paths: Sequence[str | Path]) -> list[Path]:
    """Every .npz shard under the given folders (recursively) or named directly."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("*.npz")))
        elif p.is_file():
            out.append(p)
        else:
            raise CorpusError(f"no such shard file or folder: {p}")
    return out


def load_corpus(paths: Sequence[str | Path], board_size: int) -> Records:
    """All games of `board_size` in the shards under `paths`."""
    files = shard_files(paths)
    if not files:
        raise CorpusError(f"no .npz shards found in {', '.join(map(str, paths))}")
    parts = [r for r in (Records.load(f) for f in files) if r.board_size == board_size]
    if not parts:
        raise CorpusError(
            f"the shards in {', '.join(map(str, paths))} hold no {board_size}x{board_size} games"
        )
    return Records.concat(parts)
