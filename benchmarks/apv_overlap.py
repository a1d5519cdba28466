"""APV-MCTS overlap: simulations/s of one game's search with the network's evaluations running
beside the C++ gather (rollouts included) against the same search done one step at a time.

The search is the shipped 9x9 net with AlphaGo's mixed leaf value (configs/search/zero_rollouts.yaml:
net priors, value (1 - lambda) * v_net + lambda * one light rollout), one rollout thread and one
torch thread, so the overlapped search uses two threads where the serial one uses one at a time.
Rounds alternate between the two modes over the same positions, so load from other processes
hits both alike; the ratio overlapped / serial is the figure (absolute rates drift).
Usage: python benchmarks/apv_overlap.py [--rounds 3] [--visits 1600] [--positions 4]
       [--config configs/search/zero_rollouts.yaml] [--weights W]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from engine import _core
from engine.builtin_net import builtin_nets
from engine.evaluators import TorchEvaluator
from engine.gtp_game import random_opening
from engine.search import BatchedRunner, SearchSettings
from engine.weights import load_net


def positions(count: int, size: int, komi: float, moves: int, seed: int) -> list[_core.Game]:
    """`count` positions after `moves` random opening moves each (fixed by `seed`)."""
    rng = np.random.default_rng(seed)
    games = []
    for _ in range(count):
        game = _core.Game(size, komi)
        for move in random_opening(size, komi, moves, rng):
            game.play(game.to_move, move)
        games.append(game)
    return games


def sims_per_second(runner: BatchedRunner, games: list[_core.Game], visits: int, overlap: bool) -> float:
    """Root visits per second over fresh searches of every position (no tree reuse)."""
    total, seconds = 0, 0.0
    for game in games:
        start = time.perf_counter()
        runner.search_position(game, visits, overlap=overlap)
        seconds += time.perf_counter() - start
        total += runner.search.root_visits(0)
    return total / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--config", type=Path, default=Path("configs/search/zero_rollouts.yaml"))
    ap.add_argument("--weights", type=Path, default=None, help="policy+value net (default: the built-in 9x9)")
    ap.add_argument("--visits", type=int, default=1600)
    ap.add_argument("--positions", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    weights = args.weights or builtin_nets()[9].weights
    net = load_net(weights)
    evaluator = TorchEvaluator(net, net)
    settings = SearchSettings.from_mapping(yaml.safe_load(args.config.read_text()))
    settings = dataclasses.replace(settings, features=evaluator.feature_set, reuse_tree=False, cache_size=0)
    size, komi = net.config.board_size, 7.0
    games = positions(args.positions, size, komi, 6, args.seed)
    print(f"{args.config}: rollouts {settings.use_rollouts}, lambda {settings.lambda_}, {args.visits} visits, "
          f"{args.positions} positions, net {weights}, torch threads 1, rollout threads {settings.rollout_threads}")
    rates: dict[bool, list[float]] = {True: [], False: []}
    with BatchedRunner(settings, size, komi, 1, evaluator) as runner:
        sims_per_second(runner, games[:1], 200, True)  # warm-up
        for _ in range(args.rounds):
            for overlap in (True, False):
                rates[overlap].append(sims_per_second(runner, games, args.visits, overlap))
    for overlap, label in ((True, "overlapped"), (False, "serial")):
        r = rates[overlap]
        print(f"  {label:<10}: {np.mean(r):8.0f} simulations/s (rounds {', '.join(f'{x:.0f}' for x in r)})")
    print(f"  ratio overlapped / serial: {np.mean(rates[True]) / np.mean(rates[False]):.2f}")


if __name__ == "__main__":
    main()
