"""Typed, frozen recipe configs for `tengen train`, loaded strictly from YAML.

A recipe file names its kind with `recipe: alphazero | alphago` and holds nested sections that
map onto the frozen dataclasses below through engine.config (the one strict loader): unknown
keys, values of the wrong type, nan/inf and impossible values (negative counts, a window smaller
than a batch, ...) are refused with one sentence naming the dotted key. Range checks live in each
section's `__post_init__`. Search sections go through engine.search.SearchSettings.from_mapping
and network sections through engine.nets.NetConfig, so their checks are the same everywhere.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine import _core
from engine.arena.engines import MAX_GNUGO_LEVEL
from engine.config import (
    MAX_BATCH,
    MAX_COUNT,
    MAX_EPOCHS,
    MAX_LR,
    MAX_SEED,
    MAX_THREADS,
    from_mapping,
    load_yaml,
    require,
    require_at_most,
    require_finite,
)
from engine.errors import ConfigError
from engine.nets import NetConfig
from engine.search import SearchSettings
from engine.torch_device import DEVICE_NAMES, PRECISIONS, is_device_name
from selfplay.torch_setup import OptimConfig

RECIPES = ("alphazero", "alphago")
MAX_KOMI = 150.0  # |komi| beyond this is a typo, not a rule


class RecipeError(ConfigError):
    """A recipe file that cannot be used; the message is one sentence naming the key."""


@dataclass(frozen=True, kw_only=True)
class RecipeCommon:
    """The top-level settings every recipe has: board, komi, seed and where torch runs."""

    board_size: int = 9
    komi: float = _core.DEFAULT_KOMI
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    torch_threads: int = 0  # 0: torch's default
    # Inference precision of self-play and evaluation nets (engine.torch_device.PRECISIONS). f32 by
    # default: on one seed of the main job, bf16 self-play (1.43x the positions/s) ended with a weaker
    # net after the same 10 iterations (BENCHMARKS.md); "auto" picks bf16 where the hardware has it.
    inference_precision: str = "f32"

    def __post_init__(self) -> None:
        precisions = ", ".join(PRECISIONS)
        require(self.inference_precision in PRECISIONS, "inference_precision", f"must be one of {precisions}")
        require(_core.MIN_SIZE <= self.board_size <= _core.MAX_SIZE, "board_size", "is not a supported size")
        require_finite(self.komi, "komi")
        half_points = self.komi * 2 == int(self.komi * 2)
        require(abs(self.komi) <= MAX_KOMI and half_points, "komi", f"must be a multiple of 0.5 <= {MAX_KOMI:g}")
        require(self.seed >= 0, "seed", "must be >= 0")
        require_at_most(self.seed, MAX_SEED - 16, "seed")  # the recipe derives seed + k for its parts
        require(is_device_name(self.device), "device", f"must be {DEVICE_NAMES}, not {self.device!r}")
        require(self.torch_threads >= 0, "torch_threads", "must be >= 0")
        require_at_most(self.torch_threads, MAX_THREADS, "torch_threads")


# ---------------------------------------------------------------------------------------------
# Shared sections


@dataclass(frozen=True, kw_only=True)
class MatchConfig:
    """Evaluation matches: `games` games, colours alternating, after `opening_moves` random moves
    shared by each pair of games. Policy players sample from their softmax when `sample`;
    search players use `search` (overrides of the recipe's search settings, no noise)."""

    games: int = 20
    opening_moves: int = 2
    sample: bool = True
    parallel: int = 32
    search: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require(self.games >= 2 and self.games % 2 == 0, "games", "must be an even number >= 2")
        require_at_most(self.games, MAX_COUNT, "games")
        require(0 <= self.opening_moves <= 1000, "opening_moves", "must be from 0 to 1000")
        require(self.parallel >= 1, "parallel", "must be at least 1")
        require_at_most(self.parallel, MAX_BATCH, "parallel")


# ---------------------------------------------------------------------------------------------
# AlphaZero


@dataclass(frozen=True, kw_only=True)
class ZeroSelfplay:
    """Self-play of one iteration: games, game slots of the batched search, shard size."""

    games_per_iteration: int = 64
    parallel_games: int = 32  # game slots in one batched search (one NN batch per step)
    games_per_shard: int = 16
    sgf: bool = True
    search: Mapping[str, Any] = field(default_factory=dict)  # engine.search.SearchSettings fields

    def __post_init__(self) -> None:
        require(self.games_per_iteration >= 1, "games_per_iteration", "must be at least 1")
        require_at_most(self.games_per_iteration, MAX_COUNT, "games_per_iteration")
        require(self.parallel_games >= 1, "parallel_games", "must be at least 1")
        require_at_most(self.parallel_games, MAX_BATCH, "parallel_games")
        require(self.games_per_shard >= 1, "games_per_shard", "must be at least 1")
        require_at_most(self.games_per_shard, MAX_COUNT, "games_per_shard")


@dataclass(frozen=True, kw_only=True)
class ZeroTrain:
    """The learner's steps per iteration on the replay window of the most recent games."""

    steps_per_iteration: int = 100
    window_games: int = 500  # replay buffer: the most recent games on disk
    value_weight: float = 1.0
    # Nets with aux_heads: KataGo's weights. Ownership: 1.5 x the mean per-point cross-entropy;
    # score: Huber loss on the score lead in units of 10 points.
    ownership_weight: float = 1.5
    score_weight: float = 0.5
    symmetries: bool = True
    checkpoint_every: int = 50  # learner steps
    optim: OptimConfig = OptimConfig()

    def __post_init__(self) -> None:
        require(self.steps_per_iteration >= 1, "steps_per_iteration", "must be at least 1")
        require_at_most(self.steps_per_iteration, MAX_COUNT, "steps_per_iteration")
        require(self.window_games >= 1, "window_games", "must be at least 1")
        require_at_most(self.window_games, MAX_COUNT, "window_games")
        weight_ok = math.isfinite(self.value_weight) and 0 <= self.value_weight <= 1e3
        require(weight_ok, "value_weight", "must be in [0, 1000]")
        for key in ("ownership_weight", "score_weight"):
            w = getattr(self, key)
            require(math.isfinite(w) and 0 <= w <= 1e3, key, "must be in [0, 1000]")
        require(self.checkpoint_every >= 1, "checkpoint_every", "must be at least 1")


@dataclass(frozen=True, kw_only=True)
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

    def __post_init__(self) -> None:
        require(self.games >= 2 and self.games % 2 == 0, "games", "must be an even number >= 2")
        require_at_most(self.games, MAX_COUNT, "games")
        require(0 < self.win_rate < 1, "win_rate", "must be in (0, 1)")
        require(self.elo1 > self.elo0, "elo1", "must be greater than elo0")
        require(
            0 < self.alpha < 1 and 0 < self.beta < 1 and self.alpha + self.beta < 1,
            "alpha",
            "and beta must be in (0, 1) with alpha + beta < 1",
        )


@dataclass(frozen=True, kw_only=True)
class ZeroRecipe(RecipeCommon):
    """The AlphaZero recipe (selfplay/zero.py)."""

    recipe: Literal["alphazero"] = "alphazero"
    iterations: int = 10
    init_weights: str = ""  # start the learner from these policy_value weights (e.g. supervised)
    net: NetConfig = NetConfig(architecture="policy_value", feature_set="raw")
    selfplay: ZeroSelfplay = ZeroSelfplay()
    train: ZeroTrain = ZeroTrain()
    gating: Gating = Gating()
    eval: MatchConfig = MatchConfig()

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.iterations >= 1, "iterations", "must be at least 1")
        require_at_most(self.iterations, MAX_EPOCHS, "iterations")
        require(self.net.architecture == "policy_value", "net.architecture", "must be policy_value for alphazero")
        require(self.net.board_size == self.board_size, "net.board_size", "must equal board_size")
        require(
            self.search_settings().features == self.net.feature_set,
            "selfplay.search.features",
            "must equal net.feature_set (leave it out to use the net's)",
        )
        self.eval_settings()  # validates the eval search section

    def search_settings(self) -> SearchSettings:
        s = dict(self.selfplay.search)
        s.setdefault("features", self.net.feature_set)
        s.setdefault("seed", self.seed + 1)
        return _search(s, "selfplay.search")

    def eval_settings(self) -> SearchSettings:
        """Search for evaluation and gating matches: self-play's, without noise or randomness."""
        s = {"lambda" if k == "lambda_" else k: v for k, v in dataclasses.asdict(self.search_settings()).items()}
        s.update(
            root_noise=False, temperature_moves=0, resign_threshold=-2.0, full_search_prob=1.0, fast_visits=0
        )
        s.update(self.eval.search)
        return _search(s, "eval.search")


