"""Tournament report: Markdown plus PNG charts (matplotlib, Agg backend).

Sections: Elo table (Bradley-Terry, 95% intervals) with a bar chart; for an ablation suite
(a config with `ablation:` rows or evidence files), the AlphaGo ablation: our rows beside the
paper's Extended Data Table 7 Elo ("not run" for rows without games), a Figure-4-style chart,
every pair of search rows against the paper's order, the search gain, the input-feature pair
and the evidence sections (SL accuracy over seeds, value-net MSE, RL against SL, the `tengen
explain` fragment with its PNGs copied beside the report), each analysed by
engine.arena.ablation; the win-rate matrix (Markdown table and heat map); how games ended
(forfeits and referee disagreements listed); and what reproduces the run: the config, seeds,
players' command lines and GTP versions, software versions and hardware.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from engine.arena.ablation import (
    BOTTOM_ROW,
    EVIDENCE_COMMANDS,
    FEATURE_ROWS,
    NO_SEARCH_ROW,
    PAPER_RL_WIN_RATE,
    PAPER_SL_ACCURACY,
    PAPER_VALUE_MSE,
    SEARCH_GAIN_GOAL,
    TOP_ROW,
    AblationAnalysis,
    Difference,
    Evidence,
    PairwiseComparison,
    SearchGain,
    analyse,
    gnugo_anchors,
    load_evidence,
    paper_elo,
    plot_ablation,
    read_interpretability,
    read_rl_vs_sl,
    read_sl_accuracy,
    read_value_mse,
    short_label,
)
from engine.arena.config import ABLATION_ROWS, TournamentConfig
from engine.arena.elo import EloError, EloFit, fit_elo
from engine.arena.engines import EngineInfo
from engine.arena.match import GameResult
from engine.atomic_io import atomic_path, atomic_write_text
from engine.gtp_client import find_gnugo

REPORT = "report.md"
CHARTS = ("elo.png", "winrate.png", "ablation.png")


@dataclass(frozen=True)
class WinMatrix:
    names: tuple[str, ...]
    points: npt.NDArray[np.float64]  # points[i, j]: i's points against j
    games: npt.NDArray[np.int64]

    def rate(self, i: int, j: int) -> float:
        return self.points[i, j] / self.games[i, j] if self.games[i, j] else float("nan")


def win_matrix(results: Sequence[GameResult], names: Sequence[str]) -> WinMatrix:
    index = {n: i for i, n in enumerate(names)}
    pts = np.zeros((len(names), len(names)))
    games = np.zeros((len(names), len(names)), dtype=np.int64)
    for r in results:
        b, w = index[r.black], index[r.white]
        pts[b, w] += r.score_for(r.black)
        pts[w, b] += r.score_for(r.white)
        games[b, w] += 1
        games[w, b] += 1
    return WinMatrix(tuple(names), pts, games)


def fit_results(config: TournamentConfig, results: Sequence[GameResult]) -> EloFit:
    """Elo of every player with games in `results`, anchored as the config says. Raises EloError."""
    anchor = config.resolved_anchor()
    games = [(r.black, r.white, r.score_for(r.black)) for r in results]
    return fit_elo(games, anchor.player, anchor.elo)


def _run(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def environment() -> dict[str, str]:
    """Versions and hardware, for the reproducibility section."""
    info: dict[str, str] = {}
    for dist in ("tengen", "numpy", "sgfmill", "matplotlib", "pyyaml"):
        try:
            info[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            info[dist] = "not installed"
    repo = Path(__file__).resolve().parents[2]
    commit = _run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"])
    if commit:
        dirty = _run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"])
        info["tengen commit"] = commit + (" (with uncommitted changes)" if dirty else "")
    gnugo = find_gnugo()
    info["GnuGo"] = _run([gnugo, "--version"]).splitlines()[0] if gnugo else "not installed"
    info["Python"] = sys.version.split()[0]
    info["OS"] = platform.platform()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["CPU"] = cpu
    info["CPU cores"] = str(os.cpu_count())
    try:
        mem = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
        info["Memory"] = f"{int(mem.split()[1]) / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return info


def _plot_elo(fit: EloFit, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratings = list(reversed(fit.ratings))  # best at the top
    y = np.arange(len(ratings))
    elo = np.array([r.elo for r in ratings])
    err = np.array([[r.elo - r.low for r in ratings], [r.high - r.elo for r in ratings]])
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(ratings) + 1.5))
    colours = ["#999999" if r.name == fit.anchor else "#3b75af" for r in ratings]
    ax.barh(y, elo, xerr=err, color=colours, capsize=3)
    ax.set_yticks(y, [r.name for r in ratings])
    ax.axvline(0, color="black", linewidth=0.5)
    ax.set_xlabel(f"Elo ({fit.anchor} = {fit.anchor_elo:g}; bars: {fit.confidence:.0%} interval)")
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _plot_winrate(m: WinMatrix, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(m.names)
    rates = np.array([[m.rate(i, j) if i != j else np.nan for j in range(n)] for i in range(n)])
    fig, ax = plt.subplots(figsize=(1.0 * n + 2.5, 0.8 * n + 2))
    im = ax.imshow(rates, vmin=0, vmax=1, cmap="RdBu")
    for i in range(n):
        for j in range(n):
            if i != j and m.games[i, j]:
                colour = "white" if abs(rates[i, j] - 0.5) > 0.3 else "black"
                ax.text(j, i, f"{rates[i, j]:.0%}\n{m.games[i, j]}", ha="center", va="center", fontsize=8,
                        color=colour)
    ax.set_xticks(range(n), m.names, rotation=45, ha="right")
    ax.set_yticks(range(n), m.names)
    ax.set_xlabel("opponent")
    ax.set_title("Score of row against column (games)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _effort_sentence(config: TournamentConfig) -> str:
    """How long players thought and how many games were played, when the config says more than
    the round robin: equal time and the adaptive schedule."""
    out = ""
    if config.seconds is not None:
        out += (f" Equal time: every tengen player that searches had {config.seconds:g} s per move on one "
                "search thread; GnuGo played at its level, no-search players their network's move.")  # fmt: skip
    if config.target_halfwidth is not None:
        out += (f" After the round robin, games went where the 95% intervals were widest, until every "
                f"half-width was at most {config.target_halfwidth:g} Elo or {config.games_max} games "
                "were played (engine/arena/adaptive.py).")  # fmt: skip
    return out


def _fmt_interval(low: float, high: float) -> str:
    return f"[{low:.0f}, {high:.0f}]"


def write_report(
    config: TournamentConfig,
    results: Sequence[GameResult],
    out: Path,
    players: Sequence[EngineInfo] = (),
    scheduled: int | None = None,
) -> Path:
    """Writes out/report.md and its PNG charts; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    for chart in CHARTS:
        (out / chart).unlink(missing_ok=True)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rules = config.rules
    scorer = (
        "GnuGo's score decides, the engine's is checked against it" if rules.score_by == "gnugo"
        else "the engine's score decides, GnuGo's is checked against it when installed"
    )
    lines = [
        f"# Tournament report: {config.name}",
        "",
        f"Generated {now}. {len(results)} games finished"
        + (f" of {scheduled} scheduled" if scheduled is not None else "")
        + f"; {rules.size}x{rules.size}, komi {rules.komi:g}, area scoring with positional superko "
        f"({scorer}); {config.pairing}, {config.games} games per pair, seed {config.seed}."
        + _effort_sentence(config),
        "",
        "## Elo ratings",
        "",
    ]
    fit: EloFit | None = None
    try:
        fit = fit_results(config, results)
    except EloError as exc:
        lines += [f"Ratings cannot be computed yet: {exc}.", ""]
    if fit is not None:
        anchor_note = ""
        if fit.anchor != "gnugo-10" and fit.anchor_elo == 0.0:
            anchor_note = " No GnuGo level 10 in this suite, so ratings are relative to it, not the paper's scale."
        lines += [
            f"Bradley-Terry maximum likelihood over all games, draws as half wins, one virtual draw per "
            f"pair that met as a prior. Anchor: **{fit.anchor} = {fit.anchor_elo:g}**.{anchor_note} "
            f"Intervals are {fit.confidence:.0%}, relative to the anchor, from the observed Fisher "
            "information.",
            "",
            "| # | Player | Elo | 95% interval | Games | Score |",
            "|---|---|---:|---|---:|---:|",
        ]
        for k, r in enumerate(fit.ratings, 1):
            interval = "anchor" if r.name == fit.anchor else _fmt_interval(r.low, r.high)
            score = f"{r.score:.1%}" if r.games else "-"
            lines.append(f"| {k} | {r.name} | {r.elo:.0f} | {interval} | {r.games} | {score} |")
        unrated = [n for n in config.names if n not in fit.names]
        if unrated:
            lines += ["", f"No finished games yet, so not rated: {', '.join(unrated)}."]
        lines += ["", "![Elo](elo.png)", ""]
        _plot_elo(fit, out / "elo.png", f"{config.name}: Elo")

    lines += _ablation_section(config, fit, out)

    names = config.names
    m = win_matrix(results, names)
    lines += ["## Win-rate matrix", "", "Score of the row player against the column player (games).", ""]
    lines.append("| | " + " | ".join(names) + " |")
    lines.append("|---|" + "---:|" * len(names))
    for i, a in enumerate(names):
        cells = []
        for j in range(len(names)):
            cells.append("-" if i == j or not m.games[i, j] else f"{m.rate(i, j):.0%} ({m.games[i, j]})")
        lines.append(f"| **{a}** | " + " | ".join(cells) + " |")
    lines.append("")
    if results:
        _plot_winrate(m, out / "winrate.png")
        lines += ["![Win rates](winrate.png)", ""]

    lines += _games_section(results)
    lines += _reproduce_section(config, players)
    path = out / REPORT
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def _signed(x: float) -> str:
    return f"{x:+.0f}"


