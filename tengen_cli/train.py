"""CLI: `tengen train --config configs/<recipe>.yaml --run-dir runs/<name>` runs a whole recipe
(alphazero or alphago, by the file's `recipe:` key) and resumes it when run again. With
`--ray local|ADDRESS` the AlphaZero self-play runs on Ray actors (selfplay/ray_selfplay.py)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="run a training recipe (AlphaGo or AlphaZero) in a run directory; rerun to resume",
        description="Runs a whole training recipe. Stop it at any time (even kill -9) and run the same "
        "command again: it continues where it stopped.",
    )
    p.add_argument("--config", required=True, type=Path, help="recipe YAML (configs/zero_9x9_cpu.yaml, ...)")
    p.add_argument("--run-dir", required=True, type=Path, help="folder for everything the run writes")
    p.add_argument(
        "--init", type=Path, metavar="WEIGHTS",
        help="AlphaZero recipe: warm-start the learner from these weights (a net of the recipe's shape); "
        "kept in the run's config.yaml, so resume with the same flag",
    )
    p.add_argument(
        "--ray", metavar="ADDRESS",
        help="AlphaZero recipe: play self-play games on Ray actors (the learner stays here): 'local' starts "
        "Ray on this machine, HOST:PORT joins a cluster started with `ray start --head` "
        "(needs pip install 'tengen[ray]')",
    )
    p.add_argument(
        "--ray-workers", type=int, metavar="N",
        help="with --ray: self-play actors (default: one per CPU of the cluster, capped)",
    )
    p.add_argument(
        "--ray-chunk", type=int, metavar="GAMES",
        help="with --ray: games per request to an actor; a killed actor loses at most two chunks "
        "(default: games_per_iteration / (2 x workers), at most parallel_games)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from engine.errors import UserError
    from selfplay.recipe import AlphaGoRecipe, load_recipe, with_init_weights
    from selfplay.run_dir import RunDir

    recipe, text = load_recipe(args.config)
    if args.init is not None:
        recipe, text = with_init_weights(recipe, text, args.init)
    if args.ray is None and (args.ray_workers is not None or args.ray_chunk is not None):
        raise UserError("--ray-workers and --ray-chunk need --ray local or --ray ADDRESS")
    if args.ray is not None:
        if isinstance(recipe, AlphaGoRecipe):
            raise UserError("--ray plays the AlphaZero recipe's self-play; this is an AlphaGo recipe")
        from selfplay.ray_selfplay import check_options, import_ray

        check_options(args.ray, args.ray_workers, args.ray_chunk)
        import_ray()  # a missing extra is refused before the run directory is touched
    run = RunDir(args.run_dir)
    state = run.open(text)

    def log(line: str) -> None:
        print(line, flush=True)

    began = time.perf_counter()
    log(f"tengen train: {recipe.recipe} recipe {args.config} in {run.root}")
    if state.stages:
        log(f"resuming: {len(state.stages)} steps already done ({state.stages[-1]} last)")
    if isinstance(recipe, AlphaGoRecipe):
        from selfplay.alphago import run_alphago

        run_alphago(recipe, run, state, log, progress=not args.quiet)
    else:
        from selfplay.zero import run_zero

        if args.ray is None:
            run_zero(recipe, run, state, log, progress=not args.quiet)
        else:
            from selfplay.ray_selfplay import RayGames

            games = RayGames.start(args.ray, recipe, args.ray_workers, args.ray_chunk, log)
            try:
                run_zero(recipe, run, state, log, progress=not args.quiet, source=games)
            finally:
                games.close()
    elapsed = time.perf_counter() - began
    log(f"done in {elapsed / 60:.1f} min (this invocation); results in {run.state_path} and {run.eval}/")
    sys.stdout.flush()
    return 0
