"""Strength of tengen's built-in player against GnuGo 3.8 (level 10 by default) on 9x9.

tengen runs as `python -m engine.cli gtp --visits N` (a fixed number of simulations per move),
GnuGo as `gnugo --mode gtp --chinese-rules --positional-superko --level L`; colours alternate
(tengen is black in even-numbered games), komi 7. Every move is checked on a referee
`engine._core.Game` before the opponent hears of it (an illegal move loses the game). A game
ends by resignation or two passes; a scored game's winner is GnuGo's `final_score` (its
dead-stone analysis is the best available referee here) and tengen's own `final_score` is
printed beside it, disagreements counted. One SGF per game goes to --out.

Prints each game, the win rate with a 95% Wilson interval, the win rate by colour and the mean
seconds per tengen move (wall time of its `genmove` answers). Asserts nothing.

Usage: python benchmarks/strength_vs_gnugo.py [--games 20] [--visits 20000] [--level 10]
       [--out strength_sgf] [--threads 1] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sgfmill import sgf

from engine import _core
from engine.coords import format_vertex, parse_vertex
from engine.gtp_client import GtpClient, GtpError, gnugo_command

NAME = {_core.BLACK: "black", _core.WHITE: "white"}
SIZE = 9
KOMI = 7.0


def wilson_interval(wins: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion."""
    if n == 0:
        return 0.0, 1.0
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def score_value(text: str) -> float:
    """A GTP final_score answer ('B+3.5', 'W+0.5', '0') as black minus white."""
    text = text.strip()
    if text in ("0", "Draw"):
        return 0.0
    if text[:2] not in ("B+", "W+"):
        raise ValueError(f"unreadable score {text!r}")
    return (1.0 if text[0] == "B" else -1.0) * float(text[2:])


@dataclass
class GameRecord:
    tengen_colour: int
    winner: int | None  # colour, None for a draw
    result: str  # SGF RE
    reason: str  # resign / score / illegal / move limit
    moves: list[tuple[int, int]] = field(default_factory=list)
    tengen_seconds: list[float] = field(default_factory=list)
    tengen_score: str | None = None
    gnugo_score: str | None = None


def play_game(tengen: GtpClient, gnugo: GtpClient, tengen_colour: int, move_limit: int) -> GameRecord:
    for engine in (tengen, gnugo):
        for command in (f"boardsize {SIZE}", "clear_board", f"komi {KOMI}"):
            engine.send(command)
    referee = _core.Game(SIZE, KOMI)
    rec = GameRecord(tengen_colour, None, "", "")
    while not referee.is_over:
        colour = referee.to_move
        other = _core.WHITE if colour == _core.BLACK else _core.BLACK
        letter = "B" if other == _core.BLACK else "W"
        if len(rec.moves) >= move_limit:
            rec.reason = "move limit"
            break
        ours = colour == tengen_colour
        mover, listener = (tengen, gnugo) if ours else (gnugo, tengen)
        start = time.perf_counter()
        answer = mover.send(f"genmove {NAME[colour]}", timeout=600).strip().lower()
        if ours:
            rec.tengen_seconds.append(time.perf_counter() - start)
        if answer == "resign":
            rec.winner, rec.result, rec.reason = other, f"{letter}+R", "resign"
            return rec
        try:
            move = parse_vertex(answer, SIZE)
        except ValueError:
            move = -1
        if move < 0 or not referee.is_legal(colour, move):
            rec.winner, rec.result, rec.reason = other, f"{letter}+F", f"illegal {answer!r}"
            return rec
        referee.play(colour, move)
        rec.moves.append((colour, move))
        listener.send(f"play {NAME[colour]} {format_vertex(move, SIZE)}")
    rec.gnugo_score = gnugo.send("final_score")
    try:
        rec.tengen_score = tengen.send("final_score")
    except GtpError as exc:
        rec.tengen_score = f"? {exc}"
    score = score_value(rec.gnugo_score)
    rec.winner = None if score == 0 else (_core.BLACK if score > 0 else _core.WHITE)
    rec.result = "0" if score == 0 else f"{'B' if score > 0 else 'W'}+{abs(score):g}"
    rec.reason = rec.reason or "score"
    return rec


