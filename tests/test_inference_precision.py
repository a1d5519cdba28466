"""Inference precision: the automatic choice, the forced ones, the refusals, and bf16 outputs that
stay close to float32 on the same batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine import _core
from engine import torch_device as td
from engine.evaluators import TorchEvaluator
from engine.nets import NetConfig, build_net
from engine.torch_device import DeviceError, inference_precision


def test_auto_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    monkeypatch.setattr(td, "cpu_has_bf16", lambda: True)
    auto = inference_precision(cpu, "auto")
    assert auto.name == "bf16" and auto.dtype == torch.bfloat16 and auto.channels_last
    monkeypatch.setattr(td, "cpu_has_bf16", lambda: False)
    assert inference_precision(cpu, "auto").name == "f32"
    with pytest.raises(DeviceError, match="no native bfloat16"):
        inference_precision(cpu, "bf16")
    assert inference_precision(cpu, "f32") == td.F32
    with pytest.raises(DeviceError, match="precision must be one of"):
        inference_precision(cpu, "fp8")


def _planes(size: int, n: int, feature_set: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    planes = np.zeros((n, _core.num_planes(feature_set), size, size), dtype=np.float32)
    for i in range(n):
        game = _core.Game(size, 7.5)
        for _ in range(int(rng.integers(0, 20))):
            legal = [m for m in range(size * size) if game.is_legal(game.to_move, m)]
            game.play(game.to_move, int(rng.choice(legal)))
        _core.write_features(game, planes[i], feature_set)
    return planes


@pytest.mark.skipif(not td.cpu_has_bf16(), reason="this CPU has no native bf16: only f32 runs here (said loudly)")
def test_bf16_evaluator_stays_close_to_f32() -> None:
    torch.manual_seed(0)
    config = NetConfig(architecture="policy_value", board_size=9, feature_set="raw", blocks=2, channels=16,
                       value_hidden=16, stem_kernel=3)
    net = build_net(config).eval()
    planes = _planes(9, 16, "raw")
    masks = np.ones((16, config.num_moves), dtype=np.float32)
    outs = {}
    for precision in ("f32", "bf16"):
        twin = build_net(config).eval()
        twin.load_state_dict(net.state_dict())
        ev = TorchEvaluator(twin, twin, device="cpu", precision=precision)
        assert ev.precision.name == precision
        policy = np.zeros((16, config.num_moves), dtype=np.float32)
        values = np.zeros(16, dtype=np.float32)
        ev.evaluate(planes, masks, policy, values)
        outs[precision] = (policy, values)
    (p32, v32), (p16, v16) = outs["f32"], outs["bf16"]
    assert np.isfinite(p16).all() and np.isfinite(v16).all()
    assert not np.array_equal(p32, p16), "bf16 ran as float32"
    np.testing.assert_allclose(p16, p32, atol=0.1)
    np.testing.assert_allclose(v16, v32, atol=0.05)
    assert (p16.argmax(axis=1) == p32.argmax(axis=1)).mean() >= 0.75


def test_recipes_default_to_f32_and_refuse_an_unknown_precision(tmp_path: Path) -> None:
    from selfplay.recipe import RecipeError, load_recipe

    root = Path(__file__).resolve().parents[1]
    recipe, _ = load_recipe(root / "configs" / "zero_9x9_cpu.yaml")
    assert recipe.inference_precision == "f32"
    bad = tmp_path / "bad.yaml"
    bad.write_text((root / "configs" / "zero_tiny.yaml").read_text() + "inference_precision: fp8\n")
    with pytest.raises(RecipeError, match="inference_precision must be one of auto, f32, bf16"):
        load_recipe(bad)
    ok = tmp_path / "auto.yaml"
    ok.write_text((root / "configs" / "zero_tiny.yaml").read_text() + "inference_precision: auto\n")
    assert load_recipe(ok)[0].inference_precision == "auto"


def test_cuda_inputs_go_through_one_pinned_buffer() -> None:
    """On CUDA the batch is copied through a pinned host buffer that is allocated once and reused."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here: the pinned-buffer path needs a GPU (said loudly)")
    net = build_net(NetConfig(architecture="policy_value", board_size=5, feature_set="raw", blocks=1, channels=8))
    ev = TorchEvaluator(net, net, device="cuda")
    planes = ev.policy_net.config.input_planes if ev.policy_net is not None else 0
    for b in (4, 2, 4):
        x = np.random.default_rng(b).integers(0, 2, (b, planes, 5, 5)).astype(np.uint8)
        pol, val = np.zeros((b, 26), np.float32), np.zeros(b, np.float32)
        ev.evaluate(x, np.ones((b, 26), np.uint8), pol, val)
        with torch.no_grad():
            ref = net(torch.from_numpy(x).cuda())
        assert np.allclose(pol, ref.policy.float().cpu().numpy(), atol=1e-4)
    assert ev._staging is not None and ev._staging.is_pinned() and ev._staging.numel() == 4 * planes * 25
