"""Checks of command-line values made before a command starts work: argparse types for bounded numbers,
and the output-folder check (a path that is a file, or lies under one, cannot hold what a command writes)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from engine.errors import UserError


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: an integer in lo..hi (argparse turns the ValueError into one usage error line)."""

    def parse(text: str) -> int:
        value = int(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be in {lo}..{hi}, got {text}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its message
    return parse


def float_in(lo: float, hi: float) -> Callable[[str], float]:
    """An argparse type: a finite number in (lo, hi]."""

    def parse(text: str) -> float:
        value = float(text)
        if not (math.isfinite(value) and lo < value <= hi):
            raise argparse.ArgumentTypeError(f"must be a number in ({lo:g}, {hi:g}], got {text}")
        return value

    parse.__name__ = "number"
    return parse


def check_output_dir(path: Path | str | None, flag: str) -> None:
    """Raises UserError when `path` (or its first existing parent) is not a folder."""
    if path is None:
        return
    path = Path(path)
    for where in (path, *path.parents):
        if where.exists():
            if not where.is_dir():
                raise UserError(f"{flag} {path}: {where} is not a folder")
            return
