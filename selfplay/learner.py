"""The one training loop every trainer shares (supervised policy/value, rollout policy, RL
policy gradient, the AlphaGo value net, AlphaZero): a model with its optimizer on the picked
device (autocast on CUDA), one gradient step on a plugged-in loss, passes over batches with a
progress bar and TensorBoard scalars, and checkpoints that resume exactly.

A checkpoint (engine.weights.save_checkpoint, temp-then-rename) holds the network, the
optimizer's state and a small JSON trainer state (`Learner.state`: step, epoch, ...).

Non-finite numbers stop training with a NonFiniteError (one sentence) naming the first step whose
loss was nan or inf, and no checkpoint or weights file is ever written from parameters that are
not all finite (a too-high learning rate shows up here instead of as NaN weights on disk). By
default every step's loss is checked before its update is applied; `check_every > 1` checks the
losses of that many steps at once (one host sync per check instead of per step, for GPU loops
that keep their sums on the device) and before every save.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

import torch
from torch import Tensor
from tqdm import tqdm

from engine.errors import TengenError
from engine.nets import GoNet, NetConfig, build_net
from engine.torch_device import autocast, autocast_dtype
from engine.weights import load_checkpoint, load_net, save_checkpoint, save_weights
from selfplay.torch_setup import OptimConfig, Scalars, make_optimizer

S = TypeVar("S")
B = TypeVar("B")
M = TypeVar("M", bound=torch.nn.Module)


class NonFiniteError(TengenError):
    """Training produced a nan or inf loss or parameter; nothing was written from it."""


class Learner(Generic[M]):
    """A model being trained, its optimizer and trainer state, saved as one checkpoint."""

    def __init__(
        self,
        net: M,
        optim: OptimConfig,
        device: torch.device,
        checkpoint: Path | None,
        resume: bool = True,
        check_every: int = 1,
    ) -> None:
        """Trains `net` (already on `device`); resumes from `checkpoint` when `resume` and it exists.
        Losses are checked for nan/inf every `check_every` steps (1: before each update)."""
        self.device = device
        self.check_every = max(1, check_every)
        self._unchecked: list[tuple[int, Tensor]] = []  # (step number, detached loss) not yet checked
        self.checkpoint = checkpoint
        self.optim_config = optim
        self.net = net
        self.opt = make_optimizer(self.net.parameters(), optim)
        self.state: dict[str, Any] = {"step": 0}
        self.resumed = bool(resume and checkpoint is not None and checkpoint.exists())
        if self.resumed:
            assert checkpoint is not None and isinstance(self.net, GoNet), "checkpoints hold GoNets"
            self.state = load_checkpoint(checkpoint, self.net, self.opt)
        self.scaler = torch.amp.GradScaler("cuda", enabled=autocast_dtype(device) == torch.float16)

    @staticmethod
    def for_config(
        config: NetConfig,
        optim: OptimConfig,
        device: torch.device,
        checkpoint: Path,
        init: Path | None = None,
        seed: int = 0,
        resume: bool = True,
        check_every: int = 1,
    ) -> Learner[GoNet]:
        """A new network of `config`: resumed from `checkpoint` when it exists (and `resume`),
        else from the weights in `init` (checked against `config`: a file for another board size
        is a WeightsError), else from a seeded random initialisation."""
        torch.manual_seed(seed)
        learner: Learner[GoNet] = Learner(build_net(config).to(device), optim, device, checkpoint, resume, check_every)
        if not learner.resumed and init is not None:
            loaded = load_net(init, expected=config, device=device)
            learner.net.load_state_dict(loaded.state_dict())
        return learner

    @property
    def step_count(self) -> int:
        return int(self.state.get("step", 0))

    def step(self, loss_fn: Callable[[Any], tuple[Tensor, S]]) -> tuple[Tensor, S]:
        """One optimizer step on `loss_fn(net)` (run under autocast); returns (the detached loss,
        its stats). A nan or inf loss raises NonFiniteError, before its update is applied when
        `check_every` is 1."""
        self.net.train()
        with autocast(self.device):
            loss, stats = loss_fn(self.net)
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        detached = loss.detach()
        self._unchecked.append((self.step_count + 1, detached))
        if len(self._unchecked) >= self.check_every:
            self.check_losses()
        self.scaler.step(self.opt)
        self.scaler.update()
        self.state["step"] = self.step_count + 1
        return detached, stats

    def check_losses(self) -> None:
        """NonFiniteError naming the first step whose loss was nan or inf, among those not checked yet."""
        if not self._unchecked:
            return
        steps, losses = zip(*self._unchecked, strict=True)
        self._unchecked = []
        finite = torch.isfinite(torch.stack([x.float() for x in losses])).cpu()
        if bool(finite.all()):
            return
        k = int((~finite).nonzero()[0])
        raise NonFiniteError(
            f"training stopped at step {steps[k]}: the loss is {float(losses[k])} (learning rate "
            f"{self.opt.param_groups[0]['lr']:g} too high, or damaged data); the last checkpoint is unchanged"
        )

    def fit(
        self,
        batches: Iterable[B],
        loss_fn: Callable[[Any, B], tuple[Tensor, dict[str, float]]],
        *,
        total: int | None = None,
        desc: str = "train",
        progress: bool = True,
        scalars: Scalars | None = None,
        tag: str = "train",
        on_step: Callable[[dict[str, float]], None] | None = None,
    ) -> dict[str, float]:
        """One step per batch of `batches` with `loss_fn(net, batch)`; the loss and every stat go to
        `scalars` under `tag/` at the learner's step, the progress bar shows them, and `on_step`
        (e.g. a periodic checkpoint) sees them after each step. Returns the mean of each stat."""
        sums: dict[str, float] = {}
        count = 0
        bar = tqdm(total=total, desc=desc, unit="step", disable=not progress, leave=False)
        try:
            for batch in batches:
                loss, stats = self.step(lambda net, batch=batch: loss_fn(net, batch))  # type: ignore[misc]
                values = {"loss": float(loss), **stats}
                for k, v in values.items():
                    sums[k] = sums.get(k, 0.0) + v
                    if scalars is not None:
                        scalars.add(f"{tag}/{k}", v, self.step_count)
                count += 1
                bar.update(1)
                bar.set_postfix({k: f"{v:.3f}" for k, v in values.items()})
                if on_step is not None:
                    on_step(values)
        finally:
            bar.close()
        return {k: v / count for k, v in sums.items()} if count else {}

    def set_lr(self, lr: float) -> None:
        for group in self.opt.param_groups:
            group["lr"] = lr

    def check_finite(self) -> None:
        """NonFiniteError when a loss not checked yet, or any parameter, is nan or inf."""
        self.check_losses()
        for name, p in self.net.named_parameters():
            if not bool(torch.isfinite(p).all()):
                raise NonFiniteError(
                    f"training stopped at step {self.step_count}: parameter {name} is not finite "
                    "(learning rate too high?); nothing was written"
                )

    def save(self) -> None:
        """Writes the checkpoint (network, optimizer, state); never from non-finite parameters."""
        assert self.checkpoint is not None, "this learner has no checkpoint file"
        self.check_finite()
        assert isinstance(self.net, GoNet)
        save_checkpoint(self.checkpoint, self.net, self.opt, self.state)

    def save_weights(self, path: Path, extra: dict[str, str] | None = None) -> None:
        """Writes the network's weights file; never from non-finite parameters."""
        self.check_finite()
        assert isinstance(self.net, GoNet)
        save_weights(path, self.net, extra)

    def to_tensor(self, array: Any) -> Tensor:
        t = torch.from_numpy(array)
        if self.device.type == "cuda":
            t = t.pin_memory()
        return t.to(self.device, non_blocking=self.device.type == "cuda")