def _search(values: Mapping[str, Any], where: str) -> SearchSettings:
    try:
        return SearchSettings.from_mapping(values)
    except ConfigError as exc:
        raise RecipeError(str(exc).replace("search config:", f"{where}:")) from None


# ---------------------------------------------------------------------------------------------
# AlphaGo


@dataclass(frozen=True, kw_only=True)
class CorpusConfig:
    """Expert games: GnuGo against itself (source gnugo), or a folder of SGF files (source sgf)."""

    source: Literal["gnugo", "sgf"] = "gnugo"
    sgf_dir: str = ""
    games: int = 200
    level: int = 10
    engine: str = ""  # another GTP engine's command line instead of GnuGo
    workers: int = 1
    opening_moves_min: int = 2
    opening_moves_max: int = 6

    def __post_init__(self) -> None:
        require(self.source in ("gnugo", "sgf"), "source", "must be gnugo or sgf")
        require(self.source != "sgf" or bool(self.sgf_dir), "sgf_dir", "is needed when source is sgf")
        require(self.games >= 2, "games", "must be at least 2")
        require_at_most(self.games, MAX_COUNT, "games")
        require(0 <= self.level <= MAX_GNUGO_LEVEL, "level", f"must be a GnuGo level from 0 to {MAX_GNUGO_LEVEL}")
        require(1 <= self.workers <= MAX_THREADS, "workers", f"must be from 1 to {MAX_THREADS}")
        require(
            0 <= self.opening_moves_min <= self.opening_moves_max <= 1000,
            "opening_moves_min",
            "must be >= 0 and <= opening_moves_max <= 1000",
        )


