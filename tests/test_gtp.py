"""GTP conformance: in-process through GtpEngine (handle and serve), and through a real
`python -m tengen_cli gtp` subprocess. Also the player's clock and pass/resign policy."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import _core
from engine.clock import GameClock, TimeSettings
from engine.coords import parse_vertex
from engine.gtp import GtpConfig, GtpEngine, clean_line
from engine.gtp.handicap import handicap_points
from engine.player import RESIGN, Player, PlayerConfig

REPO = Path(__file__).resolve().parents[1]


def make_engine(size: int = 9, visits: int | None = 64, resign: float = 0.0, **kw: object) -> GtpEngine:
    player = Player(PlayerConfig(visits=visits, resign_below=resign))
    return GtpEngine(player, GtpConfig(size=size, **kw), out=io.StringIO())  # type: ignore[arg-type]


def ask(engine: GtpEngine, line: str) -> str:
    answer = engine.handle(line)
    assert answer is not None, line
    assert answer.endswith("\n\n") and "\n\n" not in answer[:-2], (line, answer)
    return answer


def ok(engine: GtpEngine, line: str) -> str:
    answer = ask(engine, line)
    assert answer.startswith("="), (line, answer)
    return answer[1:].strip()


def fail(engine: GtpEngine, line: str) -> str:
    answer = ask(engine, line)
    assert answer.startswith("?"), (line, answer)
    return answer[1:].strip()


def play_all(engine: GtpEngine, color: str, vertices: list[str]) -> None:
    for v in vertices:
        ok(engine, f"play {color} {v}")


# ---------------------------------------------------------------------------------- protocol


def test_ids_are_echoed() -> None:
    e = make_engine()
    assert ask(e, "17 name") == "=17 tengen\n\n"
    assert ask(e, "18 frobnicate") == "?18 unknown command\n\n"
    assert ask(e, "19 boardsize 1") == "?19 unacceptable size\n\n"
    assert ask(e, "20 clear_board") == "=20\n\n"
    assert ask(e, "protocol_version") == "= 2\n\n"
    assert ask(e, "21") == "?21 syntax error\n\n"


def test_blank_and_comment_lines_get_no_answer() -> None:
    e = make_engine()
    for line in ["", "   ", "\n", "# just a comment", "  # indented comment", "\t\t", "\x01\x02\r\n"]:
        assert e.handle(line) is None, repr(line)
    assert ask(e, "name # trailing comment") == "= tengen\n\n"
    assert ask(e, "\tna\x07me\r\n") == "= tengen\n\n"
    assert clean_line("na\x07me\tx\r") == "name x"
    assert clean_line("play b A1 # c") == "play b A1"


def test_serve_reads_bytes_answers_each_command_once() -> None:
    out = io.StringIO()
    e = make_engine(size=9)
    data = b"1 name\n\n# comment\n2 version\n\xff\xfe bogus\n3 boardsize 7\n4 quit\n5 name\n"
    e.serve(io.BytesIO(data), out)
    text = out.getvalue()
    answers = text.split("\n\n")[:-1]
    assert answers == ["=1 tengen", "=2 0.1.0", "? unknown command", "=3", "=4"]  # nothing after quit
    assert e.size == 7


def test_required_commands_and_errors() -> None:
    e = make_engine()
    assert ok(e, "version")
    assert ok(e, "known_command genmove") == "true"
    assert ok(e, "known_command kgs-genmove_cleanup") == "true"
    assert ok(e, "known_command bogus") == "false"
    assert fail(e, "known_command") == "syntax error"
    listed = ok(e, "list_commands").split("\n")
    for name in ["protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
                 "clear_board", "komi", "play", "genmove", "undo", "showboard", "final_score", "final_status_list",
                 "fixed_handicap", "place_free_handicap", "set_free_handicap", "time_settings", "time_left",
                 "kgs-time_settings", "kgs-genmove_cleanup", "loadsgf", "printsgf", "reg_genmove",
                 "gogui-analyze_commands"]:
        assert name in listed
    assert all(ok(e, f"known_command {name}") == "true" for name in listed)
    assert fail(e, "boardsize 1") == "unacceptable size"
    assert fail(e, "boardsize 26") == "unacceptable size"
    assert fail(e, "boardsize -9") == "unacceptable size"
    assert fail(e, "boardsize 99999999999999999999999") == "unacceptable size"
    assert fail(e, "boardsize nine") == "syntax error"
    assert fail(e, "boardsize") == "syntax error"
    assert fail(e, "komi NaN") == "syntax error"
    assert fail(e, "komi 1e400") == "syntax error"
    assert fail(e, "komi") == "syntax error"
    ok(e, "komi 6.5")
    assert e.game.komi == 6.5
    ok(e, "boardsize 5")
    assert e.game.komi == 6.5 and e.size == 5  # komi survives boardsize
    ok(e, "play b C3")
    assert fail(e, "play w C3") == "illegal move"
    assert fail(e, "play w Z9") == "syntax error"
    assert fail(e, "play w F1") == "syntax error"  # off the 5x5 board
    assert fail(e, "play purple C2") == "syntax error"
    assert fail(e, "play w") == "syntax error"
    ok(e, "play w pass")
    ok(e, "play w D4")  # the same colour twice is allowed
    assert fail(e, "genmove") == "syntax error"
    assert fail(e, "genmove purple") == "syntax error"
    move = ok(e, "genmove b")
    assert move == "pass" or e.game.board()[divmod(parse_vertex(move, 5), 5)] == 1
    ok(e, "clear_board")
    assert e.game.move_number == 0 and not e.game.board().any()


def test_undo_semantics() -> None:
    e = make_engine(size=5)
    assert fail(e, "undo") == "cannot undo"
    ok(e, "play b C3")
    ok(e, "play w C4")
    ok(e, "undo")
    assert e.game.move_number == 1 and e.game.to_move == 2 and e.game.board()[1, 2] == 0
    ok(e, "undo")
    assert e.game.move_number == 0 and not e.game.board().any()
    assert fail(e, "undo") == "cannot undo"
    # A capture is restored by undo.
    e2 = make_engine(size=5)
    play_all(e2, "w", ["A1"])
    play_all(e2, "b", ["A2", "B1"])  # captures A1
    assert e2.game.board()[4, 0] == 0
    ok(e2, "undo")
    assert e2.game.board()[4, 0] == 2
    # Handicap stones are not moves: they cannot be undone.
    e3 = make_engine(size=9)
    ok(e3, "fixed_handicap 2")
    assert fail(e3, "undo") == "cannot undo"


def test_ko_and_suicide_are_illegal_over_gtp() -> None:
    e = make_engine(size=5)
    for line in ["play b B4", "play w C4", "play b A3", "play w D3", "play b B2", "play w C2", "play b C3",
                 "play w B3"]:
        ok(e, line)  # white B3 captures C3: a ko
    assert fail(e, "play b C3") == "illegal move"
    e2 = make_engine(size=5)
    play_all(e2, "w", ["A2", "B1"])
    assert fail(e2, "play b A1") == "illegal move"  # suicide


def test_showboard() -> None:
    e = make_engine(size=9)
    ok(e, "play b E5")
    ok(e, "play w C3")
    board = ok(e, "showboard").splitlines()
    assert board[0].split() == list("ABCDEFGHJ")
    row5 = next(line for line in board if line.strip().startswith("5 "))
    assert row5.split()[0] == "5" and row5.split()[-1] == "5" and "X" in row5
    row3 = next(line for line in board if line.strip().startswith("3 "))
    assert "(O)" in row3  # the last move is marked
    assert "Black to move" in board[-1]


# ---------------------------------------------------------------------------------- handicap


def test_handicap_commands() -> None:
    e = make_engine(size=19)
    stones = ok(e, "fixed_handicap 4").split()
    assert sorted(stones) == sorted(["D4", "Q16", "D16", "Q4"])
    assert fail(e, "fixed_handicap 2") == "board not empty"
    assert fail(e, "place_free_handicap 2") == "board not empty"
    assert fail(e, "set_free_handicap A1 B2") == "board not empty"
    assert e.game.to_move == 2 and int((e.game.board() == 1).sum()) == 4
    e = make_engine(size=19)
    assert ok(e, "fixed_handicap 9").split()[-1] == "K10"
    e = make_engine(size=9)
    assert fail(e, "fixed_handicap 10") == "invalid number of stones"
    assert fail(e, "fixed_handicap 1") == "invalid number of stones"
    assert fail(e, "fixed_handicap x") == "syntax error"
    placed = ok(e, "place_free_handicap 3").split()
    assert len(placed) == 3 and len(set(placed)) == 3
    assert int((e.game.board() == 1).sum()) == 3 and e.game.to_move == 2
    e = make_engine(size=5)  # no fixed pattern: free handicap spreads the stones
    placed = ok(e, "place_free_handicap 6").split()
    assert len(set(placed)) == 6 and int((e.game.board() == 1).sum()) == 6
    assert fail(make_engine(size=5), "place_free_handicap 1") == "invalid number of stones"
    assert fail(make_engine(size=5), "place_free_handicap 25") == "invalid number of stones"
    e = make_engine(size=9)
    assert fail(e, "set_free_handicap C3 C3") == "bad vertex list"
    assert fail(e, "set_free_handicap C3 pass") == "bad vertex list"
    assert fail(e, "set_free_handicap C3") == "bad vertex list"
    assert fail(e, "set_free_handicap C3 Z99") == "bad vertex list"
    ok(e, "set_free_handicap C3 G7 C7")
    assert int((e.game.board() == 1).sum()) == 3 and e.game.to_move == 2
    assert handicap_points(9, 9) and handicap_points(9, 10) == []
    assert len(handicap_points(7, 4)) == 4 and handicap_points(7, 5) == []
    assert handicap_points(6, 2) == []


def test_handicap_game_record(tmp_path: Path) -> None:
    e = make_engine(size=9, sgf_dir=tmp_path)
    ok(e, "fixed_handicap 2")
    ok(e, "play w E5")
    ok(e, "clear_board")
    (record,) = tmp_path.glob("*.sgf")
    data = record.read_bytes().replace(b"\n", b"")
    assert b"HA[2]" in data and b"AB[" in data and b";W[ee]" in data


# ---------------------------------------------------------------------------------- scoring


def finished_5x5(komi: str = "7.5") -> GtpEngine:
    """Black walls off columns A-C, white D-E; a white stone at A3 is dead inside black's area."""
    e = make_engine(size=5)
    ok(e, f"komi {komi}")
    play_all(e, "b", ["C1", "C2", "C3", "C4", "C5"])
    play_all(e, "w", ["D1", "D2", "D3", "D4", "D5", "A3"])
    return e


