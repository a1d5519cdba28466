"""Training under bad numbers and devices: a loss that turns nan or inf stops training with one
sentence and writes no non-finite weights; nan/inf and impossible values in configs are refused
by the one config loader; an unknown or absent device gets one sentence."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from safetensors.torch import load_file

from engine.config import from_mapping, load_yaml
from engine.errors import ConfigError, TengenError
from engine.nets import NetConfig
from engine.torch_device import DeviceError, pick_device
from engine.weights import read_metadata
from selfplay.learner import Learner, NonFiniteError
from selfplay.recipe import RecipeError, parse_recipe
from selfplay.records import Records
from selfplay.torch_setup import OptimConfig
from selfplay.train_rollout import RolloutTrainConfig
from selfplay.train_sl import TrainConfig, load_config, train
from tengen_cli.main import main
from tests.test_train_sl import random_game, tiny

ROOT = Path(__file__).resolve().parents[1]
ZERO_TINY = ROOT / "configs" / "zero_tiny.yaml"


def test_a_loss_that_turns_nan_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import selfplay.train_sl as train_sl

    calls = 0
    real = train_sl._losses

    def nan_from_step_7(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        loss, stats = real(*args, **kwargs)
        return (loss * float("nan") if calls >= 7 else loss), stats

    monkeypatch.setattr(train_sl, "_losses", nan_from_step_7)
    records = Records.from_games([random_game(s) for s in range(4)], 9)
    out = tmp_path / "run"
    o = tiny(out, epochs=5, holdout_fraction=0.0, checkpoint_every=1)  # tiny(): log_every 5
    with pytest.raises(NonFiniteError, match="training stopped at step 7: the loss is nan"):
        train(load_config(None, o), records=records)
    assert not (out / "weights.safetensors").exists()
    # The last checkpoint is step 6's: written from finite parameters, before the nan step.
    trainer = json.loads(read_metadata(out / "checkpoint.safetensors")["trainer"])
    assert trainer["step"] == 6
    for name, tensor in load_file(str(out / "checkpoint.safetensors")).items():
        if tensor.is_floating_point():
            assert bool(torch.isfinite(tensor).all()), name


def test_huge_learning_rates_and_sizes_are_refused() -> None:
    for override, message in [
        ({"train.lr": "1e-3"}, None),
        ({"train.epochs": "1000000000000"}, "train.epochs must be at most"),
        ({"train.batch_size": "1000000000000"}, "train.batch_size must be at most"),
        ({"train.seed": str(10**21)}, "train.seed must be from 0 to"),
        ({"train.feature_threads": "100000"}, "train.feature_threads must be from 1 to"),
    ]:
        if message is None:
            assert load_config(None, override).train.lr == 1e-3
            continue
        with pytest.raises(ConfigError, match=message):
            load_config(None, override)
    assert load_config(None, {"train.seed": str(10**12)}).train.seed == 10**12
    with pytest.raises(ConfigError, match="lr must be"):
        RolloutTrainConfig(lr=1e300)
    with pytest.raises(ConfigError, match="threads must be from 1 to"):
        RolloutTrainConfig(threads=10**12)


def test_non_finite_parameters_are_never_saved(tmp_path: Path) -> None:
    config = NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=0, channels=4)
    learner = Learner.for_config(config, OptimConfig(), torch.device("cpu"), tmp_path / "c.safetensors")
    with torch.no_grad():
        next(learner.net.parameters()).fill_(float("nan"))
    with pytest.raises(NonFiniteError, match="not finite"):
        learner.save()
    with pytest.raises(NonFiniteError, match="not finite"):
        learner.save_weights(tmp_path / "w.safetensors")
    assert not list(tmp_path.iterdir())
    assert issubclass(NonFiniteError, TengenError)


@pytest.mark.parametrize(
    ("dotted", "value", "message"),
    [
        ("train.optim.lr", math.inf, "train.optim.lr must be a finite number"),
        ("train.optim.lr", math.nan, "train.optim.lr must be a finite number"),
        ("train.optim.lr", 0.0, "train.optim.lr must be positive"),
        ("train.optim.lr", -1.0, "train.optim.lr must be positive"),
        ("train.optim.batch_size", 0, "train.optim.batch_size must be at least 1"),
        ("komi", math.inf, "komi must be a finite number"),
        ("komi", 1e9, "komi must be a multiple of 0.5"),
        ("seed", -1, "seed must be >= 0"),
        ("torch_threads", -2, "torch_threads must be >= 0"),
        ("iterations", 0, "iterations must be at least 1"),
        ("selfplay.search.visits", -5, "visits must be at least 1"),
        ("selfplay.search.c_puct", math.nan, "c_puct must be a finite number"),
        ("gating.alpha", 0.97, "gating.alpha and beta must be in"),
        ("train.value_weight", math.inf, "train.value_weight must be a finite number"),
        ("selfplay.parallel_games", True, "selfplay.parallel_games must be an integer"),
    ],
)
def test_recipe_numbers_are_checked(dotted: str, value: object, message: str) -> None:
    raw = yaml.safe_load(ZERO_TINY.read_text())
    node = raw
    *parents, key = dotted.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[key] = value
    with pytest.raises(RecipeError, match=message):
        parse_recipe(raw)


def test_recipe_file_with_yaml_inf_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ZERO_TINY.read_text().replace("lr: 0.003", "lr: .inf")
    assert "lr: .inf" in text
    bad = tmp_path / "inf.yaml"
    bad.write_text(text)
    assert main(["train", "--config", str(bad), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "train.optim.lr must be a finite number" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()  # refused before the run directory was made


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"train.lr": ".inf"}, "train.lr must be a finite number"),
        ({"train.lr": "nan"}, "train.lr must be a finite number"),
        ({"train.lr": "1e300"}, "train.lr must be at most 1000"),
        ({"train.epochs": "0"}, "train.epochs must be at least 1"),
        ({"train.batch_size": "-3"}, "train.batch_size must be at least 1"),
        ({"train.feature_threads": "0"}, "train.feature_threads must be from 1 to 1024"),
        ({"train.seed": "-1"}, "train.seed must be from 0 to"),
        ({"train.optimizer": "adam"}, "train.optimizer must be one of sgd, adamw"),
        ({"train.device": "tpu"}, "train.device must be auto, cpu, cuda or cuda:N"),
        ({"net.blocks": "1.5"}, "net.blocks must be an integer"),
        ({"train.progress": "maybe"}, "train.progress must be true or false"),
    ],
)
def test_sl_config_values_are_checked(override: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, override)


def test_a_missing_or_absent_device_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DeviceError, match="device must be auto, cpu, cuda or cuda:N, not 'tpu'"):
        pick_device("tpu")
    with pytest.raises(DeviceError, match="cuda:99 was asked for but torch sees"):
        pick_device("cuda:99")
    code = main(["train-sl", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--device", "cuda:99", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "cuda:99 was asked for" in err and len(err.strip().splitlines()) == 1


def test_config_files_are_read_strictly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_yaml(tmp_path / "none.yaml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_yaml(tmp_path)
    (tmp_path / "latin1.yaml").write_bytes(b"lr: caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_yaml(tmp_path / "latin1.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_yaml(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("train: [1\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(tmp_path / "broken.yaml")
    (tmp_path / "empty.yaml").write_text("")
    assert load_yaml(tmp_path / "empty.yaml") == {}


def test_from_mapping_names_keys_and_types() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'train.lrr' \(known in this section: data, out_dir"):
        from_mapping(TrainConfig, {"lrr": 1}, "train")
    with pytest.raises(ConfigError, match="missing key 'size'"):
        from_mapping(_Needs, {})
    with pytest.raises(ConfigError, match=r"train.data\[1\] must be a string"):
        from_mapping(TrainConfig, {"data": ["a", 3]}, "train")
    t = from_mapping(TrainConfig, {"data": ["a", "b"], "lr": 1}, "train")
    assert t.data == ("a", "b") and isinstance(t.lr, float) and t.lr == 1.0
    with pytest.raises(ConfigError, match="train must be a section"):
        from_mapping(TrainConfig, [1, 2], "train")


@dataclass(frozen=True, kw_only=True)
class _Needs:
    """A config type with a required key."""

    size: int


def test_deferred_loss_checks_name_the_first_bad_step(tmp_path: Path) -> None:
    config = NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=0, channels=4)
    learner = Learner.for_config(config, OptimConfig(), torch.device("cpu"), tmp_path / "c.safetensors")
    learner.check_every = 10
    x = torch.zeros(2, config.input_planes, 5, 5)
    for k in range(4):
        bad = k == 2

        def loss_fn(net: torch.nn.Module, bad: bool = bad) -> tuple[torch.Tensor, None]:
            value = net(x).value
            return value.float().mean() * (float("nan") if bad else 1.0), None

        learner.step(loss_fn)  # not checked yet: fewer than 10 steps
    with pytest.raises(NonFiniteError, match="training stopped at step 3: the loss is nan"):
        learner.save()
    assert not (tmp_path / "c.safetensors").exists()


def test_sl_resume_without_its_checkpoint_is_an_error(tmp_path: Path) -> None:
    from selfplay.train_sl import TrainError

    records = Records.from_games([random_game(s) for s in range(3)], 9)
    out = tmp_path / "run"
    o = tiny(out, epochs=1, holdout_fraction=0.0)
    train(load_config(None, o), records=records)
    (out / "checkpoint.safetensors").unlink()
    before = (out / "weights.safetensors").read_bytes()
    with pytest.raises(TrainError, match="records checkpoints but .*checkpoint.safetensors is missing"):
        train(load_config(None, o), resume=True, records=records)
    assert (out / "weights.safetensors").read_bytes() == before  # nothing was retrained from scratch
