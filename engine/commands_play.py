"""`tengen gtp` (GTP engine on stdin/stdout) and `tengen play` (a game in the terminal)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine import _core
from engine.board_text import render
from engine.coords import format_vertex, parse_vertex
from engine.net_player import Budget
from engine.players import Player, UctPlayer, UctSettings
from engine.sgf_io import game_to_sgf, result_string, write_atomically


def default_sgf_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tengen" / "games"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from exc
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _size(text: str) -> int:
    value = _positive_int(text)
    if not _core.MIN_SIZE <= value <= _core.MAX_SIZE:
        raise argparse.ArgumentTypeError(f"board size must be in {_core.MIN_SIZE}..{_core.MAX_SIZE}")
    return value


def add_player_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--visits", type=_positive_int, help="simulations per move")
    p.add_argument("--seconds", type=_positive_float, help="seconds per move (without time settings)")
    p.add_argument("--threads", type=_positive_int, default=1, help="search threads (built-in player)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--resign", type=float, default=0.05, help="resign below this winrate (0: never)")
    p.add_argument("--weights", type=Path, help="policy (or policy+value) network, .safetensors")
    p.add_argument("--value-weights", type=Path, help="separate value network (AlphaGo style)")
    p.add_argument("--config", type=Path, help="search settings YAML (policy/value/rollouts/lambda/...)")
    p.add_argument("--device", help="torch device for networks (default: cuda if present, else cpu)")


def build_player(args: argparse.Namespace) -> Player:
    """The built-in UCT player, or a network/ablation player when weights or a config are given."""
    from engine.errors import UserError

    if args.weights is None and args.value_weights is None and args.config is None:
        try:
            return UctPlayer(UctSettings(threads=args.threads, seed=args.seed, resign_below=max(args.resign, 0.0)))
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    import yaml

    from engine.net_player import load_net_player
    from engine.search import ConfigError, SearchSettings

    data: dict = {}
    if args.config is not None:
        try:
            data = yaml.safe_load(args.config.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(f"cannot read search config {args.config}: {exc}") from exc
        if not isinstance(data, dict):
            raise UserError(f"{args.config} must hold a mapping of search settings")
        data = dict(data.get("search", data))
    data.setdefault("seed", args.seed)
    data.setdefault("rollout_threads", args.threads)
    try:
        settings = SearchSettings.from_mapping(data)
        player = load_net_player(args.weights, args.value_weights, settings, device=args.device)
    except (ConfigError, ValueError, OSError) as exc:
        raise UserError(str(exc)) from exc
    player.resign_below = max(args.resign, 0.0)
    return player


def cmd_gtp(args: argparse.Namespace) -> int:
    from engine.gtp import GtpConfig, GtpEngine

    player = build_player(args)
    if not player.supports_size(args.size):
        from engine.errors import UserError

        raise UserError(f"the network cannot play {args.size}x{args.size}; pass --size to match it")
    config = GtpConfig(
        size=args.size,
        komi=args.komi,
        visits=args.visits,
        seconds=args.seconds,
        sgf_dir=None if args.no_records else (args.sgf_dir or default_sgf_dir()),
        name=args.name,
    )
    engine = GtpEngine(player, config, out=sys.stdout)
    engine.serve(sys.stdin.buffer)
    player.close()
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    player = build_player(args)
    human = 1 if args.color.lower().startswith("b") else 2
    game = _core.Game(args.size, args.komi)
    budget = Budget(visits=args.visits, seconds=args.seconds if args.visits is None else None)
    if args.visits is None and args.seconds is None:
        budget = Budget(seconds=2.0)
    print(f"You play {'Black (X)' if human == 1 else 'White (O)'}. Moves like D4, 'pass', 'undo', 'resign', 'quit'.")
    last: int | None = None
    result = None
    while not game.is_over:
        print(render(game, last))
        if game.to_move == human:
            try:
                text = input("your move> ").strip()
            except EOFError:
                print()
                return 0
            low = text.lower()
            if low in ("quit", "exit"):
                return 0
            if low == "resign":
                result = "W+R" if human == 1 else "B+R"
                break
            if low == "undo":
                if game.move_number >= 2:
                    game.undo()
                    game.undo()
                    last = None
                else:
                    print("nothing to undo")
                continue
            try:
                move = parse_vertex(text, game.size)
            except ValueError as exc:
                print(f"? {exc}")
                continue
            why = game.illegal_reason(human, move)
            if why is not None:
                print(f"? illegal move ({why})")
                continue
            game.play(human, move)
            last = move
        else:
            out = player.search(game, budget)
            if out.move < 0:
                print("tengen resigns.")
                result = "B+R" if human == 1 else "W+R"
                break
            game.play(game.to_move, out.move)
            last = out.move
            print(f"tengen plays {format_vertex(out.move, game.size)} (winrate {out.winrate:.0%}, {out.visits} visits)")
    print(render(game, last))
    if result is None:
        result = result_string(game.final_score())
    print(f"Result: {result}")
    if not args.no_records:
        path = (args.sgf_dir or default_sgf_dir()) / f"play-{os.getpid()}.sgf"
        try:
            write_atomically(path, game_to_sgf(game, result=result))
            print(f"Record saved to {path}")
        except OSError as exc:
            print(f"could not save the record: {exc}")
    player.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    gtp = sub.add_parser("gtp", help="speak GTP v2 on stdin/stdout (for GUIs and bots)")
    gtp.add_argument("--size", type=_size, default=19, help="initial board size (GTP boardsize changes it)")
    gtp.add_argument("--komi", type=float, default=7.5)
    gtp.add_argument("--sgf-dir", type=Path, help="where game records go (default: ~/.local/share/tengen/games)")
    gtp.add_argument("--no-records", action="store_true", help="do not write SGF records")
    gtp.add_argument("--name", default="tengen")
    add_player_flags(gtp)
    gtp.set_defaults(func=cmd_gtp)

    play = sub.add_parser("play", help="play a game against tengen in the terminal")
    play.add_argument("--size", type=_size, default=9)
    play.add_argument("--komi", type=float, default=7.5)
    play.add_argument("--color", choices=["black", "white", "b", "w"], default="black")
    play.add_argument("--sgf-dir", type=Path)
    play.add_argument("--no-records", action="store_true")
    add_player_flags(play)
    play.set_defaults(func=cmd_play)
