"""KataGo's auxiliary targets: the final-ownership and score targets self-play records, how the
training batch maps them (symmetry, side to move), the heads that learn them, global pooling,
and weights files written before these fields existed."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from engine import _core
from engine.backends.net import load_net_backend
from engine.errors import ConfigError
from engine.evaluators import TorchEvaluator
from engine.gtp import GtpConfig, GtpEngine
from engine.nets import NetConfig, build_net
from engine.player import Player, PlayerConfig
from engine.search import BatchedRunner, SearchSettings
from engine.weights import load_net, read_metadata, save_weights
from selfplay.selfplay_shards import SelfplayGame, Shard
from selfplay.zero import LossWeights, make_zero_batch, zero_loss

AUX = NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=3, channels=8,
                value_hidden=8, stem_kernel=3, aux_heads=True, global_pooling=True)


def test_area_owner_counts_stones_and_surrounded_territory() -> None:
    g = _core.Game(5)
    for x in range(5):
        g.play(_core.BLACK, 5 + x)  # row y=1 black
        g.play(_core.WHITE, 15 + x)  # row y=3 white
    own = g.area_owner()
    assert own.dtype == np.int8 and own.shape == (5, 5)
    assert own[0].tolist() == [1] * 5 and own[1].tolist() == [1] * 5
    assert own[2].tolist() == [0] * 5  # reaches both colours: dame
    assert own[3].tolist() == [-1] * 5 and own[4].tolist() == [-1] * 5
    assert float((own == 1).sum() - (own == -1).sum()) - g.komi == pytest.approx(g.area_score())


def test_selfplay_records_the_final_ownership_of_counted_games() -> None:
    settings = SearchSettings(visits=4, batch_size=4, resign_threshold=-2.0, max_moves=40)
    runner = BatchedRunner(settings, 5, 7.5, 4, evaluator=TorchEvaluator(build_net(AUX).eval()))
    games = runner.play_selfplay(4)
    assert len(games) == 4
    for d in games:
        assert not d["resigned"]
        game = SelfplayGame.from_search(d)
        assert game.ownership is not None and game.ownership.shape == (25,)
        replay = _core.Game(5, komi=7.5)
        for i, m in enumerate(game.moves.tolist()):
            replay.play(_core.BLACK if i % 2 == 0 else _core.WHITE, m)
        assert game.ownership.tolist() == replay.area_owner().reshape(-1).tolist()
        assert game.score == pytest.approx(replay.area_score())


def _game(moves: list[int], ownership: np.ndarray | None, score: float, resigned: bool = False) -> SelfplayGame:
    policy = np.zeros((len(moves), 26), np.float16)
    policy[np.arange(len(moves)), moves] = 1.0
    return SelfplayGame(5, 7.5, np.array(moves, np.int16), 1 if score > 0 else -1, policy,
                        np.ones(len(moves), np.uint8), score=score, resigned=resigned, ownership=ownership)


def test_zero_batch_maps_ownership_through_the_symmetry_and_to_the_mover(tmp_path: Path) -> None:
    own = np.zeros(25, np.int8)
    own[0], own[24] = 1, -1  # black owns a1's corner point (index 0), white the opposite corner
    shard = Shard.from_games([_game([6, 12, 18, 25, 25], own, 3.5), _game([7, 8], None, 0.0, resigned=True)],
                             [0, 1], "t")
    shard.save(tmp_path / "s.npz")
    back = Shard.load(tmp_path / "s.npz")
    assert back.ownership.tolist() == shard.ownership.tolist()
    assert back.games()[1].ownership is None
    for sym in range(8):
        games = np.array([0, 0, 1], np.int64)
        pos = np.array([0, 1, 0], np.int32)
        *_, own_t, score_t = make_zero_batch(back, games, pos, np.full(3, sym), "raw")
        a, b = _core.symmetry_index(0, sym, 5), _core.symmetry_index(24, sym, 5)
        assert own_t[0, a] == 1 and own_t[0, b] == -1 and np.count_nonzero(own_t[0]) == 2  # black to move
        assert own_t[1, a] == -1 and own_t[1, b] == 1  # white to move: the sign flips
        assert score_t[:2].tolist() == [3.5, -3.5]
        assert not own_t[2].any()  # resigned: no target


def test_older_shards_without_ownership_load_as_unknown(tmp_path: Path) -> None:
    shard = Shard.from_games([_game([6, 12, 25, 25], np.ones(25, np.int8), 10.0)], [0], "t")
    shard.save(tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz") as z:
        arrays = {k: z[k] for k in z.files if k != "ownership"}
    np.savez_compressed(tmp_path / "old.npz", **arrays)
    old = Shard.load(tmp_path / "old.npz")
    assert old.ownership.shape == (1, 25) and not old.ownership.any()


def test_aux_heads_shapes_ranges_and_learning() -> None:
    torch.manual_seed(0)
    net = build_net(AUX)
    x = torch.rand(6, AUX.input_planes, 5, 5)
    out = net(x)
    assert out.policy is not None and out.policy.shape == (6, 26)
    assert out.ownership is not None and out.ownership.shape == (6, 25)
    assert out.score is not None and out.score.shape == (6,)
    assert float(out.ownership.detach().abs().max()) <= 1.0
    # The aux losses fall when the net fits a fixed target; rows of zeros contribute nothing.
    masks = torch.ones(6, 26)
    policy_t = torch.full((6, 26), 1 / 26)
    full, z = torch.ones(6), torch.zeros(6)
    own_t = torch.where(torch.arange(25) < 12, 1.0, -1.0).repeat(6, 1)
    own_t[5] = 0
    score_t = torch.full((6,), 12.0)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    first = last = {}
    for step in range(60):
        loss, stats = zero_loss(net, x, masks, policy_t, full, z, own_t, score_t, weights=LossWeights())
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = stats if step == 0 else first
        last = stats
    assert last["ownership_loss"] < 0.5 * first["ownership_loss"]
    assert last["score_loss"] < 0.5 * first["score_loss"]


def test_nets_without_aux_heads_have_no_aux_outputs_and_aux_needs_policy_value() -> None:
    plain = build_net(NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=1, channels=4))
    out = plain(torch.rand(2, plain.config.input_planes, 5, 5))
    assert out.ownership is None and out.score is None
    with pytest.raises(ConfigError, match="aux_heads"):
        NetConfig(architecture="policy", aux_heads=True)


def test_global_pooling_blocks_see_the_whole_board() -> None:
    """A change in one corner moves the output at the far corner only through global pooling
    (three 3x3 blocks plus a 3x3 stem cannot reach across a 9x9 board)."""
    torch.manual_seed(1)
    for pooling, expect_change in ((False, False), (True, True)):
        cfg = NetConfig(architecture="policy_value", board_size=9, feature_set="raw", blocks=2, channels=8,
                        stem_kernel=3, global_pooling=pooling)
        trunk = build_net(cfg).trunk.eval()
        x = torch.zeros(1, cfg.input_planes, 9, 9)
        y = x.clone()
        y[0, 0, 0, 0] = 1.0
        with torch.no_grad():
            d = (trunk(x) - trunk(y))[0, :, 8, 8].abs().max().item()
        assert (d > 0) == expect_change


def test_weights_round_trip_and_files_from_before_the_aux_fields_still_load(tmp_path: Path) -> None:
    net = build_net(AUX)
    save_weights(tmp_path / "aux.safetensors", net)
    again = load_net(tmp_path / "aux.safetensors", expected=AUX)
    assert again.config == AUX
    old_cfg = NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=1, channels=4)
    save_weights(tmp_path / "old.safetensors", build_net(old_cfg))
    meta = read_metadata(tmp_path / "old.safetensors")
    for key in ("aux_heads", "global_pooling"):
        meta.pop(key)
    save_file(load_file(tmp_path / "old.safetensors"), tmp_path / "older.safetensors", metadata=meta)
    assert load_net(tmp_path / "older.safetensors").config == old_cfg


def test_the_search_runs_on_a_net_with_aux_heads() -> None:
    ev = TorchEvaluator(build_net(AUX).eval())
    runner = BatchedRunner(SearchSettings(visits=8, batch_size=4), 5, 7.5, 1, evaluator=ev)
    runner.search_position(_core.Game(5, komi=7.5), 8)
    assert runner.search.root_visits(0) >= 8


def _mover_owns_everything(tmp_path: Path, lead: float, owner: float = 1.0) -> Path:
    """Weights of an aux net that says: the player to move owns every point (owner -1: the
    opponent does) and leads by `lead`."""
    net = build_net(AUX)
    with torch.no_grad():
        assert net.ownership_head is not None and net.value_head is not None
        assert net.value_head.score_fc is not None
        net.ownership_head.conv.weight.zero_()
        net.ownership_head.conv.bias.fill_(10.0 * owner)
        net.value_head.score_fc.weight.zero_()
        net.value_head.score_fc.bias.fill_(lead / 10.0)
    path = tmp_path / "aux.safetensors"
    save_weights(path, net)
    return path


def _engine(weights: Path, out: io.StringIO, **player: object) -> GtpEngine:
    backend = load_net_backend(weights, weights, SearchSettings(visits=16, batch_size=4))
    return GtpEngine(Player(PlayerConfig(**player), backend=backend),  # type: ignore[arg-type]
                     GtpConfig(size=5, komi=0.5), out=out)


def test_final_score_and_dead_stones_come_from_the_nets_ownership(tmp_path: Path) -> None:
    engine = _engine(_mover_owns_everything(tmp_path, 3.0, owner=-1.0), io.StringIO(), visits=16)
    for line in ("play b C3", "play w B2", "play b D4", "play w A1"):
        assert engine.handle(line).startswith("=")
    # Black to move and the net gives white every point: black's two strong stones are "dead".
    assert sorted(engine.handle("final_status_list dead").split()) == ["=", "C3", "D4"]
    assert sorted(engine.handle("final_status_list alive").split()) == ["=", "A1", "B2"]
    assert engine.handle("final_score") == "= W+25.5\n\n"  # 25 points + komi 0.5
    # The playout estimate, used without aux heads, finds white's corner stones dead instead.
    plain = Player(PlayerConfig(visits=16))
    assert plain.final_score(engine.game.copy()) == pytest.approx(24.5)


def test_kata_analyze_reports_the_nets_score_lead_and_ownership(tmp_path: Path) -> None:
    out = io.StringIO()
    engine = _engine(_mover_owns_everything(tmp_path, 3.0), out, seconds=0.6)
    assert engine.handle("play b C3").startswith("=")
    assert engine.handle("kata-genmove_analyze w 5 ownership true") is None
    lines = [ln for ln in out.getvalue().splitlines() if ln]
    info = [ln for ln in lines if ln.startswith("info ")]
    assert info and lines[-1].startswith("play ")
    for line in info:
        leads = re.findall(r"scoreLead (-?[\d.]+)", line)
        # After each white move black is to move and "leads by 3": white's lead is -3.
        assert leads and all(float(v) == pytest.approx(-3.0, abs=1e-3) for v in leads)
        own = [float(v) for v in line.split(" ownership ")[1].split()]
        # The net gives the player to move (white) every point; reported for white: +1 each.
        assert len(own) == 25 and all(v == pytest.approx(1.0, abs=1e-3) for v in own)
