"""Tree throughput of the batched search with the uniform evaluator (no network cost).

Prints simulations per second per thread on 9x9 and 19x19 for:
  - batched PUCT, many self-play games at once, every leaf through the Python evaluator
    buffers (policy "net" + value "net" answered by UniformEvaluator);
  - the built-in UCT-RAVE search with one light rollout per leaf (the baseline, same run).
Usage: python benchmarks/search_throughput.py [--seconds S]
"""

from __future__ import annotations

import argparse
import time

from engine import _core
from engine.search import BatchedRunner, SearchSettings, UniformEvaluator


def batched_sims_per_second(size: int, seconds: float) -> tuple[float, float]:
    settings = SearchSettings(visits=200, batch_size=256, max_moves=2 * size * size, seed=1)
    with BatchedRunner(settings, size, 7.5, 256, UniformEvaluator()) as runner:
        runner.search.start_selfplay(10**9)
        start = time.perf_counter()
        deadline = start + seconds
        steps = runner.run(lambda: time.perf_counter() < deadline)
        elapsed = time.perf_counter() - start
        evals = runner.search.evaluations + runner.search.terminal_hits
        return evals / elapsed, evals / max(steps, 1)


def uct_sims_per_second(size: int, seconds: float) -> float:
    config = _core.UctConfig()
    config.max_visits = 0
    config.max_seconds = seconds
    result = _core.UctSearch(config).run(_core.Game(size, 7.5))
    return result.visits / result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"{'board':>6} {'batched PUCT sims/s':>20} {'leaves/step':>12} {'UCT-RAVE sims/s':>16} {'ratio':>7}")
    for size in (9, 19):
        batched, per_step = batched_sims_per_second(size, args.seconds)
        uct = uct_sims_per_second(size, args.seconds)
        print(f"{size:>4}x{size:<2} {batched:>20,.0f} {per_step:>12.1f} {uct:>16,.0f} {batched / uct:>7.2f}")


if __name__ == "__main__":
    main()
