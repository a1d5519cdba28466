"""The AlphaGo ablation, analysed: our ratings of the paper's rows beside its Extended Data Table 7.

What it computes from one EloFit and the suite's row -> player map (`TournamentConfig.ablation`):
every pair of the seven search rows that were run (our difference with its interval from the fit's
full covariance, the paper's difference, whether the order agrees and whether ours is significant),
Kendall's tau between our order and the paper's, whether the top (R+V+P) and bottom (R) rows are
separated, the search gain (R+V+P minus P, against the paper's 1373 and the goal of +800), and the
input-feature pair. It also reads and checks the evidence files other commands write (SL accuracy
over seeds, value-net MSE beside cheap baselines, RL policy against SL policy, the interpretability
fragment of `tengen explain`) and draws the Figure-4-style chart.

Pure functions and frozen dataclasses; the only I/O is reading evidence files and `plot_ablation`
(matplotlib, Agg backend). engine/arena/report.py turns the results into Markdown.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from engine.arena.config import ABLATION_ROWS, DEFAULT_ANCHOR_ELO
from engine.arena.elo import EloFit, wilson_interval
from engine.arena.engines import EngineSpec, GnuGoEngine
from engine.atomic_io import atomic_path
from engine.errors import TengenError

# The seven search rows of Extended Data Table 7, the paper's strongest first.
SEARCH_ROWS: tuple[str, ...] = tuple(
    sorted((k for k, row in ABLATION_ROWS.items() if row[1] is not None), key=lambda k: -(ABLATION_ROWS[k][1] or 0))
)
TOP_ROW = SEARCH_ROWS[0]  # R+V+P
BOTTOM_ROW = SEARCH_ROWS[-1]  # R
NO_SEARCH_ROW = "policy_only"  # P: the search gain is TOP_ROW minus this row
FEATURE_ROWS = ("features_full", "features_raw")  # the input-feature pair, full minus raw
SEARCH_GAIN_GOAL = 800.0  # Elo, issue #11

PAPER_SL_ACCURACY: Mapping[str, float] = {"alphago": 0.570, "raw": 0.557}  # KGS held-out top-1
PAPER_VALUE_MSE = 0.234  # value network, held-out self-play positions (AlphaGo, Figure 2b)
PAPER_RL_WIN_RATE = 0.80  # RL policy against SL policy: "more than 80% of games"
WIN_RATE_CONFIDENCE = 0.95  # of the Wilson interval of the RL policy's win rate

# Evidence files (TournamentConfig.evidence keys) and the command that writes each.
EVIDENCE_COMMANDS: Mapping[str, str] = {
    "sl_accuracy": "`python -m benchmarks.sl_feature_ablation --data runs/alphago9/corpus/shards --out runs/features` "
    "writes runs/features/sl_accuracy.json",
    "value_mse": "`tengen train --config configs/alphago_9x9_cpu.yaml --run-dir runs/alphago9` "
    "writes runs/alphago9/eval/value_mse.json (value stage)",
    "rl_vs_sl": "`tengen train --config configs/alphago_9x9_cpu.yaml --run-dir runs/alphago9` "
    "writes runs/alphago9/eval/rl.json (rl stage)",
    "interpretability": "`tengen explain --run-dir runs/alphago9 --out runs/explain` "
    "writes the folder runs/explain (explain.md and its PNGs)",
}
EXPLAIN_FRAGMENT = "explain.md"

T = TypeVar("T")


def short_label(key: str) -> str:
    """A search row's abbreviation (the label's parenthesised part, e.g. R+V+P), else the label's head."""
    label = ABLATION_ROWS[key][0]
    if key in SEARCH_ROWS:
        found = re.search(r"\(([^()]*)\)$", label)
        if found:
            return found.group(1)
    return label.split(" (")[0]


# ---------------------------------------------------------------------------------------------
# Ratings of the rows and their comparison with the paper


@dataclass(frozen=True, kw_only=True)
class Difference:
    """r_a - r_b in Elo with its interval at the fit's confidence (EloFit.difference)."""

    elo: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return self.low > 0.0 or self.high < 0.0


