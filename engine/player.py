"""The move-choosing player behind `tengen gtp` and `tengen play`.

`UctPlayer.genmove` turns a search into a decision: how long to think (visits and seconds
flags, or the game clock from GTP's time commands), when to pass (the search prefers it, or
the opponent just passed and we win on the board), and when to resign. The search itself is
the C++ UCT-RAVE search (`engine._core.UctSearch`, through `engine.players.UctPlayer`); a
network search (`engine.net_player.NetPlayer`) can stand in as the backend with the same
policy on top. Rules, scoring and dead stones all come from `engine._core.Game`.

`GameClock` is the time management: GTP `time_settings` (absolute or Canadian byo-yomi),
`kgs-time_settings` (none / absolute / byoyomi / canadian) and `time_left`. It keeps a safety
margin, never plans more than a fraction of the remaining time, and charges its own thinking
time to itself when the controller does not report the clocks.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine import _core
from engine.analysis import Candidate
from engine.net_player import Budget, SearchOutcome
from engine.players import Player, UctSearchBackend, UctSettings

RESIGN = -1  # genmove's answer for resignation; other answers are dense moves (size*size = pass)

# Without any visits, seconds or clock, the built-in search stops at whichever comes first.
DEFAULT_VISITS = 20000
DEFAULT_SECONDS = 10.0
MIN_MOVE_SECONDS = 0.02  # the least a move is ever given, however short the clock


@dataclass(frozen=True)
class PlayerConfig:
    """How hard the player thinks and when it gives up. Raises ValueError on impossible values.

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
    score_playouts: int = 400  # playouts of the dead-stone estimate behind pass decisions
    safety_margin: float = 0.5  # seconds never planned, for transport and overhead
    max_fraction: float = 0.25  # a move never takes more than this share of the time left

    def __post_init__(self) -> None:
        if self.visits is not None and self.visits < 1:
            raise ValueError("visits must be at least 1")
        if self.seconds is not None and not (self.seconds > 0 and math.isfinite(self.seconds)):
            raise ValueError("seconds must be a positive number")
        if not 1 <= self.threads <= 256:
            raise ValueError("threads must be in 1..256")
        if not 0.0 <= self.resign_below < 0.5:
            raise ValueError("the resign threshold must be in [0, 0.5)")
        if self.resign_min_visits < 1 or self.score_playouts < 1 or self.expand_threshold < 1:
            raise ValueError("resign_min_visits, score_playouts and expand_threshold must be at least 1")
        if not (0 <= self.safety_margin < 60 and 0 < self.max_fraction <= 1):
            raise ValueError("safety_margin must be in [0, 60) and max_fraction in (0, 1]")

    def uct_settings(self) -> UctSettings:
        """The built-in search's settings; resignation is decided here, not in the backend."""
        return UctSettings(
            threads=self.threads,
            seed=self.seed,
            exploration=self.exploration,
            rave_equivalence=self.rave_equivalence,
            expand_threshold=self.expand_threshold,
            prior_visits=self.prior_visits,
            resign_below=0.0,
        )


# ---------------------------------------------------------------------------------- clocks


@dataclass(frozen=True)
class TimeSettings:
    """One time system. system: none | absolute | canadian | byoyomi (Japanese).

    canadian: after `main`, each period of `period` seconds must hold `stones` moves.
    byoyomi: after `main`, `periods` periods of `period` seconds, one move each; a period
    is used up only by a move that overruns it."""

    system: str = "none"
    main: float = 0.0
    period: float = 0.0
    stones: int = 0
    periods: int = 0

    def __post_init__(self) -> None:
        if self.system not in ("none", "absolute", "canadian", "byoyomi"):
            raise ValueError(f"unknown time system {self.system!r}")
        if not all(math.isfinite(v) and 0 <= v < 1e9 for v in (self.main, self.period)):
            raise ValueError("times must be finite, non-negative numbers of seconds")
        if not (0 <= self.stones < 10**6 and 0 <= self.periods < 10**6):
            raise ValueError("stones and periods must be in 0..999999")
        if self.system == "canadian" and (self.stones < 1 or self.period <= 0):
            raise ValueError("Canadian byo-yomi needs a positive period and at least one stone")
        if self.system == "byoyomi" and self.periods >= 1 and self.period <= 0:
            raise ValueError("byo-yomi periods must have a positive length")

    @classmethod
    def from_gtp(cls, main: float, byo_time: float, byo_stones: int) -> TimeSettings:
        """GTP `time_settings`: byo-yomi time 0 is absolute time; byo-yomi time with 0 stones
        means no time limit; otherwise Canadian byo-yomi."""
        if byo_time > 0 and byo_stones == 0:
            return cls("none")
        if byo_time == 0:
            return cls("absolute", main)
        return cls("canadian", main, byo_time, byo_stones)


@dataclass
class _Clock:
    """One player's clock: main time left, then time left in the current period and
    (Canadian) stones still to play in it or (byo-yomi) periods left."""

    main: float
    period: float = 0.0
    count: int = 0
    overtime: bool = False


