"""Typed stubs for engine._core, the C++ core (csrc/). Moves are dense indices
x + y * size (x = column from the left, y = row from the top); size * size is pass.
Colours: 1 = black, 2 = white."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from engine.errors import CoreError as CoreError  # the core's refusals of user input

EMPTY: int
BLACK: int
WHITE: int
MIN_SIZE: int
MAX_SIZE: int
DEFAULT_KOMI: float

class Game:
    def __init__(
        self, size: int = 9, komi: float = 7.5, superko: bool = True, allow_suicide: bool = False
    ) -> None: ...
    @property
    def size(self) -> int: ...
    komi: float
    @property
    def superko(self) -> bool: ...
    @property
    def allow_suicide(self) -> bool: ...
    to_move: int
    @property
    def pass_move(self) -> int: ...
    @property
    def consecutive_passes(self) -> int: ...
    @property
    def is_over(self) -> bool: ...
    @property
    def move_number(self) -> int: ...
    @property
    def num_setup_stones(self) -> int: ...
    @property
    def hash(self) -> int: ...
    @property
    def ko_move(self) -> int | None: ...
    def captures(self, color: int) -> int: ...
    def moves(self) -> list[tuple[int, int]]: ...
    def illegal_reason(self, color: int, move: int) -> str | None: ...
    def is_legal(self, color: int, move: int) -> bool: ...
    def legal_moves(self, color: int) -> list[int]: ...
    def play(self, color: int, move: int) -> None: ...
    def undo(self) -> bool: ...
    def clear(self) -> None: ...
    def place_setup_stone(self, color: int, move: int) -> bool: ...
    def board(self) -> npt.NDArray[np.uint8]: ...
    def area_score(self) -> float: ...
    def area_owner(self) -> npt.NDArray[np.int8]: ...
    def ownership(self, playouts: int = 400, seed: int = 0) -> npt.NDArray[np.float32]: ...
    def dead_stones(self, playouts: int = 400, seed: int = 0) -> npt.NDArray[np.uint8]: ...
    def final_score(self, playouts: int = 400, seed: int = 0) -> float: ...
    def dead_stones_from(self, ownership: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]: ...
    def score_without(self, dead: npt.NDArray[np.uint8]) -> float: ...
    def random_move(self, color: int, seed: int) -> int: ...
    def copy(self) -> Game: ...

class PlayoutBench:
    playouts: int
    moves: int
    seconds: float

def playout_benchmark(size: int, playouts: int, seed: int = 1, threads: int = 1) -> PlayoutBench: ...

class UctConfig:
    max_visits: int
    max_seconds: float
    threads: int
    seed: int
    exploration: float
    rave_equivalence: float
    expand_threshold: int
    prior_visits: int
    prior_bonus: float
    def __init__(self) -> None: ...

class UctChildStats:
    move: int
    visits: int
    winrate: float
    amaf_visits: int
    amaf_winrate: float

class UctResult:
    best_move: int
    visits: int
    winrate: float
    seconds: float
    children: list[UctChildStats]
    pv: list[int]

class UctSearch:
    def __init__(self, config: UctConfig) -> None: ...
    def run(self, game: Game) -> UctResult: ...
    def set_root_priors(self, priors: Sequence[float]) -> None: ...
    def stop(self) -> None: ...
    def peek(self) -> UctResult: ...

# Network input features (csrc/go/features.h; the sets are the table in csrc/go/feature_sets.h).
# Planes are [plane][y][x] for the player to move;
# out buffers are C-contiguous float32 or uint8 arrays allocated by the caller. Symmetry s in
# 0..7: bit 2 transposes, then bit 0 mirrors x, bit 1 mirrors y.
FEATURE_SETS: tuple[str, ...]
NUM_SYMMETRIES: int

def feature_sets() -> list[str]: ...  # the names of FEATURE_SETS

def num_planes(feature_set: str) -> int: ...
def plane_layout(feature_set: str) -> list[tuple[str, int, int]]: ...
def symmetry_index(move: int, symmetry: int, size: int) -> int: ...
def inverse_symmetry(symmetry: int) -> int: ...
def symmetry_permutation(symmetry: int, size: int) -> npt.NDArray[np.int64]: ...
def move_effect(game: Game, color: int, move: int) -> tuple[int, int, int]: ...
def is_ladder_capture(game: Game, color: int, move: int) -> bool: ...
def is_ladder_escape(game: Game, color: int, move: int) -> bool: ...
def write_features(
    game: Game, out: npt.NDArray[np.float32] | npt.NDArray[np.uint8], feature_set: str = "alphago",
    symmetry: int = 0,
) -> None: ...
def write_move_mask(game: Game, out: npt.NDArray[np.float32] | npt.NDArray[np.uint8], symmetry: int = 0,
                    sensible: bool = False) -> None: ...
def write_features_batch(games: Sequence[Game], out: npt.NDArray[np.float32] | npt.NDArray[np.uint8],
                         feature_set: str = "alphago", symmetries: npt.NDArray[np.int32] | None = None,
                         masks: npt.NDArray[np.float32] | npt.NDArray[np.uint8] | None = None,
                         threads: int = 1) -> None: ...
def replay_features(board_size: int, game_offsets: npt.NDArray[np.int64], moves: npt.NDArray[np.int16],
                    colors: npt.NDArray[np.uint8], setup_offsets: npt.NDArray[np.int64],
                    setup_moves: npt.NDArray[np.int16], setup_colors: npt.NDArray[np.uint8],
                    sample_game: npt.NDArray[np.int64], sample_move: npt.NDArray[np.int32],
                    out: npt.NDArray[np.float32] | npt.NDArray[np.uint8], feature_set: str = "alphago",
                    symmetries: npt.NDArray[np.int32] | None = None,
                    masks: npt.NDArray[np.float32] | npt.NDArray[np.uint8] | None = None,
                    targets: npt.NDArray[np.int64] | None = None, threads: int = 1) -> int: ...

# Rollout policy (csrc/go/rollout.h): linear softmax over local pattern features.
ROLLOUT_FEATURES: int
ROLLOUT_ACTIVE: int

def rollout_feature_layout() -> list[tuple[str, int, int]]: ...
def canonical_pattern(code: int) -> int: ...
def rollout_features(game: Game, ids: npt.NDArray[np.int32], candidates: npt.NDArray[np.uint8]) -> int: ...
def replay_rollout_features(
    board_size: int, game_offsets: npt.NDArray[np.int64], moves: npt.NDArray[np.int16],
    colors: npt.NDArray[np.uint8], setup_offsets: npt.NDArray[np.int64], setup_moves: npt.NDArray[np.int16],
    setup_colors: npt.NDArray[np.uint8], sample_game: npt.NDArray[np.int64],
    sample_move: npt.NDArray[np.int32], ids: npt.NDArray[np.int32], candidates: npt.NDArray[np.uint8],
    targets: npt.NDArray[np.int64], threads: int = 1,
) -> int: ...

class RolloutPolicy:
    def __init__(self, weights: npt.NDArray[np.float32]) -> None: ...
    def probabilities(self, game: Game) -> npt.NDArray[np.float32]: ...
    def best_move(self, game: Game) -> int: ...
    def sample_move(self, game: Game, seed: int) -> int: ...
    def playout(self, game: Game, seed: int) -> tuple[int, int]: ...
    def benchmark(
        self, size: int, playouts: int, seed: int = 1, threads: int = 1
    ) -> tuple[int, int, float]: ...

def rollout_playout(policy: RolloutPolicy, game: Game, seed: int) -> tuple[int, int]: ...

# ------------------------------------------------------------------ batched search (csrc/search/batched.h)

POLICY_MODES: tuple[str, ...]  # the names SearchConfig.policy accepts

class SearchConfig:
    # The fields of csrc/search/search_config.h, in its order (tests/test_settings_parity.py).
    # Search:
    visits: int
    leaves_per_game: int
    batch_size: int
    c_puct: float
    c_puct_base: float
    fpu_reduction: float
    virtual_loss: float
    policy: str  # net | uniform | heuristic | rollout
    use_value: bool
    use_rollouts: bool
    lambda_: float
    rollout_threads: int
    features: str
    random_symmetry: bool
    gumbel: bool
    gumbel_considered: int
    reuse_tree: bool
    cache_size: int
    seed: int
    # Self-play only:
    root_noise: bool
    dirichlet_alpha: float
    dirichlet_epsilon: float
    temperature_moves: int
    temperature: float
    resign_threshold: float
    no_resign_fraction: float
    max_moves: int
    full_search_prob: float
    fast_visits: int
    @staticmethod
    def field_defaults() -> dict[str, int | float | bool | str]: ...  # {python name: default}, in order
    @staticmethod
    def selfplay_fields() -> list[str]: ...
    def __init__(self) -> None: ...

# Test hook: the PUCT score of each child, as the tree's selection computes it (csrc/search/tree.h).
def puct_scores(
    visits: Sequence[int],
    value_sums: Sequence[float],  # for the player who plays the child
    in_flight: Sequence[int],
    priors: Sequence[float],
    parent_visits: int,
    parent_value_sum: float,  # for the player to move at the parent
    c_puct: float,
    c_puct_base: float,
    fpu_reduction: float,
    virtual_loss: float,
) -> list[float]: ...

class RootChild:
    move: int
    visits: int
    q: float  # for the player to move at the root, in [-1, 1]
    prior: float
    pv: list[int]

class BatchedSearch:
    size: int
    num_games: int
    planes: int
    policy_size: int
    needs_network: bool
    has_rollout_policy: bool
    games_started: int
    evaluations: int
    cache_hits: int
    terminal_hits: int
    def __init__(self, config: SearchConfig, size: int, komi: float, num_games: int) -> None: ...
    def set_rollout_policy(self, policy: RolloutPolicy | None) -> None: ...
    def set_buffers(
        self,
        slot: int,
        inputs: npt.NDArray[np.float32],  # [batch, planes, size, size]
        masks: npt.NDArray[np.float32],  # [batch, size*size+1]
        policy: npt.NDArray[np.float32],  # [batch, size*size+1] logits
        values: npt.NDArray[np.float32],  # [batch], for the player to move
    ) -> None: ...
    def start_selfplay(self, total_games: int) -> None: ...
    def set_position(self, game_index: int, game: Game) -> None: ...
    def set_target_visits(self, game_index: int, visits: int) -> None: ...
    def advance(self, game_index: int, move: int) -> bool: ...
    def gather(self, slot: int) -> int: ...  # releases the GIL
    def scatter(self, slot: int, n: int) -> None: ...  # releases the GIL
    def search_done(self, game_index: int) -> bool: ...
    def all_done(self) -> bool: ...
    def root_visits(self, game_index: int) -> int: ...
    def root_value(self, game_index: int) -> float: ...
    def root_children(self, game_index: int, pv_length: int = 12) -> list[RootChild]: ...
    def best_move(self, game_index: int) -> int: ...
    def game(self, game_index: int) -> Game: ...
    def pop_finished(self) -> list[dict[str, object]]: ...
