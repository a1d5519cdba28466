"""The player behind `tengen gtp` and `tengen play`: one search turned into one decision.

`Player.genmove` decides how long to think (visits and seconds flags, or the game clock of GTP's
time commands, engine.clock), when to pass (the search prefers it, or the opponent just passed and we
win on the board), when to resign (the search's best winrate below the threshold after enough
simulations) and, in cleanup, which non-pass move to play. The search itself is a backend
(engine.backends): the built-in C++ UCT-RAVE search by default, or the network search; backends only
search and report statistics. Rules and counting come from `engine._core.Game`; dead stones from
the ownership estimate: the network's own (a net with aux heads, via the backend) when there is
one, else `score_playouts` light playouts.
Not thread-safe: one genmove or analysis at a time.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine import _core
from engine.analysis import Candidate
from engine.backends.base import Budget, SearchBackend, SearchOutcome
from engine.backends.by_size import SizeRoutedBackend
from engine.backends.uct import UctSearchBackend, UctSettings
from engine.clock import GameClock
from engine.errors import ConfigError

RESIGN = -1  # genmove's answer for resignation; other answers are dense moves (size*size = pass)

MAX_SAFETY_MARGIN = 60.0  # seconds: the most a move's safety margin may be

# Without any visits, seconds or clock, the built-in search stops at whichever comes first.
DEFAULT_VISITS = 20000
DEFAULT_SECONDS = 10.0
SCORE_PLAYOUTS = 400  # playouts of the dead-stone estimate (passing, final_score, final_status_list)


@dataclass(frozen=True, kw_only=True)
class PlayerConfig:
    """How hard the player thinks and when it gives up. Raises ConfigError on impossible values.

    visits / seconds bound each move when no clock is set (None: no bound of that kind; both
    None: the built-in defaults DEFAULT_VISITS / DEFAULT_SECONDS). Under a clock, visits still
    caps a move and seconds caps the planned time. The remaining fields are the UCT knobs
    (csrc/search/uct.h) and the pass/resign policy.
    """

    visits: int | None = None
    seconds: float | None = None
    threads: int = 1
    seed: int = 1
    resign_below: float = 0.05  # resign when the best winrate is below this (0 disables)
    resign_min_visits: int = 200  # ... and the search made at least this many simulations
    exploration: float = 0.0
    rave_equivalence: float = 1500.0
    expand_threshold: int = 8
    prior_visits: int = 10
    score_playouts: int = SCORE_PLAYOUTS  # the dead-stone estimate behind pass decisions
    safety_margin: float = 0.5  # seconds never planned, for transport and overhead
    max_fraction: float = 0.25  # a move never takes more than this share of the time left

    def __post_init__(self) -> None:
        if self.visits is not None and self.visits < 1:
            raise ConfigError("visits must be at least 1")
        if self.seconds is not None and not (self.seconds > 0 and math.isfinite(self.seconds)):
            raise ConfigError("seconds must be a positive number")
        if not 1 <= self.threads <= 256:
            raise ConfigError("threads must be in 1..256")
        if not 0.0 <= self.resign_below < 0.5:
            raise ConfigError("the resign threshold must be in [0, 0.5)")
        if self.resign_min_visits < 1 or self.score_playouts < 1 or self.expand_threshold < 1:
            raise ConfigError("resign_min_visits, score_playouts and expand_threshold must be at least 1")
        if not (0 <= self.safety_margin < MAX_SAFETY_MARGIN and 0 < self.max_fraction <= 1):
            raise ConfigError(f"safety_margin must be in [0, {MAX_SAFETY_MARGIN:g}) and max_fraction in (0, 1]")

    def uct_settings(self) -> UctSettings:
        """The built-in search's settings; resignation is decided here, not in the backend."""
        return UctSettings(
            threads=self.threads,
            seed=self.seed,
            exploration=self.exploration,
            rave_equivalence=self.rave_equivalence,
            expand_threshold=self.expand_threshold,
            prior_visits=self.prior_visits,
        )


