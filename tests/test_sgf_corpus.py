"""SGF folder -> shards: good games convert (any size, nested folders), broken or illegal records
are skipped with a one-line reason each and counted; plus the GnuGo expert corpus generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sgfmill import sgf

from engine import _core as core
from selfplay.records import CorpusError, Records, load_corpus
from selfplay.sgf_corpus import ConvertConfig, convert, parse_sgf
from tengen_cli.main import main


def random_moves(size: int, count: int, seed: int) -> list[tuple[int, int]]:
    g = core.Game(size)
    out = []
    for k in range(count):
        c = g.to_move
        m = g.random_move(c, seed * 7919 + k)
        g.play(c, m)
        out.append((c, m))
    return out


def write_sgf(
    path: Path,
    size: int,
    moves: list[tuple[int, int]],
    result: str = "B+R",
    setup: dict[str, list[int]] | None = None,
) -> None:
    game = sgf.Sgf_game(size=size)
    root = game.get_root()
    root.set("RE", result)
    root.set("KM", 6.5)
    if setup:
        for prop, pts in setup.items():
            root.set(prop, {(size - 1 - m // size, m % size) for m in pts})
    for colour, move in moves:
        node = game.extend_main_sequence()
        node.set_move(
            "b" if colour == core.BLACK else "w",
            None if move == size * size else (size - 1 - move // size, move % size),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(game.serialise())


@pytest.fixture
def sgf_folder(tmp_path: Path) -> Path:
    src = tmp_path / "sgf"
    for i in range(5):
        write_sgf(src / "a" / f"g{i}.sgf", 9, random_moves(9, 30 + i, i), "B+3.5" if i % 2 else "W+R")
    write_sgf(src / "a" / "deep" / "er" / "small.SGF", 7, random_moves(7, 12, 99), "0")
    write_sgf(src / "hcp.sgf", 9, [(core.WHITE, 40), (core.BLACK, 41)], "W+2", setup={"AB": [20, 60]})
    (src / "broken.sgf").write_bytes(b"(;SZ[9];B[ee];W[")
    (src / "empty.sgf").write_bytes(b"(;SZ[9]KM[7])")
    (src / "occupied.sgf").write_bytes(b"(;SZ[9];B[ee];W[dd];B[ee])")
    (src / "suicide.sgf").write_bytes(b"(;SZ[9]AB[ba][ab];W[aa])")
    (src / "notes.txt").write_text("not an sgf")
    return src


def test_convert_skips_bad_records_with_reasons(
    sgf_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shards"
    report = convert(ConvertConfig(sgf_folder, out, games_per_shard=2), progress=False)
    assert report.files == 11 and report.games == 7 and report.num_skipped == 4
    assert report.skipped == {"not valid SGF": 1, "no moves": 1, "illegal move": 2}
    assert report.sizes == {9: 6, 7: 1}
    lines = (out / "skipped.txt").read_text().splitlines()
    assert len(lines) == 4
    assert "skipped occupied.sgf: illegal move 3 (B E5): occupied" in lines
    assert "skipped suicide.sgf: illegal move 1 (W A9): suicide" in lines
    assert any(line.startswith("skipped broken.sgf: not valid SGF") for line in lines)
    assert "skipped empty.sgf: no moves" in lines
    assert sorted(p.name for p in (out / "9x9").iterdir()) == [
        "shard-00000.npz",
        "shard-00001.npz",
        "shard-00002.npz",
    ]
    assert not list(out.rglob("*.tmp"))
    assert "converted 7 games" in report.summary() and "skipped 4" in report.summary()

    rec = load_corpus([out], 9)
    assert rec.num_games == 6
    first = rec.subset([int(np.flatnonzero(rec.source == "a/g0.sgf")[0])])
    replayed = [(int(c), int(m)) for c, m in zip(first.colors, first.moves, strict=True)]
    assert replayed == random_moves(9, 30, 0)
    assert first.winner[0] == -1 and first.komi[0] == 6.5
    hcp = rec.subset([int(np.flatnonzero(rec.source == "hcp.sgf")[0])])
    assert sorted(hcp.setup_moves.tolist()) == [20, 60] and hcp.colors.tolist() == [2, 1]
    small = load_corpus([out], 7)
    assert small.num_games == 1 and small.winner[0] == 0
    with pytest.raises(CorpusError, match="hold no 13x13 games"):
        load_corpus([out], 13)


def test_converted_positions_replay(sgf_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "shards"
    convert(ConvertConfig(sgf_folder, out, board_size=9), progress=False)
    rec = load_corpus([out], 9)
    games, moves = rec.positions()
    assert len(games) == rec.num_moves
    planes = np.zeros((len(games), 48, 9, 9), np.uint8)
    targets = np.zeros(len(games), np.int64)
    assert rec.write_features(games, moves, planes, "alphago", targets=targets) == 0
    assert np.array_equal(targets, rec.moves.astype(np.int64))
    # Handicap game: white moves first and the two setup stones are on the board.
    h = int(np.flatnonzero(rec.source == "hcp.sgf")[0])
    k = int(np.flatnonzero(games == h)[0])
    assert planes[k, 1].sum() == 2  # white to move: the black setup stones are "opponent"
    outcome = rec.outcome_for_mover(games[k : k + 2], moves[k : k + 2])
    assert outcome.tolist() == [1.0, -1.0]  # W+2: white (to move first) won


def test_parse_errors_are_one_line() -> None:
    from engine.sgf import SgfError

    for data in (b"", b"(;SZ[9];B[zz])", b"(;SZ[30];B[aa])", b"(;SZ[9];B[aa];B[aa])"):
        with pytest.raises(SgfError) as info:
            parse_sgf(data)
        assert "\n" not in str(info.value)


def test_convert_command(sgf_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(sgf_folder), str(tmp_path / "o"), "--size", "9"]) == 0
    out = capsys.readouterr()
    assert "converted 6 games" in out.out and "skipped 5" in out.out
    assert "skipped a/deep/er/small.SGF: board size 7, not 9" in out.err
    assert main(["convert", str(tmp_path / "missing"), str(tmp_path / "o2")]) == 2
    assert "no such SGF file or folder" in capsys.readouterr().err


def test_records_subset_and_concat_round_trip(sgf_folder: Path, tmp_path: Path) -> None:
    convert(ConvertConfig(sgf_folder, tmp_path / "s", games_per_shard=1, board_size=9), progress=False)
    rec = load_corpus([tmp_path / "s"], 9)
    parts = [rec.subset([i]) for i in range(rec.num_games)]
    again = Records.concat(parts)
    for key in ("game_offsets", "moves", "colors", "setup_offsets", "setup_moves", "winner", "source"):
        assert np.array_equal(getattr(again, key), getattr(rec, key)), key


@pytest.mark.gnugo
def test_expert_corpus_with_gnugo(tmp_path: Path) -> None:
    from selfplay.expert_corpus import ExpertCorpusConfig, generate

    config = ExpertCorpusConfig(
        out_dir=tmp_path / "games",
        games=3,
        board_size=5,
        komi=0.5,
        level=1,
        workers=2,
        opening_moves_min=1,
        opening_moves_max=3,
        opening_margin=1,
    )
    results = generate(config, progress=False)
    assert len(results) == 3 and all(not r.skipped for r in results)
    records = [parse_sgf(r.path.read_bytes()) for r in results]
    assert all(rec.board_size == 5 and rec.moves for rec in records)
    assert len({rec.moves[:3] for rec in records}) > 1  # varied openings
    assert all(r.result[:2] in ("B+", "W+") or r.result == "0" for r in results)
    again = generate(config, progress=False)  # files exist: nothing replayed
    assert all(r.skipped for r in again)


def test_expert_corpus_cache_ships_the_same_games(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A game is a pure function of its settings and index, so a packed archive restores exactly the
    files that playing would write; games beyond the archive are played; a broken archive only warns."""
    from selfplay.expert_corpus import ExpertCorpusConfig, cache_path, generate, pack_cache

    def config(folder: str, games: int) -> ExpertCorpusConfig:
        return ExpertCorpusConfig(out_dir=tmp_path / folder, games=games, board_size=5, komi=0.5, level=1,
                                  opening_moves_min=1, opening_moves_max=3, opening_margin=1, seed=7)  # fmt: skip

    played = generate(config("played", 3), progress=False)
    cache = tmp_path / "cache"
    archive, count = pack_cache(config("played", 3), cache)
    assert count == 3 and archive == cache_path(config("x", 1), cache) and "level1-5x5" in archive.name
    again = generate(config("replayed", 3), progress=False)  # no cache: played again, same bytes
    assert [r.path.read_bytes() for r in again] == [r.path.read_bytes() for r in played]
    restored = generate(config("restored", 4), progress=False, cache=cache)
    assert [r.skipped for r in restored] == [True, True, True, False]  # three from the archive, one played
    assert [r.path.read_bytes() for r in restored[:3]] == [r.path.read_bytes() for r in played]
    other = ExpertCorpusConfig(out_dir=tmp_path / "other", games=1, board_size=5, komi=0.5, level=2,
                               opening_moves_min=1, opening_moves_max=3, opening_margin=1, seed=7)  # fmt: skip
    assert not generate(other, progress=False, cache=cache)[0].skipped  # other settings: not from the archive
    archive.write_bytes(b"not an archive")
    broken = generate(config("broken", 1), progress=False, cache=cache)
    assert not broken[0].skipped and broken[0].path.read_bytes() == played[0].path.read_bytes()
    assert "could not be read" in capsys.readouterr().err
