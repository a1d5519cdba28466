"""Running a tournament: checks the players, plays the scheduled games that are not yet in the
results file in parallel (a thread per game, each driving two engine subprocesses), records
every finished game at once and shows a progress bar with the running score (with an adaptive
schedule, engine.arena.adaptive, the widest Elo interval instead of a fixed count of games).

Players start as TournamentConfig.as_played says (equal time: `seconds` per move for the
tengen players that search).

Output folder layout:
    tournament.json   the config and its fingerprint (a rerun with other players, rules, seed or
                      seconds per move into the same folder is refused; more games per pair, or
                      another adaptive target or cap, is fine)
    players.json      what each player reported over GTP (name, version) and its command line
    results.jsonl     one line per finished game (see match.GameResult)
    sgf/              one SGF per finished game

Stopping (Ctrl-C, or `stop` set by a caller) abandons the games in play; rerunning the same
command plays only the games missing from results.jsonl (adaptive: it goes on choosing from the
games recorded, reusing the indices of the abandoned games).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from engine.arena import adaptive
from engine.arena.config import GameSpec, MatchRules, TournamentConfig, game_seed
from engine.arena.engines import EngineInfo, EngineSpec, probe_engine
from engine.arena.match import GameResult, play_game
from engine.arena.results import ResultsFile
from engine.atomic_io import atomic_write_text
from engine.errors import ConfigError
from engine.gtp_client import find_gnugo

RESULTS = "results.jsonl"


@dataclass(frozen=True)
class TournamentRun:
    config: TournamentConfig
    out: Path
    results: tuple[GameResult, ...]  # every finished game in the folder, index order
    finish_order: tuple[GameResult, ...]  # the same games in the order they finished
    played: int  # games finished by this run
    scheduled: int  # fixed schedule: its games; adaptive: the games it stopped at, else games_max
    players: tuple[EngineInfo, ...]
    stopped: str | None = None  # adaptive: 'target', 'games-max' or 'unfinished'

    @property
    def complete(self) -> bool:
        if self.stopped is not None:
            return self.stopped != "unfinished"
        done = {r.index for r in self.results}
        return all(i in done for i in range(self.scheduled))


def _write_json(path: Path, data: object) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _claim_folder(config: TournamentConfig, out: Path) -> None:
    """Refuses a folder that holds another tournament's games; records this config."""
    out.mkdir(parents=True, exist_ok=True)
    meta = out / "tournament.json"
    fingerprint = config.fingerprint()
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if meta.exists():
        try:
            old = json.loads(meta.read_text())
        except ValueError:
            raise ConfigError(f"{meta} is unreadable; use another --out folder") from None
        if old.get("fingerprint") != fingerprint:
            raise ConfigError(
                f"{out} holds games of a different tournament (players, rules, seed or seconds per move "
                "differ); use another --out folder"
            )
        created = old.get("created", created)
    elif (out / RESULTS).exists():
        raise ConfigError(f"{out} has results but no tournament.json; use another --out folder")
    _write_json(meta, {"fingerprint": fingerprint, "created": created, "config": config.to_dict()})


def _check_recorded(store: ResultsFile, config: TournamentConfig) -> None:
    """Refuses recorded games the schedule contradicts: a round-robin game with other players,
    colours or seed; with an adaptive schedule also a later game that is not between two of the
    players or whose seed is not game_seed(seed, index)."""
    by_index = {g.index: g for g in config.schedule()}
    names = set(config.names)
    for r in store.results.values():
        g = by_index.get(r.index)
        if g is not None and (g.black, g.white, g.seed) != (r.black, r.white, r.seed):
            raise ConfigError(
                f"game {r.index} in {store.path} was {r.black} vs {r.white} (seed {r.seed}), not the "
                f"scheduled {g.black} vs {g.white} (seed {g.seed}); use another --out folder"
            )
        seed = game_seed(config.seed, r.index)
        if g is None and config.adaptive and not ({r.black, r.white} <= names and r.black != r.white
                                                  and r.seed == seed):  # fmt: skip
            raise ConfigError(
                f"game {r.index} in {store.path} ({r.black} vs {r.white}, seed {r.seed}) is not a game "
                f"between two players of this tournament with seed {seed}; use another --out folder"
            )


def running_score(results: list[GameResult] | tuple[GameResult, ...], names: tuple[str, ...]) -> str:
    """'a 3/4 b 1/4' for a few players, the top three by score for more."""
    points = dict.fromkeys(names, 0.0)
    games = dict.fromkeys(names, 0)
    for r in results:
        for n in (r.black, r.white):
            if n in points:
                points[n] += r.score_for(n)
                games[n] += 1
    shown = list(names)
    if len(names) > 4:
        shown = sorted(names, key=lambda n: -points[n] / max(games[n], 1))[:3]
    return " ".join(f"{n} {points[n]:g}/{games[n]}" for n in shown)


def probe_players(config: TournamentConfig) -> tuple[EngineInfo, ...]:
    """Starts each player once (name, version, board size); ConfigError when one cannot play."""
    needs_gnugo = config.rules.referee == "gnugo" or config.rules.score_by == "gnugo"
    if needs_gnugo and find_gnugo() is None:
        raise ConfigError("the GnuGo referee is required by this config but GnuGo is not installed "
                          "(apt-get install gnugo)")
    return tuple(probe_engine(p, config.rules.size) for p in config.played_players())


