"""`tengen analysis` driven as a client that knows only KataGo's documented analysis-engine format:
JSON lines to a subprocess's stdin, JSON lines back. One engine process (a tiny random net with
aux heads, 5x5) serves most tests; a network-free one (`--no-net`, light-playout ownership and
rollouts) checks ownership order, priorities and end of input."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.nets import NetConfig, build_net
from engine.weights import save_weights

REPO = Path(__file__).resolve().parents[1]
SIZE = 5
TIMEOUT = 40.0


class Client:
    """A JSON-lines client of one `tengen analysis` process."""

    def __init__(self, *flags: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tengen_cli", "analysis", *flags], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
        )
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            text = raw.decode()
            with self.cond:
                self.raw.append(text)
                self.lines.append(json.loads(text))  # every output line must be JSON
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def send(self, *items: dict[str, Any] | str) -> None:
        """Writes the items (objects as JSON, strings as they are) in one write."""
        assert self.proc.stdin is not None
        text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in items)
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait(self, pred: Callable[[list[dict[str, Any]]], bool], timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        end = time.monotonic() + timeout
        with self.cond:
            while not pred(self.lines):
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not pred(self.lines):
                    ended = self.proc.poll() is not None and self.proc.stderr is not None
                    stderr = self.proc.stderr.read().decode() if ended and self.proc.stderr else ""
                    raise AssertionError(f"timed out; got {self.lines[-5:]}; stderr {stderr[-2000:]}")
                self.cond.wait(min(left, 0.5))
            return list(self.lines)

    def of(self, qid: str) -> list[dict[str, Any]]:
        with self.cond:
            return [x for x in self.lines if x.get("id") == qid]

    def results(self, qid: str, n: int) -> list[dict[str, Any]]:
        """Waits for n final results of query qid (errors fail the wait at once)."""
        def done(lines: list[dict[str, Any]]) -> bool:
            mine = [x for x in lines if x.get("id") == qid]
            assert not any("error" in x for x in mine), mine
            return sum(1 for x in mine if "turnNumber" in x) >= n

        self.wait(done)
        return [x for x in self.of(qid) if "turnNumber" in x]

    def error_of(self, qid: str | None, before: int) -> dict[str, Any]:
        lines = self.wait(lambda ls: any("error" in x and x.get("id") == qid for x in ls[before:]))
        return next(x for x in lines[before:] if "error" in x and x.get("id") == qid)

    def close(self) -> int:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def query(qid: str, moves: list[list[str]] | None = None, **extra: Any) -> dict[str, Any]:
    q: dict[str, Any] = {"id": qid, "moves": moves or [], "rules": "tromp-taylor", "komi": 7.5,
                         "boardXSize": SIZE, "boardYSize": SIZE, "maxVisits": 40}
    q.update(extra)
    return q


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    torch.manual_seed(0)
    net = build_net(NetConfig(architecture="policy_value", board_size=SIZE, feature_set="raw", blocks=1, channels=8,
                              value_hidden=8, stem_kernel=3, aux_heads=True))
    weights = tmp_path_factory.mktemp("analysis") / "tiny.safetensors"
    save_weights(weights, net)
    client = Client("--weights", str(weights), "--device", "cpu", "--max-batch", "16")
    yield client
    assert client.close() == 0


GAME = [["B", "C3"], ["W", "D4"], ["B", "B2"], ["W", "pass"]]


def test_analyze_turns_of_one_game(engine: Client) -> None:
    engine.send(query("turns", GAME, analyzeTurns=[0, 2, 4], maxVisits=60))
    res = engine.results("turns", 3)
    assert sorted(r["turnNumber"] for r in res) == [0, 2, 4]
    for r in res:
        assert r["isDuringSearch"] is False
        assert r["rootInfo"]["visits"] >= 60
        assert r["rootInfo"]["currentPlayer"] == ("B" if r["turnNumber"] % 2 == 0 else "W")
        assert isinstance(r["rootInfo"]["scoreLead"], float)  # the net has a score head
        infos = r["moveInfos"]
        assert infos and [m["order"] for m in infos] == list(range(len(infos)))
        assert sum(m["prior"] for m in infos) <= 1.0
        assert all(0.0 <= m["prior"] <= 1.0 and 0.0 <= m["winrate"] <= 1.0 for m in infos)
        assert all(m["pv"][0] == m["move"] and "scoreLead" in m for m in infos)
        assert sum(m["visits"] for m in infos) <= r["rootInfo"]["visits"]
        visits = [m["visits"] for m in infos]
        assert visits == sorted(visits, reverse=True)
    occupied = {"C3", "D4", "B2"}
    turn4 = next(r for r in res if r["turnNumber"] == 4)
    assert not occupied & {m["move"] for m in turn4["moveInfos"]}
    assert max(len(m["pv"]) for r in res for m in r["moveInfos"]) > 1


def test_priors_sum_to_at_most_one_with_many_visits(engine: Client) -> None:
    engine.send(query("wide", maxVisits=400))
    (r,) = engine.results("wide", 1)
    assert len(r["moveInfos"]) >= 5
    assert sum(m["prior"] for m in r["moveInfos"]) <= 1.0
    assert max(len(m["pv"]) for m in r["moveInfos"]) >= 3


def test_policy_and_ownership_shapes(engine: Client) -> None:
    engine.send(query("pol", [["B", "C3"], ["W", "A1"]], includePolicy=True, includeOwnership=True, maxVisits=10))
    (r,) = engine.results("pol", 1)
    policy = r["policy"]
    assert len(policy) == SIZE * SIZE + 1
    # Row by row from the top: C3 is row 3 of 5 -> index (5-3)*5 + 2; A1 is the bottom-left point.
    assert policy[(SIZE - 3) * SIZE + 2] == -1 and policy[(SIZE - 1) * SIZE + 0] == -1
    legal = [p for p in policy if p != -1]
    assert len(legal) == SIZE * SIZE - 2 + 1 and abs(sum(legal) - 1.0) < 1e-4 and min(legal) >= 0
    assert len(r["ownership"]) == SIZE * SIZE and all(-1 <= v <= 1 for v in r["ownership"])


def test_avoid_and_allow_moves_restrict_the_root(engine: Client) -> None:
    engine.send(query("avoid", maxVisits=80, avoidMoves=[{"player": "B", "moves": ["C3", "pass"], "untilDepth": 1}]),
                query("allow", maxVisits=30, allowMoves=[{"player": "B", "moves": ["A1", "B1"], "untilDepth": 1}]))
    (avoid,) = engine.results("avoid", 1)
    (allow,) = engine.results("allow", 1)
    assert avoid["moveInfos"] and not {"C3", "pass"} & {m["move"] for m in avoid["moveInfos"]}
    assert allow["moveInfos"] and {m["move"] for m in allow["moveInfos"]} <= {"A1", "B1"}


BAD_LINES: list[tuple[str | None, str]] = [
    (None, "this is not json"),
    (None, "[1, 2, 3]"),
    (None, json.dumps({"moves": [], "boardXSize": 5, "boardYSize": 5})),  # no id
    ("e-size", json.dumps(query("e-size", boardXSize=5, boardYSize=7))),  # not square
    ("e-big", json.dumps(query("e-big", boardXSize=40, boardYSize=40))),  # too large
    ("e-komi", json.dumps(query("e-komi", komi=1e400))),  # json: Infinity
    ("e-komi2", '{"id":"e-komi2","moves":[],"boardXSize":5,"boardYSize":5,"komi":NaN}'),
    ("e-komi3", json.dumps(query("e-komi3", komi="7.5"))),
    ("e-illegal", json.dumps(query("e-illegal", [["B", "C3"], ["W", "C3"]]))),
    ("e-vertex", json.dumps(query("e-vertex", [["B", "Z9"]]))),
    ("e-player", json.dumps(query("e-player", [["X", "C3"]]))),
    ("e-rules", json.dumps(query("e-rules", rules="japanese"))),
    ("e-rules2", json.dumps(query("e-rules2", rules="no-such-rules"))),
    ("e-turns", json.dumps(query("e-turns", analyzeTurns=[0, 9]))),
    ("e-visits", json.dumps(query("e-visits", maxVisits=0))),
    ("e-type", json.dumps(query("e-type", includeOwnership="yes"))),
    ("e-action", json.dumps({"id": "e-action", "action": "fly"})),
    ("e-term", json.dumps({"id": "e-term", "action": "terminate"})),
]


def test_every_bad_line_gets_an_error_and_the_engine_keeps_serving(engine: Client) -> None:
    before = len(engine.wait(lambda ls: True))
    for qid, line in BAD_LINES:
        engine.send(line)
        err = engine.error_of(qid, before)
        assert isinstance(err["error"], str) and err["error"]
        if qid is None:
            assert "id" not in err
    errors = [x for x in engine.wait(lambda ls: True)[before:] if "error" in x]
    assert len(errors) == len(BAD_LINES)  # one answer per bad line, nothing else failed
    engine.send(query("after-errors", maxVisits=5, fancyNewField=3))
    (r,) = engine.results("after-errors", 1)
    assert r["moveInfos"]
    warn = [x for x in engine.of("after-errors") if "warning" in x]
    assert warn and warn[0]["field"] == "fancyNewField"


def test_query_version(engine: Client) -> None:
    engine.send({"id": "v", "action": "query_version"})
    engine.wait(lambda ls: any(x.get("id") == "v" for x in ls))
    (v,) = engine.of("v")
    assert v["action"] == "query_version" and isinstance(v["version"], str) and isinstance(v["git_hash"], str)
    engine.send({"id": "cc", "action": "clear_cache"}, query("after-clear", maxVisits=5))
    engine.wait(lambda ls: any(x.get("id") == "cc" for x in ls))
    assert engine.of("cc") == [{"id": "cc", "action": "clear_cache"}]
    assert engine.results("after-clear", 1)[0]["moveInfos"]


def test_terminate_stops_a_long_search(engine: Client) -> None:
    engine.send(query("long", GAME, analyzeTurns=[1, 2, 3], maxVisits=1_000_000))
    time.sleep(0.5)
    start = time.monotonic()
    engine.send({"id": "stop", "action": "terminate", "terminateId": "long"})
    res = engine.results("long", 3)
    assert time.monotonic() - start < 15
    assert engine.of("stop")[0]["terminateId"] == "long"
    for r in res:
        assert r["isDuringSearch"] is False
        assert r.get("noResults") is True or r["rootInfo"]["visits"] < 1_000_000
    engine.send(query("after-terminate", maxVisits=5))
    assert engine.results("after-terminate", 1)[0]["moveInfos"]
    engine.send(query("long2", maxVisits=1_000_000), query("long3", maxVisits=1_000_000))
    time.sleep(0.3)
    engine.send({"id": "stop-all", "action": "terminate_all"})
    assert len(engine.results("long2", 1) + engine.results("long3", 1)) == 2


def test_sixteen_queries_in_flight_all_answered(engine: Client) -> None:
    openings = ["A1", "B2", "C3", "D4", "E5", "A5", "E1", "B4", "D2", "C1", "C5", "A3", "E3", "B3", "D3", "C2"]
    engine.send(*[query(f"many-{i}", [["B", v]], maxVisits=30) for i, v in enumerate(openings)])
    for i, v in enumerate(openings):
        (r,) = engine.results(f"many-{i}", 1)
        assert r["rootInfo"]["currentPlayer"] == "W" and v not in {m["move"] for m in r["moveInfos"]}


@pytest.fixture(scope="module")
def playouts() -> Iterator[Client]:
    client = Client("--no-net", "--max-batch", "1", "--visits", "20")
    yield client
    client.close()


def test_ownership_order_and_perspective_without_a_network(playouts: Client) -> None:
    black = [["B", f"{c}4"] for c in "ABCDE"]
    white = [["W", f"{c}2"] for c in "ABCDE"]
    playouts.send(query("own", initialStones=black + white, includeOwnership=True, maxVisits=10),
                  query("own-w", initialStones=black + white, initialPlayer="W", includeOwnership=True,
                        maxVisits=10))
    for qid, player in (("own", "B"), ("own-w", "W")):
        (r,) = playouts.results(qid, 1)
        own = r["ownership"]
        assert len(own) == SIZE * SIZE and r["rootInfo"]["currentPlayer"] == player
        top, bottom = own[:SIZE], own[-SIZE:]  # row 5 (Black's side), row 1 (White's side)
        assert min(top) > 0.3 and max(bottom) < -0.3, own  # Black's view whoever is to move
        assert "scoreLead" not in r["rootInfo"]  # no score head without a network


def test_priority_then_end_of_input_finishes_the_queue(playouts: Client) -> None:
    playouts.send(query("low", maxVisits=200), query("later", maxVisits=5), query("urgent", maxVisits=5, priority=5))
    playouts.proc.stdin.close()  # type: ignore[union-attr]
    assert playouts.proc.wait(timeout=TIMEOUT) == 0
    order = [x["id"] for x in playouts.wait(lambda ls: True) if "turnNumber" in x]
    # One game slot: "low" may start before the others arrive, but "urgent" always jumps "later".
    assert sorted(order[-3:]) == ["later", "low", "urgent"] and order.index("urgent") < order.index("later")