def test_final_score_and_status_on_a_finished_game() -> None:
    e = finished_5x5()
    ok(e, "play b pass")
    ok(e, "play w pass")
    assert e.game.is_over
    dead = ok(e, "final_status_list dead").split()
    assert dead == ["A3"]
    alive = ok(e, "final_status_list alive").split()
    assert sorted(alive) == sorted(["C1", "C2", "C3", "C4", "C5", "D1", "D2", "D3", "D4", "D5"])
    assert ok(e, "final_status_list seki") == ""
    assert ok(e, "final_score") == "W+2.5"  # black A-C = 15, white D-E = 10, komi 7.5
    assert fail(e, "final_status_list sleepy") == "syntax error"
    assert fail(e, "final_status_list") == "syntax error"


def test_pass_when_opponent_passed_and_we_win_but_cleanup_plays_on() -> None:
    e = finished_5x5(komi="0.5")  # black wins by 4.5 once A3 is off
    ok(e, "play w pass")
    assert ok(e, "reg_genmove b") == "pass"
    assert e.game.move_number == 12  # reg_genmove does not play
    move = ok(e, "kgs-genmove_cleanup b")
    assert move not in ("pass", "resign")
    assert e.game.moves()[-1] == (1, parse_vertex(move, 5))
    # Losing side does not pass just because the opponent did.
    e2 = finished_5x5(komi="7.5")
    ok(e2, "play w pass")
    assert ok(e2, "reg_genmove b") != "pass"


