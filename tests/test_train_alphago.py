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
from tengen_cli.main import main

ROOT = Path(__file__).resolve().parents[1]
ALPHAGO_TINY = ROOT / "configs" / "alphago_tiny.yaml"


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
    assert np.all(value.extras["value_move"] < np.diff(value.records.game_offsets))
    combined = yaml.safe_load((run / "weights" / "combined.yaml").read_text())
    assert combined["policy"] == "weights/sl_policy.safetensors" and combined["search"]["use_rollouts"]
    assert combined["rollout"] == "weights/rollout.safetensors"  # the trained policy plays the rollouts
    for name in ("sl_vs_random", "rl_vs_sl", "combined_vs_rl"):
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
    """The RL and value stages on a random SL policy (no GnuGo needed); a lost RL checkpoint with
    games of later iterations on disk is reported instead of restarting the stage."""
    import torch

    from engine.nets import build_net
    from engine.weights import save_weights
    from selfplay.alphago import rl_stage, train_value, value_games
    from selfplay.run_dir import RunDirError
    from selfplay.torch_setup import Scalars

    raw = yaml.safe_load(ALPHAGO_TINY.read_text())
    raw["rl"].update(iterations=2, games_per_iteration=4, pool_every=1)
    raw["value"].update(games=10, parallel_games=10, epochs=2)
    raw["eval"].update(games=2, parallel=2)
    recipe = parse_recipe(raw)
    assert isinstance(recipe, AlphaGoRecipe)
    run = RunDir(tmp_path / "run")
    run.open(yaml.safe_dump(raw))
    torch.manual_seed(0)
    save_weights(run.weights / "sl_policy.safetensors", build_net(recipe.sl.net))
    cpu = torch.device("cpu")
    scalars = Scalars(run.tensorboard)
    info = rl_stage(recipe, run, cpu, scalars, print, progress=False)
    assert len(info["pool"]) == 1 + recipe.rl.iterations
    load_net(run.weights / "rl_policy.safetensors", expected=recipe.sl.net)
    shard = value_games(recipe, run, cpu, print, progress=False)
    value = train_value(recipe, run, shard, cpu, scalars, progress=False)
    scalars.close()
    assert 0 <= value["holdout_mse"] <= 4 and value["train_positions"] > 0
    assert list(run.tensorboard.glob("events.out.tfevents.*"))

    (run.checkpoints / "rl.safetensors").unlink()
    with pytest.raises(RunDirError, match="rl.safetensors is missing"):
        rl_stage(recipe, run, cpu, Scalars(run.tensorboard), print, progress=False)
