"""kill -9 at several moments of a `tengen train` run, then the same command: the run finishes
with every game, shard and checkpoint intact and no finished game lost or duplicated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.test_train_zero import ZERO_TINY, check_zero_run

ROOT = Path(__file__).resolve().parents[1]


def command(run: Path) -> list[str]:
    return [sys.executable, "-m", "tengen_cli", "train", "--config", str(ZERO_TINY), "--run-dir", str(run), "--quiet"]


def start(run: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command(run), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 240.0) -> bool:
    """SIGKILLs `proc` as soon as `ready()`; False when the run ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if ready():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    raise AssertionError("the run neither reached the kill point nor finished in time")


def stages(run: Path) -> set[str]:
    try:
        return set(json.loads((run / "state.json").read_text())["stages"])
    except (OSError, ValueError):
        return set()


def test_kill_nine_then_rerun_continues_without_loss(tmp_path: Path) -> None:
    run = tmp_path / "run"
    it1 = run / "games" / "iter_0001"
    kill_points: list[tuple[str, Callable[[], bool]]] = [
        # in the middle of the first self-play: a shard written, games pending
        ("first shard", lambda: any((it1 / "shards").glob("shard_*.npz"))),
        # while the learner trains iteration 1 (self-play recorded, training not)
        ("training", lambda: "iter_0001/selfplay" in stages(run) and "iter_0001/train" not in stages(run)),
        # during iteration 2's self-play, after some of its games are pending
        ("pending", lambda: any((run / "games" / "iter_0002" / "pending").glob("game_*.npz"))),
    ]
    killed = []
    for name, ready in kill_points:
        if kill_when(start(run), ready):
            killed.append(name)
    assert killed == [name for name, _ in kill_points], killed
    done = subprocess.run(command(run), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming" in done.stdout
    check_zero_run(run)
