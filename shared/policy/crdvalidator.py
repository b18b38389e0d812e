"""One validator per CustomResourceDefinition, built once: prune, default, validate.

This is the part of the kube-apiserver that handles custom resources, as a pure library: the
policy engine (`check`, the webhook) and the devstack's API server share it, so all three give
the same verdict for the same object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.errors import InputError
from shared.policy.accel.cel_codegen import compile_fast
from shared.policy.accel.schema_codegen import Walk, compile_walk
from shared.policy.schema import (
    ABSENT,
    Context,
    Node,
    Rule,
    SchemaError,
    blocked_violation,
    compile_schema,
    prune_and_default,
    validate,
)
from shared.policy.schema.celcheck import check_rules, meter_rules
from shared.policy.schema.objectmeta import OBJECT_META_FIELDS, validate_metadata
from shared.policy.verdict import (
    NOT_SUPPORTED,
    REQUIRED,
    TOO_LONG,
    TOO_MANY,
    TYPE_INVALID,
    Violation,
)

ACCELERATE = True
"""Whether validators are compiled with the accelerators when the caller does not say (tests
set it from ``KAGENT_POLICY_ACCELERATE=0`` to run everything on the plain algorithms)."""

#: Schema error types after which the apiserver does not run CEL rules (``hasBlockingErr``).
BLOCKING_TYPES = frozenset({NOT_SUPPORTED, REQUIRED, TOO_LONG, TOO_MANY, TYPE_INVALID})


class CRDInvalid(InputError):
    """A CRD the apiserver refuses at creation; ``causes`` are its field errors."""

    def __init__(self, name: str, causes: list[str]) -> None:
        super().__init__(f"CustomResourceDefinition {name!r} is invalid: " + "; ".join(causes))
        self.causes = causes


@dataclass(frozen=True, slots=True)
class _Version:
    name: str
    served: bool
    storage: bool
    root: Node
    walk: Walk
    """`root`'s validation walk, specialised (same effects as ``validate(root, ...)``)."""
    printer_columns: tuple[dict[str, Any], ...]
    status: bool
    scale: bool


