"""`tengen rate`: one player's Elo against the fixed anchors of a rating ladder, and the
anchors' own calibration.

    tengen rate tengen:visits=800 --out runs/rate-uct800
    tengen rate '{name: mynet, kind: tengen, args: {weights: w.safetensors}}' --out runs/rate-mynet
    tengen rate '{name: m02, kind: tengen, args: {time_margin: 0.2}}' --clock byoyomi --out runs/rate-m02
    tengen rate --calibrate --ladder configs/ladder/9x9.yaml --out runs/ladder-calibration

Both resume: run the same command again with the same --out.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.arena.engines import parse_inline_engine
from engine.arena.ladder import Ladder, load_ladder
from engine.arena.rate import RATING, calibrate_ladder, rate_player
from engine.arena.results import read_results
from engine.arena.tournament import RESULTS
from engine.errors import UserError
from tengen_cli.checks import check_output_dir, float_in, int_in

LADDER_IN_REPO = Path("configs") / "ladder" / "9x9.yaml"  # the default ladder, a file of the repository


def default_ladder() -> Path:
    """The repository's 9x9 ladder: beside the package (an editable install or a checkout), else
    under the current folder; UserError when neither has it (a non-editable install)."""
    for path in (Path(__file__).resolve().parents[1] / LADDER_IN_REPO, LADDER_IN_REPO):
        if path.is_file():
            return path
    raise UserError(f"no ladder given and the default {LADDER_IN_REPO} is not here (it comes with the repository, "
                    "not with an installed package): run from a checkout or pass --ladder FILE")  # fmt: skip


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "rate", help="rate one player against a ladder of fixed anchors",
        description="Rate PLAYER (gnugo:LEVEL, tengen:key=value,..., gtp:COMMAND or a YAML mapping) at the "
        "ladder's fixed time per move against its anchors (GnuGo levels, the built-in UCT player at fixed "
        "visits) on AlphaGo's Elo scale, stopping once the 95% interval is tight enough. With --calibrate, "
        "play the anchors against each other instead and write a ladder with their fitted Elos.",
    )  # fmt: skip
    p.add_argument("player", nargs="?", help="the player to rate (not with --calibrate)")
    p.add_argument("--ladder", type=Path, help=f"ladder file (default: the repository's {LADDER_IN_REPO})")
    p.add_argument("--out", type=Path, required=True, help="folder for results, SGFs and rating.json")
    p.add_argument("--games-max", type=int_in(1, 100_000),
                   help="most games (default: the ladder's); with --calibrate: games per pair of anchors")
    p.add_argument("--target-halfwidth", type=float_in(0, 10_000),
                   help="stop once the 95%% interval's half-width is at most this many Elo (default: ladder)")
    p.add_argument("--parallel", type=int_in(0, 1024), help="games at once (default: ladder, else one per core)")
    p.add_argument("--seconds", type=float_in(0, 3600), help="the player's time per move (default: ladder)")
    p.add_argument("--clock", choices=("fixed", "byoyomi"),
                   help="fixed: a tengen player gets --seconds per move; byoyomi: the player hears "
                   "`time_settings 0 SECONDS 1` and loses on time by overrunning a period (default: ladder)")
    p.add_argument("--allow-uncalibrated", action="store_true",
                   help="rate against anchors whose Elos are not calibrated yet")
    p.add_argument("--calibrate", action="store_true", help="calibrate the ladder's anchors instead")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_rate)


def _ladder(args: argparse.Namespace) -> Ladder:
    ladder = load_ladder(args.ladder if args.ladder is not None else default_ladder())
    if args.seconds is not None:
        if args.seconds >= ladder.rules.move_timeout:
            raise UserError(f"--seconds {args.seconds:g} must be shorter than the ladder's move_timeout "
                            f"({ladder.rules.move_timeout:g})")  # fmt: skip
        ladder = replace(ladder, seconds=args.seconds)
    if args.clock is not None:
        ladder = replace(ladder, clock=args.clock)
    return ladder


def cmd_rate(args: argparse.Namespace) -> int:
    check_output_dir(args.out, "--out")
    if args.calibrate:
        return _calibrate(args)
    if args.player is None:
        raise UserError("name the PLAYER to rate (or pass --calibrate to calibrate the ladder's anchors)")
    player = parse_inline_engine(args.player)
    ladder = _ladder(args)
    try:
        run = rate_player(player, ladder, args.out, games_max=args.games_max, target_halfwidth=args.target_halfwidth,
                          parallel=args.parallel, allow_uncalibrated=args.allow_uncalibrated,
                          progress=not args.no_progress)  # fmt: skip
    except KeyboardInterrupt:
        n = len(read_results(args.out / RESULTS))
        print(f"stopped: {n} finished games are in {args.out / RESULTS}; run the same command again to resume",
              file=sys.stderr)  # fmt: skip
        raise
    if run.uncalibrated:
        print(f"note: anchors {', '.join(run.uncalibrated)} have uncalibrated Elos, so this rating is provisional",
              file=sys.stderr)  # fmt: skip
    print(run.line())
    print(f"{run.played} games played now (stopped: {run.stopped}); rating {args.out / RATING}", file=sys.stderr)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    if args.player is not None:
        raise UserError("--calibrate plays the ladder's anchors against each other; give no PLAYER")
    ladder = _ladder(args)
    new, fit, run, path = calibrate_ladder(ladder, args.out, games_per_pair=args.games_max, parallel=args.parallel,
                                           progress=not args.no_progress)  # fmt: skip
    for a in new.anchors:
        r = fit.rating(a.name)
        was = ladder.anchor(a.name).elo
        if a.name == ladder.pinned:
            print(f"{a.name}: Elo {a.elo:.0f} (pinned)")
        else:
            print(f"{a.name}: Elo {r.elo:.0f} [{r.low:.0f}, {r.high:.0f}] (was {was:.0f})")
    print(f"{len(run.results)} games ({run.played} now); new ladder {path}")
    return 0
