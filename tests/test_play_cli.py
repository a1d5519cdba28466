"""`tengen play` driven through stdin like a person at a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_play_a_few_moves_with_a_bad_one(tmp_path: Path) -> None:
    moves = "\n".join(["E5", "Z99", "E5", "undo", "C3", "D7", "quit"]) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "play", "--size", "9", "--visits", "200", "--sgf-dir", str(tmp_path)],
        input=moves.encode(), capture_output=True, timeout=120,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "A B C D E F G H J" in out
    assert "off the 9x9 board" in out or "invalid vertex" in out  # Z99
    assert "illegal move (occupied)" in out  # E5 twice
    assert out.count("tengen plays") >= 3


def test_play_rejects_bad_flags() -> None:
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "play", "--size", "1"], capture_output=True,
                          timeout=60, input=b"")
    assert proc.returncode == 2 and b"board size" in proc.stderr and b"Traceback" not in proc.stderr
