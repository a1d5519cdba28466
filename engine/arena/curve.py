"""Ladder Elo against training compute: the checkpoints of a training run with the hours and
self-play games behind each, and the table and PNG of their ladder ratings (scripts/elo_curve.py
rates them; the ratings are engine.arena.rate's rating.json files).

Training hours are the sum of the run's recorded stage seconds (self-play, training, gating and
evaluation as state.json holds them) up to and including the checkpoint's iteration, so pauses
between resumed sessions do not count; a warm-started run adds the hours and games of the run it
started from (`start_hours`, `start_games`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ConfigError

_ITER = re.compile(r"^iter_(\d{4,})/")
_WEIGHTS = re.compile(r"^iter_(\d{4,})\.safetensors$")


@dataclass(frozen=True)
class Checkpoint:
    """One saved net of a run: its iteration, the compute behind it and its weights file."""

    iteration: int  # -1: a rating made before this run (scripts/elo_curve.py --earlier)
    hours: float  # training hours up to the end of this iteration (start_hours included)
    games: int  # self-play games played up to here (start_games included)
    weights: Path


@dataclass(frozen=True)
class CurvePoint:
    """A checkpoint with its ladder rating (None bounds: unbounded, every game won or lost)."""

    checkpoint: Checkpoint
    elo: float | None
    low: float | None
    high: float | None
    games: int  # ladder games behind the rating


def checkpoints(run_dir: Path, *, every: int = 1, start_hours: float = 0.0, start_games: int = 0,
                include_start: bool = False) -> list[Checkpoint]:  # fmt: skip
    """The run's weights/iter_NNNN files for every `every`-th finished iteration (the last one
    always), with cumulative hours and games from state.json; iteration 0 only with include_start."""
    state_path = run_dir / "state.json"
    try:
        state = json.loads(state_path.read_text())
        stages: dict[str, Any] = state["stages"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{state_path}: not a tengen run's state ({exc})") from exc
    if every < 1:
        raise ConfigError("every must be at least 1")
    seconds: dict[int, float] = {}
    games: dict[int, int] = {}
    for name, stage in stages.items():
        m = _ITER.match(name)
        if not m or not isinstance(stage, dict):
            continue
        it = int(m.group(1))
        seconds[it] = seconds.get(it, 0.0) + float(stage.get("seconds", 0.0) or 0.0)
        games[it] = games.get(it, 0) + int(stage.get("new_games", 0) or 0)
    saved = {}
    for path in (run_dir / "weights").glob("iter_*.safetensors"):
        m = _WEIGHTS.match(path.name)
        if m:
            saved[int(m.group(1))] = path
    finished = sorted(it for it in saved if it == 0 or f"iter_{it:04d}/train" in stages)
    if not finished:
        return []
    last = finished[-1]
    chosen = [it for it in finished if (it == 0 and include_start) or (it > 0 and (it % every == 0 or it == last))]
    out = []
    for it in chosen:
        hours = start_hours + sum(s for i, s in seconds.items() if i <= it) / 3600.0
        played = start_games + sum(g for i, g in games.items() if i <= it)
        out.append(Checkpoint(iteration=it, hours=hours, games=played, weights=saved[it]))
    return out


def read_point(checkpoint: Checkpoint, rating_path: Path) -> CurvePoint | None:
    """The checkpoint's rating from its rating.json, or None when there is none yet."""
    try:
        data = json.loads(rating_path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not data.get("games"):
        return None

    def num(key: str) -> float | None:
        v = data.get(key)
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None

    return CurvePoint(checkpoint, num("elo"), num("low"), num("high"), int(data["games"]))


def _fmt(x: float | None, unbounded: str) -> str:
    return unbounded if x is None else f"{x:.0f}"


def curve_table(points: Sequence[CurvePoint], title: str) -> str:
    """Markdown: one row per rated checkpoint."""
    header = "| iteration | training hours | self-play games | ladder Elo | 95% interval | ladder games |"
    lines = [f"### {title}", "", header, "|---|---|---|---|---|---|"]
    for p in points:
        c = p.checkpoint
        it = "earlier" if c.iteration < 0 else str(c.iteration)
        lines.append(f"| {it} | {c.hours:.2f} | {c.games:,} | {_fmt(p.elo, 'n/a')} | "
                     f"[{_fmt(p.low, '-inf')}, {_fmt(p.high, '+inf')}] | {p.games} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def curve_png(points: Sequence[CurvePoint], path: Path, title: str, references: dict[str, float]) -> None:
    """Elo against training hours with the intervals as error bars, and reference lines (anchors)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    rated = [(p, p.elo) for p in points if p.elo is not None]
    xs = [p.checkpoint.hours for p, _ in rated]
    ys = [elo for _, elo in rated]
    lo = [elo - p.low if p.low is not None else 0.0 for p, elo in rated]
    hi = [p.high - elo if p.high is not None else 0.0 for p, elo in rated]
    ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o-", capsize=3, label="ladder Elo (95% interval)")
    for name, elo in references.items():
        ax.axhline(elo, linestyle="--", linewidth=0.8, color="grey")
        ax.text(min(xs, default=0.0), elo, f" {name} {elo:.0f}", va="bottom", fontsize=8, color="grey")
    ax.set_xlabel("training hours (this machine)")
    ax.set_ylabel("Elo (GnuGo-10 = 431)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
