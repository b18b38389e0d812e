"""Kubernetes CEL quantity library (the value type is `shared.policy.cel.quantity`)."""

from __future__ import annotations

from typing import Any, Final

from shared.policy.cel.library.args import Function, string_arg
from shared.policy.cel.quantity import Quantity, parse_quantity
from shared.policy.cel.values import (
    CelError,
    no_overload,
)


def quantity(value: Any) -> Quantity:
    """quantity('1Gi')."""
    return parse_quantity(string_arg(value, "quantity"))


def is_quantity(value: Any) -> bool:
    """isQuantity(s)."""
    try:
        parse_quantity(string_arg(value, "isQuantity"))
    except CelError:
        return False
    return True


def _q(value: Any, fn: str) -> Quantity:
    if isinstance(value, Quantity):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Quantity.from_int(value)
    raise no_overload(fn)


GLOBALS: Final[dict[str, Function]] = {"quantity": quantity, "isQuantity": is_quantity}

MEMBERS: Final[dict[str, Function]] = {
    "sign": lambda q: _q(q, "sign").sign(),
    "isInteger": lambda q: _q(q, "isInteger").is_integer(),
    "asInteger": lambda q: _q(q, "asInteger").as_integer(),
    "asApproximateFloat": lambda q: _q(q, "asApproximateFloat").as_float(),
    "add": lambda q, o: _q(q, "add").add(_q(o, "add")),
    "sub": lambda q, o: _q(q, "sub").add(_q(o, "sub").negate()),
    "isGreaterThan": lambda q, o: _q(q, "isGreaterThan").cel_compare(_q(o, "isGreaterThan")) > 0,
    "isLessThan": lambda q, o: _q(q, "isLessThan").cel_compare(_q(o, "isLessThan")) < 0,
    "compareTo": lambda q, o: _q(q, "compareTo").cel_compare(_q(o, "compareTo")),
}