def test_genmove_resigns_a_hopeless_game(tmp_path: Path) -> None:
    e = make_engine(size=5, visits=400, resign=0.05, sgf_dir=tmp_path)
    ok(e, "komi 100")
    assert ask(e, "genmove b") == "= resign\n\n"
    assert e.game.move_number == 0  # resigning plays nothing
    ok(e, "play b C3")
    ok(e, "genmove w")  # white is winning: no resignation
    ok(e, "quit")
    e2 = make_engine(size=5, visits=400, resign=0.05, sgf_dir=tmp_path / "r")
    ok(e2, "komi 100")
    ok(e2, "play b C3")
    ok(e2, "play w C2")
    assert ok(e2, "genmove b") == "resign"
    e2.serve(io.BytesIO(b""), io.StringIO())  # end of input: the game is recorded
    (record,) = (tmp_path / "r").glob("*.sgf")
    data = record.read_bytes()
    assert b"RE[W+R]" in data and b"PB[tengen]" in data


def test_only_the_player_resigns() -> None:
    """Backends report statistics; the resign decision (threshold, minimum visits) is the Player's."""
    from engine.analysis import Candidate
    from engine.backends.base import Budget, SearchOutcome
    from engine.backends.uct import UctSearchBackend

    hopeless = _core.Game(5, 100.0)
    out = UctSearchBackend().search(hopeless, Budget(visits=400))
    assert out.winrate < 0.05 and out.move != RESIGN and hopeless.is_legal(1, out.move)

    class Fixed:
        """A backend whose every search reports the same winrate after `visits` simulations."""

        name = "fixed"

        def __init__(self, winrate: float, visits: int) -> None:
            self.winrate, self.visits = winrate, visits

        def supports_size(self, size: int) -> bool:
            return True

        def search(self, game: _core.Game, budget: Budget, stop: object = None, on_update: object = None,
                   update_seconds: float = 1.0) -> SearchOutcome:
            move = parse_vertex("C3", game.size)
            cand = Candidate(move=move, visits=self.visits, winrate=self.winrate, prior=1.0, pv=(move,))
            return SearchOutcome(move=move, candidates=[cand], visits=self.visits, seconds=0.0, winrate=self.winrate)

        def position_estimates(self, games: list[_core.Game]) -> None:
            return None

        def close(self) -> None:
            pass

    def decide(winrate: float, visits: int, resign_below: float = 0.05) -> int:
        player = Player(PlayerConfig(visits=10, resign_below=resign_below), backend=Fixed(winrate, visits))
        return player.genmove(_core.Game(5, 0.5), 1)

    c3 = parse_vertex("C3", 5)
    assert decide(0.01, 1000) == RESIGN
    assert decide(0.01, 100) == c3  # too few simulations to trust (resign_min_visits 200)
    assert decide(0.01, 1000, resign_below=0.0) == c3  # resignation off
    assert decide(0.2, 1000) == c3
    assert decide(float("nan"), 1000) == c3  # a non-finite winrate never resigns


