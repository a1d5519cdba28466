"""The rating ladder (engine.arena.ladder, engine.arena.rate, `tengen rate`): the rating's maximum
likelihood and likelihood-ratio interval against hand-computed cases, the adaptive choice of
anchor, the stopping rule, resuming and the refusals (with a fake game, no engines), the
committed ladder file, bad ladder files, and real `tengen rate` and `tengen rate --calibrate`
runs on 5x5 with GnuGo anchors."""

from __future__ import annotations

import json
import math
import re
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.arena import rate as rate_module
from engine.arena import tournament as tournament_module
from engine.arena.config import GameSpec, MatchRules
from engine.arena.elo import fit_elo
from engine.arena.engines import EngineSpec, TengenEngine, parse_inline_engine
from engine.arena.ladder import (
    bracket,
    choose_anchor,
    ladder_from_dict,
    ladder_yaml,
    load_ladder,
    rate_scores,
    stop_reason,
)
from engine.arena.match import GameResult
from engine.arena.rate import RATING, calibrated_ladder, rate_player
from engine.arena.results import read_results
from engine.arena.tournament import RESULTS
from engine.errors import ConfigError
from tengen_cli.main import main

REPO = Path(__file__).resolve().parents[1]
LADDER_9X9 = REPO / "configs" / "ladder" / "9x9.yaml"
CHI2_HALF = 1.959963984540054**2 / 2  # chi2_1(0.95) / 2


def loglik(r: float, games: list[tuple[float, float]]) -> float:
    """The log-likelihood written out: sum of s log P + (1 - s) log(1 - P)."""
    total = 0.0
    for a, s in games:
        p = 1 / (1 + 10 ** ((a - r) / 400))
        total += s * math.log(p) + (1 - s) * math.log(1 - p)
    return total


def record(**per_anchor: tuple[float, int, int, int]) -> list[tuple[float, float]]:
    """Games from {anchor: (elo, wins, draws, losses)}."""
    games: list[tuple[float, float]] = []
    for elo, w, d, lo in per_anchor.values():
        games += [(elo, 1.0)] * w + [(elo, 0.5)] * d + [(elo, 0.0)] * lo
    return games


# --- the rating -----------------------------------------------------------------------------


def test_symmetric_hand_case_rates_exactly_between_the_anchors() -> None:
    # Anchors at 0, 400, 800; 8 of 10 against the first, 5 of 10, 2 of 10. At r = 400 the win
    # chances are 10/11, 1/2, 1/11, so the expected points are 100/11 + 5 + 10/11 = 15 = the
    # points scored: 400 solves the likelihood equation.
    games = record(a=(0, 8, 0, 2), b=(400, 5, 0, 5), c=(800, 2, 0, 8))
    r = rate_scores(games)
    assert r.elo == pytest.approx(400.0, abs=1e-6)
    assert (r.games, r.points) == (30, 15.0)
    # The likelihood-ratio bounds sit exactly 1.92 below the maximum, symmetric here.
    top = loglik(r.elo, games)
    assert loglik(r.low, games) == pytest.approx(top - CHI2_HALF, abs=1e-6)
    assert loglik(r.high, games) == pytest.approx(top - CHI2_HALF, abs=1e-6)
    assert 400 - r.low == pytest.approx(r.high - 400, abs=1e-6)
    # Fisher information at 400 (per nat^2): 10 * (10/121) * 2 + 10 / 4; the Wald half-width
    # 1.96 / sqrt(I) * 400 / ln 10 = 167 Elo, within a few percent of the profile's.
    info = 200 / 121 + 2.5
    wald = 1.959964 / math.sqrt(info) * 400 / math.log(10)
    assert r.halfwidth == pytest.approx(wald, rel=0.03)


