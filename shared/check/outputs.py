"""The output formats of `check`, by name: each renders the same `Report`."""

from __future__ import annotations

from typing import Final

from shared.check.report import Report, render_text
from shared.check.report_github import render_github
from shared.check.report_json import render_json
from shared.check.report_junit import render_junit
from shared.check.report_sarif import render_sarif
from shared.check.rules import RuleCatalog

FORMATS: Final = ("text", "json", "junit", "sarif", "github")


def render(report: Report, fmt: str, *, catalog: RuleCatalog, verbose: bool = False) -> str:
    """``report`` in format ``fmt`` (one of `FORMATS`)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "junit":
        return render_junit(report)
    if fmt == "sarif":
        return render_sarif(report, catalog)
    if fmt == "github":
        return render_github(report)
    return render_text(report, verbose)
