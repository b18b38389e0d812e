"""Compiling an ``openAPIV3Schema`` into a `Node` tree, once per CRD version.

Each node gets its structure (type, properties, items, additional properties, defaults), its
constraints (enum, pattern, lengths, bounds, list type), its combinators and its CEL rules,
then the facts the walks test instead of re-reading the schema (`Node.accepts`,
`Node.plain_string`, `Node.has_rules_below`...).
"""

from __future__ import annotations

import re
from typing import Any, Final

from shared.policy.cel import CelCompileError, FastPathCompiler, compile_cel
from shared.policy.schema.node import Node, Rule, SchemaError, join
from shared.policy.verdict import REASONS

_ACCEPTS: Final[dict[str, frozenset[type]]] = {
    "string": frozenset({str}),
    "object": frozenset({dict}),
    "array": frozenset({list}),
    "boolean": frozenset({bool}),
    "integer": frozenset({int}),
    "number": frozenset({int, float}),
    "int-or-string": frozenset({int, str}),
}


def compile_schema(
    schema: dict[str, Any], where: str = "", *, fast_path: FastPathCompiler | None = None
) -> Node:
    """Compile an openAPIV3Schema (or a sub-schema) into a `Node` tree.

    ``fast_path``: an accelerator that gives each CEL rule a fast path (none: closures only).
    """
    if not isinstance(schema, dict):
        raise SchemaError(f"{where or '<root>'}: schema must be an object")
    node = Node()
    _compile_structure(node, schema, where, fast_path)
    _compile_constraints(node, schema, where)
    _compile_combinators(node, schema, where, fast_path)
    node.rules = tuple(
        _compile_rule(rule, where, i, self_is_dict=node.type == "object", fast_path=fast_path)
        for i, rule in enumerate(schema.get("x-kubernetes-validations", ()))
    )
    _derive_facts(node)
    return node


def _compile_structure(
    node: Node, schema: dict[str, Any], where: str, fast_path: FastPathCompiler | None
) -> None:
    """Type, extensions, properties (with their defaults), required, additional, items."""
    node.type = schema.get("type")
    node.nullable = bool(schema.get("nullable", False))
    node.int_or_string = bool(schema.get("x-kubernetes-int-or-string", False))
    node.preserve_unknown = bool(schema.get("x-kubernetes-preserve-unknown-fields", False))
    node.embedded = bool(schema.get("x-kubernetes-embedded-resource", False))
    node.schema_type_name = node.type or ("string" if node.int_or_string else "object")
    if "properties" in schema:
        node.properties = {
            name: compile_schema(sub, join(where, name), fast_path=fast_path)
            for name, sub in schema["properties"].items()
        }
        node.defaults = tuple(
            (name, sub["default"])
            for name, sub in schema["properties"].items()
            if isinstance(sub, dict) and "default" in sub
        )
    node.required = tuple(schema.get("required", ()))
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        node.additional = compile_schema(additional, join(where, "*"), fast_path=fast_path)
        node.drops_null_additional = not node.additional.nullable and "default" not in additional
    if isinstance(schema.get("items"), dict):
        node.items = compile_schema(schema["items"], f"{where}[*]", fast_path=fast_path)


def _compile_constraints(node: Node, schema: dict[str, Any], where: str) -> None:
    """enum, pattern, format, lengths, counts, numeric bounds, list type."""
    if "enum" in schema:
        node.enum = tuple(schema["enum"])
    if "pattern" in schema:
        node.pattern_text = schema["pattern"]
        try:
            node.pattern = re.compile(node.pattern_text)
        except re.error as exc:
            raise SchemaError(f"{where}: invalid pattern {node.pattern_text!r}: {exc}") from exc
    node.format = schema.get("format")
    node.min_length = schema.get("minLength")
    node.max_length = schema.get("maxLength")
    node.min_items = schema.get("minItems")
    node.max_items = schema.get("maxItems")
    node.min_properties = schema.get("minProperties")
    node.max_properties = schema.get("maxProperties")
    node.minimum = schema.get("minimum")
    node.maximum = schema.get("maximum")
    node.exclusive_minimum = bool(schema.get("exclusiveMinimum", False))
    node.exclusive_maximum = bool(schema.get("exclusiveMaximum", False))
    node.multiple_of = schema.get("multipleOf")
    node.list_type = schema.get("x-kubernetes-list-type")
    node.map_keys = tuple(schema.get("x-kubernetes-list-map-keys", ()))


def _compile_combinators(
    node: Node, schema: dict[str, Any], where: str, fast_path: FastPathCompiler | None
) -> None:
    """allOf, anyOf, oneOf, not (validated at the same path)."""

    def sub(s: dict[str, Any]) -> Node:
        return compile_schema(s, where, fast_path=fast_path)

    node.all_of = tuple(sub(s) for s in schema.get("allOf", ()))
    node.any_of = tuple(sub(s) for s in schema.get("anyOf", ()))
    node.one_of = tuple(sub(s) for s in schema.get("oneOf", ()))
    if isinstance(schema.get("not"), dict):
        node.not_ = sub(schema["not"])


def _derive_facts(node: Node) -> None:
    """The precomputed facts the walks test (see `Node`)."""
    children = [
        *(node.properties or {}).values(),
        *(c for c in (node.additional, node.items) if c is not None),
    ]
    node.has_rules_below = bool(node.rules) or any(c.has_rules_below for c in children)
    node.has_defaults_below = bool(node.defaults) or any(c.has_defaults_below for c in children)
    node.accepts = _ACCEPTS.get("int-or-string" if node.int_or_string else node.type or "")
    node.string_checks = any(
        x is not None for x in (node.pattern, node.format, node.min_length, node.max_length)
    )
    node.number_checks = any(x is not None for x in (node.minimum, node.maximum, node.multiple_of))
    node.combinators = bool(node.all_of or node.any_of or node.one_of or node.not_ is not None)
    node.plain_string = (
        node.type == "string"
        and not node.nullable
        and not node.int_or_string
        and node.enum is None
        and not node.string_checks
        and not node.rules
        and not node.combinators
    )


def _compile_rule(
    raw: dict[str, Any],
    where: str,
    index: int,
    *,
    self_is_dict: bool,
    fast_path: FastPathCompiler | None,
) -> Rule:
    """One rule; ``self_is_dict``: it sits on an object schema (rules run after type checks)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("rule"), str):
        raise SchemaError(
            f"{where or '<root>'}: x-kubernetes-validations[{index}].rule is required"
        )
    try:
        program = compile_cel(raw["rule"], self_is_dict=self_is_dict, fast_path=fast_path)
        message_expression = (
            compile_cel(raw["messageExpression"], self_is_dict=self_is_dict)
            if raw.get("messageExpression")
            else None
        )
    except CelCompileError as exc:
        raise SchemaError(f"{where or '<root>'}: x-kubernetes-validations[{index}]: {exc}") from exc
    reason = raw.get("reason") or "FieldValueInvalid"
    if reason not in REASONS:
        raise SchemaError(
            f"{where or '<root>'}: x-kubernetes-validations[{index}].reason {reason!r}"
        )
    return Rule(
        program=program,
        message=raw.get("message"),
        message_expression=message_expression,
        error_type=REASONS[reason],
        field_path=raw.get("fieldPath") or "",
        transition="oldSelf" in program.identifiers,
        optional_old_self=bool(raw.get("optionalOldSelf", False)),
        rule_id=f"cel:{where or '<root>'}#{index}",
    )
