"""The built-in search backend: the C++ UCT-RAVE search (`engine._core.UctSearch`) over light
rollouts, on several threads, needing no network and playing any board size. Given root priors
(a policy net's, engine.root_priors) and a prior_bonus, the root's selection adds AlphaGo's PUCT
term: the search a search config with `backend: uct_net` asks for.

The C++ search runs on a worker thread; the caller's thread polls it for `stop` and progress
reports. One search at a time per backend.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from engine import _core
from engine.analysis import Candidate, PositionEstimate
from engine.backends.base import Budget, SearchOutcome
from engine.errors import ConfigError

if TYPE_CHECKING:
    from engine.net_estimates import NetEstimator


@dataclass(frozen=True, kw_only=True)
class UctSettings:
    """The built-in search's knobs (csrc/search/uct.h). Raises ConfigError on impossible values."""

    threads: int = 1
    seed: int = 1
    exploration: float = 0.0
    rave_equivalence: float = 1500.0
    expand_threshold: int = 8
    prior_visits: int = 10
    prior_bonus: float = 0.0  # weight of the root priors' PUCT term (0: priors unused)

    def __post_init__(self) -> None:
        if not 1 <= self.threads <= 256:
            raise ConfigError("threads must be in 1..256")
        if self.expand_threshold < 1:
            raise ConfigError("expand_threshold must be at least 1")
        if not (0.0 <= self.prior_bonus <= 1000.0):  # also false for NaN
            raise ConfigError("prior_bonus must be a number in [0, 1000]")


class RootPriors(Protocol):
    """Move probabilities for a search's root (engine.root_priors.NetRootPriors)."""

    board_size: int

    def priors(self, game: _core.Game) -> npt.NDArray[np.float32]:
        """(size*size + 1,) probabilities over the dense moves, pass last."""
        ...


class UctSearchBackend:
    """The built-in UCT-RAVE search: any board size, no weights."""

    name = "tengen-uct"

    def __init__(self, settings: UctSettings | None = None, root_priors: RootPriors | None = None,
                 estimator: NetEstimator | None = None) -> None:  # fmt: skip
        self.settings = settings or UctSettings()
        self.root_priors = root_priors  # used on its board size when prior_bonus > 0
        self.estimator = estimator  # a NetEstimator: ownership and score lead (aux-head nets)
        self._moves_searched = 0
        if root_priors is not None:
            self.name = "tengen-uct-net"

    def supports_size(self, size: int) -> bool:
        """Any size the core plays."""
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
        config.prior_bonus = s.prior_bonus
        config.max_visits = budget.visits if budget.visits is not None else 0
        config.max_seconds = budget.seconds if budget.seconds is not None else 0.0
        return config

    @staticmethod
    def _candidates(result: _core.UctResult) -> list[Candidate]:
        # No policy here: a move's "prior" is its share of the root's AMAF (RAVE) visits, a
        # probability over the root moves (they sum to 1), as GUIs expect of a prior.
        amaf_total = sum(c.amaf_visits for c in result.children)
        out = []
        for i, c in enumerate(result.children):
            pv = (c.move, *result.pv[1:]) if i == 0 and result.pv else (c.move,)
            prior = c.amaf_visits / amaf_total if amaf_total > 0 else 0.0
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
        """Runs one UCT search of `game`'s position within `budget` (see SearchBackend.search)."""
        self._moves_searched += 1
        search = _core.UctSearch(self._config(budget))
        if self.root_priors is not None and self.settings.prior_bonus > 0 and game.size == self.root_priors.board_size:
            search.set_root_priors(self.root_priors.priors(game).tolist())
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
        move = final.best_move if final.best_move >= 0 else game.pass_move
        return SearchOutcome(move=move, candidates=self._candidates(final), visits=final.visits,
                             seconds=time.monotonic() - start, winrate=final.winrate)

    def position_estimates(self, games: list[_core.Game]) -> list[PositionEstimate] | None:
        """The root-prior net's ownership and score lead when it has those heads; else None
        (callers use the playout estimate)."""
        if self.estimator is not None and all(g.size == self.estimator.board_size for g in games):
            return self.estimator.estimate(games)
        return None

    def close(self) -> None:
        """Nothing to release: each search owns its C++ state."""
