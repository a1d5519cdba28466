"""Arena end to end with real GnuGo games on small boards: matches, SGF and results files,
forfeits by a fake GTP engine (illegal move, garbage, crash, timeout, refusal), resume of an
interrupted tournament, the report, and the command line's answers to bad configs.

GnuGo is required: without it these tests fail with a message saying how to install it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import yaml
from sgfmill import sgf

from engine.arena import engines as engines_module
from engine.arena.config import ABLATION_ROWS, config_from_dict, load_config
from engine.arena.engines import TengenEngine, parse_inline_engine
from engine.arena.match import GameResult
from engine.arena.report import write_report
from engine.arena.results import ResultsFile, read_results
from engine.arena.tournament import RESULTS, run_tournament
from engine.errors import ConfigError
from engine.gtp_client import find_gnugo
from tengen_cli.main import main

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "configs" / "arena" / "smoke.yaml"
ABLATION = REPO / "configs" / "arena" / "ablation_alphago.yaml"

pytestmark = pytest.mark.gnugo


@pytest.fixture(autouse=True)
def require_gnugo() -> None:
    assert find_gnugo() is not None, (
        "GnuGo is required for the arena tests and was not found; install it (apt-get install gnugo)"
    )


def gnugo_config(size: int = 5, games: int = 2, **extra: object) -> dict:
    data = {
        "name": "t",
        "board_size": size,
        "komi": 0.5 if size == 5 else 9,
        "games": games,
        "seed": 3,
        "parallel": 1,
        "move_timeout": 30,
        "players": [{"name": "gnugo-1", "kind": "gnugo", "level": 1},
                    {"name": "gnugo-0", "kind": "gnugo", "level": 0}],
    }
    data.update(extra)
    return data


def sgf_moves(path: Path) -> list[tuple[str, tuple[int, int] | None]]:
    game = sgf.Sgf_game.from_bytes(path.read_bytes())
    return [node.get_move() for node in game.get_main_sequence()[1:]]


def test_short_match_against_gnugo_level_1(tmp_path: Path) -> None:
    config = load_config(SMOKE)
    run = run_tournament(config, tmp_path, progress=False)
    assert run.played == 2 and run.complete
    lines = (tmp_path / RESULTS).read_text().splitlines()
    assert len(lines) == 2
    for r in run.results:
        assert r.reason in ("score", "resign"), r
        assert {r.black, r.white} == {"gnugo-1", "gnugo-0"}
        moves = sgf_moves(tmp_path / r.sgf)
        assert len(moves) == r.moves > 0
        root = sgf.Sgf_game.from_bytes((tmp_path / r.sgf).read_bytes()).get_root()
        assert root.get("RE") == r.result and root.get("KM") == 9.0
        if r.reason == "score":
            assert r.referee_score is not None and r.referee_agrees is True, r
            assert r.result.startswith("B+" if r.engine_score > 0 else "W+")
    assert run.results[0].black == "gnugo-1" and run.results[1].black == "gnugo-0"  # colours alternate
    players = json.loads((tmp_path / "players.json").read_text())
    assert [p["gtp_name"] for p in players] == ["GNU Go", "GNU Go"]


def test_tengen_against_gnugo_replays_the_same_games_from_the_same_seed(tmp_path: Path) -> None:
    data = gnugo_config(size=5, games=2, parallel=2)
    data["players"] = [{"name": "tengen-uct", "kind": "tengen", "args": {"visits": 32, "threads": 1}},
                       {"name": "gnugo-1", "kind": "gnugo", "level": 1}]
    config = config_from_dict(data)
    first = run_tournament(config, tmp_path / "one", progress=False)
    second = run_tournament(config, tmp_path / "two", progress=False)
    assert first.played == second.played == 2
    for a, b in zip(first.results, second.results, strict=True):
        assert a.reason in ("score", "resign"), a
        assert sgf_moves(tmp_path / "one" / a.sgf) == sgf_moves(tmp_path / "two" / b.sgf)
        assert (a.result, a.seed) == (b.result, b.seed)
    argv = json.loads((tmp_path / "one" / "players.json").read_text())[0]["argv"]
    assert argv[1:4] == ["-m", "tengen_cli", "gtp"]
    assert {"--size", "--seed", "--no-records"} <= set(argv)  # the arena writes the SGF itself


def test_score_by_gnugo_lets_the_referee_decide(tmp_path: Path) -> None:
    run = run_tournament(config_from_dict(gnugo_config(size=7, games=2, score_by="gnugo")), tmp_path,
                         progress=False)
    for r in run.results:
        if r.reason == "score":
            assert r.referee_score is not None
            assert r.result == ("0" if r.referee_score == 0 else
                                f"{'B' if r.referee_score > 0 else 'W'}+{abs(r.referee_score):g}")


FAKE_ENGINE = textwrap.dedent("""\
    import sys, time
    mode = sys.argv[1]
    def reply(text=""):
        sys.stdout.write("= " + text + "\\n\\n")
        sys.stdout.flush()
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        cmd = parts[0]
        if cmd == "quit":
            reply()
            break
        if cmd == "genmove":
            if mode == "crash":
                sys.exit(3)
            if mode == "slow":
                time.sleep(3)
            reply({"resign": "resign", "garbage": "Z99"}.get(mode, "A1"))  # A1 twice is illegal
        elif cmd == "play" and mode == "reject":
            sys.stdout.write("? illegal move\\n\\n")
            sys.stdout.flush()
        elif cmd == "name":
            reply("fake")
        elif cmd == "version":
            reply(mode)
        else:
            reply()
