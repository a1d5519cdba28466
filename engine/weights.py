"""Weights and training checkpoints as safetensors files with metadata; nothing is unpickled.

A weights file holds the network's tensors plus metadata: format, the NetConfig fields
(architecture, feature set, board size, blocks, channels, ...) and the tengen version. Loading
against a config (or a board size) that differs raises WeightsError naming what differs.

A checkpoint adds the optimizer's tensors (under "optimizer/") and, as JSON metadata, the
optimizer's scalar state and parameter groups plus the trainer's own state, so training
resumes exactly where it stopped. Files are written atomically (engine.atomic_io:
temporary name, fsync, rename).

A rollout-policy file (format tengen-rollout-1) holds one tensor, the weight of every local
pattern feature id of csrc/go/rollout.h; it loads into the C++ RolloutPolicy.
"""

from __future__ import annotations

import json
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor, nn

from engine import _core
from engine.atomic_io import atomic_path
from engine.errors import TengenError
from engine.nets import GoNet, NetConfig, build_net

WEIGHTS_FORMAT = "tengen-weights-1"
ROLLOUT_FORMAT = "tengen-rollout-1"  # the rollout policy: one float per pattern feature id
CHECKPOINT_FORMAT = "tengen-checkpoint-1"
_OPT_PREFIX = "optimizer/"
_MODEL_PREFIX = "model/"


class WeightsError(TengenError, ValueError):
    """A weights or checkpoint file is missing, unreadable or made for a different network."""


def tengen_version() -> str:
    try:
        return importlib_metadata.version("tengen")
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def _save_tensors(tensors: dict[str, Tensor], meta: dict[str, str], path: Path) -> None:
    with atomic_path(path) as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp), metadata=meta)


def _read(path: Path) -> tuple[dict[str, str], dict[str, Tensor]]:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path} is not a readable safetensors file ({exc})") from exc
    return meta, tensors


def _config_from(meta: dict[str, str], path: Path) -> NetConfig:
    if meta.get("format") not in (WEIGHTS_FORMAT, CHECKPOINT_FORMAT):
        raise WeightsError(f"{path} is not a tengen weights file (no tengen format in its metadata)")
    try:
        return NetConfig.from_metadata(meta)
    except (KeyError, ValueError) as exc:
        raise WeightsError(f"{path} has incomplete or invalid network metadata ({exc})") from exc


def check_config(found: NetConfig, expected: NetConfig | None, board_size: int | None, path: Path) -> None:
    """Raises WeightsError naming every field where the file and the expectation differ."""
    diffs = [] if expected is None else found.differences(expected)
    if (
        board_size is not None
        and found.board_size != board_size
        and not any(d[0] == "board_size" for d in diffs)
    ):
        diffs.append(("board_size", found.board_size, board_size))
    if diffs:
        parts = "; ".join(
            f"{name} is {mine} in the file but {theirs} in the config" for name, mine, theirs in diffs
        )
        raise WeightsError(f"{path} does not match: {parts}")


def save_weights(path: str | Path, net: GoNet, extra: dict[str, str] | None = None) -> None:
    meta = {"format": WEIGHTS_FORMAT, "tengen_version": tengen_version(), **net.config.to_metadata()}
    if extra:
        meta.update({k: str(v) for k, v in extra.items()})
    _save_tensors(dict(net.state_dict()), meta, Path(path))


def read_config(path: str | Path) -> NetConfig:
    """The NetConfig stored in a weights or checkpoint file."""
    meta, _ = _read(Path(path))
    return _config_from(meta, Path(path))


def read_metadata(path: str | Path) -> dict[str, str]:
    return _read(Path(path))[0]


