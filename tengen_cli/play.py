"""`tengen gtp` (GTP engine on stdin/stdout) and `tengen play` (a game in the terminal).

Both build a `engine.player.Player` from the same flags: the built-in UCT-RAVE search by
default, or a network search when --weights / --value-weights / --config are given.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import sys
from pathlib import Path

from engine import _core
from engine.atomic_io import atomic_write_bytes
from engine.backends.base import SearchBackend
from engine.board_text import render
from engine.config import MAX_SEED
from engine.coords import format_vertex, parse_vertex
from engine.errors import UserError, core_errors
from engine.gtp_flags import add_gtp_flags, add_player_flags
from engine.player import MAX_SAFETY_MARGIN, RESIGN, Player, PlayerConfig
from engine.sgf import BY_RESIGNATION, game_to_sgf, result_string, win_string
from tengen_cli.checks import check_output_dir

PLAY_HELP = "Type a move like D4, or: pass, undo, resign, quit, help."
MAX_VISITS = 1_000_000_000  # the search counts visits in 32-bit integers
MAX_SECONDS = 86_400  # a day per move


def default_sgf_dir() -> Path:
    """Where game records go by default: $XDG_DATA_HOME/tengen/games or ~/.local/share/tengen/games."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tengen" / "games"


def check_board(size: int, komi: float) -> None:
    """Raises UserError for a board size or komi tengen cannot play."""
    if not _core.MIN_SIZE <= size <= _core.MAX_SIZE:
        raise UserError(f"board size must be in {_core.MIN_SIZE}..{_core.MAX_SIZE}, got {size}")
    if not (math.isfinite(komi) and abs(komi) <= 1000):
        raise UserError(f"komi must be a number between -1000 and 1000, got {komi}")


def player_config(args: argparse.Namespace) -> PlayerConfig:
    """PlayerConfig from the flags; raises UserError naming the bad flag."""
    if args.visits is not None and not 1 <= args.visits <= MAX_VISITS:
        raise UserError(f"--visits must be in 1..{MAX_VISITS}, got {args.visits}")
    if args.seconds is not None and not 0 < args.seconds <= MAX_SECONDS:
        raise UserError(f"--seconds must be a number of seconds in (0, {MAX_SECONDS}], got {args.seconds}")
    if not 0 <= args.seed <= MAX_SEED:
        raise UserError(f"--seed must be in 0..{MAX_SEED}, got {args.seed}")
    if not 1 <= args.threads <= 256:
        raise UserError(f"--threads must be in 1..256, got {args.threads}")
    if not 0 <= args.resign < 0.5:
        raise UserError(f"--resign must be a winrate in [0, 0.5), got {args.resign}")
    margin = {}
    if args.time_margin is not None:
        if not (math.isfinite(args.time_margin) and 0 <= args.time_margin < MAX_SAFETY_MARGIN):
            raise UserError(f"--time-margin must be a number of seconds in [0, {MAX_SAFETY_MARGIN:g}), "
                            f"got {args.time_margin}")  # fmt: skip
        margin["safety_margin"] = args.time_margin
    return PlayerConfig(visits=args.visits, seconds=args.seconds, threads=args.threads, seed=args.seed,
                        resign_below=args.resign, **margin)


def _network_backend(
    args: argparse.Namespace,
    weights: Path | None,
    value_weights: Path | None,
    rollout_weights: Path | None,
    config: Path | None,
) -> SearchBackend:
    from engine.backends.net import load_net_backend
    from engine.config import load_yaml
    from engine.search import SearchSettings
    from engine.torch_device import pick_device

    data: dict = {}
    if config is not None:
        raw = load_yaml(config)
        section = raw.get("search", raw)
        if not isinstance(section, dict):
            raise UserError(f"{config} must hold a mapping of search settings")
        data = dict(section)
    if not 1 <= args.torch_threads <= 256:
        raise UserError(f"--torch-threads must be in 1..256, got {args.torch_threads}")
    import torch

    torch.set_num_threads(args.torch_threads)
    if args.device is not None:
        pick_device(args.device)  # an unknown or absent device fails here, in one sentence
    if data.get("backend") == "uct_net":
        return _uct_net_backend(args, weights, value_weights, rollout_weights, data, config)
    if "backend" in data:
        raise UserError(f"{config}: backend must be uct_net (or absent: the batched PUCT/APV search), "
                        f"not {data['backend']!r}")  # fmt: skip
    data.setdefault("seed", args.seed)
    data.setdefault("rollout_threads", args.threads)
    settings = SearchSettings.from_mapping(data)
    return load_net_backend(weights, value_weights, settings, device=args.device, rollout_weights=rollout_weights)


