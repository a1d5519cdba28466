"""The rating ladder: fixed anchors with known Elos, the rating of one player against them, and
which anchor the player meets next.

A ladder file (configs/ladder/*.yaml, read by engine.config into `LadderFile`) names the rules
(board, komi, referee), the rated player's fixed time per move (`seconds`, one search thread),
the stopping defaults, and the anchors: arena engine specs (engine.arena.engines) with an `elo`,
a `calibrated` flag and a `note` saying where the Elo came from. One anchor is `pinned`: it
defines the scale (GnuGo 3.8 level 10 = 431, AlphaGo's Elo scale) and keeps its Elo through a
calibration; the others get theirs from `tengen rate --calibrate` (engine.arena.rate).

Rating (`rate_scores`): the anchors' Elos are fixed numbers, so the player's Elo r is the only
unknown. With P(win vs anchor a) = 1 / (1 + 10^((a - r) / 400)) and a draw half a win, r is the
maximum-likelihood estimate, the root of sum(score - P) = 0 (the likelihood is concave in r).
The 95% interval is the likelihood-ratio (profile likelihood) interval, every r whose
log-likelihood is within chi2_1(0.95) / 2 = 1.92 of the maximum; unlike a Fisher-information
interval it stays honest when the player wins or loses almost every game. A player that won
(lost) every game has an infinite estimate and upper (lower) bound, and a finite other bound.

Opponent choice (`choose_anchor`): the two anchors bracketing the current estimate (the nearest
below and the nearest above; at either end of the ladder the two nearest), of which the nearer
gets two games in three and the other one in three, counting games in play. Stopping
(`stop_reason`): at `games_max` games, or earlier once the interval's half-width is at most the
target.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import NormalDist, median
from typing import Any, Literal

import yaml

from engine import _core
from engine.arena.config import DEFAULT_ANCHOR, MatchRules, Referee
from engine.arena.elo import ELO_PER_NAT
from engine.arena.engines import EngineSpec, check_name, clocked_engine, engine_from_dict, timed_engine
from engine.config import from_file_mapping, from_mapping, load_yaml, require
from engine.errors import ConfigError
from engine.gtp_game import ScoreBy

Clock = Literal["fixed", "byoyomi"]
ANCHOR_FIELDS = ("elo", "calibrated", "note")  # the ladder's keys of an anchor; the rest is its engine spec


@dataclass(frozen=True, kw_only=True)
class AnchorFields:
    """What a ladder says about an anchor besides its engine spec."""

    elo: float
    calibrated: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        require(-10_000 <= self.elo <= 10_000, "elo", f"must be a number from -10000 to 10000, got {self.elo!r}")


@dataclass(frozen=True, kw_only=True)
class LadderFile:
    """A ladder file as written (flat keys; `anchors` checked by `ladder_from_dict`)."""

    name: str | None = None  # default: the file's stem
    board_size: int = 9
    komi: float = 7.0
    seconds: float = 1.0  # the rated player's time per move (a tengen player's --seconds)
    # fixed: a tengen player gets --seconds; byoyomi: the rated player (of any kind) hears
    # `time_settings 0 seconds 1` instead and loses on time by overrunning a period.
    clock: Clock = "fixed"
    threads: int = 1  # the rated tengen player's search threads
    move_timeout: float = 60.0  # seconds per genmove before the mover loses on time
    max_moves: int = 0  # 0: three times the number of points
    referee: Referee = "auto"
    score_by: ScoreBy = "gnugo"
    score_playouts: int = MatchRules.score_playouts
    seed: int = 1
    parallel: int = 0  # games at once; 0 = one per CPU core
    games_max: int = 200
    target_halfwidth: float = 70.0  # Elo; stop once the 95% interval is this tight
    calibration_games: int = 20  # per pair of anchors, for --calibrate
    pinned: str = DEFAULT_ANCHOR
    anchors: list[Any] | None = None

    def __post_init__(self) -> None:
        def within(value: float, key: str, lo: float, hi: float) -> None:
            require(lo <= value <= hi, key, f"must be from {lo:g} to {hi:g}, got {value!r}")

        within(self.board_size, "board_size", _core.MIN_SIZE, _core.MAX_SIZE)
        within(self.komi, "komi", -150, 150)
        require(self.komi * 2 == int(self.komi * 2), "komi", f"must be a multiple of 0.5, got {self.komi:g}")
        require(0 < self.seconds <= 3600, "seconds", f"must be a number of seconds in (0, 3600], got {self.seconds!r}")
        within(self.threads, "threads", 1, 256)
        within(self.move_timeout, "move_timeout", 0.1, 86_400)
        require(self.move_timeout > self.seconds, "move_timeout",
                f"must be longer than seconds ({self.seconds:g}), got {self.move_timeout:g}")
        within(self.max_moves, "max_moves", 0, 100_000)
        within(self.score_playouts, "score_playouts", 1, 100_000)
        within(self.seed, "seed", 0, 2**62)
        within(self.parallel, "parallel", 0, 1024)
        within(self.games_max, "games_max", 1, 100_000)
        require(0 < self.target_halfwidth <= 10_000, "target_halfwidth",
                f"must be a number of Elo in (0, 10000], got {self.target_halfwidth!r}")
        within(self.calibration_games, "calibration_games", 1, 100_000)
        if self.score_by == "gnugo" and self.referee == "none":
            raise ConfigError("score_by: gnugo needs the GnuGo referee; set referee to auto or gnugo")


@dataclass(frozen=True)
class LadderAnchor:
    spec: EngineSpec
    elo: float
    calibrated: bool
    note: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    def to_dict(self) -> dict[str, Any]:
        out = self.spec.to_dict()
        out.update(elo=round(self.elo, 1), calibrated=self.calibrated)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Ladder:
    """A checked ladder. `pinned` is the anchor that fixes the scale; it counts as calibrated."""

    name: str
    rules: MatchRules
    seconds: float
    threads: int
    seed: int
    parallel: int
    games_max: int
    target_halfwidth: float
    calibration_games: int
    pinned: str
    anchors: tuple[LadderAnchor, ...]
    source: str | None = None
    clock: Clock = "fixed"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.anchors)

    def anchor(self, name: str) -> LadderAnchor:
        for a in self.anchors:
            if a.name == name:
                return a
        raise ConfigError(f"no anchor named {name!r} in the ladder (anchors: {', '.join(self.names)})")

    def uncalibrated(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.anchors if not a.calibrated and a.name != self.pinned)

    def fingerprint(self) -> str:
        """Hash of what decides a game's content: rules, time per move, seed and the anchors'
        engines (not their Elos, so a recalibrated ladder still reads the same games)."""
        data = {
            "rules": self.rules.hashed(),
            "seconds": self.seconds,
            "threads": self.threads,
            "seed": self.seed,
            "anchors": [a.spec.to_dict() for a in self.anchors],
        }
        if self.clock != "fixed":  # so folders from before the clock existed keep their hash
            data["clock"] = self.clock
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The ladder in its file form."""
        r = self.rules
        return {
            "name": self.name, "board_size": r.size, "komi": r.komi, "seconds": self.seconds,
            "clock": self.clock, "threads": self.threads, "move_timeout": r.move_timeout, "max_moves": r.max_moves,
            "referee": r.referee, "score_by": r.score_by, "score_playouts": r.score_playouts,
            "seed": self.seed, "parallel": self.parallel, "games_max": self.games_max,
            "target_halfwidth": self.target_halfwidth, "calibration_games": self.calibration_games,
            "pinned": self.pinned, "anchors": [a.to_dict() for a in self.anchors],
        }  # fmt: skip

    def timed(self, player: EngineSpec) -> EngineSpec:
        """The player as rated: a tengen player gets the ladder's --threads and, with the fixed
        clock, its --seconds (replacing its own; under byo-yomi its own seconds and visits are
        dropped, so the clock alone bounds a move); other engines keep their own notion of effort."""
        if self.clock == "byoyomi":
            return clocked_engine(player, self.threads)
        return timed_engine(player, self.seconds, self.threads)

    def rules_for(self, player: EngineSpec) -> MatchRules:
        """The rules of the player's games: the ladder's, with the player under the byo-yomi clock
        when the ladder has one."""
        if self.clock == "byoyomi":
            return replace(self.rules, byoyomi=self.seconds, clocked=(player.name,))
        return self.rules


