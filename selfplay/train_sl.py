"""Supervised training from corpus shards: the policy net (top-1 move prediction), the value net
on (position, outcome) pairs, or a shared-trunk policy+value net, by the net's architecture.

Positions are (game, move number) pairs; their planes are written in C++ by replaying the game
records under a random symmetry, on a background thread (the C++ call releases the GIL) so the
network never waits for data. Games, not positions, are split into training and held-out sets.
Progress bar, TensorBoard scalars (<out>/tb), metrics.jsonl, a checkpoint with the optimizer
state (<out>/checkpoint.safetensors) for exact resume, and the weights (<out>/weights.safetensors).
The same command runs on CPU or, when present, CUDA with autocast (bfloat16, else float16).
Steps, checkpoints and the nan/inf guard are selfplay.learner.Learner's (the loop every trainer
shares); this module adds the epoch schedule, held-out evaluation and Ctrl-C handling. A resume
whose metrics.jsonl records checkpoints but whose checkpoint is gone is an error, not a restart.

The data order of every epoch is a pure function of (seed, epoch), so a resumed run replays
exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import dataclasses
import json
import math
import queue
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from tqdm import tqdm

from engine.atomic_io import atomic_write_text
from engine.config import (
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_SEED,
    MAX_THREADS,
    from_mapping,
    load_yaml,
    parse_override,
    require,
    require_at_most,
)
from engine.errors import ConfigError, TengenError
from engine.nets import GoNet, NetConfig, count_parameters
from engine.torch_device import DEVICE_NAMES, autocast, is_device_name, pick_device
from selfplay.learner import Learner
from selfplay.records import Records, load_corpus
from selfplay.torch_setup import MOMENTUM, WEIGHT_DECAY, OptimConfig, Scalars, set_threads


class TrainError(TengenError, ValueError):
    """A training run that cannot start as asked (no data, a checkpoint for other data, ...)."""


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How to train. `data` names shard folders/files; results go to `out_dir`."""

    data: tuple[str, ...] = ()
    out_dir: str = "runs/sl"
    batch_size: int = 128
    epochs: int = 10
    max_steps: int = 0  # stop after this many steps (0: run all epochs); the lr schedule ignores it
    optimizer: Literal["sgd", "adamw"] = "sgd"
    lr: float = 0.05
    momentum: float = MOMENTUM
    weight_decay: float = WEIGHT_DECAY
    lr_schedule: Literal["constant", "cosine"] = "cosine"  # cosine: to 0 over the run
    warmup_steps: int = 0
    holdout_fraction: float = 0.1  # of games
    holdout_max_positions: int = 20000
    include_passes: bool = True  # passes as policy targets
    mask_illegal: bool = True  # illegal moves get no probability (loss and accuracy)
    symmetries: bool = True  # a random one of the 8 per training sample
    value_positions_per_game: int = 0  # value targets per game and epoch (0: every position)
    value_weight: float = 1.0  # policy_value nets: loss = policy CE + value_weight * value MSE
    seed: int = 0
    eval_every: int = 0  # steps; 0: once per epoch
    checkpoint_every: int = 0  # steps; 0: once per epoch
    log_every: int = 20
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    feature_threads: int = 1  # C++ threads writing planes
    torch_threads: int = 0  # 0: torch's default
    prefetch: int = 4  # batches prepared ahead
    progress: bool = True

    def __post_init__(self) -> None:
        require(self.lr_schedule in ("constant", "cosine"), "lr_schedule", "must be constant or cosine")
        require(self.epochs >= 1, "epochs", "must be at least 1")
        require_at_most(self.epochs, MAX_EPOCHS, "epochs")
        require(self.max_steps >= 0, "max_steps", "must be >= 0")
        require(self.warmup_steps >= 0, "warmup_steps", "must be >= 0")
        require(0.0 <= self.holdout_fraction < 1.0, "holdout_fraction", "must be in [0, 1)")
        require(self.holdout_max_positions >= 0, "holdout_max_positions", "must be >= 0")
        require(self.value_positions_per_game >= 0, "value_positions_per_game", "must be >= 0")
        weight_ok = math.isfinite(self.value_weight) and 0 <= self.value_weight <= 1e3
        require(weight_ok, "value_weight", "must be in [0, 1000]")
        require(0 <= self.seed <= MAX_SEED, "seed", f"must be from 0 to {MAX_SEED}")
        require(self.eval_every >= 0, "eval_every", "must be >= 0")
        require(self.checkpoint_every >= 0, "checkpoint_every", "must be >= 0")
        require(self.log_every >= 1, "log_every", "must be at least 1")
        require(is_device_name(self.device), "device", f"must be {DEVICE_NAMES}, not {self.device!r}")
        require(1 <= self.feature_threads <= MAX_THREADS, "feature_threads", f"must be from 1 to {MAX_THREADS}")
        require(0 <= self.torch_threads <= MAX_THREADS, "torch_threads", f"must be from 0 to {MAX_THREADS}")
        require(1 <= self.prefetch <= MAX_BATCH, "prefetch", f"must be from 1 to {MAX_BATCH}")
        self.optim  # noqa: B018  (checks optimizer, lr, momentum, weight_decay, batch_size)

    @property
    def optim(self) -> OptimConfig:
        """The optimizer settings, as every learner takes them."""
        return OptimConfig(
            optimizer=self.optimizer, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay,
            batch_size=self.batch_size,
        )


