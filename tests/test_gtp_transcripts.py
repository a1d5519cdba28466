"""Golden GTP transcripts: recorded sessions replayed against the engine, answer for answer.

Each tests/gtp_transcripts/*.txt holds one session in the style of KataGo's cpp/tests: lines starting
with `> ` are sent to the engine (`>` alone sends an empty line), and the lines after each are the
answer expected for it, exactly, blank line that ends a GTP answer included (input that gets no
answer is followed directly by the next `> `). Lines starting with `#` before the first `> ` are
comments. The engine is the built-in player with one thread, a fixed seed and a fixed visit count,
so every answer, genmove included, is deterministic.

To record a new transcript, write its `> ` lines and run `python tests/test_gtp_transcripts.py NAME.txt`,
which fills in the engine's answers; then check every answer by hand.
"""

from __future__ import annotations

import difflib
import io
import sys
from pathlib import Path

import pytest

from engine.gtp import GtpConfig, GtpEngine
from engine.player import Player, PlayerConfig

FOLDER = Path(__file__).resolve().parent / "gtp_transcripts"
TRANSCRIPTS = sorted(FOLDER.glob("*.txt"))


def parse_transcript(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(header comment lines, [(command, expected answer)]) of a transcript."""
    header: list[str] = []
    steps: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        if line == ">" or line.startswith("> "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
        elif line.startswith("#") or not line:
            header.append(line)
        else:
            raise ValueError(f"a line before the first command: {line!r}")
    # Every answer ends with one blank line and holds none inside, so its text is its lines up to the first blank.
    out = []
    for command, lines in steps:
        body = lines[: lines.index("")] if "" in lines else lines
        out.append((command, "\n".join(body) + "\n\n" if body else ""))
    return header, out


def replay(commands: list[str]) -> list[str]:
    """Each command's answer (or "" for none) from a fresh engine."""
    engine = GtpEngine(Player(PlayerConfig(visits=64, threads=1, seed=1, resign_below=0.0)), GtpConfig(size=19),
                       out=io.StringIO())
    return [engine.handle(command) or "" for command in commands]


def render_transcript(header: list[str], steps: list[tuple[str, str]]) -> str:
    """The transcript text of a header and (command, answer) steps."""
    lines = list(header)
    for command, answer in steps:
        lines.append(f"> {command}" if command else ">")
        if answer:
            lines.append(answer.rstrip("\n") + "\n")
    return "\n".join(lines).rstrip("\n") + "\n"


def test_transcripts_exist() -> None:
    assert len(TRANSCRIPTS) >= 5


def test_the_parser_reads_what_render_writes() -> None:
    steps = [("name", "= tengen\n\n"), ("", ""), ("# c", ""), ("7 bogus", "?7 unknown command\n\n")]
    text = render_transcript(["# a comment"], steps)
    assert parse_transcript(text) == (["# a comment"], steps)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript_replays_exactly(path: Path) -> None:
    header, steps = parse_transcript(path.read_text(encoding="utf-8"))
    answers = replay([command for command, _ in steps])
    got = list(zip([c for c, _ in steps], answers, strict=True))
    diff = "".join(difflib.unified_diff(render_transcript(header, steps).splitlines(True),
                                        render_transcript(header, got).splitlines(True), "expected", "got"))
    assert got == steps, f"{path.name} differs:\n{diff}"


def record(path: Path) -> None:
    """Rewrites a transcript with the engine's answers to its commands."""
    header, steps = parse_transcript(path.read_text(encoding="utf-8"))
    commands = [command for command, _ in steps]
    path.write_text(render_transcript(header, list(zip(commands, replay(commands), strict=True))), encoding="utf-8")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        record(FOLDER / Path(name).name)
