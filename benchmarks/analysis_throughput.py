"""Throughput of `tengen analysis`: queries per second with 1 and with 16 queries in flight.

One `tengen analysis` process (a small random policy_value net with aux heads, 9x9 by default)
is driven over its JSON protocol: first one query at a time (send, wait for the answer, send the
next), then with 16 queries always in flight (a new one sent as each answer arrives). Both phases
run in the same process after a warm-up query, so they share the start-up cost and the net.
Prints queries/s of each phase and their ratio.
Usage: python benchmarks/analysis_throughput.py [--size N] [--visits V] [--queries Q] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from engine.nets import NetConfig, build_net
from engine.weights import save_weights

COLUMNS = "ABCDEFGHJKLMNOPQRST"


def _query(i: int, size: int, visits: int) -> str:
    # Distinct one-move positions so no two queries share a search.
    move = f"{COLUMNS[i % size]}{1 + (i // size) % size}"
    return json.dumps({"id": f"q{i}", "moves": [["B", move]], "rules": "tromp-taylor", "komi": 7.5,
                       "boardXSize": size, "boardYSize": size, "maxVisits": visits}) + "\n"


def _phase(proc: subprocess.Popen[bytes], first: int, count: int, in_flight: int, size: int, visits: int) -> float:
    """Queries per second answering `count` queries with `in_flight` of them outstanding."""
    assert proc.stdin is not None and proc.stdout is not None
    start = time.perf_counter()
    sent = answered = 0
    while sent < min(in_flight, count):
        proc.stdin.write(_query(first + sent, size, visits).encode())
        sent += 1
    proc.stdin.flush()
    while answered < count:
        line = json.loads(proc.stdout.readline())
        if "error" in line:
            raise SystemExit(f"the engine answered an error: {line}")
        if "turnNumber" not in line:
            continue
        answered += 1
        if sent < count:
            proc.stdin.write(_query(first + sent, size, visits).encode())
            proc.stdin.flush()
            sent += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=9)
    parser.add_argument("--visits", type=int, default=100)
    parser.add_argument("--queries", type=int, default=48, help="queries per phase")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(0)
    net = build_net(NetConfig(architecture="policy_value", board_size=args.size, feature_set="raw", blocks=2,
                              channels=16, value_hidden=16, stem_kernel=3, aux_heads=True))
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "bench.safetensors"
        save_weights(weights, net)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tengen_cli", "analysis", "--weights", str(weights), "--device", args.device,
             "--max-batch", "16"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        try:
            _phase(proc, 10_000, 1, 1, args.size, args.visits)  # warm-up
            one = _phase(proc, 0, args.queries, 1, args.size, args.visits)
            many = _phase(proc, args.queries, args.queries, 16, args.size, args.visits)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=60)
    print(f"{args.size}x{args.size}, {args.visits} visits a query, {args.queries} queries a phase, "
          f"net 2 blocks x 16 channels on {args.device}")
    print(f"1 query in flight:   {one:8.2f} queries/s")
    print(f"16 queries in flight: {many:8.2f} queries/s")
    print(f"ratio: {many / one:.2f}x")


if __name__ == "__main__":
    main()
