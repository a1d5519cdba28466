"""Rollout policy: pattern features on hand-built positions, symmetry invariance, C++
probabilities equal the Python model's, training learns a policy, weights files, playouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine import _core as core
from engine.weights import WeightsError, load_rollout_policy, load_rollout_weights, save_rollout_weights
from selfplay.records import GameRecord, Records
from selfplay.train_rollout import RolloutTrainConfig, rollout_logits, train_rollout
from tests.test_features import idx, position

B, W = core.BLACK, core.WHITE
LAYOUT = {name: first for name, first, _ in core.rollout_feature_layout()}


def features(g: core.Game) -> tuple[np.ndarray, np.ndarray]:
    n2 = g.size * g.size
    ids = np.zeros((n2, core.ROLLOUT_ACTIVE), np.int32)
    cand = np.zeros(n2, np.uint8)
    assert core.rollout_features(g, ids, cand) == cand.sum()
    return ids, cand


def named(ids: np.ndarray, move: int) -> set[str]:
    """Feature names (pattern left out) of a candidate."""
    out = set()
    for f in ids[move]:
        if f < 0 or f < LAYOUT["response"]:
            continue
        name = max((n for n in LAYOUT if LAYOUT[n] <= f), key=lambda n: LAYOUT[n])
        out.add(f"{name}{f - LAYOUT[name]}")
    return out


def test_flags_on_hand_built_position() -> None:
    g = position(
        """
        O X . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        O . . . . . . . .
        X . . X O X . . .
        O . . . . . . . .
        . . . . . . . . .
        . . . . . . . O .
        . . . . . . O . .
        """
    )
    ids, cand = features(g)
    assert named(ids, idx(0, 1)) == {"capture0", "line0"}  # takes the corner O
    assert named(ids, idx(1, 4)) == {"save0", "line1"}  # X at (0, 4) is in atari
    assert named(ids, idx(4, 3)) == {"atari0", "line3"}  # O at (4, 4) down to one liberty
    assert named(ids, idx(7, 8)) == {"self_atari0", "line0"}
    assert cand[idx(0, 0)] == 0 and cand[idx(4, 4)] == 0  # occupied
    g.play(B, g.pass_move)
    g.play(W, idx(4, 6))  # black to move, responding to W at (4, 6)
    ids, _ = features(g)
    assert "response0" in named(ids, idx(4, 7)) and "response1" in named(ids, idx(5, 7))
    assert "response2" in named(ids, idx(6, 6)) and not named(ids, idx(7, 6)) & {"response0", "response1"}


def test_own_eye_is_not_a_candidate() -> None:
    g = position(
        """
        . X . . . . . . .
        X X . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        """
    )
    _, cand = features(g)
    assert cand[0] == 0 and cand.sum() == 81 - 3 - 1


def rotate(code: int) -> int:
    return sum(((code >> (2 * ((i + 2) % 8))) & 3) << (2 * i) for i in range(8))


def mirror(code: int) -> int:
    return sum(((code >> (2 * ((8 - i) % 8))) & 3) << (2 * i) for i in range(8))


def test_canonical_pattern_is_symmetric() -> None:
    rng = np.random.default_rng(0)
    for code in rng.integers(0, 65536, 300):
        c = int(code)
        variants = {c, mirror(c)}
        r = c
        for _ in range(3):
            r = rotate(r)
            variants |= {r, mirror(r)}
        assert len({core.canonical_pattern(v) for v in variants}) == 1


def random_game(seed: int, moves: int = 40, size: int = 9) -> core.Game:
    g = core.Game(size)
    for k in range(moves):
        g.play(g.to_move, g.random_move(g.to_move, seed * 977 + k))
    return g


def test_features_are_equivariant_under_board_symmetries() -> None:
    for seed in range(3):
        g = random_game(seed)
        ids, cand = features(g)
        for s in range(8):
            h = core.Game(9)
            for colour, move in g.moves():
                h.play(colour, core.symmetry_index(move, s, 9))
            hids, hcand = features(h)
            for m in range(81):
                t = core.symmetry_index(m, s, 9)
                assert cand[m] == hcand[t]
                assert sorted(ids[m].tolist()) == sorted(hids[t].tolist())


def test_cpp_probabilities_match_the_python_model() -> None:
    rng = np.random.default_rng(1)
    weights = rng.normal(0, 1, core.ROLLOUT_FEATURES).astype(np.float32)
    policy = core.RolloutPolicy(weights)
    for seed in range(3):
        g = random_game(seed + 10, 30)
        ids, cand = features(g)
        ids64 = ids.astype(np.int64)
        ids64[ids64 < 0] = core.ROLLOUT_FEATURES
        w = torch.cat([torch.from_numpy(weights), torch.zeros(1)])
        logits = rollout_logits(w, torch.from_numpy(ids64)[None], torch.from_numpy(cand.astype(bool))[None])
        expected = torch.softmax(logits, 1)[0].numpy()
        assert np.allclose(policy.probabilities(g), expected, atol=1e-5)
        assert policy.best_move(g) == int(expected.argmax())


def policy_games(count: int, seed: int) -> list[GameRecord]:
    """Games played by a hand-weighted rollout policy: something to learn."""
    w = np.zeros(core.ROLLOUT_FEATURES, np.float32)
    w[LAYOUT["response"]] = 3.0
    w[LAYOUT["capture"] : LAYOUT["capture"] + 2] = 4.0
    w[LAYOUT["line"]] = -3.0
    teacher = core.RolloutPolicy(w)
    out = []
    for s in range(count):
        g = core.Game(9)
        moves = []
        for k in range(50):
            c = g.to_move
            m = teacher.sample_move(g, seed * 10_000 + s * 100 + k)
            g.play(c, m)
            moves.append((c, m))
        out.append(GameRecord(9, tuple(moves), winner=1))
    return out


def test_training_learns_and_weights_round_trip(tmp_path: Path) -> None:
    records = Records.from_games(policy_games(30, 0), 9)
    cfg = RolloutTrainConfig(out_dir=str(tmp_path), epochs=4, batch_size=256, lr=0.1, progress=False)
    result = train_rollout(cfg, records=records)
    # A uniform pick among ~55 candidates would be right about 2% of the time.
    assert result.holdout_accuracy > 0.15 and result.holdout_positions > 100
    w = load_rollout_weights(result.weights_path)
    assert w.shape == (core.ROLLOUT_FEATURES,) and w[LAYOUT["response"]] > w[LAYOUT["line"]]
    policy = load_rollout_policy(result.weights_path)
    area, moves = core.rollout_playout(policy, core.Game(9), 5)
    assert moves > 20 and -81 <= area <= 81
    playouts, total_moves, seconds = policy.benchmark(9, 5)
    assert playouts == 5 and total_moves > 0 and seconds > 0


def test_rollout_weights_errors(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="weights file not found"):
        load_rollout_weights(tmp_path / "none.safetensors")
    from engine.nets import NetConfig, build_net
    from engine.weights import save_weights

    net_file = tmp_path / "net.safetensors"
    save_weights(net_file, build_net(NetConfig(blocks=0, channels=4)))
    with pytest.raises(WeightsError, match="not a tengen rollout-policy file"):
        load_rollout_weights(net_file)
    short = tmp_path / "short.safetensors"
    save_rollout_weights(short, np.zeros(core.ROLLOUT_FEATURES, np.float32), {})
    assert load_rollout_weights(short).sum() == 0
    with pytest.raises(TypeError, match="weights"):
        core.RolloutPolicy(np.zeros(10, np.float64))
    with pytest.raises(ValueError, match="weights has the wrong length"):
        core.RolloutPolicy(np.zeros(10, np.float32))


def test_replayed_features_match_live_positions() -> None:
    games = [random_game(s, 25 + s) for s in range(3)]
    moves = np.array([m for g in games for _, m in g.moves()], np.int16)
    colours = np.array([c for g in games for c, _ in g.moves()], np.uint8)
    offsets = np.cumsum([0] + [len(g.moves()) for g in games]).astype(np.int64)
    sg = np.array([0, 0, 1, 2, 2, 1], np.int64)
    sm = np.array([0, 10, 25, 5, 20, 3], np.int32)
    ids = np.zeros((6, 81, core.ROLLOUT_ACTIVE), np.int32)
    cand = np.zeros((6, 81), np.uint8)
    targets = np.zeros(6, np.int64)
    failed = core.replay_rollout_features(
        9, offsets, moves, colours, np.zeros(4, np.int64), np.zeros(0, np.int16), np.zeros(0, np.uint8),
        sg, sm, ids, cand, targets, 2,
    )  # fmt: skip
    assert failed == 0
    for i in range(6):
        g = core.Game(9, superko=False)
        for colour, move in games[sg[i]].moves()[: sm[i]]:
            g.play(colour, move)
        g.to_move = games[sg[i]].moves()[sm[i]][0]
        live_ids, live_cand = features(g)
        assert np.array_equal(cand[i], live_cand) and np.array_equal(ids[i], live_ids)
        assert targets[i] == games[sg[i]].moves()[sm[i]][1]
