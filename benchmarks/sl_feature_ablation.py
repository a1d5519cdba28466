"""Features ablation for the SL policy (AlphaGo, Nature 2016: 57.0% with the 48 planes vs 55.7%
with raw board + history on KGS): trains the same network on the same games and the same
held-out split once per feature set and seed, prints held-out top-1 accuracy as mean +- sd over
the seeds, and writes them to <out>/sl_accuracy.json:

    {"positions": int, "games": int,
     "sets": {"alphago": {"seeds": [0, 1, 2], "accuracy": [...], "mean": float, "sd": float}, "raw": {...}}}

(sd: the sample standard deviation; null with one seed).

    python -m benchmarks.sl_feature_ablation --data SHARDS --config configs/sl_9x9_cpu.yaml \
        [--sets alphago raw] [--seeds 0 1 2] [--epochs 20] [--out runs/features]

The split of games into training and held-out sets depends only on the data and
train.holdout_fraction (seed 0), so every run is scored on the same held-out positions; the
training seed changes the initialisation and the data order.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from engine.atomic_io import atomic_write_text
from engine.errors import TengenError
from selfplay.records import load_corpus
from selfplay.train_sl import load_config, train


def summarise(seeds: list[int], accuracy: list[float]) -> dict[str, Any]:
    """One feature set's entry of sl_accuracy.json."""
    return {
        "seeds": seeds,
        "accuracy": accuracy,
        "mean": statistics.mean(accuracy),
        "sd": statistics.stdev(accuracy) if len(accuracy) > 1 else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--config", default="configs/sl_9x9_cpu.yaml")
    ap.add_argument("--sets", nargs="+", default=["alphago", "raw"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--out", default="runs/features")
    ap.add_argument("--torch-threads", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        run(args)
    except TengenError as exc:
        print(f"sl_feature_ablation: {exc}", file=sys.stderr)
        return 2
    return 0


def run(args: argparse.Namespace) -> None:
    base = load_config(args.config)
    records = load_corpus(args.data, base.net.board_size)
    sets: dict[str, dict[str, Any]] = {}
    positions: set[int] = set()
    for fs in args.sets:
        accs = []
        for seed in args.seeds:
            o = {"net.feature_set": fs, "train.seed": seed, "train.out_dir": str(Path(args.out) / f"{fs}-s{seed}"),
                 "train.progress": False, "train.torch_threads": args.torch_threads}  # fmt: skip
            if args.epochs is not None:
                o["train.epochs"] = args.epochs
            cfg = load_config(args.config, o)
            t0 = time.perf_counter()
            # Same held-out games for every run: the split uses seed 0 whatever the training seed.
            r = train(cfg, records=records, split_seed=0)
            accs.append(r.holdout.accuracy)
            positions.add(r.holdout.positions)
            print(f"{fs:8s} seed {seed}: held-out top-1 {100 * r.holdout.accuracy:.1f}% on {r.holdout.positions} "
                  f"positions, training {100 * r.train_accuracy:.1f}%, {r.parameters} parameters, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
        sets[fs] = summarise(list(args.seeds), accs)
    assert len(positions) == 1, "every run is scored on the same held-out positions"
    held_out = positions.pop()
    print(f"\n{records.num_games} games ({records.num_moves} moves), {base.net.board_size}x{base.net.board_size}, "
          f"net {base.net.blocks} blocks x {base.net.channels} channels, {held_out} held-out positions")  # fmt: skip
    for fs, entry in sets.items():
        sd = entry["sd"]
        spread = f" +- {100 * sd:.1f}" if sd is not None else ""
        print(f"{fs:8s} held-out top-1 accuracy {100 * entry['mean']:.1f}%{spread} (mean +- sd over "
              f"{len(entry['seeds'])} seeds)")  # fmt: skip
    doc = {"positions": held_out, "games": records.num_games, "sets": sets}
    out = Path(args.out) / "sl_accuracy.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
