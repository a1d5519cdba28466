"""CLI subcommands for networks and supervised learning:

tengen corpus     GnuGo (or any GTP engine) plays itself from varied openings -> SGF files
tengen convert    SGF folder -> sharded, compressed training files
tengen train-sl   supervised training of a policy, value or policy+value net from shards
tengen accuracy   top-1 accuracy (policy) / MSE (value) of a weights file on an SGF folder
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from engine import _core
from engine.config import MAX_BATCH, MAX_SEED, MAX_THREADS
from engine.errors import UserError
from tengen_cli.checks import check_output_dir, float_in, int_in

MAX_BLOCKS = 100  # residual blocks of a network trained here
MAX_CHANNELS = 4096
MAX_EPOCHS = 1_000_000
MAX_LR = 1000.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("corpus", help="generate expert games: a GTP engine (GnuGo) against itself -> SGF")
    p.add_argument("--out", required=True, type=Path, help="folder for the SGF files")
    p.add_argument("--games", type=int, default=100)
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--komi", type=float, default=7.0)
    p.add_argument("--level", type=int, default=10, help="GnuGo level (default 10)")
    p.add_argument("--engine", default="", help="another GTP engine's command line instead of GnuGo")
    p.add_argument("--workers", type=int_in(1, MAX_THREADS), default=1, help="parallel engine processes")
    p.add_argument("--opening-moves", default="2-6", help="random opening moves per game, MIN-MAX")
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=0)
    p.set_defaults(func=cmd_corpus)

    p = sub.add_parser("convert", help="convert a folder of SGF files into training shards")
    p.add_argument("src", type=Path, help="SGF file or folder (searched recursively)")
    p.add_argument("out", type=Path, help="output folder for shards")
    p.add_argument("--games-per-shard", type=int_in(1, 10**9), default=2000)
    p.add_argument("--size", type=int, default=0, help="keep only this board size (default: all)")
    p.add_argument("--min-moves", type=int_in(0, 10**9), default=1)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("train-sl", help="supervised training from shards (policy, value or policy+value)")
    p.add_argument("--config", type=Path, default=None, help="YAML with net: and train: sections")
    p.add_argument("--data", nargs="+", default=None, help="shard folders or files")
    p.add_argument("--out", default=None, help="run folder: checkpoint, weights, TensorBoard logs")
    p.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.safetensors")
    p.add_argument("--architecture", choices=("policy", "value", "policy_value"), default=None)
    p.add_argument("--feature-set", default=None, help="alphago, alphago_value or raw")
    p.add_argument("--board-size", type=int, default=None)
    p.add_argument("--blocks", type=int_in(0, MAX_BLOCKS), default=None)
    p.add_argument("--channels", type=int_in(1, MAX_CHANNELS), default=None)
    p.add_argument("--epochs", type=int_in(1, MAX_EPOCHS), default=None)
    p.add_argument("--steps", type=int_in(0, 10**12), default=None, help="stop after this many steps")
    p.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=None)
    p.add_argument("--lr", type=float_in(0.0, MAX_LR), default=None)
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda")
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=None)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="any other config field, e.g. --set train.optimizer=adamw",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train_sl)

    p = sub.add_parser("train-rollout", help="train the rollout policy (local patterns, linear softmax)")
    p.add_argument("--data", nargs="+", required=True, help="shard folders or files")
    p.add_argument("--out", required=True, help="run folder; weights go to <out>/rollout.safetensors")
    p.add_argument("--size", type=int, default=9, help="board size of the shards to use")
    p.add_argument("--epochs", type=int_in(1, MAX_EPOCHS), default=3)
    p.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=512)
    p.add_argument("--lr", type=float_in(0.0, MAX_LR), default=0.05)
    p.add_argument("--threads", type=int_in(1, MAX_THREADS), default=1, help="C++ threads writing features")
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train_rollout)

    p = sub.add_parser("accuracy", help="accuracy of a weights file on a folder of SGF games")
    p.add_argument("--weights", required=True, type=Path)
    p.add_argument("--sgf", required=True, type=Path, help="SGF file or folder (searched recursively)")
    p.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=256)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int_in(1, MAX_THREADS), default=1, help="C++ threads writing planes")
    p.add_argument("--no-passes", action="store_true", help="leave pass moves out of the policy accuracy")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_accuracy)


def cmd_corpus(args: argparse.Namespace) -> int:
    from selfplay.expert_corpus import ExpertCorpusConfig, generate

    try:
        lo, _, hi = args.opening_moves.partition("-")
        lo_n, hi_n = int(lo), int(hi or lo)
    except ValueError as exc:
        raise UserError(f"--opening-moves must look like 2-6, not {args.opening_moves!r}") from exc
    check_output_dir(args.out, "--out")
    config = ExpertCorpusConfig(
        out_dir=args.out,
        games=args.games,
        board_size=args.size,
        komi=args.komi,
        level=args.level,
        engine=args.engine,
        workers=args.workers,
        opening_moves_min=lo_n,
        opening_moves_max=hi_n,
        seed=args.seed,
    )
    results = generate(config)
    new = [r for r in results if not r.skipped]
    print(
        f"{len(new)} games written, {len(results) - len(new)} already there, "
        f"{args.games - len(results)} failed; SGF files in {args.out}"
    )
    return 0 if len(results) == args.games else 1


def cmd_convert(args: argparse.Namespace) -> int:
    from selfplay.sgf_corpus import ConvertConfig, convert

    if not args.src.exists():
        raise UserError(f"no such SGF file or folder: {args.src}")
    if args.size != 0 and not _core.MIN_SIZE <= args.size <= _core.MAX_SIZE:
        raise UserError(f"--size must be 0 (all) or in {_core.MIN_SIZE}..{_core.MAX_SIZE}, got {args.size}")
    check_output_dir(args.out, "out")
    report = convert(ConvertConfig(args.src, args.out, args.games_per_shard, args.size, args.min_moves))
    print(report.summary())
    if report.games == 0:
        raise UserError(f"no usable games found in {args.src}")
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    o: dict[str, Any] = {
        "net.architecture": args.architecture,
        "net.feature_set": args.feature_set,
        "net.board_size": args.board_size,
        "net.blocks": args.blocks,
        "net.channels": args.channels,
        "train.epochs": args.epochs,
        "train.max_steps": args.steps,
        "train.batch_size": args.batch_size,
        "train.lr": args.lr,
        "train.device": args.device,
        "train.seed": args.seed,
        "train.out_dir": args.out,
        "train.data": tuple(args.data) if args.data else None,
    }
    if args.quiet:
        o["train.progress"] = False
    for item in args.set:
        key, eq, value = item.partition("=")
        if not eq:
            raise UserError(f"--set needs SECTION.FIELD=VALUE, not {item!r}")
        o[key.strip()] = value.strip()
    return o


def cmd_train_sl(args: argparse.Namespace) -> int:
    from engine.torch_device import pick_device
    from selfplay.train_sl import load_config, train

    config = load_config(args.config, _overrides(args))
    check_output_dir(config.train.out_dir, "--out")
    pick_device(config.train.device)  # an unknown or absent device fails here, in one sentence
    try:
        result = train(config, resume=args.resume)
    except KeyboardInterrupt as exc:
        if str(exc):
            print(f"tengen train-sl: {exc}; continue with --resume", file=sys.stderr)
        return 130
    h = result.holdout
    parts = [
        f"{result.steps} steps, {result.samples} samples on {result.device} "
        f"({result.samples_per_second:.0f} samples/s, {result.parameters} parameters)"
    ]
    if not math.isnan(h.accuracy):
        parts.append(
            f"held-out top-1 accuracy {100 * h.accuracy:.1f}% on {h.positions} positions "
            f"(training {100 * result.train_accuracy:.1f}%)"
        )
    if not math.isnan(h.value_mse):
        parts.append(f"held-out value MSE {h.value_mse:.3f}")
    parts.append(f"weights in {result.weights_path}")
    print("; ".join(parts))
    return 0


def cmd_train_rollout(args: argparse.Namespace) -> int:
    from selfplay.train_rollout import RolloutTrainConfig, train_rollout

    check_output_dir(args.out, "--out")
    config = RolloutTrainConfig(
        data=tuple(args.data), out_dir=args.out, board_size=args.size, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, seed=args.seed, threads=args.threads,
        progress=not args.quiet,
    )  # fmt: skip
    r = train_rollout(config)
    print(
        f"rollout policy: top-1 accuracy {100 * r.holdout_accuracy:.1f}% on {r.holdout_positions} held-out "
        f"positions (training {100 * r.train_accuracy:.1f}% on {r.positions}); weights in {r.weights_path}"
    )
    return 0


def _rollout_accuracy(args: argparse.Namespace) -> int:
    from collections import Counter

    from engine.sgf import SgfError
    from engine.weights import load_rollout_weights
    from selfplay.sgf_corpus import find_sgf_files, load_sgf_folder, parse_sgf
    from selfplay.train_rollout import rollout_accuracy

    weights = load_rollout_weights(args.weights)
    # Rollout patterns fit any board size: measure on the folder's most common size.
    sizes: Counter[int] = Counter()
    for path in find_sgf_files(args.sgf):
        try:
            sizes[parse_sgf(path.read_bytes()).board_size] += 1
        except (OSError, SgfError):
            continue
    if not sizes:
        raise UserError(f"no usable games in {args.sgf}")
    size = sizes.most_common(1)[0][0]
    records, report = load_sgf_folder(args.sgf, size, progress=not args.quiet)
    games, moves = records.positions(include_passes=False)
    acc, n = rollout_accuracy(weights, records, games, moves, args.batch_size, args.threads)
    skipped = f" ({report.num_skipped} files skipped)" if report.num_skipped else ""
    print(
        f"rollout top-1 accuracy {100 * acc:.2f}% on {n} positions from {records.num_games} "
        f"{size}x{size} games{skipped}"
    )
    return 0


def cmd_accuracy(args: argparse.Namespace) -> int:
    import numpy as np

    from engine.torch_device import pick_device
    from engine.weights import load_net, read_metadata
    from selfplay.sgf_corpus import load_sgf_folder
    from selfplay.train_sl import evaluate

    if not args.sgf.exists():
        raise UserError(f"no such SGF file or folder: {args.sgf}")
    pick_device(args.device)  # an unknown or absent device fails before the weights are read
    if read_metadata(args.weights).get("format") == "tengen-rollout-1":
        return _rollout_accuracy(args)
    device = pick_device(args.device)
    net = load_net(args.weights, device=device)
    n = net.config.board_size
    records, report = load_sgf_folder(args.sgf, n, progress=not args.quiet)
    if records.num_games == 0:
        raise UserError(f"no usable {n}x{n} games in {args.sgf} ({report.num_skipped} files skipped)")
    games, moves = records.positions(include_passes=not args.no_passes or not net.config.has_policy)
    if net.config.architecture == "value":
        keep = records.winner[games] != 0
        games, moves = games[keep], moves[keep]
    res = evaluate(net, records, games, moves, args.batch_size, device, args.threads, progress=not args.quiet)
    where = f"{res.positions} positions from {records.num_games} games"
    if report.num_skipped:
        where += f" ({report.num_skipped} files skipped)"
    if net.config.has_policy:
        print(f"top-1 accuracy {100 * res.accuracy:.2f}% on {where}; policy loss {res.policy_loss:.3f}")
    if net.config.has_value:
        if np.isnan(res.value_mse):
            print(f"value: no game outcomes in {args.sgf}", file=sys.stderr)
        else:
            print(f"value MSE {res.value_mse:.4f}, outcome sign accuracy {100 * res.value_accuracy:.2f}% on {where}")
    return 0
