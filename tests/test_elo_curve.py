"""Elo against training compute (engine/arena/curve.py): checkpoints with cumulative hours and
games from a run's state.json, ratings read back, the table and the PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.arena.curve import checkpoints, curve_png, curve_table, read_point
from engine.errors import ConfigError


def fake_run(root: Path, iterations: int, saved: list[int]) -> Path:
    stages: dict[str, dict] = {"init": {"weights": "weights/iter_0000.safetensors"}}
    for it in range(1, iterations + 1):
        stages[f"iter_{it:04d}/selfplay"] = {"games": 96, "new_games": 96, "seconds": 1800.0}
        stages[f"iter_{it:04d}/train"] = {"steps": 250, "seconds": 1800.0}
        stages[f"iter_{it:04d}/gate"] = {"promoted": True}
    # An iteration whose self-play finished but training did not: its weights do not exist yet.
    stages[f"iter_{iterations + 1:04d}/selfplay"] = {"new_games": 96, "seconds": 1800.0}
    (root / "weights").mkdir(parents=True)
    for it in saved:
        (root / "weights" / f"iter_{it:04d}.safetensors").write_bytes(b"x")
    (root / "state.json").write_text(json.dumps({"format": "tengen-run-1", "stages": stages}))
    return root


def test_checkpoints_sum_hours_and_games(tmp_path: Path) -> None:
    run = fake_run(tmp_path / "run", 4, [0, 1, 2, 3, 4])
    got = checkpoints(run, every=2, start_hours=1.5, start_games=100)
    assert [c.iteration for c in got] == [2, 4]
    assert [c.hours for c in got] == [1.5 + 2.0, 1.5 + 4.0]  # one hour an iteration
    assert [c.games for c in got] == [100 + 192, 100 + 384]
    with_start = checkpoints(run, every=3, include_start=True)
    assert [c.iteration for c in with_start] == [0, 3, 4]  # the last one always
    assert with_start[0].hours == 0.0 and with_start[0].games == 0


def test_unfinished_iteration_and_bad_state(tmp_path: Path) -> None:
    run = fake_run(tmp_path / "run", 2, [0, 1, 2, 3])  # iteration 3's training never finished
    assert [c.iteration for c in checkpoints(run)] == [1, 2]
    (run / "state.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not a tengen run"):
        checkpoints(run)
    with pytest.raises(ConfigError):
        checkpoints(tmp_path / "missing")


def test_points_table_and_png(tmp_path: Path) -> None:
    run = fake_run(tmp_path / "run", 2, [1, 2])
    c1, c2 = checkpoints(run)
    r1 = tmp_path / "r1.json"
    r1.write_text(json.dumps({"elo": 100.0, "low": 20.0, "high": 180.0, "games": 20}))
    r2 = tmp_path / "r2.json"
    r2.write_text(json.dumps({"elo": None, "low": None, "high": None, "games": 20}))  # all lost
    assert read_point(c1, tmp_path / "absent.json") is None
    p1, p2 = read_point(c1, r1), read_point(c2, r2)
    assert p1 is not None and p2 is not None
    assert (p1.elo, p1.low, p1.high, p1.games) == (100.0, 20.0, 180.0, 20)
    assert p2.elo is None
    table = curve_table([p1, p2], "t")
    assert "| 1 | 1.00 | 96 | 100 | [20, 180] | 20 |" in table
    assert "| 2 | 2.00 | 192 | n/a | [-inf, +inf] | 20 |" in table
    png = tmp_path / "c.png"
    curve_png([p1, p2], png, "t", {"gnugo-10": 431.0})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
