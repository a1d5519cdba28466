"""Game clocks for GTP's time commands and the time budget of the next move.

`GameClock` keeps both players' clocks under one `TimeSettings`: GTP `time_settings` (absolute or
Canadian byo-yomi), `kgs-time_settings` (none / absolute / byoyomi / canadian) and `time_left`.
`GameClock.budget` plans a move: it keeps a safety margin, never plans more than a fraction of the
remaining time, and `charge` counts our own thinking time when the controller does not report the
clocks. Not thread-safe: one GTP loop owns a clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.errors import ConfigError

MIN_MOVE_SECONDS = 0.02  # the least a move is ever given, however short the clock



@dataclass(frozen=True, kw_only=True)
class TimeSettings:
    """One time system; raises ConfigError on impossible values.

    system: none | absolute | canadian | byoyomi (Japanese).

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
            raise ConfigError(f"unknown time system {self.system!r}")
        if not all(math.isfinite(v) and 0 <= v < 1e9 for v in (self.main, self.period)):
            raise ConfigError("times must be finite, non-negative numbers of seconds")
        if not (0 <= self.stones < 10**6 and 0 <= self.periods < 10**6):
            raise ConfigError("stones and periods must be in 0..999999")
        if self.system == "canadian" and (self.stones < 1 or self.period <= 0):
            raise ConfigError("Canadian byo-yomi needs a positive period and at least one stone")
        if self.system == "byoyomi" and self.periods >= 1 and self.period <= 0:
            raise ConfigError("byo-yomi periods must have a positive length")

    @classmethod
    def from_gtp(cls, main: float, byo_time: float, byo_stones: int) -> TimeSettings:
        """GTP `time_settings`: byo-yomi time 0 is absolute time; byo-yomi time with 0 stones
        means no time limit; otherwise Canadian byo-yomi."""
        if byo_time > 0 and byo_stones == 0:
            return cls(system="none")
        if byo_time == 0:
            return cls(system="absolute", main=main)
        return cls(system="canadian", main=main, period=byo_time, stones=byo_stones)


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