def test_asymmetric_case_with_draws_solves_the_likelihood_equation() -> None:
    games = record(g1=(230, 3, 1, 1), g10=(431, 2, 2, 2), u=(600, 0, 1, 4))
    r = rate_scores(games)
    expected = sum(1 / (1 + 10 ** ((a - r.elo) / 400)) for a, _ in games)
    assert expected == pytest.approx(r.points, abs=1e-9)  # sum(score - P) = 0
    assert r.points == 3 + 0.5 + 2 + 1 + 0.5
    assert r.low < r.elo < r.high
    for bound in (r.low, r.high):
        assert loglik(bound, games) == pytest.approx(loglik(r.elo, games) - CHI2_HALF, abs=1e-6)
    # The maximum: a step either way lowers the likelihood.
    assert loglik(r.elo, games) > max(loglik(r.elo - 1, games), loglik(r.elo + 1, games))


def test_interval_shrinks_with_more_games_at_the_same_score() -> None:
    small = rate_scores(record(a=(300, 3, 0, 2), b=(500, 2, 0, 3)))
    big = rate_scores(record(a=(300, 12, 0, 8), b=(500, 8, 0, 12)))
    assert big.elo == pytest.approx(small.elo, abs=1e-6) == pytest.approx(400.0, abs=1e-6)
    assert big.halfwidth < small.halfwidth / 1.8  # four times the games: about half the width


def test_a_clean_sweep_has_an_infinite_estimate_and_a_finite_bound() -> None:
    r = rate_scores([(431.0, 1.0)] * 3)
    assert r.elo == math.inf and r.high == math.inf
    # 3 log P(low) = -1.92: P = exp(-0.640), low = 431 + 400 log10(P / (1 - P)).
    p = math.exp(-CHI2_HALF / 3)
    assert r.low == pytest.approx(431 + 400 * math.log10(p / (1 - p)), abs=1e-6)
    lost = rate_scores([(431.0, 0.0)] * 3)
    assert lost.elo == -math.inf and lost.low == -math.inf
    assert lost.high == pytest.approx(431 - (r.low - 431), abs=1e-6)
    with pytest.raises(ValueError):
        rate_scores([])


# --- choosing the next anchor and stopping ----------------------------------------------------

ANCHORS = [("a", 0.0), ("b", 400.0), ("c", 800.0)]


def test_the_two_anchors_bracketing_the_estimate_share_the_games_two_to_one() -> None:
    assert bracket(ANCHORS, 300) == ("b", "a")  # b is nearer, a is the other side
    assert bracket(ANCHORS, 100) == ("a", "b")
    assert bracket(ANCHORS, 400) == ("b", "c")  # an anchor at the estimate counts as below
    assert bracket(ANCHORS, 2000) == ("c", "b") and bracket(ANCHORS, math.inf) == ("c", "b")
    assert bracket(ANCHORS, -math.inf) == ("a", "b")
    counts: dict[str, int] = {}
    seq = []
    for _ in range(9):
        name = choose_anchor(ANCHORS, 300, counts)
        counts[name] = counts.get(name, 0) + 1
        seq.append(name)
    assert seq == ["b", "a", "b", "b", "a", "b", "b", "a", "b"]
    assert "c" not in counts  # far from the estimate
    # Games in play count: with one game against b already started, the next goes to a.
    assert choose_anchor(ANCHORS, 300, {"b": 1}) == "a"
    assert choose_anchor([("only", 1.0)], 300, {}) == "only"


def test_stopping_rule() -> None:
    tight = rate_scores(record(a=(300, 60, 0, 40), b=(500, 40, 0, 60)))
    loose = rate_scores(record(a=(300, 3, 0, 2)))
    assert tight.halfwidth < 70 < loose.halfwidth
    assert stop_reason(None, 0, 10, 70) is None
    assert stop_reason(loose, 5, 10, 70) is None
    assert stop_reason(loose, 10, 10, 70) == "games-max"  # started games count, finished or not
    assert stop_reason(tight, 200, 1000, 70) == "target"
    assert stop_reason(rate_scores([(0.0, 1.0)] * 50), 50, 1000, 10_000) is None  # infinite width