def ladder_from_dict(data: Any, source: str | None = None) -> Ladder:
    """A checked ladder from its mapping; ConfigError (one sentence) on any mistake."""
    where = source or "the ladder"
    f = from_file_mapping(LadderFile, data, source)
    if f.anchors is None or len(f.anchors) < 2:
        raise ConfigError(f"{where} needs an anchors list with at least two anchors")
    anchors = []
    for i, item in enumerate(f.anchors):
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: anchors[{i}] must be a mapping with name, kind, elo")
        spec = engine_from_dict({k: v for k, v in item.items() if k not in ANCHOR_FIELDS}, f"anchors[{i}]")
        extra = from_mapping(AnchorFields, {k: v for k, v in item.items() if k in ANCHOR_FIELDS},
                             f"anchors[{i}] ({spec.name})")  # fmt: skip
        anchors.append(LadderAnchor(spec, extra.elo, extra.calibrated, extra.note))
    names = [a.name for a in anchors]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{where}: anchor name {dupes[0]!r} appears more than once")
    if f.pinned not in names:
        raise ConfigError(f"{where}: pinned anchor {f.pinned!r} is not among the anchors ({', '.join(names)})")
    name = f.name if f.name is not None else (Path(source).stem if source else "ladder")
    check_name(name, "the ladder")
    rules = MatchRules(size=f.board_size, komi=f.komi, max_moves=f.max_moves, move_timeout=f.move_timeout,
                       referee=f.referee, score_by=f.score_by, score_playouts=f.score_playouts)  # fmt: skip
    return Ladder(name=name, rules=rules, seconds=f.seconds, clock=f.clock, threads=f.threads, seed=f.seed,
                  parallel=f.parallel, games_max=f.games_max, target_halfwidth=f.target_halfwidth,
                  calibration_games=f.calibration_games, pinned=f.pinned, anchors=tuple(anchors),
                  source=source)  # fmt: skip


