"""Search efficiency: network evaluations per second inside the batched search divided by bare
batched forward passes per second at the same batch size, both measured in this one run.

The network is a small residual policy+value net on the device picked automatically (CPU
here; CUDA with autocast when present). Target (issue): >= 0.9 on CPU, >= 0.8 on GPU.
On a CPU the C++ gather of one slot runs while torch evaluates the other, so both compete for
the same cores: --torch-threads 1 (what the CPU training recipes use) leaves a core to the search.
Usage: python benchmarks/search_efficiency.py [--seconds S] [--batch B] [--blocks N] [--channels C]
       [--torch-threads T]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from engine.evaluators import TorchEvaluator
from engine.nets import NetConfig, build_net
from engine.search import BatchedRunner, SearchSettings
from engine.torch_device import pick_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=9)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--channels", type=int, default=48)
    parser.add_argument("--features", default="alphago")
    parser.add_argument("--device", default=None)
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch intra-op threads on CPU for both measurements (0: torch's default)")
    args = parser.parse_args()
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)

    device = pick_device(args.device)
    config = NetConfig(architecture="policy_value", board_size=args.size, feature_set=args.features,
                       blocks=args.blocks, channels=args.channels)
    net = build_net(config)
    evaluator = TorchEvaluator(net, net, device=device)

    # Bare forward passes at the search's batch size (same evaluator code path, real planes
    # recorded from the search so the inputs look alike), interleaved in short rounds with the
    # search itself so that load from other processes hits both alike.
    b = args.batch
    settings = SearchSettings(visits=64, batch_size=b, features=evaluator.feature_set, max_moves=2 * args.size**2)
    bare_n = inside_n = 0
    bare_t = inside_t = 0.0
    with BatchedRunner(settings, args.size, 7.5, 2 * b, evaluator) as runner:
        runner.search.start_selfplay(10**9)
        runner.run(lambda: True, max_steps=8)  # warm up, and fill the buffers with real positions
        planes = runner._slots[0].inputs.copy()
        masks = np.ones((b, config.num_moves), dtype=np.float32)
        policy = np.zeros((b, config.num_moves), dtype=np.float32)
        values = np.zeros((b,), dtype=np.float32)
        rounds = max(1, int(args.seconds / 2))
        for _ in range(rounds):
            start = time.perf_counter()
            while time.perf_counter() - start < 1.0:
                evaluator.evaluate(planes, masks, policy, values)
                bare_n += b
            if device.type == "cuda":
                torch.cuda.synchronize()
            bare_t += time.perf_counter() - start
            e0 = runner.search.evaluations
            start = time.perf_counter()
            runner.run(lambda s=start: time.perf_counter() - s < 1.0)
            inside_t += time.perf_counter() - start
            inside_n += runner.search.evaluations - e0
    bare = bare_n / bare_t
    inside = inside_n / inside_t

    print(f"device {device}, torch threads {torch.get_num_threads()}, net {args.blocks}x{args.channels} "
          f"{args.features} {args.size}x{args.size}, batch {b}, {rounds} alternating rounds of 1 s each")
    print(f"bare forward passes: {bare:,.0f} positions/s")
    print(f"inside batched search: {inside:,.0f} evaluations/s")
    print(f"efficiency ratio: {inside / bare:.3f}")


if __name__ == "__main__":
    main()