@dataclass(frozen=True, kw_only=True)
class SLStage:
    """Supervised policy: selfplay.train_sl settings (data and out_dir are the run's)."""

    net: NetConfig = NetConfig(architecture="policy", feature_set="alphago")
    train: Mapping[str, Any] = field(default_factory=dict)  # selfplay.train_sl.TrainConfig fields


@dataclass(frozen=True, kw_only=True)
class RLStage:
    """Policy gradient (REINFORCE with a baseline) in batched games without search against a
    pool of earlier policies. Evaluated by `eval_games` games against the SL policy, both sampling
    from their softmax from the empty board as AlphaGo did (eval/rl.json, with a Wilson interval)."""

    iterations: int = 20
    eval_games: int = 200
    games_per_iteration: int = 64  # played at once, one NN batch per move
    pool_every: int = 5  # the current policy joins the opponent pool every this many iterations
    temperature: float = 1.0  # softmax temperature when sampling moves
    epochs_per_iteration: int = 1  # passes over the iteration's positions
    baseline: Literal["mean", "none"] = "mean"  # mean (the iteration's mean outcome) | none
    sgf: bool = True
    optim: OptimConfig = OptimConfig(optimizer="sgd", lr=1e-3, batch_size=256)

    def __post_init__(self) -> None:
        require(0 <= self.iterations <= MAX_EPOCHS, "iterations", f"must be from 0 to {MAX_EPOCHS}")
        require(self.games_per_iteration >= 2, "games_per_iteration", "must be at least 2")
        require_at_most(self.games_per_iteration, MAX_BATCH, "games_per_iteration")  # played at once
        require(self.pool_every >= 1, "pool_every", "must be at least 1")
        require(math.isfinite(self.temperature) and 0 < self.temperature <= 1e3, "temperature", "must be in (0, 1000]")
        require(1 <= self.epochs_per_iteration <= MAX_EPOCHS, "epochs_per_iteration", f"must be from 1 to {MAX_EPOCHS}")
        require(self.baseline in ("mean", "none"), "baseline", "must be mean or none")
        require(self.eval_games >= 2 and self.eval_games % 2 == 0, "eval_games", "must be an even number >= 2")
        require_at_most(self.eval_games, MAX_COUNT, "eval_games")


