"""The run directory of `tengen train`: its layout, the recipe copy and the resumable state file.

    runs/<name>/
      .lock                   the pid of the process running the recipe; flock-ed while it runs, so a
                              second process on the same run directory is refused
      config.yaml             the recipe as given (a different recipe on restart is an error, unless
                              the first start failed before producing anything)
      state.json              finished stages with their results, and the learner checkpoints saved
                              so far (a recorded checkpoint missing on resume is an error)
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
damage is written atomically (engine.atomic_io: a temporary name in the same folder, fsync, rename).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from engine.atomic_io import atomic_write_text
from engine.errors import TengenError

STATE_FORMAT = "tengen-run-1"
LOCK_NAME = ".lock"  # holds the pid of the process running the recipe (fcntl.flock while it runs)

# Run directories this process has locked: resolved root -> the lock file's descriptor. A lock
# is per process, so reopening a run in the same process (a test, a resumed stage) reuses it.
_HELD: dict[Path, int] = {}


class RunDirError(TengenError, ValueError):
    """The run directory cannot be used (not writable, made by another recipe, damaged state)."""


class RunDir:
    """Paths inside one run directory, and its state file."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.state: State | None = None  # set by open()

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
        """Creates the run directory, or reopens it when it holds the same recipe, and locks it
        for this process's lifetime (or until `close`).

        A run that never finished a stage and holds nothing but its own bookkeeping (a first start
        that failed, e.g. on init weights for another board) takes the new recipe. Raises
        RunDirError when the folder exists but is not a run directory of this recipe, is in use by
        another process, or cannot be written."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise RunDirError(f"run directory {root} exists and is not a folder")
        if root.is_dir() and not self.config_path.exists() and any(p.name != LOCK_NAME for p in root.iterdir()):
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
        _lock(root)
        if self.config_path.exists():
            old = self.config_path.read_text(encoding="utf-8", errors="replace")
            if _normalise(old) != _normalise(recipe_text):
                if not self._untouched():
                    raise RunDirError(
                        f"{root} was started with a different recipe (see {self.config_path}); "
                        "rerun with that config or choose a new --run-dir"
                    )
                atomic_write_text(self.config_path, recipe_text)
        else:
            atomic_write_text(self.config_path, recipe_text)
        for sub in (self.checkpoints, self.weights, self.eval, self.tensorboard):
            sub.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(root)
        state = State.load(self.state_path)
        if not self.state_path.exists():
            state.save()  # marks the folder as made by open(), for _untouched
        self.state = state
        return state

    # -- learner checkpoints ----------------------------------------------------------------

    def learner_checkpoint(self, name: str) -> Path:
        """checkpoints/<name>.safetensors, for a learner that resumes from it. RunDirError when
        state.json records that it was saved (`checkpoint_saved`) but the file is gone: resuming
        would silently start that learner from scratch."""
        path = self.checkpoints / f"{name}.safetensors"
        saved = self.state.get("checkpoints", {}) if self.state is not None else {}
        if name in saved and not path.exists():
            raise RunDirError(
                f"{path} is missing but state.json records it as saved: the run cannot resume "
                "(restore the file, or choose a new --run-dir)"
            )
        return path

    def checkpoint_saved(self, name: str) -> None:
        """Records in state.json that the learner checkpoint `name` exists (once per name)."""
        if self.state is None:
            return
        saved = dict(self.state.get("checkpoints", {}))
        if name not in saved:
            saved[name] = str(self.learner_checkpoint(name).relative_to(self.root))
            self.state.set("checkpoints", saved)

    def close(self) -> None:
        """Releases this process's lock on the run directory (also released when the process ends)."""
        _unlock(self.root)

    def _untouched(self) -> bool:
        """A state.json with no finished stage and no file beyond config.yaml, state.json and the
        lock: a first start that failed before producing anything."""
        if not self.state_path.exists() or State.load(self.state_path).stages:
            return False  # a config.yaml that open() did not write, or a run with progress
        own = {self.config_path, self.state_path, self.root / LOCK_NAME}
        return not any(p.is_file() and p not in own for p in self.root.rglob("*"))

    def reset_stage_folder(self, path: Path) -> None:
        """Removes a folder whose content a stage rebuilds from scratch."""
        if path.exists():
            shutil.rmtree(path)


def _lock(root: Path) -> None:
    """Takes the run directory's lock (fcntl.flock on <root>/.lock, holding this process's pid),
    once per process; RunDirError naming the holder when another process has it."""
    key = root.resolve()
    if key in _HELD:
        return
    path = root / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunDirError(f"run directory {root} cannot be locked ({exc.strerror or exc})") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        who = f"process {holder}" if holder.isdigit() else "another process"
        raise RunDirError(
            f"run directory {root} is in use by {who}; wait for it to finish or choose another --run-dir"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    _HELD[key] = fd


def _unlock(root: Path) -> None:
    fd = _HELD.pop(root.resolve(), None)
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the flock


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
