"""The AlphaGo value net's positions, and the cheap estimates of the same positions it is compared with.

Positions. A value game (selfplay/alphago.py value_games) is played by the SL policy up to move U,
one uniformly random move at U, then the RL policy for both sides. Its RL-played part is the
positions U+1 .. length-1 (the RL policy to move). `rl_part_moves` chooses `positions_per_game`
distinct ones: U+1 first (AlphaGo's one position), then a uniform sample without replacement of
the rest, a function of (seed, game id) only. A game whose SL part already ended it has none.
Shards store them as per-game extras value_move_0 .. value_move_{k-1} (-1: no position);
shards from before (one position per game) hold one extra `value_move`; `value_moves` reads both.

Split. Games, not positions, are held out (`split_value_games`): a seeded permutation of the
games with a known winner and at least one position, the first `holdout_fraction` of them held
out, so no position of a held-out game is ever trained on.

Estimates, each in [-1, 1] from the side of the player to move, scored by MSE against z, the
game's final outcome for that player (AlphaGo, Figure 2b):
  value_net    the trained value net on the position
  one_rollout  the sign of one playout of the trained rollout policy (RolloutPolicy.playout,
               both sides, to the end) minus komi
  rl_outcome   a fresh RL-vs-RL game from the position (moves sampled from the softmax), scored
               as the value games are
`holdout_positions` gives the held-out positions as planes with their z (the same split the
value stage trains with); `compare_estimates` computes the three MSEs written to eval/value_mse.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from engine import _core
from engine.atomic_io import atomic_write_text
from engine.errors import TengenError
from engine.nets import GoNet
from engine.torch_device import autocast
from selfplay.match import PolicyPlayer, finished_record, play_out
from selfplay.recipe import AlphaGoRecipe, load_recipe
from selfplay.records import Records
from selfplay.selfplay_shards import Shard

PAPER_VALUE_MSE = 0.234  # AlphaGo's value net on its held-out self-play positions (0.226 on training ones)
SCORE_PLAYOUTS = 200  # playouts that find dead stones when a game is scored (as in value_games)
LEGACY_KEY = "value_move"  # the one-position extra of shards from before positions_per_game
MOVE_KEY = "value_move_{}"  # value_move_0, value_move_1, ...: the k positions of a game


class ValueDataError(TengenError):
    """A run directory without usable value games (the value stage has not run, or files are gone)."""


# ---------------------------------------------------------------------------------------------
# Positions per game


def rl_part_moves(random_move: int, num_moves: int, k: int, seed: int) -> npt.NDArray[np.int64]:
    """(k,) move numbers of the positions taken from one game, -1 where there are fewer than k:
    the first RL position random_move + 1, then up to k - 1 others drawn uniformly without
    replacement from the rest of the RL-played part (random_move + 2 .. num_moves - 1), sorted."""
    out = np.full(k, -1, np.int64)
    first = random_move + 1
    if first > num_moves - 1:
        return out
    out[0] = first
    rest = np.arange(first + 1, num_moves, dtype=np.int64)
    take = min(k - 1, len(rest))
    if take:
        out[1 : 1 + take] = np.sort(np.random.default_rng(seed).choice(rest, take, replace=False))
    return out


def value_move_extras(moves: npt.NDArray[np.int64]) -> dict[str, float]:
    """A game's extras for the shard: value_move_j = moves[j] (-1: none)."""
    return {MOVE_KEY.format(j): float(m) for j, m in enumerate(moves)}


def value_moves(extras: Mapping[str, npt.NDArray[Any]], num_games: int) -> npt.NDArray[np.int64]:
    """(G, k) move numbers of each game's value positions, -1 where none: value_move_0.. of this
    format, or the single value_move of shards from before it. ValueDataError when neither is there."""
    if LEGACY_KEY in extras:
        return np.asarray(extras[LEGACY_KEY]).astype(np.int64).reshape(num_games, 1)
    cols: list[npt.NDArray[np.float64]] = []
    while MOVE_KEY.format(len(cols)) in extras:
        cols.append(np.nan_to_num(np.asarray(extras[MOVE_KEY.format(len(cols))], np.float64), nan=-1.0))
    if not cols:
        raise ValueDataError("the value games hold no value positions (extras value_move_0.. are missing)")
    return np.stack(cols, axis=1).astype(np.int64)


