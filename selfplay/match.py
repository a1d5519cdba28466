"""Short evaluation matches for the training recipes, many games at once, with their win rate
and Elo.

Players (BatchedMover) answer for many games in one call: `PolicyPlayer` runs its network once on all the
positions it must move in (features written by engine._core.write_features_batch), a
`SearchPlayer` searches them together through one BatchedRunner (one NN batch per step), and
`RandomPlayer` plays a uniformly random legal move that fills no own eye. Moves are limited to
sensible ones (legal, not filling an own eye) for policy and random players, as in AlphaGo;
pass is always allowed. A game ends after two passes or 2 * size * size moves and is scored by
area after removing stones that playouts find dead (engine._core.Game.final_score).

Games come in pairs that share a random opening of `opening_moves` moves and swap colours, so
deterministic players still meet varied positions and neither colour is favoured.

Elo from a score and the SPRT used for gating are engine.arena's (engine/arena/elo.py, sprt.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import torch

from engine import _core
from engine.arena.elo import elo_error, elo_from_score
from engine.nets import GoNet
from engine.search import BatchedRunner, Evaluator, SearchSettings
from engine.sgf import write_sgf
from selfplay.selfplay_shards import SelfplayGame


class BatchedMover(Protocol):
    """Chooses one move for each game (the player to move in every game is this player)."""

    name: str

    def select(self, games: Sequence[_core.Game], rng: np.random.Generator) -> list[int]: ...


def sensible_masks(games: Sequence[_core.Game]) -> npt.NDArray[np.float32]:
    """(len(games), size*size+1): 1 on legal moves that fill no own eye; pass always 1."""
    n = games[0].size
    masks = np.zeros((len(games), n * n + 1), np.float32)
    for i, g in enumerate(games):
        _core.write_move_mask(g, masks[i], 0, True)
    return masks


class RandomPlayer:
    """Uniformly random sensible moves (passes only when none is left)."""

    def __init__(self, name: str = "random") -> None:
        self.name = name

    def select(self, games: Sequence[_core.Game], rng: np.random.Generator) -> list[int]:
        return [g.random_move(g.to_move, int(rng.integers(1 << 62))) for g in games]


class PolicyPlayer:
    """A policy network without search: samples from its softmax (at `temperature`) or plays
    its most likely sensible move."""

    def __init__(
        self, name: str, net: GoNet, device: torch.device, sample: bool = True, temperature: float = 1.0
    ) -> None:
        if not net.config.has_policy:
            raise ValueError(f"{name}: the network has no policy head")
        self.name = name
        self.net = net.to(device).eval()
        self.device = device
        self.sample = sample
        self.temperature = temperature

    def encode(
        self, games: Sequence[_core.Game]
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
        """Input planes (uint8) and sensible-move masks of the games' current positions."""
        c = self.net.config
        planes = np.empty((len(games), c.input_planes, c.board_size, c.board_size), np.uint8)
        _core.write_features_batch(list(games), planes, c.feature_set)
        return planes, sensible_masks(games)

    def log_probs(self, planes: npt.NDArray[np.uint8], masks: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        with torch.inference_mode():
            x = torch.from_numpy(planes).to(self.device)
            policy = self.net(x).policy
            assert policy is not None, "a policy net always has a policy head"
            logits = policy.float()
            m = torch.from_numpy(masks).to(self.device)
            logits = logits.masked_fill(m == 0, -1e9) / self.temperature
            return torch.log_softmax(logits, dim=1).cpu().numpy()

    def choose(
        self, planes: npt.NDArray[np.uint8], masks: npt.NDArray[np.float32], rng: np.random.Generator
    ) -> npt.NDArray[np.int64]:
        logp = self.log_probs(planes, masks)
        if not self.sample:
            return np.argmax(logp, axis=1).astype(np.int64)
        p = np.exp(logp.astype(np.float64))
        p /= p.sum(axis=1, keepdims=True)
        u = rng.random(len(p))[:, None]
        return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1).astype(np.int64)

    def select(self, games: Sequence[_core.Game], rng: np.random.Generator) -> list[int]:
        planes, masks = self.encode(games)
        return [int(m) for m in self.choose(planes, masks, rng)]


class SearchPlayer:
    """The batched search with an evaluator: every position it is asked about is searched in
    the same BatchedRunner (one slot per game), then it plays the most visited move."""

    def __init__(
        self,
        name: str,
        settings: SearchSettings,
        evaluator: Evaluator | None,
        size: int,
        komi: float,
        slots: int,
        rollout_policy: _core.RolloutPolicy | None = None,
    ) -> None:
        self.name = name
        self.visits = settings.visits
        self.slots = slots
        self.runner = BatchedRunner(settings, size, komi, slots, evaluator, rollout_policy)

    def close(self) -> None:
        self.runner.close()

    def select(self, games: Sequence[_core.Game], rng: np.random.Generator) -> list[int]:
        out: list[int] = []
        search = self.runner.search
        for start in range(0, len(games), self.slots):
            chunk = games[start : start + self.slots]
            for i, g in enumerate(chunk):
                search.set_position(i, g)
                search.set_target_visits(i, self.visits)
            k = len(chunk)

            def searching(k: int = k) -> bool:
                return not all(search.search_done(i) for i in range(k))

            self.runner.run(searching)
            out.extend(search.best_move(i) for i in range(len(chunk)))
        return out


