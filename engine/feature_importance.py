"""Permutation importance of a network's input feature groups: how much worse the policy net predicts
moves (top-1 accuracy drop) or the value net predicts outcomes (MSE rise) when one group of planes is
shuffled across positions, and a bar chart of it.

A group is one entry of engine._core.plane_layout(feature_set) (name, first plane, count); its whole
block of planes is moved together: position i gets the group's planes of position order[i] (one random
permutation per repeat, the same for all the group's planes), every other plane stays. This keeps the
group's joint distribution and breaks only its link to the rest of the position and to the target
(permutation importance as in Breiman's random forests, 2001). A group whose planes are the same in every
position (the `ones` and `zeros` planes) cannot change under a shuffle: it is marked constant and scores
exactly the baseline, without forward passes.

Top-1 accuracy is computed as selfplay.train_sl's training loss does with mask_illegal: the logits of
moves outside the legal-move mask (the masks replay_features writes next to the planes) are set to -1e9
before the argmax; without masks, over all moves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor, nn
from tqdm import tqdm

from engine.atomic_io import atomic_path
from engine.torch_device import autocast

Layout = Sequence[tuple[str, int, int]]  # (group name, first plane, plane count), engine._core.plane_layout
Kind = Literal["policy", "value"]
ILLEGAL_LOGIT = -1e9  # the logit of a masked move, as in selfplay.train_sl


@dataclass(frozen=True)
class GroupImportance:
    """One feature group under permutation.

    first, count: the group's planes are [first, first + count) of the input.
    scores: (repeats,) the metric (top-1 accuracy, or MSE) after each shuffle.
    mean, sd: of `scores` (sd with ddof 1; 0 for a single repeat).
    importance: how much worse than the baseline the mean is: baseline - mean for accuracy (a drop),
        mean - baseline for MSE (a rise); positive means the network relies on the group.
    constant: the group's planes were the same in every position, so shuffling them changed nothing.
    """

    name: str
    first: int
    count: int
    scores: tuple[float, ...]
    mean: float
    sd: float
    importance: float
    constant: bool


@dataclass(frozen=True)
class FeatureImportance:
    """Permutation importance of every group of one network's input.

    kind: "policy" (metric: top-1 accuracy on the played move) or "value" (metric: MSE against the
        outcome z, both from the mover's side).
    baseline: the metric on the unshuffled positions.
    positions: how many positions were scored; repeats: shuffles per group; seed: the permutations' seed.
    groups: one per layout entry, in plane order.
    """

    kind: Kind
    baseline: float
    positions: int
    repeats: int
    seed: int
    groups: tuple[GroupImportance, ...]

    @property
    def metric(self) -> str:
        return "accuracy" if self.kind == "policy" else "mse"

    @property
    def change(self) -> str:
        """The word for a group's importance: an accuracy drop or an MSE rise."""
        return "drop" if self.kind == "policy" else "rise"

    def ranked(self) -> tuple[GroupImportance, ...]:
        """The groups, most important first (ties in plane order)."""
        return tuple(sorted(self.groups, key=lambda g: (-g.importance, g.first)))

    def to_json(self) -> dict[str, Any]:
        m = self.metric
        return {
            "kind": self.kind,
            f"baseline_{m}": self.baseline,
            "positions": self.positions,
            "repeats": self.repeats,
            "seed": self.seed,
            "groups": [
                {
                    "group": g.name,
                    "first_plane": g.first,
                    "planes": g.count,
                    f"permuted_{m}_mean": g.mean,
                    f"permuted_{m}_sd": g.sd,
                    self.change: g.importance,
                    f"permuted_{m}": list(g.scores),
                    "constant": g.constant,
                }
                for g in self.groups
            ],
        }


# ---------------------------------------------------------------------------------------------
# Shuffling


def permuted_planes(
    planes: npt.NDArray[Any], *, first: int, count: int, order: npt.NDArray[np.int64]
) -> npt.NDArray[Any]:
    """A copy of `planes` (N, P, n, n) in which position i holds the planes [first, first + count) of
    position order[i] (`order` (N,) a permutation); every other plane is unchanged."""
    out = planes.copy()
    out[:, first : first + count] = planes[order, first : first + count]
    return out


def _check_layout(layout: Layout, planes: npt.NDArray[Any]) -> None:
    if planes.ndim != 4 or len(planes) == 0:
        raise ValueError(f"planes must be (N > 0, planes, n, n), got shape {planes.shape}")
    total = planes.shape[1]
    for name, first, count in layout:
        if count < 1 or first < 0 or first + count > total:
            raise ValueError(f"group {name} (planes {first}..{first + count - 1}) lies outside {total} planes")


# Per batch: (input planes on the device, the batch's slice of the positions) -> (B,) per-position scores.
Scorer = Callable[[Tensor, slice], Tensor]


def _mean_score(score: Scorer, planes: npt.NDArray[Any], *, batch_size: int, device: torch.device) -> float:
    """The mean per-position score over all positions, in batches of consecutive positions."""
    total = 0.0
    n = len(planes)
    with torch.inference_mode(), autocast(device):
        for s in range(0, n, batch_size):
            sl = slice(s, min(n, s + batch_size))
            x = torch.from_numpy(np.ascontiguousarray(planes[sl])).to(device)
            total += float(score(x, sl).sum())
    return total / n


def _importance(
    kind: Kind,
    score: Scorer,
    planes: npt.NDArray[Any],
    layout: Layout,
    *,
    repeats: int,
    seed: int,
    batch_size: int,
    device: torch.device,
    progress: bool,
) -> FeatureImportance:
    if repeats < 1 or batch_size < 1:
        raise ValueError("repeats and batch_size must be at least 1")
    _check_layout(layout, planes)
    baseline = _mean_score(score, planes, batch_size=batch_size, device=device)
    groups = []
    for index, (name, first, count) in enumerate(tqdm(layout, desc=f"{kind} groups", disable=not progress)):
        block = planes[:, first : first + count]
        constant = bool(np.all(block == block[:1]))
        scores = []
        for r in range(repeats):
            if constant:
                scores.append(baseline)
                continue
            # One generator per (seed, group, repeat): a group's shuffles do not depend on the others.
            order = np.random.default_rng([seed, index, r]).permutation(len(planes)).astype(np.int64)
            shuffled = permuted_planes(planes, first=first, count=count, order=order)
            scores.append(_mean_score(score, shuffled, batch_size=batch_size, device=device))
        mean = float(np.mean(scores))
        sd = float(np.std(scores, ddof=1)) if repeats > 1 else 0.0
        worse = baseline - mean if kind == "policy" else mean - baseline
        groups.append(GroupImportance(name, int(first), int(count), tuple(scores), mean, sd, worse, constant))
    return FeatureImportance(kind, baseline, len(planes), repeats, seed, tuple(groups))


def _device_of(net: nn.Module, device: torch.device | None) -> torch.device:
    if device is not None:
        return device
    first = next(net.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def policy_importance(
    net: nn.Module,
    planes: npt.NDArray[Any],
    moves: npt.NDArray[np.int64],
    layout: Layout,
    *,
    repeats: int,
    seed: int,
    masks: npt.NDArray[Any] | None = None,
    batch_size: int = 256,
    device: torch.device | None = None,
    progress: bool = False,
) -> FeatureImportance:
    """Top-1 accuracy drop of a policy net per feature group.

    net: returns an engine.nets.NetOutput whose `policy` is (B, n*n + 1) logits.
    planes: (N, P, n, n) uint8 or float32 input; moves: (N,) the moves played (dense, pass = n*n);
    masks: (N, n*n + 1) legal moves (nonzero = legal) or None; layout: the planes' groups
    (engine._core.plane_layout of the net's feature set).
    """
    dev = _device_of(net, device)
    targets = torch.from_numpy(np.asarray(moves, np.int64)).to(dev)
    mask_t = None if masks is None else torch.from_numpy(np.asarray(masks) != 0).to(dev)
    if len(targets) != len(planes) or (mask_t is not None and len(mask_t) != len(planes)):
        raise ValueError("planes, moves and masks must hold the same positions")
    was_training = net.training
    net.eval()

    def correct(x: Tensor, sl: slice) -> Tensor:
        logits = net(x).policy
        if logits is None:
            raise ValueError("policy_importance needs a net with a policy head")
        logits = logits.float()
        if mask_t is not None:
            logits = logits.masked_fill(~mask_t[sl], ILLEGAL_LOGIT)
        return (logits.argmax(1) == targets[sl]).float()

    try:
        return _importance("policy", correct, planes, layout, repeats=repeats, seed=seed, batch_size=batch_size,
                           device=dev, progress=progress)  # fmt: skip
    finally:
        net.train(was_training)


def value_importance(
    net: nn.Module,
    planes: npt.NDArray[Any],
    z: npt.NDArray[np.float32],
    layout: Layout,
    *,
    repeats: int,
    seed: int,
    batch_size: int = 256,
    device: torch.device | None = None,
    progress: bool = False,
) -> FeatureImportance:
    """MSE rise of a value net per feature group.

    net: returns an engine.nets.NetOutput whose `value` is (B,) in [-1, 1] for the player to move.
    planes: (N, P, n, n) uint8 or float32 input; z: (N,) the outcome from the mover's side;
    layout: the planes' groups (engine._core.plane_layout of the net's feature set).
    """
    dev = _device_of(net, device)
    target = torch.from_numpy(np.asarray(z, np.float32)).to(dev)
    if len(target) != len(planes):
        raise ValueError("planes and z must hold the same positions")
    was_training = net.training
    net.eval()

    def squared_error(x: Tensor, sl: slice) -> Tensor:
        value = net(x).value
        if value is None:
            raise ValueError("value_importance needs a net with a value head")
        return (value.float() - target[sl]) ** 2

    try:
        return _importance("value", squared_error, planes, layout, repeats=repeats, seed=seed,
                           batch_size=batch_size, device=dev, progress=progress)  # fmt: skip
    finally:
        net.train(was_training)


# ---------------------------------------------------------------------------------------------
# Presentation


def _scale(result: FeatureImportance) -> tuple[float, str]:
    """(factor, unit) the report shows importance in: accuracy in percentage points, MSE as is."""
    return (100.0, "percentage points") if result.kind == "policy" else (1.0, "MSE")


def planes_label(group: GroupImportance) -> str:
    """The group's planes as the report shows them: "12-19" or "44"."""
    last = group.first + group.count - 1
    return f"{group.first}" if group.count == 1 else f"{group.first}-{last}"


def markdown_table(result: FeatureImportance) -> str:
    """A Markdown table of the groups, most important first: group, planes, drop/rise +- sd."""
    factor, unit = _scale(result)
    head = f"accuracy drop ± sd ({unit})" if result.kind == "policy" else "MSE rise ± sd"
    digits = 2 if result.kind == "policy" else 4
    lines = [f"| group | planes | {head} |", "|---|---|---:|"]
    for g in result.ranked():
        value = f"{factor * g.importance:+.{digits}f} ± {factor * g.sd:.{digits}f}"
        if g.constant:
            value += " (constant plane)"
        lines.append(f"| {g.name} | {planes_label(g)} | {value} |")
    return "\n".join(lines) + "\n"


def write_importance_chart(result: FeatureImportance, path: str | Path, *, title: str) -> None:
    """Horizontal bars, one per group (most important at the top), with +-1 sd error bars, as a PNG."""
    from matplotlib.figure import Figure  # Agg through savefig: no pyplot, no global backend

    factor, unit = _scale(result)
    ranked = list(reversed(result.ranked()))  # barh draws bottom-up
    y = np.arange(len(ranked))
    fig = Figure(figsize=(7.5, 0.38 * len(ranked) + 1.9))
    ax = fig.add_subplot()
    ax.barh(y, [factor * g.importance for g in ranked], xerr=[factor * g.sd for g in ranked],
            color=["#bbbbbb" if g.constant else "#3b75af" for g in ranked], capsize=3)  # fmt: skip
    ax.set_yticks(y, [f"{g.name} ({planes_label(g)})" for g in ranked])
    ax.axvline(0, color="black", linewidth=0.5)
    what = f"top-1 accuracy drop ({unit})" if result.kind == "policy" else "MSE rise"
    ax.set_xlabel(f"{what} when the group is shuffled\nbars: ±1 sd over {result.repeats} shuffles; "
                  f"{result.positions} positions")  # fmt: skip
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
