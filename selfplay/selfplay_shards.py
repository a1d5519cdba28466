"""Self-play games on disk: one pending file per finished game, shards of K games, and SGF.

A shard is the records format of selfplay/records.py (so every corpus tool reads it) plus:
  policy (M, size*size+1)  float16  search visit distribution (or priors) per move
  full_search (M,)         uint8    1 where the move had a full search (a policy target)
  score (G,)               float32  black minus white minus komi (0 when resigned)
  resigned, no_resign (G,) uint8
  would_resign (G,)        int8     colour that would have resigned in a no-resign game (+1 B, -1 W)
  ownership (G, size*size) int8     Tromp-Taylor owner of each point at the end (+1 B, -1 W, 0);
                                    all zeros when unknown (resigned games, shards from before it)
  game_id (G,)             int64    index of the game within its stage (0, 1, 2, ...)
  extra_<name> (G,)        any      per-game extras a stage adds (e.g. the value position)

Crash safety: a finished game is written at once as games/<stage>/pending/game_<id>.npz
(temp-then-rename), its SGF next to it in sgf/. Every `games_per_shard` games the lowest pending
ids go into shards/shard_<k>.npz (temp-then-rename) and only then are their pending files
deleted; `GameStore.recover` deletes pending files a shard already holds. So after `kill -9`
at any moment each finished game is in exactly one place, and ids stay contiguous.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine import _core
from engine.atomic_io import atomic_write_bytes
from engine.sgf import BY_RESIGNATION, SgfRecord, result_string, win_string, write_sgf
from selfplay.records import SHARD_KEYS, CorpusError, Records

_PENDING = re.compile(r"^game_(\d+)\.npz$")
_SHARD = re.compile(r"^shard_(\d+)\.npz$")


@dataclass(frozen=True)
class SelfplayGame:
    """One finished game. `policy` is (moves, size*size+1); colours alternate from black."""

    size: int
    komi: float
    moves: npt.NDArray[np.int16]
    winner: int  # +1 black, -1 white, 0 draw
    policy: npt.NDArray[np.float16] | None = None
    full_search: npt.NDArray[np.uint8] | None = None
    score: float = 0.0
    resigned: bool = False
    no_resign: bool = False
    would_resign: int = 0
    ownership: npt.NDArray[np.int8] | None = None  # (size*size,) final owner; None when resigned
    extras: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_search(cls, g: Mapping[str, Any]) -> SelfplayGame:
        """From a dict of engine._core.BatchedSearch.pop_finished()."""
        moves = np.asarray(g["moves"], dtype=np.int16)
        return cls(
            size=int(g["size"]),
            komi=float(g["komi"]),
            moves=moves,
            winner=int(g["winner"]),
            policy=np.asarray(g["policy"], dtype=np.float16).reshape(len(moves), -1),
            full_search=np.asarray(g["full_search"], dtype=np.uint8),
            score=float(g["score"]),
            resigned=bool(g["resigned"]),
            no_resign=bool(g["no_resign"]),
            would_resign=int(g["would_resign"]),
            ownership=np.asarray(g["ownership"], dtype=np.int8) if len(g.get("ownership", ())) else None,
        )

    def colours(self) -> npt.NDArray[np.uint8]:
        return np.where(np.arange(len(self.moves)) % 2 == 0, _core.BLACK, _core.WHITE).astype(np.uint8)

    def sgf_result(self) -> str:
        """SGF RE: "B+R" when resigned, "W+3.5" when counted, "B+" without a score, "0" for a draw."""
        if self.winner == 0:
            return "0"
        colour = _core.BLACK if self.winner > 0 else _core.WHITE
        if self.resigned:
            return win_string(colour, BY_RESIGNATION)
        return result_string(self.score) if self.score else win_string(colour)

    def sgf_record(self, black: str, white: str, comment: str = "") -> SgfRecord:
        """The game as an SGF record (area scoring, the given player names); engine.sgf.write_sgf writes it."""
        colours = self.colours().tolist()
        moves = [(int(c), int(m)) for c, m in zip(colours, self.moves.tolist(), strict=True)]
        return SgfRecord(size=self.size, komi=self.komi, moves=moves, black=black, white=white,
                         result=self.sgf_result(), comment=comment)


@dataclass(frozen=True)
class Shard:
    """Games of one shard: the records plus the self-play arrays (see the module docstring)."""

    records: Records
    policy: npt.NDArray[np.float16]
    full_search: npt.NDArray[np.uint8]
    score: npt.NDArray[np.float32]
    resigned: npt.NDArray[np.uint8]
    no_resign: npt.NDArray[np.uint8]
    would_resign: npt.NDArray[np.int8]
    game_id: npt.NDArray[np.int64]
    ownership: npt.NDArray[np.int8]
    extras: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)

    @property
    def num_games(self) -> int:
        return self.records.num_games

    @classmethod
    def from_games(cls, games: Sequence[SelfplayGame], ids: Sequence[int], stage: str) -> Shard:
        if not games:
            raise ValueError("a shard needs at least one game")
        size = games[0].size
        area = size * size + 1
        offsets = np.cumsum([0] + [len(g.moves) for g in games], dtype=np.int64)
        policy = np.concatenate(
            [g.policy if g.policy is not None else np.zeros((len(g.moves), area), np.float16) for g in games]
        ).astype(np.float16)
        full = np.concatenate(
            [g.full_search if g.full_search is not None else np.zeros(len(g.moves), np.uint8) for g in games]
        ).astype(np.uint8)
        records = Records(
            board_size=size,
            game_offsets=offsets,
            moves=np.concatenate([g.moves for g in games]).astype(np.int16),
            colors=np.concatenate([g.colours() for g in games]).astype(np.uint8),
            setup_offsets=np.zeros(len(games) + 1, np.int64),
            setup_moves=np.zeros(0, np.int16),
            setup_colors=np.zeros(0, np.uint8),
            komi=np.array([g.komi for g in games], np.float32),
            winner=np.array([g.winner for g in games], np.int8),
            source=np.array([f"{stage}/game_{i:06d}" for i in ids], dtype=np.str_),
        )
        ownership = np.zeros((len(games), size * size), np.int8)
        for i, g in enumerate(games):
            if g.ownership is not None:
                ownership[i] = g.ownership
        names = sorted({k for g in games for k in g.extras})
        extras = {k: np.array([g.extras.get(k, np.nan) for g in games], np.float32) for k in names}
        return cls(
            records=records,
            policy=policy.reshape(-1, area),
            full_search=full,
            score=np.array([g.score for g in games], np.float32),
            resigned=np.array([g.resigned for g in games], np.uint8),
            no_resign=np.array([g.no_resign for g in games], np.uint8),
            would_resign=np.array([g.would_resign for g in games], np.int8),
            game_id=np.array(list(ids), np.int64),
            ownership=ownership,
            extras=extras,
        )

    def games(self) -> list[SelfplayGame]:
        r = self.records
        out = []
        for g in range(r.num_games):
            a, b = int(r.game_offsets[g]), int(r.game_offsets[g + 1])
            out.append(
                SelfplayGame(
                    size=r.board_size,
                    komi=float(r.komi[g]),
                    moves=r.moves[a:b].copy(),
                    winner=int(r.winner[g]),
                    policy=self.policy[a:b].copy(),
                    full_search=self.full_search[a:b].copy(),
                    score=float(self.score[g]),
                    resigned=bool(self.resigned[g]),
                    no_resign=bool(self.no_resign[g]),
                    would_resign=int(self.would_resign[g]),
                    ownership=self.ownership[g].copy() if self.ownership[g].any() else None,
                    extras={k: float(v[g]) for k, v in self.extras.items()},
                )
            )
        return out

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {k: np.asarray(getattr(self.records, k)) for k in SHARD_KEYS}
        arrays.update(
            policy=self.policy,
            full_search=self.full_search,
            score=self.score,
            resigned=self.resigned,
            no_resign=self.no_resign,
            would_resign=self.would_resign,
            game_id=self.game_id,
            ownership=self.ownership,
        )
        arrays.update({f"extra_{k}": v for k, v in self.extras.items()})
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: Path) -> Shard:
        records = Records.load(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                extras = {k[len("extra_") :]: z[k] for k in z.files if k.startswith("extra_")}
                shard = cls(
                    records=records,
                    policy=z["policy"].astype(np.float16),
                    full_search=z["full_search"].astype(np.uint8),
                    score=z["score"].astype(np.float32),
                    resigned=z["resigned"].astype(np.uint8),
                    no_resign=z["no_resign"].astype(np.uint8),
                    would_resign=z["would_resign"].astype(np.int8),
                    game_id=z["game_id"].astype(np.int64),
                    ownership=(
                        z["ownership"].astype(np.int8)
                        if "ownership" in z.files
                        else np.zeros((records.num_games, records.board_size**2), np.int8)
                    ),
                    extras=extras,
                )
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise CorpusError(f"{path} is not a readable self-play shard ({exc})") from exc
        area = records.board_size**2 + 1
        if (
            shard.policy.shape != (records.num_moves, area)
            or len(shard.game_id) != records.num_games
            or shard.ownership.shape != (records.num_games, area - 1)
        ):
            raise CorpusError(f"{path} is a damaged self-play shard (array lengths disagree)")
        return shard

    @classmethod
    def concat(cls, shards: Sequence[Shard]) -> Shard:
        names = set.intersection(*(set(s.extras) for s in shards)) if shards else set()
        return cls(
            records=Records.concat([s.records for s in shards]),
            policy=np.concatenate([s.policy for s in shards]),
            full_search=np.concatenate([s.full_search for s in shards]),
            score=np.concatenate([s.score for s in shards]),
            resigned=np.concatenate([s.resigned for s in shards]),
            no_resign=np.concatenate([s.no_resign for s in shards]),
            would_resign=np.concatenate([s.would_resign for s in shards]),
            game_id=np.concatenate([s.game_id for s in shards]),
            ownership=np.concatenate([s.ownership for s in shards]),
            extras={k: np.concatenate([s.extras[k] for s in shards]) for k in sorted(names)},
        )


def _game_arrays(game: SelfplayGame) -> dict[str, Any]:
    return {
        "size": np.int16(game.size),
        "komi": np.float32(game.komi),
        "moves": game.moves.astype(np.int16),
        "winner": np.int8(game.winner),
        "policy": (game.policy if game.policy is not None else np.zeros((0,), np.float16)).astype(np.float16),
        "full_search": (game.full_search if game.full_search is not None else np.zeros(0, np.uint8)),
        "score": np.float32(game.score),
        "resigned": np.uint8(game.resigned),
        "no_resign": np.uint8(game.no_resign),
        "would_resign": np.int8(game.would_resign),
        "ownership": game.ownership if game.ownership is not None else np.zeros(0, np.int8),
        **{f"extra_{k}": np.float32(v) for k, v in game.extras.items()},
    }


def _game_from_arrays(z: Mapping[str, Any]) -> SelfplayGame:
    moves = z["moves"].astype(np.int16)
    policy = z["policy"].astype(np.float16)
    full = z["full_search"].astype(np.uint8)
    return SelfplayGame(
        size=int(z["size"]),
        komi=float(z["komi"]),
        moves=moves,
        winner=int(z["winner"]),
        policy=policy.reshape(len(moves), -1) if policy.size else None,
        full_search=full if full.size else None,
        score=float(z["score"]),
        resigned=bool(z["resigned"]),
        no_resign=bool(z["no_resign"]),
        would_resign=int(z["would_resign"]),
        ownership=z["ownership"].astype(np.int8) if "ownership" in z and z["ownership"].size else None,
        extras={k[len("extra_") :]: float(z[k]) for k in z if k.startswith("extra_")},
    )


class GameStore:
    """The games of one stage: pending files, shards and SGF under games/<stage>/."""

    def __init__(self, folder: Path, stage: str, games_per_shard: int, sgf: bool = True) -> None:
        self.folder = folder
        self.stage = stage
        self.games_per_shard = games_per_shard
        self.sgf = sgf
        self.pending_dir = folder / "pending"
        self.shard_dir = folder / "shards"
        self.sgf_dir = folder / "sgf"
        for d in (self.pending_dir, self.shard_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._pending: dict[int, SelfplayGame] = {}
        self._next_shard = 0
        self._in_shards = 0
        self.recover()

    # -- recovery ---------------------------------------------------------------------------

    def shard_paths(self) -> list[Path]:
        return sorted(p for p in self.shard_dir.iterdir() if _SHARD.match(p.name))

    def recover(self) -> None:
        """Reads what a previous (possibly killed) run left: deletes pending games that a shard
        already holds, loads the others."""
        covered: set[int] = set()
        shards = self.shard_paths()
        for p in shards:
            with np.load(p, allow_pickle=False) as z:
                covered.update(int(i) for i in z["game_id"])
        self._in_shards = len(covered)
        self._next_shard = (max(int(_SHARD.match(p.name).group(1)) for p in shards) + 1) if shards else 0  # type: ignore[union-attr]
        self._pending = {}
        for p in sorted(self.pending_dir.iterdir()):
            m = _PENDING.match(p.name)
            if not m:
                continue
            gid = int(m.group(1))
            if gid in covered:
                p.unlink()
                continue
            with np.load(p, allow_pickle=False) as z:
                self._pending[gid] = _game_from_arrays({k: z[k] for k in z.files})
        expected = set(range(self.num_games))
        if covered | set(self._pending) != expected:
            raise CorpusError(f"{self.folder}: finished game ids are not contiguous; the folder was edited by hand")

    @property
    def num_games(self) -> int:
        """Finished games of this stage on disk (in shards or pending)."""
        return self._in_shards + len(self._pending)

    # -- writing ----------------------------------------------------------------------------

    def add(self, game: SelfplayGame, black: str, white: str, comment: str = "") -> int:
        """Stores one finished game durably; returns its id. Flushes a shard every K games."""
        gid = self.num_games
        if self.sgf:
            write_sgf(self.sgf_dir / f"game_{gid:06d}.sgf", game.sgf_record(black, white, comment))
        buf = io.BytesIO()
        np.savez(buf, **_game_arrays(game))
        atomic_write_bytes(self.pending_dir / f"game_{gid:06d}.npz", buf.getvalue())
        self._pending[gid] = game
        if len(self._pending) >= self.games_per_shard:
            self.flush()
        return gid

    def flush(self) -> None:
        """Writes every pending game into shards of at most K games."""
        while self._pending:
            ids = sorted(self._pending)[: self.games_per_shard]
            shard = Shard.from_games([self._pending[i] for i in ids], ids, self.stage)
            shard.save(self.shard_dir / f"shard_{self._next_shard:05d}.npz")
            self._next_shard += 1
            self._in_shards += len(ids)
            for i in ids:
                del self._pending[i]
                (self.pending_dir / f"game_{i:06d}.npz").unlink(missing_ok=True)

    def load_all(self) -> Shard | None:
        """Every game of this stage (shards, then pending), in id order; None when there is none."""
        parts = [Shard.load(p) for p in self.shard_paths()]
        if self._pending:
            ids = sorted(self._pending)
            parts.append(Shard.from_games([self._pending[i] for i in ids], ids, self.stage))
        if not parts:
            return None
        return Shard.concat(parts)

