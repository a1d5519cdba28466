"""The AlphaZero recipe: MCTS self-play through the batched search -> replay buffer on disk ->
training of one policy+value net -> optional gating by SPRT -> repeat.

Roles. Two functions do the work and talk only through the run directory, so a distributed
runner (e.g. Ray) can later run many producers on other machines against one learner:
  - `produce_games` (self-play worker): reads a weights file, plays games with the batched
    search (many games per process, one NN batch per step) and writes finished games as
    pending files, shards and SGF under games/iter_NNNN/ (selfplay/selfplay_shards.py).
  - `learn` (learner): reads the most recent `window_games` games from the shards, trains the
    net from checkpoints/learner.safetensors and writes weights/iter_NNNN.safetensors.
  `gate` and `evaluate_final` play matches between weights files. `run_zero` sequences them and
  records each finished step in state.json, so a killed run continues where it stopped.
  Where the games are played is a `GameSource`: `LocalGames` (this process, the default) or
  selfplay.ray_selfplay.RayGames (Ray actors); either way only this process writes the store.

Training targets: the policy head learns the visit distribution of full searches only (moves
searched with `fast_visits` under playout cap randomisation are value targets only), the value
head the game's outcome from the mover's view; every sample gets one of the 8 symmetries.
Resignation false positives are counted on no-resign games: a game in which the side that
would have resigned went on to win.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from tqdm import tqdm

from engine import _core
from engine.arena.sprt import SprtParams, sprt
from engine.atomic_io import atomic_write_text
from engine.evaluators import TorchEvaluator
from engine.nets import SCORE_UNIT, GoNet
from engine.search import BatchedRunner
from engine.torch_device import inference_precision, pick_device
from engine.weights import load_net, save_weights
from selfplay.learner import Learner
from selfplay.match import MatchResult, PolicyPlayer, RandomPlayer, SearchPlayer, play_match
from selfplay.recipe import ZeroRecipe
from selfplay.run_dir import RunDir, RunDirError, State
from selfplay.selfplay_shards import GameStore, SelfplayGame, Shard
from selfplay.torch_setup import Scalars, derive_seed, set_threads

Log = Callable[[str], None]


def iteration_name(i: int) -> str:
    return f"iter_{i:04d}"


# ---------------------------------------------------------------------------------------------
# Self-play worker


@dataclass(frozen=True)
class SelfplayStats:
    games: int
    positions: int
    new_games: int
    seconds: float
    games_per_hour: float
    positions_per_second: float
    black_wins: int
    resigned: int
    no_resign_games: int
    would_resign: int
    resign_false_positives: int
    mean_length: float


OnGame = Callable[[SelfplayGame], None]


class GameSource(Protocol):
    """Where `produce_games` gets its games: plays `count` self-play games of `iteration` with the
    net in `weights`, the first of them game number `first` of the iteration, and calls `on_game`
    with each finished game in the order the store must write them (in this process)."""

    def play(self, recipe: ZeroRecipe, iteration: int, weights: Path, first: int, count: int, on_game: OnGame) -> None:
        ...


def play_selfplay_chunk(
    recipe: ZeroRecipe, evaluator: TorchEvaluator, iteration: int, first: int, count: int, on_game: OnGame
) -> None:
    """`count` self-play games over min(parallel_games, count) slots of one BatchedRunner. The
    seed depends on (recipe seed, iteration, first): a restart does not replay the games it has."""
    seed = derive_seed(recipe.seed, iteration, first)
    settings = dataclasses.replace(recipe.search_settings(), seed=seed)
    slots = min(recipe.selfplay.parallel_games, count)
    with BatchedRunner(settings, recipe.board_size, recipe.komi, slots, evaluator) as runner:
        runner.play_selfplay(count, lambda g: on_game(SelfplayGame.from_search(g)))


class LocalGames:
    """Self-play in this process: the whole remainder of the iteration in one batched search."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def play(self, recipe: ZeroRecipe, iteration: int, weights: Path, first: int, count: int, on_game: OnGame) -> None:
        net = load_net(weights, expected=recipe.net, device=self.device)
        evaluator = TorchEvaluator(net, net, device=self.device, precision=recipe.inference_precision)
        play_selfplay_chunk(recipe, evaluator, iteration, first, count, on_game)


