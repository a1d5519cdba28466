"""Full 9x9 games of the built-in player (`tengen gtp`, UCT-RAVE) against GnuGo 3.8 level 1,
refereed move by move by the arena: no illegal move from either side, every game finished."""

from __future__ import annotations

from pathlib import Path

import pytest
from sgfmill import sgf

from engine import _core
from engine.arena.config import config_from_dict
from engine.arena.tournament import run_tournament
from engine.gtp_client import find_gnugo

pytestmark = pytest.mark.gnugo


def test_builtin_player_plays_full_games_against_gnugo(tmp_path: Path) -> None:
    if find_gnugo() is None:
        pytest.fail("GnuGo is required (apt-get install gnugo puts it at /usr/games/gnugo) and was not found")
    config = config_from_dict({
        "name": "vs-gnugo",
        "board_size": 9,
        "komi": 7,
        "games": 2,
        "seed": 11,
        "parallel": 2,
        "move_timeout": 60,
        "players": [
            {"name": "tengen-uct", "kind": "tengen", "args": {"visits": 1000, "threads": 1}},
            {"name": "gnugo-1", "kind": "gnugo", "level": 1},
        ],
    })
    run = run_tournament(config, tmp_path, progress=False)
    assert run.played == 2 and run.complete
    for r in run.results:
        print(f"{r.black} (B) vs {r.white} (W): {r.result} by {r.reason} after {r.moves} moves")
        assert r.reason in ("score", "resign"), r  # not illegal / timeout / crash / protocol
        assert r.moves >= 10
        # Replaying the record with tengen's rules: every move legal, the result as recorded.
        record = sgf.Sgf_game.from_bytes((tmp_path / r.sgf).read_bytes())
        game = _core.Game(9, 7)
        for node in record.get_main_sequence()[1:]:
            colour, point = node.get_move()
            move = 81 if point is None else point[1] + (8 - point[0]) * 9
            c = 1 if colour == "b" else 2
            assert game.is_legal(c, move), (r.sgf, colour, point)
            game.play(c, move)
        if r.reason == "score":
            assert game.is_over
    assert {run.results[0].black, run.results[1].black} == {"tengen-uct", "gnugo-1"}  # colours alternate