@dataclass(frozen=True)
class ValueSplit:
    """The value net's (game, move number) pairs, split by game.

    train_game, train_move (Nt,) int64 / int32: training positions (game index into the shard)
    holdout_game, holdout_move (Nh,): held-out positions; no held-out game has a training position
    holdout_games: the number of held-out games"""

    train_game: npt.NDArray[np.int64]
    train_move: npt.NDArray[np.int32]
    holdout_game: npt.NDArray[np.int64]
    holdout_move: npt.NDArray[np.int32]
    holdout_games: int

    def holdout_sample(
        self, limit: int | None, seed: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """At most `limit` held-out (game, move) pairs: a seeded sample, the same for every caller
        with the same limit and seed (the value stage's estimates, `holdout_positions`)."""
        sel = subsample(len(self.holdout_game), limit, seed)
        return self.holdout_game[sel], self.holdout_move[sel]


def _pairs(
    moves: npt.NDArray[np.int64], games: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Every (game, move) pair of the given games' value positions, in game order."""
    sub = moves[games]
    keep = sub >= 0
    g = np.repeat(games, sub.shape[1]).reshape(sub.shape)
    return g[keep].astype(np.int64), sub[keep].astype(np.int32)


def split_value_games(shard: Shard, seed: int, holdout_fraction: float) -> ValueSplit:
    """Games with a known winner and at least one position, a seeded permutation of them, the first
    round(holdout_fraction * count) (at least one) held out. ValueDataError when there are fewer than 2."""
    moves = value_moves(shard.extras, shard.num_games)
    usable = np.flatnonzero((shard.records.winner != 0) & (moves >= 0).any(axis=1))
    if len(usable) < 2:
        raise ValueDataError(f"only {len(usable)} value games with an outcome and a position: too few to train on")
    perm = np.random.default_rng([seed, 402]).permutation(usable)
    k = max(1, int(round(holdout_fraction * len(perm))))
    hold, train = np.sort(perm[:k]), np.sort(perm[k:])
    tg, tm = _pairs(moves, train)
    hg, hm = _pairs(moves, hold)
    return ValueSplit(tg, tm, hg, hm, len(hold))


def subsample(n: int, limit: int | None, seed: int) -> npt.NDArray[np.int64]:
    """Sorted indices of a seeded sample of at most `limit` of n items (all of them when limit is None)."""
    if limit is None or limit >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng([seed, 407]).choice(n, limit, replace=False)).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# A run directory's held-out positions


def load_value_games(run_dir: Path) -> tuple[AlphaGoRecipe, Shard]:
    """(the run's AlphaGo recipe, every value game in its shards, in id order)."""
    config = Path(run_dir) / "config.yaml"
    if not config.is_file():
        raise ValueDataError(f"{run_dir} is not a tengen run directory (no config.yaml)")
    recipe, _ = load_recipe(config)
    if not isinstance(recipe, AlphaGoRecipe):
        raise ValueDataError(f"{run_dir} is a run of the {recipe.recipe} recipe; value positions need an alphago run")
    folder = Path(run_dir) / "games" / "value" / "shards"
    paths = sorted(folder.glob("shard_*.npz")) if folder.is_dir() else []
    if not paths:
        raise ValueDataError(f"{folder} holds no value games: run the value stage first (tengen train)")
    return recipe, Shard.concat([Shard.load(p) for p in paths])


def holdout_pairs(
    run_dir: Path, limit: int | None = None
) -> tuple[AlphaGoRecipe, Shard, ValueSplit, npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """(recipe, value games, their split, held-out game indices, move numbers), at most `limit`
    held-out positions (a seeded sample, the same for every caller with the same limit)."""
    recipe, shard = load_value_games(run_dir)
    split = split_value_games(shard, recipe.seed, recipe.value.holdout_fraction)
    games, moves = split.holdout_sample(limit, recipe.seed)
    return recipe, shard, split, games, moves


def holdout_positions(
    run_dir: Path, feature_set: str, limit: int | None = None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The value net's held-out positions of a run directory as the recipe split them: planes
    (N, planes of `feature_set`, n, n) float32 and z (N,) float32, the final outcome for the player
    to move (+1 won, -1 lost). At most `limit` positions (a seeded sample)."""
    if limit is not None and limit < 1:
        raise ValueDataError(f"limit must be at least 1, not {limit}")
    if feature_set not in _core.FEATURE_SETS:
        raise ValueDataError(f"unknown feature set {feature_set!r} (one of {', '.join(_core.FEATURE_SETS)})")
    _, shard, _, games, moves = holdout_pairs(run_dir, limit)
    return replay_planes(shard.records, games, moves, feature_set).astype(np.float32), (
        shard.records.outcome_for_mover(games, moves)
    )


def replay_planes(
    records: Records, games: npt.NDArray[np.int64], moves: npt.NDArray[np.int32], feature_set: str,
    syms: npt.NDArray[np.int32] | None = None,
) -> npt.NDArray[np.uint8]:
    """(N, planes, n, n) uint8 planes of the positions, rebuilt in C++ from the records."""
    n = records.board_size
    planes = np.empty((len(games), _core.num_planes(feature_set), n, n), np.uint8)
    if records.write_features(games, moves, planes, feature_set, syms):
        raise ValueDataError("some value positions could not be replayed (damaged shard?)")
    return planes


# ---------------------------------------------------------------------------------------------
# Estimates


def mse(estimate: npt.NDArray[np.floating[Any]], z: npt.NDArray[np.floating[Any]]) -> float:
    """Mean squared error of estimates in [-1, 1] against outcomes +-1 (0 when equal, 4 when opposite)."""
    e, t = np.asarray(estimate, np.float64), np.asarray(z, np.float64)
    if e.shape != t.shape or not len(t):
        raise ValueError(f"estimates {e.shape} and outcomes {t.shape} must be non-empty and of one shape")
    return float(np.mean((e - t) ** 2))


def position_games(records: Records, games: npt.NDArray[np.int64], moves: npt.NDArray[np.int32]) -> list[_core.Game]:
    """Each (game, move number) as a live Game: the record's first `move` moves replayed."""
    out = []
    for g, k in zip(games.tolist(), moves.tolist(), strict=True):
        game = _core.Game(records.board_size, float(records.komi[g]))
        start = int(records.game_offsets[g])
        colours, played = records.colors[start : start + k].tolist(), records.moves[start : start + k].tolist()
        for c, m in zip(colours, played, strict=True):
            game.play(c, m)
        out.append(game)
    return out


def _mover_sign(game: _core.Game) -> int:
    return 1 if game.to_move == _core.BLACK else -1


def one_rollout(boards: list[_core.Game], policy: _core.RolloutPolicy, seed: int) -> npt.NDArray[np.float32]:
    """(N,) one playout of the rollout policy from each position: +1 when the player to move wins
    it (black minus white area, minus komi), -1 when they lose, 0 for a drawn playout."""
    seeds = np.random.default_rng([seed, 405]).integers(0, 1 << 62, len(boards))
    out = np.empty(len(boards), np.float32)
    for i, (g, s) in enumerate(zip(boards, seeds.tolist(), strict=True)):
        area, _ = policy.playout(g, int(s))
        out[i] = np.sign(area - g.komi) * _mover_sign(g)
    return out


def rl_outcome(boards: list[_core.Game], rl: PolicyPlayer, seed: int, parallel: int) -> npt.NDArray[np.float32]:
    """(N,) the outcome, for the player to move, of one fresh game of `rl` against itself from each
    position (moves as the player chooses them), `parallel` games at a time, scored as value games are."""
    rng = np.random.default_rng([seed, 406])
    out = np.empty(len(boards), np.float32)
    for start in range(0, len(boards), parallel):
        chunk = [g.copy() for g in boards[start : start + parallel]]
        signs = [_mover_sign(g) for g in chunk]
        play_out(chunk, lambda j, g: rl, rng)
        for j, g in enumerate(chunk):
            score_seed = int(rng.integers(0, 1 << 62))
            out[start + j] = finished_record(g, SCORE_PLAYOUTS, score_seed).winner * signs[j]
    return out


def value_net_estimate(
    net: GoNet, records: Records, games: npt.NDArray[np.int64], moves: npt.NDArray[np.int32], device: torch.device,
    batch_size: int = 512,
) -> npt.NDArray[np.float32]:
    """(N,) the value net's value of each position for the player to move (identity symmetry)."""
    net.eval()
    outs = []
    with torch.inference_mode(), autocast(device):
        for s in range(0, len(games), batch_size):
            sel = slice(s, s + batch_size)
            planes = replay_planes(records, games[sel], moves[sel], net.config.feature_set)
            value = net(torch.from_numpy(planes).to(device)).value
            assert value is not None, "a value net has a value head"
            outs.append(value.float().cpu().numpy().reshape(-1))
    return np.concatenate(outs) if outs else np.zeros(0, np.float32)


@dataclass(frozen=True)
class ValueMSE:
    """Held-out MSE of each estimate on the same `positions` positions (eval/value_mse.json)."""

    positions: int
    value_net: float
    one_rollout: float
    rl_outcome: float
    train_positions: int
    holdout_games: int

    def to_json(self) -> dict[str, Any]:
        return {
            "positions": self.positions,
            "value_net": round(self.value_net, 4),
            "one_rollout": round(self.one_rollout, 4),
            "rl_outcome": round(self.rl_outcome, 4),
            "train_positions": self.train_positions,
            "holdout_games": self.holdout_games,
            "paper_value_net": PAPER_VALUE_MSE,
        }

    def summary(self) -> str:
        verdict = "beats" if self.value_net < self.one_rollout else "does not beat"
        return (
            f"held-out MSE on {self.positions} positions: value net {self.value_net:.3f} (AlphaGo {PAPER_VALUE_MSE}), "
            f"one rollout {self.one_rollout:.3f}, RL self-play outcome {self.rl_outcome:.3f}; the value net "
            f"{verdict} one rollout"
        )

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_json(), indent=2) + "\n")


def compare_estimates(
    *,
    records: Records,
    games: npt.NDArray[np.int64],
    moves: npt.NDArray[np.int32],
    value_net: GoNet,
    rollout: _core.RolloutPolicy,
    rl: PolicyPlayer,
    device: torch.device,
    seed: int,
    parallel: int,
    train_positions: int,
    holdout_games: int,
) -> ValueMSE:
    """The three estimates of the given held-out positions, each scored against z."""
    z = records.outcome_for_mover(games, moves)
    boards = position_games(records, games, moves)
    return ValueMSE(
        positions=len(games),
        value_net=mse(value_net_estimate(value_net, records, games, moves, device), z),
        one_rollout=mse(one_rollout(boards, rollout, seed), z),
        rl_outcome=mse(rl_outcome(boards, rl, seed, parallel), z),
        train_positions=train_positions,
        holdout_games=holdout_games,
    )
