"""The `uct_net` search: the built-in UCT-RAVE search with a policy net's priors in a PUCT term at
the root (csrc/search/uct.*'s prior_bonus, engine/root_priors.py, search config `backend: uct_net`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import _core
from engine.backends.base import Budget
from engine.backends.uct import UctSearchBackend, UctSettings
from engine.coords import parse_vertex
from engine.errors import ConfigError, CoreError
from engine.nets import NetConfig, build_net
from engine.root_priors import NetRootPriors
from engine.weights import save_weights


def uct(visits: int, bonus: float, priors: list[float] | None, seed: int = 5) -> _core.UctResult:
    c = _core.UctConfig()
    c.max_visits, c.prior_bonus, c.seed, c.threads = visits, bonus, seed, 1
    search = _core.UctSearch(c)
    if priors is not None:
        search.set_root_priors(priors)
    return search.run(_core.Game(9, 7.0))


def one_hot(point: int) -> list[float]:
    p = [0.0] * 82
    p[point] = 1.0
    return p


def test_root_priors_steer_the_visits() -> None:
    edge = parse_vertex("A1", 9)  # a move the search alone never plays first
    steered = uct(3000, 5.0, one_hot(edge))
    assert steered.best_move == edge
    plain = uct(3000, 0.0, None)
    assert plain.best_move != edge
    # Without a bonus the priors are ignored: the same search as none, visit for visit.
    ignored = uct(3000, 0.0, one_hot(edge))
    assert [(ch.move, ch.visits) for ch in ignored.children] == [(ch.move, ch.visits) for ch in plain.children]


def test_priors_are_used_once_and_checked() -> None:
    c = _core.UctConfig()
    c.max_visits, c.prior_bonus = 500, 5.0
    search = _core.UctSearch(c)
    edge = parse_vertex("A1", 9)
    search.set_root_priors(one_hot(edge))
    assert search.run(_core.Game(9, 7.0)).best_move == edge
    assert search.run(_core.Game(9, 7.0)).best_move != edge  # forgotten after one run
    search.set_root_priors([0.5] * 5)
    with pytest.raises(CoreError, match="size\\*size \\+ 1"):
        search.run(_core.Game(9, 7.0))
    with pytest.raises(ConfigError):
        UctSettings(prior_bonus=float("nan"))


def tiny_policy_value(board: int = 9, aux: bool = False) -> object:
    return build_net(NetConfig(architecture="policy_value", board_size=board, feature_set="raw", blocks=1,
                               channels=8, aux_heads=aux))  # fmt: skip


def test_net_root_priors_are_a_distribution_over_legal_moves() -> None:
    net = tiny_policy_value()
    game = _core.Game(9, 7.0)
    game.play(_core.BLACK, parse_vertex("E5", 9))
    p = NetRootPriors(net).priors(game)  # type: ignore[arg-type]
    assert p.shape == (82,) and p.dtype == np.float32
    assert abs(float(p.sum()) - 1.0) < 1e-5
    assert p[parse_vertex("E5", 9)] == 0.0  # occupied
    assert (p >= 0).all() and p[81] > 0  # pass stays legal
    with pytest.raises(ValueError, match="9x9"):
        NetRootPriors(net).priors(_core.Game(7, 7.0))  # type: ignore[arg-type]


def test_backend_uses_the_net_and_its_ownership() -> None:
    net = tiny_policy_value(aux=True)
    from engine.net_estimates import NetEstimator

    backend = UctSearchBackend(UctSettings(prior_bonus=1.0), root_priors=NetRootPriors(net),  # type: ignore[arg-type]
                               estimator=NetEstimator(net))  # type: ignore[arg-type]  # fmt: skip
    assert backend.name == "tengen-uct-net"
    game = _core.Game(9, 7.0)
    out = backend.search(game, Budget(visits=300))
    assert out.visits == 300 and game.is_legal(game.to_move, out.move)
    est = backend.position_estimates([game])
    assert est is not None and est[0].ownership.shape == (81,)
    # Other sizes: plain UCT-RAVE, no network estimate.
    small = _core.Game(7, 7.0)
    assert backend.search(small, Budget(visits=100)).visits == 100
    assert backend.position_estimates([small]) is None


def gtp(args: list[str], commands: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tengen_cli", "gtp", "--no-records", *args], input=commands,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_gtp_plays_with_a_uct_net_config(tmp_path: Path) -> None:
    weights = tmp_path / "pv.safetensors"
    save_weights(weights, tiny_policy_value(aux=True))  # type: ignore[arg-type]
    config = Path(__file__).resolve().parents[1] / "configs" / "search" / "uct_net.yaml"
    out = gtp(["--weights", str(weights), "--config", str(config), "--visits", "300", "--size", "9"],
              "genmove b\nname\nquit\n")  # fmt: skip
    assert out.returncode == 0, out.stderr
    answers = [a for a in out.stdout.split("\n\n") if a.strip()]
    move = answers[0].removeprefix("= ").strip()
    game = _core.Game(9, 7.0)
    assert move.lower() == "pass" or game.is_legal(_core.BLACK, parse_vertex(move, 9))


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("backend: uct_net\nvisits: 5\n", "unknown: visits"),
    ("backend: uct_net\nprior_bonus: yes\n", "prior_bonus must be a number"),
    ("backend: mcts\n", "backend must be uct_net"),
])  # fmt: skip
def test_gtp_refuses_bad_uct_net_configs(tmp_path: Path, yaml_text: str, message: str) -> None:
    weights = tmp_path / "pv.safetensors"
    save_weights(weights, tiny_policy_value())  # type: ignore[arg-type]
    config = tmp_path / "c.yaml"
    config.write_text(yaml_text)
    out = gtp(["--weights", str(weights), "--config", str(config), "--size", "9"], "quit\n")
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr
