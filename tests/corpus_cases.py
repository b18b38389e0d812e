"""The verdict corpus: `tests/corpus/kagent-substrate-test.yaml`, a `kagent-substrate test`
file that lists every manifest of `tests/corpus/` with its expected verdict and messages.

Each `Case` keeps the shape other test tiers read: ``path`` is the file holding the one
manifest, ``old`` the old object (UPDATE) or None, ``expect`` allowed|denied|error,
``violations`` the exact messages, ``contains`` substrings of further violations,
``warnings`` substrings of warnings, ``id`` the manifest's path in the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.check.suite import TEST_FILE, load_test_file

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


def cases() -> list[Case]:
    """Every corpus case, in the test file's order."""
    return [
        Case(
            path=c.resource,
            expect=c.expect,
            violations=list(c.violations or ()),
            contains=list(c.contains),
            warnings=list(c.warnings),
            old=c.old,
        )
        for c in load_test_file(CORPUS / TEST_FILE).cases
    ]
