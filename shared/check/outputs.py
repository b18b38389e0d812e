"""The output formats of `check`, by name: each renders the same `Report`."""

from __future__ import annotations

import sys
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
