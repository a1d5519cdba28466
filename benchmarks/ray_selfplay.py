"""Self-play games per hour in one process against Ray actors (1 and 2 workers), in one run.

Each side plays the same number of games of the recipe's self-play (configs/zero_tiny.yaml unless
--config says otherwise) with the same randomly initialised net, through produce_games into a
temporary run directory, so the figure includes what `tengen train` does: the store's writes in
the driver and, for Ray, shipping weights and games. Ray's start and the actors' start-up (one
warm-up chunk each) are not counted. Rounds alternate the sides so that load from other
processes hits all of them alike; the figure is the mean over rounds.
Usage: python benchmarks/ray_selfplay.py [--config F] [--games N] [--chunk G] [--rounds R] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from pathlib import Path

import torch

from engine.nets import build_net
from engine.weights import save_weights
from selfplay.ray_selfplay import RayGames, default_chunk, import_ray
from selfplay.recipe import ZeroRecipe, load_recipe
from selfplay.run_dir import RunDir
from selfplay.zero import produce_games


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=Path("configs/zero_tiny.yaml"))
    parser.add_argument("--games", type=int, default=64, help="games per side and round")
    parser.add_argument("--chunk", type=int, default=None, help="games per Ray request (default: as in tengen train)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    recipe, _ = load_recipe(args.config)
    if not isinstance(recipe, ZeroRecipe):
        parser.error(f"{args.config} is not an AlphaZero recipe")
    recipe = dataclasses.replace(recipe, selfplay=dataclasses.replace(recipe.selfplay, games_per_iteration=args.games))
    if recipe.torch_threads > 0:
        torch.set_num_threads(recipe.torch_threads)
    device = torch.device("cpu")
    ray = import_ray()
    ray.init(num_cpus=max([*args.workers, os.cpu_count() or 1]), include_dashboard=False, log_to_driver=False)
    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="tengen-ray-bench-") as tmp:
        root = Path(tmp)
        torch.manual_seed(0)
        weights = root / "w.safetensors"
        save_weights(weights, build_net(recipe.net))
        for r in range(args.rounds):
            stats = produce_games(recipe, RunDir(root / f"single_{r}"), 1, weights, device, progress=False)
            rates.setdefault("single process", []).append(stats.games_per_hour)
            for k in args.workers:
                games = RayGames.start("local", recipe, workers=k, chunk_games=args.chunk, log=lambda _: None)
                try:
                    games.worker_pids()  # the actors are up
                    warm = games.chunk_games * k
                    games.play(recipe, 1, weights, 10**6, warm, lambda _: None)  # each actor loads the net
                    stats = produce_games(recipe, RunDir(root / f"ray{k}_{r}"), 1, weights, device, progress=False,
                                          source=games)
                finally:
                    games.close()
                rates.setdefault(f"Ray, {k} worker{'s' if k > 1 else ''}", []).append(stats.games_per_hour)
    ray.shutdown()
    base = sum(rates["single process"]) / len(rates["single process"])
    chunks = ", ".join(str(args.chunk or default_chunk(recipe, k)) for k in args.workers)
    print(f"{args.config}: {args.games} games per side and round, {args.rounds} round(s), Ray chunks of {chunks} "
          f"games, {os.cpu_count()} CPUs, parallel_games {recipe.selfplay.parallel_games}")
    for name, values in rates.items():
        mean = sum(values) / len(values)
        print(f"  {name:18s} {mean:9.0f} games/h  ({mean / base:.2f}x single process; rounds: "
              f"{', '.join(f'{v:.0f}' for v in values)})")


if __name__ == "__main__":
    main()