@dataclass(frozen=True, kw_only=True)
class RowRating:
    """One ablation row whose player has games: its rating in the fit."""

    key: str  # ABLATION_ROWS key
    player: str
    elo: float
    low: float  # interval, relative to the anchor (low == high == elo for the anchor itself)
    high: float
    anchor: bool  # the player is the fit's anchor

    @property
    def label(self) -> str:
        return ABLATION_ROWS[self.key][0]

    @property
    def short(self) -> str:
        return short_label(self.key)

    @property
    def paper(self) -> float | None:
        return ABLATION_ROWS[self.key][1]


@dataclass(frozen=True, kw_only=True)
class PairComparison:
    """Two search rows, the one the paper rates higher first."""

    higher: str  # row key
    lower: str
    ours: Difference  # our rating of `higher` minus `lower`
    paper: float  # the paper's, > 0

    @property
    def agrees(self) -> bool:
        """Our difference has the paper's sign (a tie agrees with neither order)."""
        return self.ours.elo > 0.0

    @property
    def significant(self) -> bool:
        return self.ours.significant


@dataclass(frozen=True, kw_only=True)
class PairwiseComparison:
    """Every pair of the search rows that were run, in the paper's order."""

    pairs: tuple[PairComparison, ...]  # n = k * (k - 1) / 2 for k rows run
    missing: tuple[str, ...]  # search rows without games
    kendall_tau: float | None  # tau-b of our Elo against the paper's; None under two rows
    ends: PairComparison | None  # TOP_ROW against BOTTOM_ROW, when both were run

    @property
    def agreeing(self) -> int:
        return sum(p.agrees for p in self.pairs)

    @property
    def agreeing_significant(self) -> int:
        return sum(p.agrees and p.significant for p in self.pairs)

    @property
    def reversed_significant(self) -> int:
        """Pairs whose order significantly contradicts the paper's."""
        return sum(p.significant and not p.agrees for p in self.pairs)

    @property
    def ends_separated(self) -> bool:
        """R+V+P above R with an interval that excludes 0."""
        return self.ends is not None and self.ends.agrees and self.ends.significant


@dataclass(frozen=True, kw_only=True)
class SearchGain:
    """R+V+P minus P: what the search adds to the policy network's move."""

    ours: Difference
    paper: float  # 2890 - 1517
    goal: float = SEARCH_GAIN_GOAL

    @property
    def met(self) -> bool:
        """The estimate reaches the goal."""
        return self.ours.elo >= self.goal

    @property
    def met_with_confidence(self) -> bool:
        """The whole interval lies at or above the goal."""
        return self.ours.low >= self.goal


@dataclass(frozen=True, kw_only=True)
class AblationAnalysis:
    """Everything the report's ablation section says about the ratings."""

    rows: Mapping[str, RowRating]  # rows with games, in ABLATION_ROWS order
    pairwise: PairwiseComparison
    search_gain: SearchGain | None  # None unless both R+V+P and P were run
    features: Difference | None  # full minus raw features, None unless both were run


def row_ratings(fit: EloFit, ablation: Sequence[tuple[str, str]]) -> dict[str, RowRating]:
    """The rows whose player has games in `fit`, in ABLATION_ROWS order."""
    assigned = dict(ablation)
    rows: dict[str, RowRating] = {}
    for key in ABLATION_ROWS:
        player = assigned.get(key)
        if player is None or player not in fit.names:
            continue
        r = fit.rating(player)
        if r.games == 0:
            continue
        is_anchor = player == fit.anchor
        rows[key] = RowRating(key=key, player=player, elo=r.elo, low=r.elo if is_anchor else r.low,
                              high=r.elo if is_anchor else r.high, anchor=is_anchor)  # fmt: skip
    return rows