def _model_tensors(meta: dict[str, str], tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    if meta.get("format") == CHECKPOINT_FORMAT:
        return {k[len(_MODEL_PREFIX) :]: v for k, v in tensors.items() if k.startswith(_MODEL_PREFIX)}
    return tensors


def load_net(
    path: str | Path,
    expected: NetConfig | None = None,
    board_size: int | None = None,
    device: str | torch.device = "cpu",
) -> GoNet:
    """Builds the network a weights (or checkpoint) file describes and loads its tensors, in eval
    mode. With `expected` / `board_size`, a file made for something else raises WeightsError."""
    path = Path(path)
    meta, tensors = _read(path)
    config = _config_from(meta, path)
    check_config(config, expected, board_size, path)
    net = build_net(config)
    _load_state(net, _model_tensors(meta, tensors), path)
    return net.to(device).eval()


def _load_state(net: nn.Module, state: dict[str, Tensor], path: Path) -> None:
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise WeightsError(
            f"{path} holds tensors that do not fit its own network description ({first})"
        ) from exc


# ---------------------------------------------------------------------------------------------
# Checkpoints


def _split_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for key, val in st.items():
            if isinstance(val, Tensor):
                tensors[f"{_OPT_PREFIX}{pid}/{key}"] = val
            else:
                scalars.setdefault(str(pid), {})[key] = val
    return tensors, {"scalars": scalars, "param_groups": sd["param_groups"]}


def _join_optimizer(tensors: dict[str, Tensor], info: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, val in tensors.items():
        if not name.startswith(_OPT_PREFIX):
            continue
        pid, key = name[len(_OPT_PREFIX) :].split("/", 1)
        state.setdefault(int(pid), {})[key] = val
    for pid, st in info["scalars"].items():
        state.setdefault(int(pid), {}).update(st)
    return {"state": state, "param_groups": info["param_groups"]}


def save_checkpoint(
    path: str | Path, net: GoNet, optimizer: torch.optim.Optimizer, trainer_state: dict[str, Any]
) -> None:
    """Network, optimizer and trainer state (JSON-serialisable) in one safetensors file."""
    opt_tensors, opt_info = _split_optimizer(optimizer)
    tensors = {_MODEL_PREFIX + k: v for k, v in net.state_dict().items()}
    tensors.update(opt_tensors)
    meta = {
        "format": CHECKPOINT_FORMAT,
        "tengen_version": tengen_version(),
        **net.config.to_metadata(),
        "optimizer_class": type(optimizer).__name__,
        "optimizer": json.dumps(opt_info),
        "trainer": json.dumps(trainer_state),
    }
    _save_tensors(tensors, meta, Path(path))


def load_checkpoint(path: str | Path, net: GoNet, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restores network and optimizer in place from a checkpoint; returns the trainer state."""
    path = Path(path)
    meta, tensors = _read(path)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(f"{path} is not a tengen training checkpoint")
    config = _config_from(meta, path)
    check_config(config, net.config, None, path)
    if meta.get("optimizer_class") != type(optimizer).__name__:
        raise WeightsError(
            f"{path} was trained with {meta.get('optimizer_class')} "
            f"but the config asks for {type(optimizer).__name__}"
        )
    _load_state(net, _model_tensors(meta, tensors), path)
    try:
        sd = _join_optimizer(tensors, json.loads(meta["optimizer"]))
        # JSON turned tuples (Adam's betas) into lists; give them back their type.
        for saved, live in zip(sd["param_groups"], optimizer.param_groups, strict=False):
            for key, val in live.items():
                if isinstance(val, tuple) and isinstance(saved.get(key), list):
                    saved[key] = tuple(saved[key])
        optimizer.load_state_dict(sd)
        trainer: dict[str, Any] = json.loads(meta["trainer"])
    except (KeyError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"{path} has a damaged optimizer or trainer state ({exc})") from exc
    return trainer


def save_rollout_weights(path: str | Path, weights: np.ndarray, extra: dict[str, str]) -> None:
    meta = {"format": ROLLOUT_FORMAT, "num_features": str(_core.ROLLOUT_FEATURES),
            "tengen_version": tengen_version(), **extra}  # fmt: skip
    _save_tensors({"weights": torch.from_numpy(np.ascontiguousarray(weights, np.float32))}, meta, Path(path))


def load_rollout_weights(path: str | Path) -> np.ndarray:
    """The weight vector of a rollout-policy file; WeightsError for anything else."""
    path = Path(path)
    meta, tensors = _read(path)
    if meta.get("format") != ROLLOUT_FORMAT or "weights" not in tensors:
        raise WeightsError(f"{path} is not a tengen rollout-policy file")
    w = tensors["weights"].numpy()
    if meta.get("num_features") != str(_core.ROLLOUT_FEATURES) or w.shape != (_core.ROLLOUT_FEATURES,):
        raise WeightsError(
            f"{path} has {meta.get('num_features')} rollout features "
            f"but this tengen uses {_core.ROLLOUT_FEATURES}"
        )
    return w.astype(np.float32)


def load_rollout_policy(path: str | Path) -> _core.RolloutPolicy:
    return _core.RolloutPolicy(load_rollout_weights(path))
