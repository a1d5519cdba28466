"""Networks: a residual CNN policy net (AlphaGo's SL/RL policy), a separate value net (AlphaGo)
and a shared-trunk policy+value net (AlphaGo Zero / AlphaZero), for any board size.

Every net takes planes written by engine._core (shape (batch, planes, size, size), float32 or
uint8) and returns a `NetOutput`: `policy` logits over size*size + 1 moves (pass last) and/or
`value` in [-1, 1] for the player to move; the half a net does not have is None. A net with
`aux_heads` (KataGo's auxiliary targets) also returns `ownership` (batch, size*size) in [-1, 1]
and `score` (batch,) in points, both for the player to move; `global_pooling` puts KataGo's
global-pooling bias into every third residual block.
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
    aux_heads: bool = False  # KataGo's ownership and score-lead heads (policy_value nets only)
    global_pooling: bool = False  # KataGo's global-pooling bias in residual blocks 2, 5, 8, ...

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
        if self.aux_heads and self.architecture != "policy_value":
            raise ConfigError("aux_heads needs architecture policy_value")

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
        """Rebuilds a config from weights-file metadata; raises KeyError/ValueError when incomplete.

        Fields added after the first weights files were written (`ADDED_FIELDS`) take their
        default when absent, so older files keep loading.
        """
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            if f.name not in meta and f.name in ADDED_FIELDS:
                continue
            raw = meta[f.name]
            if f.type in ("bool", bool):
                if raw not in ("True", "False"):
                    raise ValueError(f"{f.name} must be True or False, not {raw!r}")
                kwargs[f.name] = raw == "True"
            else:
                kwargs[f.name] = int(raw) if f.type in ("int", int) else raw
        return cls(**kwargs)  # type: ignore[arg-type]

    def differences(self, other: NetConfig) -> list[tuple[str, object, object]]:
        """(field, value here, value in other) for every field that differs."""
        return [
            (f.name, getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]


ADDED_FIELDS = frozenset({"aux_heads", "global_pooling"})

# The score head's raw output is in units of this many points (keeps its weights near 1).
SCORE_UNIT = 10.0


class NetOutput(NamedTuple):
    policy: Tensor | None  # (batch, size*size + 1) logits
    value: Tensor | None  # (batch,) in [-1, 1]
    ownership: Tensor | None = None  # (batch, size*size) in [-1, 1], +1 = the mover owns the point
    score: Tensor | None = None  # (batch,) the mover's final score lead, in points


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


class GlobalPoolingBlock(nn.Module):
    """A residual block whose first convolution gets a per-channel bias computed from the whole
    board (KataGo's global pooling): the mean and max of a quarter-width side branch, through a
    linear layer. It lets a local shape see global facts (ko threats, who is ahead)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        pooled = max(1, channels // 4)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.pool_conv = nn.Conv2d(channels, pooled, 3, padding=1, bias=False)
        self.pool_bn = nn.BatchNorm2d(pooled)
        self.pool_fc = nn.Linear(2 * pooled, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor) -> Tensor:
        g = torch.relu(self.pool_bn(self.pool_conv(x)))
        stats = torch.cat([g.mean(dim=(2, 3)), g.amax(dim=(2, 3))], dim=1)
        bias = self.pool_fc(stats)[:, :, None, None]
        y = torch.relu(self.bn1(self.conv1(x)) + bias)
        y = self.bn2(self.conv2(y))
        return torch.relu(x + y)


class Trunk(nn.Module):
    """Stem convolution then `blocks` residual blocks, all `channels` wide (with global pooling,
    blocks 2, 5, 8, ... are `GlobalPoolingBlock`s)."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        k = config.stem_kernel
        self.stem = nn.Conv2d(config.input_planes, config.channels, k, padding=k // 2, bias=False)
        self.stem_bn = nn.BatchNorm2d(config.channels)
        c = config.channels
        self.blocks = nn.Sequential(
            *[
                GlobalPoolingBlock(c) if config.global_pooling and i % 3 == 1 else ResidualBlock(c)
                for i in range(config.blocks)
            ]
        )

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
    """Value in [-1, 1]; with aux heads also the score lead in points, from the same hidden layer."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        n2 = config.board_size * config.board_size
        self.conv = nn.Conv2d(config.channels, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(1)
        self.fc1 = nn.Linear(n2, config.value_hidden)
        self.fc2 = nn.Linear(config.value_hidden, 1)
        self.score_fc = nn.Linear(config.value_hidden, 1) if config.aux_heads else None

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        h = torch.relu(self.fc1(torch.relu(self.bn(self.conv(x))).flatten(1)))
        score = self.score_fc(h).squeeze(1) * SCORE_UNIT if self.score_fc is not None else None
        return torch.tanh(self.fc2(h)).squeeze(1), score


class OwnershipHead(nn.Module):
    """Final owner of each point for the player to move, in [-1, 1] (a 1x1 convolution)."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.conv = nn.Conv2d(config.channels, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.conv(x).flatten(1))


class GoNet(nn.Module):
    """Trunk plus the heads `config.architecture` names."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.trunk = Trunk(config)
        self.policy_head = PolicyHead(config) if config.has_policy else None
        self.value_head = ValueHead(config) if config.has_value else None
        self.ownership_head = OwnershipHead(config) if config.aux_heads else None

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
        value, score = self.value_head(h) if self.value_head is not None else (None, None)
        ownership = self.ownership_head(h) if self.ownership_head is not None else None
        return NetOutput(policy, value, ownership, score)


def build_net(config: NetConfig) -> GoNet:
    return GoNet(config)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
