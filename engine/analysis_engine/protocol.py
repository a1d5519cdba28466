"""KataGo's JSON analysis-engine protocol: one input line -> a typed request, results -> dicts.

One JSON object per line each way (KataGo's docs/Analysis_Engine.md). `parse_line` turns a line
into a `Query` (positions to analyse), an `Action` (query_version, clear_cache, terminate,
terminate_all) or a `Problem` (an error answer), plus warnings for unknown keys. Every position a
query asks for is built and checked here (sizes, rules, komi, legal moves), so the scheduler only
ever sees searchable games. The `*_response` functions build the answer dicts; `to_json` writes
one line (never NaN or infinity).

Conventions (tengen's own, said once here):
  * Board order of `ownership` and `policy`: row by row from the TOP row (A19 ... T1 on 19x19),
    which is tengen's dense index order x + y*size (engine.coords: y = 0 is the top row); the
    policy has the pass last and -1 on illegal moves.
  * Perspective: KataGo reports every value from the side its config's `reportAnalysisWinratesAs`
    names, and its shipped analysis_example.cfg says BLACK; tengen does the same by default
    (chosen with `tengen analysis --report-as`). A flipped value is 1 - v (winrate, and lcb, which
    then bounds the reported winrate from above), -v (scoreLead, ownership).
  * Rules: tengen scores by area with positional superko. Accepted: tromp-taylor (suicide legal)
    and chinese (no suicide; KataGo's simple ko is played as positional superko). Territory
    scoring (japanese, korean), AGA / New Zealand (situational superko, pass stones) and rules
    given as JSON objects are errors.

Thread rule: pure functions and frozen values; any thread may call them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine import _core
from engine.analysis import lcb
from engine.coords import format_vertex, parse_vertex

MAX_KOMI = 150.0  # KataGo's bound on |komi|
MAX_VISITS = 1_000_000_000  # the search counts visits in 32-bit integers
MAX_TURNS = 10_000  # most turns one query may ask for
PERSPECTIVES = ("BLACK", "WHITE", "SIDETOMOVE")
ACTIONS = ("query_version", "clear_cache", "terminate", "terminate_all")

# Rule names (lowercased, '-', '_' and spaces removed) -> suicide legal.
_RULES: dict[str, bool] = {"tromptaylor": True, "chinese": False, "chineseogs": False,
                           "chinesekgs": False}
_REFUSED_RULES = {
    "japanese": "territory scoring", "korean": "territory scoring", "stonescoring": "stone scoring",
    "aga": "AGA rules (situational superko, pass stones)", "bga": "AGA rules (situational superko, pass stones)",
    "frenchrules": "AGA rules (situational superko, pass stones)", "french": "AGA rules",
    "newzealand": "New Zealand rules (situational superko)", "nz": "New Zealand rules (situational superko)",
    "agabutton": "a button",
}
QUERY_KEYS = frozenset({
    "id", "moves", "initialStones", "initialPlayer", "rules", "komi", "boardXSize", "boardYSize",
    "analyzeTurns", "maxVisits", "includeOwnership", "includePolicy", "priority", "priorities",
    "avoidMoves", "allowMoves",
})
# KataGo keys tengen knows and accepts without acting on them (answered with a warning that says so).
IGNORED_KEYS = frozenset({
    "rootPolicyTemperature", "rootFpuReductionMax", "includeMovesOwnership", "includeOwnershipStdev",
    "includeMovesOwnershipStdev", "includePVVisits", "overrideSettings", "reportDuringSearchEvery",
    "whiteHandicapBonus", "analysisPVLen", "includeNoResultValue",
})
_COLORS = {"B": _core.BLACK, "BLACK": _core.BLACK, "W": _core.WHITE, "WHITE": _core.WHITE}
_XY = re.compile(r"^\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


class ProtocolError(Exception):
    """One query field is wrong: the message says how; `field` names it when there is one."""

    def __init__(self, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class Problem:
    """An `error` or `warning` answer: for the query `id` (None when the line had none) and `field`."""

    kind: str  # "error" | "warning"
    message: str
    id: str | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        out[self.kind] = self.message
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass(frozen=True)
class MoveFilter:
    """One avoidMoves / allowMoves entry: `player`'s `moves` (dense indices), before ply `until_depth`."""

    player: int
    moves: frozenset[int]
    until_depth: int


