"""Renderers for `check`: one list of results, four formats (text, JSON, JUnit, SARIF)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final
from xml.sax.saxutils import escape, quoteattr

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

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of SPEC §9."""
        return {
            "file": self.file,
            "index": self.index,
            "line": self.line,
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "allowed": self.allowed,
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
    files = len({r.file for r in report.results} | {p.file for p in report.problems})
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


def render_json(report: Report) -> str:
    """One JSON document: results, summary, and input errors."""
    doc: dict[str, Any] = {
        "results": [r.as_dict() for r in report.results],
        "summary": report.summary(),
    }
    if report.problems:
        doc["errors"] = [
            {"file": p.file, "index": p.index, "line": p.line, "message": p.message}
            for p in report.problems
        ]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_junit(report: Report) -> str:
    """JUnit XML: a testcase per object (failure when denied), an error per input problem."""
    cases: list[str] = []
    for r in report.results:
        name = quoteattr(f"{r.title} (document {r.index}, line {r.line})")
        body = ""
        if not r.allowed:
            text = "\n".join(f"{r.file}:{v.line or r.line}: {v.message}" for v in r.violations)
            body = f'<failure message={quoteattr(f"{len(r.violations)} violation(s)")} type="denied">{escape(text)}</failure>'
        if r.warnings:
            body += f"<system-out>{escape(chr(10).join(r.warnings))}</system-out>"
        cases.append(f"    <testcase classname={quoteattr(r.file)} name={name}>{body}</testcase>")
    for p in report.problems:
        where = f"{p.file}:{p.line}" if p.line else p.file
        cases.append(
            f"    <testcase classname={quoteattr(p.file)} name={quoteattr('input')}>"
            f'<error message={quoteattr(p.message)} type="input">{escape(where + ": " + p.message)}</error></testcase>'
        )
    s = report.summary()
    attrs = f'tests="{s["checked"] + len(report.problems)}" failures="{s["denied"]}" errors="{len(report.problems)}" skipped="0"'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="{TOOL_NAME} check" {attrs}>\n'
        f'  <testsuite name="{TOOL_NAME} check" {attrs}>\n'
        + "\n".join(cases)
        + "\n  </testsuite>\n</testsuites>\n"
    )


def _sarif_location(file: str, line: int | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": file}}
    if line:
        location["region"] = {"startLine": line}
    return {"physicalLocation": location}


def render_sarif(report: Report) -> str:
    """SARIF 2.1.0 for code-scanning UIs: errors for violations, warnings for warnings."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for r in report.results:
        for v in r.violations:
            rules.setdefault(v.rule, {"id": v.rule, "shortDescription": {"text": v.rule}})
            results.append(
                {
                    "ruleId": v.rule,
                    "level": "error",
                    "message": {"text": f"{r.title}: {v.message}"},
                    "locations": [_sarif_location(r.file, v.line or r.line)],
                }
            )
        for w in r.warnings:
            rules.setdefault(
                "warning", {"id": "warning", "shortDescription": {"text": "admission warning"}}
            )
            results.append(
                {
                    "ruleId": "warning",
                    "level": "warning",
                    "message": {"text": f"{r.title}: {w}"},
                    "locations": [_sarif_location(r.file, r.line)],
                }
            )
    for p in report.problems:
        rules.setdefault("input", {"id": "input", "shortDescription": {"text": "unreadable input"}})
        results.append(
            {
                "ruleId": "input",
                "level": "error",
                "message": {"text": p.message},
                "locations": [_sarif_location(p.file, p.line)],
            }
        )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "informationUri": INFO_URI,
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


RENDERERS: Final = {"json": render_json, "junit": render_junit, "sarif": render_sarif}
