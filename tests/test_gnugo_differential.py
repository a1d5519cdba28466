"""Differential test of tengen's rules against GnuGo 3.8 (`gnugo --mode gtp --chinese-rules`).

Random played-out games (each move from `Game.random_move`: a random legal move that does not
fill the mover's own eye; two passes end the game): 200 on 9x9 and 20 on 19x19, seeds fixed,
plus 300 on 5x5, where ko fights and superko repetitions are far more frequent.
Before every move both engines are asked whether these moves are legal:
  for the side to move: the chosen move, the ko point, four random points (occupied ones
  included) and up to three suicide candidates (empty points with no empty neighbour);
  for the other side: the ko point and two random points.
Answers must agree, except where tengen's positional superko forbids a move that GnuGo's simple
ko allows: those are counted and reported, and each is checked against a Python twin (the move
really recreates an earlier whole-board position); conversely no move both call legal may
recreate one. Both engines then play the move. At the end tengen's area score must equal
GnuGo's `final_score`, and the stones and capture counts must match.

Speed: tengen plays each game out first, recording its answers; the whole game's GTP commands
then go to one GnuGo process per board size in chunks, and the answers are read back in bulk.
"""

from __future__ import annotations

import random
import subprocess
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pytest

from engine import _core
from engine.coords import format_vertex, parse_vertex
from engine.sgf import SgfRecord, parse_score, record_to_sgf

pytestmark = pytest.mark.gnugo

B, W = _core.BLACK, _core.WHITE
NAME = {B: "black", W: "white"}
KOMI = 7.5
CHUNK = 400  # GTP commands written before their answers are read


