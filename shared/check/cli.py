"""`kagent-substrate check`: the exact admission verdict for manifests, offline, for CI.

Exit codes: 0 every object allowed, 1 any object denied, 2 usage or unreadable/unparseable
input, 3 internal error. Never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from shared.check.inputs import Problem, Stream, all_documents, cut, iter_paths, read_text
from shared.check.kinds import KindFilter
from shared.check.outputs import FORMATS, render, write_out
from shared.check.parallel import MIN_PARALLEL_DOCUMENTS, auto_jobs, check_inputs
from shared.check.report import Report
from shared.check.rules import RuleCatalog
from shared.check.run import ObjectKey, object_key
from shared.errors import InputError
from shared.nesting import allow_deep_objects
from shared.policy.cel import load_grammar
from shared.policy.engine import FIELD_VALIDATIONS, EngineConfig, PolicyEngine
from shared.policy.mutation import worker_pool_problem

EXIT_ALLOWED: Final = 0
EXIT_DENIED: Final = 1
EXIT_INPUT: Final = 2
EXIT_INTERNAL: Final = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 already; keep one line, no usage spam
        self.print_usage(sys.stderr)
        print(f"kagent-substrate check: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def build_parser() -> argparse.ArgumentParser:
    """The `check` argument parser."""
    p = _Parser(
        prog="kagent-substrate check",
        description=(
            "Check AgentHarness and SandboxAgent manifests exactly as a cluster with the "
            "kagent-substrate CRDs and webhook would admit them (schema, defaults, CEL rules, "
            "webhook rules). Objects of other kinds are skipped and counted."
        ),
        epilog="Exit codes: 0 all allowed, 1 any denied, 2 usage or unreadable input, 3 internal error.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files, directories (recursive *.yaml, *.yml, *.json) or - for stdin",
    )
    p.add_argument(
        "-o",
        "--output",
        choices=FORMATS,
        default="text",
        help="output format: text (default), json (docs/policy.md, JSON Schema shipped), junit, "
        "sarif (code scanning) or github (workflow annotations)",
    )
    p.add_argument(
        "--old",
        action="append",
        default=[],
        metavar="PATH",
        help="previous versions of the objects: pairs by kind/namespace/name and checks as UPDATE (transition rules)",
    )
    p.add_argument(
        "--crds",
        type=Path,
        metavar="DIR",
        help="check against the CRDs in DIR instead of the built-in ones",
    )
    p.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace of objects that name none (default: default)",
    )
    p.add_argument(
        "--default-worker-pool",
        type=_worker_pool,
        metavar="NAME",
        help="the webhook's default WorkerPool ([NAMESPACE/]NAME), pinned into substrate objects in its namespace that name none",
    )
    p.add_argument(
        "--field-validation",
        choices=FIELD_VALIDATIONS,
        default="Strict",
        metavar="MODE",
        help="unknown and duplicate fields, as kubectl --validate / the apiserver's "
        "fieldValidation: Strict (an error, default, as kubectl), Warn (a warning) or "
        "Ignore (dropped; a duplicate's last value wins)",
    )
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="KIND,...",
        help="kinds (Kind or group/Kind) to skip without checking, e.g. a kind served by another "
        "operator whose name looks like ours (repeatable)",
    )
    p.add_argument(
        "--reject",
        action="append",
        default=[],
        metavar="KIND,...",
        help="kinds (Kind or group/Kind) that must not appear: each such object fails (repeatable)",
    )
    p.add_argument(
        "--fail-if-empty",
        action="store_true",
        help="exit 1 when no object was checked (e.g. a glob that matched only other kinds)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=0,
        metavar="N",
        help=f"processes checking inputs of {MIN_PARALLEL_DOCUMENTS:,} documents or more "
        "(Linux; the output is the same as with 1): 0, the default, uses every CPU "
        "available (at most 8); 1 checks in this process",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="text output: list allowed and skipped objects too",
    )
    return p


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of processes: {value!r}") from None
    if jobs < 0:
        raise argparse.ArgumentTypeError("the number of processes cannot be negative")
    return jobs


def _worker_pool(value: str) -> str:
    problem = worker_pool_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value


def _inputs(paths: list[str]) -> Iterator[Stream | Problem]:
    for path in iter_paths(paths):
        if isinstance(path, Problem):
            yield path
            continue
        text = read_text(path)
        if isinstance(text, Problem):
            yield text
            continue
        yield cut("<stdin>" if path == "-" else path, text)


def _old_objects(
    paths: list[str], default_ns: str, report: Report
) -> dict[ObjectKey, dict[str, Any]]:
    old: dict[ObjectKey, dict[str, Any]] = {}
    for item in all_documents(list(_inputs(paths))):
        if isinstance(item, Problem):
            report.problems.append(item)
        else:
            old[object_key(item.obj, default_ns)] = item.obj
    return old


def grammar_cache(env: Mapping[str, str]) -> Path | None:
    """Where lark may keep the analysed CEL grammar: a private folder under the user's cache
    (``$XDG_CACHE_HOME`` or ``~/.cache``), or None when there is none we can trust."""
    base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "kagent-substrate"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except (OSError, RuntimeError):
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None  # someone else could plant a pickle there
    return folder / "cel-grammar.lark-cache"


def run(args: argparse.Namespace) -> int:
    """Check, print, and return the exit code."""
    if args.paths.count("-") + sum(p == "-" for p in args.old) > 1:
        print("kagent-substrate check: error: stdin (-) can be read only once", file=sys.stderr)
        return EXIT_INPUT
    cache = grammar_cache(os.environ)
    if cache is not None:
        load_grammar(cache)  # 0.4 s less at every start
    try:
        engine = PolicyEngine.from_dir(
            args.crds,
            EngineConfig(
                default_worker_pool=args.default_worker_pool,
                default_namespace=args.namespace,
                field_validation=args.field_validation,
            ),
        )
    except InputError as exc:
        print(f"kagent-substrate check: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    # The compiled engine is many long-lived objects: keep the collector from rescanning them
    # for every batch of documents (a large share of a big run's time otherwise).
    gc.freeze()
    old_report = Report()
    old = _old_objects(args.old, args.namespace, old_report) if args.old else None
    kinds = KindFilter(KindFilter.parse(args.skip), KindFilter.parse(args.reject))
    jobs = args.jobs or auto_jobs()
    inputs = list(_inputs(args.paths))
    report = check_inputs(engine, inputs, old, kinds, jobs)
    report.files_read = {i.name for i in inputs if isinstance(i, Stream)}
    report.problems[:0] = old_report.problems
    catalog = RuleCatalog(engine) if args.output == "sarif" else RuleCatalog()
    out = render(report, args.output, catalog=catalog, verbose=args.verbose)
    if not write_out(out, "kagent-substrate check"):
        return EXIT_INTERNAL
    if report.problems:
        return EXIT_INPUT
    if args.fail_if_empty and not report.results:
        print(
            "kagent-substrate check: error: no AgentHarness or SandboxAgent was checked "
            "(--fail-if-empty); check the paths and kinds",
            file=sys.stderr,
        )
        return EXIT_DENIED
    return EXIT_DENIED if report.denied else EXIT_ALLOWED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; maps every failure to an exit code, never a traceback."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_INPUT
    allow_deep_objects()
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_ALLOWED
    except Exception as exc:  # the tool broke, not the input: say so, exit 3
        print(
            f"kagent-substrate check: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in kagent-substrate; please report it with the input that caused it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
