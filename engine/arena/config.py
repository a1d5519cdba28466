"""Tournament configs (YAML -> frozen dataclasses) and the deterministic game schedule.

A config names the players, the rules every game uses (board size, komi, move limit, per-move
timeout, referee), the pairing (round-robin among all, or a gauntlet of one player against the
rest), games per pair, the seed, the Elo anchor and, for ablation suites, which player stands
for which AlphaGo ablation row and which files hold the report's other evidence. The schedule is
a pure function of the config: game `index` fixes the pairing, colours (alternating per pair) and
seed, which is what lets a stopped tournament resume and what makes one config and seed replay
the same games.

Equal time (`seconds`): every tengen player that searches plays at that many seconds per move
with one search thread and no visit cap (`TournamentConfig.as_played`); players that do not
search (their search config says visits: 1), GnuGo levels and external engines play as written.

Adaptive schedule (`target_halfwidth`, `games_max`): after the round robin above, more games go
where the Elo intervals are widest until every player's 95% half-width is at most the target or
`games_max` games are played (engine.arena.adaptive); indices continue after the round robin and
game i's seed stays game_seed(seed, i).

A file is read by the one config path (engine.config: load_yaml, then from_mapping into
`TournamentFile`, whose `__post_init__` holds the range checks); `config_from_dict` then checks the
players against each other (names, gauntlet, anchor, ablation rows).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from engine import _core
from engine.arena.engines import (
    EngineSpec,
    GnuGoEngine,
    TengenEngine,
    check_keys,
    check_name,
    engine_from_dict,
    timed_engine,
)
from engine.arena.sprt import SprtParams
from engine.config import from_file_mapping, load_yaml, require
from engine.errors import ConfigError
from engine.gtp_game import ScoreBy
from engine.player import SCORE_PLAYOUTS

DEFAULT_ANCHOR = "gnugo-10"
MAX_MOVE_SECONDS = 3600.0  # equal time: the most seconds per move a tournament may set
EQUAL_TIME_THREADS = 1  # search threads of each timed player
MAX_HALFWIDTH = 10_000.0  # Elo
MAX_GAMES = 1_000_000  # games in all, the adaptive schedule's cap
DEFAULT_ANCHOR_ELO = 431.0  # GnuGo 3.8 level 10 in the AlphaGo paper (Extended Data Table 6)

# Ablation rows of the AlphaGo paper (Extended Data Table 7, 5 s/move) and the input-feature
# comparison: key -> (label, paper Elo or None, paper note).
ABLATION_ROWS: Mapping[str, tuple[str, float | None, str]] = {
    "rollouts_value_policy": ("Rollouts + value + policy (R+V+P)", 2890.0, ""),
    "rollouts_policy": ("Rollouts + policy (R+P)", 2416.0, ""),
    "value_policy": ("Value + policy (V+P)", 2177.0, ""),
    "rollouts_value": ("Rollouts + value (R+V)", 2077.0, ""),
    "value_only": ("Value only (V)", 1655.0, ""),
    "policy_only": ("Policy only, no search (P)", 1517.0, ""),
    "rollouts_only": ("Rollouts only (R)", 1457.0, ""),
    "features_full": ("Full input features (48 planes)", None, "SL accuracy 57.0%"),
    "features_raw": ("Raw board + history features", None, "SL accuracy 55.7%"),
}

Pairing = Literal["round-robin", "gauntlet"]
Referee = Literal["auto", "gnugo", "none"]

@dataclass(frozen=True)
class MatchRules:
    """Rules and limits every game of a tournament uses."""

    size: int = 9
    komi: float = _core.DEFAULT_KOMI
    max_moves: int = 0  # 0: three times the number of points
    move_timeout: float = 120.0  # seconds per genmove before the mover loses on time
    referee: Referee = "auto"  # GnuGo checks the engine's score: auto = when installed
    score_by: ScoreBy = "engine"  # whose score decides a game that ends by two passes
    score_playouts: int = SCORE_PLAYOUTS  # playouts of the engine's dead-stone estimate
    # Random moves (both colours, from the game's seed: engine.gtp_game.random_opening) played
    # before the players take over, so that players that search deterministically (a visit
    # count, no noise) do not repeat one game per colour all match long.
    opening_moves: int = 0
    # A byo-yomi clock (seconds per move, no main time; 0: none) for the players named in
    # `clocked`: they hear `time_settings 0 byoyomi 1` and lose on time by overrunning a period.
    byoyomi: float = 0.0
    clocked: tuple[str, ...] = ()

    @property
    def move_limit(self) -> int:
        return self.max_moves or 3 * self.size * self.size

    def hashed(self) -> dict[str, Any]:
        """The fields as a fingerprint hashes them: the clock's only when one is set, so folders
        from before it existed keep their hash."""
        out = dict(self.__dict__)
        if not self.byoyomi:
            del out["byoyomi"], out["clocked"]
        else:
            out["clocked"] = list(self.clocked)
        return out


@dataclass(frozen=True)
class Anchor:
    player: str = DEFAULT_ANCHOR
    elo: float = DEFAULT_ANCHOR_ELO
    explicit: bool = False  # False: the default, which may fall back when absent


@dataclass(frozen=True)
class GameSpec:
    """One scheduled game; everything about it follows from the config and `index`."""

    index: int
    black: str
    white: str
    seed: int


@dataclass(frozen=True)
class TournamentConfig:
    name: str
    players: tuple[EngineSpec, ...]
    rules: MatchRules = field(default_factory=MatchRules)
    games: int = 2  # per pair; colours alternate, so an even number balances them
    pairing: Pairing = "round-robin"
    gauntlet: str | None = None
    seed: int = 1
    parallel: int = 0  # games at once; 0 = one per CPU core
    anchor: Anchor = field(default_factory=Anchor)
    ablation: tuple[tuple[str, str], ...] = ()  # (row key, player name)
    sprt: SprtParams | None = None
    seconds: float | None = None  # equal time: seconds per move of every searching tengen player
    target_halfwidth: float | None = None  # adaptive: stop once every 95% half-width is this tight (Elo)
    games_max: int | None = None  # adaptive: the most games in all (round robin included)
    evidence: tuple[tuple[str, str], ...] = ()  # (what, file) the report reads beside the games
    source: str | None = None  # the file it came from, for reports

    def player(self, name: str) -> EngineSpec:
        for p in self.players:
            if p.name == name:
                return p
        raise ConfigError(f"no player named {name!r} (players: {', '.join(self.names)})")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.players)

    @property
    def workers(self) -> int:
        return self.parallel or os.cpu_count() or 1

    @property
    def adaptive(self) -> bool:
        """Whether games follow the round robin until the intervals reach `target_halfwidth`."""
        return self.target_halfwidth is not None

    def as_played(self, player: EngineSpec) -> EngineSpec:
        """The player as it starts: under `seconds` a tengen player that searches
        (TengenEngine.searches) gets --seconds and --threads 1 in place of its own and loses its
        `visits` cap, so time alone bounds each move (a search config's visits is not used when
        --seconds is given); a no-search player, GnuGo and other engines play as written."""
        if self.seconds is None or not isinstance(player, TengenEngine) or not player.searches():
            return player
        return timed_engine(player, self.seconds, EQUAL_TIME_THREADS, drop=("visits",))

    def played_players(self) -> tuple[EngineSpec, ...]:
        """Every player as it starts (`as_played`), config order."""
        return tuple(self.as_played(p) for p in self.players)

    def pairs(self) -> list[tuple[str, str]]:
        names = self.names
        if self.pairing == "gauntlet":
            assert self.gauntlet is not None
            return [(self.gauntlet, n) for n in names if n != self.gauntlet]
        return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]

    def schedule(self) -> list[GameSpec]:
        """Round-major: round k plays every pair once, so raising `games` only appends games."""
        pairs = self.pairs()
        out = []
        for k in range(self.games):
            for p, (a, b) in enumerate(pairs):
                index = k * len(pairs) + p
                black, white = (a, b) if k % 2 == 0 else (b, a)
                out.append(GameSpec(index, black, white, game_seed(self.seed, index)))
        return out

    def resolved_anchor(self) -> Anchor:
        """The anchor: as configured; by default gnugo-10, else any GnuGo level 10 player,
        else the first player at 0 (ratings then relative to it)."""
        if self.anchor.explicit or self.anchor.player in self.names:
            return self.anchor
        for p in self.players:
            if isinstance(p, GnuGoEngine) and p.level == 10:
                return Anchor(p.name, DEFAULT_ANCHOR_ELO)
        return Anchor(self.players[0].name, 0.0)

    def fingerprint(self) -> str:
        """Hash of everything that decides a game's content (not `games`, `parallel`, the adaptive
        target and cap, reports, evidence); `seconds` only when set, so folders from before it
        existed keep their hash."""
        rules = self.rules.hashed()
        if not rules["opening_moves"]:
            del rules["opening_moves"]  # so folders from before it existed keep their hash
        data: dict[str, Any] = {
            "players": [p.to_dict() for p in self.players],
            "rules": rules,
            "pairing": self.pairing,
            "gauntlet": self.gauntlet,
            "seed": self.seed,
        }
        if self.seconds is not None:
            data["seconds"] = self.seconds
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The config in its YAML form (for `tournament.json` and reports)."""
        out: dict[str, Any] = {
            "name": self.name,
            "board_size": self.rules.size,
            "komi": self.rules.komi,
            "seed": self.seed,
            "games": self.games,
            "pairing": self.pairing,
            "parallel": self.parallel,
            "move_timeout": self.rules.move_timeout,
            "max_moves": self.rules.max_moves,
            "opening_moves": self.rules.opening_moves,
            "referee": self.rules.referee,
            "score_by": self.rules.score_by,
            "score_playouts": self.rules.score_playouts,
            "players": [p.to_dict() for p in self.players],
        }
        if self.anchor.explicit:
            out["anchor"] = {"player": self.anchor.player, "elo": self.anchor.elo}
        if self.gauntlet:
            out["gauntlet"] = self.gauntlet
        if self.ablation:
            out["ablation"] = dict(self.ablation)
        if self.sprt:
            out["sprt"] = dict(self.sprt.__dict__)
        for key in ("seconds", "target_halfwidth", "games_max"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.evidence:
            out["evidence"] = dict(self.evidence)
        return out


def game_seed(seed: int, index: int) -> int:
    """A 31-bit seed per game (splitmix64 of seed and index), stable across platforms."""
    x = (seed * 0x9E3779B97F4A7C15 + index + 1) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (x ^ (x >> 31)) & 0x7FFFFFFF


def _in_range(value: float, key: str, lo: float, hi: float, integer: bool) -> None:
    kind = "an integer" if integer else "a number"
    require(lo <= value <= hi, key, f"must be {kind} from {lo:g} to {hi:g}, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class AnchorSection:
    """`anchor:` in a tournament file: the player held at a fixed Elo."""

    player: str = DEFAULT_ANCHOR
    elo: float = DEFAULT_ANCHOR_ELO

    def __post_init__(self) -> None:
        _in_range(self.elo, "elo", -10_000, 10_000, False)


@dataclass(frozen=True, kw_only=True)
class SprtSection:
    """`sprt:` in a tournament file: stop a pairing once the SPRT decides (engine.arena.sprt)."""

    elo0: float = SprtParams.elo0
    elo1: float = SprtParams.elo1
    alpha: float = SprtParams.alpha
    beta: float = SprtParams.beta

    def __post_init__(self) -> None:
        _in_range(self.elo0, "elo0", -2000, 2000, False)
        _in_range(self.elo1, "elo1", -2000, 2000, False)
        _in_range(self.alpha, "alpha", 1e-6, 0.5, False)
        _in_range(self.beta, "beta", 1e-6, 0.5, False)
        self.params()  # elo1 > elo0

    def params(self) -> SprtParams:
        return SprtParams(self.elo0, self.elo1, self.alpha, self.beta)


@dataclass(frozen=True, kw_only=True)
class TournamentFile:
    """A tournament config file as written (flat keys, read by engine.config.from_mapping);
    `config_from_dict` checks the players against each other and builds the TournamentConfig."""

    name: str | None = None  # default: the file's stem
    board_size: int = MatchRules.size
    komi: float = MatchRules.komi
    seed: int = TournamentConfig.seed
    games: int = TournamentConfig.games
    pairing: Pairing = TournamentConfig.pairing
    gauntlet: str | None = None
    parallel: int = TournamentConfig.parallel
    move_timeout: float = MatchRules.move_timeout
    max_moves: int = MatchRules.max_moves
    referee: Referee = MatchRules.referee
    score_by: ScoreBy = MatchRules.score_by
    score_playouts: int = MatchRules.score_playouts
    opening_moves: int = MatchRules.opening_moves
    anchor: AnchorSection | None = None
    players: list[Any] | None = None
    ablation: dict[str, Any] | None = None
    sprt: SprtSection | None = None
    seconds: float | None = None  # none: every player at its own settings
    target_halfwidth: float | None = None  # none: the round robin only
    games_max: int | None = None
    evidence: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        _in_range(self.board_size, "board_size", _core.MIN_SIZE, _core.MAX_SIZE, True)
        _in_range(self.komi, "komi", -150, 150, False)
        require(self.komi * 2 == int(self.komi * 2), "komi", f"must be a multiple of 0.5, got {self.komi:g}")
        _in_range(self.max_moves, "max_moves", 0, 100_000, True)
        _in_range(self.move_timeout, "move_timeout", 0.1, 86_400, False)
        _in_range(self.score_playouts, "score_playouts", 1, 100_000, True)
        _in_range(self.opening_moves, "opening_moves", 0, self.board_size**2 // 4, True)
        _in_range(self.games, "games", 1, 100_000, True)
        _in_range(self.seed, "seed", 0, 2**62, True)
        _in_range(self.parallel, "parallel", 0, 1024, True)
        if self.score_by == "gnugo" and self.referee == "none":
            raise ConfigError("score_by: gnugo needs the GnuGo referee; set referee to auto or gnugo")
        if self.pairing != "gauntlet" and self.gauntlet is not None:
            raise ConfigError("gauntlet is set but pairing is not gauntlet")
        if self.seconds is not None:
            require(0 < self.seconds <= MAX_MOVE_SECONDS, "seconds",
                    f"must be a number of seconds per move in (0, {MAX_MOVE_SECONDS:g}], got {self.seconds!r}")
            require(self.move_timeout > self.seconds, "move_timeout",
                    f"must be longer than seconds ({self.seconds:g}), got {self.move_timeout:g}")
        if self.target_halfwidth is not None:
            require(0 < self.target_halfwidth <= MAX_HALFWIDTH, "target_halfwidth",
                    f"must be a number of Elo in (0, {MAX_HALFWIDTH:g}], got {self.target_halfwidth!r}")
            if self.games_max is None:
                raise ConfigError("target_halfwidth needs games_max, the most games the tournament may play")
            if self.pairing != "round-robin":
                raise ConfigError("target_halfwidth needs pairing round-robin")
        if self.games_max is not None:
            _in_range(self.games_max, "games_max", 1, MAX_GAMES, True)
            if self.target_halfwidth is None:
                raise ConfigError("games_max caps the adaptive schedule; set target_halfwidth too")


def config_from_dict(data: Any, source: str | None = None) -> TournamentConfig:
    """Validates a config mapping; raises ConfigError (one sentence) on any mistake."""
    where = source or "the config"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a YAML mapping with a players list")
    f = from_file_mapping(TournamentFile, data, source)
    if f.players is None or len(f.players) < 2:
        raise ConfigError(f"{where} needs a players list with at least two players")
    players = tuple(engine_from_dict(p, f"players[{i}]") for i, p in enumerate(f.players))
    names = [p.name for p in players]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"player name {dupes[0]!r} appears more than once")
    rules = MatchRules(
        size=f.board_size, komi=f.komi, max_moves=f.max_moves, move_timeout=f.move_timeout, referee=f.referee,
        score_by=f.score_by, score_playouts=f.score_playouts, opening_moves=f.opening_moves,
    )
    if f.pairing == "gauntlet" and f.gauntlet not in names:
        raise ConfigError(f"pairing gauntlet needs gauntlet: one of the players ({', '.join(names)})")
    anchor = Anchor()
    if f.anchor is not None:
        if f.anchor.player not in names:
            raise ConfigError(f"anchor player {f.anchor.player!r} is not among the players ({', '.join(names)})")
        anchor = Anchor(f.anchor.player, f.anchor.elo, True)
    ablation = f.ablation or {}
    check_keys(ablation, tuple(ABLATION_ROWS), "ablation")
    for row, player in ablation.items():
        if player not in names:
            raise ConfigError(f"ablation row {row} names {player!r}, which is not among the players")
    evidence = f.evidence or {}
    for what, path in evidence.items():
        if not isinstance(what, str) or not isinstance(path, str):
            raise ConfigError(f"evidence must map names to file paths (strings), got {what!r}: {path!r}")
    base = f.games * (len(names) * (len(names) - 1) // 2)
    if f.games_max is not None and f.games_max < base:
        raise ConfigError(f"games_max must be at least the {base} games of the round robin "
                          f"({f.games} per pair of {len(names)} players), got {f.games_max}")
    name = f.name if f.name is not None else (Path(source).stem if source else "tournament")
    check_name(name, "the tournament")
    return TournamentConfig(
        name=name,
        players=players,
        rules=rules,
        games=f.games,
        pairing=f.pairing,
        gauntlet=f.gauntlet,
        seed=f.seed,
        parallel=f.parallel,
        anchor=anchor,
        ablation=tuple(ablation.items()),
        sprt=f.sprt.params() if f.sprt is not None else None,
        seconds=f.seconds,
        target_halfwidth=f.target_halfwidth,
        games_max=f.games_max,
        evidence=tuple(evidence.items()),
        source=source,
    )


def load_config(path: str | Path) -> TournamentConfig:
    """A checked tournament config from a YAML file (engine.config.load_yaml: missing file, folder,
    non-UTF-8, bad YAML and a top level that is not a mapping are one-sentence ConfigErrors)."""
    return config_from_dict(load_yaml(path), str(path))


def with_overrides(config: TournamentConfig, **changes: Any) -> TournamentConfig:
    """Applies command-line overrides (None = keep); rules fields go to `rules`. A value the
    checks refuse is a ConfigError naming the key, not the file (the file's own values passed)."""
    rule_fields = set(MatchRules.__dataclass_fields__)
    rules = {k: v for k, v in changes.items() if k in rule_fields and v is not None}
    top = {k: v for k, v in changes.items() if k not in rule_fields and v is not None}
    if not rules and not top:
        return config
    data = config.to_dict()
    renamed = {"size": "board_size"}
    for k, v in {**rules, **top}.items():
        data[renamed.get(k, k)] = v
    return replace(config_from_dict(data), source=config.source)
