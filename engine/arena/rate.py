"""Running the ladder: `rate_player` rates one player against a ladder's anchors, and
`calibrate_ladder` plays the anchors against each other and writes a ladder with their Elos.

Rating folder layout (`--out`):
    rating-run.json   the player and the ladder the games belong to: the same folder continues
                      the same rating; another player, or a ladder with other anchors, rules, seed
                      or time per move, is refused (new Elos for the same anchors are fine)
    players.json      what each engine reported over GTP
    results.jsonl     one line per finished game (engine.arena.results; the player against one anchor)
    sgf/              one SGF per game
    rating.json       the rating after the last game: Elo, interval, games, W-D-L per anchor

Games run in parallel (a thread per game, each driving two GTP subprocesses through
engine.arena.match.play_game); each game's opponent is chosen when it starts
(engine.arena.ladder.choose_anchor, counting the games in play), its colour alternates per
anchor, and its seed is engine.arena.config.game_seed(ladder seed, game index). Once the stopping
rule says so no game starts; games in play finish and count. Stopping (Ctrl-C) abandons the
games in play; the same command resumes.

Calibration is an ordinary arena tournament (engine.arena.tournament: round robin, resumable,
report.md) among the anchors, fitted by engine.arena.elo.fit_elo with the pinned anchor held at
its Elo; the new ladder (`ladder.yaml` in the folder) is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tqdm import tqdm

from engine.arena.config import Anchor, GameSpec, TournamentConfig, game_seed
from engine.arena.elo import EloFit, fit_elo
from engine.arena.engines import EngineSpec
from engine.arena.ladder import (
    Ladder,
    LadderRating,
    choose_anchor,
    ladder_yaml,
    rate_scores,
    start_estimate,
    stop_reason,
)
from engine.arena.match import GameResult
from engine.arena.report import write_report
from engine.arena.results import ResultsFile
from engine.arena.tournament import (
    RESULTS,
    ScheduledGame,
    TournamentRun,
    play_in_parallel,
    probe_players,
    run_tournament,
)
from engine.atomic_io import atomic_write_text
from engine.errors import ConfigError

RUN_META = "rating-run.json"
RATING = "rating.json"
INTERVAL = "likelihood-ratio (profile likelihood)"


@dataclass(frozen=True)
class AnchorRecord:
    """The rated player's wins, draws and losses against one anchor."""

    name: str
    elo: float
    calibrated: bool
    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses


@dataclass(frozen=True)
class RatingRun:
    player: str
    rating: LadderRating | None  # None: no finished game
    records: tuple[AnchorRecord, ...]  # every anchor, ladder order
    results: tuple[GameResult, ...]
    played: int  # games finished by this run
    stopped: str  # 'target', 'games-max' or 'unfinished'
    uncalibrated: tuple[str, ...]  # anchors played whose Elo is not calibrated

    def line(self) -> str:
        """`PLAYER: Elo E [lo, hi] over N games (W-D-L vs each anchor)`."""
        r = self.rating
        played = ", ".join(f"{a.wins}-{a.draws}-{a.losses} vs {a.name}" for a in self.records if a.games)
        if r is None:
            return f"{self.player}: no finished games"
        return f"{self.player}: Elo {_elo(r.elo)} [{_elo(r.low)}, {_elo(r.high)}] over {r.games} games ({played})"


