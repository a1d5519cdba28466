"""The networks shipped inside the package, in engine/builtin_nets/: at most one per board size.

For a size N the folder holds `NxN.safetensors` (whose metadata carries its provenance: recipe,
commands, commit, hours of training, ladder rating) and `NxN.yaml`: the search settings it plays
with (the `search:` section `tengen gtp --config` reads), the same provenance in words, and
`default_player`: whether `tengen gtp` and `tengen play` play that size with it when given no
network of their own. It is true only once the net out-rates the network-free UCT-RAVE search on
the ladder (the provenance says how it was measured); until then the net is used with
--builtin-net. --no-net never uses one; sizes without one are played by the UCT-RAVE search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_NAME = re.compile(r"^(\d+)x\1\.safetensors$")


@dataclass(frozen=True, kw_only=True)
class BuiltinNet:
    """One shipped network: its board size, weights and search settings files."""

    size: int
    weights: Path
    settings: Path
    default_player: bool  # played without flags (NxN.yaml's default_player)


def builtin_folder() -> Path:
    return Path(str(resources.files("engine") / "builtin_nets"))


def builtin_nets() -> dict[int, BuiltinNet]:
    """Every shipped network by board size (empty when none is shipped)."""
    folder = builtin_folder()
    out: dict[int, BuiltinNet] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.iterdir()):
        m = _NAME.match(path.name)
        settings = path.with_suffix(".yaml")
        if m and settings.is_file():
            size = int(m.group(1))
            out[size] = BuiltinNet(size=size, weights=path, settings=settings,
                                   default_player=_default_player(settings))
    return out


def _default_player(settings: Path) -> bool:
    import yaml

    try:
        data = yaml.safe_load(settings.read_text())
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and data.get("default_player") is True


def write_builtin(
    folder: Path,
    weights: Path,
    search: dict[str, object],
    provenance: dict[str, str],
    default_player: bool,
) -> BuiltinNet:
    """Installs `weights` as the built-in net of its board size in `folder`: the weights with
    `provenance_<key>` metadata added, and NxN.yaml with the search settings, `default_player`
    and the provenance. Both files are written atomically; the net must load (engine.weights
    checks it)."""
    import yaml

    from engine.atomic_io import atomic_write_text
    from engine.weights import load_net, save_weights

    net = load_net(weights)
    size = net.config.board_size
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{size}x{size}.safetensors"
    save_weights(target, net, {f"provenance_{k}": v for k, v in provenance.items()})
    settings = target.with_suffix(".yaml")
    header = (f"# The built-in {size}x{size} network's search settings (the `search:` section of "
              "tengen gtp --config) and provenance.\n")
    body = {"default_player": default_player, "search": search, "provenance": provenance}
    atomic_write_text(settings, header + yaml.safe_dump(body, sort_keys=False))
    return BuiltinNet(size=size, weights=target, settings=settings, default_player=default_player)
