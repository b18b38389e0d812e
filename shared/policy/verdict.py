"""Verdicts and violations, worded like the kube-apiserver.

A `Violation` renders exactly as a `field.Error` does in the apiserver:
``spec.substrate: Invalid value: "object": Exactly one of ...``. A `Verdict` collects every
violation (never only the first), warnings, and the mutation as JSON-patch operations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from shared.policy.golang import field_error_value

# field.ErrorType strings of the apiserver (k8s.io/apimachinery/pkg/util/validation/field).
INVALID: Final = "FieldValueInvalid"
REQUIRED: Final = "FieldValueRequired"
FORBIDDEN: Final = "FieldValueForbidden"
NOT_SUPPORTED: Final = "FieldValueNotSupported"
DUPLICATE: Final = "FieldValueDuplicate"
TOO_LONG: Final = "FieldValueTooLong"
TOO_MANY: Final = "FieldValueTooMany"
TYPE_INVALID: Final = "FieldValueTypeInvalid"
NOT_FOUND: Final = "FieldValueNotFound"
INTERNAL: Final = "InternalError"
UNKNOWN_FIELD: Final = "FieldValueUnknown"
"""Not an apiserver field error: strict field validation's ``unknown field "spec.x"``."""
DUPLICATE_FIELD: Final = "FieldValueDuplicateField"
"""Not an apiserver field error: strict field validation's ``duplicate field "spec.x"``."""
NO_MATCH: Final = "NoKindMatch"
"""Not a field error: the apiserver's ``no matches for kind`` (an unserved kind)."""
_DETAIL_ONLY: Final = frozenset({UNKNOWN_FIELD, DUPLICATE_FIELD, NO_MATCH})

_TYPE_TEXT: Final = {
    INVALID: "Invalid value",
    REQUIRED: "Required value",
    FORBIDDEN: "Forbidden",
    NOT_SUPPORTED: "Unsupported value",
    DUPLICATE: "Duplicate value",
    TOO_LONG: "Too long",
    TOO_MANY: "Too many",
    TYPE_INVALID: "Invalid value",
    NOT_FOUND: "Not found",
    INTERNAL: "Internal error",
}

# CEL `reason` values -> field error types.
REASONS: Final = {
    "FieldValueInvalid": INVALID,
    "FieldValueRequired": REQUIRED,
    "FieldValueForbidden": FORBIDDEN,
    "FieldValueDuplicate": DUPLICATE,
}

OMIT_VALUE: Final = object()
"""A violation without a bad value (CEL rule failures in 1.37: ``<path>: Invalid value: <msg>``)."""

SECRET_FIELDS: Final = frozenset({"gatewayToken", "botToken", "appToken"})
"""Fields whose value, and everything below them, may be a secret: a finding on such a field,
or one whose value holds such a field, names the value's type, never the value (SPEC principle
3 is stronger than the apiserver, which quotes it; issue 15 item 6). Same in `check`, the
webhook and the devstack API server, which all render through `Violation.message`."""
_FIELD_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_JSON_TYPES: Final = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
)


def json_type_name(value: Any) -> str:
    """``string``, ``integer``, ``object``... as the apiserver names a JSON value's type."""
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "string")


def _holds_secret_field(value: Any, depth: int = 0) -> bool:
    if depth > 100:
        return True  # too deep to tell: treat as secret
    if isinstance(value, dict):
        for k, v in value.items():
            if k in SECRET_FIELDS and not _reference_only(v):
                return True
            if _holds_secret_field(v, depth + 1):
                return True
        return False
    if isinstance(value, list):
        return any(_holds_secret_field(v, depth + 1) for v in value)
    return False


def _reference_only(value: Any) -> bool:
    """``{valueFrom: {...}}``: names a Secret, holds no secret."""
    return isinstance(value, dict) and set(value) <= {"valueFrom"}


def secret_bearing(path: str, value: Any) -> bool:
    """Whether a finding at ``path`` about ``value`` could show a secret.

    A path through a secret field is secret-bearing unless it continues into ``valueFrom`` (a
    reference: ``botToken.valueFrom.name`` is a Secret's name, not a secret).
    """
    names = _FIELD_NAME.findall(path)
    hits = [i for i, n in enumerate(names) if n in SECRET_FIELDS]
    if hits and names[hits[-1] + 1 : hits[-1] + 2] != ["valueFrom"]:
        return True
    return value is not OMIT_VALUE and _holds_secret_field(value)


