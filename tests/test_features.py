"""Input feature planes (csrc/go/features) on hand-built positions, symmetry round trips, the
batched and replay entry points, and buffer errors."""

from __future__ import annotations

import numpy as np
import pytest

from engine import _core as core

B, W = core.BLACK, core.WHITE
LAYOUT = {name: (first, count) for name, first, count in core.plane_layout("alphago")}


def idx(x: int, y: int, size: int = 9) -> int:
    return x + y * size


def position(diagram: str, to_move: int = B) -> core.Game:
    """A Game set up from rows of X (black), O (white) and . (empty), top row first."""
    rows = [r.split() for r in diagram.strip().splitlines()]
    size = len(rows)
    g = core.Game(size)
    for y, row in enumerate(rows):
        assert len(row) == size
        for x, ch in enumerate(row):
            if ch in "XO":
                assert g.place_setup_stone(B if ch == "X" else W, idx(x, y, size))
    g.to_move = to_move
    return g


def planes(g: core.Game, feature_set: str = "alphago", symmetry: int = 0) -> np.ndarray:
    out = np.full((core.num_planes(feature_set), g.size, g.size), 7, dtype=np.float32)
    core.write_features(g, out, feature_set, symmetry)
    return out


def group(p: np.ndarray, name: str, x: int, y: int) -> np.ndarray:
    """The one-hot vector of a plane group at a point."""
    first, count = LAYOUT[name]
    return p[first : first + count, y, x]


def hot(name: str, k: int) -> np.ndarray:
    v = np.zeros(LAYOUT[name][1], dtype=np.float32)
    v[k] = 1
    return v


def test_plane_counts_and_layout() -> None:
    assert core.num_planes("alphago") == 48
    assert core.num_planes("alphago_value") == 49
    assert core.num_planes("raw") == 17
    assert sum(c for _, _, c in core.plane_layout("alphago")) == 48
    assert [n for n, _, _ in core.plane_layout("alphago")][:3] == ["stone_colour", "ones", "turns_since"]
    with pytest.raises(ValueError, match="unknown feature set 'nope'"):
        core.num_planes("nope")


def test_stone_colour_ones_zeros_and_player_colour() -> None:
    g = core.Game(9)
    g.play(B, idx(4, 4))
    g.play(W, idx(2, 2))
    p = planes(g)  # black to move
    assert p[0, 4, 4] == 1 and p[1, 2, 2] == 1 and p[2, 4, 4] == 0 and p[2].sum() == 79
    assert np.all(p[LAYOUT["ones"][0]] == 1) and np.all(p[LAYOUT["zeros"][0]] == 0)
    assert np.all(planes(g, "alphago_value")[48] == 1)
    g.play(B, idx(6, 6))  # white to move: "own" is now white
    p = planes(g, "alphago_value")
    assert p[0, 2, 2] == 1 and p[1, 4, 4] == 1 and p[1, 6, 6] == 1
    assert np.all(p[48] == 0)
    assert np.array_equal(p[:48], planes(g))


def test_liberties() -> None:
    g = position(
        """
        . X . . . . . . .
        X O . . . . . . .
        . . . . . . . . .
        . . . X X X . . .
        . . . . . . . . .
        . . . . X . . . .
        . . . . . . . . .
        . . . . . . . . .
        O X . . . . . . O
        """
    )
    p = planes(g)
    assert np.array_equal(group(p, "liberties", 1, 1), hot("liberties", 1))  # O: 2 liberties
    assert np.array_equal(group(p, "liberties", 1, 0), hot("liberties", 1))  # X on the edge: 2
    assert np.array_equal(group(p, "liberties", 4, 5), hot("liberties", 3))  # lone stone: 4
    for x in (3, 4, 5):  # a 3-stone line has 8 liberties: the ">= 8" plane
        assert np.array_equal(group(p, "liberties", x, 3), hot("liberties", 7))
    assert np.array_equal(group(p, "liberties", 0, 8), hot("liberties", 0))  # O in atari
    assert np.array_equal(group(p, "liberties", 8, 8), hot("liberties", 1))
    assert group(p, "liberties", 2, 2).sum() == 0  # empty points have none
    assert core.move_effect(g, B, idx(0, 7)) == (1, 1, 3)  # captures the corner O


