"""The run directory of `tengen train`: its layout, the recipe copy and the resumable state file.

    runs/<name>/
      config.yaml             the recipe as given (a different recipe on restart is an error)
      state.json              finished stages with their results (JSON, written temp-then-rename)
      games/<stage>/pending/  finished games not yet in a shard, one .npz each
      games/<stage>/shards/   training shards (selfplay/selfplay_shards.py), written temp-then-rename
      games/<stage>/sgf/      one SGF per finished game
      checkpoints/            learner checkpoints: network + optimizer + trainer state (safetensors)
      weights/                one weights file per stage result (safetensors with NetConfig metadata)
      eval/                   one JSON file per evaluation match (and its games as SGF)
      tensorboard/            TensorBoard scalars
      corpus/, sl/            AlphaGo recipe: expert SGF + shards, and the supervised run folder

A stage is named by a string ("sl", "rl", "iter_0003/selfplay", ...). `State.mark_done` records a
stage with a small JSON result; a restarted command skips every stage it finds done and resumes
the unfinished one from its own durable files (shards, checkpoints). Every file a crash must not
damage is written to a temporary name in the same folder and renamed over the target.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

STATE_FORMAT = "tengen-run-1"


class RunDirError(ValueError):
    """The run directory cannot be used (not writable, made by another recipe, damaged state)."""


def atomic_write_text(path: Path, text: str) -> None:
    """Writes `text` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunDir:
    """Paths inside one run directory, and its state file."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- layout -------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def weights(self) -> Path:
        return self.root / "weights"

    @property
    def eval(self) -> Path:
        return self.root / "eval"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    def games(self, stage: str) -> Path:
        """Folder of one stage's games (pending/, shards/, sgf/ under it)."""
        return self.root / "games" / stage

    # -- opening --------------------------------------------------------------------------

    def open(self, recipe_text: str) -> State:
        """Creates the run directory, or reopens it when it holds the same recipe.

        Raises RunDirError when the folder exists but is not a run directory of this recipe,
        or cannot be written."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise RunDirError(f"run directory {root} exists and is not a folder")
        if root.is_dir() and any(root.iterdir()) and not self.config_path.exists():
            raise RunDirError(
                f"run directory {root} is not empty and holds no config.yaml: not a tengen run; "
                "choose a new --run-dir"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise RunDirError(f"run directory {root} cannot be written ({exc.strerror or exc})") from exc
        if self.config_path.exists():
            old = self.config_path.read_text(encoding="utf-8")
            if _normalise(old) != _normalise(recipe_text):
                raise RunDirError(
                    f"{root} was started with a different recipe (see {self.config_path}); "
                    "rerun with that config or choose a new --run-dir"
                )
        else:
            atomic_write_text(self.config_path, recipe_text)
        for sub in (self.checkpoints, self.weights, self.eval, self.tensorboard):
            sub.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(root)
        return State.load(self.state_path)

    def reset_stage_folder(self, path: Path) -> None:
        """Removes a folder whose content a stage rebuilds from scratch."""
        if path.exists():
            shutil.rmtree(path)


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _remove_stale_temporaries(root: Path) -> None:
    """A crash can leave `*.tmp` files behind; they were never renamed, so they hold nothing."""
    for tmp in root.rglob("*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)


class State:
    """Finished stages and their results, saved to state.json after every change."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @classmethod
    def load(cls, path: Path) -> State:
        if not path.exists():
            return cls(path, {"format": STATE_FORMAT, "stages": {}, "order": []})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{path} is damaged ({exc}); the run cannot resume") from exc
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT or "stages" not in data:
            raise RunDirError(f"{path} is not a tengen run state file")
        data.setdefault("order", list(data["stages"]))
        return cls(path, data)

    def is_done(self, stage: str) -> bool:
        return stage in self.data["stages"]

    def result(self, stage: str) -> dict[str, Any]:
        return dict(self.data["stages"][stage])

    def mark_done(self, stage: str, result: dict[str, Any] | None = None) -> None:
        entry = {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"), **(result or {})}
        self.data["stages"][stage] = entry
        if stage not in self.data["order"]:
            self.data["order"].append(stage)
        self.save()

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.save()

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=2, sort_keys=False) + "\n")

    @property
    def stages(self) -> list[str]:
        return list(self.data["order"])
