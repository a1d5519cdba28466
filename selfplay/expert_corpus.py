"""Expert corpus generator: a GTP engine (GnuGo level 10 by default) plays itself from varied
random openings, in parallel processes, and every game is written as an SGF file.

This is how a user without a game archive gets supervised-learning data; a user with KGS or
GoGoD archives points `tengen convert` at them instead. Each game is an independent seed, so
runs are reproducible, and files that already exist are skipped, so an interrupted run
resumes where it stopped.
"""

from __future__ import annotations

import os
import shlex
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sgfmill import sgf
from tqdm import tqdm

from engine import _core as core
from engine.coords import format_vertex, parse_vertex
from engine.gtp_client import GtpClient, GtpEngineDied, GtpError, gnugo_command


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
            raise ValueError(f"board size must be in {core.MIN_SIZE}..{core.MAX_SIZE}, not {self.board_size}")
        if self.games < 1 or self.workers < 1:
            raise ValueError("games and workers must be at least 1")
        if not 0 <= self.opening_moves_min <= self.opening_moves_max:
            raise ValueError("need 0 <= opening_moves_min <= opening_moves_max")


@dataclass(frozen=True)
class GameResult:
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


def _write_sgf(
    path: Path, config: ExpertCorpusConfig, name: str, moves: list[tuple[int, int]], result: str, opening: int
) -> None:
    n = config.board_size
    record = sgf.Sgf_game(size=n)
    root = record.get_root()
    root.set("KM", config.komi)
    root.set("RU", "Chinese")
    root.set("PB", name)
    root.set("PW", name)
    root.set("RE", result)
    root.set("GN", path.stem)
    root.set("C", f"tengen expert corpus: seed {config.seed}, {opening} random opening moves")
    for colour, move in moves:
        node = record.extend_main_sequence()
        point = None if move == n * n else (n - 1 - move // n, move % n)  # sgfmill rows count from the bottom
        node.set_move("b" if colour == core.BLACK else "w", point)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(record.serialise())
    os.replace(tmp, path)


def play_one(config: ExpertCorpusConfig, index: int) -> GameResult:
    """Plays game `index` and writes its SGF (skipped when the file already exists)."""
    path = game_path(config, index)
    if path.exists():
        return GameResult(index, path, 0, "", skipped=True)
    game_seed = int(np.random.SeedSequence([config.seed, index]).generate_state(1)[0])
    rng = np.random.default_rng(game_seed)
    n = config.board_size
    game = core.Game(n, komi=config.komi)
    moves: list[tuple[int, int]] = []
    max_moves = config.max_moves or 3 * n * n
    opening = int(rng.integers(config.opening_moves_min, config.opening_moves_max + 1))
    argv = _engine_argv(config, game_seed)
    result = ""
    with GtpClient(argv, timeout=config.timeout) as gtp:
        name = gtp.send("name") + " " + gtp.send("version")
        if not config.engine:
            name += f" level {config.level}"
        gtp.send(f"boardsize {n}")
        gtp.send("clear_board")
        gtp.send(f"komi {config.komi}")
        for _ in range(opening):
            colour = game.to_move
            move = _opening_move(game, rng, config.opening_margin)
            game.play(colour, move)
            gtp.send(f"play {'b' if colour == core.BLACK else 'w'} {format_vertex(move, n)}")
            moves.append((colour, move))
        while not game.is_over and len(moves) < max_moves:
            colour = game.to_move
            letter = "b" if colour == core.BLACK else "w"
            answer = gtp.send(f"genmove {letter}").strip().lower()
            if answer == "resign":
                result = f"{'W' if colour == core.BLACK else 'B'}+R"
                break
            move = parse_vertex(answer, n)
            why = game.illegal_reason(colour, move)
            if why is not None:
                raise GtpError(f"the engine played an illegal move {answer} ({why})")
            game.play(colour, move)
            moves.append((colour, move))
        if not result:
            try:
                result = gtp.send("final_score").strip()
            except GtpError:
                result = ""
            if not result or result[0] not in "BW0":
                score = game.final_score(400, game_seed)
                result = "0" if score == 0 else f"{'B' if score > 0 else 'W'}+{abs(score):g}"
    _write_sgf(path, config, name, moves, result, opening)
    return GameResult(index, path, len(moves), result)


def _play_safely(config: ExpertCorpusConfig, index: int) -> GameResult | str:
    try:
        return play_one(config, index)
    except (GtpError, GtpEngineDied, OSError, ValueError) as exc:
        return f"game {index}: {exc}"


def generate(config: ExpertCorpusConfig, progress: bool = True) -> list[GameResult]:
    """Plays config.games games over config.workers processes; returns the games written or found."""
    config.out_dir.mkdir(parents=True, exist_ok=True)
    if not config.engine:
        gnugo_command(config.level)  # raises FileNotFoundError with install advice when absent
    results: list[GameResult] = []
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


def _collect(out: GameResult | str, results: list[GameResult], failures: list[str], bar: tqdm) -> None:
    if isinstance(out, str):
        failures.append(out)
    else:
        results.append(out)
    bar.update(1)
