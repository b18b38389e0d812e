"""The policy engine: the exact admission verdict for one object.

``PolicyEngine.admit`` does what a kube-apiserver holding our CRDs plus our webhook would do:
prune unknown fields (reported, as ``kubectl``'s default strict field validation does), apply
schema defaults, apply our mutation, validate metadata, schema and every CEL rule (transition
rules on UPDATE), then run the webhook-only rules. Rules are compiled once, when the engine is
built; ``admit`` never reads the cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from shared import bundled
from shared.errors import InputError
from shared.policy.admission_rules import RULES
from shared.policy.crdvalidator import CRDValidator
from shared.policy.mutation import apply_patch, mutation_patch
from shared.policy.verdict import (
    DUPLICATE_FIELD,
    FORBIDDEN,
    INVALID,
    UNKNOWN_FIELD,
    Verdict,
    Violation,
)

_NO_WORK_OPERATIONS: Final = frozenset({"DELETE", "CONNECT"})
TOO_DEEP: Final = Violation(
    "",
    FORBIDDEN,
    "the object is nested too deeply to evaluate (hundreds of levels); flatten it",
    "input:depth",
)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON-like value (much faster than copy.deepcopy)."""
    if type(value) is dict:
        return {k: json_copy(v) for k, v in value.items()}
    if type(value) is list:
        return [json_copy(v) for v in value]
    return value


def split_api_version(api_version: str) -> tuple[str, str]:
    """``kagent.dev/v1alpha2`` -> (``kagent.dev``, ``v1alpha2``); ``v1`` -> (``""``, ``v1``)."""
    group, _, version = api_version.rpartition("/")
    return group, version


def load_crds(crd_dir: Path) -> list[dict[str, Any]]:
    """Read every CustomResourceDefinition document under ``crd_dir`` (recursively)."""
    if not crd_dir.is_dir():
        raise InputError(
            f"CRD directory {str(crd_dir)!r} does not exist; pass --crds DIR "
            "(a folder holding the kagent-substrate CustomResourceDefinitions)"
        )
    crds: list[dict[str, Any]] = []
    for path in sorted(p for p in crd_dir.rglob("*") if p.suffix in (".yaml", ".yml", ".json")):
        try:
            docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise InputError(f"cannot read CRD file {_crd_problem(path, exc)}") from exc
        crds += [
            d for d in docs if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"
        ]
    if not crds:
        raise InputError(f"no CustomResourceDefinition found in {str(crd_dir)!r}")
    return crds


def _crd_problem(path: Path, exc: Exception) -> str:
    """``FILE:LINE: problem`` for an unreadable CRD file, without the YAML library's wording
    of where (``in "<unicode string>", line 2, column 1``)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        if mark is not None:
            what += f" (line {mark.line + 1} column {mark.column + 1})"
        return f"{where}: invalid YAML: {what}"
    if isinstance(exc, UnicodeDecodeError):
        return f"{path}: not UTF-8 text (byte {exc.start})"
    if isinstance(exc, OSError):
        return f"{path}: {exc.strerror or exc}"
    return f"{path}: invalid YAML: {exc}"


UNKNOWN_FIELD_RULE: Final = "schema:unknown-field"
DUPLICATE_RULE: Final = "input:duplicate-field"
FIELD_VALIDATIONS: Final = ("Strict", "Warn", "Ignore")
"""The apiserver's ``fieldValidation`` values (kubectl ``--validate=strict|warn|ignore``)."""


def field_findings(
    mode: str, unknown: list[str], duplicates: list[str]
) -> tuple[list[Violation], list[tuple[str, str]]]:
    """Unknown and duplicate fields as the apiserver reports them under ``fieldValidation``:
    errors (Strict), warnings (Warn) or nothing (Ignore: pruned; a duplicate's last value)."""
    texts = [(p, f'unknown field "{p}"', UNKNOWN_FIELD, UNKNOWN_FIELD_RULE) for p in unknown]
    texts += [(p, f'duplicate field "{p}"', DUPLICATE_FIELD, DUPLICATE_RULE) for p in duplicates]
    if mode == "Strict":
        return [Violation(p, kind, text, rule) for p, text, kind, rule in texts], []
    if mode == "Warn":
        return [], [(rule, text) for _, text, _, rule in texts]
    return [], []


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Settings that change verdicts."""

    default_worker_pool: str | None = None
    """``[NAMESPACE/]NAME``: pinned into ``spec.substrate.workerPoolRef`` of substrate objects
    that name none, when the pool is in the object's namespace (or no namespace is given)."""
    default_namespace: str = "default"
    """Namespace assumed for objects that do not say (as kubectl's default context)."""
    field_validation: str = "Strict"
    """Unknown and duplicate fields: ``Strict`` (errors, kubectl's default), ``Warn``
    (warnings) or ``Ignore``; a request's own ``fieldValidation`` overrides it."""


