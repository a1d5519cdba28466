"""A backend that plays each board size with the backend that covers it: a network's backend on
the sizes it was trained for, a fallback (the network-free UCT-RAVE search) on every other size.
GTP's `boardsize` may change the size mid-session; each search goes to the right backend.
Not thread-safe: one search at a time, like the backends it holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from engine import _core
from engine.analysis import Candidate, PositionEstimate
from engine.backends.base import Budget, SearchBackend, SearchOutcome


class SizeRoutedBackend:
    """`routes[size]` searches boards of that size; `fallback` searches the others."""

    def __init__(self, routes: Mapping[int, SearchBackend], fallback: SearchBackend) -> None:
        self.routes = dict(routes)
        self.fallback = fallback
        self.name = next(iter(self.routes.values())).name if self.routes else fallback.name

    def backend_for(self, size: int) -> SearchBackend:
        """The backend that plays a size x size board."""
        return self.routes.get(size, self.fallback)

    def covered_by_network(self, size: int) -> bool:
        """Whether a routed (network) backend plays this size."""
        return size in self.routes

    def supports_size(self, size: int) -> bool:
        return self.backend_for(size).supports_size(size)

    def search(
        self,
        game: _core.Game,
        budget: Budget,
        stop: threading.Event | None = None,
        on_update: Callable[[list[Candidate]], None] | None = None,
        update_seconds: float = 1.0,
    ) -> SearchOutcome:
        return self.backend_for(game.size).search(game, budget, stop, on_update, update_seconds)

    def position_estimates(self, games: list[_core.Game]) -> list[PositionEstimate] | None:
        sizes = {g.size for g in games}
        if len(sizes) != 1:
            return None
        return self.backend_for(sizes.pop()).position_estimates(games)

    def close(self) -> None:
        for backend in {id(b): b for b in (*self.routes.values(), self.fallback)}.values():
            backend.close()
