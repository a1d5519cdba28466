"""SGF records through sgfmill: write a game we played, read a record into a rules Game.

Coordinates: sgfmill uses (row, col) with row 0 at the bottom; tengen's dense moves are
x + y * size with y = 0 at the top.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sgfmill import sgf

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
        if not game.moves() and game.to_move == 2:
            root.set("PL", "w")
    for color, move in game.moves():
        record.extend_main_sequence().set_move(COLOR_NAMES[color], _to_sgf_point(move, size))
    if result is None and game.is_over:
        result = result_string(game.final_score())
    if result:
        root.set("RE", result)
    return record.serialise()


@dataclass(frozen=True)
class LoadedGame:
    """A replayed record: the rules Game, its setup stones (colour, dense point) and HA."""

    game: _core.Game
    setup: tuple[tuple[int, int], ...]
    handicap: int


def _point(node: sgf.Tree_node, prop: str, size: int, where: str) -> list[tuple[int, int] | None]:
    """The points of a B/W/AB/AW property, with a clear error for coordinates off the board."""
    try:
        if prop in ("B", "W"):
            return [node.get(prop)]
        return list(node.get(prop))
    except ValueError as exc:
        raw = b" ".join(node.get_raw_list(prop)).decode("latin-1")
        raise ValueError(f"{where}: bad coordinates {prop}[{raw}] for a {size}x{size} board") from exc


def load_sgf(data: bytes, move_limit: int | None = None, superko: bool = True) -> LoadedGame:
    """Replays an SGF record's main line with tengen's rules, up to move_limit moves (None: all).

    Raises ValueError saying what is wrong for broken SGF (truncated, not Go, bad size, komi
    or coordinates), sizes tengen cannot play, setup stones that are not a legal position and
    illegal moves (naming the move number)."""
    try:
        record = sgf.Sgf_game.from_bytes(data)
    except ValueError as exc:
        raise ValueError(f"broken SGF: {exc}") from exc
    root = record.get_root()
    if root.has_property("GM") and root.get_raw("GM").strip() != b"1":
        raise ValueError(f"not a Go record (GM[{root.get_raw('GM').decode('latin-1')}])")
    size = record.get_size()
    if not _core.MIN_SIZE <= size <= _core.MAX_SIZE:
        raise ValueError(f"the record's board size {size} is outside {_core.MIN_SIZE}..{_core.MAX_SIZE}")
    try:
        komi = float(record.get_komi())
    except ValueError as exc:
        raise ValueError(f"bad komi KM[{root.get_raw('KM').decode('latin-1')}]") from exc
    if not math.isfinite(komi) or abs(komi) > 1000:
        raise ValueError("the record's komi is not a usable number")
    try:
        handicap = int(root.get("HA")) if root.has_property("HA") else 0
    except ValueError as exc:
        raise ValueError(f"bad handicap HA[{root.get_raw('HA').decode('latin-1')}]") from exc
    game = _core.Game(size, komi, superko=superko)
    setup: list[tuple[int, int]] = []
    number = 0  # moves replayed so far
    first_mover = None
    for node in record.get_main_sequence():
        where = f"after move {number}" if number else "setup"
        if node.has_property("AE") or ((node.has_property("AB") or node.has_property("AW")) and number):
            raise ValueError(f"{where}: setup stones (AB/AW/AE) are only supported before the first move")
        for prop, color in (("AB", 1), ("AW", 2)):
            if node.has_property(prop):
                for point in _point(node, prop, size, where):
                    move = _from_sgf_point(point, size)
                    if not game.place_setup_stone(color, move):
                        at = f"{prop}[{_sgf_coord(point, size)}]"
                        raise ValueError(f"the record's setup stones are not a legal position (at {at})")
                    setup.append((color, move))
        if node.has_property("PL") and number == 0:
            turn = node.get_raw("PL").strip().upper()
            if turn not in (b"B", b"W"):
                raise ValueError(f"bad PL[{turn.decode('latin-1')}]: must be B or W")
            first_mover = 1 if turn == b"B" else 2
        has_b, has_w = node.has_property("B"), node.has_property("W")
        if not (has_b or has_w):
            continue
        if has_b and has_w:
            raise ValueError(f"move {number + 1}: one node holds both a black and a white move")
        prop = "B" if has_b else "W"
        color = 1 if has_b else 2
        if move_limit is not None and number >= move_limit:
            game.to_move = color  # the position before this move, with its player to move
            return LoadedGame(game, tuple(setup), handicap)
        number += 1
        (point,) = _point(node, prop, size, f"move {number}")
        move = _from_sgf_point(point, size)
        if number == 1 and setup:
            game.to_move = color
        why = game.illegal_reason(color, move)
        if why is not None:
            raise ValueError(f"move {number} ({prop}[{_sgf_coord(point, size)}]) is illegal: {why}")
        game.play(color, move)
    if number == 0 and (first_mover is not None or (setup and handicap)):
        game.to_move = first_mover if first_mover is not None else 2
    return LoadedGame(game, tuple(setup), handicap)


def _sgf_coord(point: tuple[int, int] | None, size: int) -> str:
    """SGF letters of an sgfmill (row, col) point, row 0 at the bottom; '' for pass."""
    if point is None:
        return ""
    row, col = point
    return chr(ord("a") + col) + chr(ord("a") + size - 1 - row)


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
