"""Grows the shipped expert corpus of an AlphaGo recipe: data/expert_corpus/KEY.tar.xz.

    python scripts/extend_corpus_cache.py --recipe configs/alphago_9x9_cpu.yaml --games 3000 \
        --work runs/corpus_cache/sgf [--workers 2] [--pack-every 50]

Takes the games already shipped for the recipe's corpus settings into --work, plays the missing ones
up to --games with the recipe's generator (same seeds, so the same games `tengen train` would play),
and repacks the archive every --pack-every new games and at the end (also after Ctrl-C), so a run
stopped at any point keeps what it played. Commit the archive to ship the games.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from selfplay.expert_corpus import (
    CACHE_DIR,
    generate,
    pack_cache,
    played_prefix,
    recipe_corpus_config,
    restore_from_cache,
)
from selfplay.recipe import AlphaGoRecipe, load_recipe

MAX_GAMES = 1_000_000  # ExpertCorpusConfig's limit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--recipe", type=Path, default=Path("configs/alphago_9x9_cpu.yaml"))
    ap.add_argument("--games", type=int, required=True, help="games the archive should hold")
    ap.add_argument("--work", type=Path, required=True, help="folder for the SGF files while playing")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--pack-every", type=int, default=50)
    args = ap.parse_args()
    recipe, _ = load_recipe(args.recipe)
    if not isinstance(recipe, AlphaGoRecipe) or recipe.corpus.source != "gnugo":
        print(f"{args.recipe} is not an AlphaGo recipe with a GnuGo corpus", file=sys.stderr)
        return 2
    base = dataclasses.replace(recipe_corpus_config(recipe, args.work), games=args.games, workers=args.workers)
    args.work.mkdir(parents=True, exist_ok=True)
    restore_from_cache(dataclasses.replace(base, games=MAX_GAMES), CACHE_DIR)  # every shipped game
    target = min(played_prefix(base), args.games)
    print(f"{target} games there already", flush=True)
    try:
        while target < args.games:
            target = min(args.games, target + args.pack_every)
            generate(dataclasses.replace(base, games=target), progress=True, cache=CACHE_DIR)
            archive, count = pack_cache(base, CACHE_DIR)
            print(f"{archive}: {count} games", flush=True)
    finally:
        archive, count = pack_cache(base, CACHE_DIR)
        print(f"{archive}: {count} games")
    return 0


if __name__ == "__main__":
    sys.exit(main())
