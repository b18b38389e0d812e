"""Structural schemas: compile a CRD's openAPIV3Schema once, then prune, default and validate.

Semantics follow the kube-apiserver for custom resources: unknown fields are pruned (unless
``x-kubernetes-preserve-unknown-fields``), defaults are applied after pruning and before
validation, a non-nullable null is defaulted or dropped, list-type map/set uniqueness is
enforced, every ``x-kubernetes-validations`` rule runs on present values with ``self`` (and
``oldSelf`` on UPDATE where the old value correlates), and a type error anywhere blocks all
CEL rules, exactly as the apiserver does.
"""

from __future__ import annotations

import builtins
import copy
import re
from dataclasses import dataclass, field
from typing import Any, Final

from shared.policy import formats
from shared.policy.cel_compile import SLOW, CelCompileError, Program, compile_cel
from shared.policy.cel_values import CelError
from shared.policy.golang import INT64_MAX, INT64_MIN, go_repr, to_go_type_name
from shared.policy.verdict import (
    DUPLICATE,
    INVALID,
    NOT_SUPPORTED,
    OMIT_VALUE,
    REASONS,
    REQUIRED,
    TOO_LONG,
    TOO_MANY,
    TYPE_INVALID,
    Violation,
    too_long,
)

ABSENT: Final = object()
"""Marks a value (usually the old one) that does not exist at a path."""