def difference(fit: EloFit, a: RowRating, b: RowRating) -> Difference:
    d, low, high = fit.difference(a.player, b.player)
    return Difference(elo=d, low=low, high=high)


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b of two paired sequences; None when undefined (under two items, or one
    sequence constant)."""
    n = len(x)
    if n != len(y):
        raise ValueError("kendall_tau needs sequences of one length")
    score = 0.0
    ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
            ties_x += sx == 0
            ties_y += sy == 0
            score += float(sx * sy)
    pairs = n * (n - 1) // 2
    denom = math.sqrt((pairs - ties_x) * (pairs - ties_y))
    return score / denom if denom > 0 else None


def compare_pairs(fit: EloFit, rows: Mapping[str, RowRating]) -> PairwiseComparison:
    run = [k for k in SEARCH_ROWS if k in rows]
    pairs = []
    for i, hi in enumerate(run):
        for lo in run[i + 1 :]:
            paper_hi, paper_lo = rows[hi].paper, rows[lo].paper
            assert paper_hi is not None and paper_lo is not None
            pairs.append(PairComparison(higher=hi, lower=lo, ours=difference(fit, rows[hi], rows[lo]),
                                        paper=paper_hi - paper_lo))  # fmt: skip
    ends = next((p for p in pairs if (p.higher, p.lower) == (TOP_ROW, BOTTOM_ROW)), None)
    tau = kendall_tau([rows[k].elo for k in run], [rows[k].paper or 0.0 for k in run]) if len(run) > 1 else None
    missing = tuple(k for k in SEARCH_ROWS if k not in rows)
    return PairwiseComparison(pairs=tuple(pairs), missing=missing, kendall_tau=tau, ends=ends)


def paper_elo(key: str) -> float:
    """The paper's Elo of a search row."""
    elo = ABLATION_ROWS[key][1]
    assert elo is not None, key
    return elo


def analyse(fit: EloFit | None, ablation: Sequence[tuple[str, str]]) -> AblationAnalysis:
    """The ablation rows of `fit` (None: no ratings yet, so nothing was run) compared with the paper."""
    if fit is None:
        empty = PairwiseComparison(pairs=(), missing=SEARCH_ROWS, kendall_tau=None, ends=None)
        return AblationAnalysis(rows={}, pairwise=empty, search_gain=None, features=None)
    rows = row_ratings(fit, ablation)
    gain = None
    if TOP_ROW in rows and NO_SEARCH_ROW in rows:
        gain = SearchGain(ours=difference(fit, rows[TOP_ROW], rows[NO_SEARCH_ROW]),
                          paper=paper_elo(TOP_ROW) - paper_elo(NO_SEARCH_ROW))  # fmt: skip
    full, raw = FEATURE_ROWS
    features = difference(fit, rows[full], rows[raw]) if full in rows and raw in rows else None
    return AblationAnalysis(rows=rows, pairwise=compare_pairs(fit, rows), search_gain=gain, features=features)


def gnugo_anchors(players: Sequence[EngineSpec], fit: EloFit | None) -> tuple[tuple[str, float], ...]:
    """(label, Elo) of every GnuGo player with games, strongest first, for the chart's lines."""
    if fit is None:
        return ()
    out = []
    for p in players:
        if isinstance(p, GnuGoEngine) and p.name in fit.names and fit.rating(p.name).games:
            out.append((f"GnuGo level {p.level}", fit.rating(p.name).elo))
    return tuple(sorted(out, key=lambda a: -a[1]))


# ---------------------------------------------------------------------------------------------
# Evidence files


class EvidenceError(TengenError):
    """An evidence file exists but cannot be read (the message says which and why)."""


@dataclass(frozen=True, kw_only=True)
class Evidence(Generic[T]):
    """What became of one evidence file: read (`value`), absent, or unreadable (`problem`)."""

    key: str  # EVIDENCE_COMMANDS key
    path: Path | None  # None: the config names no file for `key`
    value: T | None = None
    problem: str | None = None  # why an existing file could not be read


@dataclass(frozen=True, kw_only=True)
class SetAccuracy:
    """Held-out top-1 accuracy of one feature set over its training seeds."""

    name: str  # feature set: "alphago" (48 planes), "raw", ...
    seeds: tuple[int, ...]  # (S,)
    accuracy: tuple[float, ...]  # (S,) in [0, 1], one per seed
    mean: float
    sd: float | None  # sample sd; None with one seed

    @property
    def paper(self) -> float | None:
        return PAPER_SL_ACCURACY.get(self.name)


@dataclass(frozen=True, kw_only=True)
class SlAccuracy:
    """benchmarks/sl_feature_ablation.py's sl_accuracy.json."""

    positions: int  # held-out positions, the same for every set and seed
    games: int
    sets: tuple[SetAccuracy, ...]

    def get(self, name: str) -> SetAccuracy | None:
        return next((s for s in self.sets if s.name == name), None)


