"""The ablation report on synthetic games: the pairwise table against the paper's order (agrees or not,
significant or not), Kendall's tau, the top/bottom separation, the search gain and the feature pair
checked against the fit's own differences, the evidence sections with their files present, absent and
malformed, and the Figure-4-style chart. No games are played: GameResults are built directly."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from engine.arena.ablation import (
    BOTTOM_ROW,
    NO_SEARCH_ROW,
    SEARCH_GAIN_GOAL,
    SEARCH_ROWS,
    TOP_ROW,
    Difference,
    SearchGain,
    analyse,
    kendall_tau,
    load_evidence,
    read_interpretability,
    read_rl_vs_sl,
    read_sl_accuracy,
    read_value_mse,
    short_label,
)
from engine.arena.config import ABLATION_ROWS, TournamentConfig, config_from_dict
from engine.arena.elo import expected_score, wilson_interval
from engine.arena.match import GameResult
from engine.arena.report import fit_results, write_report

PNG = b"\x89PNG\r\n\x1a\n"
ANCHOR = "gnugo-10"
PLAYERS = {key: key.replace("_", "-") for key in ABLATION_ROWS}  # row key -> player name
PAPER = {key: row[1] for key, row in ABLATION_ROWS.items() if row[1] is not None}


def suite(evidence: dict[str, str] | None = None, rows: tuple[str, ...] = tuple(ABLATION_ROWS)) -> TournamentConfig:
    players: list[dict[str, Any]] = [{"name": ANCHOR, "kind": "gnugo", "level": 10}]
    players += [{"name": PLAYERS[k], "kind": "gtp", "command": "true"} for k in rows]
    data: dict[str, Any] = {"name": "abl", "board_size": 9, "players": players,
                            "ablation": {k: PLAYERS[k] for k in rows}}  # fmt: skip
    if evidence is not None:
        data["evidence"] = evidence
    return config_from_dict(data)


def games(true: dict[str, float], per_pair: int) -> list[GameResult]:
    """`per_pair` games for every pair, the stronger side winning its expected share (rounded),
    colours alternating; deterministic."""
    names = list(true)
    out: list[GameResult] = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            wins_a = round(per_pair * expected_score(true[a], true[b]))
            for k in range(per_pair):
                black, white = (a, b) if k % 2 == 0 else (b, a)
                winner_name = a if k < wins_a else b
                winner = "B" if winner_name == black else "W"
                index = len(out)
                out.append(GameResult(index, black, white, index, winner, f"{winner}+R", "resign", "", 50, None,
                                      None, None, f"sgf/{index:05d}.sgf", 0.1))  # fmt: skip
    return out


def ratings(elo: dict[str, float], rows: tuple[str, ...] = tuple(ABLATION_ROWS)) -> dict[str, float]:
    """Players' true Elo: the anchor at 431 plus those of `rows`."""
    return {ANCHOR: 431.0} | {PLAYERS[k]: v for k, v in elo.items() if k in rows}


SMALL = ("policy_only", "rollouts_only")  # a suite of three players, for tests about the evidence


def paper_like(scale: float, offset: float = -1000.0) -> dict[str, float]:
    """Rows at the paper's Elo (scaled about R), feature rows 40 Elo apart."""
    low = PAPER[BOTTOM_ROW]
    out = {k: low + offset + scale * (v - low) for k, v in PAPER.items()}
    return out | {"features_full": 700.0, "features_raw": 660.0}


def pair_rows(text: str) -> dict[str, list[str]]:
    """Rows of the pairwise table: "R+V+P - R" -> its cells."""
    section = text.split("### Search rows pair by pair", 1)[1].split("###", 1)[0]
    out = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and " - " in cells[0]:
            out[cells[0]] = cells[1:]
    return out


