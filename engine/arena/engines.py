"""Arena engine specs: typed, frozen descriptions of the GTP engines that play in the arena (the
config's `players`), loaded from YAML mappings (EngineSpec), and what they say about themselves
(EngineInfo, from probe_engine).

Three kinds, each run as a GTP subprocess (one per game, so games run in parallel and a crash
ends only its own game):

- `{name, kind: gtp, command: "..."}`: any engine a user has; `{seed}` and `{size}` in the
  command are replaced by the game's seed and board size.
- `{name, kind: gnugo, level: N}`: GnuGo 3.8 with Chinese (area) rules and `--seed`.
- `{name, kind: tengen, args: {...}}`: `python -m tengen_cli gtp` with one `--flag value` per
  entry of `args` (`visits: 200` -> `--visits 200`, `value_weights: v.safetensors` ->
  `--value-weights v.safetensors`, `foo: true` -> `--foo`, `foo: false` -> `--no-foo`). The
  arena adds `--size`, `--seed` and `--no-records` (it writes its own SGF) unless `args` sets
  them. Flags are checked against the options `tengen gtp` really offers and files named by
  `weights`, `value_weights`, `rollout_weights` and `config` must exist, so a player that needs something this
  build or checkout lacks (a network not trained yet) fails with a sentence naming it.

Timing (`timed_engine`, shared by the ladder's rated player and a tournament's equal time): a
tengen player gets `--seconds` and `--threads` in place of its own; other kinds keep their own
notion of effort (a GnuGo level, an external engine's command line). `TengenEngine.searches`
tells a player that searches from one that plays its network's move (search config visits: 1).
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.config import load_yaml
from engine.errors import ConfigError
from engine.gtp_client import GtpClient, GtpEngineDied, GtpError, find_gnugo, gnugo_command
from engine.gtp_flags import gtp_option_strings

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
MAX_GNUGO_LEVEL = 20

# Flags of `tengen gtp` the ablation suites rely on, with what each provides (for the message
# when a build's `tengen gtp` lacks one).
CAPABILITIES: Mapping[str, str] = {
    "--weights": "a policy (or policy+value) network",
    "--value-weights": "a separate value network",
    "--rollout-weights": "a trained rollout policy",
    "--config": "search settings: priors, value net, rollouts, lambda",
    "--seed": "seeded, reproducible search",
}
# Args naming files that must exist before a game starts.
FILE_ARGS = ("weights", "value_weights", "rollout_weights", "config")
NO_SEARCH_VISITS = 1  # a search config's visits that means no search: play the network's move


def check_keys(data: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    """Raises ConfigError naming the first key of `data` not in `allowed`."""
    for key in data:
        if key not in allowed:
            raise ConfigError(f"unknown key {key!r} in {where} (expected one of: {', '.join(allowed)})")


def check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigError(
            f"{where} needs a name of letters, digits and _.+- (at most 64 characters), got {name!r}"
        )
    return name


@dataclass(frozen=True)
class CommandEngine:
    """Any external GTP engine, started from its command line."""

    name: str
    command: tuple[str, ...]
    kind: ClassVar[str] = "gtp"

    def argv(self, seed: int, size: int) -> list[str]:
        return [part.replace("{seed}", str(seed)).replace("{size}", str(size)) for part in self.command]

    def problem(self) -> str | None:
        exe = self.command[0]
        if shutil.which(exe) is None and not os.access(exe, os.X_OK):
            return f"player {self.name!r}: command {exe!r} is not an executable file or on PATH"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "command": shlex.join(self.command)}


@dataclass(frozen=True)
class GnuGoEngine:
    """GnuGo at a level (0..20; 10 is its default and the AlphaGo paper's anchor)."""

    name: str
    level: int
    kind: ClassVar[str] = "gnugo"

    def argv(self, seed: int, size: int) -> list[str]:
        return gnugo_command(self.level, extra=("--seed", str(seed)))

    def problem(self) -> str | None:
        if find_gnugo() is None:
            return f"player {self.name!r} needs GnuGo, which is not installed (apt-get install gnugo)"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "level": self.level}


