"""`tengen train` refuses bad recipes, unusable run directories and weights for another board
with one clear sentence and exit status 2; every shipped recipe loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.nets import NetConfig, build_net
from engine.weights import save_weights
from selfplay.recipe import AlphaGoRecipe, RecipeError, ZeroRecipe, load_recipe, parse_recipe
from tengen_cli.main import main

ROOT = Path(__file__).resolve().parents[1]
ZERO_TINY = ROOT / "configs" / "zero_tiny.yaml"


@pytest.mark.parametrize(
    "name", ["zero_tiny", "zero_9x9_cpu", "zero_19x19_gpu", "alphago_tiny", "alphago_9x9_cpu"]
)
def test_shipped_recipes_load(name: str) -> None:
    recipe, _ = load_recipe(ROOT / "configs" / f"{name}.yaml")
    assert isinstance(recipe, ZeroRecipe if name.startswith("zero") else AlphaGoRecipe)


def tiny(**changes: object) -> dict[str, object]:
    raw = yaml.safe_load(ZERO_TINY.read_text())
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        node = raw
        for p in parents:
            node = node.setdefault(p, {})
        node[key] = value
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iterationz": 3}, "unknown key 'iterationz'"),
        ({"selfplay__gamez": 3}, "unknown key 'selfplay.gamez'"),
        ({"train__optim__lr": "fast"}, "train.optim.lr must be a number"),
        ({"iterations": 0}, "iterations must be at least 1"),
        ({"selfplay__games_per_shard": -1}, "selfplay.games_per_shard must be at least 1"),
        ({"selfplay__search__visitz": 3}, "unknown key 'visitz'"),
        ({"selfplay__search__visits": 0}, "visits must be at least 1"),
        ({"net__architecture": "policy"}, "net.architecture must be policy_value"),
        ({"net__blocks": -1}, "blocks must be >= 0"),
        ({"gating__games": 7}, "gating.games must be an even number"),
        ({"device": "tpu"}, "device must be auto, cpu, cuda"),
        ({"recipe": "muzero"}, "recipe: alphazero"),
    ],
)
def test_bad_recipes_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        parse_recipe(tiny(**changes))


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["train", *args, "--quiet"])
    return code, capsys.readouterr().err


def test_cli_errors_are_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(tiny(selfplay__gamez=3)))
    code, err = run_cli(["--config", str(bad), "--run-dir", str(tmp_path / "r")], capsys)
    assert code == 2 and "unknown key 'selfplay.gamez'" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1

    code, err = run_cli(["--config", str(tmp_path / "missing.yaml"), "--run-dir", str(tmp_path / "r")], capsys)
    assert code == 2 and "config file not found" in err

    (tmp_path / "broken.yaml").write_text("recipe: [alphazero\n")
    code, err = run_cli(["--config", str(tmp_path / "broken.yaml"), "--run-dir", str(tmp_path / "r")], capsys)
    assert code == 2 and "not valid YAML" in err

    # A run directory that is a file, or a non-empty folder that is not a run.
    (tmp_path / "afile").write_text("x")
    code, err = run_cli(["--config", str(ZERO_TINY), "--run-dir", str(tmp_path / "afile")], capsys)
    assert code == 2 and "not a folder" in err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    code, err = run_cli(["--config", str(ZERO_TINY), "--run-dir", str(tmp_path / "other")], capsys)
    assert code == 2 and "not a tengen run" in err

    # A run directory started with another recipe.
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump(tiny(iterations=1)))
    code, err = run_cli(["--config", str(ZERO_TINY), "--run-dir", str(run)], capsys)
    assert code == 2 and "different recipe" in err


def test_weights_for_another_board_size_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nine = tmp_path / "nine.safetensors"
    save_weights(nine, build_net(NetConfig("policy_value", 9, "raw", 1, 16, 3, 32)))
    recipe = tmp_path / "init.yaml"
    recipe.write_text(yaml.safe_dump(tiny(init_weights=str(nine))))
    code, err = run_cli(["--config", str(recipe), "--run-dir", str(tmp_path / "r")], capsys)
    assert code == 2
    assert "board_size is 9 in the file but 5 in the config" in err
