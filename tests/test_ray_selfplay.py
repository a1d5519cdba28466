"""Self-play on Ray (selfplay/ray_selfplay.py): the tiny recipe with `--ray local` and two workers
leaves the same run directory as without Ray; a worker killed mid-iteration and a driver stopped
mid-iteration lose no finished game; bad --ray values and a missing Ray are one-line errors.

Ray is required here (in the `dev` extra the README installs): without it this module fails."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

try:
    import ray
except ImportError as exc:  # fail loudly: these tests must not vanish when the extra is missing
    raise ImportError(f"tests/test_ray_selfplay.py needs Ray: pip install -e '.[dev]' ({exc})") from exc

from engine.nets import build_net
from engine.weights import save_weights
from selfplay.ray_selfplay import RayGames
from selfplay.recipe import ZeroRecipe, load_recipe
from selfplay.run_dir import RunDir
from selfplay.selfplay_shards import GameStore, SelfplayGame
from selfplay.zero import OnGame, produce_games
from tengen_cli.main import main
from tests.test_train_zero import ROOT, ZERO_TINY, check_zero_run


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray instance with two CPUs for the module; `--ray local` reuses it."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_zero_tiny_on_two_ray_workers(local_ray: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "zero"
    argv = ["train", "--config", str(ZERO_TINY), "--run-dir", str(run), "--ray", "local", "--ray-workers", "2",
            "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ray: 2 self-play workers" in out and "iter_0004 self-play" in out and "final evaluation" in out
    check_zero_run(run)
    assert ray.is_initialized()  # the CLI did not shut down a Ray instance it did not start


class Abort(Exception):
    pass


class Saboteur:
    """Wraps RayGames: SIGKILLs one actor after the first stored game, and stops the driver (an
    exception out of produce_games, as a killed driver) after `stop_after` games."""

    def __init__(self, games: RayGames, stop_after: int) -> None:
        self.games = games
        self.stop_after = stop_after
        self.killed: int | None = None
        self.stored = 0

    def play(self, recipe: ZeroRecipe, iteration: int, weights: Path, first: int, count: int, on_game: OnGame) -> None:
        def hook(game: SelfplayGame) -> None:
            on_game(game)
            self.stored += 1
            if self.killed is None:
                self.killed = self.games.worker_pids()[0]
                os.kill(self.killed, signal.SIGKILL)
            if self.stored == self.stop_after:
                raise Abort

        self.games.play(recipe, iteration, weights, first, count, hook)


def _dies(pid: int, timeout: float = 30.0) -> bool:
    """True once `pid` is gone or a zombie (killed, not yet reaped by its parent, Ray's raylet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def test_a_killed_worker_and_a_stopped_driver_lose_no_game(local_ray: None, tmp_path: Path) -> None:
    recipe, _ = load_recipe(ZERO_TINY)
    assert isinstance(recipe, ZeroRecipe)
    weights = tmp_path / "w.safetensors"
    save_weights(weights, build_net(recipe.net))
    run = RunDir(tmp_path / "run")
    games = RayGames.start("local", recipe, workers=2, chunk_games=4, log=lambda _: None)
    try:
        saboteur = Saboteur(games, stop_after=10)
        with pytest.raises(Abort):
            produce_games(recipe, run, 1, weights, torch.device("cpu"), progress=False, source=saboteur)
        assert saboteur.killed is not None
        assert _dies(saboteur.killed)
        assert GameStore(run.games("iter_0001"), "iter_0001", 4).num_games == 10
        # The driver again (a rerun of `tengen train`): the store resumes at game 10. The dead actor
        # was replaced once, in the first call or (when it had sent its chunks before it died) here.
        stats = produce_games(recipe, run, 1, weights, torch.device("cpu"), progress=False, source=games)
        assert games.restarts == 1
        assert saboteur.killed not in games.worker_pids()
    finally:
        games.close()
    n = recipe.selfplay.games_per_iteration
    assert stats.games == n and stats.new_games == n - 10
    folder = run.games("iter_0001")
    assert not list((folder / "pending").iterdir())
    shard = GameStore(folder, "iter_0001", 4).load_all()
    assert shard is not None and shard.game_id.tolist() == list(range(n))
    assert np.all(np.diff(shard.records.game_offsets) > 0)
    assert len(list((folder / "sgf").glob("game_*.sgf"))) == n
    assert not list(run.root.rglob("*.tmp"))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ray", "somewhere"], "--ray must be 'local'"),
        (["--ray", "host:99999"], "--ray must be 'local'"),
        (["--ray", "local", "--ray-workers", "0"], "--ray-workers must be at least 1"),
        (["--ray-workers", "2"], "need --ray"),
        (["--ray", "local", "--ray-chunk", "0"], "--ray-chunk must be at least 1"),
    ],
)
def test_bad_ray_flags_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    run = tmp_path / "run"
    assert main(["train", "--config", str(ZERO_TINY), "--run-dir", str(run), "--quiet", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not run.exists()


def test_more_workers_than_cpus_and_alphago_are_refused(
    local_ray: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["train", "--config", str(ZERO_TINY), "--run-dir", str(tmp_path / "run"), "--quiet", "--ray", "local"]
    assert main([*base, "--ray-workers", "3"]) == 2
    assert "more than the Ray cluster's 2 CPUs" in capsys.readouterr().err
    alphago = ["train", "--config", str(ROOT / "configs" / "alphago_tiny.yaml"), "--run-dir", str(tmp_path / "ag"),
               "--ray", "local"]
    assert main(alphago) == 2
    assert "AlphaZero" in capsys.readouterr().err


def test_missing_ray_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    run = tmp_path / "run"
    assert main(["train", "--config", str(ZERO_TINY), "--run-dir", str(run), "--ray", "local", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'tengen[ray]'" in err and err.count("\n") == 1
    assert not run.exists()
