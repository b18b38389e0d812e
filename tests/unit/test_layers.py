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


@pytest.mark.parametrize("package", ("shared/policy/cel", "shared/policy/schema"))
def test_policy_algorithms_never_import_the_accelerators(package: str) -> None:
    """The accelerators build on the public API of cel and schema, never the other way."""
    offenders = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in _files(package)
        for n in _imports(p)
        if n.startswith("shared.policy.accel")
    ]
    assert offenders == []


def test_policy_modules_use_no_private_names_of_other_modules() -> None:
    """No module imports another's ``_private`` name (STYLE: public API between modules)."""
    offenders = []
    for path in _files("shared/policy"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                offenders += [
                    f"{path.relative_to(ROOT)}: {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id not in ("self", "cls")
            ):
                offenders.append(f"{path.relative_to(ROOT)}: {node.value.id}.{node.attr}")
    assert offenders == []