@dataclass(frozen=True, kw_only=True)
class ScheduledGame:
    """A game to start: its spec, the two engines, and a tag the scheduler tracks while it is in play."""

    game: GameSpec
    black: EngineSpec
    white: EngineSpec
    tag: str = ""


def play_in_parallel(
    *,
    workers: int,
    rules: MatchRules,
    out: Path,
    label: str,
    stop: threading.Event,
    next_game: Callable[[list[str]], ScheduledGame | None],
    on_result: Callable[[GameResult], None],
) -> None:
    """Keeps up to `workers` games in play until `next_game(tags of the games in play)` returns None
    and the games in play have finished; each finished game goes to `on_result` (games abandoned by
    `stop` do not). Any exception sets `stop`; the games in play return at their next move."""
    running: dict[Future[GameResult | None], str] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="game") as pool:

        def fill() -> None:
            while len(running) < workers and not stop.is_set():
                s = next_game(list(running.values()))
                if s is None:
                    return
                running[pool.submit(play_game, s.game, s.black, s.white, rules, out, label, stop)] = s.tag

        try:
            fill()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    del running[fut]
                    result = fut.result()
                    if result is not None:
                        on_result(result)
                fill()
        except BaseException:
            stop.set()
            raise


def run_tournament(
    config: TournamentConfig,
    out: Path,
    *,
    progress: bool = True,
    stop: threading.Event | None = None,
    keep_going: Callable[[list[GameResult]], bool] | None = None,
) -> TournamentRun:
    """Plays the games of `config` missing from `out` (adaptive: until its target or cap); returns
    every finished game.

    `keep_going(results)` is asked after each finished game, with every finished game in the
    order they finished; False starts no further games
    (those in play still finish and are recorded), as SPRT gating needs. `stop` abandons
    the games in play."""
    infos = probe_players(config)
    _claim_folder(config, out)
    _write_json(out / "players.json", [asdict(i) for i in infos])
    specs = {p.name: p for p in config.played_players()}
    store = ResultsFile(out / RESULTS)
    _check_recorded(store, config)
    stop = stop or threading.Event()
    played = 0
    draining = keep_going is not None and not keep_going(store.in_order_finished())
    plan = _AdaptivePlan(config, store) if config.adaptive else _FixedPlan(config, store)
    bar = tqdm(total=plan.total, initial=min(plan.done(), plan.total), unit="game", disable=not progress,
               desc=config.name, dynamic_ncols=True)  # fmt: skip
    bar.set_postfix_str(plan.postfix())

    def next_game(tags: list[str]) -> ScheduledGame | None:
        if draining:
            return None
        g = plan.next(tags)
        if g is None:
            return None
        return ScheduledGame(game=g, black=specs[g.black], white=specs[g.white], tag=str(g.index))

    def on_result(result: GameResult) -> None:
        nonlocal played, draining
        store.append(result)
        played += 1
        bar.set_postfix_str(plan.postfix(), refresh=False)
        bar.update(1)
        if keep_going is not None and not keep_going(store.in_order_finished()):
            draining = True

    try:
        play_in_parallel(workers=plan.workers, rules=config.rules, out=out, label=config.name, stop=stop,
                         next_game=next_game, on_result=on_result)
    finally:
        bar.close()
    stopped, scheduled = plan.outcome()
    return TournamentRun(config, out, tuple(store.ordered()), tuple(store.in_order_finished()), played,
                         scheduled, infos, stopped)


class _FixedPlan:
    """The round robin or gauntlet of `config.schedule()`, the games not yet recorded in index order."""

    def __init__(self, config: TournamentConfig, store: ResultsFile) -> None:
        self.config = config
        self.store = store
        self.schedule = config.schedule()
        self.pending = deque(g for g in self.schedule if g.index not in store.results)
        self.total = len(self.schedule)
        self.workers = max(1, min(config.workers, len(self.pending)))

    def done(self) -> int:
        return sum(1 for g in self.schedule if g.index in self.store.results)

    def next(self, _: list[str]) -> GameSpec | None:
        return self.pending.popleft() if self.pending else None

    def postfix(self) -> str:
        return running_score(self.store.ordered(), self.config.names)

    def outcome(self) -> tuple[str | None, int]:
        return None, self.total


class _AdaptivePlan:
    """The adaptive schedule (engine.arena.adaptive.next_game) over the recorded games and those
    in play (tracked by the tag of each game started: its index)."""

    def __init__(self, config: TournamentConfig, store: ResultsFile) -> None:
        assert config.games_max is not None and config.target_halfwidth is not None
        self.config = config
        self.store = store
        self.total = config.games_max
        self.target = config.target_halfwidth
        self.started: dict[str, GameSpec] = {}
        self.workers = max(1, min(config.workers, config.games_max - len(store.results)))

    def done(self) -> int:
        return len(self.store.results)

    def next(self, tags: list[str]) -> GameSpec | None:
        decision = adaptive.next_game(self.config, self.store.ordered(), [self.started[t] for t in tags])
        if decision.game is not None:
            self.started[str(decision.game.index)] = decision.game
        return decision.game

    def postfix(self) -> str:
        decision = adaptive.Decision(standings=adaptive.standings(self.config, self.store.ordered()))
        return adaptive.halfwidth_text(decision, self.target)

    def outcome(self) -> tuple[str | None, int]:
        stopped = adaptive.final_stop(self.config, self.store.ordered())
        if stopped is None:
            return "unfinished", self.total
        return stopped, len(self.store.results)