class CRDValidator:
    """Validator for one CRD (all versions), compiled once from the CRD object."""

    def __init__(self, crd: dict[str, Any], versions: dict[str, _Version]) -> None:
        spec = crd["spec"]
        names = spec["names"]
        self.crd = crd
        self.name: str = crd.get("metadata", {}).get("name", "")
        self.group: str = spec["group"]
        self.kind: str = names["kind"]
        self.plural: str = names["plural"]
        self.singular: str = names.get("singular") or self.kind.lower()
        self.short_names: list[str] = list(names.get("shortNames") or [])
        self.categories: list[str] = list(names.get("categories") or [])
        self.list_kind: str = names.get("listKind") or f"{self.kind}List"
        self.scope: str = spec.get("scope", "Namespaced")
        self._versions = versions

    @classmethod
    def from_crd(cls, crd: Any, *, accelerate: bool | None = None) -> CRDValidator:
        """Compile a CRD object; raise `InputError` naming what is wrong with it.

        ``accelerate=False`` compiles without the accelerators (`shared.policy.accel`): the
        plain walk and the CEL closures only, same verdicts, slower. None: `ACCELERATE`.
        """
        if accelerate is None:
            accelerate = ACCELERATE
        if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
            raise InputError("not a CustomResourceDefinition object")
        where = (crd.get("metadata") or {}).get("name", "<unnamed CRD>")
        spec = crd.get("spec")
        if not isinstance(spec, dict):
            raise InputError(f"CRD {where}: spec is required")
        for key in ("group", "names", "versions"):
            if not spec.get(key):
                raise InputError(f"CRD {where}: spec.{key} is required")
        names = spec["names"]
        if not isinstance(names, dict) or not names.get("kind") or not names.get("plural"):
            raise InputError(f"CRD {where}: spec.names.kind and spec.names.plural are required")
        versions: dict[str, _Version] = {}
        for i, raw in enumerate(spec["versions"]):
            if not isinstance(raw, dict) or not raw.get("name"):
                raise InputError(f"CRD {where}: spec.versions[{i}].name is required")
            schema = ((raw.get("schema") or {}).get("openAPIV3Schema")) or {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
            }
            try:
                root = compile_schema(
                    _with_root_fields(schema), fast_path=compile_fast if accelerate else None
                )
            except SchemaError as exc:
                raise InputError(f"CRD {where} version {raw['name']}: {exc}") from exc
            problems, costs = check_rules(root)
            if problems:
                raise CRDInvalid(where, [f"{_schema_path(spec, i)}.{p}" for p in problems])
            if costs.may_exceed_runtime_limits():
                meter_rules(root)
            subresources = raw.get("subresources") or {}
            versions[raw["name"]] = _Version(
                name=raw["name"],
                served=bool(raw.get("served", True)),
                storage=bool(raw.get("storage", False)),
                root=root,
                walk=compile_walk(root) if accelerate else _plain_walk(root),
                printer_columns=tuple(raw.get("additionalPrinterColumns") or ()),
                status="status" in subresources,
                scale="scale" in subresources,
            )
        return cls(crd, versions)

    # --- description -----------------------------------------------------------------------

    @property
    def served_versions(self) -> list[str]:
        """Names of served versions, in CRD order."""
        return [v.name for v in self._versions.values() if v.served]

    def cel_rules(self) -> list[Rule]:
        """Every compiled CEL rule of the served versions (for rule catalogs), in schema order."""
        found: dict[str, Rule] = {}
        for version in self._versions.values():
            if not version.served:
                continue
            stack = [version.root]
            while stack:
                node = stack.pop()
                found.update((r.rule_id, r) for r in node.rules if r.rule_id not in found)
                children = [*(node.properties or {}).values(), node.additional, node.items]
                children += [*node.all_of, *node.any_of, *node.one_of, node.not_]
                stack.extend(reversed([c for c in children if c is not None]))
        return list(found.values())

    @property
    def storage_version(self) -> str:
        """The storage version (the first version if none is marked)."""
        for v in self._versions.values():
            if v.storage:
                return v.name
        return next(iter(self._versions))

    def printer_columns(self, version: str) -> list[dict[str, Any]]:
        """additionalPrinterColumns of ``version``."""
        return list(self._version(version).printer_columns)

    def schema_root(self, version: str) -> Node:
        """The compiled schema of ``version`` (with apiVersion, kind and metadata at the root)."""
        return self._version(version).root

    def has_status(self, version: str) -> bool:
        """Whether the status subresource is enabled."""
        return self._version(version).status

    def has_scale(self, version: str) -> bool:
        """Whether the scale subresource is enabled."""
        return self._version(version).scale

    @property
    def namespaced(self) -> bool:
        """True for Namespaced scope."""
        return self.scope == "Namespaced"

    def _version(self, version: str) -> _Version:
        try:
            return self._versions[version]
        except KeyError:
            raise InputError(
                f"{self.kind}.{self.group} has no version {version!r}; served: {', '.join(self.served_versions)}"
            ) from None

    # --- admission steps --------------------------------------------------------------------

    def prune(self, version: str, obj: dict[str, Any]) -> list[str]:
        """Drop unknown fields in place (and apply defaults); return the dropped paths."""
        unknown: list[str] = []
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            for key in [k for k in meta if k not in OBJECT_META_FIELDS]:
                unknown.append(f"metadata.{key}")
                del meta[key]
        prune_and_default(self._version(version).root, obj, "", unknown)
        return unknown

    def default(self, version: str, obj: dict[str, Any]) -> None:
        """Apply schema defaults in place (pruning unknown fields as the apiserver does)."""
        prune_and_default(self._version(version).root, obj, "", None)

    def validate(
        self, version: str, obj: dict[str, Any], old: dict[str, Any] | None = None
    ) -> list[Violation]:
        """metadata + structural schema + list-map/set + CEL (+ transition rules with ``old``)."""
        return self._validate(version, obj, old, Context())

    def admit(
        self, version: str, obj: dict[str, Any], old: dict[str, Any] | None = None
    ) -> tuple[list[str], list[Violation]]:
        """Prune, default and validate in one walk (``obj`` is changed in place): the unknown
        field paths and the violations, exactly as `prune` + `validate` would give."""
        unknown: list[str] = []
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            for key in [k for k in meta if k not in OBJECT_META_FIELDS]:
                unknown.append(f"metadata.{key}")
                del meta[key]
        return unknown, self._validate(version, obj, old, Context(unknown=unknown))

    def _validate(
        self, version: str, obj: dict[str, Any], old: dict[str, Any] | None, ctx: Context
    ) -> list[Violation]:
        v = self._version(version)
        errors = validate_metadata(obj.get("metadata"), self.namespaced)
        ctx.errors = errors
        v.walk(obj, ABSENT if old is None else old, "", ctx)
        if any(e.type in BLOCKING_TYPES for e in errors):
            if v.root.has_rules_below:
                errors.append(blocked_violation())
        else:
            errors.extend(ctx.cel_errors)
        return errors


def _schema_path(spec: dict[str, Any], index: int) -> str:
    """Where the apiserver reports a version's schema: ``spec.validation`` when every version
    has the same schema (it keeps one copy), else ``spec.versions[i].schema``."""
    schemas = [(v.get("schema") or {}).get("openAPIV3Schema") for v in spec["versions"]]
    if all(s == schemas[0] for s in schemas):
        return "spec.validation"
    return f"spec.versions[{index}].schema"


def _plain_walk(root: Node) -> Walk:
    """The interpreter's walk (what `compile_walk` specialises)."""

    def walk(value: Any, old: Any, path: str, ctx: Context) -> None:
        validate(root, value, old, path, ctx)

    return walk


def _with_root_fields(schema: dict[str, Any]) -> dict[str, Any]:
    """The apiserver always accepts apiVersion, kind and metadata at the root."""
    props = dict(schema.get("properties") or {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    meta = dict(props.get("metadata") or {"type": "object"})
    meta["x-kubernetes-preserve-unknown-fields"] = True
    meta.setdefault("type", "object")
    props["metadata"] = meta
    return {**schema, "properties": props}