def _signed_interval(d: Difference) -> str:
    return f"[{d.low:+.0f}, {d.high:+.0f}]"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _ablation_section(config: TournamentConfig, fit: EloFit | None, out: Path) -> list[str]:
    """The ablation rows beside the paper, the comparisons, the chart and the evidence sections;
    nothing for a suite without an ablation map or evidence files."""
    evidence = config.evidence  # paths as written: relative ones from the working directory
    if not config.ablation and not evidence:
        return []
    analysis = analyse(fit, config.ablation)
    lines = [
        "## AlphaGo ablations",
        "",
        "Paper figures: Silver et al. 2016, Extended Data Table 7 (19x19, 5 s/move, on the scale where "
        "GnuGo 3.8 level 10 = 431); feature rows: SL policy top-1 accuracy on KGS. Board size, time and "
        "networks differ here, so compare orderings and gaps, not absolute numbers.",
        "",
        "| Configuration | Player | Elo (this run) | 95% interval | Paper Elo | Paper note |",
        "|---|---|---:|---|---:|---|",
    ]
    assigned = dict(config.ablation)
    for key, (label, paper, note) in ABLATION_ROWS.items():
        paper_text = f"{paper:.0f}" if paper is not None else "-"
        row = analysis.rows.get(key)
        if row is None:
            lines.append(f"| {label} | {assigned.get(key, '-')} | not run | | {paper_text} | {note} |")
            continue
        interval = "anchor" if row.anchor else _fmt_interval(row.low, row.high)
        lines.append(f"| {label} | {row.player} | {row.elo:.0f} | {interval} | {paper_text} | {note} |")
    lines.append("")
    if fit is not None and analysis.rows:
        plot_ablation(list(analysis.rows.values()), gnugo_anchors(config.players, fit), out / "ablation.png",
                      confidence=fit.confidence)  # fmt: skip
        lines += [
            "![Ablations](ablation.png)",
            "",
            "Left: each row's Elo in this run with its 95% interval (blue: search rows, orange: feature rows, "
            "grey: the anchor), GnuGo players as dashed lines. Right: the paper's Elo for the same rows, on "
            "its own axis.",
            "",
        ]
    lines += _goal_lines(analysis)
    lines += _pairwise_lines(analysis.pairwise)
    lines += _search_gain_lines(analysis.search_gain)
    lines += _features_lines(analysis, evidence)
    lines += _value_lines(evidence)
    lines += _rl_lines(evidence)
    lines += _interpretability_lines(evidence, out)
    return lines