# ---------------------------------------------------------------------------------------------
# Matches


@dataclass(frozen=True)
class MatchResult:
    """Result for player `a` against player `b`."""

    a: str
    b: str
    wins: int
    losses: int
    draws: int
    games: tuple[SelfplayGame, ...] = field(default=(), repr=False)

    @property
    def played(self) -> int:
        return self.wins + self.losses + self.draws

    @property
    def win_rate(self) -> float:
        return (self.wins + 0.5 * self.draws) / self.played if self.played else float("nan")

    @property
    def elo(self) -> float:
        """Elo difference a - b implied by the score (clipped at one game's worth from 0 and 1)."""
        return elo_from_score(self.win_rate, self.played)

    def summary(self) -> str:
        return (
            f"{self.a} vs {self.b}: {self.wins}-{self.losses}" + (f"-{self.draws}" if self.draws else "")
            + f" in {self.played} games, win rate {100 * self.win_rate:.1f}% "
            f"(Elo {self.elo:+.0f} +/- {elo_error(self.win_rate, self.played):.0f})"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "wins": self.wins,
            "losses": self.losses,
            "draws": self.draws,
            "games": self.played,
            "win_rate": self.win_rate,
            "elo": self.elo,
            "elo_error": elo_error(self.win_rate, self.played),
        }


def play_out(
    boards: Sequence[_core.Game],
    player_for: Callable[[int, _core.Game], BatchedMover],
    rng: np.random.Generator,
) -> None:
    """Plays every game in `boards` to its end (two passes or 2 * size * size moves); each round
    the games are grouped by the player `player_for(index, game)` names, one call per player."""
    if not boards:
        return
    cap = 2 * boards[0].size ** 2

    def live(g: _core.Game) -> bool:
        return not g.is_over and g.move_number < cap

    while True:
        groups: dict[int, tuple[BatchedMover, list[int]]] = {}
        for j, g in enumerate(boards):
            if live(g):
                p = player_for(j, g)
                groups.setdefault(id(p), (p, []))[1].append(j)
        if not groups:
            return
        for player, turn in groups.values():
            moves = player.select([boards[j] for j in turn], rng)
            for j, m in zip(turn, moves, strict=True):
                g = boards[j]
                if not g.is_legal(g.to_move, m):
                    raise RuntimeError(f"{player.name} chose an illegal move {m}")
                g.play(g.to_move, m)


def finished_record(g: _core.Game, score_playouts: int, seed: int) -> SelfplayGame:
    """A played game as a record, scored by area after removing stones playouts find dead."""
    score = g.final_score(score_playouts, seed % (1 << 62))
    return SelfplayGame(
        size=g.size,
        komi=g.komi,
        moves=np.array([m for _, m in g.moves()], np.int16),
        winner=1 if score > 0 else -1 if score < 0 else 0,
        score=float(score),
    )


def random_opening(g: _core.Game, moves: int, rng: np.random.Generator) -> None:
    for _ in range(moves):
        if g.is_over:
            return
        g.play(g.to_move, g.random_move(g.to_move, int(rng.integers(1 << 62))))


def play_match(
    a: BatchedMover,
    b: BatchedMover,
    games: int,
    size: int,
    komi: float,
    seed: int,
    opening_moves: int = 2,
    parallel: int = 32,
    score_playouts: int = 200,
    sgf_dir: Path | None = None,
    stop: Callable[[MatchResult], bool] | None = None,
    progress: Callable[[int], None] | None = None,
) -> MatchResult:
    """Plays `games` games between `a` and `b` (game 2k: a is black; 2k+1: colours swapped, same
    opening), `parallel` at a time; `stop(result so far)` after each wave may end the match."""
    rng = np.random.default_rng([seed, 4099])
    wins = losses = draws = 0
    records: list[SelfplayGame] = []
    for wave in range(0, games, parallel):
        ids = list(range(wave, min(games, wave + parallel)))
        boards = [_core.Game(size, komi) for _ in ids]
        a_black = [i % 2 == 0 for i in ids]
        for j, gid in enumerate(ids):
            random_opening(boards[j], opening_moves, np.random.default_rng([seed, 7, gid // 2]))
        play_out(boards, lambda j, g: a if (g.to_move == _core.BLACK) == a_black[j] else b, rng)  # noqa: B023
        for j, gid in enumerate(ids):
            rec = finished_record(boards[j], score_playouts, seed * 7919 + gid)
            a_sign = 1 if a_black[j] else -1
            if rec.winner == 0:
                draws += 1
            elif rec.winner == a_sign:
                wins += 1
            else:
                losses += 1
            records.append(rec)
            if sgf_dir is not None:
                black, white = (a.name, b.name) if a_black[j] else (b.name, a.name)
                write_sgf(sgf_dir / f"game_{gid:04d}.sgf", rec.sgf_record(black, white))
        if progress is not None:
            progress(len(ids))
        result = MatchResult(a.name, b.name, wins, losses, draws, tuple(records))
        if stop is not None and wave + parallel < games and stop(result):
            return result
    return MatchResult(a.name, b.name, wins, losses, draws, tuple(records))
