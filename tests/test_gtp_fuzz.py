"""GTP fuzzing: no input line can stop the engine or make it answer outside the protocol.

In process: 10,000+ random lines (random tokens, real command names with garbage arguments,
huge numbers, NaN, control characters, invalid UTF-8, 100 kB lines) each get exactly one
`=`/`?` answer, blank and comment lines none. Then a shorter run through a real subprocess.
Every file the commands name is relative to the test's temporary folder (its working directory).

Bad input by class: each command x each kind of bad argument (non-numeric, nan, inf, negative, huge,
missing, unknown vertex, illegal move, unreadable or unwritable files) gets a one-line `?` answer,
leaves the game as it was, and the engine goes on answering.
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
from engine.player import Player, PlayerConfig

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
          "canadian", "no-such-dir/none.sgf", "record.sgf", "\x00", "\x1b[2J", "\r", "\x7f", "é", "🙂", "٣", "\ufffd"]


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
    engine = GtpEngine(Player(PlayerConfig(visits=16, resign_below=0.0)), GtpConfig(size=9), out=io.StringIO())
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
    assert (engine.handle("genmove b") or "").startswith("= ")


def test_serve_answers_every_line_of_a_garbage_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rng = random.Random(11)
    raw_lines = [random_bytes_line(rng) for _ in range(1500)]
    raw_lines = [r for r in raw_lines if not r.lstrip().lower().startswith((b"quit", b"genmove", b"kgs-genmove"))]
    raw_lines.append(b"x" * (1 << 21))  # longer than the engine reads: one answer all the same
    raw_lines.append(b"77 name")
    expected = sum(1 for r in raw_lines if clean_line(r.decode("utf-8", errors="replace")))
    out = io.StringIO()
    engine = GtpEngine(Player(PlayerConfig(visits=16, resign_below=0.0)), GtpConfig(size=9))
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
        [sys.executable, "-m", "tengen_cli", "gtp", "--size", "9", "--visits", "16", "--no-records"],
        input=bytes(payload), capture_output=True, timeout=300, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.decode("utf-8", errors="replace")
    assert out.endswith("=999 tengen\n\n")
    assert all(a[:1] in ("=", "?") for a in out.split("\n\n")[:-1])
    assert "Traceback" not in proc.stderr.decode(errors="replace")


# ---------------------------------------------------------------------------------- bad input by class

BAD_LINES = {
    "non-numeric": ["boardsize nine", "komi seven", "fixed_handicap two", "place_free_handicap x",
                    "time_settings x 1 1", "time_left b x 1", "kgs-time_settings absolute x",
                    "kgs-time_settings canadian 1 x 1", "loadsgf game.sgf x", "lz-analyze b x",
                    "kata-analyze interval x", "kata-analyze maxmoves x"],
    "nan": ["boardsize nan", "komi nan", "komi NaN", "time_settings nan 0 0", "time_left b nan 0",
            "kgs-time_settings absolute nan", "kgs-time_settings byoyomi 1 nan 3"],
    "inf": ["komi inf", "komi -inf", "time_settings inf 0 0", "time_left w inf 0", "kgs-time_settings absolute inf"],
    "negative": ["boardsize -9", "fixed_handicap -2", "place_free_handicap -3", "time_settings -1 0 0",
                 "time_settings 1 -1 1", "time_left b 10 -1", "kata-analyze interval -5", "lz-analyze b 10 minmoves -1",
                 "loadsgf game.sgf -3", "lz-analyze b 10 avoid b A1 -1"],
    "huge": ["boardsize 1000000000000000000000000000", "komi 1e300", "fixed_handicap 100000000000000000000",
             "place_free_handicap 999999", "time_settings 1e300 0 0", "time_left b 10 99999999999",
             "loadsgf game.sgf 999999999999999999999999999999999", "kata-analyze interval " + "9" * 40],
    "missing": ["boardsize", "komi", "play", "play b", "genmove", "reg_genmove", "kgs-genmove_cleanup",
                "fixed_handicap", "place_free_handicap", "time_settings 1 1", "time_left b 1", "kgs-time_settings",
                "kgs-time_settings canadian 1 1", "loadsgf", "final_status_list", "known_command",
                "kata-analyze b interval", "lz-analyze avoid b A1", "lz-genmove_analyze", "kata-genmove_analyze"],
    "bad value": ["play purple A1", "genmove purple", "final_status_list zombie", "kata-analyze ownership maybe",
                  "kata-analyze frobnicate 3", "kgs-time_settings sundial 1", "time_settings 1 1 1 1"],
    "unknown vertex": ["play b Z99", "play b A0", "play w I5", "play b A10", "set_free_handicap A1 Z9",
                       "lz-analyze b 10 avoid b Z99 1", "kata-analyze allow w A1,Q99 2"],
    "illegal move": ["play b C3", "play w C3"],  # C3 is taken before each line (see the test)
}
BAD_FILES = ["loadsgf garbage.sgf", "loadsgf binary.sgf", "loadsgf folder", "loadsgf missing.sgf",
             "loadsgf empty.sgf", "printsgf garbage.sgf/out.sgf", "printsgf folder", "printsgf empty.sgf/x/y.sgf"]


def _bad_files(folder: Path) -> None:
    (folder / "garbage.sgf").write_bytes(b"(;GM[1]SZ[9];B[zz]\x00\x01 not an sgf ((((")
    (folder / "binary.sgf").write_bytes(b"\xff\xfe" + bytes(range(128, 256)) * 4)  # not UTF-8, not SGF
    (folder / "empty.sgf").write_bytes(b"")
    (folder / "folder").mkdir()


def _one_line_failure(answer: str | None, line: str) -> None:
    assert answer is not None, line
    assert answer.startswith("?") and answer.endswith("\n\n") and answer.count("\n") == 2, (line, answer)


@pytest.mark.parametrize(("kind", "line"), [(k, line) for k, lines in BAD_LINES.items() for line in lines]
                         + [("file", line) for line in BAD_FILES])
def test_bad_arguments_get_one_line_failure_and_service_goes_on(
    kind: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _bad_files(tmp_path)
    engine = GtpEngine(Player(PlayerConfig(visits=8, resign_below=0.0)), GtpConfig(size=9), out=io.StringIO())
    engine.handle("play b C3")
    before = (engine.size, engine.game.moves(), engine.game.board().tolist(), engine.game.komi)
    for ident in ("", "42 "):
        _one_line_failure(engine.handle(ident + line), line)
        assert (engine.size, engine.game.moves(), engine.game.board().tolist(), engine.game.komi) == before, line
    assert engine.handle("7 name") == "=7 tengen\n\n"
    assert engine.handle("play w D4") == "=\n\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.sgf", "empty.sgf", "folder", "garbage.sgf"]


def test_error_messages_with_newlines_stay_on_one_line() -> None:
    from engine.errors import ConfigError

    class Failing(Player):
        def genmove(self, *args: object, **kwargs: object) -> int:
            raise ConfigError("first line\n\nsecond line\r\nthird")

    class Crashing(Player):
        def genmove(self, *args: object, **kwargs: object) -> int:
            raise RuntimeError("broken\n\nbadly")

    failing = GtpEngine(Failing(PlayerConfig(visits=8)), GtpConfig(size=9), out=io.StringIO())
    assert failing.handle("3 genmove b") == "?3 first line second line third\n\n"
    crashing = GtpEngine(Crashing(PlayerConfig(visits=8)), GtpConfig(size=9), out=io.StringIO())
    assert crashing.handle("genmove w") == "? internal error: RuntimeError: broken badly\n\n"
    assert crashing.handle("name") == "= tengen\n\n"


VALID_ANALYSIS = [
    "", "b", "w", "B 10", "black 50", "white 1", "10", "0", "interval 20", "b interval 20",
    "b 10 minmoves 5", "b 10 maxmoves 2", "w 10 minmoves 3 maxmoves 4", "b 10 avoid b D4,E5,pass 1",
    "b 10 allow b D4,E5,F6 3", "b 10 avoid w D4 1 avoid b E5,C3 2 allow b D4,E5 1", "b 10 ownership true",
    "b 10 ownership false", "b 10 ownershipStdev true", "b 10 movesOwnership true", "b 10 movesOwnershipStdev false",
    "b 10 pvVisits true", "b 10 pvEdgeVisits true", "b 10 rootInfo true",
    "w 10 interval 30 ownership true ownershipStdev true pvVisits true rootInfo true minmoves 2 maxmoves 8",
    "B 10 INTERVAL 10 OWNERSHIP TRUE",
]


@pytest.mark.parametrize("family", ["lz", "kata"])
@pytest.mark.parametrize("arguments", VALID_ANALYSIS)
def test_every_analysis_syntax_is_accepted(family: str, arguments: str) -> None:
    out = io.StringIO()
    engine = GtpEngine(Player(PlayerConfig(visits=8)), GtpConfig(size=9), out=out)
    assert engine.handle(f"5 {family}-analyze {arguments}") is None
    engine.stop_analysis()
    text = out.getvalue()
    assert text.startswith("=5\n") and text.endswith("\n\n") and text.count("\n\n") == 1, text
    assert engine.handle("name") == "= tengen\n\n"


@pytest.mark.parametrize("family", ["lz", "kata"])
@pytest.mark.parametrize("arguments", [a for a in VALID_ANALYSIS if a][:6] + VALID_ANALYSIS[-2:])
def test_every_genmove_analyze_syntax_plays(family: str, arguments: str) -> None:
    out = io.StringIO()
    engine = GtpEngine(Player(PlayerConfig(visits=8)), GtpConfig(size=9), out=out)
    engine.handle("play w pass")  # black to move, whichever colour the line names
    assert engine.handle(f"6 {family}-genmove_analyze {arguments}") is None
    text = out.getvalue()
    assert text.startswith("=6\n") and text.endswith("\n\n") and text.count("\n\n") == 1, text
    assert text.strip().splitlines()[-1].startswith("play ")
    assert engine.game.move_number == 2


def test_analysis_reports_honour_maxmoves_minmoves_and_avoid() -> None:
    import time

    out = io.StringIO()
    engine = GtpEngine(Player(PlayerConfig()), GtpConfig(size=9), out=out)
    assert engine.handle("lz-analyze b 5 maxmoves 1 avoid b E5 1") is None
    time.sleep(0.5)
    engine.stop_analysis()
    lines = [line for line in out.getvalue().splitlines()[1:] if line]
    assert lines, out.getvalue()
    for line in lines:
        assert line.count("info move") == 1 and "info move E5 " not in line, line