def _goal_lines(a: AblationAnalysis) -> list[str]:
    p = a.pairwise
    order = f"{p.agreeing} of {len(p.pairs)} pairs in the paper's order" if p.pairs else "no pair of search rows rated"
    ends = "top and bottom rows separated" if p.ends_separated else "top and bottom rows not separated"
    if p.ends is None:
        ends = "top and bottom rows not both rated"
    gain = "search gain not measured"
    if a.search_gain is not None:
        gain = f"search gain {_signed(a.search_gain.ours.elo)}: goal {'met' if a.search_gain.met else 'not met'}"
    return [
        f"**Goal** (issue #11: the paper's order, its top ({short_label(TOP_ROW)}) and bottom "
        f"({short_label(BOTTOM_ROW)}) rows separated, a search gain of at least {_signed(SEARCH_GAIN_GOAL)} Elo): "
        f"{order}; {ends}; {gain}.",
        "",
    ]


def _pairwise_lines(p: PairwiseComparison) -> list[str]:
    lines = ["### Search rows pair by pair", ""]
    if not p.pairs:
        lines.append("Needs at least two search rows with games.")
    else:
        lines += [
            "Each pair of search rows with games, the paper's higher row first: our Elo difference with its "
            "95% interval (from the fit's full covariance, so shared opponents count), the paper's difference, "
            "whether our order agrees with the paper's (the signs match) and whether our difference is "
            "significant (its interval excludes 0).",
            "",
            "| Pair | Ours | 95% interval | Paper | Agrees | Significant |",
            "|---|---:|---|---:|---|---|",
        ]
        for c in p.pairs:
            lines.append(f"| {short_label(c.higher)} - {short_label(c.lower)} | {_signed(c.ours.elo)} | "
                         f"{_signed_interval(c.ours)} | {_signed(c.paper)} | {_yes(c.agrees)} | "
                         f"{_yes(c.significant)} |")  # fmt: skip
        lines += ["", f"**{p.agreeing} of {len(p.pairs)} pairs in the paper's order, {p.agreeing_significant} of "
                      f"them significant**; {p.reversed_significant} significantly in the opposite order."]  # fmt: skip
        tau = "undefined (our ratings are all equal)" if p.kendall_tau is None else f"{p.kendall_tau:+.2f}"
        lines.append(f"Kendall's tau between our order and the paper's: {tau} (+1: the same order, -1: reversed).")
    top, bottom = short_label(TOP_ROW), short_label(BOTTOM_ROW)
    if p.ends is None:
        lines.append(f"Top and bottom rows ({top} and {bottom}): cannot be judged without games of both.")
    else:
        verdict = ("separated (right order, significant)" if p.ends_separated
                   else "in the opposite order" if p.ends.significant else "not separated (the interval includes 0)")
        lines.append(f"Top and bottom rows: {top} - {bottom} = {_signed(p.ends.ours.elo)} "
                     f"{_signed_interval(p.ends.ours)}, paper {_signed(p.ends.paper)}: **{verdict}**.")  # fmt: skip
    if p.missing:
        lines.append("Search rows without games: " + ", ".join(short_label(k) for k in p.missing) + ".")
    return lines + [""]