def test_paper_order_with_significant_pairs_and_the_search_gain(tmp_path: Path) -> None:
    config = suite()
    results = games(ratings(paper_like(1.0)), per_pair=40)
    text = write_report(config, results, tmp_path).read_text()
    fit = fit_results(config, results)
    rows = pair_rows(text)
    assert len(rows) == 21
    significant = 0
    for i, hi in enumerate(SEARCH_ROWS):
        for lo in SEARCH_ROWS[i + 1 :]:
            d, low, high = fit.difference(PLAYERS[hi], PLAYERS[lo])
            cells = rows[f"{short_label(hi)} - {short_label(lo)}"]
            assert cells[0] == f"{d:+.0f}" and cells[1] == f"[{low:+.0f}, {high:+.0f}]"
            assert cells[2] == f"{PAPER[hi] - PAPER[lo]:+.0f}"
            assert cells[3] == ("yes" if d > 0 else "no")
            sig = low > 0 or high < 0
            assert cells[4] == ("yes" if sig else "no")
            significant += sig and d > 0
    assert f"**21 of 21 pairs in the paper's order, {significant} of them significant**" in text
    assert "Kendall's tau between our order and the paper's: +1.00" in text
    assert "**separated (right order, significant)**" in text
    # The search gain is the fit's R+V+P - P difference, beside 2890 - 1517.
    d, low, high = fit.difference(PLAYERS[TOP_ROW], PLAYERS[NO_SEARCH_ROW])
    assert d == pytest.approx(fit.rating(PLAYERS[TOP_ROW]).elo - fit.rating(PLAYERS[NO_SEARCH_ROW]).elo)
    assert f"**{d:+.0f} [{low:+.0f}, {high:+.0f}]** Elo; paper 2890 - 1517 = +1373" in text
    assert d >= SEARCH_GAIN_GOAL  # the construction puts the gain near the paper's 1373
    assert "Goal +800: **met" in text and "search gain " + f"{d:+.0f}: goal met" in text
    # The feature pair uses the fit's difference as well.
    d, low, high = fit.difference(PLAYERS["features_full"], PLAYERS["features_raw"])
    assert f"features-full) minus Raw board + history features (features-raw): **{d:+.0f} [{low:+.0f}, " \
           f"{high:+.0f}]** Elo" in text  # fmt: skip
    assert (tmp_path / "ablation.png").read_bytes()[:8] == PNG
    assert "![Ablations](ablation.png)" in text
    assert "not run" not in text


def test_reversed_ends_and_a_small_gain_are_reported(tmp_path: Path) -> None:
    elo = paper_like(0.5)
    elo[TOP_ROW], elo[BOTTOM_ROW] = elo[BOTTOM_ROW], elo[TOP_ROW]  # R now strongest, R+V+P weakest
    config = suite()
    results = games(ratings(elo), per_pair=40)
    text = write_report(config, results, tmp_path).read_text()
    fit = fit_results(config, results)
    analysis = analyse(fit, config.ablation)
    p = analysis.pairwise
    assert p.ends is not None and not p.ends.agrees and p.ends.significant
    assert "**in the opposite order**" in text and "top and bottom rows not separated" in text
    n = len(p.pairs)
    assert p.kendall_tau == pytest.approx((p.agreeing - (n - p.agreeing)) / n)  # no ties among the ratings
    assert p.kendall_tau is not None and p.kendall_tau < 1
    assert f"Kendall's tau between our order and the paper's: {p.kendall_tau:+.2f}" in text
    assert p.reversed_significant >= 1
    assert f"{p.reversed_significant} significantly in the opposite order" in text
    assert f"**{p.agreeing} of {n} pairs in the paper's order" in text
    gain = analysis.search_gain
    assert gain is not None and gain.ours.elo < SEARCH_GAIN_GOAL and not gain.met
    assert "Goal +800: **not met**" in text


def test_few_games_are_not_significant(tmp_path: Path) -> None:
    elo = paper_like(0.1, offset=0.0)  # the seven search rows within 143 Elo of each other
    config = suite(rows=SEARCH_ROWS)
    text = write_report(config, games(ratings(elo, SEARCH_ROWS), per_pair=2), tmp_path).read_text()
    rows = pair_rows(text)
    assert rows and all(cells[4] == "no" for cells in rows.values())
    assert "of them significant" in text and ", 0 of them significant**" in text
    assert "**not separated (the interval includes 0)**" in text
    assert "top and bottom rows not separated" in text
    # Rows outside the suite are "not run" in the Elo table, and the feature pair cannot be judged.
    assert text.count("not run") == len(ABLATION_ROWS) - len(SEARCH_ROWS)
    assert "needs games of both rows; no games yet for Full input features and Raw board + history" in text


