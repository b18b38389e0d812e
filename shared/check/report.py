"""What a `check` run found (results, skipped objects, input problems) and its text rendering.

The other formats render the same `Report`: `report_json`, `report_junit`, `report_sarif`,
`report_github` (chosen in `outputs`). Document numbers shown to people are 1-based
(``document 2``); the JSON ``index`` stays 0-based (SPEC §9) next to a 1-based ``document``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from shared.check.inputs import Problem
from shared.policy.verdict import Violation

TOOL_NAME: Final = "kagent-substrate"
INFO_URI: Final = "https://github.com/kagent-dev/kagent"


@dataclass(frozen=True, slots=True)
class Result:
    """The verdict for one object, located in its input."""

    file: str
    index: int
    line: int
    api_version: str
    kind: str
    namespace: str
    name: str
    allowed: bool
    operation: str
    violations: tuple[Violation, ...]
    warnings: tuple[str, ...]
    warning_rules: tuple[str, ...] = ()
    """The rule id of each warning, parallel to ``warnings``."""
    patch: tuple[dict[str, Any], ...] = ()
    """The mutation as JSON-patch operations (what the mutating webhook would answer)."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of SPEC §9 (plus the 1-based ``document`` and ``operation``)."""
        return {
            "file": self.file,
            "index": self.index,
            "document": self.index + 1,
            "line": self.line,
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "allowed": self.allowed,
            "operation": self.operation,
            "violations": [v.as_dict() for v in self.violations],
            "warnings": list(self.warnings),
        }

    @property
    def title(self) -> str:
        """``AgentHarness kagent/claw``."""
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name or '<unnamed>'}"


@dataclass(frozen=True, slots=True)
class Skipped:
    """An object of a kind `check` does not evaluate (listed with ``-v``, counted everywhere)."""

    file: str
    index: int
    line: int
    api_version: str
    kind: str
    namespace: str
    name: str
    reason: str

    @property
    def title(self) -> str:
        """``Secret default/x``."""
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name or '<unnamed>'}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of a skipped object."""
        return {
            "file": self.file,
            "index": self.index,
            "document": self.index + 1,
            "line": self.line,
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Report:
    """Everything a `check` run found."""

    results: list[Result] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files_read: set[str] = field(default_factory=set)
    """Inputs read (a file of other kinds or empty documents only counts too)."""

    @property
    def denied(self) -> int:
        """How many objects were denied."""
        return sum(1 for r in self.results if not r.allowed)

    def summary(self) -> dict[str, int]:
        """Counts for the JSON summary."""
        checked = len(self.results)
        return {
            "checked": checked,
            "allowed": checked - self.denied,
            "denied": self.denied,
            "skipped": len(self.skipped),
        }


def render_text(report: Report, verbose: bool = False) -> str:
    """Human output: ``file:line: Kind ns/name: denied`` then one line per finding."""
    lines: list[str] = []
    for p in report.problems:
        where = f"{p.file}:{p.line}" if p.line else p.file
        lines.append(f"{where}: error: {p.message}")
    for r in report.results:
        if r.allowed and not r.warnings and not verbose:
            continue
        verdict = (
            "allowed"
            if r.allowed
            else f"denied ({len(r.violations)} violation{'s' * (len(r.violations) != 1)})"
        )
        if r.operation == "UPDATE":
            verdict += " on update"
        lines.append(f"{r.file}:{r.line}: {r.title}: {verdict}")
        lines += [f"  {r.file}:{v.line or r.line}: {v.message}" for v in r.violations]
        lines += [f"  warning: {w}" for w in r.warnings]
    s = report.summary()
    files = len(
        {r.file for r in report.results}
        | {p.file for p in report.problems}
        | {k.file for k in report.skipped}
        | report.files_read
    )
    summary = f"Checked {s['checked']} object{'s' * (s['checked'] != 1)} in {files} file{'s' * (files != 1)}: {s['allowed']} allowed, {s['denied']} denied"
    if verbose:
        lines += [
            f"{k.file}:{k.line}: {k.title} ({k.api_version}): skipped, {k.reason}"
            for k in report.skipped
        ]
    if report.skipped:
        n = len(report.skipped)
        summary += f"; {n} object{'s' * (n != 1)} of other kinds skipped"
    if report.problems:
        summary += f"; {len(report.problems)} input error{'s' * (len(report.problems) != 1)}"
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"
