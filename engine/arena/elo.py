"""Elo ratings by Bradley-Terry maximum likelihood over all games.

Model: P(i beats j) = 1 / (1 + 10^((r_j - r_i) / 400)); a draw counts as half a win for each
side. Ratings maximise the likelihood of every game at once (Newton's method on the concave
log-likelihood) with one anchor player held at a fixed rating (default GnuGo 3.8 level 10 =
431, as in the AlphaGo paper's tables).

Intervals: from the observed Fisher information (the negative Hessian of the log-likelihood at
the optimum, which for this model equals the expected information). Its inverse over the free
players is the covariance of their ratings relative to the anchor; a player's interval is
rating +- z * sd (z = 1.96 for 95%). The anchor itself has no interval: every interval is
"relative to the anchor". Differences between two players use the full covariance.

Prior: by default every pair of players that met gets one virtual draw (`prior_draws=1.0`,
half a win each way), the BayesElo-style prior that keeps an unbeaten player's rating finite
and pulls small samples mildly toward equality; it is negligible once a pair has played tens
of games. With `prior_draws=0` the plain MLE is used, and a player (or group) that won or lost
every game against the rest raises EloError naming them, since its MLE is infinite.
Players with no chain of games to the anchor cannot be rated against it: EloError names them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from engine.errors import TengenError

ELO_PER_NAT = 400.0 / math.log(10.0)  # Elo points per unit of log-odds


class EloError(TengenError, ValueError):
    """The games cannot give finite ratings against the anchor (reason in the message)."""


def expected_score(elo_a: float, elo_b: float) -> float:
    """A's expected score against B."""
    return 1.0 / (1.0 + 10.0 ** ((elo_b - elo_a) / 400.0))


def elo_from_score(score: float, games: int) -> float:
    """The Elo difference that makes `score` the expected score; the score is clamped half a game
    away from 0 and 1 so that a clean sweep gives a finite number (nan for no games)."""
    if games == 0 or math.isnan(score):
        return float("nan")
    eps = 0.5 / games
    s = min(max(score, eps), 1 - eps)
    return -400.0 * math.log10(1.0 / s - 1.0)


def elo_error(score: float, games: int) -> float:
    """One standard error of `elo_from_score` (delta method on the binomial score)."""
    if games == 0 or math.isnan(score):
        return float("nan")
    eps = 0.5 / games
    s = min(max(score, eps), 1 - eps)
    se = math.sqrt(s * (1 - s) / games)
    return ELO_PER_NAT * se / (s * (1 - s))


