"""Running a tournament: checks the players, plays the scheduled games that are not yet in the
results file in parallel (a thread per game, each driving two engine subprocesses), records
every finished game at once and shows a progress bar with the running score.

Output folder layout:
    tournament.json   the config and its fingerprint (a rerun with other players, rules or seed
                      into the same folder is refused; more games per pair is fine)
    players.json      what each player reported over GTP (name, version) and its command line
    results.jsonl     one line per finished game (see match.GameResult)
    sgf/              one SGF per finished game

Stopping (Ctrl-C, or `stop` set by a caller) abandons the games in play; rerunning the same
command plays only the games missing from results.jsonl.
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

from engine.arena.config import GameSpec, MatchRules, TournamentConfig
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
    scheduled: int
    players: tuple[EngineInfo, ...]

    @property
    def complete(self) -> bool:
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
                f"{out} holds games of a different tournament (players, rules or seed differ); "
                "use another --out folder"
            )
        created = old.get("created", created)
    elif (out / RESULTS).exists():
        raise ConfigError(f"{out} has results but no tournament.json; use another --out folder")
    _write_json(meta, {"fingerprint": fingerprint, "created": created, "config": config.to_dict()})


def _check_recorded(store: ResultsFile, schedule: list[GameSpec]) -> None:
    by_index = {g.index: g for g in schedule}
    for r in store.results.values():
        g = by_index.get(r.index)
        if g is not None and (g.black, g.white, g.seed) != (r.black, r.white, r.seed):
            raise ConfigError(
                f"game {r.index} in {store.path} was {r.black} vs {r.white} (seed {r.seed}), not the "
                f"scheduled {g.black} vs {g.white} (seed {g.seed}); use another --out folder"
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
    return tuple(probe_engine(p, config.rules.size) for p in config.players)


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
    """Plays the games of `config` missing from `out`; returns every finished game.

    `keep_going(results)` is asked after each finished game, with every finished game in the
    order they finished; False starts no further games
    (those in play still finish and are recorded), as SPRT gating needs. `stop` abandons
    the games in play."""
    infos = probe_players(config)
    _claim_folder(config, out)
    _write_json(out / "players.json", [asdict(i) for i in infos])
    schedule = config.schedule()
    store = ResultsFile(out / RESULTS)
    _check_recorded(store, schedule)
    pending = deque(g for g in schedule if g.index not in store.results)
    stop = stop or threading.Event()
    workers = max(1, min(config.workers, len(pending)))
    done_before = sum(1 for g in schedule if g.index in store.results)
    played = 0
    draining = keep_going is not None and not keep_going(store.in_order_finished())
    bar = tqdm(total=len(schedule), initial=done_before, unit="game", disable=not progress,
               desc=config.name, dynamic_ncols=True)
    bar.set_postfix_str(running_score(store.ordered(), config.names))
    def next_game(_: list[str]) -> ScheduledGame | None:
        if not pending or draining:
            return None
        g = pending.popleft()
        return ScheduledGame(game=g, black=config.player(g.black), white=config.player(g.white))

    def on_result(result: GameResult) -> None:
        nonlocal played, draining
        store.append(result)
        played += 1
        bar.set_postfix_str(running_score(store.ordered(), config.names), refresh=False)
        bar.update(1)
        if keep_going is not None and not keep_going(store.in_order_finished()):
            draining = True

    try:
        play_in_parallel(workers=workers, rules=config.rules, out=out, label=config.name, stop=stop,
                         next_game=next_game, on_result=on_result)
    finally:
        bar.close()
    return TournamentRun(config, out, tuple(store.ordered()), tuple(store.in_order_finished()), played,
                         len(schedule), infos)
