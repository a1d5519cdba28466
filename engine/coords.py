"""GTP vertex names <-> dense move indices (x + y * size, y = 0 the top row; size*size = pass)."""

from __future__ import annotations

COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # GTP skips I


def format_vertex(move: int, size: int) -> str:
    if move == size * size:
        return "pass"
    x, y = move % size, move // size
    return f"{COLUMNS[x]}{size - y}"


def parse_vertex(text: str, size: int) -> int:
    """Dense move for a GTP vertex ('D4', 'pass'); raises ValueError for anything else."""
    t = text.strip().upper()
    if t == "PASS":
        return size * size
    if len(t) < 2 or t[0] not in COLUMNS or not t[1:].isdigit() or len(t) > 4:
        raise ValueError(f"invalid vertex {text!r}")
    x = COLUMNS.index(t[0])
    row = int(t[1:])
    if x >= size or not 1 <= row <= size:
        raise ValueError(f"vertex {text!r} is off the {size}x{size} board")
    return x + (size - row) * size
