"""SPRT: bounds, decisions on synthetic streams, and error rates near alpha and beta."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.arena.elo import expected_score
from engine.arena.sprt import SprtParams, llr, sprt, sprt_stream


def stream(rng: np.random.Generator, elo: float, n: int) -> list[float]:
    p = expected_score(elo, 0.0)
    return [1.0 if u < p else 0.0 for u in rng.random(n)]


def test_bounds_and_llr() -> None:
    params = SprtParams(0, 50, 0.05, 0.05)
    assert params.upper == pytest.approx(math.log(19))
    assert params.lower == pytest.approx(-math.log(19))
    assert llr(0, 0, 0, 0, 50) == 0
    assert llr(10, 0, 0, 0, 50) > 0 > llr(0, 0, 10, 0, 50)
    assert llr(0, 10, 0, 0, 50) == pytest.approx(llr(5, 0, 5, 0, 50))  # a draw is half a win
    assert sprt(3, 0, 1, params).decision == "continue"
    with pytest.raises(ValueError):
        SprtParams(50, 0)
    with pytest.raises(ValueError):
        SprtParams(0, 50, alpha=0.6, beta=0.5)


def test_accepts_h1_for_a_strong_player_and_h0_for_an_equal_one() -> None:
    rng = np.random.default_rng(5)
    params = SprtParams(0, 100)
    strong = sprt_stream(stream(rng, 300, 2000), params)
    assert strong.decision == "accept H1"
    assert strong.llr >= strong.upper
    equal = sprt_stream(stream(rng, 0, 2000), params)
    assert equal.decision == "accept H0"
    assert equal.llr <= equal.lower
    assert "accept H0" in str(equal)


def test_error_rates_are_near_alpha_and_beta() -> None:
    rng = np.random.default_rng(2024)
    params = SprtParams(0, 100, alpha=0.1, beta=0.1)
    runs = 300
    false_h1 = sum(sprt_stream(stream(rng, 0, 3000), params).decision == "accept H1" for _ in range(runs))
    false_h0 = sum(sprt_stream(stream(rng, 100, 3000), params).decision == "accept H0" for _ in range(runs))
    # Wald's bounds keep the true error rates at or a little under nominal; allow sampling noise.
    assert false_h1 / runs <= 0.1 + 0.05
    assert false_h0 / runs <= 0.1 + 0.05
    # and the test is not trivially conservative
    assert false_h1 + false_h0 > 0


def test_draw_heavy_stream_of_equal_players_accepts_h0() -> None:
    rng = np.random.default_rng(9)
    scores = [0.5 if u < 0.6 else (1.0 if v < 0.5 else 0.0) for u, v in rng.random((4000, 2))]
    assert sprt_stream(scores, SprtParams(0, 50)).decision == "accept H0"


def test_a_decision_stands_when_games_in_play_finish_after_it() -> None:
    params = SprtParams(0, 150)
    scores = [1.0] * 9 + [0.0] * 3  # H1 at the ninth win; the losses came from games still in play
    result = sprt_stream(scores, params)
    assert result.decision == "accept H1"
    assert (result.wins, result.losses) == (9, 0)
    assert sprt(9, 0, 3, params).decision == "continue"  # what re-testing all games would say
