"""What the policy and value nets make of one position, drawn as two heat maps over the board (PNG).

`position_maps` runs the policy net on the position (move probabilities over the legal moves, as the
training loss masks them) and the value net on the position itself and on the position after each legal
move, in one batch; a child's value is from its own mover's side (the opponent), so it is negated to read
from the side of the player who chooses the move. `write_heatmap` draws the board's stones over each map,
with GTP coordinates on the axes (engine.coords). Positions come from anywhere a rules Game can be built:
held-out corpus positions (tengen explain) or an SGF record (engine.sgf.load_sgf).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from engine import _core
from engine.atomic_io import atomic_path
from engine.coords import COLUMNS, format_vertex
from engine.feature_importance import ILLEGAL_LOGIT
from engine.nets import GoNet
from engine.torch_device import autocast

BOARD_COLOUR = "#dcb35c"  # points without a value (occupied, illegal) show the board


@dataclass(frozen=True)
class PositionMaps:
    """A position and the two nets' view of it (n = size; moves dense x + y*n, pass = n*n).

    board: (n, n) uint8 point colours (0 empty, 1 black, 2 white), row 0 the top.
    to_move: the colour to play (1 black, 2 white); move_number: moves played so far.
    policy: (n*n + 1,) float32 the policy net's move probabilities over the legal moves (0 elsewhere).
    child_values: (n*n + 1,) float32 the value net's value of the position after each legal move, from
        `to_move`'s side, in [-1, 1]; NaN for illegal moves.
    value: the value net's value of the position itself, from `to_move`'s side.
    played: the move played next in the record, or None.
    """

    size: int
    to_move: int
    move_number: int
    board: npt.NDArray[np.uint8]
    policy: npt.NDArray[np.float32]
    child_values: npt.NDArray[np.float32]
    value: float
    played: int | None = None

    def best_move(self) -> int:
        """The policy net's most probable move."""
        return int(np.argmax(self.policy))


def _planes(games: list[_core.Game], feature_set: str) -> npt.NDArray[np.float32]:
    n = games[0].size
    out = np.zeros((len(games), _core.num_planes(feature_set), n, n), np.float32)
    for game, buffer in zip(games, out, strict=True):
        _core.write_features(game, buffer, feature_set)
    return out


def _net_device(net: GoNet) -> torch.device:
    return next(net.parameters()).device


def position_maps(
    game: _core.Game, *, policy_net: GoNet, value_net: GoNet, played: int | None = None
) -> PositionMaps:
    """The policy probabilities and the value of every legal move's resulting position for `game`.

    `policy_net` needs a policy head and `value_net` a value head (each reads its own feature set); each
    runs on the device of its parameters and is left in eval mode."""
    if not (policy_net.config.has_policy and value_net.config.has_value):
        raise ValueError("position_maps needs a net with a policy head and one with a value head")
    n = game.size
    me = game.to_move
    legal = np.array(game.legal_moves(me), np.int64)  # pass included
    children = []
    for move in legal:
        child = game.copy()
        child.play(me, int(move))
        children.append(child)
    with torch.inference_mode():
        device = _net_device(policy_net)
        x = torch.from_numpy(_planes([game], policy_net.config.feature_set)).to(device)
        with autocast(device):
            logits = policy_net.eval()(x).policy.float()[0]
        mask = torch.zeros(n * n + 1, dtype=torch.bool, device=device)
        mask[torch.from_numpy(legal).to(device)] = True
        policy = torch.softmax(logits.masked_fill(~mask, ILLEGAL_LOGIT), 0).cpu().numpy().astype(np.float32)
        policy[~mask.cpu().numpy()] = 0.0
        device = _net_device(value_net)
        # The position itself first, then its children, in one forward pass.
        y = torch.from_numpy(_planes([game, *children], value_net.config.feature_set)).to(device)
        with autocast(device):
            values = value_net.eval()(y).value.float().cpu().numpy()
    child_values = np.full(n * n + 1, np.nan, np.float32)
    child_values[legal] = -values[1:]  # a child's value is for the opponent, who moves there
    return PositionMaps(
        size=n, to_move=me, move_number=game.move_number, board=np.asarray(game.board(), np.uint8),
        policy=policy, child_values=child_values, value=float(values[0]), played=played,
    )  # fmt: skip


def _colour_name(colour: int) -> str:
    return "Black" if colour == _core.BLACK else "White"


def _draw_board(ax: Any, maps: PositionMaps, grid: npt.NDArray[np.float32], cmap: Any, vmin: float,
                vmax: float) -> Any:  # fmt: skip
    """One panel: `grid` (n, n) as colours (NaN shows the board), the stones, the played and best moves."""
    from matplotlib.patches import Circle

    n = maps.size
    cmap = cmap.with_extremes(bad=BOARD_COLOUR)
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=vmin, vmax=vmax, origin="upper")
    for y in range(n):
        for x in range(n):
            colour = int(maps.board[y, x])
            if colour != _core.EMPTY:
                face = "black" if colour == _core.BLACK else "white"
                ax.add_patch(Circle((x, y), 0.43, facecolor=face, edgecolor="black", linewidth=0.8))
    for move, marker, edge in ((maps.played, "s", "#00a000"), (maps.best_move(), "x", "#d00000")):
        if move is not None and move != n * n:
            ax.plot(move % n, move // n, marker=marker, markersize=14 if marker == "s" else 9,
                    markerfacecolor="none", markeredgecolor=edge, markeredgewidth=2, linestyle="none")  # fmt: skip
    ax.set_xticks(range(n), [COLUMNS[x] for x in range(n)])
    ax.set_yticks(range(n), [str(n - y) for y in range(n)])
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    return image


def write_heatmap(maps: PositionMaps, path: str | Path, *, title: str) -> None:
    """A PNG of two panels: the policy net's move probabilities and the value after each legal move (for
    the player to move), with the stones drawn and GTP coordinates on the axes; the played move is a
    green square, the policy's choice a red cross."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure  # Agg through savefig: no pyplot, no global backend

    n = maps.size
    pas = n * n
    side = _colour_name(maps.to_move)
    policy = maps.policy[:pas].reshape(n, n).copy()
    policy[maps.board != _core.EMPTY] = np.nan
    policy[(maps.policy[:pas] == 0).reshape(n, n)] = np.nan
    values = maps.child_values[:pas].reshape(n, n)
    fig = Figure(figsize=(11, 5.2))
    left, right = fig.subplots(1, 2)
    top = float(np.nanmax(policy)) if np.isfinite(policy).any() else 1.0
    image = _draw_board(left, maps, policy, colormaps["viridis"], 0.0, max(top, 1e-6))
    fig.colorbar(image, ax=left, fraction=0.046, label="probability")
    left.set_title(f"policy net: move probabilities (pass {100 * maps.policy[pas]:.1f}%)")
    image = _draw_board(right, maps, values, colormaps["RdBu"], -1.0, 1.0)
    fig.colorbar(image, ax=right, fraction=0.046, label=f"value for {side}")
    pass_value = maps.child_values[pas]
    after_pass = "illegal" if np.isnan(pass_value) else f"{pass_value:+.2f}"
    right.set_title(f"value net: {side}'s value after each move (pass {after_pass})")
    best = format_vertex(maps.best_move(), n)
    played = "" if maps.played is None else f", played {format_vertex(maps.played, n)}"
    fig.suptitle(f"{title}\n{side} to play after {maps.move_number} moves; value {maps.value:+.2f}; "
                 f"policy's move {best}{played}")  # fmt: skip
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
