"""`tengen analysis`: KataGo's JSON analysis engine on stdin/stdout (engine.analysis_engine).

Networks as `tengen gtp` finds them: --weights / --value-weights / --config give one network (for
its board size); otherwise the built-in network of each size that has one (engine.builtin_net).
Sizes without a network are searched with uniform priors and rollouts, unless --no-fallback makes
them an error. Thread rule: the command runs the scheduler on the main thread (see its module).
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from engine.config import MAX_SEED
from engine.errors import UserError
from tengen_cli.checks import int_in

PERSPECTIVES = ("BLACK", "WHITE", "SIDETOMOVE")


def git_hash() -> str:
    """The commit of the source tree this runs from, read from .git (no git command); else
    KataGo's `<omitted>`."""
    root = Path(__file__).resolve().parents[1] / ".git"
    try:
        head = (root / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            path = root / ref
            if path.is_file():
                return path.read_text().strip()
            for line in (root / "packed-refs").read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0]
            return "<omitted>"
        return head
    except OSError:
        return "<omitted>"


def version() -> str:
    try:
        return metadata.version("tengen")
    except metadata.PackageNotFoundError:
        return "unknown"


def _engines(args: argparse.Namespace) -> dict:
    """Board size -> SizeEngine for every network the flags (or the built-in nets) give."""
    from engine.analysis_engine import SizeEngine
    from engine.backends.net import NetSearchBackend
    from tengen_cli.play import _network_backend, builtin_backends, own_network

    if own_network(args):
        if args.no_net:
            raise UserError("--no-net analyses without a network; it cannot be combined with --weights, "
                            "--value-weights, --rollout-weights or --config")
        backends = [_network_backend(args, args.weights, args.value_weights, args.rollout_weights, args.config)]
    else:
        # Every built-in net, default player or not: analysis without one is a weaker fallback.
        backends = list(builtin_backends(args, every_net=True).values())
    out = {}
    for b in backends:
        assert isinstance(b, NetSearchBackend)
        if b.board_size is None:
            continue  # settings that need no network: the fallback covers every size
        out[b.board_size] = SizeEngine(settings=b.settings, evaluator=b.evaluator, rollout_policy=b.rollout_policy,
                                       estimator=b.estimator)
    return out


def cmd_analysis(args: argparse.Namespace) -> int:
    """Serves the JSON analysis protocol until end of input."""
    from engine.analysis_engine import AnalysisScheduler, fallback_engine
    from engine.gtp import FdLineReader

    engines = _engines(args)
    fallback = None if args.no_fallback else fallback_engine(args.seed, args.threads)
    if not engines and fallback is None:
        raise UserError("no network to analyse with: give --weights, or drop --no-fallback")
    scheduler = AnalysisScheduler(
        engines, sys.stdout, fallback=fallback, max_games=args.max_batch, default_visits=args.visits,
        perspective=args.report_as, pv_length=args.pv_length, finish_on_eof=not args.quit_without_waiting,
        version=(version(), git_hash()),
    )
    scheduler.serve(FdLineReader(sys.stdin.fileno()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Adds the `analysis` subcommand."""
    p = sub.add_parser("analysis", help="KataGo's JSON analysis engine on stdin/stdout (one JSON object a line)")
    p.add_argument("--weights", type=Path, help="policy (or policy+value) network, .safetensors")
    p.add_argument("--value-weights", type=Path, help="separate value network (AlphaGo style)")
    p.add_argument("--rollout-weights", type=Path, help="trained rollout policy (tengen train-rollout)")
    p.add_argument("--config", type=Path, help="search settings YAML (the `search:` section of tengen gtp --config)")
    p.add_argument("--device", help="torch device for networks (default: cuda if present, else cpu)")
    p.add_argument("--torch-threads", type=int, default=1, help="CPU threads torch may use (default 1)")
    p.add_argument("--threads", type=int_in(1, 256), default=1, help="rollout threads")
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=1)
    p.add_argument("--visits", type=int_in(1, 1_000_000_000),
                   help="visits per position when a query gives no maxVisits (default: the search settings')")
    p.add_argument("--max-batch", type=int_in(1, 1024), default=16,
                   help="positions searched at once per board size (game slots of one batched search)")
    p.add_argument("--report-as", type=str.upper, choices=PERSPECTIVES, default="BLACK",
                   help="whose side winrate, scoreLead and ownership are from (KataGo's reportAnalysisWinratesAs)")
    p.add_argument("--pv-length", type=int_in(1, 100), default=15, help="most moves of a principal variation")
    p.add_argument("--no-net", action="store_true", help="no network: every size by uniform priors and rollouts")
    p.add_argument("--no-fallback", action="store_true",
                   help="answer an error for sizes no network covers (default: uniform priors and rollouts)")
    p.add_argument("--quit-without-waiting", action="store_true",
                   help="at end of input drop the queued positions instead of finishing them")
    p.set_defaults(func=cmd_analysis)
