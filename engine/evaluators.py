"""Evaluators behind the search's one interface: fill policy logits and values for a batch.

`UniformEvaluator` (engine.search) and rollouts-only searches need no torch; this module holds
the torch network evaluator: one shared-trunk policy+value net (AlphaZero), or a separate
policy net and value net (AlphaGo), either of which may be absent (ablations).
"""

from __future__ import annotations

import numpy as np
import torch

from engine import _core
from engine.nets import GoNet
from engine.torch_device import inference_precision, pick_device


def search_feature_set(policy_net: GoNet | None, value_net: GoNet | None) -> str:
    """The feature set the search must write so that every net gets its planes as a prefix."""
    sets = [n.config.feature_set for n in (policy_net, value_net) if n is not None]
    if not sets:
        raise ValueError("a network evaluator needs a policy net, a value net, or both")
    widest = max(sets, key=_core.num_planes)
    for s in sets:
        if s != widest and not (s == "alphago" and widest == "alphago_value"):
            raise ValueError(f"the policy and value nets use incompatible feature sets ({s} and {widest})")
    return widest


class TorchEvaluator:
    """Runs torch networks on the search's batches in inference mode.

    `precision` (f32 by default; auto | bf16, see engine.torch_device.inference_precision) is resolved once;
    `self.precision.name` says what was chosen. With channels_last the nets are converted in place.
    Thread rule: one `evaluate` at a time (BatchedRunner calls it from its one evaluation thread);
    each call ends with its outputs copied back, so the pinned input buffer is free again.
    """

    def __init__(
        self,
        policy_net: GoNet | None,
        value_net: GoNet | None = None,
        device: str | torch.device | None = None,
        precision: str = "f32",
    ) -> None:
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.policy_net = policy_net.to(self.device).eval() if policy_net is not None else None
        self.value_net = value_net.to(self.device).eval() if value_net is not None else None
        if self.policy_net is not None and not self.policy_net.config.has_policy:
            raise ValueError("the policy network has no policy head")
        if self.value_net is not None and not self.value_net.config.has_value:
            raise ValueError("the value network has no value head")
        self.feature_set = search_feature_set(self.policy_net, self.value_net)
        sizes = {n.config.board_size for n in (self.policy_net, self.value_net) if n is not None}
        if len(sizes) != 1:
            raise ValueError(f"the networks were built for different board sizes: {sorted(sizes)}")
        self.board_size = sizes.pop()
        self.precision = inference_precision(self.device, precision)
        self._staging: torch.Tensor | None = None  # pinned host copy of the inputs (CUDA only)
        if self.precision.channels_last:
            for net in {id(n): n for n in (self.policy_net, self.value_net) if n is not None}.values():
                net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def _to_device(self, inputs: np.ndarray) -> torch.Tensor:
        """The batch on the device. On CUDA through a pinned host buffer allocated once (grown when
        a larger batch comes), so the copy is asynchronous; on the CPU without a copy."""
        host = torch.from_numpy(inputs)
        if self.device.type != "cuda":
            return host
        if self._staging is None or self._staging.numel() < host.numel() or self._staging.dtype != host.dtype:
            self._staging = torch.empty(host.numel(), dtype=host.dtype).pin_memory()
        staging = self._staging[: host.numel()].view(host.shape)
        staging.copy_(host)
        return staging.to(self.device, non_blocking=True)

    def evaluate(self, inputs: np.ndarray, masks: np.ndarray, policy: np.ndarray, values: np.ndarray) -> None:
        x = self._to_device(inputs)
        if self.precision.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self.precision.autocast(self.device):
            if self.policy_net is not None and self.policy_net is self.value_net:
                out = self.policy_net(x)
                policy[...] = out.policy.float().cpu().numpy()
                values[...] = out.value.float().cpu().numpy()
                return
            if self.policy_net is not None:
                planes = self.policy_net.config.input_planes
                policy[...] = self.policy_net(x[:, :planes]).policy.float().cpu().numpy()
            else:
                policy[...] = 0.0
            if self.value_net is not None:
                planes = self.value_net.config.input_planes
                values[...] = self.value_net(x[:, :planes]).value.float().cpu().numpy()
            else:
                values[...] = 0.0