""")


def test_forfeits_are_losses_with_the_reason_recorded(tmp_path: Path) -> None:
    script = tmp_path / "fake_gtp.py"
    script.write_text(FAKE_ENGINE)
    modes = ("illegal", "garbage", "crash", "slow", "resign", "reject")
    data = gnugo_config(size=5, games=1, parallel=2, move_timeout=1.0, pairing="gauntlet", gauntlet="gnugo-0")
    data["players"] = [{"name": "gnugo-0", "kind": "gnugo", "level": 0}] + [
        {"name": f"fake-{m}", "kind": "gtp", "command": [sys.executable, str(script), m]} for m in modes
    ]
    run = run_tournament(config_from_dict(data), tmp_path / "out", progress=False)
    by_player = {r.white: r for r in run.results}  # the gauntlet player is black in round 0
    expected = {"illegal": "illegal", "garbage": "illegal", "crash": "crash", "slow": "timeout",
                "resign": "resign", "reject": "protocol"}
    for mode, reason in expected.items():
        r = by_player[f"fake-{mode}"]
        assert r.reason == reason, r
        assert r.winner == "B" and r.winner_name == "gnugo-0"
        assert r.result == ("B+R" if reason == "resign" else "B+T" if reason == "timeout" else "B+F")
        assert (tmp_path / "out" / r.sgf).is_file()
    assert "occupied" in by_player["fake-illegal"].detail
    assert "Z99" in by_player["fake-garbage"].detail
    assert "refused" in by_player["fake-reject"].detail or "error" in by_player["fake-reject"].detail


def test_a_player_that_cannot_start_is_a_config_error(tmp_path: Path) -> None:
    data = gnugo_config()
    data["players"][1] = {"name": "ghost", "kind": "gtp", "command": "/nonexistent/engine --gtp"}
    with pytest.raises(ConfigError, match="ghost.*not an executable"):
        run_tournament(config_from_dict(data), tmp_path, progress=False)


def test_resume_after_stop_replays_no_finished_game(tmp_path: Path) -> None:
    config = config_from_dict(gnugo_config(size=5, games=6, parallel=2))
    stop = threading.Event()

    def stop_after_two(results: list[GameResult]) -> bool:
        if len(results) >= 2:
            stop.set()  # abandon the game in play, like Ctrl-C
        return True

    first = run_tournament(config, tmp_path, progress=False, stop=stop, keep_going=stop_after_two)
    done = {r.index for r in first.results}
    assert 2 <= len(done) < 6 and not first.complete
    before = (tmp_path / RESULTS).read_text()
    mtimes = {r.sgf: (tmp_path / r.sgf).stat().st_mtime_ns for r in first.results}
    with open(tmp_path / RESULTS, "a") as f:  # a crash in the middle of writing a line
        f.write('{"index": 5, "black": "gnu')
    second = run_tournament(config, tmp_path, progress=False)
    assert second.played == 6 - len(done)
    assert second.complete and sorted(r.index for r in second.results) == list(range(6))
    text = (tmp_path / RESULTS).read_text()
    assert text.startswith(before) and len(text.splitlines()) == 6
    for name, mtime in mtimes.items():
        assert (tmp_path / name).stat().st_mtime_ns == mtime
    assert run_tournament(config, tmp_path, progress=False).played == 0
    more = config_from_dict(gnugo_config(size=5, games=8, parallel=2))  # more games per pair: only new ones
    assert run_tournament(more, tmp_path, progress=False).played == 2
    other = config_from_dict(gnugo_config(size=5, games=6, seed=4))
    with pytest.raises(ConfigError, match="different tournament"):
        run_tournament(other, tmp_path, progress=False)


def test_ctrl_c_stops_the_command_and_rerun_resumes(tmp_path: Path) -> None:
    cfg = tmp_path / "t.yaml"
    cfg.write_text(yaml.safe_dump(gnugo_config(size=7, games=12, parallel=1)))
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "tengen_cli", "arena", "--config", str(cfg), "--out", str(out), "--no-progress"]
    # Its own process group, signalled as a whole, as a terminal's Ctrl-C does (GnuGo gets it too).
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        (out / RESULTS).exists() and (out / RESULTS).read_text().count("\n") >= 1
    ):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    finished = read_results(out / RESULTS)
    assert 1 <= len(finished) < 12
    assert all(r.reason in ("score", "resign") for r in finished), finished  # no engine "crashed"
    rerun = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=os.environ)
    assert rerun.returncode == 0, rerun.stderr
    assert f"12 of 12 games finished ({12 - len(finished)} now)" in rerun.stdout
    again = read_results(out / RESULTS)
    assert [r.index for r in again] == list(range(12))
    assert again[: len(finished)] == finished


def _result(index: int, black: str, white: str, winner: str, reason: str = "score") -> GameResult:
    return GameResult(index, black, white, index, winner, f"{winner}+1.5", reason, "", 40, 1.5, 1.5, True,
                      f"sgf/{index:05d}.sgf", 0.1)


def test_report_has_tables_charts_and_ablation_rows(tmp_path: Path) -> None:
    data = gnugo_config(size=9)
    data["players"] = [{"name": "gnugo-10", "kind": "gnugo", "level": 10},
                       {"name": "gnugo-5", "kind": "gnugo", "level": 5},
                       {"name": "gnugo-1", "kind": "gnugo", "level": 1}]
    data["ablation"] = {"policy_only": "gnugo-5", "rollouts_only": "gnugo-1"}
    config = config_from_dict(data)
    results = []
    index = 0
    for _ in range(5):
        for black, white, winner in (("gnugo-10", "gnugo-5", "B"), ("gnugo-5", "gnugo-10", "W"),
                                     ("gnugo-5", "gnugo-1", "B"), ("gnugo-1", "gnugo-5", "B"),
                                     ("gnugo-10", "gnugo-1", "B"), ("gnugo-1", "gnugo-10", "W")):
            results.append(_result(index, black, white, winner))
            index += 1
    results.append(_result(index, "gnugo-1", "gnugo-5", "B", reason="timeout"))
    path = write_report(config, results, tmp_path, scheduled=len(results))
    text = path.read_text()
    assert "gnugo-10 = 431" in text
    assert "| 1 | gnugo-10 | 431 | anchor |" in text
    assert "Policy only, no search (P) | gnugo-5 |" in text and "| 1517 |" in text
    assert text.count("not run") == 7
    assert "timeout: 1" in text and "## Win-rate matrix" in text and "## Reproducing this run" in text
    assert "CPU cores" in text and "GNU Go 3.8" in text
    for png in ("elo.png", "winrate.png", "ablation.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the command line ------------------------------------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_match_command_with_inline_players_and_sprt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m"
    code, stdout, err = run_cli(["match", "--black", "gnugo:1", "--white", "gnugo:0", "--size", "5", "--komi", "0.5",
                                 "--games", "20", "--parallel", "1", "--sprt", "0,400", "--out", str(out),
                                 "--no-progress"], capsys)
    assert code == 0, err
    assert "gnugo-1 vs gnugo-0:" in stdout and "accept H0" in stdout
    n = len(read_results(out / RESULTS))
    assert 4 <= n < 20  # SPRT stopped the match early
    assert (out / "report.md").is_file()
    code, stdout, _ = run_cli(["match", "--out", str(out), "--no-progress"], capsys)  # resume from the folder
    assert code == 0 and "0 games played now" in stdout


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"colour": "black"}, "unknown key 'colour'"),
        ({"board_size": 40}, "board_size must be an integer from"),
        ({"games": 0}, "games must be an integer from 1"),
        ({"komi": 7.3}, "komi must be a multiple of 0.5"),
        ({"players": [{"name": "g", "kind": "gnugo", "level": 99}, {"name": "h", "kind": "gnugo"}]}, "level from 0"),
        ({"players": [{"name": "g", "kind": "go"}, {"name": "h", "kind": "gnugo"}]}, "kind 'go'"),
        ({"anchor": {"player": "nobody"}}, "anchor player 'nobody' is not among"),
        ({"ablation": {"policy_only": "nobody"}}, "ablation row policy_only names 'nobody'"),
        ({"score_by": "gnugo", "referee": "none"}, "score_by: gnugo needs the GnuGo referee"),
    ],
)
def test_bad_configs_get_one_sentence_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 patch: dict, message: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(gnugo_config() | patch))
    code, _, err = run_cli(["arena", "--config", str(cfg), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1, err


def test_missing_config_and_unknown_players_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["arena", "--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path)], capsys)
    assert code == 2 and "config file not found" in err
    code, _, err = run_cli(["match", "--config", str(SMOKE), "--players", "gnugo-1", "nobody",
                            "--out", str(tmp_path / "m")], capsys)
    assert code == 2 and "'nobody' is neither a player of the config" in err
    code, _, err = run_cli(["match", "--black", "gnugo:1", "--white", "gnugo:1", "--out", str(tmp_path / "m")], capsys)
    assert code == 2 and "both players are named 'gnugo-1'" in err


def test_ablation_suite_names_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(ABLATION)
    assert {row for row, _ in config.ablation} == set(ABLATION_ROWS)
    for p in config.players:  # every search config the suite names is in the repository
        if isinstance(p, TengenEngine):
            assert (REPO / dict(p.args)["config"]).is_file(), p
    monkeypatch.chdir(tmp_path)  # no trained networks here, whatever the checkout holds
    code, _, err = run_cli(["ablate", "--config", str(ABLATION), "--out", str(tmp_path / "a")], capsys)
    assert code == 2, err
    assert ("player 'policy-only' needs its weights file runs/alphago9/weights/sl_policy.safetensors, "
            "which does not exist") in err
    assert not (tmp_path / "a" / RESULTS).exists()  # nothing was played in its place
    # A build whose `tengen gtp` lacks a flag a player needs: the message names the flag.
    monkeypatch.setattr(engines_module, "tengen_gtp_options",
                        lambda: frozenset({"--visits", "--threads", "--seconds", "--seed"}))
    code, _, err = run_cli(["ablate", "--config", str(ABLATION), "--out", str(tmp_path / "a")], capsys)
    assert code == 2 and "`tengen gtp --weights` (a policy (or policy+value) network)" in err, err


def test_player_specs_and_flags() -> None:
    p = parse_inline_engine("tengen:visits=200,rollouts=false,lambda=0.5")
    assert isinstance(p, TengenEngine)
    assert p.flags() == ["--visits", "200", "--no-rollouts", "--lambda", "0.5"]
    assert parse_inline_engine("gnugo:3").to_dict() == {"name": "gnugo-3", "kind": "gnugo", "level": 3}
    g = parse_inline_engine("{name: pachi, kind: gtp, command: 'pachi -s {seed} --size {size}'}")
    assert g.argv(42, 9) == ["pachi", "-s", "42", "--size", "9"]
    with pytest.raises(ConfigError):
        parse_inline_engine("chess:1")


def test_results_file_drops_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / RESULTS
    store = ResultsFile(path)
    store.append(_result(0, "a", "b", "B"))
    with open(path, "a") as f:
        f.write('{"index": 1')
    assert [r.index for r in read_results(path)] == [0]
    assert path.read_text().endswith('{"index": 1')  # reading alone changes nothing
    ResultsFile(path)
    assert path.read_text().count("\n") == 1 and path.read_text().endswith("\n")
    with open(path, "a") as f:  # damage before the last line is refused, never silently dropped
        f.write("not json\n" + json.dumps(_result(1, "b", "a", "W").to_json()) + "\n")
    with pytest.raises(ConfigError, match="line 2 of .* is not a game result"):
        ResultsFile(path)


def test_random_openings_vary_the_games_and_follow_the_seed(tmp_path: Path) -> None:
    """With opening_moves each game starts with that many random moves drawn from its own seed, the
    same on a replay; without it nothing is added (and the folder's fingerprint is as before)."""
    import numpy as np

    from engine.arena.match import OPENING_STREAM
    from engine.gtp_game import random_opening

    plain = config_from_dict(gnugo_config(size=5, games=2))
    config = config_from_dict(gnugo_config(size=5, games=4, opening_moves=3))
    assert plain.fingerprint() == config_from_dict(gnugo_config(size=5, games=2, opening_moves=0)).fingerprint()
    assert config.fingerprint() != plain.fingerprint()
    run = run_tournament(config, tmp_path / "a", progress=False)
    openings = []
    for r in run.results:
        expected = random_opening(5, 0.5, 3, np.random.default_rng([r.seed, OPENING_STREAM]))
        moves = sgf_moves(tmp_path / "a" / r.sgf)[:3]
        assert [None if m is None else m[1][1] + (4 - m[1][0]) * 5 for m in moves] == expected
        openings.append(tuple(expected))
    assert len(set(openings)) > 1
    again = run_tournament(config, tmp_path / "b", progress=False)
    assert [sgf_moves(tmp_path / "a" / r.sgf) for r in run.results] == \
        [sgf_moves(tmp_path / "b" / r.sgf) for r in again.results]
    with pytest.raises(ConfigError, match="opening_moves"):
        config_from_dict(gnugo_config(size=5, opening_moves=7))  # more than a quarter of the points