# --- ladder files ---------------------------------------------------------------------------


def ladder_data(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "t", "board_size": 5, "komi": 0.5, "seconds": 0.2, "move_timeout": 30, "seed": 3,
        "parallel": 2, "pinned": "gnugo-0", "games_max": 8, "target_halfwidth": 70,
        "anchors": [
            {"name": "gnugo-0", "kind": "gnugo", "level": 0, "elo": 0, "calibrated": True, "note": "pinned"},
            {"name": "gnugo-1", "kind": "gnugo", "level": 1, "elo": 100, "calibrated": True},
            {"name": "gnugo-2", "kind": "gnugo", "level": 2, "elo": 300, "calibrated": True},
        ],
    }  # fmt: skip
    data.update(extra)
    return data


def test_the_committed_ladder_has_its_anchors_and_says_where_each_elo_came_from() -> None:
    ladder = load_ladder(LADDER_9X9)
    assert (ladder.rules.size, ladder.rules.komi, ladder.seconds, ladder.threads) == (9, 7.0, 1.0, 1)
    assert ladder.pinned == "gnugo-10" and ladder.anchor("gnugo-10").elo == 431
    assert {"gnugo-1", "gnugo-5", "gnugo-10"} <= set(ladder.names)
    assert any(isinstance(a.spec, TengenEngine) and dict(a.spec.args).get("visits") for a in ladder.anchors)
    for a in ladder.anchors:
        assert math.isfinite(a.elo) and a.note, a  # no placeholder: a number and its origin
        if not a.calibrated:
            assert "guess" in a.note
    assert ladder.anchor("uct-20000").calibrated  # from BENCHMARKS.md
    assert ladder.uncalibrated()  # until a calibration runs
    again = ladder_from_dict(yaml.safe_load(ladder_yaml(ladder, ["header"])), str(LADDER_9X9))
    assert again == ladder


def test_timed_player_gets_the_ladders_seconds_and_threads() -> None:
    ladder = ladder_from_dict(ladder_data())
    p = ladder.timed(parse_inline_engine("tengen:visits=50,seconds=9,threads=4"))
    assert isinstance(p, TengenEngine) and dict(p.args) == {"visits": 50, "seconds": 0.2, "threads": 1}
    g = parse_inline_engine("gnugo:3")
    assert ladder.timed(g) == g


