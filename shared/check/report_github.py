"""``check --output github``: GitHub Actions workflow commands, so findings show up as
annotations on the pull request's files (``::error file=…,line=…,title=…::message``)."""

from __future__ import annotations

from shared.check.report import Report


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _command(level: str, file: str, line: int | None, title: str, message: str) -> str:
    where = f"file={_prop(file)}" + (f",line={line}" if line else "")
    return f"::{level} {where},title={_prop(title)}::{_data(message)}"


def render_github(report: Report) -> str:
    """One annotation per violation, warning and input error, then a plain summary line."""
    lines: list[str] = []
    for p in report.problems:
        lines.append(_command("error", p.file, p.line, "unreadable input", p.message))
    for r in report.results:
        for v in r.violations:
            lines.append(
                _command("error", r.file, v.line or r.line, f"{r.title} denied", v.message)
            )
        for w in r.warnings:
            lines.append(_command("warning", r.file, r.line, f"{r.title}", w))
    s = report.summary()
    lines.append(
        f"Checked {s['checked']} objects: {s['allowed']} allowed, {s['denied']} denied; "
        f"{s['skipped']} skipped; {len(report.problems)} input errors."
    )
    return "\n".join(lines) + "\n"
