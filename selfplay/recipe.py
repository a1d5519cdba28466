"""Typed, frozen recipe configs for `tengen train`, loaded strictly from YAML.

A recipe file names its kind with `recipe: alphazero | alphago` and holds nested sections that
map onto the frozen dataclasses below. Loading rejects, with one sentence naming the key:
unknown keys, values of the wrong type, and impossible values (negative counts, a window smaller
than a batch, ...). Search sections go through engine.search.SearchSettings.from_mapping and
network sections through engine.nets.NetConfig, so their checks are the same everywhere.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine import _core
from engine.nets import NetConfig
from engine.search import ConfigError, SearchSettings

RECIPES = ("alphazero", "alphago")


class RecipeError(ValueError):
    """A recipe file that cannot be used; the message is one sentence naming the key."""


# ---------------------------------------------------------------------------------------------
# Shared sections


@dataclass(frozen=True)
class OptimConfig:
    """Optimizer and batch of one learner."""

    optimizer: str = "adamw"  # sgd | adamw
    lr: float = 1e-3
    momentum: float = 0.9  # sgd only
    weight_decay: float = 1e-4
    batch_size: int = 128

    def check(self, where: str) -> None:
        _require(self.optimizer in ("sgd", "adamw"), f"{where}.optimizer must be sgd or adamw")
        _require(self.lr > 0, f"{where}.lr must be positive")
        _require(self.weight_decay >= 0, f"{where}.weight_decay must be >= 0")
        _require(0 <= self.momentum < 1, f"{where}.momentum must be in [0, 1)")
        _require(self.batch_size >= 1, f"{where}.batch_size must be at least 1")


@dataclass(frozen=True)
class MatchConfig:
    """Evaluation matches: `games` games, colours alternating, after `opening_moves` random moves
    shared by each pair of games. Policy players sample from their softmax when `sample`;
    search players use `search` (overrides of the recipe's search settings, no noise)."""

    games: int = 20
    opening_moves: int = 2
    sample: bool = True
    parallel: int = 32
    search: Mapping[str, Any] = field(default_factory=dict)

    def check(self, where: str) -> None:
        _require(self.games >= 2 and self.games % 2 == 0, f"{where}.games must be an even number >= 2")
        _require(self.opening_moves >= 0, f"{where}.opening_moves must be >= 0")
        _require(self.parallel >= 1, f"{where}.parallel must be at least 1")


# ---------------------------------------------------------------------------------------------
# AlphaZero


@dataclass(frozen=True)
class ZeroSelfplay:
    games_per_iteration: int = 64
    parallel_games: int = 32  # game slots in one batched search (one NN batch per step)
    games_per_shard: int = 16
    sgf: bool = True
    search: Mapping[str, Any] = field(default_factory=dict)  # engine.search.SearchSettings fields

    def check(self, where: str) -> None:
        _require(self.games_per_iteration >= 1, f"{where}.games_per_iteration must be at least 1")
        _require(self.parallel_games >= 1, f"{where}.parallel_games must be at least 1")
        _require(self.games_per_shard >= 1, f"{where}.games_per_shard must be at least 1")


@dataclass(frozen=True)
class ZeroTrain:
    steps_per_iteration: int = 100
    window_games: int = 500  # replay buffer: the most recent games on disk
    value_weight: float = 1.0
    symmetries: bool = True
    checkpoint_every: int = 50  # learner steps
    optim: OptimConfig = OptimConfig()

    def check(self, where: str) -> None:
        _require(self.steps_per_iteration >= 1, f"{where}.steps_per_iteration must be at least 1")
        _require(self.window_games >= 1, f"{where}.window_games must be at least 1")
        _require(self.value_weight >= 0, f"{where}.value_weight must be >= 0")
        _require(self.checkpoint_every >= 1, f"{where}.checkpoint_every must be at least 1")
        self.optim.check(f"{where}.optim")


@dataclass(frozen=True)
class Gating:
    """New net against the best so far: promoted when its win rate reaches `win_rate` after
    `games` games, or earlier when the SPRT (elo0, elo1, alpha, beta) accepts H1."""

    enabled: bool = False
    games: int = 20
    win_rate: float = 0.55
    sprt: bool = True
    elo0: float = 0.0
    elo1: float = 50.0
    alpha: float = 0.05
    beta: float = 0.05

    def check(self, where: str) -> None:
        _require(self.games >= 2 and self.games % 2 == 0, f"{where}.games must be an even number >= 2")
        _require(0 < self.win_rate < 1, f"{where}.win_rate must be in (0, 1)")
        _require(self.elo1 > self.elo0, f"{where}.elo1 must be greater than elo0")
        _require(0 < self.alpha < 1 and 0 < self.beta < 1, f"{where}.alpha and beta must be in (0, 1)")


@dataclass(frozen=True)
class ZeroRecipe:
    recipe: str = "alphazero"
    board_size: int = 9
    komi: float = 7.5
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    torch_threads: int = 0  # 0: torch's default
    iterations: int = 10
    init_weights: str = ""  # start the learner from these policy_value weights (e.g. supervised)
    net: NetConfig = NetConfig(architecture="policy_value", feature_set="raw")
    selfplay: ZeroSelfplay = ZeroSelfplay()
    train: ZeroTrain = ZeroTrain()
    gating: Gating = Gating()
    eval: MatchConfig = MatchConfig()

    def check(self) -> None:
        _require(self.recipe == "alphazero", "recipe must be alphazero")
        _require(_core.MIN_SIZE <= self.board_size <= _core.MAX_SIZE, "board_size is not a supported size")
        _require(self.iterations >= 1, "iterations must be at least 1")
        _require(self.net.architecture == "policy_value", "net.architecture must be policy_value for alphazero")
        _require(self.net.board_size == self.board_size, "net.board_size must equal board_size")
        _require(self.torch_threads >= 0, "torch_threads must be >= 0")
        _check_device(self.device)
        self.selfplay.check("selfplay")
        self.train.check("train")
        self.gating.check("gating")
        self.eval.check("eval")
        self.search_settings()  # validates the search section
        _require(
            self.search_settings().features == self.net.feature_set,
            "selfplay.search.features must equal net.feature_set (leave it out to use the net's)",
        )

    def search_settings(self) -> SearchSettings:
        s = dict(self.selfplay.search)
        s.setdefault("features", self.net.feature_set)
        s.setdefault("seed", self.seed + 1)
        try:
            return SearchSettings.from_mapping(s)
        except ConfigError as exc:
            raise RecipeError(str(exc).replace("search config:", "selfplay.search:")) from exc

    def eval_settings(self) -> SearchSettings:
        """Search for evaluation and gating matches: self-play's, without noise or randomness."""
        s = dataclasses.asdict(self.search_settings())
        s.update(
            root_noise=False, temperature_moves=0, resign_threshold=-2.0, full_search_prob=1.0, fast_visits=0
        )
        s.update(self.eval.search)
        try:
            return SearchSettings.from_mapping(s)
        except ConfigError as exc:
            raise RecipeError(str(exc).replace("search config:", "eval.search:")) from exc


# ---------------------------------------------------------------------------------------------
# AlphaGo


@dataclass(frozen=True)
class CorpusConfig:
    """Expert games: GnuGo against itself (source gnugo), or a folder of SGF files (source sgf)."""

    source: str = "gnugo"  # gnugo | sgf
    sgf_dir: str = ""
    games: int = 200
    level: int = 10
    engine: str = ""  # another GTP engine's command line instead of GnuGo
    workers: int = 1
    opening_moves_min: int = 2
    opening_moves_max: int = 6

    def check(self, where: str) -> None:
        _require(self.source in ("gnugo", "sgf"), f"{where}.source must be gnugo or sgf")
        _require(self.source != "sgf" or bool(self.sgf_dir), f"{where}.sgf_dir is needed when source is sgf")
        _require(self.games >= 2, f"{where}.games must be at least 2")
        _require(self.workers >= 1, f"{where}.workers must be at least 1")
        _require(
            0 <= self.opening_moves_min <= self.opening_moves_max,
            f"{where} needs 0 <= opening_moves_min <= opening_moves_max",
        )


@dataclass(frozen=True)
class SLStage:
    """Supervised policy: selfplay.train_sl settings (data and out_dir are the run's)."""

    net: NetConfig = NetConfig(architecture="policy", feature_set="alphago")
    train: Mapping[str, Any] = field(default_factory=dict)  # selfplay.train_sl.TrainConfig fields


@dataclass(frozen=True)
class RLStage:
    """Policy gradient (REINFORCE with a baseline) in batched games without search against a
    pool of earlier policies."""

    iterations: int = 20
    games_per_iteration: int = 64  # played at once, one NN batch per move
    pool_every: int = 5  # the current policy joins the opponent pool every this many iterations
    temperature: float = 1.0  # softmax temperature when sampling moves
    epochs_per_iteration: int = 1  # passes over the iteration's positions
    baseline: str = "mean"  # mean (the iteration's mean outcome) | none
    sgf: bool = True
    optim: OptimConfig = OptimConfig(optimizer="sgd", lr=1e-3, batch_size=256)

    def check(self, where: str) -> None:
        _require(self.iterations >= 0, f"{where}.iterations must be >= 0")
        _require(self.games_per_iteration >= 2, f"{where}.games_per_iteration must be at least 2")
        _require(self.pool_every >= 1, f"{where}.pool_every must be at least 1")
        _require(self.temperature > 0, f"{where}.temperature must be positive")
        _require(self.epochs_per_iteration >= 1, f"{where}.epochs_per_iteration must be at least 1")
        _require(self.baseline in ("mean", "none"), f"{where}.baseline must be mean or none")
        self.optim.check(f"{where}.optim")


@dataclass(frozen=True)
class ValueStage:
    """Value net on one position per RL self-play game (the position after a random move U)."""

    net: NetConfig = NetConfig(architecture="value", feature_set="alphago_value")
    games: int = 1000
    parallel_games: int = 128
    holdout_fraction: float = 0.1
    epochs: int = 10
    optim: OptimConfig = OptimConfig(optimizer="adamw", lr=1e-3, batch_size=128)

    def check(self, where: str) -> None:
        _require(self.games >= 10, f"{where}.games must be at least 10")
        _require(self.parallel_games >= 1, f"{where}.parallel_games must be at least 1")
        _require(0 < self.holdout_fraction < 0.5, f"{where}.holdout_fraction must be in (0, 0.5)")
        _require(self.epochs >= 1, f"{where}.epochs must be at least 1")
        self.optim.check(f"{where}.optim")


@dataclass(frozen=True)
class RolloutStage:
    """AlphaGo's fast rollout policy: a linear softmax over local patterns fitted to the corpus
    (selfplay.train_rollout); with use_in_search the combined player's rollouts are played by it,
    otherwise by light random playouts."""

    epochs: int = 3
    batch_size: int = 512
    lr: float = 0.05
    use_in_search: bool = True

    def check(self, where: str) -> None:
        _require(self.epochs >= 1, f"{where}.epochs must be at least 1")
        _require(self.batch_size >= 1, f"{where}.batch_size must be at least 1")
        _require(self.lr > 0, f"{where}.lr must be positive")


@dataclass(frozen=True)
class CombinedStage:
    """The AlphaGo player: policy-net priors, value net and rollouts mixed by lambda in search."""

    policy: str = "sl"  # sl | rl: which policy gives the priors (AlphaGo used the SL policy)
    search: Mapping[str, Any] = field(default_factory=dict)

    def check(self, where: str) -> None:
        _require(self.policy in ("sl", "rl"), f"{where}.policy must be sl or rl")


@dataclass(frozen=True)
class AlphaGoRecipe:
    recipe: str = "alphago"
    board_size: int = 9
    komi: float = 7.0
    seed: int = 0
    device: str = "auto"
    torch_threads: int = 0
    corpus: CorpusConfig = CorpusConfig()
    sl: SLStage = SLStage()
    rollout: RolloutStage = RolloutStage()
    rl: RLStage = RLStage()
    value: ValueStage = ValueStage()
    combined: CombinedStage = CombinedStage()
    eval: MatchConfig = MatchConfig()

    def check(self) -> None:
        _require(self.recipe == "alphago", "recipe must be alphago")
        _require(_core.MIN_SIZE <= self.board_size <= _core.MAX_SIZE, "board_size is not a supported size")
        _require(self.torch_threads >= 0, "torch_threads must be >= 0")
        _check_device(self.device)
        self.corpus.check("corpus")
        _require(self.sl.net.architecture == "policy", "sl.net.architecture must be policy")
        _require(self.sl.net.board_size == self.board_size, "sl.net.board_size must equal board_size")
        _require(self.value.net.architecture == "value", "value.net.architecture must be value")
        _require(self.value.net.board_size == self.board_size, "value.net.board_size must equal board_size")
        self.rollout.check("rollout")
        self.rl.check("rl")
        self.value.check("value")
        self.combined.check("combined")
        self.eval.check("eval")
        self.sl_train_config("sl", Path("."), Path("."))
        self.combined_settings()

    def sl_train_config(self, where: str, data: Path, out_dir: Path) -> Any:
        from selfplay.train_sl import TrainConfig, _build

        values = {**dict(self.sl.train), "data": (str(data),), "out_dir": str(out_dir), "seed": self.seed}
        values.setdefault("device", self.device)
        if self.torch_threads:
            values.setdefault("torch_threads", self.torch_threads)
        try:
            return _build(TrainConfig, values, f"{where}.train")
        except (ValueError, TypeError) as exc:
            raise RecipeError(str(exc)) from exc

    def combined_settings(self) -> SearchSettings:
        s: dict[str, Any] = {
            "visits": 64,
            "policy": "net",
            "use_value": True,
            "use_rollouts": True,
            "lambda": 0.5,
            "features": self.value.net.feature_set,
            "seed": self.seed + 3,
        }
        s.update(self.combined.search)
        try:
            return SearchSettings.from_mapping(s)
        except ConfigError as exc:
            raise RecipeError(str(exc).replace("search config:", "combined.search:")) from exc


Recipe = ZeroRecipe | AlphaGoRecipe


# ---------------------------------------------------------------------------------------------
# Loading


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise RecipeError(message)


def _check_device(name: str) -> None:
    ok = name in ("auto", "cpu", "cuda") or (name.startswith("cuda:") and name[5:].isdigit())
    _require(ok, f"device must be auto, cpu, cuda or cuda:N, not {name!r}")


def _convert(kind: Any, value: Any, where: str) -> Any:
    """`value` as type `kind` (a resolved annotation); raises RecipeError naming `where`."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(kind):
            try:
                return _convert(option, value, where)
            except RecipeError as exc:
                errors.append(str(exc))
        raise RecipeError(errors[0])
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, Mapping):
            raise RecipeError(f"{where} must be a section (key: value lines), not {value!r}")
        return _build(kind, value, where)  # type: ignore[arg-type]
    if kind is bool:
        if not isinstance(value, bool):
            raise RecipeError(f"{where} must be true or false, not {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{where} must be an integer, not {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecipeError(f"{where} must be a number, not {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise RecipeError(f"{where} must be a string, not {value!r}")
        return value
    if origin is not None and issubclass(origin, Mapping):
        if not isinstance(value, Mapping):
            raise RecipeError(f"{where} must be a section (key: value lines), not {value!r}")
        return dict(value)
    raise RecipeError(f"{where}: unsupported setting type {kind!r}")


def _build(cls: type, values: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    prefix = f"{where}." if where else ""
    for key in values:
        if key not in known:
            raise RecipeError(f"unknown key '{prefix}{key}' (known in this section: {', '.join(known)})")
    kwargs: dict[str, Any] = {}
    for name in known:
        if name in values:
            kwargs[name] = _convert(hints[name], values[name], prefix + name)
    if cls is NetConfig:
        try:
            return NetConfig(**kwargs)
        except ValueError as exc:
            raise RecipeError(f"{where}: {exc}") from exc
    return cls(**kwargs)


def _with_net_defaults(section: Mapping[str, Any], architecture: str, feature_set: str, size: int) -> dict[str, Any]:
    out = dict(section)
    out.setdefault("architecture", architecture)
    out.setdefault("feature_set", feature_set)
    out.setdefault("board_size", size)
    return out


def parse_recipe(raw: Any, source: str = "config") -> Recipe:
    """A checked recipe from a parsed YAML mapping; RecipeError names what is wrong."""
    if not isinstance(raw, Mapping):
        raise RecipeError(f"{source} must be a mapping of settings (key: value lines)")
    kind = raw.get("recipe")
    if kind not in RECIPES:
        raise RecipeError(f"{source} must say `recipe: alphazero` or `recipe: alphago` (found {kind!r})")
    data = dict(raw)
    size = data.get("board_size", 9)
    if not isinstance(size, int) or isinstance(size, bool):
        raise RecipeError(f"board_size must be an integer, not {size!r}")
    nets: list[tuple[str, str, str]]
    if kind == "alphazero":
        nets = [("net", "policy_value", "raw")]
    else:
        nets = [("sl.net", "policy", "alphago"), ("value.net", "value", "alphago_value")]
    for path, arch, fs in nets:
        parts = path.split(".")
        parent = data
        for p in parts[:-1]:
            section = parent.get(p, {})
            if not isinstance(section, Mapping):
                raise RecipeError(f"{p} must be a section (key: value lines), not {section!r}")
            parent[p] = dict(section)
            parent = parent[p]
        net = parent.get(parts[-1], {})
        if not isinstance(net, Mapping):
            raise RecipeError(f"{path} must be a section (key: value lines), not {net!r}")
        parent[parts[-1]] = _with_net_defaults(net, arch, fs, size)
    cls = ZeroRecipe if kind == "alphazero" else AlphaGoRecipe
    recipe = _build(cls, data, "")
    recipe.check()
    return recipe  # type: ignore[no-any-return]


def load_recipe(path: str | Path) -> tuple[Recipe, str]:
    """(recipe, the file's text) from a YAML file; RecipeError for a missing or bad file."""
    p = Path(path)
    if not p.is_file():
        raise RecipeError(f"config file not found: {p}")
    text = p.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise RecipeError(f"{p} is not valid YAML ({first})") from exc
    try:
        return parse_recipe(raw, str(p)), text
    except RecipeError as exc:
        raise RecipeError(f"{p}: {exc}") from exc
