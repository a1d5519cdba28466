"""Equal time and the adaptive schedule of `tengen arena` / `tengen ablate`: the scheduler as a pure
function on synthetic results (round robin first, then the game that shrinks the widest interval
most, checked against a refit from scratch; alternating colours; stopping at the target or the
cap, games in play counted; indices that continue after the round robin; deterministic), the argv
of timed and untimed players, a tiny real adaptive tournament that stops at its cap and resumes
without replaying a game, a timed tengen player through the command line, and the one-sentence
answers to bad values."""

from __future__ import annotations

import json
import math
import random
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from engine.arena import adaptive
from engine.arena.adaptive import Projection, choose_pair, next_game, project, standings
from engine.arena.config import TournamentConfig, config_from_dict, game_seed, load_config, with_overrides
from engine.arena.elo import expected_score
from engine.arena.engines import GnuGoEngine, TengenEngine
from engine.arena.ladder import ladder_from_dict
from engine.arena.match import GameResult
from engine.arena.results import read_results
from engine.arena.tournament import RESULTS, run_tournament
from engine.errors import ConfigError
from tengen_cli.main import main

REPO = Path(__file__).resolve().parents[1]
ABLATION = REPO / "configs" / "arena" / "ablation_alphago.yaml"
TRUE_ELO = {"gnugo-10": 431.0, "weak": 150.0, "mid": 500.0, "near": 560.0, "strong": 1000.0}


def synthetic_config(**extra: object) -> TournamentConfig:
    data: dict = {
        "name": "synthetic", "board_size": 9, "games": 1, "seed": 5,
        "target_halfwidth": 150, "games_max": 600,
        "players": [{"name": n, "kind": "gnugo", "level": 1} for n in TRUE_ELO],
    }  # fmt: skip
    data.update(extra)
    return config_from_dict(data)


def outcome(config: TournamentConfig, black: str, white: str, index: int) -> GameResult:
    """A game won by black with the probability the true Elos give, drawn from the game's seed."""
    seed = game_seed(config.seed, index)
    won = random.Random(seed).random() < expected_score(TRUE_ELO[black], TRUE_ELO[white])
    winner = "B" if won else "W"
    return GameResult(index, black, white, seed, winner, f"{winner}+R", "resign", "", 30, None, None, None,
                      f"sgf/{index:05d}.sgf", 0.1)  # fmt: skip


def pair_count(config: TournamentConfig, games: list) -> np.ndarray:
    names = config.names
    count = np.zeros((len(names), len(names)))
    for g in games:
        i, j = names.index(g.black), names.index(g.white)
        count[i, j] += 1
        count[j, i] += 1
    return count


def simulate(config: TournamentConfig, parallel: int = 2) -> tuple[list[GameResult], str | None]:
    """Plays the adaptive schedule with `parallel` games in play (the oldest finishes first),
    checking each adaptive choice against the rule; returns the games and why it stopped."""
    finished: list[GameResult] = []
    in_play: list = []
    base = len(config.schedule())
    while True:
        while len(in_play) < parallel:
            d = next_game(config, finished, in_play)
            if d.game is None:
                break
            g = d.game
            assert g.seed == game_seed(config.seed, g.index)
            assert g.index not in {r.index for r in finished} | {x.index for x in in_play}
            if g.index >= base:
                check_choice(config, d, g.black, g.white, finished, in_play)
            in_play.append(g)
        if not in_play:
            return finished, next_game(config, finished, []).stopped
        g = in_play.pop(0)
        finished.append(outcome(config, g.black, g.white, g.index))


def check_choice(config: TournamentConfig, d: adaptive.Decision, black: str, white: str,
                 finished: list[GameResult], in_play: list) -> None:  # fmt: skip
    """The game is the one that shrinks the widest projected interval most, checked by refitting
    the covariance from scratch with one more game for every pair."""
    names = config.names
    widest = max(d.standings, key=lambda s: s.projected)
    assert config.target_halfwidth is not None and widest.projected > config.target_halfwidth
    assert widest.projected == max(s.projected for s in d.standings)
    fit = adaptive.fit_finished(config, finished)
    assert fit is not None
    count = pair_count(config, [*finished, *in_play])
    x = names.index(widest.name)
    after: dict[tuple[int, int], float] = {}
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            more = count.copy()
            more[i, j] += 1
            more[j, i] += 1
            after[i, j] = project(fit, names, more).halfwidths()[x]
    i, j = sorted((names.index(black), names.index(white)))
    chosen = (i, j)
    assert after[chosen] == pytest.approx(min(after.values()), rel=1e-6)
    assert after[chosen] < widest.projected