@dataclass(frozen=True, kw_only=True)
class SLConfig:
    """A supervised run: the network to build and how to train it."""

    net: NetConfig
    train: TrainConfig


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> SLConfig:
    """Reads a YAML file with `net:` and `train:` sections (engine.config, strict); overrides are
    "net.blocks"-style keys, and a string value (`--set train.lr=0.01`) is read as a YAML scalar."""
    raw: dict[str, Any] = dict(load_yaml(path)) if path is not None else {}
    sections: dict[str, dict[str, Any]] = {}
    for name in ("net", "train"):
        section = raw.pop(name, None) or {}
        if not isinstance(section, dict):
            raise ConfigError(f"{name} must be a section (key: value lines), not {section!r}")
        sections[name] = dict(section)
    if raw:
        raise ConfigError(f"{path} must hold only `net:` and `train:` sections, not {', '.join(map(str, raw))}")
    for key, value in (overrides or {}).items():
        section, _, name = key.partition(".")
        if section not in sections or not name:
            raise ConfigError(f"override {key!r} must look like net.<field> or train.<field>")
        if value is not None:
            sections[section][name] = parse_override(value) if isinstance(value, str) else value
    return SLConfig(net=from_mapping(NetConfig, sections["net"], "net"),
                    train=from_mapping(TrainConfig, sections["train"], "train"))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Batch:
    planes: npt.NDArray[np.uint8]  # (B, planes, n, n)
    masks: npt.NDArray[np.uint8]  # (B, n*n + 1) legal moves
    targets: npt.NDArray[np.int64]  # (B,) move played, in plane coordinates
    values: npt.NDArray[np.float32]  # (B,) +1 / -1 for the player to move, 0 unknown


