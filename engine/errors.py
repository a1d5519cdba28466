"""The one error type users see, and the C++ boundary that maps core exceptions onto it.

Every error meant for a user (a bad flag, a bad config, an unreadable file, a failed engine) derives from
TengenError. The command line catches TengenError once (tengen_cli/main.py: one line on stderr, exit 2) and
the GTP loop answers it as `? message`; anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class TengenError(Exception):
    """A user-facing error: its message is one sentence shown as is."""


class UserError(TengenError):
    """A mistake by the user on the command line (bad flag value, missing file): one sentence."""


class ConfigError(TengenError, ValueError):
    """A configuration a user wrote is invalid (unknown key, impossible value): the message says which and why."""


class CoreError(TengenError, ValueError):
    """The C++ core refused an input: engine._core raises this for std::invalid_argument, std::domain_error
    and pybind11 value errors (the translator in csrc/bindings/module.cpp); logic errors stay RuntimeError."""


@contextmanager
def core_errors(what: str) -> Iterator[None]:
    """Maps ValueError/RuntimeError raised by engine._core calls inside the block to CoreError.

    `what` names the input being handled ("SGF file x.sgf") and prefixes the core's message.
    TengenErrors pass through unchanged.
    """
    try:
        yield
    except CoreError as exc:  # the core's own refusal (csrc/bindings/module.cpp translates it): say what of
        raise CoreError(f"{what}: {one_line(str(exc))}") from exc
    except TengenError:
        raise
    except (ValueError, RuntimeError) as exc:
        raise CoreError(f"{what}: {one_line(str(exc))}") from exc


def one_line(text: str) -> str:
    """`text` with its whitespace runs (newlines included) folded to single spaces."""
    return " ".join(text.split())
