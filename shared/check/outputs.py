"""The output formats of `check`, by name: each renders the same `Report`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Final

from shared.check.report import Report, render_text

if TYPE_CHECKING:
    from shared.check.rules import RuleCatalog

FORMATS: Final = ("text", "json", "junit", "sarif", "github")


def render(report: Report, fmt: str, *, catalog: RuleCatalog, verbose: bool = False) -> str:
    """``report`` in format ``fmt`` (one of `FORMATS`); each format's module is imported
    when chosen (JUnit's XML escaping alone pulls in urllib and email at start)."""
    if fmt == "json":
        from shared.check.report_json import render_json

        return render_json(report)
    if fmt == "junit":
        from shared.check.report_junit import render_junit

        return render_junit(report)
    if fmt == "sarif":
        from shared.check.report_sarif import render_sarif

        return render_sarif(report, catalog)
    if fmt == "github":
        from shared.check.report_github import render_github

        return render_github(report)
    return render_text(report, verbose)


def write_out(text: str, prog: str) -> bool:
    """Print a report on stdout; False (said on stderr) when it cannot be written, e.g. a
    full disk: the environment, not a bug. A closed pipe raises BrokenPipeError as before."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        print(f"{prog}: error: cannot write the report: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True
