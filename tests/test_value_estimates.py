"""The value net's data and baselines (selfplay/value_estimates.py, the value stage of
selfplay/alphago.py): positions per game from the RL-played part, the split by game, training on
old one-position shards, a run directory's held-out positions, and the estimates' MSE signs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from engine import _core
from engine.nets import NetConfig, build_net
from engine.weights import read_metadata
from selfplay.alphago import train_value
from selfplay.match import PolicyPlayer, finished_record
from selfplay.recipe import AlphaGoRecipe, parse_recipe
from selfplay.records import GameRecord, Records
from selfplay.run_dir import RunDir
from selfplay.selfplay_shards import SelfplayGame, Shard
from selfplay.torch_setup import Scalars
from selfplay.value_estimates import (
    LEGACY_KEY,
    ValueDataError,
    holdout_pairs,
    holdout_positions,
    mse,
    one_rollout,
    position_games,
    replay_planes,
    rl_outcome,
    rl_part_moves,
    split_value_games,
    value_move_extras,
    value_moves,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "alphago_tiny.yaml"
CPU = torch.device("cpu")


# ---------------------------------------------------------------------------------------------
# Positions per game


@pytest.mark.parametrize("seed", range(20))
def test_positions_are_distinct_from_the_rl_part_and_deterministic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    length = int(rng.integers(5, 60))
    u = int(rng.integers(0, length - 2))
    k = int(rng.integers(1, 12))
    picked = rl_part_moves(u, length, k, seed)
    assert picked.shape == (k,)
    real = picked[picked >= 0]
    assert real[0] == u + 1  # AlphaGo's position, right after the random move
    assert len(set(real.tolist())) == len(real) == min(k, length - u - 1)
    assert np.all((real > u) & (real < length))
    assert np.all(picked[len(real) :] == -1)  # padding only after the real ones
    np.testing.assert_array_equal(picked, rl_part_moves(u, length, k, seed))


def test_one_position_is_the_one_after_the_random_move_and_none_without_an_rl_part() -> None:
    assert rl_part_moves(10, 40, 1, 3).tolist() == [11]
    assert rl_part_moves(39, 40, 3, 3).tolist() == [-1, -1, -1]  # the game ended at the random move
    assert rl_part_moves(50, 40, 2, 3).tolist() == [-1, -1]  # the SL part ended the game
    assert rl_part_moves(37, 40, 5, 3).tolist() == [38, 39, -1, -1, -1]
    # Different games (seeds) sample different positions from the same long RL part.
    samples = {tuple(rl_part_moves(0, 200, 4, s).tolist()) for s in range(10)}
    assert len(samples) > 5


def test_value_moves_reads_both_formats() -> None:
    legacy = {LEGACY_KEY: np.array([3.0, 7.0], np.float32)}
    assert value_moves(legacy, 2).tolist() == [[3], [7]]
    new = [value_move_extras(np.array([4, 9, -1])), value_move_extras(np.array([2, -1, -1]))]
    extras = {key: np.array([e[key] for e in new], np.float32) for key in new[0]}
    assert value_moves(extras, 2).tolist() == [[4, 9, -1], [2, -1, -1]]
    with pytest.raises(ValueDataError, match="no value positions"):
        value_moves({"learner_black": np.zeros(2)}, 2)


# ---------------------------------------------------------------------------------------------
# Synthetic value games


def random_value_games(n: int, k: int, seed: int, size: int = 5) -> list[SelfplayGame]:
    """n random games on a small board, each with k value positions as value_games picks them
    (U uniform over the board's points), scored as value_games scores them."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        g = _core.Game(size, 2.5)
        while not g.is_over and g.move_number < 2 * size * size:
            g.play(g.to_move, g.random_move(g.to_move, int(rng.integers(1 << 40))))
        rec = finished_record(g, 20, seed * 1000 + i)
        u = int(rng.integers(0, size * size))
        extras = value_move_extras(rl_part_moves(u, len(rec.moves), k, seed * 1000 + i))
        out.append(dataclasses.replace(rec, extras=extras))
    return out


def legacy_value_games(n: int, seed: int) -> list[SelfplayGame]:
    """Games as value stages before positions_per_game stored them: one `value_move` each."""
    rng = np.random.default_rng(seed)
    games = random_value_games(n, 1, seed)
    out = []
    for rec in games:
        k = int(rng.integers(0, len(rec.moves)))
        out.append(dataclasses.replace(rec, extras={LEGACY_KEY: float(k)}))
    return out


def tiny_run(tmp_path: Path, games: list[SelfplayGame], **value: object) -> tuple[AlphaGoRecipe, RunDir, Shard]:
    """A run directory of the tiny recipe holding `games` as its value shards."""
    raw = yaml.safe_load(TINY.read_text())
    raw["value"].update(epochs=2, **value)
    recipe = parse_recipe(raw)
    assert isinstance(recipe, AlphaGoRecipe)
    run = RunDir(tmp_path / "run")
    run.open(yaml.safe_dump(raw))
    folder = run.games("value") / "shards"
    folder.mkdir(parents=True)
    half = len(games) // 2
    Shard.from_games(games[:half], range(half), "value").save(folder / "shard_00000.npz")
    Shard.from_games(games[half:], range(half, len(games)), "value").save(folder / "shard_00001.npz")
    shard = Shard.concat([Shard.load(p) for p in sorted(folder.glob("*.npz"))])
    return recipe, run, shard


def test_no_position_of_a_held_out_game_is_trained_on() -> None:
    games = random_value_games(60, 4, 1)
    shard = Shard.from_games(games, range(len(games)), "value")
    split = split_value_games(shard, 7, 0.2)
    assert not set(split.train_game.tolist()) & set(split.holdout_game.tolist())
    assert split.holdout_games == len(set(split.holdout_game.tolist()))
    moves = value_moves(shard.extras, shard.num_games)
    usable = (shard.records.winner != 0) & (moves >= 0).any(axis=1)
    # Every position of every usable game is in exactly one of the two sets.
    assert len(split.train_game) + len(split.holdout_game) == int((moves[usable] >= 0).sum())
    assert split.holdout_games == round(0.2 * usable.sum())
    assert all(m in moves[g] for g, m in zip(split.train_game.tolist(), split.train_move.tolist(), strict=True))
    again = split_value_games(shard, 7, 0.2)
    np.testing.assert_array_equal(again.holdout_game, split.holdout_game)
    other = split_value_games(shard, 8, 0.2)
    assert set(other.holdout_game.tolist()) != set(split.holdout_game.tolist())


def test_old_one_position_shards_still_train(tmp_path: Path) -> None:
    recipe, run, shard = tiny_run(tmp_path, legacy_value_games(40, 2))
    assert value_moves(shard.extras, shard.num_games).shape == (40, 1)
    lines: list[str] = []
    scalars = Scalars(run.tensorboard)
    info = train_value(recipe, run, shard, CPU, scalars, lines.append, progress=False)
    scalars.close()
    known = int((shard.records.winner != 0).sum())
    assert info["train_positions"] + info["holdout_positions"] == known  # one position per game
    assert [h["epoch"] for h in info["history"]] == [1, 2]
    assert sum("held-out" in line for line in lines) == 2  # one log line per epoch
    best = min(info["history"], key=lambda h: h["holdout_mse"])
    assert read_metadata(run.weights / "value.safetensors")["epoch"] == str(best["epoch"]) == str(info["best_epoch"])


def test_several_positions_per_game_train_on_every_training_pair(tmp_path: Path) -> None:
    recipe, run, shard = tiny_run(tmp_path, random_value_games(30, 3, 3), positions_per_game=3, patience=1)
    split = split_value_games(shard, recipe.seed, recipe.value.holdout_fraction)
    scalars = Scalars(run.tensorboard)
    info = train_value(recipe, run, shard, CPU, scalars, print, progress=False)
    scalars.close()
    assert info["train_positions"] == len(split.train_game) > shard.num_games
    assert info["holdout_positions"] == len(split.holdout_game)
    assert 1 <= info["best_epoch"] <= info["epochs_run"] <= recipe.value.epochs


# ---------------------------------------------------------------------------------------------
# A run directory's held-out positions


def test_holdout_positions_have_the_right_shapes_and_the_records_outcomes(tmp_path: Path) -> None:
    recipe, run, shard = tiny_run(tmp_path, random_value_games(30, 3, 4), positions_per_game=3)
    planes, z = holdout_positions(run.root, "alphago_value")
    split = split_value_games(shard, recipe.seed, recipe.value.holdout_fraction)
    n = len(split.holdout_game)
    assert planes.dtype == np.float32 and z.dtype == np.float32
    assert planes.shape == (n, _core.num_planes("alphago_value"), 5, 5) and z.shape == (n,)
    np.testing.assert_array_equal(z, shard.records.outcome_for_mover(split.holdout_game, split.holdout_move))
    assert set(np.unique(z).tolist()) <= {-1.0, 1.0}
    expected = replay_planes(shard.records, split.holdout_game, split.holdout_move, "alphago_value")
    np.testing.assert_array_equal(planes, expected.astype(np.float32))
    # Another feature set, and a limit: a seeded subset of the same positions.
    raw, z_raw = holdout_positions(run.root, "raw", limit=4)
    assert raw.shape == (4, _core.num_planes("raw"), 5, 5)
    _, _, _, games, moves = holdout_pairs(run.root, 4)
    np.testing.assert_array_equal(z_raw, shard.records.outcome_for_mover(games, moves))
    assert set(zip(games.tolist(), moves.tolist(), strict=True)) <= set(
        zip(split.holdout_game.tolist(), split.holdout_move.tolist(), strict=True)
    )


def test_holdout_positions_refuse_a_run_without_value_games(tmp_path: Path) -> None:
    with pytest.raises(ValueDataError, match="no config.yaml"):
        holdout_positions(tmp_path / "nothing", "alphago_value")
    raw = yaml.safe_load(TINY.read_text())
    RunDir(tmp_path / "run").open(yaml.safe_dump(raw))
    with pytest.raises(ValueDataError, match="run the value stage first"):
        holdout_positions(tmp_path / "run", "alphago_value")


# ---------------------------------------------------------------------------------------------
# Estimates and their MSE


def test_mse_against_the_outcome() -> None:
    z = np.array([1, -1, -1, 1], np.float32)
    assert mse(z, z) == 0.0
    assert mse(-z, z) == 4.0
    assert mse(np.zeros(4), z) == 1.0
    with pytest.raises(ValueError):
        mse(np.zeros(3), z)


def black_owns_the_board() -> Records:
    """5x5: black fills every point but the four corners and the centre (five single-point eyes
    of one chain) while white passes; white can never play again, so black wins every game from
    there. Positions 39 (white to move) and 40 (black to move)."""
    size = 5
    eyes = {0, 4, 20, 24, 12}
    moves: list[tuple[int, int]] = []
    for p in (p for p in range(size * size) if p not in eyes):
        moves += [(_core.BLACK, p), (_core.WHITE, size * size)]
    moves.append((_core.BLACK, size * size))
    return Records.from_games([GameRecord(size, tuple(moves), (), 2.5, 1)], size)


def test_the_baselines_give_the_outcome_from_the_movers_side() -> None:
    """A won position: each estimate equals z (MSE 0), and its negation is 4."""
    records = black_owns_the_board()
    games = np.zeros(2, np.int64)
    moves = np.array([39, 40], np.int32)
    z = records.outcome_for_mover(games, moves)
    assert z.tolist() == [-1.0, 1.0]  # white to move at 39 loses, black to move at 40 wins
    boards = position_games(records, games, moves)
    assert [b.to_move for b in boards] == [_core.WHITE, _core.BLACK]
    uniform = _core.RolloutPolicy(np.zeros(_core.ROLLOUT_FEATURES, np.float32))
    rollout = one_rollout(boards, uniform, seed=0)
    torch.manual_seed(0)
    net = build_net(NetConfig(architecture="policy", board_size=5, feature_set="alphago", blocks=1, channels=8))
    rl = rl_outcome(boards, PolicyPlayer("rl", net, CPU), seed=0, parallel=2)
    for estimate in (rollout, rl):
        assert mse(estimate, z) == 0.0
        assert mse(-estimate, z) == 4.0
    # The positions themselves are unchanged (each fresh game plays on a copy).
    assert [b.move_number for b in boards] == [39, 40]


def test_value_mse_json_has_the_report_keys(tmp_path: Path) -> None:
    from selfplay.value_estimates import ValueMSE

    path = tmp_path / "value_mse.json"
    ValueMSE(positions=10, value_net=0.5, one_rollout=0.9, rl_outcome=0.7, train_positions=100, holdout_games=3).save(
        path
    )
    doc = json.loads(path.read_text())
    assert doc == {"positions": 10, "value_net": 0.5, "one_rollout": 0.9, "rl_outcome": 0.7, "train_positions": 100,
                   "holdout_games": 3, "paper_value_net": 0.234}  # fmt: skip
