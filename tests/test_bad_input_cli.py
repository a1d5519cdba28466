"""Bad input at the command line, by class: every path argument of every command given the wrong kind of
path, and every numeric flag given 0, -1, huge, nan and inf.

Each case must end with a non-zero exit and exactly one message line on stderr (argparse's usage lines
aside), never a traceback, and must leave files that already existed untouched. Values a command may
legitimately accept (seed 0, komi -1) must not traceback either. Most cases call `tengen_cli.main.main`
in-process (torch is imported once); a few run `python -m tengen_cli` as a real subprocess.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tengen_cli.main import main

REPO = Path(__file__).resolve().parents[1]
KEEP = b"already here: must survive\n"
HUGE = str(10**12)

# Placeholders in a case's argv, each a kind of path made fresh in the test's tmp_path.
PATHS = {
    "{file}": "kept.txt",  # an existing regular file (KEEP inside)
    "{dir}": "adir",  # an existing, empty directory
    "{missing}": "nowhere/none",  # nothing there
    "{blocked}": "kept.txt/sub",  # under a regular file: cannot be created, not even by root
    "{binary}": "binary.bin",  # not UTF-8, not YAML, not SGF, not safetensors
    "{badyaml}": "bad.yaml",  # UTF-8 text that is not YAML
    "{listyaml}": "list.yaml",  # YAML of the wrong shape (a list)
    "{sgfdir}": "sgfs",  # a folder of one valid 9x9 game
    "{empty}": "empty.txt",  # an empty file
}
SGF_GAME = b"(;GM[1]FF[4]SZ[9]KM[7]RE[B+R];B[ee];W[cc];B[gg])"


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """tmp_path as cwd and HOME, with one path of each kind in PATHS; stdin at end of input."""
    (tmp_path / "kept.txt").write_bytes(KEEP)
    (tmp_path / "adir").mkdir()
    (tmp_path / "binary.bin").write_bytes(b"\xff\xfe\x00\x81garbage\x80\x00" * 8)
    (tmp_path / "bad.yaml").write_text("key: [unclosed\n  - : : {\n")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "sgfs").mkdir()
    (tmp_path / "sgfs" / "g.sgf").write_bytes(SGF_GAME)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    with open(os.devnull) as devnull:
        monkeypatch.setattr(sys, "stdin", devnull)
        yield tmp_path


def expand(argv: list[str]) -> list[str]:
    """argv with placeholders replaced by paths relative to tmp_path, and configs/ taken from the repository."""
    out = []
    for arg in argv:
        for key, rel in PATHS.items():
            arg = arg.replace(key, rel)
        out.append(str(REPO / arg) if arg.startswith("configs/") else arg)
    return out


ERROR_LINE = re.compile(r"^tengen( [\w-]+)?: error: \S")


def error_lines(err: str) -> list[str]:
    """The error lines of stderr (progress bars and notes aside); a traceback counts as one too."""
    lines = [line.strip() for line in err.replace("\r", "\n").splitlines()]
    return [line for line in lines if ERROR_LINE.match(line) or "error" in line.lower()]


def run_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        rc = main(expand(argv))
    except SystemExit as exc:  # argparse's own errors
        rc = exc.code if isinstance(exc.code, int) else 1
    return rc, capsys.readouterr().err


def assert_one_sentence_failure(rc: int, err: str, mentions: str | None, paths: Path) -> None:
    assert rc != 0, err
    assert "Traceback" not in err, err
    lines = error_lines(err)
    assert len(lines) == 1 and ERROR_LINE.match(lines[0]), err
    assert err.rstrip().endswith(lines[0]), err  # the last thing said
    if mentions is not None:
        assert re.search(mentions, lines[0], re.IGNORECASE), (mentions, lines[0])
    assert (paths / "kept.txt").read_bytes() == KEEP  # nothing already written was lost


@dataclass(frozen=True)
class Case:
    """argv for main(), and a regex the error line must match (a flag name, a path, a reason)."""

    argv: tuple[str, ...]
    mentions: str | None = None

    def __str__(self) -> str:
        return " ".join(self.argv)


def case(*argv: str, mentions: str | None = None) -> Case:
    return Case(argv=argv, mentions=mentions)


# The same player (UCT, no network) is built by gtp and play: weights/config files and their flags.
PLAYER_FILE_FLAGS = ("--weights", "--value-weights", "--rollout-weights", "--config")
FILE_KINDS = ("{dir}", "{missing}", "{binary}", "{empty}", "{blocked}")

PATH_CASES: list[Case] = []
for command in ("gtp", "play"):
    for flag in PLAYER_FILE_FLAGS:
        for kind in FILE_KINDS:
            if (flag, kind) == ("--config", "{empty}"):
                continue  # below: an empty search config is valid
            PATH_CASES.append(case(command, flag, kind, mentions=re.escape(PATHS[kind].split("/")[0])))
    PATH_CASES += [
        case(command, "--config", "{empty}"),  # no settings: the defaults, which need a network
        case(command, "--config", "{badyaml}", mentions="bad.yaml"),
        case(command, "--config", "{listyaml}", mentions="list.yaml"),
        case(command, "--sgf-dir", "{file}", mentions="kept.txt"),
        case(command, "--sgf-dir", "{blocked}", mentions="kept.txt"),
    ]
for command in ("match", "arena", "ablate"):
    players = ("--black", "gnugo:1", "--white", "gnugo:0") if command == "match" else ()
    for kind in ("{dir}", "{missing}", "{binary}", "{badyaml}", "{listyaml}", "{empty}", "{blocked}"):
        PATH_CASES.append(case(command, "--config", kind, "--out", "out", *players,
                               mentions=re.escape(PATHS[kind].split("/")[0])))
    config = {"match": (), "arena": ("--config", "configs/arena/smoke.yaml"),
              "ablate": ("--config", "configs/arena/ablation_alphago.yaml")}[command]
    for kind in ("{file}", "{blocked}"):
        PATH_CASES.append(case(command, *config, "--out", kind, *players, mentions="kept.txt"))
for kind in ("{dir}", "{missing}", "{binary}", "{badyaml}", "{listyaml}", "{empty}", "{blocked}"):
    PATH_CASES.append(case("rate", "gnugo:3", "--ladder", kind, "--out", "out",
                           mentions=re.escape(PATHS[kind].split("/")[0])))
    PATH_CASES.append(case("rate", "--calibrate", "--ladder", kind, "--out", "out",
                           mentions=re.escape(PATHS[kind].split("/")[0])))
for kind in ("{file}", "{blocked}"):
    PATH_CASES.append(case("rate", "gnugo:3", "--out", kind, mentions="kept.txt"))
    PATH_CASES.append(case("rate", "--calibrate", "--out", kind, mentions="kept.txt"))
PATH_CASES += [
    case("arena", "--out", "{dir}", mentions="adir"),  # no config and nothing to resume
    case("arena", "--out", "{missing}", mentions="nowhere"),
    case("corpus", "--out", "{file}", "--games", "1", mentions="kept.txt"),
    case("corpus", "--out", "{blocked}", "--games", "1", mentions="kept.txt"),
    case("convert", "{missing}", "out", mentions="nowhere"),
    case("convert", "{binary}", "out", mentions="binary.bin|usable"),
    case("convert", "{dir}", "out", mentions="adir|usable"),
    case("convert", "{blocked}", "out", mentions="kept.txt"),
    case("convert", "{sgfdir}", "{file}", mentions="kept.txt"),
    case("convert", "{sgfdir}", "{blocked}", mentions="kept.txt"),
    case("accuracy", "--weights", "{dir}", "--sgf", "{sgfdir}", mentions="adir"),
    case("accuracy", "--weights", "{missing}", "--sgf", "{sgfdir}", mentions="nowhere"),
    case("accuracy", "--weights", "{binary}", "--sgf", "{sgfdir}", mentions="binary.bin"),
    case("accuracy", "--weights", "{empty}", "--sgf", "{sgfdir}", mentions="empty.txt"),
    case("accuracy", "--weights", "{blocked}", "--sgf", "{sgfdir}", mentions="kept.txt"),
    case("accuracy", "--weights", "{binary}", "--sgf", "{missing}", mentions="nowhere|binary.bin"),
]
for kind in ("{dir}", "{missing}", "{binary}", "{badyaml}", "{listyaml}", "{empty}", "{blocked}"):
    where = re.escape(PATHS[kind].split("/")[0])
    PATH_CASES.append(case("train", "--config", kind, "--run-dir", "run", mentions=where))
    PATH_CASES.append(case("train-sl", "--config", kind, "--data", "{dir}", "--out", "out",
                           mentions=None if kind == "{empty}" else where))  # an empty config: all defaults
for kind in ("{file}", "{blocked}"):
    PATH_CASES.append(case("train", "--config", "configs/zero_tiny.yaml", "--run-dir", kind, mentions="kept.txt"))
for kind in ("{file}", "{missing}", "{blocked}"):
    PATH_CASES.append(case("explain", "--run-dir", kind, "--out", "out",
                           mentions=re.escape(PATHS[kind].split("/")[0])))  # fmt: skip
for kind in ("{file}", "{blocked}"):
    PATH_CASES.append(case("explain", "--run-dir", "{dir}", "--out", kind, mentions="kept.txt|adir"))
for flag in ("--policy", "--value"):
    for kind in ("{dir}", "{missing}", "{binary}", "{empty}", "{blocked}"):
        PATH_CASES.append(case("explain", "--run-dir", "{dir}", "--out", "out", flag, kind,
                               mentions=re.escape(PATHS[kind].split("/")[0]) + "|adir"))  # fmt: skip
for command in ("train-sl", "train-rollout"):
    for kind in ("{dir}", "{missing}", "{binary}", "{empty}", "{blocked}"):
        PATH_CASES.append(case(command, "--data", kind, "--out", "out", mentions=re.escape(PATHS[kind].split("/")[0])))
    for kind in ("{file}", "{blocked}"):
        PATH_CASES.append(case(command, "--data", "{dir}", "--out", kind, mentions="kept.txt|adir"))


@pytest.mark.parametrize("bad", PATH_CASES, ids=str)
def test_bad_paths_fail_in_one_sentence(bad: Case, paths: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = run_in_process(list(bad.argv), capsys)
    assert_one_sentence_failure(rc, err, bad.mentions, paths)


# (command and the flags that make it fail fast after validation, flag under test, values that must be refused)
NUMBERS = ("0", "-1", HUGE, "nan", "inf")
NUMERIC_CASES: list[Case] = []


def numeric(base: tuple[str, ...], flag: str, refused: tuple[str, ...]) -> None:
    name = flag.lstrip("-").replace("-", "[-_ ]")
    for value in refused:
        NUMERIC_CASES.append(case(*base, flag, value, mentions=name))


GTP_BASE = ("gtp", "--no-records")
for base in (GTP_BASE, ("play", "--no-records")):
    numeric(base, "--size", ("0", "-1", HUGE, "nan", "inf"))
    numeric(base, "--komi", (HUGE, "nan", "inf", "-inf"))
    numeric(base, "--visits", ("0", "-1", HUGE, "nan", "inf"))
    numeric(base, "--seconds", ("0", "-1", "1e300", "nan", "inf"))
    numeric(base, "--threads", ("0", "-1", HUGE, "nan", "inf"))
    numeric(base, "--seed", ("-1", HUGE + "000000000", "nan", "inf"))
    numeric(base, "--resign", ("-1", "0.5", HUGE, "nan", "inf"))
MATCH_BASE = ("match", "--black", "gnugo:1", "--white", "gnugo:0", "--out", "out")
numeric(MATCH_BASE, "--size", ("0", "-1", HUGE, "nan", "inf"))
numeric(MATCH_BASE, "--komi", (HUGE, "nan", "inf"))
numeric(MATCH_BASE, "--games", ("0", "-1", HUGE, "nan", "inf"))
numeric(MATCH_BASE, "--parallel", ("-1", HUGE, "nan", "inf"))  # 0: one game per core
numeric(MATCH_BASE, "--move-timeout", ("0", "-1", HUGE, "nan", "inf"))
numeric(MATCH_BASE, "--opening-moves", ("-1", "21", HUGE, "nan", "inf"))  # 21: over a quarter of 9x9
numeric(MATCH_BASE, "--seed", ("-1", HUGE + "000000000", "nan", "inf"))
numeric(MATCH_BASE, "--sprt", ("nan,10", "0,inf", "10,0", "0,10,0,0.05", "0,10,nan,0.05", "1"))
for command in ("arena", "ablate"):
    suite = "configs/arena/ablation_alphago.yaml" if command == "ablate" else "configs/arena/smoke.yaml"
    numeric((command, "--config", suite, "--out", "out"), "--games", ("0", "-1", HUGE, "nan", "inf"))
    numeric((command, "--config", suite, "--out", "out"), "--parallel", ("-1", HUGE, "nan", "inf"))
    numeric((command, "--config", suite, "--out", "out"), "--seconds", ("0", "-1", "1e300", "nan", "inf"))
    numeric((command, "--config", suite, "--out", "out"), "--target-halfwidth", ("0", "-1", "nan", "inf"))
    numeric((command, "--config", suite, "--out", "out"), "--games-max", ("-1", HUGE, "nan", "inf"))
EXPLAIN_BASE = ("explain", "--run-dir", "{dir}", "--out", "out")
for flag in ("--positions", "--repeats", "--heatmaps", "--batch-size"):
    numeric(EXPLAIN_BASE, flag, ("-1", HUGE, "nan", "inf") if flag == "--heatmaps" else ("0", "-1", HUGE, "nan", "inf"))
numeric(EXPLAIN_BASE, "--seed", ("-1", HUGE + "000000000", "nan", "inf"))
numeric(EXPLAIN_BASE, "--device", ("foo", "cuda:99"))
RATE_BASE = ("rate", "gnugo:3", "--out", "out", "--allow-uncalibrated")
numeric(RATE_BASE, "--games-max", ("0", "-1", HUGE, "nan", "inf"))
numeric(RATE_BASE, "--target-halfwidth", ("0", "-1", "1e300", "nan", "inf"))
numeric(RATE_BASE, "--parallel", ("-1", HUGE, "nan", "inf"))  # 0: one game per core
numeric(RATE_BASE, "--seconds", ("0", "-1", "1e300", "nan", "inf", "60"))  # 60: the ladder's move timeout
CORPUS_BASE = ("corpus", "--out", "out")
numeric(CORPUS_BASE, "--games", ("0", "-1", HUGE, "nan", "inf"))
numeric(CORPUS_BASE, "--size", ("0", "-1", HUGE, "nan", "inf"))
numeric(CORPUS_BASE, "--komi", (HUGE, "nan", "inf"))
numeric(CORPUS_BASE, "--level", ("-1", "11", HUGE, "nan", "inf"))
numeric(CORPUS_BASE, "--workers", ("0", "-1", HUGE, "nan", "inf"))
numeric(CORPUS_BASE, "--seed", ("-1", HUGE + "000000000", "nan", "inf"))
numeric(CORPUS_BASE, "--opening-moves", ("-1", "6-2", "nan", "inf", HUGE))
CONVERT_BASE = ("convert", "{sgfdir}", "out")
numeric(CONVERT_BASE, "--games-per-shard", ("0", "-1", HUGE + "000", "nan", "inf"))
numeric(CONVERT_BASE, "--size", ("-1", "1", HUGE, "nan", "inf"))
numeric(CONVERT_BASE, "--min-moves", ("-1", HUGE + "000", "nan", "inf"))
SL_BASE = ("train-sl", "--data", "{dir}", "--out", "out")
numeric(SL_BASE, "--board-size", ("0", "-1", HUGE, "nan", "inf"))
numeric(SL_BASE, "--blocks", ("-1", HUGE, "nan", "inf"))
numeric(SL_BASE, "--channels", ("0", "-1", HUGE, "nan", "inf"))
numeric(SL_BASE, "--epochs", ("-1", HUGE, "nan", "inf"))
numeric(SL_BASE, "--steps", ("-1", HUGE + "000", "nan", "inf"))
numeric(SL_BASE, "--batch-size", ("0", "-1", HUGE, "nan", "inf"))
numeric(SL_BASE, "--lr", ("0", "-1", "1e300", "nan", "inf"))
numeric(SL_BASE, "--seed", ("-1", HUGE + "000000000", "nan", "inf"))
numeric(SL_BASE, "--device", ("foo", "cuda:99", "cpu:x"))
ROLLOUT_BASE = ("train-rollout", "--data", "{dir}", "--out", "out")
numeric(ROLLOUT_BASE, "--size", ("0", "-1", HUGE, "nan", "inf"))
numeric(ROLLOUT_BASE, "--epochs", ("0", "-1", HUGE, "nan", "inf"))
numeric(ROLLOUT_BASE, "--batch-size", ("0", "-1", HUGE, "nan", "inf"))
numeric(ROLLOUT_BASE, "--lr", ("0", "-1", "1e300", "nan", "inf"))
numeric(ROLLOUT_BASE, "--threads", ("0", "-1", HUGE, "nan", "inf"))
numeric(ROLLOUT_BASE, "--seed", ("-1", HUGE + "000000000", "nan", "inf"))
ACCURACY_BASE = ("accuracy", "--weights", "{binary}", "--sgf", "{sgfdir}")
numeric(ACCURACY_BASE, "--batch-size", ("0", "-1", HUGE, "nan", "inf"))
numeric(ACCURACY_BASE, "--threads", ("0", "-1", HUGE, "nan", "inf"))
numeric(ACCURACY_BASE, "--device", ("foo", "cuda:99"))
for base in (GTP_BASE, ("play", "--no-records")):
    numeric((*base, "--config", "configs/search/p.yaml", "--weights", "{binary}"), "--device", ("foo", "cuda:99"))


@pytest.mark.parametrize("bad", NUMERIC_CASES, ids=str)
def test_bad_numbers_fail_in_one_sentence(bad: Case, paths: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = run_in_process(list(bad.argv), capsys)
    assert_one_sentence_failure(rc, err, bad.mentions, paths)


# Values a command accepts: it runs (here to the end of an empty input) or fails later in one sentence.
ACCEPTED_CASES = [
    case(*GTP_BASE, "--seed", "0"),
    case(*GTP_BASE, "--seed", HUGE),
    case(*GTP_BASE, "--komi", "0"),
    case(*GTP_BASE, "--komi", "-1"),
    case(*GTP_BASE, "--resign", "0"),
    case(*GTP_BASE, "--visits", "1", "--threads", "256"),
    case(*GTP_BASE, "--sgf-dir", "{missing}"),
    case("play", "--no-records", "--seed", "0", "--komi", "-1"),
    case("play", "--sgf-dir", "{missing}", "--seed", HUGE),
]


@pytest.mark.parametrize("ok", ACCEPTED_CASES, ids=str)
def test_accepted_values_run(ok: Case, paths: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = run_in_process(list(ok.argv), capsys)
    assert rc == 0, err
    assert "Traceback" not in err
    assert (paths / "kept.txt").read_bytes() == KEEP


def test_accepted_seeds_reach_the_next_check(paths: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Seed 0 and a huge seed are valid: the command goes on and fails, in one sentence, on the missing data."""
    for argv in (["train-sl", "--data", "{missing}", "--out", "out", "--seed", "0"],
                 ["train-rollout", "--data", "{missing}", "--out", "out", "--seed", HUGE],
                 ["match", "--black", "gtp:{missing}", "--white", "gnugo:0", "--out", "out", "--seed", "0"]):
        rc, err = run_in_process(argv, capsys)
        assert_one_sentence_failure(rc, err, "nowhere", paths)