BLOCKED_MESSAGE: Final = (
    "some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)


class SchemaError(ValueError):
    """A CRD schema we cannot use (bad CEL, bad pattern); the message names the location."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled ``x-kubernetes-validations`` entry."""

    program: Program
    message: str | None
    message_expression: Program | None
    error_type: str
    field_path: str
    transition: bool
    optional_old_self: bool
    rule_id: str

    def fallback_message(self) -> str:
        """The static message, or ``failed rule: <rule>`` as the apiserver says."""
        return (
            self.message.strip() if self.message else f"failed rule: {self.program.source.strip()}"
        )

    def error_string(self) -> str:
        """``ruleErrorString``: the message if any, else the rule text."""
        return self.message.strip() if self.message else self.program.source.strip()


@dataclass(slots=True)
class Node:
    """A compiled schema node."""

    type: str | None = None
    nullable: bool = False
    int_or_string: bool = False
    preserve_unknown: bool = False
    embedded: bool = False
    properties: dict[str, Node] | None = None
    required: tuple[str, ...] = ()
    additional: Node | None = None
    items: Node | None = None
    enum: tuple[Any, ...] | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""
    format: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    min_properties: int | None = None
    max_properties: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    multiple_of: float | None = None
    list_type: str | None = None
    map_keys: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()
    rules: tuple[Rule, ...] = ()
    all_of: tuple[Node, ...] = ()
    any_of: tuple[Node, ...] = ()
    one_of: tuple[Node, ...] = ()
    not_: Node | None = None
    has_rules_below: bool = False
    plain_string: bool = False
    """A string leaf without constraints or rules: validation only checks the type."""
    accepts: frozenset[builtins.type] | None = None
    """Python types the schema type admits (None: any); bool is never an integer."""
    string_checks: bool = False
    number_checks: bool = False
    combinators: bool = False
    has_defaults_below: bool = False
    drops_null_additional: bool = False
    """A null under additionalProperties is dropped (non-nullable, no default), as the
    apiserver's PruneNonNullableNullsWithoutDefaults does before validation."""
    schema_type_name: str = "object"
    """The type name CEL errors show as the bad value (``"object"``, ``"string"``...)."""
    extra: dict[str, Any] = field(default_factory=dict)


def compile_schema(schema: dict[str, Any], where: str = "") -> Node:
    """Compile an openAPIV3Schema (or a sub-schema) into a `Node` tree."""
    if not isinstance(schema, dict):
        raise SchemaError(f"{where or '<root>'}: schema must be an object")
    node = Node()
    node.type = schema.get("type")
    node.nullable = bool(schema.get("nullable", False))
    node.int_or_string = bool(schema.get("x-kubernetes-int-or-string", False))
    node.preserve_unknown = bool(schema.get("x-kubernetes-preserve-unknown-fields", False))
    node.embedded = bool(schema.get("x-kubernetes-embedded-resource", False))
    node.schema_type_name = node.type or ("string" if node.int_or_string else "object")
    if "properties" in schema:
        node.properties = {
            name: compile_schema(sub, _join(where, name))
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
        node.additional = compile_schema(additional, _join(where, "*"))
        node.drops_null_additional = not node.additional.nullable and "default" not in additional
    if isinstance(schema.get("items"), dict):
        node.items = compile_schema(schema["items"], f"{where}[*]")
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
    node.all_of = tuple(compile_schema(s, where) for s in schema.get("allOf", ()))
    node.any_of = tuple(compile_schema(s, where) for s in schema.get("anyOf", ()))
    node.one_of = tuple(compile_schema(s, where) for s in schema.get("oneOf", ()))
    if isinstance(schema.get("not"), dict):
        node.not_ = compile_schema(schema["not"], where)
    node.rules = tuple(
        _compile_rule(rule, where, i, self_is_dict=node.type == "object")
        for i, rule in enumerate(schema.get("x-kubernetes-validations", ()))
    )
    children = [
        *(node.properties or {}).values(),
        *(c for c in (node.additional, node.items) if c is not None),
    ]
    node.has_rules_below = bool(node.rules) or any(c.has_rules_below for c in children)
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
        and node.pattern is None
        and node.format is None
        and node.min_length is None
        and node.max_length is None
        and not node.rules
        and not (node.all_of or node.any_of or node.one_of or node.not_ is not None)
    )
    node.has_defaults_below = bool(node.defaults) or any(c.has_defaults_below for c in children)
    return node


_ACCEPTS: Final[dict[str, frozenset[type]]] = {
    "string": frozenset({str}),
    "object": frozenset({dict}),
    "array": frozenset({list}),
    "boolean": frozenset({bool}),
    "integer": frozenset({int}),
    "number": frozenset({int, float}),
    "int-or-string": frozenset({int, str}),
}


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def _compile_rule(raw: dict[str, Any], where: str, index: int, self_is_dict: bool) -> Rule:
    """One rule; ``self_is_dict``: it sits on an object schema (rules run after type checks)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("rule"), str):
        raise SchemaError(
            f"{where or '<root>'}: x-kubernetes-validations[{index}].rule is required"
        )
    try:
        program = compile_cel(raw["rule"], self_is_dict=self_is_dict)
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
    field_path = raw.get("fieldPath") or ""
    return Rule(
        program=program,
        message=raw.get("message"),
        message_expression=message_expression,
        error_type=REASONS[reason],
        field_path=field_path,
        transition="oldSelf" in program.identifiers,
        optional_old_self=bool(raw.get("optionalOldSelf", False)),
        rule_id=f"cel:{where or '<root>'}#{index}",
    )


# --- pruning and defaulting ------------------------------------------------------------------


def prune_and_default(node: Node, value: Any, path: str, unknown: list[str] | None) -> None:
    """Drop unknown fields (recording their paths) and apply defaults, in place."""
    if isinstance(value, dict):
        props = node.properties
        prunes = props is not None or (node.additional is None and not node.preserve_unknown)
        if prunes or node.drops_null_additional:
            for key in list(value):
                child = props.get(key) if props is not None else None
                if child is None:
                    if node.additional is not None or node.preserve_unknown or node.embedded:
                        if value[key] is None and node.drops_null_additional:
                            del value[key]
                        continue
                    if unknown is not None:
                        unknown.append(_join(path, key))
                    del value[key]
                elif value[key] is None and not child.nullable:
                    has_default = any(name == key for name, _ in node.defaults)
                    if not has_default:
                        del value[key]
        for name, default in node.defaults:
            current = value.get(name, ABSENT)
            if current is ABSENT or (current is None and not props[name].nullable):  # type: ignore[index]
                value[name] = copy.deepcopy(default)
        if props is not None:
            for key, child in props.items():
                sub = value.get(key)
                if isinstance(sub, dict | list):
                    prune_and_default(child, sub, _join(path, key), unknown)
        if node.additional is not None:
            for key, sub in value.items():
                if isinstance(sub, dict | list) and (props is None or key not in props):
                    prune_and_default(node.additional, sub, _join(path, key), unknown)
    elif isinstance(value, list) and node.items is not None:
        for i, item in enumerate(value):
            if isinstance(item, dict | list):
                prune_and_default(node.items, item, f"{path}[{i}]", unknown)


# --- validation ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Context:
    """What a validation pass collects."""

    errors: list[Violation] = field(default_factory=list)
    cel_errors: list[Violation] = field(default_factory=list)
    type_error: bool = False
    run_cel: bool = True
    unknown: list[str] | None = None
    """When set, the pass also prunes unknown fields (recorded here) and applies defaults
    before validating each object, so one walk does the apiserver's prune, default, validate."""


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
    elif node.accepts is not None and t not in node.accepts:
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
        _run_rules(node, value, old, path, ctx)


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


def _prune_and_default_here(
    node: Node, value: dict[str, Any], path: str, unknown: list[str]
) -> None:
    """Prune and default one object level (its children are handled when visited)."""
    props = node.properties
    prunes = props is not None or (node.additional is None and not node.preserve_unknown)
    if prunes or node.drops_null_additional:
        open_ended = node.additional is not None or node.preserve_unknown or node.embedded
        for key in [k for k, v in value.items() if v is None or props is None or k not in props]:
            child = props.get(key) if props is not None else None
            if child is None:
                if not open_ended:
                    unknown.append(_join(path, key))
                    del value[key]
                elif value[key] is None and node.drops_null_additional:
                    del value[key]
            elif (
                value[key] is None
                and not child.nullable
                and not any(n == key for n, _ in node.defaults)
            ):
                del value[key]
    for name, default in node.defaults:
        current = value.get(name, ABSENT)
        if current is ABSENT or (current is None and not props[name].nullable):  # type: ignore[index]
            value[name] = copy.deepcopy(default)


def _validate_object(node: Node, value: dict[str, Any], old: Any, path: str, ctx: Context) -> None:
    errors = ctx.errors
    if ctx.unknown is not None:
        _prune_and_default_here(node, value, path, ctx.unknown)
    for name in node.required:
        if name not in value:
            errors.append(Violation(_join(path, name), REQUIRED, "", "schema:required"))
    _check_counts(
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
    _check_item_counts(node, value, path, errors)
    old_by_key = _old_items_by_key(node, old)
    if node.list_type == "map" and node.map_keys:
        _check_map_keys(node, value, path, errors)
    elif node.list_type == "set":
        _check_set(value, path, errors)
    item = node.items
    if item is None:
        return
    for i, sub in enumerate(value):
        old_item: Any = ABSENT
        if old_by_key is not None and isinstance(sub, dict):
            old_item = old_by_key.get(_map_key(node.map_keys, sub), ABSENT)
        validate(item, sub, old_item, f"{path}[{i}]", ctx)


def _check_item_counts(node: Node, value: list[Any], path: str, errors: list[Violation]) -> None:
    """maxItems / minItems."""
    _check_counts(value, node.max_items, node.min_items, "Items", "items", path, errors)


def _check_counts(
    value: list[Any] | dict[str, Any],
    maximum: int | None,
    minimum: int | None,
    rule: str,
    noun: str,
    path: str,
    errors: list[Violation],
) -> None:
    """max/minItems or max/minProperties, with the apiserver's messages."""
    if maximum is not None and len(value) > maximum:
        detail = f"must have at most {maximum} items"  # "items" for properties too, as upstream
        errors.append(Violation(path, TOO_MANY, detail, f"schema:max{rule}", len(value)))
    if minimum is not None and len(value) < minimum:
        detail = f"{path} in body should have at least {minimum} {noun}"
        errors.append(Violation(path, INVALID, detail, f"schema:min{rule}", len(value)))


def _map_key(keys: tuple[str, ...], item: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(_hashable(item.get(k)) for k in keys)


def _hashable(value: Any) -> Any:
    if isinstance(value, dict | list):
        return repr(value)
    return (type(value).__name__, value)


def _old_items_by_key(node: Node, old: Any) -> dict[tuple[Any, ...], Any] | None:
    if node.list_type != "map" or not node.map_keys or not isinstance(old, list):
        return None
    return {_map_key(node.map_keys, o): o for o in old if isinstance(o, dict)}


def _check_map_keys(node: Node, value: list[Any], path: str, errors: list[Violation]) -> None:
    # As the apiserver: only the first item that is neither an object nor null is reported, and
    # then no key is compared; a null item has every key unspecified.
    for i, item in enumerate(value):
        if item is not None and not isinstance(item, dict):
            detail = "must be an object for an array of list-type map"
            errors.append(Violation(f"{path}[{i}]", INVALID, detail, "schema:list-map-keys", item))
            return
    seen: set[tuple[Any, ...]] = set()
    reported: set[tuple[Any, ...]] = set()
    for i, item in enumerate(value):
        if item is None:
            item = {}
        key = _map_key(node.map_keys, item)
        if key in seen and key not in reported:  # each duplicated key once, as the apiserver
            shown = {k: item[k] for k in node.map_keys if k in item}
            errors.append(Violation(f"{path}[{i}]", DUPLICATE, "", "schema:list-map-keys", shown))
            reported.add(key)
        seen.add(key)


def _check_set(value: list[Any], path: str, errors: list[Violation]) -> None:
    seen: set[Any] = set()
    reported: set[Any] = set()
    for i, item in enumerate(value):
        key = _hashable(item)
        if key in seen and key not in reported:
            errors.append(Violation(f"{path}[{i}]", DUPLICATE, "", "schema:list-set", item))
            reported.add(key)
        seen.add(key)


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


def _run_rules(node: Node, value: Any, old: Any, path: str, ctx: Context) -> None:
    for rule in node.rules:
        if rule.transition and old is ABSENT and not rule.optional_old_self:
            continue
        fast = rule.program.fast
        result = fast(value, None if old is ABSENT else old) if fast is not None else SLOW
        if result is True:
            continue  # the common case: passed, decided without building an environment
        env: dict[str, Any] = {"self": value}
        if rule.transition:
            env["oldSelf"] = None if old is ABSENT else old
        where = path + rule.field_path if rule.field_path else path
        try:
            if result is SLOW:  # the fast path deferred (or there is none): the closures decide
                result = rule.program.fn(env)
        except CelError as exc:
            detail = f"{exc} evaluating rule: {rule.error_string()}"
            ctx.cel_errors.append(
                Violation(path, INVALID, detail, rule.rule_id, node.schema_type_name)
            )
            continue
        except RecursionError:
            detail = f"rule is too deeply nested to evaluate: {rule.error_string()}"
            ctx.cel_errors.append(
                Violation(path, INVALID, detail, rule.rule_id, node.schema_type_name)
            )
            continue
        if result is True:
            continue
        if result is not False:
            detail = f"rule did not evaluate to a bool: {rule.error_string()}"
            ctx.cel_errors.append(
                Violation(path, INVALID, detail, rule.rule_id, node.schema_type_name)
            )
            continue
        ctx.cel_errors.append(
            Violation(
                where.lstrip("."),
                rule.error_type,
                _message(rule, env),
                rule.rule_id,
                _cel_value(value),
            )
        )


def _cel_value(value: Any) -> Any:
    """The bad value of a failed CEL rule: 1.37 shows a scalar and omits objects and lists
    (an evaluation error still shows the schema type, e.g. ``"object"``)."""
    return value if isinstance(value, str | int | float | bool) else OMIT_VALUE


def _message(rule: Rule, env: dict[str, Any]) -> str:
    if rule.message_expression is not None:
        try:
            text = rule.message_expression(env)
        except CelError:
            text = None
        if isinstance(text, str) and text.strip() and "\n" not in text:
            return text.strip()
    return rule.fallback_message()


def blocked_violation() -> Violation:
    """The apiserver's note that CEL rules were skipped because of a type error."""
    return Violation("<nil>", INVALID, BLOCKED_MESSAGE, "schema:type-blocks-cel", None)
