"""Differential test of the rules against GnuGo 3.8 over GTP (`--chinese-rules`).

Random played-out games (each move from `Game.random_move`: a random legal move that does
not fill the mover's own eye, until two passes): 200 on 9x9 and 20 on 19x19. At every move
both engines are asked whether the chosen move, the ko point and a few random points
(occupied ones and suicides included) are legal; answers must agree, except where tengen's
positional superko forbids a move GnuGo's simple-ko rule allows (counted, not failed). At the
end tengen's Tromp-Taylor area score must equal GnuGo's `final_score`.
"""

from __future__ import annotations

import random
import subprocess

import pytest

from engine import _core
from engine.coords import format_vertex
from engine.gtp_client import gnugo_command

pytestmark = pytest.mark.gnugo


class PipelinedGnuGo:
    """GnuGo in GTP mode with batched commands: write many lines, then read their answers."""

    def __init__(self) -> None:
        try:
            argv = gnugo_command(level=0, chinese_rules=True)
        except FileNotFoundError as exc:
            pytest.fail(f"GnuGo is required for the rules differential test and was not found: {exc}")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, commands: list[str]) -> list[str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("".join(c + "\n" for c in commands))
        self.proc.stdin.flush()
        answers = []
        for command in commands:
            head = self.proc.stdout.readline()
            if not head:
                raise AssertionError(f"GnuGo stopped answering at {command!r}")
            body = [head.rstrip("\n")]
            while True:
                line = self.proc.stdout.readline()
                if line.strip() == "":
                    break
                body.append(line.rstrip("\n"))
            text = "\n".join(body)
            if not text.startswith("="):
                raise AssertionError(f"GnuGo refused {command!r}: {text}")
            answers.append(text[1:].strip())
        return answers

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.communicate("quit\n", timeout=10)


def parse_score(text: str) -> float:
    if text in ("0", "Draw", "draw"):
        return 0.0
    sign = 1.0 if text[0].upper() == "B" else -1.0
    return sign * float(text[2:])


def play_and_compare(gnugo: PipelinedGnuGo, size: int, seed: int, stats: dict[str, int]) -> None:
    rng = random.Random(seed)
    game = _core.Game(size, 7.5)
    gnugo.ask([f"boardsize {size}", "clear_board", "komi 7.5"])
    history: list[str] = []
    names = {1: "black", 2: "white"}
    while not game.is_over:
        color = game.to_move
        move = game.random_move(color, rng.randrange(1 << 30))
        probes = [move, *(rng.randrange(size * size) for _ in range(3))]
        if game.ko_move is not None:
            probes.append(game.ko_move)
        probes = [p for p in dict.fromkeys(probes) if p != game.pass_move]
        answers = gnugo.ask([f"is_legal {names[color]} {format_vertex(p, size)}" for p in probes])
        for p, answer in zip(probes, answers, strict=True):
            ours = game.is_legal(color, p)
            theirs = answer == "1"
            stats["probes"] += 1
            if ours == theirs:
                continue
            if not ours and theirs and game.illegal_reason(color, p) == "superko":
                stats["superko"] += 1
                continue
            raise AssertionError(
                f"{size}x{size} seed {seed}: legality of {names[color]} {format_vertex(p, size)} differs "
                f"(tengen {ours}, GnuGo {theirs}) after moves: {' '.join(history)}"
            )
        game.play(color, move)
        vertex = format_vertex(move, size)
        history.append(("B" if color == 1 else "W") + " " + vertex)
        gnugo.ask([f"play {names[color]} {vertex}"])
    theirs = parse_score(gnugo.ask(["final_score"])[0])
    ours = game.area_score()
    assert ours == theirs, (
        f"{size}x{size} seed {seed}: final score tengen {ours:+}, GnuGo {theirs:+}; moves: {' '.join(history)}"
    )
    stats["games"] += 1


@pytest.mark.parametrize("size, games", [(9, 200), (19, 20)])
def test_random_played_out_games_agree_with_gnugo(size: int, games: int) -> None:
    gnugo = PipelinedGnuGo()
    stats = {"games": 0, "probes": 0, "superko": 0}
    try:
        for seed in range(games):
            play_and_compare(gnugo, size, 1000 * size + seed, stats)
    finally:
        gnugo.close()
    print(f"{size}x{size}: {stats['games']} games, {stats['probes']} legality probes, "
          f"{stats['superko']} superko-only differences")
    assert stats["games"] == games
    assert stats["probes"] > games * 50