def load_ladder(path: str | Path) -> Ladder:
    return ladder_from_dict(load_yaml(path), str(path))


def ladder_yaml(ladder: Ladder, header: Sequence[str] = ()) -> str:
    """The ladder as a YAML file (comment lines from `header` first, one anchor per line)."""
    data = ladder.to_dict()
    anchors = data.pop("anchors")
    lines = [f"# {h}" if h else "#" for h in header]
    lines += [yaml.safe_dump({k: v}, default_flow_style=False, sort_keys=False).strip() for k, v in data.items()]
    lines.append("anchors:")
    for a in anchors:
        lines.append("  - " + yaml.safe_dump(a, default_flow_style=True, sort_keys=False, width=10_000).strip())
    return "\n".join(lines) + "\n"


# --- rating ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LadderRating:
    """The player's Elo with its interval (bounds may be infinite), over `games` games."""

    elo: float
    low: float
    high: float
    games: int
    points: float
    confidence: float

    @property
    def halfwidth(self) -> float:
        return (self.high - self.low) / 2


def _softplus(x: float) -> float:
    """log(1 + e^x) without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _log_likelihood(r: float, games: Sequence[tuple[float, float]]) -> float:
    total = 0.0
    for anchor_elo, score in games:
        d = (r - anchor_elo) / ELO_PER_NAT  # log-odds of a win: log P = -softplus(-d)
        total -= score * _softplus(-d) + (1.0 - score) * _softplus(d)
    return total


def expected_points(r: float, games: Sequence[tuple[float, float]]) -> float:
    """The player's expected points at Elo r over the games' anchors."""
    return sum(1.0 / (1.0 + 10.0 ** ((a - r) / 400.0)) for a, _ in games)


def _bisect(f: Callable[[float], float], lo: float, hi: float) -> float:
    """A root of the increasing function f in [lo, hi] (f(lo) <= 0 <= f(hi))."""
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def rate_scores(games: Sequence[tuple[float, float]], confidence: float = 0.95) -> LadderRating:
    """Maximum-likelihood Elo of one player from (anchor Elo, score 1 / 0.5 / 0) pairs, with the
    likelihood-ratio interval at `confidence`. At least one game."""
    if not games:
        raise ValueError("no games to rate")
    for _, s in games:
        if s not in (0.0, 0.5, 1.0):
            raise ValueError(f"score {s!r} is not 0, 0.5 or 1")
    n = len(games)
    points = sum(s for _, s in games)
    elos = [a for a, _ in games]
    span = 400.0 * 30  # beyond this a win probability is 1e-30 from certain
    lo_r, hi_r = min(elos) - span, max(elos) + span
    if points == n:
        best, top = math.inf, 0.0
    elif points == 0:
        best, top = -math.inf, 0.0
    else:
        best = _bisect(lambda r: expected_points(r, games) - points, lo_r, hi_r)
        top = _log_likelihood(best, games)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    target = top - z * z / 2

    def gap(r: float) -> float:
        return _log_likelihood(r, games) - target

    low = -math.inf if points == 0 else _bisect(gap, lo_r - span, min(best, hi_r))
    high = math.inf if points == n else _bisect(lambda r: -gap(r), max(best, lo_r), hi_r + span)
    return LadderRating(best, low, high, n, points, confidence)


# --- scheduling -----------------------------------------------------------------------------


def start_estimate(ladder: Ladder) -> float:
    """The estimate before any game: the median of the anchors' Elos."""
    return float(median(a.elo for a in ladder.anchors))


