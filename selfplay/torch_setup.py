"""The torch setup every trainer shares: optimizer construction, seeds, threads and TensorBoard
scalars. Device choice and autocast live in engine.torch_device (inference needs them too).

`OptimConfig` is the optimizer section of the recipes; the supervised trainer builds one from its
flat `train:` keys (TrainConfig.optim), so both go through `make_optimizer`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from engine.config import MAX_BATCH, MAX_LR, require, require_at_most

MOMENTUM = 0.9  # SGD momentum unless a config says otherwise
WEIGHT_DECAY = 1e-4


@dataclass(frozen=True, kw_only=True)
class OptimConfig:
    """Optimizer and batch of one learner."""

    optimizer: Literal["sgd", "adamw"] = "adamw"
    lr: float = 1e-3
    momentum: float = MOMENTUM  # sgd only
    weight_decay: float = WEIGHT_DECAY
    batch_size: int = 128

    def __post_init__(self) -> None:
        require(self.optimizer in ("sgd", "adamw"), "optimizer", "must be sgd or adamw")
        require(math.isfinite(self.lr) and self.lr > 0, "lr", "must be positive and finite")
        require_at_most(self.lr, MAX_LR, "lr")
        require(0 <= self.weight_decay <= 1, "weight_decay", "must be in [0, 1]")
        require(0 <= self.momentum < 1, "momentum", "must be in [0, 1)")
        require(self.batch_size >= 1, "batch_size", "must be at least 1")
        require_at_most(self.batch_size, MAX_BATCH, "batch_size")


def make_optimizer(params: Iterable[torch.nn.Parameter], o: OptimConfig) -> torch.optim.Optimizer:
    """AdamW or SGD with momentum, as `o` says."""
    if o.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
    return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)


def derive_seed(*parts: int) -> int:
    """A 63-bit seed that depends on every one of `parts` (numpy's SeedSequence)."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1, np.uint64)[0] >> np.uint64(1))


def set_threads(torch_threads: int) -> None:
    """Torch's intra-op threads; 0 keeps torch's default."""
    if torch_threads > 0:
        torch.set_num_threads(torch_threads)


class Scalars:
    """TensorBoard writer opened lazily (the import is slow) for one folder; NaN values are skipped."""

    def __init__(self, folder: Path, purge_step: int | None = None) -> None:
        self.folder = folder
        self.purge_step = purge_step
        self._writer: Any = None

    def add(self, tag: str, value: float, step: int) -> None:
        if value != value:  # NaN
            return
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.folder), purge_step=self.purge_step)
        self._writer.add_scalar(tag, value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