@dataclass
class GameClock:
    """Both players' clocks under one TimeSettings, and the time budget of the next move."""

    settings: TimeSettings = field(default_factory=TimeSettings)
    clocks: dict[int, _Clock] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.set(self.settings)

    @property
    def active(self) -> bool:
        """True when a time limit is in force."""
        return self.settings.system != "none"

    def set(self, settings: TimeSettings) -> None:
        """Starts both clocks afresh under new settings."""
        self.settings = settings
        self.clocks = {color: self._fresh() for color in (1, 2)}

    def _fresh(self) -> _Clock:
        s = self.settings
        if s.system == "canadian" and s.main <= 0:
            return _Clock(0.0, s.period, s.stones, True)
        if s.system == "byoyomi" and s.main <= 0 and s.periods > 0:
            return _Clock(0.0, s.period, s.periods, True)
        return _Clock(s.main)

    def time_left(self, color: int, seconds: float, stones: int) -> None:
        """GTP `time_left`: stones 0 is main time; otherwise the time left in the current
        period with that many stones to play (Canadian) or periods left (byo-yomi, as KGS)."""
        seconds = max(0.0, seconds)
        if stones > 0 and self.settings.system in ("canadian", "byoyomi"):
            self.clocks[color] = _Clock(0.0, seconds, stones, True)
        else:
            self.clocks[color] = _Clock(seconds)

    def budget(self, color: int, empty_points: int, margin: float, max_fraction: float) -> tuple[float, float] | None:
        """(planned, hard cap) seconds for `color`'s next move, or None without a time limit.

        Main time is spread over the moves the game may still last (half the empty points,
        at least 20), never more than max_fraction of it at once; in byo-yomi a move gets its
        share of the period. `margin` seconds are always kept back."""
        s = self.settings
        if s.system == "none":
            return None
        c = self.clocks[color]
        if c.overtime:
            if s.system == "canadian":  # the period, less one margin, shared by its stones
                stones = max(c.count, 1)
                usable = c.period - margin
                share = usable / stones
                cap = min(2.0 * share, usable - (stones - 1) * MIN_MOVE_SECONDS)
                planned = 0.9 * share
            else:  # byo-yomi: a period per move, reset after each move within it
                cap = min(c.period, s.period) - margin
                planned = 0.8 * cap
        else:
            moves_left = max(20, empty_points // 2)
            overtime_share = 0.0
            if s.system == "canadian":
                overtime_share = s.period / max(s.stones, 1)
            elif s.system == "byoyomi" and s.periods > 0:
                overtime_share = s.period
            planned = c.main / moves_left + 0.5 * overtime_share
            cap = max_fraction * c.main + 0.5 * overtime_share - margin
        cap = max(MIN_MOVE_SECONDS, cap)
        planned = min(max(MIN_MOVE_SECONDS, planned), cap)
        return planned, cap

    def charge(self, color: int, seconds: float) -> None:
        """Counts `seconds` of our thinking against `color`'s clock (until time_left corrects it)."""
        s = self.settings
        c = self.clocks[color]
        if s.system == "none":
            return
        if not c.overtime:
            c.main -= seconds
            if c.main >= 0 or s.system == "absolute":
                c.main = max(c.main, 0.0)
                return
            if s.system == "byoyomi" and s.periods == 0:
                c.main = 0.0
                return
            seconds = -c.main  # overran into overtime
            c.main = 0.0
            c.overtime = True
            c.period = s.period
            c.count = s.stones if s.system == "canadian" else s.periods
        if s.system == "canadian":
            c.period -= seconds
            c.count -= 1
            if c.count <= 0:
                c.period, c.count = s.period, s.stones
            c.period = max(c.period, 0.0)
        else:
            if seconds > s.period > 0:
                c.count = max(c.count - int(seconds // s.period), 0)
            c.period = s.period


# ---------------------------------------------------------------------------------- player


def opponent_dead_stones(game: _core.Game, color: int, playouts: int = 400) -> bool:
    """True while the dead-stone estimate finds dead stones of `color`'s opponent on the board."""
    dead = game.dead_stones(playouts, 0)
    return bool(((dead == 1) & (game.board() == 3 - color)).any())


class UctPlayer:
    """Chooses moves: the built-in UCT-RAVE search (or a given backend) under a PlayerConfig."""

    def __init__(self, config: PlayerConfig | None = None, backend: Player | None = None) -> None:
        self.config = config or PlayerConfig()
        self.builtin = backend is None
        self.backend: Player = backend if backend is not None else UctSearchBackend(self.config.uct_settings())
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

    def _fixed_budget(self) -> Budget:
        c = self.config
        if c.visits is None and c.seconds is None:
            return Budget(DEFAULT_VISITS, DEFAULT_SECONDS) if self.builtin else Budget()
        return Budget(c.visits, c.seconds)

    def move_budget(self, game: _core.Game, color: int, clock: GameClock | None = None) -> tuple[Budget, float | None]:
        """The next move's search budget and, under a clock, the planned seconds (the budget's
        seconds is then the hard cap; the search may stop at the planned time)."""
        if clock is None or not clock.active:
            return self._fixed_budget(), None
        empties = int((game.board() == 0).sum())
        planned_cap = clock.budget(color, empties, self.config.safety_margin, self.config.max_fraction)
        assert planned_cap is not None
        planned, cap = planned_cap
        if self.config.seconds is not None:
            planned = min(planned, self.config.seconds)
            cap = min(cap, self.config.seconds)
        return Budget(visits=self.config.visits, seconds=cap), planned

    def wins_on_board(self, game: _core.Game, color: int) -> bool:
        """True when the position, dead stones removed, scores as a win for `color`."""
        score = game.final_score(self.config.score_playouts, 0)
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