def test_missing_rows_leave_what_can_be_said(tmp_path: Path) -> None:
    rows = ("value_policy", "rollouts_only", "policy_only")
    config = suite(rows=rows)
    elo = paper_like(0.4)
    text = write_report(config, games(ratings(elo, rows), per_pair=10), tmp_path).read_text()
    assert len(pair_rows(text)) == 3
    assert text.count("not run") == len(ABLATION_ROWS) - 3
    missing = [short_label(k) for k in SEARCH_ROWS if k not in rows]
    assert "Search rows without games: " + ", ".join(missing) + "." in text
    assert "cannot be judged without games of both" in text
    assert "R+V+P minus P needs games of both rows." in text and "search gain not measured" in text


def test_search_gain_verdicts() -> None:
    paper = PAPER[TOP_ROW] - PAPER[NO_SEARCH_ROW]
    assert paper == 1373
    sure = SearchGain(ours=Difference(elo=900, low=820, high=980), paper=paper)
    edge = SearchGain(ours=Difference(elo=850, low=700, high=1000), paper=paper)
    short = SearchGain(ours=Difference(elo=790, low=700, high=880), paper=paper)
    assert (sure.met, sure.met_with_confidence) == (True, True)
    assert (edge.met, edge.met_with_confidence) == (True, False)
    assert (short.met, short.met_with_confidence) == (False, False)


def test_kendall_tau_and_wilson_interval() -> None:
    assert kendall_tau([1, 2, 3], [10, 20, 30]) == 1
    assert kendall_tau([3, 2, 1], [10, 20, 30]) == -1
    assert kendall_tau([1, 3, 2], [1, 2, 3]) == pytest.approx(1 / 3)
    assert kendall_tau([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / math.sqrt(6))  # tau-b with a tie
    assert kendall_tau([1, 1], [1, 2]) is None
    low, high = wilson_interval(8, 10, confidence=0.95)  # the textbook example: [0.490, 0.943]
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)
    low, high = wilson_interval(0, 20, confidence=0.95)
    assert low == pytest.approx(0.0, abs=1e-12) and 0 < high < 0.2


def write_evidence(root: Path) -> dict[str, str]:
    sl = {"positions": 5000, "games": 300, "sets": {
        "alphago": {"seeds": [0, 1, 2], "accuracy": [0.50, 0.52, 0.54], "mean": 0.52, "sd": 0.02},
        "raw": {"seeds": [0, 1, 2], "accuracy": [0.47, 0.48, 0.49], "mean": 0.48, "sd": 0.01}}}
    value = {"positions": 2000, "value_net": 0.41, "one_rollout": 0.93, "rl_outcome": 0.77, "train_positions": 200000,
             "holdout_games": 900, "paper_value_net": 0.234}  # fmt: skip
    rl = {"a": "rl", "b": "sl", "wins": 170, "losses": 28, "draws": 2, "games": 200, "win_rate": 0.855}
    (root / "sl_accuracy.json").write_text(json.dumps(sl))
    (root / "value_mse.json").write_text(json.dumps(value))
    (root / "rl_vs_sl.json").write_text(json.dumps(rl))
    explain = root / "explain"
    explain.mkdir()
    (explain / "explain.md").write_text("## Why each part helps\n\n| Group | Drop |\n|---|---:|\n| ladders | 0.03 |\n\n"
                                        "![Policy importance](importance_policy.png)\n![Gone](gone.png)\n")  # fmt: skip
    (explain / "importance_policy.png").write_bytes(PNG + b"fake")
    return {"sl_accuracy": str(root / "sl_accuracy.json"), "value_mse": str(root / "value_mse.json"),
            "rl_vs_sl": str(root / "rl_vs_sl.json"), "interpretability": str(explain)}  # fmt: skip