def _elo(x: float) -> str:
    return f"{x:.0f}"  # inf and -inf print as such


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _hash(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _write_json(path: Path, data: object) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _claim(out: Path, player: EngineSpec, ladder: Ladder) -> None:
    """Refuses a folder holding another player's or another ladder's games; records this pair."""
    out.mkdir(parents=True, exist_ok=True)
    meta = out / RUN_META
    mine = {"player": player.to_dict(), "player_fingerprint": _hash(player.to_dict()),
            "ladder_fingerprint": ladder.fingerprint(), "ladder": ladder.source}  # fmt: skip
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if meta.exists():
        try:
            old = json.loads(meta.read_text())
            if not isinstance(old, dict):
                raise ValueError(meta)
        except ValueError:
            raise ConfigError(f"{meta} is unreadable; use another --out folder") from None
        if old.get("player_fingerprint") != mine["player_fingerprint"]:
            who = old.get("player", {}).get("name", "?") if isinstance(old.get("player"), dict) else "?"
            raise ConfigError(f"{out} holds the rating of another player ({who}, or the same name with "
                              "other settings); use another --out folder")  # fmt: skip
        if old.get("ladder_fingerprint") != mine["ladder_fingerprint"]:
            raise ConfigError(f"{out} holds games against another ladder (anchors, rules, seed or time per "
                              "move differ); use another --out folder")  # fmt: skip
        created = old.get("created", created)
    elif (out / RESULTS).exists():
        raise ConfigError(f"{out} has results but no {RUN_META}; use another --out folder")
    _write_json(meta, {**mine, "created": created})


def _scores(results: Sequence[GameResult], player: str, ladder: Ladder) -> list[tuple[float, float]]:
    return [(ladder.anchor(_opponent(r, player)).elo, r.score_for(player)) for r in results]


def _opponent(r: GameResult, player: str) -> str:
    return r.white if r.black == player else r.black


def _check_recorded(store: ResultsFile, player: str, ladder: Ladder) -> None:
    for r in store.results.values():
        if player not in (r.black, r.white) or _opponent(r, player) not in ladder.names:
            raise ConfigError(f"game {r.index} in {store.path} is {r.black} vs {r.white}, not {player} against "
                              "an anchor of the ladder; use another --out folder")  # fmt: skip


def _records(results: Sequence[GameResult], player: str, ladder: Ladder) -> tuple[AnchorRecord, ...]:
    out = []
    for a in ladder.anchors:
        scores = [r.score_for(player) for r in results if _opponent(r, player) == a.name]
        calibrated = a.calibrated or a.name == ladder.pinned
        out.append(AnchorRecord(a.name, a.elo, calibrated, scores.count(1.0), scores.count(0.5), scores.count(0.0)))
    return tuple(out)


def gauntlet_config(player: EngineSpec, ladder: Ladder, parallel: int) -> TournamentConfig:
    """The player and the anchors as one arena config (for probing the engines and the referee)."""
    pinned = ladder.anchor(ladder.pinned)
    return TournamentConfig(name=ladder.name, players=(player, *(a.spec for a in ladder.anchors)),
                            rules=ladder.rules_for(player), pairing="gauntlet", gauntlet=player.name, seed=ladder.seed,
                            parallel=parallel, anchor=Anchor(pinned.name, pinned.elo, True))  # fmt: skip


def rate_player(
    player: EngineSpec,
    ladder: Ladder,
    out: Path,
    *,
    games_max: int | None = None,
    target_halfwidth: float | None = None,
    parallel: int | None = None,
    allow_uncalibrated: bool = False,
    progress: bool = True,
    stop: threading.Event | None = None,
) -> RatingRun:
    """Rates `player` (timed by the ladder) into `out`, continuing the games already there;
    writes rating.json. None arguments take the ladder's values (parallel 0: one per core)."""
    if ladder.uncalibrated() and not allow_uncalibrated:
        raise ConfigError(
            f"{ladder.source or 'the ladder'} has anchors with uncalibrated Elos ({', '.join(ladder.uncalibrated())}); "
            "calibrate it first (tengen rate --calibrate --ladder FILE --out DIR) or pass --allow-uncalibrated"
        )
    player = ladder.timed(player)
    if player.name in ladder.names:
        raise ConfigError(f"the player is named {player.name!r} like an anchor of the ladder; give it another "
                          "name with {name: ..., kind: ...}")  # fmt: skip
    games_max = games_max or ladder.games_max
    target = target_halfwidth or ladder.target_halfwidth
    workers = parallel if parallel is not None else ladder.parallel
    workers = workers or os.cpu_count() or 1
    config = gauntlet_config(player, ladder, workers)
    infos = probe_players(config)
    _claim(out, player, ladder)
    _write_json(out / "players.json", [asdict(i) for i in infos])
    store = ResultsFile(out / RESULTS)
    _check_recorded(store, player.name, ladder)
    played = 0
    rating = _rating(store.ordered(), player.name, ladder)
    next_index = max(store.results, default=-1) + 1
    stop = stop or threading.Event()
    anchors = [(a.name, a.elo) for a in ladder.anchors]
    bar = tqdm(total=games_max, initial=min(len(store.results), games_max), unit="game", disable=not progress,
               desc=f"rate {player.name}", dynamic_ncols=True)  # fmt: skip
    bar.set_postfix_str(_postfix(rating))

    def next_game(in_play: list[str]) -> ScheduledGame | None:
        nonlocal next_index
        if stop_reason(rating, len(store.results) + len(in_play), games_max, target):
            return None
        c = {name: 0 for name, _ in anchors}
        for r in store.results.values():
            c[_opponent(r, player.name)] += 1
        for name in in_play:
            c[name] += 1
        estimate = rating.elo if rating is not None else start_estimate(ladder)
        name = choose_anchor(anchors, estimate, c)
        black, white = (player, ladder.anchor(name).spec)
        if c[name] % 2:
            black, white = white, black
        game = GameSpec(next_index, black.name, white.name, game_seed(ladder.seed, next_index))
        next_index += 1
        return ScheduledGame(game=game, black=black, white=white, tag=name)

    def on_result(result: GameResult) -> None:
        nonlocal played, rating
        store.append(result)
        played += 1
        rating = _rating(store.ordered(), player.name, ladder)
        bar.set_postfix_str(_postfix(rating), refresh=False)
        bar.update(1)

    try:
        play_in_parallel(workers=workers, rules=ladder.rules_for(player), out=out, label=f"{ladder.name} rating",
                         stop=stop, next_game=next_game, on_result=on_result)
    finally:
        bar.close()
    results = tuple(store.ordered())
    records = _records(results, player.name, ladder)
    reason = stop_reason(rating, len(results), games_max, target) or "unfinished"
    run = RatingRun(player.name, rating, records, results, played, reason,
                    tuple(a.name for a in records if a.games and not a.calibrated))  # fmt: skip
    write_rating(out / RATING, run, player, ladder, games_max, target)
    return run


def _rating(results: Sequence[GameResult], player: str, ladder: Ladder) -> LadderRating | None:
    return rate_scores(_scores(results, player, ladder)) if results else None


def _postfix(rating: LadderRating | None) -> str:
    if rating is None:
        return "no games yet"
    return f"Elo {_elo(rating.elo)} [{_elo(rating.low)}, {_elo(rating.high)}]"


def write_rating(path: Path, run: RatingRun, player: EngineSpec, ladder: Ladder, games_max: int,
                 target: float) -> None:  # fmt: skip
    r = run.rating
    data: dict[str, Any] = {
        "player": run.player,
        "spec": player.to_dict(),
        "elo": _finite(r.elo) if r else None,
        "low": _finite(r.low) if r else None,  # null: unbounded (every game won or lost) or no games
        "high": _finite(r.high) if r else None,
        "confidence": r.confidence if r else 0.95,
        "interval": INTERVAL,
        "games": r.games if r else 0,
        "points": r.points if r else 0.0,
        "stopped": run.stopped,
        "games_max": games_max,
        "target_halfwidth": target,
        "ladder": {"name": ladder.name, "source": ladder.source, "fingerprint": ladder.fingerprint(),
                   "seconds": ladder.seconds, "clock": ladder.clock, "threads": ladder.threads,
                   "board_size": ladder.rules.size, "komi": ladder.rules.komi, "pinned": ladder.pinned},
        "anchors": [asdict(a) for a in run.records],
        "uncalibrated_anchors_played": list(run.uncalibrated),
        "line": run.line(),
    }  # fmt: skip
    _write_json(path, data)


# --- calibration ----------------------------------------------------------------------------


def calibration_config(ladder: Ladder, games_per_pair: int, parallel: int) -> TournamentConfig:
    pinned = ladder.anchor(ladder.pinned)
    return TournamentConfig(name=f"{ladder.name}-calibration", players=tuple(a.spec for a in ladder.anchors),
                            rules=ladder.rules, games=games_per_pair, pairing="round-robin", seed=ladder.seed,
                            parallel=parallel, anchor=Anchor(pinned.name, pinned.elo, True))  # fmt: skip


def calibrated_ladder(ladder: Ladder, fit: EloFit, games: int, date: str) -> Ladder:
    """The ladder with every anchor's Elo from `fit` (the pinned one unchanged), marked calibrated."""
    anchors = []
    for a in ladder.anchors:
        if a.name == ladder.pinned:
            anchors.append(a)
            continue
        r = fit.rating(a.name)
        note = (f"tengen rate --calibrate {date}: {r.games} of {games} games, "
                f"95% [{r.low:.0f}, {r.high:.0f}], {ladder.pinned} pinned at {fit.anchor_elo:g}")  # fmt: skip
        anchors.append(replace(a, elo=round(r.elo, 1), calibrated=True, note=note))
    return replace(ladder, anchors=tuple(anchors))


def calibrate_ladder(
    ladder: Ladder,
    out: Path,
    *,
    games_per_pair: int | None = None,
    parallel: int | None = None,
    progress: bool = True,
) -> tuple[Ladder, EloFit, TournamentRun, Path]:
    """Plays the anchors' round robin into `out` (resumable), fits their Elos with the pinned
    anchor fixed and writes the new ladder to out/ladder.yaml; returns it, the fit, the run and the path."""
    config = calibration_config(ladder, games_per_pair or ladder.calibration_games,
                                parallel if parallel is not None else ladder.parallel)  # fmt: skip
    run = run_tournament(config, out, progress=progress)
    pinned = ladder.anchor(ladder.pinned)
    fit = fit_elo([(r.black, r.white, r.score_for(r.black)) for r in run.results], pinned.name, pinned.elo,
                  players=ladder.names)  # fmt: skip
    write_report(config, run.results, out, run.players, run.scheduled)
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    new = calibrated_ladder(ladder, fit, len(run.results), date)
    path = out / "ladder.yaml"
    header = [
        f"Rating ladder {ladder.name}, calibrated by `tengen rate --calibrate` on {date}:",
        f"a round robin of {len(run.results)} games among the anchors ({config.games} per pair, {out}),",
        f"Bradley-Terry fit (one virtual draw per pair as prior) with {pinned.name} pinned at {pinned.elo:g}",
        "(AlphaGo's Elo scale: GnuGo 3.8 level 10 = 431). Each anchor's note gives its games and interval.",
        f"Calibrated from {ladder.source or 'a ladder'}.",
    ]
    atomic_write_text(path, ladder_yaml(new, header))
    return new, fit, run, path

