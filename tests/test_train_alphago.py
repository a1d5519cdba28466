"""AlphaGo recipe end to end on 5x5 with tiny nets (configs/alphago_tiny.yaml, GnuGo corpus),
and the corpus stage from a user's SGF folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from sgfmill import sgf

from engine import _core
from engine.weights import load_net
from selfplay.alphago import corpus_stage, replay_positions
from selfplay.match import sensible_masks
from selfplay.recipe import AlphaGoRecipe, load_recipe, parse_recipe
from selfplay.records import Records, load_corpus
from selfplay.run_dir import RunDir
from selfplay.selfplay_shards import Shard
from selfplay.value_estimates import value_moves
from tengen_cli.main import main

ROOT = Path(__file__).resolve().parents[1]
ALPHAGO_TINY = ROOT / "configs" / "alphago_tiny.yaml"
VALUE_MSE_KEYS = {"positions", "value_net", "one_rollout", "rl_outcome", "train_positions", "holdout_games",
                  "paper_value_net"}  # fmt: skip


def check_rl_json(run: Path, games: int) -> None:
    """eval/rl.json: the RL policy against the SL policy with a 95% interval around its win rate."""
    rl = json.loads((run / "eval" / "rl.json").read_text())
    assert rl["games"] == games == rl["wins"] + rl["losses"] + rl["draws"]
    assert rl["win_rate"] == pytest.approx((rl["wins"] + 0.5 * rl["draws"]) / games)
    assert 0 <= rl["win_rate_low"] <= rl["win_rate"] <= rl["win_rate_high"] <= 1
    assert rl["win_rate_high"] - rl["win_rate_low"] > 0
    assert len(list((run / "eval" / "rl").glob("*.sgf"))) == games


def check_value_mse_json(run: Path, limit: int) -> dict[str, float]:
    doc = json.loads((run / "eval" / "value_mse.json").read_text())
    assert set(doc) == VALUE_MSE_KEYS
    assert 0 < doc["positions"] <= limit and doc["holdout_games"] > 0 and doc["train_positions"] > 0
    for key in ("value_net", "one_rollout", "rl_outcome"):
        assert 0 <= doc[key] <= 4
    assert doc["paper_value_net"] == 0.234
    return doc


@pytest.mark.gnugo
def test_alphago_tiny_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "ag"
    assert main(["train", "--config", str(ALPHAGO_TINY), "--run-dir", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    for stage in ("corpus:", "sl:", "rollout:", "rl:", "value:", "combined:"):
        assert stage in out
    recipe, _ = load_recipe(ALPHAGO_TINY)
    assert isinstance(recipe, AlphaGoRecipe)
    state = json.loads((run / "state.json").read_text())
    assert state["order"] == ["corpus", "sl", "rollout", "rl", "value", "combined"]
    rollout = state["stages"]["rollout"]
    assert rollout["kind"] == "pattern softmax" and rollout["holdout_accuracy"] > 0.05
    from engine.weights import load_rollout_weights

    assert np.any(load_rollout_weights(run / "weights" / "rollout.safetensors") != 0)
    assert len(list((run / "corpus" / "sgf").glob("*.sgf"))) == recipe.corpus.games
    assert load_corpus([run / "corpus" / "shards"], 5).num_games == recipe.corpus.games
    for name in ("sl_policy", "rl_policy"):
        load_net(run / "weights" / f"{name}.safetensors", expected=recipe.sl.net)
    load_net(run / "weights" / "value.safetensors", expected=recipe.value.net)
    pool = list((run / "weights" / "rl_pool").glob("*.safetensors"))
    assert len(pool) == recipe.rl.iterations // recipe.rl.pool_every
    rl_shards = sorted((run / "games" / "rl" / "shards").glob("iter_*.npz"))
    assert len(rl_shards) == recipe.rl.iterations
    assert all(Shard.load(p).num_games == recipe.rl.games_per_iteration for p in rl_shards)
    rl_sgf = list((run / "games" / "rl" / "sgf").glob("*.sgf"))
    assert len(rl_sgf) == recipe.rl.iterations * recipe.rl.games_per_iteration
    value = Shard.concat([Shard.load(p) for p in sorted((run / "games" / "value" / "shards").glob("*.npz"))])
    assert value.num_games == recipe.value.games
    picked = value_moves(value.extras, value.num_games)
    assert picked.shape == (value.num_games, recipe.value.positions_per_game)
    assert np.all(picked < np.diff(value.records.game_offsets)[:, None])
    assert (picked >= 0).sum() > value.num_games  # several positions in most games
    info = state["stages"]["value"]
    assert len(info["history"]) == info["epochs_run"] == recipe.value.epochs
    assert info["holdout_mse"] == pytest.approx(min(h["holdout_mse"] for h in info["history"]), abs=2e-3)
    check_value_mse_json(run, recipe.value.estimate_positions)
    check_rl_json(run, recipe.rl.eval_games)
    combined = yaml.safe_load((run / "weights" / "combined.yaml").read_text())
    assert combined["policy"] == "weights/sl_policy.safetensors" and combined["search"]["use_rollouts"]
    assert combined["rollout"] == "weights/rollout.safetensors"  # the trained policy plays the rollouts
    for name in ("sl_vs_random", "combined_vs_rl"):
        result = json.loads((run / "eval" / f"{name}.json").read_text())
        assert result["games"] == recipe.eval.games
        assert len(list((run / "eval" / name).glob("*.sgf"))) == recipe.eval.games
    # The supervised policy (no search) beats a uniformly random player.
    assert json.loads((run / "eval" / "sl_vs_random.json").read_text())["win_rate"] > 0.6
    assert (run / "eval" / "summary.json").exists()
    # Done: the same command again only reports.
    assert main(["train", "--config", str(ALPHAGO_TINY), "--run-dir", str(run), "--quiet"]) == 0
    assert "corpus:" not in capsys.readouterr().out


def write_random_sgf(path: Path, size: int, seed: int) -> None:
    g = _core.Game(size, 0.5)
    rec = sgf.Sgf_game(size=size)
    rec.get_root().set("RE", "B+1" if seed % 2 else "W+1")
    for k in range(12):
        m = g.random_move(g.to_move, seed * 100 + k)
        node = rec.extend_main_sequence()
        point = None if m == size * size else (size - 1 - m // size, m % size)
        node.set_move("b" if g.to_move == _core.BLACK else "w", point)
        g.play(g.to_move, m)
    path.write_bytes(rec.serialise())


def test_corpus_from_a_users_sgf_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    for s in range(6):
        write_random_sgf(folder / f"g{s}.sgf", 5, s)
    write_random_sgf(folder / "big.sgf", 7, 99)  # another size: skipped
    raw = yaml.safe_load(ALPHAGO_TINY.read_text())
    raw["corpus"] = {"source": "sgf", "sgf_dir": str(folder)}
    recipe = parse_recipe(raw)
    assert isinstance(recipe, AlphaGoRecipe)
    run = RunDir(tmp_path / "run")
    run.open(yaml.safe_dump(raw))
    info = corpus_stage(recipe, run, print, progress=False)
    assert info["games"] == 6
    assert load_corpus([run.root / "corpus" / "shards"], 5).num_games == 6


def test_rl_masks_are_the_masks_the_players_sampled_from() -> None:
    """Replayed training positions get the sensible-move masks used while playing."""
    rng = np.random.default_rng(2)
    g = _core.Game(7, 7.5)
    live_masks = []
    for _ in range(40):
        live_masks.append(sensible_masks([g])[0])
        g.play(g.to_move, g.random_move(g.to_move, int(rng.integers(1 << 40))))
    from selfplay.records import GameRecord

    rec = Records.from_games([GameRecord(7, tuple(g.moves()))], 7)
    games = np.zeros(40, np.int64)
    moves = np.arange(40, dtype=np.int32)
    _, masks, targets = replay_positions(rec, games, moves, "alphago")
    np.testing.assert_array_equal(masks, np.array(live_masks, np.uint8))
    assert targets.tolist() == [m for _, m in g.moves()]


def test_rl_and_value_stages_train_through_the_shared_learner(tmp_path: Path) -> None:
    """The RL and value stages on a random SL policy and a uniform rollout policy (no GnuGo
    needed), with their eval files; a lost RL checkpoint with games of later iterations on disk is
    reported instead of restarting the stage."""
    import torch

    from engine.nets import build_net
    from engine.weights import save_rollout_weights, save_weights
    from selfplay.alphago import rl_stage, value_stage
    from selfplay.run_dir import RunDirError
    from selfplay.torch_setup import Scalars

    raw = yaml.safe_load(ALPHAGO_TINY.read_text())
    raw["rl"].update(iterations=2, games_per_iteration=4, pool_every=1, eval_games=4)
    raw["value"].update(games=12, parallel_games=12, epochs=2, positions_per_game=3, estimate_positions=6)
    raw["eval"].update(games=2, parallel=2)
    recipe = parse_recipe(raw)
    assert isinstance(recipe, AlphaGoRecipe)
    run = RunDir(tmp_path / "run")
    run.open(yaml.safe_dump(raw))
    torch.manual_seed(0)
    save_weights(run.weights / "sl_policy.safetensors", build_net(recipe.sl.net))
    save_rollout_weights(run.weights / "rollout.safetensors", np.zeros(_core.ROLLOUT_FEATURES, np.float32), {})
    cpu = torch.device("cpu")
    scalars = Scalars(run.tensorboard)
    info = rl_stage(recipe, run, cpu, scalars, print, progress=False)
    assert len(info["pool"]) == 1 + recipe.rl.iterations
    load_net(run.weights / "rl_policy.safetensors", expected=recipe.sl.net)
    check_rl_json(run.root, recipe.rl.eval_games)
    value = value_stage(recipe, run, cpu, scalars, print, progress=False)
    scalars.close()
    assert 0 <= value["holdout_mse"] <= 4 and value["train_positions"] > 0
    assert [h["epoch"] for h in value["history"]] == [1, 2]
    assert value["estimates"] == check_value_mse_json(run.root, recipe.value.estimate_positions)
    shard = Shard.concat([Shard.load(p) for p in sorted((run.games("value") / "shards").glob("*.npz"))])
    first = value_moves(shard.extras, shard.num_games)[:, 0]
    span = round(recipe.value.random_move_span * recipe.board_size**2)
    assert np.all(first[first >= 0] <= span)  # right after the random move U < span
    assert value["games_without_positions"] == int((first < 0).sum())
    assert list(run.tensorboard.glob("events.out.tfevents.*"))

    (run.checkpoints / "rl.safetensors").unlink()
    with pytest.raises(RunDirError, match="rl.safetensors is missing"):
        rl_stage(recipe, run, cpu, Scalars(run.tensorboard), print, progress=False)


def test_sl_feature_ablation_writes_accuracy_over_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/sl_feature_ablation.py on a tiny corpus: both feature sets over the default
    seeds 0 1 2, scored on the same held-out positions, summarised in sl_accuracy.json."""
    import statistics

    from benchmarks.sl_feature_ablation import main as ablation
    from selfplay.records import GameRecord

    rng = np.random.default_rng(5)
    games = []
    for s in range(12):
        g = _core.Game(5, 2.5)
        while not g.is_over and g.move_number < 30:
            g.play(g.to_move, g.random_move(g.to_move, int(rng.integers(1 << 40))))
        games.append(GameRecord(5, tuple(g.moves()), (), 2.5, 1 if s % 2 else -1))
    data = tmp_path / "corpus"
    data.mkdir()
    Records.from_games(games, 5).save(data / "shard-00000.npz")
    config = tmp_path / "sl.yaml"
    config.write_text(yaml.safe_dump({
        "net": {"architecture": "policy", "board_size": 5, "blocks": 1, "channels": 8, "stem_kernel": 3},
        "train": {"batch_size": 32, "epochs": 1, "holdout_fraction": 0.25, "log_every": 5, "device": "cpu"},
    }))  # fmt: skip
    out = tmp_path / "features"
    assert ablation(["--data", str(data), "--config", str(config), "--out", str(out)]) == 0
    doc = json.loads((out / "sl_accuracy.json").read_text())
    assert set(doc) == {"positions", "games", "sets"} and doc["games"] == 12
    from selfplay.train_sl import split_games

    _, held_out = split_games(12, 0.25, 0)
    assert doc["positions"] == sum(len(games[g].moves) for g in held_out) > 0
    assert set(doc["sets"]) == {"alphago", "raw"}
    for entry in doc["sets"].values():
        assert entry["seeds"] == [0, 1, 2] and len(entry["accuracy"]) == 3
        assert all(0 <= a <= 1 for a in entry["accuracy"])
        assert entry["mean"] == pytest.approx(statistics.mean(entry["accuracy"]))
        assert entry["sd"] == pytest.approx(statistics.stdev(entry["accuracy"]))
    assert "+-" in capsys.readouterr().out
    # A bad config is one sentence and exit code 2.
    assert ablation(["--data", str(data), "--config", str(tmp_path / "missing.yaml"), "--out", str(out)]) == 2
