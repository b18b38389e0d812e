"""Modules talk through public names (STYLE: a module's ``_private`` names are its own).

import-linter (``make lint``) checks which packages may import which; it cannot see a private
name taken from another module, which this test does for the policy engine, where generated
code and fast paths once bound the interpreter's internals."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id not in ("self", "cls")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_policy_modules_use_no_private_names_of_other_modules() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "shared" / "policy").rglob("*.py"))
        for name in _private_uses(path)
    ]
    assert offenders == []
