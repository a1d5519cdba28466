"""What every learner of the training recipes shares: a network with its optimizer on the
picked device (autocast on CUDA), one gradient step, and checkpoints that resume exactly.

A checkpoint (engine.weights.save_checkpoint, temp-then-rename) holds the network, the
optimizer's state and a small JSON trainer state (`Learner.state`: iteration, step, ...).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from engine.nets import GoNet, NetConfig, build_net
from engine.weights import load_checkpoint, load_net, save_checkpoint, save_weights
from selfplay.recipe import OptimConfig
from selfplay.train_sl import autocast_dtype, pick_device


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA when torch sees it, else the CPU (selfplay.train_sl.pick_device)."""
    return pick_device(name)


def autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    dtype = autocast_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_optimizer(net: GoNet, o: OptimConfig) -> torch.optim.Optimizer:
    if o.optimizer == "adamw":
        return torch.optim.AdamW(net.parameters(), lr=o.lr, weight_decay=o.weight_decay)
    return torch.optim.SGD(net.parameters(), lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)


class Learner:
    """A network being trained, its optimizer and trainer state, saved as one checkpoint."""

    def __init__(
        self,
        config: NetConfig,
        optim: OptimConfig,
        device: torch.device,
        checkpoint: Path,
        init: Path | None = None,
        seed: int = 0,
    ) -> None:
        """Resumes from `checkpoint` when it exists; otherwise starts from the weights in `init`
        (checked against `config`: a file for another board size is a WeightsError), or from a
        seeded random initialisation."""
        self.device = device
        self.checkpoint = checkpoint
        self.optim_config = optim
        torch.manual_seed(seed)
        self.net = build_net(config).to(device)
        self.opt = make_optimizer(self.net, optim)
        self.state: dict[str, Any] = {"step": 0}
        self.resumed = checkpoint.exists()
        if self.resumed:
            self.state = load_checkpoint(checkpoint, self.net, self.opt)
        elif init is not None:
            loaded = load_net(init, expected=config, device=device)
            self.net.load_state_dict(loaded.state_dict())
        dtype = autocast_dtype(device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)

    def step(self, loss_fn: Callable[[GoNet], tuple[Tensor, dict[str, float]]]) -> dict[str, float]:
        """One optimizer step on `loss_fn(net)` (run under autocast); returns its scalars."""
        self.net.train()
        with autocast(self.device):
            loss, stats = loss_fn(self.net)
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt)
        self.scaler.update()
        self.state["step"] = int(self.state.get("step", 0)) + 1
        return {"loss": float(loss.detach()), **stats}

    def set_lr(self, lr: float) -> None:
        for group in self.opt.param_groups:
            group["lr"] = lr

    def save(self) -> None:
        save_checkpoint(self.checkpoint, self.net, self.opt, self.state)

    def save_weights(self, path: Path, extra: dict[str, str] | None = None) -> None:
        save_weights(path, self.net, extra)

    def to_tensor(self, array: Any) -> Tensor:
        t = torch.from_numpy(array)
        if self.device.type == "cuda":
            t = t.pin_memory()
        return t.to(self.device, non_blocking=self.device.type == "cuda")