@dataclass(frozen=True, kw_only=True)
class ValueMse:
    """The value stage's value_mse.json: held-out MSE of three estimates of the outcome z in [-1, 1]."""

    positions: int  # held-out positions
    value_net: float
    one_rollout: float  # one rollout of the rollout policy from the position
    rl_outcome: float  # the RL policy's own self-play game from the position
    train_positions: int

    @property
    def beats_rollout(self) -> bool:
        return self.value_net < self.one_rollout


@dataclass(frozen=True, kw_only=True)
class RlVsSl:
    """The rl stage's evaluation: the RL policy's games against the SL policy."""

    wins: int
    draws: int
    games: int
    low: float  # Wilson interval of the score at `confidence`
    high: float
    confidence: float

    @property
    def losses(self) -> int:
        return self.games - self.wins - self.draws

    @property
    def score(self) -> float:
        """Win rate, a draw counting half."""
        return (self.wins + 0.5 * self.draws) / self.games


@dataclass(frozen=True, kw_only=True)
class Interpretability:
    """A `tengen explain` folder: the Markdown fragment and the PNGs it links by bare file name."""

    folder: Path
    fragment: str  # explain.md as written
    images: tuple[str, ...]  # bare PNG names the fragment links that exist in `folder`
    missing_images: tuple[str, ...]  # bare PNG names it links that do not


