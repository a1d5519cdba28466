"""SGF in one place, through sgfmill: result strings, writing a game record, reading one into a Game.

Result strings (SGF RE, and GTP `final_score` answers): "B+3.5" / "W+0.5" for a score (black
minus white), "0" for a draw, "B+R" / "W+T" / "W+F" for a win by resignation, time or forfeit,
"B+" for a win of unknown margin, "Void" for no result.

Writing: an `SgfRecord` (size, komi, players, result, moves, setup stones, handicap, ...) becomes
SGF bytes with `record_to_sgf`, or a file with `write_sgf` (atomically, engine.atomic_io);
`game_to_sgf` records a rules Game as played.

Reading: `load_sgf` replays a record's main line with tengen's rules into an `engine._core.Game`
and raises `SgfError` with a one-line reason for anything it cannot use; an illegal move raises
the subclass `SgfIllegalMove`, which carries the move so callers can word it their own way.

Coordinates: sgfmill uses (row, col) with row 0 at the bottom; tengen's dense moves are
x + y * size with y = 0 at the top, size * size being the pass.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from sgfmill import sgf

from engine import _core
from engine.atomic_io import atomic_write_bytes
from engine.errors import TengenError

COLOR_NAMES = {_core.BLACK: "b", _core.WHITE: "w"}
BY_RESIGNATION, BY_TIME, BY_FORFEIT = "R", "T", "F"  # RE suffixes of a win that was not counted
DRAW_WORDS = ("0", "DRAW", "JIGO")  # what engines answer final_score with for a draw
VOID = "Void"
APPLICATION = ("tengen", "0.1")


class SgfError(TengenError, ValueError):
    """A record that cannot be read or replayed; the message is the one-line reason."""


class SgfSyntaxError(SgfError):
    """The bytes are not SGF at all (truncated, garbage); `detail` is sgfmill's reason."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"broken SGF: {detail}")
        self.detail = detail


class SgfWrongSize(SgfError):
    """The record is for another board size than the one asked for."""


class SgfIllegalMove(SgfError):
    """Move `number` (1-based) of the record, `colour` at dense point `move`, breaks the rules: `why`."""

    def __init__(self, number: int, colour: int, move: int, size: int, why: str) -> None:
        prop = "B" if colour == _core.BLACK else "W"
        super().__init__(f"move {number} ({prop}[{sgf_letters(move, size)}]) is illegal: {why}")
        self.number, self.colour, self.move, self.size, self.why = number, colour, move, size, why


# ---------------------------------------------------------------------------------------------
# Coordinates


def to_sgf_point(move: int, size: int) -> tuple[int, int] | None:
    """sgfmill's (row, col) of a dense move, row 0 at the bottom; None for the pass."""
    if move == size * size:
        return None
    return size - 1 - move // size, move % size


def from_sgf_point(point: tuple[int, int] | None, size: int) -> int:
    """The dense move of an sgfmill point (None: pass)."""
    if point is None:
        return size * size
    row, col = point
    return col + (size - 1 - row) * size


