"""Tournament report: Markdown plus PNG charts (matplotlib, Agg backend).

Sections: Elo table (Bradley-Terry, 95% intervals) with a bar chart; the AlphaGo ablation
table, our rows beside the paper's Extended Data Table 7 Elo ("not run" for rows without a
player in the suite); the win-rate matrix (Markdown table and heat map); how games ended
(forfeits and referee disagreements listed); and what reproduces the run: the config, seeds,
players' command lines and GTP versions, software versions and hardware.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

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


def _plot_ablation(rows: list[tuple[str, float, float, float, float | None]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(len(rows))
    ours = np.array([r[1] for r in rows])
    err = np.array([[r[1] - r[2] for r in rows], [r[3] - r[1] for r in rows]])
    fig, ax = plt.subplots(figsize=(1.1 * len(rows) + 3, 4.5))
    ax.bar(x - 0.2, ours, 0.4, yerr=err, capsize=3, label="tengen (this run)", color="#3b75af")
    paper = [r[4] if r[4] is not None else np.nan for r in rows]
    ax.bar(x + 0.2, paper, 0.4, label="AlphaGo paper (19x19, 5 s/move)", color="#bbbbbb")
    ax.set_xticks(x, [r[0] for r in rows], rotation=30, ha="right")
    ax.set_ylabel("Elo")
    ax.set_title("Search and feature ablations")
    top = np.nanmax(np.concatenate([err[1] + ours, np.array(paper, dtype=float)]))
    ax.set_ylim(top=max(top, 1.0) * 1.3)  # room for the legend
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


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
        f"({scorer}); {config.pairing}, {config.games} games per pair, seed {config.seed}.",
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


def _ablation_section(config: TournamentConfig, fit: EloFit | None, out: Path) -> list[str]:
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
    chart: list[tuple[str, float, float, float, float | None]] = []
    for key, (label, paper, note) in ABLATION_ROWS.items():
        paper_text = f"{paper:.0f}" if paper is not None else "-"
        player = assigned.get(key)
        rating = None
        anchor = fit.anchor if fit is not None else None
        if fit is not None and player is not None and player in fit.names:
            rating = fit.rating(player)
            if rating.games == 0:
                rating = None
        if rating is None:
            lines.append(f"| {label} | {player or '-'} | not run | | {paper_text} | {note} |")
            continue
        interval = "anchor" if rating.name == anchor else _fmt_interval(rating.low, rating.high)
        lines.append(f"| {label} | {player} | {rating.elo:.0f} | {interval} | {paper_text} | {note} |")
        chart.append((label.split(" (")[0], rating.elo, rating.low, rating.high, paper))
    lines.append("")
    if chart:
        _plot_ablation(chart, out / "ablation.png")
        lines += ["![Ablations](ablation.png)", ""]
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