def test_capture_size_self_atari_and_liberties_after() -> None:
    g = position(
        """
        . . . . . . . . .
        . . . . . . . O X
        . . . . . . . . O
        X . . . . . . . .
        O X . . . . . . .
        O X . . . . . . .
        O X . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        """
    )
    p = planes(g)
    assert np.array_equal(group(p, "capture_size", 0, 7), hot("capture_size", 3))  # takes 3 stones
    assert np.array_equal(group(p, "capture_size", 4, 4), hot("capture_size", 0))
    # Black at the corner joins the X in atari: a 2-stone chain with one liberty.
    assert core.move_effect(g, B, idx(8, 0)) == (0, 2, 1)
    assert np.array_equal(group(p, "self_atari_size", 8, 0), hot("self_atari_size", 1))
    assert np.array_equal(group(p, "liberties_after_move", 8, 0), hot("liberties_after_move", 0))
    assert group(p, "self_atari_size", 4, 4).sum() == 0
    assert np.array_equal(group(p, "liberties_after_move", 4, 4), hot("liberties_after_move", 3))
    assert np.array_equal(group(p, "liberties_after_move", 0, 8), hot("liberties_after_move", 1))
    # After the capture the new stone has (1, 7), (0, 8) and the freed (0, 6).
    assert core.move_effect(g, B, idx(0, 7)) == (3, 1, 3)
    assert np.array_equal(group(p, "liberties_after_move", 0, 7), hot("liberties_after_move", 2))
    # Occupied points carry no per-move planes.
    assert group(p, "capture_size", 0, 3).sum() == 0 and p[LAYOUT["sensibleness"][0], 3, 0] == 0


def test_self_atari_counts_chain_size_up_to_eight() -> None:
    g = position(
        """
        . X X X X X X X X
        O O O O O O O O O
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        """
    )
    # Black at the corner would fill the last liberty of its own chain: suicide.
    assert not g.is_legal(B, idx(0, 0))
    p = planes(g)
    assert group(p, "self_atari_size", 0, 0).sum() == 0
    assert p[LAYOUT["sensibleness"][0], 0, 0] == 0
    # White captures all eight stones there.
    g.to_move = W
    p = planes(g)
    assert np.array_equal(group(p, "capture_size", 0, 0), hot("capture_size", 7))


LADDER = """
. . . . . . . . .
. X X . . . . . .
X O . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
"""


def with_stones(diagram: str, extra: dict[tuple[int, int], str]) -> str:
    rows = [r.split() for r in diagram.strip().splitlines()]
    for (x, y), ch in extra.items():
        rows[y][x] = ch
    return "\n".join(" ".join(r) for r in rows)


def test_ladder_capture() -> None:
    g = position(LADDER, B)
    p = planes(g)
    lc = LAYOUT["ladder_capture"][0]
    assert p[lc, 3, 1] == 1  # atari from below drives O along the diagonal to the edge
    assert p[lc, 2, 2] == 0  # atari from the side lets O out with three liberties
    assert p[lc].sum() == 1
    # Play the ladder out: it really captures.
    seq = [
        (1, 3),
        (2, 2),
        (3, 2),
        (2, 3),
        (2, 4),
        (3, 3),
        (4, 3),
        (3, 4),
        (3, 5),
        (4, 4),
        (5, 4),
        (4, 5),
        (4, 6),
        (5, 5),
        (6, 5),
        (5, 6),
        (5, 7),
        (6, 6),
        (7, 6),
        (6, 7),
        (6, 8),
        (7, 7),
        (7, 8),
        (8, 7),
        (8, 8),
        (8, 6),
        (8, 5),
    ]
    h = g.copy()
    for k, (x, y) in enumerate(seq):
        h.play(B if k % 2 == 0 else W, idx(x, y))
    assert h.board()[2, 1] == core.EMPTY  # the whole white chain is gone
    # A white stone on the ladder's path breaks it.
    g2 = position(with_stones(LADDER, {(6, 6): "O"}), B)
    assert planes(g2)[lc].sum() == 0
    assert not core.is_ladder_capture(g2, B, idx(1, 3))