def test_evidence_sections_when_the_files_exist(tmp_path: Path) -> None:
    evidence = write_evidence(tmp_path)
    config = suite(evidence, rows=SMALL)
    out = tmp_path / "report"
    text = write_report(config, games(ratings(paper_like(0.3), SMALL), per_pair=4), out).read_text()
    sl = read_sl_accuracy(Path(evidence["sl_accuracy"]))
    full, raw = sl.get("alphago"), sl.get("raw")
    assert full is not None and raw is not None and full.sd is not None and raw.sd is not None
    assert full.sd == pytest.approx(0.02) and raw.mean == pytest.approx(0.48)
    assert f"| alphago | 0, 1, 2 | {100 * full.mean:.1f}% +- {100 * full.sd:.1f} | 57.0% |" in text
    assert f"| raw | 0, 1, 2 | {100 * raw.mean:.1f}% +- {100 * raw.sd:.1f} | 55.7% |" in text
    assert "48 planes minus raw planes: +4.0 points (paper +1.3)" in text
    assert "| Value network | 0.410 | 0.234 |" in text and "| One rollout of the rollout policy | 0.930 | - |" in text
    assert "| The RL policy's own self-play outcome | 0.770 | - |" in text
    assert "The value network beats one rollout: **yes**" in text
    rl = read_rl_vs_sl(Path(evidence["rl_vs_sl"]))
    assert (rl.wins, rl.draws, rl.losses, rl.score) == (170, 2, 28, 0.855)
    assert rl.low < rl.score < rl.high
    assert f"170-28-2 in 200 games, win rate **85.5% [{rl.low:.1%}, {rl.high:.1%}]**" in text
    assert ("above 80%, the whole interval" if rl.low > 0.8 else "by the estimate") in text
    # The fragment is included verbatim, its PNG copied beside the report, the missing one named.
    assert "## Why each part helps\n\n| Group | Drop |\n|---|---:|\n| ladders | 0.03 |" in text
    assert (out / "importance_policy.png").read_bytes() == PNG + b"fake"
    assert "gone.png is linked but missing" in text
    assert "could not be read" not in text and "does not exist yet" not in text


def test_evidence_sections_when_the_files_are_absent(tmp_path: Path) -> None:
    results = games(ratings(paper_like(0.3), SMALL), per_pair=2)
    named = {k: str(tmp_path / "nowhere" / f"{k}.json") for k in ("sl_accuracy", "value_mse", "rl_vs_sl")}
    named["interpretability"] = str(tmp_path / "nowhere" / "explain")
    text = write_report(suite(named, rows=SMALL), results, tmp_path / "a").read_text()
    for key, path in named.items():
        assert f"{path} does not exist yet;" in text, key
    assert "`python -m benchmarks.sl_feature_ablation" in text and "`tengen explain --run-dir" in text
    assert text.count("`tengen train --config configs/alphago_9x9_cpu.yaml") == 2
    text = write_report(suite(rows=SMALL), results, tmp_path / "b").read_text()
    for key in named:
        assert f"The config names no `{key}` evidence file" in text
    assert "## Why each part helps" in text  # the heading stays, with the line saying what writes it


MALFORMED = [
    ("sl_accuracy", "{not json", "is not valid JSON"),
    ("sl_accuracy", json.dumps({"positions": 10, "games": 2, "sets": {"raw": {"seeds": [0], "accuracy": []}}}),
     "'seeds' and 'accuracy' must be lists of one length"),
    ("sl_accuracy", json.dumps({"positions": 10, "games": 2, "sets": {"raw": {"seeds": [0], "accuracy": [1.5]}}}),
     "'accuracy' must be a number from 0 to 1, got 1.5"),
    ("value_mse", json.dumps({"positions": 10, "value_net": "low"}), "'value_net' must be a number"),
    ("value_mse", json.dumps([1, 2]), "must hold a JSON object"),
    ("rl_vs_sl", json.dumps({"wins": 12, "games": 10}), "'wins' must be an integer from 0 to 10, got 12"),
    ("rl_vs_sl", json.dumps({"wins": 3}), "'games' must be an integer from 1"),
    ("interpretability", "a file, not a folder", "is not a folder"),
]
READERS = {"sl_accuracy": read_sl_accuracy, "value_mse": read_value_mse, "rl_vs_sl": read_rl_vs_sl,
           "interpretability": read_interpretability}


