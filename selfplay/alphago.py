"""The AlphaGo (2016) recipe, stage by stage, each stage evaluated against the previous one:

  corpus    expert games: GnuGo against itself (selfplay/expert_corpus.py) or a user's SGF
            folder -> shards (selfplay/sgf_corpus.py)
  sl        supervised policy net (selfplay/train_sl.py); evaluated against a random player
  rollout   the fast rollout policy (selfplay/train_rollout.py), a linear softmax over local
            patterns fitted to the corpus; evaluated by held-out accuracy; it plays the
            combined player's rollouts (rollout.use_in_search)
  rl        policy gradient (REINFORCE with a baseline): batched games without search between
            the current policy and an opponent drawn from a pool of earlier policies, moves
            sampled from the softmax over sensible moves, outcome z = +-1; loss
            -(z - b) log pi(a|s) over the learner's moves; evaluated against the SL policy,
            both sampling moves (eval/rl.json: the win rate with a 95% Wilson interval)
  value     value net on RL self-play positions: the SL policy plays U moves, one uniformly
            random move follows, then the RL policy plays both sides to the end; the position
            after the random move (AlphaGo's one per game, against overfitting to whole games)
            and `positions_per_game` - 1 more of the RL-played part are labelled with the
            outcome (selfplay/value_estimates.py); games, not positions, are held out; evaluated
            by held-out MSE after every epoch (the best epoch is kept), and beside one rollout of
            the rollout policy and the RL policy's own self-play outcome (eval/value_mse.json)
  combined  the player: SL (or RL) policy priors, value net and rollouts mixed with lambda in
            the batched search; written to weights/combined.yaml, evaluated against the RL policy

Roles: game production (`rl_games`, `value_games`) writes shards under games/<stage>/ and
learning (`rl_update`, `train_value`) reads them back, so the two communicate only through the
run directory. Every stage is recorded in state.json when done; the unfinished one resumes
from its own checkpoint or shards after a kill.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from tqdm import tqdm

from engine import _core
from engine.arena.elo import wilson_interval
from engine.atomic_io import atomic_write_bytes, atomic_write_text
from engine.evaluators import TorchEvaluator
from engine.nets import GoNet
from engine.torch_device import pick_device
from engine.weights import load_net, load_rollout_policy, save_weights
from selfplay.learner import Learner
from selfplay.match import (
    MatchResult,
    PolicyPlayer,
    RandomPlayer,
    SearchPlayer,
    finished_record,
    play_match,
    play_out,
)
from selfplay.recipe import AlphaGoRecipe, RecipeError
from selfplay.records import Records
from selfplay.run_dir import RunDir, RunDirError, State
from selfplay.selfplay_shards import GameStore, Shard
from selfplay.torch_setup import Scalars, derive_seed, set_threads
from selfplay.value_estimates import (
    SCORE_PLAYOUTS,
    ValueMSE,
    compare_estimates,
    mse,
    replay_planes,
    rl_part_moves,
    split_value_games,
    subsample,
    value_move_extras,
    value_moves,
    value_net_estimate,
)

Log = Callable[[str], None]


def _rel(run: RunDir, path: Path) -> str:
    return str(path.relative_to(run.root))


def _policy_net(recipe: AlphaGoRecipe, run: RunDir, which: str, device: torch.device) -> GoNet:
    return load_net(run.weights / f"{which}_policy.safetensors", expected=recipe.sl.net, device=device)


def _save_eval(run: RunDir, name: str, res: MatchResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    info = {**res.to_json(), **(extra or {})}
    atomic_write_text(run.eval / f"{name}.json", json.dumps(info, indent=2) + "\n")
    return info


def _match(
    recipe: AlphaGoRecipe, run: RunDir, name: str, a: Any, b: Any, seed_part: int, games: int | None = None,
    opening_moves: int | None = None,
) -> MatchResult:
    """An evaluation match as the recipe's eval section says (`games`, `opening_moves`: other counts)."""
    e = recipe.eval
    return play_match(
        a, b, e.games if games is None else games, recipe.board_size, recipe.komi, derive_seed(recipe.seed, seed_part),
        e.opening_moves if opening_moves is None else opening_moves, e.parallel, sgf_dir=run.eval / name,
    )


# ---------------------------------------------------------------------------------------------
# Corpus and supervised policy