def test_round_robin_first_then_indices_continue_with_the_seed_of_each_index() -> None:
    config = synthetic_config()
    base = config.schedule()
    assert next_game(config, [], []).game == base[0]
    assert next_game(config, [], [base[0]]).game == base[1]  # a game in play is not scheduled twice
    finished = [outcome(config, g.black, g.white, g.index) for g in base]
    first = next_game(config, finished, []).game
    assert first is not None and first.index == len(base) and first.seed == game_seed(5, len(base))
    second = next_game(config, finished, [first]).game
    assert second is not None and second.index == len(base) + 1
    # An abandoned game leaves its index free: the next choice takes the lowest free index.
    later = outcome(config, second.black, second.white, second.index)
    again = next_game(config, [*finished, later], []).game
    assert again is not None and again.index == len(base)


def test_each_game_shrinks_the_widest_interval_most_until_the_target() -> None:
    config = synthetic_config()
    games, stopped = simulate(config)
    assert stopped == "target"
    assert sorted(r.index for r in games) == list(range(len(games)))  # no gaps, no repeats
    assert len(games) > len(config.schedule())
    final = standings(config, games)
    assert all(s.halfwidth <= 150 for s in final) and max(s.halfwidth for s in final) > 100
    pairs = {frozenset((r.black, r.white)) for r in games}
    for pair in pairs:  # colours alternate within each pair
        a, b = sorted(pair)
        as_black = sum(1 for r in games if (r.black, r.white) == (a, b))
        as_white = sum(1 for r in games if (r.black, r.white) == (b, a))
        assert abs(as_black - as_white) <= 1
    assert max(sum(1 for r in games if {r.black, r.white} == set(p)) for p in pairs) > 4


def test_the_cap_stops_it_and_counts_the_games_in_play() -> None:
    config = synthetic_config(games_max=24)
    games, stopped = simulate(config, parallel=3)
    assert stopped == "games-max" and len(games) == 24
    part = games[:22]
    first = next_game(config, part, []).game
    assert first is not None
    second = next_game(config, part, [first]).game
    assert second is not None and second.index != first.index
    assert next_game(config, part, [first, second]).stopped == "games-max"  # 22 finished + 2 in play


