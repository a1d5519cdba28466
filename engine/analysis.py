"""Analysis lines for GUIs: Leela Zero's `lz-analyze` and KataGo's `kata-analyze` formats.

Both print, per update, one line of `info` entries (one per candidate move, best first):
  lz-analyze:   info move D4 visits 120 winrate 5312 prior 1203 lcb 5100 order 0 pv D4 Q16
                (winrate, prior, lcb as integers x 10000)
  kata-analyze: info move D4 visits 120 utility 0.06 winrate 0.53 prior 0.12 lcb 0.51 order 0 pv D4 Q16
                (floats in [0, 1]; scoreLead/scoreMean only when the player knows a score;
                 `ownership` with a size*size block appended when asked for)
Winrates are for the player to move.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.coords import format_vertex


@dataclass(frozen=True)
class Candidate:
    """One root move as a search saw it."""

    move: int
    visits: int
    winrate: float  # [0, 1] for the player to move
    prior: float  # [0, 1]
    pv: tuple[int, ...]
    score_lead: float | None = None


@dataclass(frozen=True, kw_only=True)
class PositionEstimate:
    """The net's view of one position, from black's side.

    ownership: (size*size,) in [-1, 1], +1 = black owns the point at the end, board order [y*size + x].
    score_lead: black's final lead in points, komi included.
    """

    ownership: npt.NDArray[np.float32]
    score_lead: float


def lcb(winrate: float, visits: int) -> float:
    """A lower confidence bound on the winrate (normal approximation, 95%)."""
    if visits <= 0:
        return 0.0
    return max(0.0, winrate - 1.96 * math.sqrt(max(winrate * (1 - winrate), 1e-4) / visits))


def _pv(c: Candidate, size: int) -> str:
    return " ".join(format_vertex(m, size) for m in (c.pv or (c.move,)))


def shown_candidates(candidates: Sequence[Candidate], max_moves: int = 0, min_moves: int = 0) -> list[Candidate]:
    """The candidates a report lists: those with visits (at least the first one), topped up with
    unvisited ones to min_moves, cut to max_moves (0: no limit)."""
    shown = [c for c in candidates if c.visits > 0] or list(candidates[:1])
    if len(shown) < min_moves:
        shown += [c for c in candidates if c.visits <= 0 and c not in shown][: min_moves - len(shown)]
    if max_moves > 0:
        shown = shown[:max_moves]
    return shown


def lz_line(candidates: Sequence[Candidate], size: int, max_moves: int = 0, min_moves: int = 0) -> str:
    """One lz-analyze report line."""
    entries = []
    shown = shown_candidates(candidates, max_moves, min_moves)
    for order, c in enumerate(shown):
        entries.append(
            f"info move {format_vertex(c.move, size)} visits {c.visits} winrate {round(c.winrate * 10000)} "
            f"prior {round(c.prior * 10000)} lcb {round(lcb(c.winrate, c.visits) * 10000)} order {order} "
            f"pv {_pv(c, size)}"
        )
    return " ".join(entries)


def kata_line(
    candidates: Sequence[Candidate],
    size: int,
    max_moves: int = 0,
    ownership: Sequence[float] | None = None,
    min_moves: int = 0,
) -> str:
    """One kata-analyze report line (with the ownership block when given)."""
    entries = []
    shown = shown_candidates(candidates, max_moves, min_moves)
    for order, c in enumerate(shown):
        utility = 2.0 * c.winrate - 1.0
        fields = [
            f"info move {format_vertex(c.move, size)}",
            f"visits {c.visits}",
            f"utility {utility:.6f}",
            f"winrate {c.winrate:.6f}",
        ]
        if c.score_lead is not None:
            fields += [f"scoreMean {c.score_lead:.3f}", f"scoreLead {c.score_lead:.3f}"]
        fields += [
            f"prior {c.prior:.6f}",
            f"lcb {lcb(c.winrate, c.visits):.6f}",
            f"utilityLcb {2.0 * lcb(c.winrate, c.visits) - 1.0:.6f}",
            f"order {order}",
            f"pv {_pv(c, size)}",
        ]
        entries.append(" ".join(fields))
    line = " ".join(entries)
    if ownership is not None:
        line += " ownership " + " ".join(f"{x:.4f}" for x in ownership)
    return line
