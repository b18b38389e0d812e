"""Verdicts and violations, worded like the kube-apiserver.

A `Violation` renders exactly as a `field.Error` does in the apiserver:
``spec.substrate: Invalid value: "object": Exactly one of ...``. A `Verdict` collects every
violation (never only the first), warnings, and the mutation as JSON-patch operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from shared.policy.golang import go_repr

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

_OMIT_VALUE: Final = object()


def render_value(value: Any) -> str:
    """Render a bad value the way field.Error does (%q for strings, %v for numbers, %#v else)."""
    try:
        return go_repr(value)
    except RecursionError:  # hundreds of nesting levels: say so instead of failing the answer
        return "<value nested too deeply to print>"


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
    value: Any = _OMIT_VALUE
    """The offending value, rendered like the apiserver; omitted for Required/Forbidden."""
    line: int | None = None
    """1-based source line of the offending field, filled in by `check`."""

    @property
    def message(self) -> str:
        """``<path>: <Type text>: <value>: <detail>`` exactly as the apiserver prints it."""
        if self.type in _DETAIL_ONLY:
            return self.detail
        parts = [self.path or "<nil>", _TYPE_TEXT.get(self.type, self.type)]
        if self.value is not _OMIT_VALUE and self.type not in (
            REQUIRED,
            FORBIDDEN,
            TOO_LONG,
            INTERNAL,
        ):
            parts.append(render_value(self.value))
        if self.detail:
            parts.append(self.detail)
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