def test_the_choice_is_a_deterministic_function_of_the_games() -> None:
    config = synthetic_config()
    games, _ = simulate(config)
    again, _ = simulate(config)
    assert games == again
    part = games[: len(games) // 2]
    shuffled = random.Random(1).sample(part, len(part))
    assert next_game(config, shuffled, []) == next_game(config, part, [])


def test_projection_is_the_fit_interval_and_shrinks_with_games_in_play() -> None:
    config = synthetic_config()
    games, _ = simulate(config)
    part = games[:30]
    table = standings(config, part)
    fit = adaptive.fit_finished(config, part)
    assert fit is not None
    for s in table:  # no games in play: the projection is the fit's own interval
        assert s.projected == pytest.approx(s.halfwidth, rel=1e-6, abs=1e-9)
        assert s.halfwidth == pytest.approx((fit.rating(s.name).high - fit.rating(s.name).low) / 2
                                            if s.name != "gnugo-10" else 0.0)  # fmt: skip
    game = next_game(config, part, []).game
    assert game is not None
    after = {s.name: s for s in standings(config, part, [game])}
    for s in table:
        if s.name in (game.black, game.white) and s.name != "gnugo-10":
            assert after[s.name].projected < s.projected
        assert after[s.name].halfwidth == s.halfwidth  # the fit itself is of finished games only
    # With every projected interval at the target, nothing starts until a game in play finishes.
    target = max(s.projected for s in after.values()) + 1e-6
    loose = replace(config, target_halfwidth=target)
    assert max(s.halfwidth for s in table) > target  # not met on finished games ...
    waiting = next_game(loose, part, [game])
    assert waiting.game is None and waiting.stopped is None  # ... but by the game in play


def test_choose_pair_rule() -> None:
    # Player 1's variance 1 (log-odds^2), independent of players 2 and 3; player 0 the anchor.
    cov = np.diag([0.0, 1.0, 1.0, 1.0])
    info = np.full((4, 4), 0.25)
    projection = Projection(("a", "x", "y", "z"), cov, info, 1.96)
    count = np.zeros((4, 4))
    elos = [0.0, 100.0, 150.0, 60.0]
    assert choose_pair(projection, 1, count, elos) == (0, 1)  # the anchor: no variance of its own
    hopeless = info.copy()
    hopeless[0, 1] = hopeless[1, 0] = 1e-12  # the player wins every game against the anchor
    far = Projection(projection.names, cov, hopeless, 1.96)
    assert choose_pair(far, 1, count, elos) == (1, 3)  # y and z tie: the nearer rating
    count[1, 3] = count[3, 1] = 2
    assert choose_pair(far, 1, count, elos) == (1, 2)  # then: the pair that met least
    gain = far.shrinkage(1)
    assert gain[1, 2] == pytest.approx(0.25 / (1 + 0.25 * 2)) and gain[2, 3] == 0.0


# --- equal time ------------------------------------------------------------------------------


def equal_time_config(tmp_path: Path, seconds: float | None) -> TournamentConfig:
    p_yaml = tmp_path / "p.yaml"
    p_yaml.write_text("visits: 1\npolicy: net\nuse_value: false\nuse_rollouts: false\n")
    nested = tmp_path / "nested.yaml"
    nested.write_text("search: {visits: 1}\n")
    search = tmp_path / "rv.yaml"
    search.write_text("visits: 800\nuse_value: true\nuse_rollouts: true\n")
    data: dict = {
        "name": "timed", "board_size": 9, "games": 1, "move_timeout": 30,
        "players": [
            {"name": "uct", "kind": "tengen", "args": {"no_net": True, "visits": 32, "threads": 4}},
            {"name": "searcher", "kind": "tengen", "args": {"config": str(search)}},
            {"name": "policy", "kind": "tengen", "args": {"config": str(p_yaml)}},
            {"name": "policy-nested", "kind": "tengen", "args": {"config": str(nested), "threads": 2}},
            {"name": "gnugo-10", "kind": "gnugo", "level": 10},
        ],
    }  # fmt: skip
    if seconds is not None:
        data["seconds"] = seconds
    return config_from_dict(data)


def test_equal_time_times_searching_tengen_players_only(tmp_path: Path) -> None:
    config = equal_time_config(tmp_path, 0.25)
    argv = {p.name: p.argv(7, 9) for p in config.played_players()}
    for name in ("uct", "searcher"):
        a = argv[name]
        assert a[a.index("--seconds") + 1] == "0.25" and a[a.index("--threads") + 1] == "1", a
        assert a.count("--threads") == 1 and "--visits" not in a  # time alone ends the search
    for name in ("policy", "policy-nested"):  # search config visits: 1, the network's move
        assert "--seconds" not in argv[name]
        assert argv[name] == config.player(name).argv(7, 9)
    assert argv["gnugo-10"] == config.player("gnugo-10").argv(7, 9)
    assert "--seconds" not in argv["gnugo-10"]
    untimed = equal_time_config(tmp_path, None)
    assert [p.argv(7, 9) for p in untimed.played_players()] == [p.argv(7, 9) for p in untimed.players]
    assert config.players == untimed.players  # the players as written stay in the config


def test_the_suite_times_its_search_rows_and_not_its_policy_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the suite's paths are relative to the repository root
    config = load_config(ABLATION)
    assert config.seconds is not None and config.target_halfwidth == 70 and config.games_max is not None
    assert config.games_max >= len(config.schedule()) and config.games == 2
    gnugo_levels = sorted(p.level for p in config.players if isinstance(p, GnuGoEngine))
    assert len(gnugo_levels) >= 3 and config.resolved_anchor().player == "gnugo-10"
    for p in config.players:
        played = config.as_played(p)
        if isinstance(p, TengenEngine):
            searches = Path(str(dict(p.args)["config"])).name != "p.yaml"
            assert ("--seconds" in played.argv(1, 9)) == searches, p.name
    assert dict(config.evidence)["value_mse"] == "runs/alphago9/eval/value_mse.json"


def test_the_ladder_shares_the_timing_and_keeps_its_rule() -> None:
    ladder = ladder_from_dict({"seconds": 0.2, "move_timeout": 30, "anchors": [
        {"name": "gnugo-1", "kind": "gnugo", "level": 1, "elo": 0},
        {"name": "gnugo-10", "kind": "gnugo", "level": 10, "elo": 431}]})  # fmt: skip
    timed = ladder.timed(TengenEngine("t", (("visits", 50), ("threads", 4))))
    assert isinstance(timed, TengenEngine) and dict(timed.args) == {"visits": 50, "seconds": 0.2, "threads": 1}


def test_config_round_trip_fingerprint_and_evidence() -> None:
    config = synthetic_config(seconds=0.5, evidence={"sl_accuracy": "a.json"})
    back = config_from_dict(config.to_dict())
    assert replace(back, source=None) == replace(config, source=None)
    assert config.to_dict()["seconds"] == 0.5 and config.to_dict()["evidence"] == {"sl_accuracy": "a.json"}
    assert config.fingerprint() != replace(config, seconds=0.25).fingerprint()
    assert config.fingerprint() == replace(config, evidence=(), target_halfwidth=80.0, games_max=900).fingerprint()
    untimed = synthetic_config()
    assert replace(untimed, seconds=None).fingerprint() == untimed.fingerprint()
    changed = with_overrides(config, seconds=0.75, target_halfwidth=90.0, games_max=700)
    assert (changed.seconds, changed.target_halfwidth, changed.games_max) == (0.75, 90.0, 700)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"seconds": 0}, "seconds must be a number of seconds per move in (0, 3600]"),
        ({"seconds": -1}, "seconds must be a number of seconds per move"),
        ({"seconds": 50}, "move_timeout must be longer than seconds (50)"),
        ({"target_halfwidth": 0}, "target_halfwidth must be a number of Elo in (0,"),
        ({"games_max": 5}, "games_max must be at least the 10 games of the round robin"),
        ({"games_max": None}, "target_halfwidth needs games_max"),
        ({"target_halfwidth": None}, "games_max caps the adaptive schedule; set target_halfwidth too"),
        ({"pairing": "gauntlet", "gauntlet": "weak"}, "target_halfwidth needs pairing round-robin"),
        ({"evidence": {"sl_accuracy": 3}}, "evidence must map names to file paths (strings)"),
        ({"evidence": ["a"]}, "evidence must be a section"),
    ],
)
def test_bad_values_are_one_sentence(patch: dict, message: str) -> None:
    data = synthetic_config().to_dict() | {"move_timeout": 30}
    data.update(patch)
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seconds", "0"], "seconds must be a number of seconds per move in (0, 3600], got 0.0"),
        (["--seconds", "nan"], "seconds must be a finite number"),
        (["--target-halfwidth", "-3", "--games-max", "10"], "target_halfwidth must be a number of Elo"),
        (["--target-halfwidth", "70"], "target_halfwidth needs games_max"),
        (["--games", "2", "--target-halfwidth", "70", "--games-max", "1"],
         "games_max must be at least the 2 games of the round robin (2 per pair of 2 players), got 1"),
    ],
)
def test_bad_flags_exit_2_with_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           flags: list[str], message: str) -> None:  # fmt: skip
    cfg = tmp_path / "t.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config()))
    code = main(["arena", "--config", str(cfg), "--out", str(tmp_path / "o"), "--no-progress", *flags])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o" / RESULTS).exists()


