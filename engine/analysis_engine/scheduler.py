"""The analysis engine's scheduler: every queued position searched through one batched runner per
board size, many positions at once, answers written as each one finishes.

Each board size has one `BatchedRunner` with `max_games` game slots. A position to analyse waits
in a priority queue (higher `priority` first, then arrival order); whenever a slot is free it is
set there (`set_position`, `set_target_visits`) and the runner steps all occupied slots together,
so one network batch holds leaves of every position in flight. Between runs (nothing in flight)
finished positions are reported and their slots reused; `terminate` reports a running position
with the visits it has (or `noResults`) and drops queued ones. End of input: the queued work is
finished first (KataGo's default) unless `finish_on_eof` is False, then the pending work is
dropped without answers.

Sizes without a network (`engines` has no entry) use `fallback` when given: uniform priors and
rollouts (no value net, ownership from light playouts, no scoreLead); without it such a query is
answered with an error.

Thread rule: `serve` runs on the caller's thread and owns every runner, network and estimator
(networks are only called between runner steps, so never by two threads at once). A reader
thread only puts raw input lines on a queue; the runners' own evaluation threads stay inside
BatchedRunner.run. Output is written by the caller's thread alone.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

import numpy as np

from engine import _core
from engine.analysis_engine.protocol import (
    Action,
    MoveStats,
    Position,
    Problem,
    Query,
    TurnResult,
    no_results_response,
    parse_line,
    to_json,
    turn_response,
    version_response,
)
from engine.errors import TengenError, one_line
from engine.search import BatchedRunner, Evaluator, SearchSettings, SearchStalled

if TYPE_CHECKING:
    from engine.net_estimates import NetEstimator

MAX_LINE = 1 << 22  # longer input lines are answered with an error, not parsed
STEPS_PER_RUN = 64  # most runner steps between two looks at the input and the finished slots
OWNERSHIP_PLAYOUTS = 200  # light playouts per ownership estimate without a network's ownership head


class LineSource(Protocol):
    def readline(self, limit: int = -1) -> bytes: ...


@dataclass(frozen=True)
class SizeEngine:
    """How one board size is searched: settings, evaluator (None: no network), rollout policy and
    the aux-head estimator (ownership + score lead; None without aux heads)."""

    settings: SearchSettings
    evaluator: Evaluator | None = None
    rollout_policy: _core.RolloutPolicy | None = None
    estimator: NetEstimator | None = None


def fallback_engine(seed: int = 1, rollout_threads: int = 1) -> SizeEngine:
    """The network-free engine: uniform priors, rollouts for leaf values."""
    return SizeEngine(SearchSettings(policy="uniform", use_value=False, use_rollouts=True, seed=seed,
                                     rollout_threads=rollout_threads, features="raw"))


@dataclass
class _Job:
    query: Query
    position: Position
    cancelled: bool = False


@dataclass
class _Runner:
    """One board size's runner and what each of its game slots holds."""

    engine: SizeEngine
    runner: BatchedRunner
    slots: list[_Job | None]
    stale: bool = False  # clear_cache asked while busy: rebuild once idle

    def active(self) -> list[tuple[int, _Job]]:
        return [(g, j) for g, j in enumerate(self.slots) if j is not None]


@dataclass
class _Pending:
    heap: list[tuple[int, int, _Job]] = field(default_factory=list)
    seq: itertools.count = field(default_factory=itertools.count)

    def push(self, job: _Job) -> None:
        heapq.heappush(self.heap, (-job.position.priority, next(self.seq), job))


