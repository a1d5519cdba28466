"""MCTS simulations per second with one light rollout per leaf, empty 9x9 board: tengen's
UCT-RAVE search (engine._core.UctSearch, 1 and 2 threads) against OpenSpiel's C++
`pyspiel.MCTSBot` with `pyspiel.RandomRolloutEvaluator(1, seed)` (game `go`, board_size 9,
komi 7.5), timing a fixed number of simulations from the empty board.

The three configurations run in alternating rounds so that load from other jobs hits them
alike; figures are the means over rounds, and the ratios (ours / OpenSpiel per thread, 2-thread
/ 1-thread scaling) are taken within the same run. The issue's target: >= 10x OpenSpiel per
thread and near-linear scaling over threads. Prints figures, asserts nothing.

Usage: python benchmarks/mcts_speed.py [--rounds 5] [--ours 60000] [--openspiel 6000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from engine import _core


def tengen_rate(threads: int, simulations: int, seed: int) -> float:
    config = _core.UctConfig()
    config.max_visits = simulations
    config.threads = threads
    config.seed = seed
    search = _core.UctSearch(config)
    game = _core.Game(9, 7.5)
    start = time.perf_counter()
    result = search.run(game)
    elapsed = time.perf_counter() - start
    return result.visits / elapsed


def openspiel_rate(simulations: int, seed: int) -> float:
    import pyspiel

    game = pyspiel.load_game("go", {"board_size": 9, "komi": 7.5})
    evaluator = pyspiel.RandomRolloutEvaluator(1, seed)
    bot = pyspiel.MCTSBot(game, evaluator, 2.0, simulations, 1 << 20, False, seed, False)
    state = game.new_initial_state()
    start = time.perf_counter()
    bot.step(state)
    return simulations / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ours", type=int, default=60_000, help="simulations per tengen search (x threads)")
    parser.add_argument("--openspiel", type=int, default=6_000, help="simulations per OpenSpiel search")
    parser.add_argument("--threads", type=int, default=2, help="the multi-thread configuration")
    args = parser.parse_args()

    print(f"MCTS from the empty 9x9 board, one light rollout per leaf; {args.rounds} alternating rounds; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    ours1: list[float] = []
    oursn: list[float] = []
    theirs: list[float] = []
    for r in range(args.rounds):
        ours1.append(tengen_rate(1, args.ours, seed=r + 1))
        theirs.append(openspiel_rate(args.openspiel, seed=r + 1))
        oursn.append(tengen_rate(args.threads, args.ours * args.threads, seed=r + 1))
    o1, on, t1 = statistics.mean(ours1), statistics.mean(oursn), statistics.mean(theirs)
    print(f"  OpenSpiel MCTSBot + RandomRolloutEvaluator(1), 1 thread: {t1:,.0f} sims/s "
          f"(rounds {', '.join(f'{x:,.0f}' for x in theirs)})")
    print(f"  tengen UctSearch, 1 thread: {o1:,.0f} sims/s (rounds {', '.join(f'{x:,.0f}' for x in ours1)}) "
          f"= {o1 / t1:.1f}x OpenSpiel per thread")
    print(f"  tengen UctSearch, {args.threads} threads: {on:,.0f} sims/s "
          f"(rounds {', '.join(f'{x:,.0f}' for x in oursn)}) = {on / args.threads / t1:.1f}x OpenSpiel per thread; "
          f"scaling {on / o1:.2f}x over 1 thread (linear = {args.threads}.00x)")
    print(f"  load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
