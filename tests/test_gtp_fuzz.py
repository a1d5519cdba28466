"""GTP fuzzing: no input line can stop the engine or make it answer outside the protocol."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from engine.gtp import GtpConfig, GtpEngine, clean_line
from engine.players import UctPlayer, UctSettings

COMMANDS = [
    "protocol_version", "name", "version", "known_command", "list_commands", "boardsize", "clear_board", "komi",
    "play", "genmove", "undo", "showboard", "final_score", "final_status_list", "fixed_handicap",
    "place_free_handicap", "set_free_handicap", "time_settings", "time_left", "kgs-time_settings",
    "kgs-genmove_cleanup", "loadsgf", "printsgf", "reg_genmove",
]
TOKENS = ["b", "w", "black", "white", "B", "pass", "PASS", "A1", "J9", "T19", "Z25", "I5", "a0", "0", "-1", "1",
          "2", "9", "19", "26", "99999999999999999999", "NaN", "nan", "inf", "-inf", "1e308", "0.5", "", "alive",
          "dead", "seki", "none", "absolute", "byoyomi", "canadian", "/nonexistent.sgf", "\x00", "\x1b[2J", "é", "🙂"]


def random_line(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.6:
        words = [rng.choice(COMMANDS)] + [rng.choice(TOKENS) for _ in range(rng.randrange(0, 4))]
        if rng.random() < 0.2:
            words.insert(0, str(rng.randrange(0, 10**6)))
        return " ".join(words)
    if kind < 0.8:
        return "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(0, 40)))
    if kind < 0.9:
        return " ".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 6)))
    return rng.choice(["# comment", "", "   \t ", "\t".join(COMMANDS[:3]), "play\tb\tA1", "10"])


def check_answer(line: str, answer: str | None) -> None:
    cleaned = clean_line(line)
    if not cleaned:
        assert answer is None, (line, answer)
        return
    assert answer is not None, line
    assert answer[0] in "=?", (line, answer)
    assert answer.endswith("\n\n") and "\n\n" not in answer[:-2], (line, answer)


def test_ten_thousand_random_lines_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # `printsgf <name>` writes files: keep them out of the tree
    rng = random.Random(2026)
    engine = GtpEngine(UctPlayer(UctSettings(resign_below=0.0)), GtpConfig(size=9, visits=16), out=io.StringIO())
    lines = [random_line(rng) for _ in range(10_000)]
    lines += ["x" * 100_000, "play b " + "A1 " * 30_000, "boardsize " + "9" * 5000]
    for line in lines:
        if line.split()[:1] == ["quit"]:
            continue
        answer = engine.handle(line)
        check_answer(line, answer)
        if engine.size > 9 and rng.random() < 0.5:
            engine.handle("boardsize 9")  # keep genmove quick
    assert engine.handle("name") == "= tengen\n\n"
    assert engine.handle("boardsize 9") == "=\n\n"
    assert engine.handle("genmove b").startswith("= ")


def test_subprocess_survives_garbage(tmp_path: Path) -> None:
    rng = random.Random(7)
    payload = bytearray()
    for _ in range(400):
        line = random_line(rng)
        if line.split()[:1] in (["quit"], ["loadsgf"]):
            continue
        payload += line.encode("utf-8", errors="replace") + b"\n"
    payload += bytes(range(256)) + b"\n" + b"\xff\xfe garbage \xc3\x28\n" + b"x" * 100_000 + b"\n"
    payload += b"999 name\n"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "gtp", "--size", "9", "--visits", "16", "--no-records"], env=env,
        input=bytes(payload), capture_output=True, timeout=300, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.decode("utf-8", errors="replace")
    assert out.endswith("=999 tengen\n\n")
    assert "Traceback" not in proc.stderr.decode(errors="replace")
