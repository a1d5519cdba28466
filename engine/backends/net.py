"""The network search backend: the batched PUCT/APV search (engine.search.BatchedRunner) with one
game slot, many leaves in flight.

Every AlphaGo ablation row is a `SearchSettings` value: a policy net / uniform / heuristic /
rollout-policy priors, a value net or not, rollouts (trained rollout policy or light playouts) or
not, lambda, and visits (1 = no search: play the policy's move). Between moves the subtree of the
moves actually played is kept (tree reuse). A search that stops making progress (a network whose
outputs are not finite lands no visits) ends instead of waiting for visits that never come.
Not thread-safe: one search at a time per backend.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from engine import _core
from engine.analysis import Candidate, PositionEstimate
from engine.backends.base import Budget, SearchOutcome
from engine.errors import ConfigError
from engine.search import BatchedRunner, Evaluator, SearchSettings, SearchStalled

if TYPE_CHECKING:
    from engine.net_estimates import NetEstimator


class NetSearchBackend:
    """Searches positions of one game at a time with a fixed evaluator and settings."""

    def __init__(
        self,
        settings: SearchSettings,
        evaluator: Evaluator | None,
        board_size: int | None = None,
        name: str = "tengen",
        rollout_policy: _core.RolloutPolicy | None = None,
        estimator: NetEstimator | None = None,
    ) -> None:
        self.settings = settings
        self.estimator = estimator  # ownership / score lead from a net with aux heads
        self.evaluator = evaluator
        self.rollout_policy = rollout_policy  # trained rollouts / 'rollout' priors; None: light playouts
        self.board_size = board_size  # None: any size (no network)
        self.name = name
        self._runner: BatchedRunner | None = None
        self._runner_key: tuple[int, float] | None = None
        self._searched_moves: list[tuple[int, int]] | None = None

    def supports_size(self, size: int) -> bool:
        """Any size without a network; the network's own size with one."""
        return self.board_size is None or self.board_size == size

    def _runner_for(self, game: _core.Game) -> BatchedRunner:
        key = (game.size, float(game.komi))
        if self._runner is None or self._runner_key != key:
            if self._runner is not None:
                self._runner.close()
            self._runner = BatchedRunner(self.settings, game.size, game.komi, 1, self.evaluator, self.rollout_policy)
            self._runner_key = key
            self._searched_moves = None
        return self._runner

    def _sync(self, runner: BatchedRunner, game: _core.Game) -> None:
        """Brings the search's game to `game`, reusing the tree when only moves were added."""
        moves = game.moves()
        prev = self._searched_moves
        if prev is not None and game.num_setup_stones == 0 and moves[: len(prev)] == prev:
            ok = True
            for color, move in moves[len(prev) :]:
                if runner.search.game(0).to_move != color or not runner.search.advance(0, move):
                    ok = False
                    break
            current = runner.search.game(0)
            if ok and current.hash == game.hash and current.to_move == game.to_move:
                self._searched_moves = list(moves)
                return
        runner.search.set_position(0, game)
        self._searched_moves = list(moves)

    def candidates(self) -> list[Candidate]:
        """The root moves of the last search, as the search orders them."""
        if self._runner is None:
            return []
        return [
            Candidate(move=c.move, visits=c.visits, winrate=(c.q + 1.0) / 2.0, prior=c.prior, pv=tuple(c.pv))
            for c in self._runner.search.root_children(0)
        ]

    def search(
        self,
        game: _core.Game,
        budget: Budget,
        stop: threading.Event | None = None,
        on_update: Callable[[list[Candidate]], None] | None = None,
        update_seconds: float = 1.0,
    ) -> SearchOutcome:
        """Searches `game`'s position for its player to move within `budget`."""
        if not self.supports_size(game.size):
            raise ValueError(f"the network plays {self.board_size}x{self.board_size}, not {game.size}x{game.size}")
        runner = self._runner_for(game)
        self._sync(runner, game)
        start = time.monotonic()
        visits = budget.visits if budget.visits is not None else 10**9
        if budget.visits is None and budget.seconds is None:
            visits = self.settings.visits
        if self.settings.visits == 1:
            visits = 1  # no search: the policy's move
        runner.search.set_target_visits(0, runner.search.root_visits(0) + max(visits, 1)
                                        if self.settings.reuse_tree else visits)
        next_update = start + update_seconds

        def keep_going() -> bool:
            nonlocal next_update
            if runner.search.search_done(0):
                return False
            now = time.monotonic()
            if stop is not None and stop.is_set() and runner.search.root_visits(0) > 0:
                return False
            if budget.seconds is not None and now - start >= budget.seconds and runner.search.root_visits(0) > 0:
                return False
            if on_update is not None and now >= next_update:
                on_update(self.candidates())
                next_update = now + update_seconds
            return True

        with contextlib.suppress(SearchStalled):  # a broken network: answer with what there is (a pass)
            runner.run(keep_going)
        cands = self.candidates()
        move = runner.search.best_move(0)
        best = next((c for c in cands if c.move == move), cands[0] if cands else None)
        winrate = best.winrate if best else 0.5
        total = runner.search.root_visits(0)
        if not 0 <= move <= game.pass_move or not game.is_legal(game.to_move, move):
            move = game.pass_move  # a search that made no progress (non-finite network outputs)
        return SearchOutcome(move=move, candidates=cands, visits=total, seconds=time.monotonic() - start,
                             winrate=winrate)

    def position_estimates(self, games: list[_core.Game]) -> list[PositionEstimate] | None:
        """The net's ownership and score lead per game; None without aux heads or off its size."""
        if self.estimator is None or any(not self.supports_size(g.size) for g in games):
            return None
        return self.estimator.estimate(games)

    def close(self) -> None:
        """Releases the runner (its worker threads and the evaluator's batch buffers)."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None


def load_net_backend(
    policy_weights: str | Path | None,
    value_weights: str | Path | None,
    settings: SearchSettings,
    device: str | None = None,
    rollout_weights: str | Path | None = None,
) -> NetSearchBackend:
    """A NetSearchBackend from weights files (each may be None for the ablations without it).
    `rollout_weights` (a trained rollout policy) plays the rollouts and gives policy 'rollout'
    its priors."""
    from engine.evaluators import TorchEvaluator  # torch only when a network is asked for
    from engine.net_estimates import NetEstimator
    from engine.weights import load_net, load_rollout_policy

    rollout = load_rollout_policy(rollout_weights) if rollout_weights else None
    if settings.policy == "rollout" and rollout is None:
        raise ConfigError("policy 'rollout' needs a trained rollout policy: give --rollout-weights")

    policy_net = load_net(policy_weights) if policy_weights else None
    if value_weights and policy_weights and Path(value_weights) == Path(policy_weights):
        value_net = policy_net
    elif value_weights:
        value_net = load_net(value_weights)
    else:
        # A shared-trunk policy+value net serves as both.
        value_net = policy_net if policy_net is not None and policy_net.config.has_value else None
    if policy_net is None and value_net is None:
        if settings.needs_network:
            raise ConfigError("these search settings need a network: give --weights (and/or --value-weights)")
        return NetSearchBackend(settings, None, rollout_policy=rollout)
    evaluator = TorchEvaluator(policy_net, value_net, device=device)
    settings = dataclasses.replace(settings, features=evaluator.feature_set)
    if policy_net is not None and not policy_net.config.has_policy:
        value_net, policy_net = policy_net, None  # a value net given alone
    if policy_net is None and settings.policy == "net":
        raise ConfigError("policy 'net' needs policy weights; use policy 'uniform' or 'heuristic' without them")
    if value_net is None and settings.use_value:
        raise ConfigError("use_value needs value weights; turn it off or give --value-weights")
    aux = next((n for n in (value_net, policy_net) if n is not None and n.config.aux_heads), None)
    estimator = NetEstimator(aux, evaluator.device) if aux is not None else None
    return NetSearchBackend(settings, evaluator, board_size=evaluator.board_size, rollout_policy=rollout,
                            estimator=estimator)
