"""Ladder Elo against training hours for one training run: rates its checkpoints on the ladder
and writes a table and a PNG (issue: "Elo against compute").

    python scripts/elo_curve.py --run-dir runs/zero9 --out runs/curve_zero9 [--every 50] \
        [--games-max 20] [--start-hours H --start-games G] [--include-start] [--allow-uncalibrated]

Each checkpoint is rated like `tengen rate` would (same ladder, time per move and anchors) into
OUT/iter_NNNN/, so an interrupted curve resumes where it stopped; OUT/elo_curve.md, .json and .png
are rewritten after every checkpoint. For a warm-started run give the hours and games of the run
it started from (its provenance says them) with --start-hours/--start-games.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from engine.arena.curve import Checkpoint, CurvePoint, checkpoints, curve_png, curve_table, read_point
from engine.arena.engines import engine_from_dict
from engine.arena.ladder import Ladder, load_ladder
from engine.arena.rate import RATING, rate_player
from engine.atomic_io import atomic_write_text
from engine.errors import TengenError


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--run-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--every", type=int, default=50, help="rate every N-th iteration (and the last)")
    ap.add_argument(
        "--iterations", default=None, help="comma-separated iterations to rate instead of --every (e.g. 50,100)"
    )
    ap.add_argument(
        "--earlier",
        action="append",
        default=[],
        metavar="HOURS,GAMES,RATING_JSON",
        help="a rating made before (e.g. of the net this run started from) to put on the curve",
    )
    ap.add_argument("--games-max", type=int, default=20, help="ladder games per checkpoint")
    ap.add_argument("--config", default="configs/search/zero.yaml", help="the search settings of each player")
    ap.add_argument("--ladder", default="configs/ladder/9x9.yaml")
    ap.add_argument("--parallel", type=int, default=None)
    ap.add_argument("--start-hours", type=float, default=0.0, help="training hours before this run (warm start)")
    ap.add_argument("--start-games", type=int, default=0, help="self-play games before this run (warm start)")
    ap.add_argument("--include-start", action="store_true", help="also rate iteration 0 (the starting net)")
    ap.add_argument("--allow-uncalibrated", action="store_true")
    ap.add_argument("--title", default=None)
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    try:
        ladder = load_ladder(args.ladder)
        found = {"start_hours": args.start_hours, "start_games": args.start_games}
        if args.iterations is not None:
            try:
                wanted = {int(x) for x in args.iterations.split(",") if x.strip()}
            except ValueError:
                print(f"--iterations: write numbers separated by commas, not {args.iterations!r}", file=sys.stderr)
                return 2
            every_saved = checkpoints(args.run_dir, every=1, include_start=0 in wanted, **found)
            points_at = [c for c in every_saved if c.iteration in wanted]
            missing = wanted - {c.iteration for c in points_at}
            if missing:
                print(f"{args.run_dir}: no finished iteration {', '.join(map(str, sorted(missing)))}", file=sys.stderr)
                return 2
        else:
            points_at = checkpoints(args.run_dir, every=args.every, include_start=args.include_start, **found)
        if not points_at:
            print(f"{args.run_dir}: no finished iteration with saved weights", file=sys.stderr)
            return 2
        title = args.title or f"{args.run_dir.name}: ladder Elo at {ladder.seconds:g} s/move against training hours"
        args.out.mkdir(parents=True, exist_ok=True)
        points: list[CurvePoint] = []
        for text in args.earlier:
            hours, games, path = text.split(",", 2) if text.count(",") >= 2 else ("", "", "")
            try:
                earlier = Checkpoint(iteration=-1, hours=float(hours), games=int(games), weights=Path(path))
            except ValueError:
                print(f"--earlier: write HOURS,GAMES,RATING_JSON, not {text!r}", file=sys.stderr)
                return 2
            point = read_point(earlier, Path(path))
            if point is None:
                print(f"--earlier: {path} holds no rating", file=sys.stderr)
                return 2
            points.append(point)
        for c in points_at:
            out = args.out / f"iter_{c.iteration:04d}"
            spec = engine_from_dict({"name": f"{args.run_dir.name}-i{c.iteration}", "kind": "tengen",
                                     "args": {"weights": str(c.weights), "config": args.config}})  # fmt: skip
            run = rate_player(spec, ladder, out, games_max=args.games_max, parallel=args.parallel,
                              allow_uncalibrated=args.allow_uncalibrated, progress=not args.no_progress)  # fmt: skip
            print(f"{c.hours:.2f} h, {c.games} games: {run.line()}", flush=True)
            point = read_point(c, out / RATING)
            if point is not None:
                points.append(point)
            _write(args.out, points, title, ladder)
    except TengenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stopped; run the same command again to resume ({args.out})", file=sys.stderr)
        return 130
    return 0


def _write(out: Path, points: list[CurvePoint], title: str, ladder: Ladder) -> None:
    refs = {a.name: a.elo for a in ladder.anchors if a.name in ("gnugo-10", "uct-20000")}
    atomic_write_text(out / "elo_curve.md", curve_table(points, title))
    data = [{**asdict(p), "checkpoint": {**asdict(p.checkpoint), "weights": str(p.checkpoint.weights)}} for p in points]
    atomic_write_text(out / "elo_curve.json", json.dumps(data, indent=1) + "\n")
    curve_png(points, out / "elo_curve.png", title, refs)


if __name__ == "__main__":
    sys.exit(main())