@dataclass(frozen=True)
class Position:
    """One turn to analyse: its number, the game at it (player to move set) and its priority."""

    turn: int
    game: _core.Game
    priority: int


@dataclass(frozen=True, kw_only=True)
class Query:
    """An analysis query, checked: every position in `positions` is legal and of size `size`."""

    id: str
    size: int
    komi: float
    rules: str  # the accepted rule name as given
    positions: tuple[Position, ...]
    max_visits: int | None  # None: the engine's default
    include_ownership: bool = False
    include_policy: bool = False
    avoid: tuple[MoveFilter, ...] = ()
    allow: tuple[MoveFilter, ...] = ()

    def allowed_at_root(self, player: int, move: int) -> bool:
        """Whether `move` of `player` may be reported/chosen at the root (depth 1)."""
        for f in self.avoid:
            if f.player == player and f.until_depth >= 1 and move in f.moves:
                return False
        return all(not (f.player == player and f.until_depth >= 1 and move not in f.moves) for f in self.allow)


@dataclass(frozen=True, kw_only=True)
class Action:
    """A special action; `echo` is the query's own fields, sent back as KataGo does."""

    id: str
    action: str
    echo: Mapping[str, Any]
    terminate_id: str | None = None  # terminate: the query id to stop
    turn_numbers: frozenset[int] | None = None  # terminate / terminate_all: only these turns


@dataclass(frozen=True)
class Parsed:
    """What one input line is: a request or an error, and warnings either way."""

    request: Query | Action | None
    error: Problem | None = None
    warnings: tuple[Problem, ...] = field(default=())


# ------------------------------------------------------------------------------------ parsing


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(data: Mapping[str, Any], key: str, lo: int, hi: int, default: int | None = None) -> int | None:
    if key not in data:
        return default
    v = data[key]
    if not _is_int(v):
        raise ProtocolError(f"{key} must be an integer", key)
    if not lo <= v <= hi:
        raise ProtocolError(f"{key} must be in {lo}..{hi}, got {v}", key)
    return int(v)


def _bool(data: Mapping[str, Any], key: str) -> bool:
    v = data.get(key, False)
    if not isinstance(v, bool):
        raise ProtocolError(f"{key} must be true or false", key)
    return v


def _color(v: object, key: str) -> int:
    if not isinstance(v, str) or v.upper() not in _COLORS:
        raise ProtocolError(f"{key}: a player must be \"B\" or \"W\", got {json.dumps(v)}", key)
    return _COLORS[v.upper()]


def _vertex(v: object, size: int, key: str) -> int:
    if not isinstance(v, str):
        raise ProtocolError(f"{key}: a move must be a string like \"C3\" or \"pass\", got {json.dumps(v)}", key)
    m = _XY.match(v.strip())
    if m:
        x, y = int(m.group(1)), int(m.group(2))
        if x >= size or y >= size:
            raise ProtocolError(f"{key}: {v} is off the {size}x{size} board", key)
        return x + y * size
    try:
        return parse_vertex(v, size)
    except ValueError as exc:
        raise ProtocolError(f"{key}: {exc}", key) from None


def _stones(data: Mapping[str, Any], key: str, size: int) -> list[tuple[int, int]]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        raise ProtocolError(f"{key} must be a list of [player, move] pairs", key)
    out = []
    for item in raw:
        if not isinstance(item, list) or len(item) != 2:
            raise ProtocolError(f"{key} must be a list of [player, move] pairs, got {json.dumps(item)}", key)
        out.append((_color(item[0], key), _vertex(item[1], size, key)))
    return out


def _rules(data: Mapping[str, Any]) -> tuple[str, bool]:
    raw = data.get("rules", "tromp-taylor")
    if not isinstance(raw, str):
        raise ProtocolError("rules must be a rule name (tromp-taylor or chinese); tengen takes no JSON rule "
                            "objects", "rules")
    name = re.sub(r"[-_ ]", "", raw.lower())
    if name in _RULES:
        return raw, _RULES[name]
    why = _REFUSED_RULES.get(name)
    if why is not None:
        raise ProtocolError(f"tengen cannot play {raw} rules ({why}): it scores by area with positional "
                            "superko; use tromp-taylor or chinese", "rules")
    raise ProtocolError(f"unknown rules {json.dumps(raw)}: use tromp-taylor or chinese", "rules")