def bracket(anchors: Sequence[tuple[str, float]], estimate: float) -> tuple[str, ...]:
    """(nearest, other) of the anchors bracketing `estimate`: the nearest below (Elo <= estimate)
    and the nearest above; at an end of the ladder, the two nearest on the one side."""
    ordered = sorted(anchors, key=lambda a: a[1])
    below = [a for a in ordered if a[1] <= estimate]
    above = [a for a in ordered if a[1] > estimate]
    pair: tuple[tuple[str, float], ...]
    if below and above:
        lo, hi = below[-1], above[0]
        pair = (lo, hi) if estimate - lo[1] <= hi[1] - estimate else (hi, lo)
    elif below:
        pair = (below[-1], *below[-2:-1])
    else:
        pair = (above[0], *above[1:2])
    return tuple(name for name, _ in pair)


def choose_anchor(anchors: Sequence[tuple[str, float]], estimate: float, counts: Mapping[str, int]) -> str:
    """The next opponent: the nearer bracketing anchor, unless the other one has had fewer than
    half as many games (finished or in play), so both keep bracketing the estimate."""
    pair = bracket(anchors, estimate)
    if len(pair) == 1:
        return pair[0]
    nearest, other = pair
    return other if 2 * counts.get(other, 0) < counts.get(nearest, 0) else nearest


def stop_reason(rating: LadderRating | None, started: int, games_max: int, target: float) -> str | None:
    """Why no further game should start: 'games-max' once `started` games (finished or in
    play) reach the limit, 'target' once the finished games' interval is tight enough."""
    if started >= games_max:
        return "games-max"
    if rating is not None and rating.halfwidth <= target:
        return "target"
    return None