def _search_gain_lines(gain: SearchGain | None) -> list[str]:
    lines = ["### Search gain", ""]
    top, none = short_label(TOP_ROW), short_label(NO_SEARCH_ROW)
    if gain is None:
        return lines + [f"{top} minus {none} needs games of both rows.", ""]
    if gain.met_with_confidence:
        verdict = "met (the whole 95% interval is above it)"
    elif gain.met:
        verdict = "met by the estimate, but the 95% interval reaches below it"
    else:
        verdict = "not met"
    return lines + [
        f"{top} minus {none} (the full search over the policy network's own move): "
        f"**{_signed(gain.ours.elo)} {_signed_interval(gain.ours)}** Elo; paper "
        f"{paper_elo(TOP_ROW):.0f} - {paper_elo(NO_SEARCH_ROW):.0f} = {_signed(gain.paper)}. "
        f"Goal {_signed(gain.goal)}: **{verdict}**.",
        "",
    ]


def _evidence_note(item: Evidence[Any]) -> str | None:
    """The line that stands in for an evidence file that was not read; None when it was."""
    command = EVIDENCE_COMMANDS[item.key]
    if item.path is None:
        return f"The config names no `{item.key}` evidence file (`evidence:`); {command}."
    if item.problem is not None:
        return f"The `{item.key}` evidence file could not be read: {item.problem}."
    if item.value is None:
        return f"{item.path} does not exist yet; {command}."
    return None


