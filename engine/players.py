"""Search backends behind `engine.player.UctPlayer`: one interface, two searches.

`UctSearchBackend` runs the built-in C++ UCT-RAVE search over light rollouts, on several
threads, needing no network. `engine.net_player.NetPlayer` runs the batched PUCT/APV search
with networks. Both answer `search(game, budget, stop, on_update)` with a SearchOutcome; the
player above them decides about time, passing and resigning.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from engine import _core
from engine.analysis import Candidate
from engine.net_player import Budget, SearchOutcome


class Player(Protocol):
    name: str

    def supports_size(self, size: int) -> bool: ...

    def search(
        self,
        game: _core.Game,
        budget: Budget,
        stop: threading.Event | None = None,
        on_update: Callable[[list[Candidate]], None] | None = None,
        update_seconds: float = 1.0,
    ) -> SearchOutcome: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class UctSettings:
    """The built-in search's knobs (csrc/search/uct.h)."""

    threads: int = 1
    seed: int = 1
    exploration: float = 0.0
    rave_equivalence: float = 1500.0
    expand_threshold: int = 8
    prior_visits: int = 10
    resign_below: float = 0.05  # resign when the best move's winrate is below (0: never)

    def __post_init__(self) -> None:
        if not 1 <= self.threads <= 256:
            raise ValueError("threads must be in 1..256")
        if self.expand_threshold < 1:
            raise ValueError("expand_threshold must be at least 1")
        if not 0.0 <= self.resign_below < 0.5:
            raise ValueError("resign_below must be in [0, 0.5)")


class UctSearchBackend:
    """The built-in UCT-RAVE search: any board size, no weights."""

    name = "tengen-uct"

    def __init__(self, settings: UctSettings | None = None) -> None:
        self.settings = settings or UctSettings()
        self._moves_searched = 0

    def supports_size(self, size: int) -> bool:
        return _core.MIN_SIZE <= size <= _core.MAX_SIZE

    def _config(self, budget: Budget) -> _core.UctConfig:
        s = self.settings
        config = _core.UctConfig()
        config.threads = s.threads
        config.seed = s.seed + self._moves_searched
        config.exploration = s.exploration
        config.rave_equivalence = s.rave_equivalence
        config.expand_threshold = s.expand_threshold
        config.prior_visits = s.prior_visits
        config.max_visits = budget.visits if budget.visits is not None else 0
        config.max_seconds = budget.seconds if budget.seconds is not None else 0.0
        return config

    @staticmethod
    def _candidates(result: _core.UctResult) -> list[Candidate]:
        out = []
        for i, c in enumerate(result.children):
            pv = (c.move, *result.pv[1:]) if i == 0 and result.pv else (c.move,)
            prior = c.amaf_winrate  # the RAVE estimate stands in for a prior
            out.append(Candidate(move=c.move, visits=c.visits, winrate=c.winrate, prior=prior, pv=pv))
        return out

    def search(
        self,
        game: _core.Game,
        budget: Budget,
        stop: threading.Event | None = None,
        on_update: Callable[[list[Candidate]], None] | None = None,
        update_seconds: float = 1.0,
    ) -> SearchOutcome:
        self._moves_searched += 1
        search = _core.UctSearch(self._config(budget))
        result: list[_core.UctResult] = []
        runner = threading.Thread(target=lambda: result.append(search.run(game)), daemon=True)
        start = time.monotonic()
        runner.start()
        next_update = start + update_seconds
        while runner.is_alive():
            runner.join(timeout=0.01)
            if stop is not None and stop.is_set():
                search.stop()
            if on_update is not None and time.monotonic() >= next_update:
                on_update(self._candidates(search.peek()))
                next_update = time.monotonic() + update_seconds
        final = result[0]
        cands = self._candidates(final)
        move = final.best_move if final.best_move >= 0 else game.pass_move
        winrate = final.winrate
        if (
            self.settings.resign_below > 0
            and final.visits >= 200
            and cands
            and cands[0].visits >= 100
            and winrate < self.settings.resign_below
        ):
            move = -1
        return SearchOutcome(move, cands, final.visits, time.monotonic() - start, winrate)

    def close(self) -> None:
        pass
