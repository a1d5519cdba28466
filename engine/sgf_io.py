"""SGF records through sgfmill: write a game we played, read a record into a rules Game.

Coordinates: sgfmill uses (row, col) with row 0 at the bottom; tengen's dense moves are
x + y * size with y = 0 at the top.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sgfmill import sgf, sgf_moves

from engine import _core

COLOR_NAMES = {1: "b", 2: "w"}


def _to_sgf_point(move: int, size: int) -> tuple[int, int] | None:
    if move == size * size:
        return None
    x, y = move % size, move // size
    return size - 1 - y, x


def _from_sgf_point(point: tuple[int, int] | None, size: int) -> int:
    if point is None:
        return size * size
    row, col = point
    return col + (size - 1 - row) * size


def result_string(score: float) -> str:
    """SGF RE value for a score (black minus white): B+3.5, W+0.5, 0 for a draw."""
    if score > 0:
        return f"B+{score:g}"
    if score < 0:
        return f"W+{-score:g}"
    return "0"


def game_to_sgf(
    game: _core.Game,
    setup: Sequence[tuple[int, int]] = (),
    black: str = "",
    white: str = "",
    result: str | None = None,
    handicap: int = 0,
) -> bytes:
    """The game's record as SGF bytes: size, komi, Chinese rules, setup stones, moves, result."""
    size = game.size
    record = sgf.Sgf_game(size=size)
    root = record.get_root()
    root.set("KM", float(game.komi))
    root.set("RU", "Chinese")
    root.set("AP", ("tengen", "0.1"))
    root.set("DT", _dt.date.today().isoformat())
    if black:
        root.set("PB", black)
    if white:
        root.set("PW", white)
    if handicap:
        root.set("HA", handicap)
    if setup:
        blacks = {_to_sgf_point(m, size) for c, m in setup if c == 1}
        whites = {_to_sgf_point(m, size) for c, m in setup if c == 2}
        root.set_setup_stones(blacks, whites)
    for color, move in game.moves():
        record.extend_main_sequence().set_move(COLOR_NAMES[color], _to_sgf_point(move, size))
    if result is None and game.is_over:
        result = result_string(game.final_score())
    if result:
        root.set("RE", result)
    return record.serialise()


@dataclass(frozen=True)
class LoadedGame:
    game: _core.Game
    setup: tuple[tuple[int, int], ...]
    handicap: int


def load_sgf(data: bytes, move_limit: int | None = None, superko: bool = True) -> LoadedGame:
    """Replays an SGF record with tengen's rules, up to move_limit moves (None: all).

    Raises ValueError with a clear message for broken SGF, sizes tengen cannot play and
    illegal moves (naming the move number)."""
    try:
        record = sgf.Sgf_game.from_bytes(data)
    except ValueError as exc:
        raise ValueError(f"broken SGF: {exc}") from exc
    size = record.get_size()
    if not _core.MIN_SIZE <= size <= _core.MAX_SIZE:
        raise ValueError(f"the record's board size {size} is outside {_core.MIN_SIZE}..{_core.MAX_SIZE}")
    try:
        komi = float(record.get_komi())
    except ValueError:
        komi = 7.5
    if komi != komi or abs(komi) > 1000:
        raise ValueError("the record's komi is not a usable number")
    try:
        board, plays = sgf_moves.get_setup_and_moves(record)
    except ValueError as exc:
        raise ValueError(f"bad SGF setup or moves: {exc}") from exc
    game = _core.Game(size, komi, superko=superko)
    setup: list[tuple[int, int]] = []
    for color, point in board.list_occupied_points():
        c = 1 if color == "b" else 2
        move = _from_sgf_point(point, size)
        if not game.place_setup_stone(c, move):
            raise ValueError("the record's setup stones are not a legal position")
        setup.append((c, move))
    root = record.get_root()
    try:
        handicap = int(root.get("HA")) if root.has_property("HA") else 0
    except ValueError:
        handicap = 0
    if plays and setup:
        game.to_move = 1 if plays[0][0] == "b" else 2
    elif setup and handicap:
        game.to_move = 2
    for number, (color, point) in enumerate(plays, start=1):
        if move_limit is not None and number > move_limit:
            break
        c = 1 if color == "b" else 2
        move = _from_sgf_point(point, size)
        why = game.illegal_reason(c, move)
        if why is not None:
            raise ValueError(f"move {number} ({color.upper()} {point}) is illegal: {why}")
        game.play(c, move)
    return LoadedGame(game, tuple(setup), handicap)


def write_atomically(path: str | Path, data: bytes) -> None:
    """Writes data to a temporary file beside path, then renames it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