UCT_NET_KEYS = ("backend", "prior_bonus")


def _uct_net_backend(
    args: argparse.Namespace,
    weights: Path | None,
    value_weights: Path | None,
    rollout_weights: Path | None,
    data: dict,
    config: Path | None,
) -> SearchBackend:
    """The UCT-RAVE search with the policy net's priors at the root (search config `backend: uct_net`)."""
    from engine.backends.uct import UctSearchBackend, UctSettings
    from engine.net_estimates import NetEstimator
    from engine.root_priors import NetRootPriors
    from engine.weights import load_net

    unknown = sorted(set(data) - set(UCT_NET_KEYS))
    if unknown:
        keys = ", ".join(UCT_NET_KEYS)
        raise UserError(f"{config}: a uct_net search takes only {keys}; unknown: {', '.join(unknown)}")
    if weights is None or value_weights is not None or rollout_weights is not None:
        raise UserError("a uct_net search needs --weights (a policy net) and no --value-weights or --rollout-weights")
    bonus = data.get("prior_bonus", 1.0)
    if isinstance(bonus, bool) or not isinstance(bonus, (int, float)):
        raise UserError(f"{config}: prior_bonus must be a number, not {bonus!r}")
    net = load_net(weights)
    if not net.config.has_policy:
        raise UserError(f"{weights}: a uct_net search needs a network with a policy head")
    settings = UctSettings(threads=args.threads, seed=args.seed, prior_bonus=float(bonus))
    estimator = NetEstimator(net) if net.config.aux_heads else None
    return UctSearchBackend(settings, root_priors=NetRootPriors(net), estimator=estimator)


def own_network(args: argparse.Namespace) -> bool:
    """Whether the flags name a network or search settings of their own."""
    return any(x is not None for x in (args.weights, args.value_weights, args.config, args.rollout_weights))


def builtin_backends(args: argparse.Namespace, *, every_net: bool) -> dict[int, SearchBackend]:
    """Board size -> a network backend for the built-in nets (engine.builtin_net) that are default
    players, or all of them with `every_net`; none with --no-net. The caller has checked that the
    flags name no network of their own."""
    from engine.builtin_net import builtin_nets

    if args.no_net:
        return {}
    chosen = {size: net for size, net in builtin_nets().items() if net.default_player or every_net}
    return {size: _network_backend(args, net.weights, None, None, net.settings) for size, net in chosen.items()}


def build_player(args: argparse.Namespace) -> Player:
    """A network/ablation search when weights or a config are given; else the built-in networks that
    are default players (all of them with --builtin-net) on the sizes they cover (engine.builtin_net)
    with the UCT-RAVE search on the others; the UCT-RAVE search alone with --no-net or when none is."""
    from engine.backends.by_size import SizeRoutedBackend
    from engine.backends.uct import UctSearchBackend

    config = player_config(args)
    if args.no_net and args.builtin_net:
        raise UserError("--no-net and --builtin-net contradict each other; give one")
    if own_network(args):
        if args.no_net or args.builtin_net:
            flag = "--no-net" if args.no_net else "--builtin-net"
            raise UserError(f"{flag} chooses the network itself; it cannot be combined with --weights, "
                            "--value-weights, --rollout-weights or --config")
        backend = _network_backend(args, args.weights, args.value_weights, args.rollout_weights, args.config)
        return Player(config, backend=backend)
    routes = builtin_backends(args, every_net=args.builtin_net)
    if args.builtin_net and not routes:
        raise UserError("--builtin-net: this installation ships no built-in network")
    if not routes:
        return Player(config)
    return Player(config, backend=SizeRoutedBackend(routes, UctSearchBackend(config.uct_settings())))


def checked_player(args: argparse.Namespace) -> Player:
    """The player of `tengen gtp` / `tengen play` once the board, the records folder and the size fit."""
    check_board(args.size, args.komi)
    if not args.no_records:
        check_output_dir(args.sgf_dir or default_sgf_dir(), "--sgf-dir")
    player = build_player(args)
    if not player.supports_size(args.size):
        raise UserError(f"the network cannot play {args.size}x{args.size}; pass --size to match it")
    return player


def cmd_gtp(args: argparse.Namespace) -> int:
    """`tengen gtp`: serve GTP on stdin/stdout until quit or end of input."""
    from engine.gtp import FdLineReader, GtpConfig, GtpEngine

    player = checked_player(args)
    config = GtpConfig(
        size=args.size,
        komi=args.komi,
        sgf_dir=None if args.no_records else (args.sgf_dir or default_sgf_dir()),
        name=args.name,
    )
    engine = GtpEngine(player, config, out=sys.stdout)
    try:
        engine.serve(FdLineReader(sys.stdin.fileno()))
    finally:
        player.close()
    return 0