def sgf_letters(move: int, size: int) -> str:
    """The SGF letters of a dense move ("ee"); "" for the pass."""
    if move == size * size:
        return ""
    return chr(ord("a") + move % size) + chr(ord("a") + move // size)


# ---------------------------------------------------------------------------------------------
# Result strings


def result_string(score: float) -> str:
    """RE of a counted game from its score (black minus white): B+3.5, W+0.5, 0 for a draw."""
    if score > 0:
        return f"B+{score:g}"
    if score < 0:
        return f"W+{-score:g}"
    return "0"


def win_string(winner: int, how: str = "") -> str:
    """RE of a win by `how` (BY_RESIGNATION, BY_TIME, BY_FORFEIT; "" for an unknown margin): "W+R", "B+"."""
    if winner not in (_core.BLACK, _core.WHITE):
        raise ValueError(f"winner must be BLACK or WHITE, not {winner}")
    return f"{'B' if winner == _core.BLACK else 'W'}+{how}"


def parse_score(text: str) -> float:
    """A counted result ("B+3.5", "W+2", "0", "Draw", "Jigo") as black minus white.

    Raises ValueError for anything else, wins without a count ("B+R") included."""
    t = text.strip().upper()
    if t in DRAW_WORDS:
        return 0.0
    side, plus, amount = t.partition("+")
    try:
        value = float(amount)
    except ValueError:
        value = math.nan
    if side not in ("B", "W") or not plus or not math.isfinite(value):
        raise ValueError(f"unreadable score {text!r}")
    return value if side == "B" else -value


def result_winner(text: str | None) -> int:
    """+1 when a result string says black won, -1 for white, 0 for a draw, void or unknown."""
    t = (text or "").strip().upper()
    if t.startswith("B+"):
        return 1
    if t.startswith("W+"):
        return -1
    return 0


# ---------------------------------------------------------------------------------------------
# Writing


def utc_date() -> str:
    """Today's date (UTC) as SGF DT wants it."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d")


@dataclass(frozen=True, kw_only=True)
class SgfRecord:
    """One game to write. `moves` and `setup` are (colour, dense point) pairs, size*size the pass.

    Empty strings and zeros leave their property out. `first_player` (a colour) writes PL when the
    record has no moves (e.g. a handicap position with white to move)."""

    size: int
    komi: float
    moves: Sequence[tuple[int, int]] = ()
    setup: Sequence[tuple[int, int]] = ()
    black: str = ""
    white: str = ""
    result: str = ""
    handicap: int = 0
    first_player: int = 0
    event: str = ""
    game_name: str = ""
    comment: str = ""
    date: str = ""
    application: tuple[str, str] = APPLICATION
    rules: str = "Chinese"  # area scoring; tengen adds positional superko


def record_to_sgf(record: SgfRecord) -> bytes:
    """The record as SGF bytes (FF[4], GM[1], the main line only)."""
    size = record.size
    game = sgf.Sgf_game(size=size)
    root = game.get_root()
    root.set("KM", float(record.komi))
    root.set("RU", record.rules)
    root.set("AP", record.application)
    for prop, value in (("DT", record.date), ("PB", record.black), ("PW", record.white),
                        ("EV", record.event), ("GN", record.game_name), ("RE", record.result),
                        ("C", record.comment)):  # fmt: skip
        if value:
            root.set(prop, value)
    if record.handicap:
        root.set("HA", record.handicap)
    if record.setup:
        blacks = {to_sgf_point(m, size) for c, m in record.setup if c == _core.BLACK}
        whites = {to_sgf_point(m, size) for c, m in record.setup if c == _core.WHITE}
        root.set_setup_stones(blacks, whites)
    if record.first_player and not record.moves:
        root.set("PL", COLOR_NAMES[record.first_player])
    for colour, move in record.moves:
        game.extend_main_sequence().set_move(COLOR_NAMES[colour], to_sgf_point(move, size))
    return game.serialise()


def write_sgf(path: str | os.PathLike[str], record: SgfRecord) -> None:
    """Writes the record to `path` atomically (temporary file, fsync, rename)."""
    atomic_write_bytes(path, record_to_sgf(record))


def game_to_sgf(
    game: _core.Game,
    setup: Sequence[tuple[int, int]] = (),
    black: str = "",
    white: str = "",
    result: str | None = None,
    handicap: int = 0,
) -> bytes:
    """A rules Game as played, as SGF bytes; a finished game without `result` gets its final score."""
    if result is None and game.is_over:
        result = result_string(game.final_score())
    white_first = bool(setup) and game.to_move == _core.WHITE
    record = SgfRecord(
        size=game.size, komi=game.komi, moves=game.moves(), setup=setup, black=black, white=white,
        result=result or "", handicap=handicap, first_player=_core.WHITE if white_first else 0, date=utc_date(),
    )  # fmt: skip
    return record_to_sgf(record)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class LoadedGame:
    """A replayed record: the rules Game, its setup stones (colour, dense point), HA and RE ("" if none)."""

    game: _core.Game
    setup: tuple[tuple[int, int], ...]
    handicap: int
    result: str = ""


def _points(node: sgf.Tree_node, prop: str, size: int, where: str) -> list[tuple[int, int] | None]:
    """The points of a B/W/AB/AW property, with a clear error for coordinates off the board."""
    try:
        if prop in ("B", "W"):
            return [node.get(prop)]
        return list(node.get(prop))
    except ValueError as exc:
        raw = b" ".join(node.get_raw_list(prop)).decode("latin-1")
        raise SgfError(f"{where}: bad coordinates {prop}[{raw}] for a {size}x{size} board") from exc


def _raw(root: sgf.Tree_node, prop: str) -> str:
    return root.get_raw(prop).decode("latin-1")


def load_sgf(data: bytes, move_limit: int | None = None, superko: bool = True, board_size: int = 0) -> LoadedGame:
    """Replays an SGF record's main line with tengen's rules, up to move_limit moves (None: all).

    Raises SgfError saying what is wrong for broken SGF (truncated, not Go, bad size, komi or
    coordinates), sizes tengen cannot play (or other than `board_size` when that is not 0), setup
    stones that are not a legal position, and SgfIllegalMove for illegal moves. With superko=False
    the rules are simple ko."""
    try:
        record = sgf.Sgf_game.from_bytes(data)
    except ValueError as exc:
        raise SgfSyntaxError(str(exc)) from exc
    root = record.get_root()
    if root.has_property("GM") and root.get_raw("GM").strip() != b"1":
        raise SgfError(f"not a Go record (GM[{_raw(root, 'GM')}])")
    size = record.get_size()
    if not _core.MIN_SIZE <= size <= _core.MAX_SIZE:
        raise SgfError(f"the record's board size {size} is outside {_core.MIN_SIZE}..{_core.MAX_SIZE}")
    if board_size and size != board_size:
        raise SgfWrongSize(f"board size {size}, not {board_size}")
    try:
        komi = float(record.get_komi())
    except ValueError as exc:
        raise SgfError(f"bad komi KM[{_raw(root, 'KM')}]") from exc
    if not math.isfinite(komi) or abs(komi) > 1000:
        raise SgfError("the record's komi is not a usable number")
    try:
        handicap = int(root.get("HA")) if root.has_property("HA") else 0
    except ValueError as exc:
        raise SgfError(f"bad handicap HA[{_raw(root, 'HA')}]") from exc
    result = " ".join(_raw(root, "RE").split()) if root.has_property("RE") else ""
    game = _core.Game(size, komi, superko=superko)
    setup: list[tuple[int, int]] = []
    number = 0  # moves replayed so far
    first_mover = None
    for node in record.get_main_sequence():
        where = f"after move {number}" if number else "setup"
        if node.has_property("AE") or ((node.has_property("AB") or node.has_property("AW")) and number):
            raise SgfError(f"{where}: setup stones (AB/AW/AE) are only supported before the first move")
        for prop, color in (("AB", _core.BLACK), ("AW", _core.WHITE)):
            if node.has_property(prop):
                for point in _points(node, prop, size, where):
                    move = from_sgf_point(point, size)
                    if not game.place_setup_stone(color, move):
                        at = f"{prop}[{sgf_letters(move, size)}]"
                        raise SgfError(f"the record's setup stones are not a legal position (at {at})")
                    setup.append((color, move))
        if node.has_property("PL") and number == 0:
            turn = node.get_raw("PL").strip().upper()
            if turn not in (b"B", b"W"):
                raise SgfError(f"bad PL[{turn.decode('latin-1')}]: must be B or W")
            first_mover = _core.BLACK if turn == b"B" else _core.WHITE
        has_b, has_w = node.has_property("B"), node.has_property("W")
        if not (has_b or has_w):
            continue
        if has_b and has_w:
            raise SgfError(f"move {number + 1}: one node holds both a black and a white move")
        prop = "B" if has_b else "W"
        color = _core.BLACK if has_b else _core.WHITE
        if move_limit is not None and number >= move_limit:
            game.to_move = color  # the position before this move, with its player to move
            return LoadedGame(game, tuple(setup), handicap, result)
        number += 1
        (point,) = _points(node, prop, size, f"move {number}")
        move = from_sgf_point(point, size)
        if number == 1 and setup:
            game.to_move = color
        why = game.illegal_reason(color, move)
        if why is not None:
            raise SgfIllegalMove(number, color, move, size, why)
        game.play(color, move)
    if number == 0 and (first_mover is not None or (setup and handicap)):
        game.to_move = first_mover if first_mover is not None else _core.WHITE
    return LoadedGame(game, tuple(setup), handicap, result)