@dataclass(frozen=True)
class TengenEngine:
    """tengen's own GTP engine (`tengen gtp`) with search/network settings as flags."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()
    kind: ClassVar[str] = "tengen"

    def flags(self) -> list[str]:
        out: list[str] = []
        for key, value in self.args:
            flag = "--" + key.replace("_", "-")
            if value is True:
                out.append(flag)
            elif value is False:
                out.append("--no-" + key.replace("_", "-"))
            elif isinstance(value, tuple):
                out += [flag, *map(str, value)]
            else:
                out += [flag, str(value)]
        return out

    def argv(self, seed: int, size: int) -> list[str]:
        argv = [sys.executable, "-m", "tengen_cli", "gtp", *self.flags()]
        options = tengen_gtp_options()
        given = dict(self.args)
        if "--size" in options and "size" not in given:
            argv += ["--size", str(size)]  # networks refuse a size they were not trained for
        if "--seed" in options and "seed" not in given:
            argv += ["--seed", str(seed)]
        if "--no-records" in options and not {"sgf_dir", "no_records"} & given.keys():
            argv.append("--no-records")
        return argv

    def problem(self) -> str | None:
        options = tengen_gtp_options()
        for flag in self.flags():
            if not flag.startswith("--") or flag in options:
                continue
            if flag in CAPABILITIES:
                return (
                    f"player {self.name!r} needs `tengen gtp {flag}` ({CAPABILITIES[flag]}), "
                    "which this build's GTP player does not offer"
                )
            return f"player {self.name!r} passes {flag}, which `tengen gtp` does not accept"
        for key, value in self.args:
            if key in FILE_ARGS and not Path(str(value)).is_file():
                hint = "; train it first (the suite's config says how)" if key.endswith("weights") else ""
                return f"player {self.name!r} needs its {key} file {value}, which does not exist{hint}"
        return None

    def searches(self) -> bool:
        """Whether the player searches: False only when its search config (`config:`, the file
        `tengen gtp --config` reads, or its `search:` section) says `visits: 1`, the network's move
        without search. A config file that is missing or unreadable counts as searching; `problem()`
        names it before any game starts."""
        path = dict(self.args).get("config")
        if path is None:
            return True
        try:
            raw = load_yaml(str(path))
        except ConfigError:
            return True
        section = raw.get("search", raw)
        return not (isinstance(section, Mapping) and section.get("visits") == NO_SEARCH_VISITS)

    def to_dict(self) -> dict[str, Any]:
        args = {k: list(v) if isinstance(v, tuple) else v for k, v in self.args}
        return {"name": self.name, "kind": self.kind, "args": args}


EngineSpec = CommandEngine | GnuGoEngine | TengenEngine


def timed_engine(spec: EngineSpec, seconds: float, threads: int, *, drop: Sequence[str] = ()) -> EngineSpec:
    """`spec` with a fixed time per move: a tengen player gets `--seconds seconds --threads threads`
    in place of its own (and loses its args named in `drop`, e.g. a `visits` cap); other engines
    are returned unchanged."""
    if not isinstance(spec, TengenEngine):
        return spec
    args = tuple((k, v) for k, v in spec.args if k not in ("seconds", "threads", *drop))
    return TengenEngine(spec.name, (*args, ("seconds", seconds), ("threads", threads)))


def clocked_engine(spec: EngineSpec, threads: int) -> EngineSpec:
    """`spec` for play under a game clock: a tengen player gets `--threads threads` and loses its
    own `seconds` and `visits`, so the clock alone bounds a move; other engines are unchanged."""
    if not isinstance(spec, TengenEngine):
        return spec
    args = tuple((k, v) for k, v in spec.args if k not in ("seconds", "threads", "visits"))
    return TengenEngine(spec.name, (*args, ("threads", threads)))


@functools.lru_cache(maxsize=1)
def tengen_gtp_options() -> frozenset[str]:
    """Option strings of the `tengen gtp` subcommand (defined in engine.gtp_flags)."""
    return gtp_option_strings()


def _scalar(value: Any, where: str) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list) and all(isinstance(v, bool | int | float | str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where} must be a number, string, true/false or a list of those, got {value!r}")


def engine_from_dict(data: Any, where: str = "player") -> EngineSpec:
    """Builds a player spec from a YAML mapping; raises ConfigError on any mistake."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a mapping with name and kind, got {data!r}")
    kind = data.get("kind")
    name = check_name(data.get("name"), where)
    where = f"player {name!r}"
    if kind == "gtp":
        check_keys(data, ("name", "kind", "command"), where)
        command = data.get("command")
        if isinstance(command, str):
            argv = tuple(shlex.split(command))
        elif isinstance(command, list) and all(isinstance(c, str) for c in command):
            argv = tuple(command)
        else:
            raise ConfigError(f"{where} (kind gtp) needs command: the engine's command line")
        if not argv:
            raise ConfigError(f"{where} has an empty command")
        return CommandEngine(name, argv)
    if kind == "gnugo":
        check_keys(data, ("name", "kind", "level"), where)
        level = data.get("level", 10)
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= MAX_GNUGO_LEVEL:
            raise ConfigError(f"{where} needs a GnuGo level from 0 to {MAX_GNUGO_LEVEL}, got {level!r}")
        return GnuGoEngine(name, level)
    if kind == "tengen":
        check_keys(data, ("name", "kind", "args"), where)
        args = data.get("args") or {}
        if not isinstance(args, Mapping):
            raise ConfigError(f"{where}: args must be a mapping of flag: value")
        items = []
        for key, value in args.items():
            if not isinstance(key, str) or not re.match(r"^[a-z][a-z0-9_-]*$", key):
                raise ConfigError(f"{where}: {key!r} is not a flag name (lower case, digits, _ or -)")
            if value is None:
                continue
            items.append((key, _scalar(value, f"{where} arg {key!r}")))
        return TengenEngine(name, tuple(items))
    raise ConfigError(f"{where} has kind {kind!r}; expected gtp, gnugo or tengen")


