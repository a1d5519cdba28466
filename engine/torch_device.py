"""Which torch device to run on, and the autocast that goes with it: one home for inference
(engine.evaluators) and training (selfplay.learner).

Device names: `auto` (CUDA when torch sees it, else the CPU), `cpu`, `cuda`, `cuda:N`. An unknown
name or a CUDA device torch cannot see is a DeviceError with one sentence. On CUDA, autocast runs
in bfloat16 where the GPU supports it, else float16 (which needs a gradient scaler in training);
on the CPU there is no autocast.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from engine.errors import ConfigError

DEVICE_NAMES = "auto, cpu, cuda or cuda:N"


class DeviceError(ConfigError):
    """An unknown device name, or a device this machine does not have."""


def is_device_name(name: str) -> bool:
    """Whether `name` is spelled as a device (it may still be absent on this machine)."""
    return name in ("auto", "cpu", "cuda") or (name.startswith("cuda:") and name[5:].isdigit())


def pick_device(name: str | None = "auto") -> torch.device:
    """The device named by `name` (None or "" means auto); DeviceError when it is unknown or absent."""
    name = name or "auto"
    if not is_device_name(name):
        raise DeviceError(f"device must be {DEVICE_NAMES}, not {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name} was asked for but torch sees no CUDA device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"device {name} was asked for but torch sees {torch.cuda.device_count()} CUDA device(s)")
    return dev


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype on `device`: bfloat16 (or float16) on CUDA, None (no autocast) elsewhere."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """The autocast context for `device` (a no-op on the CPU)."""
    dtype = autocast_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
