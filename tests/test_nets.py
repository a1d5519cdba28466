"""Networks of every architecture and size; weights files: round trip, metadata, and clear
errors for missing, corrupt and mismatched files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.nets import ARCHITECTURES, NetConfig, build_net
from engine.weights import (
    WeightsError,
    load_checkpoint,
    load_net,
    read_config,
    read_metadata,
    save_checkpoint,
    save_weights,
)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("size", [5, 9, 13, 19])
def test_shapes_for_every_architecture_and_size(architecture: str, size: int) -> None:
    config = NetConfig(architecture, size, "alphago_value", blocks=1, channels=8, value_hidden=16)
    net = build_net(config).eval()
    out = net(torch.zeros(3, 49, size, size, dtype=torch.uint8))
    if config.has_policy:
        assert out.policy is not None and out.policy.shape == (3, size * size + 1)
    else:
        assert out.policy is None
    if config.has_value:
        assert out.value is not None and out.value.shape == (3,)
        assert torch.all(out.value.abs() <= 1)
    else:
        assert out.value is None


def test_wrong_input_shape_is_a_clear_error() -> None:
    net = build_net(NetConfig(blocks=0, channels=4))
    with pytest.raises(ValueError, match=r"expected planes of shape \(batch, 48, 9, 9\)"):
        net(torch.zeros(1, 17, 9, 9))


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="feature set must be one of"):
        NetConfig(feature_set="fancy")
    with pytest.raises(ValueError, match="architecture must be one of"):
        NetConfig(architecture="both")
    with pytest.raises(ValueError, match="board size must be in"):
        NetConfig(board_size=40)


def test_weights_round_trip_and_metadata(tmp_path: Path) -> None:
    config = NetConfig("policy_value", 7, "raw", blocks=2, channels=8, value_hidden=8)
    net = build_net(config).eval()
    path = tmp_path / "w.safetensors"
    save_weights(path, net, {"note": "test"})
    meta = read_metadata(path)
    assert (
        meta["architecture"] == "policy_value" and meta["feature_set"] == "raw" and meta["board_size"] == "7"
    )
    assert meta["format"] == "tengen-weights-1" and "tengen_version" in meta and meta["note"] == "test"
    assert read_config(path) == config
    loaded = load_net(path, config, board_size=7)
    x = torch.rand(2, 17, 7, 7)
    a, b = net(x), loaded(x)
    assert torch.equal(a.policy, b.policy) and torch.equal(a.value, b.value)
    assert not list(tmp_path.glob("*.tmp"))


def test_mismatched_weights_name_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save_weights(path, build_net(NetConfig(board_size=9, blocks=1, channels=8)))
    with pytest.raises(WeightsError, match="board_size is 9 in the file but 19 in the config"):
        load_net(path, board_size=19)
    other = NetConfig(board_size=9, feature_set="raw", blocks=2, channels=8)
    with pytest.raises(WeightsError) as info:
        load_net(path, other)
    assert "feature_set is alphago in the file but raw in the config" in str(info.value)
    assert "blocks is 1 in the file but 2 in the config" in str(info.value)


def test_missing_corrupt_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="weights file not found"):
        load_net(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 3)
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        load_net(bad)
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(2)}, str(foreign))
    with pytest.raises(WeightsError, match="not a tengen weights file"):
        load_net(foreign)
    # Right metadata, wrong tensors.
    tampered = tmp_path / "tampered.safetensors"
    save_file(
        {"x": torch.zeros(2)},
        str(tampered),
        metadata={"format": "tengen-weights-1", **NetConfig().to_metadata()},
    )
    with pytest.raises(WeightsError, match="do not fit its own network description"):
        load_net(tampered)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_checkpoint_restores_network_and_optimizer(tmp_path: Path, optimizer: str) -> None:
    config = NetConfig(blocks=1, channels=8)

    def make() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
        net = build_net(config)
        if optimizer == "sgd":
            return net, torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        return net, torch.optim.AdamW(net.parameters(), lr=1e-3)

    torch.manual_seed(0)
    net, opt = make()
    for _ in range(2):
        opt.zero_grad()
        net(torch.rand(4, 48, 9, 9)).policy.logsumexp(1).sum().backward()
        opt.step()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, net, opt, {"step": 2, "epoch": 0})
    net2, opt2 = make()
    assert load_checkpoint(path, net2, opt2) == {"step": 2, "epoch": 0}
    for (k, a), b in zip(net.state_dict().items(), net2.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for pid, st in s1["state"].items():
        for key, val in st.items():
            other = s2["state"][pid][key]
            assert torch.equal(val, other) if isinstance(val, torch.Tensor) else val == other
    # The weights part of a checkpoint loads as a network too.
    assert read_config(path) == config
    load_net(path, config)
    # A checkpoint for another network is refused by name.
    net3 = build_net(NetConfig(blocks=1, channels=16))
    with pytest.raises(WeightsError, match="channels is 8 in the file but 16 in the config"):
        load_checkpoint(path, net3, torch.optim.SGD(net3.parameters(), lr=0.1))
