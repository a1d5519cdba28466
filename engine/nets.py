"""Networks: a residual CNN policy net (AlphaGo's SL/RL policy), a separate value net (AlphaGo)
and a shared-trunk policy+value net (AlphaGo Zero / AlphaZero), for any board size.

Every net takes planes written by engine._core (shape (batch, planes, size, size), float32 or
uint8) and returns a `NetOutput`: `policy` logits over size*size + 1 moves (pass last) and/or
`value` in [-1, 1] for the player to move; the half a net does not have is None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import torch
from torch import Tensor, nn

from engine import _core as core
from engine.errors import ConfigError

MAX_BLOCKS = 1000  # a residual tower deeper than this is a typo (it would not fit in memory)
MAX_WIDTH = 65536  # channels or hidden units

ARCHITECTURES = ("policy", "value", "policy_value")


@dataclass(frozen=True)
class NetConfig:
    """Shape of a network. Weights files carry these fields; loading checks them."""

    architecture: str = "policy"  # policy | value | policy_value
    board_size: int = 9
    feature_set: str = "alphago"  # a name from engine._core.FEATURE_SETS
    blocks: int = 6  # residual blocks after the stem
    channels: int = 64
    stem_kernel: int = 5  # AlphaGo's first layer is 5x5
    value_hidden: int = 256  # width of the value head's hidden layer

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(
                f"architecture must be one of {', '.join(ARCHITECTURES)}, not {self.architecture!r}"
            )
        if self.feature_set not in core.FEATURE_SETS:
            raise ConfigError(
                f"feature set must be one of {', '.join(core.FEATURE_SETS)}, not {self.feature_set!r}"
            )
        if not core.MIN_SIZE <= self.board_size <= core.MAX_SIZE:
            raise ConfigError(f"board size must be in {core.MIN_SIZE}..{core.MAX_SIZE}, not {self.board_size}")
        if self.blocks < 0 or self.channels < 1 or self.value_hidden < 1:
            raise ConfigError("blocks must be >= 0 and channels, value_hidden >= 1")
        if self.blocks > MAX_BLOCKS or self.channels > MAX_WIDTH or self.value_hidden > MAX_WIDTH:
            raise ConfigError(f"blocks must be at most {MAX_BLOCKS} and channels, value_hidden at most {MAX_WIDTH}")
        if self.stem_kernel < 1 or self.stem_kernel % 2 == 0:
            raise ConfigError("stem_kernel must be a positive odd number")

    @property
    def input_planes(self) -> int:
        return core.num_planes(self.feature_set)

    @property
    def num_moves(self) -> int:
        return self.board_size * self.board_size + 1

    @property
    def has_policy(self) -> bool:
        return self.architecture in ("policy", "policy_value")

    @property
    def has_value(self) -> bool:
        return self.architecture in ("value", "policy_value")

    def to_metadata(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> NetConfig:
        """Rebuilds a config from weights-file metadata; raises KeyError/ValueError when incomplete."""
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            raw = meta[f.name]
            kwargs[f.name] = int(raw) if f.type in ("int", int) else raw
        return cls(**kwargs)  # type: ignore[arg-type]

    def differences(self, other: NetConfig) -> list[tuple[str, object, object]]:
        """(field, value here, value in other) for every field that differs."""
        return [
            (f.name, getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]


class NetOutput(NamedTuple):
    policy: Tensor | None  # (batch, size*size + 1) logits
    value: Tensor | None  # (batch,) in [-1, 1]


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(x + y)


class Trunk(nn.Module):
    """Stem convolution then `blocks` residual blocks, all `channels` wide."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        k = config.stem_kernel
        self.stem = nn.Conv2d(config.input_planes, config.channels, k, padding=k // 2, bias=False)
        self.stem_bn = nn.BatchNorm2d(config.channels)
        self.blocks = nn.Sequential(*[ResidualBlock(config.channels) for _ in range(config.blocks)])

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(torch.relu(self.stem_bn(self.stem(x))))


class PolicyHead(nn.Module):
    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        n2 = config.board_size * config.board_size
        self.conv = nn.Conv2d(config.channels, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2 * n2, n2 + 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))


class ValueHead(nn.Module):
    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        n2 = config.board_size * config.board_size
        self.conv = nn.Conv2d(config.channels, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(1)
        self.fc1 = nn.Linear(n2, config.value_hidden)
        self.fc2 = nn.Linear(config.value_hidden, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.relu(self.fc1(torch.relu(self.bn(self.conv(x))).flatten(1)))
        return torch.tanh(self.fc2(h)).squeeze(1)


class GoNet(nn.Module):
    """Trunk plus the heads `config.architecture` names."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.trunk = Trunk(config)
        self.policy_head = PolicyHead(config) if config.has_policy else None
        self.value_head = ValueHead(config) if config.has_value else None

    def forward(self, planes: Tensor) -> NetOutput:
        if planes.dtype == torch.uint8:
            planes = planes.float()
        n = self.config.board_size
        if planes.dim() != 4 or planes.shape[1:] != (self.config.input_planes, n, n):
            raise ValueError(
                f"expected planes of shape (batch, {self.config.input_planes}, {n}, {n}), "
                f"got {tuple(planes.shape)}"
            )
        h = self.trunk(planes)
        policy = self.policy_head(h) if self.policy_head is not None else None
        value = self.value_head(h) if self.value_head is not None else None
        return NetOutput(policy, value)


def build_net(config: NetConfig) -> GoNet:
    return GoNet(config)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
