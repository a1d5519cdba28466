"""One word, one meaning: no two public top-level classes in engine/ and selfplay/ share a name."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "selfplay")


def public_classes(root: Path) -> dict[str, list[str]]:
    """Public (no leading underscore) top-level class names of every module under `root`'s
    packages, each with the modules that define it."""
    found: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in tree.body:
                if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                    found[node.name].append(str(path.relative_to(root)))
    return found


def test_the_walk_finds_the_classes_it_must() -> None:
    found = public_classes(REPO)
    assert found["Player"] == ["engine/player.py"]
    assert "GtpEngine" in found and "SearchOutcome" in found and "BatchedMover" in found


def test_the_walk_reports_a_clash(tmp_path: Path) -> None:
    for package, module in (("engine", "a.py"), ("selfplay", "b.py")):
        (tmp_path / package).mkdir()
        (tmp_path / package / module).write_text("class Thing:\n    pass\n\nclass _Private:\n    pass\n")
    assert dict(public_classes(tmp_path)) == {"Thing": ["engine/a.py", "selfplay/b.py"]}


def test_no_two_public_classes_share_a_name() -> None:
    clashes = {name: where for name, where in public_classes(REPO).items() if len(where) > 1}
    assert not clashes, f"public classes defined more than once: {clashes}"
