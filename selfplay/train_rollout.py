"""Rollout-policy training: AlphaGo's fast policy, a linear softmax over the local pattern
features that csrc/go/rollout computes (3x3 pattern, response to the last move, capture /
save / self-atari / atari flags, line), fitted to the moves of a corpus.

Features come from C++ (engine._core.replay_rollout_features), the weights are one float per
feature id, saved as safetensors (format tengen-rollout-1) and loaded into the C++
RolloutPolicy that plays rollouts. Pass moves and moves that are not rollout candidates (own-eye
fills) are left out of the targets. Patterns do not depend on board size, so weights trained
on one size play on any.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from tqdm import tqdm

from engine import _core as core
from engine.config import MAX_EPOCHS, MAX_SEED, MAX_THREADS, require
from engine.errors import ConfigError
from engine.weights import save_rollout_weights
from selfplay.learner import Learner
from selfplay.records import Records, load_corpus
from selfplay.torch_setup import OptimConfig
from selfplay.train_sl import prefetch, split_games


@dataclass(frozen=True, kw_only=True)
class RolloutTrainConfig:
    """How to fit the rollout policy: corpus shards in `data`, weights to `out_dir`."""

    data: tuple[str, ...] = ()
    out_dir: str = "runs/rollout"
    board_size: int = 9
    epochs: int = 3
    batch_size: int = 512
    lr: float = 0.05  # Adam
    l2: float = 1e-6
    holdout_fraction: float = 0.1
    holdout_max_positions: int = 20000
    seed: int = 0
    threads: int = 1  # C++ threads writing features
    progress: bool = True

    def __post_init__(self) -> None:
        require(core.MIN_SIZE <= self.board_size <= core.MAX_SIZE, "board_size", "is not a supported size")
        require(1 <= self.epochs <= MAX_EPOCHS, "epochs", f"must be from 1 to {MAX_EPOCHS}")
        require(math.isfinite(self.l2) and 0 <= self.l2 <= 1e3, "l2", "must be from 0 to 1000")
        require(0.0 <= self.holdout_fraction < 1.0, "holdout_fraction", "must be in [0, 1)")
        require(self.holdout_max_positions >= 0, "holdout_max_positions", "must be >= 0")
        require(0 <= self.seed <= MAX_SEED, "seed", f"must be from 0 to {MAX_SEED}")
        require(1 <= self.threads <= MAX_THREADS, "threads", f"must be from 1 to {MAX_THREADS}")
        self.optim  # noqa: B018  (checks lr and batch_size)

    @property
    def optim(self) -> OptimConfig:
        """Adam (AdamW without weight decay: the L2 term is in the loss)."""
        return OptimConfig(optimizer="adamw", lr=self.lr, weight_decay=0.0, batch_size=self.batch_size)


class RolloutWeights(torch.nn.Module):
    """The rollout policy being fitted: one weight per pattern feature id."""

    def __init__(self) -> None:
        super().__init__()
        self.weights = torch.nn.Parameter(torch.zeros(core.ROLLOUT_FEATURES))

    def forward(self, ids: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        return rollout_logits(_padded(self.weights), ids, candidates)


@dataclass(frozen=True)
class RolloutBatch:
    ids: npt.NDArray[np.int64]  # (B, n*n, ROLLOUT_ACTIVE), -1 mapped to the padding id
    candidates: npt.NDArray[np.bool_]  # (B, n*n)
    targets: npt.NDArray[np.int64]  # (B,)


@dataclass(frozen=True)
class RolloutResult:
    positions: int
    train_accuracy: float
    holdout_accuracy: float
    holdout_positions: int
    seconds: float
    weights_path: str


def make_rollout_batch(
    records: Records, games: npt.NDArray[np.int64], moves: npt.NDArray[np.int32], threads: int = 1
) -> RolloutBatch:
    """Features of the given positions, keeping only those whose move is a rollout candidate."""
    n2 = records.board_size**2
    b = len(games)
    ids = np.empty((b, n2, core.ROLLOUT_ACTIVE), np.int32)
    cand = np.empty((b, n2), np.uint8)
    targets = np.empty(b, np.int64)
    core.replay_rollout_features(
        records.board_size, records.game_offsets, records.moves, records.colors, records.setup_offsets,
        records.setup_moves, records.setup_colors, np.ascontiguousarray(games, np.int64),
        np.ascontiguousarray(moves, np.int32), ids, cand, targets, threads,
    )  # fmt: skip
    ok = (targets >= 0) & (targets < n2)
    ok[ok] = cand[ok, targets[ok]] == 1
    ids64 = ids[ok].astype(np.int64)
    ids64[ids64 < 0] = core.ROLLOUT_FEATURES  # the padding id, whose weight stays 0
    return RolloutBatch(ids64, cand[ok].astype(bool), targets[ok])


def rollout_logits(weights: torch.Tensor, ids: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """(B, n*n) logits; weights has ROLLOUT_FEATURES + 1 entries, the last one the zero pad."""
    return weights[ids].sum(-1).masked_fill(~candidates, -1e9)


def _padded(weights: torch.Tensor) -> torch.Tensor:
    return torch.cat([weights, weights.new_zeros(1)])


def rollout_accuracy(
    weights: npt.NDArray[np.float32],
    records: Records,
    games: npt.NDArray[np.int64],
    moves: npt.NDArray[np.int32],
    batch_size: int = 1024,
    threads: int = 1,
) -> tuple[float, int]:
    """(top-1 accuracy, positions counted) of rollout weights on the given positions."""
    w = _padded(torch.from_numpy(np.asarray(weights, np.float32)))
    correct = total = 0
    for s in range(0, len(games), batch_size):
        b = make_rollout_batch(records, games[s : s + batch_size], moves[s : s + batch_size], threads)
        if len(b.targets) == 0:
            continue
        logits = rollout_logits(w, torch.from_numpy(b.ids), torch.from_numpy(b.candidates))
        correct += int((logits.argmax(1) == torch.from_numpy(b.targets)).sum())
        total += len(b.targets)
    return (correct / total if total else float("nan")), total


def train_rollout(config: RolloutTrainConfig, records: Records | None = None) -> RolloutResult:
    if records is None:
        if not config.data:
            raise ConfigError("no training data: give shard folders (--data)")
        records = load_corpus(list(config.data), config.board_size)
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_g, hold_g = split_games(records.num_games, config.holdout_fraction, config.seed)
    games, moves = records.positions(include_passes=False)
    in_train = np.isin(games, train_g)
    tg, tm = games[in_train], moves[in_train]
    hg, hm = games[~in_train], moves[~in_train]
    cap = np.sort(
        np.random.default_rng([config.seed, 1]).permutation(len(hg))[: config.holdout_max_positions]
    )
    hg, hm = hg[cap], hm[cap]

    torch.manual_seed(config.seed)
    learner = Learner(RolloutWeights(), config.optim, torch.device("cpu"), checkpoint=None)
    steps_per_epoch = math.ceil(len(tg) / config.batch_size)
    bar = tqdm(
        total=config.epochs * steps_per_epoch, desc="rollout", unit="step", disable=not config.progress
    )
    start = time.perf_counter()
    correct = seen = 0
    for epoch in range(config.epochs):
        order = np.random.default_rng([config.seed, epoch]).permutation(len(tg))

        def produce(order: npt.NDArray[np.int64] = order) -> Iterator[RolloutBatch]:
            for s in range(0, len(order), config.batch_size):
                sel = order[s : s + config.batch_size]
                yield make_rollout_batch(records, tg[sel], tm[sel], config.threads)

        correct = seen = 0
        for b in prefetch(produce(), 4):
            bar.update(1)
            if len(b.targets) == 0:
                continue

            def loss_fn(model: RolloutWeights, b: RolloutBatch = b) -> tuple[torch.Tensor, int]:
                targets = torch.from_numpy(b.targets)
                logits = model(torch.from_numpy(b.ids), torch.from_numpy(b.candidates))
                loss = torch.nn.functional.cross_entropy(logits, targets) + config.l2 * (model.weights**2).sum()
                return loss, int((logits.detach().argmax(1) == targets).sum())

            loss, right = learner.step(loss_fn)
            correct += right
            seen += len(b.targets)
            bar.set_postfix(loss=f"{float(loss):.3f}", acc=f"{correct / max(1, seen):.3f}")
    bar.close()
    elapsed = time.perf_counter() - start
    learner.check_finite()
    w = learner.net.weights.detach().numpy().astype(np.float32)
    hold_acc, hold_n = rollout_accuracy(w, records, hg, hm, threads=config.threads)
    path = out / "rollout.safetensors"
    save_rollout_weights(path, w, {"trained_board_size": str(records.board_size),
                                   "trained_positions": str(len(tg)),
                                   "holdout_accuracy": f"{hold_acc:.4f}"})  # fmt: skip
    return RolloutResult(len(tg), correct / max(1, seen), hold_acc, hold_n, elapsed, str(path))