class PipelinedGnuGo:
    """One GnuGo process; `run` writes many commands and reads their answers in order."""

    def __init__(self, path: str) -> None:
        argv = [path, "--mode", "gtp", "--chinese-rules", "--level", "0"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self, commands: list[str]) -> list[tuple[bool, str]]:
        """(accepted, answer text) per command."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        answers: list[tuple[bool, str]] = []
        for start in range(0, len(commands), CHUNK):
            chunk = commands[start:start + CHUNK]
            self.proc.stdin.write("".join(c + "\n" for c in chunk))
            self.proc.stdin.flush()
            for command in chunk:
                lines: list[str] = []
                while True:
                    line = self.proc.stdout.readline()
                    if not line:
                        raise AssertionError(f"GnuGo exited while answering {command!r}")
                    if line.strip() == "":
                        if lines:
                            break
                        continue
                    lines.append(line.rstrip("\n"))
                text = "\n".join(lines)
                answers.append((text.startswith("="), text[1:].strip()))
        return answers

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.communicate("quit\n", timeout=30)


def sgf_text(size: int, moves: list[tuple[int, int]]) -> str:
    """The moves as SGF, for reproducing a failure in any editor."""
    return record_to_sgf(SgfRecord(size=size, komi=KOMI, moves=moves)).decode().replace("\n", "")


def suicide_candidates(board: np.ndarray) -> list[int]:
    """Empty points none of whose neighbours is empty (edges count as occupied)."""
    size = board.shape[0]
    empty = board == 0
    padded = np.zeros((size + 2, size + 2), dtype=bool)
    padded[1:-1, 1:-1] = empty
    any_empty_neighbour = padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
    ys, xs = np.nonzero(empty & ~any_empty_neighbour)
    return [int(x + y * size) for x, y in zip(xs, ys, strict=True)]


@dataclass
class Probe:
    colour: int
    point: int
    ours: bool
    reason: str | None
    move_index: int  # how many moves had been played


@dataclass
class Stats:
    games: int = 0
    moves: int = 0
    probes: int = 0
    superko: int = 0
    agreed: Counter[str] = field(default_factory=Counter)  # agreed answers by tengen's reason
    disagreements: list[str] = field(default_factory=list)


def play_out(size: int, seed: int, stats: Stats) -> tuple[_core.Game, list[tuple[int, int]], list[list[Probe]]]:
    """Plays one random game in tengen, recording the legality probes before each move; checks
    every superko answer against a Python twin of the position history."""
    rng = random.Random(seed)
    game = _core.Game(size, KOMI)
    free = _core.Game(size, KOMI, superko=False)  # the twin's board: same moves, no superko
    seen = {game.board().tobytes()}
    moves: list[tuple[int, int]] = []
    probes_per_move: list[list[Probe]] = []
    n = size * size
    while not game.is_over:
        colour = game.to_move
        other = W if colour == B else B
        move = game.random_move(colour, rng.randrange(1 << 30))
        candidates = suicide_candidates(game.board())
        wanted = [(colour, move), *((colour, rng.randrange(n)) for _ in range(4))]
        wanted += [(colour, p) for p in rng.sample(candidates, min(3, len(candidates)))]
        wanted += [(other, rng.randrange(n)) for _ in range(2)]
        if game.ko_move is not None:
            wanted += [(colour, game.ko_move), (other, game.ko_move)]
        probes: list[Probe] = []
        for c, p in dict.fromkeys(wanted):
            if p == game.pass_move:
                continue
            reason = game.illegal_reason(c, p)
            probe = Probe(c, p, reason is None, reason, len(moves))
            probes.append(probe)
            if reason is None or reason == "superko":
                trial = free.copy()
                try:
                    trial.play(c, p)
                except ValueError as exc:
                    stats.disagreements.append(
                        f"{size}x{size} seed {seed}: tengen calls {NAME[c]} {format_vertex(p, size)} "
                        f"{reason or 'legal'} but refuses to play it ({exc}); moves: {sgf_text(size, moves)}")
                    continue
                repeats = trial.board().tobytes() in seen
                if repeats != (reason == "superko"):
                    stats.disagreements.append(
                        f"{size}x{size} seed {seed}: {NAME[c]} {format_vertex(p, size)} "
                        f"{'repeats' if repeats else 'does not repeat'} an earlier position but tengen says "
                        f"{reason!r}; moves: {sgf_text(size, moves)}")
        probes_per_move.append(probes)
        game.play(colour, move)
        free.play(colour, move)
        seen.add(game.board().tobytes())
        moves.append((colour, move))
    return game, moves, probes_per_move


def compare_game(gnugo: PipelinedGnuGo, size: int, seed: int, stats: Stats) -> None:
    game, moves, probes_per_move = play_out(size, seed, stats)
    commands = ["boardsize " + str(size), "clear_board", f"komi {KOMI}"]
    for (colour, move), probes in zip(moves, probes_per_move, strict=True):
        commands += [f"is_legal {NAME[p.colour]} {format_vertex(p.point, size)}" for p in probes]
        commands.append(f"play {NAME[colour]} {format_vertex(move, size)}")
    commands += ["final_score", "captures black", "captures white", "list_stones black", "list_stones white"]
    answers = iter(gnugo.run(commands))
    for _ in range(3):
        ok, text = next(answers)
        assert ok, f"GnuGo refused the game setup: {text}"
    fails: list[str] = []
    for index, ((colour, move), probes) in enumerate(zip(moves, probes_per_move, strict=True)):
        for p in probes:
            ok, text = next(answers)
            assert ok, f"GnuGo refused is_legal: {text}"
            theirs = text == "1"
            stats.probes += 1
            if theirs == p.ours:
                stats.agreed[p.reason or "legal"] += 1
                continue
            if theirs and p.reason == "superko":
                stats.superko += 1
                continue
            fails.append(f"before move {index + 1}, {NAME[p.colour]} {format_vertex(p.point, size)}: "
                         f"tengen {'legal' if p.ours else 'illegal (' + str(p.reason) + ')'}, "
                         f"GnuGo {'legal' if theirs else 'illegal'}")
        ok, text = next(answers)
        if not ok:
            fails.append(f"GnuGo refused move {index + 1}, {NAME[colour]} {format_vertex(move, size)}: {text}")
            break
        stats.moves += 1
    else:
        score_ok, score_text = next(answers)
        ours = game.area_score()
        theirs_score = parse_score(score_text) if score_ok else None
        if theirs_score != ours:
            fails.append(f"final score: tengen {ours:+}, GnuGo {score_text!r}")
        for colour in (B, W):
            ok, text = next(answers)
            if not ok or int(text) != game.captures(colour):
                fails.append(f"{NAME[colour]} captures: tengen {game.captures(colour)}, GnuGo {text!r}")
        board = game.board()
        for colour in (B, W):
            ok, text = next(answers)
            theirs_stones = {parse_vertex(t, size) for t in text.split()}
            ys, xs = np.nonzero(board == colour)
            ours_stones = {int(x + y * size) for x, y in zip(xs, ys, strict=True)}
            if theirs_stones != ours_stones:
                fails.append(f"{NAME[colour]} stones differ at the end: "
                             f"{sorted(format_vertex(m, size) for m in theirs_stones ^ ours_stones)}")
    if fails:
        stats.disagreements.append(f"{size}x{size} seed {seed}:\n  " + "\n  ".join(fails[:10])
                                   + f"\n  moves: {sgf_text(size, moves)}")
    stats.games += 1


@pytest.mark.slow
@pytest.mark.parametrize(("size", "games"), [(9, 200), (19, 20), (5, 300)])
def test_random_played_out_games_agree_with_gnugo(gnugo: str, size: int, games: int) -> None:
    engine = PipelinedGnuGo(gnugo)
    stats = Stats()
    try:
        for i in range(games):
            compare_game(engine, size, 1000 * size + i, stats)
    finally:
        engine.close()
    print(f"{size}x{size}: {stats.games} games, {stats.moves} moves, {stats.probes} legality probes, "
          f"{stats.superko} superko-only differences (tengen forbids, GnuGo's simple ko allows); "
          f"agreed: {dict(stats.agreed)}")
    assert not stats.disagreements, f"{len(stats.disagreements)} games disagree:\n" + "\n".join(
        stats.disagreements[:5])
    assert stats.games == games
    assert stats.probes > stats.moves * 4  # several probes per move really were compared
    for reason in ("legal", "occupied", "suicide", "ko"):  # every kind of answer was exercised
        assert stats.agreed[reason] > 0, reason


def test_parse_score() -> None:
    assert parse_score("B+3.5") == 3.5
    assert parse_score("W+0.5") == -0.5
    assert parse_score("0") == 0.0
    with pytest.raises(ValueError):
        parse_score("?")