# ---------------------------------------------------------------------------------- tengen play


def _undo_turn(game: _core.Game, human: int) -> bool:
    """Takes back moves up to and including the human's last one; False when there is none."""
    if not any(color == human for color, _ in game.moves()):
        return False
    while game.moves():
        color, _ = game.moves()[-1]
        game.undo()
        if color == human:
            break
    game.to_move = human
    return True


def _human_turn(game: _core.Game, human: int) -> str | None:
    """Reads input until the human plays, passes or undoes; returns 'quit' / 'resign' to stop."""
    while True:
        try:
            text = input("your move> ").strip()
        except EOFError:
            print()
            return "quit"
        low = text.lower()
        if low in ("quit", "exit", "q"):
            return "quit"
        if low == "resign":
            return "resign"
        if low in ("help", "?", ""):
            print(PLAY_HELP)
            continue
        if low == "undo":
            if not _undo_turn(game, human):
                print("? nothing to undo")
                continue
            return None
        try:
            move = parse_vertex(text, game.size)
        except ValueError as exc:
            print(f"? {exc}. {PLAY_HELP}")
            continue
        why = game.illegal_reason(human, move)
        if why is not None:
            print(f"? illegal move ({why})")
            continue
        game.play(human, move)
        return None


def _save_record(args: argparse.Namespace, game: _core.Game, human: int, result: str) -> None:
    if args.no_records or game.move_number == 0:
        return
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = (args.sgf_dir or default_sgf_dir()) / f"play-{stamp}-{os.getpid()}.sgf"
    names = ("you", "tengen") if human == 1 else ("tengen", "you")
    try:
        atomic_write_bytes(path, game_to_sgf(game, black=names[0], white=names[1], result=result))
        print(f"Record saved to {path}")
    except OSError as exc:
        print(f"could not save the record: {exc}")


def cmd_play(args: argparse.Namespace) -> int:
    """`tengen play`: a game against tengen in the terminal, moves typed at a prompt."""
    player = checked_player(args)
    human = 1 if args.color.lower().startswith("b") else 2
    engine_color = 3 - human
    with core_errors(f"a {args.size}x{args.size} board with komi {args.komi}"):
        game = _core.Game(args.size, args.komi)
    print(f"You play {'Black (X)' if human == 1 else 'White (O)'}. {PLAY_HELP}")
    result: str | None = None
    try:
        while not game.is_over:
            moves = game.moves()
            print(render(game, moves[-1][1] if moves else None))
            if game.to_move == human:
                stop = _human_turn(game, human)
                if stop == "quit":
                    print("Game abandoned.")
                    return 0
                if stop == "resign":
                    result = win_string(_core.WHITE if human == _core.BLACK else _core.BLACK, BY_RESIGNATION)
                    break
                continue
            move = player.genmove(game, engine_color)
            if move == RESIGN:
                print("tengen resigns.")
                result = win_string(_core.WHITE if engine_color == _core.BLACK else _core.BLACK, BY_RESIGNATION)
                break
            game.play(engine_color, move)
            last = player.last
            detail = f" (winrate {last.winrate:.0%}, {last.visits} visits)" if last is not None else ""
            print(f"tengen plays {format_vertex(move, game.size)}{detail}")
        moves = game.moves()
        print(render(game, moves[-1][1] if moves else None))
        if result is None:
            result = result_string(player.final_score(game))
        print(f"Result: {result}")
        _save_record(args, game, human, result)
    finally:
        player.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Adds the `gtp` and `play` subcommands."""
    gtp = sub.add_parser("gtp", help="speak GTP v2 on stdin/stdout (for GUIs and bots)")
    add_gtp_flags(gtp)
    gtp.set_defaults(func=cmd_gtp)

    play = sub.add_parser("play", help="play a game against tengen in the terminal")
    play.add_argument("--size", type=int, default=9)
    play.add_argument("--komi", type=float, default=_core.DEFAULT_KOMI)
    play.add_argument("--color", choices=["black", "white", "b", "w"], default="black", help="your colour")
    play.add_argument("--sgf-dir", type=Path, help="where the record goes (default: ~/.local/share/tengen/games)")
    play.add_argument("--no-records", action="store_true")
    add_player_flags(play)
    play.set_defaults(func=cmd_play)
