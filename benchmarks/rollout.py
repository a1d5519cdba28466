"""Rollout-policy speed (C++): rollouts from the empty board with the pattern policy, moves per
second and microseconds per move (AlphaGo: about 2 us per move on 19x19), next to the light
random playouts for scale.

    python -m benchmarks.rollout [--weights runs/rollout/rollout.safetensors] [--size 9] [--playouts 500]
"""

from __future__ import annotations

import argparse

import numpy as np

from engine import _core as core
from engine.weights import load_rollout_weights


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None, help="rollout weights (default: all zeros = uniform)")
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--playouts", type=int, default=500)
    args = ap.parse_args()
    w = load_rollout_weights(args.weights) if args.weights else np.zeros(core.ROLLOUT_FEATURES, np.float32)
    policy = core.RolloutPolicy(w)
    n, moves, secs = policy.benchmark(args.size, args.playouts)
    name = args.weights or "uniform weights"
    print(
        f"rollout policy ({name}), {args.size}x{args.size}: {n} rollouts, {moves / n:.0f} moves each, "
        f"{moves / secs:.0f} moves/s, {1e6 * secs / moves:.2f} us per move"
    )
    light = core.playout_benchmark(args.size, args.playouts)
    print(
        f"light random playouts, {args.size}x{args.size}: {light.moves / light.seconds:.0f} moves/s, "
        f"{1e6 * light.seconds / light.moves:.2f} us per move"
    )


if __name__ == "__main__":
    main()
