"""Installs a trained network as tengen's built-in net for its board size (engine/builtin_nets/).

    python scripts/ship_net.py --weights runs/zero9_aux_long/weights/final.safetensors \
        --search configs/search/zero.yaml --provenance recipe=configs/zero_9x9_aux_long.yaml \
        --provenance "command=tengen train --config ... --run-dir ..." --provenance hours=1.5 ...

Each --provenance KEY=VALUE lands in the weights' metadata (provenance_KEY) and in NxN.yaml.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.builtin_net import builtin_folder, write_builtin
from engine.config import load_yaml
from engine.errors import TengenError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--search", type=Path, required=True, help="search settings YAML the net plays with")
    p.add_argument("--provenance", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--folder", type=Path, default=None, help="default: the package's engine/builtin_nets")
    p.add_argument("--default-player", action="store_true",
                   help="tengen gtp / play use it without flags (only once it out-rates the network-free search)")
    args = p.parse_args(argv)
    provenance = {}
    for item in args.provenance:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            p.error(f"--provenance takes KEY=VALUE, not {item!r}")
        provenance[key] = value
    try:
        raw = load_yaml(args.search)
        search = dict(raw.get("search", raw))
        net = write_builtin(args.folder or builtin_folder(), args.weights, search, provenance, args.default_player)
    except TengenError as exc:
        print(f"ship_net: {exc}", file=sys.stderr)
        return 2
    print(f"built-in {net.size}x{net.size} net: {net.weights} with {net.settings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
