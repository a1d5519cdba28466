"""The built-in networks: how they are installed (with provenance), found by board size, and
used by `tengen gtp` / `tengen play` by default on the sizes they cover, the network-free search
elsewhere and with --no-net."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from engine import _core
from engine import builtin_net as builtin
from engine.backends.by_size import SizeRoutedBackend
from engine.backends.net import NetSearchBackend
from engine.backends.uct import UctSearchBackend
from engine.errors import UserError
from engine.gtp import GtpConfig, GtpEngine
from engine.gtp_flags import add_gtp_flags
from engine.nets import NetConfig, build_net
from engine.weights import read_metadata, save_weights
from tengen_cli.play import build_player

SEARCH = {"visits": 8, "policy": "net", "use_value": True, "use_rollouts": False, "batch_size": 4}


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_gtp_flags(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package folder holding a 5x5 built-in net."""
    net = build_net(NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=1,
                              channels=8, value_hidden=8, stem_kernel=3, aux_heads=True))
    save_weights(tmp_path / "trained.safetensors", net)
    folder = tmp_path / "builtin_nets"
    monkeypatch.setattr(builtin, "builtin_folder", lambda: folder)
    builtin.write_builtin(folder, tmp_path / "trained.safetensors", SEARCH,
                          {"recipe": "configs/zero_tiny.yaml", "hours": "0.01"})
    return folder


def test_write_builtin_records_the_provenance_in_the_weights_and_beside_them(shipped: Path) -> None:
    nets = builtin.builtin_nets()
    assert list(nets) == [5]
    meta = read_metadata(nets[5].weights)
    assert meta["provenance_recipe"] == "configs/zero_tiny.yaml" and meta["provenance_hours"] == "0.01"
    text = nets[5].settings.read_text()
    assert "provenance:" in text and "recipe: configs/zero_tiny.yaml" in text and "visits: 8" in text


def test_the_default_player_uses_the_builtin_net_on_its_size_and_uct_elsewhere(shipped: Path) -> None:
    player = build_player(_args("--visits", "8"))
    assert isinstance(player.backend, SizeRoutedBackend)
    assert isinstance(player.backend.backend_for(5), NetSearchBackend)
    assert isinstance(player.backend.backend_for(9), UctSearchBackend)
    assert not player.network_free(5) and player.network_free(9)
    engine = GtpEngine(player, GtpConfig(size=5, komi=0.5), out=io.StringIO())
    assert engine.handle("1 genmove b").startswith("=1 ")
    assert engine.handle("2 boardsize 9").startswith("=2")
    assert engine.handle("3 genmove b").startswith("=3 ")  # the UCT search plays 9x9
    player.close()


def test_no_net_plays_the_network_free_search_and_refuses_a_network_too(shipped: Path) -> None:
    player = build_player(_args("--no-net", "--visits", "8"))
    assert isinstance(player.backend, UctSearchBackend) and player.network_free(5)
    with pytest.raises(UserError, match="--no-net"):
        build_player(_args("--no-net", "--weights", str(shipped / "5x5.safetensors")))


def test_without_a_shipped_net_the_default_is_the_uct_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtin, "builtin_folder", lambda: tmp_path / "none")
    assert builtin.builtin_nets() == {}
    assert isinstance(build_player(_args()).backend, UctSearchBackend)


def test_the_routed_backend_estimates_with_the_net_of_the_size(shipped: Path) -> None:
    player = build_player(_args("--visits", "8"))
    assert player.backend.position_estimates([_core.Game(5, 0.5)]) is not None
    assert player.backend.position_estimates([_core.Game(9, 7.0)]) is None
    player.close()
