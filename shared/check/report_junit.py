"""``check --output junit``: a testcase per checked object (a failure when denied, its
violations in the failure message), per skipped object (``<skipped>``) and per input error."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from shared.check.report import TOOL_NAME, Report


def render_junit(report: Report) -> str:
    """JUnit XML for CI test reports (GitLab, Jenkins, GitHub test reporters)."""
    cases: list[str] = []
    for r in report.results:
        name = quoteattr(f"{r.title} (document {r.index + 1}, line {r.line})")
        body = ""
        if not r.allowed:
            message = "; ".join(v.message for v in r.violations)
            text = "\n".join(f"{r.file}:{v.line or r.line}: {v.message}" for v in r.violations)
            body = f'<failure message={quoteattr(message)} type="denied">{escape(text)}</failure>'
        if r.warnings:
            body += f"<system-out>{escape(chr(10).join(r.warnings))}</system-out>"
        cases.append(f"    <testcase classname={quoteattr(r.file)} name={name}>{body}</testcase>")
    for k in report.skipped:
        name = quoteattr(f"{k.title} (document {k.index + 1}, line {k.line})")
        why = quoteattr(f"{k.kind} ({k.api_version}): {k.reason}")
        cases.append(
            f"    <testcase classname={quoteattr(k.file)} name={name}><skipped message={why}/></testcase>"
        )
    for p in report.problems:
        where = f"{p.file}:{p.line}" if p.line else p.file
        doc = f"document {p.index + 1}" if p.index is not None else "input"
        cases.append(
            f"    <testcase classname={quoteattr(p.file)} name={quoteattr(doc)}>"
            f'<error message={quoteattr(p.message)} type="input">{escape(where + ": " + p.message)}</error></testcase>'
        )
    s = report.summary()
    total = s["checked"] + s["skipped"] + len(report.problems)
    attrs = f'tests="{total}" failures="{s["denied"]}" errors="{len(report.problems)}" skipped="{s["skipped"]}"'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="{TOOL_NAME} check" {attrs}>\n'
        f'  <testsuite name="{TOOL_NAME} check" {attrs}>\n'
        + "\n".join(cases)
        + "\n  </testsuite>\n</testsuites>\n"
    )