def test_under_byoyomi_the_clock_alone_bounds_the_rated_player() -> None:
    fixed = ladder_from_dict(ladder_data())
    ladder = ladder_from_dict(ladder_data(clock="byoyomi"))
    p = ladder.timed(parse_inline_engine("{name: p1, kind: tengen, args: {visits: 50, seconds: 9, threads: 4, "
                                         "time_margin: 0.1}}"))  # fmt: skip
    assert isinstance(p, TengenEngine) and dict(p.args) == {"time_margin": 0.1, "threads": 1}
    rules = ladder.rules_for(p)
    assert (rules.byoyomi, rules.clocked) == (0.2, ("p1",))
    assert fixed.rules_for(p) == fixed.rules and fixed.rules.byoyomi == 0
    # Games under another clock are other games; the fixed clock keeps the hash it had before
    # the clock existed (the rules without their clock fields), so old rating folders resume.
    assert ladder.fingerprint() != fixed.fingerprint()
    rules_before = {k: v for k, v in fixed.rules.__dict__.items() if k not in ("byoyomi", "clocked")}
    assert fixed.rules.hashed() == rules_before
    assert ladder_from_dict(yaml.safe_load(ladder_yaml(ladder)), None).clock == "byoyomi"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"colour": "black"}, "unknown key 'colour'"),
        ({"clock": "sudden-death"}, "clock must be one of fixed, byoyomi"),
        ({"seconds": 0}, "seconds must be a number of seconds in (0, 3600]"),
        ({"seconds": 40}, "move_timeout must be longer than seconds"),
        ({"target_halfwidth": 0}, "target_halfwidth must be a number of Elo"),
        ({"games_max": 0}, "games_max must be from 1"),
        ({"komi": 7.3}, "komi must be a multiple of 0.5"),
        ({"pinned": "gnugo-10"}, "pinned anchor 'gnugo-10' is not among the anchors"),
        ({"anchors": [{"name": "g", "kind": "gnugo", "level": 1, "elo": 0}]}, "at least two anchors"),
        ({"anchors": [{"name": "gnugo-0", "kind": "gnugo", "level": 0}, {"name": "h", "kind": "gnugo", "elo": 1}]},
         "missing key 'anchors[0] (gnugo-0).elo'"),
        ({"anchors": [{"name": "gnugo-0", "kind": "gnugo", "elo": "high"}, {"name": "h", "kind": "gnugo", "elo": 1}]},
         "elo must be a number"),
        ({"anchors": [{"name": "gnugo-0", "kind": "gnugo", "elo": 0, "calibrated": "yes"},
                      {"name": "h", "kind": "gnugo", "elo": 1}]}, "calibrated must be true or false"),
        ({"anchors": [{"name": "gnugo-0", "kind": "gnugo", "elo": 0}, {"name": "gnugo-0", "kind": "gnugo", "elo": 1}]},
         "anchor name 'gnugo-0' appears more than once"),
        ({"anchors": [{"name": "gnugo-0", "kind": "go", "elo": 0}, {"name": "h", "kind": "gnugo", "elo": 1}]},
         "kind 'go'"),
        ({"anchors": "gnugo"}, "anchors must be a list"),
    ],
)
def test_bad_ladders_get_one_sentence_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 patch: dict, message: str) -> None:  # fmt: skip
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(ladder_data() | patch))
    code = main(["rate", "gnugo:3", "--ladder", str(path), "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1 and err.startswith("tengen rate: error: "), err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rate", "--out", "o"], "name the PLAYER"),
        (["rate", "gnugo:3", "--calibrate", "--out", "o"], "give no PLAYER"),
        (["rate", "gnugo:3", "--out", "o", "--seconds", "30"], "shorter than the ladder's move_timeout"),
        (["rate", "gnugo:0", "--out", "o"], "named 'gnugo-0' like an anchor"),
        (["rate", "gnugo", "--out", "o"], "write gnugo:LEVEL"),
    ],
)
def test_bad_rate_commands_get_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "l.yaml").write_text(yaml.safe_dump(ladder_data()))
    code = main([*argv, "--ladder", "l.yaml", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


def test_the_default_ladder_is_the_repositorys_beside_the_package_or_under_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from tengen_cli import rate as rate_cli

    assert rate_cli.default_ladder() == LADDER_9X9  # a checkout or an editable install
    monkeypatch.setattr(rate_cli, "__file__", str(tmp_path / "site-packages" / "tengen_cli" / "rate.py"))
    monkeypatch.chdir(tmp_path)  # an installed package, run outside the repository
    assert main(["rate", "gnugo:3", "--out", "o", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "the default configs/ladder/9x9.yaml is not here" in err and "--ladder FILE" in err, err
    (tmp_path / "configs" / "ladder").mkdir(parents=True)
    (tmp_path / "configs" / "ladder" / "9x9.yaml").write_text(LADDER_9X9.read_text())
    assert rate_cli.default_ladder() == Path("configs/ladder/9x9.yaml")


def test_uncalibrated_anchors_are_refused_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rate", "gnugo:3", "--out", str(tmp_path / "o"), "--no-progress"])  # the committed ladder
    err = capsys.readouterr().err
    assert code == 2 and "uncalibrated Elos (gnugo-1" in err and "--allow-uncalibrated" in err, err
    assert not (tmp_path / "o").exists()


# --- running, resuming, refusing: a fake game instead of engines ----------------------------

STRENGTH = {"gnugo-0": 0.9, "gnugo-1": 0.5, "gnugo-2": 0.1}  # the player's chance against each


def fake_game(game: GameSpec, black: EngineSpec, white: EngineSpec, rules: MatchRules, out_dir: Path,
              event: str = "", stop: threading.Event | None = None) -> GameResult:  # fmt: skip
    """A decided game without engines: the player wins when a hash of the seed falls below its chance."""
    anchor = white.name if black.name.startswith("p") else black.name
    player_wins = (game.seed % 1000) / 1000 < STRENGTH[anchor]
    player_black = black.name.startswith("p")
    winner = "B" if player_wins == player_black else "W"
    return GameResult(index=game.index, black=game.black, white=game.white, seed=game.seed, winner=winner,
                      result=f"{winner}+R", reason="resign", detail="", moves=10, engine_score=None,
                      referee_score=None, referee_agrees=None, sgf="", seconds=0.0)  # fmt: skip


@pytest.fixture
def fake_games(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tournament_module, "play_game", fake_game)  # the shared game pool plays through it
    monkeypatch.setattr(rate_module, "probe_players", lambda config: ())


PLAYER = parse_inline_engine("{name: p1, kind: gnugo, level: 3}")


def test_resumes_where_it_stopped_and_refuses_another_player_or_ladder(tmp_path: Path, fake_games: None) -> None:
    ladder = ladder_from_dict(ladder_data())
    first = rate_player(PLAYER, ladder, tmp_path, games_max=6, target_halfwidth=1, parallel=2, progress=False)
    assert first.played == 6 and first.stopped == "games-max"
    lines = (tmp_path / RESULTS).read_text().splitlines()
    again = rate_player(PLAYER, ladder, tmp_path, games_max=10, target_halfwidth=1, parallel=2, progress=False)
    assert again.played == 4 and len(again.results) == 10
    assert (tmp_path / RESULTS).read_text().splitlines()[:6] == lines  # finished games are kept as they were
    assert sorted(r.index for r in again.results) == list(range(10))
    done = rate_player(PLAYER, ladder, tmp_path, games_max=10, target_halfwidth=1, parallel=2, progress=False)
    assert done.played == 0 and done.rating == again.rating
    # Colours alternate per anchor.
    for name in ladder.names:
        blacks = [r.black == "p1" for r in again.results if name in (r.black, r.white)]
        assert blacks == [i % 2 == 0 for i in range(len(blacks))], (name, blacks)
    # New Elos for the same anchors read the same games; anything else is refused.
    moved = replace(ladder, anchors=tuple(replace(a, elo=a.elo + 50) for a in ladder.anchors))
    shifted = rate_player(PLAYER, moved, tmp_path, games_max=10, target_halfwidth=1, progress=False)
    assert shifted.played == 0 and again.rating is not None and shifted.rating is not None
    assert shifted.rating.elo == pytest.approx(again.rating.elo + 50, abs=1e-6)
    other = parse_inline_engine("{name: p2, kind: gnugo, level: 4}")
    with pytest.raises(ConfigError, match="holds the rating of another player"):
        rate_player(other, ladder, tmp_path, games_max=12, progress=False)
    with pytest.raises(ConfigError, match="holds games against another ladder"):
        rate_player(PLAYER, replace(ladder, seconds=0.5), tmp_path, games_max=12, progress=False)
    with pytest.raises(ConfigError, match="holds games against another ladder"):
        rate_player(PLAYER, replace(ladder, anchors=ladder.anchors[:2]), tmp_path, games_max=12, progress=False)
    assert len(read_results(tmp_path / RESULTS)) == 10  # nothing played by the refused runs
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / RESULTS).write_text((tmp_path / RESULTS).read_text())
    with pytest.raises(ConfigError, match="has results but no rating-run.json"):
        rate_player(PLAYER, ladder, stray, games_max=12, progress=False)


def test_stops_once_the_interval_is_tight_enough(tmp_path: Path, fake_games: None) -> None:
    ladder = ladder_from_dict(ladder_data())
    run = rate_player(PLAYER, ladder, tmp_path, games_max=500, target_halfwidth=250, parallel=1, progress=False)
    assert run.stopped == "target" and run.rating is not None
    assert run.rating.halfwidth <= 250 and len(run.results) < 500
    shorter = rate_scores(rate_module._scores(run.results[:-1], "p1", ladder))
    assert shorter.halfwidth > 250  # it stopped at the first game that got there
    data = json.loads((tmp_path / RATING).read_text())
    assert data["stopped"] == "target" and data["games"] == len(run.results)
    assert data["interval"].startswith("likelihood-ratio")
    assert sum(a["wins"] + a["draws"] + a["losses"] for a in data["anchors"]) == len(run.results)


def test_uncalibrated_anchors_need_the_flag(tmp_path: Path, fake_games: None) -> None:
    data = ladder_data()
    data["anchors"][2]["calibrated"] = False
    ladder = ladder_from_dict(data)
    with pytest.raises(ConfigError, match="uncalibrated Elos \\(gnugo-2\\).*--allow-uncalibrated"):
        rate_player(PLAYER, ladder, tmp_path, games_max=4, progress=False)
    run = rate_player(PLAYER, ladder, tmp_path, games_max=40, target_halfwidth=1, parallel=1,
                      allow_uncalibrated=True, progress=False)  # fmt: skip
    assert "gnugo-2" in run.uncalibrated
    assert json.loads((tmp_path / RATING).read_text())["uncalibrated_anchors_played"] == ["gnugo-2"]


def test_calibrated_ladder_takes_the_fit_and_keeps_the_pinned_anchor() -> None:
    ladder = ladder_from_dict(ladder_data())
    games = [("gnugo-1", "gnugo-0", 1.0)] * 7 + [("gnugo-1", "gnugo-0", 0.0)] * 3 + \
            [("gnugo-2", "gnugo-1", 1.0)] * 6 + [("gnugo-2", "gnugo-1", 0.0)] * 4  # fmt: skip
    fit = fit_elo(games, "gnugo-0", 0.0, players=ladder.names)
    new = calibrated_ladder(ladder, fit, len(games), "2026-12-02")
    assert new.anchor("gnugo-0") == ladder.anchor("gnugo-0")
    for name in ("gnugo-1", "gnugo-2"):
        a = new.anchor(name)
        assert a.calibrated and a.elo == pytest.approx(fit.rating(name).elo, abs=0.05)
        assert "tengen rate --calibrate 2026-12-02" in a.note
    assert new.fingerprint() == ladder.fingerprint()  # same games, new numbers


# --- real games: GnuGo anchors on 5x5 ---------------------------------------------------------

LINE = re.compile(r"^(\S+): Elo (-?\d+|-?inf) \[(-?\d+|-inf), (-?\d+|inf)\] over (\d+) games \((.+)\)$")


@pytest.mark.gnugo
def test_rate_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str], gnugo: str) -> None:
    ladder = tmp_path / "ladder.yaml"
    data = ladder_data()
    data["anchors"] = data["anchors"][:2]
    ladder.write_text(yaml.safe_dump(data))
    out = tmp_path / "rate"
    argv = ["rate", "tengen:visits=30", "--ladder", str(ladder), "--out", str(out), "--games-max", "4",
            "--parallel", "2", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    stdout, err = capsys.readouterr()
    match = LINE.match(stdout.strip())
    assert match, stdout
    assert match.group(1) == "tengen-visits30" and match.group(5) == "4"
    per_anchor = {name: wdl for wdl, name in re.findall(r"(\d+-\d+-\d+) vs (gnugo-[01])", match.group(6))}
    assert set(per_anchor) == {"gnugo-0", "gnugo-1"}
    assert sum(sum(map(int, v.split("-"))) for v in per_anchor.values()) == 4
    rating = json.loads((out / RATING).read_text())
    assert rating["games"] == 4 and rating["stopped"] == "games-max" and rating["line"] == stdout.strip()
    assert rating["spec"]["args"] == {"visits": 30, "seconds": 0.2, "threads": 1}
    results = read_results(out / RESULTS)
    assert len(results) == 4 and all(r.reason in ("score", "resign") for r in results)
    assert all((out / r.sgf).is_file() for r in results)
    assert main(argv) == 0  # resumes: nothing left to play
    assert "0 games played now" in capsys.readouterr().err


CLOCKED_FAKE = """\
import sys, time
delay, log = float(sys.argv[1]), open(sys.argv[2], "a")
for line in sys.stdin:
    log.write(line)
    log.flush()
    if line.split()[:1] == ["genmove"]:
        time.sleep(delay)
    sys.stdout.write("= " + ("pass" if line.startswith("genmove") else "") + "\\n\\n")
    sys.stdout.flush()
    if line.startswith("quit"):
        break
"""


@pytest.mark.gnugo
@pytest.mark.parametrize("delay", [0.0, 0.6])
def test_under_byoyomi_the_rated_player_hears_the_clock_and_loses_by_overrunning_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], gnugo: str, delay: float) -> None:  # fmt: skip
    ladder = tmp_path / "ladder.yaml"
    ladder.write_text(yaml.safe_dump(ladder_data(seconds=0.3)))
    script, log = tmp_path / "fake.py", tmp_path / "heard.txt"
    script.write_text(CLOCKED_FAKE)
    player = json.dumps({"name": "slow", "kind": "gtp", "command": [sys.executable, str(script), str(delay), str(log)]})
    argv = ["rate", player, "--ladder", str(ladder), "--out", str(tmp_path / "r"), "--games-max", "2",
            "--parallel", "1", "--clock", "byoyomi", "--no-progress"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    results = read_results(tmp_path / "r" / RESULTS)
    assert len(results) == 2
    heard = log.read_text().splitlines()
    assert heard.count("time_settings 0 0.3 1") == 2  # once a game, before the first move
    assert heard.index("time_settings 0 0.3 1") < next(i for i, c in enumerate(heard) if c.startswith("genmove"))
    if delay:  # 0.6 s answers overrun the 0.3 s period: the first move loses each game on time
        assert all(r.reason == "timeout" and r.winner_name != "slow" for r in results), results
        assert all("byo-yomi period" in r.detail and r.result.endswith("+T") for r in results), results
    else:  # passing at once: never late (the anchors are off the clock: they may take longer)
        assert all(r.reason != "timeout" for r in results), results
    rating = json.loads((tmp_path / "r" / RATING).read_text())
    assert rating["ladder"]["clock"] == "byoyomi"


@pytest.mark.gnugo
def test_calibrate_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str], gnugo: str) -> None:
    ladder = tmp_path / "ladder.yaml"
    data = ladder_data(parallel=2)
    data["anchors"] = data["anchors"][:2]
    data["anchors"][1]["calibrated"] = False
    ladder.write_text(yaml.safe_dump(data))
    out = tmp_path / "cal"
    assert main(["rate", "--calibrate", "--ladder", str(ladder), "--out", str(out), "--games-max", "2",
                 "--no-progress"]) == 0  # fmt: skip
    stdout = capsys.readouterr().out
    assert "gnugo-0: Elo 0 (pinned)" in stdout and "new ladder" in stdout
    new = load_ladder(out / "ladder.yaml")
    assert not new.uncalibrated() and new.anchor("gnugo-0").elo == 0
    assert "2 of 2 games" in new.anchor("gnugo-1").note
    assert len(read_results(out / RESULTS)) == 2 and (out / "report.md").is_file()
    assert (out / "ladder.yaml").read_text().startswith("# Rating ladder t, calibrated")
