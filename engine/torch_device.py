"""Which torch device to run on, and the autocast that goes with it: one home for inference
(engine.evaluators) and training (selfplay.learner).

Device names: `auto` (CUDA when torch sees it, else the CPU), `cpu`, `cuda`, `cuda:N`. An unknown
name or a CUDA device torch cannot see is a DeviceError with one sentence. On CUDA, autocast runs
in bfloat16 where the GPU supports it, else float16 (which needs a gradient scaler in training);
on the CPU there is no autocast in training.

Inference picks its precision once per evaluator (`inference_precision`): `auto` is bfloat16
autocast on CUDA (float16 where the GPU lacks bf16) and, on a CPU whose oneDNN kernels support
bf16 (AVX512-BF16, AMX), bfloat16 autocast with channels_last tensors (2.0-2.7x the f32 forward
pass of 3x32 and 6x64 nets at batch 64 on the development machine); f32 elsewhere. `f32` and
`bf16` force one; `bf16` on hardware without it is a DeviceError.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
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


PRECISIONS = ("auto", "f32", "bf16")


def cpu_has_bf16() -> bool:
    """Whether this CPU runs oneDNN's bfloat16 kernels natively (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@dataclass(frozen=True, kw_only=True)
class InferencePrecision:
    """How an evaluator runs its networks: `name` is f32, bf16 or f16 (what logs report);
    `dtype` the autocast dtype (None: plain float32); `channels_last` the memory format."""

    name: str
    dtype: torch.dtype | None
    channels_last: bool

    def autocast(self, device: torch.device) -> contextlib.AbstractContextManager[Any]:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.dtype)


F32 = InferencePrecision(name="f32", dtype=None, channels_last=False)


def inference_precision(device: torch.device, requested: str = "auto") -> InferencePrecision:
    """The precision for inference on `device` (see the module docstring); DeviceError if impossible."""
    if requested not in PRECISIONS:
        raise DeviceError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    if requested == "f32":
        return F32
    if device.type == "cuda":
        dtype = autocast_dtype(device)
        if requested == "bf16" and dtype != torch.bfloat16:
            raise DeviceError(f"precision bf16 was asked for but {device} does not support bfloat16")
        return InferencePrecision(name="bf16" if dtype == torch.bfloat16 else "f16", dtype=dtype, channels_last=False)
    if device.type == "cpu" and cpu_has_bf16():
        return InferencePrecision(name="bf16", dtype=torch.bfloat16, channels_last=True)
    if requested == "bf16":
        raise DeviceError(f"precision bf16 was asked for but this {device.type} has no native bfloat16 support")
    return F32
