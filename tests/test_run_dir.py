"""Run directories under bad input: a failed first start leaves the folder usable, a run in use
by another process is refused, and a resume whose checkpoint or shard is missing or damaged is
reported, never restarted from scratch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import yaml

from engine.errors import TengenError
from engine.nets import NetConfig, build_net
from engine.weights import WeightsError, save_weights
from selfplay.recipe import ZeroRecipe, load_recipe, parse_recipe
from selfplay.records import CorpusError
from selfplay.run_dir import RunDir, RunDirError
from selfplay.zero import learn, load_window
from tengen_cli.main import main

ROOT = Path(__file__).resolve().parents[1]
ZERO_TINY = ROOT / "configs" / "zero_tiny.yaml"
TEXT = "recipe: alphazero\niterations: 1\n"


def test_a_failed_first_start_takes_the_corrected_recipe(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "r")
    run.open(TEXT)  # ... and the run fails before producing anything
    state = RunDir(tmp_path / "r").open("recipe: alphazero\niterations: 2\n")
    assert state.stages == []
    assert "iterations: 2" in run.config_path.read_text()


def test_a_run_with_progress_keeps_its_recipe(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "r")
    run.open(TEXT).mark_done("init", {})
    with pytest.raises(RunDirError, match="different recipe"):
        RunDir(tmp_path / "r").open("recipe: alphazero\niterations: 2\n")
    # Files on disk are progress too, even before a stage is marked done.
    other = RunDir(tmp_path / "o")
    other.open(TEXT)
    (other.games("iter_0001") / "pending").mkdir(parents=True)
    (other.games("iter_0001") / "pending" / "game_0000.npz").write_bytes(b"x")
    with pytest.raises(RunDirError, match="different recipe"):
        RunDir(tmp_path / "o").open("recipe: alphazero\niterations: 2\n")
    assert other.config_path.read_text() == TEXT


def test_cli_rerun_after_init_weights_for_another_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nine = tmp_path / "nine.safetensors"
    save_weights(nine, build_net(NetConfig("policy_value", 9, "raw", 1, 16, 3, 32)))
    raw = yaml.safe_load(ZERO_TINY.read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**raw, "init_weights": str(nine)}))
    run = tmp_path / "run"
    assert main(["train", "--config", str(bad), "--run-dir", str(run), "--quiet"]) == 2
    assert "board_size is 9 in the file" in capsys.readouterr().err
    # The corrected recipe is accepted in the same folder (opened here; training it is another test's job).
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(raw))
    _, text = load_recipe(good)
    assert RunDir(run).open(text).stages == []


def test_a_run_directory_in_use_by_another_process_is_refused(tmp_path: Path) -> None:
    holder = textwrap.dedent(
        f"""
        import sys
        from selfplay.run_dir import RunDir
        RunDir({str(tmp_path / "r")!r}).open({TEXT!r})
        print("locked", flush=True)
        sys.stdin.readline()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(RunDirError, match=f"in use by process {proc.pid}"):
            RunDir(tmp_path / "r").open(TEXT)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)
    # Once that process has ended, the folder is free again.
    state = RunDir(tmp_path / "r").open(TEXT)
    assert state.stages == []
    RunDir(tmp_path / "r").close()


def tiny_recipe() -> ZeroRecipe:
    recipe = parse_recipe(yaml.safe_load(ZERO_TINY.read_text()))
    assert isinstance(recipe, ZeroRecipe)
    return recipe


def test_resume_without_the_learner_checkpoint_is_an_error(tmp_path: Path) -> None:
    recipe = tiny_recipe()
    run = RunDir(tmp_path / "r")
    state = run.open(ZERO_TINY.read_text())
    state.mark_done("init", {})  # the init stage wrote checkpoints/learner.safetensors ... which is gone
    with pytest.raises(RunDirError, match="learner.safetensors is missing"):
        learn(recipe, run, 1, torch.device("cpu"), progress=False)
    assert not (run.checkpoints / "learner.safetensors").exists()  # nothing was started from scratch


def test_resume_with_a_damaged_checkpoint_is_an_error(tmp_path: Path) -> None:
    recipe = tiny_recipe()
    run = RunDir(tmp_path / "r")
    run.open(ZERO_TINY.read_text()).mark_done("init", {})
    damaged = run.checkpoints / "learner.safetensors"
    damaged.write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError, match="learner.safetensors"):
        learn(recipe, run, 1, torch.device("cpu"), progress=False)
    assert damaged.read_bytes() == b"\x00" * 64


def test_a_damaged_shard_is_reported(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "r")
    run.open(TEXT)
    shards = run.games("iter_0001") / "shards"
    shards.mkdir(parents=True)
    (shards / "shard_0000.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(CorpusError, match="shard_0000.npz"):
        load_window(run, 1, 10)
    assert isinstance(CorpusError("x"), TengenError)


def test_missing_shards_are_reported(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "r")
    run.open(TEXT)
    with pytest.raises(RunDirError, match="no self-play shards"):
        load_window(run, 1, 10)


def test_a_checkpoint_recorded_in_state_json_must_exist_on_resume(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "r")
    run.open(TEXT)
    assert run.learner_checkpoint("value") == run.checkpoints / "value.safetensors"  # a new learner: fine
    (run.checkpoints / "value.safetensors").write_bytes(b"checkpoint")
    run.checkpoint_saved("value")
    again = RunDir(tmp_path / "r")
    again.open(TEXT)
    assert again.learner_checkpoint("value").exists()
    (run.checkpoints / "value.safetensors").unlink()
    with pytest.raises(RunDirError, match="value.safetensors is missing but state.json records it"):
        again.learner_checkpoint("value")
