"""CLI: `tengen explain --run-dir runs/alphago9 --out runs/explain` says why each part of an AlphaGo run's
networks helps: permutation importance of every input feature group for the policy net (top-1 accuracy
drop on held-out corpus positions) and the value net (MSE rise on its held-out positions), as charts and
tables, and policy/value heat maps over the board for a few held-out positions.

Writes into --out: importance.json (every number), importance_policy.png, importance_value.png,
heatmap_1.png ... heatmap_K.png, and explain.md, a Markdown fragment ("## Why each part helps", images by
bare file name) for the ablation report.

Held-out positions: for the policy, the SL corpus games the SL stage held out (selfplay.train_sl's
split_games with the recipe's sl.train holdout fraction and the recipe's seed, which is the split seed
the sl stage trains with); for the value net, selfplay.value_estimates.holdout_positions (the value
stage's own held-out games).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from engine.config import MAX_BATCH, MAX_SEED
from engine.errors import UserError
from tengen_cli.checks import check_output_dir, int_in

if TYPE_CHECKING:
    import torch

    from engine import _core
    from engine.feature_importance import FeatureImportance
    from engine.nets import GoNet
    from selfplay.recipe import AlphaGoRecipe
    from selfplay.records import Records

MAX_POSITIONS = 10**7
MAX_REPEATS = 1000
MAX_HEATMAPS = 100


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="why each part helps: permutation importance of the input features, policy/value heat maps",
        description="Permutation importance of each input feature group of an AlphaGo run's policy net "
        "(top-1 accuracy drop) and value net (MSE rise) on held-out positions, and heat maps of both nets "
        "over the board; writes PNGs, importance.json and a Markdown fragment (explain.md).",
    )
    p.add_argument("--run-dir", required=True, type=Path, help="an AlphaGo run directory (tengen train)")
    p.add_argument("--out", required=True, type=Path, help="folder for the charts, heat maps, JSON and Markdown")
    p.add_argument("--policy", type=Path, metavar="WEIGHTS",
                   help="policy net (default: the run's weights/sl_policy.safetensors)")  # fmt: skip
    p.add_argument("--value", type=Path, metavar="WEIGHTS",
                   help="value net (default: the run's weights/value.safetensors)")  # fmt: skip
    p.add_argument("--positions", type=int_in(1, MAX_POSITIONS), default=2000, metavar="N",
                   help="held-out positions per net (fewer when the run holds fewer; default 2000)")  # fmt: skip
    p.add_argument("--repeats", type=int_in(1, MAX_REPEATS), default=5, metavar="R",
                   help="shuffles per feature group (default 5)")  # fmt: skip
    p.add_argument("--heatmaps", type=int_in(0, MAX_HEATMAPS), default=4, metavar="K",
                   help="held-out positions drawn as heat maps (default 4)")  # fmt: skip
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help="positions and shuffles (default 0)")
    p.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=256)
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_explain)


@dataclass(frozen=True)
class HeldOut:
    """Held-out positions of one net: planes (N, P, n, n), targets (N,) (moves played for a policy,
    outcomes z from the mover's side for a value net), masks (N, n*n + 1) legal moves or None, and a
    sentence saying where they come from."""

    planes: npt.NDArray[Any]
    targets: npt.NDArray[Any]
    masks: npt.NDArray[np.uint8] | None
    source: str


def _run_recipe(run_dir: Path) -> AlphaGoRecipe:
    from selfplay.recipe import AlphaGoRecipe, load_recipe

    if not run_dir.is_dir():
        raise UserError(f"--run-dir {run_dir}: no such run directory")
    config = run_dir / "config.yaml"
    if not config.is_file():
        raise UserError(f"--run-dir {run_dir} is not a tengen run directory (no config.yaml)")
    recipe, _ = load_recipe(config)
    if not isinstance(recipe, AlphaGoRecipe):
        raise UserError(f"--run-dir {run_dir} holds an {recipe.recipe} run; tengen explain reads AlphaGo runs")
    return recipe


def _load(
    flag: str, path: Path | None, default: Path, head: str, board_size: int, device: torch.device
) -> tuple[GoNet, Path]:
    """The net of `path` (or the run's `default`), checked to have a `head` head and the run's board size."""
    from engine.weights import load_net

    where = path if path is not None else default
    if not where.is_file():
        if path is None:
            raise UserError(f"the run directory has no {default.name} in {default.parent}; train it or give {flag}")
        raise UserError(f"{flag} {path}: no such weights file")
    net = load_net(where, board_size=board_size, device=device)
    has = net.config.has_policy if head == "policy" else net.config.has_value
    if not has:
        raise UserError(f"{flag} {where} holds a {net.config.architecture} net, which has no {head} head")
    return net, where


def _policy_positions(
    recipe: AlphaGoRecipe, run_dir: Path, net: GoNet, limit: int, seed: int
) -> tuple[HeldOut, Records, tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]]:
    """(held-out positions, the records, (game, move) of each position) of the SL corpus."""
    from selfplay.records import load_corpus
    from selfplay.train_sl import Positions, SLConfig, make_batch, split_games

    shards = run_dir / "corpus" / "shards"
    if not shards.is_dir():
        raise UserError(f"--run-dir {run_dir} has no corpus shards ({shards}); run the corpus stage first")
    records = load_corpus([shards], recipe.board_size)
    train = recipe.sl_train_config(shards, run_dir / "sl")
    split_seed = train.seed  # the sl stage trains with split_seed = train.seed = the recipe's seed
    _, held_games = split_games(records.num_games, train.holdout_fraction, split_seed)
    positions = Positions(records, held_games, SLConfig(net=net.config, train=train))
    if len(positions) == 0:
        raise UserError(f"the corpus in {shards} has no held-out positions (holdout_fraction {train.holdout_fraction})")
    take = min(limit, len(positions))
    pick = np.sort(np.random.default_rng([seed, 1]).choice(len(positions), take, replace=False))
    games, moves = positions.game[pick], positions.move[pick]
    batch = make_batch(records, games, moves, None, net.config.feature_set, net.config.input_planes, 1)
    masks = batch.masks if train.mask_illegal else None
    source = (
        f"the {len(held_games)} held-out games of the SL corpus, never trained on ({take} of their "
        f"{len(positions)} positions; holdout fraction {train.holdout_fraction:g}, split seed {split_seed})"
    )
    return HeldOut(batch.planes, batch.targets, masks, source), records, (games, moves)


def _value_positions(run_dir: Path, net: GoNet, limit: int) -> HeldOut:
    from selfplay.value_estimates import holdout_positions

    planes, z = holdout_positions(run_dir, net.config.feature_set, limit)
    if len(planes) == 0:
        raise UserError(f"--run-dir {run_dir} has no held-out value positions; run the value stage first")
    source = "the value net's held-out self-play games (the value stage's own split)"
    return HeldOut(planes, z, None, source)


def _game_before(records: Records, game: int, move: int) -> _core.Game:
    """The rules Game of corpus game `game` before its move `move` (setup stones, then the moves)."""
    from engine import _core

    n = records.board_size
    g = _core.Game(n, float(records.komi[game]))
    for s in range(int(records.setup_offsets[game]), int(records.setup_offsets[game + 1])):
        g.place_setup_stone(int(records.setup_colors[s]), int(records.setup_moves[s]))
    start = int(records.game_offsets[game])
    for k in range(start, start + move):
        g.play(int(records.colors[k]), int(records.moves[k]))
    g.to_move = int(records.colors[start + move])
    return g


def _heatmap_choice(games: npt.NDArray[np.int64], moves: npt.NDArray[np.int32], k: int, size: int,
                    seed: int) -> list[int]:  # fmt: skip
    """Indices of up to k positions from distinct games, at least `size` moves in where there are some."""
    key = np.random.default_rng([seed, 2]).random(len(games))
    order = np.lexsort((key, moves < size))
    chosen: list[int] = []
    seen: set[int] = set()
    for i in order:
        if len(chosen) == k:
            break
        if int(games[i]) not in seen:
            seen.add(int(games[i]))
            chosen.append(int(i))
    return chosen


def _section(title: str, net_path: Path, result: FeatureImportance, source: str, chart: str) -> str:
    from engine.feature_importance import markdown_table

    if result.kind == "policy":
        baseline = f"held-out top-1 accuracy {100 * result.baseline:.1f}%"
        change = "drop in top-1 accuracy (percentage points)"
    else:
        baseline = f"held-out MSE {result.baseline:.4f}"
        change = "rise in MSE"
    return (
        f"### {title}\n\n"
        f"`{net_path.name}`: {baseline} on {result.positions} positions from {source}. "
        f"Each row is the {change} when that group's planes are shuffled across the positions, "
        f"mean ± sd over {result.repeats} shuffles, most important first.\n\n"
        f"{markdown_table(result)}\n![{title}: permutation importance]({chart})\n\n"
    )


def cmd_explain(args: argparse.Namespace) -> int:
    from engine import _core
    from engine.atomic_io import atomic_write_text
    from engine.feature_importance import policy_importance, value_importance, write_importance_chart
    from engine.heatmaps import position_maps, write_heatmap
    from engine.torch_device import pick_device

    device = pick_device(args.device)  # flags first, then the files they name
    recipe = _run_recipe(args.run_dir)
    check_output_dir(args.out, "--out")
    weights = args.run_dir / "weights"
    n = recipe.board_size
    pnet, ppath = _load("--policy", args.policy, weights / "sl_policy.safetensors", "policy", n, device)
    vnet, vpath = _load("--value", args.value, weights / "value.safetensors", "value", n, device)
    held, records, (games, moves) = _policy_positions(recipe, args.run_dir, pnet, args.positions, args.seed)
    vheld = _value_positions(args.run_dir, vnet, args.positions)
    progress = not args.quiet
    policy = policy_importance(
        pnet, held.planes, held.targets, _core.plane_layout(pnet.config.feature_set), masks=held.masks,
        repeats=args.repeats, seed=args.seed, batch_size=args.batch_size, device=device, progress=progress,
    )  # fmt: skip
    value = value_importance(
        vnet, vheld.planes, vheld.targets, _core.plane_layout(vnet.config.feature_set),
        repeats=args.repeats, seed=args.seed, batch_size=args.batch_size, device=device, progress=progress,
    )  # fmt: skip

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_importance_chart(policy, out / "importance_policy.png",
                           title=f"Policy net ({ppath.name}): permutation importance")  # fmt: skip
    write_importance_chart(value, out / "importance_value.png",
                           title=f"Value net ({vpath.name}): permutation importance")  # fmt: skip
    maps_info = []
    for number, i in enumerate(_heatmap_choice(games, moves, args.heatmaps, n, args.seed), 1):
        g, k = int(games[i]), int(moves[i])
        played = int(records.moves[int(records.game_offsets[g]) + k])
        maps = position_maps(_game_before(records, g, k), policy_net=pnet, value_net=vnet, played=played)
        name = f"heatmap_{number}.png"
        write_heatmap(maps, out / name, title=f"Held-out position {number}: corpus game {g}, move {k + 1}")
        maps_info.append({"file": name, "game": g, "move_number": k, "source": str(records.source[g]),
                          "value": maps.value, "policy_move": maps.best_move(), "played": played})  # fmt: skip

    doc = {
        "run_dir": str(args.run_dir),
        "policy": {"weights": str(ppath), "feature_set": pnet.config.feature_set, "source": held.source,
                   **policy.to_json()},
        "value": {"weights": str(vpath), "feature_set": vnet.config.feature_set, "source": vheld.source,
                  **value.to_json()},
        "heatmaps": maps_info,
    }  # fmt: skip
    atomic_write_text(out / "importance.json", json.dumps(doc, indent=2) + "\n")
    atomic_write_text(out / "explain.md", _markdown(policy, value, ppath, vpath, held, vheld, maps_info, args))
    print(
        f"explain: policy top-1 accuracy {100 * policy.baseline:.1f}% on {policy.positions} held-out positions, "
        f"value MSE {value.baseline:.4f} on {value.positions}; most important: "
        f"{policy.ranked()[0].name} (policy), {value.ranked()[0].name} (value); written to {out}"
    )
    return 0


def _markdown(
    policy: FeatureImportance, value: FeatureImportance, ppath: Path, vpath: Path, held: HeldOut,
    vheld: HeldOut, maps_info: list[dict[str, Any]], args: argparse.Namespace,
) -> str:  # fmt: skip
    text = (
        "## Why each part helps\n\n"
        "Permutation importance of each input feature group (the groups of the C++ feature layout): the "
        "group's planes are shuffled together across the held-out positions (one random permutation of the "
        "positions for all of the group's planes, the rest of each position unchanged), the network is "
        f"scored again, and this is repeated {args.repeats} times (seed {args.seed}). A group the network "
        "relies on costs policy accuracy or raises value MSE when shuffled; constant planes (ones, zeros) "
        "cannot change and score exactly 0.\n\n"
    )
    text += _section("Policy net", ppath, policy, held.source, "importance_policy.png")
    text += _section("Value net", vpath, value, vheld.source, "importance_value.png")
    if maps_info:
        text += (
            "### Policy and value heat maps\n\n"
            f"{len(maps_info)} held-out corpus positions (distinct games). Left: the policy net's move "
            "probabilities over the legal moves; right: the value net's value of the position after each legal "
            "move, for the player to move (all children in one batch). Green square: the move played in the "
            "game; red cross: the policy net's choice.\n\n"
        )
        text += "".join(f"![Heat map {i}]({m['file']})\n\n" for i, m in enumerate(maps_info, 1))
    return text
