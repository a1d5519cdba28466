"""The adaptive schedule of a tournament: after the round robin, each further game goes where the
Elo intervals are widest, until every player's 95% interval is tight enough.

`next_game(config, finished, in_play)` is a pure function of the config, the finished games and
the games in play, so a stopped tournament resumes where it was (rerun the same command) and the
games can run in parallel. Its rule, in order:

1. Round robin first: the lowest-index game of TournamentConfig.schedule() (`games` per pair,
   colours alternating) that is neither finished nor in play.
2. Fit: Bradley-Terry Elo of every finished game (engine.arena.elo.fit_elo, the config's anchor,
   one virtual draw per pair as prior), the same fit as the report's; a player's half-width is
   half its 95% interval there (the anchor's is 0). Until every player is in the fit (each has a
   finished game chained to the anchor) no further game starts.
3. Stop: nothing more starts once every half-width is at most `target_halfwidth` ('target'), or
   once the games finished and in play reach `games_max` ('games-max').
4. Projection: each player's half-width as it will be once the games in play have finished, were
   the ratings to stay put: the same Fisher-information interval with those games counted (it
   depends on who meets whom, not on who wins). With every projected half-width at the target
   nothing starts until a game in play finishes; so parallel games are not all spent on one
   player, and none is started that the games in play already make unnecessary.
5. Player: the widest projected half-width above the target (ties: config order).
6. Game: of all pairs, the one whose one more game would shrink that player's projected interval
   the most (exactly: the Sherman-Morrison update of the projected covariance by one game's
   information p(1 - p) at the fitted ratings). Usually it is the player against the anchor or
   against a neighbour in rating whose interval is tight; when the player is far from everyone
   (wins or loses nearly every game) it can be its neighbour against the anchor, since the
   player's interval is then bound by its neighbour's. Ties (within 1e-9): the pair that has met
   least (finished and in play), then the nearer in rating, then config order.
   Why not simply the player against its least-met neighbour whose interval overlaps its own: in
   a simulated suite a player far above the rest then played its two neighbours 548 times, and its
   interval stayed at +-197 Elo, the neighbours' own, because the neighbours rarely met the anchor.
7. Colours: black to whichever of the two has had black less often in their games (finished and in
   play); on a tie the one earlier in the config, as round 0 of the round robin has it.
8. Index: the lowest one from the round robin's length up that is neither finished nor in play;
   the seed of game i is game_seed(seed, i), as for every game.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

from engine.arena.config import GameSpec, TournamentConfig, game_seed
from engine.arena.elo import ELO_PER_NAT, EloError, EloFit, fit_elo
from engine.arena.match import GameResult

StopReason = Literal["target", "games-max"]


@dataclass(frozen=True)
class Standing:
    """One player's rating after the finished games, and its interval's half-width (Elo) now and
    once the games in play have finished."""

    name: str
    elo: float
    low: float  # 95% interval (the anchor's: its Elo)
    high: float
    projected: float  # half-width with the games in play counted

    @property
    def halfwidth(self) -> float:
        return (self.high - self.low) / 2


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What to do next: start `game`; or, with `game` None, stop for `stopped`, or (both None)
    wait for a game in play to finish. `standings` is config order, empty before every player is
    rated."""

    game: GameSpec | None = None
    stopped: StopReason | None = None
    standings: tuple[Standing, ...] = ()

    @property
    def widest(self) -> Standing | None:
        """The player with the widest interval after the finished games (first in config order on a tie)."""
        return max(self.standings, key=lambda s: s.halfwidth, default=None)


def _pairs(games: Sequence[tuple[str, str]], names: Sequence[str]) -> npt.NDArray[np.float64]:
    """count[i, j]: games between players i and j (symmetric)."""
    index = {n: i for i, n in enumerate(names)}
    count = np.zeros((len(names), len(names)))
    for a, b in games:
        count[index[a], index[b]] += 1
        count[index[b], index[a]] += 1
    return count


@dataclass(frozen=True)
class Projection:
    """The Fisher-information picture at the fitted ratings with some games counted, in log-odds
    units: `covariance` of the ratings over `names` (the anchor's row and column zero) and `info`,
    one game's information p(1 - p) for each pair."""

    names: tuple[str, ...]
    covariance: npt.NDArray[np.float64]  # (n, n)
    info: npt.NDArray[np.float64]  # (n, n)
    z: float  # the fit's two-sided normal quantile (1.96 at 95%)

    def halfwidths(self) -> npt.NDArray[np.float64]:
        """(n,) 95% half-widths in Elo."""
        out: npt.NDArray[np.float64] = self.z * ELO_PER_NAT * np.sqrt(np.maximum(np.diag(self.covariance), 0.0))
        return out

    def shrinkage(self, player: int) -> npt.NDArray[np.float64]:
        """(n, n): how much one more game between i and j lowers `player`'s variance (log-odds^2),
        w (C_pi - C_pj)^2 / (1 + w (C_ii + C_jj - 2 C_ij)) with w = info[i, j]; 0 on the diagonal."""
        c = self.covariance
        diff = c[player][:, None] - c[player][None, :]
        spread = np.diag(c)[:, None] + np.diag(c)[None, :] - 2 * c
        out: npt.NDArray[np.float64] = self.info * diff**2 / (1.0 + self.info * spread)
        np.fill_diagonal(out, 0.0)
        return out