MAX_POSITIONS_PER_GAME = 64  # value positions per game: more are nearly copies of each other


@dataclass(frozen=True, kw_only=True)
class ValueStage:
    """Value net on RL self-play positions: in each of `games` games the SL policy plays U moves
    (U uniform over [0, random_move_span * size * size): keep it within the SL policy's typical
    game length, since a game the SL policy ends before U gives no position), one random move
    follows, then the RL policy plays both sides; `positions_per_game` distinct positions of the
    RL-played part (the first right after the random move: AlphaGo's one) are labelled with the
    outcome (selfplay/value_estimates.py). Games, not positions, are held out.
    Every epoch logs the training and held-out MSE; the weights of the epoch with the lowest
    held-out MSE are kept, and training stops after `patience` epochs without a lower one (0: all
    epochs run). `estimate_positions` held-out positions (a seeded sample) compare the value net
    with one rollout and with the RL policy's own self-play outcome (eval/value_mse.json)."""

    net: NetConfig = NetConfig(architecture="value", feature_set="alphago_value")
    games: int = 1000
    positions_per_game: int = 1
    random_move_span: float = 1.0
    parallel_games: int = 128
    holdout_fraction: float = 0.1
    epochs: int = 10
    patience: int = 0
    estimate_positions: int = 2000
    optim: OptimConfig = OptimConfig(optimizer="adamw", lr=1e-3, batch_size=128)

    def __post_init__(self) -> None:
        require(self.games >= 10, "games", "must be at least 10")
        require_at_most(self.games, MAX_COUNT, "games")
        k = MAX_POSITIONS_PER_GAME
        require(1 <= self.positions_per_game <= k, "positions_per_game", f"must be from 1 to {k}")
        span_ok = math.isfinite(self.random_move_span) and 0 < self.random_move_span <= 2
        require(span_ok, "random_move_span", "must be in (0, 2] (2: the longest game)")
        require(1 <= self.parallel_games <= MAX_BATCH, "parallel_games", f"must be from 1 to {MAX_BATCH}")
        require(0 < self.holdout_fraction < 0.5, "holdout_fraction", "must be in (0, 0.5)")
        require(1 <= self.epochs <= MAX_EPOCHS, "epochs", f"must be from 1 to {MAX_EPOCHS}")
        require(0 <= self.patience <= MAX_EPOCHS, "patience", f"must be from 0 to {MAX_EPOCHS}")
        require(self.estimate_positions >= 1, "estimate_positions", "must be at least 1")
        require_at_most(self.estimate_positions, MAX_COUNT, "estimate_positions")


@dataclass(frozen=True, kw_only=True)
class RolloutStage:
    """AlphaGo's fast rollout policy: a linear softmax over local patterns fitted to the corpus
    (selfplay.train_rollout); with use_in_search the combined player's rollouts are played by it,
    otherwise by light random playouts."""

    epochs: int = 3
    batch_size: int = 512
    lr: float = 0.05
    use_in_search: bool = True

    def __post_init__(self) -> None:
        require(1 <= self.epochs <= MAX_EPOCHS, "epochs", f"must be from 1 to {MAX_EPOCHS}")
        require(1 <= self.batch_size <= MAX_BATCH, "batch_size", f"must be from 1 to {MAX_BATCH}")
        require(math.isfinite(self.lr) and 0 < self.lr <= MAX_LR, "lr", f"must be positive, at most {MAX_LR:g}")


@dataclass(frozen=True, kw_only=True)
class CombinedStage:
    """The AlphaGo player: policy-net priors, value net and rollouts mixed by lambda in search."""

    policy: Literal["sl", "rl"] = "sl"  # which policy gives the priors (AlphaGo used the SL policy)
    search: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require(self.policy in ("sl", "rl"), "policy", "must be sl or rl")


