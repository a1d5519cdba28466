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
                          {"recipe": "configs/zero_tiny.yaml", "hours": "0.01"}, default_player=True)
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


def test_a_builtin_net_that_is_not_the_default_player_plays_only_with_builtin_net(shipped: Path) -> None:
    net = builtin.builtin_nets()[5]
    builtin.write_builtin(shipped, net.weights, SEARCH, {"recipe": "x"}, default_player=False)
    assert not builtin.builtin_nets()[5].default_player
    assert isinstance(build_player(_args("--visits", "8")).backend, UctSearchBackend)
    player = build_player(_args("--visits", "8", "--builtin-net"))
    assert isinstance(player.backend, SizeRoutedBackend) and not player.network_free(5)
    player.close()
    with pytest.raises(UserError, match="contradict"):
        build_player(_args("--builtin-net", "--no-net"))


def test_without_a_shipped_net_the_default_is_the_uct_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtin, "builtin_folder", lambda: tmp_path / "none")
    assert builtin.builtin_nets() == {}
    assert isinstance(build_player(_args()).backend, UctSearchBackend)
    with pytest.raises(UserError, match="ships no built-in network"):
        build_player(_args("--builtin-net"))


def test_the_routed_backend_estimates_with_the_net_of_the_size(shipped: Path) -> None:
    player = build_player(_args("--visits", "8"))
    assert player.backend.position_estimates([_core.Game(5, 0.5)]) is not None
    assert player.backend.position_estimates([_core.Game(9, 7.0)]) is None
    player.close()


# ---------------------------------------------------------------------------------- the package's own


PROVENANCE = ("recipe", "command", "commit", "training_hours", "selfplay_games", "ladder_elo")


def test_the_package_ships_a_9x9_net_with_its_provenance() -> None:
    from engine.search import SearchSettings
    from engine.weights import load_net

    nets = builtin.builtin_nets()
    assert 9 in nets, f"no built-in 9x9 net in {builtin.builtin_folder()}"
    meta = read_metadata(nets[9].weights)
    missing = [k for k in PROVENANCE if not meta.get(f"provenance_{k}")]
    assert not missing, f"the built-in 9x9 net lacks provenance: {missing}"
    net = load_net(nets[9].weights)
    assert net.config.board_size == 9 and net.config.aux_heads
    import yaml

    data = yaml.safe_load(nets[9].settings.read_text())
    SearchSettings.from_mapping(data["search"])
    assert set(PROVENANCE) <= set(data["provenance"])


def _gtp(*flags: str) -> str:
    import subprocess
    import sys

    script = "boardsize 9\nclear_board\nkata-genmove_analyze b 10\nquit\n"
    done = subprocess.run([sys.executable, "-m", "tengen_cli", "gtp", "--size", "9", "--no-records",
                           "--seconds", "0.5", *flags], input=script, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tengen_gtp_plays_9x9_with_the_builtin_net_as_its_yaml_says() -> None:
    """With the net, kata-analyze has scoreLead (only a net with a score head gives one); the net
    plays without flags only when NxN.yaml makes it the default player."""
    net = builtin.builtin_nets()[9]
    assert "scoreLead" in _gtp("--builtin-net")
    default = _gtp()
    assert "info move" in default and ("scoreLead" in default) == net.default_player
    without = _gtp("--no-net")
    assert "info move" in without and "scoreLead" not in without