def _read_json(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(f"{path} cannot be read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise EvidenceError(f"{path} must hold a JSON object")
    return data


def _number(data: Mapping[str, Any], key: str, where: str, *, integer: bool = False, low: float = 0.0,
            high: float = math.inf) -> float:  # fmt: skip
    value: Any = data.get(key)
    kind = "an integer" if integer else "a number"
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not math.isfinite(value) or not low <= value <= high:
        span = f" from {low:g}" + (f" to {high:g}" if math.isfinite(high) else "")
        raise EvidenceError(f"{where}: {key!r} must be {kind}{span}, got {value!r}")
    return float(value)


def read_sl_accuracy(path: Path) -> SlAccuracy:
    """Mean and sd are computed from the per-seed accuracies the file lists."""
    data = _read_json(path)
    positions = int(_number(data, "positions", str(path), integer=True, low=1))
    games = int(_number(data, "games", str(path), integer=True, low=1))
    sets = data.get("sets")
    if not isinstance(sets, dict) or not sets:
        raise EvidenceError(f"{path}: 'sets' must map feature-set names to their runs")
    out = []
    for name, entry in sets.items():
        where = f"{path}, set {name!r}"
        if not isinstance(entry, dict):
            raise EvidenceError(f"{where} must be a JSON object")
        seeds, acc = entry.get("seeds"), entry.get("accuracy")
        if not isinstance(seeds, list) or not isinstance(acc, list) or not acc or len(seeds) != len(acc):
            raise EvidenceError(f"{where}: 'seeds' and 'accuracy' must be lists of one length, at least one run")
        for i in range(len(acc)):
            _number({"seeds": seeds[i]}, "seeds", where, integer=True)
            _number({"accuracy": acc[i]}, "accuracy", where, high=1.0)
        values = tuple(float(a) for a in acc)
        sd = statistics.stdev(values) if len(values) > 1 else None
        out.append(SetAccuracy(name=str(name), seeds=tuple(int(s) for s in seeds), accuracy=values,
                               mean=statistics.fmean(values), sd=sd))  # fmt: skip
    return SlAccuracy(positions=positions, games=games, sets=tuple(out))


def read_value_mse(path: Path) -> ValueMse:
    data = _read_json(path)
    where = str(path)
    return ValueMse(
        positions=int(_number(data, "positions", where, integer=True, low=1)),
        value_net=_number(data, "value_net", where),
        one_rollout=_number(data, "one_rollout", where),
        rl_outcome=_number(data, "rl_outcome", where),
        train_positions=int(_number(data, "train_positions", where, integer=True)),
    )


def read_rl_vs_sl(path: Path) -> RlVsSl:
    """wins, games and (optional) draws of selfplay/alphago.py's eval JSON for the rl stage; the
    interval is the Wilson interval at WIN_RATE_CONFIDENCE."""
    data = _read_json(path)
    where = str(path)
    games = int(_number(data, "games", where, integer=True, low=1))
    wins = int(_number(data, "wins", where, integer=True, high=games))
    draws = int(_number(data, "draws", where, integer=True, high=games - wins)) if "draws" in data else 0
    low, high = wilson_interval(wins + 0.5 * draws, games, confidence=WIN_RATE_CONFIDENCE)
    return RlVsSl(wins=wins, draws=draws, games=games, low=low, high=high, confidence=WIN_RATE_CONFIDENCE)


_IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(\s*([^)\s]+)")


def read_interpretability(path: Path) -> Interpretability:
    """`path` is the folder `tengen explain --out` wrote."""
    if not path.is_dir():
        raise EvidenceError(f"{path} is not a folder (`tengen explain --out` writes one)")
    fragment_path = path / EXPLAIN_FRAGMENT
    try:
        fragment = fragment_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise EvidenceError(f"{path} holds no {EXPLAIN_FRAGMENT}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(f"{fragment_path} cannot be read ({exc})") from exc
    if not fragment.strip():
        raise EvidenceError(f"{fragment_path} is empty")
    names = dict.fromkeys(m.group(1) for m in _IMAGE_LINK.finditer(fragment))
    bare = [n for n in names if n.lower().endswith(".png") and "/" not in n and "\\" not in n and n != ".."]
    return Interpretability(folder=path, fragment=fragment, images=tuple(n for n in bare if (path / n).is_file()),
                            missing_images=tuple(n for n in bare if not (path / n).is_file()))  # fmt: skip


def load_evidence(evidence: Sequence[tuple[str, str]], key: str, reader: Callable[[Path], T]) -> Evidence[T]:
    """The file the config names for `key` (TournamentConfig.evidence), read by `reader` if it exists."""
    named = dict(evidence).get(key)
    if named is None:
        return Evidence(key=key, path=None)
    path = Path(named)
    if not path.exists():
        return Evidence(key=key, path=path)
    try:
        return Evidence(key=key, path=path, value=reader(path))
    except EvidenceError as exc:
        return Evidence(key=key, path=path, problem=str(exc))


# ---------------------------------------------------------------------------------------------
# The chart


def plot_ablation(rows: Sequence[RowRating], anchors: Sequence[tuple[str, float]], path: Path, *,
                  confidence: float) -> None:  # fmt: skip
    """Figure-4-style bars, one per row run: ours with error bars and GnuGo lines (left panel),
    the paper's Elo for the same rows (right panel, its own axis: 19x19, 5 s/move)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(len(rows))
    labels = [r.short for r in rows]
    ours = np.array([r.elo for r in rows])
    err = np.array([[r.elo - r.low for r in rows], [r.high - r.elo for r in rows]])
    colours = ["#999999" if r.anchor else "#3b75af" if r.key in SEARCH_ROWS else "#e08a2c" for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(min(1.1 * len(rows) + 2.0, 9.0) * 2, 4.8))
    left.bar(x, ours, 0.6, yerr=err, capsize=3, color=colours)
    for label, elo in anchors:
        left.axhline(elo, color="#555555", linestyle="--", linewidth=0.8)
        left.text(-0.45, elo, label, va="bottom", ha="left", fontsize=7, color="#555555")
    left.set_xticks(x, labels, rotation=30, ha="right")
    left.set_ylabel(f"Elo (bars: {confidence:.0%} interval)")
    left.set_title("tengen, this run")
    paper = np.array([np.nan if r.paper is None else r.paper for r in rows])
    right.bar(x, paper, 0.6, color="#bbbbbb")
    right.axhline(DEFAULT_ANCHOR_ELO, color="#555555", linestyle="--", linewidth=0.8)
    right.text(-0.45, DEFAULT_ANCHOR_ELO, "GnuGo 3.8", va="bottom", ha="left", fontsize=7, color="#555555")
    for i, r in enumerate(rows):
        if r.paper is None:
            right.text(i, 2 * DEFAULT_ANCHOR_ELO, "no figure", rotation=90, ha="center", va="bottom", fontsize=7,
                       color="#777777")  # fmt: skip
    right.set_xticks(x, labels, rotation=30, ha="right")
    right.set_ylabel("Elo")
    right.set_title("AlphaGo paper (19x19, 5 s/move)")
    right.set_ylim(0, 3200)
    for ax in (left, right):
        ax.set_xlim(-0.6, len(rows) - 0.4)
    fig.suptitle("Search and feature ablations (AlphaGo Figure 4 / Extended Data Table 7)", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