@pytest.mark.parametrize(("key", "content", "reason"), MALFORMED)
def test_malformed_evidence_files_are_refused_with_the_reason(tmp_path: Path, key: str, content: str,
                                                              reason: str) -> None:  # fmt: skip
    path = tmp_path / f"{key}.json"
    path.write_text(content)
    item = load_evidence(((key, str(path)),), key, READERS[key])
    assert item.value is None and item.problem is not None
    assert item.problem.startswith(str(path)) and reason in item.problem, item.problem


def test_malformed_evidence_is_named_and_the_report_still_written(tmp_path: Path) -> None:
    evidence: dict[str, str] = {}
    for n, (key, content, _) in enumerate(MALFORMED):
        if key not in evidence:  # the first malformed file of each kind
            file = tmp_path / f"{n}-{key}.json"
            file.write_text(content)
            evidence[key] = str(file)
    config = suite(evidence, rows=SMALL)
    text = write_report(config, games(ratings(paper_like(0.3), SMALL), per_pair=2), tmp_path / "out").read_text()
    for key, path in evidence.items():
        problem = load_evidence(config.evidence, key, READERS[key]).problem
        assert f"The `{key}` evidence file could not be read: {problem}." in text, key
        assert problem is not None and problem.startswith(path)
    assert text.count("could not be read") == len(READERS)
    assert "## Win-rate matrix" in text and "## Reproducing this run" in text  # the rest is all there


def test_explain_folder_without_its_fragment(tmp_path: Path) -> None:
    (tmp_path / "explain").mkdir()
    config = suite({"interpretability": str(tmp_path / "explain")}, rows=SMALL)
    text = write_report(config, games(ratings(paper_like(0.3), SMALL), per_pair=2), tmp_path / "out").read_text()
    assert re.search(r"`interpretability` evidence file could not be read: .*explain holds no explain.md", text)


def test_plain_tournament_has_no_ablation_section_and_no_stale_chart(tmp_path: Path) -> None:
    (tmp_path / "ablation.png").write_bytes(PNG)  # left by an earlier run
    config = config_from_dict({"name": "plain", "board_size": 9, "players": [
        {"name": ANCHOR, "kind": "gnugo", "level": 10}, {"name": "x", "kind": "gtp", "command": "true"}]})
    text = write_report(config, games({ANCHOR: 431.0, "x": 500.0}, per_pair=6), tmp_path).read_text()
    assert "## AlphaGo ablations" not in text and "not run" not in text and "Why each part helps" not in text
    assert not (tmp_path / "ablation.png").exists()
    assert (tmp_path / "elo.png").read_bytes()[:8] == PNG and (tmp_path / "winrate.png").read_bytes()[:8] == PNG


def test_no_ratings_yet_still_lists_the_rows(tmp_path: Path) -> None:
    text = write_report(suite(), [], tmp_path).read_text()
    assert "Ratings cannot be computed yet" in text
    assert text.count("not run") == len(ABLATION_ROWS)
    assert "Needs at least two search rows with games." in text
    assert not (tmp_path / "ablation.png").exists()


def test_report_states_equal_time_and_the_adaptive_schedule(tmp_path: Path) -> None:
    players = [{"name": ANCHOR, "kind": "gnugo", "level": 10}, {"name": "x", "kind": "gtp", "command": "true"}]
    plain = config_from_dict({"name": "plain", "board_size": 9, "players": players})
    text = write_report(plain, games({ANCHOR: 431.0, "x": 500.0}, per_pair=4), tmp_path / "a").read_text()
    assert "Equal time" not in text and "widest" not in text
    timed = config_from_dict({"name": "timed", "board_size": 9, "players": players, "seconds": 0.25,
                              "games": 2, "target_halfwidth": 70, "games_max": 40})  # fmt: skip
    text = write_report(timed, games({ANCHOR: 431.0, "x": 500.0}, per_pair=4), tmp_path / "b").read_text()
    assert "Equal time: every tengen player that searches had 0.25 s per move" in text
    assert "at most 70 Elo or 40 games" in text