# ---------------------------------------------------------------------------------- records


def test_loadsgf_printsgf_round_trip(tmp_path: Path) -> None:
    e = make_engine(size=9)
    ok(e, "komi 5.5")
    for line in ["play b E5", "play w C3", "play b pass", "play w G7"]:
        ok(e, line)
    path = tmp_path / "g.sgf"
    ok(e, f"printsgf {path}")
    text = ok(e, "printsgf").replace("\n", "")
    assert "SZ[9]" in text and "KM[5.5]" in text and "RU[Chinese]" in text
    assert ";B[ee]" in text and ";W[cg]" in text and (";B[]" in text or ";B[tt]" in text)
    assert path.read_bytes().replace(b"\n", b"") == text.encode()
    e2 = make_engine(size=13)
    assert ok(e2, f"loadsgf {path}") == "black"
    assert e2.size == 9 and e2.game.komi == 5.5 and e2.game.moves() == e.game.moves()
    assert e2.game.hash == e.game.hash
    assert ok(e2, f"loadsgf {path} 2") == "white"  # the position before move 2
    assert e2.game.move_number == 1
    assert ok(e2, f"loadsgf {path} 1") == "black" and e2.game.move_number == 0
    assert fail(e2, f"loadsgf {tmp_path / 'missing.sgf'}") == "cannot load file"
    assert fail(e2, f"loadsgf {path} zero") == "syntax error"
    assert fail(e2, "loadsgf") == "syntax error"
    (tmp_path / "bad.sgf").write_text("(;GM[1]SZ[9];B[zz")
    assert fail(e2, f"loadsgf {tmp_path / 'bad.sgf'}") == "cannot load file"
    (tmp_path / "illegal.sgf").write_text("(;GM[1]SZ[9];B[ee];W[ee])")
    assert fail(e2, f"loadsgf {tmp_path / 'illegal.sgf'}") == "cannot load file"
    assert e2.size == 9 and e2.game.move_number == 0  # failed loads leave the game alone
    assert fail(e2, f"printsgf {path / 'inside-a-file.sgf'}").startswith("cannot write")


