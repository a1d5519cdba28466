"""ASCII rendering of a board, GnuGo-style coordinates (columns skip I, row 1 at the bottom)."""

from __future__ import annotations

from engine import _core
from engine.coords import COLUMNS

SYMBOLS = {0: ".", 1: "X", 2: "O"}


def render(game: _core.Game, last_move: int | None = None) -> str:
    size = game.size
    board = game.board()
    letters = " ".join(COLUMNS[:size])
    lines = [f"    {letters}"]
    for y in range(size):
        row = size - y
        # Separators around cells; the last move sits in parentheses: . (X) .
        seps = [" "] * (size + 1)
        if last_move is not None and last_move < size * size and last_move // size == y:
            x = last_move % size
            seps[x], seps[x + 1] = "(", ")"
        text = "".join(seps[x] + SYMBOLS[int(board[y, x])] for x in range(size)) + seps[size]
        lines.append(f" {row:>2}{text}{row}")
    lines.append(f"    {letters}")
    lines.append(f"Black (X) captured {game.captures(1)}, White (O) captured {game.captures(2)}; komi {game.komi:g}")
    return "\n".join(lines)