@dataclass(frozen=True, kw_only=True)
class AlphaGoRecipe(RecipeCommon):
    """The AlphaGo (2016) recipe (selfplay/alphago.py)."""

    recipe: Literal["alphago"] = "alphago"
    komi: float = 7.0
    corpus: CorpusConfig = CorpusConfig()
    sl: SLStage = SLStage()
    rollout: RolloutStage = RolloutStage()
    rl: RLStage = RLStage()
    value: ValueStage = ValueStage()
    combined: CombinedStage = CombinedStage()
    eval: MatchConfig = MatchConfig()

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.sl.net.architecture == "policy", "sl.net.architecture", "must be policy")
        require(self.sl.net.board_size == self.board_size, "sl.net.board_size", "must equal board_size")
        require(self.value.net.architecture == "value", "value.net.architecture", "must be value")
        require(self.value.net.board_size == self.board_size, "value.net.board_size", "must equal board_size")
        self.sl_train_config(Path("."), Path("."))
        self.combined_settings()

    def sl_train_config(self, data: Path, out_dir: Path) -> Any:
        """The selfplay.train_sl.TrainConfig of the sl stage, reading `data`, writing `out_dir`."""
        from selfplay.train_sl import TrainConfig

        values = {**dict(self.sl.train), "data": (str(data),), "out_dir": str(out_dir), "seed": self.seed}
        values.setdefault("device", self.device)
        if self.torch_threads:
            values.setdefault("torch_threads", self.torch_threads)
        try:
            return from_mapping(TrainConfig, values, "sl.train")
        except ConfigError as exc:
            raise RecipeError(str(exc)) from None

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
        return _search(s, "combined.search")


Recipe = ZeroRecipe | AlphaGoRecipe


# ---------------------------------------------------------------------------------------------
# Loading


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
    cls: type[ZeroRecipe] | type[AlphaGoRecipe] = ZeroRecipe if kind == "alphazero" else AlphaGoRecipe
    try:
        return from_mapping(cls, data, "")
    except RecipeError:
        raise
    except ConfigError as exc:
        raise RecipeError(str(exc)) from None


def load_recipe(path: str | Path) -> tuple[Recipe, str]:
    """(recipe, the file's text) from a YAML file; RecipeError for a missing or bad file."""
    p = Path(path)
    try:
        raw = load_yaml(p)
    except ConfigError as exc:
        raise RecipeError(str(exc)) from None
    text = p.read_text(encoding="utf-8")
    try:
        return parse_recipe(raw, "the file"), text
    except RecipeError as exc:
        raise RecipeError(f"{p}: {exc}") from None


def with_init_weights(recipe: Recipe, text: str, weights: Path) -> tuple[Recipe, str]:
    """`tengen train --init W`: the AlphaZero recipe warm-started from `weights`, and the recipe text
    with that choice written into it (the run directory keeps the text, so a resume needs the same flag).

    RecipeError when the recipe is not AlphaZero, already names init weights, or the file is missing or
    holds a net of another shape than the recipe's."""
    from engine.weights import read_config

    if not isinstance(recipe, ZeroRecipe):
        raise RecipeError("--init warm-starts the AlphaZero recipe only (the AlphaGo recipe trains from its corpus)")
    if recipe.init_weights:
        raise RecipeError(f"the recipe already sets init_weights ({recipe.init_weights}); drop it or --init")
    path = weights.resolve()
    if not path.is_file():
        raise RecipeError(f"--init {weights}: no such weights file")
    found = read_config(path)
    if found != recipe.net:
        diff = ", ".join(
            f"{f.name} {getattr(found, f.name)!r} (recipe {getattr(recipe.net, f.name)!r})"
            for f in dataclasses.fields(NetConfig)
            if getattr(found, f.name) != getattr(recipe.net, f.name)
        )
        raise RecipeError(f"--init {weights} holds another net than the recipe's: {diff}")
    text = text.rstrip("\n") + f"\n# added by `tengen train --init`\ninit_weights: {json.dumps(str(path))}\n"
    return dataclasses.replace(recipe, init_weights=str(path)), text
