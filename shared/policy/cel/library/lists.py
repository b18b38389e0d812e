"""Kubernetes CEL lists and sets libraries."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from shared.policy.cel.library.args import Function
from shared.policy.cel.values import (
    CelError,
    cel_eq,
    cel_lt,
    check_int,
    is_number,
    no_overload,
)


def is_sorted(items: Any) -> bool:
    """list.isSorted()."""
    if not isinstance(items, list):
        raise no_overload("isSorted")
    return all(not cel_lt(items[i + 1], items[i]) for i in range(len(items) - 1))


def list_sum(items: Any) -> Any:
    """list.sum() of numbers (0 for an empty list)."""
    if not isinstance(items, list):
        raise no_overload("sum")
    total: Any = 0
    for x in items:
        if not is_number(x) and not isinstance(x, dt.timedelta):
            raise no_overload("sum")
        total = total + x
    return check_int(total) if isinstance(total, int) else total


def list_min(items: Any) -> Any:
    """list.min()."""
    if not isinstance(items, list) or not items:
        raise CelError("min called on an empty list")
    best = items[0]
    for x in items[1:]:
        if cel_lt(x, best):
            best = x
    return best


def list_max(items: Any) -> Any:
    """list.max()."""
    if not isinstance(items, list) or not items:
        raise CelError("max called on an empty list")
    best = items[0]
    for x in items[1:]:
        if cel_lt(best, x):
            best = x
    return best


def _lists(a: Any, b: Any, fn: str) -> tuple[list[Any], list[Any]]:
    if not isinstance(a, list) or not isinstance(b, list):
        raise no_overload(fn)
    return a, b


def sets_contains(a: Any, b: Any) -> bool:
    """sets.contains(a, b): every element of b is in a."""
    x, y = _lists(a, b, "sets.contains")
    return all(any(cel_eq(v, w) for w in x) for v in y)


def sets_equivalent(a: Any, b: Any) -> bool:
    """sets.equivalent(a, b)."""
    return sets_contains(a, b) and sets_contains(b, a)


def sets_intersects(a: Any, b: Any) -> bool:
    """sets.intersects(a, b)."""
    x, y = _lists(a, b, "sets.intersects")
    return any(any(cel_eq(v, w) for w in x) for v in y)


GLOBALS: Final[dict[str, Function]] = {
    "sets.contains": sets_contains,
    "sets.equivalent": sets_equivalent,
    "sets.intersects": sets_intersects,
}

MEMBERS: Final[dict[str, Function]] = {
    "isSorted": is_sorted,
    "sum": list_sum,
    "min": list_min,
    "max": list_max,
}
