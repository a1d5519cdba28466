"""Tournament configs (YAML -> frozen dataclasses) and the deterministic game schedule.

A config names the players, the rules every game uses (board size, komi, move limit, per-move
timeout, referee), the pairing (round-robin among all, or a gauntlet of one player against the
rest), games per pair, the seed, the Elo anchor and, for ablation suites, which player stands
for which AlphaGo ablation row. The schedule is a pure function of the config: game `index`
fixes the pairing, colours (alternating per pair) and seed, which is what lets a stopped
tournament resume and what makes one config and seed replay the same games.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from engine import _core
from engine.arena.players import (
    ConfigError,
    GnuGoPlayer,
    PlayerSpec,
    check_keys,
    check_name,
    player_from_dict,
)
from engine.arena.sprt import SprtParams

DEFAULT_ANCHOR = "gnugo-10"
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

TOP_KEYS = (
    "name", "board_size", "komi", "seed", "games", "pairing", "gauntlet", "parallel",
    "move_timeout", "max_moves", "referee", "score_playouts", "anchor", "players", "ablation", "sprt",
)


@dataclass(frozen=True)
class MatchRules:
    """Rules and limits every game of a tournament uses."""

    size: int = 9
    komi: float = 7.5
    max_moves: int = 0  # 0: three times the number of points
    move_timeout: float = 120.0  # seconds per genmove before the mover loses on time
    referee: Referee = "auto"  # GnuGo checks the engine's score: auto = when installed
    score_playouts: int = 400  # playouts of the engine's dead-stone estimate

    @property
    def move_limit(self) -> int:
        return self.max_moves or 3 * self.size * self.size


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
    players: tuple[PlayerSpec, ...]
    rules: MatchRules = field(default_factory=MatchRules)
    games: int = 2  # per pair; colours alternate, so an even number balances them
    pairing: Pairing = "round-robin"
    gauntlet: str | None = None
    seed: int = 1
    parallel: int = 0  # games at once; 0 = one per CPU core
    anchor: Anchor = field(default_factory=Anchor)
    ablation: tuple[tuple[str, str], ...] = ()  # (row key, player name)
    sprt: SprtParams | None = None
    source: str | None = None  # the file it came from, for reports

    def player(self, name: str) -> PlayerSpec:
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
            if isinstance(p, GnuGoPlayer) and p.level == 10:
                return Anchor(p.name, DEFAULT_ANCHOR_ELO)
        return Anchor(self.players[0].name, 0.0)

    def fingerprint(self) -> str:
        """Hash of everything that decides a game's content (not `games`, `parallel`, reports)."""
        data = {
            "players": [p.to_dict() for p in self.players],
            "rules": self.rules.__dict__,
            "pairing": self.pairing,
            "gauntlet": self.gauntlet,
            "seed": self.seed,
        }
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
            "referee": self.rules.referee,
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
        return out


def game_seed(seed: int, index: int) -> int:
    """A 31-bit seed per game (splitmix64 of seed and index), stable across platforms."""
    x = (seed * 0x9E3779B97F4A7C15 + index + 1) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (x ^ (x >> 31)) & 0x7FFFFFFF


def _number(data: Mapping[str, Any], key: str, default: float, lo: float, hi: float, integer: bool) -> Any:
    value = data.get(key, default)
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not lo <= value <= hi:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{key} must be {kind} from {lo:g} to {hi:g}, got {value!r}")
    return value if integer else float(value)


