"""Layering contract (STYLE §2.1): product code never imports devstack; pure packages stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("shared", "webhook", "controller")
PURE = ("shared/policy", "shared/api", "shared/check")
IO_MODULES = ("aiohttp", "grpc", "kubernetes", "kubernetes_asyncio", "socket")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("package", PRODUCT)
def test_product_never_imports_devstack(package: str) -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in _files(package)
        if any(n == "devstack" or n.startswith("devstack.") for n in _imports(p))
    ]
    assert offenders == []


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_do_no_io(package: str) -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in _files(package)
        for n in _imports(p)
        if n.split(".")[0] in IO_MODULES
    ]
    assert offenders == []
