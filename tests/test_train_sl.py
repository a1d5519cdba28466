"""Supervised training: a tiny run overfits a few games, resume reproduces an uninterrupted run
exactly, value training runs, and the CLI (train-sl, accuracy) gives clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from engine import _core as core
from engine.errors import ConfigError
from engine.nets import NetConfig, build_net
from engine.weights import load_net, save_weights
from selfplay.records import GameRecord, Records
from selfplay.train_sl import Positions, evaluate, load_config, split_games, train
from tengen_cli.main import main


def random_game(seed: int, moves: int = 50, size: int = 9) -> GameRecord:
    g = core.Game(size)
    out = []
    for k in range(moves):
        c = g.to_move
        m = g.random_move(c, seed * 1000 + k)
        g.play(c, m)
        out.append((c, m))
        if g.is_over:
            break
    return GameRecord(size, tuple(out), (), 7.0, 1 if seed % 2 else -1, f"g{seed}.sgf")


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shards")
    games = [random_game(s) for s in range(8)]
    Records.from_games(games[:5], 9).save(folder / "shard-00000.npz")
    Records.from_games(games[5:], 9).save(folder / "shard-00001.npz")
    return folder


def tiny(out: Path, **train: Any) -> dict[str, Any]:
    o: dict[str, Any] = {
        "net.blocks": 1,
        "net.channels": 16,
        "train.out_dir": str(out),
        "train.batch_size": 32,
        "train.progress": False,
        "train.log_every": 5,
    }
    o.update({f"train.{k}": v for k, v in train.items()})
    return o


def test_tiny_run_overfits_a_few_games(tmp_path: Path) -> None:
    records = Records.from_games([random_game(s) for s in range(4)], 9)
    o = tiny(
        tmp_path / "run",
        epochs=20,
        optimizer="adamw",
        lr=3e-3,
        holdout_fraction=0.0,
        symmetries=False,
        lr_schedule="constant",
        weight_decay=0.0,
    )
    o["net.channels"] = 32
    result = train(load_config(None, o), records=records)
    net = load_net(result.weights_path, board_size=9)
    games, moves = records.positions()
    res = evaluate(net, records, games, moves)
    chance = 1 / 60  # about 60 legal moves per position in these games
    assert res.positions == 200
    assert res.accuracy > 0.6 > 30 * chance
    assert result.train_accuracy > 0.6
    assert (tmp_path / "run" / "tb").is_dir() and (tmp_path / "run" / "metrics.jsonl").stat().st_size > 0


def test_resume_matches_uninterrupted_run(shards: Path, tmp_path: Path) -> None:
    # CPU: bit-exact equality needs deterministic kernels (CUDA autocast runs are not bit-exact).
    common = {"epochs": 2, "holdout_fraction": 0.25, "data": (str(shards),), "device": "cpu"}
    full = train(load_config(None, tiny(tmp_path / "full", **common)))
    # Stopped mid-epoch (as by a crash after a checkpoint), then resumed with the same config.
    part = train(load_config(None, tiny(tmp_path / "split", max_steps=3, **common)))
    assert part.steps == 3
    resumed = train(load_config(None, tiny(tmp_path / "split", **common)), resume=True)
    assert resumed.steps == full.steps and resumed.samples == full.samples
    a = load_file(str(tmp_path / "full" / "weights.safetensors"))
    b = load_file(str(tmp_path / "split" / "weights.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    ca = load_file(str(tmp_path / "full" / "checkpoint.safetensors"))
    cb = load_file(str(tmp_path / "split" / "checkpoint.safetensors"))
    for k in ca:  # optimizer momentum included
        assert torch.equal(ca[k], cb[k]), k
    assert full.holdout.accuracy == resumed.holdout.accuracy


def test_split_is_by_game_and_value_sampling() -> None:
    train_g, hold_g = split_games(50, 0.1, seed=3)
    assert len(hold_g) == 5 and not set(train_g) & set(hold_g) and len(train_g) + len(hold_g) == 50
    records = Records.from_games([random_game(s, 30) for s in range(6)], 9)
    cfg = load_config(
        None,
        {
            "net.architecture": "value",
            "net.feature_set": "alphago_value",
            "train.value_positions_per_game": 2,
        },
    )
    pos = Positions(records, np.arange(6), cfg)
    idx, syms = pos.epoch_order(0)
    assert len(idx) == 12 == pos.epoch_size() and np.bincount(pos.game[idx]).tolist() == [2] * 6
    assert set(syms.tolist()) <= set(range(8))
    assert not np.array_equal(idx, pos.epoch_order(1)[0])


def test_value_and_policy_value_training(shards: Path, tmp_path: Path) -> None:
    for arch in ("value", "policy_value"):
        o = tiny(tmp_path / arch, epochs=1, data=(str(shards),))
        o.update({"net.architecture": arch, "net.feature_set": "alphago_value", "net.value_hidden": 16})
        result = train(load_config(None, o))
        assert 0 <= result.holdout.value_mse <= 4
        assert (np.isnan(result.holdout.accuracy)) == (arch == "value")


def test_config_file_and_overrides(tmp_path: Path) -> None:
    cfg = load_config(Path(__file__).parents[1] / "configs" / "sl_9x9_cpu.yaml", {"net.blocks": "2"})
    assert cfg.net.blocks == 2 and cfg.net.board_size == 9 and cfg.train.optimizer == "adamw"
    with pytest.raises(ConfigError, match="unknown key 'net.depth'"):
        load_config(None, {"net.depth": 3})
    with pytest.raises(ConfigError, match="train.batch_size must be an integer"):
        load_config(None, {"train.batch_size": "many"})
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_cli_train_and_accuracy(shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert (
        main(
            [
                "train-sl",
                "--data",
                str(shards),
                "--out",
                str(out),
                "--blocks",
                "1",
                "--channels",
                "8",
                "--epochs",
                "1",
                "--quiet",
                "--set",
                "train.batch_size=64",
            ]
        )
        == 0
    )
    assert "held-out top-1 accuracy" in capsys.readouterr().out
    # accuracy on an SGF folder, with a corrupt file skipped
    from tests.test_sgf_corpus import random_moves, write_sgf

    sgfs = tmp_path / "sgf"
    for i in range(3):
        write_sgf(sgfs / f"{i}.sgf", 9, random_moves(9, 20, i))
    (sgfs / "bad.sgf").write_text("(;SZ[9];B[")
    assert main(["accuracy", "--weights", str(out / "weights.safetensors"), "--sgf", str(sgfs), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "top-1 accuracy" in printed and "on 60 positions from 3 games (1 files skipped)" in printed
    # mismatched weights: a clear one-line error, exit code 2
    assert (
        main(
            [
                "train-sl",
                "--data",
                str(shards),
                "--out",
                str(out),
                "--blocks",
                "2",
                "--channels",
                "8",
                "--resume",
                "--quiet",
            ]
        )
        == 2
    )
    assert "blocks is 1 in the file but 2 in the config" in capsys.readouterr().err
    w19 = tmp_path / "w19.safetensors"
    save_weights(w19, build_net(NetConfig(board_size=19, blocks=0, channels=4)))
    assert main(["accuracy", "--weights", str(w19), "--sgf", str(sgfs), "--quiet"]) == 2
    assert "no usable 19x19 games" in capsys.readouterr().err
    assert main(["accuracy", "--weights", str(tmp_path / "none.safetensors"), "--sgf", str(sgfs)]) == 2
    assert "weights file not found" in capsys.readouterr().err


def test_ctrl_c_saves_a_checkpoint_that_resumes(shards: Path, tmp_path: Path) -> None:
    import os
    import signal
    import threading
    import time

    from engine.weights import read_metadata

    o = tiny(tmp_path / "run", epochs=200, data=(str(shards),), checkpoint_every=10**6)
    def interrupt_once_training_listens() -> None:
        # Ctrl-C once train() has installed its handler (setup time varies with load and imports).
        deadline = time.monotonic() + 120
        while signal.getsignal(signal.SIGINT) is signal.default_int_handler and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # a few steps in
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_training_listens, daemon=True).start()
    with pytest.raises(KeyboardInterrupt, match="checkpoint saved"):
        train(load_config(None, o))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    import json

    step = json.loads(read_metadata(tmp_path / "run" / "checkpoint.safetensors")["trainer"])["step"]
    assert step > 0
    o["train.max_steps"] = step + 2
    assert train(load_config(None, o), resume=True).steps == step + 2


def test_prefetch_thread_is_joined_when_the_consumer_stops_early() -> None:
    import threading

    from selfplay.train_sl import prefetch

    def produce() -> Iterator[int]:
        yield from range(1000)

    gen = prefetch(produce(), 2)
    assert [next(gen) for _ in range(3)] == [0, 1, 2]
    gen.close()
    assert not [t for t in threading.enumerate() if t.name == "tengen-prefetch"]

    def broken() -> Iterator[int]:
        yield 1
        raise RuntimeError("corrupt shard")

    with pytest.raises(RuntimeError, match="corrupt shard"):
        list(prefetch(broken(), 2))
    assert not [t for t in threading.enumerate() if t.name == "tengen-prefetch"]