def sprt_from_dict(data: Any) -> SprtParams:
    if not isinstance(data, Mapping):
        raise ConfigError(f"sprt must be a mapping of elo0, elo1, alpha, beta, got {data!r}")
    check_keys(data, ("elo0", "elo1", "alpha", "beta"), "sprt")
    try:
        return SprtParams(
            elo0=_number(data, "elo0", 0.0, -2000, 2000, False),
            elo1=_number(data, "elo1", 50.0, -2000, 2000, False),
            alpha=_number(data, "alpha", 0.05, 1e-6, 0.5, False),
            beta=_number(data, "beta", 0.05, 1e-6, 0.5, False),
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def config_from_dict(data: Any, source: str | None = None) -> TournamentConfig:
    """Validates a config mapping; raises ConfigError (one sentence) on any mistake."""
    where = source or "the config"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a YAML mapping with a players list")
    check_keys(data, TOP_KEYS, where)
    raw_players = data.get("players")
    if not isinstance(raw_players, list) or len(raw_players) < 2:
        raise ConfigError(f"{where} needs a players list with at least two players")
    players = tuple(player_from_dict(p, f"players[{i}]") for i, p in enumerate(raw_players))
    names = [p.name for p in players]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"player name {dupes[0]!r} appears more than once")
    referee = data.get("referee", "auto")
    if referee not in ("auto", "gnugo", "none"):
        raise ConfigError(f"referee must be auto, gnugo or none, got {referee!r}")
    rules = MatchRules(
        size=_number(data, "board_size", 9, _core.MIN_SIZE, _core.MAX_SIZE, True),
        komi=_number(data, "komi", 7.5, -150, 150, False),
        max_moves=_number(data, "max_moves", 0, 0, 100_000, True),
        move_timeout=_number(data, "move_timeout", 120.0, 0.1, 86_400, False),
        referee=referee,
        score_playouts=_number(data, "score_playouts", 400, 1, 100_000, True),
    )
    if rules.komi * 2 != int(rules.komi * 2):
        raise ConfigError(f"komi must be a multiple of 0.5, got {rules.komi:g}")
    pairing = data.get("pairing", "round-robin")
    if pairing not in ("round-robin", "gauntlet"):
        raise ConfigError(f"pairing must be round-robin or gauntlet, got {pairing!r}")
    gauntlet = data.get("gauntlet")
    if pairing == "gauntlet":
        if gauntlet not in names:
            raise ConfigError(f"pairing gauntlet needs gauntlet: one of the players ({', '.join(names)})")
    elif gauntlet is not None:
        raise ConfigError("gauntlet is set but pairing is not gauntlet")
    anchor_data = data.get("anchor")
    anchor = Anchor()
    if anchor_data is not None:
        if not isinstance(anchor_data, Mapping):
            raise ConfigError(f"anchor must be a mapping of player and elo, got {anchor_data!r}")
        check_keys(anchor_data, ("player", "elo"), "anchor")
        player = anchor_data.get("player", DEFAULT_ANCHOR)
        if player not in names:
            raise ConfigError(f"anchor player {player!r} is not among the players ({', '.join(names)})")
        anchor = Anchor(player, _number(anchor_data, "elo", DEFAULT_ANCHOR_ELO, -10_000, 10_000, False), True)
    ablation_data = data.get("ablation") or {}
    if not isinstance(ablation_data, Mapping):
        raise ConfigError("ablation must be a mapping of row: player name")
    check_keys(ablation_data, tuple(ABLATION_ROWS), "ablation")
    for row, player in ablation_data.items():
        if player not in names:
            raise ConfigError(f"ablation row {row} names {player!r}, which is not among the players")
    name = data.get("name", Path(source).stem if source else "tournament")
    check_name(name, "the tournament")
    return TournamentConfig(
        name=name,
        players=players,
        rules=rules,
        games=_number(data, "games", 2, 1, 100_000, True),
        pairing=pairing,
        gauntlet=gauntlet,
        seed=_number(data, "seed", 1, 0, 2**62, True),
        parallel=_number(data, "parallel", 0, 0, 1024, True),
        anchor=anchor,
        ablation=tuple(ablation_data.items()),
        sprt=sprt_from_dict(data["sprt"]) if data.get("sprt") is not None else None,
        source=source,
    )


def load_config(path: str | Path) -> TournamentConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    return config_from_dict(data, str(path))


def with_overrides(config: TournamentConfig, **changes: Any) -> TournamentConfig:
    """Applies command-line overrides (None = keep); rules fields go to `rules`."""
    rule_fields = set(MatchRules.__dataclass_fields__)
    rules = {k: v for k, v in changes.items() if k in rule_fields and v is not None}
    top = {k: v for k, v in changes.items() if k not in rule_fields and v is not None}
    data = config.to_dict()
    renamed = {"size": "board_size"}
    for k, v in {**rules, **top}.items():
        data[renamed.get(k, k)] = v
    return config_from_dict(data, config.source)