def test_ladder_escape() -> None:
    atari = with_stones(LADDER, {(1, 3): "X"})
    g = position(atari, W)
    le = LAYOUT["ladder_escape"][0]
    assert planes(g)[le].sum() == 0  # extending at (2, 2) runs into the ladder
    assert g.is_legal(W, idx(2, 2))
    g2 = position(with_stones(atari, {(7, 7): "O"}), W)
    p = planes(g2)
    assert p[le, 2, 2] == 1 and p[le].sum() == 1
    assert core.is_ladder_escape(g2, W, idx(2, 2))
    # Capturing an attacker in atari is an escape too.
    g3 = position(with_stones(atari, {(0, 3): "O", (1, 4): "O"}), W)  # X at (1, 3) now in atari
    assert core.is_ladder_escape(g3, W, idx(2, 3))
    assert planes(g3)[le, 3, 2] == 1


def test_turns_since() -> None:
    g = core.Game(9)
    pts = [(x, 0) for x in range(9)] + [(x, 8) for x in range(2)]
    for k, (x, y) in enumerate(pts):
        g.play(B if k % 2 == 0 else W, idx(x, y))
    g.play(B, g.pass_move)  # a pass is a turn too
    p = planes(g)
    assert np.array_equal(group(p, "turns_since", 1, 8), hot("turns_since", 1))  # 2 turns ago
    assert np.array_equal(group(p, "turns_since", 0, 8), hot("turns_since", 2))
    assert np.array_equal(group(p, "turns_since", 8, 0), hot("turns_since", 3))
    assert np.array_equal(group(p, "turns_since", 4, 0), hot("turns_since", 7))  # 8 turns ago
    assert np.array_equal(group(p, "turns_since", 0, 0), hot("turns_since", 7))  # older still
    assert group(p, "turns_since", 4, 4).sum() == 0
    # A stone placed where a captured stone stood counts from its own move.
    h = position(
        """
        . O X . . . . . .
        O X . . . . . . .
        X . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        """
    )
    h.play(B, idx(0, 0))  # captures both O stones
    h.play(W, idx(4, 4))
    h.play(B, idx(1, 0))  # where a captured O stood
    p = planes(h)
    assert np.array_equal(group(p, "turns_since", 1, 0), hot("turns_since", 0))
    assert np.array_equal(group(p, "turns_since", 0, 0), hot("turns_since", 2))
    assert np.array_equal(group(p, "turns_since", 2, 0), hot("turns_since", 7))  # setup stone


def test_sensibleness_and_masks() -> None:
    g = position(
        """
        . X . . . . . . .
        X X . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . O
        . . . . . . . O .
        """
    )
    s = LAYOUT["sensibleness"][0]
    p = planes(g)
    assert g.is_legal(B, idx(0, 0)) and p[s, 0, 0] == 0  # own true eye: legal, not sensible
    assert p[s, 4, 4] == 1 and p[s, 8, 8] == 0  # (8, 8) is suicide for black
    legal = np.zeros(82, np.uint8)
    core.write_move_mask(g, legal)
    sensible = np.zeros(82, np.float32)
    core.write_move_mask(g, sensible, sensible=True)
    assert legal[idx(0, 0)] == 1 and sensible[idx(0, 0)] == 0
    assert legal[idx(8, 8)] == 0 and legal[81] == 1 and sensible[81] == 1
    assert legal.sum() == 81 - 5 - 1 + 1
    assert np.array_equal(sensible[:81].reshape(9, 9), p[s])