def parse_inline_engine(text: str) -> EngineSpec:
    """A player from the command line: `gnugo:LEVEL`, `tengen[:key=value,...]`, `gtp:COMMAND`,
    or a YAML flow mapping such as `{name: g3, kind: gnugo, level: 3}`."""
    import yaml

    text = text.strip()
    if text.startswith("{"):
        try:
            return engine_from_dict(yaml.safe_load(text), f"player {text!r}")
        except yaml.YAMLError as exc:
            raise ConfigError(f"player {text!r} is not a valid YAML mapping: {exc}") from None
    kind, _, rest = text.partition(":")
    if kind == "gnugo":
        if not rest.isdigit():
            raise ConfigError(f"player {text!r}: write gnugo:LEVEL, e.g. gnugo:10")
        return engine_from_dict({"name": f"gnugo-{int(rest)}", "kind": "gnugo", "level": int(rest)})
    if kind == "tengen":
        args: dict[str, Any] = {}
        for item in filter(None, rest.split(",")):
            key, eq, value = item.partition("=")
            if not eq:
                raise ConfigError(f"player {text!r}: write tengen:key=value,key=value")
            args[key.strip()] = yaml.safe_load(value)
        suffix = "-".join(f"{k}{v}" for k, v in args.items())
        name = re.sub(r"[^A-Za-z0-9_.+-]", "", f"tengen-{suffix}" if suffix else "tengen")[:64]
        return engine_from_dict({"name": name, "kind": "tengen", "args": args})
    if kind == "gtp" and rest.strip():
        argv = shlex.split(rest)
        name = re.sub(r"[^A-Za-z0-9_.+-]", "", Path(argv[0]).name)[:64] or "gtp"
        return engine_from_dict({"name": name, "kind": "gtp", "command": argv})
    raise ConfigError(
        f"player {text!r} is neither a player of the config nor gnugo:LEVEL, tengen:key=value,... "
        "or gtp:COMMAND"
    )


@dataclass(frozen=True)
class EngineInfo:
    """What a player says about itself over GTP, for reports."""

    name: str
    kind: str
    argv: tuple[str, ...]
    gtp_name: str
    gtp_version: str


def probe_engine(spec: EngineSpec, size: int, timeout: float = 60.0) -> EngineInfo:
    """Starts the player once, asks its name and version and checks it accepts the board size.
    Raises ConfigError with the reason when it cannot be used."""
    problem = spec.problem()
    if problem:
        raise ConfigError(problem)
    argv = spec.argv(0, size)
    try:
        with GtpClient(argv, timeout=timeout) as client:
            ok, name = client.send_raw("name")
            ok_v, version = client.send_raw("version")
            ok_size, why = client.send_raw(f"boardsize {size}")
    except (OSError, GtpEngineDied, GtpError) as exc:
        raise ConfigError(f"player {spec.name!r} could not be started ({shlex.join(argv)}): {exc}") from None
    if not ok_size:
        raise ConfigError(f"player {spec.name!r} does not play on {size}x{size}: {why}")
    return EngineInfo(
        spec.name, spec.kind, tuple(argv), name if ok else "?", version if ok_v else "?"
    )
