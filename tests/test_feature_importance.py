"""Permutation importance (engine.feature_importance), policy/value heat maps (engine.heatmaps) and
`tengen explain` on a tiny synthetic AlphaGo run directory.

The importance tests use hand-built modules whose output reads one known group of the real C++ layout, so
the right answer is known: that group matters, every other group scores exactly the baseline."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from engine import _core
from engine.feature_importance import (
    FeatureImportance,
    permuted_planes,
    policy_importance,
    value_importance,
    write_importance_chart,
)
from engine.heatmaps import position_maps, write_heatmap
from engine.nets import NetConfig, NetOutput, build_net
from engine.weights import save_weights
from selfplay.records import GameRecord, Records
from tengen_cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SIZE = 5
POLICY_LAYOUT = _core.plane_layout("alphago")
VALUE_LAYOUT = _core.plane_layout("alphago_value")
PNG = b"\x89PNG\r\n\x1a\n"


def group(layout: list[tuple[str, int, int]], name: str) -> tuple[int, int]:
    """(first plane, count) of a named group of the C++ layout."""
    found = [(first, count) for g, first, count in layout if g == name]
    assert found, f"no group {name} in the layout"
    return found[0]


class Reads(nn.Module):
    """A hand-built net: `head(planes)` gives its policy logits or value; it has no parameters to train."""

    def __init__(self, head: Callable[[Tensor], Tensor], kind: str) -> None:
        super().__init__()
        self.head = head
        self.kind = kind
        self.anchor = nn.Parameter(torch.zeros(()))  # gives the module a device

    def forward(self, planes: Tensor) -> NetOutput:
        out = self.head(planes.float())
        return NetOutput(out, None) if self.kind == "policy" else NetOutput(None, out)


def len_planes(feature_set: str) -> int:
    return _core.num_planes(feature_set)


def random_planes(n_positions: int, planes: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, (n_positions, planes, SIZE, SIZE)).astype(np.uint8)


def one_hot_policy_data(plane: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random planes whose plane `plane` is one-hot at the move played; the moves."""
    x = random_planes(64, len_planes("alphago"), seed)
    moves = np.random.default_rng(seed + 1).integers(0, SIZE * SIZE, len(x))
    x[:, plane] = 0
    x[np.arange(len(x)), plane, moves // SIZE, moves % SIZE] = 1
    return x, moves.astype(np.int64)


def reads_plane_policy(plane: int) -> Reads:
    """Logits: 10 on the points where `plane` is set, -10 for pass."""

    def head(x: Tensor) -> Tensor:
        board = 10.0 * x[:, plane].flatten(1)
        return torch.cat([board, torch.full((len(x), 1), -10.0)], 1)

    return Reads(head, "policy")


def by_name(result: FeatureImportance) -> dict[str, Any]:
    return {g.name: g for g in result.groups}


# ---------------------------------------------------------------------------------------------
# Permutation importance


def test_policy_importance_is_zero_except_for_the_group_the_net_reads() -> None:
    first, _ = group(POLICY_LAYOUT, "liberties")
    plane = first + 2  # not the group's first plane: the whole block moves
    x, moves = one_hot_policy_data(plane)
    masks = np.ones((len(x), SIZE * SIZE + 1), np.uint8)
    res = policy_importance(reads_plane_policy(plane), x, moves, POLICY_LAYOUT, masks=masks, repeats=3, seed=4,
                            batch_size=10)  # fmt: skip
    assert res.kind == "policy" and res.baseline == 1.0 and res.positions == len(x)
    assert [g.name for g in res.groups] == [name for name, _, _ in POLICY_LAYOUT]
    groups = by_name(res)
    assert groups["liberties"].importance > 0.5
    assert len(groups["liberties"].scores) == 3 and groups["liberties"].sd >= 0
    for name, g in groups.items():
        if name != "liberties":
            assert g.importance == 0.0 and g.scores == (1.0, 1.0, 1.0), name
    assert res.ranked()[0].name == "liberties"


def test_policy_accuracy_ignores_masked_moves() -> None:
    """The net's favourite move is masked as illegal: it can no longer be right (train_sl's mask_illegal)."""
    first, _ = group(POLICY_LAYOUT, "stone_colour")
    x, moves = one_hot_policy_data(first)
    masks = np.ones((len(x), SIZE * SIZE + 1), np.uint8)
    masks[np.arange(len(x)), moves] = 0
    net = reads_plane_policy(first)
    masked = policy_importance(net, x, moves, POLICY_LAYOUT, masks=masks, repeats=1, seed=0)
    unmasked = policy_importance(net, x, moves, POLICY_LAYOUT, repeats=1, seed=0)
    assert masked.baseline == 0.0 and unmasked.baseline == 1.0


def reads_plane_value(plane: int) -> Reads:
    return Reads(lambda x: torch.tanh(x[:, plane].mean((1, 2)) * 4 - 2), "value")


def test_value_importance_is_zero_except_for_the_group_the_net_reads() -> None:
    first, _ = group(VALUE_LAYOUT, "turns_since")
    plane = first + 5
    x = random_planes(80, len_planes("alphago_value"), 3)
    net = reads_plane_value(plane)
    with torch.no_grad():
        z = net(torch.from_numpy(x)).value.numpy().astype(np.float32)  # the net is exactly right
    res = value_importance(net, x, z, VALUE_LAYOUT, repeats=4, seed=1, batch_size=16)
    assert res.kind == "value" and res.baseline == pytest.approx(0.0, abs=1e-12)
    groups = by_name(res)
    assert groups["turns_since"].importance > 0.01
    for name, g in groups.items():
        if name != "turns_since":
            assert g.importance == pytest.approx(0.0, abs=1e-12), name


def test_permutation_moves_a_groups_block_together() -> None:
    x = random_planes(30, len_planes("alphago"), 5)
    first, count = group(POLICY_LAYOUT, "capture_size")
    order = np.random.default_rng(0).permutation(len(x)).astype(np.int64)
    out = permuted_planes(x, first=first, count=count, order=order)
    np.testing.assert_array_equal(out[:, first : first + count], x[order, first : first + count])
    np.testing.assert_array_equal(out[:, :first], x[:, :first])
    np.testing.assert_array_equal(out[:, first + count :], x[:, first + count :])
    assert not np.array_equal(out, x)


def test_a_net_that_reads_agreement_inside_a_group_sees_no_change() -> None:
    """Two planes of one group always agree; a net whose value is their disagreement stays exactly right
    when the group is shuffled as one block (shuffling the planes separately would break it)."""
    first, count = group(VALUE_LAYOUT, "self_atari_size")
    x = random_planes(50, len_planes("alphago_value"), 6)
    x[:, first + 3] = x[:, first]
    net = Reads(lambda t: torch.tanh((t[:, first] - t[:, first + 3]).abs().sum((1, 2))), "value")
    z = np.zeros(len(x), np.float32)
    res = value_importance(net, x, z, VALUE_LAYOUT, repeats=3, seed=2)
    assert by_name(res)["self_atari_size"].importance == 0.0
    # The same data with the two planes shuffled independently is far from right.
    order = np.random.default_rng(1).permutation(len(x))
    split = x.copy()
    split[:, first + 3] = x[order, first + 3]
    with torch.no_grad():
        assert float(net(torch.from_numpy(split)).value.abs().mean()) > 0.5


def test_constant_groups_are_marked_and_score_the_baseline() -> None:
    x = random_planes(40, len_planes("alphago_value"), 7)
    ones_first, _ = group(VALUE_LAYOUT, "ones")
    x[:, ones_first] = 1
    net = reads_plane_value(ones_first)  # reads only a constant plane
    z = np.linspace(-1, 1, len(x)).astype(np.float32)
    res = value_importance(net, x, z, VALUE_LAYOUT, repeats=2, seed=0)
    groups = by_name(res)
    assert groups["ones"].constant and groups["ones"].importance == 0.0
    assert not groups["liberties"].constant


def test_results_are_deterministic_for_a_seed() -> None:
    first, _ = group(VALUE_LAYOUT, "liberties")
    x = random_planes(60, len_planes("alphago_value"), 8)
    net = reads_plane_value(first)
    z = np.where(np.arange(len(x)) % 2 == 0, 1.0, -1.0).astype(np.float32)
    a = value_importance(net, x, z, VALUE_LAYOUT, repeats=3, seed=11)
    b = value_importance(net, x, z, VALUE_LAYOUT, repeats=3, seed=11)
    c = value_importance(net, x, z, VALUE_LAYOUT, repeats=3, seed=12)
    assert a == b
    assert by_name(a)["liberties"].scores != by_name(c)["liberties"].scores


def test_a_tiny_real_net_and_the_chart(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = build_net(NetConfig(board_size=SIZE, blocks=1, channels=8, stem_kernel=3)).eval()
    x, moves = one_hot_policy_data(0)
    res = policy_importance(net, x, moves, POLICY_LAYOUT, repeats=2, seed=0)
    assert 0.0 <= res.baseline <= 1.0 and len(res.groups) == len(POLICY_LAYOUT)
    doc = res.to_json()
    assert set(doc["groups"][0]) >= {"group", "first_plane", "planes", "permuted_accuracy_mean",
                                     "permuted_accuracy_sd", "drop"}  # fmt: skip
    write_importance_chart(res, tmp_path / "chart.png", title="tiny")
    assert (tmp_path / "chart.png").read_bytes().startswith(PNG)


def test_bad_layouts_and_heads_are_refused() -> None:
    x = random_planes(4, 10, 0)
    with pytest.raises(ValueError, match="outside"):
        value_importance(reads_plane_value(0), x, np.zeros(4, np.float32), VALUE_LAYOUT, repeats=1, seed=0)
    with pytest.raises(ValueError, match="policy head"):
        policy_importance(reads_plane_value(0), x, np.zeros(4, np.int64), [("a", 0, 10)], repeats=1, seed=0)


# ---------------------------------------------------------------------------------------------
# Heat maps


def tiny_nets(seed: int = 0) -> tuple[Any, Any]:
    torch.manual_seed(seed)
    policy = build_net(NetConfig(board_size=SIZE, blocks=1, channels=8, stem_kernel=3)).eval()
    value = build_net(NetConfig(architecture="value", feature_set="alphago_value", board_size=SIZE, blocks=1,
                                channels=8, stem_kernel=3, value_hidden=8)).eval()  # fmt: skip
    return policy, value


def test_heatmap_values_are_the_childrens_values_from_the_movers_side(tmp_path: Path) -> None:
    policy, value = tiny_nets()
    g = _core.Game(SIZE, 2.5)
    for k in range(7):
        g.play(g.to_move, g.random_move(g.to_move, 40 + k))
    maps = position_maps(g, policy_net=policy, value_net=value, played=12)
    legal = set(g.legal_moves(g.to_move))
    occupied = np.flatnonzero(g.board().reshape(-1) != _core.EMPTY)
    assert maps.policy.sum() == pytest.approx(1.0, abs=1e-5)
    assert all(maps.policy[m] == 0 for m in range(SIZE * SIZE + 1) if m not in legal)
    assert len(occupied) > 0 and np.all(np.isnan(maps.child_values[occupied]))
    for move in (sorted(legal)[0], SIZE * SIZE):
        child = g.copy()
        child.play(g.to_move, move)
        planes = np.zeros((1, _core.num_planes("alphago_value"), SIZE, SIZE), np.float32)
        _core.write_features(child, planes[0], "alphago_value")
        with torch.no_grad():
            v = float(value(torch.from_numpy(planes)).value[0])
        assert maps.child_values[move] == pytest.approx(-v, abs=1e-5)
    write_heatmap(maps, tmp_path / "h.png", title="test position")
    assert (tmp_path / "h.png").read_bytes().startswith(PNG)


# ---------------------------------------------------------------------------------------------
# tengen explain


def random_game(seed: int, moves: int = 24) -> GameRecord:
    g = _core.Game(SIZE, 2.5)
    out = []
    for k in range(moves):
        c = g.to_move
        m = g.random_move(c, seed * 1000 + k)
        g.play(c, m)
        out.append((c, m))
        if g.is_over:
            break
    return GameRecord(SIZE, tuple(out), (), 2.5, 1 if seed % 2 else -1, f"g{seed}.sgf")


RECIPE = """recipe: alphago
board_size: 5
komi: 2.5
seed: 1
sl:
  train:
    holdout_fraction: 0.1
value:
  games: 10
  holdout_fraction: 0.25
"""


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A tiny AlphaGo run directory as the recipe leaves it: config.yaml, a corpus shard, value games
    (one position each, the `value_move` extra) and SL policy and value weights."""
    from selfplay.selfplay_shards import SelfplayGame, Shard

    run = tmp_path / "run"
    (run / "corpus" / "shards").mkdir(parents=True)
    (run / "games" / "value" / "shards").mkdir(parents=True)
    (run / "weights").mkdir()
    (run / "config.yaml").write_text(RECIPE)
    Records.from_games([random_game(s) for s in range(30)], SIZE).save(run / "corpus" / "shards" / "shard-0.npz")
    value_games = []
    for s in range(24):
        rec = random_game(200 + s)
        moves = np.array([m for _, m in rec.moves], np.int16)
        at = float(np.random.default_rng(s).integers(0, len(moves)))
        value_games.append(SelfplayGame(SIZE, 2.5, moves, rec.winner, extras={"value_move": at}))
    Shard.from_games(value_games, list(range(len(value_games))), "value").save(
        run / "games" / "value" / "shards" / "shard_000000.npz"
    )
    policy, value = tiny_nets(1)
    save_weights(run / "weights" / "sl_policy.safetensors", policy)
    save_weights(run / "weights" / "value.safetensors", value)
    return run


def test_explain_writes_the_report_fragment_json_and_pngs(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.weights import load_net
    from selfplay.recipe import load_recipe
    from selfplay.records import load_corpus
    from selfplay.train_sl import Positions, SLConfig, evaluate, split_games
    from selfplay.value_estimates import holdout_positions

    out = tmp_path / "explain"
    argv = ["explain", "--run-dir", str(run_dir), "--out", str(out), "--positions", "100000", "--repeats", "2",
            "--heatmaps", "2", "--device", "cpu", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert "explain:" in capsys.readouterr().out
    for name in ("importance.json", "importance_policy.png", "importance_value.png", "heatmap_1.png",
                 "heatmap_2.png", "explain.md"):  # fmt: skip
        assert (out / name).is_file(), name
    for name in ("importance_policy.png", "importance_value.png", "heatmap_1.png"):
        assert (out / name).read_bytes().startswith(PNG)
    md = (out / "explain.md").read_text()
    assert md.startswith("## Why each part helps\n")
    for image in ("importance_policy.png", "importance_value.png", "heatmap_1.png", "heatmap_2.png"):
        assert f"]({image})" in md
    assert all(f"| {name} |" in md for name, _, _ in VALUE_LAYOUT)
    doc = json.loads((out / "importance.json").read_text())
    assert [g["group"] for g in doc["policy"]["groups"]] == [name for name, _, _ in POLICY_LAYOUT]
    assert [g["group"] for g in doc["value"]["groups"]] == [name for name, _, _ in VALUE_LAYOUT]
    assert all(len(g["permuted_mse"]) == 2 for g in doc["value"]["groups"])

    # The positions are every held-out position of the SL split, and the baseline is the training code's
    # own held-out accuracy on them.
    recipe, _ = load_recipe(run_dir / "config.yaml")
    records = load_corpus([run_dir / "corpus" / "shards"], SIZE)
    train = recipe.sl_train_config(run_dir / "corpus" / "shards", run_dir / "sl")  # type: ignore[union-attr]
    _, held = split_games(records.num_games, train.holdout_fraction, recipe.seed)
    net = load_net(run_dir / "weights" / "sl_policy.safetensors")
    positions = Positions(records, held, SLConfig(net=net.config, train=train))
    assert doc["policy"]["positions"] == len(positions)
    expected = evaluate(net, records, positions.game, positions.move).accuracy
    assert doc["policy"]["baseline_accuracy"] == pytest.approx(expected, abs=1e-9)
    assert {m["game"] for m in doc["heatmaps"]} <= set(held.tolist())
    assert len({m["game"] for m in doc["heatmaps"]}) == 2
    # The value positions are the value stage's held-out ones; the baseline is the net's MSE on them.
    planes, z = holdout_positions(run_dir, "alphago_value", 100000)
    vnet = load_net(run_dir / "weights" / "value.safetensors")
    with torch.no_grad():
        mse = float(((vnet(torch.from_numpy(planes)).value - torch.from_numpy(z)) ** 2).mean())
    assert doc["value"]["positions"] == len(z) > 0
    assert doc["value"]["baseline_mse"] == pytest.approx(mse, rel=1e-5)


def test_explain_bad_input_is_one_sentence(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "o")
    weights = run_dir / "weights"
    cases = [
        (["--run-dir", str(tmp_path / "nowhere"), "--out", out], "no such run directory"),
        (["--run-dir", str(run_dir), "--out", out, "--value", str(weights / "sl_policy.safetensors")],
         "no value head"),
        (["--run-dir", str(run_dir), "--out", out, "--policy", str(weights / "value.safetensors")],
         "no policy head"),
        (["--run-dir", str(run_dir), "--out", out, "--policy", str(tmp_path / "none.safetensors")],
         "no such weights file"),
        (["--run-dir", str(run_dir), "--out", out, "--positions", "0"], "--positions"),
        (["--run-dir", str(run_dir), "--out", out, "--repeats", "-1"], "--repeats"),
    ]  # fmt: skip
    for args, words in cases:
        assert exit_code(["explain", *args, "--quiet"]) == 2, args
        err = capsys.readouterr().err.strip().splitlines()
        assert err and words in err[-1] and "error" in err[-1], (args, err)
        assert "Traceback" not in "\n".join(err)
    import shutil

    shutil.rmtree(run_dir / "games")
    assert main(["explain", "--run-dir", str(run_dir), "--out", out, "--quiet"]) == 2
    assert "value stage" in capsys.readouterr().err  # no held-out value positions without value games
    (weights / "value.safetensors").unlink()
    assert main(["explain", "--run-dir", str(run_dir), "--out", out, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "value.safetensors" in err[0]
    assert not Path(out).exists()  # nothing written on bad input


def exit_code(argv: list[str]) -> int:
    """tengen's exit code for argv (argparse's usage errors exit through SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