def test_ko_is_illegal_in_planes() -> None:
    g = position(
        """
        . X O . . . . . .
        X O . O . . . . .
        . X O . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        """
    )
    g.play(B, idx(2, 1))  # takes the ko at (1, 1)
    assert g.ko_move == idx(1, 1)
    p = planes(g)  # white to move: retaking is illegal
    assert p[LAYOUT["sensibleness"][0], 1, 1] == 0 and group(p, "capture_size", 1, 1).sum() == 0


def test_raw_history_planes() -> None:
    g = core.Game(9)
    g.play(B, idx(0, 0))
    g.play(W, idx(1, 0))
    g.play(B, idx(2, 0))
    p = planes(g, "raw")  # white to move: own = white
    assert p[0].sum() == 1 and p[0, 0, 1] == 1  # own_t
    assert p[1].sum() == 2 and p[1, 0, 0] == 1 and p[1, 0, 2] == 1  # opponent_t
    assert p[2].sum() == 1 and p[3].sum() == 1  # t-1: W at (1, 0), B at (0, 0)
    assert p[4].sum() == 0 and p[5].sum() == 1  # t-2
    assert p[6].sum() == 0 and p[7].sum() == 0  # t-3 is the empty board
    assert np.all(p[8:16] == 0)  # before the game: zeros
    assert np.all(p[16] == 0)  # white to move
    g.play(W, g.pass_move)
    assert np.all(planes(g, "raw")[16] == 1)


def test_symmetry_index_round_trip() -> None:
    for size in (5, 9, 19):
        n = size * size
        for s in range(8):
            perm = core.symmetry_permutation(s, size)
            assert sorted(perm.tolist()) == list(range(n + 1))  # a permutation, pass fixed
            assert perm[n] == n
            inv = core.inverse_symmetry(s)
            for m in range(n + 1):
                assert core.symmetry_index(core.symmetry_index(m, s, size), inv, size) == m
    assert {core.inverse_symmetry(s) for s in range(8)} == set(range(8))


def expected_transform(a: np.ndarray, s: int) -> np.ndarray:
    """Planes [..., y, x] under symmetry s: transpose if bit 2, then mirror x (bit 0), y (bit 1)."""
    if s & 4:
        a = np.swapaxes(a, -1, -2)
    if s & 1:
        a = a[..., :, ::-1]
    if s & 2:
        a = a[..., ::-1, :]
    return a


def random_game(seed: int, moves: int, size: int = 9) -> core.Game:
    g = core.Game(size)
    for k in range(moves):
        g.play(g.to_move, g.random_move(g.to_move, seed * 1000 + k))
    return g


@pytest.mark.parametrize("feature_set", ["alphago", "alphago_value", "raw"])
def test_planes_under_symmetry_match_transformed_positions(feature_set: str) -> None:
    for seed in range(3):
        g = random_game(seed, 50)
        base = planes(g, feature_set)
        for s in range(8):
            p = planes(g, feature_set, s)
            assert np.array_equal(p, expected_transform(base, s))
            # The same position built on the transformed board gives the same planes: every
            # feature (ladders included) is symmetric.
            h = core.Game(9)
            for colour, move in g.moves():
                h.play(colour, core.symmetry_index(move, s, 9))
            assert np.array_equal(planes(h, feature_set), p)
            m = np.zeros(82, np.float32)
            core.write_move_mask(g, m, s)
            m0 = np.zeros(82, np.float32)
            core.write_move_mask(g, m0)
            assert np.array_equal(m[core.symmetry_permutation(s, 9)], m0)


def test_ladder_planes_symmetric() -> None:
    g = position(LADDER, B)
    base = planes(g)
    for s in range(8):
        h = core.Game(9)
        for y, row in enumerate(g.board()):
            for x, c in enumerate(row):
                if c:
                    h.place_setup_stone(int(c), core.symmetry_index(idx(x, y), s, 9))
        assert np.array_equal(planes(h), expected_transform(base, s))