def project(fit: EloFit, names: Sequence[str], count: npt.NDArray[np.float64]) -> Projection:
    """The ratings' covariance at the fit's ratings were `count[i, j]` games played between i and
    j: the inverse Fisher information of the Bradley-Terry model over the players other than the
    anchor, with the fit's virtual draws on every pair that met (as engine.arena.elo.fit_elo
    computes its intervals; with the fit's own games it gives them)."""
    beta = np.array([fit.rating(n).elo for n in names]) / ELO_PER_NAT
    p = 1.0 / (1.0 + np.exp(beta[None, :] - beta[:, None]))
    per_game = p * (1.0 - p)
    w = (count + (count > 0) * fit.prior_draws) * per_game
    info = np.diag(w.sum(axis=1)) - w
    free = [i for i, n in enumerate(names) if n != fit.anchor]
    cov = np.zeros((len(names), len(names)))
    if free:
        cov[np.ix_(free, free)] = np.linalg.inv(info[np.ix_(free, free)])
    return Projection(tuple(names), cov, per_game, NormalDist().inv_cdf(0.5 + fit.confidence / 2))


def fit_finished(config: TournamentConfig, finished: Sequence[GameResult]) -> EloFit | None:
    """The Elo fit of the finished games with every player in it, anchored as the config says;
    None while some player has no finished game chained to the anchor."""
    anchor = config.resolved_anchor()
    games = [(r.black, r.white, r.score_for(r.black)) for r in finished]
    try:
        return fit_elo(games, anchor.player, anchor.elo, players=config.names)
    except EloError:
        return None


@dataclass(frozen=True)
class _State:
    count: npt.NDArray[np.float64]  # games finished and in play per pair, config order
    projection: Projection
    table: tuple[Standing, ...]


def _state(config: TournamentConfig, finished: Sequence[GameResult], in_play: Sequence[GameSpec]) -> _State | None:
    fit = fit_finished(config, finished)
    if fit is None:
        return None
    names = config.names
    count = _pairs([(r.black, r.white) for r in finished] + [(g.black, g.white) for g in in_play], names)
    projection = project(fit, names, count)
    projected = projection.halfwidths()
    table = []
    for i, name in enumerate(names):
        r = fit.rating(name)
        low, high = (r.elo, r.elo) if name == fit.anchor else (r.low, r.high)
        table.append(Standing(name, r.elo, low, high, float(projected[i])))
    return _State(count, projection, tuple(table))


def standings(config: TournamentConfig, finished: Sequence[GameResult],
              in_play: Sequence[GameSpec] = ()) -> tuple[Standing, ...]:  # fmt: skip
    """Every player's Standing (config order); empty while some player cannot be rated."""
    state = _state(config, finished, in_play)
    return state.table if state is not None else ()


def choose_pair(projection: Projection, player: int, count: npt.NDArray[np.float64],
                elos: Sequence[float]) -> tuple[int, int]:  # fmt: skip
    """Rule 6: the pair (i < j, indices into projection.names) whose next game shrinks `player`'s
    variance most; ties within 1e-9 by fewest games between them (`count`), then the nearer
    ratings, then config order."""
    gain = projection.shrinkage(player)
    best = float(gain.max())
    n = len(projection.names)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if gain[i, j] >= best * (1 - 1e-9)]
    return min(pairs, key=lambda ij: (count[ij], abs(elos[ij[0]] - elos[ij[1]]), ij))


def _colours(a: str, b: str, games: Sequence[tuple[str, str]], names: Sequence[str]) -> tuple[str, str]:
    """(black, white) for the next game of a and b (rule 7)."""
    a_black = sum(1 for g in games if g == (a, b))
    b_black = sum(1 for g in games if g == (b, a))
    if a_black != b_black:
        return (a, b) if a_black < b_black else (b, a)
    return (a, b) if names.index(a) < names.index(b) else (b, a)


def _free_index(start: int, taken: set[int]) -> int:
    index = start
    while index in taken:
        index += 1
    return index


def next_game(config: TournamentConfig, finished: Sequence[GameResult], in_play: Sequence[GameSpec]) -> Decision:
    """The next game of an adaptive tournament (the module's rule); `finished` holds every game in
    the folder, `in_play` the games started and not finished."""
    assert config.target_halfwidth is not None and config.games_max is not None, "not an adaptive config"
    target, games_max = config.target_halfwidth, config.games_max
    done = {r.index for r in finished}
    playing = {g.index for g in in_play}
    base = config.schedule()
    state = _state(config, finished, in_play)
    table = state.table if state is not None else ()
    for g in base:
        if g.index not in done and g.index not in playing:
            return Decision(game=g, standings=table)
    if state is None:
        return Decision()
    if all(s.halfwidth <= target for s in table):
        return Decision(stopped="target", standings=table)
    if len(done | playing) >= games_max:
        return Decision(stopped="games-max", standings=table)
    wide = [s for s in table if s.projected > target]
    if not wide:
        return Decision(standings=table)
    player = max(wide, key=lambda s: s.projected)  # the first of equals: config order
    names = config.names
    i, j = choose_pair(state.projection, names.index(player.name), state.count, [s.elo for s in table])
    games = [(r.black, r.white) for r in finished] + [(g.black, g.white) for g in in_play]
    black, white = _colours(names[i], names[j], games, names)
    index = _free_index(len(base), done | playing)
    return Decision(game=GameSpec(index, black, white, game_seed(config.seed, index)), standings=table)


def final_stop(config: TournamentConfig, finished: Sequence[GameResult]) -> StopReason | None:
    """Why an adaptive tournament with these finished games (none in play) is over; None when it is not."""
    return next_game(config, finished, ()).stopped


def halfwidth_text(decision: Decision, target: float) -> str:
    """'widest +-93 value-only (target 70)' for the progress bar; 'rating after the round robin'
    before every player is rated."""
    widest = decision.widest
    if widest is None:
        return "rating after the round robin"
    width = f"{widest.halfwidth:.0f}" if math.isfinite(widest.halfwidth) else "inf"
    return f"widest +-{width} {widest.name} (target {target:g})"
