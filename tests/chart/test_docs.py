"""docs/install.md lists every value of values.yaml, and values.yaml documents every key."""

from __future__ import annotations

from typing import Any

import yaml

from tests.chart.render import CHART, REPO


def _paths(values: dict[str, Any], prefix: str = "", depth: int = 3) -> list[str]:
    out = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        out.append(path)
        if isinstance(value, dict) and depth > 1:
            out += _paths(value, path + ".", depth - 1)
    return out


def test_every_value_is_in_the_docs() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    docs = (REPO / "docs" / "install.md").read_text()
    # Kubernetes objects passed through whole are documented as one row.
    passthrough = ("podSecurityContext.", "securityContext.")
    paths = [p for p in _paths(values, depth=2) if not p.startswith(passthrough)]
    missing = [p for p in paths if f"`{p}" not in docs]
    assert missing == [], f"add {missing} to the values reference of docs/install.md"


def test_every_row_of_the_values_reference_has_a_description() -> None:
    docs = (REPO / "docs" / "install.md").read_text()
    section = docs.split("## Values reference", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) > 50
    empty = [row for row in rows if row.rstrip().endswith("|  |") or row.rstrip().endswith("| |")]
    assert empty == []
