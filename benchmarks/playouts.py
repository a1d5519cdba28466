"""Light random playouts per second per thread, 9x9 and 19x19, with 1 and 2 threads.

A light playout (engine._core.playout_benchmark) starts from the empty board and plays random
legal moves that do not fill the mover's own eyes until two passes. The 1- and 2-thread
measurements alternate in rounds so that load from other jobs hits both alike; the scaling
ratio is the 2-thread rate over the 1-thread rate measured in the same run (2.0 = linear).
Prints figures, asserts nothing.

Usage: python benchmarks/playouts.py [--rounds 3] [--seconds 1.0] [--threads 2]
"""

from __future__ import annotations

import argparse
import os

from engine import _core


def measure(size: int, threads: int, seconds: float, seed: int) -> tuple[int, int, float]:
    """(playouts, moves, seconds) of batches run until `seconds` of measured time."""
    batch = (2000 if size <= 9 else 400) * threads
    playouts = moves = 0
    elapsed = 0.0
    while elapsed < seconds:
        r = _core.playout_benchmark(size, batch, seed=seed + playouts, threads=threads)
        playouts += r.playouts
        moves += r.moves
        elapsed += r.seconds
    return playouts, moves, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per configuration")
    parser.add_argument("--seconds", type=float, default=1.0, help="measured seconds per round")
    parser.add_argument("--threads", type=int, default=2, help="the multi-thread configuration")
    parser.add_argument("--sizes", type=int, nargs="+", default=[9, 19])
    args = parser.parse_args()

    load = os.getloadavg()[0]
    print(f"light playouts, {args.rounds} alternating rounds of {args.seconds:g} s; "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at start")
    for size in args.sizes:
        totals = {1: [0, 0, 0.0], args.threads: [0, 0, 0.0]}
        for r in range(args.rounds):
            for threads in totals:
                p, m, s = measure(size, threads, args.seconds, seed=1 + 1_000_000 * r)
                totals[threads][0] += p
                totals[threads][1] += m
                totals[threads][2] += s
        p1, m1, s1 = totals[1]
        pn, mn, sn = totals[args.threads]
        one = p1 / s1
        many = pn / sn
        print(f"{size}x{size}: 1 thread {one:,.0f} playouts/s ({m1 / p1:.0f} moves each, "
              f"{1e9 * s1 / m1:.0f} ns/move); {args.threads} threads {many:,.0f} playouts/s total = "
              f"{many / args.threads:,.0f}/s per thread; scaling {many / one:.2f}x (linear = {args.threads}.00x)")


if __name__ == "__main__":
    main()
