"""`tengen` command line: one subcommand per job. Each subcommand lives in its own module
that exposes `register(subparsers)`; user mistakes become one sentence and exit code 2."""

from __future__ import annotations

import argparse
import importlib
import sys

from engine.errors import UserError  # re-exported: `from engine.cli import UserError` works too

# One module per subcommand group; each adds one or more subcommands.
COMMAND_MODULES = (
    "engine.commands_play",
    "engine.arena.commands",
    "engine.commands_nets",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tengen", description="AlphaGo-style Go engine")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                continue  # that group (or its package) has not landed yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"tengen {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
