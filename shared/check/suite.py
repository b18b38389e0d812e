"""`kagent-substrate test`: declarative admission tests, like ``kyverno test``.

A test file (``kagent-substrate-test.yaml``) lists cases; each names a manifest (and an old
object for UPDATE) relative to the file and the outcome it expects. The manifests are checked
exactly as `check` checks them; the comparison is pure and returns one `Outcome` per case.
The file format is documented in docs/policy.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from shared.check.inputs import Document, Problem, parse_documents, read_text
from shared.check.report import Result
from shared.check.run import ObjectKey, check_documents, object_key
from shared.errors import InputError
from shared.policy.engine import FIELD_VALIDATIONS, EngineConfig, PolicyEngine
from shared.policy.mutation import worker_pool_problem

TEST_FILE: Final = "kagent-substrate-test.yaml"
API_VERSION: Final = "kagent-substrate.kagent.dev/v1alpha1"
EXPECTS: Final = ("allowed", "denied", "error")
_CASE_KEYS: Final = frozenset(
    {
        "name",
        "resource",
        "old",
        "expect",
        "violations",
        "contains",
        "warnings",
        "patch",
        "kind",
        "object",
    }
)


@dataclass(frozen=True, slots=True)
class TestCase:
    """One case of a test file."""

    name: str
    resource: Path
    expect: str
    old: Path | None = None
    violations: tuple[str, ...] | None = None
    """Exact messages; when given, the set must match (with ``contains``) exactly."""
    contains: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    patch: tuple[dict[str, Any], ...] | None = None
    kind: str | None = None
    object: str | None = None
    """``[namespace/]name`` selecting one object when the resource file holds several."""


@dataclass(frozen=True, slots=True)
class TestFile:
    """A parsed test file."""

    path: Path
    name: str
    config: EngineConfig
    cases: tuple[TestCase, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one case got, and whether that is what it expected."""

    file: str
    case: str
    expected: str
    actual: str
    failures: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """No difference from the expectation."""
        return not self.failures


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where} must be a list of strings")
    return tuple(value)


