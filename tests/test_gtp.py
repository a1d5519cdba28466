"""GTP conformance: in-process through GtpEngine.handle, and once through a real subprocess."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import _core
from engine.gtp import GtpConfig, GtpEngine, clean_line, handicap_points
from engine.players import UctPlayer, UctSettings


def make_engine(size: int = 9, visits: int = 64, **kw: object) -> GtpEngine:
    player = UctPlayer(UctSettings(resign_below=0.0))
    return GtpEngine(player, GtpConfig(size=size, visits=visits, **kw), out=io.StringIO())  # type: ignore[arg-type]


def ask(engine: GtpEngine, line: str) -> str:
    answer = engine.handle(line)
    assert answer is not None, line
    assert answer.endswith("\n\n")
    return answer


def ok(engine: GtpEngine, line: str) -> str:
    answer = ask(engine, line)
    assert answer.startswith("="), (line, answer)
    return answer[1:].strip()


def fail(engine: GtpEngine, line: str) -> str:
    answer = ask(engine, line)
    assert answer.startswith("?"), (line, answer)
    return answer[1:].strip()


def test_ids_are_echoed() -> None:
    e = make_engine()
    assert ask(e, "17 name") == "=17 tengen\n\n"
    assert ask(e, "18 frobnicate") == "?18 unknown command\n\n"
    assert ask(e, "protocol_version") == "= 2\n\n"


def test_blank_and_comment_lines_get_no_answer() -> None:
    e = make_engine()
    for line in ["", "   ", "# just a comment", "\t\t", "\x01\x02"]:
        assert e.handle(line) is None
    assert ask(e, "name # trailing comment") == "= tengen\n\n"
    assert clean_line("na\x07me\tx") == "name x"


def test_required_commands() -> None:
    e = make_engine()
    assert ok(e, "known_command genmove") == "true"
    assert ok(e, "known_command bogus") == "false"
    listed = ok(e, "list_commands").split("\n")
    for name in ["protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
                 "clear_board", "komi", "play", "genmove", "undo", "showboard", "final_score", "final_status_list",
                 "fixed_handicap", "place_free_handicap", "set_free_handicap", "time_settings", "time_left",
                 "kgs-time_settings", "kgs-genmove_cleanup", "loadsgf", "printsgf", "lz-analyze", "kata-analyze"]:
        assert name in listed
    assert fail(e, "boardsize 1") == "unacceptable size"
    assert fail(e, "boardsize 26") == "unacceptable size"
    assert fail(e, "boardsize nine") == "syntax error"
    assert fail(e, "komi NaN") == "syntax error"
    assert fail(e, "komi 1e400") == "syntax error"
    ok(e, "komi 6.5")
    assert e.game.komi == 6.5
    ok(e, "boardsize 5")
    ok(e, "play b C3")
    assert fail(e, "play w C3") == "illegal move"
    assert fail(e, "play w Z9") == "syntax error"
    assert fail(e, "play purple C2") == "syntax error"
    assert fail(e, "play w") == "syntax error"
    ok(e, "undo")
    assert fail(e, "undo") == "cannot undo"
    move = ok(e, "genmove b")
    assert move == "resign" or move == "pass" or e.game.move_number == 1


def test_ko_and_suicide_are_illegal_over_gtp() -> None:
    e = make_engine(size=5)
    for line in ["play b B4", "play w C4", "play b A3", "play w D3", "play b B2", "play w C2", "play b C3",
                 "play w B3"]:
        ok(e, line)  # white B3 captures C3: a ko
    assert fail(e, "play b C3") == "illegal move"
    e2 = make_engine(size=5)
    for line in ["play w A2", "play w B1"]:
        ok(e2, line)
    assert fail(e2, "play b A1") == "illegal move"  # suicide


def test_handicap_commands() -> None:
    e = make_engine(size=19)
    stones = ok(e, "fixed_handicap 4").split()
    assert sorted(stones) == sorted(["D4", "Q16", "D16", "Q4"])
    assert fail(e, "fixed_handicap 2") == "board not empty"
    assert e.game.to_move == 2
    e = make_engine(size=9)
    assert fail(e, "fixed_handicap 10") == "invalid number of stones"
    assert fail(e, "fixed_handicap 1") == "invalid number of stones"
    placed = ok(e, "place_free_handicap 3").split()
    assert len(placed) == 3 and len(set(placed)) == 3
    e = make_engine(size=9)
    assert fail(e, "set_free_handicap C3 C3") == "bad vertex list"
    assert fail(e, "set_free_handicap C3 pass") == "bad vertex list"
    assert fail(e, "set_free_handicap C3") == "bad vertex list"
    ok(e, "set_free_handicap C3 G7 C7")
    assert int((e.game.board() == 1).sum()) == 3
    assert handicap_points(9, 9) and handicap_points(9, 10) == []
    assert len(handicap_points(7, 4)) == 4 and handicap_points(7, 5) == []


def test_final_score_and_status_on_a_finished_game() -> None:
    e = make_engine(size=5)
    # Black walls off the left three columns, white the right one; a white stone dies inside black's area.
    for v in ["C1", "C2", "C3", "C4", "C5"]:
        ok(e, f"play b {v}")
    for v in ["D1", "D2", "D3", "D4", "D5", "A3"]:
        ok(e, f"play w {v}")
    ok(e, "play b pass")
    ok(e, "play w pass")
    dead = ok(e, "final_status_list dead").split()
    assert dead == ["A3"]
    alive = ok(e, "final_status_list alive").split()
    assert "C3" in alive and "D3" in alive and "A3" not in alive
    assert ok(e, "final_score") == "W+2.5"  # black A-C = 15, white D-E = 10, komi 7.5
    assert fail(e, "final_status_list sleepy") == "syntax error"


def test_showboard_and_sgf_round_trip(tmp_path: Path) -> None:
    e = make_engine(size=9)
    ok(e, "play b E5")
    ok(e, "play w C3")
    board = ok(e, "showboard")
    assert "A B C D E F G H J" in board and "X" in board and "(O)" in board
    path = tmp_path / "g.sgf"
    ok(e, f"printsgf {path}")
    text = ok(e, "printsgf").replace("\n", "")
    assert "SZ[9]" in text and ";B[ee]" in text and ";W[cg]" in text
    e2 = make_engine(size=13)
    assert ok(e2, f"loadsgf {path}") == "black"
    assert e2.size == 9 and e2.game.move_number == 2
    assert ok(e2, f"loadsgf {path} 2") == "white"
    assert e2.game.move_number == 1
    assert fail(e2, f"loadsgf {tmp_path / 'missing.sgf'}") == "cannot load file"
    (tmp_path / "bad.sgf").write_text("(;GM[1]SZ[9];B[zz")
    assert fail(e2, f"loadsgf {tmp_path / 'bad.sgf'}") == "cannot load file"


def test_game_records_written(tmp_path: Path) -> None:
    e = make_engine(size=5, sgf_dir=tmp_path)
    ok(e, "play b C3")
    ok(e, "clear_board")
    ok(e, "play b C3")
    ok(e, "boardsize 7")
    records = sorted(tmp_path.glob("*.sgf"))
    assert len(records) == 2
    assert all(b"B[cc]" in r.read_bytes() for r in records)


def test_time_settings_bound_genmove() -> None:
    e = make_engine(size=9, visits=None)
    ok(e, "time_settings 10 0 0")
    ok(e, "time_left b 2 0")
    start = time.monotonic()
    move = ok(e, "genmove b")
    assert e.game.is_legal(2, 0) or True
    assert move != ""
    assert time.monotonic() - start < 2.0  # 2 s left on the clock: never more than that
    ok(e, "kgs-time_settings byoyomi 0 1 3")
    move = ok(e, "genmove w")
    assert move
    assert fail(e, "kgs-time_settings hourglass 5") == "syntax error"
    assert fail(e, "time_left b lots 0") == "syntax error"
    assert fail(e, "time_settings 1 2") == "syntax error"


@pytest.mark.parametrize("size", [2, 3, 5, 7, 9, 13, 19])
def test_self_play_every_size_is_legal(size: int) -> None:
    e = make_engine(size=size, visits=32)
    ok(e, f"boardsize {size}")
    color = "b"
    for _ in range(3 * size * size):
        answer = ok(e, f"genmove {color}")
        if answer == "resign" or e.game.is_over:
            break
        color = "w" if color == "b" else "b"
    assert e.game.move_number > 0
    # Every move recorded is legal when replayed.
    replay = _core.Game(size, 7.5)
    for c, m in e.game.moves():
        replay.play(c, m)


def test_analysis_streams_until_next_line() -> None:
    out = io.StringIO()
    e = GtpEngine(UctPlayer(), GtpConfig(size=9), out=out)
    stream = io.BytesIO(b"5 lz-analyze b 10\n")

    class SlowStream(io.BytesIO):
        """Delivers the analysis command, then the next command a little later."""

        def __init__(self) -> None:
            super().__init__()
            self.lines = [b"5 lz-analyze b 10\n", b"6 kata-analyze w 10 ownership true\n", b"name\n"]

        def readline(self, *a: object) -> bytes:  # type: ignore[override]
            if not self.lines:
                return b""
            if len(self.lines) < 3:
                time.sleep(0.4)
            return self.lines.pop(0)

    del stream
    e.serve(SlowStream())
    text = out.getvalue()
    assert text.startswith("=5\n")
    lz_part, rest = text.split("\n\n", 1)
    assert "info move" in lz_part and "winrate" in lz_part
    assert rest.startswith("=6\n")
    kata_part, tail = rest.split("\n\n", 1)
    assert "utility" in kata_part and "ownership" in kata_part
    assert tail == "= tengen\n\n"


def test_genmove_analyze_ends_with_play() -> None:
    out = io.StringIO()
    e = GtpEngine(UctPlayer(), GtpConfig(size=9, seconds=0.3), out=out)
    assert e.handle("3 lz-genmove_analyze b 5") is None
    text = out.getvalue()
    assert text.startswith("=3\n") and text.endswith("\n\n")
    assert text.strip().splitlines()[-1].startswith("play ")


def test_subprocess_engine_answers_and_survives(tmp_path: Path) -> None:
    commands = "\n".join(["1 name", "boardsize 7", "2 genmove b", "play w garbage", "3 showboard", "4 quit"]) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "gtp", "--visits", "50", "--sgf-dir", str(tmp_path)],
        input=commands.encode(), capture_output=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert out.startswith("=1 tengen\n\n")
    assert "\n=2 " in out and "? syntax error" in out and "=3 " in out and out.endswith("=4\n\n")
    assert len(list(tmp_path.glob("*.sgf"))) == 1


def test_bad_flags_give_one_line_and_exit_2() -> None:
    for flags in (["--visits", "0"], ["--threads", "-1"], ["--size", "40"]):
        proc = subprocess.run([sys.executable, "-m", "engine.cli", "gtp", *flags], capture_output=True, timeout=60,
                              input=b"")
        assert proc.returncode == 2
        assert b"Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "gtp", "--weights", "/nonexistent.safetensors"],
                          capture_output=True, timeout=60, input=b"")
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr and b"nonexistent" in proc.stderr


def test_network_and_ablation_players_over_gtp(tmp_path: Path) -> None:
    from engine.nets import NetConfig, build_net
    from engine.weights import save_weights

    net = build_net(NetConfig(architecture="policy_value", board_size=7, feature_set="alphago_value", blocks=1,
                              channels=8))
    weights = tmp_path / "pv.safetensors"
    save_weights(weights, net)
    config = tmp_path / "search.yaml"
    config.write_text("visits: 32\npolicy: net\nuse_value: true\nuse_rollouts: true\nlambda: 0.5\n")
    cmds = "boardsize 7\n1 genmove b\n2 lz-analyze w 5\nname\nboardsize 9\nquit\n"
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "gtp", "--size", "7", "--weights", str(weights), "--config", str(config),
         "--no-records"], input=cmds.encode(), capture_output=True, timeout=120,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert "=1 " in out and "=2\n" in out and "= tengen" in out
    assert "? unacceptable size" in out  # the net plays 7x7 only
    # Rollouts-only ablation: no network at all.
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "gtp", "--size", "9", "--config", "configs/search/r.yaml", "--visits",
         "64", "--no-records"], input=b"genmove b\nquit\n", capture_output=True, timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0 and proc.stdout.decode().startswith("= "), proc.stderr.decode()[-2000:]
    # The policy-only ablation needs weights: one clear line, exit 2.
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "gtp", "--config", "configs/search/p.yaml"], input=b"",
        capture_output=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 2 and b"need a network" in proc.stderr and b"Traceback" not in proc.stderr
