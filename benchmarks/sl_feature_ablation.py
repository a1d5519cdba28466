"""Features ablation for the SL policy (AlphaGo, Nature 2016: 57.0% with the 48 planes vs 55.7%
with raw board + history on KGS): trains the same network on the same games and the same
held-out split once per feature set (and seed), and prints held-out top-1 accuracy.

    python -m benchmarks.sl_feature_ablation --data SHARDS --config configs/sl_9x9_cpu.yaml \
        [--sets alphago raw] [--seeds 0 1] [--epochs 20] [--out runs/features]

The split of games into training and held-out sets depends only on the data and
train.holdout_fraction (seed 0), so every run is scored on the same held-out positions.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from selfplay.records import load_corpus
from selfplay.train_sl import load_config, train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", required=True)
    ap.add_argument("--config", default="configs/sl_9x9_cpu.yaml")
    ap.add_argument("--sets", nargs="+", default=["alphago", "raw"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--out", default="runs/features")
    ap.add_argument("--torch-threads", type=int, default=0)
    args = ap.parse_args()

    base = load_config(args.config)
    records = load_corpus(args.data, base.net.board_size)
    rows = []
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
            print(f"{fs:8s} seed {seed}: held-out top-1 {100 * r.holdout.accuracy:.1f}% on {r.holdout.positions} "
                  f"positions, training {100 * r.train_accuracy:.1f}%, {r.parameters} parameters, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
        rows.append((fs, accs))
    print(f"\n{records.num_games} games ({records.num_moves} moves), {base.net.board_size}x{base.net.board_size}, "
          f"net {base.net.blocks} blocks x {base.net.channels} channels")  # fmt: skip
    for fs, accs in rows:
        spread = f" +- {statistics.stdev(accs) * 100:.1f}" if len(accs) > 1 else ""
        print(f"{fs:8s} held-out top-1 accuracy {100 * statistics.mean(accs):.1f}%{spread} ({len(accs)} runs)")


if __name__ == "__main__":
    main()
