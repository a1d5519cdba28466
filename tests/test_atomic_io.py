"""engine.atomic_io: a failed write leaves the old file intact (weights and shards included), no
temporary file is left behind, temporary names are unique, and concurrent writers of one target
never mix their data."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from engine.atomic_io import atomic_path, atomic_write_bytes, atomic_write_text, temp_path_for


def test_writes_replace_the_file_and_leave_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "g.sgf"
    atomic_write_bytes(target, b"(;SZ[9])")
    atomic_write_bytes(target, b"(;SZ[5])")
    assert target.read_bytes() == b"(;SZ[5])"
    atomic_write_text(target, "h\u00e9\n")
    assert target.read_bytes() == "h\u00e9\n".encode()
    assert [p.name for p in target.parent.iterdir()] == ["g.sgf"]


def test_a_failure_inside_the_block_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half of the new cont")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_writer_that_never_creates_the_file_keeps_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "w.safetensors"
    target.write_bytes(b"old")
    with pytest.raises(FileNotFoundError), atomic_path(target):
        pass  # the library failed before writing anything
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_a_failed_rename_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "folder"
    (target / "inside").mkdir(parents=True)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"data")  # cannot replace a non-empty folder
    assert target.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_temporary_names_are_unique_hidden_and_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "shard_00001.npz"
    names = {temp_path_for(target) for _ in range(100)}
    assert len(names) == 100
    for name in names:
        assert name.parent == tmp_path and name.name.startswith(".shard_00001.npz.") and name.suffix == ".tmp"
    with atomic_path(target) as a, atomic_path(target) as b:
        assert a != b
        a.write_bytes(b"a")
        b.write_bytes(b"b")
    assert target.read_bytes() == b"a"  # the outer block renamed last


def test_threads_writing_one_target_never_mix_their_data(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    payloads = [bytes([65 + i]) * 200_000 for i in range(8)]
    errors: list[BaseException] = []

    def write(data: bytes) -> None:
        try:
            for _ in range(5):
                atomic_write_bytes(target, data)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert target.read_bytes() in payloads
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_numpy_writes_through_an_open_file(tmp_path: Path) -> None:
    target = tmp_path / "game.npz"
    with atomic_path(target) as tmp, open(tmp, "xb") as f:
        np.savez_compressed(f, moves=np.arange(5))
    with np.load(target) as z:
        assert z["moves"].tolist() == [0, 1, 2, 3, 4]
    assert [p.name for p in tmp_path.iterdir()] == ["game.npz"]


def test_a_failed_weights_save_keeps_the_old_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import weights
    from engine.nets import NetConfig, build_net

    path = tmp_path / "net.safetensors"
    net = build_net(NetConfig(blocks=0, channels=4))
    weights.save_weights(path, net)
    before = path.read_bytes()

    def torn_save(tensors: object, filename: str, metadata: object = None) -> None:
        Path(filename).write_bytes(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(weights, "save_file", torn_save)
    with pytest.raises(OSError, match="No space"):
        weights.save_weights(path, net)
    assert path.read_bytes() == before
    assert weights.read_config(path) == net.config
    assert [p.name for p in tmp_path.iterdir()] == ["net.safetensors"]


def test_a_shard_save_that_fails_midway_keeps_the_old_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selfplay.records import GameRecord, Records

    path = tmp_path / "shard-00000.npz"
    records = Records.from_games([GameRecord(5, ((1, 12), (2, 13)), (), 0.5, 1, "g")], 5)
    records.save(path)
    before = path.read_bytes()

    def torn_savez(file: object, **arrays: object) -> None:
        assert hasattr(file, "write")
        file.write(b"PK\x03\x04 torn")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", torn_savez)
    with pytest.raises(KeyboardInterrupt):
        records.save(path)
    assert path.read_bytes() == before
    assert Records.load(path).moves.tolist() == [12, 13]
    assert [p.name for p in tmp_path.iterdir()] == ["shard-00000.npz"]
