"""Strength of tengen's built-in player against GnuGo 3.8 (level 10 by default) on 9x9.

tengen runs as `python -m tengen_cli gtp --visits N` (a fixed number of simulations per move),
GnuGo as `gnugo --mode gtp --chinese-rules --positional-superko --level L`; colours alternate
(tengen is black in even-numbered games), komi 7. The game is engine.gtp_game's loop: every
move is checked on a referee `engine._core.Game` before the opponent hears of it (an illegal
move loses the game). A game ends by resignation, two passes or the move limit; a counted
game's winner is the `final_score` of a GnuGo level-10 referee replaying the moves (its
dead-stone analysis is the best available referee here), and both engines' own `final_score`
answers are printed beside it, tengen's disagreements counted. One SGF per game goes to --out.

Prints each game, the win rate with a 95% Wilson interval, the win rate by colour and the mean
seconds per tengen move (wall time of its `genmove` answers). Asserts nothing.

Usage: python benchmarks/strength_vs_gnugo.py [--games 20] [--visits 20000] [--level 10]
       [--out strength_sgf] [--threads 1] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from engine import _core
from engine.arena.elo import wilson_interval
from engine.gtp_client import GtpClient, GtpError, gnugo_command
from engine.gtp_game import COUNTED, GtpGameOutcome, play_gtp_game
from engine.sgf import SgfRecord, parse_score, utc_date, write_sgf

NAME = {_core.BLACK: "black", _core.WHITE: "white"}
SIZE = 9
KOMI = 7.0
SCORE_PLAYOUTS = 400  # playouts of tengen's own count, kept beside GnuGo's


@dataclass
class GameRecord:
    tengen_colour: int
    outcome: GtpGameOutcome
    tengen_seconds: list[float] = field(default_factory=list)
    tengen_score: str | None = None  # the engines' own final_score answers, for a counted game
    gnugo_score: str | None = None

    @property
    def winner(self) -> int | None:
        return self.outcome.winner

    @property
    def result(self) -> str:
        return self.outcome.result

    @property
    def reason(self) -> str:
        return self.outcome.reason

    @property
    def moves(self) -> tuple[tuple[int, int], ...]:
        return self.outcome.moves


def play_game(tengen: GtpClient, gnugo: GtpClient, tengen_colour: int, move_limit: int, seed: int) -> GameRecord:
    """One game through engine.gtp_game; GnuGo (a separate referee at level 10) counts and decides."""
    seconds: list[float] = []

    def timed(colour: int, move: int, s: float) -> None:
        if colour == tengen_colour:
            seconds.append(s)

    black, white = (tengen, gnugo) if tengen_colour == _core.BLACK else (gnugo, tengen)
    names = ("tengen", "GnuGo") if tengen_colour == _core.BLACK else ("GnuGo", "tengen")
    outcome = play_gtp_game(black, white, size=SIZE, komi=KOMI, max_moves=move_limit, score_playouts=SCORE_PLAYOUTS,
                            seed=seed, names=names, move_timeout=600, gnugo_referee=True, score_by="gnugo",
                            on_move=timed)  # fmt: skip
    rec = GameRecord(tengen_colour, outcome, seconds)
    if outcome.reason in COUNTED:
        rec.gnugo_score = gnugo.send("final_score")
        try:
            rec.tengen_score = tengen.send("final_score")
        except GtpError as exc:
            rec.tengen_score = f"? {exc}"
    return rec


def write_record(path: Path, rec: GameRecord, tengen_name: str, gnugo_name: str) -> None:
    black, white = (tengen_name, gnugo_name) if rec.tengen_colour == _core.BLACK else (gnugo_name, tengen_name)
    write_sgf(path, SgfRecord(size=SIZE, komi=KOMI, moves=rec.outcome.moves, black=black, white=white,
                              result=rec.outcome.result, date=utc_date(), comment=rec.outcome.detail))


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
        tengen_argv = [sys.executable, "-m", "tengen_cli", "gtp", "--size", str(SIZE), "--komi", str(KOMI),
                       "--visits", str(args.visits), "--threads", str(args.threads), "--seed", str(seed),
                       "--no-records"]
        with GtpClient(tengen_argv, timeout=600) as tengen, \
                GtpClient([*gnugo_argv, "--seed", str(seed)], timeout=600) as gnugo:
            rec = play_game(tengen, gnugo, tengen_colour, args.move_limit, seed)
        records.append(rec)
        write_record(args.out / f"game{i:03d}.sgf", rec, tengen_name, gnugo_name)
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
    scored = [r for r in records if r.gnugo_score is not None]
    disagree = 0
    for r in scored:
        try:
            ours, theirs = parse_score(r.tengen_score or ""), parse_score(r.gnugo_score or "")
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
