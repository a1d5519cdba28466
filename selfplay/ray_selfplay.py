"""Self-play on Ray: the AlphaZero recipe's games played by Ray actors, the learner in the driver.

`tengen train --config ... --ray local` starts a Ray instance in this process; `--ray ADDRESS`
joins a running cluster (`ray start --head` on one machine, `ray start --address=HEAD:6379` on
the others). Ray is an optional extra (`pip install 'tengen[ray]'`) and imported only here, only
when --ray is given.

How it works (a `selfplay.zero.GameSource`, so `produce_games` and the run directory are the
same as without Ray):
  - Weights: once per iteration the driver puts the bytes of the current weights file into
    Ray's object store (`ray.put`); each chunk carries that reference and a key, and an actor
    loads the net only when the key changes.
  - Work: the iteration's remaining games are cut into chunks of `chunk_games` (default: at most
    parallel_games, at least two chunks per actor and iteration); a chunk starting
    at game number g of the iteration is played with the seed derive_seed(recipe seed,
    iteration, g) (selfplay.zero.play_selfplay_chunk), so the games do not depend on which
    actor plays them or how many there are. Each actor has up to two chunks in flight.
  - Writing: finished games come back as SelfplayGame objects and only the driver writes them,
    with GameStore.add, in chunk order; crash safety and layout are those of the store.
  - A killed actor (RayActorError) loses only its unfinished chunks: the driver starts a new
    actor in its place and dispatches those chunks again. A killed driver loses the games it
    had not written yet; `tengen train` run again resumes from the store, as without Ray.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import importlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.errors import TengenError, UserError
from selfplay.recipe import ZeroRecipe
from selfplay.selfplay_shards import SelfplayGame
from selfplay.zero import OnGame

INSTALL_HINT = "pip install 'tengen[ray]'"
MAX_DEFAULT_WORKERS = 32  # --ray-workers default: the cluster's CPUs, at most this many
IN_FLIGHT = 2  # chunks queued per actor, so an actor never waits for the driver
_ADDRESS = re.compile(r"^(ray://)?[A-Za-z0-9.\-_\[\]:]+:(\d{1,5})$")


class RaySelfplayError(TengenError):
    """Ray self-play cannot start or keeps failing; the message is one sentence."""


def import_ray() -> Any:
    """The ray module, or a one-sentence error naming the extra to install."""
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        raise RaySelfplayError(f"--ray needs Ray, which is not installed ({exc}); {INSTALL_HINT}") from exc


def check_options(address: str, workers: int | None = None, chunk_games: int | None = None) -> str:
    """`address` must be `local`, `auto` or [ray://]HOST:PORT, the counts >= 1; else a UserError."""
    if workers is not None and workers < 1:
        raise UserError(f"--ray-workers must be at least 1, not {workers}")
    if chunk_games is not None and chunk_games < 1:
        raise UserError(f"--ray-chunk must be at least 1, not {chunk_games}")
    if address in ("local", "auto"):
        return address
    m = _ADDRESS.match(address)
    if not m or not 1 <= int(m.group(2)) <= 65535:
        raise UserError(
            f"--ray must be 'local' (start Ray here), 'auto' or a cluster address HOST:PORT "
            f"(e.g. 10.0.0.5:6379), not {address!r}"
        )
    return address


def default_chunk(recipe: ZeroRecipe, workers: int) -> int:
    """Games per request: each actor gets at least two chunks of an iteration (a killed one loses
    little) and at most parallel_games (its NN batches are those of one process)."""
    sp = recipe.selfplay
    return max(1, min(sp.parallel_games, -(-sp.games_per_iteration // (2 * workers))))


class SelfplayWorker:
    """One Ray actor: a TorchEvaluator for the current weights and a BatchedRunner per chunk."""

    def __init__(self, recipe: ZeroRecipe) -> None:
        from engine.torch_device import pick_device
        from selfplay.torch_setup import set_threads

        self.recipe = recipe
        self.device = pick_device(recipe.device)
        set_threads(recipe.torch_threads)
        self.key = ""
        self.evaluator: Any = None
        self.folder = tempfile.TemporaryDirectory(prefix="tengen-ray-")

    def pid(self) -> int:
        return os.getpid()

    def play(self, key: str, weights: list[Any], iteration: int, first: int, count: int) -> list[SelfplayGame]:
        """`count` games of `iteration` from game number `first`, with the weights `key` names
        (`weights[0]` is their object reference, fetched only when the key changes)."""
        from engine.evaluators import TorchEvaluator
        from engine.weights import load_net
        from selfplay.zero import play_selfplay_chunk

        if key != self.key:
            ray = importlib.import_module("ray")
            path = Path(self.folder.name) / "weights.safetensors"
            path.write_bytes(ray.get(weights[0]))
            net = load_net(path, expected=self.recipe.net, device=self.device)
            self.evaluator = TorchEvaluator(net, net, device=self.device, precision=self.recipe.inference_precision)
            self.key = key
        games: list[SelfplayGame] = []
        play_selfplay_chunk(self.recipe, self.evaluator, iteration, first, count, games.append)
        return games


class RayGames:
    """A selfplay.zero.GameSource whose games are played by `workers` Ray actors."""

    def __init__(
        self, ray: Any, recipe: ZeroRecipe, workers: int, chunk_games: int, owns_ray: bool,
        log: Callable[[str], None] = print,
    ) -> None:
        self.ray = ray
        self.recipe = recipe
        self.chunk_games = chunk_games
        self.owns_ray = owns_ray
        self.log = log
        self._actor_class = ray.remote(num_cpus=1, max_restarts=0)(SelfplayWorker)
        self.workers: list[Any] = [self._new_worker() for _ in range(workers)]
        self.restarts = 0  # actors replaced after they died

    @classmethod
    def start(
        cls, address: str, recipe: ZeroRecipe, workers: int | None = None, chunk_games: int | None = None,
        log: Callable[[str], None] = print,
    ) -> RayGames:
        """Starts Ray here (`local`) or joins the cluster at `address`, and the actors."""
        address = check_options(address, workers, chunk_games)
        ray = import_ray()
        owns = False
        if not ray.is_initialized():
            try:
                if address == "local":
                    ray.init(num_cpus=max(workers or 0, os.cpu_count() or 1), include_dashboard=False,
                             log_to_driver=False)
                else:
                    ray.init(address=address, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
                where = "a local Ray instance" if address == "local" else f"the Ray cluster at {address}"
                raise RaySelfplayError(f"could not start or reach {where} ({exc})") from exc
            owns = True
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if workers is None:
            workers = max(1, min(cpus, MAX_DEFAULT_WORKERS))
        elif workers > cpus:
            if owns:
                ray.shutdown()
            raise UserError(f"--ray-workers {workers} is more than the Ray cluster's {cpus} CPUs")
        chunk = chunk_games or default_chunk(recipe, workers)
        games = cls(ray, recipe, workers, chunk, owns, log)
        log(f"ray: {workers} self-play workers on {cpus} CPUs, {chunk} games per chunk")
        return games

    def _new_worker(self) -> Any:
        return self._actor_class.remote(self.recipe)

    def worker_pids(self) -> list[int]:
        """The process ids of the actors (for tests and monitoring)."""
        return [int(p) for p in self.ray.get([w.pid.remote() for w in self.workers])]

    def play(self, recipe: ZeroRecipe, iteration: int, weights: Path, first: int, count: int, on_game: OnGame) -> None:
        ray = self.ray
        if recipe != self.recipe:
            raise RaySelfplayError("the Ray workers were started for another recipe")
        from ray.exceptions import RayActorError

        data = weights.read_bytes()
        key = f"{weights.name}:{hashlib.sha256(data).hexdigest()[:16]}"
        ref = ray.put(data)  # once per iteration; every actor reads it from the object store
        end = first + count
        todo = [(g, min(self.chunk_games, end - g)) for g in range(first, end, self.chunk_games)]
        heapq.heapify(todo)  # lowest first: the driver writes in chunk order
        done: dict[int, list[SelfplayGame]] = {}
        in_flight: dict[Any, tuple[int, Any, tuple[int, int]]] = {}  # ref -> (slot, actor, chunk)
        budget = 2 * len(self.workers) + 4  # actor deaths tolerated in one iteration
        next_write = first
        try:
            while next_write < end:
                for depth in range(IN_FLIGHT):  # round robin: every actor one chunk, then a second
                    for slot, actor in enumerate(self.workers):
                        busy = sum(1 for s, a, _ in in_flight.values() if s == slot and a is actor)
                        if todo and busy <= depth:
                            chunk = heapq.heappop(todo)
                            r = actor.play.remote(key, [ref], iteration, chunk[0], chunk[1])
                            in_flight[r] = (slot, actor, chunk)
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                slot, actor, chunk = in_flight.pop(ready[0])
                try:
                    games = ray.get(ready[0])
                    if len(games) != chunk[1]:
                        raise RaySelfplayError(f"a Ray worker returned {len(games)} games for a chunk of {chunk[1]}")
                    done[chunk[0]] = games
                except RayActorError as exc:
                    heapq.heappush(todo, chunk)
                    if self.workers[slot] is actor:  # the first of its lost chunks: replace it once
                        if budget == 0:
                            raise RaySelfplayError(
                                f"Ray self-play workers keep dying ({self.restarts} replaced in {iteration=}); "
                                f"last: {type(exc).__name__}"
                            ) from exc
                        budget -= 1
                        self.restarts += 1
                        self.workers[slot] = self._new_worker()
                        self.log(f"ray: self-play worker {slot} died ({type(exc).__name__}); started a new one, "
                                 f"its chunks are played again")
                while next_write in done:
                    games = done.pop(next_write)
                    for game in games:
                        on_game(game)
                    next_write += len(games)
        finally:
            for r in in_flight:  # only after an error: Ctrl-C, a failed write, a worker's exception
                with contextlib.suppress(Exception):  # best effort; close() kills the actors
                    ray.cancel(r)

    def close(self) -> None:
        for w in self.workers:
            self.ray.kill(w)
        self.workers = []
        if self.owns_ray:
            self.ray.shutdown()