def test_game_records_written(tmp_path: Path) -> None:
    e = make_engine(size=5, sgf_dir=tmp_path)
    ok(e, "clear_board")  # empty games are not recorded
    ok(e, "play b C3")
    ok(e, "clear_board")
    ok(e, "play b C3")
    ok(e, "genmove w")
    ok(e, "boardsize 7")
    ok(e, "play b D4")
    ok(e, "quit")
    e.serve(io.BytesIO(b""), io.StringIO())
    records = sorted(tmp_path.glob("*.sgf"))
    assert len(records) == 3
    assert all(b"B[cc]" in r.read_bytes() or b"B[dd]" in r.read_bytes() for r in records)
    assert sum(b"PW[tengen]" in r.read_bytes() for r in records) == 1
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


# ---------------------------------------------------------------------------------- time


def test_time_settings_bound_genmove() -> None:
    e = make_engine(size=9, visits=None)
    ok(e, "time_settings 2 0 0")  # absolute: 2 s for the game
    for color in "bwbw":
        start = time.monotonic()
        move = ok(e, f"genmove {color}")
        assert time.monotonic() - start < 10.0  # generous: the budget is a fraction of 2 s
        assert move == "pass" or e.game.moves()[-1][1] == parse_vertex(move, 9)
    ok(e, "time_left b 1 0")
    start = time.monotonic()
    assert ok(e, "genmove b")
    assert time.monotonic() - start < 10.0
    ok(e, "kgs-time_settings byoyomi 0 1 3")
    assert ok(e, "genmove w")
    ok(e, "kgs-time_settings canadian 0 1 5")
    ok(e, "time_left w 1 5")
    assert ok(e, "genmove w")
    ok(e, "kgs-time_settings absolute 1")
    ok(e, "kgs-time_settings none")
    assert fail(e, "kgs-time_settings hourglass 5") == "syntax error"
    assert fail(e, "kgs-time_settings canadian 10 10 0") == "syntax error"
    assert fail(e, "kgs-time_settings absolute") == "syntax error"
    assert fail(e, "time_left b lots 0") == "syntax error"
    assert fail(e, "time_left purple 5 0") == "syntax error"
    assert fail(e, "time_settings 1 2") == "syntax error"
    assert fail(e, "time_settings -1 0 0") == "syntax error"
    assert fail(e, "time_settings nan 0 0") == "syntax error"


def test_time_settings_semantics() -> None:
    assert TimeSettings.from_gtp(60, 0, 0).system == "absolute"
    assert TimeSettings.from_gtp(60, 30, 0).system == "none"  # byo-yomi time without stones: no limit
    canadian = TimeSettings.from_gtp(60, 30, 5)
    assert (canadian.system, canadian.period, canadian.stones) == ("canadian", 30, 5)
    with pytest.raises(ValueError):
        TimeSettings(system="sundial")


def test_clock_budget_keeps_a_margin_and_a_fraction() -> None:
    clock = GameClock(TimeSettings(system="absolute", main=60.0))
    assert GameClock().budget(1, 81, 0.5, 0.25) is None
    planned, cap = clock.budget(1, 81, 0.5, 0.25)  # type: ignore[misc]
    assert 0 < planned <= cap <= 0.25 * 60
    clock.time_left(1, 4.0, 0)
    planned, cap = clock.budget(1, 81, 0.5, 0.25)  # type: ignore[misc]
    assert cap <= 1.0 - 0.5 + 1e-9 and planned <= cap
    clock.time_left(1, 0.0, 0)
    planned, cap = clock.budget(1, 81, 0.5, 0.25)  # type: ignore[misc]
    assert cap <= 0.05  # out of time: move at once
    # Canadian byo-yomi: the period is shared by its stones, with a margin for each.
    clock = GameClock(TimeSettings(system="canadian", main=0.0, period=30.0, stones=5))
    planned, cap = clock.budget(2, 81, 0.5, 0.25)  # type: ignore[misc]
    assert planned <= 30.0 / 5 and cap <= 30.0 - 5 * 0.5
    # Japanese byo-yomi: a move never overruns its period.
    clock = GameClock(TimeSettings(system="byoyomi", main=0.0, period=10.0, periods=3))
    planned, cap = clock.budget(1, 81, 0.5, 0.25)  # type: ignore[misc]
    assert cap <= 9.5