def _features_lines(a: AblationAnalysis, evidence: Sequence[tuple[str, str]]) -> list[str]:
    full, raw = FEATURE_ROWS
    lines = ["### Input features", ""]
    if a.features is None:
        lacking = [short_label(k) for k in FEATURE_ROWS if k not in a.rows]
        lines.append(f"{short_label(full)} against {short_label(raw)} needs games of both rows; no games yet for "
                     + " and ".join(lacking) + ".")  # fmt: skip
    else:
        d = a.features
        lines.append(
            f"{short_label(full)} ({a.rows[full].player}) minus {short_label(raw)} ({a.rows[raw].player}): "
            f"**{_signed(d.elo)} {_signed_interval(d)}** Elo, "
            + ("significant." if d.significant else "not significant (the interval includes 0).")
        )
    lines.append("")
    item = load_evidence(evidence, "sl_accuracy", read_sl_accuracy)
    note = _evidence_note(item)
    if note is not None or item.value is None:
        return lines + [note or "", ""]
    sl = item.value
    lines += [
        f"SL policy held-out top-1 accuracy ({item.path}): {sl.positions:,} held-out positions from {sl.games:,} "
        "games, the same for every feature set and seed.",
        "",
        "| Feature set | Seeds | Held-out top-1 (mean +- sd) | Paper (KGS) |",
        "|---|---|---:|---:|",
    ]
    for s in sl.sets:
        spread = f" +- {100 * s.sd:.1f}" if s.sd is not None else " (one seed)"
        paper = f"{100 * s.paper:.1f}%" if s.paper is not None else "-"
        seeds = ", ".join(str(x) for x in s.seeds)
        lines.append(f"| {s.name} | {seeds} | {100 * s.mean:.1f}%{spread} | {paper} |")
    mine, theirs = sl.get("alphago"), sl.get("raw")
    if mine is not None and theirs is not None:
        gap = PAPER_SL_ACCURACY["alphago"] - PAPER_SL_ACCURACY["raw"]
        lines += ["", f"48 planes minus raw planes: {100 * (mine.mean - theirs.mean):+.1f} points "
                      f"(paper {100 * gap:+.1f})."]  # fmt: skip
    return lines + [""]


def _value_lines(evidence: Sequence[tuple[str, str]]) -> list[str]:
    lines = ["### Value network", ""]
    item = load_evidence(evidence, "value_mse", read_value_mse)
    note = _evidence_note(item)
    if note is not None or item.value is None:
        return lines + [note or "", ""]
    v = item.value
    return lines + [
        f"Mean squared error against the game's outcome z in [-1, 1] on {v.positions:,} held-out positions "
        f"({item.path}; the value network trained on {v.train_positions:,} positions).",
        "",
        "| Estimate of the outcome | Held-out MSE | Paper |",
        "|---|---:|---:|",
        f"| Value network | {v.value_net:.3f} | {PAPER_VALUE_MSE:.3f} |",
        f"| One rollout of the rollout policy | {v.one_rollout:.3f} | - |",
        f"| The RL policy's own self-play outcome | {v.rl_outcome:.3f} | - |",
        "",
        f"Paper: AlphaGo Figure 2b. The value network beats one rollout: **{_yes(v.beats_rollout)}**.",
        "",
    ]