def _filters(data: Mapping[str, Any], key: str, size: int) -> tuple[MoveFilter, ...]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        raise ProtocolError(f"{key} must be a list of {{player, moves, untilDepth}} objects", key)
    if key == "allowMoves" and len(raw) > 1:
        raise ProtocolError("allowMoves takes at most one entry", key)
    out = []
    for entry in raw:
        if not isinstance(entry, dict) or set(entry) - {"player", "moves", "untilDepth"}:
            raise ProtocolError(f"{key} entries must be {{player, moves, untilDepth}} objects", key)
        if "player" not in entry or "moves" not in entry or "untilDepth" not in entry:
            raise ProtocolError(f"{key} entries need player, moves and untilDepth", key)
        moves = entry["moves"]
        if not isinstance(moves, list):
            raise ProtocolError(f"{key}: moves must be a list of vertices", key)
        depth = entry["untilDepth"]
        if not _is_int(depth) or depth < 1:
            raise ProtocolError(f"{key}: untilDepth must be a positive integer", key)
        out.append(MoveFilter(_color(entry["player"], key), frozenset(_vertex(m, size, key) for m in moves),
                              int(depth)))
    return tuple(out)


def _query_id(data: Mapping[str, Any]) -> str:
    if "id" not in data:
        raise ProtocolError("every query needs an id (a string)", "id")
    qid = data["id"]
    if not isinstance(qid, str):
        raise ProtocolError("id must be a string", "id")
    return qid


def _turns(data: Mapping[str, Any], num_moves: int) -> list[int]:
    if "analyzeTurns" not in data:
        return [num_moves]
    raw = data["analyzeTurns"]
    if not isinstance(raw, list) or not raw or len(raw) > MAX_TURNS:
        raise ProtocolError(f"analyzeTurns must be a list of 1..{MAX_TURNS} turn numbers", "analyzeTurns")
    for t in raw:
        if not _is_int(t) or not 0 <= t <= num_moves:
            raise ProtocolError(f"analyzeTurns: turns are integers in 0..{num_moves} (the number of moves), "
                                f"got {json.dumps(t)}", "analyzeTurns")
    return list(dict.fromkeys(int(t) for t in raw))


def _komi(data: Mapping[str, Any]) -> float:
    raw = data.get("komi", _core.DEFAULT_KOMI)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ProtocolError("komi must be a number", "komi")
    komi = float(raw)
    if not math.isfinite(komi) or abs(komi) > MAX_KOMI:
        raise ProtocolError(f"komi must be a finite number in [-{MAX_KOMI:g}, {MAX_KOMI:g}], got {raw}", "komi")
    if komi * 2 != int(komi * 2):
        raise ProtocolError(f"komi must be an integer or half-integer, got {raw}", "komi")
    return komi


def _size(data: Mapping[str, Any]) -> int:
    for key in ("boardXSize", "boardYSize"):
        if key not in data:
            raise ProtocolError(f"{key} is required", key)
    x = _int(data, "boardXSize", 1, 10_000)
    y = _int(data, "boardYSize", 1, 10_000)
    if x != y:
        raise ProtocolError(f"tengen plays square boards only, got {x}x{y}", "boardYSize")
    assert x is not None
    if not _core.MIN_SIZE <= x <= _core.MAX_SIZE:
        raise ProtocolError(f"board size must be in {_core.MIN_SIZE}..{_core.MAX_SIZE}, got {x}", "boardXSize")
    return x


