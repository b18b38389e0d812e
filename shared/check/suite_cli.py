"""`kagent-substrate test PATH…`: run declarative admission tests and print a results table.

Exit codes: 0 every case as expected, 1 any case differs, 2 usage or an unreadable test file,
3 internal error. Never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from shared.check.cli import grammar_cache
from shared.check.outputs import write_out
from shared.check.report import TOOL_NAME
from shared.check.suite import Outcome, find_test_files, load_test_file, run_file
from shared.errors import InputError
from shared.nesting import allow_deep_objects
from shared.policy.cel import load_grammar
from shared.policy.engine import EngineConfig, PolicyEngine


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        print(f"kagent-substrate test: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The `test` argument parser."""
    p = _Parser(
        prog="kagent-substrate test",
        description="Run declarative admission tests: each kagent-substrate-test.yaml lists "
        "manifests and the verdict, messages, warnings or patch they must get (docs/policy.md).",
        epilog="Exit codes: 0 all as expected, 1 any mismatch, 2 usage or unreadable test file, "
        "3 internal error.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="test files, or directories to search for kagent-substrate-test.yaml",
    )
    p.add_argument(
        "-o",
        "--output",
        choices=("text", "junit"),
        default="text",
        help="text table (default) or JUnit XML",
    )
    p.add_argument(
        "--crds", type=Path, metavar="DIR", help="CRDs to test against (default: built in)"
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="text: list every case, not only failures"
    )
    return p


def render_table(outcomes: list[Outcome], verbose: bool) -> str:
    """``CASE  EXPECTED  ACTUAL  RESULT`` with the reasons under failed cases."""
    shown = outcomes if verbose else [o for o in outcomes if not o.passed]
    width = max([len(o.case) for o in shown] + [4])
    lines = [f"{'CASE':<{width}}  {'EXPECTED':<8}  {'ACTUAL':<8}  RESULT"] if shown else []
    for o in shown:
        lines.append(
            f"{o.case:<{width}}  {o.expected:<8}  {o.actual:<8}  {'pass' if o.passed else 'FAIL'}"
        )
        lines += [f"    {o.file}: {reason}" for reason in o.failures]
    failed = sum(not o.passed for o in outcomes)
    lines.append(f"{len(outcomes)} cases: {len(outcomes) - failed} passed, {failed} failed")
    return "\n".join(lines) + "\n"


def render_junit(outcomes: list[Outcome]) -> str:
    """One testcase per case; a failure lists what differed."""
    cases = []
    for o in outcomes:
        body = ""
        if not o.passed:
            body = f'<failure message={quoteattr("; ".join(o.failures))} type="mismatch">{escape(chr(10).join(o.failures))}</failure>'
        cases.append(
            f"    <testcase classname={quoteattr(o.file)} name={quoteattr(o.case)}>{body}</testcase>"
        )
    failed = sum(not o.passed for o in outcomes)
    attrs = f'tests="{len(outcomes)}" failures="{failed}" errors="0" skipped="0"'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="{TOOL_NAME} test" {attrs}>\n  <testsuite name="{TOOL_NAME} test" {attrs}>\n'
        + "\n".join(cases)
        + "\n  </testsuite>\n</testsuites>\n"
    )


def run(args: argparse.Namespace) -> int:
    """Load every test file, run it, print, return the exit code."""
    try:
        files = [load_test_file(p) for p in find_test_files(args.paths)]
    except InputError as exc:
        print(f"kagent-substrate test: error: {exc}", file=sys.stderr)
        return 2
    cache = grammar_cache(os.environ)
    if cache is not None:
        load_grammar(cache)
    engines: dict[EngineConfig, PolicyEngine] = {}
    outcomes: list[Outcome] = []
    for test_file in files:
        try:
            engine = engines.get(test_file.config) or PolicyEngine.from_dir(
                args.crds, test_file.config
            )
        except InputError as exc:
            print(f"kagent-substrate test: error: {exc}", file=sys.stderr)
            return 2
        engines[test_file.config] = engine
        outcomes += run_file(test_file, engine)
    out = render_junit(outcomes) if args.output == "junit" else render_table(outcomes, args.verbose)
    if not write_out(out, "kagent-substrate test"):
        return 3
    return 1 if any(not o.passed for o in outcomes) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; maps every failure to an exit code, never a traceback."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    allow_deep_objects()
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the tool broke, not the tests: say so, exit 3
        print(
            f"kagent-substrate test: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in kagent-substrate; please report it with the test file.",
            file=sys.stderr,
        )
        return 3
