"""Handicap: GTP's fixed star-point placement, free placement, and the commands that use them."""

from __future__ import annotations

from engine import _core
from engine.coords import format_vertex, parse_vertex
from engine.gtp.answers import GtpFailure
from engine.gtp.args import GtpArgs
from engine.gtp.session import GtpSession


def handicap_points(size: int, stones: int) -> list[int]:
    """GTP's fixed handicap placement (star points), or [] when the size cannot take that many."""
    if size < 7 or stones < 2:
        return []
    edge = 3 if size >= 13 else 2
    lo, hi = edge, size - 1 - edge
    mid = size // 2 if size % 2 == 1 else -1
    max_stones = 9 if mid >= 0 and size > 7 else 4
    if stones > max_stones:
        return []

    def pt(x: int, y: int) -> int:
        return x + y * size

    corners = [pt(hi, lo), pt(lo, hi), pt(hi, hi), pt(lo, lo)]  # top-right, bottom-left, bottom-right, top-left
    if stones <= 4:
        return corners[:stones]
    sides_lr = [pt(lo, mid), pt(hi, mid)]
    sides_tb = [pt(mid, lo), pt(mid, hi)]
    center = pt(mid, mid)
    if stones == 5:
        return corners + [center]
    if stones == 6:
        return corners + sides_lr
    if stones == 7:
        return corners + sides_lr + [center]
    if stones == 8:
        return corners + sides_lr + sides_tb
    return corners + sides_lr + sides_tb + [center]


def spread_points(size: int, stones: int) -> list[int]:
    """`stones` points for free handicap where the fixed pattern has none: from the centre
    outwards, first points not next to an earlier one, then any."""
    area = size * size
    order = sorted(range(area), key=lambda m: ((m % size - size // 2) ** 2 + (m // size - size // 2) ** 2, m))
    points: list[int] = []
    for m in order:
        if len(points) == stones:
            return points
        if all(abs(m % size - p % size) + abs(m // size - p // size) > 1 for p in points):
            points.append(m)
    taken = set(points)
    points += [m for m in order if m not in taken][: stones - len(points)]
    return points


class HandicapCommands:
    """fixed_handicap, place_free_handicap and set_free_handicap on an empty board."""

    def __init__(self, session: GtpSession) -> None:
        self.session = session

    def _require_empty(self) -> None:
        game = self.session.game
        if game.move_number > 0 or self.session.setup or bool((game.board() != 0).any()):
            raise GtpFailure("board not empty")

    def _place(self, points: list[int]) -> None:
        s = self.session
        for p in points:
            if not s.game.place_setup_stone(1, p):
                raise GtpFailure("bad vertex list")
            s.setup.append((1, p))
        s.handicap = len(points)
        s.game.to_move = 2

    def cmd_fixed_handicap(self, args: GtpArgs) -> str:
        args.expect(1)
        stones = args.integer(0)
        self._require_empty()
        size = self.session.size
        points = handicap_points(size, stones)
        if not points:
            raise GtpFailure("invalid number of stones")
        self._place(points)
        return " ".join(format_vertex(p, size) for p in points)

    def cmd_place_free_handicap(self, args: GtpArgs) -> str:
        args.expect(1)
        stones = args.integer(0)
        self._require_empty()
        size = self.session.size
        if stones < 2 or stones >= size * size:
            raise GtpFailure("invalid number of stones")
        points = handicap_points(size, stones) or spread_points(size, stones)
        self._place(points)
        return " ".join(format_vertex(p, size) for p in points)

    def cmd_set_free_handicap(self, args: GtpArgs) -> str:
        self._require_empty()
        s = self.session
        if len(args) < 2 or len(args) >= s.size * s.size:
            raise GtpFailure("bad vertex list")
        try:
            points = [parse_vertex(a, s.size) for a in args]
        except ValueError as exc:
            raise GtpFailure("bad vertex list") from exc
        if len(set(points)) != len(points) or s.game.pass_move in points:
            raise GtpFailure("bad vertex list")
        trial = _core.Game(s.size, s.komi)
        if not all(trial.place_setup_stone(1, p) for p in points):
            raise GtpFailure("bad vertex list")
        self._place(points)
        return ""