def test_time_margin_flag_sets_how_much_of_a_period_is_kept_back(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from engine.gtp_flags import add_player_flags
    from tengen_cli.main import main
    from tengen_cli.play import player_config

    parser = argparse.ArgumentParser()
    add_player_flags(parser)
    game, clock = _core.Game(9, 7.0), GameClock(TimeSettings.from_gtp(0, 1.0, 1))  # 1 s byo-yomi
    caps = {}
    for flags in ([], ["--time-margin", "0.2"], ["--time-margin", "0"]):
        config = player_config(parser.parse_args(flags))
        budget, planned = Player(config).move_budget(game, _core.BLACK, clock)
        assert budget.seconds is not None and planned is not None and planned <= budget.seconds
        caps[tuple(flags)] = budget.seconds
    assert caps == {(): pytest.approx(0.5), ("--time-margin", "0.2"): pytest.approx(0.8),
                    ("--time-margin", "0"): pytest.approx(1.0)}  # fmt: skip
    for bad in ("-0.1", "nan", "60"):
        assert main(["gtp", "--time-margin", bad]) == 2
        err = capsys.readouterr().err
        assert "--time-margin must be a number of seconds in [0, 60)" in err and err.count("\n") == 1, err


def test_clock_charges_our_own_time() -> None:
    clock = GameClock(TimeSettings(system="absolute", main=10.0))
    clock.charge(1, 3.0)
    assert clock.clocks[1].main == 7.0 and clock.clocks[2].main == 10.0
    clock.charge(1, 30.0)
    assert clock.clocks[1].main == 0.0
    clock = GameClock(TimeSettings(system="canadian", main=1.0, period=20.0, stones=2))
    clock.charge(1, 3.0)  # 2 s into the first period: one stone of two played
    c = clock.clocks[1]
    assert c.overtime and c.count == 1 and c.period == pytest.approx(18.0)
    clock.charge(1, 5.0)  # the period's stones are done: a fresh period
    assert c.count == 2 and c.period == 20.0
    clock = GameClock(TimeSettings(system="byoyomi", main=0.0, period=5.0, periods=3))
    clock.charge(2, 4.0)  # within the period: nothing lost
    assert clock.clocks[2].count == 3
    clock.charge(2, 6.0)
    assert clock.clocks[2].count == 2


def test_player_config_rejects_nonsense() -> None:
    for kwargs in ({"visits": 0}, {"seconds": 0.0}, {"seconds": float("nan")}, {"threads": 0},
                   {"resign_below": 0.7}, {"max_fraction": 0.0}):
        with pytest.raises(ValueError):
            PlayerConfig(**kwargs)


def test_player_plays_a_2x2_game_to_the_end() -> None:
    player = Player(PlayerConfig(visits=32, resign_below=0.0))
    game = _core.Game(2, 0.5)
    for _ in range(60):
        if game.is_over:
            break
        move = player.genmove(game, game.to_move)
        assert move != RESIGN and game.is_legal(game.to_move, move)
        game.play(game.to_move, move)
    assert game.is_over


# ---------------------------------------------------------------------------------- whole games


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7, 9, 13, 19])
def test_self_play_every_size_is_legal(size: int) -> None:
    e = make_engine(size=size, visits=24)
    ok(e, f"boardsize {size}")
    color = "b"
    for _ in range(3 * size * size + 10):
        answer = ok(e, f"genmove {color}")
        if answer == "resign" or e.game.is_over:
            break
        color = "w" if color == "b" else "b"
    assert e.game.is_over  # no resignation (disabled): the game ends by two passes
    assert e.game.move_number >= 2
    replay = _core.Game(size, 7.5)  # every move recorded is legal when replayed
    for c, m in e.game.moves():
        assert replay.is_legal(c, m)
        replay.play(c, m)
    assert ok(e, "final_score")[0] in "BW0"


# ---------------------------------------------------------------------------------- analysis