def _positions(data: Mapping[str, Any], size: int, komi: float, suicide: bool) -> tuple[Position, ...]:
    stones = _stones(data, "initialStones", size)
    moves = _stones(data, "moves", size)
    if "moves" not in data:
        raise ProtocolError("moves is required (a list of [player, move] pairs; [] for none)", "moves")
    initial = _color(data["initialPlayer"], "initialPlayer") if "initialPlayer" in data else None
    turns = _turns(data, len(moves))
    priority = _int(data, "priority", -(2**31), 2**31 - 1, 0)
    assert priority is not None
    priorities: list[int] = [priority] * len(turns)
    if "priorities" in data:
        raw = data["priorities"]
        if not isinstance(raw, list) or len(raw) != len(turns) or not all(_is_int(p) for p in raw):
            raise ProtocolError("priorities must be a list of integers, one per analyzeTurns entry", "priorities")
        priorities = [int(p) for p in raw]
    wanted = dict(zip(turns, priorities, strict=True))
    game = _core.Game(size, komi, True, suicide)
    for color, move in stones:
        if move == size * size or not game.place_setup_stone(color, move):
            raise ProtocolError(f"initialStones: cannot place {format_vertex(move, size)} (pass, taken or "
                                "without liberties)", "initialStones")
    out: list[Position] = []
    for turn in range(len(moves) + 1):
        if turn < len(moves):
            game.to_move = moves[turn][0]
        elif turn > 0:
            game.to_move = _core.BLACK + _core.WHITE - moves[turn - 1][0]
        else:
            game.to_move = _core.BLACK
        if turn == 0 and initial is not None:
            game.to_move = initial
        if turn in wanted:
            out.append(Position(turn=turn, game=game.copy(), priority=wanted[turn]))
        if turn < len(moves):
            color, move = moves[turn]
            why = game.illegal_reason(color, move)
            if why is not None:
                raise ProtocolError(f"moves: illegal move {turn + 1} ({'B' if color == _core.BLACK else 'W'} "
                                    f"{format_vertex(move, size)}): {why}", "moves")
            game.play(color, move)
    out.sort(key=lambda p: turns.index(p.turn))
    return tuple(out)


def _action(data: Mapping[str, Any], qid: str) -> Action:
    name = data["action"]
    if name not in ACTIONS:
        raise ProtocolError(f"unknown action {json.dumps(name)}: one of {', '.join(ACTIONS)}", "action")
    terminate_id = None
    turns = None
    if name == "terminate":
        terminate_id = data.get("terminateId")
        if not isinstance(terminate_id, str):
            raise ProtocolError("terminate needs terminateId (a string)", "terminateId")
    if name in ("terminate", "terminate_all") and "turnNumbers" in data:
        raw = data["turnNumbers"]
        if not isinstance(raw, list) or not all(_is_int(t) and t >= 0 for t in raw):
            raise ProtocolError("turnNumbers must be a list of turn numbers", "turnNumbers")
        turns = frozenset(int(t) for t in raw)
    return Action(id=qid, action=name, echo=dict(data), terminate_id=terminate_id, turn_numbers=turns)


def parse_request(data: Mapping[str, Any]) -> Query | Action:
    """A request from one decoded JSON object; raises ProtocolError on the first bad field."""
    qid = _query_id(data)
    if "action" in data:
        return _action(data, qid)
    size = _size(data)
    rules, suicide = _rules(data)
    komi = _komi(data)
    positions = _positions(data, size, komi, suicide)
    max_visits = _int(data, "maxVisits", 1, MAX_VISITS)
    return Query(id=qid, size=size, komi=komi, rules=rules, positions=positions, max_visits=max_visits,
                 include_ownership=_bool(data, "includeOwnership"), include_policy=_bool(data, "includePolicy"),
                 avoid=_filters(data, "avoidMoves", size), allow=_filters(data, "allowMoves", size))


