"""Run the policy engine over parsed inputs and collect a `Report` (pure, no output)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.check.inputs import Document, Problem
from shared.check.kinds import CHECK, SKIP, KindFilter, classify
from shared.check.report import Report, Result, Skipped
from shared.policy.engine import PolicyEngine, json_copy, split_api_version
from shared.policy.verdict import NO_MATCH, Verdict, Violation

ObjectKey = tuple[str, str, str, str]


def object_key(obj: dict[str, Any], default_namespace: str) -> ObjectKey:
    """(group, kind, namespace, name) used to pair new objects with old ones for UPDATE."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    group = split_api_version(str(obj.get("apiVersion", "")))[0]
    return (
        group,
        str(obj.get("kind", "")),
        str(meta.get("namespace") or default_namespace),
        str(meta.get("name", "")),
    )


def check_documents(
    engine: PolicyEngine,
    items: Iterable[Document | Problem],
    old: dict[ObjectKey, dict[str, Any]] | None = None,
    kinds: KindFilter | None = None,
) -> Report:
    """Verdicts for every governed document; problems and skipped kinds are counted."""
    report = Report()
    default_ns = engine.config.default_namespace
    kinds = kinds or KindFilter()
    for item in items:
        if isinstance(item, Problem):
            report.problems.append(item)
            continue
        obj = item.obj
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        assert isinstance(meta, dict)
        what = classify(engine, obj["apiVersion"], obj["kind"], kinds)
        if what == SKIP:
            report.skipped.append(
                Skipped(
                    file=item.file,
                    index=item.index,
                    line=item.line,
                    api_version=obj["apiVersion"],
                    kind=obj["kind"],
                    namespace=str(meta.get("namespace") or default_ns),
                    name=str(meta.get("name") or meta.get("generateName") or ""),
                    reason="not a kind kagent-substrate checks",
                )
            )
            continue
        old_obj = old.get(object_key(obj, default_ns)) if old else None
        operation = "UPDATE" if old_obj is not None else "CREATE"
        if what == CHECK:
            # The object was parsed for this check alone: judge it in place (no deep copy)
            # unless YAML aliases made parts of it shared; an old object may pair with
            # several new ones, so it is copied.
            verdict = engine.admit(
                obj,
                old=json_copy(old_obj)
                if old_obj is not None and not item.shares_values
                else old_obj,
                operation=operation,
                duplicates=item.duplicates,
                copy=item.shares_values,
            )
        else:
            verdict = Verdict(
                allowed=False,
                violations=(Violation("kind", NO_MATCH, what, "input:kind", line=item.line),),
            )
        report.results.append(
            Result(
                file=item.file,
                index=item.index,
                line=item.line,
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                namespace=str(meta.get("namespace") or default_ns),
                name=str(meta.get("name") or meta.get("generateName") or ""),
                allowed=verdict.allowed,
                operation=operation,
                violations=tuple(v.with_line(item.line_of(v.path)) for v in verdict.violations),
                warnings=verdict.warnings,
                warning_rules=verdict.warning_rules,
                patch=verdict.patch,
            )
        )
    return report