def corpus_stage(recipe: AlphaGoRecipe, run: RunDir, log: Log, progress: bool) -> dict[str, Any]:
    from selfplay.expert_corpus import CACHE_DIR, generate, recipe_corpus_config
    from selfplay.sgf_corpus import ConvertConfig, convert

    c = recipe.corpus
    shards = run.root / "corpus" / "shards"
    if c.source == "gnugo":
        sgf_dir = run.root / "corpus" / "sgf"
        config = recipe_corpus_config(recipe, sgf_dir)
        # The games shipped in data/expert_corpus for these settings are copied in, not replayed.
        results = generate(config, progress=progress, cache=CACHE_DIR)  # skips games already on disk
        if len(results) < c.games:
            raise RecipeError(f"the expert engine failed on {c.games - len(results)} of {c.games} games")
    else:
        sgf_dir = Path(c.sgf_dir)
        if not sgf_dir.is_dir():
            raise RecipeError(f"corpus.sgf_dir {sgf_dir} is not a folder")
    run.reset_stage_folder(shards)
    report = convert(ConvertConfig(sgf_dir, shards, 1000, recipe.board_size), progress=progress)
    if report.games < 2:
        raise RecipeError(f"only {report.games} usable {recipe.board_size}x{recipe.board_size} games in {sgf_dir}")
    log(f"corpus: {report.summary()}")
    return {"games": report.games, "positions": report.positions, "sgf": str(sgf_dir), "shards": _rel(run, shards)}


def sl_stage(recipe: AlphaGoRecipe, run: RunDir, device: torch.device, log: Log, progress: bool) -> dict[str, Any]:
    from selfplay.train_sl import SLConfig, train

    shards = run.root / "corpus" / "shards"
    t = recipe.sl_train_config(shards, run.root / "sl")
    t = dataclasses.replace(t, progress=progress)
    result = train(SLConfig(net=recipe.sl.net, train=t), resume=True)
    weights = run.weights / "sl_policy.safetensors"
    atomic_write_bytes(weights, Path(result.weights_path).read_bytes())
    net = load_net(weights, expected=recipe.sl.net, device=device)
    res = _match(recipe, run, "sl_vs_random", PolicyPlayer("sl", net, device, recipe.eval.sample), RandomPlayer(), 1)
    info = _save_eval(run, "sl_vs_random", res)
    log(
        f"sl: {result.steps} steps ({result.samples_per_second:.0f} samples/s), held-out top-1 accuracy "
        f"{100 * result.holdout.accuracy:.1f}% on {result.holdout.positions} positions; {res.summary()}"
    )
    return {
        "weights": _rel(run, weights),
        "steps": result.steps,
        "holdout_accuracy": result.holdout.accuracy,
        "samples_per_second": result.samples_per_second,
        "vs_random": info,
    }


# ---------------------------------------------------------------------------------------------
# Rollout policy


def rollout_stage(recipe: AlphaGoRecipe, run: RunDir, log: Log, progress: bool) -> dict[str, Any]:
    """Fits the rollout policy to the corpus; its held-out move-prediction accuracy is the
    stage's evaluation (AlphaGo: 24.2% on KGS)."""
    from selfplay.train_rollout import RolloutTrainConfig, train_rollout

    r = recipe.rollout
    config = RolloutTrainConfig(
        data=(str(run.root / "corpus" / "shards"),), out_dir=str(run.root / "rollout"),
        board_size=recipe.board_size, epochs=r.epochs, batch_size=r.batch_size, lr=r.lr, seed=recipe.seed,
        progress=progress,
    )
    result = train_rollout(config)
    weights = run.weights / "rollout.safetensors"
    atomic_write_bytes(weights, Path(result.weights_path).read_bytes())
    use = "plays the combined player's rollouts" if r.use_in_search else "not used in search"
    log(
        f"rollout: {result.positions} training positions, held-out top-1 accuracy "
        f"{100 * result.holdout_accuracy:.1f}% on {result.holdout_positions} positions ({use})"
    )
    return {
        "kind": "pattern softmax",
        "weights": _rel(run, weights),
        "holdout_accuracy": result.holdout_accuracy,
        "train_accuracy": result.train_accuracy,
        "use_in_search": r.use_in_search,
    }


# ---------------------------------------------------------------------------------------------
# RL policy


def sensible_plane(feature_set: str) -> int | None:
    """Index of the sensibleness plane (legal and not filling an own eye), if the set has one."""
    for name, first, _count in _core.plane_layout(feature_set):
        if name == "sensibleness":
            return int(first)
    return None