def write_sgf(path: Path, rec: GameRecord, tengen_name: str, gnugo_name: str) -> None:
    game = sgf.Sgf_game(size=SIZE)
    root = game.get_root()
    root.set("KM", KOMI)
    root.set("RU", "Chinese")
    root.set("PB", tengen_name if rec.tengen_colour == _core.BLACK else gnugo_name)
    root.set("PW", gnugo_name if rec.tengen_colour == _core.BLACK else tengen_name)
    root.set("RE", rec.result)
    root.set("DT", datetime.now(timezone.utc).strftime("%Y-%m-%d"))
    for colour, move in rec.moves:
        node = game.extend_main_sequence()
        point = None if move == SIZE * SIZE else (SIZE - 1 - move // SIZE, move % SIZE)
        node.set_move("b" if colour == _core.BLACK else "w", point)
    tmp = path.with_suffix(".sgf.tmp")
    tmp.write_bytes(game.serialise())
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=20)
    parser.add_argument("--visits", type=int, default=20000, help="tengen simulations per move")
    parser.add_argument("--threads", type=int, default=1, help="tengen search threads")
    parser.add_argument("--level", type=int, default=10, help="GnuGo level")
    parser.add_argument("--seed", type=int, default=1, help="game i uses seed + i for both engines")
    parser.add_argument("--out", type=Path, default=Path("strength_sgf"), help="folder for the SGF records")
    parser.add_argument("--move-limit", type=int, default=3 * SIZE * SIZE)
    args = parser.parse_args()
    try:
        gnugo_argv = gnugo_command(args.level, chinese_rules=True, extra=["--positional-superko"])
    except FileNotFoundError as exc:
        sys.exit(f"strength_vs_gnugo: {exc}")
    args.out.mkdir(parents=True, exist_ok=True)
    tengen_name = f"tengen visits={args.visits} threads={args.threads}"
    gnugo_name = f"GnuGo 3.8 level {args.level}"
    print(f"{tengen_name} vs {gnugo_name}, {SIZE}x{SIZE}, komi {KOMI}, {args.games} games, colours alternate; "
          f"started {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}",
          flush=True)
    records: list[GameRecord] = []
    for i in range(args.games):
        tengen_colour = _core.BLACK if i % 2 == 0 else _core.WHITE
        seed = args.seed + i
        tengen_argv = [sys.executable, "-m", "engine.cli", "gtp", "--size", str(SIZE), "--komi", str(KOMI),
                       "--visits", str(args.visits), "--threads", str(args.threads), "--seed", str(seed),
                       "--no-records"]
        with GtpClient(tengen_argv, timeout=600) as tengen, \
                GtpClient([*gnugo_argv, "--seed", str(seed)], timeout=600) as gnugo:
            rec = play_game(tengen, gnugo, tengen_colour, args.move_limit)
        records.append(rec)
        write_sgf(args.out / f"game{i:03d}.sgf", rec, tengen_name, gnugo_name)
        won = rec.winner == tengen_colour
        mean_s = sum(rec.tengen_seconds) / max(1, len(rec.tengen_seconds))
        print(f"game {i + 1:3d}: tengen {NAME[tengen_colour]:5s} {'won ' if won else 'lost'} {rec.result:7s} "
              f"by {rec.reason} after {len(rec.moves)} moves; tengen {mean_s:.2f} s/move"
              + (f"; final_score GnuGo {rec.gnugo_score}, tengen {rec.tengen_score}" if rec.gnugo_score else ""),
              flush=True)

    n = len(records)
    wins = sum(r.winner == r.tengen_colour for r in records) + 0.5 * sum(r.winner is None for r in records)
    low, high = wilson_interval(wins, n)
    seconds = [s for r in records for s in r.tengen_seconds]
    print(f"\ntengen won {wins:g} of {n} = {wins / n:.1%}, 95% Wilson interval [{low:.1%}, {high:.1%}]")
    for colour in (_core.BLACK, _core.WHITE):
        games = [r for r in records if r.tengen_colour == colour]
        w = sum(r.winner == colour for r in games)
        print(f"  as {NAME[colour]}: {w} of {len(games)}")
    scored = [r for r in records if r.reason == "score"]
    disagree = 0
    for r in scored:
        try:
            ours, theirs = score_value(r.tengen_score or ""), score_value(r.gnugo_score or "")
            disagree += (ours > 0) - (ours < 0) != (theirs > 0) - (theirs < 0)
        except ValueError:
            disagree += 1
    print(f"  ended: {sum(r.reason == 'resign' for r in records)} by resignation, {len(scored)} scored "
          f"(tengen's final_score names another winner in {disagree}), "
          f"{sum(r.reason.startswith('illegal') for r in records)} by an illegal move")
    print(f"  tengen: {len(seconds)} moves, mean {sum(seconds) / max(1, len(seconds)):.3f} s per move "
          f"(wall time of genmove), load average {os.getloadavg()[0]:.1f} at the end")
    print(f"  SGF records in {args.out}/")


if __name__ == "__main__":
    main()
