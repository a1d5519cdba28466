"""Bradley-Terry Elo: recovers known ratings from synthetic games, respects the anchor, gives
intervals with about their nominal coverage, and says clearly when ratings cannot exist."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.arena.elo import ELO_PER_NAT, EloError, expected_score, fit_elo

TRUE = {"gnugo-10": 431.0, "a": 1200.0, "b": 900.0, "c": 600.0, "d": 150.0}


def simulate(true: dict[str, float], games_per_pair: int, rng: np.random.Generator,
             draw_rate: float = 0.0) -> list[tuple[str, str, float]]:
    names = list(true)
    games = []
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            p = expected_score(true[x], true[y])
            for k in range(games_per_pair):
                a, b = (x, y) if k % 2 == 0 else (y, x)
                pa = p if a == x else 1 - p
                draw = rng.random() < draw_rate
                score = 0.5 if draw else 1.0 if rng.random() < pa else 0.0
                games.append((a, b, score))
    return games


def test_recovers_known_ratings_with_anchor_fixed() -> None:
    games = simulate(TRUE, 400, np.random.default_rng(7))
    fit = fit_elo(games, "gnugo-10", 431.0)
    anchor = fit.rating("gnugo-10")
    assert anchor.elo == pytest.approx(431.0, abs=1e-9)
    assert anchor.sd == 0.0
    for name, elo in TRUE.items():
        r = fit.rating(name)
        assert r.low <= r.elo <= r.high
        assert abs(r.elo - elo) <= 3 * r.sd + 1e-9, (name, r, elo)
        if name != "gnugo-10":
            assert 10 < r.sd < 60
    assert [r.name for r in fit.ratings] == sorted(TRUE, key=lambda n: -TRUE[n])


def test_intervals_cover_the_truth_about_95_percent() -> None:
    rng = np.random.default_rng(11)
    truth = {"gnugo-10": 431.0, "x": 700.0, "y": 300.0}
    hits = total = 0
    for _ in range(60):
        fit = fit_elo(simulate(truth, 60, rng), "gnugo-10", 431.0, prior_draws=0.0)
        for name in ("x", "y"):
            r = fit.rating(name)
            hits += r.low <= truth[name] <= r.high
            total += 1
    assert 0.88 <= hits / total <= 1.0


def test_two_players_match_the_closed_form() -> None:
    games = [("a", "b", 1.0)] * 300 + [("a", "b", 0.0)] * 100
    fit = fit_elo(games, "b", 0.0, prior_draws=0.0)
    a = fit.rating("a")
    assert a.elo == pytest.approx(400 * math.log10(3), abs=1e-6)
    assert a.sd == pytest.approx(ELO_PER_NAT / math.sqrt(400 * 0.75 * 0.25), rel=1e-6)


def test_draws_count_as_half_wins() -> None:
    fit = fit_elo([("a", "b", 0.5)] * 10 + [("b", "a", 0.5)] * 10, "a", 100.0, prior_draws=0.0)
    assert fit.rating("b").elo == pytest.approx(100.0, abs=1e-6)
    mixed = fit_elo([("a", "b", 1.0), ("a", "b", 0.0)] * 10, "a", 100.0, prior_draws=0.0)
    assert mixed.rating("b").elo == pytest.approx(100.0, abs=1e-6)


def test_differences_do_not_depend_on_the_anchor() -> None:
    games = simulate(TRUE, 50, np.random.default_rng(3), draw_rate=0.1)
    f1 = fit_elo(games, "gnugo-10", 431.0)
    f2 = fit_elo(games, "c", 0.0)
    d1, lo1, hi1 = f1.difference("a", "d")
    d2, lo2, hi2 = f2.difference("a", "d")
    assert d1 == pytest.approx(d2, abs=1e-6)
    assert hi1 - lo1 == pytest.approx(hi2 - lo2, rel=1e-6)
    assert f2.rating("a").elo - f2.rating("d").elo == pytest.approx(d1, abs=1e-6)


def test_unbeaten_player_is_finite_with_the_prior_and_an_error_without() -> None:
    games = [("a", "b", 1.0)] * 6
    fit = fit_elo(games, "b", 0.0)  # one virtual draw: a scored 6.5 / 7
    assert fit.rating("a").elo == pytest.approx(400 * math.log10(6.5 / 0.5), abs=1e-6)
    with pytest.raises(EloError, match="a, b won or lost every game"):
        fit_elo(games, "b", 0.0, prior_draws=0.0)


def test_disconnected_players_and_missing_anchor_are_named() -> None:
    games = [("a", "b", 1.0), ("b", "a", 1.0), ("c", "d", 1.0), ("d", "c", 0.0)]
    with pytest.raises(EloError, match="c, d"):
        fit_elo(games, "a", 0.0)
    with pytest.raises(EloError, match="anchor player 'gnugo-10' played no games"):
        fit_elo(games, "gnugo-10", 431.0)
    with pytest.raises(EloError, match="no chain of games links e"):
        fit_elo(games[:2], "a", 0.0, players=["a", "b", "e"])