def parse_line(line: str) -> Parsed:
    """One input line: a request, or an error answer (id included when the line had a string id)."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return Parsed(None, Problem("error", f"could not parse the line as JSON: {exc}"))
    if not isinstance(data, dict):
        return Parsed(None, Problem("error", "a query must be a JSON object"))
    qid = data.get("id") if isinstance(data.get("id"), str) else None
    warnings: list[Problem] = []
    if "action" not in data:
        for key in sorted(set(data) - QUERY_KEYS):
            if key in IGNORED_KEYS:
                msg = f"tengen does not support {key}; it is ignored"
            else:
                msg = f"unknown field {key}; it is ignored"
            warnings.append(Problem("warning", msg, qid, key))
    try:
        return Parsed(parse_request(data), None, tuple(warnings))
    except ProtocolError as exc:
        return Parsed(None, Problem("error", str(exc), qid, exc.field), tuple(warnings))
    except (ValueError, RuntimeError) as exc:  # the core refused a position it was given
        return Parsed(None, Problem("error", f"bad position: {exc}", qid), tuple(warnings))


# ------------------------------------------------------------------------------------ responses


@dataclass(frozen=True)
class MoveStats:
    """One root move after a search, for the player to move at the root."""

    move: int
    visits: int
    winrate: float  # [0, 1]
    prior: float  # the search's policy probability of the move
    pv: tuple[int, ...]  # starts with `move`
    score_lead: float | None = None  # points, for the player to move


@dataclass(frozen=True, kw_only=True)
class TurnResult:
    """What the scheduler found for one position; values for the player to move at it."""

    query_id: str
    turn: int
    to_move: int
    size: int
    visits: int
    winrate: float
    moves: tuple[MoveStats, ...]  # best first
    score_lead: float | None = None
    ownership: Sequence[float] | None = None  # black's side, board order
    policy: Sequence[float] | None = None  # probabilities (-1 illegal), board order then pass
    this_hash: int | None = None


def _sign(perspective: str, to_move: int) -> float:
    """+1 when values for the player to move are reported as they are, -1 when flipped."""
    if perspective == "SIDETOMOVE":
        return 1.0
    want = _core.BLACK if perspective == "BLACK" else _core.WHITE
    return 1.0 if to_move == want else -1.0


def _finite(x: float, default: float = 0.0) -> float:
    return float(x) if math.isfinite(x) else default


def _wr(winrate: float, sign: float) -> float:
    w = _finite(winrate, 0.5)
    return w if sign > 0 else 1.0 - w


def turn_response(r: TurnResult, perspective: str = "BLACK") -> dict[str, Any]:
    """The final (isDuringSearch false) answer for one analysed turn, from `perspective`."""
    sign = _sign(perspective, r.to_move)
    infos = []
    priors = [max(0.0, _finite(m.prior)) for m in r.moves]
    total = sum(priors)
    scale = min(1.0, (1.0 - 1e-7) / total) if total > 0 else 1.0  # float sums: never above 1
    for order, (m, prior) in enumerate(zip(r.moves, priors, strict=True)):
        info: dict[str, Any] = {
            "move": format_vertex(m.move, r.size),
            "visits": int(m.visits),
            "winrate": _wr(m.winrate, sign),
            "prior": prior * scale,
            "lcb": _wr(lcb(_finite(m.winrate, 0.5), m.visits), sign),
            "order": order,
            "pv": [format_vertex(p, r.size) for p in (m.pv or (m.move,))],
        }
        if m.score_lead is not None:
            info["scoreLead"] = sign * _finite(m.score_lead)
            info["scoreMean"] = info["scoreLead"]
        infos.append(info)
    root: dict[str, Any] = {
        "visits": int(r.visits),
        "winrate": _wr(r.winrate, sign),
        "currentPlayer": "B" if r.to_move == _core.BLACK else "W",
    }
    if r.score_lead is not None:
        root["scoreLead"] = sign * _finite(r.score_lead)
    if r.this_hash is not None:
        root["thisHash"] = f"{r.this_hash & (2**64 - 1):016X}"
    out: dict[str, Any] = {"id": r.query_id, "turnNumber": r.turn, "isDuringSearch": False,
                           "moveInfos": infos, "rootInfo": root}
    if r.ownership is not None:
        own_sign = 1.0 if perspective == "BLACK" else -1.0 if perspective == "WHITE" else (
            1.0 if r.to_move == _core.BLACK else -1.0)
        out["ownership"] = [own_sign * _finite(v) for v in r.ownership]
    if r.policy is not None:
        out["policy"] = [_finite(v, -1.0) for v in r.policy]
    return out


def no_results_response(query_id: str, turn: int) -> dict[str, Any]:
    """The answer for a turn terminated before any analysis."""
    return {"id": query_id, "turnNumber": turn, "isDuringSearch": False, "noResults": True}


def version_response(action: Action, version: str, git_hash: str) -> dict[str, Any]:
    """query_version: the query echoed with version and git_hash."""
    return {**action.echo, "version": version, "git_hash": git_hash}


def to_json(obj: Mapping[str, Any]) -> str:
    """One output line (no newline): compact JSON, never NaN or infinity."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)
