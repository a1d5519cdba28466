"""Feature extraction speed (C++): positions per second written into numpy buffers.

Two entry points are timed: `replay_features` (game records -> planes, the training path: it
replays each game to the sampled move) and `write_features_batch` (live Game objects -> planes,
the search path). Positions come from a shard folder (--data) or from random-playout games.

    python benchmarks/features.py [--data SHARDS] [--size 9] [--batch 256] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from engine import _core as core
from selfplay.records import GameRecord, Records, load_corpus


def random_records(size: int, games: int, seed: int = 0) -> Records:
    out = []
    for s in range(games):
        g = core.Game(size)
        moves = []
        while not g.is_over and len(moves) < 2 * size * size:
            c = g.to_move
            m = g.random_move(c, seed * 1_000_003 + s * 1000 + len(moves))
            g.play(c, m)
            moves.append((c, m))
        out.append(GameRecord(size, tuple(moves)))
    return Records.from_games(out, size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="*", default=None, help="shard folders (default: random games)")
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--games", type=int, default=200, help="random games when no --data")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--sets", nargs="+", default=["alphago", "raw"])
    args = ap.parse_args()

    rec = load_corpus(args.data, args.size) if args.data else random_records(args.size, args.games)
    games, moves = rec.positions()
    print(f"{rec.num_games} games, {len(games)} positions, {args.size}x{args.size}, batch {args.batch}")
    rng = np.random.default_rng(0)
    for fs in args.sets:
        planes = core.num_planes(fs)
        out = np.empty((args.batch, planes, args.size, args.size), np.uint8)
        masks = np.empty((args.batch, args.size * args.size + 1), np.uint8)
        targets = np.empty(args.batch, np.int64)
        for threads in args.threads:
            sel = [rng.integers(0, len(games), args.batch) for _ in range(args.batches)]
            syms = rng.integers(0, 8, args.batch).astype(np.int32)
            t0 = time.perf_counter()
            for s in sel:
                rec.write_features(games[s], moves[s], out, fs, syms, masks, targets, threads)
            dt = time.perf_counter() - t0
            n = args.batch * args.batches
            print(
                f"replay_features      {fs:14s} threads={threads}: {n / dt:9.0f} positions/s "
                f"({1e6 * dt / n:6.1f} us each, replay included)"
            )
        # Search path: planes of live positions.
        live = []
        for s in rng.integers(0, len(games), args.batch):
            g = core.Game(args.size, superko=False)
            gi, mi = int(games[s]), int(moves[s])
            off = int(rec.game_offsets[gi])
            for k in range(mi):
                g.play(int(rec.colors[off + k]), int(rec.moves[off + k]))
            live.append(g)
        for threads in args.threads:
            t0 = time.perf_counter()
            for _ in range(args.batches):
                core.write_features_batch(live, out, fs, syms, masks, threads)
            dt = time.perf_counter() - t0
            n = args.batch * args.batches
            print(
                f"write_features_batch {fs:14s} threads={threads}: {n / dt:9.0f} positions/s "
                f"({1e6 * dt / n:6.1f} us each)"
            )


if __name__ == "__main__":
    main()