def _rl_lines(evidence: Sequence[tuple[str, str]]) -> list[str]:
    lines = ["### RL policy against SL policy", ""]
    item = load_evidence(evidence, "rl_vs_sl", read_rl_vs_sl)
    note = _evidence_note(item)
    if note is not None or item.value is None:
        return lines + [note or "", ""]
    r = item.value
    paper = PAPER_RL_WIN_RATE
    if r.low > paper:
        verdict = f"above {paper:.0%}, the whole interval"
    elif r.score > paper:
        verdict = f"above {paper:.0%} by the estimate, but the interval reaches below it"
    else:
        verdict = f"not above {paper:.0%}"
    record = f"{r.wins}-{r.losses}" + (f"-{r.draws}" if r.draws else "")
    return lines + [
        f"RL policy against SL policy ({item.path}): {record} in {r.games} games, win rate "
        f"**{r.score:.1%} [{r.low:.1%}, {r.high:.1%}]** ({r.confidence:.0%} Wilson interval, a draw counting "
        f"half); paper: more than {paper:.0%}. Verdict: **{verdict}**.",
        "",
    ]


def _interpretability_lines(evidence: Sequence[tuple[str, str]], out: Path) -> list[str]:
    """The `tengen explain` fragment, its PNGs copied beside the report."""
    item = load_evidence(evidence, "interpretability", read_interpretability)
    note = _evidence_note(item)
    if note is not None or item.value is None:
        return ["## Why each part helps", "", note or "", ""]
    explain = item.value
    problems = []
    for name in explain.images:
        source, target = explain.folder / name, out / name
        if name in CHARTS:
            problems.append(f"{name} was not copied: the report's own chart has that name")
            continue
        try:
            if target.exists() and target.samefile(source):
                continue
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        except OSError as exc:
            problems.append(f"{name} could not be copied ({exc})")
    problems += [f"{name} is linked but missing from {explain.folder}" for name in explain.missing_images]
    lines = [explain.fragment.rstrip(), ""]
    if problems:
        lines += ["Images: " + "; ".join(problems) + ".", ""]
    return lines


def _games_section(results: Sequence[GameResult]) -> list[str]:
    lines = ["## How games ended", ""]
    if not results:
        return lines + ["No finished games.", ""]
    reasons = Counter(r.reason for r in results)
    lines.append(", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) + ".")
    refereed = [r for r in results if r.referee_agrees is not None]
    disagree = [r for r in refereed if not r.referee_agrees]
    if refereed:
        lines.append(f"GnuGo refereed {len(refereed)} scored games and disagreed on the winner in {len(disagree)}.")
    lines.append("")
    notable = [r for r in results if r.reason not in ("score", "resign")] + disagree
    if notable:
        lines += ["| Game | Black | White | Result | Reason | Detail | Engine / GnuGo score |",
                  "|---:|---|---|---|---|---|---|"]
        for r in notable[:50]:
            scores = "" if r.engine_score is None else f"{r.engine_score:g} / {r.referee_score}"
            detail = r.detail.replace("|", "\\|")
            lines.append(f"| {r.index} | {r.black} | {r.white} | {r.result} | {r.reason} | {detail} | {scores} |")
        lines.append("")
    return lines


def _reproduce_section(config: TournamentConfig, players: Sequence[EngineInfo]) -> list[str]:
    lines = [
        "## Reproducing this run",
        "",
        f"Seed {config.seed}; each game's own seed (a hash of it and the game index) is in results.jsonl "
        "and passed to every player that takes one (GnuGo `--seed`, `tengen gtp --seed`, `{seed}` in a "
        "gtp command). With single-threaded, visit-limited players the same config and seed replay the "
        "same games.",
        "",
    ]
    if players:
        lines += ["| Player | Kind | GTP name | GTP version | Command |", "|---|---|---|---|---|"]
        for p in players:
            command = " ".join(p.argv).replace("|", "\\|")
            lines.append(f"| {p.name} | {p.kind} | {p.gtp_name} | {p.gtp_version} | `{command}` |")
        lines.append("")
    lines += ["Config" + (f" ({config.source})" if config.source else "") + ":", "", "```yaml",
              yaml.safe_dump(config.to_dict(), sort_keys=False).rstrip(), "```", "",
              "| Software / hardware | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in environment().items()]
    lines.append("")
    return lines