def produce_games(
    recipe: ZeroRecipe,
    run: RunDir,
    iteration: int,
    weights: Path,
    device: torch.device,
    progress: bool = True,
    source: GameSource | None = None,
) -> SelfplayStats:
    """Plays the games of `iteration` that are not on disk yet with the net in `weights`, in
    this process or wherever `source` plays them; this process alone writes them to the store."""
    sp = recipe.selfplay
    name = iteration_name(iteration)
    store = GameStore(run.games(name), name, sp.games_per_shard, sp.sgf)
    remaining = sp.games_per_iteration - store.num_games
    start = time.perf_counter()
    new = positions_new = 0
    if remaining > 0:
        player = f"tengen {weights.stem}"
        bar = tqdm(
            total=sp.games_per_iteration, initial=store.num_games, desc=f"{name} self-play", unit="game",
            disable=not progress, leave=False,
        )

        def on_game(game: SelfplayGame) -> None:
            nonlocal new, positions_new
            store.add(game, player, player, f"tengen self-play, {name}")
            new += 1
            positions_new += len(game.moves)
            bar.update(1)

        (source or LocalGames(device)).play(recipe, iteration, weights, store.num_games, remaining, on_game)
        bar.close()
    store.flush()
    seconds = time.perf_counter() - start
    shard = store.load_all()
    assert shard is not None
    return _selfplay_stats(shard, new, positions_new, seconds)


def _selfplay_stats(shard: Shard, new: int, positions_new: int, seconds: float) -> SelfplayStats:
    r = shard.records
    nr = shard.no_resign.astype(bool)
    would = nr & (shard.would_resign != 0)
    false_pos = would & (shard.would_resign == r.winner)
    return SelfplayStats(
        games=r.num_games,
        positions=r.num_moves,
        new_games=new,
        seconds=round(seconds, 2),
        games_per_hour=round(3600 * new / seconds, 1) if new and seconds > 0 else float("nan"),
        positions_per_second=round(positions_new / seconds, 1) if new and seconds > 0 else float("nan"),
        black_wins=int((r.winner > 0).sum()),
        resigned=int(shard.resigned.sum()),
        no_resign_games=int(nr.sum()),
        would_resign=int(would.sum()),
        resign_false_positives=int(false_pos.sum()),
        mean_length=round(float(r.num_moves) / max(1, r.num_games), 1),
    )


# ---------------------------------------------------------------------------------------------
# Learner


def load_window(run: RunDir, iteration: int, window_games: int) -> Shard:
    """The most recent `window_games` games of iterations <= `iteration` (the replay buffer)."""
    parts: list[Shard] = []
    have = 0
    for i in range(iteration, 0, -1):
        folder = run.games(iteration_name(i)) / "shards"
        if not folder.is_dir():
            continue
        for p in sorted(folder.glob("shard_*.npz"), reverse=True):
            s = Shard.load(p)
            parts.append(s)
            have += s.num_games
            if have >= window_games:
                break
        if have >= window_games:
            break
    if not parts:
        raise RunDirError(f"no self-play shards for iterations <= {iteration} in {run.root}; the run cannot resume")
    return Shard.concat(parts[::-1])


@dataclass(frozen=True)
class TrainStats:
    steps: int
    samples: int
    window_games: int
    window_positions: int
    policy_loss: float
    value_mse: float
    ownership_loss: float  # nan for nets without aux heads
    score_loss: float
    seconds: float
    samples_per_second: float


@dataclass(frozen=True, kw_only=True)
class LossWeights:
    value: float = 1.0
    ownership: float = 1.5
    score: float = 0.5