def _case(path: Path, i: int, raw: Any) -> TestCase:
    where = f"{path}: cases[{i}]"
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be a mapping with name, resource and expect")
    unknown = sorted(set(raw) - _CASE_KEYS)
    if unknown:
        raise InputError(
            f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(sorted(_CASE_KEYS))}"
        )
    for key in ("name", "resource", "expect"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise InputError(f"{where}.{key} is required (a string)")
    if raw["expect"] not in EXPECTS:
        raise InputError(
            f"{where}.expect must be one of {', '.join(EXPECTS)}, got {raw['expect']!r}"
        )
    patch = raw.get("patch")
    if patch is not None and not (
        isinstance(patch, list) and all(isinstance(p, dict) for p in patch)
    ):
        raise InputError(
            f"{where}.patch must be a list of JSON-patch operations ({{op, path, value}})"
        )
    for key in ("old", "kind", "object"):
        if key in raw and not isinstance(raw[key], str):
            raise InputError(f"{where}.{key} must be a string")
    return TestCase(
        name=raw["name"],
        resource=path.parent / raw["resource"],
        expect=raw["expect"],
        old=path.parent / raw["old"] if raw.get("old") else None,
        violations=_strings(f"{where}.violations", raw["violations"])
        if "violations" in raw
        else None,
        contains=_strings(f"{where}.contains", raw.get("contains", [])),
        warnings=_strings(f"{where}.warnings", raw.get("warnings", [])),
        patch=tuple(patch) if patch is not None else None,
        kind=raw.get("kind"),
        object=raw.get("object"),
    )


def load_test_file(path: Path) -> TestFile:
    """Parse and validate a test file; `InputError` names the field and the fix."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read test file {path}: {exc}") from None
    if not isinstance(raw, dict) or raw.get("kind") != "Test":
        raise InputError(
            f"{path}: not a test file (expected kind: Test, apiVersion: {API_VERSION})"
        )
    if raw.get("apiVersion") != API_VERSION:
        raise InputError(f"{path}: apiVersion must be {API_VERSION}")
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise InputError(f"{path}: options must be a mapping")
    mode = options.get("fieldValidation", "Strict")
    if mode not in FIELD_VALIDATIONS:
        raise InputError(
            f"{path}: options.fieldValidation must be one of {', '.join(FIELD_VALIDATIONS)}"
        )
    pool = options.get("defaultWorkerPool")
    if pool is not None:
        problem = worker_pool_problem(pool) if isinstance(pool, str) else "not a string"
        if problem is not None:
            raise InputError(f"{path}: options.defaultWorkerPool: {problem}")
    config = EngineConfig(
        default_worker_pool=pool,
        default_namespace=str(options.get("namespace") or "default"),
        field_validation=mode,
    )
    cases = raw.get("cases")
    if not isinstance(cases, list) or not cases:
        raise InputError(f"{path}: cases must be a non-empty list")
    return TestFile(
        path=path,
        name=str(raw.get("name") or path.parent.name),
        config=config,
        cases=tuple(_case(path, i, c) for i, c in enumerate(cases)),
    )


def find_test_files(paths: list[str]) -> list[Path]:
    """Files given, and every ``kagent-substrate-test.yaml`` under directories given."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found += sorted(p.rglob(TEST_FILE))
        elif p.is_file():
            found.append(p)
        else:
            raise InputError(f"{raw}: no such file or directory")
    if not found:
        raise InputError(f"no {TEST_FILE} under {', '.join(paths)}")
    return found


def _documents(path: Path) -> list[Document | Problem]:
    text = read_text(str(path))
    if isinstance(text, Problem):
        return [text]
    return list(parse_documents(str(path), text))


def _select(case: TestCase, results: list[Result]) -> Result | str:
    chosen = [r for r in results if case.kind in (None, r.kind)]
    if case.object is not None:
        chosen = [r for r in chosen if case.object in (r.name, f"{r.namespace}/{r.name}")]
    if len(chosen) != 1:
        return f"the resource holds {len(chosen)} matching checked objects; name one with kind and object"
    return chosen[0]


def run_case(engine: PolicyEngine, case: TestCase, file: str) -> Outcome:
    """Check one case's resource (against its old object) and compare with the expectation."""
    docs = _documents(case.resource)
    old: dict[ObjectKey, dict[str, Any]] | None = None
    if case.old is not None:
        old_docs = _documents(case.old)
        old = {
            object_key(d.obj, engine.config.default_namespace): d.obj
            for d in old_docs
            if isinstance(d, Document)
        }
        docs += [d for d in old_docs if isinstance(d, Problem)]
    report = check_documents(engine, docs, old)
    if report.problems:
        actual = "error"
        detail = [
            f"input error in {p.file}{f':{p.line}' if p.line else ''}: {p.message}"
            for p in report.problems
        ]
        fail = () if case.expect == "error" else tuple(detail)
        return Outcome(file, case.name, case.expect, actual, fail)
    picked = _select(case, report.results)
    if isinstance(picked, str):
        return Outcome(file, case.name, case.expect, "?", (picked,))
    actual = "allowed" if picked.allowed else "denied"
    failures: list[str] = []
    if actual != case.expect:
        failures.append(f"expected {case.expect}, got {actual}")
    messages = [v.message for v in picked.violations]
    rest = list(messages)
    for exact in case.violations or ():
        if exact in rest:
            rest.remove(exact)
        else:
            failures.append(f"missing violation: {exact}")
    for fragment in case.contains:
        match = next((m for m in rest if fragment in m), None)
        if match is None:
            failures.append(f"no violation contains: {fragment}")
        else:
            rest.remove(match)
    if (case.violations is not None or case.contains) and rest:
        failures += [f"unexpected violation: {m}" for m in rest]
    for fragment in case.warnings:
        if not any(fragment in w for w in picked.warnings):
            failures.append(f"no warning contains: {fragment}")
    if case.patch is not None and list(case.patch) != list(picked.patch):
        failures.append(f"patch differs: got {list(picked.patch)}")
    return Outcome(file, case.name, case.expect, actual, tuple(failures))


def run_file(test_file: TestFile, engine: PolicyEngine) -> list[Outcome]:
    """Every case of a test file (``engine`` built with the file's options)."""
    return [run_case(engine, c, str(test_file.path)) for c in test_file.cases]
