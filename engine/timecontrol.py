"""Game clocks from GTP's time commands, and how long the next move may take.

time_settings main byo_time byo_stones (Canadian; byo_time 0 = absolute; all 0 = none),
kgs-time_settings none | absolute M | byoyomi M T P | canadian M T S, and time_left
colour seconds stones. The budget never comes near the remaining time: a safety margin
is always kept, so the engine does not lose on time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TimeSettings:
    kind: str = "none"  # none | absolute | canadian | byoyomi
    main: float = 0.0
    period: float = 0.0  # byo-yomi period length
    stones: int = 0  # Canadian: stones per period
    periods: int = 0  # Japanese byo-yomi: number of periods

    def __post_init__(self) -> None:
        if self.kind not in ("none", "absolute", "canadian", "byoyomi"):
            raise ValueError(f"unknown time system {self.kind!r}")
        if min(self.main, self.period) < 0 or min(self.stones, self.periods) < 0:
            raise ValueError("time values must not be negative")
        for v in (self.main, self.period):
            if v != v or v == float("inf"):
                raise ValueError("time values must be finite numbers")


@dataclass
class Clock:
    """One player's clock as the controller last told us (time_left), or as settings start it."""

    seconds: float = 0.0
    stones: int = 0  # 0: main time; > 0: stones left in this byo-yomi period
    known: bool = False


@dataclass
class TimeKeeper:
    settings: TimeSettings = field(default_factory=TimeSettings)
    clocks: dict[int, Clock] = field(default_factory=lambda: {1: Clock(), 2: Clock()})
    margin: float = 0.5  # seconds kept back for transport and overhead

    def set(self, settings: TimeSettings) -> None:
        self.settings = settings
        self.clocks = {c: Clock(settings.main, 0, settings.kind != "none") for c in (1, 2)}

    def time_left(self, color: int, seconds: float, stones: int) -> None:
        self.clocks[color] = Clock(max(0.0, seconds), max(0, stones), True)

    @property
    def active(self) -> bool:
        return self.settings.kind != "none"

    def budget(self, color: int, empty_points: int) -> tuple[float, float] | None:
        """(planned, hard cap) seconds for the next move, or None without time control."""
        s = self.settings
        if s.kind == "none":
            return None
        clock = self.clocks[color]
        remaining = clock.seconds if clock.known else s.main
        if clock.stones > 0 or (remaining <= 0 and s.kind in ("canadian", "byoyomi")):
            # In byo-yomi: spread the period over its stones (Japanese: one move per period).
            period = remaining if clock.stones > 0 else s.period
            per_move = period / max(clock.stones or s.stones or 1, 1) if s.kind == "canadian" else s.period
            cap = max(0.05, min(per_move, period) - self.margin)
            return max(0.05, 0.8 * cap), cap
        # Main time: assume the game goes on for about half the empty points (at least 15 moves).
        moves_left = max(15, empty_points // 2)
        planned = remaining / moves_left
        if s.kind in ("canadian", "byoyomi") and s.period > 0:
            planned += 0.5 * (s.period / max(s.stones, 1) if s.kind == "canadian" else s.period)
        cap = max(0.05, min(3 * planned, remaining / 4 + (s.period if s.kind == "byoyomi" else 0.0)) - self.margin)
        return max(0.05, min(planned, cap)), cap
