"""The one config path: a strict YAML reader and a strict mapping -> frozen-dataclass builder.

Every config a user writes (search settings, training recipes, the supervised-training config,
arena tournaments) goes through these two functions, so every file is refused the same way:

    load_yaml(path)                 -> the file's top-level mapping; ConfigError for a missing
                                       file, a directory, non-UTF-8 bytes, invalid YAML or a top
                                       level that is not a mapping (an empty file is {}).
    from_mapping(cls, data, where)  -> cls(**converted data); ConfigError naming the dotted key for
                                       an unknown key (with the known ones), a missing required key,
                                       a value of the wrong type, nan or inf, or a value the class's
                                       own checks refuse.

Types understood: bool, int, float (an int is taken; bool is not a number; nan/inf are refused),
str, Literal[...], Enum subclasses, nested dataclasses (from a sub-mapping), X | None, tuple[X, ...],
tuple[X, Y], list[X], Mapping[str, Any] / dict (kept as a plain dict), and Any. A field named like a
Python keyword plus "_" (`lambda_`) is spelled without the underscore in files (`lambda`).

Range checks live in each dataclass's `__post_init__`; `require(ok, key, problem)` raises a
FieldError there, which `from_mapping` reports with the full dotted key ("train.optim.lr must be
positive").
"""

from __future__ import annotations

import dataclasses
import enum
import keyword
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from engine.errors import ConfigError

T = TypeVar("T")


# Limits every config shares: a value beyond them is a typo (or would allocate or run for ever).
MAX_SEED = 2**63 - 1  # seeds travel to C++ as 64-bit integers
MAX_THREADS = 1024
MAX_BATCH = 1 << 16  # positions in one batch, games played at once
MAX_EPOCHS = 10**6
MAX_COUNT = 10**9  # games, steps, positions
MAX_LR = 1e3


class FieldError(ConfigError):
    """A value a dataclass's own checks refuse; `key` is the field (or dotted sub-key) at fault."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key} {problem}")
        self.key = key
        self.problem = problem


def require(ok: bool, key: str, problem: str) -> None:
    """Raises FieldError(key, problem) unless `ok`; for use in `__post_init__`."""
    if not ok:
        raise FieldError(key, problem)


def require_at_most(value: float, limit: float, key: str) -> None:
    """Refuses a value above `limit` (huge counts, batch sizes, thread numbers, seeds)."""
    shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
    require(value <= limit, key, f"must be at most {shown}, not {value!r}")


def require_finite(value: float, key: str) -> None:
    """Refuses nan and inf for a float field."""
    require(math.isfinite(value), key, f"must be a finite number, not {value!r}")


def load_yaml(path: str | Path) -> Mapping[str, Any]:
    """The top-level mapping of a YAML config file (an empty file gives {})."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{p} is a folder, not a config file")
    if not p.exists():
        raise ConfigError(f"config file not found: {p}")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {p} cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{p} is not a text file (not UTF-8)") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{p} is not valid YAML ({first})") from None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{p} must be a mapping of settings (key: value lines), not {type(raw).__name__}")
    return raw


def file_key(name: str) -> str:
    """How a field is spelled in files: `lambda_` -> `lambda`."""
    stem = name[:-1] if name.endswith("_") else name
    return stem if stem != name and keyword.iskeyword(stem) else name


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def from_file_mapping(cls: type[T], data: Any, source: str | None) -> T:
    """`from_mapping` for a whole file's mapping: each error starts with `source` (the file) when given."""
    try:
        return from_mapping(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}" if source else str(exc)) from None


def from_mapping(cls: type[T], data: Any, where: str = "") -> T:
    """A `cls` (a dataclass) built from `data`; `where` is the dotted key of the section, for messages."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(data, Mapping):
        what = f"{where} must be" if where else "the config must be"
        raise ConfigError(f"{what} a section (key: value lines), not {data!r}")
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    by_key = {file_key(f.name): f for f in fields}
    for key in data:
        if key not in by_key:
            known = ", ".join(by_key)
            raise ConfigError(f"unknown key '{_join(where, str(key))}' (known in this section: {known})")
    kwargs: dict[str, Any] = {}
    for key, f in by_key.items():
        if key in data:
            kwargs[f.name] = convert(hints[f.name], data[key], _join(where, key))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"missing key '{_join(where, key)}'")
    try:
        return cls(**kwargs)
    except FieldError as exc:
        raise ConfigError(f"{_join(where, exc.key)} {exc.problem}") from None
    except ConfigError:
        raise
    except (ValueError, TypeError) as exc:
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}{exc}") from None


def convert(kind: Any, value: Any, where: str) -> Any:
    """`value` as type `kind` (a resolved annotation); ConfigError naming `where` otherwise."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors: list[ConfigError] = []
        for option in args:
            if option is type(None):
                continue
            try:
                return convert(option, value, where)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is typing.Literal:
        if value in args and all(type(value) is type(a) for a in args if a == value):
            return value
        raise ConfigError(f"{where} must be one of {', '.join(str(a) for a in args)}, not {value!r}")
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        for member in kind:
            if value == member.value or value == member.name:
                return member
        raise ConfigError(f"{where} must be one of {', '.join(str(m.value) for m in kind)}, not {value!r}")
    if dataclasses.is_dataclass(kind):
        if isinstance(value, kind):  # type: ignore[arg-type]
            return value
        return from_mapping(kind, value, where)  # type: ignore[arg-type]
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, not {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, not {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number, not {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, not {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, not {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if args and len(args) != len(value):
            raise ConfigError(f"{where} must be a list of {len(args)} values, not {value!r}")
        return tuple(convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=False)))
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, not {value!r}")
        inner = args[0] if args else Any
        return [convert(inner, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a section (key: value lines), not {value!r}")
        return dict(value)
    raise TypeError(f"{where}: unsupported setting type {kind!r}")


def parse_override(text: str) -> Any:
    """A command-line override value (`--set train.lr=1e-3`): an integer or a number as Python
    reads them (1e-3, nan and inf included, which YAML 1.1 would leave strings), else a YAML
    scalar (true -> bool, a list), else the string itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    try:
        return yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text