# A few as real subprocesses: the module entry point, the exit code and stderr exactly as a user sees them.
SUBPROCESS_CASES = [
    case("match", "--black", "gnugo:1", "--white", "gnugo:0", "--out", "{file}", mentions="kept.txt"),
    case("gtp", "--config", "configs/search/p.yaml", "--weights", "{binary}", "--device", "foo", mentions="device"),
    case("train", "--config", "{binary}", "--run-dir", "run", mentions="binary.bin"),
    case("train-sl", "--config", "{badyaml}", "--data", "{dir}", "--out", "out", mentions="bad.yaml"),
]


@pytest.mark.parametrize("bad", SUBPROCESS_CASES, ids=str)
def test_bad_input_as_a_user_runs_it(bad: Case, paths: Path) -> None:
    env = {**os.environ, "HOME": str(paths), "PYTHONPATH": str(REPO)}
    env.pop("XDG_DATA_HOME", None)
    proc = subprocess.run([sys.executable, "-m", "tengen_cli", *expand(list(bad.argv))], cwd=paths, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr
    assert_one_sentence_failure(proc.returncode, proc.stderr, bad.mentions, paths)


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch, paths: Path) -> None:
    from tengen_cli import play

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(play, "cmd_gtp", interrupted)
    assert main(["gtp"]) == 130


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch, paths: Path) -> None:
    """Only user-facing errors become one sentence: anything else escapes main (and prints a traceback)."""
    from tengen_cli import play

    def buggy(args: object) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(play, "cmd_gtp", buggy)
    with pytest.raises(ZeroDivisionError):
        main(["gtp"])


def test_core_exceptions_become_one_sentence() -> None:
    """A ValueError from the C++ core (pybind11's std::invalid_argument) inside core_errors is a TengenError."""
    from engine import _core
    from engine.errors import CoreError, TengenError, core_errors

    with pytest.raises(CoreError, match=r"^a 1x1 board: \S") as caught, core_errors("a 1x1 board"):
        _core.Game(1, 7.5)
    assert isinstance(caught.value, TengenError) and isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)
    with pytest.raises(ZeroDivisionError), core_errors("anything"):  # not the core's: a bug, left alone
        _ = 1 / 0
