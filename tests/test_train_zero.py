"""AlphaZero recipe end to end on 5x5 with a tiny net (configs/zero_tiny.yaml), the self-play
game store's crash recovery, training batches, and the match/SPRT helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine import _core
from engine.arena.elo import elo_from_score
from engine.arena.sprt import SprtParams, sprt
from engine.weights import load_checkpoint, load_net, read_metadata
from selfplay.match import RandomPlayer, play_match
from selfplay.recipe import load_recipe
from selfplay.records import Records
from selfplay.run_dir import RunDir, RunDirError
from selfplay.selfplay_shards import GameStore, SelfplayGame, Shard, _game_arrays
from selfplay.torch_setup import make_optimizer
from selfplay.zero import make_zero_batch
from tengen_cli.main import main

ROOT = Path(__file__).resolve().parents[1]
ZERO_TINY = ROOT / "configs" / "zero_tiny.yaml"


def check_zero_run(run: Path) -> None:
    """Everything a finished zero_tiny run must hold, loadable and consistent."""
    recipe, _ = load_recipe(ZERO_TINY)
    state = json.loads((run / "state.json").read_text())
    expected = ["init"] + [f"iter_{i:04d}/{s}" for i in range(1, recipe.iterations + 1)
                           for s in ("selfplay", "train", "gate")] + ["final"]
    assert set(state["stages"]) == set(expected)
    per_iter = recipe.selfplay.games_per_iteration
    for i in range(1, recipe.iterations + 1):
        folder = run / "games" / f"iter_{i:04d}"
        assert not list((folder / "pending").iterdir()), "pending games left behind"
        shards = sorted((folder / "shards").glob("shard_*.npz"))
        assert shards
        ids = np.concatenate([Shard.load(p).game_id for p in shards])
        assert sorted(ids.tolist()) == list(range(per_iter)), "a finished game was lost or duplicated"
        for p in shards:  # corpus tools read self-play shards too
            assert Records.load(p).num_games > 0
        assert len(list((folder / "sgf").glob("game_*.sgf"))) == per_iter
        assert state["stages"][f"iter_{i:04d}/selfplay"]["games"] == per_iter
        meta = read_metadata(run / "weights" / f"iter_{i:04d}.safetensors")
        assert meta["board_size"] == "5" and meta["iteration"] == str(i)
    assert not list(run.rglob("*.tmp"))
    net = load_net(run / "weights" / "final.safetensors", expected=recipe.net)
    opt = make_optimizer(net.parameters(), recipe.train.optim)
    trainer = load_checkpoint(run / "checkpoints" / "learner.safetensors", net, opt)
    assert trainer["iteration"] == recipe.iterations
    assert trainer["iteration_step"] == recipe.train.steps_per_iteration
    assert trainer["step"] == recipe.iterations * recipe.train.steps_per_iteration
    final = json.loads((run / "eval" / "final.json").read_text())
    assert set(final) == {"final_vs_start", "final_vs_random", "final_policy_vs_random"}
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))


def test_zero_tiny_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "zero"
    assert main(["train", "--config", str(ZERO_TINY), "--run-dir", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "iter_0001 self-play" in out and "final evaluation" in out
    check_zero_run(run)
    final = json.loads((run / "eval" / "final.json").read_text())
    # The trained net (with search) beats a uniformly random player and its own starting point.
    assert final["final_vs_random"]["win_rate"] > 0.6
    assert final["final_vs_start"]["win_rate"] > 0.6
    # Self-play games carry visit distributions; fast searches are not policy targets.
    shard = Shard.load(next((run / "games" / "iter_0001" / "shards").glob("shard_*.npz")))
    np.testing.assert_allclose(shard.policy.astype(np.float32).sum(axis=1), 1.0, atol=1e-2)
    assert 0 < shard.full_search.mean() < 1  # playout cap randomisation is on in zero_tiny
    # Running the finished recipe again does nothing but report.
    assert main(["train", "--config", str(ZERO_TINY), "--run-dir", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "self-play" not in out


def _game(size: int, moves: list[int], winner: int) -> SelfplayGame:
    policy = np.zeros((len(moves), size * size + 1), np.float16)
    policy[np.arange(len(moves)), moves] = 1.0
    return SelfplayGame(size, 7.5, np.array(moves, np.int16), winner, policy, np.ones(len(moves), np.uint8))


def test_game_store_recovers_from_a_crash_between_shard_and_cleanup(tmp_path: Path) -> None:
    store = GameStore(tmp_path / "g", "iter_0001", games_per_shard=3)
    for k in range(5):
        store.add(_game(5, [k, 10 + k, 25, 25], 1), "b", "w")
    assert store.num_games == 5 and len(store.shard_paths()) == 1
    # A crash after the shard was renamed but before its pending files were deleted:
    pending = tmp_path / "g" / "pending"
    shard0 = Shard.load(store.shard_paths()[0])
    for gid, g in zip(shard0.game_id.tolist(), shard0.games(), strict=True):
        np.savez(pending / f"game_{gid:06d}.npz", **_game_arrays(g))
    again = GameStore(tmp_path / "g", "iter_0001", games_per_shard=3)
    assert again.num_games == 5
    assert sorted(p.name for p in pending.iterdir()) == ["game_000003.npz", "game_000004.npz"]
    assert again.add(_game(5, [1, 2, 25, 25], -1), "b", "w") == 5
    again.flush()
    everything = again.load_all()
    assert everything is not None
    assert everything.game_id.tolist() == list(range(6))
    assert everything.records.winner.tolist() == [1, 1, 1, 1, 1, -1]
    assert len(list((tmp_path / "g" / "sgf").glob("*.sgf"))) == 6


def test_zero_batch_maps_policy_targets_through_the_symmetry() -> None:
    size = 5
    moves = [6, 12, 18, 25, 25]
    shard = Shard.from_games([_game(size, moves, 1)], [0], "t")
    games = np.zeros(4, np.int64)
    pos = np.array([0, 1, 2, 3], np.int32)
    for sym in range(8):
        syms = np.full(4, sym)
        planes, masks, target, full, z, _own, _score = make_zero_batch(shard, games, pos, syms, "raw")
        for row, k in enumerate(pos):
            assert target[row].argmax() == _core.symmetry_index(moves[k], sym, size)
            assert masks[row, target[row].argmax()] == 1
        assert z.tolist() == [1.0, -1.0, 1.0, -1.0]  # black won; outcome for the mover
        assert full.tolist() == [1.0] * 4


def test_match_sprt_and_elo_helpers() -> None:
    res = play_match(RandomPlayer("r1"), RandomPlayer("r2"), 6, 5, 0.5, seed=3, opening_moves=1, parallel=4)
    assert res.played == 6 and len(res.games) == 6
    assert elo_from_score(0.5, 10) == pytest.approx(0.0)
    assert elo_from_score(0.75, 100) == pytest.approx(190.8, abs=0.1)
    params = SprtParams(elo0=0.0, elo1=50.0, alpha=0.05, beta=0.05)
    assert sprt(40, 0, 5, params).decision == "accept H1"  # wins, draws, losses
    assert sprt(5, 0, 40, params).decision == "accept H0"
    assert sprt(3, 0, 3, params).decision == "continue"


def test_run_dir_refuses_another_recipe(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "r")
    state = run.open("recipe: alphazero\niterations: 1\n")
    state.mark_done("init", {"x": 1})
    assert RunDir(tmp_path / "r").open("recipe: alphazero\niterations: 1\n").is_done("init")

    with pytest.raises(RunDirError, match="different recipe"):
        RunDir(tmp_path / "r").open("recipe: alphazero\niterations: 2\n")


def _one_iteration_recipe(tmp_path: Path) -> Path:
    """zero_tiny cut to one short iteration: enough to see where the learner started."""
    text = ZERO_TINY.read_text()
    for old, new in (("iterations: 4", "iterations: 1"), ("games_per_iteration: 32", "games_per_iteration: 8"),
                     ("steps_per_iteration: 80", "steps_per_iteration: 5"), ("games: 16", "games: 4"),
                     ("games: 8", "games: 4")):
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "one.yaml"
    path.write_text(text)
    return path


def test_train_init_warm_starts_from_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    from engine.nets import build_net
    from engine.weights import save_weights

    config = _one_iteration_recipe(tmp_path)
    recipe, _ = load_recipe(config)
    torch.manual_seed(123)
    start = build_net(recipe.net)
    init = tmp_path / "start.safetensors"
    save_weights(init, start)
    run = tmp_path / "run"
    argv = ["train", "--config", str(config), "--run-dir", str(run), "--init", str(init), "--quiet"]
    assert main(argv) == 0
    assert "init: starting net" in capsys.readouterr().out
    first = load_net(run / "weights" / "iter_0000.safetensors", expected=recipe.net)
    for name, tensor in start.state_dict().items():
        assert torch.equal(first.state_dict()[name], tensor), f"{name} differs from the --init weights"
    assert "init_weights:" in (run / "config.yaml").read_text()
    assert main(argv) == 0  # the same command resumes (here: finds everything done)
    # Without the flag the recipe differs from the run's: refused, nothing lost.
    assert main(argv[:-3] + ["--quiet"]) == 2
    assert "recipe" in capsys.readouterr().err
    assert (run / "weights" / "final.safetensors").is_file()


def test_train_init_refuses_a_net_of_another_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import dataclasses

    from engine.nets import build_net
    from engine.weights import save_weights

    config = _one_iteration_recipe(tmp_path)
    recipe, _ = load_recipe(config)
    other = tmp_path / "wide.safetensors"
    save_weights(other, build_net(dataclasses.replace(recipe.net, channels=8)))
    run = tmp_path / "run"
    assert main(["train", "--config", str(config), "--run-dir", str(run), "--init", str(other), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "channels 8 (recipe 16)" in err and err.count("\n") == 1
    assert main(["train", "--config", str(config), "--run-dir", str(run), "--init", str(tmp_path / "nope"),
                 "--quiet"]) == 2
    assert "no such weights file" in capsys.readouterr().err
    assert main(["train", "--config", str(ROOT / "configs" / "alphago_tiny.yaml"), "--run-dir", str(run),
                 "--init", str(other), "--quiet"]) == 2
    assert "AlphaZero recipe only" in capsys.readouterr().err