# --- a tiny real adaptive tournament ------------------------------------------------------------


def tiny_config(**extra: object) -> dict:
    data: dict = {
        "name": "tiny", "board_size": 5, "komi": 0.5, "games": 1, "seed": 3, "parallel": 2,
        "move_timeout": 30, "referee": "none",
        "players": [{"name": "gnugo-1", "kind": "gnugo", "level": 1},
                    {"name": "tengen-uct", "kind": "tengen", "args": {"no_net": True, "visits": 16}}],
    }  # fmt: skip
    data.update(extra)
    return data


@pytest.mark.gnugo
def test_real_adaptive_tournament_stops_at_the_cap_and_resumes(tmp_path: Path, gnugo: str) -> None:
    data = tiny_config(seconds=0.02, target_halfwidth=1, games_max=5)
    data["players"] = [{"name": f"gnugo-{k}", "kind": "gnugo", "level": k} for k in (0, 1, 2)]
    config = config_from_dict(data)
    stop = threading.Event()

    def stop_after_two(results: list[GameResult]) -> bool:
        if len(results) >= 2:
            stop.set()  # abandon the games in play, like Ctrl-C
        return True

    first = run_tournament(config, tmp_path, progress=False, stop=stop, keep_going=stop_after_two)
    assert first.stopped == "unfinished" and not first.complete and 2 <= len(first.results) < 5
    before = (tmp_path / RESULTS).read_text()
    mtimes = {r.sgf: (tmp_path / r.sgf).stat().st_mtime_ns for r in first.results}
    second = run_tournament(config, tmp_path, progress=False)
    assert second.stopped == "games-max" and second.complete
    assert second.played == 5 - len(first.results)
    assert sorted(r.index for r in second.results) == list(range(5))  # 3 round-robin games, then 3, 4
    assert (tmp_path / RESULTS).read_text().startswith(before)
    for name, mtime in mtimes.items():
        assert (tmp_path / name).stat().st_mtime_ns == mtime  # no finished game was replayed
    for r in second.results:
        assert r.seed == game_seed(3, r.index) and r.black != r.white
    met = with_overrides(config, target_halfwidth=9_000.0)  # the target is met: nothing more to play
    done = run_tournament(met, tmp_path, progress=False)
    assert done.played == 0 and done.stopped == "target"
    other = with_overrides(config, seconds=0.05)
    with pytest.raises(ConfigError, match="different tournament"):
        run_tournament(other, tmp_path, progress=False)
    # A recorded game after the round robin that the schedule cannot have made is refused.
    bad = json.loads((tmp_path / RESULTS).read_text().splitlines()[-1])
    bad.update(index=40, seed=1)
    with open(tmp_path / RESULTS, "a") as f:
        f.write(json.dumps(bad) + "\n")
    with pytest.raises(ConfigError, match="game 40 .* is not a game between two players"):
        run_tournament(config, tmp_path, progress=False)