def records(games: list[core.Game]) -> dict[str, np.ndarray]:
    moves = [m for g in games for _, m in g.moves()]
    colours = [c for g in games for c, _ in g.moves()]
    offsets = np.cumsum([0] + [len(g.moves()) for g in games]).astype(np.int64)
    return dict(
        game_offsets=offsets,
        moves=np.array(moves, np.int16),
        colors=np.array(colours, np.uint8),
        setup_offsets=np.zeros(len(games) + 1, np.int64),
        setup_moves=np.zeros(0, np.int16),
        setup_colors=np.zeros(0, np.uint8),
    )


def test_batch_and_replay_match_single_positions() -> None:
    games = [random_game(seed, 20 + 7 * seed) for seed in range(4)]
    rng = np.random.default_rng(0)
    samples = [(gi, int(rng.integers(0, len(g.moves())))) for gi, g in enumerate(games) for _ in range(5)]
    sg = np.array([s[0] for s in samples], np.int64)
    sm = np.array([s[1] for s in samples], np.int32)
    syms = rng.integers(0, 8, len(samples)).astype(np.int32)
    count = len(samples)
    for feature_set in ("alphago", "raw"):
        out = np.zeros((count, core.num_planes(feature_set), 9, 9), np.uint8)
        masks = np.zeros((count, 82), np.uint8)
        targets = np.zeros(count, np.int64)
        failed = core.replay_features(
            9,
            **records(games),
            sample_game=sg,
            sample_move=sm,
            out=out,
            feature_set=feature_set,
            symmetries=syms,
            masks=masks,
            targets=targets,
            threads=2,
        )
        assert failed == 0
        positions = []
        for i, (gi, mi) in enumerate(samples):
            h = core.Game(9, superko=False)
            for colour, move in games[gi].moves()[:mi]:
                h.play(colour, move)
            h.to_move = games[gi].moves()[mi][0]
            positions.append(h)
            assert np.array_equal(out[i], planes(h, feature_set, int(syms[i])).astype(np.uint8))
            assert targets[i] == core.symmetry_index(games[gi].moves()[mi][1], int(syms[i]), 9)
            assert masks[i, targets[i]] == 1
        batch = np.zeros((count, core.num_planes(feature_set), 9, 9), np.float32)
        bmasks = np.zeros((count, 82), np.float32)
        core.write_features_batch(positions, batch, feature_set, syms, bmasks, threads=2)
        assert np.array_equal(batch, out.astype(np.float32))
        assert np.array_equal(bmasks, masks.astype(np.float32))


def test_replay_reports_broken_records() -> None:
    g = random_game(1, 10)
    rec = records([g])
    rec["moves"][3] = rec["moves"][1]  # an occupied point
    out = np.ones((2, 48, 9, 9), np.float32)
    targets = np.zeros(2, np.int64)
    failed = core.replay_features(
        9,
        **rec,
        sample_game=np.array([0, 0], np.int64),
        sample_move=np.array([2, 6], np.int32),
        out=out,
        targets=targets,
    )
    assert failed == 1 and targets[1] == -1 and np.all(out[1] == 0) and targets[0] >= 0


def test_buffer_errors_are_clear() -> None:
    g = core.Game(9)
    with pytest.raises(ValueError, match=r"out has shape \(48, 19, 19\), expected \(48, 9, 9\)"):
        core.write_features(g, np.zeros((48, 19, 19), np.float32))
    with pytest.raises(TypeError, match="float32 or uint8"):
        core.write_features(g, np.zeros((48, 9, 9), np.float64))
    with pytest.raises(ValueError, match="C-contiguous"):
        core.write_features(g, np.zeros((9, 9, 48), np.float32).transpose(2, 0, 1))
    with pytest.raises(ValueError, match="symmetry must be in 0..7"):
        core.write_features(g, np.zeros((48, 9, 9), np.float32), "alphago", 8)
    with pytest.raises(ValueError, match="same board size"):
        core.write_features_batch([g, core.Game(7)], np.zeros((2, 48, 9, 9), np.float32))