class Player:
    """Chooses moves under a PlayerConfig: the time each search gets, passing, resigning and cleanup
    moves; the search itself is the backend's (the built-in UCT-RAVE search unless one is given)."""

    def __init__(self, config: PlayerConfig | None = None, backend: SearchBackend | None = None) -> None:
        self.config = config or PlayerConfig()
        self.backend: SearchBackend = backend if backend is not None else UctSearchBackend(self.config.uct_settings())
        self.last: SearchOutcome | None = None  # the last genmove's search, for callers that report it

    @property
    def name(self) -> str:
        """The backend's name (e.g. tengen-uct)."""
        return self.backend.name

    def supports_size(self, size: int) -> bool:
        """Whether this player can play on a size x size board."""
        return self.backend.supports_size(size)

    def close(self) -> None:
        """Releases the backend's resources."""
        self.backend.close()

    def network_free(self, size: int) -> bool:
        """Whether a size x size board is played by the network-free UCT-RAVE search."""
        backend = self.backend
        if isinstance(backend, SizeRoutedBackend):
            backend = backend.backend_for(size)
        return isinstance(backend, UctSearchBackend)

    def _fixed_budget(self, size: int) -> Budget:
        c = self.config
        if c.visits is None and c.seconds is None:
            # The UCT search has no budget of its own; a network search's settings hold its visits.
            return Budget(visits=DEFAULT_VISITS, seconds=DEFAULT_SECONDS) if self.network_free(size) else Budget()
        return Budget(visits=c.visits, seconds=c.seconds)

    def move_budget(self, game: _core.Game, color: int, clock: GameClock | None = None) -> tuple[Budget, float | None]:
        """The next move's search budget and, under a clock, the planned seconds (the budget's
        seconds is then the hard cap; the search may stop at the planned time)."""
        if clock is None or not clock.active:
            return self._fixed_budget(game.size), None
        empties = int((game.board() == 0).sum())
        planned_cap = clock.budget(color, empties, self.config.safety_margin, self.config.max_fraction)
        assert planned_cap is not None
        planned, cap = planned_cap
        if self.config.seconds is not None:
            planned = min(planned, self.config.seconds)
            cap = min(cap, self.config.seconds)
        return Budget(visits=self.config.visits, seconds=cap), planned

    def ownership(self, game: _core.Game) -> npt.NDArray[np.float32]:
        """Final owner of each point, (size*size,) in [-1, 1] from black's side: the network's
        estimate when the backend has one, else the mean over `score_playouts` light playouts."""
        estimates = self.backend.position_estimates([game])
        if estimates is not None and np.isfinite(estimates[0].ownership).all():
            return estimates[0].ownership
        return game.ownership(self.config.score_playouts, 0).reshape(-1)

    def score_leads(self, game: _core.Game, moves: list[int]) -> list[float] | None:
        """For each of the player to move's `moves`, the network's score lead after it, in points
        for that player; None without a network that has a score head."""
        children = []
        for move in moves:
            child = game.copy()
            if not child.is_legal(child.to_move, move):
                return None
            child.play(child.to_move, move)
            children.append(child)
        estimates = self.backend.position_estimates(children)
        if estimates is None or not all(math.isfinite(e.score_lead) for e in estimates):
            return None
        sign = 1.0 if game.to_move == _core.BLACK else -1.0
        return [sign * e.score_lead for e in estimates]

    def dead_stones(self, game: _core.Game) -> npt.NDArray[np.uint8]:
        """(size, size): 1 where a stone is dead by `ownership` (whole chains)."""
        return game.dead_stones_from(self.ownership(game))

    def final_score(self, game: _core.Game) -> float:
        """Area score with the dead stones removed: black minus white minus komi."""
        return game.score_without(self.dead_stones(game))

    def has_dead_stones_of(self, game: _core.Game, color: int) -> bool:
        """True while stones of `color` on the board are estimated dead."""
        return bool(((self.dead_stones(game) == 1) & (game.board() == color)).any())

    def wins_on_board(self, game: _core.Game, color: int) -> bool:
        """True when the position, dead stones removed, scores as a win for `color`."""
        score = self.final_score(game)
        return score > 0 if color == 1 else score < 0

    def genmove(
        self,
        game: _core.Game,
        color: int,
        clock: GameClock | None = None,
        *,
        allow_pass: bool = True,
        on_update: Callable[[list[Candidate]], None] | None = None,
        update_seconds: float = 1.0,
    ) -> int:
        """`color`'s move in `game` (not played): a dense move, size*size for pass, or RESIGN.

        Passes when the opponent just passed and we win on the board, or when the search
        likes passing best; with allow_pass False (cleanup) plays on while it has a legal
        move. Resigns when the best winrate is below the resign threshold after enough
        simulations. Under a clock, thinks to the planned time, longer (up to the cap) when
        the two best moves are close, and charges the time used to our clock."""
        start = time.monotonic()
        self.last = None
        if game.to_move != color:
            game = game.copy()
            game.to_move = color
        pass_move = game.pass_move
        moves = game.moves()
        if not [m for m in game.legal_moves(color) if m != pass_move]:
            self._charge(clock, color, start)
            return pass_move
        if allow_pass and moves and moves[-1] == (3 - color, pass_move) and self.wins_on_board(game, color):
            self._charge(clock, color, start)
            return pass_move
        budget, planned = self.move_budget(game, color, clock)
        out = self._search(game, budget, planned, on_update, update_seconds)
        self.last = out
        move = out.move
        c = self.config
        if c.resign_below > 0 and out.visits >= c.resign_min_visits and out.winrate < c.resign_below:
            move = RESIGN
        if move == pass_move and not allow_pass:
            move = self._cleanup_move(game, color, out.candidates)
        if move != RESIGN and not game.is_legal(color, move):
            move = pass_move
        self._charge(clock, color, start)
        return move

    def _charge(self, clock: GameClock | None, color: int, start: float) -> None:
        if clock is not None:
            clock.charge(color, time.monotonic() - start)

    def _cleanup_move(self, game: _core.Game, color: int, candidates: list[Candidate]) -> int:
        """The best searched move other than pass, else any legal move the playout policy likes."""
        for cand in candidates:
            if cand.move != game.pass_move and game.is_legal(color, cand.move):
                return cand.move
        return game.random_move(color, self.config.seed + game.move_number)

    def _search(
        self,
        game: _core.Game,
        budget: Budget,
        planned: float | None,
        on_update: Callable[[list[Candidate]], None] | None,
        update_seconds: float,
    ) -> SearchOutcome:
        """One search within `budget`; with `planned` set, it stops at the planned time unless
        the best two moves are close in visits, in which case it runs on to the budget's cap."""
        if planned is None or budget.seconds is None or planned >= budget.seconds:
            if planned is not None:
                budget = dataclasses.replace(budget, seconds=planned)
            return self.backend.search(game, budget, on_update=on_update, update_seconds=update_seconds)
        stop = threading.Event()
        start = time.monotonic()
        next_report = start + update_seconds

        def watch(cands: list[Candidate]) -> None:
            nonlocal next_report
            now = time.monotonic()
            if now - start >= planned:
                ranked = sorted(cands, key=lambda c: c.visits, reverse=True)
                if len(ranked) < 2 or ranked[0].visits >= 1.3 * ranked[1].visits + 10:
                    stop.set()
            if on_update is not None and now >= next_report:
                on_update(cands)
                next_report = now + update_seconds

        return self.backend.search(game, budget, stop=stop, on_update=watch, update_seconds=0.05)

    def analyze(
        self,
        game: _core.Game,
        color: int,
        stop: threading.Event,
        on_update: Callable[[list[Candidate]], None],
        update_seconds: float = 1.0,
    ) -> SearchOutcome:
        """Searches `color`'s position until `stop` is set, reporting candidates every
        update_seconds (GUI analysis)."""
        if game.to_move != color:
            game = game.copy()
            game.to_move = color
        return self.backend.search(game, Budget(visits=10**9), stop=stop, on_update=on_update,
                                   update_seconds=update_seconds)