def replay_positions(
    records: Records, games: np.ndarray, moves: np.ndarray, feature_set: str, syms: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planes, the masks the players sampled from (sensible moves + pass; legal moves when the
    feature set has no sensibleness plane) and the played moves, rebuilt in C++ from records."""
    n = records.board_size
    planes = np.empty((len(games), _core.num_planes(feature_set), n, n), np.uint8)
    legal = np.empty((len(games), n * n + 1), np.uint8)
    targets = np.empty(len(games), np.int64)
    sy = None if syms is None else syms.astype(np.int32)
    failed = records.write_features(games, moves, planes, feature_set, sy, legal, targets)
    if failed:
        raise RuntimeError(f"{failed} positions could not be replayed (damaged shard?)")
    k = sensible_plane(feature_set)
    if k is None:
        return planes, legal, targets
    masks = np.ones_like(legal)
    masks[:, : n * n] = planes[:, k].reshape(len(games), n * n)
    return planes, masks, targets


def rl_games(
    recipe: AlphaGoRecipe, run: RunDir, iteration: int, learner_net: GoNet, opponent: Path, device: torch.device
) -> Shard:
    """The iteration's games (learner black in even games), written as one shard; an existing
    shard (a restart after the games were saved) is read back instead of replaying."""
    path = run.games("rl") / "shards" / f"iter_{iteration:04d}.npz"
    if path.exists():
        return Shard.load(path)
    cfg = recipe.rl
    me = PolicyPlayer(f"rl_{iteration:04d}", learner_net, device, sample=True, temperature=cfg.temperature)
    opp_net = load_net(opponent, expected=recipe.sl.net, device=device)
    them = PolicyPlayer(opponent.stem, opp_net, device, sample=True, temperature=cfg.temperature)
    res = play_match(
        me, them, cfg.games_per_iteration, recipe.board_size, recipe.komi, derive_seed(recipe.seed, 300, iteration),
        opening_moves=0, parallel=cfg.games_per_iteration,
    )
    games = [
        dataclasses.replace(g, extras={"learner_black": float(i % 2 == 0)}) for i, g in enumerate(res.games)
    ]
    shard = Shard.from_games(games, list(range(len(games))), f"rl/iter_{iteration:04d}")
    if cfg.sgf:
        from engine.sgf import write_sgf

        for i, g in enumerate(games):
            names = (me.name, them.name) if i % 2 == 0 else (them.name, me.name)
            write_sgf(run.games("rl") / "sgf" / f"iter_{iteration:04d}_game_{i:03d}.sgf", g.sgf_record(*names))
    shard.save(path)
    return shard


def rl_update(recipe: AlphaGoRecipe, learner: Learner, shard: Shard, iteration: int) -> dict[str, float]:
    """REINFORCE with a baseline over the learner's moves of one iteration's games."""
    cfg = recipe.rl
    r = shard.records
    learner_black = shard.extras["learner_black"] > 0.5
    z_game = np.where(learner_black, r.winner, -r.winner).astype(np.float32)  # learner's outcome
    games, moves = r.positions(include_passes=True)
    mover_black = r.colors[r.game_offsets[games] + moves] == _core.BLACK
    mine = mover_black == learner_black[games]
    games, moves = games[mine], moves[mine]
    z = z_game[games]
    baseline = float(z_game.mean()) if cfg.baseline == "mean" else 0.0
    adv = (z - baseline).astype(np.float32)
    rng = np.random.default_rng([recipe.seed, iteration, 301])
    b = cfg.optim.batch_size
    Arrays = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]

    def batches() -> Iterator[Arrays]:
        for _ in range(cfg.epochs_per_iteration):
            order = rng.permutation(len(games))
            for s in range(0, len(order), b):
                sel = order[s : s + b]
                planes, masks, actions = replay_positions(r, games[sel], moves[sel], recipe.sl.net.feature_set)
                x, m, a, w = (learner.to_tensor(v) for v in (planes, masks, actions, adv[sel]))
                yield x, m, a, w

    def loss_fn(net: GoNet, batch: Arrays) -> tuple[torch.Tensor, dict[str, float]]:
        x, m, a, w = batch
        logits = net(x).policy.float().masked_fill(m == 0, -1e9) / cfg.temperature
        logp = torch.log_softmax(logits, dim=1).gather(1, a[:, None]).squeeze(1)
        return -(w * logp).mean(), {}

    means = learner.fit(batches(), loss_fn, desc=f"rl iteration {iteration}", progress=False)
    return {
        "win_rate": float((z_game > 0).mean() + 0.5 * (z_game == 0).mean()),
        "baseline": baseline,
        "positions": float(len(games)),
        "loss": means.get("loss", float("nan")),
    }


def rl_stage(
    recipe: AlphaGoRecipe, run: RunDir, device: torch.device, scalars: Scalars, log: Log, progress: bool
) -> dict[str, Any]:
    cfg = recipe.rl
    sl_weights = run.weights / "sl_policy.safetensors"
    checkpoint = run.learner_checkpoint("rl")  # RunDirError when state.json says it was saved but it is gone
    learner = Learner.for_config(recipe.sl.net, cfg.optim, device, checkpoint, sl_weights, recipe.seed)
    st = learner.state
    st.setdefault("iteration", 0)
    st.setdefault("pool", [_rel(run, sl_weights)])
    bar = tqdm(total=cfg.iterations, initial=st["iteration"], desc="rl", unit="iter", disable=not progress, leave=False)
    began = time.perf_counter()
    games_played = 0
    while st["iteration"] < cfg.iterations:
        it = int(st["iteration"])
        pool = list(st["pool"])
        opponent = run.root / pool[int(np.random.default_rng([recipe.seed, it, 302]).integers(len(pool)))]
        learner.net.eval()
        shard = rl_games(recipe, run, it, learner.net, opponent, device)
        games_played += shard.num_games
        stats = rl_update(recipe, learner, shard, it)
        st["iteration"] = it + 1
        if (it + 1) % cfg.pool_every == 0:
            member = run.weights / "rl_pool" / f"iter_{it + 1:04d}.safetensors"
            learner.save_weights(member, {"rl_iteration": str(it + 1)})
            st["pool"] = pool + [_rel(run, member)]
        learner.save()
        run.checkpoint_saved("rl")
        scalars.add("rl/win_rate_vs_pool", stats["win_rate"], it)
        scalars.add("rl/loss", stats["loss"], it)
        bar.update(1)
        bar.set_postfix(win=f"{stats['win_rate']:.2f}", opp=opponent.stem)
    bar.close()
    seconds = time.perf_counter() - began
    weights = run.weights / "rl_policy.safetensors"
    learner.save_weights(weights, {"rl_iterations": str(cfg.iterations)})
    rl_net = load_net(weights, expected=recipe.sl.net, device=device)
    sl_net = load_net(sl_weights, expected=recipe.sl.net, device=device)
    # AlphaGo's comparison: both policies sample from their softmax, from the empty board.
    rl_player, sl_player = PolicyPlayer("rl", rl_net, device, True), PolicyPlayer("sl", sl_net, device, True)
    res = _match(recipe, run, "rl", rl_player, sl_player, 2, games=cfg.eval_games, opening_moves=0)
    low, high = wilson_interval(res.wins + 0.5 * res.draws, res.played, confidence=0.95)
    info = _save_eval(run, "rl", res, {"win_rate_low": low, "win_rate_high": high, "interval": "Wilson 95%"})
    games_per_hour = 3600 * games_played / seconds if games_played and seconds > 0 else float("nan")
    log(
        f"rl: {cfg.iterations} iterations, pool of {len(st['pool'])}; {games_per_hour:.0f} games/h; {res.summary()}, "
        f"95% interval [{100 * low:.1f}%, {100 * high:.1f}%] (AlphaGo: RL beat SL in 80% of games)"
    )
    return {"weights": _rel(run, weights), "pool": st["pool"], "games_per_hour": games_per_hour, "vs_sl": info}


# ---------------------------------------------------------------------------------------------
# Value net


def value_games(
    recipe: AlphaGoRecipe, run: RunDir, device: torch.device, log: Log, progress: bool
) -> tuple[Shard, float]:
    """Games for the value net, `parallel_games` at a time, stored as they finish, each with its
    `positions_per_game` positions of the RL-played part (value_estimates.rl_part_moves); returns
    every game and the games per second this call played (nan when all were on disk already)."""
    v = recipe.value
    store = GameStore(run.games("value"), "value", v.parallel_games, sgf=False)
    sl = PolicyPlayer("sl", _policy_net(recipe, run, "sl", device), device)
    rl = PolicyPlayer("rl", _policy_net(recipe, run, "rl", device), device)
    rnd = RandomPlayer()
    span = max(1, round(v.random_move_span * recipe.board_size**2))
    bar = tqdm(
        total=v.games, initial=store.num_games, desc="value games", unit="game", disable=not progress, leave=False
    )
    began = time.perf_counter()
    played = moves_played = 0
    while store.num_games < v.games:
        first = store.num_games
        n = min(v.parallel_games, v.games - first)
        rng = np.random.default_rng([recipe.seed, 400, first])
        # U: the move number of the random move, uniform over (about) a typical game's length.
        u = rng.integers(0, span, n)
        boards = [_core.Game(recipe.board_size, recipe.komi) for _ in range(n)]

        def player_for(j: int, g: _core.Game, u: np.ndarray = u) -> Any:
            k = g.move_number
            return sl if k < u[j] else rnd if k == u[j] else rl

        play_out(boards, player_for, rng)
        for j, g in enumerate(boards):
            gid = first + j
            rec = finished_record(g, SCORE_PLAYOUTS, derive_seed(recipe.seed, 401, gid))
            picked = rl_part_moves(int(u[j]), len(rec.moves), v.positions_per_game, derive_seed(recipe.seed, 404, gid))
            store.add(dataclasses.replace(rec, extras=value_move_extras(picked)), "sl/rl", "sl/rl")
            moves_played += len(rec.moves)
            bar.update(1)
        played += n
    bar.close()
    store.flush()
    seconds = time.perf_counter() - began
    games_per_second = played / seconds if played and seconds > 0 else float("nan")
    if played:
        log(
            f"value games: {played} in {seconds:.0f} s, {games_per_second:.2f} games/s "
            f"({moves_played / seconds:.0f} moves/s) at parallel_games {v.parallel_games}"
        )
    shard = store.load_all()
    assert shard is not None
    return shard, games_per_second


def value_loss(net: GoNet, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    out = net(x).value
    assert out is not None
    return ((out.float() - z) ** 2).mean(), {}


def _value_mse(
    net: GoNet, shard: Shard, games: np.ndarray, moves: np.ndarray, device: torch.device
) -> tuple[float, float]:
    """(MSE against the outcome, fraction of positions whose value has the outcome's sign)."""
    r = shard.records
    est = value_net_estimate(net, r, games, moves, device)
    z = r.outcome_for_mover(games, moves)
    return mse(est, z), float((np.sign(est) == z).mean())


TRAIN_MSE_SAMPLE = 20_000  # training positions (a seeded sample) the final training MSE is measured on


def train_value(
    recipe: AlphaGoRecipe, run: RunDir, shard: Shard, device: torch.device, scalars: Scalars, log: Log,
    progress: bool,
) -> dict[str, Any]:
    """Epochs over every training (game, position) pair under random symmetries; after each, the
    held-out MSE (every held-out position, identity symmetry) beside the epoch's mean training
    loss, in the log and TensorBoard (value/train_mse, value/holdout_mse). The epoch with the
    lowest held-out MSE is kept (checkpoints/value_best.safetensors, then weights/value.safetensors);
    with `patience`, training stops that many epochs after the best one."""
    v = recipe.value
    fs = v.net.feature_set
    split = split_value_games(shard, recipe.seed, v.holdout_fraction)
    tg, tm = split.train_game, split.train_move
    learner = Learner.for_config(v.net, v.optim, device, run.learner_checkpoint("value"), None, recipe.seed)
    st = learner.state
    st.setdefault("epoch", 0)
    st.setdefault("best_epoch", 0)  # 0: none yet (or a checkpoint from before the best epoch was kept)
    st.setdefault("best_holdout_mse", None)
    st.setdefault("history", [])
    best_path = run.checkpoints / "value_best.safetensors"
    r = shard.records
    b = v.optim.batch_size
    bar = tqdm(total=v.epochs, initial=st["epoch"], desc="value net", unit="epoch", disable=not progress, leave=False)

    def batches(order: np.ndarray, syms: np.ndarray) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for s in range(0, len(order), b):
            sel = order[s : s + b]
            planes = replay_planes(r, tg[sel], tm[sel], fs, syms[s : s + b])
            yield learner.to_tensor(planes), learner.to_tensor(r.outcome_for_mover(tg[sel], tm[sel]))

    def patience_left() -> bool:
        return not v.patience or st["best_epoch"] == 0 or st["epoch"] - st["best_epoch"] < v.patience

    while st["epoch"] < v.epochs and patience_left():
        epoch = int(st["epoch"]) + 1
        rng = np.random.default_rng([recipe.seed, 403, epoch - 1])
        order = rng.permutation(len(tg))
        syms = rng.integers(0, 8, len(order)).astype(np.int32)
        means = learner.fit(batches(order, syms), lambda net, batch: value_loss(net, *batch), progress=False)
        train_mse = float(means.get("loss", float("nan")))
        hold_mse, _ = _value_mse(learner.net, shard, split.holdout_game, split.holdout_move, device)
        best = st["best_holdout_mse"] is None or hold_mse < st["best_holdout_mse"]
        if best:
            learner.save_weights(best_path, {"epoch": str(epoch), "positions": str(len(tg))})
            st["best_epoch"], st["best_holdout_mse"] = epoch, hold_mse
        st["epoch"] = epoch
        st["history"] = [*st["history"], {"epoch": epoch, "train_mse": round(train_mse, 4),
                                          "holdout_mse": round(hold_mse, 4)}]  # fmt: skip
        learner.save()
        run.checkpoint_saved("value")
        scalars.add("value/train_mse", train_mse, epoch)
        scalars.add("value/holdout_mse", hold_mse, epoch)
        log(
            f"value: epoch {epoch}/{v.epochs}: MSE train {train_mse:.3f} (mean over the epoch's steps), "
            f"held-out {hold_mse:.3f}" + (" (best so far)" if best else f" (best {st['best_holdout_mse']:.3f})")
        )
        bar.update(1)
    bar.close()
    stopped_early = st["epoch"] < v.epochs

    net = learner.net
    if st["best_epoch"]:
        if not best_path.exists():
            raise RunDirError(f"{best_path} is missing but the value checkpoint records it: choose a new --run-dir")
        net = load_net(best_path, expected=v.net, device=device)
    weights = run.weights / "value.safetensors"
    save_weights(weights, net, {"positions": str(len(tg)), "epoch": str(st["best_epoch"] or st["epoch"])})
    sample = subsample(len(tg), TRAIN_MSE_SAMPLE, recipe.seed)
    train_mse, _ = _value_mse(net, shard, tg[sample], tm[sample], device)
    hold_mse, hold_sign = _value_mse(net, shard, split.holdout_game, split.holdout_move, device)
    return {
        "weights": _rel(run, weights),
        "games": shard.num_games,
        "positions_per_game": recipe.value.positions_per_game,
        "train_positions": int(len(tg)),
        "holdout_positions": int(len(split.holdout_game)),
        "holdout_games": split.holdout_games,
        "epochs_run": int(st["epoch"]),
        "stopped_early": stopped_early,
        "best_epoch": int(st["best_epoch"] or st["epoch"]),
        "train_mse": round(train_mse, 4),
        "holdout_mse": round(hold_mse, 4),
        "holdout_sign_accuracy": round(hold_sign, 4),
        "history": st["history"],
    }


def value_estimates(recipe: AlphaGoRecipe, run: RunDir, shard: Shard, device: torch.device) -> ValueMSE:
    """eval/value_mse.json: the value net beside one rollout of the rollout policy and the RL
    policy's own self-play outcome, on `estimate_positions` held-out positions (the sample
    value_estimates.holdout_positions returns for that limit)."""
    v = recipe.value
    split = split_value_games(shard, recipe.seed, v.holdout_fraction)
    games, moves = split.holdout_sample(v.estimate_positions, recipe.seed)
    result = compare_estimates(
        records=shard.records,
        games=games,
        moves=moves,
        value_net=load_net(run.weights / "value.safetensors", expected=v.net, device=device),
        rollout=load_rollout_policy(run.weights / "rollout.safetensors"),
        rl=PolicyPlayer("rl", _policy_net(recipe, run, "rl", device), device),
        device=device,
        seed=recipe.seed,
        parallel=v.parallel_games,
        train_positions=len(split.train_game),
        holdout_games=split.holdout_games,
    )
    result.save(run.eval / "value_mse.json")
    return result


def value_stage(
    recipe: AlphaGoRecipe, run: RunDir, device: torch.device, scalars: Scalars, log: Log, progress: bool
) -> dict[str, Any]:
    shard, games_per_second = value_games(recipe, run, device, log, progress)
    counts = (value_moves(shard.extras, shard.num_games) >= 0).sum(axis=1)
    info = train_value(recipe, run, shard, device, scalars, log, progress)
    estimates = value_estimates(recipe, run, shard, device)
    log(
        f"value: {info['games']} games, up to {info['positions_per_game']} positions each ({counts.mean():.2f} on "
        f"average; {int((counts == 0).sum())} games ended before their random move and give none): "
        f"{info['train_positions']} training positions, {info['holdout_positions']} held-out ones of "
        f"{info['holdout_games']} games; best epoch "
        f"{info['best_epoch']}: MSE train {info['train_mse']:.3f}, held-out {info['holdout_mse']:.3f} (outcome sign "
        f"right {100 * info['holdout_sign_accuracy']:.1f}%)"
    )
    log(f"value: {estimates.summary()}")
    return {
        **info,
        "games_without_positions": int((counts == 0).sum()),
        "mean_positions_per_game": round(float(counts.mean()), 3),
        "games_per_second": games_per_second,
        "estimates": estimates.to_json(),
    }


# ---------------------------------------------------------------------------------------------
# Combined player


def combined_stage(recipe: AlphaGoRecipe, run: RunDir, device: torch.device, log: Log) -> dict[str, Any]:
    settings = recipe.combined_settings()
    policy_w = run.weights / f"{recipe.combined.policy}_policy.safetensors"
    value_w = run.weights / "value.safetensors"
    player_file = run.weights / "combined.yaml"
    rollout_w = run.weights / "rollout.safetensors"
    rollout = load_rollout_policy(rollout_w) if recipe.rollout.use_in_search and settings.use_rollouts else None
    search = {("lambda" if k == "lambda_" else k): v for k, v in dataclasses.asdict(settings).items()}
    doc = {"policy": _rel(run, policy_w), "value": _rel(run, value_w),
           "rollout": _rel(run, rollout_w) if rollout is not None else None, "search": search}
    atomic_write_text(
        player_file,
        "# AlphaGo combined player: policy-net priors, value net and rollouts (lambda) in the batched search.\n"
        + yaml.safe_dump(doc, sort_keys=False),
    )
    pnet = load_net(policy_w, expected=recipe.sl.net, device=device)
    vnet = load_net(value_w, expected=recipe.value.net, device=device)
    e = recipe.eval
    slots = min(e.parallel, e.games)
    evaluator = TorchEvaluator(pnet, vnet, device=device, precision=recipe.inference_precision)
    me = SearchPlayer("combined", settings, evaluator, recipe.board_size, recipe.komi, slots, rollout)
    rl = PolicyPlayer("rl", _policy_net(recipe, run, "rl", device), device, e.sample)
    try:
        res = _match(recipe, run, "combined_vs_rl", me, rl, 3)
    finally:
        me.close()
    info = _save_eval(run, "combined_vs_rl", res)
    kind = "trained rollout policy" if rollout is not None else "light playouts"
    log(f"combined: {settings.visits} visits, lambda {settings.lambda_}, rollouts by the {kind}; {res.summary()}")
    return {"player": _rel(run, player_file), "vs_rl": info}


# ---------------------------------------------------------------------------------------------
# The pipeline


def run_alphago(recipe: AlphaGoRecipe, run: RunDir, state: State, log: Log, progress: bool = True) -> dict[str, Any]:
    device = pick_device(recipe.device)
    set_threads(recipe.torch_threads)
    scalars = Scalars(run.tensorboard)
    try:
        if not state.is_done("corpus"):
            state.mark_done("corpus", corpus_stage(recipe, run, log, progress))
        if not state.is_done("sl"):
            state.mark_done("sl", sl_stage(recipe, run, device, log, progress))
        if not state.is_done("rollout"):
            state.mark_done("rollout", rollout_stage(recipe, run, log, progress))
        if not state.is_done("rl"):
            state.mark_done("rl", rl_stage(recipe, run, device, scalars, log, progress))
        if not state.is_done("value"):
            state.mark_done("value", value_stage(recipe, run, device, scalars, log, progress))
        if not state.is_done("combined"):
            state.mark_done("combined", combined_stage(recipe, run, device, log))
        summary = {s: state.result(s) for s in ("sl", "rl", "value", "combined")}
        atomic_write_text(run.eval / "summary.json", json.dumps(summary, indent=2) + "\n")
        return summary
    finally:
        scalars.close()
