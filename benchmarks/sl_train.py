"""Supervised-learning training speed: samples per second through the real training loop
(C++ planes on a background thread, forward, backward, optimizer step), on CPU or CUDA
(autocast), plus how long the loop waited for data. On CUDA, GPU utilisation is sampled with
nvidia-smi while the loop runs.

    python benchmarks/sl_train.py [--data SHARDS] [--device auto] [--blocks 6 --channels 64]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import threading
import time

import torch

from benchmarks.features import random_records
from engine.torch_device import pick_device
from selfplay.records import load_corpus
from selfplay.train_sl import load_config, train


def gpu_sampler(stop: threading.Event, out: list[float]) -> None:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return
    while not stop.wait(0.5):
        try:
            text = subprocess.run(
                [exe, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout
            out.append(float(text.split()[0]))
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
            return


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="*", default=None, help="shard folders (default: random games)")
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--feature-set", default="alphago")
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--feature-threads", type=int, default=1)
    ap.add_argument("--torch-threads", type=int, default=0)
    args = ap.parse_args()

    rec = load_corpus(args.data, args.size) if args.data else random_records(args.size, 300)
    device = pick_device(args.device)
    with tempfile.TemporaryDirectory() as out:
        cfg = load_config(
            None,
            {
                "net.board_size": args.size,
                "net.feature_set": args.feature_set,
                "net.blocks": args.blocks,
                "net.channels": args.channels,
                "train.out_dir": out,
                "train.batch_size": args.batch_size,
                "train.max_steps": args.steps,
                "train.epochs": 1000,
                "train.holdout_fraction": 0.0,
                "train.device": str(device),
                "train.feature_threads": args.feature_threads,
                "train.torch_threads": args.torch_threads,
                "train.progress": False,
                "train.log_every": 10**9,
                "train.checkpoint_every": 10**9,
                "train.eval_every": 10**9,
                "train.prefetch": 8,
            },
        )
        stop = threading.Event()
        util: list[float] = []
        sampler = threading.Thread(target=gpu_sampler, args=(stop, util), daemon=True)
        if device.type == "cuda":
            sampler.start()
        t0 = time.perf_counter()
        result = train(cfg, records=rec)
        wall = time.perf_counter() - t0
        stop.set()
    # Data-side ceiling: planes for the same number of samples, without the network.
    games, moves = rec.positions()
    import numpy as np

    from selfplay.train_sl import make_batch

    idx = np.random.default_rng(0).integers(0, len(games), args.batch_size * 10)
    t1 = time.perf_counter()
    for k in range(10):
        s = idx[k * args.batch_size : (k + 1) * args.batch_size]
        make_batch(
            rec, games[s], moves[s], None, args.feature_set, cfg.net.input_planes, args.feature_threads
        )
    data_rate = args.batch_size * 10 / (time.perf_counter() - t1)
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"cpu ({torch.get_num_threads()} threads)"
    )
    print(
        f"device {name}; net {args.blocks} blocks x {args.channels} channels "
        f"({result.parameters} parameters), "
        f"{args.feature_set} planes, {args.size}x{args.size}, batch {args.batch_size}"
    )
    print(
        f"training: {result.samples_per_second:.0f} samples/s over {result.steps} steps "
        f"({wall:.1f} s wall including setup and the final checkpoint)"
    )
    print(f"data only (C++ planes, {args.feature_threads} thread(s)): {data_rate:.0f} samples/s")
    if util:
        print(
            f"GPU utilisation while training: mean {sum(util) / len(util):.0f}%, max {max(util):.0f}% "
            f"({len(util)} samples)"
        )


if __name__ == "__main__":
    main()
