"""engine.gtp_game.play_gtp_game: real GnuGo games through the shared loop (counted, scored by
GnuGo, one engine playing both colours after an opening, the move limit, a stop request) and the
forfeits of a fake engine (resignation, illegal move, refused move, crash); and the client's
report of an engine that dies at once."""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

import pytest

from engine import _core
from engine.coords import parse_vertex
from engine.gtp_client import GtpClient, GtpEngineDied, gnugo_command
from engine.gtp_game import GameStopped, play_gtp_game
from engine.sgf import result_string
from tests.test_arena import FAKE_ENGINE  # modes: illegal, garbage, crash, slow, resign, reject

pytestmark = pytest.mark.gnugo

SIZE, KOMI = 5, 0.5

def gnugo_engine(seed: int) -> GtpClient:
    return GtpClient(gnugo_command(level=1, extra=["--seed", str(seed)]), timeout=60)


def replay(moves: tuple[tuple[int, int], ...]) -> _core.Game:
    game = _core.Game(SIZE, KOMI)
    for colour, move in moves:
        assert game.illegal_reason(colour, move) is None
        game.play(colour, move)
    return game


def test_two_gnugo_engines_play_a_counted_game(gnugo: str) -> None:
    heard: list[tuple[int, int]] = []
    with gnugo_engine(1) as black, gnugo_engine(2) as white:
        outcome = play_gtp_game(black, white, size=SIZE, komi=KOMI, max_moves=75, score_playouts=50, seed=1,
                                gnugo_referee=True, score_by="gnugo",
                                on_move=lambda c, m, s: heard.append((c, m)))  # fmt: skip
        if outcome.reason == "score":  # the engines' boards equal the referee's
            stones = {parse_vertex(v, SIZE) for v in black.send("list_stones black").split()}
            game = replay(outcome.moves)
            assert game.is_over
            assert stones == {m for m in range(SIZE * SIZE) if game.board().flat[m] == _core.BLACK}
    assert outcome.reason in ("score", "resign"), outcome
    assert heard == list(outcome.moves) and len(heard) >= 4
    if outcome.reason == "score":
        assert outcome.loser is None and outcome.engine_score is not None and outcome.referee_score is not None
        assert outcome.result == result_string(outcome.referee_score)  # GnuGo's count decided
        assert outcome.referee_agrees == ((outcome.engine_score > 0) == (outcome.referee_score > 0))
        assert outcome.winner == (None if outcome.referee_score == 0 else
                                  _core.BLACK if outcome.referee_score > 0 else _core.WHITE)
    else:
        assert outcome.result == ("W+R" if outcome.loser == _core.BLACK else "B+R")


def test_one_engine_plays_both_colours_from_an_opening_up_to_the_move_limit(gnugo: str) -> None:
    opening = [parse_vertex(v, SIZE) for v in ("C3", "B2", "D4")]
    with gnugo_engine(3) as engine:
        outcome = play_gtp_game(engine, engine, size=SIZE, komi=KOMI, max_moves=7, score_playouts=20, seed=3,
                                opening=opening)  # fmt: skip
        # The engine heard every move once: its board matches the referee's.
        game = replay(outcome.moves)
        stones = {parse_vertex(v, SIZE) for v in engine.send("list_stones white").split()}
        assert stones == {m for m in range(SIZE * SIZE) if game.board().flat[m] == _core.WHITE}
    assert [m for _, m in outcome.moves[:3]] == opening
    assert [c for c, _ in outcome.moves[:3]] == [_core.BLACK, _core.WHITE, _core.BLACK]
    if outcome.reason == "move-limit":
        assert len(outcome.moves) == 7 and outcome.detail == "stopped after 7 moves"
        assert outcome.engine_score is not None and outcome.referee_score is None
        assert outcome.result == result_string(outcome.engine_score)
    else:
        assert outcome.reason in ("score", "resign"), outcome


@pytest.mark.parametrize(
    "mode, reason, detail",
    [("resign", "resign", "resigned"), ("garbage", "illegal", "Z99"), ("illegal", "illegal", "occupied"),
     ("reject", "protocol", "error"), ("crash", "crash", "closed its output|exited"),
     ("slow", "timeout", "did not answer within 1 s")],
)  # fmt: skip
def test_a_faulty_engine_loses_with_the_reason(gnugo: str, tmp_path: Path, mode: str, reason: str,
                                               detail: str) -> None:  # fmt: skip
    script = tmp_path / "fake_gtp.py"
    script.write_text(FAKE_ENGINE)
    timeout = 1.0 if mode == "slow" else None
    with GtpClient([sys.executable, str(script), mode], timeout=30) as fake, gnugo_engine(4) as opponent:
        outcome = play_gtp_game(opponent, fake, size=SIZE, komi=KOMI, max_moves=75, score_playouts=20, seed=4,
                                names=("gnugo", f"fake-{mode}"), move_timeout=timeout)  # fmt: skip
    assert outcome.reason == reason, outcome
    assert outcome.loser == _core.WHITE and outcome.winner == _core.BLACK
    assert outcome.result == {"resign": "B+R", "timeout": "B+T"}.get(reason, "B+F")
    assert outcome.engine_score is None and outcome.referee_score is None
    assert re.search(detail, outcome.detail), outcome.detail
    assert f"fake-{mode}" in outcome.detail
    replay(outcome.moves)  # the moves kept are the legal ones before the fault


def test_a_stop_request_ends_the_game_without_a_result(gnugo: str) -> None:
    stop = threading.Event()
    stop.set()
    with gnugo_engine(5) as black, gnugo_engine(6) as white, pytest.raises(GameStopped):
        play_gtp_game(black, white, size=SIZE, komi=KOMI, max_moves=75, score_playouts=20, seed=5, stop=stop)


def test_an_illegal_opening_is_refused(gnugo: str) -> None:
    with gnugo_engine(7) as engine, pytest.raises(ValueError, match="opening move C3 is illegal"):
        play_gtp_game(engine, engine, size=SIZE, komi=KOMI, max_moves=10, score_playouts=20, seed=7,
                      opening=[parse_vertex("C3", SIZE)] * 2)  # fmt: skip


def test_an_engine_that_dies_at_once_shows_its_own_error_message(tmp_path: Path) -> None:
    script = tmp_path / "bad_flag.py"
    script.write_text("import sys\nsys.stderr.write('error: unknown flag --frobnicate\\n')\nsys.exit(2)\n")
    with GtpClient([sys.executable, str(script)], timeout=10) as client, pytest.raises(GtpEngineDied) as info:
        client.send("name")
    assert "unknown flag --frobnicate" in str(info.value) and "\n" not in str(info.value)