def wilson_interval(points: float, games: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion points / games (draws as half points); (0, 1) when
    there are no games."""
    if games <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = points / games
    centre = (p + z * z / (2 * games)) / (1 + z * z / games)
    half = z * math.sqrt(p * (1 - p) / games + z * z / (4 * games * games)) / (1 + z * z / games)
    return max(centre - half, 0.0), min(centre + half, 1.0)


@dataclass(frozen=True)
class Rating:
    name: str
    elo: float
    low: float  # interval bounds, relative to the anchor
    high: float
    sd: float
    games: int
    points: float  # wins + draws / 2

    @property
    def score(self) -> float:
        return self.points / self.games if self.games else float("nan")


@dataclass(frozen=True)
class EloFit:
    """Ratings best first, plus what they rest on."""

    ratings: tuple[Rating, ...]
    anchor: str
    anchor_elo: float
    prior_draws: float
    confidence: float
    names: tuple[str, ...]  # order of `covariance`
    covariance: npt.NDArray[np.float64]  # Elo^2, anchor row/column zero

    def rating(self, name: str) -> Rating:
        for r in self.ratings:
            if r.name == name:
                return r
        raise KeyError(name)

    def difference(self, a: str, b: str) -> tuple[float, float, float]:
        """(r_a - r_b, low, high) at the fit's confidence, from the full covariance."""
        i, j = self.names.index(a), self.names.index(b)
        c = self.covariance
        sd = math.sqrt(max(c[i, i] + c[j, j] - 2 * c[i, j], 0.0))
        z = NormalDist().inv_cdf(0.5 + self.confidence / 2)
        d = self.rating(a).elo - self.rating(b).elo
        return d, d - z * sd, d + z * sd


def _reachable(adj: npt.NDArray[np.bool_], start: int) -> npt.NDArray[np.bool_]:
    seen = np.zeros(len(adj), dtype=bool)
    seen[start] = True
    stack = [start]
    while stack:
        i = stack.pop()
        for j in np.flatnonzero(adj[i] & ~seen):
            seen[j] = True
            stack.append(int(j))
    return seen


def fit_elo(
    games: Iterable[tuple[str, str, float]],
    anchor: str,
    anchor_elo: float = 431.0,
    prior_draws: float = 1.0,
    confidence: float = 0.95,
    players: Sequence[str] = (),
) -> EloFit:
    """Fits ratings to `games`, each (player a, player b, a's score: 1, 0.5 or 0).

    `players` lists names to include even without games (they then raise EloError)."""
    names: list[str] = list(dict.fromkeys(players))
    index = {n: i for i, n in enumerate(names)}
    rows: list[tuple[int, int, float]] = []
    for a, b, s in games:
        if a == b:
            raise EloError(f"a game of {a!r} against itself cannot be rated")
        if not 0.0 <= s <= 1.0:
            raise EloError(f"score {s!r} of {a!r} against {b!r} is outside [0, 1]")
        for name in (a, b):
            if name not in index:
                index[name] = len(names)
                names.append(name)
        rows.append((index[a], index[b], s))
    if anchor not in index:
        raise EloError(f"anchor player {anchor!r} played no games, so nothing can be rated against it")
    n = len(names)
    wins = np.zeros((n, n))  # wins[i, j]: points of i against j
    count = np.zeros((n, n))
    for i, j, s in rows:
        wins[i, j] += s
        wins[j, i] += 1.0 - s
        count[i, j] += 1
        count[j, i] += 1
    games_played = count.sum(axis=1).astype(int)
    points = wins.sum(axis=1)
    anchor_index = index[anchor]
    connected = _reachable(count > 0, anchor_index)
    if not connected.all():
        lost = ", ".join(names[i] for i in np.flatnonzero(~connected))
        raise EloError(f"no chain of games links {lost} to the anchor {anchor!r}")
    if prior_draws > 0:
        met = count > 0
        wins = wins + met * (prior_draws / 2)
        count = count + met * prior_draws
    else:
        beat = wins > 0  # i took points from j
        if not (_reachable(beat, anchor_index).all() and _reachable(beat.T, anchor_index).all()):
            perfect = [names[i] for i in range(n) if points[i] in (0, games_played[i])]
            who = ", ".join(perfect) if perfect else "a group of players"
            raise EloError(
                f"{who} won or lost every game against the others, so the maximum-likelihood "
                "rating is infinite; use a prior (prior_draws > 0) or play more games"
            )
    beta = _newton(wins, count, anchor_index)
    info = _information(beta, count)
    free = [i for i in range(n) if i != anchor_index]
    cov = np.zeros((n, n))
    if free:
        cov[np.ix_(free, free)] = np.linalg.inv(info[np.ix_(free, free)]) * ELO_PER_NAT**2
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    elo = anchor_elo + beta * ELO_PER_NAT
    ratings = []
    for i, name in enumerate(names):
        sd = math.sqrt(cov[i, i])
        ratings.append(Rating(name, float(elo[i]), float(elo[i] - z * sd), float(elo[i] + z * sd), sd,
                              int(games_played[i]), float(points[i])))
    ratings.sort(key=lambda r: -r.elo)
    return EloFit(tuple(ratings), anchor, anchor_elo, prior_draws, confidence, tuple(names), cov)


def _information(beta: npt.NDArray[np.float64], count: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Negative Hessian of the log-likelihood (in log-odds units)."""
    p = 1.0 / (1.0 + np.exp(beta[None, :] - beta[:, None]))
    w = count * p * (1.0 - p)
    return np.diag(w.sum(axis=1)) - w


def _loglik(beta: npt.NDArray[np.float64], wins: npt.NDArray[np.float64]) -> float:
    d = beta[:, None] - beta[None, :]
    return float(-(wins * np.logaddexp(0.0, -d)).sum())


def _newton(wins: npt.NDArray[np.float64], count: npt.NDArray[np.float64], anchor: int) -> npt.NDArray[np.float64]:
    n = len(wins)
    free = np.array([i for i in range(n) if i != anchor], dtype=int)
    beta = np.zeros(n)
    if free.size == 0:
        return beta
    value = _loglik(beta, wins)
    for _ in range(200):
        p = 1.0 / (1.0 + np.exp(beta[None, :] - beta[:, None]))
        grad = (wins - count * p).sum(axis=1)[free]
        info = _information(beta, count)[np.ix_(free, free)]
        step = np.linalg.solve(info, grad)
        t = 1.0
        while True:
            trial = beta.copy()
            trial[free] += t * step
            new = _loglik(trial, wins)
            if new >= value - 1e-12 or t < 1e-8:
                break
            t /= 2
        beta, value = trial, new
        if np.max(np.abs(t * step)) < 1e-10:
            break
    return beta