def render_value(value: Any) -> str:
    """Render a bad value the way field.Error does (%q for strings, %v for numbers, JSON else)."""
    try:
        return field_error_value(value)
    except RecursionError:  # hundreds of nesting levels: say so instead of failing the answer
        return "<value nested too deeply to print>"


def _scrub(detail: str, value: Any) -> str:
    """``detail`` without the rendered value (and, for a string, the value itself)."""
    shown = f'"{json_type_name(value)}"'
    detail = detail.replace(render_value(value), shown)
    # A blank or very short value is not searched for: it would mask every space or letter of
    # the text and hides nothing (the value's type is shown instead of the value already).
    if isinstance(value, str) and len(value.strip()) >= 4:
        detail = detail.replace(value, "***")
    return detail


@dataclass(frozen=True, slots=True)
class Violation:
    """One admission finding: where, what, which rule, and (when known) the source line."""

    path: str
    """Field path in apiserver form: ``spec.channels[0].telegram``."""
    type: str
    """The apiserver field error type, e.g. ``FieldValueInvalid``."""
    detail: str
    """The human part: the CEL message or the schema constraint text."""
    rule: str
    """Stable rule id: ``schema:required``, ``cel:<crd path>#<n>``, ``webhook:W1``..."""
    value: Any = OMIT_VALUE
    """The offending value, rendered like the apiserver; omitted for Required/Forbidden."""
    line: int | None = None
    """1-based source line of the offending field, filled in by `check`."""

    @property
    def message(self) -> str:
        """``<path>: <Type text>: <value>: <detail>`` exactly as the apiserver prints it."""
        if self.type in _DETAIL_ONLY:
            return self.detail
        parts = [self.path or "<nil>", _TYPE_TEXT.get(self.type, self.type)]
        # Secret-bearing findings name the value's type (CEL findings included: 1.37 shows a
        # failed rule's scalar value).
        # A type error's value is already the type's name (1.37), never the value itself.
        secret = self.type != TYPE_INVALID and secret_bearing(self.path, self.value)
        detail = self.detail
        if self.value is not OMIT_VALUE and self.type not in (
            REQUIRED,
            FORBIDDEN,
            TOO_LONG,
            INTERNAL,
        ):
            parts.append(f'"{json_type_name(self.value)}"' if secret else render_value(self.value))
        if secret and self.value is not OMIT_VALUE and detail:
            detail = _scrub(detail, self.value)
        if detail:
            parts.append(detail)
        return ": ".join(parts)

    def with_line(self, line: int | None) -> Violation:
        """A copy carrying a source line."""
        return Violation(self.path, self.type, self.detail, self.rule, self.value, line)

    def as_dict(self) -> dict[str, Any]:
        """JSON form used by `check --output json`."""
        return {"path": self.path, "message": self.message, "line": self.line, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The admission decision for one object."""

    allowed: bool
    violations: tuple[Violation, ...] = ()
    warnings: tuple[str, ...] = ()
    patch: tuple[dict[str, Any], ...] = field(default=())
    """JSON-patch operations (RFC 6902) of the mutation; empty when nothing changes."""
    skipped: bool = False
    """True for kinds this engine does not govern (allowed, with a warning)."""
    warning_rules: tuple[str, ...] = ()
    """The rule id of each warning (``webhook:W5``...), parallel to ``warnings``."""

    def status_message(self, kind: str, group: str, name: str) -> str:
        """The apiserver's 422 message: ``AgentHarness.kagent.dev "x" is invalid: [...]``."""
        errs = [v.message for v in self.violations]
        body = errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"
        qualified = f"{kind}.{group}" if group else kind
        return f'{qualified} "{name}" is invalid: {body}'


def too_long(limit: int) -> str:
    """``field.TooLong``'s detail in apimachinery 1.37."""
    return f"may not be more than {limit} byte{'' if limit == 1 else 's'}"