class AnalysisScheduler:
    """Serves the JSON analysis protocol on a line source and a text stream."""

    def __init__(
        self,
        engines: Mapping[int, SizeEngine],
        out: TextIO,
        *,
        fallback: SizeEngine | None = None,
        max_games: int = 16,
        default_visits: int | None = None,
        perspective: str = "BLACK",
        pv_length: int = 15,
        finish_on_eof: bool = True,
        version: tuple[str, str] = ("unknown", "<omitted>"),
    ) -> None:
        if max_games < 1:
            raise ValueError("max_games must be at least 1")
        self.engines = dict(engines)
        self.fallback = fallback
        self.out = out
        self.max_games = max_games
        self.default_visits = default_visits
        self.perspective = perspective
        self.pv_length = pv_length
        self.finish_on_eof = finish_on_eof
        self.version = version
        self._runners: dict[int, _Runner] = {}
        self._pending = _Pending()
        self._inbox: queue.Queue[str | None] = queue.Queue()
        self._eof = False

    # ------------------------------------------------------------------ output

    def _write(self, obj: Mapping[str, Any]) -> None:
        try:
            line = to_json(obj)
        except (TypeError, ValueError) as exc:
            line = to_json({"id": obj.get("id"), "error": f"internal error: unwritable answer ({exc})"})
        self.out.write(line + "\n")
        self.out.flush()

    def _problem(self, p: Problem) -> None:
        self._write(p.to_dict())

    # ------------------------------------------------------------------ input

    def _reader(self, source: LineSource) -> None:
        try:
            while True:
                raw = source.readline(MAX_LINE + 1)
                if not raw:
                    break
                if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                    while True:  # the rest of an over-long line: it gets one answer
                        more = source.readline(MAX_LINE + 1)
                        if not more or more.endswith(b"\n"):
                            break
                    self._inbox.put("\0too long")
                    continue
                self._inbox.put(raw.decode("utf-8", errors="replace"))
        except (OSError, ValueError):
            pass
        self._inbox.put(None)

    def _handle_line(self, raw: str) -> None:
        if raw == "\0too long":
            self._problem(Problem("error", f"line longer than {MAX_LINE} bytes"))
            return
        if not raw.strip():
            return
        parsed = parse_line(raw)
        for w in parsed.warnings:
            self._problem(w)
        if parsed.error is not None:
            self._problem(parsed.error)
            return
        req = parsed.request
        if isinstance(req, Action):
            self._action(req)
        elif isinstance(req, Query):
            self._enqueue(req)

    def _engine_for(self, size: int) -> SizeEngine | None:
        return self.engines.get(size, self.fallback)

    def _enqueue(self, q: Query) -> None:
        if self._engine_for(q.size) is None:
            sizes = ", ".join(f"{s}x{s}" for s in sorted(self.engines)) or "none"
            self._problem(Problem("error", f"no network plays {q.size}x{q.size} (networks: {sizes})", q.id,
                                  "boardXSize"))
            return
        for pos in q.positions:
            self._pending.push(_Job(q, pos))

    def _action(self, a: Action) -> None:
        if a.action == "query_version":
            self._write(version_response(a, *self.version))
        elif a.action == "clear_cache":
            for size, r in list(self._runners.items()):
                if r.active():
                    r.stale = True
                else:
                    r.runner.close()
                    del self._runners[size]
            self._write(dict(a.echo))
        else:
            self._write(dict(a.echo))  # acknowledged first, as KataGo does
            self._terminate(a.terminate_id, a.turn_numbers)

    def _terminate(self, query_id: str | None, turns: frozenset[int] | None) -> None:
        def hit(job: _Job) -> bool:
            return ((query_id is None or job.query.id == query_id)
                    and (turns is None or job.position.turn in turns))

        for r in self._runners.values():
            for g, job in r.active():
                if hit(job):
                    self._finish(r, g, job)
        for _, _, job in self._pending.heap:
            if not job.cancelled and hit(job):
                job.cancelled = True
                self._write(no_results_response(job.query.id, job.position.turn))
        self._pending.heap = [e for e in self._pending.heap if not e[2].cancelled]
        heapq.heapify(self._pending.heap)

    # ------------------------------------------------------------------ searching

    def _runner_for(self, size: int) -> _Runner:
        r = self._runners.get(size)
        if r is not None and r.stale and not r.active():
            r.runner.close()
            del self._runners[size]
            r = None
        if r is None:
            engine = self._engine_for(size)
            assert engine is not None
            runner = BatchedRunner(engine.settings, size, _core.DEFAULT_KOMI, self.max_games, engine.evaluator,
                                   engine.rollout_policy)
            r = _Runner(engine, runner, [None] * self.max_games)
            self._runners[size] = r
        return r

    def _fill_slots(self) -> None:
        """Moves queued positions onto free slots, best priority first."""
        held: list[tuple[int, int, _Job]] = []
        full: set[int] = set()
        while self._pending.heap:
            entry = heapq.heappop(self._pending.heap)
            job = entry[2]
            if job.cancelled:
                continue
            size = job.query.size
            if size in full:
                held.append(entry)
                continue
            r = self._runner_for(size)
            free = next((g for g, j in enumerate(r.slots) if j is None), None)
            if free is None:
                full.add(size)
                held.append(entry)
                continue
            self._start(r, free, job)
        for entry in held:
            heapq.heappush(self._pending.heap, entry)

    def _start(self, r: _Runner, g: int, job: _Job) -> None:
        visits = job.query.max_visits or self.default_visits or r.engine.settings.visits
        if r.engine.settings.visits == 1:
            visits = 1
        if job.position.game.is_over:  # nothing to search: report the position as it is
            self._report(r, None, job)
            return
        r.runner.search.set_position(g, job.position.game)
        r.runner.search.set_target_visits(g, visits)
        r.slots[g] = job

    def _step(self, r: _Runner) -> None:
        """Runs `r` until a position finishes, input arrives or STEPS_PER_RUN steps pass."""
        search = r.runner.search
        active = [g for g, _ in r.active()]

        def keep_going() -> bool:
            return self._inbox.empty() and not any(search.search_done(g) for g in active)

        try:
            r.runner.run(keep_going, max_steps=STEPS_PER_RUN)
        except SearchStalled:
            for g, job in r.active():
                self._finish(r, g, job)
            return
        for g, job in r.active():
            if search.search_done(g):
                self._finish(r, g, job)

    def _finish(self, r: _Runner, g: int, job: _Job) -> None:
        """Reports slot g's position (noResults when it has no visits) and frees the slot."""
        r.slots[g] = None
        try:
            self._report(r, g, job)
        finally:
            r.runner.search.set_target_visits(g, 1)  # no more work on it until the slot is reused

    def _report(self, r: _Runner, g: int | None, job: _Job) -> None:
        """Writes the answer for `job`, searched on slot g (None: a finished game, not searched)."""
        try:
            if g is not None and r.runner.search.root_visits(g) <= 0:
                self._write(no_results_response(job.query.id, job.position.turn))
            else:
                self._write(turn_response(self._result(r, g, job), self.perspective))
        except Exception as exc:  # noqa: BLE001 - one bad answer must not stop the engine
            self._write({"id": job.query.id, "turnNumber": job.position.turn,
                         "error": one_line(f"internal error: {type(exc).__name__}: {exc}")})

    def _result(self, r: _Runner, g: int | None, job: _Job) -> TurnResult:
        search = r.runner.search
        game = job.position.game
        q = job.query
        to_move = game.to_move
        found = search.root_children(g, self.pv_length) if g is not None else []
        children = [c for c in found if q.allowed_at_root(to_move, c.move)]
        shown = [c for c in children if c.visits > 0] or children[:1]
        estimator = r.engine.estimator
        leads: list[float | None] = [None] * len(shown)
        root_lead: float | None = None
        ownership: list[float] | None = None
        if estimator is not None:
            after = []
            for c in shown:
                child = game.copy()
                child.play(to_move, c.move)
                after.append(child)
            estimates = estimator.estimate([game, *after])
            sign = 1.0 if to_move == _core.BLACK else -1.0
            root_lead = sign * estimates[0].score_lead
            leads = [sign * e.score_lead for e in estimates[1:]]
            if q.include_ownership:
                ownership = [float(v) for v in estimates[0].ownership]
        if q.include_ownership and ownership is None:
            ownership = [float(v) for v in game.ownership(OWNERSHIP_PLAYOUTS, 0).reshape(-1)]
        moves = tuple(
            MoveStats(move=c.move, visits=c.visits, winrate=(c.q + 1.0) / 2.0, prior=c.prior,
                      pv=tuple(c.pv) or (c.move,), score_lead=lead)
            for c, lead in zip(shown, leads, strict=True)
        )
        visits = search.root_visits(g) if g is not None else 0
        winrate = (search.root_value(g) + 1.0) / 2.0 if g is not None and visits > 0 else 0.5
        if game.is_over:
            score = game.area_score()
            winrate = 0.5 if score == 0 else float((score > 0) == (to_move == _core.BLACK))
        return TurnResult(query_id=q.id, turn=job.position.turn, to_move=to_move, size=game.size, visits=visits,
                          winrate=winrate, moves=moves, score_lead=root_lead, ownership=ownership,
                          policy=self._policy(r.engine, game) if q.include_policy else None, this_hash=game.hash)

    def _policy(self, engine: SizeEngine, game: _core.Game) -> list[float]:
        """The network's raw policy (no symmetry) over the board then pass, -1 on illegal moves."""
        n = game.size * game.size + 1
        mask = np.zeros((1, n), np.float32)
        _core.write_move_mask(game, mask[0])
        logits = np.zeros((1, n), np.float32)
        if engine.evaluator is not None:
            fs = engine.settings.features
            planes = np.zeros((1, _core.num_planes(fs), game.size, game.size), np.float32)
            _core.write_features_batch([game], planes, fs)
            engine.evaluator.evaluate(planes, mask, logits, np.zeros((1,), np.float32))
        legal = mask[0] > 0
        x = logits[0].astype(np.float64)
        x = np.where(legal & np.isfinite(x), x, -np.inf)
        if not np.isfinite(x).any():
            x = np.where(legal, 0.0, -np.inf)
        p = np.exp(x - x.max())
        p /= p.sum()
        return [float(v) if ok else -1.0 for v, ok in zip(p, legal, strict=True)]

    # ------------------------------------------------------------------ the loop

    def _busy(self) -> bool:
        return bool(self._pending.heap) or any(r.active() for r in self._runners.values())

    def _drain_inbox(self, block: bool) -> None:
        while True:
            try:
                raw = self._inbox.get(block=block)
            except queue.Empty:
                return
            block = False
            if raw is None:
                self._eof = True
                return
            try:
                self._handle_line(raw)
            except Exception as exc:  # noqa: BLE001 - no input may stop the engine
                self._problem(Problem("error", one_line(f"internal error: {type(exc).__name__}: {exc}")))

    def serve(self, source: LineSource, on_idle: Callable[[], None] | None = None) -> None:
        """Answers the lines of `source` until its end (then finishes or drops the queued work)."""
        threading.Thread(target=self._reader, args=(source,), daemon=True, name="tengen-analysis-input").start()
        try:
            while True:
                if not self._eof:
                    self._drain_inbox(block=not self._busy())
                if self._eof and (not self.finish_on_eof or not self._busy()):
                    break
                try:
                    self._fill_slots()
                    for r in list(self._runners.values()):
                        if r.active():
                            self._step(r)
                except TengenError as exc:
                    self._fail_all(one_line(str(exc)))
                except Exception as exc:  # noqa: BLE001 - a failed search must not stop the engine
                    self._fail_all(one_line(f"internal error: {type(exc).__name__}: {exc}"))
                if on_idle is not None and not self._busy():
                    on_idle()
        finally:
            for r in self._runners.values():
                r.runner.close()
            self._runners.clear()

    def _fail_all(self, message: str) -> None:
        """A runner could not be built or run: every position in flight and queued gets the error, and
        the runners are dropped (rebuilt for the next query)."""
        for r in self._runners.values():
            for g, job in r.active():
                r.slots[g] = None
                self._problem(Problem("error", message, job.query.id))
            r.runner.close()
        self._runners.clear()
        for _, _, job in self._pending.heap:
            if not job.cancelled:
                self._problem(Problem("error", message, job.query.id))
        self._pending.heap.clear()
