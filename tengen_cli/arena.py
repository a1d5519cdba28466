"""`tengen match`, `tengen arena` and `tengen ablate`.

    tengen match --black gnugo:1 --white gnugo:0 --games 4 --size 9 --out runs/m1
    tengen match --config configs/arena/gnugo_ladder.yaml --players tengen-uct gnugo-1 --out runs/m2 \
        --sprt 0,50
    tengen arena --config configs/arena/gnugo_ladder.yaml --out runs/ladder
    tengen ablate --config configs/arena/ablation_alphago.yaml --out runs/ablation
    tengen arena --config configs/arena/gnugo_ladder.yaml --out runs/ladder --seconds 0.2 \
        --target-halfwidth 70 --games-max 400

Every command resumes: run it again with the same --out and only the missing games are played
(with an adaptive schedule, `--target-halfwidth`, the choice of the next games goes on from the
games recorded).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine import _core
from engine.arena.adaptive import Decision, standings
from engine.arena.config import TournamentConfig, config_from_dict, load_config, with_overrides
from engine.arena.elo import EloError, fit_elo
from engine.arena.engines import EngineSpec, parse_inline_engine
from engine.arena.match import GameResult
from engine.arena.report import write_report
from engine.arena.results import read_results
from engine.arena.sprt import SprtParams, SprtResult, sprt_stream
from engine.arena.tournament import RESULTS, TournamentRun, run_tournament
from engine.errors import UserError, one_line
from tengen_cli.checks import check_output_dir


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="folder for results, SGFs and the report")
    p.add_argument("--games", type=int, help="games per pair (colours alternate)")
    p.add_argument("--parallel", type=int, help="games at once (default: config, else one per core)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _schedule_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float,
                   help="equal time: seconds per move for every tengen player that searches (one thread)")
    p.add_argument("--target-halfwidth", type=float, metavar="ELO",
                   help="after the round robin, play more games where intervals are widest until every "
                   "player's 95%% interval is at most +-ELO")
    p.add_argument("--games-max", type=int, help="the most games in all under --target-halfwidth")


def register(subparsers: Any) -> None:
    m = subparsers.add_parser(
        "match", help="play games between two GTP players",
        description="Play N games between two players (colours alternate). Players are names from "
        "--config or inline specs: gnugo:LEVEL, tengen:key=value,..., gtp:COMMAND, or a YAML mapping.",
    )
    m.add_argument("--config", type=Path, help="tournament config for rules and named players")
    m.add_argument("--players", nargs=2, metavar=("A", "B"), help="two player names from --config")
    m.add_argument("--black", help="player taking black in the first game")
    m.add_argument("--white", help="player taking white in the first game")
    m.add_argument("--size", type=int, help="board size (default: config, else 9)")
    m.add_argument("--komi", type=float, help=f"komi (default: config, else {_core.DEFAULT_KOMI:g})")
    m.add_argument("--seed", type=int, help="tournament seed")
    m.add_argument("--move-timeout", type=float, help="seconds per move before losing on time")
    m.add_argument("--opening-moves", type=int,
                   help="random opening moves from each game's seed before the players take over "
                   "(default: config, else 0); varies the games of players that search deterministically")
    m.add_argument("--referee", choices=("auto", "gnugo", "none"), help="GnuGo score check")
    m.add_argument("--score-by", choices=("engine", "gnugo"), help="whose score decides a game ended by passes")
    m.add_argument("--sprt", metavar="ELO0,ELO1[,ALPHA,BETA]",
                   help="stop as soon as SPRT decides whether A (or black) is elo1 rather than elo0 stronger")
    _common(m)
    m.set_defaults(func=cmd_match)

    a = subparsers.add_parser(
        "arena", help="round-robin or gauntlet tournament with Elo report",
        description="Play a config's tournament (resuming into --out) and write report.md with charts.",
    )
    a.add_argument("--config", type=Path, help="tournament config (default: the one stored in --out)")
    _common(a)
    _schedule_flags(a)
    a.set_defaults(func=cmd_arena)

    b = subparsers.add_parser(
        "ablate", help="run an ablation suite and write the AlphaGo-style report",
        description="Run a suite whose config maps AlphaGo ablation rows to players, then write the report.",
    )
    b.add_argument("--config", type=Path, required=True, help="suite config, e.g. configs/arena/ablation_alphago.yaml")
    _common(b)
    _schedule_flags(b)
    b.set_defaults(func=cmd_ablate)


def _stored_config(out: Path) -> TournamentConfig:
    meta = out / "tournament.json"
    if not meta.is_file():
        raise UserError(f"no --config given and no tournament to resume in {out}")
    try:
        return config_from_dict(json.loads(meta.read_text())["config"], str(meta))
    except (ValueError, KeyError, TypeError) as exc:  # not JSON, not text, or not a tournament record
        raise UserError(f"{meta} is unreadable: {one_line(str(exc))}") from None


def _load(path: Path | None, out: Path) -> TournamentConfig:
    return load_config(path) if path is not None else _stored_config(out)


def _parse_sprt(text: str) -> dict[str, float]:
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in (2, 4):
        raise UserError(f"--sprt takes ELO0,ELO1 or ELO0,ELO1,ALPHA,BETA, got {text!r}")
    return dict(zip(("elo0", "elo1", "alpha", "beta"), values, strict=False))


def _match_config(args: argparse.Namespace) -> TournamentConfig:
    base = _load(args.config, args.out) if args.config or not (args.black or args.players) else None
    if args.players and (args.black or args.white):
        raise UserError("give either --players A B or --black and --white, not both")
    if args.players:
        if base is None:
            raise UserError("--players names players of a --config; without one use --black and --white")
        names = args.players
    elif args.black or args.white:
        if not (args.black and args.white):
            raise UserError("give both --black and --white")
        names = [args.black, args.white]
    elif args.config is None and base is not None:
        names = list(base.names)  # resuming a match from --out
    else:
        raise UserError("name the two players with --players A B or --black X --white Y")

    def resolve(text: str) -> EngineSpec:
        if base is not None and text in base.names:
            return base.player(text)
        return parse_inline_engine(text)

    a, b = (resolve(n) for n in names)
    if a.name == b.name:
        raise UserError(f"both players are named {a.name!r}; give one a name with {{name: ..., kind: ...}}")
    data: dict[str, Any] = base.to_dict() if base is not None else {"name": "match"}
    data["players"] = [a.to_dict(), b.to_dict()]
    for key in ("gauntlet", "ablation", "evidence", "target_halfwidth", "games_max"):  # a match is --games long
        data.pop(key, None)
    data["pairing"] = "round-robin"
    if base is not None and base.anchor.player not in (a.name, b.name):
        data.pop("anchor", None)
    if args.sprt:
        data["sprt"] = _parse_sprt(args.sprt)
    config = config_from_dict(data, str(args.config) if args.config else None)
    return with_overrides(config, size=args.size, komi=args.komi, seed=args.seed, games=args.games,
                          parallel=args.parallel, move_timeout=args.move_timeout, referee=args.referee,
                          score_by=args.score_by, opening_moves=args.opening_moves)


def _run(config: TournamentConfig, args: argparse.Namespace, keep_going: Any = None) -> TournamentRun:
    try:
        return run_tournament(config, args.out, progress=not args.no_progress, keep_going=keep_going)
    except KeyboardInterrupt:
        n = len(read_results(args.out / RESULTS))
        print(f"stopped: {n} finished games are in {args.out / RESULTS}; run the same command again to "
              "resume", file=sys.stderr)
        raise


def _sprt_of(finished: list[GameResult] | tuple[GameResult, ...], player: str, params: SprtParams) -> SprtResult:
    """The test over games in the order they finished, stopped at its first decision: games
    still in play when it decided finish and are recorded, but do not change the decision."""
    return sprt_stream([r.score_for(player) for r in finished], params)


def cmd_match(args: argparse.Namespace) -> int:
    check_output_dir(args.out, "--out")
    config = _match_config(args)
    a, b = config.names
    params = config.sprt

    def keep_going(finished: list[GameResult]) -> bool:
        return params is None or _sprt_of(finished, a, params).decision == "continue"

    run = _run(config, args, keep_going)
    scores = [r.score_for(a) for r in run.results]
    wins, draws, losses = scores.count(1.0), scores.count(0.5), scores.count(0.0)
    line = f"{a} vs {b}: {len(scores)} games, {a} +{wins} ={draws} -{losses}"
    if scores:
        line += f" ({sum(scores) / len(scores):.1%})"
        try:
            fit = fit_elo([(r.black, r.white, r.score_for(r.black)) for r in run.results], b, 0.0)
            d, lo, hi = fit.difference(a, b)
            line += f"; Elo difference {d:+.0f} [{lo:+.0f}, {hi:+.0f}] (95%, one virtual draw as prior)"
        except EloError as exc:
            line += f"; no Elo difference: {exc}"
    print(line)
    if params is not None:
        test = _sprt_of(run.finish_order, a, params)
        decided_after = test.wins + test.draws + test.losses
        extra = len(run.results) - decided_after
        note = ""
        if test.decision != "continue" and extra:
            note = f" ({extra} more game{'s were' if extra > 1 else ' was'} in play when it decided)"
        print(f"{test}{note}")
    report = write_report(config, run.results, args.out, run.players, run.scheduled)
    print(f"{run.played} games played now; results {args.out / RESULTS}, SGF {args.out / 'sgf'}, report {report}")
    return 0


def _tournament(config: TournamentConfig, args: argparse.Namespace) -> int:
    config = with_overrides(config, games=args.games, parallel=args.parallel, seconds=args.seconds,
                            target_halfwidth=args.target_halfwidth, games_max=args.games_max)
    run = _run(config, args)
    report = write_report(config, run.results, args.out, run.players, run.scheduled)
    if run.stopped is None:
        print(f"{len(run.results)} of {run.scheduled} games finished ({run.played} now); report {report}")
        return 0
    widest = Decision(standings=standings(config, run.results)).widest
    width = f"; widest 95% interval +-{widest.halfwidth:.0f} Elo ({widest.name})" if widest is not None else ""
    why = {"target": f"every interval within +-{config.target_halfwidth:g} Elo",
           "games-max": f"games_max {config.games_max} reached",
           "unfinished": "unfinished; run the same command again to continue"}[run.stopped]
    print(f"{len(run.results)} games finished ({run.played} now), {why}{width}; report {report}")
    return 0


def cmd_arena(args: argparse.Namespace) -> int:
    check_output_dir(args.out, "--out")
    return _tournament(_load(args.config, args.out), args)


def cmd_ablate(args: argparse.Namespace) -> int:
    check_output_dir(args.out, "--out")
    config = _load(args.config, args.out)
    if not config.ablation:
        raise UserError(f"{args.config} has no ablation section mapping AlphaGo rows to players")
    return _tournament(config, args)