def zero_loss(
    net: GoNet,
    planes: torch.Tensor,
    masks: torch.Tensor,
    target_policy: torch.Tensor,
    full: torch.Tensor,
    z: torch.Tensor,
    ownership: torch.Tensor,
    score: torch.Tensor,
    weights: LossWeights,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy against visit distributions (full searches only) + value MSE, and for nets
    with aux heads the ownership cross-entropy (mean over points) and the score Huber loss (in
    units of SCORE_UNIT points), both only on games that were counted (ownership rows not all 0).

    Shapes: planes (b, planes, n, n); masks, target_policy (b, n*n+1); full, z, score (b,);
    ownership (b, n*n) in {-1, 0, 1} for the player to move.
    """
    out = net(planes)
    assert out.policy is not None and out.value is not None
    logits = out.policy.float().masked_fill(masks == 0, -1e9)
    ce_rows = -(target_policy * torch.log_softmax(logits, dim=1)).sum(dim=1)
    n_full = full.sum().clamp(min=1)
    policy_loss = (ce_rows * full).sum() / n_full
    value_mse = ((out.value.float() - z) ** 2).mean()
    loss = policy_loss + weights.value * value_mse
    stats = {"policy_loss": float(policy_loss.detach()), "value_mse": float(value_mse.detach())}
    if out.ownership is not None and out.score is not None:
        counted = (ownership != 0).any(dim=1).float()
        n_counted = counted.sum().clamp(min=1)
        p = ((out.ownership.float() + 1) / 2).clamp(1e-6, 1 - 1e-6)
        t = (ownership + 1) / 2
        own_rows = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean(dim=1)
        own_loss = (own_rows * counted).sum() / n_counted
        huber = torch.nn.functional.smooth_l1_loss(out.score.float() / SCORE_UNIT, score / SCORE_UNIT, reduction="none")
        score_loss = (huber * counted).sum() / n_counted
        loss = loss + weights.ownership * own_loss + weights.score * score_loss
        stats["ownership_loss"] = float(own_loss.detach())
        stats["score_loss"] = float(score_loss.detach())
    return loss, stats


def make_zero_batch(
    window: Shard, pos_game: np.ndarray, pos_move: np.ndarray, syms: np.ndarray, feature_set: str
) -> tuple[np.ndarray, ...]:
    """Planes, legal masks, symmetry-mapped policy targets, full-search flags, outcomes, and the
    final ownership (symmetry-mapped) and score, both from the mover's side (see zero_loss)."""
    r = window.records
    n = r.board_size
    b = len(pos_game)
    planes = np.empty((b, _core.num_planes(feature_set), n, n), np.uint8)
    masks = np.empty((b, n * n + 1), np.uint8)
    failed = r.write_features(pos_game, pos_move, planes, feature_set, syms.astype(np.int32), masks)
    if failed:
        raise RuntimeError(f"{failed} self-play positions could not be replayed (damaged shard?)")
    rows = r.game_offsets[pos_game] + pos_move
    src = window.policy[rows].astype(np.float32)
    own_src = window.ownership[pos_game].astype(np.float32)
    target = np.empty_like(src)
    own = np.empty_like(own_src)
    for s in np.unique(syms):
        sel = syms == s
        perm = _core.symmetry_permutation(int(s), n)
        t = np.zeros((int(sel.sum()), n * n + 1), np.float32)
        t[:, perm] = src[sel]
        target[sel] = t
        o = np.zeros((int(sel.sum()), n * n + 1), np.float32)
        o[:, perm[: n * n]] = own_src[sel]
        own[sel] = o[:, : n * n]
    full = window.full_search[rows].astype(np.float32)
    z = r.outcome_for_mover(pos_game, pos_move)
    sign = np.where(r.colors[rows] == _core.BLACK, 1.0, -1.0).astype(np.float32)
    own *= sign[:, None]
    score = window.score[pos_game].astype(np.float32) * sign
    return planes, masks, target, full, z, own, score


def learn(
    recipe: ZeroRecipe,
    run: RunDir,
    iteration: int,
    device: torch.device,
    scalars: Scalars | None = None,
    progress: bool = True,
) -> TrainStats:
    """Trains the learner's net on the replay window for one iteration; writes its weights."""
    t = recipe.train
    learner = Learner.for_config(recipe.net, t.optim, device, run.learner_checkpoint("learner"), seed=recipe.seed)
    if not learner.resumed:  # the init stage saved it: a missing file was lost, not never written
        raise RunDirError(
            f"{learner.checkpoint} is missing but state.json says the run was initialised; "
            "the run cannot resume (restore the file or choose a new --run-dir)"
        )
    st = learner.state
    if st.get("iteration") != iteration:
        st["iteration"] = iteration
        st["iteration_step"] = 0
    window = load_window(run, iteration, t.window_games)
    pos_game, pos_move = window.records.positions(include_passes=True)
    start_step = int(st["iteration_step"])
    b = t.optim.batch_size
    Arrays = tuple[torch.Tensor, ...]
    weights = LossWeights(value=t.value_weight, ownership=t.ownership_weight, score=t.score_weight)

    def batches() -> Iterator[Arrays]:
        for step in range(start_step, t.steps_per_iteration):
            rng = np.random.default_rng([recipe.seed, iteration, step, 11])
            idx = rng.integers(0, len(pos_game), b)
            syms = rng.integers(0, 8, b) if t.symmetries else np.zeros(b, np.int64)
            arrays = make_zero_batch(window, pos_game[idx], pos_move[idx], syms, recipe.net.feature_set)
            yield tuple(learner.to_tensor(a) for a in arrays)

    def loss(net: GoNet, batch: Arrays) -> tuple[torch.Tensor, dict[str, float]]:
        planes, masks, target, full, z, own, score = batch
        return zero_loss(net, planes, masks, target, full, z, own, score, weights=weights)

    def after_step(_: dict[str, float]) -> None:
        st["iteration_step"] = int(st["iteration_step"]) + 1
        if st["iteration_step"] % t.checkpoint_every == 0 and st["iteration_step"] < t.steps_per_iteration:
            learner.save()

    began = time.perf_counter()
    means = learner.fit(
        batches(), loss, total=t.steps_per_iteration - start_step, desc=f"{iteration_name(iteration)} train",
        progress=progress, scalars=scalars, on_step=after_step,
    )
    count = t.steps_per_iteration - start_step
    seconds = time.perf_counter() - began
    learner.save()
    learner.save_weights(
        run.weights / f"{iteration_name(iteration)}.safetensors",
        {"iteration": str(iteration), "learner_step": str(st["step"])},
    )
    return TrainStats(
        steps=t.steps_per_iteration,
        samples=count * b,
        window_games=window.num_games,
        window_positions=len(pos_game),
        policy_loss=round(means["policy_loss"], 4) if count else float("nan"),
        value_mse=round(means["value_mse"], 4) if count else float("nan"),
        ownership_loss=round(means.get("ownership_loss", float("nan")), 4) if count else float("nan"),
        score_loss=round(means.get("score_loss", float("nan")), 4) if count else float("nan"),
        seconds=round(seconds, 2),
        samples_per_second=round(count * b / seconds, 1) if count and seconds > 0 else float("nan"),
    )


# ---------------------------------------------------------------------------------------------
# Matches


def _search_player(recipe: ZeroRecipe, name: str, weights: Path, device: torch.device, slots: int) -> SearchPlayer:
    net = load_net(weights, expected=recipe.net, device=device)
    ev = TorchEvaluator(net, net, device=device, precision=recipe.inference_precision)
    return SearchPlayer(name, recipe.eval_settings(), ev, recipe.board_size, recipe.komi, slots)


def gate(
    recipe: ZeroRecipe, run: RunDir, iteration: int, candidate: Path, best: Path, device: torch.device
) -> tuple[bool, MatchResult, float]:
    """Candidate vs best with search: promoted when the SPRT accepts H1 or the final win rate
    reaches gating.win_rate. Returns (promoted, result, LLR)."""
    g = recipe.gating
    slots = min(recipe.eval.parallel, g.games)
    a = _search_player(recipe, candidate.stem, candidate, device, slots)
    b = _search_player(recipe, best.stem, best, device, slots)

    params = SprtParams(elo0=g.elo0, elo1=g.elo1, alpha=g.alpha, beta=g.beta)

    def stop(res: MatchResult) -> bool:
        return g.sprt and sprt(res.wins, res.draws, res.losses, params).decision != "continue"

    try:
        res = play_match(
            a, b, g.games, recipe.board_size, recipe.komi, derive_seed(recipe.seed, iteration, 5),
            recipe.eval.opening_moves, slots, sgf_dir=run.eval / f"gate_{iteration_name(iteration)}", stop=stop,
        )
    finally:
        a.close()
        b.close()
    test = sprt(res.wins, res.draws, res.losses, params)
    llr = test.llr
    decision = test.decision if g.sprt else "continue"
    promoted = decision == "accept H1" or (decision == "continue" and res.win_rate >= g.win_rate)
    return promoted, res, llr


def evaluate_final(
    recipe: ZeroRecipe, run: RunDir, final: Path, start: Path, device: torch.device, log: Log
) -> dict[str, Any]:
    """The final net with search against its starting point (same search) and against a
    uniformly random player, and its raw policy (no search) against the random player."""
    e = recipe.eval
    slots = min(e.parallel, e.games)
    out: dict[str, Any] = {}
    a = _search_player(recipe, f"final({final.stem})", final, device, slots)
    b = _search_player(recipe, f"start({start.stem})", start, device, slots)
    try:
        res = play_match(
            a, b, e.games, recipe.board_size, recipe.komi, derive_seed(recipe.seed, 77), e.opening_moves, slots,
            sgf_dir=run.eval / "final_vs_start",
        )
    finally:
        a.close()
        b.close()
    log("  " + res.summary())
    out["final_vs_start"] = res.to_json()
    a = _search_player(recipe, f"final({final.stem})", final, device, slots)
    try:
        res = play_match(
            a, RandomPlayer(), e.games, recipe.board_size, recipe.komi, derive_seed(recipe.seed, 79), e.opening_moves,
            slots, sgf_dir=run.eval / "final_vs_random",
        )
    finally:
        a.close()
    log("  " + res.summary())
    out["final_vs_random"] = res.to_json()
    net = load_net(final, expected=recipe.net, device=device)
    pol = PolicyPlayer(f"final-policy({final.stem})", net, device, sample=e.sample)
    res = play_match(
        pol, RandomPlayer(), e.games, recipe.board_size, recipe.komi, derive_seed(recipe.seed, 78), e.opening_moves,
        slots, sgf_dir=run.eval / "final_policy_vs_random",
    )
    log("  " + res.summary())
    out["final_policy_vs_random"] = res.to_json()
    return out


# ---------------------------------------------------------------------------------------------
# The loop


def run_zero(
    recipe: ZeroRecipe, run: RunDir, state: State, log: Log, progress: bool = True, source: GameSource | None = None
) -> dict[str, Any]:
    """Runs (or resumes) the whole recipe; returns the final evaluation. Self-play games come
    from `source` (default: this process, LocalGames)."""
    device = pick_device(recipe.device)
    set_threads(recipe.torch_threads)
    scalars = Scalars(run.tensorboard)
    start_weights = run.weights / f"{iteration_name(0)}.safetensors"
    try:
        if not state.is_done("init"):
            init = Path(recipe.init_weights) if recipe.init_weights else None
            learner = Learner.for_config(
                recipe.net, recipe.train.optim, device, run.learner_checkpoint("learner"), init, recipe.seed
            )
            learner.save()
            run.checkpoint_saved("learner")
            learner.save_weights(start_weights, {"iteration": "0"})
            state.set("best", str(start_weights.relative_to(run.root)))
            state.mark_done("init", {"weights": str(start_weights.relative_to(run.root)), "device": str(device)})
            log(f"init: starting net in {start_weights} ({'from ' + str(init) if init else 'random'}), device {device}")
        for it in range(1, recipe.iterations + 1):
            name = iteration_name(it)
            best = run.root / state.get("best")
            if not state.is_done(f"{name}/selfplay"):
                sp = produce_games(recipe, run, it, best, device, progress, source)
                state.mark_done(f"{name}/selfplay", dataclasses.asdict(sp))
                _log_selfplay(scalars, it, sp)
                log(
                    f"{name} self-play: {sp.games} games ({sp.positions} positions, mean length {sp.mean_length}) "
                    f"by {best.stem}; {sp.games_per_hour:.0f} games/h, {sp.positions_per_second:.0f} positions/s "
                    f"(inference {inference_precision(device, recipe.inference_precision).name}); "
                    f"black won {sp.black_wins}, resigned {sp.resigned}, resignation false positives "
                    f"{sp.resign_false_positives}/{sp.would_resign} no-resign games that would have resigned"
                )
            if not state.is_done(f"{name}/train"):
                ts = learn(recipe, run, it, device, scalars, progress)
                state.mark_done(f"{name}/train", dataclasses.asdict(ts))
                scalars.add("train/samples_per_s", ts.samples_per_second, it)
                log(
                    f"{name} train: {ts.steps} steps on a window of {ts.window_games} games "
                    f"({ts.window_positions} positions): policy loss {ts.policy_loss:.3f}, value MSE "
                    f"{ts.value_mse:.3f}, {ts.samples_per_second:.0f} samples/s"
                )
            candidate = run.weights / f"{name}.safetensors"
            if not state.is_done(f"{name}/gate"):
                if recipe.gating.enabled:
                    promoted, res, llr = gate(recipe, run, it, candidate, best, device)
                    info = {"promoted": promoted, "llr": round(llr, 3), **res.to_json()}
                    atomic_write_text(run.eval / f"gate_{name}.json", json.dumps(info, indent=2) + "\n")
                    scalars.add("gate/win_rate", res.win_rate, it)
                    verdict = "promoted" if promoted else f"kept {best.stem}"
                    log(f"{name} gate: {res.summary()}, LLR {llr:.2f} -> {verdict}")
                else:
                    promoted, info = True, {"promoted": True, "gating": "off"}
                if promoted:
                    state.set("best", str(candidate.relative_to(run.root)))
                state.mark_done(f"{name}/gate", info)
        best = run.root / state.get("best")
        if not state.is_done("final"):
            save_weights(run.weights / "final.safetensors", load_net(best, expected=recipe.net), {"from": best.name})
            log(f"final evaluation of {best.stem} ({recipe.eval.games} games per match)")
            result = evaluate_final(recipe, run, best, start_weights, device, log)
            atomic_write_text(run.eval / "final.json", json.dumps(result, indent=2) + "\n")
            for key, r in result.items():
                scalars.add(f"eval/{key}_win_rate", r["win_rate"], recipe.iterations)
            state.mark_done("final", result)
        return state.result("final")
    finally:
        scalars.close()


def _log_selfplay(scalars: Scalars, it: int, sp: SelfplayStats) -> None:
    scalars.add("selfplay/games_per_hour", sp.games_per_hour, it)
    scalars.add("selfplay/positions_per_s", sp.positions_per_second, it)
    scalars.add("selfplay/mean_length", sp.mean_length, it)
    if sp.would_resign:
        scalars.add("selfplay/resign_false_positive_rate", sp.resign_false_positives / sp.would_resign, it)
