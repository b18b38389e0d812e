"""The compiled form of a structural schema, shared by every algorithm of this package.

A `Node` is one schema (an ``openAPIV3Schema`` or a sub-schema) with its facts precomputed
(which Python types it accepts, whether anything below has rules or defaults); a `Rule` is one
compiled ``x-kubernetes-validations`` entry; a `Context` is what one validation pass collects.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from typing import Any, Final

from shared.policy.cel import Program
from shared.policy.cel.cost import RUNTIME_BUDGET
from shared.policy.cel.interpreter import Fn
from shared.policy.verdict import Violation

ABSENT: Final = object()
"""Marks a value (usually the old one) that does not exist at a path."""


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
    metered: Fn | None = None
    """The rule's closures with a cost meter (`shared.policy.cel.meter`), set only for CRDs
    whose estimated costs could reach the apiserver's run-time limits."""

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
    budget: int = RUNTIME_BUDGET
    """What metered rules may still spend on this object (the apiserver's runtime budget)."""


def join(base: str, name: str) -> str:
    """A field path one level down: ``join("spec", "x")`` is ``spec.x``, ``join("", "x")`` ``x``."""
    return f"{base}.{name}" if base else name
