"""Validating a value against a compiled schema: types, enums, string and number bounds,
required properties, list types, combinators, then the CEL rules of each node.

With ``Context.unknown`` set, one walk also prunes unknown fields and applies defaults at each
object before validating it (the apiserver's prune, default, validate, fused). A type error
anywhere blocks every CEL rule (the caller reports that), as the apiserver does.
"""

from __future__ import annotations

from typing import Any, Final

from shared.policy import formats
from shared.policy.golang import INT64_MAX, INT64_MIN, go_repr, to_go_type_name
from shared.policy.schema.listtype import (
    check_counts,
    check_item_counts,
    check_map_keys,
    check_set,
    map_key,
    old_items_by_key,
)
from shared.policy.schema.node import ABSENT, Context, Node, join
from shared.policy.schema.pruning import prune_object
from shared.policy.schema.rules import run_rules
from shared.policy.verdict import (
    INVALID,
    NOT_SUPPORTED,
    REQUIRED,
    TOO_LONG,
    TYPE_INVALID,
    Violation,
    too_long,
)

_JSON_TYPE: Final = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    dict: "object",
    list: "array",
}


def json_type(value: Any) -> str:
    """kube-openapi's name for a JSON value's type."""
    if value is None:
        return "null"
    if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
        return "number"  # the apiserver decodes an integer beyond int64 as a float64
    return _JSON_TYPE.get(type(value), to_go_type_name(value))


def validate(node: Node, value: Any, old: Any, path: str, ctx: Context) -> None:
    """Validate ``value`` against ``node``; ``old`` is the correlated old value or ABSENT."""
    t = type(value)
    if t is int and not INT64_MIN <= value <= INT64_MAX:
        t = float  # decoded as a float64 by the apiserver: never an integer
    if value is None:
        if node.nullable:
            return
        if node.accepts is not None:
            ctx.type_error = True
            ctx.errors.append(_type_violation(node, value, path))
            return
    elif node.accepts is not None and t not in node.accepts and not _integral_float(node, value):
        ctx.type_error = True
        ctx.errors.append(_type_violation(node, value, path))
        _check_enum(node, value, path, ctx)  # kube-openapi runs the enum check all the same
        return
    _check_enum(node, value, path, ctx)
    if t is dict:
        _validate_object(node, value, old, path, ctx)
    elif t is list:
        _validate_array(node, value, old, path, ctx)
    elif t is str:
        if node.string_checks:
            _validate_string(node, value, path, ctx.errors)
    elif (t is int or t is float) and node.number_checks:
        _validate_number(node, value, path, ctx.errors)
    if node.combinators:
        _validate_combinators(node, value, path, ctx)
    if node.rules and ctx.run_cel:
        run_rules(node, value, old, path, ctx)


_JSON_SAFE_INTEGER = 2**53 - 1


def _integral_float(node: Node, value: Any) -> bool:
    """kube-openapi's type check takes a float64 holding an integer within +-(2**53 - 1) as an
    integer (``2.0`` where an integer or int-or-string is expected)."""
    return (
        type(value) is float
        and node.accepts is not None
        and int in node.accepts
        and -_JSON_SAFE_INTEGER <= value <= _JSON_SAFE_INTEGER
        and value == round(value)
    )


def _enum_eq(value: Any, allowed: Any) -> bool:
    if isinstance(value, bool) != isinstance(allowed, bool):
        return False
    return bool(value == allowed)


def _check_enum(node: Node, value: Any, path: str, ctx: Context) -> None:
    if node.enum is not None and not any(_enum_eq(value, e) for e in node.enum):
        supported = ", ".join(
            '"' + (e if isinstance(e, str) else go_repr(e)) + '"' for e in node.enum
        )
        ctx.errors.append(
            Violation(path, NOT_SUPPORTED, f"supported values: {supported}", "schema:enum", value)
        )


def _type_violation(node: Node, value: Any, path: str) -> Violation:
    expected = node.type or "string"
    if node.int_or_string:
        expected = "integer,string"
    detail = f'{path} in body must be of type {expected}: "{json_type(value)}"'
    return Violation(path, TYPE_INVALID, detail, "schema:type", json_type(value))


