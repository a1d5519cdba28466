"""Crash-safe file writes: a temporary file in the target's folder, fsync, rename, fsync the folder.

Every file that must survive a crash (checkpoints, weights, replay shards, run state, match
results, SGF records) goes through this module. A reader sees either the old file or the new
one, never a part of either: the data go to a temporary name beside the target (same file
system, so the rename is atomic), are flushed to disk, and only then replace the target. A
write that fails at any point removes its temporary file and leaves the old target untouched.

Temporary names are `.<target name>.<pid>.<counter>.tmp`: unique per process and per call (so
threads and processes writing the same target never share one), hidden, and ending in `.tmp`,
which is how selfplay/run_dir.py recognises what a killed process left behind.

Thread-safety: every function may be called from any thread; two concurrent writes of one
target both succeed and the last rename wins.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

TEMP_SUFFIX = ".tmp"
_counter = itertools.count()  # next() on a count is atomic under the GIL


def temp_path_for(path: Path) -> Path:
    """A fresh temporary name beside `path` (see the module docstring)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{next(_counter)}{TEMP_SUFFIX}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Makes the rename itself durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yields a temporary path beside `path` for a library that writes files itself
    (safetensors' save_file, torch.save, an open() handed to np.savez); on a clean exit the file
    written there is fsync'd and renamed over `path`, and the folder is fsync'd.

    The caller must create the file at the yielded path. On an exception the temporary file is
    removed and `path` keeps its old content. Give numpy an open file, not the name: np.savez
    appends ".npz" to names without it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replaces `path` with `data` atomically (creating missing parent folders)."""
    with atomic_path(path) as tmp, open(tmp, "xb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replaces `path` with `text` in UTF-8 atomically (creating missing parent folders)."""
    atomic_write_bytes(path, text.encode("utf-8"))
