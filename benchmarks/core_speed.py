"""Speed of the Go core: light playouts and MCTS simulations, against OpenSpiel in one run.

1. Light random playouts per second per thread from the empty board, 9x9 and 19x19, with 1
   and 2 threads (scaling = 2-thread rate / 1-thread rate).
2. MCTS simulations per second with one light rollout per leaf on the empty 9x9 board:
   tengen's UCT-RAVE search (1 and 2 threads) and OpenSpiel's C++ `pyspiel.MCTSBot` with
   `RandomRolloutEvaluator(1)`, in alternating rounds so machine load hits both alike.
   The issue's target: >= 10x OpenSpiel per thread, near-linear scaling over threads.
Usage: python benchmarks/core_speed.py [--rounds N]
"""

from __future__ import annotations

import argparse
import time

from engine import _core


def playouts_per_second(size: int, threads: int, seconds: float) -> float:
    n = 2000 if size == 9 else 400
    done = 0
    elapsed = 0.0
    while elapsed < seconds:
        r = _core.playout_benchmark(size, n * threads, seed=done + 1, threads=threads)
        done += r.playouts
        elapsed += r.seconds
    return done / elapsed


def tengen_sims_per_second(threads: int, simulations: int) -> float:
    config = _core.UctConfig()
    config.max_visits = simulations
    config.threads = threads
    result = _core.UctSearch(config).run(_core.Game(9, 7.5))
    return result.visits / result.seconds


def openspiel_sims_per_second(simulations: int) -> float:
    import pyspiel

    game = pyspiel.load_game("go", {"board_size": 9, "komi": 7.5})
    evaluator = pyspiel.RandomRolloutEvaluator(1, 1)
    bot = pyspiel.MCTSBot(game, evaluator, 1.4, simulations, 10**9, False, 1, False)
    state = game.new_initial_state()
    start = time.perf_counter()
    bot.step(state)
    return simulations / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="per playout measurement")
    args = parser.parse_args()

    print("Light playouts per second (per thread):")
    for size in (9, 19):
        one = playouts_per_second(size, 1, args.seconds)
        two = playouts_per_second(size, 2, args.seconds)
        print(f"  {size}x{size}: 1 thread {one:,.0f}/s; 2 threads {two:,.0f}/s total = {two / 2:,.0f}/s per thread;"
              f" scaling {two / one:.2f}x")

    ours1 = ours2 = theirs = 0.0
    for _ in range(args.rounds):
        ours1 += tengen_sims_per_second(1, 60_000)
        theirs += openspiel_sims_per_second(6_000)
        ours2 += tengen_sims_per_second(2, 120_000)
    ours1, ours2, theirs = ours1 / args.rounds, ours2 / args.rounds, theirs / args.rounds
    print(f"MCTS, empty 9x9, one light rollout per leaf ({args.rounds} alternating rounds):")
    print(f"  OpenSpiel MCTSBot + RandomRolloutEvaluator(1), 1 thread: {theirs:,.0f} sims/s")
    print(f"  tengen UCT-RAVE, 1 thread: {ours1:,.0f} sims/s = {ours1 / theirs:.1f}x OpenSpiel")
    print(f"  tengen UCT-RAVE, 2 threads: {ours2:,.0f} sims/s = {ours2 / 2 / theirs:.1f}x OpenSpiel per thread;"
          f" scaling {ours2 / ours1:.2f}x")


if __name__ == "__main__":
    main()
