"""Self-play positions per second of the main job, float32 against the automatic inference
precision (bf16 + channels_last on a CPU with native bf16), side by side in one run.

Both sides play the recipe's self-play (net shape, search settings, parallel games, torch
threads from configs/zero_9x9_cpu.yaml unless --config says otherwise) with the same randomly
initialised net, in alternating rounds so that load from other processes hits both alike.
A position is one move played in a self-play game (finished or still running).
On a CUDA device (`--device cuda`, or the recipe's `device: auto` where torch sees one) it also
prints the GPU's mean utilisation over each side's measured seconds (torch.cuda.utilization,
which needs the nvidia-ml-py package; without it the line says so). Batch sizes are the recipe's:
`selfplay.parallel_games` games at once and the search's `batch_size` leaves per game.
Usage: python benchmarks/selfplay_precision.py [--config F] [--seconds S] [--rounds R] [--device D]
"""

from __future__ import annotations

import argparse
import copy
import threading
import time
from pathlib import Path

import numpy as np
import torch

from engine.evaluators import TorchEvaluator
from engine.nets import GoNet, build_net
from engine.search import BatchedRunner
from engine.torch_device import pick_device
from selfplay.recipe import ZeroRecipe, load_recipe


class PositionCounter:
    """Moves played by a runner's self-play games: the finished ones plus those still running."""

    def __init__(self, runner: BatchedRunner) -> None:
        self.runner = runner
        self.finished = 0

    def total(self) -> int:
        search = self.runner.search
        for g in search.pop_finished():
            self.finished += np.asarray(g["moves"]).size
        return self.finished + sum(len(search.game(i).moves()) for i in range(search.num_games))


class UtilisationSampler:
    """Mean GPU utilisation (percent) sampled every 50 ms while running; None off CUDA or
    without nvidia-ml-py (`problem` says which)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.samples: list[float] = []
        self.problem: str | None = None if device.type == "cuda" else "not a CUDA device"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> UtilisationSampler:
        if self.problem is None:
            try:
                torch.cuda.utilization(self.device)
            except Exception as exc:  # noqa: BLE001 - pynvml missing or no NVML: report, do not fail
                self.problem = f"unavailable ({exc})"
            else:
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.samples.append(float(torch.cuda.utilization(self.device)))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def mean(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None


def measure(
    recipe: ZeroRecipe, net: GoNet, precision: str, seconds: float, device: torch.device
) -> tuple[float, str, UtilisationSampler]:
    own = copy.deepcopy(net)  # channels_last converts a net in place: each side gets its own copy
    evaluator = TorchEvaluator(own, own, device=device, precision=precision)
    settings = recipe.search_settings()
    with BatchedRunner(settings, recipe.board_size, recipe.komi, recipe.selfplay.parallel_games, evaluator) as runner:
        runner.search.start_selfplay(10**9)
        counter = PositionCounter(runner)
        warm = time.perf_counter()
        runner.run(lambda: time.perf_counter() - warm < 1.0)  # warm-up: kernels, caches, first moves
        before = counter.total()
        start = time.perf_counter()
        with UtilisationSampler(device) as gpu:
            runner.run(lambda: time.perf_counter() - start < seconds)
        elapsed = time.perf_counter() - start
        return (counter.total() - before) / elapsed, evaluator.precision.name, gpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=Path("configs/zero_9x9_cpu.yaml"))
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per round and side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default=None, help="torch device (default: the recipe's)")
    args = parser.parse_args()
    recipe, _ = load_recipe(args.config)
    if not isinstance(recipe, ZeroRecipe):
        parser.error(f"{args.config} is not an AlphaZero recipe")
    if recipe.torch_threads > 0:
        torch.set_num_threads(recipe.torch_threads)
    torch.manual_seed(0)
    net = build_net(recipe.net).eval()
    device = pick_device(args.device or recipe.device)
    rates: dict[str, list[float]] = {"f32": [], "auto": []}
    utilisation: dict[str, list[float]] = {"f32": [], "auto": []}
    gpu_problem: str | None = None
    chosen = ""
    for _ in range(args.rounds):
        for precision in ("f32", "auto"):
            rate, name, gpu = measure(recipe, net, precision, args.seconds, device)
            rates[precision].append(rate)
            if gpu.mean is not None:
                utilisation[precision].append(gpu.mean)
            gpu_problem = gpu.problem
            if precision == "auto":
                chosen = name
    f32 = sum(rates["f32"]) / len(rates["f32"])
    auto = sum(rates["auto"]) / len(rates["auto"])
    print(f"{args.config} on {device}: net {recipe.net.blocks}x{recipe.net.channels} {recipe.net.feature_set}, "
          f"{recipe.selfplay.parallel_games} games at once, torch threads {torch.get_num_threads()}, "
          f"{args.rounds} alternating rounds of {args.seconds:g} s")
    print(f"  f32:            {f32:,.0f} positions/s (rounds {', '.join(f'{r:,.0f}' for r in rates['f32'])})")
    print(f"  auto ({chosen}): {auto:,.0f} positions/s (rounds {', '.join(f'{r:,.0f}' for r in rates['auto'])})")
    print(f"  ratio auto / f32: {auto / f32:.2f}")
    if gpu_problem is not None:
        print(f"  GPU utilisation: {gpu_problem}")
    else:
        for k in ("f32", "auto"):
            vals = utilisation[k]
            shown = f"{sum(vals) / len(vals):.0f}%" if vals else "no samples"
            print(f"  GPU utilisation, {k}: {shown}")


if __name__ == "__main__":
    main()