def _validate_string(node: Node, value: str, path: str, errors: list[Violation]) -> None:
    # kube-openapi's string validator stops at the first of maxLength, minLength, pattern.
    if node.max_length is not None and len(value) > node.max_length:
        errors.append(
            Violation(path, TOO_LONG, too_long(node.max_length), "schema:maxLength", value)
        )
    elif node.min_length is not None and len(value) < node.min_length:
        detail = f"{path} in body should be at least {node.min_length} chars long"
        errors.append(Violation(path, INVALID, detail, "schema:minLength", value))
    elif node.pattern is not None and node.pattern.search(value) is None:
        detail = f"{path} in body should match '{node.pattern_text}'"
        errors.append(Violation(path, INVALID, detail, "schema:pattern", value))
    if node.format is not None:
        problem = formats.check(node.format, value)
        if problem is not None:
            detail = f"{path} in body must be of type {node.format}: {go_repr(value)}"
            errors.append(Violation(path, INVALID, detail, "schema:format", value))


def _validate_number(node: Node, value: float, path: str, errors: list[Violation]) -> None:
    if node.maximum is not None and (
        value > node.maximum or (node.exclusive_maximum and value == node.maximum)
    ):
        op = "less than" if node.exclusive_maximum else "less than or equal to"
        detail = f"{path} in body should be {op} {go_repr(node.maximum)}"
        errors.append(Violation(path, INVALID, detail, "schema:maximum", value))
    if node.minimum is not None and (
        value < node.minimum or (node.exclusive_minimum and value == node.minimum)
    ):
        op = "greater than" if node.exclusive_minimum else "greater than or equal to"
        detail = f"{path} in body should be {op} {go_repr(node.minimum)}"
        errors.append(Violation(path, INVALID, detail, "schema:minimum", value))
    if node.multiple_of and (value / node.multiple_of) % 1 != 0:
        detail = f"{path} in body should be a multiple of {go_repr(node.multiple_of)}"
        errors.append(Violation(path, INVALID, detail, "schema:multipleOf", value))


def _validate_object(node: Node, value: dict[str, Any], old: Any, path: str, ctx: Context) -> None:
    errors = ctx.errors
    if ctx.unknown is not None:
        prune_object(node, value, path, ctx.unknown)
    for name in node.required:
        if name not in value:
            errors.append(Violation(join(path, name), REQUIRED, "", "schema:required"))
    check_counts(
        value, node.max_properties, node.min_properties, "Properties", "properties", path, errors
    )
    old_map = old if isinstance(old, dict) else None
    props = node.properties
    prefix = path + "." if path else ""
    for key, sub in value.items():
        child = props.get(key) if props is not None else None
        if child is None:
            child = node.additional
            if child is None:
                continue
        if child.plain_string and type(sub) is str:
            continue
        old_sub = old_map.get(key, ABSENT) if old_map is not None else ABSENT
        validate(child, sub, old_sub, prefix + key, ctx)


def _validate_array(node: Node, value: list[Any], old: Any, path: str, ctx: Context) -> None:
    errors = ctx.errors
    check_item_counts(node, value, path, errors)
    old_by_key = old_items_by_key(node, old)
    if node.list_type == "map" and node.map_keys:
        check_map_keys(node, value, path, errors)
    elif node.list_type == "set":
        check_set(value, path, errors)
    item = node.items
    if item is None:
        return
    for i, sub in enumerate(value):
        old_item: Any = ABSENT
        if old_by_key is not None and isinstance(sub, dict):
            old_item = old_by_key.get(map_key(node.map_keys, sub), ABSENT)
        validate(item, sub, old_item, f"{path}[{i}]", ctx)


def _validate_combinators(node: Node, value: Any, path: str, ctx: Context) -> None:
    def passes(sub: Node) -> bool:
        probe = Context(run_cel=False)
        validate(sub, value, ABSENT, path, probe)
        return not probe.errors

    for sub in node.all_of:
        validate(sub, value, ABSENT, path, Context(errors=ctx.errors, run_cel=False))
    if node.any_of and not any(passes(s) for s in node.any_of):
        detail = f"{path} in body must be of type {'/'.join(s.type or 'any' for s in node.any_of)}"
        ctx.errors.append(Violation(path, INVALID, detail, "schema:anyOf", value))
    if node.one_of and sum(1 for s in node.one_of if passes(s)) != 1:
        ctx.errors.append(
            Violation(
                path,
                INVALID,
                f"{path} in body must validate one and only one schema (oneOf)",
                "schema:oneOf",
                value,
            )
        )
    if node.not_ is not None and passes(node.not_):
        ctx.errors.append(
            Violation(
                path,
                INVALID,
                f"{path} in body must not validate the schema (not)",
                "schema:not",
                value,
            )
        )
