"""Batched search from Python: typed settings, evaluators, and the gather/evaluate/scatter loop.

The C++ `BatchedSearch` selects leaves across many games and writes their input planes into
buffers allocated here once; an `Evaluator` fills policy logits and values; `scatter` backs
them up. Two slots (even / odd games) let C++ gather one batch while the network runs the
other. Every AlphaGo ablation row is a `SearchSettings` value:

    policy  : "net" | "uniform" | "heuristic" | "rollout"   (priors; "rollout" = the trained
              rollout policy, AlphaGo's choice when the policy network is switched off)
    use_value, use_rollouts, lambda_            (leaf value = (1-lambda) v + lambda z; rollouts
                                                 are played by the trained rollout policy when the
                                                 runner has one, else as light random playouts)
    visits  : 1 means no search (play the policy's move)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine import _core
from engine.config import from_mapping
from engine.errors import ConfigError, TengenError

POLICIES: tuple[str, ...] = _core.POLICY_MODES  # named once, in C++ (csrc/search/search_config.cpp)
STALLED_STEPS = 256  # steps in a row with no leaf resolved before a network search gives up


class SearchStalled(TengenError):
    """A network search stopped making progress: no network evaluation, cache hit or terminal leaf
    for STALLED_STEPS steps in a row (non-finite network outputs leave no child selectable)."""


@dataclass(frozen=True, kw_only=True)
class SearchSettings:
    """Settings of the batched search, field for field the C++ SearchConfig.

    The C++ side lists them once (csrc/search/search_config.h, X-macro tables with the same
    defaults); tests/test_settings_parity.py keeps this class equal to it. The first group is
    read by every search (GTP, arena, self-play); the second only by the self-play driver.
    """

    # -- Search --------------------------------------------------------------------------
    visits: int = 200  # simulations per move; 1 plays from the priors (no search)
    leaves_per_game: int = 1  # leaves in flight per game in one gather
    batch_size: int = 64  # most leaves one gather writes
    c_puct: float = 1.5  # exploration constant
    c_puct_base: float = 0.0  # > 0: AlphaZero's growth, c_puct + log((1 + N + base) / base)
    fpu_reduction: float = 0.25  # unvisited child value = parent value - this
    virtual_loss: float = 3.0  # losses a leaf in flight counts as
    policy: str = "net"  # tree priors: one of POLICIES
    use_value: bool = True  # value network on
    use_rollouts: bool = False  # rollouts on
    lambda_: float = 0.5  # rollout weight when both value and rollouts are on ("lambda" in files)
    rollout_threads: int = 1  # threads playing one gather's rollouts
    features: str = "alphago"  # input feature set (_core.feature_sets())
    random_symmetry: bool = True  # evaluate each leaf in a symmetry picked from its hash
    gumbel: bool = False  # Gumbel-top-k sampling with sequential halving at the root
    gumbel_considered: int = 16  # root moves Gumbel-top-k keeps
    reuse_tree: bool = True  # keep the played move's subtree
    cache_size: int = 0  # NN cache entries (0: off)
    seed: int = 1

    # -- Self-play only --------------------------------------------------------------------
    root_noise: bool = False  # Dirichlet noise on the root priors
    dirichlet_alpha: float = 0.03
    dirichlet_epsilon: float = 0.25
    temperature_moves: int = 0  # moves (from the start) chosen by visit sampling
    temperature: float = 1.0
    resign_threshold: float = -2.0  # resign when the best root value falls below (< -1: never)
    no_resign_fraction: float = 0.1  # games that never resign (false-positive check)
    max_moves: int = 0  # game length cap (0: 2 * size * size)
    full_search_prob: float = 1.0  # playout cap randomisation: chance of a full search
    fast_visits: int = 0  # visits of the other searches (0: off)

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (self.visits >= 1, "visits must be at least 1"),
            (self.leaves_per_game >= 1, "leaves_per_game must be at least 1"),
            (self.batch_size >= 1, "batch_size must be at least 1"),
            (self.c_puct > 0, "c_puct must be positive"),
            (self.policy in POLICIES, f"policy must be one of {', '.join(POLICIES)}"),
            (self.visits == 1 or self.use_value or self.use_rollouts,
             "a search needs the value net, rollouts, or both (only visits: 1, no search, needs neither)"),
            (0.0 <= self.lambda_ <= 1.0, "lambda_ must be in [0, 1]"),
            (self.rollout_threads >= 1, "rollout_threads must be at least 1"),
            (self.dirichlet_alpha > 0, "dirichlet_alpha must be positive"),
            (0.0 <= self.dirichlet_epsilon <= 1.0, "dirichlet_epsilon must be in [0, 1]"),
            (self.gumbel_considered >= 1, "gumbel_considered must be at least 1"),
            (self.temperature >= 0, "temperature must be >= 0"),
            (0.0 <= self.no_resign_fraction <= 1.0, "no_resign_fraction must be in [0, 1]"),
            (0.0 <= self.full_search_prob <= 1.0, "full_search_prob must be in [0, 1]"),
            (self.cache_size >= 0, "cache_size must be >= 0"),
            (self.features in _core.feature_sets(), f"features must be one of {_core.feature_sets()}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"search config: {message}")

    @property
    def needs_network(self) -> bool:
        return self.policy == "net" or self.use_value

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SearchSettings:
        """Builds settings from a config file's mapping (engine.config, the one strict loader): unknown
        keys, bad types and nan/inf are errors; `lambda` in files is the field `lambda_`."""
        try:
            return from_mapping(cls, data)
        except ConfigError as exc:
            message = str(exc)
            prefix = "" if message.startswith("search config:") else "search config: "
            raise ConfigError(prefix + message) from None

    def to_core(self) -> _core.SearchConfig:
        """The C++ SearchConfig with every field copied by name."""
        config = _core.SearchConfig()
        for f in dataclasses.fields(self):
            setattr(config, f.name, getattr(self, f.name))
        return config


class Evaluator(Protocol):
    """Fills policy logits [n, size*size+1] and values [n] (for the player to move, in [-1, 1])."""

    def evaluate(self, inputs: np.ndarray, masks: np.ndarray, policy: np.ndarray, values: np.ndarray) -> None: ...


class UniformEvaluator:
    """Uniform policy and a value of 0: search driven by terminal scores (and rollouts if on)."""

    def evaluate(self, inputs: np.ndarray, masks: np.ndarray, policy: np.ndarray, values: np.ndarray) -> None:
        policy[...] = 0.0
        values[...] = 0.0


@dataclass
class _Slot:
    inputs: np.ndarray
    masks: np.ndarray
    policy: np.ndarray
    values: np.ndarray


class BatchedRunner:
    """Owns a C++ BatchedSearch, its buffers, and the two-slot evaluation loop."""

    def __init__(
        self,
        settings: SearchSettings,
        size: int,
        komi: float,
        num_games: int,
        evaluator: Evaluator | None = None,
        rollout_policy: _core.RolloutPolicy | None = None,
    ) -> None:
        if settings.needs_network and evaluator is None:
            raise ConfigError("this search configuration needs a network (policy 'net' or the value net)")
        if settings.policy == "rollout" and rollout_policy is None:
            raise ConfigError("search config: policy 'rollout' needs rollout-policy weights (--rollout-weights)")
        self.settings = settings
        self.size = size
        self.evaluator = evaluator
        try:
            self.search = _core.BatchedSearch(settings.to_core(), size, komi, num_games)
        except ValueError as exc:
            raise ConfigError(f"search config: {exc}") from exc
        if rollout_policy is not None:
            self.search.set_rollout_policy(rollout_policy)
        b, planes, p = settings.batch_size, self.search.planes, self.search.policy_size
        self._slots: list[_Slot] = []
        for slot in range(2):
            s = _Slot(
                inputs=np.zeros((b, planes, size, size), dtype=np.float32),
                masks=np.zeros((b, p), dtype=np.float32),
                policy=np.zeros((b, p), dtype=np.float32),
                values=np.zeros((b,), dtype=np.float32),
            )
            self.search.set_buffers(slot, s.inputs, s.masks, s.policy, s.values)
            self._slots.append(s)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tengen-eval")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> BatchedRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _evaluate(self, slot: int, n: int) -> None:
        s = self._slots[slot]
        assert self.evaluator is not None
        self.evaluator.evaluate(s.inputs[:n], s.masks[:n], s.policy[:n], s.values[:n])

    def run(self, keep_going: Callable[[], bool], max_steps: int | None = None, *, overlap: bool = True) -> int:
        """Gathers and scatters while keep_going() is true. Returns steps run.

        With `overlap` (the default, APV-MCTS's asynchrony) the network evaluates one slot's leaves
        on the evaluation thread while this thread gathers the other slot, rollouts included; without
        it each slot is gathered, evaluated and scattered before the next gather (for measuring what
        the overlap gains, benchmarks/apv_overlap.py)."""
        pending: dict[int, tuple[Future[None] | None, int]] = {}
        steps = 0
        slot = 0
        search = self.search
        # Every leaf of a network search is evaluated, a cache hit or terminal; searches without a
        # network resolve leaves by rollouts inside gather and always progress.
        watch = self.settings.needs_network
        resolved, idle = -1, 0
        while True:
            if not keep_going() or (max_steps is not None and steps >= max_steps):
                break
            if watch:
                now = search.evaluations + search.cache_hits + search.terminal_hits
                idle = idle + 1 if now == resolved else 0
                resolved = now
            if idle > STALLED_STEPS:
                self._drain(pending)
                raise SearchStalled(
                    f"the search resolved no leaf in {STALLED_STEPS} steps: are the network's outputs finite?"
                )
            n = self.search.gather(slot)
            if not overlap:  # evaluate and scatter this slot before the next gather
                if n > 0:
                    self._evaluate(slot, n)
                search.scatter(slot, n)
                steps += 1
                continue
            fut = self._pool.submit(self._evaluate, slot, n) if n > 0 else None
            other = 1 - slot
            if other in pending:
                ofut, on = pending.pop(other)
                if ofut is not None:
                    ofut.result()
                self.search.scatter(other, on)
            pending[slot] = (fut, n)
            slot = other
            steps += 1
        self._drain(pending)
        return steps

    def _drain(self, pending: dict[int, tuple[Future[None] | None, int]]) -> None:
        """Waits for the evaluations in flight and scatters them, leaving no slot half done."""
        for s, (fut, n) in list(pending.items()):
            if fut is not None:
                fut.result()
            self.search.scatter(s, n)
        pending.clear()

    def search_position(
        self,
        game: _core.Game,
        visits: int,
        should_stop: Callable[[], bool] | None = None,
        *,
        overlap: bool = True,
    ) -> None:
        """Searches one game's position (game index 0) until `visits` root visits or should_stop()."""
        self.search.set_position(0, game)
        self.search.set_target_visits(0, visits)
        stop = should_stop or (lambda: False)
        self.run(lambda: not self.search.search_done(0) and not stop(), overlap=overlap)

    def play_selfplay(self, total_games: int, on_finished: Callable[[dict[str, Any]], None] | None = None) -> list:
        """Plays `total_games` self-play games over this runner's game slots; returns them."""
        self.search.start_selfplay(total_games)
        games: list[dict[str, Any]] = []

        def keep_going() -> bool:
            for g in self.search.pop_finished():
                games.append(g)
                if on_finished is not None:
                    on_finished(g)
            return not self.search.all_done()

        self.run(keep_going)
        for g in self.search.pop_finished():
            games.append(g)
            if on_finished is not None:
                on_finished(g)
        return games
