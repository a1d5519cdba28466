"""The search-backend interface: what `engine.player.Player` asks of a search, and what it gets back.

A backend searches one position within a Budget and answers a SearchOutcome: its preferred move and
the root statistics. It never resigns, and passes only as "pass is the most searched move"; the
Player decides what to do with the statistics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from engine import _core
from engine.analysis import Candidate, PositionEstimate


@dataclass(frozen=True, kw_only=True)
class Budget:
    """How long one search may run: visits and/or seconds (None: no limit of that kind)."""

    visits: int | None = None
    seconds: float | None = None


@dataclass(frozen=True, kw_only=True)
class SearchOutcome:
    """One finished search: the backend's preferred move and what the root saw."""

    move: int  # dense; pass = size*size
    candidates: list[Candidate]  # root moves, best first
    visits: int  # simulations behind the statistics
    seconds: float  # wall-clock time the search took
    winrate: float  # [0, 1] for the player to move, of the preferred move


class SearchBackend(Protocol):
    """A search over positions of one game at a time."""

    name: str

    def supports_size(self, size: int) -> bool:
        """Whether this backend can search a size x size board."""
        ...

    def search(
        self,
        game: _core.Game,
        budget: Budget,
        stop: threading.Event | None = None,
        on_update: Callable[[list[Candidate]], None] | None = None,
        update_seconds: float = 1.0,
    ) -> SearchOutcome:
        """Searches `game`'s position for its player to move until the budget is spent or `stop`
        is set, calling on_update with the root candidates every update_seconds."""
        ...

    def position_estimates(self, games: list[_core.Game]) -> list[PositionEstimate] | None:
        """The backend's network estimates of ownership and score lead for each game, or None
        when it has no network with those heads (callers then fall back to playouts)."""
        ...

    def close(self) -> None:
        """Releases the backend's resources."""
        ...