@pytest.mark.gnugo
def test_cli_timed_adaptive_run_says_why_it_stopped(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    gnugo: str) -> None:  # fmt: skip
    cfg = tmp_path / "t.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config()))  # tengen-uct (visits 16) against gnugo-1
    out = tmp_path / "o"
    code = main(["arena", "--config", str(cfg), "--out", str(out), "--no-progress", "--seconds", "0.05",
                 "--target-halfwidth", "1", "--games-max", "2"])  # fmt: skip
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "2 games finished (2 now), games_max 2 reached; widest 95% interval +-" in stdout
    argv = {p["name"]: p["argv"] for p in json.loads((out / "players.json").read_text())}
    timed = argv["tengen-uct"]
    assert timed[timed.index("--seconds") + 1] == "0.05" and "--visits" not in timed
    assert all(r.reason in ("score", "resign") for r in read_results(out / RESULTS))  # time decided, in time
    stored = json.loads((out / "tournament.json").read_text())["config"]
    assert (stored["seconds"], stored["target_halfwidth"], stored["games_max"]) == (0.05, 1.0, 2)
    code = main(["arena", "--out", str(out), "--no-progress"])  # resumes from the stored config
    stdout, _ = capsys.readouterr()
    assert code == 0 and "(0 now), games_max 2 reached" in stdout
    assert math.isfinite(float(stdout.split("+-")[1].split()[0]))