class PolicyEngine:
    """Verdicts for the kinds of a CRD set; build once per process."""

    def __init__(self, validators: list[CRDValidator], config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.validators = validators
        self._by_gk: dict[tuple[str, str], CRDValidator] = {
            (v.group, v.kind): v for v in validators
        }

    @classmethod
    def from_dir(
        cls,
        crd_dir: Path | None = None,
        config: EngineConfig | None = None,
        *,
        accelerate: bool | None = None,
    ) -> PolicyEngine:
        """Load and compile the CRDs of ``crd_dir`` (default: the chart's ``crds/``).

        ``accelerate=False``: without the generated walk and CEL fast paths (same verdicts).
        """
        crds = load_crds(crd_dir or bundled.crd_dir())
        return cls([CRDValidator.from_crd(c, accelerate=accelerate) for c in crds], config)

    def validator_for(self, api_version: str, kind: str) -> CRDValidator | None:
        """The validator for a group/kind, whatever the version."""
        return self._by_gk.get((split_api_version(api_version)[0], kind))

    def governs(self, api_version: str, kind: str) -> bool:
        """Whether objects of this apiVersion/kind are checked."""
        return self.validator_for(api_version, kind) is not None

    def admit(
        self,
        obj: dict[str, Any],
        *,
        old: dict[str, Any] | None = None,
        operation: str = "CREATE",
        namespace: str | None = None,
        copy: bool = True,
        webhook: bool = True,
        field_validation: str | None = None,
        duplicates: Sequence[str] = (),
    ) -> Verdict:
        """The admission verdict for ``obj`` (``old`` for UPDATE).

        ``webhook=False`` gives the verdict of an apiserver with only the CRDs registered: no
        mutation and no webhook-only rule (what `export-vap` users without the webhook get).

        ``obj`` and ``old`` are not modified unless ``copy=False``, which saves a deep copy for
        callers that own a freshly decoded request (the webhook): they are then pruned and
        defaulted in place. ``duplicates`` are the paths of fields the decoder saw twice (it
        kept the last value); ``field_validation`` overrides the configured mode.
        """
        mode = field_validation or self.config.field_validation
        try:
            return self._admit(obj, old, operation, namespace, copy, mode, duplicates, webhook)
        except RecursionError:  # hundreds of nesting levels: a denial, never an internal error
            return Verdict(allowed=False, violations=(TOO_DEEP,))

    def _admit(
        self,
        obj: dict[str, Any],
        old: dict[str, Any] | None,
        operation: str,
        namespace: str | None,
        copy: bool,
        mode: str,
        duplicates: Sequence[str],
        webhook: bool = True,
    ) -> Verdict:
        """`admit` without the depth guard."""
        if operation in _NO_WORK_OPERATIONS:
            return Verdict(allowed=True)
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        validator = self.validator_for(api_version, kind)
        if validator is None:
            return Verdict(
                allowed=True,
                warnings=(
                    f"{kind or '<no kind>'} ({api_version or '<no apiVersion>'}) is not governed by kagent-substrate; not checked",
                ),
                skipped=True,
                warning_rules=("webhook:unknown-kind",),
            )
        group, version = split_api_version(api_version)
        if version not in validator.served_versions:
            served = ", ".join(f"{group}/{v}" for v in validator.served_versions)
            return Verdict(
                allowed=False,
                violations=(
                    Violation(
                        "apiVersion",
                        INVALID,
                        f"{kind} is served as {served}",
                        "schema:version",
                        api_version,
                    ),
                ),
            )
        meta = obj.get("metadata")
        meta_ns = meta.get("namespace") if isinstance(meta, dict) else None
        if not isinstance(meta_ns, str):  # not a namespace (metadata validation says so)
            meta_ns = None
        ns = namespace or meta_ns or self.config.default_namespace
        work = json_copy(obj) if copy else obj
        old_work = (json_copy(old) if copy else old) if old is not None else None
        if validator.has_status(version):
            work.pop("status", None)
            if old_work is not None and "status" in old_work:
                work["status"] = old_work["status"]
        if old_work is not None:
            validator.default(version, old_work)
        # The mutation reads only fields without defaults, so it can run before the fused
        # prune/default/validate walk (the apiserver defaults first; the result is the same).
        patch = mutation_patch(kind, work, ns, self.config.default_worker_pool) if webhook else []
        apply_patch(work, patch)
        unknown, found = validator.admit(version, work, old_work)
        violations, warnings = field_findings(mode, unknown, list(duplicates))
        # Strict field validation refuses at decoding (400), before any validation or webhook.
        refused_at_decoding = bool(violations)
        if not refused_at_decoding:
            violations += found
        # The apiserver calls validating webhooks only for objects its schema accepted.
        rules = RULES.get((group, kind)) if webhook and not violations else None
        if rules is not None:
            extra, warned = rules(work, ns)
            violations += extra
            warnings += warned
        return Verdict(
            allowed=not violations,
            violations=tuple(violations),
            warnings=tuple(text for _, text in warnings),
            patch=tuple(patch),
            warning_rules=tuple(rule for rule, _ in warnings),
        )
