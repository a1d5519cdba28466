"""`tengen play` driven through stdin like a person at a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sgfmill import sgf

REPO = Path(__file__).resolve().parents[1]


def run_play(lines: list[str], *flags: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tengen_cli", "play", *flags],
        input=("\n".join(lines) + "\n").encode(), capture_output=True, timeout=120, cwd=REPO,
    )


def test_play_a_few_moves_with_bad_input_undo_and_quit() -> None:
    proc = run_play(["E5", "Z99", "hello", "E5", "undo", "undo", "C3", "quit"], "--size", "9", "--visits", "100",
                    "--no-records")
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "A B C D E F G H J" in out and " 9 . . " in out  # the board, GnuGo-style coordinates
    assert "? vertex 'Z99' is off the 9x9 board" in out
    assert "? invalid vertex 'hello'" in out
    assert "? illegal move (occupied)" in out  # E5 twice
    assert "? nothing to undo" in out  # the second undo: back at the start
    assert out.count("tengen plays") == 2  # after E5 and after C3
    assert "(X)" in out and "Game abandoned." in out
    assert "Traceback" not in proc.stderr.decode()


def test_play_as_white_then_resign_saves_the_record(tmp_path: Path) -> None:
    proc = run_play(["D4", "resign"], "--size", "7", "--color", "white", "--visits", "50", "--komi", "5.5",
                    "--sgf-dir", str(tmp_path))
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert out.index("tengen plays") < out.index("your move>")  # black (tengen) moves first
    assert "Result: B+R" in out
    (record,) = tmp_path.glob("*.sgf")
    game = sgf.Sgf_game.from_bytes(record.read_bytes())
    root = game.get_root()
    assert game.get_size() == 7 and game.get_komi() == 5.5
    assert root.get("RE") == "B+R" and root.get("PB") == "tengen" and root.get("PW") == "you"
    moves = [node.get_move() for node in game.get_main_sequence()[1:]]
    assert moves[1] == ("w", (3, 3)) and len(moves) >= 2  # D4 on 7x7 is row 3, column 3


def test_play_ends_at_end_of_input() -> None:
    proc = run_play(["C3"], "--size", "5", "--visits", "20", "--no-records")
    assert proc.returncode == 0 and "Game abandoned." in proc.stdout.decode()


def test_play_rejects_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:
    from tengen_cli.main import main

    for flags, word in ((["--size", "1"], "board size"), (["--size", "26"], "board size"),
                        (["--visits", "0"], "--visits"), (["--threads", "0"], "--threads"),
                        (["--seconds", "0"], "--seconds")):
        assert main(["play", *flags]) == 2, flags
        err = capsys.readouterr().err
        assert word in err and len(err.strip().splitlines()) == 1, (flags, err)
