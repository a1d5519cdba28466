"""Expert corpus generator: a GTP engine (GnuGo level 10 by default) plays itself from varied
random openings, in parallel processes, and every game is written as an SGF file.

This is how a user without a game archive gets supervised-learning data; a user with KGS or
GoGoD archives points `tengen convert` at them instead. Each game is an independent seed, so
runs are reproducible, and files that already exist are skipped, so an interrupted run
resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import math
import shlex
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine import _core as core
from engine.errors import ConfigError
from engine.gtp_client import GtpClient, GtpEngineDied, GtpError, gnugo_command
from engine.gtp_game import COUNTED, play_gtp_game
from engine.player import SCORE_PLAYOUTS
from engine.sgf import SgfRecord, parse_score, result_string, write_sgf


@dataclass(frozen=True)
class ExpertCorpusConfig:
    """What to generate. `engine` is a GTP command line; empty means GnuGo at `level`."""

    out_dir: Path
    games: int = 100
    board_size: int = 9
    komi: float = 7.0
    level: int = 10
    engine: str = ""
    workers: int = 1
    opening_moves_min: int = 2  # random moves (both colours) before the engine takes over
    opening_moves_max: int = 6
    opening_margin: int = 2  # random opening moves keep this far from the edge (when the board allows)
    max_moves: int = 0  # 0: 3 * size * size
    seed: int = 0
    timeout: float = 120.0  # per engine answer

    def __post_init__(self) -> None:
        if not core.MIN_SIZE <= self.board_size <= core.MAX_SIZE:
            raise ConfigError(f"board size must be in {core.MIN_SIZE}..{core.MAX_SIZE}, not {self.board_size}")
        if not 1 <= self.games <= 1_000_000 or not 1 <= self.workers <= 256:
            raise ConfigError(f"games must be in 1..1000000 and workers in 1..256, not {self.games} and {self.workers}")
        if not (math.isfinite(self.komi) and abs(self.komi) <= 1000):
            raise ConfigError(f"komi must be a number between -1000 and 1000, not {self.komi}")
        if not self.engine and not 0 <= self.level <= 10:
            raise ConfigError(f"GnuGo's level must be in 0..10, not {self.level}")
        if not 0 <= self.seed <= 2**63 - 1:
            raise ConfigError(f"seed must be in 0..{2**63 - 1}, not {self.seed}")
        if not 0 <= self.opening_moves_min <= self.opening_moves_max <= self.board_size**2:
            raise ConfigError("need 0 <= opening_moves_min <= opening_moves_max <= the board's points")


@dataclass(frozen=True)
class CorpusGame:
    """One game of the corpus: its file, length and SGF result."""

    index: int
    path: Path
    moves: int
    result: str
    skipped: bool = False  # the file already existed


def game_path(config: ExpertCorpusConfig, index: int) -> Path:
    return config.out_dir / f"game-s{config.seed}-{index:06d}.sgf"


def _engine_argv(config: ExpertCorpusConfig, game_seed: int) -> list[str]:
    if config.engine:
        return shlex.split(config.engine)
    # GnuGo's own --seed varies its choices among equal moves too.
    return gnugo_command(level=config.level, extra=["--seed", str(game_seed % 2_000_000_000 + 1)])


def _opening_move(game: core.Game, rng: np.random.Generator, margin: int) -> int:
    n = game.size
    m = margin if n - 2 * margin >= 3 else 0
    colour = game.to_move
    candidates = [
        x + y * n for y in range(m, n - m) for x in range(m, n - m) if game.is_legal(colour, x + y * n)
    ]
    return int(rng.choice(candidates)) if candidates else game.pass_move


def play_one(config: ExpertCorpusConfig, index: int) -> CorpusGame:
    """Plays game `index` and writes its SGF (skipped when the file already exists).

    The engine plays both colours through engine.gtp_game after a random opening; a counted game's
    result is the engine's own `final_score` when it answers one, else tengen's count. An illegal
    move, a GTP error or a dead engine raises (the game is not written)."""
    path = game_path(config, index)
    if path.exists():
        return CorpusGame(index, path, 0, "", skipped=True)
    game_seed = int(np.random.SeedSequence([config.seed, index]).generate_state(1)[0])
    rng = np.random.default_rng(game_seed)
    n = config.board_size
    count = int(rng.integers(config.opening_moves_min, config.opening_moves_max + 1))
    board = core.Game(n, komi=config.komi)
    opening = []
    for _ in range(count):
        move = _opening_move(board, rng, config.opening_margin)
        board.play(board.to_move, move)
        opening.append(move)
    with GtpClient(_engine_argv(config, game_seed), timeout=config.timeout) as gtp:
        name = gtp.send("name") + " " + gtp.send("version")
        if not config.engine:
            name += f" level {config.level}"
        outcome = play_gtp_game(gtp, gtp, size=n, komi=config.komi, max_moves=config.max_moves or 3 * n * n,
                                score_playouts=SCORE_PLAYOUTS, seed=game_seed, names=(name, name),
                                opening=opening)  # fmt: skip
        if outcome.loser is not None and outcome.reason != "resign":
            raise GtpError(f"the engine lost by {outcome.reason}: {outcome.detail}")
        result = outcome.result
        if outcome.reason in COUNTED:
            with contextlib.suppress(GtpError, ValueError):  # else the engine cannot count: tengen's count stands
                result = result_string(parse_score(gtp.send("final_score")))
    comment = f"tengen expert corpus: seed {config.seed}, {count} random opening moves"
    record = SgfRecord(size=n, komi=config.komi, moves=outcome.moves, black=name, white=name, result=result,
                       game_name=path.stem, comment=comment)  # fmt: skip
    write_sgf(path, record)
    return CorpusGame(index, path, len(outcome.moves), result)


def _play_safely(config: ExpertCorpusConfig, index: int) -> CorpusGame | str:
    try:
        return play_one(config, index)
    except (GtpError, GtpEngineDied, OSError, ValueError) as exc:
        return f"game {index}: {exc}"


def generate(config: ExpertCorpusConfig, progress: bool = True) -> list[CorpusGame]:
    """Plays config.games games over config.workers processes; returns the games written or found."""
    config.out_dir.mkdir(parents=True, exist_ok=True)
    if not config.engine:
        gnugo_command(config.level)  # raises FileNotFoundError with install advice when absent
    results: list[CorpusGame] = []
    failures: list[str] = []
    bar = tqdm(total=config.games, desc="games", unit="game", disable=not progress)
    if config.workers == 1:
        outcomes = (_play_safely(config, i) for i in range(config.games))
        for out in outcomes:
            _collect(out, results, failures, bar)
    else:
        with ProcessPoolExecutor(max_workers=config.workers) as pool:
            futures = [pool.submit(_play_safely, config, i) for i in range(config.games)]
            for fut in as_completed(futures):
                _collect(fut.result(), results, failures, bar)
    bar.close()
    for line in failures:
        print(f"failed: {line}", file=sys.stderr)
    results.sort(key=lambda r: r.index)
    return results


def _collect(out: CorpusGame | str, results: list[CorpusGame], failures: list[str], bar: tqdm) -> None:
    if isinstance(out, str):
        failures.append(out)
    else:
        results.append(out)
    bar.update(1)