def test_analysis_streams_until_next_line() -> None:
    out = io.StringIO()
    e = GtpEngine(Player(PlayerConfig()), GtpConfig(size=9), out=out)

    class SlowStream(io.BytesIO):
        """Delivers the analysis commands, each next line a little later."""

        def __init__(self) -> None:
            super().__init__()
            self.lines = [b"5 lz-analyze b 10\n", b"6 kata-analyze w 10 ownership true\n", b"name\n"]

        def readline(self, *a: object) -> bytes:
            if not self.lines:
                return b""
            if len(self.lines) < 3:
                time.sleep(0.4)
            return self.lines.pop(0)

    e.serve(SlowStream())
    text = out.getvalue()
    assert text.startswith("=5\n")
    lz_part, rest = text.split("\n\n", 1)
    assert "info move" in lz_part and "winrate" in lz_part
    assert rest.startswith("=6\n")
    kata_part, tail = rest.split("\n\n", 1)
    assert "utility" in kata_part and "ownership" in kata_part
    assert tail == "= tengen\n\n"


def test_an_update_with_no_candidates_writes_no_blank_line() -> None:
    """A search peeked before its first playout has no candidates: that update must not
    print an empty line, which would end the streamed answer early."""

    class EarlyUpdates(Player):
        def analyze(self, game, color, stop, on_update, update_seconds=1.0):
            on_update([])
            return super().analyze(game, color, stop, on_update, update_seconds)

    out = io.StringIO()
    e = GtpEngine(EarlyUpdates(PlayerConfig()), GtpConfig(size=9), out=out)
    assert e.handle("7 lz-analyze b 5") is None
    time.sleep(0.3)
    e.stop_analysis()
    text = out.getvalue()
    assert text.startswith("=7\ninfo move ")
    assert text.endswith("\n\n") and text.count("\n\n") == 1


def test_genmove_analyze_ends_with_play() -> None:
    out = io.StringIO()
    e = GtpEngine(Player(PlayerConfig(seconds=0.3)), GtpConfig(size=9), out=out)
    assert e.handle("3 lz-genmove_analyze b 5") is None
    text = out.getvalue()
    assert text.startswith("=3\n") and text.endswith("\n\n")
    assert text.strip().splitlines()[-1].startswith("play ")
    assert e.game.move_number == 1


# ---------------------------------------------------------------------------------- subprocess


def test_subprocess_engine_answers_and_survives(tmp_path: Path) -> None:
    commands = "\n".join(["1 name", "# comment", "", "boardsize 7", "2 genmove b", "play w garbage",
                          "3 showboard", "\x00\x01", "4 quit", "5 name"]) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "tengen_cli", "gtp", "--visits", "50", "--sgf-dir", str(tmp_path)],
        input=commands.encode(), capture_output=True, timeout=120, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    answers = out.split("\n\n")
    assert answers[-1] == "" and answers[0] == "=1 tengen"
    assert answers[1] == "="  # boardsize
    assert answers[2].startswith("=2 ") and answers[3] == "? syntax error" and answers[4].startswith("=3 \n")
    assert answers[5] == "=4" and len(answers) == 7  # nothing after quit
    assert len(list(tmp_path.glob("*.sgf"))) == 1


def test_quit_exits_cleanly_while_the_gui_keeps_stdin_open() -> None:
    """GUIs send `quit` and keep the pipe open until the engine exits: the engine must exit 0
    with nothing on stderr (a reader thread blocked on stdin used to abort shutdown)."""
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "tengen_cli", "gtp", "--no-records"], cwd=REPO,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(b"1 name\n2 quit\n")
        proc.stdin.flush()
        try:
            rc = proc.wait(timeout=60)
        finally:
            proc.kill()
        out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
        proc.stdin.close()
        assert (rc, err) == (0, "")
        assert out == "=1 tengen\n\n=2\n\n"


def test_fd_line_reader_splits_lines_and_honours_the_limit() -> None:
    import os

    from engine.gtp import FdLineReader

    r, w = os.pipe()
    os.write(w, b"one\n" + b"x" * 10 + b"\ntwo\nlast")
    os.close(w)
    reader = FdLineReader(r)
    assert reader.readline(100) == b"one\n"
    assert reader.readline(4) == b"xxxx" and reader.readline(100) == b"xxxxxx\n"
    assert [reader.readline(), reader.readline(), reader.readline()] == [b"two\n", b"last", b""]
    os.close(r)


