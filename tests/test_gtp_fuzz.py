"""GTP fuzzing: no input line can stop the engine or make it answer outside the protocol.

In process: 10,000+ random lines (random tokens, real command names with garbage arguments,
huge numbers, NaN, control characters, invalid UTF-8, 100 kB lines) each get exactly one
`=`/`?` answer, blank and comment lines none. Then a shorter run through a real subprocess.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from engine.gtp import GtpConfig, GtpEngine, clean_line
from engine.player import PlayerConfig, UctPlayer

REPO = Path(__file__).resolve().parents[1]
COMMANDS = [
    "protocol_version", "name", "version", "known_command", "list_commands", "boardsize", "clear_board", "komi",
    "play", "genmove", "undo", "showboard", "final_score", "final_status_list", "fixed_handicap",
    "place_free_handicap", "set_free_handicap", "time_settings", "time_left", "kgs-time_settings",
    "kgs-genmove_cleanup", "loadsgf", "printsgf", "reg_genmove", "gogui-analyze_commands",
]
TOKENS = ["b", "w", "black", "white", "B", "pass", "PASS", "A1", "J9", "T19", "Z25", "I5", "a0", "0", "-1", "1",
          "2", "3", "5", "9", "19", "25", "26", "99999999999999999999", "1" * 400, "NaN", "nan", "inf", "-inf",
          "1e308", "-1e308", "0.5", "1e-320", "0x10", "", "alive", "dead", "seki", "none", "absolute", "byoyomi",
          "canadian", "/nonexistent.sgf", "record.sgf", "\x00", "\x1b[2J", "\r", "\x7f", "é", "🙂", "٣", "\ufffd"]


def random_bytes_line(rng: random.Random) -> bytes:
    """One input line as bytes (without its newline): mostly commands, some raw garbage."""
    kind = rng.random()
    if kind < 0.6:
        words = [rng.choice(COMMANDS)] + [rng.choice(TOKENS) for _ in range(rng.randrange(0, 4))]
        if rng.random() < 0.2:
            words.insert(0, str(rng.randrange(0, 10**6)))
        return " ".join(words).encode("utf-8")
    if kind < 0.75:
        text = "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(0, 40)))
        return text.replace("\n", "").encode("utf-8", "replace")
    if kind < 0.85:
        return bytes(rng.randrange(0, 256) for _ in range(rng.randrange(0, 40))).replace(b"\n", b"")
    if kind < 0.93:
        return " ".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 6))).encode("utf-8")
    return rng.choice([b"# comment", b"", b"   \t ", b"\t".join(c.encode() for c in COMMANDS[:3]),
                       b"play\tb\tA1", b"10", b"name # comment", b"\xc3\x28 name", b"\xff"])


def check_answer(line: str, answer: str | None) -> None:
    if not clean_line(line):
        assert answer is None, (line, answer)
        return
    assert answer is not None, line
    assert answer[0] in "=?", (line, answer)
    assert answer.endswith("\n\n") and "\n\n" not in answer[:-2], (line, answer)


def test_ten_thousand_random_lines_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # `printsgf <name>` writes files: keep them out of the tree
    rng = random.Random(2026)
    engine = GtpEngine(UctPlayer(PlayerConfig(visits=16, resign_below=0.0)), GtpConfig(size=9), out=io.StringIO())
    lines = [random_bytes_line(rng) for _ in range(10_000)]
    lines += [b"x" * 100_000, b"play b " + b"A1 " * 30_000, b"boardsize " + b"9" * 5000, b"\x00" * 100_000,
              b"komi " + b"9" * 100_000]
    answered = 0
    for raw in lines:
        line = raw.decode("utf-8", errors="replace")
        answer = engine.handle(line)
        check_answer(line, answer)
        answered += answer is not None
        engine.quit_requested = False  # `quit` lines are answered like any other here
        if engine.size > 9 and rng.random() < 0.5:
            engine.handle("boardsize 9")  # keep genmove quick
    assert answered > 8000
    assert engine.handle("name") == "= tengen\n\n"
    assert engine.handle("boardsize 9") == "=\n\n"
    assert engine.handle("genmove b").startswith("= ")


def test_serve_answers_every_line_of_a_garbage_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rng = random.Random(11)
    raw_lines = [random_bytes_line(rng) for _ in range(1500)]
    raw_lines = [r for r in raw_lines if not r.lstrip().lower().startswith((b"quit", b"genmove", b"kgs-genmove"))]
    raw_lines.append(b"x" * (1 << 21))  # longer than the engine reads: one answer all the same
    raw_lines.append(b"77 name")
    expected = sum(1 for r in raw_lines if clean_line(r.decode("utf-8", errors="replace")))
    out = io.StringIO()
    engine = GtpEngine(UctPlayer(PlayerConfig(visits=16, resign_below=0.0)), GtpConfig(size=9))
    engine.serve(io.BytesIO(b"\n".join(raw_lines) + b"\n"), out)
    answers = out.getvalue().split("\n\n")
    assert answers[-1] == ""
    answers = answers[:-1]
    assert len(answers) == expected
    assert all(a[:1] in ("=", "?") for a in answers)
    assert answers[-2] == "? line too long" and answers[-1] == "=77 tengen"


def test_subprocess_survives_garbage(tmp_path: Path) -> None:
    rng = random.Random(7)
    payload = bytearray()
    for _ in range(400):
        line = random_bytes_line(rng)
        if line.lstrip().lower().startswith(b"quit"):
            continue
        payload += line + b"\n"
    payload += bytes(range(256)) + b"\n" + b"\xff\xfe garbage \xc3\x28\n" + b"x" * 100_000 + b"\n"
    payload += b"999 name\n"
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "gtp", "--size", "9", "--visits", "16", "--no-records"],
        input=bytes(payload), capture_output=True, timeout=300, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.decode("utf-8", errors="replace")
    assert out.endswith("=999 tengen\n\n")
    assert all(a[:1] in ("=", "?") for a in out.split("\n\n")[:-1])
    assert "Traceback" not in proc.stderr.decode(errors="replace")
