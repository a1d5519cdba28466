"""`tengen` command line: one subcommand per job, and the one place user-facing errors are caught.

Each subcommand group lives in its own module of this package and exposes `register(subparsers)`.
A TengenError (and an OSError on a user's path, or a file that is not text/YAML) becomes one line on
stderr, `tengen <cmd>: error: <sentence>`, and exit code 2; Ctrl-C exits 130; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from engine.errors import TengenError, one_line
from tengen_cli import analysis, arena, explain, nets, play, rate, train

USAGE_ERROR = 2  # exit code of a user mistake (argparse uses it too)
INTERRUPTED = 130  # exit code after Ctrl-C (128 + SIGINT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tengen", description="AlphaGo-style Go engine")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (play, analysis, arena, rate, nets, train, explain):
        module.register(sub)
    return parser


def os_error_sentence(exc: OSError) -> str:
    """One sentence for an OSError on a path: the path(s) and the system's reason."""
    reason = exc.strerror or one_line(str(exc)) or type(exc).__name__
    if exc.filename is None:
        return reason
    where = str(exc.filename) if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
    return f"{where}: {reason}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return USAGE_ERROR
    try:
        return int(args.func(args) or 0)
    except TengenError as exc:
        message = one_line(str(exc))
    except OSError as exc:
        message = os_error_sentence(exc)
    except UnicodeDecodeError as exc:
        message = f"a file is not UTF-8 text ({one_line(str(exc))})"
    except yaml.YAMLError as exc:
        message = f"not valid YAML: {one_line(str(exc))}"
    except KeyboardInterrupt:
        return INTERRUPTED
    print(f"tengen {args.command}: error: {message}", file=sys.stderr)
    return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