def test_subprocess_without_budget_flags_answers_genmove() -> None:
    proc = subprocess.run([sys.executable, "-m", "tengen_cli", "gtp", "--size", "5", "--no-records"],
                          input=b"1 genmove b\n2 quit\n", capture_output=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().startswith("=1 ") and proc.stdout.decode().endswith("=2\n\n")


def test_bad_flags_give_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from tengen_cli.main import main

    for flags, word in ((["--visits", "0"], "--visits"), (["--threads", "0"], "--threads"),
                        (["--threads", "-1"], "--threads"), (["--size", "40"], "board size"),
                        (["--size", "1"], "board size"), (["--seconds", "-1"], "--seconds"),
                        (["--komi", "nan"], "komi"), (["--resign", "0.9"], "--resign")):
        assert main(["gtp", *flags]) == 2, flags
        err = capsys.readouterr().err
        assert word in err and len(err.strip().splitlines()) == 1, (flags, err)
    proc = subprocess.run([sys.executable, "-m", "tengen_cli", "gtp", "--weights", "/nonexistent.safetensors"],
                          capture_output=True, timeout=60, input=b"", cwd=REPO)
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr and b"nonexistent" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


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
        [sys.executable, "-m", "tengen_cli", "gtp", "--size", "7", "--weights", str(weights), "--config", str(config),
         "--no-records"], input=cmds.encode(), capture_output=True, timeout=120, cwd=REPO,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert "=1 " in out and "=2\n" in out and "= tengen" in out
    assert "? unacceptable size" in out  # the net plays 7x7 only
    # Rollouts-only search with heuristic priors: no trained file at all.
    hconfig = tmp_path / "heuristic.yaml"
    hconfig.write_text("visits: 64\npolicy: heuristic\nuse_value: false\nuse_rollouts: true\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tengen_cli", "gtp", "--size", "9", "--config", str(hconfig), "--no-records"],
        input=b"genmove b\nquit\n", capture_output=True, timeout=120, cwd=REPO,
    )
    assert proc.returncode == 0 and proc.stdout.decode().startswith("= "), proc.stderr.decode()[-2000:]
    # Rollout-policy priors and rollouts from a trained rollout-policy file, no network.
    import numpy as np

    from engine.weights import save_rollout_weights

    rollout = tmp_path / "rollout.safetensors"
    save_rollout_weights(rollout, np.full(_core.ROLLOUT_FEATURES, 0.1, np.float32), {})
    rconfig = tmp_path / "rollout_search.yaml"
    rconfig.write_text("visits: 48\npolicy: rollout\nuse_value: false\nuse_rollouts: true\n")
    base = [sys.executable, "-m", "tengen_cli", "gtp", "--size", "9", "--config", str(rconfig), "--no-records"]
    proc = subprocess.run(base + ["--rollout-weights", str(rollout)], input=b"1 genmove b\nquit\n",
                          capture_output=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0 and proc.stdout.decode().startswith("=1 "), proc.stderr.decode()[-2000:]
    proc = subprocess.run(base, input=b"", capture_output=True, timeout=60, cwd=REPO)  # no rollout weights
    assert proc.returncode == 2 and b"--rollout-weights" in proc.stderr and b"Traceback" not in proc.stderr
    proc = subprocess.run(base + ["--rollout-weights", str(weights)], input=b"", capture_output=True, timeout=60,
                          cwd=REPO)  # a network file is no rollout policy
    assert proc.returncode == 2 and b"not a tengen rollout-policy file" in proc.stderr
    # The policy-only ablation needs weights: one clear line, exit 2.
    proc = subprocess.run(
        [sys.executable, "-m", "tengen_cli", "gtp", "--config", "configs/search/p.yaml"], input=b"",
        capture_output=True, timeout=60, cwd=REPO,
    )
    assert proc.returncode == 2 and b"need a network" in proc.stderr and b"Traceback" not in proc.stderr


def test_uct_analysis_priors_are_a_distribution() -> None:
    """lz-analyze's prior of the built-in search is a probability over the root moves (they sum
    to at most 1), not a winrate near 0.5 for every move."""
    from engine.backends.base import Budget
    from engine.backends.uct import UctSearchBackend, UctSettings

    backend = UctSearchBackend(UctSettings())
    out = backend.search(_core.Game(9, 7.0), Budget(visits=2000))
    priors = [c.prior for c in out.candidates]
    assert priors and all(0.0 <= p <= 1.0 for p in priors)
    assert sum(priors) <= 1.0 + 1e-6 and max(priors) > min(priors)
