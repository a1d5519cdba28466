"""Expert corpus generator: a GTP engine (GnuGo level 10 by default) plays itself from varied
random openings, in parallel processes, and every game is written as an SGF file.

This is how a user without a game archive gets supervised-learning data; a user with KGS or
GoGoD archives points `tengen convert` at them instead. Each game is an independent seed, so
runs are reproducible, and files that already exist are skipped, so an interrupted run
resumes where it stopped.

Because a game is a pure function of the settings, its seed and index (and GnuGo's version),
games already played can be shipped: `data/expert_corpus/KEY.tar.xz` in the repository holds
the SGF files of one setting (KEY names the engine version and every setting that shapes a
game); `generate(..., cache=CACHE_DIR)` takes the games it needs from there before playing the
rest, and `pack_cache` writes such an archive (scripts/extend_corpus_cache.py grows it across
sessions of work).
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import subprocess
import sys
import tarfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine import _core as core
from engine.errors import ConfigError
from engine.gtp_client import GtpClient, GtpEngineDied, GtpError, gnugo_command
from engine.gtp_game import COUNTED, play_gtp_game, random_opening
from engine.player import SCORE_PLAYOUTS
from engine.sgf import SgfRecord, parse_score, result_string, write_sgf
from selfplay.recipe import AlphaGoRecipe


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


def recipe_corpus_config(recipe: AlphaGoRecipe, out_dir: Path) -> ExpertCorpusConfig:
    """The generator settings of an AlphaGo recipe's `corpus:` section (source gnugo)."""
    c = recipe.corpus
    return ExpertCorpusConfig(
        out_dir=out_dir, games=c.games, board_size=recipe.board_size, komi=recipe.komi, level=c.level,
        engine=c.engine, workers=c.workers, opening_moves_min=c.opening_moves_min,
        opening_moves_max=c.opening_moves_max, seed=recipe.seed,
    )  # fmt: skip


# The repository's shipped corpora (absent from an installed wheel: then nothing is cached).
CACHE_DIR = Path(__file__).resolve().parents[1] / "data" / "expert_corpus"


def engine_version(config: ExpertCorpusConfig) -> str | None:
    """GnuGo's version as a file-name part ("gnugo-3.8"); None for another engine (never cached)
    or when GnuGo cannot say."""
    if config.engine:
        return None
    argv = gnugo_command(config.level)
    try:
        out = subprocess.run([argv[0], "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    words = out.stdout.split("\n", 1)[0].split()  # "GNU Go 3.8"
    if len(words) < 3 or words[0] != "GNU":
        return None
    return "gnugo-" + "".join(c for c in words[-1] if c.isalnum() or c == ".")


def cache_key(config: ExpertCorpusConfig, version: str) -> str:
    """Every setting that shapes a game, as a file name (games and workers do not)."""
    return (
        f"{version}-level{config.level}-{config.board_size}x{config.board_size}-komi{config.komi:g}"
        f"-open{config.opening_moves_min}-{config.opening_moves_max}-margin{config.opening_margin}"
        f"-moves{config.max_moves}-seed{config.seed}"
    )


def cache_path(config: ExpertCorpusConfig, cache: Path) -> Path | None:
    version = engine_version(config)
    return None if version is None else cache / f"{cache_key(config, version)}.tar.xz"


def restore_from_cache(config: ExpertCorpusConfig, cache: Path) -> int:
    """Copies games 0..config.games-1 missing from out_dir out of the cache archive for these
    settings, when there is one; returns how many it copied."""
    archive = cache_path(config, cache)
    if archive is None or not archive.is_file():
        return 0
    prefix = game_path(config, 0).name.rsplit("-", 1)[0] + "-"  # game-s{seed}-

    def wanted(name: str) -> bool:
        index = name.removeprefix(prefix).removesuffix(".sgf")
        return name.startswith(prefix) and index.isdigit() and int(index) < config.games

    restored = 0
    try:
        with tarfile.open(archive, "r:xz") as tar:
            for member in tar.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                target = config.out_dir / name
                if not wanted(name) or target.exists() or not member.isfile():
                    continue
                data = tar.extractfile(member)
                if data is None:
                    continue
                tmp = target.with_suffix(".part")
                tmp.write_bytes(data.read())
                os.replace(tmp, target)
                restored += 1
    except (tarfile.TarError, OSError, EOFError) as exc:
        print(f"warning: the shipped corpus {archive} could not be read ({exc}); playing the games instead",
              file=sys.stderr)
    return restored


def played_prefix(config: ExpertCorpusConfig) -> int:
    """How many games 0, 1, ... are in out_dir before the first missing one."""
    count = 0
    while game_path(config, count).is_file():
        count += 1
    return count


def pack_cache(config: ExpertCorpusConfig, cache: Path) -> tuple[Path, int]:
    """Writes every game of config.out_dir with these settings' names (indices from 0 up to the
    first missing one) into the cache archive for these settings; returns it and the count."""
    archive = cache_path(config, cache)
    if archive is None:
        raise ConfigError("only GnuGo corpora can be cached (the engine's version must be known)")
    count = played_prefix(config)
    if archive.is_file():
        try:
            with tarfile.open(archive, "r:xz") as tar:
                shipped = len(tar.getmembers())
        except (tarfile.TarError, OSError, EOFError):
            shipped = 0  # unreadable: replaced
        if shipped > count:
            raise ConfigError(f"{archive} holds {shipped} games and {config.out_dir} only {count} in a row; "
                              "packing would drop games (restore them first)")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(archive.name + ".part")
    with tarfile.open(tmp, "w:xz") as tar:
        for i in range(count):
            path = game_path(config, i)
            info = tar.gettarinfo(str(path), arcname=path.name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with path.open("rb") as f:
                tar.addfile(info, f)
    os.replace(tmp, archive)
    return archive, count


def _engine_argv(config: ExpertCorpusConfig, game_seed: int) -> list[str]:
    if config.engine:
        return shlex.split(config.engine)
    # GnuGo's own --seed varies its choices among equal moves too.
    return gnugo_command(level=config.level, extra=["--seed", str(game_seed % 2_000_000_000 + 1)])


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
    opening = random_opening(n, config.komi, count, rng, config.opening_margin)
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


def generate(config: ExpertCorpusConfig, progress: bool = True, cache: Path | None = None) -> list[CorpusGame]:
    """Plays config.games games over config.workers processes; returns the games written or found.
    With `cache` (e.g. CACHE_DIR), games shipped there for these settings are copied in first."""
    config.out_dir.mkdir(parents=True, exist_ok=True)
    if not config.engine:
        gnugo_command(config.level)  # raises FileNotFoundError with install advice when absent
    if cache is not None:
        restored = restore_from_cache(config, cache)
        if restored and progress:
            print(f"{restored} games taken from the shipped corpus in {cache}", file=sys.stderr)
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
