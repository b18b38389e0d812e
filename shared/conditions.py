"""Pure condition helpers (metav1.Condition semantics).

`set_condition` says whether anything changed, so callers write to the API only on change;
``lastTransitionTime`` moves only when ``status`` changes; every written condition carries the
object's ``metadata.generation`` as ``observedGeneration``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict


class Condition(TypedDict, total=False):
    """A metav1.Condition."""

    type: str
    status: str
    reason: str
    message: str
    observedGeneration: int
    lastTransitionTime: str


def now_rfc3339(clock: dt.datetime | None = None) -> str:
    """An RFC 3339 timestamp at second precision, as the apiserver stores it."""
    moment = clock or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def find_condition(conditions: list[Condition] | None, ctype: str) -> Condition | None:
    """The condition of ``ctype`` or None."""
    return next((c for c in conditions or [] if c.get("type") == ctype), None)


def set_condition(
    conditions: list[Condition],
    ctype: str,
    status: str,
    reason: str,
    message: str,
    generation: int,
    now: str,
) -> bool:
    """Set a condition in place; return True when anything changed."""
    current = find_condition(conditions, ctype)
    wanted: Condition = {
        "type": ctype,
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
    }
    if current is None:
        conditions.append({**wanted, "lastTransitionTime": now})
        return True
    changed = any(current.get(k) != v for k, v in wanted.items())
    if not changed:
        return False
    if current.get("status") != status:
        current["lastTransitionTime"] = now
    current.update(wanted)
    return True


def is_true(conditions: list[Condition] | None, ctype: str) -> bool:
    """Whether the condition exists with status True."""
    found = find_condition(conditions, ctype)
    return found is not None and found.get("status") == "True"


def conditions_of(obj: dict[str, Any]) -> list[Condition]:
    """The status.conditions list of an object (a copy-free view; may be empty)."""
    status = obj.get("status") or {}
    found = status.get("conditions") if isinstance(status, dict) else None
    return found if isinstance(found, list) else []
