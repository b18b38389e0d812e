"""``check --output sarif``: SARIF 2.1.0 for code scanning (GitHub, GitLab, IDEs).

Rule ids come from `RuleCatalog` (stable, unique per kind, never positional); every rule has a
short and full description and help; warnings have their own rule ids. Files are located by URIs
relative to the working directory with ``uriBaseId`` ``%SRCROOT%`` (declared in
``originalUriBaseIds``), as code scanning expects; files outside it keep absolute ``file:`` URIs.
The run's ``properties.summary`` counts checked, allowed, denied, skipped objects and errors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from shared.check.report import INFO_URI, TOOL_NAME, Report
from shared.check.rules import RuleCatalog, RuleInfo

SRCROOT: Final = "%SRCROOT%"


def artifact(file: str, cwd: Path) -> dict[str, Any]:
    """``{"uri": "examples/x.yaml", "uriBaseId": "%SRCROOT%"}`` (or an absolute file URI)."""
    if file == "<stdin>":
        return {"uri": "stdin"}
    path = Path(os.path.abspath(file))
    try:
        relative = path.relative_to(cwd)
    except ValueError:
        return {"uri": path.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}


def _location(file: str, line: int | None, cwd: Path) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact(file, cwd)}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _rule(info: RuleInfo, level: str) -> dict[str, Any]:
    return {
        "id": info.id,
        "shortDescription": {"text": info.short},
        "fullDescription": {"text": info.full},
        "help": {"text": info.help},
        "defaultConfiguration": {"level": level},
    }


def render_sarif(report: Report, catalog: RuleCatalog, cwd: Path | None = None) -> str:
    """One SARIF run: errors for violations and input errors, warnings for warnings."""
    base = Path(os.path.abspath(cwd or Path.cwd()))
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []

    def add(info: RuleInfo, level: str, text: str, file: str, line: int | None) -> None:
        if info.id not in rules:
            rules[info.id] = _rule(info, level)
        results.append(
            {
                "ruleId": info.id,
                "ruleIndex": list(rules).index(info.id),
                "level": level,
                "message": {"text": text},
                "locations": [_location(file, line, base)],
            }
        )

    for r in report.results:
        for v in r.violations:
            add(
                catalog.info(r.kind, v.rule),
                "error",
                f"{r.title}: {v.message}",
                r.file,
                v.line or r.line,
            )
        for i, w in enumerate(r.warnings):
            rule = r.warning_rules[i] if i < len(r.warning_rules) else "warning"
            add(catalog.info(r.kind, rule), "warning", f"{r.title}: {w}", r.file, r.line)
    for p in report.problems:
        add(catalog.info("", "input"), "error", p.message, p.file, p.line)
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
                "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri() + "/"}},
                "results": results,
                "properties": {
                    "summary": report.summary(),
                    "skipped": [k.as_dict() for k in report.skipped],
                },
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
