"""The layers of DESIGN, read from the imports: engine/ never imports selfplay or tengen_cli, selfplay/
never imports tengen_cli. Every import counts, function-local and TYPE_CHECKING ones included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# package -> the top-level packages it must never import
FORBIDDEN = {
    "engine": ("selfplay", "tengen_cli"),
    "selfplay": ("tengen_cli",),
}


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, a module of `package`, at any depth."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from pkg import submodule` names modules too
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def layer_violations(package: str) -> list[str]:
    out = []
    for path in sorted((REPO / package).rglob("*.py")):
        for line, module in imported_modules(path.read_text(encoding="utf-8"), _package_of(path)):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                out.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    return out


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(REPO).parts[:-1])


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_never_import_higher_ones(package: str) -> None:
    assert (REPO / package / "__init__.py").is_file()
    assert layer_violations(package) == []


def test_the_walker_sees_local_and_relative_imports() -> None:
    """The check catches a violation hidden in a function body, under TYPE_CHECKING or written relatively."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import tengen_cli.main\n"
        "def f():\n    from selfplay.zero import run_zero\n"
        "from .. import tengen_cli\n"
    )
    modules = {m for _, m in imported_modules(source, "selfplay.sub")}
    assert {"tengen_cli.main", "selfplay.zero", "selfplay.tengen_cli"} <= modules
    relative = {m for _, m in imported_modules("from ..errors import TengenError\n", "engine.arena")}
    assert "engine.errors" in relative


def test_the_command_line_sits_above_both() -> None:
    """tengen_cli is the package that joins engine and selfplay (it imports both)."""
    tops = {
        m.split(".")[0]
        for p in (REPO / "tengen_cli").rglob("*.py")
        for _, m in imported_modules(p.read_text(encoding="utf-8"), _package_of(p))
    }
    assert {"engine", "selfplay"} <= tops
