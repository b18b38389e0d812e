"""Typed reconcile outcomes both kinds share (besides success and a plain error).

`SpecError`: the object, or an object it references, must change before a retry can help. The
reconciler writes its failure condition, records a Warning event and ends the reconcile as
*terminal* (no timed requeue; the watches on the object and on what it references enqueue it
again when either changes). ``str(exc)`` is the condition message; `note` adds the fix for the
event. Messages name objects and keys, never a Secret's data.

A `SpecError` with ``terminal = False`` is a transient wait reported the same way but retried
after the resync period (a reference the controller may not read: RBAC changes raise no event).
"""

from __future__ import annotations


class SpecError(ValueError):
    """The user must fix the spec or what it references; the message is the condition text."""

    reason = "InvalidSpec"
    """The Warning event's reason (CamelCase, names the problem)."""
    terminal = True
    """False: retry after the resync period instead of waiting for a change."""

    def __init__(self, message: str, *, reason: str = "", fix: str = "") -> None:
        super().__init__(message)
        if reason:
            self.reason = reason
        self.fix = fix
        """What the user should do (event note only; the condition keeps the message)."""

    @property
    def note(self) -> str:
        """The event note: the message and, when known, the fix."""
        return f"{self}: {self.fix}" if self.fix else str(self)


class MissingReference(SpecError):
    """A referenced Secret, ConfigMap, WorkerPool or ModelConfig does not exist, or lacks the
    key the spec names, or that key is empty."""

    reason = "ReferenceNotFound"


class UnreadableReference(SpecError):
    """The controller may not read a referenced object (403): retried, not terminal."""

    reason = "ReferenceUnreadable"
    terminal = False


class OwnershipConflict(SpecError):
    """An object we would write exists and belongs to something else (rename ours or delete
    it): retried every resync period, since that object's deletion maps to no watch of ours."""

    reason = "OwnershipConflict"
    terminal = False
