"""The verdict corpus: `tests/corpus/*.yaml`, each opening with its expected verdict.

Header lines: ``# expect: allowed|denied|error``, ``# violation: <exact message>`` (the set must
match exactly), ``# violation-contains: <substring>``, ``# warning: <substring>``,
``# old: old/<file>.yaml`` (evaluate as UPDATE). Shared by the `check` and webhook tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"


@dataclass
class Case:
    path: Path
    expect: str = ""
    violations: list[str] = field(default_factory=list)
    contains: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    old: Path | None = None

    @property
    def id(self) -> str:
        return str(self.path.relative_to(CORPUS))


def load_case(path: Path) -> Case:
    case = Case(path)
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("#"):
            if line.strip() and not line.startswith("---"):
                break
            continue
        key, _, value = line[1:].strip().partition(":")
        value = value.strip()
        if key == "expect":
            case.expect = value
        elif key == "violation":
            case.violations.append(value)
        elif key == "violation-contains":
            case.contains.append(value)
        elif key == "warning":
            case.warnings.append(value)
        elif key == "old":
            case.old = path.parent / value
    return case


def cases() -> list[Case]:
    """Every corpus case (old objects are inputs, not cases)."""
    found = [
        load_case(p)
        for p in sorted(CORPUS.rglob("*"))
        if p.is_file()
        and p.suffix in (".yaml", ".yml", ".json")
        and "old" not in p.relative_to(CORPUS).parts
    ]
    return [c for c in found if c.expect]