def split_games(num_games: int, fraction: float, seed: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(training games, held-out games): a seeded permutation, at least one held-out game when
    fraction > 0 and there are two games or more."""
    perm = np.random.default_rng([seed, 7919]).permutation(num_games).astype(np.int64)
    k = int(round(fraction * num_games))
    if fraction > 0 and num_games >= 2:
        k = max(k, 1)
    return np.sort(perm[k:]), np.sort(perm[:k])


def make_batch(
    records: Records,
    games: npt.NDArray[np.int64],
    moves: npt.NDArray[np.int32],
    syms: npt.NDArray[np.int32] | None,
    feature_set: str,
    planes: int,
    threads: int,
) -> Batch:
    n = records.board_size
    b = len(games)
    out = np.empty((b, planes, n, n), np.uint8)
    masks = np.empty((b, n * n + 1), np.uint8)
    targets = np.empty(b, np.int64)
    failed = records.write_features(games, moves, out, feature_set, syms, masks, targets, threads)
    if failed:
        raise RuntimeError(f"{failed} positions could not be replayed (corrupt shard?)")
    return Batch(out, masks, targets, records.outcome_for_mover(games, moves))


class Positions:
    """The training positions of some games for one architecture."""

    def __init__(self, records: Records, games: npt.NDArray[np.int64], config: SLConfig) -> None:
        self.records = records
        self.config = config
        sub_game, sub_move = records.positions(config.train.include_passes or not config.net.has_policy)
        keep = np.isin(sub_game, games)
        if config.net.architecture == "value":
            keep &= records.winner[sub_game] != 0
        self.game = sub_game[keep]
        self.move = sub_move[keep]

    def __len__(self) -> int:
        return len(self.game)

    def epoch_size(self) -> int:
        """How many samples one epoch draws."""
        k = self.config.train.value_positions_per_game
        if self.config.net.architecture == "value" and k > 0:
            return int(np.minimum(np.bincount(self.game), k).sum()) if len(self) else 0
        return len(self)

    def epoch_order(self, epoch: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """Sample indices and symmetries for one epoch: a function of (seed, epoch) only."""
        t = self.config.train
        rng = np.random.default_rng([t.seed, epoch])
        idx = np.arange(len(self), dtype=np.int64)
        k = t.value_positions_per_game
        if self.config.net.architecture == "value" and k > 0:
            # AlphaGo: few positions per game, so the net cannot memorise whole games' outcomes.
            keys = rng.random(len(self))
            order = np.lexsort((keys, self.game))
            first = np.searchsorted(self.game[order], self.game[order], side="left")
            rank = np.arange(len(order)) - first
            idx = np.sort(order[rank < k])
        idx = rng.permutation(idx)
        syms = rng.integers(0, 8, len(idx)).astype(np.int32) if t.symmetries else np.zeros(len(idx), np.int32)
        return idx, syms


def prefetch(produce: Iterator[Any], depth: int) -> Iterator[Any]:
    """Runs `produce` on a background thread, `depth` items ahead. The thread is joined before
    this generator finishes (also when the consumer stops early), so no thread is left inside a
    C++ call when the interpreter exits."""
    q: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    done = object()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in produce:
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer
            put(exc)

    thread = threading.Thread(target=work, name="tengen-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


# ---------------------------------------------------------------------------------------------
# Training


def _to_device(batch: Batch, device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    pin = device.type == "cuda"
    out = []
    for arr in (batch.planes, batch.masks, batch.targets, batch.values):
        t = torch.from_numpy(arr)
        if pin:
            t = t.pin_memory()
        out.append(t.to(device, non_blocking=pin))
    return out[0], out[1], out[2], out[3]


def _losses(
    net: GoNet, planes: Tensor, masks: Tensor, targets: Tensor, values: Tensor, cfg: SLConfig
) -> tuple[Tensor, dict[str, Tensor]]:
    out = net(planes)
    total = torch.zeros((), device=planes.device)
    stats: dict[str, Tensor] = {}
    if out.policy is not None:
        logits = out.policy.float()
        if cfg.train.mask_illegal:
            logits = logits.masked_fill(masks == 0, -1e9)
        ce = torch.nn.functional.cross_entropy(logits, targets)
        total = total + ce
        stats["policy_loss"] = ce.detach()
        stats["correct"] = (logits.argmax(1) == targets).sum().detach()
    if out.value is not None:
        known = values != 0
        err = (out.value.float() - values) ** 2
        mse = (err * known).sum() / known.sum().clamp(min=1)
        total = total + (cfg.train.value_weight if out.policy is not None else 1.0) * mse
        stats["value_mse"] = mse.detach()
        stats["value_correct"] = ((torch.sign(out.value.float()) == values) & known).sum().detach()
        stats["value_known"] = known.sum().detach()
    return total, stats


@dataclass(frozen=True)
class EvalResult:
    positions: int
    policy_loss: float = float("nan")
    accuracy: float = float("nan")  # top-1 move prediction
    value_mse: float = float("nan")
    value_accuracy: float = float("nan")  # sign of the value agrees with the outcome


def evaluate(
    net: GoNet,
    records: Records,
    games: npt.NDArray[np.int64],
    moves: npt.NDArray[np.int32],
    batch_size: int = 256,
    device: torch.device | None = None,
    threads: int = 1,
    mask_illegal: bool = True,
    progress: bool = False,
) -> EvalResult:
    """Policy top-1 accuracy / loss and value MSE of `net` on the given positions (identity symmetry)."""
    device = device or next(net.parameters()).device
    cfg = SLConfig(net=net.config, train=TrainConfig(mask_illegal=mask_illegal))
    was_training = net.training
    net.eval()
    count = 0
    loss_sum = correct = mse_sum = value_correct = value_known = 0.0
    starts = range(0, len(games), batch_size)

    def produce() -> Iterator[Batch]:
        for s in starts:
            yield make_batch(
                records,
                games[s : s + batch_size],
                moves[s : s + batch_size],
                None,
                net.config.feature_set,
                net.config.input_planes,
                threads,
            )

    with torch.inference_mode(), autocast(device):
        for batch in tqdm(prefetch(produce(), 2), total=len(starts), desc="eval", disable=not progress, leave=False):
            planes, masks, targets, values = _to_device(batch, device)
            _, stats = _losses(net, planes, masks, targets, values, cfg)
            b = len(batch.targets)
            count += b
            if "policy_loss" in stats:
                loss_sum += float(stats["policy_loss"]) * b
                correct += float(stats["correct"])
            if "value_mse" in stats:
                known = float(stats["value_known"])
                mse_sum += float(stats["value_mse"]) * known
                value_correct += float(stats["value_correct"])
                value_known += known
    net.train(was_training)
    res = EvalResult(count)
    if count and net.config.has_policy:
        res = dataclasses.replace(res, policy_loss=loss_sum / count, accuracy=correct / count)
    if value_known:
        res = dataclasses.replace(res, value_mse=mse_sum / value_known, value_accuracy=value_correct / value_known)
    return res


@dataclass(frozen=True)
class TrainResult:
    steps: int
    epochs: int
    samples: int
    device: str
    train_accuracy: float
    train_loss: float
    holdout: EvalResult
    samples_per_second: float
    weights_path: str
    parameters: int


def _lr_at(step: int, total: int, t: TrainConfig) -> float:
    if t.warmup_steps and step < t.warmup_steps:
        return t.lr * (step + 1) / t.warmup_steps
    if t.lr_schedule == "cosine" and total > 0:
        frac = min(1.0, (step - t.warmup_steps) / max(1, total - t.warmup_steps))
        return t.lr * 0.5 * (1.0 + math.cos(math.pi * frac))
    return t.lr


def _install_sigint(flag: threading.Event) -> Any:
    """First Ctrl-C sets `flag` (training stops after the current step with a checkpoint); a
    second one interrupts at once. Only in the main thread; returns the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()

    return signal.signal(signal.SIGINT, handler)


def _restore_sigint(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def _checkpoint_logged(metrics: Path) -> bool:
    """Whether a run's metrics.jsonl records a saved checkpoint (so a missing one was lost)."""
    try:
        with metrics.open(encoding="utf-8", errors="replace") as f:
            return any('"kind": "checkpoint"' in line for line in f)
    except OSError:
        return False


def train(
    config: SLConfig, resume: bool = False, records: Records | None = None, split_seed: int | None = None
) -> TrainResult:
    """Trains by `config`; with `resume`, continues from <out>/checkpoint.safetensors when present.
    The held-out games are chosen with `split_seed` (default: train.seed)."""
    t, nc = config.train, config.net
    out = Path(t.out_dir)
    device = pick_device(t.device)
    if records is None:
        if not t.data:
            raise TrainError("no training data: give shard folders in train.data (or --data)")
        records = load_corpus(list(t.data), nc.board_size)
    out.mkdir(parents=True, exist_ok=True)
    set_threads(t.torch_threads)
    split_seed = t.seed if split_seed is None else split_seed
    train_games, holdout_games = split_games(records.num_games, t.holdout_fraction, split_seed)
    train_pos = Positions(records, train_games, config)
    hold_pos = Positions(records, holdout_games, config)
    if len(train_pos) == 0:
        raise TrainError("no training positions (too few games, or no game outcomes for a value net)")
    cap = np.random.default_rng([split_seed, 104729]).permutation(len(hold_pos))[: t.holdout_max_positions]
    hold_game, hold_move = hold_pos.game[np.sort(cap)], hold_pos.move[np.sort(cap)]

    ckpt = out / "checkpoint.safetensors"
    metrics_path = out / "metrics.jsonl"
    if resume and not ckpt.exists() and _checkpoint_logged(metrics_path):
        raise TrainError(
            f"{metrics_path} records checkpoints but {ckpt} is missing: the run cannot resume "
            "(restore the checkpoint, or start without --resume in a new --out folder)"
        )
    # Losses are checked for nan/inf once per log line (one host sync per log_every steps).
    learner = Learner.for_config(nc, t.optim, device, ckpt, seed=t.seed, resume=resume, check_every=t.log_every)
    net = learner.net
    state = learner.state
    if learner.resumed:
        if state.get("games") != records.num_games:
            raise TrainError(
                f"{ckpt} was trained on {state.get('games')} games but the data now has {records.num_games}; "
                "resume with the same data or start a new run"
            )
    else:
        state.update({"epoch": 0, "batch": 0, "step": 0, "samples": 0, "games": records.num_games})
    run_config = {"net": dataclasses.asdict(nc), "train": dataclasses.asdict(t)}
    atomic_write_text(out / "config.json", json.dumps(run_config, indent=2) + "\n")

    batches_per_epoch = math.ceil(train_pos.epoch_size() / t.batch_size)
    # The learning-rate schedule spans all epochs; max_steps only stops early, so a run stopped
    # by it and resumed without it follows the same schedule as one uninterrupted run.
    schedule_steps = t.epochs * batches_per_epoch
    total = min(schedule_steps, t.max_steps) if t.max_steps else schedule_steps

    writer = Scalars(out / "tb", purge_step=state["step"] if state["step"] else None)
    metrics_file = metrics_path.open("a")

    def log(kind: str, values: dict[str, float]) -> None:
        for k, v in values.items():
            writer.add(f"{kind}/{k}", v, state["step"])
        metrics_file.write(json.dumps({"kind": kind, "step": state["step"], **values}) + "\n")
        metrics_file.flush()

    evaluated_at = -1

    def run_eval() -> EvalResult:
        nonlocal evaluated_at
        evaluated_at = state["step"]
        res = evaluate(
            net,
            records,
            hold_game,
            hold_move,
            max(t.batch_size, 256),
            device,
            t.feature_threads,
            t.mask_illegal,
        )
        if res.positions:
            log("holdout", {k: v for k, v in dataclasses.asdict(res).items() if k != "positions"})
        return res

    def save_ckpt() -> None:
        learner.save()
        log("checkpoint", {})

    def batches(epoch: int, start: int) -> Iterator[Batch]:
        idx, syms = train_pos.epoch_order(epoch)
        for b in range(start, math.ceil(len(idx) / t.batch_size)):
            sel = idx[b * t.batch_size : (b + 1) * t.batch_size]
            yield make_batch(
                records,
                train_pos.game[sel],
                train_pos.move[sel],
                syms[b * t.batch_size : (b + 1) * t.batch_size],
                nc.feature_set,
                nc.input_planes,
                t.feature_threads,
            )

    bar = tqdm(total=total, initial=min(state["step"], total), desc="train", unit="step", disable=not t.progress)
    # Running sums stay on the device between logs: no host sync per step.
    window: dict[str, Tensor] = {}
    zero = torch.zeros((), device=device)
    window_n = 0
    window_start = time.perf_counter()
    run_start = time.perf_counter()
    run_samples = 0
    last_train = (float("nan"), float("nan"))
    holdout = EvalResult(0)
    net.train()
    stop_requested = threading.Event()
    previous_handler = _install_sigint(stop_requested)
    try:
        while state["epoch"] < t.epochs and state["step"] < total:
            epoch = state["epoch"]
            for batch in prefetch(batches(epoch, state["batch"]), t.prefetch):
                if state["step"] >= total:
                    break
                learner.set_lr(_lr_at(state["step"], schedule_steps, t))
                planes, masks, targets, values = _to_device(batch, device)
                loss, stats = learner.step(
                    lambda net: _losses(net, planes, masks, targets, values, config)  # noqa: B023
                )
                b = len(batch.targets)
                state["batch"] += 1
                state["samples"] += b
                run_samples += b
                window_n += b
                window["loss"] = window.get("loss", zero) + loss.float() * b
                if "correct" in stats:
                    window["correct"] = window.get("correct", zero) + stats["correct"]
                bar.update(1)
                if state["step"] % t.log_every == 0 or state["step"] == total:
                    dt = max(1e-9, time.perf_counter() - window_start)
                    scalars = {
                        "loss": float(window["loss"]) / window_n,
                        "lr": learner.opt.param_groups[0]["lr"],
                        "samples_per_s": window_n / dt,
                    }
                    if "correct" in window:
                        scalars["accuracy"] = float(window["correct"]) / window_n
                    last_train = (scalars.get("accuracy", float("nan")), scalars["loss"])
                    log("train", scalars)
                    bar.set_postfix(loss=f"{scalars['loss']:.3f}", acc=f"{scalars.get('accuracy', float('nan')):.3f}")
                    window, window_n, window_start = {}, 0, time.perf_counter()
                if t.eval_every and state["step"] % t.eval_every == 0:
                    holdout = run_eval()
                if t.checkpoint_every and state["step"] % t.checkpoint_every == 0:
                    save_ckpt()
                if stop_requested.is_set():
                    # Ctrl-C: the step just finished is complete, so the checkpoint resumes exactly.
                    save_ckpt()
                    bar.close()
                    raise KeyboardInterrupt(f"interrupted at step {state['step']}; checkpoint saved in {ckpt}")
            else:
                state["epoch"] = epoch + 1
                state["batch"] = 0
                if not t.eval_every:
                    holdout = run_eval()
                if not t.checkpoint_every:
                    save_ckpt()
                continue
            break
        bar.close()
        elapsed = time.perf_counter() - run_start
        if evaluated_at != state["step"]:
            holdout = run_eval()
        save_ckpt()
        weights = out / "weights.safetensors"
        learner.save_weights(weights, {"trained_steps": str(state["step"]), "trained_samples": str(state["samples"])})
    finally:
        _restore_sigint(previous_handler)
        bar.close()
        writer.close()
        metrics_file.close()
    return TrainResult(
        steps=state["step"],
        epochs=state["epoch"],
        samples=state["samples"],
        device=str(device),
        train_accuracy=last_train[0],
        train_loss=last_train[1],
        holdout=holdout,
        samples_per_second=run_samples / elapsed if elapsed > 0 else float("nan"),
        weights_path=str(weights),
        parameters=count_parameters(net),
    )
