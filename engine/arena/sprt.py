"""Sequential probability ratio test for gating one player against another.

Hypotheses on the Elo difference d of player A over player B: H0: d = elo0, H1: d = elo1
(elo1 > elo0). Each game's score x (1 win, 0.5 draw, 0 loss) enters the log-likelihood ratio

    LLR = sum_x  x * ln(s1 / s0) + (1 - x) * ln((1 - s1) / (1 - s0)),
    s_k = 1 / (1 + 10^(-elo_k / 400)),

the exact LLR of the win/loss (Bernoulli) model, with a draw counted as half a win and half a
loss (the quasi-likelihood for draws; Go with half-point komi has none). Wald's bounds:
accept H0 when LLR <= ln(beta / (1 - alpha)), accept H1 when LLR >= ln((1 - beta) / alpha),
otherwise continue; alpha and beta are the error rates at elo0 and elo1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from engine.arena.elo import expected_score
from engine.errors import ConfigError

Decision = Literal["accept H0", "accept H1", "continue"]


@dataclass(frozen=True)
class SprtParams:
    elo0: float = 0.0
    elo1: float = 50.0
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        if not (math.isfinite(self.elo0) and math.isfinite(self.elo1)):
            raise ConfigError(f"SPRT needs finite elo0 and elo1, got {self.elo0:g} and {self.elo1:g}")
        if not self.elo1 > self.elo0:
            raise ConfigError(f"SPRT needs elo1 > elo0, got {self.elo0:g} and {self.elo1:g}")
        if not (0 < self.alpha < 1 and 0 < self.beta < 1 and self.alpha + self.beta < 1):
            raise ConfigError(f"SPRT needs 0 < alpha, beta and alpha + beta < 1, got {self.alpha}, {self.beta}")

    @property
    def lower(self) -> float:
        return math.log(self.beta / (1 - self.alpha))

    @property
    def upper(self) -> float:
        return math.log((1 - self.beta) / self.alpha)


@dataclass(frozen=True)
class SprtResult:
    decision: Decision
    llr: float
    lower: float
    upper: float
    wins: int
    draws: int
    losses: int
    params: SprtParams

    def __str__(self) -> str:
        p = self.params
        return (
            f"SPRT(elo0={p.elo0:g}, elo1={p.elo1:g}, alpha={p.alpha:g}, beta={p.beta:g}): {self.decision}, "
            f"LLR {self.llr:.2f} in ({self.lower:.2f}, {self.upper:.2f}) after "
            f"+{self.wins} ={self.draws} -{self.losses}"
        )


def llr(wins: float, draws: float, losses: float, elo0: float, elo1: float) -> float:
    """Log-likelihood ratio of H1 over H0 for the given counts (draws as half win, half loss)."""
    s0, s1 = expected_score(elo0, 0.0), expected_score(elo1, 0.0)
    w = wins + draws / 2
    lo = losses + draws / 2
    return w * math.log(s1 / s0) + lo * math.log((1 - s1) / (1 - s0))


def sprt(wins: int, draws: int, losses: int, params: SprtParams) -> SprtResult:
    value = llr(wins, draws, losses, params.elo0, params.elo1)
    decision: Decision = "continue"
    if value >= params.upper:
        decision = "accept H1"
    elif value <= params.lower:
        decision = "accept H0"
    return SprtResult(decision, value, params.lower, params.upper, wins, draws, losses, params)


def sprt_stream(scores: Iterable[float], params: SprtParams) -> SprtResult:
    """Runs the test over scores in order (1, 0.5, 0) and stops at the first decision."""
    w = d = lo = 0
    result = sprt(0, 0, 0, params)
    for x in scores:
        if x == 1:
            w += 1
        elif x == 0:
            lo += 1
        elif x == 0.5:
            d += 1
        else:
            raise ValueError(f"game score must be 1, 0.5 or 0, got {x!r}")
        result = sprt(w, d, lo, params)
        if result.decision != "continue":
            break
    return result
