"""The flags of `tengen gtp` and `tengen play`, defined once.

The command line (tengen_cli/play.py) adds them to its subcommands; the arena (engine/arena/engines.py)
reads `gtp_option_strings()` to check a tengen player's flags before starting it, without importing the CLI.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine import _core


def add_player_flags(p: argparse.ArgumentParser) -> list[argparse.Action]:
    """The flags that choose and bound the player (shared by gtp and play)."""
    return [
        p.add_argument("--visits", type=int, help="simulations per move (without a game clock: the default bound)"),
        p.add_argument("--seconds", type=float,
                       help="seconds per move (under a game clock: the most a move takes)"),
        p.add_argument("--time-margin", type=float,
                       help="under a game clock: seconds of each move's time never planned, kept for "
                       "transport and overhead (default 0.5)"),
        p.add_argument("--threads", type=int, default=1, help="search threads (built-in player, rollouts)"),
        p.add_argument("--seed", type=int, default=1),
        p.add_argument("--resign", type=float, default=0.05, help="resign below this winrate (0: never)"),
        p.add_argument("--weights", type=Path, help="policy (or policy+value) network, .safetensors"),
        p.add_argument("--value-weights", type=Path, help="separate value network (AlphaGo style)"),
        p.add_argument(
            "--rollout-weights", type=Path,
            help="trained rollout policy (tengen train-rollout): plays rollouts; priors of policy 'rollout'",
        ),
        p.add_argument("--config", type=Path, help="search settings YAML (policy/value/rollouts/lambda/...)"),
        p.add_argument("--device", help="torch device for networks (default: cuda if present, else cpu)"),
        p.add_argument("--torch-threads", type=int, default=1,
                       help="CPU threads torch may use for the network (default 1: the search has its own)"),
        p.add_argument("--no-net", action="store_true",
                       help="play the network-free UCT-RAVE search even where a built-in network covers the board"),
        p.add_argument("--builtin-net", action="store_true",
                       help="play with the built-in network of the board's size even where it is not the "
                       "default player (engine/builtin_nets/NxN.yaml: default_player)"),
    ]


def add_gtp_flags(p: argparse.ArgumentParser) -> list[argparse.Action]:
    """All flags of `tengen gtp`: the board, the records, the engine's name and the player flags."""
    return [
        p.add_argument("--size", type=int, default=19, help="initial board size (GTP boardsize changes it)"),
        p.add_argument("--komi", type=float, default=_core.DEFAULT_KOMI),
        p.add_argument("--sgf-dir", type=Path, help="where game records go (default: ~/.local/share/tengen/games)"),
        p.add_argument("--no-records", action="store_true", help="do not write SGF records"),
        p.add_argument("--name", default="tengen"),
        *add_player_flags(p),
    ]


def gtp_option_strings() -> frozenset[str]:
    """Every option string `tengen gtp` accepts (--size, --visits, ...), plus -h/--help."""
    parser = argparse.ArgumentParser(add_help=True)
    options = {s for action in add_gtp_flags(parser) for s in action.option_strings}
    return frozenset(options | {"-h", "--help"})
